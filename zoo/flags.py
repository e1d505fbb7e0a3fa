"""The flags that define a training run, shared by `train.py` and `python -m zoo.tune`, and the
`train.py` command line that reproduces a run's config. It imports no TensorFlow."""

import argparse
import ast
import dataclasses
import shlex

from zoo.config import (
    DEFAULT_CLUSTER_TIMEOUT,
    DEFAULT_DISTILLATION_WEIGHT,
    DEFAULT_TEMPERATURE,
    PRECISIONS,
    STRATEGIES,
    TrainConfig,
)

# TrainConfig fields that a flag of the same name (underscores as dashes) sets.
RUN_FIELDS = tuple(field.name for field in dataclasses.fields(TrainConfig)
                   if field.name not in ("model", "model_args", "evaluate_test"))


def add_run_flags(parser):
    """The data, recipe and distribution flags of a run (all but --model and --model-dir)."""
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
    parser.add_argument("--weight-decay", type=float, help="the optimizer's weight decay (default: the model's recipe)")
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
    parser.add_argument("--features-from", metavar="PATH",
                        help="give the model, beside its own, each text's document features from a pretrained "
                             "vampire (the preset's name, or a finished run dir), frozen; for embedding_bag_text")
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
    parser.add_argument("--model-arg", action="append", default=[], type=parse_model_arg,
                        metavar="NAME=VALUE", help="override a builder argument; repeatable")


def parse_model_arg(text):
    """'num_layers=4' -> ('num_layers', 4); values are Python literals, else plain strings."""
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def train_config(args, **overrides):
    """The `TrainConfig` that parsed flags (of `add_run_flags`, --model, --model-dir) ask for."""
    fields = {name: getattr(args, name) for name in RUN_FIELDS if hasattr(args, name)}
    return TrainConfig(model=args.model, model_args=dict(args.model_arg), **{**fields, **overrides})


def train_command(config):
    """The `train.py` command line that runs `config` (a tuning trial's runs as `train.py`'s)."""
    words = ["python", "train.py", "--model", config.model]
    defaults = TrainConfig(model=config.model)
    for name in RUN_FIELDS:
        value = getattr(config, name)
        if value == getattr(defaults, name):
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        else:
            words += [flag, str(value)]
    for name, value in config.model_args.items():
        words += ["--model-arg", f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}"]
    return shlex.join(words)
