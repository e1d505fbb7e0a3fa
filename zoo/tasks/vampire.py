"""VAMPIRE's pretraining (Gururangan et al. 2019): a variational autoencoder of bags of words. A
text's word counts are encoded into a logistic-normal posterior over topics; topics drawn from
it are decoded into word probabilities over the corpus' background log-frequencies; the loss is
the counts' negative log-likelihood plus the posterior's KL divergence from the prior, the KL
term's weight rising along a sigmoid over the epochs (VAMPIRE's annealing) so the encoder first
learns to describe texts. Labels are unused; the texts are the targets.
"""


import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from zoo.console import progress_verbosity
from zoo.models.text_model import TextModel
from zoo.tasks.base import Task

KL_ANNEALING_RATE = 0.25  # VAMPIRE's sigmoid: weight 1 / (1 + exp(-rate (epoch - midpoint)))
KL_ANNEALING_MIDPOINT = 15
TOPIC_DROPOUT = 0.2
TOPIC_WORDS_SHOWN = 8


class Vampire(Task):
    monitor = "val_elbo"  # the evidence lower bound per text, with the whole KL term
    exportable = False
    used_for = "its features of texts go beside a classifier's (zoo.from_preset(NAME)(texts))"

    def training_model(self, model, datasets):
        """The VAE around `model`'s encoder and decoder, over the training split's background word
        frequencies, annealing over its epochs."""
        background = background_log_frequency(datasets.train, vocabulary_size=model.input_shape[-1])
        self.trainer = VampireTrainer(model, background, steps_per_epoch=int(datasets.train.cardinality()))
        return self.trainer

    def compile(self, model, optimizer, jit_compile=False):
        model.compile(optimizer=optimizer, jit_compile=False)  # XLA has no sparse matmul

    def saved_model(self, model, datasets):
        """Texts in, their features out, sharing the trained weights."""
        texts = keras.Input(shape=(), dtype="string", name="text")
        return TextModel(texts, model.vampire(datasets.preprocessor(texts))["features"], name=model.vampire.name)

    def summary(self, datasets):
        """Each topic's most likely words: a check anyone can read that the topics mean something."""
        vocabulary = datasets.preprocessor.get_vocabulary()
        return {"vocabulary_size": len(vocabulary), "topics": topic_words(self.trainer.vampire, vocabulary)}


class VampireTrainer(keras.Model):
    """Trains `vampire` (the registered model) as a VAE: the sampled topics go through its
    `topic_words` decoder, over `background` and a batch normalisation of the words' logits."""

    def __init__(self, vampire, background, steps_per_epoch, **kwargs):
        super().__init__(**kwargs)
        self.vampire = vampire
        self.background = ops.convert_to_tensor(background, "float32")
        self.steps_per_epoch = steps_per_epoch
        self.known_words = ops.convert_to_tensor(np.arange(len(background)) > 0, "float32")  # id 0: unknown
        self.seeds = keras.random.SeedGenerator()  # the topics' draws
        self.topic_dropout = layers.Dropout(TOPIC_DROPOUT)
        self.word_norm = layers.BatchNormalization(center=False, scale=False)
        num_topics = vampire.get_layer("topic_mean").units
        self.prior_variance = 1.0 - 1.0 / num_topics  # Dirichlet(1)'s Laplace approximation
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction", "kl", "elbo")}
        self.examples = keras.metrics.Sum(name="examples")

    @property
    def metrics(self):
        return [*self.trackers.values(), self.examples]

    def kl_weight(self):
        epoch = ops.cast(self.optimizer.iterations, "float32") / self.steps_per_epoch
        return ops.sigmoid(KL_ANNEALING_RATE * (epoch - KL_ANNEALING_MIDPOINT))

    def call(self, counts, training=False):
        """(word logits, topic mean, topic log-variance) of `counts`; in training, the logits are
        of topics drawn from the posterior, with dropout."""
        outputs = self.vampire(counts, training=training)
        mean, log_variance = outputs["mean"], outputs["log_variance"]
        sample = mean
        if training:
            sample += ops.exp(0.5 * log_variance) * keras.random.normal(ops.shape(mean), seed=self.seeds)
        topics = ops.softmax(self.topic_dropout(sample, training=training))
        logits = self.word_norm(self.vampire.get_layer("topic_words")(topics) + self.background, training=training)
        return logits, mean, log_variance

    def losses_of(self, counts, training):
        """(reconstruction, KL) per text."""
        logits, mean, log_variance = self(counts, training=training)
        counts = tf.sparse.to_dense(counts) if isinstance(counts, tf.SparseTensor) else counts
        words = ops.cast(counts, "float32") * self.known_words  # the unknown ones are no word to reconstruct
        reconstruction = -ops.sum(words * ops.log_softmax(logits), axis=-1)
        kl = 0.5 * ops.sum((ops.exp(log_variance) + ops.square(mean)) / self.prior_variance - 1.0 - log_variance
                           + np.log(self.prior_variance), axis=-1)
        return reconstruction, kl

    def record(self, reconstruction, kl, loss):
        for name, value in (("loss", loss), ("reconstruction", reconstruction), ("kl", kl),
                            ("elbo", -(reconstruction + kl))):
            self.trackers[name].update_state(value)
        self.examples.update_state(ops.cast(ops.shape(reconstruction)[0], "float32"))
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        counts, _, _ = keras.utils.unpack_x_y_sample_weight(data)  # the texts are the targets
        with tf.GradientTape() as tape:
            reconstruction, kl = self.losses_of(counts, training=True)
            loss = ops.mean(reconstruction + self.kl_weight() * kl)
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        return self.record(reconstruction, kl, ops.full_like(reconstruction, loss))

    def test_step(self, data):
        counts, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        reconstruction, kl = self.losses_of(counts, training=False)
        return self.record(reconstruction, kl, reconstruction + kl)


def background_log_frequency(batches, vocabulary_size):
    """The log of each word's share of the words in `batches` of (counts, labels), smoothed by one."""
    print("Counting the words of the training split")
    counts = np.zeros(vocabulary_size)
    progress = keras.utils.Progbar(int(batches.cardinality()), unit_name="batch", verbose=progress_verbosity())
    for word_counts, _ in batches:
        sum_over_texts = tf.sparse.reduce_sum if isinstance(word_counts, tf.SparseTensor) else tf.reduce_sum
        counts += sum_over_texts(word_counts, axis=0).numpy()
        progress.add(1)
    return np.log(counts + 1) - np.log(counts.sum() + vocabulary_size)


def topic_words(vampire, vocabulary, count=TOPIC_WORDS_SHOWN):
    """Each topic's `count` most likely words (a string each) by `vampire`'s decoder, `vocabulary`
    giving the words of its counts' ids; of a run's or preset's texts-to-features model,
    `topic_words(model.get_layer("vampire"), model.get_layer("text_vectorizer").get_vocabulary())`."""
    vocabulary = [str(word) for word in vocabulary]
    weights = ops.convert_to_numpy(vampire.get_layer("topic_words").kernel)
    words = weights[:, 1:len(vocabulary)]  # [UNK] and the ids a small corpus left unused are no words
    top = np.argsort(-words, axis=1)[:, :count] + 1
    return [" ".join(vocabulary[i] for i in row) for row in top]


TASK = Vampire()
