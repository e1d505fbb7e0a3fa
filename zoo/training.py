"""One training run of a registered model: strategy, data, compile, fit, evaluate, summary.

A model dir holds everything a run writes: `backup/` while it runs (rerunning the same command
resumes from the last finished epoch), `checkpoints/best.keras`, `logs/` for TensorBoard,
`history.csv`, and at the end `model.keras` (raw inputs in, probabilities out; what export
reads) and `summary.json`.
"""

import dataclasses
import functools
import json
import math
import pathlib
import sys
import time

import keras
import keras_hub
import tensorflow as tf
import tensorflow_datasets as tfds

import zoo
from zoo import data
from zoo.errors import UserError
from zoo.registry import get_model_spec

STRATEGIES = ("auto", "mirrored", "one_device")
PRECISIONS = ("off", "mixed_float16", "mixed_bfloat16")
DATA_DERIVED_ARGS = ("num_classes", "input_shape")
WARMUP_FRACTION = 0.05


@dataclasses.dataclass
class TrainConfig:
    """What to train and how; None means the model's registered default."""

    model: str
    dataset: str | None = None
    data_dir: str | None = None
    model_dir: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int = 0
    steps_per_epoch: int | None = None
    max_steps: int | None = None
    mixed_precision: str = "off"
    jit_compile: bool = False
    strategy: str = "auto"
    model_args: dict = dataclasses.field(default_factory=dict)
    download: bool = False


def default_model_dir(model_name):
    """Where a run of `model_name` writes when no model dir is given."""
    return pathlib.Path("runs") / model_name


def train(config, callbacks=()):
    """Trains, evaluates and saves `config.model`; returns the summary written to summary.json.

    `callbacks` are extra Keras callbacks, run after the zoo's own.
    """
    started = time.perf_counter()
    spec = get_model_spec(config.model)
    model_args = spec.resolve_args(**config.model_args)
    given_data_args = sorted(set(config.model_args) & set(DATA_DERIVED_ARGS))
    if given_data_args:
        raise UserError(
            f"{', '.join(given_data_args)}: set from the dataset, drop from --model-arg"
        )
    epochs, batch_size, learning_rate = (
        getattr(spec, name) if getattr(config, name) is None else getattr(config, name)
        for name in ("epochs", "batch_size", "learning_rate")
    )
    _check_positive(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                    steps_per_epoch=config.steps_per_epoch, max_steps=config.max_steps)
    if config.mixed_precision not in PRECISIONS:
        raise UserError(f"--mixed-precision must be one of {', '.join(PRECISIONS)}")
    model_dir = pathlib.Path(config.model_dir or default_model_dir(spec.name))
    if (model_dir / "summary.json").exists():
        raise UserError(
            f"{model_dir} holds a finished run (summary.json); pass a new --model-dir, "
            "or delete that one to train again"
        )

    strategy = make_strategy(config.strategy)
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise UserError(
            f"global batch size {batch_size} does not split over {replicas} replicas; "
            f"pick a multiple of {replicas}"
        )
    print(f"{type(strategy).__name__}: {replicas} replica(s), global batch {batch_size} "
          f"= {batch_size // replicas} per replica")

    keras.utils.set_random_seed(config.seed)
    datasets = data.load(
        config.dataset or spec.dataset,
        spec.modality,
        batch_size=batch_size,
        data_dir=config.data_dir,
        seed=config.seed,
        train_split=spec.train_split,
        test_split=spec.test_split,
        vocabulary_size=model_args.get("vocabulary_size"),
        sequence_length=model_args.get("sequence_length"),
        download=config.download,
    )
    model_args["num_classes"] = len(datasets.class_names)
    if spec.modality == "image":
        model_args["input_shape"] = datasets.input_shape

    train_batches = datasets.train
    steps_per_epoch = int(train_batches.cardinality())
    if config.steps_per_epoch:
        steps_per_epoch = config.steps_per_epoch
        train_batches = train_batches.repeat()
    if config.max_steps:
        epochs = min(epochs, math.ceil(config.max_steps / steps_per_epoch))
    total_steps = min(epochs * steps_per_epoch, config.max_steps or math.inf)

    policy = "float32" if config.mixed_precision == "off" else config.mixed_precision
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        with strategy.scope():
            model = spec.builder(**model_args)
            model.compile(
                optimizer=make_optimizer(spec, learning_rate, total_steps),
                loss=spec.loss,
                metrics=list(spec.metrics),
                jit_compile=config.jit_compile,
            )
    finally:
        keras.config.set_dtype_policy(previous_policy)

    model_dir.mkdir(parents=True, exist_ok=True)
    throughput = ThroughputMeter(batch_size)
    zoo_callbacks = [
        # First, so that an epoch is backed up before anything else records it as done.
        keras.callbacks.BackupAndRestore(model_dir / "backup", double_checkpoint=True),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(
            model_dir / "checkpoints" / "best.keras",
            monitor=f"val_{spec.metrics[0]}",
            save_best_only=True,
        ),
        keras.callbacks.CSVLogger(model_dir / "history.csv", append=True),
        keras.callbacks.TensorBoard(model_dir / "logs"),
        throughput,
    ]
    if config.max_steps:
        zoo_callbacks.append(StopAtStep(config.max_steps))
    history = model.fit(
        train_batches,
        validation_data=datasets.validation,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        shuffle=False,  # the tf.data pipeline shuffles
        callbacks=zoo_callbacks + list(callbacks),
        verbose=_verbosity(),
    )
    test_metrics = model.evaluate(datasets.test, return_dict=True, verbose=_verbosity())
    end_to_end(model, datasets.preprocessor).save(model_dir / "model.keras")

    summary = {
        "model": spec.name,
        "dataset": datasets.name,
        "modality": spec.modality,
        "class_names": datasets.class_names,
        "parameters": model.count_params(),
        "hyperparameters": {
            "epochs": epochs,
            "batch_size": batch_size,
            "per_replica_batch_size": batch_size // replicas,
            "steps_per_epoch": steps_per_epoch,
            "max_steps": config.max_steps,
            "optimizer": spec.optimizer,
            "learning_rate": learning_rate,
            "learning_rate_schedule": spec.learning_rate_schedule,
            "weight_decay": spec.weight_decay,
            "seed": config.seed,
            "model_args": model_args,
        },
        "strategy": type(strategy).__name__,
        "num_replicas": replicas,
        "precision_policy": policy,
        "jit_compile": config.jit_compile,
        "versions": {
            "zoo": zoo.__version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "keras_hub": keras_hub.__version__,
            "tensorflow_datasets": tfds.__version__,
        },
        "epochs_run": history.epoch[-1] + 1 if history.epoch else 0,
        "train_metrics": {k: v[-1] for k, v in history.history.items() if not k.startswith("val_")},
        "validation_metrics": {
            k.removeprefix("val_"): v[-1] for k, v in history.history.items() if k.startswith("val_")
        },
        "test_metrics": test_metrics,
        "train_examples_per_second": throughput.examples_per_second(),
        "wall_time_seconds": time.perf_counter() - started,
    }
    (model_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=_to_json))
    print(f"Test metrics: {_format(test_metrics)}; model and summary.json in {model_dir}")
    return summary


def make_strategy(name):
    """A tf.distribute strategy: `auto` and `mirrored` mirror over all local GPUs, else CPUs."""
    if name not in STRATEGIES:
        raise UserError(f"--strategy must be one of {', '.join(STRATEGIES)}")
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(devices[0].name)
    return _mirrored_strategy(tuple(device.name for device in devices))


@functools.cache
def _mirrored_strategy(devices):
    """One MirroredStrategy per device set and process: a second one would reuse the first's
    collective instance keys, and its all-reduces would fail with shape mismatches."""
    return tf.distribute.MirroredStrategy(list(devices))


def make_optimizer(spec, learning_rate, total_steps):
    """The spec's optimizer; a cosine schedule warms up linearly, then decays to zero."""
    if spec.learning_rate_schedule == "cosine":
        warmup_steps = int(WARMUP_FRACTION * total_steps)
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup_steps else learning_rate,
            decay_steps=max(total_steps - warmup_steps, 1),
            warmup_target=learning_rate if warmup_steps else None,
            warmup_steps=warmup_steps,
        )
    return keras.optimizers.get(
        {
            "class_name": spec.optimizer,
            "config": {"learning_rate": learning_rate, "weight_decay": spec.weight_decay or None},
        }
    )


def end_to_end(model, preprocessor):
    """`model` with `preprocessor` in front, so it takes raw inputs (strings for text models)."""
    if preprocessor is None:
        return model
    raw = keras.Input(shape=(), dtype="string", name="text")
    return keras.Model(raw, model(preprocessor(raw)), name=model.name)


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


class StopAtStep(keras.callbacks.Callback):
    """Stops training once the optimizer has taken `max_steps` steps in total."""

    def __init__(self, max_steps):
        super().__init__()
        self.max_steps = max_steps

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations) >= self.max_steps:
            self.model.stop_training = True


def _check_positive(**values):
    for name, value in values.items():
        if value is not None and value <= 0:
            raise UserError(f"--{name.replace('_', '-')} must be positive, got {value}")


def _verbosity():
    """A live progress bar on a terminal, one line per epoch in logs."""
    return 1 if sys.stdout.isatty() else 2


def _format(metrics):
    return ", ".join(f"{name} {value:.4f}" for name, value in metrics.items())


def _to_json(value):
    """JSON for what `json` does not know: tuples are handled, NumPy scalars are not."""
    return value.item() if hasattr(value, "item") else str(value)
