"""Benchmark text in a script written without spaces: real Chinese reviews, split as the zoo
splits them (each Han character a token) against whitespace splitting (what the zoo did before).

    python benchmarks/chinese.py [--models ngram_text transformer_text bert_text] [--splittings zoo whitespace]
        [--output-dir DIR]

Each model trains its registered recipe on `../shared/text/chinese_reviews_3k.csv` with the
zoo's seeded split (seed 0), once per way of splitting; test accuracy is over the whole test
split. Runs finished in `--output-dir` are reused, so a stopped benchmark resumes.
Results go to benchmarks/results/<machine>-<date>-chinese.json and .md.
"""

import argparse
import datetime
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, machine, write_results  # noqa: E402

import zoo  # noqa: E402
from zoo import training  # noqa: E402
from zoo.config import TrainConfig  # noqa: E402
from zoo.models import text_preprocessing  # noqa: E402

REVIEWS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "text" / "chinese_reviews_3k.csv"
SPLITTINGS = {  # name -> how word-level preprocessors standardize texts before splitting on spaces
    "whitespace": text_preprocessing.KERAS_STANDARDIZE,  # what the zoo did before
    "zoo": text_preprocessing.standardize_words,  # each Han, Hiragana or Katakana character apart
}
NGRAM_TARGET = 0.84


def trained(model, splitting, model_dir):
    """The summary of `model` trained on the reviews with `splitting`, reused if finished."""
    if (model_dir / "summary.json").exists():
        return json.loads((model_dir / "summary.json").read_text())
    text_preprocessing.WORDS["standardize"] = SPLITTINGS[splitting]
    try:
        return training.train(TrainConfig(model=model, dataset=str(REVIEWS), model_dir=str(model_dir))).to_dict()
    finally:
        text_preprocessing.WORDS["standardize"] = text_preprocessing.standardize_words


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["ngram_text", "transformer_text", "bert_text"])
    parser.add_argument("--splittings", nargs="+", choices=tuple(SPLITTINGS), default=tuple(SPLITTINGS))
    parser.add_argument("--output-dir", default="runs/benchmark-chinese")
    args = parser.parse_args()
    rows = []
    for model in args.models:
        for splitting in args.splittings:
            started = time.perf_counter()
            summary = trained(model, splitting, pathlib.Path(args.output_dir) / f"{model}-{splitting}")
            rows.append({
                "model": model, "splitting": splitting, "recipe_min_steps": zoo.get_model_spec(model).min_steps,
                "test_accuracy": summary["test_metrics"]["accuracy"],
                "test_examples": summary["test_metrics"]["examples"], "train_examples": summary["examples"]["train"],
                "epochs": summary["hyperparameters"]["epochs"], "wall_time_seconds": summary["wall_time_seconds"],
                "benchmark_seconds": time.perf_counter() - started,
            })
            print(f"{model}, {splitting}: test accuracy {rows[-1]['test_accuracy']:.4f}", flush=True)
    ngram = [row["test_accuracy"] for row in rows if (row["model"], row["splitting"]) == ("ngram_text", "zoo")]
    result = {
        "machine": machine(), "date": datetime.date.today().isoformat(), "dataset": str(REVIEWS.name), "rows": rows,
        "targets": {"ngram_text >= 84%": bool(ngram) and ngram[0] >= NGRAM_TARGET},
    }
    table = "| model | splitting | test accuracy | test examples | epochs | wall time |\n|---|---|---|---|---|---|\n"
    table += "".join(f"| `{row['model']}` | {row['splitting']} | {row['test_accuracy']:.4f} | {row['test_examples']} | "
                     f"{row['epochs']} | {row['wall_time_seconds']:.0f} s |\n" for row in rows)
    write_results(RESULTS_DIR, "chinese", result, table)


if __name__ == "__main__":
    main()
