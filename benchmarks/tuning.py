"""Benchmark zoo.tune: a random search of a fixed wall-time budget per model against its default
recipe, both on real data, each evaluated on the whole test split.

    python benchmarks/tuning.py --data-dir ../shared/tensorflow_datasets [--models ngram_text ...]

For each model: the default recipe is trained (`train.py --model NAME`, seed 0), then
`python -m zoo.tune --model NAME --tuner random --budget-minutes B` searches its registered
space on the validation split alone (seed 0 for every trial), and the best trial's run is
evaluated on the test split once, at the end. Finished runs and searches in `--output-dir` are
reused and resumed, so a stopped benchmark goes on where it was. Results go to
benchmarks/results/<machine>-<date>-tuning.json and .md.
"""

import argparse
import datetime
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, machine, write_results  # noqa: E402

from zoo import training  # noqa: E402
from zoo.config import TrainConfig, TuneConfig  # noqa: E402
from zoo.training import tuning

BUDGET_MINUTES = {"ngram_text": 12, "mnist_cnn_small": 20, "transformer_text": 15}
MAX_TRIALS = 12
TARGET_POINTS = 0.5  # the tuned model beats the default by this much on at least one model


def default_run(model, data_dir, output_dir):
    """The default recipe's summary, trained unless `output_dir` holds it."""
    model_dir = output_dir / f"{model}-default"
    summary_file = model_dir / "summary.json"
    if not summary_file.exists():
        training.train(TrainConfig(model=model, data_dir=data_dir, model_dir=str(model_dir)))
    return json.loads(summary_file.read_text())


def row(model, default, best, budget_minutes):
    tuned, recipe = best["test_metrics"]["accuracy"], default["test_metrics"]["accuracy"]
    return {
        "model": model,
        "budget_minutes": budget_minutes,
        "trials": best["trials"],
        "search_wall_time_seconds": best["search_wall_time_seconds"],
        "default": {"validation_accuracy": default["validation_metrics"]["accuracy"], "test_accuracy": recipe,
                    "test_examples": default["test_metrics"]["examples"], "wall_time_seconds": default["wall_time_seconds"]},
        "tuned": {"validation_accuracy": best["validation_metrics"]["val_accuracy"], "test_accuracy": tuned,
                  "test_examples": best["test_metrics"]["examples"], "hyperparameters": best["hyperparameters"],
                  "command": best["command"]},
        "test_points_gained": 100 * (tuned - recipe),
    }


def markdown_table(rows):
    lines = ["| model | budget | trials | default: val / test | tuned: val / test | gain (points) | best values |",
             "|---|---|---|---|---|---|---|"]
    for result in rows:
        values = ", ".join(f"{name} {value:.3g}" if isinstance(value, float) else f"{name} {value}"
                           for name, value in result["tuned"]["hyperparameters"].items())
        lines.append(
            f"| `{result['model']}` | {result['budget_minutes']} min | {sum(result['trials'].values())} "
            f"| {100 * result['default']['validation_accuracy']:.2f}% / {100 * result['default']['test_accuracy']:.2f}% "
            f"| {100 * result['tuned']['validation_accuracy']:.2f}% / {100 * result['tuned']['test_accuracy']:.2f}% "
            f"| {result['test_points_gained']:+.2f} | {values} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--models", nargs="+", default=list(BUDGET_MINUTES))
    parser.add_argument("--output-dir", default="runs/benchmark-tuning")
    args = parser.parse_args()
    output_dir = pathlib.Path(args.output_dir)
    rows = []
    for model in args.models:
        default = default_run(model, args.data_dir, output_dir)
        best = tuning.search(TuneConfig(
            base=TrainConfig(model=model, data_dir=args.data_dir), tuner="random", max_trials=MAX_TRIALS,
            budget_minutes=BUDGET_MINUTES[model], tune_dir=str(output_dir / f"{model}-search"),
        ))
        rows.append(row(model, default, best, BUDGET_MINUTES[model]))
    result = {"machine": machine(), "date": datetime.date.today().isoformat(), "tuner": "random",
              "max_trials": MAX_TRIALS, "target_points": TARGET_POINTS, "rows": rows}
    write_results(RESULTS_DIR, "tuning", result, markdown_table(rows))


if __name__ == "__main__":
    main()
