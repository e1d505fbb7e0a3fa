"""Bag-of-n-grams text classifiers: the baseline that tells when a neural text model is worth it."""

import keras
from keras import layers

from zoo.models import text_preprocessing
from zoo.registry import register_model
from zoo.search_space import Choice, Float


@register_model(
    "ngram_text",
    modality="text",
    dataset="imdb_reviews",
    serving_input="text",
    preprocessor=text_preprocessing.ngram_bag,
    epochs=2,
    batch_size=128,
    min_steps=350,  # two epochs of IMDB's 22,500 training reviews: small datasets train as long
    optimizer="adamw",
    learning_rate=1e-3,
    weight_decay=1e-2,
    search_space={
        "learning_rate": Float(3e-4, 1e-2, log=True),
        "weight_decay": Float(1e-4, 1e-1, log=True),
        "batch_size": Choice((64, 128, 256)),
        "ngrams": Choice((1, 2, 3)),
        "vocabulary_size": Choice((50_000, 100_000, 200_000)),
    },
)
def ngram_text(vocabulary_size=200_000, ngrams=2, num_classes=2):
    """A linear classifier over which words and word pairs a text holds (multi-hot n-grams).

    The input is the vectorizer's sparse `vocabulary_size`-wide multi-hot vector, so a step
    costs one weight row per n-gram present, and it trains in seconds on a CPU.
    """
    if ngrams < 1:
        raise ValueError(f"ngrams must be at least 1, got {ngrams}")
    features = keras.Input(shape=(vocabulary_size,), sparse=True, name="ngrams")
    probabilities = layers.Dense(num_classes, activation="softmax", dtype="float32")(features)
    return keras.Model(features, probabilities, name="ngram_text")
