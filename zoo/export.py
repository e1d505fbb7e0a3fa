"""Export a trained model dir as a SavedModel that TensorFlow Serving loads as it is, or a
classifier as LiteRT or ONNX for phones and edge devices (see zoo.serving.edge_export).

    python -m zoo.export --model-dir runs/mnist_cnn [--export-dir saved_models] [--name NAME] [--checkpoint best]
    python -m zoo.export --model-dir mnist_cnn   # the shipped preset
    python -m zoo.export --model-dir mnist_cnn --format litert --quantize int8 --data-dir DIR  # edge_models/mnist_cnn/litert-int8
    python -m zoo.export --model-dir ngram_text --format onnx   # token ids in; tokenizer.py beside it

Layout: `EXPORT_DIR/NAME/VERSION/` with integer versions, each written in a hidden staging
folder and renamed into place when complete, so Serving never sees a partial version; and
`EXPORT_DIR/models.config`, a ModelServerConfig listing every exported model. Each version's
`assets.extra/` holds Serving's warm-up requests and the run's `summary.json` (what it was trained
on, its class names: what `zoo.evaluate` needs to check the export).
"""

import argparse
import sys

from zoo import cli
from zoo.config import CHECKPOINTS, DEFAULT_EDGE_EXPORT_DIR, DEFAULT_EXPORT_DIR, EXPORT_FORMATS, QUANTIZATIONS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Export a trained model dir for TF Serving.")
    parser.add_argument("--model-dir", required=True, help="a finished train.py run, or a preset's name")
    parser.add_argument("--export-dir", help=f"root of the exported models (default: {DEFAULT_EXPORT_DIR}, "
                                             f"and {DEFAULT_EDGE_EXPORT_DIR} for LiteRT and ONNX)")
    parser.add_argument("--name", help="model name under the export dir (default: the model's)")
    parser.add_argument("--checkpoint", choices=tuple(CHECKPOINTS), default="last",
                        help="the run's final model, or its best-validation checkpoint")
    parser.add_argument("--format", choices=EXPORT_FORMATS, default="saved_model",
                        help="TF Serving's SavedModel, LiteRT (TFLite) or ONNX (default: %(default)s)")
    parser.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
                        help="LiteRT's: float16 or dynamic-range weights, or full-integer int8 "
                             "(calibrated on the training split: needs its data)")
    parser.add_argument("--data-dir", help="TFDS data dir of the run's training split, for --quantize int8")
    parser.add_argument("--verbose", action="store_true",
                        help="show what TensorFlow and the converters print (held back by default)")
    return parser.parse_args(argv)


@cli.command("zoo.export")
def main(argv=None):
    args = parse_args(argv)  # first: --help and flag errors answer before TensorFlow loads
    cli.quiet_start(args.verbose)
    from zoo.serving import edge_export, saved_model

    edge_export.check_options(args.format, args.quantize)
    with cli.held_output(args.verbose):
        if args.format == "saved_model":
            exported = saved_model.export(args.model_dir, args.export_dir or DEFAULT_EXPORT_DIR, args.name, args.checkpoint)
        else:
            exported = edge_export.export_run(args.model_dir, args.export_dir or DEFAULT_EDGE_EXPORT_DIR, args.name,
                                   args.checkpoint, args.format, args.quantize, args.data_dir)
    print(f"Exported {exported}")
    if args.format != "saved_model":
        print(edge_export.agreement_line(exported))


if __name__ == "__main__":
    sys.exit(main())
