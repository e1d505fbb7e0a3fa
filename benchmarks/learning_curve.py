"""Benchmark what pretraining buys: test accuracy against how many labelled reviews a model
trains on, for `ngram_text`, `bert_text` from scratch and `bert_text` fine-tuned from the
shipped `bert_mlm` preset (the same recipe: only the starting weights differ).

    python benchmarks/learning_curve.py --data-dir ../shared/tensorflow_datasets

Each run trains by its model's own recipe on the first N reviews of IMDB's `train` split
(`--train-split train[:N]`; the last 10% of those validate) and is tested on the whole `test`
split (25,000 reviews). A recipe with `min_steps` takes as many optimizer steps at every N. At
25,000 (the whole split) a from-scratch run is the shipped preset's own run of that recipe and
seed, reused rather than retrained. Runs finished in `--output-dir` are reused, so a stopped
benchmark resumes; `--finished-only` tabulates those alone, a point not run yet shown as "-". Results go to benchmarks/results/<machine>-<date>-learning-curve.json, .md and .png.
"""

import argparse
import datetime
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, machine, machine_slug, unused_stem, write_results  # noqa: E402
from zoo import presets, training  # noqa: E402
from zoo.config import TrainConfig  # noqa: E402

LABELS = (1000, 2500, 5000, 25000)
FULL_SPLIT = 25000  # IMDB's `train`
CURVES = {  # row name: (model, --init-from)
    "ngram_text": ("ngram_text", None),
    "bert_text, from scratch": ("bert_text", None),
    "bert_text, fine-tuned from bert_mlm": ("bert_text", "bert_mlm"),
}
TARGETS = (  # (labels, what the issue asks)
    (2500, "fine-tuned at least 5 points over scratch, and above ngram_text"),
    (25000, "fine-tuned at least 2 points over scratch"),
)


def train_split(labels):
    return "train" if labels == FULL_SPLIT else f"train[:{labels}]"


def summary_of(model, init_from, labels, args):
    """The finished run of `model` on `labels` reviews: the shipped preset's for a from-scratch
    run on the whole split, else the one in the output dir, trained first if absent (None with
    `--finished-only`)."""
    if labels == FULL_SPLIT and init_from is None:
        return json.loads((presets.preset_dir(model) / "summary.json").read_text())
    name = f"{model}-{'from-' + init_from if init_from else 'scratch'}-{labels}"
    model_dir = args.output_dir / name
    if (model_dir / "summary.json").exists():
        return json.loads((model_dir / "summary.json").read_text())
    if args.finished_only:
        return None
    return training.train(TrainConfig(model=model, data_dir=args.data_dir, model_dir=str(model_dir),
                                      train_split=train_split(labels), init_from=init_from, seed=args.seed))


def point(summary, labels):
    """One point of a curve, checked to be on the whole test split and the labels it names."""
    test = summary["test_metrics"]
    examples = summary["examples"]
    if test["examples"] != FULL_SPLIT or examples["train"] + examples["validation"] != labels:
        raise SystemExit(f"{summary['model']}: a run on {examples} is not one on {labels} labels tested on the test split")
    return {"labels": labels, "train_examples": examples["train"], "validation_examples": examples["validation"],
            "test_accuracy": test["accuracy"], "test_examples": test["examples"],
            "steps": summary["training_pieces"][-1]["steps"] if "training_pieces" in summary else None,
            "init_from": summary.get("init_from"), "wall_time_seconds": summary["wall_time_seconds"]}


def markdown(result):
    curves = result["curves"]
    lines = ["| labelled reviews | " + " | ".join(curves) + " |", "|---|" + "---|" * len(curves)]
    for labels in result["labels"]:
        cells = []
        for row in curves.values():
            found = next((p for p in row if p["labels"] == labels), None)
            cells.append(f"{100 * found['test_accuracy']:.2f}%" if found else "-")
        lines.append(f"| {labels:,} | " + " | ".join(cells) + " |")
    lines.append("")
    for labels, goal in TARGETS:
        accuracies = {name: next((p["test_accuracy"] for p in curves.get(name, ()) if p["labels"] == labels), None)
                      for name in CURVES}
        if None in accuracies.values():
            lines.append(f"- {labels:,} labels ({goal}): not measured.")
            continue
        scratch, tuned = accuracies["bert_text, from scratch"], accuracies["bert_text, fine-tuned from bert_mlm"]
        lines.append(f"- {labels:,} labels ({goal}): fine-tuned {100 * (tuned - scratch):+.2f} points over scratch, "
                     f"{100 * (tuned - accuracies['ngram_text']):+.2f} over ngram_text.")
    return "\n".join(lines) + "\n"


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    for name, row in result["curves"].items():
        axes.plot([p["labels"] for p in row], [p["test_accuracy"] for p in row], marker="o", label=name)
    axes.set(xscale="log", xlabel="labelled reviews (log scale)", ylabel="test accuracy (25,000 reviews)",
             title="IMDB: what pretraining buys")
    axes.set_xticks(result["labels"], [f"{labels:,}" for labels in result["labels"]])
    axes.legend()
    axes.grid(alpha=0.3)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    pyplot.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Test accuracy against labelled reviews, with and without pretraining.")
    parser.add_argument("--data-dir", help="TFDS data dir (default: TFDS_DATA_DIR, then TFDS's own)")
    parser.add_argument("--labels", type=int, nargs="+", default=list(LABELS), help="labelled reviews per point")
    parser.add_argument("--curves", nargs="+", choices=list(CURVES), default=list(CURVES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--finished-only", action="store_true", help="tabulate the finished runs, train none")
    parser.add_argument("--output-dir", type=pathlib.Path, default=pathlib.Path("runs/learning_curve"))
    parser.add_argument("--results-dir", type=pathlib.Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = {"date": datetime.date.today().isoformat(), "machine": machine(), "seed": args.seed,
              "labels": sorted(args.labels), "curves": {}}
    for name in args.curves:
        model, init_from = CURVES[name]
        summaries = {labels: summary_of(model, init_from, labels, args) for labels in sorted(args.labels)}
        result["curves"][name] = [point(summary, labels) for labels, summary in summaries.items() if summary]
    result["benchmark_seconds"] = time.perf_counter() - started
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stem = unused_stem(args.results_dir, f"{machine_slug(result['machine'])}-{result['date']}-learning-curve")
    plot(result, args.results_dir / f"{stem}.png")  # beside the .json and .md that write_results names alike
    write_results(args.results_dir, "learning-curve", result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
