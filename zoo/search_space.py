"""A model's hyperparameter search space, declared next to its builder in the registry
(`search_space=`): each dimension a KerasTuner hyperparameter over a builder argument or a
training setting, narrowed or fixed from the command line (`python -m zoo.tune --hp`).
It imports no TensorFlow."""

import ast
import dataclasses
import math

from zoo.errors import UserError

# TrainConfig fields a space may tune besides builder arguments; `temperature` and
# `distillation_weight` only when distilling (`zoo.tasks.distillation`).
TRAINING_SETTINGS = ("learning_rate", "weight_decay", "batch_size", "temperature", "distillation_weight")


@dataclasses.dataclass(frozen=True)
class Float:
    """A real number between `low` and `high`, sampled uniformly, or log-uniformly if `log`."""

    low: float
    high: float
    log: bool = False

    def define(self, hp, name):
        return hp.Float(name, self.low, self.high, sampling="log" if self.log else "linear")

    def narrowed(self, low, high):
        return Float(float(low), float(high), self.log and low > 0)

    def values(self):
        return [self.low, self.high]


@dataclasses.dataclass(frozen=True)
class Int:
    """An integer between `low` and `high` (inclusive), in steps of `step`."""

    low: int
    high: int
    step: int = 1

    def define(self, hp, name):
        return hp.Int(name, self.low, self.high, step=self.step)

    def narrowed(self, low, high):
        if not (isinstance(low, int) and isinstance(high, int)):
            raise UserError(f"an integer range takes integers, got {low}:{high}")
        return Int(low, high, self.step)

    def values(self):
        return [self.low, self.high]


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of `options`, all of one type (numbers, strings or booleans)."""

    options: tuple

    def define(self, hp, name):
        return hp.Choice(name, list(self.options))

    def values(self):
        return list(self.options)


@dataclasses.dataclass(frozen=True)
class Fixed:
    """A dimension held at `value` (`--hp NAME=VALUE`): recorded with each trial, not searched."""

    value: object

    def define(self, hp, name):
        return hp.Fixed(name, self.value)

    def values(self):
        return [self.value]


def narrowed(space, model_name, overrides):
    """`space` with each `--hp` override applied: 'NAME=VALUE' fixes a dimension, 'NAME=LOW:HIGH'
    narrows a range, 'NAME=A,B,C' searches those values only. Bad input is a `UserError`."""
    space = dict(space)
    for text in overrides:
        name, separator, value = text.partition("=")
        if not separator or not value:
            raise UserError(f"--hp takes NAME=VALUE, NAME=LOW:HIGH or NAME=A,B,C, got {text!r}")
        if name not in space:
            raise UserError(f"{model_name}'s search space has no dimension {name!r}; it has: {', '.join(space)}")
        space[name] = _override(space[name], name, value)
    return space


def _override(dimension, name, text):
    if ":" in text:
        low, high = (_literal(part, name) for part in text.split(":", 1))
        if not hasattr(dimension, "narrowed"):
            raise UserError(f"--hp {name}: {name} is a choice, not a range; pick values with {name}=A,B")
        if not (_is_number(low) and _is_number(high)) or not low < high:
            raise UserError(f"--hp {name}={text} is an empty range: LOW must be a number below HIGH "
                            f"({name}=VALUE fixes it)")
        return dimension.narrowed(low, high)
    if "," in text:
        options = tuple(_literal(part, name) for part in text.split(",") if part.strip())
        if len({type(option) for option in options}) != 1:
            raise UserError(f"--hp {name}={text}: the values must be of one type")
        return Choice(options)
    return Fixed(_literal(text, name))


def _literal(text, name):
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        raise UserError(f"--hp {name}: {text!r} is not a number, string or boolean literal") from None


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
