"""Evaluate a classifier where it fails: accuracy, per-class precision, recall and F1, their macro
averages, a confusion matrix and the most confident mistakes, over a whole test split.

    python -m zoo.evaluate --model-dir runs/mnist_cnn --data-dir DIR [--checkpoint best]
    python -m zoo.evaluate --model-dir saved_models/mnist_cnn/1 --data-dir DIR  # exactly what is deployed
    python -m zoo.evaluate --model-dir runs/ngram_text --dataset reviews.csv    # every example of a file
    python -m zoo.evaluate --model-dir mnist_cnn --data-dir DIR                 # the shipped preset

A run dir's `model.keras` (or `checkpoints/best.keras`) is evaluated with Keras; an exported
version folder through its `serving_default` signature, with TensorFlow alone. The report is
printed as a table and written as `evaluation.json`, `confusion_matrix.png` and `mistakes.jsonl`
(texts) or `mistakes.png` (images): into the run dir when it is evaluated as trained (train.py
writes the same report at the end of every classifier's run), else into its own folder.
"""

import argparse
import sys

from zoo import cli
from zoo.config import CHECKPOINTS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", required=True,
                        help="a finished train.py run, a preset's name, or an exported SavedModel "
                             "(NAME or NAME/VERSION folder)")
    parser.add_argument("--checkpoint", choices=tuple(CHECKPOINTS), default="last",
                        help="a run's final model.keras, or its best-validation checkpoint")
    parser.add_argument("--dataset", help="other data of the model's classes: a TFDS name (its test split), "
                                          "or a folder or CSV file (all of it, or its test/ folder)")
    parser.add_argument("--data-dir", help="TFDS data dir (default: TFDS_DATA_DIR, then TFDS's own)")
    parser.add_argument("--csv-columns", metavar="INPUT,LABEL", help="a CSV dataset's input and label columns")
    parser.add_argument("--test-split", metavar="SPLIT",
                        help="the TFDS split to evaluate on, e.g. 'test[:2000]' (default: the run's test split)")
    parser.add_argument("--output-dir", help="where the report goes (default: the run dir, evaluated as trained)")
    return parser.parse_args(argv)

if __name__ == "__main__":
    ARGS = parse_args()  # first: --help and flag errors answer before TensorFlow loads
    cli.quiet_start()

import hashlib  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from zoo import data, export, outputs, own_data, presets  # noqa: E402
from zoo.errors import UserError  # noqa: E402
from zoo.predict import latest_version, load_saved_model  # noqa: E402
from zoo.registry import get_model_spec  # noqa: E402

BATCH_SIZE = 256
MISTAKES = 16  # the most confident mistakes written out
SUMMARY_ASSET = "summary.json"  # the run's summary, in an export's assets.extra/
CELL_INCHES, MARGIN_INCHES, DPI = 0.6, 2.0, 100  # the confusion matrix figure's geometry


def classification_report(labels, probabilities, class_names):
    """Accuracy, per-class precision, recall, F1 and support, their unweighted (macro) means,
    and the confusion matrix (rows: true class, columns: predicted). A class never predicted
    has precision 0, one never present recall 0, and F1 is 0 where both are."""
    labels, predicted = np.asarray(labels), np.argmax(probabilities, axis=-1)
    classes = len(class_names)
    confusion = np.zeros((classes, classes), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    correct, predicted_counts, support = np.diag(confusion), confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(correct, predicted_counts, out=np.zeros(classes), where=predicted_counts > 0)
    recall = np.divide(correct, support, out=np.zeros(classes), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(classes), where=precision + recall > 0)
    return {
        "examples": int(len(labels)),
        "accuracy": float(correct.sum() / len(labels)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(class_names, precision, recall, f1, support)
        },
        "macro_average": {"precision": float(precision.mean()), "recall": float(recall.mean()), "f1": float(f1.mean())},
        "class_names": list(class_names),
        "confusion_matrix": confusion.tolist(),
    }


def predictions(predict, examples, evaluated_on):
    """(inputs, labels, probabilities) of every one of `examples`, unbatched (input, label) pairs;
    the progress line says they are `evaluated_on`."""
    inputs, labels, probabilities = [], [], []
    for batch_inputs, batch_labels in data.with_progress(examples.batch(BATCH_SIZE), f"Evaluating on {evaluated_on}"):
        inputs.append(batch_inputs.numpy())
        labels.append(batch_labels.numpy())
        probabilities.append(np.asarray(predict(batch_inputs)))
    return np.concatenate(inputs), np.concatenate(labels), np.concatenate(probabilities)


def write_report(predict, examples, class_names, output_dir, evaluated_on):
    """Evaluates `predict` (raw inputs to class probabilities) on `examples` (`evaluated_on`
    says what they are), prints the table and writes the report's files into `output_dir`;
    returns the report."""
    inputs, labels, probabilities = predictions(predict, examples, evaluated_on)
    if not np.isfinite(probabilities).all():
        raise UserError("the model's probabilities hold NaN or infinity: it cannot be evaluated; train it again")
    report = {"evaluated_on": evaluated_on, **classification_report(labels, probabilities, class_names)}
    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "evaluation.json").write_text(json.dumps(report, indent=2))
    plot_confusion_matrix(np.array(report["confusion_matrix"]), class_names, output_dir / "confusion_matrix.png")
    write_mistakes(inputs, labels, probabilities, class_names, output_dir)
    print(format_table(report))
    print(f"Evaluation report in {output_dir}")
    return report


def format_table(report):
    """The per-class table, its macro average and the accuracy, as lines of text."""
    names = [*report["per_class"], "macro average"]
    width = max(len(name) for name in names)
    lines = [f"{'class':<{width}}  precision  recall      f1  support"]
    for name, scores in report["per_class"].items():
        lines.append(f"{name:<{width}}  {scores['precision']:9.4f}  {scores['recall']:6.4f}  "
                     f"{scores['f1']:6.4f}  {scores['support']:7,}")
    macro = report["macro_average"]
    lines.append(f"{'macro average':<{width}}  {macro['precision']:9.4f}  {macro['recall']:6.4f}  {macro['f1']:6.4f}")
    lines.append(f"accuracy {report['accuracy']:.4f} over {report['examples']:,} examples: {report['evaluated_on']}")
    return "\n".join(lines)


def confusion_figure_inches(classes):
    """The confusion matrix figure's side in inches: a margin for the labels, a cell per class."""
    return MARGIN_INCHES + CELL_INCHES * classes


def plot_confusion_matrix(confusion, class_names, path):
    """The confusion matrix as a PNG heat map with its counts; rows true, columns predicted."""
    pyplot = headless_pyplot()
    side = confusion_figure_inches(len(class_names))
    figure, axes = pyplot.subplots(figsize=(side, side), dpi=DPI)
    axes.imshow(confusion, cmap="Blues")
    ticks = range(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=90)
    axes.set_yticks(ticks, class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for (row, column), count in np.ndenumerate(confusion):
        dark = count > confusion.max() / 2
        axes.text(column, row, str(count), ha="center", va="center", fontsize=7, color="white" if dark else "black")
    figure.subplots_adjust(left=0.25, bottom=0.25, right=0.95, top=0.95)
    figure.savefig(path, dpi=DPI)
    pyplot.close(figure)


def headless_pyplot():
    """matplotlib's pyplot drawing to files, with no display needed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def most_confident_mistakes(labels, probabilities, count=MISTAKES):
    """Indices of the wrongly classified examples, most confident first, at most `count`."""
    predicted = np.argmax(probabilities, axis=-1)
    wrong = np.flatnonzero(predicted != labels)
    return wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][:count]


def write_mistakes(inputs, labels, probabilities, class_names, output_dir):
    """The most confident mistakes: `mistakes.jsonl` for texts, a `mistakes.png` grid for images."""
    rows = []
    for index in most_confident_mistakes(labels, probabilities):
        predicted = int(np.argmax(probabilities[index]))
        rows.append({"index": int(index), "label": class_names[labels[index]], "predicted": class_names[predicted],
                     "confidence": float(probabilities[index, predicted])})
    if inputs.dtype == object:  # texts
        with open(output_dir / "mistakes.jsonl", "w", encoding="utf-8") as file:
            for row in rows:
                text = inputs[row["index"]].decode("utf-8", errors="replace")
                file.write(json.dumps({**row, "text": text}, ensure_ascii=False) + "\n")
    else:
        plot_mistakes(inputs, rows, output_dir / "mistakes.png")


def plot_mistakes(images, rows, path):
    """A grid of the mistaken images, each titled with its label, the prediction and its confidence."""
    pyplot = headless_pyplot()
    columns = 4
    grid_rows = max(1, -(-len(rows) // columns))
    figure, axes = pyplot.subplots(grid_rows, columns, figsize=(2 * columns, 2.3 * grid_rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, row in zip(axes.flat, rows):
        image = images[row["index"]]
        axis.imshow(image.squeeze(-1) if image.shape[-1] == 1 else image, cmap="gray")
        axis.set_title(f"{row['label']} as {row['predicted']}\n{row['confidence']:.2f}", fontsize=8)
    if not rows:
        axes.flat[0].text(0.5, 0.5, "no mistakes", ha="center")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    pyplot.close(figure)


def keras_predict(model):
    """A traced function from a batch of raw inputs to `model`'s class probabilities."""
    return tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)


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
        summary, model = export.load_run(path, checkpoint)
        predict = keras_predict(model)
    if summary["task"] != "classification":
        raise UserError(
            f"{path} holds a {summary['model']} ({summary['task']}) run, and zoo.evaluate scores classifiers: "
            "its summary.json holds its test metrics; generate text with python -m zoo.generate"
        )
    return predict, summary


def is_export(path):
    """Whether `path` is an exported model's version folder, or the folder of its versions."""
    if (path / "saved_model.pb").exists():
        return True
    return path.is_dir() and not (path / "summary.json").exists() and any(child.name.isdigit() for child in path.iterdir())


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
    return predict, json.loads(summary_file.read_text())


def evaluate(model_dir, checkpoint="last", dataset=None, data_dir=None, output_dir=None, csv_columns=None,
             test_split=None):
    """Evaluates a run dir, a preset or an export (see `load_classifier`) on `test_examples`, whose
    class names must be the model's; writes the report and returns it."""
    model_dir = presets.resolve(model_dir)
    output_dir = output_dir or default_output_dir(model_dir, checkpoint, dataset, test_split)
    outputs.check_writable(output_dir, "--output-dir")
    predict, summary = load_classifier(model_dir, checkpoint)
    examples, class_names, evaluated_on = test_examples(summary, dataset, data_dir, csv_columns, test_split)
    if class_names != summary["class_names"]:
        raise UserError(
            f"{dataset or summary['dataset']} has the classes {', '.join(class_names)}, and the model "
            f"{', '.join(summary['class_names'])}: evaluate it on data of its own classes"
        )
    return write_report(predict, examples, summary["class_names"], output_dir, evaluated_on)


def test_examples(summary, dataset=None, data_dir=None, csv_columns=None, test_split=None):
    """(examples, class names, what they are) to evaluate a run on: the test split of its own
    data, drawn as in training (or `test_split` of its TFDS dataset); the test split of another
    TFDS dataset; or all of another folder or CSV file (its test/ folder, if it has split folders)."""
    spec = get_model_spec(summary["model"])
    hyperparameters = summary["hyperparameters"]
    input_shape = hyperparameters["model_args"].get("input_shape")
    if dataset and own_data.is_path(dataset) and not _same_path(dataset, summary["dataset"]):
        return own_data.read_all(dataset, spec.modality, input_shape=input_shape, csv_columns=csv_columns)
    if csv_columns is not None:
        raise UserError("--csv-columns goes with --dataset, a CSV file other than the run's own")
    if test_split is not None and own_data.is_path(dataset or summary["dataset"]):
        raise UserError("--test-split picks a TFDS split; own data is evaluated on its own test split")
    run_splits = hyperparameters if dataset is None else {}  # another TFDS dataset: the recipe's splits
    datasets = data.load(
        dataset or summary["dataset"], spec.modality, batch_size=1, data_dir=data_dir, seed=hyperparameters["seed"],
        train_split=run_splits.get("train_split") or spec.train_split, validation_split=spec.validation_split,
        test_split=test_split or run_splits.get("test_split") or spec.test_split,
        own=hyperparameters.get("own_data") if dataset is None or own_data.is_path(dataset) else None,
        input_shape=input_shape,
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


@cli.command("zoo.evaluate")
def main(argv=None, args=None):
    args = args or parse_args(argv)
    evaluate(args.model_dir, args.checkpoint, args.dataset, args.data_dir, args.output_dir,
             csv_columns=args.csv_columns, test_split=args.test_split)


if __name__ == "__main__":
    sys.exit(main(args=ARGS))
