"""Your own data (`--dataset PATH`): a folder of PNGs in class subfolders (real MNIST digits, of
several sizes, some RGB) and a CSV file of real IMDB reviews train end to end, export and serve
their own class names; images reach the model as its pixels; splits are seeded, disjoint and
complete; bad folders and CSV files are one-line errors naming the file."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT

import train
from zoo import data, evaluation
from zoo.data import own_data
from zoo.serving.signatures import predict

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SHORT_RUN = ["--epochs", "1", "--steps-per-epoch", "3", "--batch-size", "16", "--strategy", "one_device"]


def write_png(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(pixels).numpy())


def as_read(dataset, modality="image", input_shape=(28, 28, 1), seed=0, **options):
    """`own_data.read`'s splits as lists of (input, label) NumPy pairs, and its class names."""
    options = {**own_data.settings(str(dataset)), **options}
    splits, class_names = own_data.read(str(dataset), modality, seed=seed, input_shape=input_shape, **options)
    return {role: list(split.as_numpy_iterator()) for role, split in splits.items()}, class_names


@pytest.fixture(scope="module")
def digits(real_data_dir, tmp_path_factory):
    """200 real MNIST digits as PNGs in one subfolder per class: every third one 40x36, every
    fourth RGB."""
    root = tmp_path_factory.mktemp("digits")
    examples = tfds.load("mnist", split="train[:200]", data_dir=real_data_dir, as_supervised=True)
    for index, (image, label) in enumerate(examples.as_numpy_iterator()):
        if index % 3 == 1:
            image = tf.cast(tf.round(tf.image.resize(image, (40, 36))), tf.uint8).numpy()
        if index % 4 == 2:
            image = np.repeat(image, 3, axis=-1)
        write_png(root / DIGITS[label] / f"{index}.png", image)
    return root


@pytest.fixture(scope="module")
def reviews(real_data_dir, tmp_path_factory):
    """300 real IMDB reviews in a CSV file whose columns are not the default ones; one review
    holds a line break, quotes and a comma."""
    path = tmp_path_factory.mktemp("reviews") / "reviews.csv"
    examples = tfds.load("imdb_reviews", split="train[:300]", data_dir=real_data_dir, as_supervised=True)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "review", "sentiment"])
        for index, (text, label) in enumerate(examples.as_numpy_iterator()):
            text = 'A "fine",\nfilm. ' + text.decode() if index == 0 else text.decode()
            writer.writerow([index, text, ["negative", "positive"][label]])
    return path


def served_labels(version_dir, inputs, tmp_path):
    """The `label` outputs of the export's serving_default, loaded with TensorFlow alone."""
    np.savez(tmp_path / "inputs.npz", inputs=inputs)
    result = subprocess.run(
        [sys.executable, "tests/tensorflow_only.py", str(version_dir), str(tmp_path / "inputs.npz")],
        cwd=REPO_ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])["label"]


def check_run(model_dir, class_names, examples):
    """The run's summary names its own classes and split sizes, and its evaluation report covers
    the whole test split with the accuracy Keras measured."""
    summary = json.loads((model_dir / "summary.json").read_text())
    assert summary["class_names"] == class_names
    assert summary["examples"] == examples
    evaluation = json.loads((model_dir / "evaluation.json").read_text())
    assert evaluation["class_names"] == class_names and evaluation["examples"] == examples["test"]
    assert evaluation["accuracy"] == pytest.approx(summary["test_metrics"]["accuracy"], abs=1e-6)
    assert sum(map(sum, evaluation["confusion_matrix"])) == examples["test"]
    return summary


@pytest.mark.slow
def test_a_folder_of_images_trains_exports_and_serves_its_own_class_names(digits, tmp_path):
    model_dir, exported = tmp_path / "run", tmp_path / "exported"
    assert train.main(["--model", "mnist_cnn", "--dataset", str(digits), "--model-dir", str(model_dir),
                       *SHORT_RUN, "--export", "--export-dir", str(exported)]) == 0
    check_run(model_dir, sorted(DIGITS), {"train": 160, "validation": 20, "test": 20})
    assert (model_dir / "confusion_matrix.png").exists() and (model_dir / "mistakes.png").exists()

    version_dir = exported / "mnist_cnn" / "1"
    originals = [path for path in sorted((digits / "seven").glob("*.png")) if int(path.stem) % 3 != 1][:4]
    pixels = np.stack([tf.io.decode_png(path.read_bytes(), channels=1).numpy() for path in originals])
    assert set(served_labels(version_dir, pixels, tmp_path)) <= set(DIGITS)
    rgb_and_resized = next(path for path in digits.rglob("*.png") if int(path.stem) % 12 == 10)
    [(label, _)] = predict(version_dir, [str(rgb_and_resized)])
    assert label in DIGITS


@pytest.mark.slow
def test_a_csv_file_of_texts_trains_exports_and_serves_its_own_class_names(reviews, tmp_path):
    model_dir, exported = tmp_path / "run", tmp_path / "exported"
    assert train.main(["--model", "ngram_text", "--dataset", str(reviews), "--csv-columns", "review,sentiment",
                       "--model-dir", str(model_dir), *SHORT_RUN, "--export", "--export-dir", str(exported)]) == 0
    summary = check_run(model_dir, ["negative", "positive"], {"train": 240, "validation": 30, "test": 30})
    assert summary["hyperparameters"]["own_data"]["csv_columns"] == "review,sentiment"
    for line in (model_dir / "mistakes.jsonl").read_text().splitlines():
        mistake = json.loads(line)
        assert mistake["label"] != mistake["predicted"] and mistake["text"]

    labels = served_labels(exported / "ngram_text" / "1", np.array(["A moving film.", "Dull and slow."]), tmp_path)
    assert set(labels) <= {"negative", "positive"}


def test_images_reach_the_model_as_its_pixels_whatever_their_size_and_channels(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (28, 28, 1), dtype=np.uint8)
    write_png(tmp_path / "a" / "gray.png", gray)
    write_png(tmp_path / "a" / "rgb.png", np.repeat(gray, 3, axis=-1))
    write_png(tmp_path / "b" / "large.png", np.repeat(np.repeat(gray, 2, axis=0), 2, axis=1))
    (tmp_path / "b" / "notes.txt").write_text("not an image: skipped, as Keras' reader does")
    splits, class_names = own_data.read(str(tmp_path), "image", seed=0, input_shape=(28, 28, 1),
                                        **own_data.settings(str(tmp_path), validation_fraction=0.3, test_fraction=0.3))
    images = [image for split in splits.values() for image, _ in split.as_numpy_iterator()]
    assert class_names == ["a", "b"] and len(images) == 3
    assert all(image.shape == (28, 28, 1) and image.dtype == np.uint8 for image in images)
    assert sum(np.array_equal(image, gray) for image in images) >= 1  # the 28x28 one, exactly
    assert all(np.abs(image.astype(int) - gray).max() <= 1 for image in images if not np.array_equal(image, gray))


def test_a_csv_file_of_image_paths_reads_the_images_relative_to_it(tmp_path):
    for index in range(10):
        write_png(tmp_path / "images" / f"{index}.png", np.full((20 + index, 30, 3), index * 20, np.uint8))
    (tmp_path / "labels.csv").write_text(
        "file,digit\n" + "".join(f"images/{index}.png,{'odd' if index % 2 else 'even'}\n" for index in range(10)))
    splits, class_names = as_read(tmp_path / "labels.csv", csv_columns="file,digit")
    assert class_names == ["even", "odd"]
    examples = [example for split in splits.values() for example in split]
    assert sorted((int(image[0, 0, 0]), label) for image, label in examples) == [
        (index * 20, index % 2) for index in range(10)]  # gray level 20 * index: equal channels stay as they are
    assert all(image.shape == (28, 28, 1) for image, _ in examples)

    (tmp_path / "images" / "3.png").write_bytes(b"broken")
    with pytest.raises(own_data.UserError, match=f"^{tmp_path / 'images' / '3.png'}: not an image"):
        as_read(tmp_path / "labels.csv", csv_columns="file,digit")


def test_a_seeded_split_is_disjoint_complete_and_repeatable(tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text("text,label\n" + "".join(f"text {i},{'b' if i % 3 else 'a'}\n" for i in range(100)))
    first, class_names = as_read(path, "text", seed=1)
    assert class_names == ["a", "b"]
    assert {role: len(split) for role, split in first.items()} == {"validation": 10, "test": 10, "train": 80}
    texts = {role: {text for text, _ in split} for role, split in first.items()}
    assert set.union(*texts.values()) == {f"text {i}".encode() for i in range(100)}
    assert sum(map(len, texts.values())) == 100
    assert all(label == (1 if int(text.split()[1]) % 3 else 0) for split in first.values() for text, label in split)
    assert as_read(path, "text", seed=1)[0]["test"] == first["test"]
    assert as_read(path, "text", seed=2)[0]["test"] != first["test"]


def test_csv_labels_sort_as_numbers_when_all_are_integers(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("label,text\n" + "".join(f"{label},text {i}\n" for i, label in enumerate(["10", "2", "1"] * 10)))
    splits, class_names = as_read(path, "text")
    assert class_names == ["1", "2", "10"]
    assert all(text.split()[1] in {b"%d" % i for i in range(30) if ["10", "2", "1"][i % 3] == class_names[label]}
               for split in splits.values() for text, label in split)


def test_train_and_test_folders_are_the_splits_and_validation_is_drawn_from_train(tmp_path):
    for split, count in (("train", 10), ("test", 4)):
        for name in ("cat", "dog"):
            for index in range(count):
                (tmp_path / split / name).mkdir(parents=True, exist_ok=True)
                (tmp_path / split / name / f"{index}.txt").write_text(f"{split} {name} {index}")
    splits, class_names = as_read(tmp_path, "text", validation_fraction=0.25)
    assert class_names == ["cat", "dog"]
    assert {role: len(split) for role, split in splits.items()} == {"validation": 5, "train": 15, "test": 8}
    assert all(text.startswith(b"test") for text, _ in splits["test"])
    assert all(text.startswith(b"train") for role in ("train", "validation") for text, _ in splits[role])
    assert all(text.split()[1] == [b"cat", b"dog"][label] for split in splits.values() for text, label in split)


def test_training_batches_mix_the_classes_that_files_hold_in_order(tmp_path, monkeypatch):
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for index in range(100):
            (tmp_path / name / f"{index}.txt").write_text(f"{name} {index}")
    monkeypatch.setattr(data, "SHUFFLE_BUFFER", 4)  # what TFDS data, shuffled in its files, gets
    datasets = data.load(str(tmp_path), "text", batch_size=20, own=own_data.settings(str(tmp_path)))
    first_batches = [labels for _, labels in datasets.train.take(3).as_numpy_iterator()]
    assert all(0 < labels.sum() < len(labels) for labels in first_batches), first_batches


def bad_folders(root):
    """name -> (path, message) of datasets that must be refused."""
    write_png(root / "unreadable" / "a" / "good.png", np.zeros((28, 28, 1), np.uint8))
    write_png(root / "unreadable" / "b" / "good.png", np.zeros((28, 28, 1), np.uint8))
    (root / "unreadable" / "b" / "broken.png").write_bytes(b"not a png")
    write_png(root / "one_class" / "a" / "x.png", np.zeros((28, 28, 1), np.uint8))
    (root / "no_classes").mkdir()
    write_png(root / "no_classes" / "x.png", np.zeros((28, 28, 1), np.uint8))
    write_png(root / "no_test" / "train" / "a" / "x.png", np.zeros((28, 28, 1), np.uint8))
    (root / "missing_column.csv").write_text("text,sentiment\nfine,pos\n")
    (root / "one_label.csv").write_text("text,label\nfine,pos\ngood,pos\n")
    (root / "empty_label.csv").write_text("text,label\nfine,pos\nbad,\n")
    (root / "not_utf8.csv").write_bytes("text,label\nfine,pos\n\"très\nbien\",pos\n".encode() + b"caf\xe9,neg\n")
    (root / "extra_field.csv").write_text('text,label\nfine,pos\n"a, quoted text",neg,oops\n')
    (root / "blank_line.csv").write_text("text,label\nfine,pos\n\nbad,neg\n")
    (root / "header_only.csv").write_text("review,sentiment\n")
    (root / "empty_texts.csv").write_text("text,label\n" + ",pos\n ,neg\n" * 30)
    (root / "missing_images.csv").write_text("image,label\nnot_there.png,a\nalso_gone.png,b\n")
    return {
        "unreadable": (["--model", "mnist_cnn"], "unreadable", f"{root / 'unreadable' / 'b' / 'broken.png'}: not an image"),
        "one_class": (["--model", "mnist_cnn"], "one_class", "holds 1 class subfolder: a classifier needs"),
        "no_classes": (["--model", "mnist_cnn"], "no_classes", "holds no class subfolders"),
        "no_test": (["--model", "mnist_cnn"], "no_test", "holds train/ but no test/"),
        "missing_column": (["--model", "ngram_text"], "missing_column.csv",
                           "missing_column.csv has no column 'label' (its columns: text, sentiment)"),
        "one_label": (["--model", "ngram_text"], "one_label.csv", "holds 1 class label(s): a classifier needs at least two"),
        "empty_label": (["--model", "ngram_text"], "empty_label.csv", "empty_label.csv: line 3 has no label (column 'label')"),
        "not_utf8": (["--model", "ngram_text"], "not_utf8.csv", "not_utf8.csv: line 5 is not valid UTF-8 (byte 0xe9)"),
        "extra_field": (["--model", "ngram_text"], "extra_field.csv",
                        "extra_field.csv: line 3 has 3 field(s), the header 2: make every row text,label"),
        "blank_line": (["--model", "ngram_text"], "blank_line.csv", "blank_line.csv: line 3 has 0 field(s), the header 2 (a blank line)"),
        "csv_columns_on_a_folder": (["--model", "mnist_cnn", "--csv-columns", "a,b"], "one_class",
                                    "--csv-columns applies to a CSV file"),
        "bad_fractions": (["--model", "ngram_text", "--test-fraction", "0.6", "--validation-fraction", "0.5"],
                          "one_label.csv", "their sum below 1"),
        "missing": (["--model", "ngram_text"], "no_such.csv", "no such folder or file"),
        "header_only": (["--model", "ngram_text", "--csv-columns", "review,sentiment"], "header_only.csv",
                        "header_only.csv holds no examples, only its header: add a row per example"),
        "empty_texts": (["--model", "ngram_text"], "empty_texts.csv",
                        "empty_texts.csv: every text in column 'text' is empty"),
        "missing_images": (["--model", "mnist_cnn"], "missing_images.csv",
                           f"missing_images.csv names {root / 'not_there.png'}, which does not exist"),
    }


def test_bad_folders_and_csv_files_are_one_line_errors_naming_the_file(capsys, tmp_path):
    for name, (flags, dataset, message) in bad_folders(tmp_path / "data").items():
        model_dir = tmp_path / "runs" / name
        code = train.main([*flags, "--dataset", str(tmp_path / "data" / dataset), "--model-dir", str(model_dir)])
        stderr = capsys.readouterr().err
        assert code == 2 and stderr.startswith("train.py: error: "), (name, stderr)
        assert message in stderr and stderr.count("\n") == 1, (name, stderr)
        assert not model_dir.exists()


def test_own_data_flags_with_a_tfds_dataset_are_a_one_line_error(capsys, tmp_path):
    code = train.main(["--model", "mnist_cnn", "--test-fraction", "0.2", "--model-dir", str(tmp_path / "run")])
    stderr = capsys.readouterr().err
    assert code == 2 and "--test-fraction only apply to your own data" in stderr


@pytest.mark.slow
def test_a_relative_dataset_path_is_resolved_when_the_run_starts(reviews, tmp_path, monkeypatch):
    monkeypatch.chdir(reviews.parent)
    model_dir = tmp_path / "run"
    assert train.main(["--model", "ngram_text", "--dataset", reviews.name, "--csv-columns", "review,sentiment",
                       "--model-dir", str(model_dir), *SHORT_RUN]) == 0
    summary = json.loads((model_dir / "summary.json").read_text())
    assert summary["hyperparameters"]["dataset"] == str(reviews)
    monkeypatch.chdir(tmp_path)  # elsewhere: the run's own test split is found again
    assert evaluation.evaluate(model_dir, output_dir=tmp_path / "report")["examples"] == 30
