"""A fix for Keras' TensorFlow trainer, until upstream has one (keras-team/keras#20585).

Before the first step, `fit` builds the model from one batch, and under a tf.distribute strategy
it first merges the replicas' batches with `strategy.reduce("MEAN", ...)`. Only shapes and dtypes
matter there, but the merge fails for sparse inputs (`ngram_text`'s n-gram vectors) with two or
more replicas ("'SparseTensor' object has no attribute 'device'"), and for any input under
MultiWorkerMirroredStrategy. The fix builds from the first local replica's batch instead.

It is applied only to the exact function it was verified on (Keras 3.15.1): `VERIFIED_SOURCE_SHA256`
is that function's source hash, and a test fails on the day upstream changes it, so the fix is
checked again (or dropped) rather than silently applied to code it was not written for.
"""

import hashlib
import inspect

import tensorflow as tf
from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

VERIFIED_SOURCE_SHA256 = "92a504f5eba9b29f81f1bf26180bdd5bf5186b06b7bda426534b90d2d02bc1c2"
_original = TensorFlowTrainer._maybe_symbolic_build


def source_sha256(function):
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def _maybe_symbolic_build(self, iterator=None, data_batch=None):
    """Keras' `_maybe_symbolic_build`, building from one replica's batch rather than a reduction."""
    if self._distribute_strategy is None:
        return  # built when the train function is first traced, as Keras does
    if iterator is not None:
        for _, _, batches in iterator:
            data_batch = tf.nest.map_structure(
                lambda value: self.distribute_strategy.experimental_local_results(value)[0],
                next(batches),
            )
            break
    with self.distribute_strategy.scope():
        self._symbolic_build(data_batch=data_batch)


def apply():
    """Installs the fix when Keras' function is the verified one; returns whether it did."""
    if source_sha256(_original) != VERIFIED_SOURCE_SHA256:
        return False
    TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    return True
