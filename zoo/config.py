"""What a training run is asked to do, and the choices its flags take.

It imports no TensorFlow, so that the command lines parse their flags (and print --help) at once.
"""

import dataclasses
import pathlib

STRATEGIES = ("auto", "mirrored", "one_device", "multi_worker")
PRECISIONS = ("off", "mixed_float16", "mixed_bfloat16")
DEFAULT_EXPORT_DIR = "saved_models"
DEFAULT_EDGE_EXPORT_DIR = "edge_models"  # LiteRT and ONNX exports (zoo.serving.edge_export)
EXPORT_FORMATS = ("saved_model", "litert", "onnx")
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")  # LiteRT's
DEFAULT_TEMPERATURE = 3.0  # keras.distillation.LogitsDistillation's
DEFAULT_DISTILLATION_WEIGHT = 0.5  # keras.distillation.Distiller's (its student_loss_weight 0.5)
DEFAULT_CLUSTER_TIMEOUT = 600  # seconds a worker waits for the others of its cluster to start
TUNERS = ("random", "bayesian", "hyperband")  # KerasTuner's oracles, for zoo.tune
DEFAULT_MAX_TRIALS = 10
CHECKPOINTS = {"last": "model.keras", "best": "checkpoints/best.keras"}  # in a run dir, raw inputs in both


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
    weight_decay: float | None = None
    seed: int = 0
    steps_per_epoch: int | None = None
    max_steps: int | None = None
    mixed_precision: str = "off"
    jit_compile: bool | None = None  # None: the model's recipe
    strategy: str = "auto"
    model_args: dict = dataclasses.field(default_factory=dict)
    download: bool = False
    init_from: str | None = None  # a finished run dir or a keras-hub preset folder
    features_from: str | None = None  # a vampire run or preset: its features of each text beside the model's own
    teacher: str | None = None  # distil from this finished run dir or exported SavedModel
    temperature: float | None = None  # None: the distillation default
    distillation_weight: float | None = None  # None: the distillation default
    train_split: str | None = None  # a TFDS split string; None: the recipe's
    test_split: str | None = None  # a TFDS split string; None: the recipe's
    evaluate_test: bool = True  # False: the test split is never read (a tuning trial's, see zoo.tune)
    unlabelled_split: str | None = None  # examples the teacher labels for distillation
    csv_columns: str | None = None  # own data: "INPUT,LABEL" columns of a CSV file
    validation_fraction: float | None = None  # own data without a validation/ folder
    test_fraction: float | None = None  # own data without a test/ folder
    cluster_timeout: float = DEFAULT_CLUSTER_TIMEOUT  # seconds to wait for a cluster's workers


def default_model_dir(model_name):
    """Where a run of `model_name` writes when no model dir is given."""
    return pathlib.Path("runs") / model_name


@dataclasses.dataclass
class TuneConfig:
    """A hyperparameter search (`zoo.training.tuning.search`): every trial runs `base` with the values
    KerasTuner picks from the model's search space, narrowed by `hp` ('NAME=VALUE' fixes a
    dimension, 'NAME=LOW:HIGH' a range, 'NAME=A,B' choices). No new trial starts after
    `budget_minutes` of trials; `tune_dir` is KerasTuner's project folder."""

    base: TrainConfig
    tuner: str = "random"
    max_trials: int | None = DEFAULT_MAX_TRIALS
    budget_minutes: float | None = None
    hp: tuple = ()
    tune_dir: str | None = None


def default_tune_dir(model_name):
    """Where a search over `model_name` writes when no tune dir is given."""
    return pathlib.Path("tuning") / model_name
