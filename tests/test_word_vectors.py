"""word2vec: skip-grams and negatives counted by hand, word vectors copied row by row into the
word-level models (`--init-from word2vec`), the bag-of-embeddings classifier's padding, and the
shipped vectors on real reviews."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO_ROOT, TINY_MODEL_ARGS, train_tiny

import train
import zoo
import zoo.models  # noqa: F401  (registers standardize_words, which the saved text models name)
from zoo import data
from zoo.errors import UserError
from zoo.store import presets, records, sources
from zoo.tasks import word2vec
from zoo.training import transfer, word_vectors

SENTENCE = [[5, 6, 7, 8, 0, 0]]  # "the film was good", then padding
KEEP_ALL = tf.constant([0.0, 0.0] + [1.0] * 8)  # padding and [UNK] never kept


def pairs_of(words, contexts, weights):
    real = weights.numpy() == 1
    assert (weights.numpy()[~real] == 0).all() and weights.shape[1] % word2vec.PAIRS_MULTIPLE == 0
    return sorted(zip(words.numpy()[real].tolist(), contexts.numpy()[real].tolist()))


def test_skipgram_pairs_of_a_known_sentence_counted_by_hand():
    # Window 1: each neighbour, both ways round, always (a window of 1 never shrinks).
    pairs = pairs_of(*word2vec.skipgram_pairs(tf.constant(SENTENCE, tf.int64), KEEP_ALL, window=1))
    assert pairs == [(5, 6), (6, 5), (6, 7), (7, 6), (7, 8), (8, 7)]
    # Window 2: those six always, and the four pairs two apart each half the time (shrunk window).
    seen = [pairs_of(*word2vec.skipgram_pairs(tf.constant(SENTENCE, tf.int64), KEEP_ALL, window=2))
            for _ in range(400)]
    two_apart = {(5, 7), (7, 5), (6, 8), (8, 6)}
    for pairs in seen:
        assert set(pairs) - two_apart == {(5, 6), (6, 5), (6, 7), (7, 6), (7, 8), (8, 7)}
        assert len(pairs) == len(set(pairs))
    share = np.mean([len(set(pairs) & two_apart) / 4 for pairs in seen])
    assert 0.45 < share < 0.55


def test_subsampled_words_close_ranks_and_are_never_paired():
    keep = tf.constant([0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0])  # id 6 ("film") never kept
    pairs = pairs_of(*word2vec.skipgram_pairs(tf.constant(SENTENCE, tf.int64), keep, window=1))
    assert pairs == [(5, 7), (7, 5), (7, 8), (8, 7)]


def test_subsampling_and_negatives_follow_the_word_counts_as_counted_by_hand():
    counts = np.array([400, 100, 1000, 1])  # padding, [UNK], "the", a rare word
    threshold = word2vec.SUBSAMPLE * 1001  # of the 1,001 words: padding and [UNK] are none
    np.testing.assert_allclose(word2vec.keep_probabilities(counts),
                               [0, 0, (np.sqrt(1000 / threshold) + 1) * threshold / 1000, 1])
    table = word2vec.negative_table(np.array([400, 100, 16, 1]), size=900)
    assert np.bincount(table, minlength=4).tolist() == [0, 0, 800, 100]  # 16 ** 0.75 = 8 to 1 ** 0.75 = 1


def test_a_batch_holds_each_pair_its_context_first_then_negatives_from_the_table():
    table = tf.constant([9] * 10, tf.int64)
    skipgrams, targets, weights = word2vec.skipgram_batch(tf.constant(SENTENCE, tf.int64), KEEP_ALL, table, 1, 3)
    assert skipgrams.shape == (1, word2vec.PAIRS_MULTIPLE, 5) and targets.numpy().max() == 0
    real = skipgrams.numpy()[weights.numpy() == 1]
    assert sorted(map(tuple, real[:, :2].tolist())) == [(5, 6), (6, 5), (6, 7), (7, 6), (7, 8), (8, 7)]
    assert (real[:, 2:] == 9).all()


def word_vector_source(vocabulary, vectors):
    """What `transfer.load_source` makes of a word2vec run: its embedding, vocabulary, summary."""
    embedding = keras.layers.Embedding(len(vocabulary), vectors.shape[1], name="token_embedding")
    embedding.build((None,))
    embedding.set_weights([vectors])
    preprocessor = keras.layers.TextVectorization(vocabulary=vocabulary[2:], output_sequence_length=8)
    summary = records.RunSummary(model="word2vec", dataset="imdb_reviews", modality="text", task="word2vec",
                                 examples={}, parameters=0, hyperparameters={})
    return sources.Source("vectors", {"token_embedding": embedding}, preprocessor, summary)


def embedding_of(model):
    return next(layer for layer in model.layers if isinstance(layer, keras.layers.Embedding))


def test_init_from_word_vectors_copies_exactly_the_rows_of_words_both_vocabularies_hold():
    vectors = np.arange(5 * 8, dtype="float32").reshape(5, 8)
    source = word_vector_source(["", "[UNK]", "good", "bad", "film"], vectors)
    model = zoo.build_model("embedding_bag_text", **TINY_MODEL_ARGS["embedding_bag_text"])
    embedding = embedding_of(model)
    before = embedding.embeddings.numpy().copy()

    copied = transfer.copy_word_vectors(source, model, ["", "[UNK]", "film", "good", "plot"], labelled_examples=900)

    assert copied["copied_rows"] == 2 and copied["vocabulary_rows"] == 5 and copied["projected"] is None
    assert copied["frozen"] and not embedding.trainable  # few labels: the vectors stay as pretrained
    after = embedding.embeddings.numpy()
    np.testing.assert_array_equal(after[2], vectors[4])  # film
    np.testing.assert_array_equal(after[3], vectors[2])  # good
    np.testing.assert_array_equal(after[[0, 1, 4, *range(5, 200)]], before[[0, 1, 4, *range(5, 200)]])


def test_wider_vectors_are_projected_onto_their_principal_components_and_narrower_refused():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 8)).astype("float32") * np.arange(8, 0, -1)  # variance falls along the axes
    source = word_vector_source(["", "[UNK]", "a", "b", "c", "d"], vectors)
    model = zoo.build_model("embedding_bag_text", **{**TINY_MODEL_ARGS["embedding_bag_text"], "embedding_dim": 4})
    copied = transfer.copy_word_vectors(source, model, ["", "[UNK]", "a", "b", "c", "d"], labelled_examples=22500)
    assert not copied["frozen"] and embedding_of(model).trainable  # many labels: fine-tuned
    assert copied["copied_rows"] == 4 and copied["projected"] == "8 -> 4 dimensions (PCA)"
    projected = embedding_of(model).embeddings.numpy()[2:6]
    assert np.isfinite(projected).all()
    np.testing.assert_allclose(projected, transfer.principal_components(vectors, 4)[2:6], rtol=1e-5)
    assert np.all(np.diff(projected.var(axis=0)) <= 1e-6)  # most variance first
    wide = zoo.build_model("embedding_bag_text", **{**TINY_MODEL_ARGS["embedding_bag_text"], "embedding_dim": 16})
    with pytest.raises(UserError, match="its vectors are 8 wide, embedding_bag_text's embedding 16"):
        transfer.copy_word_vectors(source, wide, ["", "[UNK]", "a"], labelled_examples=900)


def test_bert_keeps_its_own_vocabulary_and_gets_the_rows_of_the_words_the_vectors_know():
    vectors = np.ones((4, 8), "float32") * np.arange(4)[:, None]
    source = word_vector_source(["", "[UNK]", "good", "film"], vectors)
    model = zoo.build_model("bert_text", num_classes=2, **TINY_MODEL_ARGS["bert_text"])
    assert transfer.check_preprocessor(source, zoo.get_model_spec("bert_text").make_preprocessor(
        {"vocabulary_size": 200, "sequence_length": 16}), "bert_text") is None  # BERT adapts its own, [CLS] and all
    copied = transfer.copy_word_vectors(source, model, ["", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "film", "good"], 900)
    assert copied["copied_rows"] == 2 and copied["copied_layers"] == ["token_embedding"]
    rows = model.backbone.token_embedding.embeddings.numpy()
    np.testing.assert_array_equal(rows[5:7], [[3] * 8, [2] * 8])


def test_a_vocabulary_with_no_word_in_common_is_a_one_line_error():
    source = word_vector_source(["", "[UNK]", "good", "film"], np.ones((4, 8), "float32"))
    model = zoo.build_model("embedding_bag_text", **TINY_MODEL_ARGS["embedding_bag_text"])
    with pytest.raises(UserError, match="none of the 4 words of this run's vocabulary has a vector there") as error:
        transfer.copy_word_vectors(source, model, ["", "[UNK]", "电", "影"], labelled_examples=900)
    assert "\n" not in str(error.value)


def test_a_taken_vocabulary_that_misses_the_training_texts_is_a_one_line_error():
    english = keras.layers.TextVectorization(vocabulary=["the", "film", "good"], standardize=None)
    texts = tf.data.Dataset.from_tensor_slices(["这 部 电 影 很 好", "the film"] * 10)  # 2 of 8 words known
    with pytest.raises(UserError, match="covers 25% of the training texts' words") as error:
        data.check_coverage(english, texts)
    assert "train from scratch (drop --init-from)" in str(error.value)
    data.check_coverage(english, tf.data.Dataset.from_tensor_slices(["the good film"]))


def test_mean_pooling_ignores_padding_the_same_text_padded_differently_gives_the_same_output():
    short = zoo.build_model("embedding_bag_text", vocabulary_size=50, sequence_length=8)
    long = zoo.build_model("embedding_bag_text", vocabulary_size=50, sequence_length=32)
    long.set_weights(short.get_weights())
    text = [7, 3, 9, 12]
    padded = lambda length: np.array([text + [0] * (length - len(text))])  # noqa: E731
    expected = short(padded(8)).numpy()
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(long(padded(32)), expected, rtol=1e-6)


@pytest.fixture(scope="module")
def vectors_run(tmp_path_factory):
    """A finished tiny word2vec run on mock data."""
    model_dir = tmp_path_factory.mktemp("vectors") / "word2vec"
    train_tiny("word2vec", model_dir)
    return model_dir


def test_a_word2vec_run_saves_texts_to_vectors_and_the_projector_files(vectors_run):
    model = keras.saving.load_model(vectors_run / "model.keras")
    vocabulary, vectors = word_vectors.vocabulary_and_vectors(model)
    assert model(tf.constant(["a text"])).shape == (1, 16, 8)
    assert np.isfinite(vectors).all()
    projector = vectors_run / word_vectors.PROJECTOR_DIR
    assert (projector / "metadata.tsv").read_text(encoding="utf-8").splitlines() == vocabulary[2:]
    np.testing.assert_allclose(np.loadtxt(projector / "vectors.tsv", delimiter="\t"), vectors[2:], atol=1e-5)
    summary = json.loads((vectors_run / "summary.json").read_text())
    assert summary["task"] == "word2vec" and summary["window"] == word2vec.WINDOW
    assert summary["test_metrics"]["examples"] == summary["examples"]["test"]
    word = vocabulary[2]
    neighbours = word_vectors.nearest(model, word, count=3)
    assert len(neighbours) == 3 and word not in [neighbour for neighbour, _ in neighbours]


def test_init_from_a_word2vec_run_takes_its_vocabulary_and_every_vector(vectors_run, tmp_path):
    summary = train_tiny("embedding_bag_text", tmp_path / "bag", init_from=str(vectors_run))
    vocabulary, vectors = word_vectors.vocabulary_and_vectors(keras.saving.load_model(vectors_run / "model.keras"))
    assert summary.init_from["copied_rows"] == len(vocabulary) - 2  # all but padding and [UNK]
    assert summary.init_from["vocabulary_rows"] == len(vocabulary)
    classifier = keras.saving.load_model(tmp_path / "bag" / "model.keras")
    assert classifier.get_layer("text_vectorizer").get_vocabulary() == vocabulary
    # Few labels: the vectors were frozen, and the trained model holds them as they came.
    assert summary.init_from["frozen"]
    rows = embedding_of(classifier.get_layer("embedding_bag_text")).embeddings.numpy()
    np.testing.assert_array_equal(rows[2:len(vocabulary)], vectors[2:])


@pytest.mark.parametrize("model, message", [
    ("mnist_cnn", "a word2vec (word2vec) model holds no layers that mnist_cnn can start from"),
    ("ngram_text", "word vectors start a model's token embedding, and this one reads no token ids"),
])
def test_init_from_word_vectors_into_a_model_without_token_ids_is_a_one_line_error(vectors_run, capsys, tmp_path,
                                                                                     model, message):
    code = train.main(["--model", model, "--init-from", str(vectors_run), "--model-dir", str(tmp_path / "run")])
    stderr = capsys.readouterr().err
    assert code == 2 and message in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_word2vec_trains_on_real_reviews_and_its_vectors_reload_in_plain_keras(real_data_dir, tmp_path):
    model_dir = tmp_path / "vectors"
    result = subprocess.run(
        [sys.executable, "train.py", "--model", "word2vec", "--data-dir", str(real_data_dir), "--model-dir",
         str(model_dir), "--train-split", "unsupervised[:1%]", "--test-split", "unsupervised[99%:]", "--max-steps", "5"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((model_dir / "summary.json").read_text())
    assert summary["test_metrics"]["examples"] == summary["examples"]["test"] == 500
    # Five steps teach little (the neighbours test checks the preset's vectors): the loss is finite
    # and no worse than a guess's, ln 6 (the context among 5 negatives).
    assert 0 <= summary["test_metrics"]["accuracy"] <= 1 and summary["test_metrics"]["loss"] <= np.log(6) + 1e-3
    model = keras.saving.load_model(model_dir / "model.keras")
    once, again = model(tf.constant(["A fine film."])), model(tf.constant(["A fine film."]))
    assert np.isfinite(once).all() and np.array_equal(once, again)
    vocabulary, _ = word_vectors.vocabulary_and_vectors(model)
    assert "film" in vocabulary and len(word_vectors.nearest(model, "film")) == 5
    assert (model_dir / word_vectors.PROJECTOR_DIR / "vectors.tsv").exists()


@pytest.mark.slow
def test_the_word2vec_preset_starts_transformer_text_on_real_reviews(real_data_dir, tmp_path):
    model_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "train.py", "--model", "transformer_text", "--init-from", "word2vec",
         "--data-dir", str(real_data_dir), "--model-dir", str(model_dir), "--train-split", "train[:200]",
         "--test-split", "test[:200]", "--max-steps", "3"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((model_dir / "summary.json").read_text())
    vocabulary = keras.saving.load_model(model_dir / "model.keras").get_layer("text_vectorizer").get_vocabulary()
    shipped, _ = word_vectors.vocabulary_and_vectors(zoo.from_preset("word2vec"))
    assert vocabulary == shipped  # the vectors' vocabulary, not one adapted on 180 reviews
    assert summary["init_from"]["copied_rows"] == len(shipped) - 2 > 19_000
    assert summary["init_from"]["projected"] == "128 -> 32 dimensions (PCA)"
    assert summary["test_metrics"]["examples"] == 200 and np.isfinite(summary["test_metrics"]["accuracy"])


@pytest.mark.slow
def test_the_word2vec_preset_neighbours_are_those_its_card_shows():
    model = zoo.from_preset("word2vec")
    recorded = presets.figures("word2vec")["neighbours"]
    for word, neighbours in recorded.items():
        assert [neighbour for neighbour, _ in word_vectors.nearest(model, word)] == neighbours


def test_bert_mlm_pretrains_from_word_vectors_in_its_own_vocabulary(vectors_run, tmp_path):
    summary = train_tiny("bert_mlm", tmp_path / "mlm", init_from=str(vectors_run), max_steps=2)
    copied = summary.init_from
    assert copied["copied_layers"] == ["token_embedding"] and copied["copied_rows"] > 0
    assert copied["vocabulary_rows"] == summary.other["vocabulary_size"]  # BERT's own, [CLS] and all
    assert copied["frozen"] == (summary.examples["train"] < transfer.FREEZE_BELOW_EXAMPLES)  # 48 mock texts
