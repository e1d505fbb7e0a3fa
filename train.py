"""Train any registered model on its TFDS dataset (or another of the same modality).

    python train.py --list                                   # the models, and which ship trained weights
    python train.py --model mnist_cnn --data-dir ../shared/tensorflow_datasets
    python train.py --model transformer_text --epochs 3 --model-arg num_layers=4
    python train.py --model bert_text --init-from bert_mlm
    python train.py --model mnist_cnn_small --teacher runs/mnist_cnn

Rerunning an interrupted command with the same --model-dir resumes from its last finished epoch.
"""

import argparse
import sys

import zoo  # light: TensorFlow loads after the flags are parsed
from zoo import cli, flags
from zoo.config import DEFAULT_EXPORT_DIR, default_model_dir


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="registered model name (see --list)")
    parser.add_argument("--list", nargs="?", const="*", metavar="PATTERN",
                        help="list the models matching an fnmatch pattern, then exit")
    flags.add_run_flags(parser)
    parser.add_argument("--model-dir",
                        help="checkpoints, TensorBoard logs, history and summary (default: runs/MODEL)")
    parser.add_argument("--export", action="store_true",
                        help="after training, export a SavedModel for TF Serving")
    parser.add_argument("--export-dir", default=DEFAULT_EXPORT_DIR,
                        help="root of the exported models (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.list is None and not args.model:
        parser.error("--model is required (or --list to see the models)")
    return args


def print_models(pattern):
    """A table of the registered models matching `pattern`, with their shipped weights' test figure."""
    rows = [(*zoo.registry.CATALOG_FIELDS, "trained weights (test)")] + [
        (*list(row.values())[:-1], f"{row['parameters']:,}", trained_weights(row["name"]))
        for row in zoo.registry.catalog(pattern)
    ]
    cli.print_table(rows)


def trained_weights(name):
    """The default preset's recorded test figure and the model's other weight sets, '-' for a model
    that ships no weights, or where to restore a preset whose files are not those shipped."""
    others = [preset for preset in zoo.list_presets() if preset.startswith(f"{name}.")]
    try:
        figures = zoo.store.presets.figures(name) if name in zoo.list_presets() else None
    except zoo.PresetError:
        return f"damaged: git checkout -- {zoo.store.presets.presets_dir() / name}"
    figure = zoo.store.presets.headline(figures) if figures else "-"
    return f"{figure} (also {', '.join(others)})" if others else figure


@cli.command("train.py", interrupted="interrupted: rerun the same command to resume from the last finished epoch")
def main(argv=None):
    args = parse_args(argv)
    if args.list is not None:
        print_models(args.list)
        return
    config = flags.train_config(args)
    cli.quiet_start()
    from zoo import training
    from zoo.serving import saved_model
    from zoo.store import runs
    from zoo.training import cluster

    if args.export:
        runs.check_served(config.model)
    training.train(config)
    if args.export and cluster.this_worker().is_chief:  # the chief's model dir holds the run
        model_dir = config.model_dir or default_model_dir(config.model)
        print(f"Exported {saved_model.export(model_dir, args.export_dir)}")


if __name__ == "__main__":
    sys.exit(main())
