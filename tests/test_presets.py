"""The shipped presets: one per model, each the files its preset.json (itself in the presets'
index.json) and its card name, checked on every use, loaded by name from Python and from every command line; and each one's
recorded figure reproduced exactly on a fixed slice of the real test split."""

import importlib.util
import json
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT, load_benchmark

import train
import zoo
from zoo import evaluate, evaluation, export, generate, predict, training
from zoo.config import TrainConfig
from zoo.store import presets
from zoo.tasks import task_for

MAX_TOTAL_BYTES = 96 * 2**20  # twelve presets; a 20,000-word table of 128-d vectors alone is 10 MiB, VAMPIRE's 15
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
    shutil.copytree(REPO_ROOT / "presets" / SMALL, tmp_path / "presets" / SMALL)
    shutil.copy(REPO_ROOT / "presets" / presets.INDEX, tmp_path / "presets" / presets.INDEX)
    monkeypatch.setenv("ZOO_PRESETS_DIR", str(tmp_path / "presets"))
    return tmp_path / "presets"


def test_every_model_ships_a_preset_whose_files_are_those_its_record_and_card_name():
    assert [name for name in presets.list_presets() if "." not in name] == zoo.list_models()
    index = json.loads((REPO_ROOT / "presets" / presets.INDEX).read_text())
    total = 0
    for name in presets.list_presets():
        directory = presets.preset_dir(name)  # checks preset.json, then every file it records
        figures, card = presets.figures(name), (directory / presets.CARD).read_text()
        assert index[name] == presets.sha256(directory / presets.CARD_FIGURES)
        assert figures["model"] == name.split(".")[0] in zoo.list_models()
        shipped = sorted(path.name for path in directory.iterdir() if path.name != presets.CARD_FIGURES)
        assert sorted(figures["files"]) == shipped  # every file it ships
        assert all(f"`{digest}`" in card for filename, digest in figures["files"].items() if filename != presets.CARD)
        assert figures["command"] in card and presets.headline(figures).split(" (")[0] in card.replace("**", "")
        total += sum(path.stat().st_size for path in directory.iterdir())
    assert total <= MAX_TOTAL_BYTES


def test_another_weight_set_of_a_model_is_a_preset_of_its_own_name(copied_presets):
    """timm's naming: MODEL is the default weight set, MODEL.TAG another; each is checked as any."""
    other = f"{SMALL}.copy"
    shutil.copytree(copied_presets / SMALL, copied_presets / other)
    index = json.loads((copied_presets / presets.INDEX).read_text())
    (copied_presets / presets.INDEX).write_text(json.dumps({**index, other: index[SMALL]}))
    assert other in presets.list_presets() and presets.resolve(other) == copied_presets / other
    assert zoo.from_preset(other).count_params() == zoo.from_preset(SMALL).count_params()
    (copied_presets / other / "model.keras").write_bytes(b"altered")
    with pytest.raises(zoo.PresetError, match=r"mnist_cnn_fast\.copy.*SHA-256 differs"):
        zoo.from_preset(other)


@pytest.mark.parametrize("filename", ["model.keras", presets.CARD_FIGURES, "evaluation.json", presets.CARD])
def test_every_shipped_file_is_checked_so_an_edited_figure_is_refused(copied_presets, capsys, filename):
    path = copied_presets / SMALL / filename
    path.write_bytes(path.read_bytes().replace(b"9", b"8"))
    with pytest.raises(zoo.PresetError, match="SHA-256 differs"):
        zoo.from_preset(SMALL)
    with pytest.raises(zoo.PresetError, match="SHA-256 differs"):
        presets.figures(SMALL)
    assert train.main(["--list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(SMALL))
    assert row.endswith(f"damaged: git checkout -- {copied_presets / SMALL}")


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
                                 "--model-dir", str(copied_presets.parent / "run"))
    assert not (copied_presets.parent / "run").exists()


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


@pytest.mark.parametrize("command, message", [
    (["evaluate", "--model-dir", SMALL, "--checkpoint", "best"], f"preset {SMALL} ships its final model only: drop --checkpoint best"),
    (["export", "--model-dir", SMALL, "--checkpoint", "best"], f"preset {SMALL} ships its final model only"),
    (["predict", "{presets}/nowhere", "digit.png"], "ZOO_PRESETS_DIR={presets}/nowhere is not a folder: point it at"),
])
def test_a_preset_used_wrongly_gets_the_line_that_fixes_it(capsys, tmp_path, monkeypatch, command, message):
    monkeypatch.chdir(tmp_path)
    if "nowhere" in " ".join(command):
        monkeypatch.setenv("ZOO_PRESETS_DIR", str(tmp_path / "nowhere"))
        command = [SMALL if "nowhere" in part else part for part in command]
    assert message.format(presets=tmp_path) in error_line(capsys, *command)
    assert list(tmp_path.iterdir()) == []


def test_a_preset_name_with_a_trailing_slash_is_the_preset():
    assert presets.resolve(f"{SMALL}/") == presets.preset_dir(SMALL)


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
    assert evaluation.default_output_dir(directory, "last", None) == pathlib.Path("evaluations") / f"{SMALL}-preset"


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in zoo.list_models() if zoo.get_model_spec(name).task == "classification"])
def test_each_classifier_preset_scores_exactly_its_recorded_figure_on_the_fixed_real_slice(name, real_data_dir, tmp_path):
    figures = presets.figures(name)
    report = evaluation.evaluate(name, data_dir=str(real_data_dir), output_dir=tmp_path, test_split=figures["slice"]["split"])
    assert report["examples"] == figures["slice"]["examples"] == 2000
    assert report["accuracy"] == figures["slice"]["accuracy"]  # inference is deterministic
    assert report["accuracy"] > (0.98 if zoo.get_model_spec(name).dataset == "mnist" else 0.85)


def test_publishing_refuses_a_run_that_departs_from_its_recipe_in_any_setting(tmp_path):
    recipe_command = load_benchmark("publish_presets", "release").recipe_command
    spec, config = zoo.get_model_spec(SMALL), TrainConfig(model=SMALL)
    recipe = training.run_settings(spec, config, task_for(spec, config))
    summary = {"model": SMALL}
    for departure in ({}, {"max_steps": 20}, {"epochs": 1}, {"train_split": "train[:10%]"}, {"seed": 1},
                      {"init_from": "mnist_cnn"}, {"model_args": {**recipe["model_args"], "filters": 8}}):
        (tmp_path / training.RUN_FILE).write_text(json.dumps({"settings": {**recipe, **departure}}))
        if not departure:
            assert recipe_command(tmp_path, summary) == f"python train.py --model {SMALL} --data-dir ../shared/tensorflow_datasets"
            continue
        with pytest.raises(SystemExit) as refusal:
            recipe_command(tmp_path, summary)
        key = next(iter(departure))
        assert f"{key}=" in str(refusal.value) and f"`python train.py --model {SMALL}` alone" in str(refusal.value)


def test_a_preset_may_be_its_recipe_fine_tuned_from_a_shipped_pretrained_preset(tmp_path):
    """The pretrain-then-fine-tune flow publishes (its card's command names the source); starting
    from another task's preset is a departure."""
    recipe_command = load_benchmark("publish_presets", "release").recipe_command
    spec = zoo.get_model_spec("embedding_bag_text")
    for source, accepted in (("word2vec", True), ("ngram_text", False)):
        config = TrainConfig(model=spec.name, init_from=source)
        (tmp_path / training.RUN_FILE).write_text(json.dumps({"settings": training.run_settings(
            spec, config, task_for(spec, config))}))
        if accepted:
            assert recipe_command(tmp_path, {"model": spec.name}) == (
                "python train.py --model embedding_bag_text --init-from word2vec --data-dir ../shared/tensorflow_datasets")
        else:
            with pytest.raises(SystemExit, match="init_from='ngram_text'"):
                recipe_command(tmp_path, {"model": spec.name})


@pytest.mark.slow
def test_the_language_model_preset_scores_exactly_its_recorded_figure_on_the_fixed_real_slice(real_data_dir):
    recorded = presets.figures("gpt_text")["slice"]
    measured = load_benchmark("publish_presets", "release").slice_figures(zoo.from_preset("gpt_text"), str(real_data_dir))  # what recorded it
    assert measured["examples"] == recorded["examples"] == 200
    # Sums of float32 log-probabilities: equal to 1e-6, whatever the CPU's summation order.
    assert measured["bits_per_character"] == pytest.approx(recorded["bits_per_character"], abs=1e-6)
    assert measured["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-6)
    assert measured["bits_per_character"] < 2.5


def _presets_of(modality, task="classification"):
    return [name for name in presets.list_presets()
            if zoo.get_model_spec(name).modality == modality and zoo.get_model_spec(name).task == task]


@pytest.mark.slow
@pytest.mark.parametrize("name", _presets_of("image"))
def test_an_image_preset_called_directly_answers_every_time_as_predict_does(name, real_data_dir):
    digits, _ = tfds.as_numpy(tfds.load("mnist", split="test[:500]", data_dir=str(real_data_dir), as_supervised=True,
                                        batch_size=-1))
    model = zoo.from_preset(name)
    first, second = np.asarray(model(digits)), np.asarray(model(digits))
    np.testing.assert_array_equal(first, second)  # no random shift outside training
    np.testing.assert_allclose(first, model.predict(digits, verbose=0), atol=1e-5)
    assert (first.argmax(-1) == _).mean() > 0.98


@pytest.mark.slow
@pytest.mark.parametrize("name", _presets_of("text"))
def test_a_text_preset_takes_texts_as_users_hold_them_in_predict_and_in_a_call(name, real_data_dir):
    reviews, labels = tfds.as_numpy(tfds.load("imdb_reviews", split="test[:32]", data_dir=str(real_data_dir),
                                              as_supervised=True, batch_size=-1))  # bytes, as TFDS gives them
    model = zoo.from_preset(name)
    expected = model.predict(tf.constant(reviews), verbose=0)
    as_str = [review.decode() for review in reviews]
    for texts in (reviews, as_str, np.array(as_str), list(reviews)):
        np.testing.assert_allclose(model.predict(texts, verbose=0), expected, atol=1e-6)
        np.testing.assert_allclose(model(texts), expected, atol=1e-6)
    assert (expected.argmax(-1) == labels).mean() > 0.75
    assert model.predict(["A wonderful, moving film."], verbose=0).shape == (1, 2)


def test_import_zoo_alone_lets_keras_reload_every_shipped_model_file_and_stays_light():
    script = (
        "import sys, zoo\n"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules\n"
        "import keras\n"
        "for path in sys.argv[1:]:\n"
        "    keras.saving.load_model(path)\n"
    )
    files = sorted(str(path) for path in (REPO_ROOT / "presets").glob("*/model.keras"))
    result = subprocess.run([sys.executable, "-c", script, *files], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    # They were written before the package had folders: they name module paths that are gone.
    named = {module for path in files for module in re.findall(r'"module": "(zoo[.\w]*)"', zipfile.ZipFile(path).read(
        "config.json").decode())}
    assert "zoo.text_model" in named and importlib.util.find_spec("zoo.text_model") is None
