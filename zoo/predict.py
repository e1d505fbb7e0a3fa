"""Run an exported SavedModel locally, to check an export before deploying it.

    python -m zoo.predict saved_models/mnist_cnn digit.png other.png
    python -m zoo.predict saved_models/transformer_text/3 "A wonderful film." "Dull."

It loads the model as TF Serving does, with TensorFlow alone, and prints one line per input:
label, probability, input. Without a version the highest one is used. Image files go through
the export's own `predict_image_bytes` signature, which decodes and resizes them in the graph.
"""

import argparse
import pathlib
import sys

import tensorflow as tf

from zoo.errors import UserError

IMAGE_BYTES_SIGNATURE = "predict_image_bytes"


def latest_version(path):
    """`path` if it is a version folder, else its highest integer version."""
    path = pathlib.Path(path)
    if path.name.isdigit():
        if not (path / "saved_model.pb").exists():
            raise UserError(f"{path} holds no SavedModel: pick a version that exists")
        return path
    versions = [child for child in path.iterdir() if child.name.isdigit()] if path.is_dir() else []
    if not versions:
        raise UserError(f"no SavedModel versions under {path}: export a model first")
    return max(versions, key=lambda child: int(child.name))


def predict(saved_model, inputs):
    """(label, probability) per input: strings for text models, image files for image models."""
    signatures = tf.saved_model.load(str(latest_version(saved_model))).signatures
    if "generate" in signatures:
        raise UserError(f"{saved_model} is a language model: generate with python -m zoo.generate --model-dir {saved_model}")
    if IMAGE_BYTES_SIGNATURE not in signatures:
        return _results(signatures["serving_default"](text=tf.constant(inputs)))
    results = []
    for filename in inputs:
        try:
            image_bytes = tf.io.read_file(filename)
            outputs = signatures[IMAGE_BYTES_SIGNATURE](image_bytes=tf.reshape(image_bytes, [1]))
        except tf.errors.NotFoundError:
            raise UserError(f"{filename}: no such file") from None
        except tf.errors.InvalidArgumentError:
            raise UserError(f"{filename} is not an image TensorFlow decodes (PNG, JPEG, GIF, BMP)") from None
        results += _results(outputs)
    return results


def _results(outputs):
    """(label, probability of that label) for each row of a signature's outputs."""
    probabilities = tf.reduce_max(outputs["probabilities"], axis=-1).numpy()
    return [(label.decode(), float(p)) for label, p in zip(outputs["label"].numpy(), probabilities)]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run an exported SavedModel on inputs.")
    parser.add_argument("saved_model", help="saved_models/NAME or saved_models/NAME/VERSION")
    parser.add_argument("inputs", nargs="+", help="image files, or strings for text models")
    args = parser.parse_args(argv)
    try:
        results = predict(args.saved_model, args.inputs)
    except UserError as error:
        print(f"zoo.predict: error: {error}", file=sys.stderr)
        return 2
    for (label, probability), given in zip(results, args.inputs):
        print(f"{label}\t{probability:.4f}\t{given}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
