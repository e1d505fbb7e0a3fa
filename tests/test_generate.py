"""The causal LM's generation, from a model dir (keras-hub's `generate`) and from its SavedModel
(the `generate*` signatures, TensorFlow alone): strings out, a seed gives one text, lengths are
respected, and bad samplers and lengths are one-line errors."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT, TINY_MODEL_ARGS

import zoo
from zoo import generate, training
from zoo.errors import UserError
from zoo.serving import generation, saved_model

CONTEXT = TINY_MODEL_ARGS["gpt_text"]["sequence_length"]
PROMPTS = ["This movie", "I"]


@pytest.fixture(scope="module")
def gpt_run(tmp_path_factory):
    """A finished short run of a tiny `gpt_text` on mock data, and its export: (model dir, version dir)."""
    model_dir = tmp_path_factory.mktemp("gpt_text")
    with tfds.testing.mock_data(num_examples=32):
        training.train(training.TrainConfig(
            model="gpt_text", model_dir=str(model_dir), epochs=1, batch_size=16, strategy="one_device",
            jit_compile=False, model_args=TINY_MODEL_ARGS["gpt_text"],
        ))
    return model_dir, saved_model.export(model_dir, tmp_path_factory.mktemp("exported"))


def test_the_export_reloads_with_tensorflow_alone_and_generates(gpt_run, tmp_path):
    model_dir, version_dir = gpt_run
    texts = np.array(["This movie", "", "Ça va\x85", "A long review. " * 3])  # the last: over the context
    np.savez(tmp_path / "inputs.npz", inputs=texts)
    result = subprocess.run(
        [sys.executable, "tests/tensorflow_only.py", str(version_dir), str(tmp_path / "inputs.npz")],
        cwd=REPO_ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["imported"] == [] and served["unregistered_ops"] == []

    probabilities = np.array(served["probabilities"])  # of the next character after each text
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    model = keras.saving.load_model(model_dir / "model.keras")
    tokenizer = model.preprocessor.tokenizer
    token_ids = np.zeros((len(texts), CONTEXT), np.int32)
    for row, text in enumerate(texts):  # a text's last tokens, when it is over the context
        ids = [tokenizer.start_token_id, *tokenizer.tokenize(text).numpy()][-CONTEXT:]
        token_ids[row, : len(ids)] = ids
    lengths = (token_ids != 0).sum(axis=-1)
    logits = model({"token_ids": token_ids, "padding_mask": token_ids != 0}).numpy()  # predict() would preprocess
    expected = tf.nn.softmax(logits[np.arange(len(texts)), lengths - 1]).numpy()
    np.testing.assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-6)
    assert served["token_id"] == expected.argmax(-1).tolist()

    first, again, other_seed = served["generated"]
    assert first == again, "the same seed gives the same texts"
    assert first != other_seed
    # Mock data leave most characters unknown: U+FFFD.
    prompts = [tokenizer.detokenize(tokenizer.tokenize(text)).numpy().decode() for text in ["This movie", ""]]
    assert [text.startswith(prompt) for text, prompt in zip(first, prompts)] == [True, True]
    assert all(len(text) <= 12 - 1 for text in first), "12 tokens: the start token and 11 characters"


def test_a_model_dir_and_its_saved_model_write_the_same_greedy_text(gpt_run):
    model_dir, version_dir = gpt_run
    from_python = generation.generate(model_dir, PROMPTS, max_length=12, sampler="greedy")
    assert from_python == generation.generate(version_dir, PROMPTS, max_length=12, sampler="greedy")
    assert all(isinstance(text, str) and len(text) <= 11 for text in from_python)


@pytest.mark.parametrize("sampler", ["top_k", "top_p"])
def test_the_same_seed_gives_the_same_text_from_a_model_dir(gpt_run, sampler):
    model_dir, _ = gpt_run
    texts = [generation.generate(model_dir, PROMPTS, 16, sampler, temperature=1.5, seed=seed) for seed in (3, 3, 4)]
    assert texts[0] == texts[1] != texts[2]


@pytest.mark.parametrize("on", ["model dir", "saved model"])
@pytest.mark.parametrize("arguments, message", [
    ({"sampler": "nucleus"}, "unknown sampler 'nucleus'; pick one of greedy, top_k, top_p"),
    ({"temperature": 0.0}, "--temperature must be positive"),
    ({"top_p": 1.5}, "--top-p must be in (0, 1]"),
    ({"max_length": 1}, "--max-length must be an integer of at least 2"),
    ({"max_length": CONTEXT + 1}, f"longer than the model context of {CONTEXT} tokens"),
    ({"prompts": ["x" * CONTEXT]}, "no room to generate"),
    ({"prompts": ["fine", b"caf\xe9".decode(errors="surrogateescape")]}, "--prompt 2 is not valid UTF-8 text"),
    ({"prompts": [b"caf\xe9"]}, "--prompt 1 is not valid UTF-8 text"),
])
def test_bad_samplers_and_lengths_are_one_line_errors(gpt_run, on, arguments, message):
    path = gpt_run[0] if on == "model dir" else gpt_run[1]
    arguments = {"prompts": PROMPTS, "max_length": CONTEXT, **arguments}
    with pytest.raises(UserError) as error:
        generation.generate(path, **arguments)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_the_command_line_prints_the_texts_or_one_line_error(gpt_run, capsys):
    model_dir, _ = gpt_run
    assert generate.main(["--model-dir", str(model_dir), "--prompt", "A", "--max-length", "8", "--seed", "1"]) == 0
    assert 1 <= len(capsys.readouterr().out.strip()) <= 7
    assert generate.main(["--model-dir", str(model_dir), "--prompt", "A", "--max-length", "0"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_benchmark_scores_a_unigram_on_the_runs_own_test_targets(gpt_run, tmp_path):
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    import generation

    model_dir, _ = gpt_run
    with tfds.testing.mock_data(num_examples=32):
        assert generation.main(["--model-dir", str(model_dir), "--output-dir", str(tmp_path)]) == 0
        tests = [text.numpy() for text, _ in tfds.load("imdb_reviews", split="test[:10%]", as_supervised=True)]
    [results_file] = tmp_path.glob("*.json")
    result = json.loads(results_file.read_text())
    tokenizer = keras.saving.load_model(model_dir / "model.keras").preprocessor.tokenizer
    # Each test review's characters and its end, cut to the context: what the run's loss counts.
    targets = sum(min(len(tokenizer.tokenize(text)) + 1, CONTEXT) for text in tests)
    assert result["unigram"]["tokens"] == targets and result["test_examples"] == len(tests)
    assert 0 < result["unigram"]["bits_per_character"] < np.log2(len(tokenizer.get_vocabulary())) + 1
    assert result["generation_saved_model"]["tokens_per_second"] > 0
    assert "reduction" in (tmp_path / f"{results_file.stem}.md").read_text()


def test_a_language_model_is_not_evaluated_as_a_classifier(gpt_run, capsys):
    from zoo import evaluate

    for path in gpt_run:  # the run dir and its export
        assert evaluate.main(["--model-dir", str(path)]) == 2
        error = capsys.readouterr().err
        assert "holds a gpt_text (causal_lm) run, and zoo.evaluate scores classifiers" in error
        assert "zoo.generate" in error and error.count("\n") == 1


def test_the_language_model_preset_generates_python_strings_as_keras_hub_models_do():
    model = zoo.from_preset("gpt_text")
    text = model.generate("This film", max_length=16)
    assert isinstance(text, str) and text.startswith("This film")
    texts = model.generate(["This film", "A"], max_length=16)
    assert [type(text) for text in texts] == [str, str] and texts[1].startswith("A")
