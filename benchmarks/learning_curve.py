"""Benchmark what pretraining buys where labels are few: test accuracy against how many labelled
reviews a model trains on, each model from scratch and from what was pretrained on the unlabelled
reviews (`word2vec`'s vectors, `bert_mlm`'s encoder, `vampire`'s document features), beside
`ngram_text` and a self-trained student.

    python benchmarks/learning_curve.py --data-dir ../shared/tensorflow_datasets [--rows ...] [--labels ...]

Each run is the command a user would type, its model's own recipe and nothing else:
`train.py --model M --train-split train[A:B] [--init-from word2vec | bert_mlm] [--features-from
vampire]` (the last tenth of those reviews validates), tested on the whole `test` split (25,000
reviews). At 1,000 labels or fewer each point is the mean of `DRAWS` disjoint draws of labels
(`train[0:N]`, `train[N:2N]`, ...), shown with their range. At 25,000 (the whole split) a
from-scratch run is the shipped preset's own run of that recipe and seed, reused rather than
retrained. The self-trained student
is `ngram_text` on the same labels plus the 50,000 unlabelled reviews as its teacher,
`embedding_bag_text` from `word2vec` on those labels, labels them: the vectors' knowledge of words
no labelled review holds, passed on to a model of n-grams.

Runs finished in `--output-dir` are reused, so a stopped benchmark resumes; `--finished-only`
tabulates those alone, a point not run yet shown as "-". Results go to
benchmarks/results/<machine>-<date>-learning-curve.json, .md and .png.
"""

import argparse
import datetime
import json
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, machine, machine_slug, rewrite_section, unused_stem, write_results  # noqa: E402

from zoo import training
from zoo.config import TrainConfig  # noqa: E402
from zoo.store import presets  # noqa: E402

LABELS = (200, 500, 1000, 2500, 25000)
FULL_SPLIT = 25000  # IMDB's `train`
DRAWS = 3  # disjoint label draws at each count up to FEW_LABELS
FEW_LABELS = 1000
SELF_TRAINED = "ngram_text taught on the unlabelled reviews"
BESIDE_VAMPIRE = "embedding_bag_text from word2vec beside vampire"
CURVES = {  # row name: (model, --init-from, --features-from); the self-trained student's teacher is named below
    "ngram_text": ("ngram_text", None, None),
    "embedding_bag_text": ("embedding_bag_text", None, None),
    "embedding_bag_text from word2vec": ("embedding_bag_text", "word2vec", None),
    BESIDE_VAMPIRE: ("embedding_bag_text", "word2vec", "vampire"),
    SELF_TRAINED: ("ngram_text", None, None),
    "transformer_text": ("transformer_text", None, None),
    "transformer_text from word2vec": ("transformer_text", "word2vec", None),
    "lstm_text": ("lstm_text", None, None),
    "lstm_text from word2vec": ("lstm_text", "word2vec", None),
    "bert_text": ("bert_text", None, None),
    "bert_text from bert_mlm": ("bert_text", "bert_mlm", None),
}
TEACHER_OF = {SELF_TRAINED: "embedding_bag_text from word2vec"}
UNLABELLED_SPLIT = "unsupervised"
WORD_LEVEL_PAIRS = [(f"{model} from word2vec", model) for model in ("embedding_bag_text", "transformer_text",
                                                                    "lstm_text")] + [(BESIDE_VAMPIRE, "embedding_bag_text")]
BERT_PAIR = ("bert_text from bert_mlm", "bert_text")
TF_IDF_AT_1000 = 0.841  # a tf-idf 1-2-gram logistic regression on train[:1000] (the check)


def label_splits(labels):
    """The disjoint TFDS splits of `labels` reviews each that a point averages over."""
    if labels == FULL_SPLIT:
        return ["train"]
    draws = DRAWS if labels <= FEW_LABELS else 1
    if draws * labels > FULL_SPLIT:
        raise SystemExit(f"{draws} draws of {labels:,} labels need more than IMDB's {FULL_SPLIT:,} reviews")
    return [f"train[{draw * labels}:{(draw + 1) * labels}]" for draw in range(draws)]


def run_name(row, split):
    return f"{row.replace(' ', '-').replace(',', '')}-{split.replace(':', '-')}"


def summary_of(row, split, args):
    """The finished run of `row` on `split`: the shipped preset's on the whole split where the
    preset is that run (the same model, from the same `--init-from`), else the one in the output
    dir, trained first if absent (None with `--finished-only`, or when the run it learns from is
    not finished)."""
    model, init_from, features_from = CURVES[row]
    if split == "train" and row not in TEACHER_OF and model in presets.list_presets():
        shipped = json.loads((presets.preset_dir(model) / "summary.json").read_text())
        used = shipped["hyperparameters"]
        if (used["init_from"], used.get("features_from")) == (init_from, features_from):
            return shipped
    model_dir = args.output_dir / run_name(row, split)
    if (model_dir / "summary.json").exists():
        return json.loads((model_dir / "summary.json").read_text())
    if args.finished_only:
        return None
    distillation = {}
    if row in TEACHER_OF:
        teacher = args.output_dir / run_name(TEACHER_OF[row], split)
        if not (teacher / "summary.json").exists():
            return None
        distillation = {"teacher": str(teacher), "unlabelled_split": UNLABELLED_SPLIT}
    return training.train(TrainConfig(model=model, data_dir=args.data_dir, model_dir=str(model_dir),
                                      train_split=split, init_from=init_from, features_from=features_from,
                                      seed=args.seed, **distillation)).to_dict()


def point(summary, labels):
    """One run's figures, checked to be on the whole test split and the labels it names."""
    test = summary["test_metrics"]
    examples = summary["examples"]
    if test["examples"] != FULL_SPLIT:
        raise SystemExit(f"{summary['model']}: a run not tested on the test split ({test['examples']} examples)")
    if examples["train"] - examples.get("train_unlabelled", 0) + examples["validation"] != labels:
        raise SystemExit(f"{summary['model']}: a run on {examples} is not one on {labels} labels")
    steps = summary["training_pieces"][-1]["steps"] if "training_pieces" in summary else None  # older summaries
    return {"test_accuracy": test["accuracy"], "steps": steps,
            "init_from": summary.get("init_from"), "wall_time_seconds": summary["wall_time_seconds"]}


def aggregate(runs, labels):
    """A curve's point: the mean test accuracy of its draws, their range and each run."""
    accuracies = [run["test_accuracy"] for run in runs]
    return {"labels": labels, "test_accuracy": statistics.mean(accuracies), "low": min(accuracies),
            "high": max(accuracies), "draws": runs}


def accuracy_at(result, row, labels):
    return next((p["test_accuracy"] for p in result["curves"].get(row, ()) if p["labels"] == labels), None)


def cell(found):
    """A point's mean and range, and how many of its draws it holds where some are not run yet."""
    if found is None:
        return "-"
    draws, expected = len(found["draws"]), len(label_splits(found["labels"]))
    text = f"{100 * found['test_accuracy']:.2f}%"
    if draws > 1:
        text += f" ({100 * found['low']:.1f}-{100 * found['high']:.1f})"
    if draws < expected:
        text += f" ({draws} of {expected} draws)"
    return text


def markdown(result):
    curves = result["curves"]
    lines = ["| labelled reviews | " + " | ".join(curves) + " |", "|---|" + "---|" * len(curves)]
    for labels in result["labels"]:
        cells = [cell(next((p for p in row if p["labels"] == labels), None)) for row in curves.values()]
        lines.append(f"| {labels:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {line}" for line in judgements(result)) + "\n"


def judgements(result):
    """Each target of the issue, judged on the means, or "not measured"."""
    lines = []

    def judge(goal, figures, met):
        """`figures` and `met` are None where a point is missing."""
        lines.append(f"{goal}: not measured." if figures is None else
                     f"{goal}: {'met' if met else '**missed**'} ({figures}).")

    def gains(row, other, labels):
        ours, theirs = accuracy_at(result, row, labels), accuracy_at(result, other, labels)
        return None if None in (ours, theirs) else ours - theirs

    for pretrained, scratch in WORD_LEVEL_PAIRS:
        for labels in (200, 1000):
            over_scratch, over_ngram = gains(pretrained, scratch, labels), gains(pretrained, "ngram_text", labels)
            known = None not in (over_scratch, over_ngram)
            judge(f"{labels:,} labels, {pretrained}: 5 points over scratch and 2 over ngram_text",
                  f"{100 * over_scratch:+.2f} over scratch, {100 * over_ngram:+.2f} over ngram_text" if known else None,
                  known and over_scratch >= 0.05 and over_ngram >= 0.02)
        cost = gains(pretrained, scratch, FULL_SPLIT)
        judge(f"25,000 labels, {pretrained}: within 0.3 points of scratch",
              None if cost is None else f"{100 * cost:+.2f}", cost is not None and cost >= -0.003)
    ngram = accuracy_at(result, "ngram_text", 1000)
    judge("1,000 labels, ngram_text: at least the tf-idf logistic regression's 84.1%",
          None if ngram is None else f"{100 * ngram:.2f}%", ngram is not None and ngram >= TF_IDF_AT_1000)
    pretrained, scratch = BERT_PAIR
    gaps = {labels: gains(pretrained, scratch, labels) for labels in result["labels"]}
    gaps = {labels: gap for labels, gap in gaps.items() if gap is not None}
    judge(f"{pretrained}: never more than 1 point below scratch",
          ", ".join(f"{labels:,}: {100 * gap:+.2f}" for labels, gap in gaps.items()) or None,
          bool(gaps) and min(gaps.values()) >= -0.01)
    return lines


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(8, 5))
    for name, row in result["curves"].items():
        if not row:
            continue
        means = [p["test_accuracy"] for p in row]
        ranges = [[m - p["low"] for m, p in zip(means, row)], [p["high"] - m for m, p in zip(means, row)]]
        axes.errorbar([p["labels"] for p in row], means, yerr=ranges, marker="o", capsize=3, label=name,
                      linestyle="--" if "from" in name or "self" in name else "-")
    axes.set(xscale="log", xlabel="labelled reviews (log scale; up to 1,000: mean and range of 3 draws)",
             ylabel="test accuracy (25,000 reviews)", title="IMDB: what pretraining on unlabelled reviews buys")
    axes.set_xticks(result["labels"], [f"{labels:,}" for labels in result["labels"]])
    axes.legend(fontsize=7)
    axes.grid(alpha=0.3)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    pyplot.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Test accuracy against labelled reviews, with and without pretraining.")
    parser.add_argument("--data-dir", help="TFDS data dir (default: TFDS_DATA_DIR, then TFDS's own)")
    parser.add_argument("--labels", type=int, nargs="+", default=list(LABELS), help="labelled reviews per point")
    parser.add_argument("--rows", nargs="+", choices=list(CURVES), default=list(CURVES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--finished-only", action="store_true", help="tabulate the finished runs, train none")
    parser.add_argument("--output-dir", type=pathlib.Path, default=pathlib.Path("runs/learning_curve"))
    parser.add_argument("--results-dir", type=pathlib.Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = {"date": datetime.date.today().isoformat(), "machine": machine(), "seed": args.seed,
              "labels": sorted(args.labels), "curves": {}}
    for labels in sorted(args.labels):  # the fewest labels first: the points the targets name
        for row in args.rows:
            runs = [(split, summary_of(row, split, args)) for split in label_splits(labels)]
            runs = [{"split": split, **point(summary, labels)} for split, summary in runs if summary]
            curve = result["curves"].setdefault(row, [])
            if runs:
                curve.append(aggregate(runs, labels))
    result["benchmark_seconds"] = time.perf_counter() - started
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stem = unused_stem(args.results_dir, f"{machine_slug(result['machine'])}-{result['date']}-learning-curve")
    plot(result, args.results_dir / f"{stem}.png")  # beside the .json and .md that write_results names alike
    write_results(args.results_dir, "learning-curve", result, markdown(result))
    if args.results_dir == RESULTS_DIR:  # the zoo's own results: the benchmarks page shows them
        rewrite_section("learning-curve", f"![accuracy against labelled reviews](benchmarks/results/{stem}.png)\n\n"
                                          f"(`benchmarks/results/{stem}.json`)\n\n{markdown(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
