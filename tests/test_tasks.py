"""The training tasks: masked LM counts the picked positions only, and picks only real tokens;
causal LM metrics are means over real tokens, and its targets are its inputs shifted by one; the
recipes' learning-rate schedules warm up as registered."""

from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo import data, training
from zoo.models.text_preprocessing import BertInputs, CharacterCausalLMPreprocessor
from zoo.tasks import get_task
from zoo.tasks.masked_lm import mask_generator, masked_batch


def cross_entropy(logits, label):
    return -np.log(np.exp(logits[label]) / np.exp(logits).sum())


def test_masked_lm_loss_and_accuracy_count_the_picked_positions_only():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 7)).astype(np.float32)
    labels = np.array([[1, 4, 0], [2, 0, 0]])
    weights = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]], np.float32)  # 3 picked positions of 6
    logits[0, 2, 0] = logits[1, 1, 0] = logits[1, 2, 0] = 50.0  # unpicked slots: right, near-zero loss
    logits[0, 0, 1] = 50.0  # one of the three picked positions is right
    model = keras.Sequential([keras.Input((3, 7)), keras.layers.Identity()])
    get_task("masked_lm").compile(model, optimizer="sgd")

    picked = [(0, 0), (0, 1), (1, 0)]
    expected_loss = np.mean([cross_entropy(logits[i, j], labels[i, j]) for i, j in picked])
    assert np.isfinite(expected_loss) and expected_loss > 1.0  # a mean over all 6 would be about half
    metrics = model.evaluate(logits, labels, sample_weight=weights, batch_size=2, return_dict=True, verbose=0)
    np.testing.assert_allclose(metrics["loss"], expected_loss, rtol=1e-5)
    np.testing.assert_allclose(metrics["accuracy"], 1 / 3, rtol=1e-6)
    assert metrics["examples"] == 2


def test_masking_picks_real_tokens_and_labels_them_with_the_originals():
    cls, sep = BertInputs.token_id("[CLS]"), BertInputs.token_id("[SEP]")
    token_ids = np.zeros((64, 40), np.int32)
    for row in range(64):
        length = 3 + row % 30
        token_ids[row, : length + 2] = [cls, *range(10, 10 + length), sep]
    inputs = {"token_ids": tf.constant(token_ids), "padding_mask": tf.constant(token_ids != 0),
              "segment_ids": tf.zeros_like(token_ids)}
    features, mask_ids, mask_weights = masked_batch(mask_generator(100, 40), inputs)

    positions, weights = features["mask_positions"].numpy(), mask_weights.numpy()
    picked = weights > 0
    assert picked.sum() > 0.1 * (token_ids >= 10).sum()  # about 15% of the real tokens
    originals = np.take_along_axis(token_ids, positions, axis=1)
    assert (originals[picked] >= 10).all(), "never padding, [CLS] or [SEP]"
    np.testing.assert_array_equal(mask_ids.numpy()[picked], originals[picked])
    unpicked = np.ones_like(token_ids, bool)
    np.put_along_axis(unpicked, np.where(picked, positions, 0), ~picked, axis=1)
    np.testing.assert_array_equal(features["token_ids"].numpy()[unpicked], token_ids[unpicked])


def evaluate_causal_lm(logits, labels, weights):
    """The causal-LM task's validation and test metrics, both over (logits, labels, weights)."""
    model = keras.Sequential([keras.Input(logits.shape[1:]), keras.layers.Identity()])
    task = get_task("causal_lm")
    task.compile(model, optimizer="sgd")
    batches = tf.data.Dataset.from_tensor_slices((logits, labels, weights)).batch(2)
    validation = model.evaluate(batches, return_dict=True, verbose=0)
    history = SimpleNamespace(history={f"val_{name}": [value] for name, value in validation.items()})
    datasets = SimpleNamespace(test=batches, examples={"validation": len(labels), "test": len(labels)})
    return task.evaluate(model, history, datasets)


def test_a_uniform_causal_lm_has_the_vocabulary_size_as_perplexity():
    vocabulary_size = 7
    labels = np.random.default_rng(0).integers(0, vocabulary_size, (3, 5))
    weights = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], np.float32)
    for metrics in evaluate_causal_lm(np.zeros((3, 5, vocabulary_size), np.float32), labels, weights):
        np.testing.assert_allclose(metrics["perplexity"], vocabulary_size, rtol=1e-5)
        np.testing.assert_allclose(metrics["bits_per_character"], np.log2(vocabulary_size), rtol=1e-5)
        np.testing.assert_allclose(metrics["loss"], np.log(vocabulary_size), rtol=1e-5)


def test_causal_lm_metrics_are_means_over_the_real_tokens_of_all_batches():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 4, 6)).astype(np.float32)
    labels = rng.integers(0, 6, (3, 4))
    weights = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], np.float32)  # 7 real tokens of 12
    logits[weights == 0, :] = -50.0
    logits[weights == 0, (labels[weights == 0] + 1) % 6] = 50.0  # padding: wrong and very costly
    real = [(i, j) for i in range(3) for j in range(4) if weights[i, j]]
    losses = [cross_entropy(logits[i, j], labels[i, j]) for i, j in real]
    _, test = evaluate_causal_lm(logits, labels, weights)
    # Over real tokens, not per-batch means averaged: batches of 6 and 1 real tokens.
    np.testing.assert_allclose(test["perplexity"], np.exp(np.mean(losses)), rtol=1e-5)
    np.testing.assert_allclose(test["bits_per_character"], np.mean(losses) / np.log(2), rtol=1e-5)
    expected_accuracy = np.mean([logits[i, j].argmax() == labels[i, j] for i, j in real])
    np.testing.assert_allclose(test["accuracy"], expected_accuracy, rtol=1e-5)
    assert test["examples"] == 3


def test_character_preprocessing_shifts_targets_by_one_and_round_trips_any_text():
    texts = ["Great film!", "Ça va\x85 yes\u2028no <br />"]
    preprocessor = data.adapted(CharacterCausalLMPreprocessor(100, 12), tf.data.Dataset.from_tensor_slices(texts))
    preprocessor = keras.layers.deserialize(keras.layers.serialize(preprocessor))  # as model.keras keeps it
    tokenizer = preprocessor.tokenizer
    assert [tokenizer.detokenize(tokenizer.tokenize(text)).numpy().decode() for text in texts] == texts

    inputs, y, weights = preprocessor(tf.constant(texts))
    x, y, weights = inputs["token_ids"].numpy(), y.numpy(), weights.numpy()
    ids = tokenizer.tokenize(texts[0]).numpy()
    end = tokenizer.end_token_id
    np.testing.assert_array_equal(x[0, :12], [tokenizer.start_token_id, *ids])  # ids: 11 characters
    np.testing.assert_array_equal(y[0], [*ids, end])
    np.testing.assert_array_equal(weights[0], [1] * 12)
    assert x.shape == y.shape == (2, 12)


@pytest.mark.parametrize("name, peak_step", [("mnist_cnn", 50), ("mnist_cnn_fast", 200)])
def test_the_learning_rate_warms_up_over_the_recipes_fraction_of_steps_then_decays_to_zero(name, peak_step):
    """mnist_cnn_fast's one-cycle schedule: a fifth of the steps up to its peak, then cosine down."""
    spec = zoo.get_model_spec(name)
    config = training.make_optimizer(spec, spec.learning_rate, spec.weight_decay, total_steps=1000).get_config()
    schedule = keras.optimizers.schedules.deserialize(config["learning_rate"])
    rates = [float(schedule(step)) for step in (0, peak_step // 2, peak_step, 999)]
    assert rates[0] == 0 and rates[1] == pytest.approx(spec.learning_rate / 2, rel=1e-3)
    assert rates[2] == pytest.approx(spec.learning_rate) and 0 < rates[3] < spec.learning_rate / 1000
