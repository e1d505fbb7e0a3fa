"""The task interface, and what tasks share: loading the spec's splits, evaluations checked to
cover their whole split, and an uncompiled inference model as `model.keras`."""

import keras

from zoo import data
from zoo.console import progress_verbosity


class Task:
    """The interface `zoo.training.train` drives; subclasses fill in what differs.

    `monitor` is the validation metric that picks the best checkpoint (higher is better).
    `search_space` holds the task's own dimensions for `zoo.tune`, added to the model's.
    """

    monitor = None
    exportable = True  # whether `zoo.export` serves the model; pretraining runs are not served
    used_for = "fine-tune it (train.py --init-from) and export that run"  # what an unserved run is for
    search_space = {}

    def load_data(self, spec, settings, config, preprocessor=None, **options):
        """The run's `zoo.data.Datasets`, batched as (preprocessed inputs, labels). The text
        preprocessor is the spec's, adapted on the training split, unless an adapted one is given.
        `options` are more of `zoo.data.load`'s arguments."""
        return data.load(
            settings["dataset"],
            spec.modality,
            batch_size=settings["batch_size"],
            data_dir=config.data_dir,
            seed=config.seed,
            train_split=settings["train_split"],
            validation_split=spec.validation_split,
            test_split=settings["test_split"],
            preprocessor=spec.make_preprocessor(settings["model_args"]) if preprocessor is None else preprocessor,
            adapt=preprocessor is None,
            download=config.download,
            own=settings["own_data"],
            input_shape=settings["model_args"].get("input_shape"),
            **options,
        )

    def settings(self):
        """The task's own settings, recorded with the run's (run.json, summary.json)."""
        return {}

    def data_args(self, spec, datasets):
        """The builder arguments that the data decides (class count, input shape, ...)."""
        return {}

    def training_model(self, model, datasets):
        """What `fit` trains: `model` itself, or a model around it (built in the strategy's scope)."""
        return model

    def compile(self, model, optimizer, jit_compile=False):
        """Compiles the training model with the task's loss and metrics, `ExampleCount` among them."""
        raise NotImplementedError

    def saved_model(self, model, datasets):
        """What `model.keras` holds: the trained model, with raw inputs in."""
        return inference_model(model)

    def serving_archive(self, model, serving_input, summary):
        """A `keras.export.ExportArchive` of `model.keras`'s model with the task's signatures."""
        raise NotImplementedError

    def save(self, model, datasets, model_dir):
        """Writes the finished run's models into `model_dir`: `model.keras` for all tasks.
        Returns the model `model.keras` holds."""
        saved = self.saved_model(model, datasets)
        saved.save(model_dir / "model.keras")
        return saved

    def report(self, saved_model, datasets, model_dir):
        """Writes the evaluation report of `saved_model` (what `save` returned) on the whole test
        split into `model_dir` (`zoo.evaluate`): a classifier's per-class scores, confusion matrix
        and mistakes; nothing for the other tasks, or without a test split."""

    def summary(self, datasets):
        """The task's own fields in summary.json."""
        return {}

    def evaluate(self, model, history, datasets):
        """The last validation metrics and the test metrics (None without a test split), each
        checked to cover its split."""
        validation_metrics = {
            name.removeprefix("val_"): values[-1]
            for name, values in history.history.items() if name.startswith("val_")
        }
        test_metrics = None
        if datasets.test is not None:
            test_metrics = model.evaluate(datasets.test, return_dict=True, verbose=progress_verbosity())
        for split, metrics in (("validation", validation_metrics), ("test", test_metrics)):
            if metrics is None:
                continue
            if metrics["examples"] != datasets.examples[split]:
                raise RuntimeError(
                    f"the {split} metrics cover {metrics['examples']} of its "
                    f"{datasets.examples[split]} examples"
                )
            metrics["examples"] = int(metrics["examples"])
        return validation_metrics, test_metrics


def compile_token_predictions(model, optimizer, jit_compile=False, weighted_metrics=()):
    """Compiles a model of token-id logits whose targets carry weights, 0 where a slot holds no
    real target (padding, unpicked mask slots): loss and accuracy are means over the weighted
    tokens only, not diluted by the empty slots."""
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
        metrics=[ExampleCount()],
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy"), *weighted_metrics],
        jit_compile=jit_compile,
    )


def inference_model(model):
    """`model`'s layers in an uncompiled model: a `.keras` file of it loads without the zoo (the
    compiled model's file names the zoo's `ExampleCount` metric) and holds no optimizer state."""
    return keras.Model(model.input, model.output, name=model.name)


@keras.saving.register_keras_serializable(package="zoo")
class ExampleCount(keras.metrics.Sum):
    """How many examples a pass saw (summed over replicas): the proof that an evaluation's
    metrics cover the whole split. Every task's compile adds it."""

    def __init__(self, name="examples", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(keras.ops.cast(keras.ops.shape(y_true)[0], self.dtype))
