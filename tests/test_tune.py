"""python -m zoo.tune: KerasTuner searches whose trials are ordinary zoo runs."""

import csv
import dataclasses
import json
import math
import os
import shlex
import subprocess
import sys

import pytest
import tensorflow_datasets as tfds
from conftest import REPO_ROOT

import train
import zoo
from zoo import data, evaluation, training, tune

# Tiny trials of mnist_cnn_small on mock data: two steps of one epoch each.
from zoo.store import records
from zoo.training import tuning

TINY_SEARCH = ["--model", "mnist_cnn_small", "--model-arg", "filters=4", "--epochs", "1", "--steps-per-epoch", "2",
               "--hp", "batch_size=16"]


def run_search(tune_dir, *extra, examples=64):
    """zoo.tune's exit code for a tiny search into `tune_dir`, in this process, on mock data."""
    with tfds.testing.mock_data(num_examples=examples):
        return tune.main([*TINY_SEARCH, "--tune-dir", str(tune_dir), *extra])


def results(tune_dir):
    with open(tune_dir / "results.csv", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def searched(tmp_path_factory, mirrored_strategy):
    """A finished three-trial random search over two replicas, every split read recorded in
    order, with a marker where the best trial's test evaluation began."""
    tune_dir = tmp_path_factory.mktemp("search") / "mnist_cnn_small"
    reads, read, evaluate_best = [], data._read, evaluation.evaluate

    def recorded_read(builder, split, **kwargs):
        reads.append(split)
        return read(builder, split, **kwargs)

    def recorded_evaluate(*args, **kwargs):
        reads.append("<the best trial's evaluation>")
        return evaluate_best(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "_read", recorded_read)
        patch.setattr(evaluation, "evaluate", recorded_evaluate)
        assert run_search(tune_dir, "--max-trials", "3") == 0
    return tune_dir, reads


def test_a_search_over_two_replicas_writes_every_trial_and_the_best(searched):
    tune_dir, _ = searched
    rows = results(tune_dir)
    assert [row["trial"] for row in rows] == ["0", "1", "2"] and {row["status"] for row in rows} == {"COMPLETED"}
    scores = [float(row["val_accuracy"]) for row in rows]
    assert all(0 <= score <= 1 for score in scores)
    best = json.loads((tune_dir / "best.json").read_text())
    assert best["validation_metrics"]["val_accuracy"] == max(scores)
    best_row = rows[scores.index(max(scores))]
    assert best["trial"] == best_row["trial"] and best["model_dir"] == best_row["model_dir"]
    for row in rows:  # each trial an ordinary run: its summary's validation metric is the table's
        summary = json.loads((tune_dir / f"trial_{row['trial']}" / "run" / "summary.json").read_text())
        assert summary["num_replicas"] == 2 and summary["test_metrics"] is None
        assert summary["validation_metrics"]["accuracy"] == float(row["val_accuracy"])
        assert summary["hyperparameters"]["learning_rate"] == float(row["learning_rate"])
        assert summary["hyperparameters"]["model_args"]["dropout"] == float(row["dropout"])
    assert len({row["learning_rate"] for row in rows}) == 3  # the oracle did pick values
    report = json.loads((tune_dir / f"trial_{best['trial']}" / "run" / "evaluation.json").read_text())
    assert best["test_metrics"] == {"accuracy": report["accuracy"], "examples": 64}
    assert math.isfinite(best["test_metrics"]["accuracy"]) and best["test_evaluated_on"] == "the test split of mnist"
    assert (tune_dir / "results.png").stat().st_size > 0


def test_the_test_split_is_read_only_once_the_search_is_over(searched):
    _, reads = searched
    marker = reads.index("<the best trial's evaluation>")
    assert reads[:marker] and not [split for split in reads[:marker] if split.startswith("test")]
    assert [split for split in reads[marker:] if split.startswith("test")] == ["test"]


def test_the_best_trials_command_reproduces_its_validation_metric(searched, tmp_path, monkeypatch):
    tune_dir, _ = searched
    best = json.loads((tune_dir / "best.json").read_text())
    words = shlex.split(best["command"])
    assert words[:2] == ["python", "train.py"]
    monkeypatch.chdir(tmp_path)  # the command writes runs/mnist_cnn_small-tuned
    with tfds.testing.mock_data(num_examples=64):
        assert train.main(words[2:]) == 0
    summary = json.loads((tmp_path / "runs" / "mnist_cnn_small-tuned" / "summary.json").read_text())
    assert summary["validation_metrics"]["accuracy"] == pytest.approx(best["validation_metrics"]["val_accuracy"])
    assert summary["test_metrics"]["examples"] == 64


def test_a_finished_search_rerun_runs_no_trial_again(searched, capsys):
    tune_dir, _ = searched
    finished = {path: path.stat().st_mtime_ns for path in tune_dir.glob("trial_*/run/summary.json")}
    assert run_search(tune_dir, "--max-trials", "3") == 0
    assert "Search: Running Trial" not in capsys.readouterr().out
    assert {path: path.stat().st_mtime_ns for path in tune_dir.glob("trial_*/run/summary.json")} == finished


def test_a_search_killed_mid_trial_resumes_without_repeating_finished_trials(tmp_path):
    tune_dir = tmp_path / "search"
    search = ["--", *TINY_SEARCH, "--epochs", "2", "--max-trials", "3", "--tune-dir", str(tune_dir)]
    mocked = [sys.executable, "tests/mocked_train.py", "--tune"]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    killed = subprocess.run([*mocked, "--die-in-run", "2", "--die-at-step", "3", *search],  # in trial 1's epoch 2
                            cwd=REPO_ROOT, env=environment, capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    first = tune_dir / "trial_0" / "run" / "summary.json"
    first_trial = first.read_bytes()
    assert not (tune_dir / "trial_1" / "run" / "summary.json").exists()
    resumed = subprocess.run([*mocked, *search], cwd=REPO_ROOT, env=environment, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert first.read_bytes() == first_trial  # kept, not trained again
    rows = results(tune_dir)
    assert [row["trial"] for row in rows] == ["0", "1", "2"] and {row["status"] for row in rows} == {"COMPLETED"}
    interrupted = json.loads((tune_dir / "trial_1" / "run" / "summary.json").read_text())
    assert interrupted["resumed"] and interrupted["epochs_run"] == 2  # from its backup of epoch 1
    assert resumed.stdout.count("Search: Running Trial") == 2  # trial 1 again, then trial 2


def test_no_trial_starts_once_the_budget_is_spent(tmp_path, capsys):
    assert run_search(tmp_path / "search", "--tuner", "bayesian", "--max-trials", "5", "--budget-minutes", "0.001") == 0
    assert len(results(tmp_path / "search")) == 1
    assert "The budget of 0.001 minutes is spent: no more trials" in capsys.readouterr().out


def test_hyperband_trains_each_trial_for_its_brackets_epochs(tmp_path):
    assert run_search(tmp_path / "search", "--tuner", "hyperband", "--max-trials", "2", "--epochs", "3") == 0
    for row in results(tmp_path / "search"):
        trial = json.loads((tmp_path / "search" / f"trial_{row['trial']}" / "trial.json").read_text())
        assert int(row["epochs"]) == trial["hyperparameters"]["values"]["tuner/epochs"]


@pytest.mark.parametrize("extra, error", [
    (["--hp", "depth=3"], "mnist_cnn_small's search space has no dimension 'depth'; it has: learning_rate,"),
    (["--hp", "learning_rate=1e-2:1e-3"], "--hp learning_rate=1e-2:1e-3 is an empty range"),
    (["--hp", "dropout=0.3:0.3"], "--hp dropout=0.3:0.3 is an empty range"),
    (["--hp", "batch_size=1:3"], "batch_size is a choice, not a range"),
    (["--budget-minutes", "0"], "--budget-minutes must be a positive number, got 0.0"),
    (["--max-trials", "0"], "--max-trials must be at least 1, got 0"),
    (["--learning-rate", "0.1"], "learning_rate: searched, so not a flag or --model-arg of the search"),
    (["--hp", "learning_rate=-1:0.1"], "search space learning_rate=-1.0: --learning-rate must be a positive number"),
    (["--hp", "learning_rate=1e-3", "--hp", "weight_decay=0", "--hp", "dropout=0", "--hp", "max_shift=0"],
     "every dimension is fixed by --hp: nothing is left to search"),
])
def test_bad_input_is_one_line_before_any_data_is_read(extra, error, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(data, "load", lambda *args, **kwargs: pytest.fail("data was read"))
    argv = [*TINY_SEARCH[:-2], "--tune-dir", str(tmp_path / "search"), *extra]
    if "batch_size=1:3" not in extra:
        argv += TINY_SEARCH[-2:]
    assert tune.main(argv) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("zoo.tune: error: ") and error in message and "\n" not in message
    assert not (tmp_path / "search").exists() or not list((tmp_path / "search").glob("trial_*"))


@pytest.mark.parametrize("model, error", [
    ("gpt_text", "zoo.tune searches classifiers by validation accuracy; gpt_text is trained as causal_lm"),
    ("plain_ngram_text", "plain_ngram_text declares no search space (search_space= in its registration); these do:"),
])
def test_a_model_without_a_search_space_is_one_line(model, error, capsys, monkeypatch):
    spec = zoo.get_model_spec("ngram_text")
    monkeypatch.setitem(zoo.registry._registry, "plain_ngram_text",
                        dataclasses.replace(spec, name="plain_ngram_text", search_space=None))
    assert tune.main(["--model", model]) == 2
    assert capsys.readouterr().err.strip().startswith(f"zoo.tune: error: {error}")


def test_a_tune_dir_holding_another_search_is_not_resumed(searched, capsys):
    tune_dir, _ = searched
    assert run_search(tune_dir, "--max-trials", "3", "--hp", "dropout=0.1:0.2") == 2
    assert "holds another search (space.dropout: " in capsys.readouterr().err


def test_a_diverging_trial_fails_and_the_search_goes_on(tmp_path, monkeypatch):
    calls = []

    def train(config, callbacks=()):
        calls.append(config)
        if len(calls) == 1:
            raise training.TrainingDiverged("training diverged: the loss became nan in epoch 1")
        return records.RunSummary(model=config.model, dataset="mnist", modality="image", task="classification",
                                  examples={}, parameters=0, hyperparameters={}, validation_metrics={"accuracy": 0.5})

    monkeypatch.setattr(training, "train", train)
    monkeypatch.setattr(tuning.evaluation, "evaluate", lambda *args, **kwargs: {
        "accuracy": 0.5, "examples": 64, "evaluated_on": "the test split of mnist"})
    assert run_search(tmp_path / "search", "--max-trials", "2") == 0
    assert [row["status"] for row in results(tmp_path / "search")] == ["FAILED", "COMPLETED"]
    assert all(not config.evaluate_test for config in calls)


@pytest.mark.slow
def test_a_short_search_on_real_imdb(real_data_dir, tmp_path):
    tune_dir = tmp_path / "ngram_text"
    assert tune.main(["--model", "ngram_text", "--data-dir", str(real_data_dir), "--tune-dir", str(tune_dir),
                      "--max-trials", "2", "--train-split", "train[:2000]", "--test-split", "test[:1000]",
                      "--max-steps", "30", "--hp", "vocabulary_size=50000", "--hp", "batch_size=64"]) == 0
    rows, best = results(tune_dir), json.loads((tune_dir / "best.json").read_text())
    assert len(rows) == 2 and {row["status"] for row in rows} == {"COMPLETED"}
    assert best["test_metrics"]["examples"] == 1000
    assert best["test_evaluated_on"] == "the test[:1000] split of imdb_reviews"
    assert best["test_metrics"]["accuracy"] > 0.6  # 30 steps on 2,000 reviews already beat chance
    assert "--train-split 'train[:2000]'" in best["command"]


def test_the_train_command_gives_back_the_config_it_was_made_from():
    config = zoo.config.TrainConfig(
        model="ngram_text", dataset="reviews data.csv", epochs=3, learning_rate=2.5e-4, weight_decay=0.0,
        jit_compile=False, download=True, train_split="train[:10%]", model_args={"ngrams": 3, "name": "it's"},
        model_dir="runs/x", teacher="runs/bert_text", temperature=2.0,
    )
    words = shlex.split(zoo.flags.train_command(config))
    assert words[:2] == ["python", "train.py"]
    assert zoo.flags.train_config(train.parse_args(words[2:])) == config
