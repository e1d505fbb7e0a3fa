"""Export to SavedModels that TF Serving loads as they are: layout, versions, atomicity,
TensorFlow-only reload with equal predictions, stock ops only, warm-up records, models.config."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from google.protobuf import text_format
from tensorflow_serving.apis import prediction_log_pb2
from tensorflow_serving.config import model_server_config_pb2

import zoo
from conftest import REPO_ROOT, TINY_MODEL_ARGS
from zoo import export, training
from zoo.predict import predict



@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished short run of every registered model, on mock data: name -> model dir."""
    runs = {}
    with tfds.testing.mock_data(num_examples=32):
        for name in zoo.list_models():
            runs[name] = tmp_path_factory.mktemp(name)
            training.train(training.TrainConfig(
                model=name, model_dir=str(runs[name]), epochs=1, batch_size=16,
                strategy="one_device", model_args=TINY_MODEL_ARGS[name],
            ))
    return runs


def raw_inputs(name):
    """A few raw inputs of the kind the model's signature takes."""
    if zoo.get_model_spec(name).serving_input == "text":
        return np.array(["a moving, funny film", "dull", "", "so so " * 50])
    return np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)


@pytest.mark.parametrize("name", zoo.list_models())
def test_export_reloads_with_tensorflow_alone_and_predicts_the_same(name, trained, tmp_path):
    version_dir = export.export(trained[name], tmp_path)
    assert version_dir == tmp_path / name / "1"

    inputs = raw_inputs(name)
    np.savez(tmp_path / "inputs.npz", inputs=inputs)
    result = subprocess.run(
        [sys.executable, "tests/tensorflow_only.py", str(version_dir), str(tmp_path / "inputs.npz")],
        cwd=REPO_ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["imported"] == []
    assert served["unregistered_ops"] == [], "ops that stock TensorFlow does not have"
    assert len(served["op_types"]) > 5

    model = keras.saving.load_model(trained[name] / "model.keras")
    expected = model.predict(tf.constant(inputs), verbose=0)
    np.testing.assert_allclose(served["probabilities"], expected, rtol=1e-4, atol=1e-5)
    assert served["class_id"] == expected.argmax(-1).tolist()
    class_names = json.loads((trained[name] / "summary.json").read_text())["class_names"]
    assert served["label"] == [class_names[i] for i in served["class_id"]]


def test_versions_increment_and_old_ones_stay_untouched(trained, tmp_path):
    first = export.export(trained["mnist_cnn"], tmp_path)
    before = {path: path.stat().st_mtime_ns for path in first.rglob("*")}
    second = export.export(trained["mnist_cnn"], tmp_path)
    (tmp_path / "mnist_cnn" / "7").mkdir()
    third = export.export(trained["mnist_cnn"], tmp_path)
    assert [first.name, second.name, third.name] == ["1", "2", "8"]
    assert {path: path.stat().st_mtime_ns for path in first.rglob("*")} == before


def test_a_failed_export_leaves_no_version_behind(trained, tmp_path, monkeypatch):
    export.export(trained["mnist_cnn"], tmp_path)
    config_before = (tmp_path / "models.config").read_text()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "write_warmup_requests", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export.export(trained["mnist_cnn"], tmp_path)
    assert sorted(path.name for path in (tmp_path / "mnist_cnn").iterdir()) == ["1"]
    assert (tmp_path / "models.config").read_text() == config_before


def test_models_config_lists_every_exported_model(trained, tmp_path):
    for name in ("mnist_cnn", "transformer_text"):
        export.export(trained[name], tmp_path)
    export.export(trained["mnist_cnn"], tmp_path, name="digits")
    config = text_format.Parse(
        (tmp_path / "models.config").read_text(), model_server_config_pb2.ModelServerConfig()
    )
    entries = {entry.name: entry for entry in config.model_config_list.config}
    assert sorted(entries) == ["digits", "mnist_cnn", "transformer_text"]
    assert entries["mnist_cnn"].base_path == "/models/mnist_cnn"
    assert entries["mnist_cnn"].model_platform == "tensorflow"


@pytest.mark.parametrize("name", ["mnist_cnn", "transformer_text"])
def test_warmup_requests_replay_through_the_loaded_signatures(name, trained, tmp_path):
    version_dir = export.export(trained[name], tmp_path)
    loaded = tf.saved_model.load(str(version_dir))
    records = list(tf.data.TFRecordDataset(str(version_dir / "assets.extra" / "tf_serving_warmup_requests")))
    assert len(records) >= 2
    for record in records:
        request = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
        assert request.model_spec.name == name
        inputs = {key: tf.constant(tf.make_ndarray(proto)) for key, proto in request.inputs.items()}
        outputs = loaded.signatures[request.model_spec.signature_name](**inputs)
        batch = next(iter(inputs.values())).shape[0]
        assert outputs["probabilities"].shape[0] == batch and outputs["label"].shape == (batch,)


def test_png_bytes_signature_matches_the_pixel_signature(trained, tmp_path):
    loaded = tf.saved_model.load(str(export.export(trained["mnist_cnn"], tmp_path)))
    images = tf.constant(raw_inputs("mnist_cnn"))
    pngs = tf.stack([tf.io.encode_png(image) for image in images])
    from_bytes = loaded.signatures[export.IMAGE_BYTES_SIGNATURE](image_bytes=pngs)
    from_pixels = loaded.signatures["serving_default"](images=images)
    np.testing.assert_allclose(from_bytes["probabilities"], from_pixels["probabilities"], atol=1e-6)


@pytest.mark.parametrize(
    "name, bad_input",
    [
        ("mnist_cnn", tf.zeros((2, 28, 28, 1), tf.float32)),
        ("mnist_cnn", tf.zeros((2, 28, 28), tf.uint8)),
        ("mnist_cnn", tf.zeros((2, 32, 32, 1), tf.uint8)),
        ("transformer_text", tf.zeros((2,), tf.int64)),
        ("transformer_text", tf.constant([["two"], ["dims"]])),
    ],
)
def test_bad_input_is_a_tensorflow_error_not_a_crash(name, bad_input, trained, tmp_path):
    signature = tf.saved_model.load(str(export.export(trained[name], tmp_path))).signatures["serving_default"]
    (input_name, _), = signature.structured_input_signature[1].items()
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        signature(**{input_name: bad_input})


def test_predict_command_prints_label_and_probability(trained, tmp_path):
    export.export(trained["transformer_text"], tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "zoo.predict", str(tmp_path / "transformer_text"), "great film", "awful"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert [line[2] for line in lines] == ["great film", "awful"]
    assert all(line[0] in ("neg", "pos") and 0.5 <= float(line[1]) <= 1 for line in lines)


def test_predict_reads_image_files_and_resizes_them(trained, tmp_path):
    export.export(trained["mnist_cnn"], tmp_path)
    image = tmp_path / "digit.png"
    image.write_bytes(tf.io.encode_png(tf.zeros((56, 56, 3), tf.uint8)).numpy())
    [(label, probability)] = predict(tmp_path / "mnist_cnn", [str(image)])
    assert label in [str(digit) for digit in range(10)] and 0.1 <= probability <= 1


def test_export_of_an_unfinished_run_says_to_train_first(tmp_path, capsys):
    assert export.main(["--model-dir", str(tmp_path), "--export-dir", str(tmp_path / "out")]) == 2
    assert "no finished run" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
