"""The Keras fix in zoo.compat: still aimed at the code it was verified on, and needed."""

import keras
import numpy as np
import tensorflow as tf

from zoo import compat, training  # noqa: F401  (importing training installs the fix)


def test_the_patched_keras_function_is_the_verified_one():
    """Fails when Keras changes `_maybe_symbolic_build`: check whether upstream fixed it (then drop
    zoo.compat) or re-verify the fix and record the new hash."""
    assert compat.source_sha256(compat._original) == compat.VERIFIED_SOURCE_SHA256
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
