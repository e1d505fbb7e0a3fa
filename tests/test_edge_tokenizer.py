"""zoo/serving/edge_tokenizer.py, the plain-Python preprocessing of the LiteRT and ONNX text exports, makes
exactly the in-graph preprocessors' inputs, on real IMDB reviews and real Chinese reviews."""

import csv
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT
from test_scripts_without_spaces import CHINESE_REVIEWS

from zoo.models import text_preprocessing
from zoo.serving import edge_tokenizer
from zoo.store import presets

# Texts that TensorFlow and Python could split apart: case beyond ASCII, full-width and curly
# punctuation, Unicode spaces, mixed scripts, nothing at all.
EDGE_TEXTS = ["ÉCOLE Ünïcode ΑΒΓ ABC", "“Quoted” — dash… ‘single’", "a\u3000b\u00a0c\td\ne\u2003f\x85g\u2028h",
              "日本語のカタカナとひらがな、中文。", "don't stop-me now!!!", "", "   ", "?!...", "ｶﾀｶﾅ ㋐ 〆々〇"]


def tables_of(pattern):
    """The code point ranges that TensorFlow's RE2 matches with `pattern`, one character each."""
    code_points = np.array([c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF])
    matched = code_points[tf.strings.regex_full_match([chr(c).encode() for c in code_points], pattern).numpy()]
    ranges = []
    for code_point in matched.tolist():
        if ranges and ranges[-1][1] == code_point - 1:
            ranges[-1] = (ranges[-1][0], code_point)
        else:
            ranges.append((code_point, code_point))
    return tuple(ranges)


def test_the_character_tables_are_tensorflows():
    assert edge_tokenizer.PUNCTUATION == tables_of(r"\p{P}")
    assert edge_tokenizer.UNSPACED == tables_of(text_preprocessing.UNSPACED_CHARACTER.strip("()"))


def test_the_tokenizer_needs_the_standard_library_alone():
    result = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'zoo/serving'); import edge_tokenizer; "
                             "print(sorted(set(sys.modules) & {'numpy', 'tensorflow', 'keras', 'zoo'}))"],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr[-2000:]


def in_graph(preprocessor, texts):
    """The preprocessor's outputs for `texts`, as NumPy arrays."""
    outputs = preprocessor(tf.constant(texts))
    if isinstance(outputs, tf.SparseTensor):
        outputs = tf.sparse.to_dense(outputs)
    return {name: np.asarray(value) for name, value in outputs.items()} if isinstance(outputs, dict) else np.asarray(outputs)


def python_tokenizer(preprocessor, mode, **settings):
    return edge_tokenizer.Tokenizer(mode, [str(token) for token in preprocessor.get_vocabulary()], **settings)


def check_same(preprocessor, tokenizer, texts):
    expected, made = in_graph(preprocessor, texts), tokenizer(texts)
    ids = expected["token_ids"] if isinstance(expected, dict) else expected
    distinct = np.count_nonzero(ids.any(axis=0)) if tokenizer.mode == "multi_hot" else len(np.unique(ids))
    assert distinct > 50, "the texts must exercise the vocabulary, not just padding and unknown tokens"
    if isinstance(expected, dict):
        for name, value in expected.items():
            np.testing.assert_array_equal(np.array(made[name]), value, err_msg=name)
    else:
        np.testing.assert_array_equal(np.array(made), expected)


def imdb_texts(data_dir, count=300):
    return [text.numpy().decode() for text, _ in tfds.load("imdb_reviews", split=f"test[:{count}]",
                                                           data_dir=data_dir, as_supervised=True)] + EDGE_TEXTS


def chinese_texts(count=300):
    if not CHINESE_REVIEWS.exists():
        pytest.skip(f"{CHINESE_REVIEWS} not found")
    with open(CHINESE_REVIEWS, newline="", encoding="utf-8") as file:
        return [row["text"] for row, _ in zip(csv.DictReader(file), range(count))] + EDGE_TEXTS


def preset_preprocessor(name):
    import keras

    import zoo.models  # noqa: F401  (registers the zoo's layers)

    return keras.saving.load_model(presets.preset_dir(name) / "model.keras").get_layer("text_vectorizer")


@pytest.mark.slow
@pytest.mark.parametrize("name, mode", [("ngram_text", "multi_hot"), ("transformer_text", "token_ids"),
                                        ("bert_text", "bert")])
def test_the_presets_preprocessing_on_real_imdb_reviews(name, mode, real_data_dir):
    preprocessor = preset_preprocessor(name)
    settings = {"ngram_text": {"ngrams": 2, "width": 200_000}}.get(name, {"sequence_length": 256 if name == "bert_text" else 512})
    standardize = preprocessor._words_options["standardize"] if name == "bert_text" else preprocessor._standardize
    settings["standardize"] = "keras" if standardize == text_preprocessing.KERAS_STANDARDIZE else "words"
    check_same(preprocessor, python_tokenizer(preprocessor, mode, **settings), imdb_texts(real_data_dir))


@pytest.mark.parametrize("mode", ["multi_hot", "token_ids", "bert"])
def test_preprocessing_adapted_on_real_chinese_reviews(mode):
    texts = chinese_texts()
    preprocessor = {"multi_hot": lambda: text_preprocessing.ngram_bag(3000, ngrams=2),
                    "token_ids": lambda: text_preprocessing.token_ids(2000, sequence_length=64),
                    "bert": lambda: text_preprocessing.bert_inputs(2000, sequence_length=64)}[mode]()
    preprocessor.adapt(tf.data.Dataset.from_tensor_slices(texts[:250]).batch(64))
    settings = {"multi_hot": {"ngrams": 2, "width": 3000}}.get(mode, {"sequence_length": 64})
    check_same(preprocessor, python_tokenizer(preprocessor, mode, **settings), texts)
