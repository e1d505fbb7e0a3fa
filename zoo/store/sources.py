"""Pretrained weights as a run starts from them (`--init-from`) or `from_preset` returns them: a
run dir's `model.keras`, or a keras-hub preset folder (a pretraining run's encoder, with the text
preprocessor that makes its inputs), read into weighted layers by key."""

import collections
import dataclasses
import json
import pathlib
import re

import keras
import keras_hub

from zoo.errors import UserError
from zoo.store import records, saving

PRESET_CONFIG = "config.json"  # keras-hub's backbone config, in every preset folder

TASK_CONFIG = "task.json"  # keras-hub's task config, in a preset folder that holds the task's head too

PRESET_PREPROCESSOR = "text_preprocessor.json"  # ours: the adapted text preprocessor, vocabulary included

RUN_PRESET = "preset"  # where a pretraining run saves its encoder, in its model dir


@dataclasses.dataclass
class Source:
    """What a run starts from: weighted layers by key, the adapted text preprocessor, and the
    summary.json of the run that made it (None if it has none)."""

    path: pathlib.Path
    layers: dict
    preprocessor: keras.layers.Layer | None
    summary: records.RunSummary | None = None


def read(path):
    """The run dir or preset folder at `path`; a pretraining run dir stands for its preset."""
    summary = _summary(path)
    if (path / RUN_PRESET / PRESET_CONFIG).exists():
        path = path / RUN_PRESET
    if (path / PRESET_CONFIG).exists():
        preprocessor_file = path / PRESET_PREPROCESSOR
        preprocessor = (
            keras.layers.deserialize(json.loads(preprocessor_file.read_text()))
            if preprocessor_file.exists() else None
        )
        return Source(path, keyed_layers(_preset_layers(path)), preprocessor, summary or _run_summary(path))
    if (path / "model.keras").exists():
        model = saving.load_model(path / "model.keras", "--init-from", compile=False)
        return Source(path, *_network_and_preprocessor(model), summary)
    raise UserError(
        f"--init-from {path}: not a finished run dir (no model.keras) nor a keras-hub preset "
        f"folder (no {PRESET_CONFIG}); pass one of those"
    )


def _run_summary(preset_folder):
    """The summary.json of the run whose encoder `preset_folder` is (`RUN_PRESET`), or None."""
    return _summary(preset_folder.parent) if preset_folder.name == RUN_PRESET else None


def _summary(folder):
    """The `RunSummary` in `folder`, or None."""
    file = folder / records.SUMMARY
    return records.RunSummary.read(file) if file.exists() else None


def _preset_layers(path):
    """The layers of the keras-hub preset folder at `path`: its task's (the backbone and the
    task's head, as continued pretraining needs) where it holds one, else its backbone's."""
    if (path / TASK_CONFIG).exists():
        task_class = keras.saving.get_registered_object(json.loads((path / TASK_CONFIG).read_text())["registered_name"])
        return task_class.from_preset(str(path)).layers
    return [keras_hub.models.Backbone.from_preset(str(path))]


def save_preset(model, preprocessor, directory):
    """A keras-hub preset folder of `model`, a backbone or a task with its head
    (`Backbone.from_preset` loads the backbone of either), plus the preprocessor that makes its
    inputs from text. An uncompiled copy is saved: keras-hub's task weights file would otherwise
    hold the optimizer's state too, twice the model's size, which no `from_preset` reads."""
    uncompiled = type(model).from_config(model.get_config())
    uncompiled.set_weights(model.get_weights())
    uncompiled.save_to_preset(str(directory))
    config = keras.layers.serialize(preprocessor)
    (pathlib.Path(directory) / PRESET_PREPROCESSOR).write_text(json.dumps(config, indent=1))


def _network_and_preprocessor(model):
    """A saved run's weighted layers by key, and its text preprocessor if it takes raw text."""
    preprocessor = next((layer for layer in model.layers if hasattr(layer, "get_vocabulary")), None)
    if preprocessor is None:
        return keyed_layers(model.layers), None
    network = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    return keyed_layers(network.layers), preprocessor


def keyed_layers(layers):
    """The layers that hold weights, by their own name, or by class and rank when Keras made
    the name up ('dense_3' -> 'dense#0' for the first Dense)."""
    keyed, ranks = {}, collections.Counter()
    for layer in layers:
        if not layer.weights:
            continue
        generated = _snake_case(type(layer).__name__)
        if re.fullmatch(rf"{generated}(_\d+)?", layer.name):
            keyed[f"{generated}#{ranks[generated]}"] = layer
            ranks[generated] += 1
        else:
            keyed[layer.name] = layer
    return keyed


def _snake_case(class_name):
    """Keras' default layer name for a class: BertBackbone -> bert_backbone, Conv1D -> conv1d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
