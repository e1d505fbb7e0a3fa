"""The keras-io examples that the zoo's recipes are measured against, re-implemented on the
same TFDS data: each is the example's model and recipe (epochs, batch size, optimizer)."""

import dataclasses
from typing import Callable

import keras
import keras_hub
from keras import layers


@dataclasses.dataclass(frozen=True)
class Reference:
    """A keras-io example: its builder (taking the zoo builder's data arguments) and recipe."""

    example: str
    builder: Callable
    epochs: int
    batch_size: int
    optimizer: str = "adam"
    vocabulary_size: int | None = None
    sequence_length: int | None = None


def mnist_convnet(input_shape, num_classes):
    """keras-io examples/vision/mnist_convnet.py; rescaling moved into the model."""
    return keras.Sequential([
        keras.Input(shape=input_shape, dtype="uint8"),
        layers.Rescaling(1.0 / 255),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])


def text_classification_with_transformer(vocabulary_size, sequence_length, num_classes):
    """keras-io examples/nlp/text_classification_with_transformer.py (embedding 32, 2 heads,
    feed-forward 32), with keras-hub's equivalents of its hand-written blocks."""
    inputs = keras.Input(shape=(sequence_length,), dtype="int64")
    x = keras_hub.layers.TokenAndPositionEmbedding(vocabulary_size, sequence_length, 32)(inputs)
    x = keras_hub.layers.TransformerEncoder(32, 2, dropout=0.1, normalize_first=False)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))


def bidirectional_lstm_imdb(vocabulary_size, sequence_length, num_classes):
    """keras-io examples/nlp/bidirectional_lstm_imdb.py: embedding 128, two BiLSTM(64)."""
    inputs = keras.Input(shape=(sequence_length,), dtype="int64")
    x = layers.Embedding(vocabulary_size, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))


MNIST_CONVNET = Reference("mnist_convnet", mnist_convnet, epochs=15, batch_size=128)
REFERENCES = {  # one run of a reference serves every model that has it
    "mnist_cnn": MNIST_CONVNET,
    "mnist_cnn_fast": MNIST_CONVNET,
    "transformer_text": Reference(
        "text_classification_with_transformer", text_classification_with_transformer,
        epochs=2, batch_size=32, vocabulary_size=20000, sequence_length=200,
    ),
    "lstm_text": Reference(
        "bidirectional_lstm_imdb", bidirectional_lstm_imdb,
        epochs=2, batch_size=32, vocabulary_size=20000, sequence_length=200,
    ),
}
