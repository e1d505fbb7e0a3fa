"""Word vectors from unlabelled text: skip-gram with negative sampling, as word2vec trains them
and keras-io's word2vec example does in Keras. Each word of a text predicts the words around it,
against `negatives` words drawn at random; frequent words are subsampled.

Each batch row stays a text (its skip-grams padded, padding weighing 0), so a step learns from
every pair of its texts and the evaluations count texts, as the other tasks' do. The pairs are
drawn anew on every pass, from the training split's word counts:
- a word is kept with word2vec's probability (sqrt(f / t) + 1) * t / f, f its share of the
  words and t = `SUBSAMPLE`, so "the" and "a" stop crowding out the rest;
- a pair at distance d is used with probability (window - d + 1) / window (word2vec's shrunk
  window: near words count more);
- negatives are drawn from the word counts to the power 3/4, as word2vec draws them.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from zoo.console import progress_verbosity
from zoo.models.text_model import TextModel
from zoo.tasks.base import Task, compile_token_predictions
from zoo.training import word_vectors

WINDOW = 5
SUBSAMPLE = 1e-3  # gensim's default `sample`
NEGATIVE_POWER = 0.75
NEGATIVE_TABLE_SIZE = 1_000_000  # word2vec's table of words to draw negatives from, uniformly
SPECIAL_IDS = (0, 1)  # padding and [UNK]: never a word or a context
PAIRS_MULTIPLE = 256  # a batch's pairs per text are padded to a multiple of it: few shapes for XLA to compile


class Word2Vec(Task):
    monitor = "val_accuracy"  # how often the true context scores above the negatives
    exportable = False  # vectors to start a classifier from (--init-from), not a model to serve

    def load_data(self, spec, settings, config, preprocessor=None):
        """Texts from the splits the spec names (labels unused), as skip-grams drawn anew on
        every pass, with the count-based probabilities from the training split."""
        datasets = super().load_data(spec, settings, config, preprocessor)
        counts = token_counts(datasets.train, settings["model_args"]["vocabulary_size"])
        keep = tf.constant(keep_probabilities(counts), tf.float32)
        table = tf.constant(negative_table(counts), tf.int64)
        negatives = settings["model_args"]["negatives"]
        skipgrams = {
            split: getattr(datasets, split).map(
                lambda token_ids, labels: skipgram_batch(token_ids, keep, table, WINDOW, negatives),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            for split in ("train", "validation", "test") if getattr(datasets, split) is not None
        }
        return dataclasses.replace(datasets, **skipgrams)

    def compile(self, model, optimizer, jit_compile=False):
        # Means over real pairs: the padding of a text's pairs weighs 0.
        compile_token_predictions(model, optimizer, jit_compile)

    def saved_model(self, model, datasets):
        """Texts in, their words' vectors out (`token_embedding`, sharing the trained weights)."""
        token_ids = keras.Input(shape=(None,), dtype="int64", name="token_ids")
        vectors = keras.Model(token_ids, model.get_layer("token_embedding")(token_ids), name="word_vectors")
        texts = keras.Input(shape=(), dtype="string", name="text")
        return TextModel(texts, vectors(datasets.preprocessor(texts)), name=model.name)

    def save(self, model, datasets, model_dir):
        """`model.keras`, and the vectors as TensorBoard projector files (`projector/`)."""
        saved = super().save(model, datasets, model_dir)
        word_vectors.write_projector(saved, model_dir / word_vectors.PROJECTOR_DIR)
        return saved

    def summary(self, datasets):
        return {"window": WINDOW, "subsample": SUBSAMPLE,
                "vocabulary_size": len(datasets.preprocessor.get_vocabulary())}


def token_counts(batches, vocabulary_size):
    """How often each token id occurs in `batches` of (token ids, labels), padding and [UNK] included."""
    print("Counting the words of the training split")
    counts = np.zeros(vocabulary_size, np.int64)
    progress = keras.utils.Progbar(int(batches.cardinality()), unit_name="batch", verbose=progress_verbosity())
    for token_ids, _ in batches:
        counts += np.bincount(token_ids.numpy().ravel(), minlength=vocabulary_size)[:vocabulary_size]
        progress.add(1)
    return counts


def keep_probabilities(counts):
    """Each id's chance of being kept in a text: word2vec's subsampling of frequent words;
    padding and [UNK] are never kept."""
    words = counts.astype(np.float64)
    words[list(SPECIAL_IDS)] = 0
    threshold = SUBSAMPLE * words.sum()
    with np.errstate(divide="ignore", invalid="ignore"):  # a count of 0: never seen, never kept
        keep = (np.sqrt(words / threshold) + 1) * threshold / words
    keep = np.minimum(np.nan_to_num(keep, posinf=1.0), 1.0)
    keep[list(SPECIAL_IDS)] = 0
    return keep


def negative_table(counts, size=NEGATIVE_TABLE_SIZE):
    """`size` ids, each as often as its count to the power 3/4 says: a uniform draw from it is a
    negative. Padding and [UNK] are never drawn."""
    weights = counts.astype(np.float64) ** NEGATIVE_POWER
    weights[list(SPECIAL_IDS)] = 0
    if weights.sum() == 0:
        raise ValueError("the training texts hold no word of the vocabulary to draw negatives from")
    copies = np.round(weights / weights.sum() * size).astype(np.int64)
    return np.repeat(np.arange(len(counts)), copies)


def skipgram_pairs(token_ids, keep_probability, window):
    """(words, contexts, weights), each [texts, pairs]: every pair of kept words at most `window`
    apart in each text, both ways round, the pairs at distance d each kept with probability
    (window - d + 1) / window; padded with 0s, weight 0, to a multiple of `PAIRS_MULTIPLE`."""
    kept = tf.random.uniform(tf.shape(token_ids)) < tf.gather(keep_probability, token_ids)
    kept_ids = tf.ragged.boolean_mask(token_ids, kept).to_tensor()  # subsampled words close ranks
    words, contexts = [], []
    for distance in range(1, window + 1):
        left, right = kept_ids[:, :-distance], kept_ids[:, distance:]
        real = tf.logical_and(left != 0, right != 0)
        for word, context in ((left, right), (right, left)):
            used = tf.logical_and(real, tf.random.uniform(tf.shape(word)) < (window - distance + 1) / window)
            words.append(tf.ragged.boolean_mask(word, used))
            contexts.append(tf.ragged.boolean_mask(context, used))
    words, contexts = tf.concat(words, axis=1), tf.concat(contexts, axis=1)
    padded = (words.bounding_shape(axis=1) // PAIRS_MULTIPLE + 1) * PAIRS_MULTIPLE
    shape = tf.stack([words.nrows(), padded])
    return (words.to_tensor(shape=shape), contexts.to_tensor(shape=shape),
            tf.ones_like(words, tf.float32).to_tensor(shape=shape))


def skipgram_batch(token_ids, keep_probability, negative_table, window, negatives):
    """(skip-grams [texts, pairs, 2 + negatives], targets, weights): each pair's word, context and
    `negatives` ids drawn from `negative_table`; the target is 0, the context's slot."""
    words, contexts, weights = skipgram_pairs(token_ids, keep_probability, window)
    draws = tf.random.uniform(tf.concat([tf.shape(words), [negatives]], 0), maxval=tf.size(negative_table, tf.int64),
                              dtype=tf.int64)
    skipgrams = tf.concat([words[..., None], contexts[..., None], tf.gather(negative_table, draws)], axis=-1)
    return skipgrams, tf.zeros_like(words), weights


TASK = Word2Vec()
