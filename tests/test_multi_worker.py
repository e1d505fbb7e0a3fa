"""train.py on a two-worker cluster (MultiWorkerMirroredStrategy over loopback, each worker given
its TF_CONFIG as a TFJob or SLURM job would): both train in step, only the chief writes, and a
killed worker's cluster, restarted with the same command, resumes from the last finished epoch.
Every process is stopped by the test that starts it, within a timeout."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys

import pytest
from conftest import REPO_ROOT
from test_train import tiny_args

WORKERS = 2
TIMEOUT_SECONDS = 300


@pytest.fixture(autouse=True)
def _no_inherited_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)


def free_ports(count):
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def run_cluster(tmp_path, train_args, worker_flags=None):
    """Runs train.py (mock data) on `WORKERS` local workers at once; returns their results.
    `worker_flags` maps a worker index to more flags for tests/mocked_train.py."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(WORKERS)]}
    processes, logs = [], []
    try:
        for index in range(WORKERS):
            scratch = tmp_path / f"tmp-worker-{index}"
            scratch.mkdir(exist_ok=True)
            environment = {
                **os.environ,
                "PYTHONPATH": str(REPO_ROOT),
                "TMPDIR": str(scratch),
                "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            }
            # Files, not pipes: a full pipe would stall a worker, and its peer with it.
            logs.append((open(scratch.parent / f"worker-{index}.out", "w+"), open(scratch.parent / f"worker-{index}.err", "w+")))
            processes.append(subprocess.Popen(
                [sys.executable, "tests/mocked_train.py", "--examples", "256", "--weights-digest",
                 *(worker_flags or {}).get(index, []), "--", *train_args],
                cwd=REPO_ROOT, env=environment, stdout=logs[-1][0], stderr=logs[-1][1], text=True,
            ))
        codes = [process.wait(TIMEOUT_SECONDS) for process in processes]
        results = []
        for process, code, (out, err) in zip(processes, codes, logs):
            out.seek(0)
            err.seek(0)
            results.append(subprocess.CompletedProcess(process.args, code, out.read(), err.read()))
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for files in logs:
            for file in files:
                file.close()


def mnist_args(model_dir, epochs):
    return ["--model", "mnist_cnn", *tiny_args("mnist_cnn"), "--epochs", str(epochs), "--steps-per-epoch", "4",
            "--batch-size", "16", "--model-dir", str(model_dir)]


def weights_digest(result):
    return next(line for line in result.stdout.splitlines() if line.startswith("weights digest"))


def evaluated_digest(result):
    return next(line for line in result.stdout.splitlines() if line.startswith("evaluated variables digest"))


def test_two_workers_train_in_step_and_only_the_chief_writes(tmp_path):
    model_dir = tmp_path / "run"
    chief, other = run_cluster(tmp_path, mnist_args(model_dir, epochs=2) + ["--export", "--export-dir",
                                                                         str(tmp_path / "exported")])
    assert chief.returncode == 0, chief.stderr[-3000:]
    assert other.returncode == 0, other.stderr[-3000:]
    assert "worker 0 of 2 (chief), 2 replica(s), global batch 16 = 8 per replica" in chief.stdout
    assert "worker 1 of 2 (not the chief)" in other.stdout
    assert weights_digest(chief) == weights_digest(other)
    assert evaluated_digest(chief) == evaluated_digest(other), "each worker evaluated its own batch-norm statistics"
    assert "Evaluation report in" in chief.stdout and "Evaluation report in" not in other.stdout

    summary = json.loads((model_dir / "summary.json").read_text())
    assert summary["strategy"] == "MultiWorkerMirroredStrategy"
    assert (summary["workers"], summary["num_replicas"], summary["epochs_run"]) == (2, 2, 2)
    assert summary["test_metrics"]["examples"] == summary["examples"]["test"]  # both workers' shares
    assert sorted(path.name for path in model_dir.iterdir()) == [
        "checkpoints", "confusion_matrix.png", "evaluation.json", "history.csv", "logs", "mistakes.png", "model.keras",
        "run.json", "summary.json"]
    evaluation = json.loads((model_dir / "evaluation.json").read_text())  # the chief's, over the whole split
    assert evaluation["examples"] == summary["examples"]["test"]
    assert evaluation["accuracy"] == pytest.approx(summary["test_metrics"]["accuracy"], abs=1e-6)
    assert list((tmp_path / "exported" / "mnist_cnn").iterdir()) == [tmp_path / "exported" / "mnist_cnn" / "1"]
    assert not list((tmp_path / "tmp-worker-1").glob("zoo-worker-*")), "the other worker's files are gone"


def test_a_killed_worker_and_a_restart_resume_from_the_last_finished_epoch(tmp_path):
    model_dir, epochs = tmp_path / "run", 3
    killed = run_cluster(tmp_path, mnist_args(model_dir, epochs), worker_flags={1: ["--die-at-step", "6"]})
    assert killed[1].returncode == -9  # SIGKILL, in the middle of the second epoch (steps 5-8)
    assert killed[0].returncode != 0 and not (model_dir / "summary.json").exists()

    chief, other = run_cluster(tmp_path, mnist_args(model_dir, epochs))
    assert chief.returncode == 0, chief.stderr[-3000:]
    assert other.returncode == 0, other.stderr[-3000:]
    assert weights_digest(chief) == weights_digest(other)
    summary = json.loads((model_dir / "summary.json").read_text())
    assert summary["resumed"] and summary["epochs_run"] == epochs
    history = (model_dir / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["0", "1", "2"]  # epoch 1 once: not from scratch
    assert not (model_dir / "backup-worker-1").exists() and not (model_dir / "backup").exists()


def test_a_cluster_with_a_single_machine_strategy_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    import train

    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(WORKERS)]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert train.main(["--model", "mnist_cnn", "--strategy", "mirrored", "--model-dir", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert "TF_CONFIG names a cluster of 2 workers, but --strategy mirrored trains on this machine alone" in error
    assert error.count("\n") == 1


def test_without_the_verified_keras_fixes_multi_worker_training_is_refused(monkeypatch):
    from zoo import training

    monkeypatch.setattr(training, "KERAS_FIXED", False)
    with pytest.raises(training.UserError, match="verified on Keras 3.15.1 only"):
        training.make_strategy("multi_worker")


def cluster_config(task=None, workers=WORKERS):
    config = {"cluster": {"worker": [f"127.0.0.1:{port}" for port in free_ports(workers)]}}
    return {**config, "task": task} if task is not None else config


@pytest.mark.parametrize("tf_config, message", [
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": ', "TF_CONFIG is not valid JSON"),
    (json.dumps(["127.0.0.1:1", "127.0.0.1:2"]), 'TF_CONFIG must be a JSON object whose "cluster" maps'),
    (json.dumps(cluster_config()), "TF_CONFIG names a cluster of 2 workers but not which one this is"),
    (json.dumps(cluster_config({"type": "worker", "index": 5})),
     "TF_CONFIG's task is worker 5, but its cluster has 2 worker task(s), numbered from 0"),
    (json.dumps(cluster_config({"type": "ps", "index": 0})), "TF_CONFIG's task type 'ps' does not train"),
], ids=["not-json", "a-list", "no-task", "no-such-worker", "a-ps-task"])  # not the ports: xdist workers collect alike
def test_a_bad_tf_config_is_a_one_line_error(tf_config, message, tmp_path, monkeypatch, capsys):
    import train

    monkeypatch.setenv("TF_CONFIG", tf_config)
    assert train.main(["--model", "mnist_cnn", "--model-dir", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("train.py: error: ") and message in error and error.count("\n") == 1
    assert not (tmp_path / "run").exists()


def start_lonely_worker(tmp_path, *flags):
    """Worker 0 of a two-worker cluster whose worker 1 never starts."""
    config = cluster_config({"type": "worker", "index": 0})
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CONFIG": json.dumps(config)}
    process = subprocess.Popen(
        [sys.executable, "train.py", *mnist_args(tmp_path / "run", epochs=1), *flags],
        cwd=REPO_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return process, config["cluster"]["worker"][1]


def test_a_worker_whose_peer_never_starts_says_so_and_gives_up_after_its_timeout(tmp_path):
    process, missing = start_lonely_worker(tmp_path, "--cluster-timeout", "3")
    stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    assert process.returncode == 2
    assert f"Waiting for worker 1 ({missing}) to start (at most 3 s; Ctrl-C stops)" in stdout
    error = stderr.strip().splitlines()[-1]
    assert error.startswith(f"train.py: error: gave up after 3 s waiting for worker 1 ({missing})")
    assert "--cluster-timeout" in error


def test_a_worker_waiting_for_its_peer_stops_on_sigterm(tmp_path):
    process, missing = start_lonely_worker(tmp_path)
    try:
        assert process.stdout.readline().startswith(f"Waiting for worker 1 ({missing}) to start")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert process.returncode not in (0, -9) and not (tmp_path / "run" / "summary.json").exists()
