"""Training tasks: what differs between ways of training a model, so that `zoo.training.train`
stays one linear driver. A task loads the data as the model's (inputs, targets) batches, compiles
the model with its loss and metrics, evaluates it, says what `model.keras` holds and which
signatures its export serves. Each registered model names its task; a new kind of training is a
new module here. Distillation (`train.py --teacher`) trains a classifier another way: it is the
run's task when a teacher is given."""

import importlib

from zoo.errors import UserError
from zoo.registry import TASKS
from zoo.tasks.base import ExampleCount, Task  # registers ExampleCount, which best.keras names

__all__ = ["ExampleCount", "Task", "get_task", "task_for"]


def get_task(name):
    """The task registered as `name` (see `zoo.registry.TASKS`), one module per task."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; the tasks are: {', '.join(TASKS)}")
    return importlib.import_module(f"zoo.tasks.{name}").TASK


def task_for(spec, config):
    """The task of a run of `spec` as `config` asks: the model's own, or, given a teacher,
    distillation into it; distillation flags without a teacher are a `UserError`."""
    if config.teacher is None:
        given = [flag for flag, value in [("--temperature", config.temperature),
                                          ("--distillation-weight", config.distillation_weight),
                                          ("--unlabelled-split", config.unlabelled_split)] if value is not None]
        if given:
            raise UserError(f"{', '.join(given)} only apply with --teacher PATH")
        return get_task(spec.task)
    if spec.task != "classification":
        raise UserError(f"--teacher distils into a classifier; {spec.name} is trained as {spec.task}")
    from zoo.tasks.distillation import Distillation

    return Distillation(
        get_task(spec.task), config.teacher, config.temperature, config.distillation_weight, config.unlabelled_split
    )
