"""Transformer encoder text classifiers built from keras-hub layers."""

import keras
import keras_hub
from keras import layers

from zoo.models import text_preprocessing
from zoo.models.text_embedding import embed_tokens
from zoo.registry import register_model
from zoo.search_space import Choice, Float


@register_model(
    "transformer_text",
    modality="text",
    dataset="imdb_reviews",
    serving_input="text",
    preprocessor=text_preprocessing.token_ids,
    epochs=2,
    batch_size=128,
    min_steps=350,  # two epochs of IMDB's 22,500 training reviews: small datasets train as long
    optimizer="adamw",
    learning_rate=2e-3,
    weight_decay=1e-2,
    search_space={
        "learning_rate": Float(5e-4, 5e-3, log=True),
        "weight_decay": Float(1e-3, 1e-1, log=True),
        "dropout": Float(0.0, 0.3),
        "embedding_dim": Choice((32, 64)),
        "num_layers": Choice((1, 2)),
    },
)
def transformer_text(
    vocabulary_size=20000,
    sequence_length=512,
    num_classes=2,
    embedding_dim=32,
    patch_size=8,
    num_heads=2,
    intermediate_dim=64,
    num_layers=1,
    dropout=0.1,
):
    """A transformer encoder classifier over token ids; id 0 is padding, masked in attention.

    `patch_size` > 1 merges runs of tokens before attention (see `embed_tokens`): a review's
    sentiment needs long context more than word-to-word attention, whose cost is quadratic.
    The defaults read 512 tokens as 64 patches; on IMDB, 2 layers or width 64 overfit more.
    """
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    token_ids = keras.Input(shape=(sequence_length,), dtype="int64", name="token_ids")
    x, padding_mask = embed_tokens(token_ids, vocabulary_size, embedding_dim, patch_size)
    x = x + keras_hub.layers.PositionEmbedding(x.shape[1])(x)
    for _ in range(num_layers):
        x = keras_hub.layers.TransformerEncoder(intermediate_dim, num_heads, dropout=dropout)(
            x, padding_mask=padding_mask
        )
    x = layers.GlobalAveragePooling1D()(x, mask=padding_mask)
    x = layers.Dropout(dropout)(x)
    probabilities = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(token_ids, probabilities, name="transformer_text")
