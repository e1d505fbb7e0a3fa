"""Every registered model builds, predicts, trains (also under MirroredStrategy) and round-trips
through a .keras file, on tiny random input; and builds and predicts on the JAX backend."""

import pathlib
import subprocess
import sys
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import classifiers

import zoo
from zoo.tasks import get_task

TINY_ARGS = {
    "image": dict(input_shape=(28, 28, 1), num_classes=10),
    "text": dict(vocabulary_size=50, sequence_length=16, num_classes=3),
}
BATCH = 4
PAIRS = 8  # a word2vec batch's skip-grams per text
# The models over right-padded token ids (the others take pixels or n-gram vectors).
TOKEN_ID_MODELS = [name for name in zoo.list_models() if "patch_size" in zoo.get_model_spec(name).default_args()]


def tiny_model(name):
    spec = zoo.get_model_spec(name)
    takes = spec.default_args()
    return zoo.build_model(name, **{k: v for k, v in TINY_ARGS[spec.modality].items() if k in takes})


def tiny_batch(model, seed=0):
    """Random inputs the model accepts: uint8 pixels, multi-hot n-gram vectors, or right-padded
    token ids (0 is padding)."""
    rng = np.random.default_rng(seed)
    shape = (BATCH,) + tuple(size or PAIRS for size in model.input_shape[1:])
    if isinstance(model.input, dict):  # a keras-hub backbone's inputs
        inputs = {name: value for name, value in bert_batch(rng, TINY_ARGS["text"]["sequence_length"]).items()
                  if name in model.input}
        if "mask_positions" in model.input:  # a masked LM: predict the ids at those positions
            inputs["mask_positions"] = np.tile([1, 2, 3], (BATCH, 1))
            return inputs, inputs["token_ids"][:, 1:4]
        if len(model.output_shape) == 3:  # a causal LM: each position predicts the next token
            return inputs, np.roll(inputs["token_ids"], -1, axis=1)
        return inputs, rng.integers(0, model.output_shape[-1], BATCH)
    if model.input.dtype == "uint8":
        inputs = rng.integers(0, 256, shape, dtype=np.uint8)
    elif model.input.dtype == "float32":
        inputs = rng.integers(0, 2, shape).astype(np.float32)
    else:
        inputs = rng.integers(1, 50, shape, dtype=np.int64)
        for row, length in enumerate([16, 9, 5, 1]):
            inputs[row, length:] = 0
    if isinstance(model.output, dict):  # features learnt from the inputs alone (VAMPIRE)
        return inputs, np.zeros(BATCH)
    labels = rng.integers(0, model.output_shape[-1], shape[: len(model.output_shape) - 1])
    return inputs, labels


def bert_batch(rng, sequence_length):
    lengths = np.array([sequence_length, 9, 5, 2])
    padding_mask = np.arange(sequence_length)[None, :] < lengths[:, None]
    token_ids = np.where(padding_mask, rng.integers(5, 50, (BATCH, sequence_length)), 0)
    return {"token_ids": token_ids, "padding_mask": padding_mask,
            "segment_ids": np.zeros_like(token_ids)}


def compiled_for_training(model, name, batches):
    """What `fit` trains for `name`'s task on `batches` (the model, or a model around it), compiled."""
    task = get_task(zoo.get_model_spec(name).task)
    trained = task.training_model(model, SimpleNamespace(train=batches))
    task.compile(trained, optimizer="adam")
    return trained


def numpy_outputs(outputs):
    """A model's output or dict of outputs as a list of numpy arrays."""
    return [keras.ops.convert_to_numpy(output) for output in keras.tree.flatten(outputs)]


@pytest.mark.parametrize("name", classifiers())
def test_forward_pass_gives_class_probabilities(name):
    model = tiny_model(name)
    inputs, _ = tiny_batch(model)
    probabilities = model.predict(inputs, verbose=0)
    assert probabilities.shape == (BATCH, model.output_shape[-1])
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", zoo.list_models())
def test_defaults_build_an_uncompiled_model(name):
    model = zoo.build_model(name)
    assert isinstance(model, keras.Model) and not model.compiled
    if name in classifiers():
        assert model.output_shape == (None, zoo.get_model_spec(name).default_args()["num_classes"])


@pytest.mark.parametrize("name", zoo.list_models())
def test_a_training_step_changes_the_weights(name):
    model = tiny_model(name)
    inputs, labels = tiny_batch(model)
    trained = compiled_for_training(model, name, tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(BATCH))
    before = [w.copy() for w in model.get_weights()]
    loss = trained.train_on_batch(inputs, labels, return_dict=True)["loss"]
    assert np.isfinite(loss)
    assert any(not np.array_equal(b, a) for b, a in zip(before, model.get_weights()))


@pytest.mark.parametrize("name", zoo.list_models())
def test_trains_under_mirrored_strategy_with_two_replicas(name, mirrored_strategy):
    assert mirrored_strategy.num_replicas_in_sync == 2
    with mirrored_strategy.scope():
        model = tiny_model(name)
        inputs, labels = tiny_batch(model)
        batches = tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(BATCH)
        trained = compiled_for_training(model, name, batches)
    before = [w.copy() for w in model.get_weights()]
    history = trained.fit(batches, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(b, a) for b, a in zip(before, model.get_weights()))


@pytest.mark.parametrize("name", zoo.list_models())
def test_keras_file_round_trip_keeps_the_outputs(name, tmp_path):
    model = tiny_model(name)
    inputs, _ = tiny_batch(model)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    for restored_output, output in zip(numpy_outputs(restored.predict(inputs, verbose=0)),
                                       numpy_outputs(model.predict(inputs, verbose=0))):
        np.testing.assert_allclose(restored_output, output, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("patch_size", [1, 4])
@pytest.mark.parametrize("name", TOKEN_ID_MODELS)
def test_text_models_ignore_what_sits_in_the_padding(name, patch_size):
    model = zoo.build_model(name, **TINY_ARGS["text"], patch_size=patch_size)
    inputs, _ = tiny_batch(model)
    before = model.predict(inputs, verbose=0)
    embeddings = next(w for w in model.weights if w.shape[0] == TINY_ARGS["text"]["vocabulary_size"])
    embeddings.assign(embeddings.numpy() + 5.0 * (np.arange(embeddings.shape[0]) == 0)[:, None])
    np.testing.assert_allclose(model.predict(inputs, verbose=0), before, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("patch_size", [1, 4])
@pytest.mark.parametrize("name", TOKEN_ID_MODELS)
def test_a_text_with_no_tokens_gets_finite_probabilities(name, patch_size):
    model = zoo.build_model(name, **TINY_ARGS["text"], patch_size=patch_size)
    probabilities = model.predict(np.zeros((2, 16), np.int64), verbose=0)
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "patch_size, message", [(5, "not a multiple of patch_size 5"), (0, "must be at least 1, got 0")]
)
@pytest.mark.parametrize("name", TOKEN_ID_MODELS)
def test_text_models_reject_a_patch_size_that_does_not_fit_the_sequence(name, patch_size, message):
    with pytest.raises(ValueError, match=message):
        zoo.build_model(name, **TINY_ARGS["text"], patch_size=patch_size)


def test_image_model_takes_other_image_shapes():
    model = zoo.build_model("mnist_cnn", input_shape=(32, 32, 3), num_classes=4)
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 4)


def test_lstm_layers_stay_eligible_for_cudnn():
    model = zoo.build_model("lstm_text")
    lstms = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.LSTM)]
    assert len(lstms) >= 2
    for lstm in lstms:
        assert lstm.recurrent_dropout == 0 and not lstm.unroll and lstm.use_bias
        assert lstm.activation is keras.activations.tanh
        assert lstm.recurrent_activation is keras.activations.sigmoid


@pytest.mark.parametrize("name", zoo.list_models())
def test_a_direct_call_is_deterministic_and_equals_predict_also_after_a_keras_file(name, tmp_path):
    model = tiny_model(name)
    inputs, _ = tiny_batch(model)
    model.save(tmp_path / "model.keras")
    for model in (model, keras.saving.load_model(tmp_path / "model.keras")):
        first, second, predicted = (numpy_outputs(model(inputs)), numpy_outputs(model(inputs)),
                                    numpy_outputs(model.predict(inputs, verbose=0)))
        for first_output, second_output, predicted_output in zip(first, second, predicted):
            np.testing.assert_array_equal(first_output, second_output)
            np.testing.assert_allclose(first_output, predicted_output, rtol=1e-5, atol=1e-6)


def test_image_models_shift_their_inputs_in_training_only():
    model = zoo.build_model("mnist_cnn", max_shift=0.3, dropout=0.0)
    images, _ = tiny_batch(model)
    assert model.get_layer(index=2).__class__.__name__ == "RandomShift"
    shifts = keras.Model(model.input, model.get_layer(index=2).output)
    np.testing.assert_allclose(shifts(images), images / 255, atol=1e-6)
    assert not np.allclose(shifts(images, training=True), images / 255, atol=1e-2)


def test_every_builder_builds_and_predicts_on_the_jax_backend():
    """The builders are plain Keras: each runs on JAX (training and preprocessing stay TensorFlow's)."""
    pytest.importorskip("jax")
    script = (
        "import os, sys; os.environ['KERAS_BACKEND'] = 'jax'; sys.path.insert(0, sys.argv[1])\n"
        "import keras, numpy as np, zoo, test_models\n"
        "assert keras.backend.backend() == 'jax'\n"
        "for name in zoo.list_models():\n"
        "    model = test_models.tiny_model(name)\n"
        "    inputs, _ = test_models.tiny_batch(model)\n"
        "    outputs = model.predict(inputs, verbose=0)\n"
        "    assert all(np.isfinite(output).all() for output in keras.tree.flatten(outputs)), name\n"
        "    print(name)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(pathlib.Path(__file__).parent)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == zoo.list_models()
