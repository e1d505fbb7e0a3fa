"""Does document-level pretraining lift the word-vector ceiling at 1,000 IMDB labels? VAMPIRE
(Gururangan et al. 2019): a bag-of-words VAE pretrained on the unlabelled and training reviews,
whose encoder's layers are features of a review beside the mean of its word vectors.

    python benchmarks/vampire_features.py --data-dir ../shared/tensorflow_datasets

VAMPIRE's IMDB recipe (allenai/vampire `environments/environments.py`): the 30,000 most frequent
words with stop words left out, counts in; two softplus layers of 64; a 64-topic logistic-normal
latent (the Dirichlet(1) prior's Laplace approximation), dropout 0.2 on it; a decoder from topics
to words over the corpus' background log-frequencies, batch-normalised; the KL term's weight
annealed by a sigmoid over the epochs; Adam 1e-3. Features of a review are its two hidden layers
and its topic proportions (the softmax of the latent mean), as VAMPIRE hands its downstream model.
Scored as `word_vector_ceiling.py` scores: logistic regressions on the same three 1,000-label
draws, the whole test split, features standardised on the labelled reviews, best C reported.
Needs scikit-learn. Results go to benchmarks/results/<machine>-<date>-vampire-features.json.
"""

import argparse
import pathlib
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import word_vector_ceiling as ceiling  # noqa: E402

VOCABULARY_SIZE = 30_000
HIDDEN_DIM = 64
NUM_TOPICS = 64
BATCH_SIZE = 200
C_VALUES = (0.003, 0.01, 0.03, 0.1, 1)


class Vampire(keras.Model):
    """VAMPIRE's VAE over bag-of-words counts; `call` gives a review's features."""

    def __init__(self, background_log_frequency, **kwargs):
        super().__init__(**kwargs)
        self.hidden = [layers.Dense(HIDDEN_DIM, activation="softplus") for _ in range(2)]
        self.mean = layers.Dense(NUM_TOPICS)
        self.log_variance = layers.Dense(NUM_TOPICS)
        self.topic_dropout = layers.Dropout(0.2)
        self.decoder = layers.Dense(len(background_log_frequency), use_bias=False)
        self.reconstruction_norm = layers.BatchNormalization(center=False, scale=False)
        self.background = ops.convert_to_tensor(background_log_frequency, "float32")
        self.prior_variance = 1.0 - 1.0 / NUM_TOPICS  # Laplace approximation of Dirichlet(1)
        self.kl_weight = keras.Variable(0.0, trainable=False, name="kl_weight")

    def encode(self, counts):
        first = self.hidden[0](counts)
        second = self.hidden[1](first)
        return first, second, self.mean(second), self.log_variance(second)

    def call(self, counts):
        first, second, mean, _ = self.encode(counts)
        return ops.concatenate([first, second, ops.softmax(mean)], axis=-1)

    def train_step(self, counts):
        with tf.GradientTape() as tape:
            _, _, mean, log_variance = self.encode(counts)
            latent = mean + ops.exp(0.5 * log_variance) * keras.random.normal(ops.shape(mean))
            topics = ops.softmax(self.topic_dropout(latent, training=True))
            words = self.reconstruction_norm(self.decoder(topics) + self.background, training=True)
            reconstruction = -ops.sum(tf.sparse.to_dense(counts) * ops.log_softmax(words), axis=-1)
            kl = 0.5 * ops.sum(ops.exp(log_variance) / self.prior_variance + ops.square(mean) / self.prior_variance
                               - 1.0 - log_variance + np.log(self.prior_variance), axis=-1)
            loss = ops.mean(reconstruction + self.kl_weight * kl)
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        return {"reconstruction": ops.mean(reconstruction), "kl": ops.mean(kl)}


class SigmoidKLAnnealing(keras.callbacks.Callback):
    """VAMPIRE's KL weight: 1 / (1 + exp(-0.25 (epoch - 15)))."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model.kl_weight.assign(1.0 / (1.0 + np.exp(-0.25 * (epoch - 15))))


def bag_of_words(texts, counter):
    """Count rows of `texts` as a batched tf.data pipeline of sparse tensors."""
    rows = counter.transform(ceiling.without_markup(texts)).astype(np.float32).tocoo()
    sparse = tf.sparse.reorder(tf.SparseTensor(np.stack([rows.row, rows.col], 1).astype(np.int64), rows.data,
                                               rows.shape))
    return tf.data.Dataset.from_tensor_slices(sparse)


def pretrain(texts, epochs, batch_size=BATCH_SIZE):
    """A VAMPIRE fitted on `texts`, the vocabulary it counts, and its training history."""
    from sklearn.feature_extraction.text import CountVectorizer

    counter = CountVectorizer(max_features=VOCABULARY_SIZE, stop_words="english", token_pattern=r"(?u)\b[a-z][a-z]+\b")
    counts = counter.fit_transform(ceiling.without_markup(texts))
    background = np.log(np.asarray(counts.sum(0)).ravel() + 1) - np.log(counts.sum() + counts.shape[1])
    keras.utils.set_random_seed(0)
    model = Vampire(background)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)  # XLA has no sparse matmul
    data = bag_of_words(texts, counter).shuffle(len(texts), seed=0).batch(batch_size, drop_remainder=True)
    history = model.fit(data, epochs=epochs, callbacks=[SigmoidKLAnnealing()], verbose=2)
    return model, counter, history.history


def standardised(*embedders):
    """Features of each embedder side by side, scaled to unit variance on the labelled reviews;
    each embedder runs once per list of texts."""
    from sklearn.preprocessing import StandardScaler

    memo = {}

    def embed(embedder, texts):
        if (embedder, id(texts)) not in memo:
            memo[embedder, id(texts)] = embedder(texts)
        return memo[embedder, id(texts)]

    def features(train_texts, test_texts):
        train, test = (np.concatenate([embed(e, texts) for e in embedders], 1) for texts in (train_texts, test_texts))
        scaler = StandardScaler().fit(train)
        return scaler.transform(train), scaler.transform(test)
    return features


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    started = time.time()
    vampire, counter, _ = pretrain(ceiling.load("unsupervised", args.data_dir)[0] + ceiling.load("train", args.data_dir)[0],
                                args.epochs)
    minutes = (time.time() - started) / 60

    def vampire_features(texts):
        return vampire.predict(bag_of_words(texts, counter).batch(1000), verbose=0)

    word_vectors = ceiling.preset_embedder()
    rows = {
        "VAMPIRE's features": standardised(vampire_features),
        "mean of the word2vec preset's vectors": standardised(word_vectors),
        "mean of the word2vec preset's vectors beside VAMPIRE's features": standardised(word_vectors, vampire_features),
    }
    test = ceiling.load("test", args.data_dir)
    draws = [ceiling.load(split, args.data_dir) for split in ceiling.DRAWS]
    ceiling.write_scores(rows, draws, test, "vampire-features", C_VALUES, epochs=args.epochs,
                         pretraining_minutes=round(minutes, 1))

if __name__ == "__main__":
    main()
