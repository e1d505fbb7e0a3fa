"""Trained weights shipped with the zoo, loaded by name as keras-hub's `from_preset` loads its own.

    model = zoo.from_preset("mnist_cnn")     # raw inputs in, trained, uncompiled
    python -m zoo.predict mnist_cnn digit.png
    python train.py --model bert_text --init-from bert_mlm

A preset is a folder `presets/NAME` (`ZOO_PRESETS_DIR` moves them), described by data, as
timm's and keras-hub's are: what its finished run left that users need (`model.keras` and
`summary.json`, or keras-hub's preset files for the pretraining-only `bert_mlm`), the model card
`README.md`, and `preset.json`: which registered model it is, the command that made it, its
figures and the SHA-256 of each of its other files. `index.json` in the presets folder names
every preset with the SHA-256 of its `preset.json`. A model may ship several weight sets, named
as timm names them: `NAME` is the default, `NAME.TAG` another (`ngram_text.distilled`). Every use
checks the files first, so a missing, truncated or altered file is a one-line error, never a
silently different model or figure. Wherever the command lines take a run dir they take a
preset's name too.
"""

import hashlib
import json
import os
import pathlib
import re

from zoo.errors import UserError

CARD = "README.md"
CARD_FIGURES = "preset.json"  # what the card says, for code: model, command, figures, its files' SHA-256s
INDEX = "index.json"  # in the presets folder: every preset's name and the SHA-256 of its preset.json
PRESET_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)?")  # a model's name, and a tag for another weight set
HASH_CHUNK_BYTES = 1 << 20
PRESETS_DIR_VARIABLE = "ZOO_PRESETS_DIR"


class PresetError(UserError):
    """A preset that does not exist, or whose files are not those its index and preset.json record."""


def presets_dir():
    """Where the presets are: `ZOO_PRESETS_DIR`, else the repository's `presets/`."""
    return pathlib.Path(os.environ.get(PRESETS_DIR_VARIABLE) or pathlib.Path(__file__).resolve().parents[2] / "presets")


def list_presets():
    """The sorted names of the shipped presets (`index.json`)."""
    return sorted(_index())


def _index():
    """`index.json`: each preset's name and the SHA-256 of its preset.json ({} if there is none)."""
    index = presets_dir() / INDEX
    return json.loads(index.read_text()) if index.is_file() else {}


def _check_presets_dir():
    if not presets_dir().is_dir():
        raise PresetError(f"{PRESETS_DIR_VARIABLE}={presets_dir()} is not a folder: point it at a copy of the zoo's "
                          f"presets/ folder, or unset it")


def sha256(path):
    """The hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def preset_dir(name):
    """The folder of preset `name`, once its preset.json is checked against the index and each of
    its other files against its preset.json."""
    _check_presets_dir()
    index = _index()
    if name not in index:
        raise PresetError(f"no preset {name!r}; the presets are: {', '.join(sorted(index))}")
    directory = presets_dir() / name
    _check(directory / CARD_FIGURES, index[name], name)
    for filename, expected in json.loads((directory / CARD_FIGURES).read_text())["files"].items():
        _check(directory / filename, expected, name)
    return directory


def _check(path, expected, name):
    """A `PresetError` unless the file at `path` is there with the SHA-256 `expected`."""
    if not path.is_file():
        raise PresetError(f"preset {name!r} is missing {path}: restore it (git checkout -- {path.parent})")
    if sha256(path) != expected:
        raise PresetError(
            f"{path} is not the file preset {name!r} shipped (its SHA-256 differs: truncated or altered): "
            f"restore it (git checkout -- {path})"
        )


def resolve(name_or_path):
    """The folder that a command line's run dir (or SavedModel, or --init-from) argument names: a
    preset's name is its checked folder, as is a path into the presets folder; any other path is
    itself. A bare name that is neither a preset nor a path is a `PresetError` listing the presets."""
    path = pathlib.Path(name_or_path)
    text = str(path)  # "mnist_cnn/" names the preset mnist_cnn too
    if text in list_presets() or (is_preset(path) and path.name in list_presets()):
        return preset_dir(path.name)
    if PRESET_NAME.fullmatch(text) and not path.exists():
        _check_presets_dir()
        raise PresetError(f"{text!r} is neither a preset nor a folder; the presets are: {', '.join(list_presets())}")
    return path


def is_preset(path):
    """Whether `path` is a preset's folder (not to be written into)."""
    return pathlib.Path(path).resolve().parent == presets_dir().resolve()


def figures(name):
    """Preset `name`'s `preset.json`, checked as its other files: its model, command and figures."""
    return json.loads((preset_dir(name) / CARD_FIGURES).read_text())


def headline(figures):
    """A preset's recorded test figure in words, from its `figures`."""
    test = figures["test"]
    if "elbo" in test:
        return f"{test['elbo']:.1f} nats ELBO per review"
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
