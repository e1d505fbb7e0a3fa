"""Benchmark training over several workers on one machine: what the collective costs.

    python benchmarks/multi_worker.py --data-dir ../shared/tensorflow_datasets [--steps 300]

Trains `mnist_cnn` on real MNIST for `--steps` steps three ways, each with `train.py` as users
run it: one worker with every core; one worker with one CPU thread at half the global batch (a
worker's share); and two workers on loopback (MultiWorkerMirroredStrategy from TF_CONFIG) with
one CPU thread each. Steady-state examples per second come from each run's summary.json; the
all-reduce overhead per step is the two-worker step time less the one-thread worker's at the
same per-worker batch. Results go to benchmarks/results/<machine>-<date>-multi_worker.json/.md.
"""

import argparse
import datetime
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, machine, write_results  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
BATCH_SIZE = 128
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


def train(model_dir, args, batch_size, workers=1, environment=None):
    """Runs train.py on `workers` local workers; returns the chief's summary."""
    ports = []
    for _ in range(workers):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    command = [sys.executable, "train.py", "--model", "mnist_cnn", "--data-dir", args.data_dir, "--epochs", "1",
               "--steps-per-epoch", str(args.steps), "--batch-size", str(batch_size), "--model-dir", str(model_dir)]
    processes = []
    for index in range(workers):
        env = {**os.environ, **(environment or {})}
        if workers > 1:
            env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        processes.append(subprocess.Popen(command, cwd=REPO_ROOT, env=env))
    if any(process.wait() for process in processes):
        raise SystemExit(f"a worker of {model_dir} failed")
    return json.loads((model_dir / "summary.json").read_text())


def measure(args):
    with tempfile.TemporaryDirectory() as directory:
        runs = {
            "1 worker, all cores": train(pathlib.Path(directory) / "all_cores", args, BATCH_SIZE),
            "1 worker, 1 thread, half the batch": train(pathlib.Path(directory) / "one_thread", args,
                                                        BATCH_SIZE // 2, environment=ONE_THREAD),
            "2 workers, 1 thread each": train(pathlib.Path(directory) / "two_workers", args, BATCH_SIZE, workers=2,
                                              environment=ONE_THREAD),
        }
    rows = [{"setup": setup, "global_batch": summary["hyperparameters"]["batch_size"],
             "workers": summary["workers"], "replicas": summary["num_replicas"],
             "examples_per_second": summary["train_examples_per_second"],
             "step_ms": 1000 * summary["hyperparameters"]["batch_size"] / summary["train_examples_per_second"]}
            for setup, summary in runs.items()]
    overhead_ms = rows[2]["step_ms"] - rows[1]["step_ms"]
    return {"steps": args.steps, "runs": rows, "all_reduce_overhead_ms_per_step": overhead_ms}


def markdown(result):
    lines = ["| setup | global batch | workers | replicas | train ex/s | ms per step |", "|---|---|---|---|---|---|"]
    lines += [f"| {row['setup']} | {row['global_batch']} | {row['workers']} | {row['replicas']} "
              f"| {row['examples_per_second']:,.0f} | {row['step_ms']:.1f} |" for row in result["runs"]]
    lines += ["", f"All-reduce overhead: {result['all_reduce_overhead_ms_per_step']:.1f} ms per step "
                  "(two workers' step time less one worker's at the same per-worker batch and threads)."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark two local workers against one.")
    parser.add_argument("--data-dir", required=True, help="TFDS data dir holding MNIST")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--results-dir", type=pathlib.Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    facts = machine()
    result = {"date": datetime.date.today().isoformat(), "machine": facts, **measure(args)}
    write_results(args.results_dir, "multi_worker", result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
