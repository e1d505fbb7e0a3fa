"""One training run of a registered model: strategy, data, compile, fit, evaluate, summary.

What differs between ways of training (data as inputs and targets, loss, metrics, evaluation,
what is saved) belongs to the model's task (`zoo.tasks`); this driver is the same for all.

A model dir holds everything a run writes: `run.json` (its settings and wall time so far) and
`backup/` while it runs (rerunning the same command resumes from the last finished epoch),
`checkpoints/best.keras`, `logs/` for TensorBoard, `history.csv`, and at the end `model.keras`
(raw inputs in, probabilities out; what export reads) and `summary.json`.
"""

import csv
import functools
import json
import math
import pathlib
import shutil
import time

import keras
import keras_hub
import tensorflow as tf
import tensorflow_datasets as tfds

import zoo
from zoo.config import CHECKPOINTS, DEFAULT_CLUSTER_TIMEOUT, PRECISIONS, STRATEGIES, TrainConfig, default_model_dir  # noqa: F401,E501
from zoo.console import ProgressLog, progress_verbosity
from zoo.data import own_data
from zoo.errors import UserError, first_line
from zoo.registry import get_model_spec, list_models
from zoo.store import outputs, records
from zoo.tasks import task_for
from zoo.training import cluster, compat, transfer

DATA_DERIVED_ARGS = ("num_classes", "input_shape")
RUN_FILE = "run.json"  # the run's settings and wall time so far, to check and time a resumed run
LOCK_FILE = ".lock"  # held while a process runs in the model dir
MIN_STEPS_EPOCHS = 10  # the most epochs a recipe's min_steps are split into, on small data
MAX_SEED = 2**32 - 1  # NumPy's seeds, which keras.utils.set_random_seed sets, are 32-bit

# Keras' fit fails on sparse inputs over several replicas, and over several workers, without it.
KERAS_FIXED = compat.apply()


def train(config, callbacks=()):
    """Trains, evaluates and saves `config.model`; returns its `RunSummary`, written as summary.json.

    Everything that can be checked before loading data is checked first. `callbacks` are extra
    Keras callbacks, run after the zoo's own.
    """
    started = time.perf_counter()
    spec = get_model_spec(config.model)
    task = task_for(spec, config)
    strategy = make_strategy(config.strategy, config.cluster_timeout)  # first: a multi-worker one precedes any TF op
    settings = run_settings(spec, config, task)
    model_dir = pathlib.Path(config.model_dir or default_model_dir(spec.name))
    worker = cluster.this_worker()
    # held while the run lives: another on the same dir is refused (each worker of a cluster holds its share)
    with outputs.held(model_dir, "--model-dir", LOCK_FILE + worker.suffix, "run"):
        backup_dir = cluster.backup_dir(model_dir, worker)
        resumed_run = check_model_dir(model_dir, settings, backup_dir)
        batch_size, replicas = settings["batch_size"], strategy.num_replicas_in_sync
        announce_replicas(strategy, worker, batch_size)

        keras.utils.set_random_seed(config.seed)
        source, datasets = source_and_data(spec, task, settings, config)
        model_args = {**settings["model_args"], **task.data_args(spec, datasets)}
        train_batches, epochs, steps_per_epoch = schedule(
            datasets.train, settings["epochs"], config.steps_per_epoch, config.max_steps,
            min_steps=None if config.epochs else spec.min_steps,
        )
        jit_compile = use_xla(config.jit_compile, spec.jit_compile, strategy)
        model, trainer, saved_model = compiled_model(
            spec, task, model_args, settings, epochs * steps_per_epoch, strategy, jit_compile, datasets
        )
        initialization = source and initialize(model, source, datasets)

        with cluster.output_dir(model_dir, worker) as output_dir:  # the model dir, for the chief
            earlier_seconds = resumed_run["wall_time_seconds"] if resumed_run else 0.0
            records.write_json(output_dir / RUN_FILE, {"settings": settings, "wall_time_seconds": earlier_seconds})
            throughput = ThroughputMeter(batch_size)
            try:
                history = trainer.fit(
                    train_batches, validation_data=datasets.validation, epochs=epochs, steps_per_epoch=steps_per_epoch,
                    shuffle=False,  # the tf.data pipeline shuffles
                    callbacks=zoo_callbacks(output_dir, backup_dir, task.monitor, saved_model, config.max_steps,
                                            resumed_run, throughput) + list(callbacks),
                    verbose=progress_verbosity(),
                )
                complete_history(history, model_dir / "history.csv")
                check_converged(history, settings["learning_rate"], output_dir, backup_dir)
                validation_metrics, test_metrics = evaluate_and_save(task, trainer, history, datasets, strategy, worker,
                                                                     output_dir)
            finally:
                wall_time = earlier_seconds + time.perf_counter() - started
                records.write_json(output_dir / RUN_FILE, {"settings": settings, "wall_time_seconds": wall_time})

            summary = records.RunSummary.from_dict({
                **run_record(spec, datasets, model, task),
                "hyperparameters": hyperparameters(spec, settings, epochs, steps_per_epoch, replicas, model_args),
                **run_facts(strategy, worker, config.mixed_precision, jit_compile),
                "init_from": initialization,
                "resumed": resumed_run is not None,
                "epochs_run": history.epoch[-1] + 1 if history.epoch else 0,
                "training_pieces": transfer.training_pieces(source, spec.name) + [
                    training_piece(trainer, batch_size, model_args, wall_time)],
                "train_metrics": last_metrics(history),
                "validation_metrics": validation_metrics,
                "test_metrics": test_metrics,
                "train_examples_per_second": throughput.examples_per_second(),
                "wall_time_seconds": wall_time,
            })
            summary.write(output_dir / records.SUMMARY)
        # Only now is the run safe: until summary.json exists, a rerun resumes from this backup.
        shutil.rmtree(backup_dir, ignore_errors=True)
    tested = f"Test metrics: {_format(test_metrics)}" if test_metrics else "Test split not read"
    print(f"{tested}; model and summary.json in {model_dir}")
    return summary


def source_and_data(spec, task, settings, config):
    """The run's pretrained source (`--init-from`, else None) and its data, read with the
    source's text preprocessor where it has one."""
    source = transfer.load_source(config.init_from) if config.init_from else None
    preprocessor = source and transfer.check_preprocessor(source, spec.make_preprocessor(settings["model_args"]), spec.name)
    if config.features_from:
        features = transfer.load_document_features(config.features_from)
        return source, task.load_data(spec, settings, config, preprocessor, document_features=features)
    return source, task.load_data(spec, settings, config, preprocessor)


def evaluate_and_save(task, trainer, history, datasets, strategy, worker, output_dir):
    """(validation metrics, test metrics) of the trained model, saved as the task saves it, with
    its report from the chief (the other workers' would go to folders they delete)."""
    cluster.adopt_chief_state(trainer, strategy)  # every worker evaluates the model the chief saves
    validation_metrics, test_metrics = task.evaluate(trainer, history, datasets)
    saved = task.save(trainer, datasets, output_dir)
    if worker.is_chief:
        task.report(saved, datasets, output_dir)
    return validation_metrics, test_metrics


def announce_replicas(strategy, worker, batch_size):
    """Prints how the global batch splits over the replicas; one that does not split is a `UserError`."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise UserError(
            f"global batch size {batch_size} does not split over {replicas} replicas; pick a multiple of {replicas}"
        )
    print(f"{strategy_name(strategy)}: {worker.describe() + ', ' if worker.count > 1 else ''}"
          f"{replicas} replica(s), global batch {batch_size} = {batch_size // replicas} per replica")


def run_record(spec, datasets, model, task):
    """What was trained on what, for summary.json."""
    return {"model": spec.name, "dataset": datasets.name, "modality": spec.modality, "task": spec.task,
            **task.summary(datasets), "examples": datasets.examples, "parameters": model.count_params()}


def training_piece(trainer, batch_size, model_args, wall_time):
    """This run's share of the training behind its weights (earlier runs' come from --init-from)."""
    return {"steps": int(trainer.optimizer.iterations.numpy()), "batch_size": batch_size,
            "sequence_length": model_args.get("sequence_length"), "wall_time_seconds": wall_time}


def last_metrics(history):
    """The last epoch's training metrics."""
    return {name: values[-1] for name, values in history.history.items() if not name.startswith("val_")}


def hyperparameters(spec, settings, epochs, steps_per_epoch, replicas, model_args):
    """The run's settings with what the recipe and the data decided, for summary.json."""
    return {
        **settings,
        "epochs": epochs,
        "per_replica_batch_size": settings["batch_size"] // replicas,
        "steps_per_epoch": steps_per_epoch,
        "optimizer": spec.optimizer,
        "learning_rate_schedule": spec.learning_rate_schedule,
        "warmup_fraction": spec.warmup_fraction,
        "model_args": model_args,
    }


def run_facts(strategy, worker, mixed_precision, jit_compile):
    """Where and how the run trained, and with which versions, for summary.json."""
    return {
        "strategy": strategy_name(strategy),
        "num_replicas": strategy.num_replicas_in_sync,
        "workers": worker.count,
        "precision_policy": _policy(mixed_precision),
        "jit_compile": jit_compile,
        "versions": {
            "zoo": zoo.__version__,
            **{module.__name__: module.__version__ for module in (tf, keras, keras_hub, tfds)},
        },
    }


def run_settings(spec, config, task):
    """What defines the run, checked before any data is loaded: the recipe with the model's
    defaults filled in, the task's settings, and the builder arguments, tried on a throwaway build."""
    check_features_from(spec, config)
    dataset = config.dataset or spec.dataset
    own = own_data.settings(dataset, config.csv_columns, config.validation_fraction, config.test_fraction)
    if own:  # absolute, so that the run is evaluated and exported from any directory
        dataset = str(pathlib.Path(dataset).expanduser().absolute())
    data_derived = ("num_classes",) if own else DATA_DERIVED_ARGS  # own images are resized to the model's
    if own and (config.train_split or config.test_split):
        raise UserError("--train-split and --test-split name TFDS splits; your own data is split by "
                        "its folders, or by --validation-fraction and --test-fraction")
    given_data_args = sorted(set(config.model_args) & set(data_derived))
    if given_data_args:
        raise UserError(
            f"{', '.join(given_data_args)}: set from the dataset, drop from --model-arg"
        )
    settings = {
        "model": spec.name,
        "dataset": dataset,
        "own_data": own,
        "model_args": spec.resolve_args(**config.model_args),
        **{name: getattr(spec, name) if getattr(config, name) is None else getattr(config, name)
           for name in ("epochs", "batch_size", "learning_rate", "weight_decay", "train_split", "test_split")},
        "seed": config.seed,
        "steps_per_epoch": config.steps_per_epoch,
        "max_steps": config.max_steps,
        "mixed_precision": config.mixed_precision,
        "init_from": config.init_from and str(config.init_from),
        "features_from": config.features_from and str(config.features_from),
        **task.settings(),
    }
    if not config.evaluate_test:
        settings["test_split"] = None  # never read: see `zoo.data.load`
    for name in ("epochs", "batch_size", "learning_rate", "steps_per_epoch", "max_steps"):
        value = settings[name]
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UserError(f"--{name.replace('_', '-')} must be a positive number, got {value}")
    if not (math.isfinite(settings["weight_decay"]) and settings["weight_decay"] >= 0):
        raise UserError(f"--weight-decay must be zero or a positive number, got {settings['weight_decay']}")
    if not 0 <= config.seed <= MAX_SEED:
        raise UserError(f"--seed must be between 0 and {MAX_SEED:,}, got {config.seed}")
    if config.mixed_precision not in PRECISIONS:
        raise UserError(f"--mixed-precision must be one of {', '.join(PRECISIONS)}")
    spec.build(**config.model_args)
    return json.loads(json.dumps(settings))  # as run.json will hold them: tuples become lists


def check_features_from(spec, config):
    """A `UserError` when `--features-from` is asked of a model that reads no document features."""
    readers = [name for name in list_models() if "document_features" in get_model_spec(name).default_args()]
    if config.features_from and spec.name not in readers:
        raise UserError(f"--features-from: {spec.name} reads no document features; {', '.join(readers)} does")


def check_model_dir(model_dir, settings, backup_dir):
    """Checks that the run can write `model_dir`: never over a finished run, and resuming only
    the same run. Returns the interrupted run's record when this process has a backup in
    `backup_dir` to resume from, else None."""
    if (model_dir / records.SUMMARY).exists():
        raise UserError(
            f"{model_dir} holds a finished run (summary.json); pass a new --model-dir, "
            "or delete that one to train again"
        )
    if not backup_dir.exists():
        return None
    try:
        run = json.loads((model_dir / RUN_FILE).read_text())
    except (OSError, ValueError):
        run = {"settings": settings, "wall_time_seconds": 0.0}
    differences = setting_differences(run["settings"], settings)
    if differences:
        raise UserError(
            f"{model_dir} holds an interrupted run with other settings ({'; '.join(differences)}): "
            "rerun it with its own flags to resume, or pass a new --model-dir"
        )
    return run


def setting_differences(before, now, prefix=""):
    """'name: before -> now' for each setting that differs, nested dicts flattened."""
    differences = []
    for name in sorted(set(before) | set(now)):
        old, new = before.get(name), now.get(name)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += setting_differences(old, new, prefix=f"{prefix}{name}.")
        elif old != new:
            differences.append(f"{prefix}{name}: {old!r} -> {new!r}")
    return differences


def schedule(train_batches, epochs, steps_per_epoch=None, max_steps=None, min_steps=None):
    """(training batches, epochs, steps per epoch) for the requested run length. An epoch is one
    pass over the data unless `steps_per_epoch` or a shorter `max_steps` says otherwise; then the
    data repeats, so the next epoch goes on where the last one stopped. `min_steps` (a recipe's)
    adds epochs until the run takes at least that many steps, in at most `MIN_STEPS_EPOCHS`
    epochs: a few hundred examples repeat within an epoch rather than make hundreds of one-step
    epochs, each validated and backed up (which took most of such a run's time)."""
    steps_in_data = int(train_batches.cardinality())
    if min_steps and not steps_per_epoch:
        steps_per_epoch = max(steps_in_data, math.ceil(min_steps / MIN_STEPS_EPOCHS))
    steps_per_epoch = min(steps_per_epoch or steps_in_data, max_steps or math.inf)
    if min_steps:
        epochs = max(epochs, math.ceil(min_steps / steps_per_epoch))
    if max_steps:
        epochs = min(epochs, math.ceil(max_steps / steps_per_epoch))
    if steps_per_epoch != steps_in_data:
        train_batches = train_batches.repeat()
    return train_batches, epochs, steps_per_epoch


def compiled_model(spec, task, model_args, settings, total_steps, strategy, jit_compile, datasets):
    """The model built under `strategy` in the run's precision policy, what trains it (the model
    itself, or one around it: see `Task.training_model`) compiled for `task`, and what
    `model.keras` will hold (raw inputs in), sharing its weights."""
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(_policy(settings["mixed_precision"]))
    try:
        with strategy.scope():
            model = spec.build(**model_args)
            trainer = task.training_model(model, datasets)
            optimizer = make_optimizer(spec, settings["learning_rate"], settings["weight_decay"], total_steps)
            task.compile(trainer, optimizer, jit_compile)
            saved_model = task.saved_model(trainer, datasets)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return model, trainer, saved_model


def initialize(model, source, datasets):
    """Copies `source`'s weights into `model` (word vectors into the token embedding of the ids
    that the run's preprocessor makes); says, and returns, what it copied."""
    if transfer.is_word_vectors(source):
        labelled = datasets.examples["train"] - datasets.examples.get("train_unlabelled", 0)
        return transfer.copy_word_vectors(source, model, datasets.preprocessor.get_vocabulary(), labelled)
    copied, fresh = transfer.copy_weights(source, model)
    print(f"Initialized from {source.path}: copied {', '.join(copied)}"
          + (f"; new: {', '.join(fresh)}" if fresh else ""))
    return {"source": str(source.path), "copied_layers": copied, "new_layers": fresh}


def zoo_callbacks(model_dir, backup_dir, monitor, saved_model, max_steps, resumed_run, throughput):
    """Backups to resume from, the best checkpoint (of `saved_model`, raw inputs in), history,
    TensorBoard logs and throughput."""
    callbacks = [
        # First, so that an epoch is backed up before anything else records it as done.
        Backup(backup_dir),
        keras.callbacks.TerminateOnNaN(),
        SavedModelCheckpoint(
            model_dir / CHECKPOINTS["best"],
            saved_model,
            monitor=monitor,
            mode="max",
            save_best_only=True,
        ),
        keras.callbacks.CSVLogger(model_dir / "history.csv", append=resumed_run is not None),
        keras.callbacks.TensorBoard(model_dir / "logs"),
        throughput,
    ]
    if progress_verbosity() == 2:  # a log file, not a terminal
        callbacks.append(ProgressLog(throughput.global_batch_size))
    if max_steps:
        callbacks.append(StopAtStep(max_steps))
    return callbacks


def complete_history(history, history_file):
    """Fills `history` from the run's `history.csv` when `fit` had no epoch left to run (a rerun
    after the last epoch ended but before the run was saved), so the run is saved as trained."""
    if history.epoch or not history_file.exists():
        return
    with open(history_file, newline="") as file:
        rows = list(csv.DictReader(file))
    history.epoch = [int(row.pop("epoch")) for row in rows]
    history.history = {name: [float(row[name]) for row in rows] for name in (rows[0] if rows else {})}


def check_converged(history, learning_rate, output_dir, backup_dir):
    """Stops a run whose loss became NaN or infinite: its backup and best checkpoint are
    removed, so nothing of it is saved or resumed, and the same command trains afresh."""
    losses = history.history.get("loss", [])
    if losses and not math.isfinite(losses[-1]):
        shutil.rmtree(backup_dir, ignore_errors=True)
        (output_dir / CHECKPOINTS["best"]).unlink(missing_ok=True)
        raise TrainingDiverged(
            f"training diverged: the loss became {losses[-1]} in epoch {len(losses)}, so no model "
            f"or summary was saved; try a lower --learning-rate than {learning_rate}"
        )


def make_strategy(name, cluster_timeout=DEFAULT_CLUSTER_TIMEOUT):
    """A tf.distribute strategy: `mirrored` mirrors over all local GPUs, else CPUs;
    `multi_worker` over every worker that `TF_CONFIG` names, once they have all started (waiting
    at most `cluster_timeout` seconds); `auto` picks one of those two."""
    if name not in STRATEGIES:
        raise UserError(f"--strategy must be one of {', '.join(STRATEGIES)}")
    workers = cluster.this_worker().count
    if name == "auto":
        name = "multi_worker" if workers > 1 else "mirrored"
    if workers > 1 and name != "multi_worker":
        raise UserError(
            f"TF_CONFIG names a cluster of {workers} workers, but --strategy {name} trains on this "
            "machine alone: pass --strategy multi_worker (or auto), or unset TF_CONFIG"
        )
    if name == "multi_worker" and not KERAS_FIXED:
        raise UserError(
            f"training over several workers needs zoo/training/compat.py's fixes to Keras, verified on Keras "
            f"{compat.VERIFIED_KERAS} only, and this is Keras {keras.__version__}: install keras=={compat.VERIFIED_KERAS}"
        )
    if name == "multi_worker":
        return _multi_worker_strategy(cluster_timeout)
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(devices[0].name)
    return _mirrored_strategy(tuple(device.name for device in devices))


@functools.cache
def _mirrored_strategy(devices):
    """One MirroredStrategy per device set and process: a second one would reuse the first's
    collective instance keys, and its all-reduces would fail with shape mismatches."""
    return tf.distribute.MirroredStrategy(list(devices))


def strategy_name(strategy):
    """The strategy's public name: TensorFlow's MultiWorkerMirroredStrategy is a class of
    another name."""
    name = type(strategy).__name__
    return "MultiWorkerMirroredStrategy" if name == "CollectiveAllReduceStrategy" else name


@functools.cache
def _multi_worker_strategy(cluster_timeout):
    """The process's MultiWorkerMirroredStrategy: it can be made once, before any TensorFlow op."""
    cluster.wait_for_peers(cluster.this_worker(), cluster_timeout)
    return tf.distribute.MultiWorkerMirroredStrategy()


def use_xla(requested, recipe, strategy):
    """Whether to compile train steps with XLA: as requested, else as the recipe says, except over
    several CPU devices, where an XLA step cannot reach the other devices' variables."""
    if requested is not None:
        return requested
    several_cpus = strategy.num_replicas_in_sync > 1 and not tf.config.list_logical_devices("GPU")
    return recipe and not several_cpus


def make_optimizer(spec, learning_rate, weight_decay, total_steps):
    """The spec's optimizer; a cosine schedule warms up linearly over the spec's warm-up fraction
    of the steps, then decays to zero (a one-cycle schedule, when the fraction is large)."""
    if spec.learning_rate_schedule == "cosine":
        warmup_steps = int(spec.warmup_fraction * total_steps)
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup_steps else learning_rate,
            decay_steps=max(total_steps - warmup_steps, 1),
            warmup_target=learning_rate if warmup_steps else None,
            warmup_steps=warmup_steps,
        )
    return keras.optimizers.get(
        {
            "class_name": spec.optimizer,
            "config": {"learning_rate": learning_rate, "weight_decay": weight_decay or None},
        }
    )


class TrainingDiverged(UserError):
    """A run whose loss became NaN or infinite: its settings, not its input, are at fault."""


class ThroughputMeter(keras.callbacks.Callback):
    """Steady-state training examples per second: over all epochs but the first, or, when only
    one ran, over its steps after the first (which pays for tracing). Validation time is excluded."""

    def __init__(self, global_batch_size):
        super().__init__()
        self.global_batch_size = global_batch_size
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append({"begin": time.perf_counter(), "first_step_end": None, "steps": 0})

    def on_train_batch_end(self, batch, logs=None):
        epoch = self.epochs[-1]
        epoch["last_step_end"] = time.perf_counter()
        epoch["first_step_end"] = epoch["first_step_end"] or epoch["last_step_end"]
        epoch["steps"] += 1

    def examples_per_second(self):
        """None until a step after the first has run."""
        if len(self.epochs) > 1:
            steps = sum(epoch["steps"] for epoch in self.epochs[1:])
            seconds = sum(epoch["last_step_end"] - epoch["begin"] for epoch in self.epochs[1:])
        elif self.epochs and self.epochs[0]["steps"] > 1:
            steps = self.epochs[0]["steps"] - 1
            seconds = self.epochs[0]["last_step_end"] - self.epochs[0]["first_step_end"]
        else:
            return None
        return steps * self.global_batch_size / seconds


class Backup(keras.callbacks.BackupAndRestore):
    """Keras' backup of the last finished epoch, kept after `fit` (the run deletes it once
    summary.json is written, so a crash while evaluating or saving resumes, not retrains), and
    a damaged backup is a one-line error rather than a traceback."""

    def __init__(self, backup_dir):
        super().__init__(backup_dir, double_checkpoint=True, delete_checkpoint=False)

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except (OSError, ValueError) as error:
            raise UserError(
                f"cannot resume from {self.backup_dir}, which is damaged ({first_line(error)}): "
                "delete it to train from the start"
            ) from None


class SavedModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keras' checkpoint callback saving `saved_model`, what `model.keras` holds (raw inputs in,
    no optimizer), rather than the model `fit` trains (token ids in, or a distiller), so that the
    best checkpoint is evaluated and exported as the final model is."""

    def __init__(self, filepath, saved_model, **kwargs):
        super().__init__(filepath, **kwargs)
        self.saved_model = saved_model

    def set_model(self, model):
        super().set_model(self.saved_model)


class StopAtStep(keras.callbacks.Callback):
    """Stops training once the optimizer has taken `max_steps` steps in total."""

    def __init__(self, max_steps):
        super().__init__()
        self.max_steps = max_steps

    def on_train_batch_end(self, batch, logs=None):
        # A mirrored variable has no int(); its NumPy value is the same on every replica.
        if keras.ops.convert_to_numpy(self.model.optimizer.iterations) >= self.max_steps:
            self.model.stop_training = True


def _policy(mixed_precision):
    return "float32" if mixed_precision == "off" else mixed_precision


def _format(metrics):
    return ", ".join(f"{name} {value:.4f}" for name, value in metrics.items())
