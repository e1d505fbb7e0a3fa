"""How far a linear classifier over word vectors can go on 1,000 IMDB labels: the ceiling that
`embedding_bag_text --init-from word2vec` is measured against in the learning curve.

    python benchmarks/word_vector_ceiling.py --data-dir ../shared/tensorflow_datasets

On the learning curve's three 1,000-label draws (`train[0:1000]`, `train[1000:2000]`,
`train[2000:3000]`), scored on the whole test split, logistic regressions (scikit-learn, the
best of C in 1, 10, 100 reported per feature) over: tf-idf 1-2-grams; multi-hot 1-2-grams
(`ngram_text`'s features); the mean of the shipped `word2vec` preset's vectors (its 20,000-word
vocabulary, 512 tokens); and the mean of gensim skip-gram vectors (128-d, window 5, 5 epochs,
min_count 5) trained on the unlabelled and training reviews, as the issue's feasibility check.
Two more ask what would lift it: the mean weighted by how rare a word is (SIF, Arora et al. 2017,
a/(a + p(word)) with p from the vocabulary's frequency rank), and tf-idf 1-2-grams beside the
plain mean (a review's words and its meaning together). `--without-gensim` skips the gensim
row (34 min here). Needs gensim and scikit-learn (`pip install gensim scikit-learn`).
"""

import argparse
import json
import pathlib
import platform
import re
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, unused_stem  # noqa: E402

DRAWS = [f"train[{draw * 1000}:{(draw + 1) * 1000}]" for draw in range(3)]
C_VALUES = (1, 10, 100)


def load(split, data_dir):
    import tensorflow_datasets as tfds

    dataset = tfds.load("imdb_reviews", split=split, data_dir=data_dir, as_supervised=True)
    texts, labels = zip(*[(text.decode(), label) for text, label in tfds.as_numpy(dataset)])
    return list(texts), np.array(labels)


def without_markup(texts):
    """IMDB's reviews with their `<br />` line breaks as spaces."""
    return [text.replace("<br />", " ") for text in texts]


def best_logistic_regression(features, draws, test, c_values=C_VALUES):
    """{C: (accuracy per draw, mean)} and the best C, each draw fitted on its own features."""
    from sklearn.linear_model import LogisticRegression

    scores = {}
    for c in c_values:
        accuracies = []
        for texts, labels in draws:
            train_x, test_x = features(texts, test[0])
            accuracies.append(LogisticRegression(C=c, max_iter=5000).fit(train_x, labels).score(test_x, test[1]))
        scores[c] = [round(100 * a, 2) for a in accuracies]
    best = max(scores, key=lambda c: np.mean(scores[c]))
    return {"by_C": scores, "best_C": best, "mean": round(float(np.mean(scores[best])), 2)}


def vectorizer_features(make):
    def features(train_texts, test_texts):
        vectorizer = make()
        return vectorizer.fit_transform(train_texts), vectorizer.transform(test_texts)
    return features


def mean_vectors(embed):
    return lambda train_texts, test_texts: (embed(train_texts), embed(test_texts))


def beside(*features):
    """The columns of each of `features` side by side (sparse)."""
    from scipy import sparse

    def joined(train_texts, test_texts):
        parts = [make(train_texts, test_texts) for make in features]
        return tuple(sparse.hstack([sparse.csr_matrix(part[i]) for part in parts]).tocsr() for i in (0, 1))
    return joined


def sif_weights(vocabulary_size, a=1e-2):
    """SIF's a/(a + p(word)), p from Zipf's law over the frequency-sorted vocabulary (ids 0 and 1,
    padding and unknown, are left out of the mean anyway)."""
    rank = np.maximum(np.arange(vocabulary_size) - 1, 1)
    return a / (a + 1 / (rank * (np.log(vocabulary_size) + np.euler_gamma)))


def preset_embedder(weighted=False):
    """The mean of the word2vec preset's vectors over a text's in-vocabulary tokens, as its own
    preprocessing reads the text; `weighted`, each vector weighted by `sif_weights` first."""
    import tensorflow as tf

    import zoo
    from zoo.training.word_vectors import vocabulary_and_vectors

    model = zoo.from_preset("word2vec")
    _, vectors = vocabulary_and_vectors(model)
    weights = sif_weights(len(vectors)) if weighted else np.ones(len(vectors))
    preprocessor = next(layer for layer in model.layers if hasattr(layer, "get_vocabulary"))

    def embed(texts):
        rows = []
        for start in range(0, len(texts), 500):
            ids = preprocessor(tf.constant(texts[start:start + 500])).numpy()
            known = ids > 1  # 0 pads, 1 is out of vocabulary
            rows.append((vectors[ids] * (known * weights[ids])[..., None]).sum(1)
                        / np.maximum(known.sum(1, keepdims=True), 1))
        return np.concatenate(rows)
    return embed


def gensim_embedder(data_dir):
    from gensim.models import Word2Vec

    def words(text):
        return re.findall(r"[a-z0-9']+", text.lower().replace("<br />", " "))

    corpus = load("unsupervised", data_dir)[0] + load("train", data_dir)[0]
    start = time.time()
    vectors = Word2Vec([words(text) for text in corpus], vector_size=128, window=5, sg=1, epochs=5, workers=2,
                       min_count=5).wv
    print(f"gensim word2vec: {len(vectors)} words in {time.time() - start:.0f} s", flush=True)

    def embed(texts):
        rows = []
        for text in texts:
            known = [word for word in words(text) if word in vectors]
            rows.append(np.mean([vectors[word] for word in known], 0) if known else np.zeros(128))
        return np.array(rows)
    return embed, len(vectors)


def write_scores(rows, draws, test, name, c_values=C_VALUES, **fields):
    """Scores each of `rows` ({name: features}) with `best_logistic_regression` and writes them, with
    `fields`, to benchmarks/results/cpu2-<date>-`name`.json, never over an earlier file."""
    results = {"draws": DRAWS, "test": "test (25,000 reviews)", **fields,
               "machine": f"{platform.machine()}, 2 cores, no GPU", "rows": {}}
    for row, features in rows.items():
        results["rows"][row] = best_logistic_regression(features, draws, test, c_values)
        print(row, results["rows"][row], flush=True)
    out = RESULTS_DIR / f"{unused_stem(RESULTS_DIR, 'cpu2-' + time.strftime('%Y-%m-%d') + '-' + name)}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


def main():
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--without-gensim", action="store_true", help="skip the gensim vectors (34 min)")
    args = parser.parse_args()
    test = load("test", args.data_dir)
    draws = [load(split, args.data_dir) for split in DRAWS]
    tf_idf = vectorizer_features(lambda: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True))
    preset_mean = mean_vectors(preset_embedder())
    rows = {
        "tf-idf 1-2-grams": tf_idf,
        "multi-hot 1-2-grams": vectorizer_features(lambda: CountVectorizer(ngram_range=(1, 2), binary=True)),
        "mean of the word2vec preset's vectors": preset_mean,
        "SIF-weighted mean of the word2vec preset's vectors": mean_vectors(preset_embedder(weighted=True)),
        "tf-idf 1-2-grams beside the mean of the word2vec preset's vectors": beside(tf_idf, preset_mean),
    }
    if not args.without_gensim:
        gensim_embed, gensim_words = gensim_embedder(args.data_dir)
        rows[f"mean of gensim's vectors ({gensim_words} words)"] = mean_vectors(gensim_embed)
    write_scores(rows, draws, test, "word-vector-ceiling")


if __name__ == "__main__":
    main()
