"""`TextModel`: a functional model whose input is raw text, which takes texts as users hold them."""

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="zoo")
class TextModel(keras.Model):
    """A functional `keras.Model` from a string input that `predict`s, `evaluate`s and is called
    on Python lists of `str` or `bytes`, numpy string arrays and the bytes arrays `tfds.as_numpy`
    gives, as keras-hub's tasks do: Keras' own refuses them ("Unrecognized data type")."""

    def __call__(self, inputs, *args, **kwargs):
        return super().__call__(as_string_tensor(inputs), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(as_string_tensor(x), *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        return super().evaluate(as_string_tensor(x), *args, **kwargs)


def as_string_tensor(texts):
    """`texts` as a string tensor where it is a list, tuple or numpy array of str or bytes;
    anything else (a tensor, a `tf.data.Dataset`, a symbolic input) as it is."""
    if isinstance(texts, (list, tuple)) and texts and all(isinstance(text, (str, bytes)) for text in texts):
        return tf.constant(texts)
    if isinstance(texts, np.ndarray) and texts.dtype.kind in "OSU":
        return tf.constant(texts.astype(object) if texts.dtype.kind == "O" else texts)
    return texts
