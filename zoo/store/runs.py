"""A finished run dir reopened: its summary and its model, checked before anything uses them."""

import pathlib

from zoo import data
from zoo.config import CHECKPOINTS
from zoo.errors import UserError, first_line
from zoo.registry import NAME_PATTERN, get_model_spec
from zoo.store import outputs, presets, records, saving
from zoo.tasks import get_task


def read_summary(model_dir):
    """The `RunSummary` of the finished run in `model_dir`; none there, or a damaged one, is a `UserError`."""
    model_dir = pathlib.Path(model_dir)
    if not (model_dir / records.SUMMARY).exists():
        raise UserError(f"{model_dir} holds no finished run (no {records.SUMMARY}): train it first")
    try:
        return records.RunSummary.read(model_dir / records.SUMMARY)
    except (ValueError, TypeError) as error:  # not JSON, or not a run's record
        raise _damaged(model_dir, error) from None


def reopen_data(summary, data_dir, **options):
    """The run's data as training read it (its dataset, seed, own-data settings and input shape),
    one example per batch; `options` are `zoo.data.load`'s, over the run's (`dataset`, splits...)."""
    used = summary.hyperparameters
    run = {"batch_size": 1, "data_dir": data_dir, "seed": used["seed"], "own": used.get("own_data"),
           "input_shape": used["model_args"].get("input_shape")}
    return data.load(options.pop("dataset", summary.dataset), summary.modality, **{**run, **options})


def load_run(model_dir, checkpoint="last"):
    """The finished run's summary and its `model.keras` (or, `checkpoint="best"`, its
    `checkpoints/best.keras`): a missing or broken file, or a run whose task is not served
    (pretraining), is a `UserError`."""
    model_dir = pathlib.Path(model_dir)
    summary = read_summary(model_dir)
    check_served(summary.model)
    if checkpoint != "last" and presets.is_preset(model_dir):
        raise UserError(f"preset {model_dir.name} ships its final model only: drop --checkpoint {checkpoint}")
    model = saving.load_model(model_dir / CHECKPOINTS[checkpoint], "--model-dir")
    text_classifier = summary.task == "classification" and summary.modality == "text"
    if text_classifier and model.inputs[0].dtype != "string":  # a causal LM keeps its tokenizer apart
        raise UserError(
            f"{model_dir}'s {CHECKPOINTS[checkpoint]} takes token ids, not texts: it predates checkpoints of the "
            "model with its preprocessor; use the run's model.keras (--checkpoint last), or train again"
        )
    return summary, model


def check_served(model_name):
    """A `UserError` unless runs of `model_name` are served (pretraining runs are not)."""
    task = get_task(get_model_spec(model_name).task)
    if not task.exportable:
        raise UserError(f"{model_name} is pretraining, not served: {task.used_for}")


def _damaged(model_dir, error):
    return UserError(f"{model_dir} holds a damaged run ({first_line(error)}): train it again in a new --model-dir")


def open_for_export(model_dir, export_dir, name, checkpoint):
    """(summary, model, export name) of the run or preset `model_dir` to export under `export_dir`:
    the name (default: the model's) and the folder are checked before the model loads."""
    if name is not None and not NAME_PATTERN.match(name):
        raise UserError(f"--name {name!r} must match {NAME_PATTERN.pattern}, as model names do")
    outputs.check_writable(export_dir, "--export-dir")
    summary, model = load_run(presets.resolve(model_dir), checkpoint)
    return summary.with_other(checkpoint=checkpoint), model, name or summary.model
