"""The model registry: each builder is registered, next to its code, with the recipe that trains
and serves it, so training and export read everything model-specific from one place."""

import dataclasses
import difflib
import fnmatch
import hashlib
import inspect
import json
import os
import pathlib
import re
from typing import Callable

from zoo.errors import UserError
from zoo.search_space import TRAINING_SETTINGS

MODALITIES = ("image", "text")
TASKS = ("classification", "masked_lm", "causal_lm", "word2vec", "vampire")  # each is a module under zoo/tasks/
SERVING_INPUTS = ("image", "text")
LEARNING_RATE_SCHEDULES = ("constant", "cosine")

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")  # a name becomes a folder name
CATALOG_FIELDS = ("name", "modality", "task", "dataset", "parameters")
_registry = {}


class UnknownModelError(UserError, LookupError):
    """A model name that is not registered."""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A registered model: its builder, the data it is trained on and its default recipe.

    `modality` picks the input pipeline; `task` (a module under zoo/tasks/) how the model is
    trained, evaluated and saved; `serving_input` what the exported signature accepts ("image":
    uint8 pixels or PNG bytes, "text": raw UTF-8 strings). `batch_size` is global.
    `preprocessor`, for text models, makes the unadapted layer that turns raw strings into the
    builder's inputs, from the builder's arguments of the same names.
    `search_space` is what `zoo.tune` searches: builder arguments and training settings
    (`zoo.search_space.TRAINING_SETTINGS`), each a `zoo.search_space` dimension.
    """

    name: str
    builder: Callable
    modality: str
    dataset: str
    epochs: int
    batch_size: int
    learning_rate: float
    serving_input: str
    optimizer: str = "adam"
    weight_decay: float = 0.0
    learning_rate_schedule: str = "cosine"
    warmup_fraction: float = 0.05  # of the steps, over which a cosine schedule warms up linearly
    jit_compile: bool = False  # XLA for the train step: faster where the model's ops allow it
    task: str = "classification"
    preprocessor: Callable | None = None
    min_steps: int | None = None  # the recipe's fewest optimizer steps: smaller data gets more epochs
    train_split: str = "train"
    validation_split: str | None = None  # None: the dataset's own, else the end of train_split
    test_split: str = "test"
    search_space: dict | None = None  # dimension name -> zoo.search_space.Float, Int or Choice

    @property
    def description(self):
        """The first line of the builder's docstring."""
        return (inspect.getdoc(self.builder) or "").split("\n")[0]

    def default_args(self):
        """The builder's keyword arguments with their default values."""
        return {
            name: parameter.default
            for name, parameter in inspect.signature(self.builder).parameters.items()
            if parameter.default is not inspect.Parameter.empty
        }

    def resolve_args(self, **overrides):
        """The builder's defaults with `overrides` applied; an unknown argument is a `UserError`."""
        defaults = self.default_args()
        unknown = sorted(set(overrides) - set(defaults))
        if unknown:
            raise UserError(
                f"model {self.name!r} has no argument {', '.join(map(repr, unknown))}; "
                f"it takes: {', '.join(sorted(defaults))}"
            )
        for name, value in overrides.items():
            expected = type(defaults[name])
            fits = isinstance(value, expected) or (expected is float and type(value) is int) or (
                expected in (tuple, list) and isinstance(value, (tuple, list))
            )
            fits = fits and isinstance(value, bool) == (expected is bool)  # True is an int too
            if defaults[name] is not None and not fits:
                raise UserError(
                    f"model {self.name!r}: {name} must be of type {expected.__name__} "
                    f"(default {defaults[name]!r}), got {value!r}"
                )
        return {**defaults, **overrides}

    def build(self, **overrides):
        """The uncompiled model with `overrides` applied; arguments that the builder itself
        rejects (a `ValueError`) are a `UserError` naming the model."""
        args = self.resolve_args(**overrides)
        try:
            return self.builder(**args)
        except UserError:
            raise
        except ValueError as error:
            raise UserError(f"model {self.name!r}: {error}") from None

    def make_preprocessor(self, model_args):
        """The unadapted preprocessor for a model built with `model_args`, or None."""
        if self.preprocessor is None:
            return None
        wanted = inspect.signature(self.preprocessor).parameters
        return self.preprocessor(**{name: model_args[name] for name in wanted})


def register_model(name, **metadata):
    """Registers the decorated builder under `name` with `metadata` (the `ModelSpec` fields)."""

    def decorator(builder):
        if not NAME_PATTERN.match(name):
            raise ValueError(
                f"model name {name!r} must match {NAME_PATTERN.pattern}: it becomes a folder name"
            )
        if name in _registry:
            raise ValueError(f"model {name!r} is already registered")
        spec = ModelSpec(name=name, builder=builder, **metadata)
        for field, allowed in [
            ("modality", MODALITIES),
            ("task", TASKS),
            ("serving_input", SERVING_INPUTS),
            ("learning_rate_schedule", LEARNING_RATE_SCHEDULES),
        ]:
            if getattr(spec, field) not in allowed:
                raise ValueError(f"model {name!r}: {field} must be one of {allowed}")
        unknown = set(spec.search_space or ()) - set(spec.default_args()) - set(TRAINING_SETTINGS)
        if unknown:
            raise ValueError(f"model {name!r}: search_space names neither a builder argument nor a "
                             f"training setting: {', '.join(sorted(unknown))}")
        _registry[name] = spec
        return builder

    return decorator


def _registered():
    """The registry, the zoo's own builders imported first: they import Keras, so they are
    loaded on the first look-up, not on `import zoo` (the command lines parse flags without it)."""
    import zoo.models  # noqa: F401  (each builder registers itself on import)

    return _registry


def list_models(pattern="*"):
    """The sorted names of registered models that match the fnmatch `pattern`."""
    return sorted(fnmatch.filter(_registered(), pattern))


def get_model_spec(name):
    """The `ModelSpec` registered under `name`; an unknown name suggests the closest ones."""
    try:
        return _registered()[name]
    except KeyError:
        closest = difflib.get_close_matches(name, _registry, n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(map(repr, closest))}? " if closest else ""
        raise UnknownModelError(
            f"unknown model {name!r}; {hint}"
            "zoo.list_models() (or `python train.py --list`) shows them all"
        ) from None


def build_model(name, **kwargs):
    """The uncompiled `keras.Model` registered under `name`, `kwargs` overriding its defaults."""
    return get_model_spec(name).build(**kwargs)


def catalog(pattern="*"):
    """(name, modality, task, dataset, parameters) of each registered model matching `pattern`.
    Listing needs Keras and a build of every model, seconds of work: it is done once per
    version of the zoo's code and cached (in `ZOO_CACHE_DIR`, else ~/.cache/zoo)."""
    cache_file = _cache_dir() / f"catalog-{_code_digest()}.json"
    try:
        rows = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        rows = [
            [spec.name, spec.modality, spec.task, spec.dataset, spec.build().count_params()]
            for spec in map(get_model_spec, list_models())
        ]
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            cache_file.write_text(json.dumps(rows))
        except OSError:
            pass  # an unwritable cache only costs the next listing its seconds
    return [dict(zip(CATALOG_FIELDS, row)) for row in rows if fnmatch.fnmatch(row[0], pattern)]


def _cache_dir():
    return pathlib.Path(os.environ.get("ZOO_CACHE_DIR") or pathlib.Path.home() / ".cache" / "zoo")


def _code_digest():
    """A digest of the zoo package's Python sources: what the catalog is computed from."""
    digest = hashlib.sha256()
    for source in sorted(pathlib.Path(__file__).parent.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]
