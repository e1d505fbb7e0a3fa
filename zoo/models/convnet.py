"""Convolutional image classifiers."""

import keras
from keras import layers

from zoo.registry import register_model


@register_model(
    "mnist_cnn",
    modality="image",
    dataset="mnist",
    serving_input="image",
    epochs=4,
    batch_size=128,
    optimizer="adamw",
    learning_rate=3e-3,
    weight_decay=1e-4,
)
def mnist_cnn(input_shape=(28, 28, 1), num_classes=10, filters=32, dropout=0.25):
    """A convnet with batch norm for small images (three conv-pool stages); takes uint8 pixels.

    Batch-norm momentum is 0.9, not Keras' 0.99: the moving variance starts at 1 while the true
    one is near 0.01, and at 0.99 it is still several times too large after a short schedule.
    """
    images = keras.Input(shape=input_shape, dtype="uint8", name="images")
    x = layers.Rescaling(1.0 / 255)(images)
    for stage_filters in (filters, 2 * filters, 4 * filters):
        x = layers.Conv2D(stage_filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    probabilities = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(images, probabilities, name="mnist_cnn")
