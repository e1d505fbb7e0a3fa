"""Where a run trains: this machine alone, or one worker of a cluster that `TF_CONFIG` describes,
as a Kubernetes TFJob or a SLURM job sets it, under `tf.distribute.MultiWorkerMirroredStrategy`.

Every worker runs the same command on the same shared model dir. The chief (the `chief` task,
else worker 0) writes the run's files there; each other worker writes into a temporary folder
that it removes, except its backup (`backup-worker-N/`), which a restarted cluster resumes from.
"""

import contextlib
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import socket
import tempfile
import time

import tensorflow as tf

from zoo.errors import UserError

TASK_TYPES = ("chief", "worker")  # the tasks that train; TF orders them so, the chief first
TF_CONFIG_EXAMPLE = '{"cluster": {"worker": ["host-a:12345", "host-b:12345"]}, "task": {"type": "worker", "index": 0}}'
POLL_SECONDS = 2  # how often a worker waiting for its cluster looks again


@dataclasses.dataclass(frozen=True)
class Worker:
    """This process's place in the cluster: `index` of `count` workers, 0 the chief."""

    index: int = 0
    count: int = 1
    addresses: tuple = ()  # every training task's host:port, in the order of `index`

    @property
    def is_chief(self):
        return self.index == 0

    @property
    def suffix(self):
        """What names this worker's own files in the shared model dir: nothing for the chief."""
        return "" if self.is_chief else f"-worker-{self.index}"

    def describe(self):
        return f"worker {self.index} of {self.count} ({'chief' if self.is_chief else 'not the chief'})"


def this_worker():
    """This process's `Worker`, read from `TF_CONFIG`; worker 0 of 1 without a cluster. A
    `TF_CONFIG` that does not say which of its cluster's workers this is is a `UserError`."""
    config = _tf_config()
    if config is None:
        return Worker()
    cluster = config["cluster"]
    tasks = [(task_type, index) for task_type in TASK_TYPES for index in range(len(cluster.get(task_type, [])))]
    if len(tasks) <= 1:
        return Worker()
    task = config.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise UserError(
            f"TF_CONFIG names a cluster of {len(tasks)} workers but not which one this is: "
            'give it a "task", e.g. {"type": "worker", "index": 0}'
        )
    if task["type"] not in TASK_TYPES:
        raise UserError(f"TF_CONFIG's task type {task['type']!r} does not train: a worker's is chief or worker")
    if (task["type"], task["index"]) not in tasks:
        size = len(cluster.get(task["type"], []))
        raise UserError(
            f"TF_CONFIG's task is {task['type']} {task['index']!r}, but its cluster has {size} {task['type']} "
            f"task(s), numbered from 0: give each worker its own index"
        )
    addresses = tuple(cluster[task_type][index] for task_type, index in tasks)
    return Worker(tasks.index((task["type"], task["index"])), len(tasks), addresses)


def _tf_config():
    """`TF_CONFIG` as a dict with a "cluster" of task lists, or None when it is not set."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except ValueError as error:
        raise UserError(f"TF_CONFIG is not valid JSON ({error}); set it as, e.g., {TF_CONFIG_EXAMPLE}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not all(isinstance(tasks, list) for tasks in cluster.values()):
        raise UserError(
            f'TF_CONFIG must be a JSON object whose "cluster" maps task types to lists of host:port, '
            f"e.g. {TF_CONFIG_EXAMPLE}"
        )
    return config


def wait_for_peers(worker, timeout):
    """Returns once every other worker of `worker`'s cluster answers at its address, listening
    at this worker's own meanwhile so that they see it too; says which workers it waits for.
    TensorFlow's own wait for the cluster holds the interpreter (no Ctrl-C, no SIGTERM, no
    timeout), so it starts only once all are up; this one stops on Ctrl-C or SIGTERM (as
    KeyboardInterrupt) and gives up after `timeout` seconds with a `UserError`."""
    port = int(worker.addresses[worker.index].rpartition(":")[2])
    try:
        listener = socket.create_server(("", port))
    except OSError as error:
        raise UserError(f"cannot listen at port {port}, this worker's in TF_CONFIG: {error.strerror}") from None
    deadline, waiting_for = time.monotonic() + timeout, None
    with listener, _terminate_as_interrupt():
        while True:
            missing = [f"worker {index} ({address})" for index, address in enumerate(worker.addresses)
                       if index != worker.index and not _listening(address)]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise UserError(
                    f"gave up after {timeout:g} s waiting for {', '.join(missing)} of TF_CONFIG's cluster: start "
                    "every worker with the same command, or give them longer with --cluster-timeout"
                )
            if missing != waiting_for:
                print(f"Waiting for {', '.join(missing)} to start (at most {timeout:g} s; Ctrl-C stops)", flush=True)
                waiting_for = missing
            time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM, as Kubernetes and SLURM stop a job, raises KeyboardInterrupt while in the block."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _listening(address):
    """Whether something accepts connections at `address` (host:port): a started worker does."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


def adopt_chief_state(model, strategy):
    """Gives every worker the chief's floating-point non-trainable variables (batch-norm moving
    statistics, which each worker estimates from its own share of the batches), so that an
    evaluation over all workers measures the model that the chief saves. The trainable
    weights are the same on every worker already."""
    variables = [variable for variable in model.non_trainable_variables if "float" in str(variable.dtype)]
    if this_worker().count == 1 or not variables:
        return

    def chief_values():
        context = tf.distribute.get_replica_context()
        is_chief = tf.equal(context.replica_id_in_sync_group, 0)  # the chief's first replica
        return [context.all_reduce("sum", tf.where(is_chief, variable.value, tf.zeros_like(variable.value)))
                for variable in variables]

    values = tf.function(lambda: strategy.run(chief_values))()
    for variable, value in zip(variables, values):
        variable.assign(strategy.experimental_local_results(value)[0])


def backup_dir(model_dir, worker):
    """Where `worker` backs up the run to resume it: `backup/` for the chief, `backup-worker-N/`
    for the others, all in the shared model dir (Keras' BackupAndRestore has one per process)."""
    return model_dir / f"backup{worker.suffix}"


@contextlib.contextmanager
def output_dir(model_dir, worker):
    """The folder `worker` writes the run's files into: the model dir for the chief, a temporary
    folder, removed on the way out, for the others."""
    if worker.is_chief:
        yield model_dir
        return
    scratch = tempfile.mkdtemp(prefix=f"zoo-worker-{worker.index}-")
    try:
        yield pathlib.Path(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
