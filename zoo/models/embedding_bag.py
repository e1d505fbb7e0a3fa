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
)
def embedding_bag_text(vocabulary_size=20000, sequence_length=512, num_classes=2, embedding_dim=128, dropout=0.5,
                       document_features=0):
    """A linear classifier over the mean of a text's token embeddings, padding left out.

    Its `embedding_dim` is that of `word2vec`'s vectors, so that it can start from them whole.
    With `document_features` (their width, which `train.py --features-from vampire` sets) it also
    reads each text's pretrained document features beside the mean (VAMPIRE's use of them).
    """
    token_ids = keras.Input(shape=(sequence_length,), dtype="int64", name="token_ids")
    x, padding_mask = embed_tokens(token_ids, vocabulary_size, embedding_dim)
    x = layers.GlobalAveragePooling1D()(x, mask=padding_mask)
    x = layers.BatchNormalization(momentum=0.9)(x)  # the mean of static word vectors is small: scaled for the head
    inputs = token_ids
    if document_features:
        features = keras.Input(shape=(document_features,), name="document_features")
        x = layers.Concatenate()([x, layers.BatchNormalization(momentum=0.9)(features)])
        inputs = {"token_ids": token_ids, "document_features": features}
    x = layers.Dropout(dropout)(x)
    probabilities = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, probabilities, name="embedding_bag_text")
