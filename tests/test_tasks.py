"""The training tasks: masked LM counts the picked positions only, and picks only real tokens."""

import keras
import numpy as np
import tensorflow as tf

from zoo.models.text_preprocessing import BertInputs
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
