"""Distillation (`train.py --teacher`): the loss is the textbook one, computed by hand for a fixed
batch over two replicas; the teacher stays frozen; runs from a run dir and from a SavedModel end
to end on mock data (a BERT teaching an n-gram model on unlabelled reviews too: on real data, in
test_real_data.py); bad teachers and flags are one-line errors."""

import json
import subprocess
import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT
from test_train import main_error, run_train, tiny_args

import zoo
from zoo import data
from zoo.store import records
from zoo.tasks import get_task
from zoo.tasks.distillation import Distillation

CLASSES = 10
BATCH = 32  # one batch, 16 examples per replica


def dense_classifier(seed, classes=CLASSES):
    """uint8 images to fairly sharp class probabilities, so that temperature matters."""
    images = keras.Input((28, 28, 1), dtype="uint8", name="images")
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(images))
    initializer = keras.initializers.RandomNormal(stddev=0.12, seed=seed)
    probabilities = keras.layers.Dense(classes, activation="softmax", kernel_initializer=initializer)(x)
    return keras.Model(images, probabilities)


def teacher_dir(path, model, task="classification"):
    """A folder that looks like a finished run of `model`."""
    path.mkdir()
    model.save(path / "model.keras")
    records.RunSummary(model=model.name, dataset="mnist", modality="image", task=task, examples={},
                       parameters=model.count_params(), hyperparameters={}).write(path / "summary.json")
    return path


def softmax(logits):
    exponentials = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_the_loss_is_the_hand_computed_one_and_only_the_student_learns(temperature, tmp_path, mirrored_strategy):
    weight = 0.7
    task = Distillation(get_task("classification"), teacher_dir(tmp_path / "teacher", dense_classifier(1)),
                        temperature=temperature, distillation_weight=weight)
    datasets = types.SimpleNamespace(name="mnist", class_names=list(range(CLASSES)), preprocessor=None)
    with mirrored_strategy.scope():
        student = dense_classifier(2)
        distiller = task.training_model(student, datasets)
        task.compile(distiller, keras.optimizers.SGD(0.5))
    random = np.random.default_rng(0)
    images = random.integers(0, 256, (BATCH, 28, 28, 1), dtype=np.uint8)
    labels = random.integers(0, CLASSES, BATCH)
    labels[::4] = data.UNLABELLED  # 4 of each replica's 16 examples
    batch = tf.data.Dataset.from_tensors((images, labels))

    metrics = distiller.evaluate(batch, return_dict=True, verbose=0)

    teacher, ours = (model.predict(images, verbose=0).astype(np.float64) for model in (task.teacher, student))
    soft_teacher, soft_student = (softmax(np.log(p) / temperature) for p in (teacher, ours))
    kl = temperature**2 * np.mean(np.sum(soft_teacher * np.log(soft_teacher / soft_student), axis=-1))
    labelled = labels != data.UNLABELLED
    cross_entropy = -np.mean(np.log(ours[labelled, labels[labelled]]))
    assert kl > 1e-3 and cross_entropy > 1e-3  # far from zero: a wrong scale would show
    np.testing.assert_allclose(metrics["distillation_loss"], kl, rtol=1e-4)
    np.testing.assert_allclose(metrics["student_loss"], cross_entropy, rtol=1e-4)
    np.testing.assert_allclose(metrics["loss"], weight * kl + (1 - weight) * cross_entropy, rtol=1e-4)
    assert metrics["accuracy"] == pytest.approx(np.mean(ours[labelled].argmax(-1) == labels[labelled]))
    assert metrics["examples"] == BATCH

    teacher_weights = [w.numpy().copy() for w in task.teacher.weights]
    student_weights = [w.numpy().copy() for w in student.weights]
    distiller.fit(batch, epochs=2, verbose=0)
    assert all(np.array_equal(w.numpy(), before) for w, before in zip(task.teacher.weights, teacher_weights))
    assert not any(np.array_equal(w.numpy(), before) for w, before in zip(student.weights, student_weights))


def test_distils_from_a_run_dir_and_from_its_saved_model_over_two_replicas(tmp_path):
    teacher = tmp_path / "teacher"
    result = run_train("--model", "mnist_cnn", *tiny_args("mnist_cnn"), "--epochs", "1", "--batch-size", "16",
                       "--model-dir", str(teacher), "--export", "--export-dir", str(tmp_path / "exported"))
    assert result.returncode == 0, result.stderr[-3000:]
    teacher_accuracy = json.loads((teacher / "summary.json").read_text())["test_metrics"]["accuracy"]

    for source, name in [(teacher, "from_run"), (tmp_path / "exported" / "mnist_cnn" / "1", "from_saved_model")]:
        result = run_train(
            "--model", "mnist_cnn_small", "--teacher", str(source), "--temperature", "4", "--epochs", "1",
            "--batch-size", "16", "--model-dir", str(tmp_path / name), "--export", "--export-dir",
            str(tmp_path / "exported"), logical_cpus=2,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        distillation = summary["distillation"]
        assert distillation["teacher"] == str(source) and distillation["temperature"] == 4.0
        assert distillation["teacher_test_metrics"]["examples"] == summary["examples"]["test"]
        assert distillation["teacher_test_metrics"]["accuracy"] == pytest.approx(teacher_accuracy)
        assert summary["model"] == "mnist_cnn_small" and summary["num_replicas"] == 2
        assert summary["test_metrics"]["examples"] == summary["examples"]["test"]
        assert {"student_loss", "distillation_loss"} <= set(summary["train_metrics"])
        assert summary["hyperparameters"]["distillation"]["teacher"] == str(source)

    # The students export like any classifier (versions 1 and 2) and serve with TensorFlow alone.
    np.savez(tmp_path / "inputs.npz", inputs=np.zeros((3, 28, 28, 1), np.uint8))
    assert (tmp_path / "exported" / "mnist_cnn_small" / "1" / "saved_model.pb").exists()
    served = subprocess.run(
        [sys.executable, "tests/tensorflow_only.py", str(tmp_path / "exported" / "mnist_cnn_small" / "2"),
         str(tmp_path / "inputs.npz")], cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    )
    probabilities = np.array(json.loads(served.stdout.strip().splitlines()[-1])["probabilities"])
    assert probabilities.shape == (3, CLASSES)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_the_unlabelled_split_joins_the_training_batches_without_labels():
    with tfds.testing.mock_data(num_examples=64):
        datasets = data.load("imdb_reviews", "text", batch_size=32, unlabelled_split="unsupervised",
                             apply_preprocessor=False)
    labels = np.concatenate([labels for _, labels in datasets.train])
    assert datasets.examples["train_unlabelled"] == 64
    assert np.sum(labels == data.UNLABELLED) == 64 and np.all(labels[labels != data.UNLABELLED] >= 0)
    first_batch = labels[:32]
    assert 0 < np.sum(first_batch == data.UNLABELLED) < 32, "shuffled together, not one after the other"
    assert datasets.train.element_spec[0].dtype == tf.string  # raw: the models preprocess


@pytest.fixture
def teachers(tmp_path):
    """Teacher folders that do not fit an MNIST student."""
    text = keras.Input((), dtype="string", name="text")
    vectorizer = keras.layers.TextVectorization(vocabulary=["good", "bad"], output_mode="multi_hot")
    text_model = keras.Model(text, keras.layers.Dense(CLASSES, activation="softmax")(vectorizer(text)))
    return {
        "three_classes": teacher_dir(tmp_path / "three_classes", dense_classifier(1, classes=3)),
        "text": teacher_dir(tmp_path / "text", text_model),
        "language_model": teacher_dir(tmp_path / "language_model", dense_classifier(1), task="causal_lm"),
        "empty": tmp_path,
        "truncated": truncated(teacher_dir(tmp_path / "truncated", dense_classifier(1))),
    }


def truncated(run_dir):
    model_file = run_dir / "model.keras"
    model_file.write_bytes(model_file.read_bytes()[:1000])
    return run_dir


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--teacher", "{three_classes}"], "predicts 3 classes, mnist has 10: pick a teacher trained on mnist"),
        (["--teacher", "{text}"], "takes string inputs of shape (), the student uint8 of shape (28, 28, 1)"),
        (["--teacher", "{language_model}"], "is a causal_lm run; a teacher must be a classifier"),
        (["--teacher", "{empty}"], "not a finished run dir (model.keras and summary.json) nor an exported SavedModel"),
        (["--teacher", "{truncated}"], "truncated holds a damaged run (model.keras: "),
        (["--teacher", "{three_classes}", "--temperature", "0"], "--temperature must be a positive number, got 0.0"),
        (["--teacher", "{three_classes}", "--distillation-weight", "1.5"], "--distillation-weight must be between 0 and 1"),
        (["--temperature", "2", "--unlabelled-split", "unsupervised"],
         "--temperature, --unlabelled-split only apply with --teacher PATH"),
    ],
)
def test_a_teacher_or_flag_that_does_not_fit_is_a_one_line_error(argv, message, teachers, capsys, tmp_path):
    argv = [arg.format(**teachers) for arg in argv]
    code, stderr = main_error(capsys, "--model", "mnist_cnn_small", *argv, "--batch-size", "8",
                              "--model-dir", str(tmp_path / "run"))
    assert code == 2
    assert stderr.startswith("train.py: error: ") and message in stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not (tmp_path / "run").exists()


def test_only_a_classifier_is_distilled_into(capsys, tmp_path):
    code, stderr = main_error(capsys, "--model", "bert_mlm", "--teacher", str(tmp_path), "--model-dir",
                              str(tmp_path / "run"))
    assert code == 2 and "--teacher distils into a classifier; bert_mlm is trained as masked_lm" in stderr


def test_the_small_mnist_student_has_at_most_a_fifth_of_the_teachers_parameters():
    assert zoo.build_model("mnist_cnn_small").count_params() * 5 <= zoo.build_model("mnist_cnn").count_params()


def test_an_unknown_unlabelled_split_is_a_user_error_before_any_data_is_read(real_data_dir):
    with pytest.raises(zoo.UserError, match=r"dataset 'mnist': Unknown split 'unsupervised'. Should be one of"):
        data.load("mnist", "image", batch_size=8, data_dir=str(real_data_dir), unlabelled_split="unsupervised")
