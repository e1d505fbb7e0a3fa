"""What a `word2vec` model's vectors hold: each word's nearest neighbours, and the files
TensorBoard's projector shows the space from.

    model = zoo.from_preset("word2vec")
    word_vectors.nearest(model, "excellent")   # [("outstanding", 0.81), ...]
"""

import numpy as np

PROJECTOR_DIR = "projector"
PROJECTOR_CONFIG = """embeddings {
  tensor_path: "vectors.tsv"
  metadata_path: "metadata.tsv"
}
"""
SPECIAL_TOKENS = ("", "[UNK]")  # padding and unknown: no word, no trained vector


def vocabulary_and_vectors(model):
    """The words (by token id) and their vectors, of a `word2vec` model as `model.keras` holds it."""
    preprocessor = next(layer for layer in model.layers if hasattr(layer, "get_vocabulary"))
    vectors = model.get_layer("word_vectors").get_layer("token_embedding").get_weights()[0]
    vocabulary = [str(token) for token in preprocessor.get_vocabulary()]
    return vocabulary, vectors[: len(vocabulary)]


def nearest(model, word, count=5):
    """The `count` words whose vectors are nearest `word`'s (cosine similarity), with it."""
    vocabulary, vectors = vocabulary_and_vectors(model)
    if word not in vocabulary[len(SPECIAL_TOKENS):]:
        raise KeyError(f"{word!r} is not in the vocabulary")
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit[vocabulary.index(word)]
    similarity[[vocabulary.index(word), *range(len(SPECIAL_TOKENS))]] = -np.inf
    best = np.argsort(-similarity)[:count]
    return [(vocabulary[index], float(similarity[index])) for index in best]


def write_projector(model, directory):
    """`vectors.tsv`, `metadata.tsv` (one word a line) and `projector_config.pbtxt` in
    `directory`: point `tensorboard --logdir` at it, or load the two TSVs at projector.tensorflow.org."""
    vocabulary, vectors = vocabulary_and_vectors(model)
    directory.mkdir(parents=True, exist_ok=True)
    words = vocabulary[len(SPECIAL_TOKENS):]
    np.savetxt(directory / "vectors.tsv", vectors[len(SPECIAL_TOKENS):], delimiter="\t", fmt="%.5f")
    # A word holds no tab or newline: the vocabulary comes from whitespace-split text.
    (directory / "metadata.tsv").write_text("".join(f"{word}\n" for word in words), encoding="utf-8")
    (directory / "projector_config.pbtxt").write_text(PROJECTOR_CONFIG)
