"""Benchmark your own data against the same data from TFDS: does a folder of image files, or of
text files, train as well, and how fast is it read?

    python benchmarks/own_data.py --data-dir ../shared/tensorflow_datasets [--work-dir DIR]

Writes all of real MNIST (70,000 digits) as PNG files and all of real IMDB's labelled reviews
(50,000) as .txt files, each in `train/` and `test/` class folders (the layout of keras-io's
IMDB example), and the IMDB reviews as one CSV file too. Then, with `train.py` as users run it,
trains `mnist_cnn_small` and `ngram_text` with their recipes (seed 0) on each folder and on the
TFDS dataset, and compares the full test splits' accuracy. The reading figures time
`zoo.data.own_data.read` over each folder and the CSV file, from files to examples in memory.
Results go to benchmarks/results/<machine>-<date>-own_data.json/.md.
"""

import argparse
import csv
import datetime
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import tensorflow as tf
import tensorflow_datasets as tfds

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, machine, write_results  # noqa: E402

from zoo.data import own_data  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
MODELS = {"mnist": ("mnist_cnn_small", "image"), "imdb_reviews": ("ngram_text", "text")}


def write_folders(dataset, data_dir, root):
    """`dataset`'s train and test splits as files in `root/train/CLASS/` and `root/test/CLASS/`."""
    builder = tfds.builder(dataset, data_dir=data_dir)
    class_names = builder.info.features[builder.info.supervised_keys[1]].names
    for split in ("train", "test"):
        for name in class_names:
            (root / split / name).mkdir(parents=True, exist_ok=True)
        examples = builder.as_dataset(split=split, as_supervised=True)
        for index, (inputs, label) in enumerate(examples.as_numpy_iterator()):
            folder = root / split / class_names[label]
            if dataset == "mnist":
                (folder / f"{index}.png").write_bytes(tf.io.encode_png(inputs).numpy())
            else:
                (folder / f"{index}.txt").write_bytes(inputs)
    return class_names


def write_csv(folder, path):
    """The text folder's reviews, train and test together, as one CSV file (text, label)."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for text_file in sorted(folder.rglob("*.txt")):
            writer.writerow([text_file.read_text(encoding="utf-8"), text_file.parent.name])


def reading_speed(path, modality):
    """Examples per second of `zoo.data.own_data.read` from files to examples in memory, and their count."""
    started = time.perf_counter()
    splits, _ = own_data.read(str(path), modality, seed=0, input_shape=(28, 28, 1), **own_data.settings(str(path)))
    count = sum(int(split.reduce(0, lambda count, _: count + 1)) for split in splits.values())
    return count / (time.perf_counter() - started), count


def train(model, dataset, model_dir, data_dir):
    """A recipe run of `model` on `dataset` (a TFDS name or a folder); returns its summary."""
    subprocess.run([sys.executable, "train.py", "--model", model, "--dataset", str(dataset), "--data-dir", data_dir,
                    "--model-dir", str(model_dir)], cwd=REPO_ROOT, check=True)
    return json.loads((model_dir / "summary.json").read_text())


def row(model, source, summary, reading):
    return {
        "model": model,
        "source": source,
        "test_accuracy": summary["test_metrics"]["accuracy"],
        "test_examples": summary["test_metrics"]["examples"],
        "examples": summary["examples"],
        "train_examples_per_second": summary["train_examples_per_second"],
        "wall_time_seconds": summary["wall_time_seconds"],
        "reading_examples_per_second": reading,
    }


def markdown(rows):
    lines = ["| model | data | test accuracy (examples) | split sizes (train / validation / test) | train ex/s | "
             "files read, ex/s | wall time |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        sizes = " / ".join(f"{r['examples'][role]:,}" for role in ("train", "validation", "test"))
        reading = f"{r['reading_examples_per_second']:,.0f}" if r["reading_examples_per_second"] else "-"
        lines.append(f"| `{r['model']}` | {r['source']} | {r['test_accuracy']:.4f} ({r['test_examples']:,}) | {sizes} | "
                     f"{r['train_examples_per_second']:,.0f} | {reading} | {r['wall_time_seconds']:.0f} s |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="TFDS data dir with mnist and imdb_reviews")
    parser.add_argument("--work-dir", help="where the files and runs go (default: a temporary folder)")
    parser.add_argument("--output-dir", type=pathlib.Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    work_dir = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix="own_data-"))
    rows, csv_reading = [], None
    for dataset, (model, modality) in MODELS.items():
        folder = work_dir / f"{dataset}_files"
        if not (folder / "test").exists():
            write_folders(dataset, args.data_dir, folder)
        reading, _ = reading_speed(folder, modality)
        rows.append(row(model, "TFDS", train(model, dataset, work_dir / f"{model}_tfds", args.data_dir), None))
        rows.append(row(model, f"{modality} files in train/, test/", train(model, folder, work_dir / f"{model}_files",
                                                                            args.data_dir), reading))
        if modality == "text":
            write_csv(folder, work_dir / "reviews.csv")
            csv_reading = reading_speed(work_dir / "reviews.csv", modality)
    facts = machine()
    result = {"machine": facts, "date": datetime.date.today().isoformat(), "runs": rows,
              "csv_reading": {"examples_per_second": csv_reading[0], "examples": csv_reading[1]}}
    table = markdown(rows) + (f"\nThe 50,000 reviews as one CSV file: read at {csv_reading[0]:,.0f} examples/s.\n")
    write_results(args.output_dir, "own_data", result, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
