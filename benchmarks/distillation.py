"""Benchmark distillation: small students trained from scratch against the same students
distilled from a large teacher, on real data, each served through its exported SavedModel.

    python train.py --model mnist_cnn --data-dir ../shared/tensorflow_datasets
    python train.py --model bert_text --init-from bert_mlm --data-dir ../shared/tensorflow_datasets
    python benchmarks/distillation.py --mnist-teacher runs/mnist_cnn --imdb-teacher runs/bert_text \\
        --data-dir ../shared/tensorflow_datasets

MNIST: `mnist_cnn_small` from scratch and distilled from `mnist_cnn`. IMDB: `ngram_text` from
scratch, distilled on `train`, and distilled on `train` + `unsupervised` (the teacher labels the
50,000 unlabelled reviews). With few labels (`--train-split train[:2500]`, a teacher fine-tuned on
the same labels, `--unlabelled-split` the reviews it labels): `ngram_text` on the labels alone
against `ngram_text` distilled on them plus the unlabelled ones. Every student of a dataset runs the same epochs (`--epochs`, default
its recipe's) and seed; the test accuracies cover the whole test split, the teacher's measured
on the same examples by the distillation runs. Serving is examples per second at batch 256 and
the median batch-1 latency, each model exported by `zoo.export` and loaded with TensorFlow alone.
Runs finished in `--output-dir` are reused, so a stopped benchmark resumes where it was.
Results go to benchmarks/results/<machine>-<date>-distillation.json and .md.
"""

import argparse
import datetime
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, machine, saved_model_speed, write_results  # noqa: E402

from zoo import training  # noqa: E402
from zoo.config import TrainConfig  # noqa: E402
from zoo.serving import saved_model  # noqa: E402

TEACHER_SPEED_UP_TARGET = 10
IMDB_ACCURACY_TARGET = 0.90


def students(dataset, teacher, train_split=None, unlabelled_split="unsupervised"):
    """(row name, model, run settings) of the students to train on `dataset`; with `train_split`,
    IMDB's few-labels case."""
    if train_split:
        return [
            (f"ngram_text, on {train_split} alone", "ngram_text", {"train_split": train_split}),
            (f"ngram_text, distilled on {train_split} + {unlabelled_split}", "ngram_text",
             {"teacher": teacher, "train_split": train_split, "unlabelled_split": unlabelled_split}),
        ]
    if dataset == "mnist":
        return [
            ("mnist_cnn_small, from scratch", "mnist_cnn_small", {}),
            ("mnist_cnn_small, distilled", "mnist_cnn_small", {"teacher": teacher}),
        ]
    return [
        ("ngram_text, from scratch", "ngram_text", {}),
        ("ngram_text, distilled on train", "ngram_text", {"teacher": teacher}),
        ("ngram_text, distilled on train + unsupervised", "ngram_text",
         {"teacher": teacher, "unlabelled_split": unlabelled_split}),
    ]


def trained(model_dir, config):
    """The summary of the run in `model_dir`: the finished one there if it is the run asked for
    (same seed, epochs and teacher), else a new one."""
    if not (model_dir / "summary.json").exists():
        return training.train(config).to_dict()
    summary = json.loads((model_dir / "summary.json").read_text())
    hyperparameters = summary["hyperparameters"]
    found = (hyperparameters["seed"], hyperparameters["epochs"], (summary.get("distillation") or {}).get("teacher"))
    asked = (config.seed, config.epochs or hyperparameters["epochs"], config.teacher)
    if found != asked:
        raise SystemExit(f"{model_dir} holds another run (seed, epochs, teacher: {found}); pass a new --output-dir")
    return summary


def served(model_dir, export_dir, name, dataset, data_dir):
    """Serving speed of the run in `model_dir`, exported as `name`."""
    return saved_model_speed(saved_model.export(model_dir, export_dir, name), dataset, data_dir)


def measure(dataset, teacher, args):
    """The teacher's row and one row per student of `dataset`."""
    rows = []
    few_labels = dataset == "imdb_reviews" and args.train_split
    for index, (row, model, distillation) in enumerate(students(dataset, str(teacher), few_labels, args.unlabelled_split)):
        name = f"{dataset}_{index}_{model}" + ("_few_labels" if few_labels else "")
        model_dir = args.output_dir / name
        summary = trained(model_dir, TrainConfig(
            model=model, data_dir=args.data_dir, model_dir=str(model_dir), epochs=args.epochs, seed=args.seed,
            **distillation,
        ))
        rows.append({
            "row": row,
            "model": model,
            "model_dir": str(model_dir),
            "distillation": summary.get("distillation"),
            "epochs": summary["hyperparameters"]["epochs"],
            "train_examples": summary["examples"]["train"],
            "test_accuracy": summary["test_metrics"]["accuracy"],
            "test_examples": summary["test_metrics"]["examples"],
            "parameters": summary["parameters"],
            "wall_time_seconds": summary["wall_time_seconds"],
            **served(model_dir, args.output_dir / "saved_models", name, dataset, args.data_dir),
        })
    teacher_summary = json.loads((teacher / "summary.json").read_text())
    teacher_metrics = rows[-1]["distillation"]["teacher_test_metrics"]
    rows.insert(0, {
        "row": f"{teacher_summary['model']}, the teacher",
        "model": teacher_summary["model"],
        "model_dir": str(teacher),
        "test_accuracy": teacher_metrics["accuracy"],
        "test_examples": teacher_metrics["examples"],
        "parameters": teacher_summary["parameters"],
        "wall_time_seconds": teacher_summary["wall_time_seconds"],
        **served(teacher, args.output_dir / "saved_models", f"{dataset}_teacher", dataset, args.data_dir),
    })
    return rows


def markdown(result):
    """One table per dataset, then the targets met or missed."""
    met = {True: "met", False: "**missed**"}
    lines = []
    for dataset, rows in result["datasets"].items():
        teacher_speed = rows[0]["serving_examples_per_second"]
        lines += [
            f"{dataset}:",
            "",
            "| model | test accuracy | params | training | serving ex/s (batch 256) | vs teacher | batch-1 latency |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {row['row']} | {row['test_accuracy']:.4f} | {row['parameters']:,} | {row['wall_time_seconds'] / 60:.1f} min "
            f"| {row['serving_examples_per_second']:,.0f} | {row['serving_examples_per_second'] / teacher_speed:.1f}x "
            f"| {row['batch_1_latency_ms']:.1f} ms |"
            for row in rows
        ]
        lines.append("")
    if "mnist" in result["datasets"]:
        _, scratch, distilled = result["datasets"]["mnist"]
        lines.append(f"- MNIST, the distilled student above the one from scratch: "
                     f"{met[distilled['test_accuracy'] > scratch['test_accuracy']]} "
                     f"({100 * distilled['test_accuracy']:.2f}% against {100 * scratch['test_accuracy']:.2f}%).")
    if "imdb_reviews" in result["datasets"]:
        teacher, *_, last = result["datasets"]["imdb_reviews"]
        if result.get("train_split"):
            alone = result["datasets"]["imdb_reviews"][1]
            lines.append(f"- IMDB, {result['train_split']}: the distilled student above the one on the labels alone: "
                         f"{met[last['test_accuracy'] > alone['test_accuracy']]} ({100 * last['test_accuracy']:.2f}% "
                         f"against {100 * alone['test_accuracy']:.2f}%).")
        speed_up = last["serving_examples_per_second"] / teacher["serving_examples_per_second"]
        if not result.get("train_split"):
            lines.append(f"- IMDB, distilled on train + unsupervised at {100 * IMDB_ACCURACY_TARGET:.0f}% or more: "
                         f"{met[last['test_accuracy'] >= IMDB_ACCURACY_TARGET]} ({100 * last['test_accuracy']:.2f}%).")
        lines += [
            f"- IMDB, serving at least {TEACHER_SPEED_UP_TARGET}x the teacher's examples/s: "
            f"{met[speed_up >= TEACHER_SPEED_UP_TARGET]} ({speed_up:.1f}x).",
        ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark distillation against training from scratch.")
    parser.add_argument("--mnist-teacher", type=pathlib.Path, help="a finished mnist_cnn run")
    parser.add_argument("--imdb-teacher", type=pathlib.Path, help="a finished bert_text run")
    parser.add_argument("--data-dir", help="TFDS data dir (default: TFDS_DATA_DIR, then TFDS's own)")
    parser.add_argument("--epochs", type=int, help="every student's epochs (default: its recipe's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-split", help="IMDB: the few labels every student trains on (e.g. train[:2500])")
    parser.add_argument("--unlabelled-split", default="unsupervised", help="IMDB: the reviews the teacher labels")
    parser.add_argument("--output-dir", type=pathlib.Path, default=pathlib.Path("runs/distillation"),
                        help="the students' runs and exports")
    parser.add_argument("--results-dir", type=pathlib.Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    teachers = {"mnist": args.mnist_teacher, "imdb_reviews": args.imdb_teacher}
    if not any(teachers.values()):
        parser.error("pass --mnist-teacher, --imdb-teacher or both")
    started = time.perf_counter()
    facts = machine()
    result = {"date": datetime.date.today().isoformat(), "machine": facts, "epochs": args.epochs, "seed": args.seed,
              "train_split": args.train_split, "unlabelled_split": args.unlabelled_split, "datasets": {}}
    for dataset, teacher in teachers.items():
        if teacher:
            result["datasets"][dataset] = measure(dataset, teacher, args)
    result["benchmark_seconds"] = time.perf_counter() - started
    write_results(args.results_dir, "distillation", result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
