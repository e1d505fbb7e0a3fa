"""Word vectors learnt from unlabelled text: skip-gram with negative sampling (Mikolov et al.
2013), as keras-io's word2vec example trains it. Fine-tune a word-level classifier from them with
`train.py --init-from word2vec`."""

import keras
from keras import layers, ops

from zoo.models import text_preprocessing
from zoo.registry import register_model


@register_model(
    "word2vec",
    modality="text",
    task="word2vec",
    dataset="imdb_reviews",
    # The unlabelled reviews and the training reviews, never the test ones.
    train_split="unsupervised[:98%]+train",
    validation_split="unsupervised[98%:99%]",
    test_split="unsupervised[99%:]",
    serving_input="text",
    preprocessor=text_preprocessing.token_ids,
    epochs=3,
    batch_size=32,  # texts: a step learns from all their skip-gram pairs (about 25,000)
    learning_rate=3e-3,
    jit_compile=True,  # three times faster steps on a CPU
)
def word2vec(vocabulary_size=20000, sequence_length=512, embedding_dim=128, negatives=5):
    """Skip-gram scores: for each (word, its context word, `negatives` sampled words), how well the
    word's vector matches each other word's context vector (logits; the true context is first).

    The input is a batch of texts' skip-grams, `[word, context, *negatives]` ids each, padded;
    `token_embedding` holds the word vectors. `sequence_length` is the longest text read, in
    tokens; `vocabulary_size` that of the word-level classifiers, so that they can take it whole.
    """
    if negatives < 1:
        raise ValueError(f"negatives must be at least 1, got {negatives}")
    skipgrams = keras.Input(shape=(None, 2 + negatives), dtype="int64", name="skipgrams")
    words = layers.Embedding(vocabulary_size, embedding_dim, name="token_embedding")(skipgrams[..., 0])
    # Context vectors start at zero, as in word2vec's own code.
    contexts = layers.Embedding(vocabulary_size, embedding_dim, embeddings_initializer="zeros",
                                name="context_embedding")(skipgrams[..., 1:])
    logits = ops.einsum("bpd,bpcd->bpc", words, contexts)
    return keras.Model(skipgrams, layers.Activation("linear", dtype="float32", name="logits")(logits),
                       name="word2vec")
