"""The evaluation report of a classifier: accuracy, per-class precision, recall and F1, their
macro averages, a confusion matrix and the most confident mistakes, written beside the model."""

import json
import pathlib

import numpy as np
import tensorflow as tf

from zoo import data
from zoo.errors import UserError

CELL_INCHES, MARGIN_INCHES, DPI = 0.6, 2.0, 100  # the confusion matrix figure's geometry

BATCH_SIZE = 256

MISTAKES = 16  # the most confident mistakes written out


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
