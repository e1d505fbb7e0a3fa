"""Where a run trains: this machine alone, or one worker of a cluster that `TF_CONFIG` describes,
as a Kubernetes TFJob or a SLURM job sets it, under `tf.distribute.MultiWorkerMirroredStrategy`.

Every worker runs the same command on the same shared model dir. The chief (the `chief` task,
else worker 0) writes the run's files there; each other worker writes into a temporary folder
that it removes, except its backup (`backup-worker-N/`), which a restarted cluster resumes from.
"""

import contextlib
import dataclasses
import os
import pathlib
import shutil
import tempfile

import tensorflow as tf

TASK_TYPES = ("chief", "worker")  # the tasks that train; TF orders them so, the chief first


@dataclasses.dataclass(frozen=True)
class Worker:
    """This process's place in the cluster: `index` of `count` workers, 0 the chief."""

    index: int = 0
    count: int = 1

    @property
    def is_chief(self):
        return self.index == 0

    def describe(self):
        return f"worker {self.index} of {self.count} ({'chief' if self.is_chief else 'not the chief'})"


def this_worker():
    """This process's `Worker`, read from `TF_CONFIG`; worker 0 of 1 without a cluster."""
    if not os.environ.get("TF_CONFIG"):
        return Worker()
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    cluster = resolver.cluster_spec().as_dict()
    tasks = [(task_type, index) for task_type in TASK_TYPES for index in range(len(cluster.get(task_type, [])))]
    if len(tasks) <= 1:
        return Worker()
    return Worker(tasks.index((resolver.task_type, resolver.task_id)), len(tasks))


def backup_dir(model_dir, worker):
    """Where `worker` backs up the run to resume it: `backup/` for the chief, `backup-worker-N/`
    for the others, all in the shared model dir (Keras' BackupAndRestore has one per process)."""
    return model_dir / ("backup" if worker.is_chief else f"backup-worker-{worker.index}")


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

