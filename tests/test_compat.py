"""The Keras fixes in zoo.training.compat: still aimed at the code they were verified on, and needed
(the multi-worker one: test_multi_worker.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.training import compat  # noqa: F401  (importing training installs the fix)


@pytest.mark.parametrize("name", sorted(compat.VERIFIED_SOURCES))
def test_the_patched_keras_functions_are_the_verified_ones(name):
    """Fails when Keras changes a patched function: check whether upstream fixed it (then drop
    that fix) or re-verify the fix and record the new hash."""
    assert compat.source_sha256(compat.ORIGINALS[name]) == compat.VERIFIED_SOURCES[name]
    assert compat.apply()


def test_sparse_inputs_train_over_two_replicas(mirrored_strategy):
    indices = [[0, 1], [1, 3], [2, 0], [3, 2]]
    features = tf.SparseTensor(indices, np.ones(4, np.float32), dense_shape=(4, 5))
    batches = tf.data.Dataset.from_tensors((features, np.array([0, 1, 0, 1]))).repeat(2)
    with mirrored_strategy.scope():
        inputs = keras.Input(shape=(5,), sparse=True)
        model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(batches, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
