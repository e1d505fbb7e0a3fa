"""Export to SavedModels that TF Serving loads as they are: layout, versions, atomicity,
TensorFlow-only reload with equal predictions, stock ops only, warm-up records, models.config."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT, TINY_MODEL_ARGS, classifiers, lock_held_elsewhere
from google.protobuf import text_format
from tensorflow_serving.apis import prediction_log_pb2
from tensorflow_serving.config import model_server_config_pb2

import zoo
from zoo import export, training
from zoo.predict import main as predict_main
from zoo.serving import saved_model
from zoo.tasks import classification


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished short run of every exported model, on mock data: name -> model dir."""
    runs = {}
    with tfds.testing.mock_data(num_examples=32):
        for name in classifiers():
            runs[name] = tmp_path_factory.mktemp(name)
            training.train(training.TrainConfig(
                model=name, model_dir=str(runs[name]), epochs=1, batch_size=16,
                strategy="one_device", model_args=TINY_MODEL_ARGS[name],
            ))
    return runs


def raw_inputs(name):
    """A few raw inputs of the kind the model's signature takes; texts include some with no
    tokens at all."""
    if zoo.get_model_spec(name).serving_input == "text":
        return np.array(["a moving, funny film", "dull", "", "   ", "?!...", "so so " * 50])
    return np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)


@pytest.mark.parametrize("name", classifiers())
def test_export_reloads_with_tensorflow_alone_and_predicts_the_same(name, trained, tmp_path):
    version_dir = saved_model.export(trained[name], tmp_path)
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

    probabilities = np.array(served["probabilities"])
    assert np.isfinite(probabilities).all(), "NaN passes assert_allclose, so it is checked first"
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    model = keras.saving.load_model(trained[name] / "model.keras")
    expected = model.predict(tf.constant(inputs), verbose=0)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-5)
    assert served["class_id"] == expected.argmax(-1).tolist()
    class_names = json.loads((trained[name] / "summary.json").read_text())["class_names"]
    assert served["label"] == [class_names[i] for i in served["class_id"]]


def test_versions_increment_and_old_ones_stay_untouched(trained, tmp_path):
    first = saved_model.export(trained["mnist_cnn"], tmp_path)
    before = {path: path.stat().st_mtime_ns for path in first.rglob("*")}
    second = saved_model.export(trained["mnist_cnn"], tmp_path)
    (tmp_path / "mnist_cnn" / "7").mkdir()
    third = saved_model.export(trained["mnist_cnn"], tmp_path)
    assert [first.name, second.name, third.name] == ["1", "2", "8"]
    assert {path: path.stat().st_mtime_ns for path in first.rglob("*")} == before


def test_a_failed_export_leaves_no_version_behind(trained, tmp_path, monkeypatch):
    saved_model.export(trained["mnist_cnn"], tmp_path)
    config_before = (tmp_path / "models.config").read_text()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(saved_model, "write_warmup_requests", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        saved_model.export(trained["mnist_cnn"], tmp_path)
    assert sorted(path.name for path in (tmp_path / "mnist_cnn").iterdir()) == ["1"]
    assert (tmp_path / "models.config").read_text() == config_before


def test_models_config_lists_every_exported_model(trained, tmp_path):
    for name in ("mnist_cnn", "transformer_text"):
        saved_model.export(trained[name], tmp_path)
    saved_model.export(trained["mnist_cnn"], tmp_path, name="digits")
    config = text_format.Parse(
        (tmp_path / "models.config").read_text(), model_server_config_pb2.ModelServerConfig()
    )
    entries = {entry.name: entry for entry in config.model_config_list.config}
    assert sorted(entries) == ["digits", "mnist_cnn", "transformer_text"]
    assert entries["mnist_cnn"].base_path == "/models/mnist_cnn"
    assert entries["mnist_cnn"].model_platform == "tensorflow"


@pytest.mark.parametrize("name", ["mnist_cnn", "transformer_text"])
def test_warmup_requests_replay_through_the_loaded_signatures(name, trained, tmp_path):
    version_dir = saved_model.export(trained[name], tmp_path)
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


@pytest.mark.parametrize("size", [28, 56, 17])
def test_image_bytes_signature_resizes_like_the_pixel_signature_sees_it(trained, tmp_path, size):
    loaded = tf.saved_model.load(str(saved_model.export(trained["mnist_cnn"], tmp_path)))
    images = tf.constant(raw_inputs("mnist_cnn"))
    large = tf.cast(tf.round(tf.image.resize(images, (size, size))), tf.uint8)
    pngs = tf.stack([tf.io.encode_png(image) for image in large])
    from_bytes = loaded.signatures[classification.IMAGE_BYTES_SIGNATURE](image_bytes=pngs)
    resized = tf.cast(tf.round(tf.image.resize(large, (28, 28))), tf.uint8)
    from_pixels = loaded.signatures["serving_default"](images=resized)
    assert np.isfinite(from_bytes["probabilities"]).all()
    np.testing.assert_allclose(from_bytes["probabilities"], from_pixels["probabilities"], atol=1e-6)
    if size == 28:
        np.testing.assert_array_equal(resized, images)


@pytest.mark.parametrize("name", ["../evil", "/tmp/evil", "a/b", "Evil"])
def test_an_export_name_that_is_not_a_model_name_is_refused(trained, tmp_path, name):
    with pytest.raises(zoo.UserError, match="must match"):
        saved_model.export(trained["mnist_cnn"], tmp_path / "out", name=name)
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil").exists()


def test_an_export_that_loses_the_race_for_a_version_takes_the_next(trained, tmp_path, monkeypatch):
    """Two exports started together both pick version 1; the one that renames second gets 2."""
    rename = pathlib.Path.rename

    def other_export_renames_first(staging, target):
        if target.name == "1":
            target.mkdir()
            (target / "saved_model.pb").write_bytes(b"the other export's")
        return rename(staging, target)

    monkeypatch.setattr(pathlib.Path, "rename", other_export_renames_first)
    assert saved_model.export(trained["mnist_cnn"], tmp_path) == tmp_path / "mnist_cnn" / "2"
    assert (tmp_path / "mnist_cnn" / "1" / "saved_model.pb").read_bytes() == b"the other export's"
    assert sorted(path.name for path in (tmp_path / "mnist_cnn").iterdir()) == ["1", "2"]


@pytest.mark.parametrize("damage", ["truncated model", "malformed summary"])
def test_export_of_a_damaged_run_is_a_one_line_error(trained, tmp_path, capsys, damage):
    shutil.copytree(trained["mnist_cnn"], tmp_path / "run")
    if damage == "truncated model":
        model_file = tmp_path / "run" / "model.keras"
        model_file.write_bytes(model_file.read_bytes()[:1000])
    else:
        (tmp_path / "run" / "summary.json").write_text('{"model": "mnist_cnn", ')
    assert export.main(["--model-dir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("zoo.export: error: ") and "damaged run" in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_killed_exports_staging_folder_is_cleared_by_the_next_and_a_live_ones_kept(trained, tmp_path):
    model_base = tmp_path / "mnist_cnn"
    (model_base / ".staging-dead" / "variables").mkdir(parents=True)  # killed: no process holds its lock
    with lock_held_elsewhere(model_base / ".staging-alive.lock"):
        (model_base / ".staging-alive").mkdir()
        saved_model.export(trained["mnist_cnn"], tmp_path)
        assert sorted(path.name for path in model_base.iterdir()) == [".staging-alive", ".staging-alive.lock", "1"]


@pytest.mark.parametrize("export_dir", ["/proc/zoo-exports", "{tmp}/a_file/exports"])
def test_an_export_dir_that_cannot_be_written_is_a_one_line_error(trained, tmp_path, capsys, export_dir):
    (tmp_path / "a_file").write_text("not a folder")
    code = export.main(["--model-dir", str(trained["mnist_cnn"]), "--export-dir", export_dir.format(tmp=tmp_path)])
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("zoo.export: error: cannot write --export-dir ") and error.count("\n") == 1


def test_predict_errors_are_one_line(trained, tmp_path, capsys):
    saved_model.export(trained["mnist_cnn"], tmp_path)
    saved_model.export(trained["ngram_text"], tmp_path)
    shutil.copytree(tmp_path / "mnist_cnn" / "1", tmp_path / "no_variables" / "1")
    shutil.rmtree(tmp_path / "no_variables" / "1" / "variables")
    (tmp_path / "notes.txt").write_text("not an image")
    for arguments, message in [
        ([str(tmp_path / "mnist_cnn" / "5"), "x.png"], "holds no SavedModel"),
        ([str(tmp_path / "nothing_here"), "x.png"], "no SavedModel versions"),
        ([str(tmp_path / "mnist_cnn"), str(tmp_path / "missing.png")], "missing.png: no such file"),
        ([str(tmp_path / "mnist_cnn"), str(tmp_path / "notes.txt")], "notes.txt is not an image"),
        ([str(tmp_path / "mnist_cnn"), str(tmp_path)], f"{tmp_path} is a folder: pass image files"),
        ([str(tmp_path / "no_variables" / "1"), "x.png"], "holds a damaged SavedModel"),
        ([str(tmp_path / "ngram_text"), "fine", b"caf\xe9".decode(errors="surrogateescape")],
         "input 2 is not valid UTF-8 text"),
    ]:
        assert predict_main(arguments) == 2
        stderr = capsys.readouterr().err
        assert stderr.startswith("zoo.predict: error: ") and message in stderr and stderr.count("\n") == 1


def test_export_of_an_unfinished_run_says_to_train_first(tmp_path, capsys):
    assert export.main(["--model-dir", str(tmp_path), "--export-dir", str(tmp_path / "out")]) == 2
    assert "no finished run" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
