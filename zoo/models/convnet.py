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
    """A VGG-style convnet with batch norm for small images; takes raw uint8 pixels."""
    images = keras.Input(shape=input_shape, dtype="uint8", name="images")
    x = layers.Rescaling(1.0 / 255)(images)
    for block_filters in (filters, 2 * filters):
        for _ in range(2):
            x = layers.Conv2D(block_filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    probabilities = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(images, probabilities, name="mnist_cnn")
