"""VAMPIRE: the words it counts, its loss and annealing, and a run's texts-to-features model."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT, TINY_MODEL_ARGS, train_tiny

import zoo  # noqa: F401  (registers the zoo's objects, which the saved text models name)
from zoo.models import text_preprocessing
from zoo.store import presets
from zoo.tasks import vampire


def test_content_words_leave_out_stop_words_and_line_breaks_and_are_counted():
    text = "I didn't like the film, it was BORING.<br /><br />But the film's cast is great!"
    assert text_preprocessing.standardize_content_words(tf.constant([text])).numpy()[0].split() == [
        b"like", b"film", b"boring", b"films", b"cast", b"great"]
    counter = text_preprocessing.word_counts(vocabulary_size=5)
    counter.adapt(tf.constant(["film film great", "film cast"]))
    assert [str(word) for word in counter.get_vocabulary()] == ["[UNK]", "film", "great", "cast"]
    counts = tf.sparse.to_dense(counter(tf.constant(["The film, the film and the plot."]))).numpy()[0]
    assert counts[1] == 2 and counts[0] == 1 and counts.sum() == 3  # "plot" unknown; stop words never counted


@pytest.fixture(scope="module")
def vampire_run(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("vampire") / "vampire"
    train_tiny("vampire", model_dir)
    return model_dir


def test_a_vampire_run_saves_texts_to_features_and_its_topics(vampire_run):
    args = TINY_MODEL_ARGS["vampire"]
    model = keras.saving.load_model(vampire_run / "model.keras")
    features = model.predict(["A great film.", "A dull plot."], verbose=0)
    assert features.shape == (2, 2 * args["hidden_dim"] + args["num_topics"]) and np.isfinite(features).all()
    np.testing.assert_allclose(features[:, -args["num_topics"]:].sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(features, model(tf.constant(["A great film.", "A dull plot."])).numpy())
    summary = json.loads((vampire_run / "summary.json").read_text())
    assert summary["task"] == "vampire" and len(summary["topics"]) == args["num_topics"]
    assert summary["test_metrics"]["examples"] == summary["examples"]["test"]
    metrics = summary["test_metrics"]
    assert np.isfinite(metrics["elbo"]) and metrics["elbo"] == pytest.approx(-(metrics["reconstruction"] + metrics["kl"]))


def test_the_kl_weight_rises_along_vampires_sigmoid_over_epochs():
    model = zoo.build_model("vampire", **TINY_MODEL_ARGS["vampire"])
    trainer = vampire.VampireTrainer(model, np.zeros(TINY_MODEL_ARGS["vampire"]["vocabulary_size"]), steps_per_epoch=10)
    trainer.compile(optimizer=keras.optimizers.Adam())
    trainer.optimizer.build(trainer.trainable_variables)
    weights = []
    for epoch in (0, 15, 40):
        trainer.optimizer.iterations.assign(epoch * 10)
        weights.append(float(trainer.kl_weight()))
    assert weights[0] < 0.03 and weights[1] == pytest.approx(0.5) and weights[2] > 0.99


@pytest.mark.slow
def test_vampire_trains_on_real_reviews_and_reloads_in_plain_keras(real_data_dir, tmp_path):
    model_dir = tmp_path / "vampire"
    result = subprocess.run(
        [sys.executable, "train.py", "--model", "vampire", "--data-dir", str(real_data_dir), "--model-dir",
         str(model_dir), "--train-split", "unsupervised[:2%]", "--test-split", "unsupervised[99%:]", "--max-steps", "5"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((model_dir / "summary.json").read_text())
    assert summary["test_metrics"]["examples"] == summary["examples"]["test"] == 500
    assert np.isfinite(summary["test_metrics"]["elbo"]) and len(summary["topics"]) == 64
    model = keras.saving.load_model(model_dir / "model.keras")
    assert model.predict(["A fine film with a moving story."], verbose=0).shape == (1, 192)


@pytest.mark.slow
def test_the_preset_gives_real_reviews_their_features_and_decodes_the_topics_its_card_shows(real_data_dir):
    reviews, labels = tfds.as_numpy(tfds.load("imdb_reviews", split="test[:2000]", data_dir=str(real_data_dir),
                                              as_supervised=True, batch_size=-1))
    model = zoo.from_preset("vampire")
    features = model.predict([review.decode() for review in reviews], verbose=0)
    assert features.shape == (2000, 192) and np.isfinite(features).all()
    np.testing.assert_allclose(model(tf.constant(reviews[:8])), features[:8], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(features[:, -64:].sum(1), 1, rtol=1e-5)
    assert features.std(0).min() > 0, "every feature tells reviews apart"
    # What a review is about says something of its sentiment: a ridge fit on half, scored on the rest.
    scaled = np.c_[(features - features[:1000].mean(0)) / features[:1000].std(0), np.ones(len(features))]
    fit = np.linalg.solve(scaled[:1000].T @ scaled[:1000] + 10 * np.eye(193), scaled[:1000].T @ (2.0 * labels[:1000] - 1))
    assert ((scaled[1000:] @ fit > 0) == labels[1000:]).mean() > 0.8
    topics = vampire.topic_words(model.get_layer("vampire"), model.get_layer("text_vectorizer").get_vocabulary())
    card = (presets.preset_dir("vampire") / "README.md").read_text()
    assert json.loads((presets.preset_dir("vampire") / "preset.json").read_text())["topics"] == topics
    assert f"| 1 | {topics[0]} |" in card and "[UNK]" not in " ".join(topics)
