"""VAMPIRE: the words it counts, its loss and annealing, and a run's texts-to-features model."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT, TINY_MODEL_ARGS, train_tiny
from test_train import run_train

import zoo
from zoo.models import text_preprocessing
from zoo.models.text_model import TextModel
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
    result = run_train("--model", "vampire", "--data-dir", str(real_data_dir), "--model-dir", str(model_dir),
                       "--train-split", "unsupervised[:2%]", "--test-split", "unsupervised[99%:]", "--max-steps", "5",
                       mock=False)
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


def test_document_features_go_beside_token_ids_frozen_and_come_back_from_a_keras_file(vampire_run, tmp_path):
    features = keras.saving.load_model(vampire_run / "model.keras")
    token_ids = text_preprocessing.token_ids(vocabulary_size=50, sequence_length=8)
    token_ids.adapt(tf.constant(["a great film", "a dull plot"]))
    both = text_preprocessing.WithDocumentFeatures(token_ids, features)
    texts = tf.constant(["A great film.", "A dull plot, a dull film."])
    made = both(texts)
    np.testing.assert_array_equal(made["token_ids"], token_ids(texts))
    np.testing.assert_array_equal(made["document_features"], features(texts))
    assert both.width == made["document_features"].shape[-1] and not both.trainable_weights

    classifier = zoo.build_model("embedding_bag_text", vocabulary_size=50, sequence_length=8,
                                 document_features=both.width)
    assert sorted(classifier.input) == ["document_features", "token_ids"]
    raw = keras.Input(shape=(), dtype="string", name="text")
    model = TextModel(raw, classifier(both(raw)))
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(restored.predict(["A great film."], verbose=0), model.predict(["A great film."], verbose=0))
    assert restored.layers[1].get_vocabulary() == token_ids.get_vocabulary()


@pytest.mark.slow
def test_a_classifier_reads_the_presets_features_beside_word_vectors_on_real_reviews_and_serves_with_tensorflow_alone(
        real_data_dir, tmp_path):
    model_dir = tmp_path / "beside"
    result = run_train("--model", "embedding_bag_text", "--init-from", "word2vec", "--features-from", "vampire",
                       "--train-split", "train[:200]", "--test-split", "test[:500]", "--max-steps", "30",
                       "--data-dir", str(real_data_dir), "--model-dir", str(model_dir), mock=False)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((model_dir / "summary.json").read_text())
    assert summary["hyperparameters"]["features_from"] == "vampire"
    assert summary["hyperparameters"]["model_args"]["document_features"] == 192
    assert summary["init_from"]["copied_rows"] > 19000 and summary["test_metrics"]["examples"] == 500
    assert summary["test_metrics"]["accuracy"] > 0.6, "features of real reviews carry their sentiment"

    model = keras.saving.load_model(model_dir / "model.keras")
    texts = ["A wonderful, moving film.", "Dull, boring and far too long."]
    probabilities = model.predict(texts, verbose=0)
    np.testing.assert_allclose(model(texts), probabilities, atol=1e-6)
    exported = subprocess.run([sys.executable, "-m", "zoo.export", "--model-dir", str(model_dir), "--export-dir",
                               str(tmp_path / "served")], cwd=REPO_ROOT, capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr[-3000:]
    np.savez(tmp_path / "inputs.npz", inputs=np.array(texts))
    served = subprocess.run([sys.executable, "tests/tensorflow_only.py", str(tmp_path / "served" / "embedding_bag_text" / "1"),
                             str(tmp_path / "inputs.npz")], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": ""})
    assert served.returncode == 0, served.stderr[-3000:]
    report = json.loads(served.stdout.strip().splitlines()[-1])
    assert report["imported"] == [] and report["unregistered_ops"] == []
    np.testing.assert_allclose(report["probabilities"], probabilities, atol=1e-5)
    edge = subprocess.run([sys.executable, "-m", "zoo.export", "--model-dir", str(model_dir), "--format", "litert"],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert edge.returncode == 2 and "export it as a SavedModel" in edge.stderr.strip().splitlines()[-1]
