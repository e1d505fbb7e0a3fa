"""Image augmentation that runs only in training."""

import keras


@keras.saving.register_keras_serializable(package="zoo")
class RandomShift(keras.layers.RandomTranslation):
    """Keras' `RandomTranslation`, off unless `training=True`: Keras 3's augmentation layers
    default to augmenting, so `model(x)` outside `fit` would answer differently on every call."""

    def call(self, data, training=False):
        return super().call(data, training=training)
