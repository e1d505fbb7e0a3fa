"""Runs train.py (or `--tune`: python -m zoo.tune) under tfds.testing.mock_data, for end-to-end
runs that need no real data.

    python tests/mocked_train.py [--logical-cpus N] [--examples N] [--weights-digest]
        [--die-at-step N] [--die-after-fit] [--die-in-run N] [--tune] -- TRAIN_ARGS...

`--weights-digest` prints a digest of the model's trainable weights when training ends (to
compare workers), and of all its variables when it is evaluated on the test split; `--die-at-step` makes the
process SIGKILL itself after that many steps in all, `--die-after-fit` once `fit` has ended, in
the `--die-in-run`th training run of the process (default: the first; a search runs several).
"""

import argparse
import hashlib
import os
import signal
import sys

import keras
import tensorflow as tf
import tensorflow_datasets as tfds


def digest(variables):
    return hashlib.sha256(b"".join(keras.ops.convert_to_numpy(variable).tobytes() for variable in variables)).hexdigest()


class WeightsDigest(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        print(f"weights digest {digest(self.model.trainable_weights)}", flush=True)


def print_digest_of_the_evaluated_model(task_class):
    """Makes the task print a digest of every variable of the model it evaluates on the test split."""
    evaluate = task_class.evaluate

    def evaluate_and_print(self, model, history, datasets):
        print(f"evaluated variables digest {digest(model.variables)}", flush=True)
        return evaluate(self, model, history, datasets)

    task_class.evaluate = evaluate_and_print


class DieAfterFit(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        os.kill(os.getpid(), signal.SIGKILL)


class DieAtStep(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if keras.ops.convert_to_numpy(self.model.optimizer.iterations) >= self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--logical-cpus", type=int, default=1)
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--weights-digest", action="store_true")
    parser.add_argument("--die-at-step", type=int)
    parser.add_argument("--die-after-fit", action="store_true")
    parser.add_argument("--die-in-run", type=int, default=1)
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("train_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.logical_cpus > 1:
        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0],
            [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus,
        )
    import train
    from zoo import training, tune

    extra = [WeightsDigest()] if args.weights_digest else []
    if args.weights_digest:
        from zoo.tasks.base import Task

        print_digest_of_the_evaluated_model(Task)
    deaths = [DieAtStep(args.die_at_step)] if args.die_at_step else []
    deaths += [DieAfterFit()] if args.die_after_fit else []
    if extra or deaths:
        train_with_callbacks, runs = training.train, []

        def train_with_extra_callbacks(config, callbacks=()):
            runs.append(config)
            dying = deaths if len(runs) == args.die_in_run else []
            return train_with_callbacks(config, [*callbacks, *extra, *dying])

        training.train = train_with_extra_callbacks
    with tfds.testing.mock_data(num_examples=args.examples):
        return (tune if args.tune else train).main([arg for arg in args.train_args if arg != "--"])


if __name__ == "__main__":
    sys.exit(main())
