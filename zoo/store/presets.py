"""Trained weights shipped with the zoo, loaded by name as keras-hub's `from_preset` loads its own.

    model = zoo.from_preset("mnist_cnn")     # raw inputs in, trained, uncompiled
    python -m zoo.predict mnist_cnn digit.png
    python train.py --model bert_text --init-from bert_mlm

A preset is the folder `presets/NAME` of the registered model NAME (`ZOO_PRESETS_DIR` moves
them): what its finished run left that users need (`model.keras` and `summary.json`, or
keras-hub's preset files for the pretraining-only `bert_mlm`), `preset.json` (the card's figures)
and the model card `README.md`. The registry records the SHA-256 of every file a preset ships
(`ModelSpec.preset_files`); every use checks them first, so a missing, truncated or altered
file is a one-line error, never a silently different model or figure. Wherever the command lines take a
run dir they take a preset's name too.
"""

import hashlib
import json
import os
import pathlib

from zoo.errors import UserError
from zoo.registry import NAME_PATTERN, get_model_spec, list_models

CARD = "README.md"
CARD_FIGURES = "preset.json"  # what the card says, for code: command, test figures, hashes
HASH_CHUNK_BYTES = 1 << 20
PRESETS_DIR_VARIABLE = "ZOO_PRESETS_DIR"


class PresetError(UserError):
    """A preset that does not exist, or whose files are not those the registry records."""


def presets_dir():
    """Where the presets are: `ZOO_PRESETS_DIR`, else the repository's `presets/`."""
    return pathlib.Path(os.environ.get(PRESETS_DIR_VARIABLE) or pathlib.Path(__file__).resolve().parents[2] / "presets")


def list_presets():
    """The sorted names of the registered models that ship trained weights."""
    return [name for name in list_models() if get_model_spec(name).preset_files]


def sha256(path):
    """The hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def preset_dir(name):
    """The folder of preset `name`, once each of its files is checked against the registry."""
    if name not in list_presets():
        raise PresetError(f"no preset {name!r}; the presets are: {', '.join(list_presets())}")
    if not presets_dir().is_dir():
        raise PresetError(f"{PRESETS_DIR_VARIABLE}={presets_dir()} is not a folder: point it at a copy of the zoo's "
                          f"presets/ folder, or unset it")
    directory = presets_dir() / name
    for filename, expected in get_model_spec(name).preset_files.items():
        path = directory / filename
        if not path.is_file():
            raise PresetError(f"preset {name!r} is missing {path}: restore it (git checkout -- {directory})")
        if sha256(path) != expected:
            raise PresetError(
                f"{path} is not the file preset {name!r} shipped (its SHA-256 differs: truncated or altered): "
                f"restore it (git checkout -- {path})"
            )
    return directory


def resolve(name_or_path):
    """The folder that a command line's run dir (or SavedModel, or --init-from) argument names: a
    preset's name is its checked folder, as is a path into the presets folder; any other path is
    itself. A bare name that is neither a preset nor a path is a `PresetError` listing the presets."""
    path = pathlib.Path(name_or_path)
    text = str(path)  # "mnist_cnn/" names the preset mnist_cnn too
    if text in list_presets() or (is_preset(path) and path.name in list_presets()):
        return preset_dir(path.name)
    if NAME_PATTERN.match(text) and not path.exists():
        raise PresetError(f"{text!r} is neither a preset nor a folder; the presets are: {', '.join(list_presets())}")
    return path


def is_preset(path):
    """Whether `path` is a preset's folder (not to be written into)."""
    return pathlib.Path(path).resolve().parent == presets_dir().resolve()


def figures(name):
    """The card's figures of preset `name` (`preset.json`, checked as its other files), or None
    if it has none."""
    path = preset_dir(name) / CARD_FIGURES
    return json.loads(path.read_text()) if path.exists() else None


def headline(figures):
    """A preset's recorded test figure in words, from its `figures`."""
    test = figures["test"]
    if "bits_per_character" in test:
        return f"{test['bits_per_character']:.3f} bits per character ({test['accuracy']:.2%} of next characters right)"
    return f"{test['accuracy']:.2%} {test.get('metric', 'accuracy')}"


def from_preset(name):
    """The trained model of preset `name`, raw inputs in (pixels, texts), uncompiled, ready for
    `predict`, `fit` or use inside another `keras.Model`. `gpt_text`'s also `generate()`s, and
    `bert_mlm`'s is its pretrained encoder, texts in and its sequence and pooled outputs out."""
    import keras
    import keras_hub

    from zoo.models.text_model import TextModel
    from zoo.store import saving, sources

    directory = preset_dir(name)
    if (directory / "model.keras").exists():
        return saving.load_model(directory / "model.keras", "preset", compile=False)
    source = sources.read(directory)
    backbone = next(layer for layer in source.layers.values() if isinstance(layer, keras_hub.models.Backbone))
    texts = keras.Input(shape=(), dtype="string", name="text")
    return TextModel(texts, backbone(source.preprocessor(texts)), name=name)
