"""zoo.evaluate: the per-class numbers equal a hand count on a fixed set of predictions, the
confusion matrix PNG has its size, the mistakes are the most confident ones; a run dir (final or
best checkpoint) and its export give the same report as the run wrote; bad input is one line."""

import json
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import REPO_ROOT, TINY_MODEL_ARGS

from zoo import evaluate, evaluation, report, training
from zoo.errors import UserError
from zoo.serving import saved_model

# Nine examples of classes a, b, c; class d is never present nor predicted.
CLASS_NAMES = ["a", "b", "c", "d"]
LABELS = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
PREDICTED = np.array([0, 0, 1, 1, 0, 2, 2, 0, 1])
CONFIDENCE = np.array([0.9, 0.8, 0.7, 0.6, 0.95, 0.9, 0.8, 0.5, 0.99])


def fixed_probabilities():
    """Probabilities whose largest is CONFIDENCE, at PREDICTED; the rest spread evenly."""
    probabilities = np.tile(((1 - CONFIDENCE) / 3)[:, None], (1, 4))
    probabilities[np.arange(9), PREDICTED] = CONFIDENCE
    return probabilities


def test_per_class_scores_equal_a_hand_count():
    result = report.classification_report(LABELS, fixed_probabilities(), CLASS_NAMES)
    # Rows true a, b, c, d; columns predicted: counted by hand from LABELS and PREDICTED.
    assert result["confusion_matrix"] == [[2, 1, 0, 0], [1, 1, 0, 0], [1, 1, 2, 0], [0, 0, 0, 0]]
    expected = {  # precision = right / predicted as the class, recall = right / of the class
        "a": (2 / 4, 2 / 3, 4 / 7, 3),
        "b": (1 / 3, 1 / 2, 2 / 5, 2),
        "c": (2 / 2, 2 / 4, 2 / 3, 4),
        "d": (0.0, 0.0, 0.0, 0),  # never predicted, never present: 0, not NaN
    }
    for name, (precision, recall, f1, support) in expected.items():
        scores = result["per_class"][name]
        assert [scores["precision"], scores["recall"], scores["f1"]] == pytest.approx([precision, recall, f1], abs=1e-12)
        assert scores["support"] == support
    assert result["accuracy"] == pytest.approx(5 / 9, abs=1e-12) and result["examples"] == 9
    macro = result["macro_average"]
    assert macro["precision"] == pytest.approx((1 / 2 + 1 / 3 + 1) / 4, abs=1e-12)
    assert macro["recall"] == pytest.approx((2 / 3 + 1 / 2 + 1 / 2) / 4, abs=1e-12)
    assert macro["f1"] == pytest.approx((4 / 7 + 2 / 5 + 2 / 3) / 4, abs=1e-12)
    table = report.format_table({**result, "evaluated_on": "nine examples"})
    assert "macro average     0.4583  0.4167  0.4095" in table
    assert table.endswith("accuracy 0.5556 over 9 examples: nine examples")


def test_mistakes_are_the_most_confident_wrong_predictions_first():
    # The wrong ones: index 2 (0.7), 4 (0.95), 7 (0.5), 8 (0.99).
    assert report.most_confident_mistakes(LABELS, fixed_probabilities()).tolist() == [8, 4, 2, 7]
    assert report.most_confident_mistakes(LABELS, fixed_probabilities(), count=2).tolist() == [8, 4]


def test_the_confusion_matrix_png_has_a_cell_per_class(tmp_path):
    for classes in (2, 10):
        path = tmp_path / f"{classes}.png"
        report.plot_confusion_matrix(np.eye(classes, dtype=int), [str(i) for i in range(classes)], path)
        side = round(report.confusion_figure_inches(classes) * report.DPI)
        assert tf.io.decode_png(path.read_bytes()).shape == (side, side, 4)


def test_probabilities_with_a_nan_are_refused_not_counted(tmp_path):
    examples = tf.data.Dataset.from_tensor_slices((np.zeros((2, 28, 28, 1), np.uint8), [0, 1]))
    with pytest.raises(UserError, match="NaN or infinity"):
        report.write_report(lambda batch: np.array([[np.nan, 0.5], [0.5, 0.5]]), examples, ["a", "b"], tmp_path, "two")
    assert not (tmp_path / "evaluation.json").exists()


def test_the_report_files_are_written_for_texts_and_images(tmp_path):
    texts = tf.data.Dataset.from_tensor_slices((["good", "bad", "so so"], [0, 1, 1]))
    probabilities = {b"good": [0.2, 0.8], b"bad": [0.9, 0.1], b"so so": [0.3, 0.7]}

    def predict(batch):
        return np.array([probabilities[text] for text in batch.numpy()])

    result = report.write_report(predict, texts, ["neg", "pos"], tmp_path / "text", "texts")
    assert result["accuracy"] == pytest.approx(1 / 3)
    mistakes = [json.loads(line) for line in (tmp_path / "text" / "mistakes.jsonl").read_text().splitlines()]
    assert [(m["text"], m["label"], m["predicted"]) for m in mistakes] == [("bad", "pos", "neg"), ("good", "neg", "pos")]
    assert json.loads((tmp_path / "text" / "evaluation.json").read_text()) == result

    images = tf.data.Dataset.from_tensor_slices((np.zeros((3, 28, 28, 1), np.uint8), [0, 1, 1]))
    report.write_report(lambda batch: np.tile([0.6, 0.4], (len(batch), 1)), images, ["a", "b"], tmp_path / "image", "images")
    assert {path.name for path in (tmp_path / "image").iterdir()} == {
        "evaluation.json", "confusion_matrix.png", "mistakes.png"}


@pytest.fixture(scope="module")
def mock_runs(tmp_path_factory):
    """Short runs on mock data of an image and a text classifier, each exported from its best
    checkpoint: name -> (run dir, export version dir)."""
    runs = {}
    with tfds.testing.mock_data(num_examples=48):
        for name in ("mnist_cnn", "ngram_text"):
            model_dir = tmp_path_factory.mktemp(name) / "run"
            training.train(training.TrainConfig(model=name, model_dir=str(model_dir), epochs=2, batch_size=16,
                                                strategy="one_device", model_args=TINY_MODEL_ARGS[name]))
            runs[name] = model_dir, saved_model.export(model_dir, model_dir.parent / "exported", checkpoint="best")
    return runs


@pytest.mark.parametrize("name", ["mnist_cnn", "ngram_text"])
def test_a_run_and_its_export_give_the_report_the_run_wrote(name, mock_runs, tmp_path, monkeypatch):
    model_dir, best_export = mock_runs[name]
    written = json.loads((model_dir / "evaluation.json").read_text())
    summary = json.loads((model_dir / "summary.json").read_text())
    assert written["examples"] == summary["examples"]["test"] == 48
    assert written["accuracy"] == pytest.approx(summary["test_metrics"]["accuracy"], abs=1e-6)
    monkeypatch.chdir(tmp_path)
    with tfds.testing.mock_data(num_examples=48):
        assert evaluate.main(["--model-dir", str(model_dir)]) == 0  # the run dir, as trained: the same
        assert json.loads((model_dir / "evaluation.json").read_text()) == written
        assert evaluate.main(["--model-dir", str(model_dir), "--checkpoint", "best"]) == 0
        assert evaluate.main(["--model-dir", str(best_export)]) == 0  # the export of best.keras
    best = json.loads((model_dir / "evaluation-best" / "evaluation.json").read_text())
    exported = json.loads((tmp_path / "evaluations" / f"{name}-1" / "evaluation.json").read_text())
    assert exported["confusion_matrix"] == best["confusion_matrix"]
    assert exported["accuracy"] == pytest.approx(best["accuracy"], abs=1e-9)
    assert json.loads((best_export / "assets.extra" / "summary.json").read_text())["checkpoint"] == "best"


def test_a_best_checkpoint_of_token_ids_from_an_older_zoo_is_a_one_line_error(mock_runs, tmp_path, capsys):
    old_run = tmp_path / "old_run"
    shutil.copytree(mock_runs["ngram_text"][0], old_run)
    keras.Sequential([keras.Input((300,)), keras.layers.Dense(2)]).save(old_run / "checkpoints" / "best.keras")
    assert evaluate.main(["--model-dir", str(old_run), "--checkpoint", "best"]) == 2
    assert "best.keras takes token ids, not texts: it predates" in capsys.readouterr().err


def test_evaluation_on_data_of_other_classes_or_flags_without_data_are_one_line_errors(mock_runs, capsys):
    model_dir, _ = mock_runs["ngram_text"]
    with tfds.testing.mock_data(num_examples=48):
        for argv, message in [
            (["--dataset", "ag_news_subset"], "has the classes World, Sports, Business, Sci/Tech, and the model neg, pos"),
            (["--csv-columns", "review,label"], "--csv-columns goes with --dataset"),
            (["--checkpoint", "best", "--model-dir", str(model_dir.parent / "exported" / "ngram_text")],
             "--checkpoint best applies to a run dir"),
        ]:
            code = evaluate.main(["--model-dir", str(model_dir), *argv])
            stderr = capsys.readouterr().err
            assert code == 2 and message in stderr and stderr.count("\n") == 1, stderr


def test_a_csv_file_given_to_evaluate_is_evaluated_whole(mock_runs, tmp_path):
    model_dir, _ = mock_runs["ngram_text"]
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("text,label\n" + "".join(f"review number {i},{'pos' if i % 3 else 'neg'}\n" for i in range(30)))
    report = evaluation.evaluate(model_dir, dataset=str(reviews))
    assert report["examples"] == 30 and sum(map(sum, report["confusion_matrix"])) == 30
    assert report["evaluated_on"] == f"all 30 examples of {reviews}"
    assert [row["support"] for row in report["per_class"].values()] == [10, 20]
    [report_dir] = model_dir.glob("evaluation-reviews-*")
    assert json.loads((report_dir / "evaluation.json").read_text()) == report


def test_files_of_the_same_name_in_two_folders_get_two_reports(mock_runs, tmp_path):
    model_dir, _ = mock_runs["ngram_text"]
    for folder, count in (("a", 4), ("b", 6)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "other.csv").write_text("text,label\n" + "a review,pos\nanother,neg\n" * (count // 2))
        evaluation.evaluate(model_dir, dataset=str(tmp_path / folder / "other.csv"))
    reports = [json.loads((path / "evaluation.json").read_text()) for path in sorted(model_dir.glob("evaluation-other-*"))]
    assert sorted(report["evaluated_on"] for report in reports) == [
        f"all {count} examples of {tmp_path / folder / 'other.csv'}" for folder, count in (("a", 4), ("b", 6))]


@pytest.mark.parametrize("output_dir", ["presets", "presets/SMALL", "file", "file/inside"])
def test_an_output_dir_that_cannot_or_must_not_be_written_is_refused_before_any_work(
        mock_runs, tmp_path, capsys, output_dir, monkeypatch):
    model_dir, _ = mock_runs["ngram_text"]
    (tmp_path / "file").write_text("not a folder")
    presets_copy = tmp_path / "presets"
    shutil.copytree(REPO_ROOT / "presets" / "mnist_cnn_fast", presets_copy / "mnist_cnn_fast")
    shutil.copy(REPO_ROOT / "presets" / "index.json", presets_copy / "index.json")
    monkeypatch.setenv("ZOO_PRESETS_DIR", str(presets_copy))
    before = sorted(path.name for path in (presets_copy / "mnist_cnn_fast").iterdir())
    target = tmp_path / output_dir.replace("SMALL", "mnist_cnn_fast")
    for argv in (["--model-dir", str(model_dir)], ["--model-dir", "mnist_cnn_fast"]):
        assert evaluate.main([*argv, "--output-dir", str(target)]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and ("inside the shipped presets" in error or "not a writable folder" in error
                                           or "is a file" in error), error
    assert sorted(path.name for path in (presets_copy / "mnist_cnn_fast").iterdir()) == before


def test_missing_data_says_how_to_get_it_without_a_flag_evaluate_lacks(mock_runs, tmp_path, capsys):
    model_dir, _ = mock_runs["mnist_cnn"]
    assert evaluate.main(["--model-dir", str(model_dir), "--data-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"dataset 'mnist' is not prepared in {tmp_path}" in error and "--data-dir" in error
    assert "tfds build mnist" in error and "pass --download" not in error and error.count("\n") == 1


def test_the_progress_line_names_the_split_evaluated(mock_runs, tmp_path, capsys):
    model_dir, _ = mock_runs["ngram_text"]
    with tfds.testing.mock_data(num_examples=48):
        evaluation.evaluate(model_dir, output_dir=tmp_path, test_split="test[:20]")
    assert "Evaluating on the test[:20] split of imdb_reviews" in capsys.readouterr().out
