"""Knowledge distillation (`train.py --model STUDENT --teacher PATH`): a registered classifier,
the student, learns from a trained classifier's softened probabilities as well as from the labels,
with keras' `Distiller` and `LogitsDistillation`; with an unlabelled split, from the teacher alone
on the examples that have no label.

Teacher and student see the same raw inputs (pixels, or strings that each model's own
preprocessor turns into its inputs), so any zoo classifier can teach any other of its data.
The builders end in a softmax: the log of the probabilities serves as logits, since
softmax(log p / T) = softmax(z / T). The losses are `keras.losses` instances, never strings:
keras 3.15 resolves "kl_divergence" to a function that `LogitsDistillation` then neither feeds
probabilities nor scales by T^2, and string losses are not scaled per replica.
"""


import keras
import numpy as np

from zoo import data
from zoo.config import DEFAULT_DISTILLATION_WEIGHT, DEFAULT_TEMPERATURE
from zoo.console import progress_verbosity
from zoo.errors import UserError
from zoo.search_space import Float
from zoo.store import presets, records, saving
from zoo.tasks.base import ExampleCount, Task, inference_model

SMALLEST_PROBABILITY = float(np.finfo("float32").tiny)  # keeps log p finite, and its gradient


class Distillation(Task):
    """Distils `teacher` (a run dir or SavedModel folder) into the student that `student_task`
    (classification) would train alone; `distillation_weight` weighs the distillation loss, the
    labels' loss getting the rest."""

    monitor = "val_accuracy"
    search_space = {"temperature": Float(1.0, 10.0, log=True), "distillation_weight": Float(0.1, 0.9)}

    def __init__(self, student_task, teacher, temperature=None, distillation_weight=None, unlabelled_split=None):
        self.student_task = student_task
        self.teacher_path = teacher_path(teacher)
        self.temperature = DEFAULT_TEMPERATURE if temperature is None else temperature
        self.distillation_weight = DEFAULT_DISTILLATION_WEIGHT if distillation_weight is None else distillation_weight
        self.unlabelled_split = unlabelled_split
        if not self.temperature > 0:
            raise UserError(f"--temperature must be a positive number, got {self.temperature}")
        if not 0 <= self.distillation_weight <= 1:
            raise UserError(f"--distillation-weight must be between 0 and 1, got {self.distillation_weight}")
        self.student = self.teacher = self.teacher_metrics = None  # set as the run goes

    def settings(self):
        return {
            "distillation": {
                "teacher": str(self.teacher_path),
                "temperature": self.temperature,
                "distillation_weight": self.distillation_weight,
                "unlabelled_split": self.unlabelled_split,
            }
        }

    def load_data(self, spec, settings, config, preprocessor=None, **options):
        """The student's data with raw inputs, which the teacher takes as well, and the
        unlabelled split, if any, in the training batches (labels `data.UNLABELLED`)."""
        return super().load_data(spec, settings, config, preprocessor, unlabelled_split=self.unlabelled_split,
                                 apply_preprocessor=False, **options)

    def data_args(self, spec, datasets):
        return self.student_task.data_args(spec, datasets)

    def training_model(self, model, datasets):
        """A `Distiller` from the teacher into `model` with its preprocessor in front."""
        self.student = self.student_task.saved_model(model, datasets)
        self.teacher = load_teacher(self.teacher_path)
        check_teacher(self.teacher, self.teacher_path, self.student, datasets)
        return Distiller(
            teacher=log_probabilities(self.teacher),
            student=log_probabilities(self.student),
            distillation_losses=keras.distillation.LogitsDistillation(self.temperature, keras.losses.KLDivergence()),
            student_loss_weight=1.0 - self.distillation_weight,
        )

    def compile(self, model, optimizer, jit_compile=False):
        """The labels' loss skips unlabelled examples, and so does the accuracy."""
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=data.UNLABELLED),
            metrics=[LabelledAccuracy(name="accuracy"), ExampleCount()],
            jit_compile=jit_compile,
        )

    def evaluate(self, model, history, datasets):
        """The distiller's last validation metrics; the student's and the teacher's test metrics,
        each a classifier's, on the same test examples."""
        with model.distribute_strategy.scope():
            for classifier in (self.student, self.teacher):
                self.student_task.compile(classifier, keras.optimizers.SGD())  # never stepped
        if datasets.test is not None:
            print(f"Evaluating the teacher, {self.teacher_path}")
            self.teacher_metrics = self.teacher.evaluate(datasets.test, return_dict=True, verbose=progress_verbosity())
            self.teacher_metrics["examples"] = int(self.teacher_metrics["examples"])
            if self.teacher_metrics["examples"] != datasets.examples["test"]:
                raise RuntimeError(
                    f"the teacher's test metrics cover {self.teacher_metrics['examples']} of its "
                    f"{datasets.examples['test']} examples"
                )
        return super().evaluate(self.student, history, datasets)

    def saved_model(self, model, datasets):
        """The student alone, with raw inputs in, like any classifier's."""
        return inference_model(self.student)

    def report(self, saved_model, datasets, model_dir):
        """The student's report, as a classifier's."""
        self.student_task.report(saved_model, datasets, model_dir)

    def summary(self, datasets):
        distillation = {**self.settings()["distillation"], "teacher_test_metrics": self.teacher_metrics}
        return {**self.student_task.summary(datasets), "distillation": distillation}


@keras.saving.register_keras_serializable(package="zoo")
class Distiller(keras.distillation.Distiller):
    """keras' `Distiller`, its `student_loss`, `distillation_loss` and `total_loss` reported as
    computed: keras scales each replica's loss by 1/replicas, so that the replicas' gradients
    sum right, and keras 3.15's distiller averages those scaled values."""

    def get_metrics_result(self):
        results = super().get_metrics_result()
        replicas = self.distribute_strategy.num_replicas_in_sync
        for tracker in (self.student_loss_tracker, self.distillation_loss_tracker, self.total_loss_tracker):
            results[tracker.name] = results[tracker.name] * replicas
        return results


@keras.saving.register_keras_serializable(package="zoo")
class LabelledAccuracy(keras.metrics.SparseCategoricalAccuracy):
    """Accuracy over the examples that have a label (`data.UNLABELLED` marks those without)."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        labelled = keras.ops.cast(keras.ops.not_equal(keras.ops.reshape(y_true, [-1]), data.UNLABELLED), "float32")
        if sample_weight is not None:
            labelled = labelled * keras.ops.reshape(sample_weight, [-1])
        return super().update_state(y_true, y_pred, sample_weight=labelled)


def log_probabilities(model):
    """`model` with the log of its probabilities out, floored at float32's smallest normal
    number so that a probability of 0 gives neither -inf nor a NaN gradient."""
    probabilities = model.outputs[0]
    logits = keras.ops.log(keras.ops.maximum(probabilities, SMALLEST_PROBABILITY))
    return keras.Model(model.inputs, logits, name=f"{model.name}_log_probabilities")


def teacher_path(path):
    """`path` checked to hold a finished classifier run (model.keras and its summary.json) or an
    exported SavedModel (saved_model.pb), or a preset's name, before any data is read."""
    path = presets.resolve(path)
    if (path / "saved_model.pb").exists():
        return path
    if not (path / "model.keras").exists() or not (path / records.SUMMARY).exists():
        raise UserError(
            f"--teacher {path}: not a finished run dir (model.keras and summary.json) nor an "
            "exported SavedModel version folder (saved_model.pb); pass one of those, e.g. "
            "runs/mnist_cnn, saved_models/mnist_cnn/1 or the preset mnist_cnn"
        )
    task = records.RunSummary.read(path / records.SUMMARY).task
    if task != "classification":
        raise UserError(f"--teacher {path} is a {task} run; a teacher must be a classifier")
    return path


def load_teacher(path):
    """The teacher as a Keras model from raw inputs to class probabilities: a run's model.keras,
    or a SavedModel's `serving_default` in a `TFSMLayer`."""
    if (path / "model.keras").exists():
        return saving.load_model(path / "model.keras", "--teacher", compile=False)
    serving = keras.layers.TFSMLayer(str(path), call_endpoint="serving_default", trainable=False)
    (input_spec,) = serving.call_endpoint_fn.input_signature
    inputs = keras.Input(shape=input_spec.shape[1:], dtype=input_spec.dtype.name, name=input_spec.name)
    outputs = serving(inputs)
    if "probabilities" not in outputs:
        raise UserError(f"--teacher {path} serves no class probabilities; a teacher must be a classifier")
    return keras.Model(inputs, outputs["probabilities"], name="teacher")


def check_teacher(teacher, path, student, datasets):
    """A `UserError` unless the teacher takes the student's inputs and predicts the data's classes."""
    (theirs,), (ours,) = teacher.inputs, student.inputs
    if theirs.dtype != ours.dtype or tuple(theirs.shape[1:]) != tuple(ours.shape[1:]):
        raise UserError(
            f"--teacher {path} takes {theirs.dtype} inputs of shape {tuple(theirs.shape[1:])}, "
            f"the student {ours.dtype} of shape {tuple(ours.shape[1:])}: pick a teacher of the same inputs"
        )
    classes = teacher.outputs[0].shape[-1]
    if classes != len(datasets.class_names):
        raise UserError(
            f"--teacher {path} predicts {classes} classes, {datasets.name} has "
            f"{len(datasets.class_names)}: pick a teacher trained on {datasets.name}"
        )
