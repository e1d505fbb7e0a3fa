"""Benchmark the LiteRT and ONNX exports of every classifier's shipped preset, each format and
quantization run through its own runtime (ai_edge_litert, onnxruntime) on the whole test split.

    python benchmarks/edge_export.py --data-dir ../shared/tensorflow_datasets [--models mnist_cnn ...]

Per export: file size, test accuracy, agreement of its predicted class with the Keras model's
(`model.keras`, what the SavedModel is exported from: test_export.py checks they predict the
same), the median batch-1 latency and batch-256 throughput on this machine. A text export takes
token ids: here the in-graph preprocessor makes them (tokenizer.py makes exactly the same ids,
test_edge_tokenizer.py checks it on real reviews, and is far slower in plain Python for n-grams).
Rows finished in `--output-dir` are reused, so a stopped benchmark resumes. Results go to
benchmarks/results/<machine>-<date>-edge-export.json and .md.
"""

import argparse
import datetime
import json
import pathlib
import sys
import time

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, _median_seconds, machine, write_results  # noqa: E402

from zoo import edge_predict
from zoo.config import QUANTIZATIONS  # noqa: E402
from zoo.errors import UserError  # noqa: E402
from zoo.registry import get_model_spec  # noqa: E402
from zoo.serving import edge_export  # noqa: E402
from zoo.store import presets

EXPORTS = [("litert", quantize) for quantize in QUANTIZATIONS] + [("onnx", "none")]
BATCH = 256
LATENCY_CALLS = 50
AGREEMENT_TARGET, INT8_POINTS, INT8_SIZE_SHARE = 0.999, 0.5, 1 / 3


def exports_of(model, export_dir, data_dir):
    """({folder name: folder} of `model`'s preset in every format it converts to, exported unless
    already there; {folder name: why} of those it does not)."""
    folders, failed = {}, {}
    for format, quantize in EXPORTS:
        name = f"litert-{quantize}" if format == "litert" else format
        folder = export_dir / model / name
        try:
            if not (folder / "preprocessing.json").exists():
                edge_export.export_run(model, export_dir, format=format, quantize=quantize, data_dir=data_dir)
            folders[name] = folder
        except UserError as error:
            failed[name] = str(error)
    return folders, failed


def measure(model, folders, data_dir):
    """One row per export: size, accuracy and agreement over the whole test split, speed."""
    spec = get_model_spec(model)
    keras_model = presets.from_preset(model)
    core, _ = edge_export.core_model(keras_model, spec.modality)
    runners = {name: edge_predict.model_runner(folder) for name, folder in folders.items()}
    test = tfds.load(spec.dataset, split=spec.test_split, data_dir=data_dir, as_supervised=True, batch_size=BATCH)
    predicted = {name: [] for name in [*runners, "keras"]}
    labels = []
    for inputs, batch_labels in test:
        feed = as_feed(keras_model, core, inputs)
        predicted["keras"].append(keras_model.predict_on_batch(inputs).argmax(-1))
        for name, run in runners.items():
            predicted[name].append(run(feed).argmax(-1))
        labels.append(batch_labels.numpy())
    labels = np.concatenate(labels)
    reference = np.concatenate(predicted.pop("keras"))
    first = next(iter(test))[0]
    rows = []
    for name, run in runners.items():
        classes = np.concatenate(predicted[name])
        batch_feed, single_feed = as_feed(keras_model, core, first), as_feed(keras_model, core, first[:1])
        rows.append({
            "model": model, "export": name, "size_bytes": (folders[name] / edge_export.MODEL_FILES[name.split("-")[0]]).stat().st_size,
            "test_examples": int(len(labels)), "accuracy": float((classes == labels).mean()),
            "keras_accuracy": float((reference == labels).mean()), "agreement": float((classes == reference).mean()),
            "batch_1_latency_ms": 1000 * _median_seconds(lambda: run(single_feed), repeats=LATENCY_CALLS),
            "batch_256_examples_per_second": BATCH / _median_seconds(lambda: run(batch_feed), repeats=3),
        })
    return rows


def as_feed(keras_model, core, inputs):
    """The export's inputs for a batch of raw `inputs`, by input name."""
    if inputs.dtype == tf.string:
        made = edge_export.core_inputs(keras_model, core, inputs)
        return made if isinstance(made, dict) else {core.input.name: made}
    return {core.input.name: inputs.numpy()}


def markdown_table(rows):
    lines = ["| model | export | size | test accuracy (Keras) | agreement | batch-1 latency | batch-256 throughput | targets |",
             "|---|---|---|---|---|---|---|---|"]
    float_sizes = {row["model"]: row["size_bytes"] for row in rows if row["export"] == "litert-none" and "failed" not in row}
    for row in rows:
        if "failed" in row:
            lines.append(f"| `{row['model']}` | {row['export']} | - | does not convert: {row['failed']} | | | | missed |")
            continue
        if row["export"] == "litert-int8":
            met = (row["keras_accuracy"] - row["accuracy"] <= INT8_POINTS / 100
                   and row["size_bytes"] <= INT8_SIZE_SHARE * float_sizes[row["model"]])
        elif row["export"] in ("litert-none", "litert-float16", "onnx"):
            met = row["agreement"] >= AGREEMENT_TARGET
        else:
            met = None
        lines.append(
            f"| `{row['model']}` | {row['export']} | {row['size_bytes'] / 2**20:.2f} MiB "
            f"| {100 * row['accuracy']:.2f}% ({100 * row['keras_accuracy']:.2f}%) | {100 * row['agreement']:.2f}% "
            f"| {row['batch_1_latency_ms']:.2f} ms | {row['batch_256_examples_per_second']:,.0f}/s "
            f"| {'-' if met is None else 'met' if met else 'missed'} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--models", nargs="+", default=[name for name in presets.list_presets()
                                                          if get_model_spec(name).task == "classification"])
    parser.add_argument("--output-dir", default="runs/benchmark-edge")
    args = parser.parse_args()
    output_dir = pathlib.Path(args.output_dir)
    done_file = output_dir / "rows.jsonl"
    output_dir.mkdir(parents=True, exist_ok=True)
    done = [json.loads(line) for line in done_file.read_text().splitlines()] if done_file.exists() else []
    for model in args.models:
        if any(row["model"] == model for row in done):
            continue
        started = time.perf_counter()
        folders, failed = exports_of(model, output_dir / "exports", args.data_dir)
        rows = measure(model, folders, args.data_dir) + [{"model": model, "export": name, "failed": why}
                                                         for name, why in failed.items()]
        print(f"{model}: {len(rows)} exports measured in {time.perf_counter() - started:.0f} s", flush=True)
        with open(done_file, "a") as file:
            file.writelines(json.dumps(row) + "\n" for row in rows)
        done += rows
    rows = [row for row in done if row["model"] in args.models]
    result = {"machine": machine(), "date": datetime.date.today().isoformat(), "rows": rows}
    write_results(RESULTS_DIR, "edge-export", result, markdown_table(rows))


if __name__ == "__main__":
    main()
