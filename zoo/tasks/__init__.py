"""Training tasks: what differs between ways of training a model, so that `zoo.training.train`
stays one linear driver. A task loads the data as the model's (inputs, targets) batches, compiles
the model with its loss and metrics, evaluates it, says what `model.keras` holds and which
signatures its export serves. Each registered model names its task; a new kind of training is a
new module here."""

import importlib

from zoo.registry import TASKS
from zoo.tasks.base import ExampleCount, Task  # registers ExampleCount, which best.keras names

__all__ = ["ExampleCount", "Task", "get_task"]


def get_task(name):
    """The task registered as `name` (see `zoo.registry.TASKS`), one module per task."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; the tasks are: {', '.join(TASKS)}")
    return importlib.import_module(f"zoo.tasks.{name}").TASK
