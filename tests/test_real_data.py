"""Every user path on the real data in ../shared/tensorflow_datasets, for every model: train.py
for a few steps (bert_text fine-tuned from the bert_mlm run), export (its own process, as the
README runs it), reload with TensorFlow alone, predict; and model.keras loads with Keras and the
zoo's layers, without its training code. Students are distilled from those runs and served too. Mock data hid a vocabulary that broke every text export
on real IMDB; these runs are short, but real. The shipped preset is checked on real reviews."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import zoo
from conftest import REPO_ROOT
from zoo import evaluate, transfer
from zoo.predict import predict
from zoo.tasks import get_task

# Real splits, cut for time (the flags users have, --train-split and --test-split): each run's
# summary and report must cover its held-out splits whole, and say which they are. The classifiers
# are tested on the first 2,000 test examples; IMDB's train on 10% of its training reviews (so 250
# of them are carved for validation).
SPLITS = {"mnist": ("train", "test[:2000]"), "imdb_reviews": ("train[:10%]", "test[:2000]"),
          "bert_mlm": ("unsupervised[:5%]", "unsupervised[95%:]"), "gpt_text": ("unsupervised[:5%]", "test[:10%]")}
HELD_OUT_EXAMPLES = {"mnist": (6_000, 2_000), "imdb_reviews": (250, 2_000), "bert_mlm": (2_500, 2_500),
                     "gpt_text": (2_500, 2_500)}
INIT_FROM = {"bert_text": "bert_mlm"}  # fine-tuned from the real pretraining run, as users do
DISTILLED = {"mnist_cnn_small": ("mnist_cnn", []), "ngram_text": ("bert_text", ["--unlabelled-split", "unsupervised[:5%]"])}
STUDENTS_ONLY = {"mnist_cnn_small", "ngram_text"}  # trained and served on real data as students only
SHORTER = {"bert_mlm": 32, "bert_text": 32, "gpt_text": 64, "lstm_text": 64, "transformer_text": 64}  # sequence lengths, for time


def run(*command):
    result = subprocess.run(
        [sys.executable, *command], cwd=REPO_ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def splits_of(name):
    """The --train-split and --test-split flags of `name`'s real run, and the held-out example counts."""
    key = name if name in SPLITS else zoo.get_model_spec(name).dataset
    train_split, test_split = SPLITS[key]
    return ["--train-split", train_split, "--test-split", test_split], HELD_OUT_EXAMPLES[key]


def real_inputs(name, data_dir):
    """Real test examples, and for text the inputs that have no tokens at all."""
    dataset = zoo.get_model_spec(name).dataset
    inputs = [x for x, _ in tfds.load(dataset, split="test[:4]", data_dir=data_dir, as_supervised=True)]
    if dataset == "imdb_reviews":
        return np.array([x.numpy() for x in inputs] + [b"", b"   ", b"?!...", "\x85\u2028".encode()])
    return np.stack([x.numpy() for x in inputs])


@pytest.fixture(scope="module")
def real_run(real_data_dir, tmp_path_factory):
    """A function: the dir of a model's few-step run on real data, trained on first use; a
    model in INIT_FROM starts from its source's run, as users fine-tune a pretrained one."""
    model_dirs = {}

    def model_dir_of(name):
        if name not in model_dirs:
            model_dir = tmp_path_factory.mktemp(name) / "run"
            init_from = ["--init-from", str(model_dir_of(INIT_FROM[name]))] if name in INIT_FROM else []
            shorter = ["--model-arg", f"sequence_length={SHORTER[name]}"] if name in SHORTER else []
            run("train.py", "--model", name, "--data-dir", str(real_data_dir), "--model-dir", str(model_dir),
                "--epochs", "1", "--steps-per-epoch", "5", "--strategy", "one_device", *splits_of(name)[0],
                *shorter, *init_from)
            model_dirs[name] = model_dir
        return model_dirs[name]

    return model_dir_of


def exported_and_served(name, model_dir, export_dir, data_dir, tmp_path):
    """Exports the run in its own process, as the README does, and serves real inputs from a
    SavedModel loaded with TensorFlow alone; returns what it served and its probabilities."""
    run("-m", "zoo.export", "--model-dir", str(model_dir), "--export-dir", str(export_dir))
    inputs = real_inputs(name, data_dir)
    np.savez(tmp_path / "inputs.npz", inputs=inputs)
    served = json.loads(run("tests/tensorflow_only.py", str(export_dir / name / "1"), str(tmp_path / "inputs.npz"))
                        .strip().splitlines()[-1])
    probabilities = np.array(served["probabilities"])  # of classes, or of a causal LM's next token
    assert len(probabilities) == len(inputs) and np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    assert served["unregistered_ops"] == [] and served["imported"] == []
    return served, probabilities


def check_evaluation(model_dir, summary):
    """The run's evaluation report covers the whole test split it names, with the accuracy Keras measured."""
    evaluation = json.loads((model_dir / "evaluation.json").read_text())
    test_split = summary["hyperparameters"]["test_split"]
    assert evaluation["evaluated_on"] == f"the {test_split} split of {summary['dataset']}"
    assert evaluation["examples"] == summary["examples"]["test"] == sum(map(sum, evaluation["confusion_matrix"]))
    assert evaluation["accuracy"] == pytest.approx(summary["test_metrics"]["accuracy"], abs=1e-6)
    assert evaluation["class_names"] == summary["class_names"] and (model_dir / "confusion_matrix.png").exists()
    return evaluation


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in zoo.list_models() if name not in STUDENTS_ONLY])
def test_train_export_reload_and_predict_on_real_data(name, real_data_dir, real_run, tmp_path):
    model_dir, export_dir = real_run(name), tmp_path / "exported"
    summary = json.loads((model_dir / "summary.json").read_text())
    if name in INIT_FROM:
        assert summary["init_from"]["source"].startswith(str(real_run(INIT_FROM[name])))
        assert summary["init_from"]["copied_layers"]
    validation, test = splits_of(name)[1]
    assert summary["test_metrics"]["examples"] == summary["examples"]["test"] == test
    assert summary["validation_metrics"]["examples"] == validation
    assert all(np.isfinite(value) for value in summary["test_metrics"].values())
    if not get_task(summary["task"]).exportable:
        return  # pretraining: fine-tuned, not served

    served, probabilities = exported_and_served(name, model_dir, export_dir, real_data_dir, tmp_path)

    if summary["task"] == "causal_lm":
        first, again, _ = served["generated"]
        assert first == again and first[0].startswith("This movie")
        # The export, as deployed (a model dir and its export write the same text: test_generate.py).
        text = run("-m", "zoo.generate", "--model-dir", str(export_dir / name), "--prompt", "This movie",
                   "--max-length", "32", "--seed", "1")
        assert text.startswith("This movie") and len(text.strip()) <= 31
        return
    assert probabilities.shape[1] == len(summary["class_names"])
    evaluation = check_evaluation(model_dir, summary)

    if summary["modality"] == "image":
        # What is deployed, through its serving_default, gives the report the run wrote.
        served_evaluation = evaluate.evaluate(export_dir / name / "1", data_dir=str(real_data_dir),
                                              output_dir=tmp_path / "evaluation")
        assert served_evaluation["confusion_matrix"] == evaluation["confusion_matrix"]
        image = tmp_path / "digit.png"
        image.write_bytes(tf.io.encode_png(tf.constant(real_inputs(name, real_data_dir)[0])).numpy())
        given = [str(image)]
    else:
        given = ["A moving, funny film.", ""]
    labels = [label for label, _ in predict(export_dir / name, given)]  # as python -m zoo.predict does
    assert len(labels) == len(given) and set(labels) <= set(summary["class_names"])


@pytest.mark.slow
def test_every_real_run_loads_with_keras_and_the_zoos_layers_alone(real_run):
    """model.keras needs Keras and the zoo's layers (BertInputs, CharacterTokenizer), nothing of
    its training code: one process loads every real run's."""
    served = [name for name in zoo.list_models()
              if name not in STUDENTS_ONLY and get_task(zoo.get_model_spec(name).task).exportable]
    paths = [str(real_run(name) / "model.keras") for name in served]
    run("-c", f"import sys, keras, zoo.models; [keras.saving.load_model(path) for path in {paths!r}]; "
              "assert 'zoo.training' not in sys.modules")


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(DISTILLED))
def test_distil_export_reload_and_predict_on_real_data(student, real_data_dir, real_run, tmp_path):
    """From the real teacher runs above: a BERT teaches an n-gram model, on unlabelled reviews too."""
    teacher, more_flags = DISTILLED[student]
    model_dir = tmp_path / "run"
    run("train.py", "--model", student, "--teacher", str(real_run(teacher)), "--data-dir", str(real_data_dir),
        "--model-dir", str(model_dir), "--epochs", "1", "--steps-per-epoch", "5", "--strategy", "one_device",
        *splits_of(student)[0], *more_flags)
    summary = json.loads((model_dir / "summary.json").read_text())
    teacher_summary = json.loads((real_run(teacher) / "summary.json").read_text())
    validation, test = splits_of(student)[1]
    taught = summary["distillation"]["teacher_test_metrics"]
    assert summary["test_metrics"]["examples"] == taught["examples"] == test
    assert taught["accuracy"] == pytest.approx(teacher_summary["test_metrics"]["accuracy"], abs=1e-6)
    assert summary["validation_metrics"]["examples"] == validation
    assert all(np.isfinite(value) for value in summary["test_metrics"].values())
    if "--unlabelled-split" in more_flags:
        assert summary["examples"]["train_unlabelled"] == 2_500

    _, probabilities = exported_and_served(student, model_dir, tmp_path / "exported", real_data_dir, tmp_path)
    assert probabilities.shape[1] == len(summary["class_names"])
    check_evaluation(model_dir, summary)


@pytest.mark.slow
def test_the_shipped_preset_is_what_its_readme_says_and_reads_real_reviews(real_data_dir):
    preset = REPO_ROOT / "presets" / "bert_mlm_imdb"
    readme = (preset / "README.md").read_text()
    assert hashlib.sha256((preset / "model.weights.h5").read_bytes()).hexdigest() in readme
    pretraining = json.loads((preset / "summary.json").read_text())
    assert f"{pretraining['test_metrics']['accuracy']:.4f}" in readme

    spec = zoo.get_model_spec("bert_text")
    source = transfer.load_source(preset)
    preprocessor = transfer.check_preprocessor(source, spec.make_preprocessor(spec.default_args()))
    model = zoo.build_model("bert_text", num_classes=2)
    copied, fresh = transfer.copy_weights(source, model)
    assert len(copied) == 1 and fresh == ["logits"]

    reviews = [text for text, _ in tfds.load("imdb_reviews", split="test[:16]", data_dir=real_data_dir,
                                              as_supervised=True)]
    inputs = preprocessor(tf.stack(reviews))
    words = inputs["token_ids"].numpy()[inputs["padding_mask"].numpy()]
    assert np.mean(words == 1) < 0.08, "20,000 words cover about 95% of real test reviews' words"
    probabilities = model.predict(inputs, verbose=0)
    assert probabilities.shape == (16, 2) and np.isfinite(probabilities).all()
