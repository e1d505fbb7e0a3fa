"""Does document-level pretraining lift the word-vector ceiling at 1,000 IMDB labels? The zoo's
`vampire` (VAMPIRE, Gururangan et al. 2019: a bag-of-words VAE pretrained on the unlabelled and
training reviews) gives each review its encoder's layers and topic proportions, scored alone and
beside the mean of the `word2vec` preset's vectors.

    python benchmarks/vampire_features.py --data-dir ../shared/tensorflow_datasets [--vampire RUN_DIR]

`--vampire` is a run of `python train.py --model vampire` or a preset (default: the shipped one).
Scored as `word_vector_ceiling.py` scores: logistic regressions on the same three 1,000-label
draws, the whole test split, features standardised on the labelled reviews, best C reported.
Needs scikit-learn. Results go to benchmarks/results/<machine>-<date>-vampire-features.json.
"""

import argparse
import pathlib
import sys

import keras
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import word_vector_ceiling as ceiling  # noqa: E402

C_VALUES = (0.003, 0.01, 0.03, 0.1, 1)


def vampire_embedder(run_or_preset):
    """A list of texts' VAMPIRE features, from the texts-to-features model of `run_or_preset`."""
    import zoo  # noqa: F401  (registers the zoo's objects, which the saved model names)
    from zoo.store import presets

    model = keras.saving.load_model(presets.resolve(run_or_preset) / "model.keras")
    return lambda texts: model.predict(texts, batch_size=1000, verbose=0)


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
    parser.add_argument("--vampire", default="vampire", help="a vampire run dir or preset (default: the preset)")
    args = parser.parse_args()
    vampire_features, word_vectors = vampire_embedder(args.vampire), ceiling.preset_embedder()
    rows = {
        "VAMPIRE's features": standardised(vampire_features),
        "mean of the word2vec preset's vectors": standardised(word_vectors),
        "mean of the word2vec preset's vectors beside VAMPIRE's features": standardised(word_vectors, vampire_features),
    }
    test = ceiling.load("test", args.data_dir)
    draws = [ceiling.load(split, args.data_dir) for split in ceiling.DRAWS]
    ceiling.write_scores(rows, draws, test, "vampire-features", C_VALUES, vampire=args.vampire)


if __name__ == "__main__":
    main()
