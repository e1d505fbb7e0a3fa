"""A served model's signatures, from an exported SavedModel (TensorFlow alone, as Serving loads
it) or from a preset or run dir (Keras, through the functions its export is made of)."""

import pathlib

import tensorflow as tf

from zoo.errors import UserError, first_line
from zoo.tasks.classification import IMAGE_BYTES_SIGNATURE


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


def load_saved_model(path):
    """The SavedModel in `path` (see `latest_version`), loaded with TensorFlow alone, as Serving
    loads it; one that does not load (a missing `variables/`, a damaged file) is a `UserError`."""
    version = latest_version(path)
    try:
        return tf.saved_model.load(str(version))
    except (OSError, ValueError, tf.errors.OpError) as error:
        raise UserError(f"{version} holds a damaged SavedModel ({first_line(error)}): export it again") from None


def utf8_texts(texts, what="text"):
    """`texts` (str or bytes) as UTF-8 bytes; one that is not valid UTF-8 is a `UserError`
    (on the command line, such bytes arrive as lone surrogates)."""
    encoded = []
    for number, text in enumerate(texts, 1):
        try:
            encoded.append(text.encode("utf-8") if isinstance(text, str) else bytes(text).decode("utf-8").encode())
        except UnicodeError:
            raise UserError(f"{what} {number} is not valid UTF-8 text: give it as UTF-8") from None
    return encoded


def signatures_of(model):
    """The serving signatures of `model`: a preset's name, a preset or run folder (with Keras),
    or an exported SavedModel (with TensorFlow alone)."""
    from zoo.store import presets, records

    path = presets.resolve(model)
    if not (path / records.SUMMARY).exists():
        return load_saved_model(path).signatures
    from zoo.registry import get_model_spec
    from zoo.store import runs
    from zoo.tasks import classification

    summary, keras_model = runs.load_run(path)
    if summary.task != "classification":
        raise _language_model(model)
    serving_input = get_model_spec(summary.model).serving_input
    functions = classification.serving_functions(keras_model, serving_input, summary.class_names)
    return {name: tf.function(function, input_signature=[spec]) for name, (function, spec) in functions.items()}


def predict(saved_model, inputs):
    """(label, probability) per input: strings for text models, image files for image models."""
    signatures = signatures_of(saved_model)
    if "generate" in signatures:
        raise _language_model(saved_model)
    if IMAGE_BYTES_SIGNATURE not in signatures:
        return _results(signatures["serving_default"](text=tf.constant(utf8_texts(inputs, "input"))))
    results = []
    for filename in inputs:
        if pathlib.Path(filename).is_dir():
            raise UserError(f"{filename} is a folder: pass image files (a shell glob such as {filename}/*.png)")
        try:
            image_bytes = tf.io.read_file(filename)
            outputs = signatures[IMAGE_BYTES_SIGNATURE](image_bytes=tf.reshape(image_bytes, [1]))
        except tf.errors.NotFoundError:
            raise UserError(f"{filename}: no such file") from None
        except tf.errors.InvalidArgumentError:
            raise UserError(f"{filename} is not an image TensorFlow decodes (PNG, JPEG, GIF, BMP)") from None
        results += _results(outputs)
    return results


def _language_model(model):
    return UserError(f"{model} is a language model: generate with python -m zoo.generate --model-dir {model}")


def _results(outputs):
    """(label, probability of that label) for each row of a signature's outputs."""
    probabilities = tf.reduce_max(outputs["probabilities"], axis=-1).numpy()
    return [(label.decode(), float(p)) for label, p in zip(outputs["label"].numpy(), probabilities)]
