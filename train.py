"""Train any registered model on its TFDS dataset (or another of the same modality).

    python train.py --list                                   # the models, and which ship trained weights
    python train.py --model mnist_cnn --data-dir ../shared/tensorflow_datasets
    python train.py --model transformer_text --epochs 3 --model-arg num_layers=4
    python train.py --model bert_text --init-from bert_mlm
    python train.py --model mnist_cnn_small --teacher runs/mnist_cnn

Rerunning an interrupted command with the same --model-dir resumes from its last finished epoch.
"""

import argparse
import ast
import sys

import zoo  # light: TensorFlow loads after the flags are parsed
from zoo.config import (
    DEFAULT_CLUSTER_TIMEOUT,
    DEFAULT_DISTILLATION_WEIGHT,
    DEFAULT_EXPORT_DIR,
    DEFAULT_TEMPERATURE,
    PRECISIONS,
    STRATEGIES,
    TrainConfig,
    default_model_dir,
)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="registered model name (see --list)")
    parser.add_argument("--list", nargs="?", const="*", metavar="PATTERN",
                        help="list the models matching an fnmatch pattern, then exit")
    parser.add_argument("--dataset",
                        help="TFDS dataset of the model's modality (default: the model's), or your own: "
                             "a folder with one subfolder per class, or a CSV file")
    parser.add_argument("--csv-columns", metavar="INPUT,LABEL",
                        help="a CSV dataset's input (text, or image path) and label columns "
                             "(default: text,label or image,label)")
    parser.add_argument("--validation-fraction", type=float,
                        help="own data without a validation/ folder: the part of it drawn for validation (default: 0.1)")
    parser.add_argument("--test-fraction", type=float,
                        help="own data without train/ and test/ folders: the part of it drawn for testing (default: 0.1)")
    parser.add_argument("--data-dir", help="TFDS data dir (default: TFDS_DATA_DIR, then TFDS's own)")
    parser.add_argument("--download", action="store_true",
                        help="let TFDS download and prepare the dataset if it is missing")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, help="global batch size, split over replicas")
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps-per-epoch", type=int, help="for short runs")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps in total")
    parser.add_argument("--mixed-precision", choices=PRECISIONS, default="off")
    parser.add_argument("--jit-compile", action=argparse.BooleanOptionalAction,
                        help="compile train steps with XLA (default: the model's recipe)")
    parser.add_argument("--strategy", choices=STRATEGIES, default="auto",
                        help="auto: multi_worker when TF_CONFIG names several workers, else mirrored "
                             "over all local GPUs, else the CPU")
    parser.add_argument("--cluster-timeout", type=float, default=DEFAULT_CLUSTER_TIMEOUT, metavar="SECONDS",
                        help="how long a worker of a TF_CONFIG cluster waits for the others to start "
                             "(default: %(default)s)")
    parser.add_argument("--init-from", metavar="PATH",
                        help="start from the weights (and vocabulary) of a shipped preset (its name), a "
                             "finished run dir or a keras-hub preset folder, layers matched by name")
    parser.add_argument("--teacher", metavar="PATH",
                        help="distil into --model from this classifier: a finished run dir or an "
                             "exported SavedModel version folder (saved_models/NAME/VERSION)")
    parser.add_argument("--temperature", type=float,
                        help=f"softens the teacher's and student's probabilities (default: {DEFAULT_TEMPERATURE})")
    parser.add_argument("--distillation-weight", type=float, metavar="WEIGHT",
                        help="the weight of the distillation loss, the labels' loss getting 1 - WEIGHT "
                             f"(default: {DEFAULT_DISTILLATION_WEIGHT})")
    parser.add_argument("--train-split", metavar="SPLIT",
                        help="the TFDS split to train on, e.g. 'train[:10%%]' (default: the model's recipe)")
    parser.add_argument("--test-split", metavar="SPLIT",
                        help="the TFDS split the summary's test metrics cover (default: the model's recipe)")
    parser.add_argument("--unlabelled-split", metavar="SPLIT",
                        help="a TFDS split that the teacher labels for the student too, e.g. unsupervised")
    parser.add_argument("--model-dir",
                        help="checkpoints, TensorBoard logs, history and summary (default: runs/MODEL)")
    parser.add_argument("--export", action="store_true",
                        help="after training, export a SavedModel for TF Serving")
    parser.add_argument("--export-dir", default=DEFAULT_EXPORT_DIR,
                        help="root of the exported models (default: %(default)s)")
    parser.add_argument("--model-arg", action="append", default=[], type=parse_model_arg,
                        metavar="NAME=VALUE", help="override a builder argument; repeatable")
    args = parser.parse_args(argv)
    if args.list is None and not args.model:
        parser.error("--model is required (or --list to see the models)")
    return args


def parse_model_arg(text):
    """'num_layers=4' -> ('num_layers', 4); values are Python literals, else plain strings."""
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def print_models(pattern):
    """A table of the registered models matching `pattern`, with their shipped weights' test figure."""
    rows = [(*zoo.registry.CATALOG_FIELDS, "trained weights (test)")] + [
        (*list(row.values())[:-1], f"{row['parameters']:,}", trained_weights(row["name"]))
        for row in zoo.registry.catalog(pattern)
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def trained_weights(name):
    """The preset's recorded test figure, or '-' for a model that ships no weights."""
    figures = zoo.presets.figures(name) if name in zoo.list_presets() else None
    return zoo.presets.headline(figures) if figures else "-"


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.list is not None:
            print_models(args.list)
            return 0
        config = TrainConfig(
            model=args.model,
            dataset=args.dataset,
            data_dir=args.data_dir,
            download=args.download,
            model_dir=args.model_dir,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            seed=args.seed,
            steps_per_epoch=args.steps_per_epoch,
            max_steps=args.max_steps,
            mixed_precision=args.mixed_precision,
            jit_compile=args.jit_compile,
            strategy=args.strategy,
            model_args=dict(args.model_arg),
            init_from=args.init_from,
            teacher=args.teacher,
            temperature=args.temperature,
            distillation_weight=args.distillation_weight,
            train_split=args.train_split,
            test_split=args.test_split,
            unlabelled_split=args.unlabelled_split,
            csv_columns=args.csv_columns,
            validation_fraction=args.validation_fraction,
            test_fraction=args.test_fraction,
            cluster_timeout=args.cluster_timeout,
        )
        from zoo import cluster, export, training

        if args.export:
            export.check_served(config.model)
        training.train(config)
        if args.export and cluster.this_worker().is_chief:  # the chief's model dir holds the run
            model_dir = config.model_dir or default_model_dir(config.model)
            print(f"Exported {export.export(model_dir, args.export_dir)}")
    except zoo.UserError as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: rerun the same command to resume from the last finished epoch",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
