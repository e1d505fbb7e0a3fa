"""Evaluating a trained classifier (a run dir, a preset or an export) on its test split or on
other data of its classes, into the report of `zoo.report`."""

import hashlib
import pathlib
import re

import tensorflow as tf

from zoo.data import own_data
from zoo.errors import UserError
from zoo.registry import get_model_spec
from zoo.report import keras_predict, write_report
from zoo.serving.signatures import latest_version, load_saved_model
from zoo.store import outputs, presets, records, runs

SUMMARY_ASSET = records.SUMMARY  # the run's summary, in an export's assets.extra/


def load_classifier(path, checkpoint="last"):
    """(predict, summary) of a finished run dir, its `model.keras` or `checkpoints/best.keras`
    read by Keras, or of an exported model (a version folder, else the highest version), read by
    TensorFlow alone and run through its `serving_default`, the run's summary from its assets."""
    path = pathlib.Path(path)
    if is_export(path):
        if checkpoint != "last":
            raise UserError("--checkpoint best applies to a run dir; an export holds one model")
        predict, summary = _saved_model_classifier(latest_version(path))
    else:
        summary, model = runs.load_run(path, checkpoint)
        predict = keras_predict(model)
    if summary.task != "classification":
        raise UserError(
            f"{path} holds a {summary.model} ({summary.task}) run, and zoo.evaluate scores classifiers: "
            "its summary.json holds its test metrics; generate text with python -m zoo.generate"
        )
    return predict, summary


def is_export(path):
    """Whether `path` is an exported model's version folder, or the folder of its versions."""
    if (path / "saved_model.pb").exists():
        return True
    return path.is_dir() and not (path / records.SUMMARY).exists() and any(child.name.isdigit() for child in path.iterdir())


def _saved_model_classifier(version_dir):
    summary_file = version_dir / "assets.extra" / SUMMARY_ASSET
    if not summary_file.exists():
        raise UserError(f"{version_dir} holds no assets.extra/{SUMMARY_ASSET}: export the run again with zoo.export")
    loaded = load_saved_model(version_dir)
    serving = loaded.signatures["serving_default"]
    [input_name] = serving.structured_input_signature[1]

    def predict(inputs):
        return serving(**{input_name: tf.constant(inputs)})["probabilities"]

    predict.loaded = loaded  # the signature needs its SavedModel alive
    return predict, records.RunSummary.read(summary_file)


def evaluate(model_dir, checkpoint="last", dataset=None, data_dir=None, output_dir=None, csv_columns=None,
             test_split=None):
    """Evaluates a run dir, a preset or an export (see `load_classifier`) on `test_examples`, whose
    class names must be the model's; writes the report and returns it."""
    model_dir = presets.resolve(model_dir)
    output_dir = output_dir or default_output_dir(model_dir, checkpoint, dataset, test_split)
    outputs.check_writable(output_dir, "--output-dir")
    predict, summary = load_classifier(model_dir, checkpoint)
    examples, class_names, evaluated_on = test_examples(summary, dataset, data_dir, csv_columns, test_split)
    if class_names != summary.class_names:
        raise UserError(
            f"{dataset or summary.dataset} has the classes {', '.join(class_names)}, and the model "
            f"{', '.join(summary.class_names)}: evaluate it on data of its own classes"
        )
    return write_report(predict, examples, summary.class_names, output_dir, evaluated_on)


def test_examples(summary, dataset=None, data_dir=None, csv_columns=None, test_split=None):
    """(examples, class names, what they are) to evaluate a run on: the test split of its own
    data, drawn as in training (or `test_split` of its TFDS dataset); the test split of another
    TFDS dataset; or all of another folder or CSV file (its test/ folder, if it has split folders)."""
    spec = get_model_spec(summary.model)
    hyperparameters = summary.hyperparameters
    input_shape = hyperparameters["model_args"].get("input_shape")
    if dataset and own_data.is_path(dataset) and not _same_path(dataset, summary.dataset):
        return own_data.read_all(dataset, spec.modality, input_shape=input_shape, csv_columns=csv_columns)
    if csv_columns is not None:
        raise UserError("--csv-columns goes with --dataset, a CSV file other than the run's own")
    if test_split is not None and own_data.is_path(dataset or summary.dataset):
        raise UserError("--test-split picks a TFDS split; own data is evaluated on its own test split")
    run_splits = hyperparameters if dataset is None else {}  # another TFDS dataset: the recipe's splits
    datasets = runs.reopen_data(
        summary, data_dir, dataset=dataset or summary.dataset,
        train_split=run_splits.get("train_split") or spec.train_split, validation_split=spec.validation_split,
        test_split=test_split or run_splits.get("test_split") or spec.test_split,
        own=hyperparameters.get("own_data") if dataset is None or own_data.is_path(dataset) else None,
    )
    return datasets.raw_test, datasets.class_names, f"the {datasets.test_split} split of {datasets.name}"


def _same_path(dataset, trained_on):
    return own_data.is_path(trained_on) and pathlib.Path(dataset).resolve() == pathlib.Path(trained_on).resolve()


def default_output_dir(model_dir, checkpoint, dataset, test_split=None):
    """The run dir itself when evaluated as trained; else a folder of its own, named after what
    differs, beside the run's files, or under `evaluations/` for an export or a preset (whose
    shipped folder is never written into). Files of the same name in two folders get two reports."""
    parts = (["best"] if checkpoint == "best" else []) + ([dataset_label(dataset)] if dataset else [])
    parts += [re.sub(r"[^\w.%-]+", "_", test_split).strip("_")] if test_split else []
    if presets.is_preset(model_dir):
        return pathlib.Path("evaluations") / "-".join([model_dir.name, "preset", *parts])
    if not is_export(model_dir):
        return model_dir / "-".join(["evaluation", *parts]) if parts else model_dir
    version = latest_version(model_dir)
    return pathlib.Path("evaluations") / "-".join([version.parent.name, version.name, *parts])


def dataset_label(dataset):
    """`--dataset` in a folder name: a TFDS name as it is; a folder or file by its name and a
    digest of its absolute path (reviews-3f2a9c1b), so that no two inputs share a report."""
    if not own_data.is_path(dataset):
        return dataset
    path = pathlib.Path(dataset).resolve()
    return f"{path.stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
