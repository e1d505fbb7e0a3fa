"""Two fixes for Keras' TensorFlow trainer, until upstream has them (keras-team/keras#20585).

1. Before the first step, `fit` builds the model from one batch, and under a tf.distribute
   strategy it first merges the replicas' batches with `strategy.reduce("MEAN", ...)`. Only
   shapes and dtypes matter there, but the merge fails for sparse inputs (`ngram_text`'s n-gram
   vectors) with two or more replicas ("'SparseTensor' object has no attribute 'device'"), and
   for any input under MultiWorkerMirroredStrategy. The fix builds from the first local
   replica's batch instead.
2. Under MultiWorkerMirroredStrategy, `reduce_per_replica` averages the replicas' logs with
   `strategy.reduce("MEAN", value, axis=0)`, which fails on the scalar losses and metrics
   ("Invalid reduction dimension 0", tensorflow/tensorflow#72388). The fix averages scalars
   over the replicas alone (`axis=None`).

Each is applied only to the exact function it was verified on (Keras 3.15.1): `VERIFIED_SOURCES`
holds those functions' source hashes, and a test fails on the day upstream changes one, so the
fix is checked again (or dropped) rather than silently applied to code it was not written for.
"""

import hashlib
import inspect

import tensorflow as tf
from keras.src.backend.tensorflow import trainer
from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

VERIFIED_KERAS = "3.15.1"
VERIFIED_SOURCES = {  # sha256 of the source of each patched function, as verified
    "_maybe_symbolic_build": "92a504f5eba9b29f81f1bf26180bdd5bf5186b06b7bda426534b90d2d02bc1c2",
    "reduce_per_replica": "2e7d54b1e6edc29a8c6a7e6b66cd4c8be3ba7842412c93753ac3afe169fa7fb8",
}
ORIGINALS = {
    "_maybe_symbolic_build": TensorFlowTrainer._maybe_symbolic_build,
    "reduce_per_replica": trainer.reduce_per_replica,
}


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


def reduce_per_replica(values, strategy, reduction):
    """Keras' `reduce_per_replica`, averaging scalar logs over several workers' replicas."""
    if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
        return tf.nest.map_structure(
            lambda value: strategy.reduce("MEAN", value, axis=0 if value.shape.rank else None), values
        )
    return ORIGINALS["reduce_per_replica"](values, strategy, reduction)


def apply():
    """Installs the fixes when Keras' functions are the verified ones; returns whether it did."""
    if any(source_sha256(ORIGINALS[name]) != digest for name, digest in VERIFIED_SOURCES.items()):
        return False
    TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    trainer.reduce_per_replica = reduce_per_replica
    return True
