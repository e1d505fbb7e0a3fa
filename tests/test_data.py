"""The data pipeline: vocabularies survive a save and reload whatever characters they hold, and
progress written to a log file holds no terminal escape codes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from zoo import data
from zoo.models import text_preprocessing

# Every character str.splitlines() splits on, inside words, as real IMDB reviews hold some.
LINE_BREAKS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
TEXTS = [f"word{index}{char}tail{index} common words" for index, char in enumerate(LINE_BREAKS)]


PREPROCESSORS = {
    "token_ids": lambda: text_preprocessing.token_ids(vocabulary_size=100, sequence_length=8),
    "ngram_bag": lambda: text_preprocessing.ngram_bag(vocabulary_size=100, ngrams=2),
    "bert_inputs": lambda: text_preprocessing.bert_inputs(vocabulary_size=100, sequence_length=8),
}


def adapted(texts, preprocessor="token_ids"):
    return data.adapted(PREPROCESSORS[preprocessor](), tf.data.Dataset.from_tensor_slices(texts))


def dense(tensor):
    if isinstance(tensor, dict):
        return np.concatenate([dense(tensor[key]) for key in sorted(tensor)], axis=-1)
    return tf.sparse.to_dense(tensor) if isinstance(tensor, tf.SparseTensor) else np.asarray(tensor, np.float32)


@pytest.mark.parametrize("preprocessor", PREPROCESSORS)
def test_a_vocabulary_of_line_breaking_tokens_survives_save_and_reload(preprocessor, tmp_path):
    vectorizer = adapted(TEXTS, preprocessor)
    assert any("\x85" in token for token in vectorizer.get_vocabulary()), "the hard case is in it"
    model = keras.Sequential([keras.Input(shape=(), dtype="string"), vectorizer])
    model.save(tmp_path / "vectorizer.keras")
    reloaded = keras.saving.load_model(tmp_path / "vectorizer.keras")
    assert reloaded.layers[0].get_vocabulary() == vectorizer.get_vocabulary()
    np.testing.assert_array_equal(dense(reloaded(tf.constant(TEXTS))), dense(model(tf.constant(TEXTS))))


def test_progress_in_a_log_file_has_no_terminal_escape_codes(capsys):
    adapted(TEXTS)
    output = capsys.readouterr().out
    assert "Adapting the vocabulary" in output and "\x1b" not in output and "\b" not in output


@pytest.mark.slow
def test_a_partial_train_split_trains_on_exactly_its_examples_and_validates_on_its_last_tenth(real_data_dir):
    """`--train-split train[:1000]`, a learning curve's point: 900 reviews train, the next 100
    validate, none of them in both, and the test split is untouched."""
    datasets = data.load("imdb_reviews", "text", batch_size=100, data_dir=str(real_data_dir),
                         train_split="train[:1000]", test_split="test[:300]")
    first_1000 = [text.numpy() for text, _ in tfds.load("imdb_reviews", split="train[:1000]", data_dir=str(real_data_dir),
                                                         as_supervised=True)]
    trained = [text for batch, _ in datasets.train for text in batch.numpy()]
    validated = [text for batch, _ in datasets.validation for text in batch.numpy()]

    assert datasets.examples == {"train": 900, "validation": 100, "test": 300}
    assert validated == first_1000[900:]  # in order: the last tenth, never shuffled in
    assert sorted(trained) == sorted(first_1000[:900])  # all of the rest, each once
    assert not set(trained) & set(validated)
