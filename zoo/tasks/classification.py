"""Supervised classification: a labelled TFDS dataset's (input, label) pairs in, class
probabilities out (the builders end in a softmax)."""

import keras
import tensorflow as tf

from zoo import report
from zoo.data.own_data import decode_image
from zoo.models.text_model import TextModel
from zoo.models.text_preprocessing import WithDocumentFeatures
from zoo.tasks.base import ExampleCount, Task, inference_model

IMAGE_BYTES_SIGNATURE = "predict_image_bytes"  # image files in, decoded and resized in the graph


class Classification(Task):
    monitor = "val_accuracy"

    def data_args(self, spec, datasets):
        args = {"num_classes": len(datasets.class_names)}
        if spec.modality == "image":
            args["input_shape"] = datasets.input_shape
        if isinstance(datasets.preprocessor, WithDocumentFeatures):  # --features-from
            args["document_features"] = datasets.preprocessor.width
        return args

    def compile(self, model, optimizer, jit_compile=False):
        model.compile(
            optimizer=optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy", ExampleCount()],
            jit_compile=jit_compile,
        )

    def saved_model(self, model, datasets):
        """`model` with the adapted text preprocessor in front, so it takes raw strings."""
        if datasets.preprocessor is None:
            return inference_model(model)
        raw = keras.Input(shape=(), dtype="string", name="text")
        return TextModel(raw, inference_model(model)(datasets.preprocessor(raw)), name=model.name)

    def serving_archive(self, model, serving_input, summary):
        return serving_archive(model, serving_input, summary.class_names)

    def report(self, saved_model, datasets, model_dir):
        if datasets.raw_test is None:
            return
        report.write_report(report.keras_predict(saved_model), datasets.raw_test, datasets.class_names, model_dir,
                              f"the {datasets.test_split} split of {datasets.name}")

    def summary(self, datasets):
        return {"class_names": datasets.class_names}


def serving_archive(model, serving_input, class_names):
    """An ExportArchive of `serving_functions` as its signatures."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (function, input_spec) in serving_functions(model, serving_input, class_names).items():
        archive.add_endpoint(name, function, input_signature=[input_spec])
    return archive


def serving_functions(model, serving_input, class_names):
    """The signatures by name, each a function and its input's spec (named as its argument):
    `serving_default` takes raw inputs and returns probabilities, class ids and labels; image
    models also get one that takes encoded image bytes."""
    labels = tf.constant(class_names)

    def classify(inputs, input_spec):
        # A wrong shape must fail here, with TensorFlow's error, not crash a kernel further on.
        probabilities = model(tf.ensure_shape(inputs, input_spec.shape), training=False)
        class_id = tf.argmax(probabilities, axis=-1)
        return {"probabilities": probabilities, "class_id": class_id, "label": tf.gather(labels, class_id)}

    if serving_input == "text":
        texts = tf.TensorSpec([None], tf.string, name="text")
        return {"serving_default": (lambda text: classify(text, texts), texts)}
    image_shape = tuple(model.input_shape[1:])
    pixels = tf.TensorSpec((None,) + image_shape, tf.uint8, name="images")
    encoded = tf.TensorSpec([None], tf.string, name="image_bytes")

    def classify_encoded(image_bytes):
        decode = lambda one_image: decode_image(one_image, image_shape)  # noqa: E731
        return classify(tf.map_fn(decode, image_bytes, fn_output_signature=tf.TensorSpec(image_shape, tf.uint8)), pixels)

    return {
        "serving_default": (lambda images: classify(images, pixels), pixels),
        IMAGE_BYTES_SIGNATURE: (classify_encoded, encoded),
    }


TASK = Classification()
