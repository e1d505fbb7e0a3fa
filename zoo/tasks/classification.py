"""Supervised classification: a labelled TFDS dataset's (input, label) pairs in, class
probabilities out (the builders end in a softmax)."""

import keras

from zoo.tasks.base import ExampleCount, Task, inference_model


class Classification(Task):
    monitor = "val_accuracy"

    def data_args(self, spec, datasets):
        args = {"num_classes": len(datasets.class_names)}
        if spec.modality == "image":
            args["input_shape"] = datasets.input_shape
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
        return keras.Model(raw, inference_model(model)(datasets.preprocessor(raw)), name=model.name)

    def summary(self, datasets):
        return {"class_names": datasets.class_names}


TASK = Classification()
