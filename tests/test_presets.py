"""The shipped presets: one per model, each the file its registry record and its card name,
checked on every use, loaded by name from Python and from every command line; and each one's
recorded figure reproduced exactly on a fixed slice of the real test split."""

import importlib.util
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

import train
import zoo
from conftest import REPO_ROOT
from zoo import evaluate, export, generate, predict, presets

MAX_TOTAL_BYTES = 80 * 2**20  # eleven presets; a 20,000-word table of 128-d vectors alone is 10 MiB
SMALL = "mnist_cnn_fast"  # the smallest preset, for the tests that copy one


COMMANDS = {"predict": predict.main, "export": export.main, "evaluate": evaluate.main, "generate": generate.main,
            "train.py": train.main}


def error_line(capsys, command, *argv):
    """The one line that a command line's main (run here) printed on failing, with exit status 2."""
    code = COMMANDS[command](list(argv))
    stderr = capsys.readouterr().err
    assert code == 2 and stderr.count("\n") == 1 and stderr.startswith(f"{'zoo.' * (command != 'train.py')}{command}")
    return stderr


@pytest.fixture
def copied_presets(tmp_path, monkeypatch):
    """A writable copy of one preset, where ZOO_PRESETS_DIR points (this process and its children)."""
    shutil.copytree(REPO_ROOT / "presets" / SMALL, tmp_path / SMALL)
    monkeypatch.setenv("ZOO_PRESETS_DIR", str(tmp_path))
    return tmp_path


def test_every_model_ships_a_preset_whose_files_are_those_its_record_and_card_name():
    assert presets.list_presets() == zoo.list_models()
    total = 0
    for name in presets.list_presets():
        directory = presets.preset_dir(name)  # checks every recorded file's SHA-256
        record = zoo.get_model_spec(name).preset_files
        figures, card = presets.figures(name), (directory / presets.CARD).read_text()
        assert figures["files"] == record and all(f"`{digest}`" in card for digest in record.values())
        assert figures["command"] in card and presets.headline(figures).split(" (")[0] in card.replace("**", "")
        total += sum(path.stat().st_size for path in directory.iterdir())
    assert total <= MAX_TOTAL_BYTES


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.unlink(), "is missing"),
    (lambda path: path.write_bytes(path.read_bytes()[:1000]), "SHA-256 differs: truncated or altered"),
    (lambda path: path.write_bytes(path.read_bytes()[:-1] + b"x"), "SHA-256 differs: truncated or altered"),
])
def test_a_missing_truncated_or_altered_file_is_a_one_line_error_naming_it(copied_presets, capsys, damage, message):
    weights = copied_presets / SMALL / "model.keras"
    damage(weights)
    with pytest.raises(zoo.PresetError, match=message) as error:
        zoo.from_preset(SMALL)
    assert str(weights) in str(error.value) and "\n" not in str(error.value)
    assert str(weights) in error_line(capsys, "predict", SMALL, "digit.png")
    assert message in error_line(capsys, "train.py", "--model", SMALL, "--init-from", SMALL,
                                 "--model-dir", str(copied_presets / "run"))
    assert not (copied_presets / "run").exists()


@pytest.mark.parametrize("command", [
    ["predict", "mnist_cn", "digit.png"],
    ["export", "--model-dir", "mnist_cn"],
    ["evaluate", "--model-dir", "mnist_cn"],
    ["generate", "--model-dir", "gpt_txt", "--prompt", "x"],
    ["train.py", "--model", "mnist_cnn", "--init-from", "mnist_cn"],
])
def test_an_unknown_preset_is_a_one_line_error_listing_those_that_exist(capsys, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)  # nothing is written, wherever it would go
    listed = "the presets are: " + ", ".join(presets.list_presets())
    assert "is neither a preset nor a folder; " + listed in error_line(capsys, *command)
    with pytest.raises(zoo.PresetError, match=listed):
        zoo.from_preset("mnist_cn")
    assert list(tmp_path.iterdir()) == []


def test_from_preset_is_the_trained_model_raw_inputs_in_ready_for_predict_and_fit():
    model = zoo.from_preset(SMALL)
    assert model.input.dtype == "uint8" and not model.compiled
    digits = np.zeros((4, 28, 28, 1), np.uint8)
    assert model.predict(digits, verbose=0).shape == (4, 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(digits, np.zeros(4), epochs=1, verbose=0)
    texts = zoo.from_preset("ngram_text")
    probabilities = texts.predict(tf.constant(["A wonderful, moving film.", ""]), verbose=0)
    assert probabilities.shape == (2, 2) and np.isfinite(probabilities).all()
    encoder = zoo.from_preset("bert_mlm")
    assert encoder(tf.constant(["A film."]))["pooled_output"].shape == (1, 128)


def test_list_shows_which_models_ship_weights_and_their_test_figure(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    assert train.main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-3:] == ["trained", "weights", "(test)"]
    for line in lines[1:]:
        name = line.split()[0]
        assert line.endswith(presets.headline(presets.figures(name)))


def test_a_preset_is_never_written_into():
    directory = presets.preset_dir(SMALL)
    assert evaluate.default_output_dir(directory, "last", None) == pathlib.Path("evaluations") / f"{SMALL}-preset"


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in zoo.list_models() if zoo.get_model_spec(name).task == "classification"])
def test_each_classifier_preset_scores_exactly_its_recorded_figure_on_the_fixed_real_slice(name, real_data_dir, tmp_path):
    figures = presets.figures(name)
    report = evaluate.evaluate(name, data_dir=str(real_data_dir), output_dir=tmp_path, test_split=figures["slice"]["split"])
    assert report["examples"] == figures["slice"]["examples"] == 2000
    assert report["accuracy"] == figures["slice"]["accuracy"]  # inference is deterministic
    assert report["accuracy"] > (0.98 if zoo.get_model_spec(name).dataset == "mnist" else 0.85)


@pytest.mark.slow
def test_the_language_model_preset_scores_exactly_its_recorded_figure_on_the_fixed_real_slice(real_data_dir):
    spec = importlib.util.spec_from_file_location("publish_presets", REPO_ROOT / "benchmarks" / "publish_presets.py")
    publisher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(publisher)  # what recorded the figure
    recorded = presets.figures("gpt_text")["slice"]
    measured = publisher.slice_figures(zoo.from_preset("gpt_text"), str(real_data_dir))
    assert measured["examples"] == recorded["examples"] == 200
    # Sums of float32 log-probabilities: equal to 1e-6, whatever the CPU's summation order.
    assert measured["bits_per_character"] == pytest.approx(recorded["bits_per_character"], abs=1e-6)
    assert measured["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-6)
    assert measured["bits_per_character"] < 2.5
