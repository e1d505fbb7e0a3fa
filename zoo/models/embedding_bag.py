"""Bag-of-embeddings text classifiers (fastText's shape, Joulin et al. 2016): the model that pays
most for word vectors pretrained on unlabelled text (`--init-from word2vec`)."""

import keras
from keras import layers

from zoo.models import text_preprocessing
from zoo.models.text_embedding import embed_tokens
from zoo.registry import register_model
from zoo.search_space import Choice, Float


@register_model(
    "embedding_bag_text",
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
        "learning_rate": Float(5e-4, 1e-2, log=True),
        "weight_decay": Float(1e-3, 1e-1, log=True),
        "dropout": Float(0.0, 0.5),
        "embedding_dim": Choice((32, 64, 128)),
    },
    preset_files={  # presets/embedding_bag_text/, made by benchmarks/publish_presets.py
        "README.md": "2134f96a7f4df816313c512bfd1fc1ecf38dbef83d1bda2b6ba46711317e9796",
        "confusion_matrix.png": "aeaff341ed183d2ccec6ef775ac00af569dd8feced7dec224eaaa73c0095dcb2",
        "evaluation.json": "7b8111d2ef622ff473a4702f2c72996667b17525eb375cd0348e9b049663285c",
        "model.keras": "3fe1283aba1bf63e2d6478b5b1490e83100d9436b1a7ac15e7c5060b70212680",
        "preset.json": "ded7c02328e4f76581149b1cd84722e0cad6da6c543d7429a9079407b22b4cc1",
        "summary.json": "46b5e2742f7252e9e70b54e57baaa3a7998a4545c3a2542095333c9cb591fe25",
    },
)
def embedding_bag_text(vocabulary_size=20000, sequence_length=512, num_classes=2, embedding_dim=128, dropout=0.5):
    """A linear classifier over the mean of a text's token embeddings, padding left out.

    Its `embedding_dim` is that of `word2vec`'s vectors, so that it can start from them whole.
    """
    token_ids = keras.Input(shape=(sequence_length,), dtype="int64", name="token_ids")
    x, padding_mask = embed_tokens(token_ids, vocabulary_size, embedding_dim)
    x = layers.GlobalAveragePooling1D()(x, mask=padding_mask)
    x = layers.BatchNormalization(momentum=0.9)(x)  # the mean of static word vectors is small: scaled for the head
    x = layers.Dropout(dropout)(x)
    probabilities = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(token_ids, probabilities, name="embedding_bag_text")
