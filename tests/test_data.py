"""The data pipeline: vocabularies survive a save and reload whatever characters they hold, and
progress written to a log file holds no terminal escape codes."""

import keras
import numpy as np
import tensorflow as tf

from zoo import data

# Every character str.splitlines() splits on, inside words, as real IMDB reviews hold some.
LINE_BREAKS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
TEXTS = [f"word{index}{char}tail{index} common words" for index, char in enumerate(LINE_BREAKS)]


def adapted(texts):
    labelled = tf.data.Dataset.from_tensor_slices((texts, [0] * len(texts)))
    return data._adapted_vectorizer(labelled, vocabulary_size=100, sequence_length=8)


def test_a_vocabulary_of_line_breaking_tokens_survives_save_and_reload(tmp_path):
    vectorizer = adapted(TEXTS)
    assert any("\x85" in token for token in vectorizer.get_vocabulary()), "the hard case is in it"
    model = keras.Sequential([keras.Input(shape=(), dtype="string"), vectorizer])
    model.save(tmp_path / "vectorizer.keras")
    reloaded = keras.saving.load_model(tmp_path / "vectorizer.keras")
    assert reloaded.layers[0].get_vocabulary() == vectorizer.get_vocabulary()
    np.testing.assert_array_equal(reloaded(tf.constant(TEXTS)), model(tf.constant(TEXTS)))


def test_progress_in_a_log_file_has_no_terminal_escape_codes(capsys):
    adapted(TEXTS)
    output = capsys.readouterr().out
    assert "Adapting the vocabulary" in output and "\x1b" not in output and "\b" not in output
