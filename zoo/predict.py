"""Run a classifier on inputs: a shipped preset by name, or an exported SavedModel, to check it
before deploying it.

    python -m zoo.predict mnist_cnn digit.png other.png
    python -m zoo.predict saved_models/transformer_text/3 "A wonderful film." "Dull."

It prints one line per input: label, probability, input. A SavedModel is loaded as TF Serving
loads it, with TensorFlow alone; without a version the highest one is used. A preset's (or a run
dir's) `model.keras` runs with Keras, through the functions its export's signatures are made of.
Image files go through the `predict_image_bytes` signature, which decodes and resizes them in the graph.
"""

import argparse
import sys

from zoo import cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Run a preset or an exported SavedModel on inputs.")
    parser.add_argument("saved_model", metavar="MODEL",
                        help="a preset's name (see train.py --list), or saved_models/NAME[/VERSION]")
    parser.add_argument("inputs", nargs="+", help="image files, or strings for text models")
    return parser.parse_args(argv)


@cli.command("zoo.predict")
def main(argv=None):
    args = parse_args(argv)  # first: --help and flag errors answer before TensorFlow loads
    cli.quiet_start()
    from zoo.serving.signatures import predict

    for (label, probability), given in zip(predict(args.saved_model, args.inputs), args.inputs):
        print(f"{label}\t{probability:.4f}\t{given}")


if __name__ == "__main__":
    sys.exit(main())
