"""Evaluate a classifier where it fails: accuracy, per-class precision, recall and F1, their macro
averages, a confusion matrix and the most confident mistakes, over a whole test split.

    python -m zoo.evaluate --model-dir runs/mnist_cnn --data-dir DIR [--checkpoint best]
    python -m zoo.evaluate --model-dir saved_models/mnist_cnn/1 --data-dir DIR  # exactly what is deployed
    python -m zoo.evaluate --model-dir runs/ngram_text --dataset reviews.csv    # every example of a file
    python -m zoo.evaluate --model-dir mnist_cnn --data-dir DIR                 # the shipped preset

A run dir's `model.keras` (or `checkpoints/best.keras`) is evaluated with Keras; an exported
version folder through its `serving_default` signature, with TensorFlow alone. The report is
printed as a table and written as `evaluation.json`, `confusion_matrix.png` and `mistakes.jsonl`
(texts) or `mistakes.png` (images): into the run dir when it is evaluated as trained (train.py
writes the same report at the end of every classifier's run), else into its own folder.
"""

import argparse
import sys

from zoo import cli
from zoo.config import CHECKPOINTS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", required=True,
                        help="a finished train.py run, a preset's name, or an exported SavedModel "
                             "(NAME or NAME/VERSION folder)")
    parser.add_argument("--checkpoint", choices=tuple(CHECKPOINTS), default="last",
                        help="a run's final model.keras, or its best-validation checkpoint")
    parser.add_argument("--dataset", help="other data of the model's classes: a TFDS name (its test split), "
                                          "or a folder or CSV file (all of it, or its test/ folder)")
    parser.add_argument("--data-dir", help="TFDS data dir (default: TFDS_DATA_DIR, then TFDS's own)")
    parser.add_argument("--csv-columns", metavar="INPUT,LABEL", help="a CSV dataset's input and label columns")
    parser.add_argument("--test-split", metavar="SPLIT",
                        help="the TFDS split to evaluate on, e.g. 'test[:2000]' (default: the run's test split)")
    parser.add_argument("--output-dir", help="where the report goes (default: the run dir, evaluated as trained)")
    return parser.parse_args(argv)


@cli.command("zoo.evaluate")
def main(argv=None):
    args = parse_args(argv)  # first: --help and flag errors answer before TensorFlow loads
    cli.quiet_start()
    from zoo.evaluation import evaluate

    evaluate(args.model_dir, args.checkpoint, args.dataset, args.data_dir, args.output_dir,
             csv_columns=args.csv_columns, test_split=args.test_split)


if __name__ == "__main__":
    sys.exit(main())
