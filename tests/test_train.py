"""train.py end to end: every model on mock data (one and two replicas), real MNIST, resuming,
and a one-line error for each kind of bad input."""

import csv
import dataclasses
import json
import os
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import requests
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT, TINY_MODEL_ARGS, classifiers, lock_held_elsewhere

import train
import zoo
from zoo import data, flags, training
from zoo.tasks import get_task


def run_train(*train_args, mock=True, logical_cpus=1, env=None):
    """Runs train.py in a subprocess (under mock data unless `mock` is False)."""
    command = [sys.executable, "train.py"]
    if mock:
        command = [sys.executable, "tests/mocked_train.py", "--logical-cpus", str(logical_cpus), "--"]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    return subprocess.run(
        command + list(train_args), cwd=REPO_ROOT, env=environment, capture_output=True, text=True
    )


def tiny_args(name):
    return [arg for key, value in TINY_MODEL_ARGS[name].items() for arg in ("--model-arg", f"{key}={value!r}")]


def test_every_model_has_tiny_test_arguments():
    assert sorted(TINY_MODEL_ARGS) == zoo.list_models()


# One model of each task and modality: what two replicas change is the task's step and the data's
# sharding, not the builder's layers; every model runs on one device on real data (test_real_data.py).
TWO_REPLICA_MODELS = ["bert_mlm", "gpt_text", "mnist_cnn", "transformer_text", "vampire", "word2vec"]


def test_two_replica_models_cover_every_task_and_modality():
    specs = [zoo.get_model_spec(name) for name in TWO_REPLICA_MODELS]
    assert {spec.task for spec in specs} == set(zoo.registry.TASKS)
    assert {spec.modality for spec in specs if spec.task == "classification"} == set(zoo.registry.MODALITIES)


@pytest.mark.parametrize("name", TWO_REPLICA_MODELS)
def test_train_py_end_to_end_on_mock_data_with_two_replicas(name, tmp_path):
    replicas = 2
    model_dir = tmp_path / "run"
    served = get_task(zoo.get_model_spec(name).task).exportable
    export_args = ["--export", "--export-dir", str(tmp_path / "exported")] if served else []
    result = run_train(
        "--model", name, "--model-dir", str(model_dir), "--epochs", "2", "--batch-size", "16",
        "--strategy", "mirrored", *tiny_args(name), *export_args, logical_cpus=replicas,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{replicas} replica(s), global batch 16 = {16 // replicas} per replica" in result.stdout

    summary = json.loads((model_dir / "summary.json").read_text())
    assert summary["model"] == name and summary["num_replicas"] == replicas
    assert summary["epochs_run"] == 2 and summary["hyperparameters"]["steps_per_epoch"] == 4
    if zoo.get_model_spec(name).task == "vampire":  # no targets but the texts: their evidence lower bound
        assert np.isfinite(summary["test_metrics"]["elbo"]) and summary["test_metrics"]["elbo"] < 0
    else:
        assert 0 <= summary["test_metrics"]["accuracy"] <= 1
    assert summary["test_metrics"]["examples"] == summary["examples"]["test"] == 64
    assert summary["jit_compile"] is False, "XLA steps cannot reach the variables of another CPU device"
    assert summary["validation_metrics"]["examples"] == summary["examples"]["validation"] > 0
    assert summary["train_examples_per_second"] > 0
    assert set(summary["versions"]) >= {"tensorflow", "keras", "keras_hub"}
    with open(model_dir / "history.csv") as history:
        assert [row["epoch"] for row in csv.DictReader(history)] == ["0", "1"]
    assert (model_dir / "checkpoints" / "best.keras").exists()
    assert any((model_dir / "logs").rglob("events.out.tfevents.*"))
    assert not (model_dir / "backup").exists()
    if not served:
        refused = subprocess.run([sys.executable, "-m", "zoo.export", "--model-dir", str(model_dir)],
                                 cwd=REPO_ROOT, capture_output=True, text=True)
        last_line = refused.stderr.strip().splitlines()[-1]  # TensorFlow logs to stderr before it
        assert refused.returncode == 2 and last_line.startswith("zoo.export: error: ")
        assert "not served" in last_line
        return
    assert (tmp_path / "exported" / name / "1" / "saved_model.pb").exists()

    model = keras.saving.load_model(model_dir / "model.keras")
    raw = (np.zeros((2, 28, 28, 1), np.uint8) if summary["modality"] == "image"
           else tf.constant(["a fine film", "dull"]))
    outputs = model.predict(raw, verbose=0)
    best = keras.saving.load_model(model_dir / "checkpoints" / "best.keras")  # raw inputs in too
    assert best.predict(raw, verbose=0).shape == outputs.shape
    if name in classifiers():
        assert outputs.shape == (2, len(summary["class_names"]))
        evaluation = json.loads((model_dir / "evaluation.json").read_text())
        assert evaluation["examples"] == 64 and sum(map(sum, evaluation["confusion_matrix"])) == 64
        assert evaluation["accuracy"] == pytest.approx(summary["test_metrics"]["accuracy"], abs=1e-6)
    else:  # a causal LM: next-token logits at every position
        assert (outputs.shape[0], outputs.shape[-1]) == (2, model.backbone.vocabulary_size)


@pytest.mark.slow
def test_100_steps_of_mnist_cnn_on_real_mnist_reach_90_percent(real_data_dir, tmp_path):
    """That it learns on real data; what it reaches in full is the benchmark's claim."""
    result = run_train(
        "--model", "mnist_cnn", "--epochs", "1", "--steps-per-epoch", "100", "--data-dir", str(real_data_dir),
        "--model-arg", "filters=8",  # a third of the default width: a minute less of the suite
        "--model-dir", str(tmp_path / "run"), mock=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["dataset"] == "mnist" and summary["epochs_run"] == 1
    assert summary["test_metrics"]["accuracy"] >= 0.90  # 94.05% when written


class InterruptAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


class EpochRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_rerun_after_an_interruption_resumes_and_runs_the_requested_epochs(tmp_path):
    config = training.TrainConfig(
        model="mnist_cnn", model_dir=str(tmp_path), epochs=3, batch_size=16,
        strategy="one_device", model_args={"filters": 4},
    )
    with tfds.testing.mock_data(num_examples=64):
        with pytest.raises(KeyboardInterrupt):
            training.train(config, callbacks=[InterruptAfterFirstEpoch()])
        assert not (tmp_path / "summary.json").exists()
        recorder = EpochRecorder()
        summary = training.train(config, callbacks=[recorder])
    assert recorder.epochs == [1, 2]
    assert summary.epochs_run == 3
    with open(tmp_path / "history.csv") as history:
        assert [row["epoch"] for row in csv.DictReader(history)] == ["0", "1", "2"]


def test_interrupted_run_resumes_only_with_its_own_settings_and_counts_all_its_time(tmp_path):
    config = training.TrainConfig(
        model="mnist_cnn", model_dir=str(tmp_path), epochs=3, batch_size=16,
        strategy="one_device", model_args={"filters": 4},
    )
    with tfds.testing.mock_data(num_examples=64):
        with pytest.raises(KeyboardInterrupt):
            training.train(config, callbacks=[InterruptAfterFirstEpoch()])
        first_seconds = json.loads((tmp_path / "run.json").read_text())["wall_time_seconds"]
        changed = dataclasses.replace(config, model_args={"filters": 8})
        with pytest.raises(zoo.UserError, match="other settings.*model_args.filters: 4 -> 8"):
            training.train(changed)
        with pytest.raises(zoo.UserError, match="epochs: 3 -> 1"):
            training.train(dataclasses.replace(config, epochs=1))
        started = time.perf_counter()
        summary = training.train(config)
        second_seconds = time.perf_counter() - started
    assert summary.resumed and summary.epochs_run == 3
    assert summary.wall_time_seconds >= first_seconds + second_seconds * 0.9 > first_seconds > 0


@pytest.mark.parametrize("max_steps, epochs_run, steps_per_epoch", [(3, 1, 3), (6, 2, 4)])
def test_max_steps_under_two_replicas_stops_at_the_step(tmp_path, mirrored_strategy, max_steps,
                                                        epochs_run, steps_per_epoch):
    config = training.TrainConfig(
        model="mnist_cnn", model_dir=str(tmp_path), epochs=5, batch_size=16, max_steps=max_steps,
        strategy="mirrored", model_args={"filters": 4},
    )
    with tfds.testing.mock_data(num_examples=64):
        summary = training.train(config)
    assert summary.other["num_replicas"] == 2 and summary.epochs_run == epochs_run
    assert summary.hyperparameters["steps_per_epoch"] == steps_per_epoch
    assert summary.train_metrics["examples"] == 16 * (max_steps - steps_per_epoch * (epochs_run - 1))


class PoisonWeights(keras.callbacks.Callback):
    """Makes the model's weights NaN after its second step, as a diverging run would."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            for weight in self.model.trainable_weights:
                weight.assign(weight * float("nan"))


def test_a_diverged_run_fails_and_saves_nothing_as_finished(tmp_path):
    config = training.TrainConfig(
        model="mnist_cnn", model_dir=str(tmp_path), epochs=2, batch_size=16,
        strategy="one_device", model_args={"filters": 4},
    )
    with tfds.testing.mock_data(num_examples=64):
        with pytest.raises(zoo.UserError, match="training diverged: the loss became nan"):
            training.train(config, callbacks=[PoisonWeights()])
        assert not (tmp_path / "summary.json").exists() and not (tmp_path / "model.keras").exists()
        assert not (tmp_path / "checkpoints" / "best.keras").exists() and not (tmp_path / "backup").exists()
        assert training.train(config).epochs_run == 2  # the same dir trains afresh
    with open(tmp_path / "history.csv") as history:
        assert [row["epoch"] for row in csv.DictReader(history)] == ["0", "1"]


def test_a_finished_run_is_never_overwritten(tmp_path):
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(zoo.UserError, match="finished run"):
        training.train(training.TrainConfig(model="mnist_cnn", model_dir=str(tmp_path)))
    assert (tmp_path / "summary.json").read_text() == "{}"


def main_error(capsys, *argv):
    """Runs train.main in-process under mock data; returns (exit code, stderr)."""
    with tfds.testing.mock_data(num_examples=16):
        code = train.main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "lstm_txt"], "unknown model 'lstm_txt'; did you mean 'lstm_text'"),
        (["--model", "mnist_cnn", "--dataset", "no_such_dataset"], "unknown TFDS dataset 'no_such_dataset'"),
        (["--model", "mnist_cnn", "--dataset", "imdb_reviews"], "holds text inputs, but this model takes image"),
        (["--model", "lstm_text", "--dataset", "mnist"], "holds image inputs, but this model takes text"),
        (["--model", "mnist_cnn", "--batch-size", "7", "--strategy", "mirrored"],
         "global batch size 7 does not split over 2 replicas; pick a multiple of 2"),
        (["--model", "mnist_cnn", "--model-arg", "num_layers=4"], "has no argument 'num_layers'; it takes: convs_per_stage, dropout, filters"),
        (["--model", "mnist_cnn", "--model-arg", "filters=many"], "filters must be of type int"),
        (["--model", "mnist_cnn", "--epochs", "0"], "--epochs must be a positive number, got 0"),
        (["--model", "mnist_cnn", "--seed", "-5"], "--seed must be between 0 and 4,294,967,295, got -5"),
        (["--model", "mnist_cnn", "--seed", "99999999999"], "--seed must be between 0 and 4,294,967,295"),
        (["--model", "mnist_cnn", "--learning-rate", "nan"], "--learning-rate must be a positive number, got nan"),
        (["--model", "mnist_cnn", "--learning-rate", "inf"], "--learning-rate must be a positive number, got inf"),
        (["--model", "mnist_cnn", "--batch-size", "64"], "global batch size 64 is larger than the 16 training examples"),
        (["--model", "lstm_text", "--model-arg", "patch_size=3"], "model 'lstm_text': sequence_length 512 is not a multiple of patch_size 3"),
        (["--model", "lstm_text", "--model-arg", "num_layers=0"], "model 'lstm_text': num_layers must be at least 1"),
        (["--model", "transformer_text", "--model-arg", "num_layers=0"], "num_layers must be at least 1"),
        (["--model", "lstm_text", "--model-arg", "units=True"], "units must be of type int"),
        (["--model", "bert_mlm", "--export"], "bert_mlm is pretraining, not served: fine-tune it"),
        (["--model", "lstm_text", "--features-from", "vampire"],
         "--features-from: lstm_text reads no document features; embedding_bag_text does"),
        (["--model", "embedding_bag_text", "--features-from", "word2vec"],
         "--features-from word2vec: a word2vec (word2vec) run gives no document features"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_message_and_writes_nothing(capsys, tmp_path, argv, message):
    code, stderr = main_error(capsys, *argv, "--model-dir", str(tmp_path / "run"))
    assert code == 2
    assert stderr.startswith("train.py: error: ") and message in stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flags, message", [
    (["--train-split", "train[:1]"], "split 'train[:1]' is too small to carve a validation split from: pick a larger --train-split"),
    (["--train-split", "train[:10%"], "Error parsing split 'train[:10%'"),
    (["--test-split", "tset"], "Unknown split 'tset'. Should be one of ['train', 'test']"),
    (["--dataset", "no_such.csv", "--test-split", "test"], "--train-split and --test-split name TFDS splits"),
])
def test_a_bad_split_is_a_one_line_error_before_any_data_is_read(capsys, tmp_path, real_data_dir, flags, message):
    """Slices are checked against the real dataset's split sizes (mock data has none)."""
    code = train.main(["--model", "mnist_cnn", "--data-dir", str(real_data_dir), "--model-dir", str(tmp_path / "run"),
                       *flags])
    stderr = capsys.readouterr().err
    assert code == 2 and stderr.startswith("train.py: error: ") and message in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_builder_arguments_are_checked_before_any_data_is_read(capsys, tmp_path):
    code = train.main(["--model", "lstm_text", "--model-arg", "num_layers=0",
                       "--data-dir", str(tmp_path), "--model-dir", str(tmp_path / "run")])
    assert code == 2 and "num_layers must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("model_dir", ["a_file", "a_file/run"])
def test_a_model_dir_that_cannot_be_a_folder_is_a_one_line_error(capsys, tmp_path, model_dir):
    (tmp_path / "a_file").write_text("not a folder")
    code, stderr = main_error(capsys, "--model", "mnist_cnn", "--model-dir", str(tmp_path / model_dir))
    assert code == 2 and stderr.count("\n") == 1
    assert ("is a file" if model_dir == "a_file" else "is not a writable folder") in stderr


def test_a_failed_download_is_a_one_line_error(capsys, tmp_path, monkeypatch):
    def offline(self, *args, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'storage.googleapis.com'")

    with socket.create_server(("127.0.0.1", 0)) as reachable:  # the network answers, the download fails
        monkeypatch.setattr(data, "DOWNLOAD_HOST", reachable.getsockname())
        monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline)
        code = train.main(["--model", "mnist_cnn", "--dataset", "fashion_mnist", "--download",
                           "--data-dir", str(tmp_path), "--model-dir", str(tmp_path / "run")])
    stderr = capsys.readouterr().err
    assert code == 2 and stderr.count("\n") == 1
    assert "downloading 'fashion_mnist' failed (ConnectionError: Failed to resolve" in stderr
    assert "--data-dir" in stderr


def test_download_without_a_network_fails_within_seconds(capsys, tmp_path, monkeypatch):
    with socket.create_server(("127.0.0.1", 0)) as closed:
        unreachable = closed.getsockname()
    monkeypatch.setattr(data, "DOWNLOAD_HOST", unreachable)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", lambda *args, **kwargs: pytest.fail("tried"))
    started = time.perf_counter()
    code = train.main(["--model", "mnist_cnn", "--dataset", "fashion_mnist", "--download",
                       "--data-dir", str(tmp_path), "--model-dir", str(tmp_path / "run")])
    assert time.perf_counter() - started < data.CONNECT_SECONDS + 5
    stderr = capsys.readouterr().err
    assert code == 2 and "downloading 'fashion_mnist' failed (ConnectionRefusedError" in stderr
    assert not (tmp_path / "run").exists()


def test_help_and_flag_errors_do_not_import_tensorflow():
    script = (
        "import sys, train\n"
        "for argv in (['--help'], ['--model', 'mnist_cnn', '--epochs', 'zero']):\n"
        "    try:\n"
        "        train.main(argv)\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code in (0, 2)\n"
        "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_missing_data_names_the_dataset_and_dir_and_leaves_nothing_behind(tmp_path):
    data_dir = tmp_path / "empty_data_dir"
    data_dir.mkdir()
    result = run_train("--model", "mnist_cnn", "--data-dir", str(data_dir), "--model-dir",
                       str(tmp_path / "run"), mock=False)
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("train.py: error: dataset 'mnist' is not prepared in " + str(data_dir))
    assert "--data-dir" in error and "TFDS_DATA_DIR" in error
    assert "Traceback" not in result.stderr
    assert list(data_dir.iterdir()) == []


def test_argparse_rejects_a_malformed_model_arg(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(["--model", "mnist_cnn", "--model-arg", "num_layers"])
    assert exit_info.value.code == 2 and "expected NAME=VALUE" in capsys.readouterr().err


def test_model_args_parse_as_python_literals():
    assert flags.parse_model_arg("num_layers=4") == ("num_layers", 4)
    assert flags.parse_model_arg("bidirectional=False") == ("bidirectional", False)
    assert flags.parse_model_arg("input_shape=(32, 32, 3)") == ("input_shape", (32, 32, 3))
    assert flags.parse_model_arg("name=plain text") == ("name", "plain text")


def test_list_shows_name_modality_task_dataset_and_parameters(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    assert train.main(["--list", "*text*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"  {zoo.build_model('gpt_text').count_params():,}  " in lines[3]
    command = [sys.executable, "-X", "importtime", "train.py", "--list"]
    listed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                            env={**os.environ, "ZOO_CACHE_DIR": str(tmp_path)})
    assert listed.returncode == 0 and listed.stdout.splitlines()[1:] == [
        line for line in listed.stdout.splitlines()[1:] if line.split()[0] in zoo.list_models()]
    assert "| tensorflow\n" not in listed.stderr and "| keras\n" not in listed.stderr, "listed from the cache"
    assert lines[0].split() == ["name", "modality", "task", "dataset", "parameters", "trained", "weights", "(test)"]
    assert [line.split()[0] for line in lines[1:]] == ["bert_text", "embedding_bag_text", "gpt_text", "lstm_text",
                                                       "ngram_text", "transformer_text"]
    assert lines[1].split()[1:4] == ["text", "classification", "imdb_reviews"]


def test_a_kill_after_training_ends_and_before_the_summary_resumes_without_retraining(tmp_path):
    """The run is only safe once summary.json is written: until then, its backup stays."""
    args = ["--model", "mnist_cnn_small", "--epochs", "2", "--batch-size", "16", "--strategy", "one_device",
            "--model-dir", str(tmp_path / "run"), *tiny_args("mnist_cnn_small")]
    killed = subprocess.run([sys.executable, "tests/mocked_train.py", "--die-after-fit", "--", *args], cwd=REPO_ROOT,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True)
    assert killed.returncode == -9 and not (tmp_path / "run" / "summary.json").exists()
    result = run_train(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Epoch 1/2" not in result.stdout and "Epoch 2/2" not in result.stdout, "trained again"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["resumed"] and summary["epochs_run"] == 2
    assert summary["validation_metrics"]["examples"] == summary["examples"]["validation"]
    assert summary["train_metrics"]["loss"] > 0 and summary["test_metrics"]["examples"] == 64
    with open(tmp_path / "run" / "history.csv") as history:
        assert [row["epoch"] for row in csv.DictReader(history)] == ["0", "1"]
    assert not (tmp_path / "run" / "backup").exists()


def test_a_second_run_into_a_model_dir_in_use_is_refused_and_a_killed_one_leaves_no_lock(tmp_path, capsys):
    model_dir = tmp_path / "run"
    model_dir.mkdir()
    with lock_held_elsewhere(model_dir / training.LOCK_FILE) as holder:
        code, stderr = main_error(capsys, "--model", "mnist_cnn", "--model-dir", str(model_dir))
        assert code == 2 and stderr.count("\n") == 1
        assert f"{model_dir} is in use by another run (pid {holder} on " in stderr
        assert list(model_dir.iterdir()) == [model_dir / training.LOCK_FILE]
    config = training.TrainConfig(model="mnist_cnn", model_dir=str(model_dir), epochs=1, batch_size=16,
                                  strategy="one_device", model_args={"filters": 4})
    with tfds.testing.mock_data(num_examples=32):
        assert training.train(config).epochs_run == 1  # the dead holder's lock went with it
    assert not (model_dir / training.LOCK_FILE).exists()


def test_a_run_refused_by_its_checks_leaves_no_model_dir_or_lock(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "summary.json").write_text("{}")
    code, stderr = main_error(capsys, "--model", "mnist_cnn", "--model-dir", str(tmp_path / "run"))
    assert code == 2 and "finished run" in stderr
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == ["summary.json"]


def test_resuming_from_a_damaged_backup_is_a_one_line_error(tmp_path, capsys):
    config = training.TrainConfig(model="mnist_cnn", model_dir=str(tmp_path / "run"), epochs=3, batch_size=16,
                                  strategy="one_device", model_args={"filters": 4})
    with tfds.testing.mock_data(num_examples=64):
        with pytest.raises(KeyboardInterrupt):
            training.train(config, callbacks=[InterruptAfterFirstEpoch()])
    for weights in (tmp_path / "run" / "backup").glob("*.h5*"):
        weights.write_bytes(weights.read_bytes()[:500])
    code, stderr = main_error(capsys, "--model", "mnist_cnn", "--model-dir", str(tmp_path / "run"), "--epochs", "3",
                              "--batch-size", "16", "--strategy", "one_device", "--model-arg", "filters=4")
    assert code == 2 and stderr.count("\n") == 1
    assert f"cannot resume from {tmp_path / 'run' / 'backup'}, which is damaged" in stderr and "delete it" in stderr


def test_a_log_file_gets_a_progress_line_while_an_epoch_runs(tmp_path, monkeypatch, capsys):
    from zoo import console

    monkeypatch.setattr(console, "LOG_EVERY_SECONDS", 0)
    config = training.TrainConfig(model="mnist_cnn", model_dir=str(tmp_path), epochs=2, batch_size=16,
                                  strategy="one_device", model_args={"filters": 4})
    with tfds.testing.mock_data(num_examples=64):
        training.train(config)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert lines[0].startswith("epoch 1/2 step 1/4, ") and "examples/s, loss " in lines[0]
    assert lines[0].endswith(" s left in the epoch") and any(line.startswith("epoch 2/2 step 4/4") for line in lines)


@pytest.mark.parametrize("batches, epochs, flags, expected", [
    (2, 2, {"min_steps": 350}, (10, 35)),  # 200 reviews: 10 epochs of 35 steps, the data repeated
    (7, 2, {"min_steps": 350}, (10, 35)),
    (175, 2, {"min_steps": 350}, (2, 175)),  # IMDB's 22,500: the recipe's own two passes
    (2, 2, {"min_steps": 350, "steps_per_epoch": 5}, (70, 5)),  # asked for: kept
    (2, 2, {"min_steps": 350, "max_steps": 3}, (1, 3)),
    (2, 2, {}, (2, 2)),  # --epochs given: no minimum
])
def test_a_recipes_minimum_steps_take_at_most_ten_epochs_on_small_data(batches, epochs, flags, expected):
    dataset = tf.data.Dataset.range(batches)
    repeated, epochs, steps_per_epoch = training.schedule(dataset, epochs, **flags)
    assert (epochs, steps_per_epoch) == expected
    assert epochs * steps_per_epoch >= min(flags.get("min_steps", 0), flags.get("max_steps") or flags.get("min_steps", 0))
    if steps_per_epoch > batches:
        assert len(list(repeated.take(steps_per_epoch))) == steps_per_epoch  # repeats rather than runs dry
