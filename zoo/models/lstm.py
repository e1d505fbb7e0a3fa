"""Recurrent text classifiers."""

import keras
from keras import layers

from zoo.models import text_preprocessing
from zoo.models.text_embedding import embed_tokens
from zoo.registry import register_model
from zoo.search_space import Choice, Float


@register_model(
    "lstm_text",
    modality="text",
    dataset="imdb_reviews",
    serving_input="text",
    preprocessor=text_preprocessing.token_ids,
    epochs=1,
    batch_size=64,
    min_steps=351,  # one epoch of IMDB's 22,500 training reviews: small datasets train as long
    learning_rate=2e-3,
    search_space={
        "learning_rate": Float(5e-4, 5e-3, log=True),
        "weight_decay": Float(1e-4, 1e-1, log=True),
        "dropout": Float(0.0, 0.5),
        "units": Choice((32, 64, 128)),
    },
)
def lstm_text(
    vocabulary_size=20000,
    sequence_length=512,
    num_classes=2,
    embedding_dim=128,
    patch_size=4,
    units=64,
    num_layers=2,
    bidirectional=True,
    dropout=0.3,
):
    """A stacked LSTM classifier over token ids, optionally bidirectional; id 0 is masked padding.

    The LSTMs keep the defaults that the fused cuDNN kernel needs on GPU (tanh/sigmoid, no
    recurrent dropout), and the vectorizer pads on the right, as that kernel's masks require.
    `patch_size` > 1 merges runs of tokens before the LSTMs (see `embed_tokens`), which then
    read a review that many times faster. On IMDB it overfits after one pass over the data,
    hence a one-epoch recipe over 512 tokens in patches of 4.
    """
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    token_ids = keras.Input(shape=(sequence_length,), dtype="int64", name="token_ids")
    x, padding_mask = embed_tokens(token_ids, vocabulary_size, embedding_dim, patch_size)
    for index in range(num_layers):
        lstm = layers.LSTM(units, return_sequences=index < num_layers - 1)
        x = (layers.Bidirectional(lstm) if bidirectional else lstm)(x, mask=padding_mask)
    x = layers.Dropout(dropout)(x)
    probabilities = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(token_ids, probabilities, name="lstm_text")
