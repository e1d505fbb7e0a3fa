"""Run an exported SavedModel locally, to check an export before deploying it.

    python -m zoo.predict saved_models/mnist_cnn digit.png other.png
    python -m zoo.predict saved_models/transformer_text/3 "A wonderful film." "Dull."

It loads the model as TF Serving does, with TensorFlow alone, and prints one line per input:
label, probability, input. Without a version the highest one is used.
"""

import argparse
import pathlib
import sys

import tensorflow as tf


def latest_version(path):
    """`path` if it is a version folder, else its highest integer version."""
    path = pathlib.Path(path)
    if path.name.isdigit():
        return path
    versions = [child for child in path.iterdir() if child.name.isdigit()] if path.is_dir() else []
    if not versions:
        raise FileNotFoundError(f"no SavedModel versions under {path}: export a model first")
    return max(versions, key=lambda child: int(child.name))


def read_image(filename, shape):
    """An image file as uint8 pixels of `shape` (height, width, channels), resized if needed."""
    image = tf.io.decode_image(tf.io.read_file(filename), channels=shape[-1], expand_animations=False)
    if tuple(image.shape) != tuple(shape):
        image = tf.cast(tf.round(tf.image.resize(image, shape[:2])), tf.uint8)
    return image


def predict(saved_model, inputs):
    """(label, probability) per input: strings for text models, image files for image models."""
    signature = tf.saved_model.load(str(latest_version(saved_model))).signatures["serving_default"]
    (input_name, spec), = signature.structured_input_signature[1].items()
    if spec.dtype == tf.string:
        batch = tf.constant(inputs)
    else:
        batch = tf.stack([read_image(filename, spec.shape[1:]) for filename in inputs])
    outputs = signature(**{input_name: batch})
    probabilities = tf.reduce_max(outputs["probabilities"], axis=-1).numpy()
    return [(label.decode(), float(p)) for label, p in zip(outputs["label"].numpy(), probabilities)]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run an exported SavedModel on inputs.")
    parser.add_argument("saved_model", help="saved_models/NAME or saved_models/NAME/VERSION")
    parser.add_argument("inputs", nargs="+", help="image files, or strings for text models")
    args = parser.parse_args(argv)
    try:
        results = predict(args.saved_model, args.inputs)
    except FileNotFoundError as error:
        print(f"zoo.predict: error: {error}", file=sys.stderr)
        return 2
    for (label, probability), given in zip(results, args.inputs):
        print(f"{label}\t{probability:.4f}\t{given}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
