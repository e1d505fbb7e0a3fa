"""zoo.export --format litert / onnx: the exports run through ai_edge_litert and onnxruntime, on
real data, and agree with the Keras model (what the SavedModel serves)."""

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT

import zoo
from zoo import edge_predict, export
from zoo.errors import UserError

INT8_POINTS_LOST = 0.5  # the targets: int8 loses at most 0.5 points, a third of the float32 size
AGREEMENT = 0.999


def exported(model_dir, export_dir, *flags):
    """`python -m zoo.export` in-process; returns its exit code."""
    return export.main(["--model-dir", model_dir, "--export-dir", str(export_dir), *flags])


def real_slice(dataset, data_dir, split):
    return tfds.as_numpy(tfds.load(dataset, split=split, data_dir=data_dir, as_supervised=True, batch_size=-1))


def batched(predict, inputs, batch_size=256):
    return np.concatenate([predict(inputs[start:start + batch_size]) for start in range(0, len(inputs), batch_size)])


@pytest.fixture(scope="module")
def mnist_exports(real_data_dir, tmp_path_factory):
    """mnist_cnn's preset as float32 and int8 LiteRT and as ONNX, and the real test slice."""
    export_dir = tmp_path_factory.mktemp("edge")
    for flags in (["--format", "litert"], ["--format", "litert", "--quantize", "int8", "--data-dir", str(real_data_dir)],
                  ["--format", "onnx"]):
        assert exported("mnist_cnn", export_dir, *flags) == 0
    images, labels = real_slice("mnist", real_data_dir, "test[:2000]")
    keras_probabilities = zoo.from_preset("mnist_cnn").predict(images, batch_size=256, verbose=0)
    return export_dir / "mnist_cnn", images, labels, keras_probabilities


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["litert-none", "litert-int8", "onnx"])
def test_mnist_cnn_exports_reach_the_keras_accuracy_on_real_mnist(folder, mnist_exports):
    root, images, labels, keras_probabilities = mnist_exports
    predict = edge_predict.load(root / folder)
    assert predict.settings["inputs"] == [{"name": "images", "dtype": "uint8", "shape": [None, 28, 28, 1]}]
    probabilities = batched(predict, images)
    assert probabilities.shape == keras_probabilities.shape and np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=0.02 if folder == "litert-int8" else 1e-3)  # int8: steps of 1/256
    agreement = json.loads((root / folder / "summary.json").read_text()).get("agreement")
    if folder == "litert-int8":  # given --data-dir, the export was checked on 500 held-out digits
        assert agreement["examples"] == 500 and agreement["share"] >= 0.98
    else:
        assert agreement is None
    keras_accuracy = (keras_probabilities.argmax(1) == labels).mean()
    accuracy = (probabilities.argmax(1) == labels).mean()
    agreement = (probabilities.argmax(1) == keras_probabilities.argmax(1)).mean()
    assert keras_accuracy > 0.98
    if folder == "litert-int8":
        assert accuracy >= keras_accuracy - INT8_POINTS_LOST / 100
        size, float_size = ((root / name / "model.tflite").stat().st_size for name in ("litert-int8", "litert-none"))
        assert size <= float_size / 3
    else:
        assert agreement >= AGREEMENT and abs(accuracy - keras_accuracy) <= 1 - AGREEMENT


@pytest.mark.slow
def test_a_text_export_runs_its_own_tokenizer_and_agrees_on_real_reviews(real_data_dir, tmp_path):
    assert exported("ngram_text", tmp_path, "--format", "onnx") == 0
    folder = tmp_path / "ngram_text" / "onnx"
    assert sorted(path.name for path in folder.iterdir()) == [
        "model.onnx", "preprocessing.json", "summary.json", "tokenizer.py"]
    texts, labels = real_slice("imdb_reviews", real_data_dir, "test[:300]")
    expected = zoo.from_preset("ngram_text").predict(tf.constant(texts), verbose=0)
    program = ("import json, sys, numpy as np, onnxruntime; sys.path.insert(0, sys.argv[1]); from tokenizer import Tokenizer\n"
               "texts = json.load(open(sys.argv[2])); rows = Tokenizer.load(sys.argv[1] + '/preprocessing.json')(texts)\n"
               "session = onnxruntime.InferenceSession(sys.argv[1] + '/model.onnx')\n"
               "print(json.dumps(session.run(None, {'ngrams': np.array(rows, np.float32)})[0].tolist()))\n"
               "assert 'tensorflow' not in sys.modules")
    (tmp_path / "texts.json").write_text(json.dumps([text.decode() for text in texts]))
    result = subprocess.run([sys.executable, "-c", program, str(folder), str(tmp_path / "texts.json")],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    probabilities = np.array(json.loads(result.stdout))
    assert (probabilities.argmax(1) == expected.argmax(1)).mean() >= AGREEMENT
    assert (probabilities.argmax(1) == labels).mean() > 0.8
    predict = edge_predict.load(folder)
    np.testing.assert_allclose(predict(texts[:8]), predict([text.decode() for text in texts[:8]]), atol=1e-6)
    with pytest.raises(UserError, match="^text 2 is not valid UTF-8; decode it to str first$"):
        predict([b"fine", b"caf\xe9"])


@pytest.mark.slow
def test_an_image_export_refuses_pixels_and_folders_it_was_not_made_for(mnist_exports, tmp_path):
    root, images, _, _ = mnist_exports
    predict = edge_predict.load(root / "litert-none")
    for wrong, message in [(images[:4] / 255.0, "got float64 \\(pixels in \\[0, 1\\]: multiply by 255"),
                           (images[:4].astype(np.int32) * 2, "got values from 0 to 510"),
                           (np.zeros((4, 32, 32, 1), np.uint8), r"shape \(N, 28, 28, 1\); got \(4, 32, 32, 1\)")]:
        with pytest.raises(UserError, match=message):
            predict(wrong)
    (tmp_path / "saved" / "1").mkdir(parents=True)
    (tmp_path / "saved" / "1" / "saved_model.pb").write_bytes(b"")
    (tmp_path / "empty").mkdir()
    for folder, message in [(tmp_path / "saved" / "1", "is a SavedModel"), (root, "holds exports, not one: pass one of"),
                            (tmp_path / "empty", "holds no LiteRT or ONNX export"),
                            (tmp_path / "missing", "holds no LiteRT or ONNX export")]:
        with pytest.raises(UserError, match=message) as error:
            edge_predict.load(folder)
        assert "\n" not in str(error.value)


@pytest.mark.parametrize("flags, error", [
    (["--model-dir", "gpt_text", "--format", "litert"],
     "gpt_text is a causal_lm model: its generation loop runs in TensorFlow; --format litert exports classifiers only"),
    (["--model-dir", "lstm_text", "--format", "litert"],
     "LiteRT's builtin ops cannot run lstm_text with --quantize none (it needs tf.TensorListReserve)"),
    (["--model-dir", "lstm_text", "--format", "onnx"],
     "tf2onnx converts lstm_text to an ONNX file that onnxruntime refuses"),  # ...; export it as a SavedModel
    (["--model-dir", "mnist_cnn_small", "--format", "litert", "--export-dir", "{tmp}/a_file/edge"],
     "cannot write --export-dir {tmp}/a_file/edge: {tmp}/a_file is not a writable folder"),
    (["--model-dir", "mnist_cnn", "--format", "onnx", "--quantize", "int8"], "--quantize int8 is LiteRT's"),
    (["--model-dir", "mnist_cnn", "--quantize", "float16"], "--quantize float16 is LiteRT's"),
    (["--model-dir", "mnist_cnn", "--format", "litert", "--quantize", "int8", "--data-dir", "{tmp}/nothing"],
     "--quantize int8 calibrates on the training split, which did not load"),
])
def test_formats_a_model_cannot_take_are_one_line_errors(flags, error, tmp_path, capsys):
    (tmp_path / "a_file").write_text("not a folder")
    flags = [flag.format(tmp=tmp_path) for flag in flags]
    flags += [] if "--export-dir" in flags else ["--export-dir", str(tmp_path / "out")]
    assert export.main(flags) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("zoo.export: error: ") and error.format(tmp=tmp_path) in message and "\n" not in message
    assert not list((tmp_path / "out").rglob("model.*"))


def test_an_unknown_format_or_quantization_is_refused_by_the_flags(capsys):
    for flags in (["--format", "coreml"], ["--format", "litert", "--quantize", "int4"]):
        with pytest.raises(SystemExit):
            export.parse_args(["--model-dir", "mnist_cnn", *flags])
        assert "invalid choice" in capsys.readouterr().err


def test_a_killed_exports_half_written_file_is_cleared_by_the_next(tmp_path):
    model_base = tmp_path / "mnist_cnn_small"
    (model_base / ".staging-dead").mkdir(parents=True)  # killed: no process holds its lock
    (model_base / ".staging-dead" / "model.tflite").write_bytes(b"TFL3 half")
    (model_base / ".staging-dead.lock").write_text("pid 1 on gone")
    assert exported("mnist_cnn_small", tmp_path, "--format", "litert") == 0
    assert sorted(path.name for path in model_base.iterdir()) == ["litert-none"]


def test_an_export_never_overwrites_an_earlier_one(tmp_path, capsys):
    assert exported("mnist_cnn_small", tmp_path, "--format", "litert", "--quantize", "float16") == 0
    written = (tmp_path / "mnist_cnn_small" / "litert-float16" / "model.tflite").read_bytes()
    assert exported("mnist_cnn_small", tmp_path, "--format", "litert", "--quantize", "float16") == 2
    assert "litert-float16 exists: pass another --name or --export-dir" in capsys.readouterr().err
    assert (tmp_path / "mnist_cnn_small" / "litert-float16" / "model.tflite").read_bytes() == written
    assert [path.name for path in (tmp_path / "mnist_cnn_small").iterdir()] == ["litert-float16"]


def test_the_guides_programs_run_each_format(tmp_path):
    """The LiteRT and ONNX guide's minimal programs, for each format, with no TensorFlow."""
    readme = (REPO_ROOT / "docs" / "guides" / "edge.md").read_text()
    for marker, flags in (("# LiteRT", ["--format", "litert"]), ("# ONNX", ["--format", "onnx"])):
        assert exported("mnist_cnn_small", tmp_path / "edge_models", *flags) == 0
        program = marker + readme.split(f"```python\n{marker}")[1].split("```")[0]
        program += "import sys; assert 'tensorflow' not in sys.modules\n"
        result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        digit, probability = result.stdout.split()
        assert digit in [str(digit) for digit in range(10)] and 0 < float(probability) <= 1


@pytest.mark.parametrize("flags, last_line, noise", [
    (["--model-dir", "mnist_cnn_small", "--format", "onnx"], "Exported ", ("WARNING:tensorflow", "FutureWarning")),
    (["--model-dir", "lstm_text", "--format", "litert"], "zoo.export: error: LiteRT's builtin ops cannot run lstm_text",
     ("error: Lowering tensor list ops", "loc(callsite")),
])
def test_an_export_prints_its_own_line_without_the_converters_noise(tmp_path, flags, last_line, noise):
    command = [sys.executable, "-m", "zoo.export", *flags, "--export-dir", str(tmp_path)]
    quiet = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    assert [line for line in (quiet.stdout + quiet.stderr).splitlines() if line.startswith(last_line)]
    assert not any(marker in quiet.stdout + quiet.stderr for marker in noise), quiet.stderr[-2000:]
    if flags[-1] == "onnx":  # --verbose lets it through
        shutil.rmtree(tmp_path / "mnist_cnn_small")
        verbose = subprocess.run([*command, "--verbose"], capture_output=True, text=True, cwd=REPO_ROOT)
        assert verbose.returncode == 0 and "WARNING:tensorflow" in verbose.stderr


@pytest.mark.slow
def test_an_export_that_disagrees_with_its_float_model_is_refused_with_the_figure(real_data_dir, tmp_path, capsys):
    assert exported("bert_text", tmp_path, "--format", "litert", "--quantize", "int8", "--data-dir", str(real_data_dir)) == 2
    error = capsys.readouterr().err
    assert re.search(r"the litert-int8 export gives bert_text's own class on \d+\.\d% of 500 held-out examples "
                     r"\(the test split of imdb_reviews\), under the 98% an export must reach", error), error
    assert error.count("\n") == 1 and list(tmp_path.iterdir()) == []
