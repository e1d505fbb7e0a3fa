"""zoo: Keras model builders you can list, build, train on TFDS data and export for TF Serving,
and the weights they were trained to (`zoo.from_preset`).

Importing it is light: Keras, TensorFlow and the builders load on the first registry look-up.
"""

import importlib
import os
import sys

import wrapt

# The builders are plain Keras and run on any backend; training and export need TensorFlow's.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info lines (see zoo.cli.quiet_start)

from zoo.errors import UserError  # noqa: E402
from zoo.registry import (  # noqa: E402
    ModelSpec,
    UnknownModelError,
    build_model,
    get_model_spec,
    list_models,
    register_model,
)
from zoo.store.presets import PresetError, from_preset, list_presets  # noqa: E402

# The modules of the Keras objects that a model.keras the zoo writes can name.
KERAS_OBJECT_MODULES = ("zoo.models.text_preprocessing", "zoo.models.augmentation", "zoo.models.text_model")


def _importing(name):
    """Whether module `name` is part-way through its import."""
    module = sys.modules.get(name)
    return module is not None and getattr(module.__spec__, "_initializing", False)


def register_keras_objects():
    """Registers the zoo's Keras objects, so that `keras.saving.load_model` reloads any
    model.keras the zoo wrote after a plain `import zoo`; the hooks below run it when Keras is
    imported. Keras imported by keras-hub's own import waits for keras-hub's end: the zoo's
    objects build on keras-hub."""
    for name in KERAS_OBJECT_MODULES:
        importlib.import_module(name)


@wrapt.when_imported("keras")
def _on_keras_import(keras):
    if not _importing("keras_hub"):
        register_keras_objects()


@wrapt.when_imported("keras_hub")
def _on_keras_hub_import(keras_hub):
    register_keras_objects()


__version__ = "0.1.0"
__all__ = [
    "ModelSpec",
    "UnknownModelError",
    "PresetError",
    "UserError",
    "build_model",
    "from_preset",
    "get_model_spec",
    "list_models",
    "list_presets",
    "register_model",
]
