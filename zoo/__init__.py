"""zoo: Keras model builders you can list, build, train on TFDS data and export for TF Serving,
and the weights they were trained to (`zoo.from_preset`).

Importing it is light: Keras, TensorFlow and the builders load on the first registry look-up.
"""

import os

# The builders are plain Keras and run on any backend; training and export need TensorFlow's.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info lines, before any output of ours

from zoo.errors import UserError  # noqa: E402
from zoo.presets import PresetError, from_preset, list_presets  # noqa: E402
from zoo.registry import (  # noqa: E402
    ModelSpec,
    UnknownModelError,
    build_model,
    get_model_spec,
    list_models,
    register_model,
)

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
