"""Text in scripts written without spaces (Chinese, Japanese): each Han, Hiragana or Katakana
character is a token, full-width punctuation is punctuation, English is tokenized as before, a
vocabulary that does not fit its data is warned about, and real Chinese reviews train, export
and serve with TensorFlow alone."""

import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT

import train
from zoo import data
from zoo.data import own_data
from zoo.models import text_preprocessing
from zoo.store import sources

CHINESE_REVIEWS = REPO_ROOT.parent / "shared" / "text" / "chinese_reviews_3k.csv"
ENGLISH = [
    "A moving, funny film: 10/10!",
    "I didn't like it.<br /><br />The plot (such as it is) drags... and drags.",
    "Dull & slow; far too long -- 2 hours? #boring",
]


def tokens(standardize, texts):
    """The tokens a `TextVectorization` with `standardize` splits each of `texts` into."""
    vectorizer = keras.layers.TextVectorization(standardize=standardize, ragged=True)
    vectorizer.adapt(texts)
    vocabulary = vectorizer.get_vocabulary()
    return [[vocabulary[token_id] for token_id in row] for row in vectorizer(texts).to_list()]


def test_each_han_and_kana_character_is_a_token_and_full_width_punctuation_splits():
    assert tokens(text_preprocessing.standardize_words, ["这部电影很好看，5星！Great movie"]) == [
        ["这", "部", "电", "影", "很", "好", "看", "5", "星", "great", "movie"]]
    assert tokens(text_preprocessing.standardize_words, ["《书》“好”、カタカナとひらがな。OK？"]) == [
        ["书", "好", "カ", "タ", "カ", "ナ", "と", "ひ", "ら", "が", "な", "ok"]]


def test_english_is_tokenized_exactly_as_before():
    assert tokens(text_preprocessing.standardize_words, ENGLISH) == tokens(text_preprocessing.KERAS_STANDARDIZE, ENGLISH)


def test_a_preprocessor_saved_before_the_split_keeps_its_own_and_reads_english_as_a_new_one_would():
    config = json.loads((REPO_ROOT / "presets" / "bert_mlm" / sources.PRESET_PREPROCESSOR).read_text())
    config["config"]["standardize"] = text_preprocessing.KERAS_STANDARDIZE  # as the first bert_mlm preset's was
    old = keras.layers.deserialize(config)  # written before scripts without spaces were split
    assert old._words_options["standardize"] == text_preprocessing.KERAS_STANDARDIZE
    new = text_preprocessing.BertInputs(old.vocabulary_size, old.sequence_length, vocabulary=old.get_vocabulary(),
                                        **text_preprocessing.WORDS)
    np.testing.assert_array_equal(old(tf.constant(ENGLISH))["token_ids"], new(tf.constant(ENGLISH))["token_ids"])
    reloaded = keras.layers.deserialize(json.loads(json.dumps(keras.layers.serialize(new))))
    assert reloaded._words_options["standardize"] is text_preprocessing.standardize_words


def chinese_texts():
    examples, _ = own_data._csv(CHINESE_REVIEWS, "text", None, "text,label")
    return examples.map(lambda text, label: text)


@pytest.mark.slow
def test_the_warning_fires_on_unsplit_chinese_and_not_on_split_chinese_or_imdb(real_data_dir, capsys):
    if not CHINESE_REVIEWS.exists():
        pytest.skip(f"{CHINESE_REVIEWS} not found")
    unsplit = keras.layers.TextVectorization(max_tokens=5000, standardize=text_preprocessing.KERAS_STANDARDIZE)
    data.adapted(unsplit, chinese_texts())
    warning = capsys.readouterr().err
    assert re.match(r"warning: 8\d% of the training texts are one token or none", warning)
    assert warning.count("\n") == 1
    data.adapted(text_preprocessing.token_ids(5000, 64), chinese_texts())
    imdb = tfds.load("imdb_reviews", split="train[:2000]", data_dir=str(real_data_dir), as_supervised=True)
    data.adapted(text_preprocessing.ngram_bag(5000, 2), imdb.map(lambda text, label: text))
    assert "warning" not in capsys.readouterr().err


def test_a_character_vocabulary_keeps_the_han_characters_it_is_adapted_on():
    texts = tf.data.Dataset.from_tensor_slices(["这部电影很好看", "很差，不好看", "great movie"]).batch(2)
    tokenizer = text_preprocessing.CharacterTokenizer(vocabulary_size=64)
    tokenizer.adapt(texts)
    assert {"好", "看", "很"} <= set(tokenizer.get_vocabulary())
    english_only = text_preprocessing.CharacterTokenizer(vocabulary_size=64)
    english_only.adapt(tf.data.Dataset.from_tensor_slices(["great movie", "dull film"]).batch(2))
    assert english_only.tokenize(tf.constant(["好"])).numpy().tolist() == [[1]]  # unknown


@pytest.mark.slow
def test_real_chinese_reviews_train_export_and_serve_with_tensorflow_alone(tmp_path):
    if not CHINESE_REVIEWS.exists():
        pytest.skip(f"{CHINESE_REVIEWS} not found")
    model_dir, exported = tmp_path / "run", tmp_path / "exported"
    assert train.main(["--model", "ngram_text", "--dataset", str(CHINESE_REVIEWS), "--model-dir", str(model_dir),
                       "--strategy", "one_device", "--export", "--export-dir", str(exported)]) == 0
    summary = json.loads((model_dir / "summary.json").read_text())
    assert summary["class_names"] == ["negative", "positive"] and summary["test_metrics"]["examples"] == 300
    assert summary["test_metrics"]["accuracy"] >= 0.75  # chance is 53%; 83.3% when written
    reviews = np.array(["这本书写得很好，推荐！", "质量太差了，不会再买。"])
    np.savez(tmp_path / "inputs.npz", inputs=reviews)
    result = subprocess.run(
        [sys.executable, "tests/tensorflow_only.py", str(exported / "ngram_text" / "1"), str(tmp_path / "inputs.npz")],
        cwd=REPO_ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["imported"] == [] and served["unregistered_ops"] == []
    expected = keras.saving.load_model(model_dir / "model.keras").predict(tf.constant(reviews), verbose=0)
    assert np.isfinite(served["probabilities"]).all()
    np.testing.assert_allclose(served["probabilities"], expected, rtol=1e-4, atol=1e-6)
    assert served["label"] == ["positive", "negative"]


@pytest.mark.slow
@pytest.mark.parametrize("model, preset", [("ngram_text", "ngram_text"), ("embedding_bag_text", "word2vec"),
                                           ("bert_text", "bert_mlm")])
def test_an_english_preset_on_real_chinese_reviews_stops_before_training(tmp_path, capsys, model, preset):
    if not CHINESE_REVIEWS.exists():
        pytest.skip(f"{CHINESE_REVIEWS} not found")
    model_dir = tmp_path / "run"
    assert train.main(["--model", model, "--init-from", preset, "--dataset", str(CHINESE_REVIEWS),
                       "--model-dir", str(model_dir)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and re.search(r"covers \d+% of the training texts' words", error), error
    assert "train from scratch (drop --init-from)" in error and not model_dir.exists()
