"""The benchmark harness runs end to end on --quick settings with mock data and writes a
well-formed results file; its figures are the benchmark's claims, not the tests'."""

import argparse
import json
import re

import numpy as np
import pytest
import tensorflow_datasets as tfds
from conftest import REPO_ROOT, load_benchmark

import zoo


def test_quick_run_writes_results_table_and_plots(tmp_path):
    harness = load_benchmark("run")
    page_before = harness.PAGE.read_text()
    with tfds.testing.mock_data(num_examples=256):
        assert harness.main(["--quick", "--seeds", "1", "--models", "mnist_cnn", "mnist_cnn_fast", "transformer_text",
                             "--output-dir", str(tmp_path)]) == 0

    [results_file] = tmp_path.glob("*-quick.json")
    results = json.loads(results_file.read_text())
    assert results["settings"] == "quick" and results["complete"] and results["machine"]["cores"] >= 1
    assert [(run["model"], run["recipe"], run["seed"]) for run in results["runs"]] == [
        ("mnist_cnn", "zoo", 0), ("mnist_cnn", "keras-io mnist_convnet", 0), ("mnist_cnn_fast", "zoo", 0),
        ("transformer_text", "zoo", 0), ("transformer_text", "keras-io text_classification_with_transformer", 0),
    ]
    for run in results["runs"]:
        assert run["curve"] and 0 <= run["final_test_accuracy"] <= 1
        assert run["target_accuracy"] in (0.99, 0.85)
        assert run["pipeline_examples_per_second"] > 0 and run["peak_memory_mb"] > 0
        assert run["parameters"] > 0
        if run["recipe"] == "zoo":  # served as zoo.export writes it; references are not
            assert run["serving_batch_size"] == 256
            assert run["serving_examples_per_second"] > 0 and run["batch_1_latency_ms"] > 0
        assert list(run["seconds_to"]) == [str(t) for t in harness.TARGETS[run["dataset"]]]
    table = (tmp_path / f"{results_file.stem}.md").read_text()
    assert table.count("| `mnist_cnn` |") == 3 and "reference / zoo" in table
    assert "| `mnist_cnn` | zoo | 1 |" in table and "| `mnist_cnn` | keras-io mnist_convnet | 1 |" in table
    assert table.count("| `mnist_cnn_fast` |") == 2, "its row, and its ratio to the one reference run it shares"
    assert sorted(path.name.split("-quick-")[1] for path in tmp_path.glob("*.png")) == [
        "imdb_reviews.png", "mnist.png"]
    assert harness.PAGE.read_text() == page_before


def test_a_second_run_on_the_same_day_never_overwrites_the_first(tmp_path):
    harness = load_benchmark("run")
    assert harness.unused_stem(tmp_path, "cpu2-2026-11-23") == "cpu2-2026-11-23"
    (tmp_path / "cpu2-2026-11-23.json").write_text("{}")
    (tmp_path / "cpu2-2026-11-23-2.json").write_text("{}")
    assert harness.unused_stem(tmp_path, "cpu2-2026-11-23") == "cpu2-2026-11-23-3"


def test_table_gives_median_and_range_of_the_seeds():
    harness = load_benchmark("run")
    run = dict(model="mnist_cnn", dataset="mnist", target_accuracy=0.99, pipeline_examples_per_second=1.0,
               peak_memory_mb=1.0, parameters=10, train_examples_per_second=100.0,
               serving_examples_per_second=1000.0, batch_1_latency_ms=2.0)
    runs = [
        {**run, "recipe": "zoo", "final_test_accuracy": accuracy, "seconds_to_target": seconds,
         "seconds_to": {"0.99": seconds}}
        for accuracy, seconds in [(0.9940, 30.0), (0.9950, 20.0), (0.9930, 40.0)]
    ] + [{**run, "recipe": "keras-io mnist_convnet", "final_test_accuracy": 0.9925, "seconds_to_target": 60.0,
           "seconds_to": {"0.99": 60.0}}]
    table = harness.markdown_table(runs)
    assert "| `mnist_cnn` | zoo | 3 | 0.9940 (0.9930-0.9950) | 0.99: 30 (20-40) s |" in table
    assert "| `mnist_cnn` | 2.00x | +0.15 |" in table


def test_distillation_targets_are_judged_on_the_right_rows():
    benchmark = load_benchmark("distillation")

    def row(name, accuracy, speed):
        return {"row": name, "test_accuracy": accuracy, "parameters": 1, "wall_time_seconds": 60,
                "serving_examples_per_second": speed, "batch_1_latency_ms": 1.0}

    result = {"datasets": {
        "mnist": [row("teacher", 0.995, 100), row("scratch", 0.990, 1000), row("distilled", 0.991, 1000)],
        "imdb_reviews": [row("teacher", 0.85, 100), row("scratch", 0.91, 5000), row("on train", 0.90, 5000),
                         row("on train + unsupervised", 0.899, 950)],
    }}
    lines = benchmark.markdown(result).splitlines()
    assert "| distilled | 0.9910 | 1 | 1.0 min | 1,000 | 10.0x | 1.0 ms |" in lines
    assert "- MNIST, the distilled student above the one from scratch: met (99.10% against 99.00%)." in lines
    assert "- IMDB, distilled on train + unsupervised at 90% or more: **missed** (89.90%)." in lines
    assert "- IMDB, serving at least 10x the teacher's examples/s: **missed** (9.5x)." in lines
    assert [name for name, _, _ in benchmark.students("imdb_reviews", "t")][-1].endswith("train + unsupervised")


def test_the_few_labels_distillation_compares_the_distilled_student_with_the_labels_alone():
    benchmark = load_benchmark("distillation")
    rows = benchmark.students("imdb_reviews", "t", "train[:2500]", "unsupervised[:20%]")
    assert [settings for _, _, settings in rows] == [
        {"train_split": "train[:2500]"},
        {"teacher": "t", "train_split": "train[:2500]", "unlabelled_split": "unsupervised[:20%]"}]

    def row(name, accuracy):
        return {"row": name, "test_accuracy": accuracy, "parameters": 1, "wall_time_seconds": 60,
                "serving_examples_per_second": 1000, "batch_1_latency_ms": 1.0}

    result = {"train_split": "train[:2500]", "datasets": {"imdb_reviews": [
        row("teacher", 0.84), row("alone", 0.83), row("distilled", 0.845)]}}
    lines = benchmark.markdown(result).splitlines()
    assert ("- IMDB, train[:2500]: the distilled student above the one on the labels alone: met "
            "(84.50% against 83.00%).") in lines
    assert not any("90% or more" in line for line in lines)


def test_the_learning_curve_draws_disjoint_labels_and_judges_its_targets_on_their_means():
    benchmark = load_benchmark("learning_curve")
    for labels in (200, 500, 1000):
        slices = [re.fullmatch(r"train\[(\d+):(\d+)\]", split) for split in benchmark.label_splits(labels)]
        ranges = [set(range(int(match[1]), int(match[2]))) for match in slices]
        assert len(ranges) == benchmark.DRAWS and all(len(indices) == labels for indices in ranges)
        assert all(not a & b for i, a in enumerate(ranges) for b in ranges[i + 1:])  # disjoint
    assert benchmark.label_splits(2500) == ["train[0:2500]"] and benchmark.label_splits(25000) == ["train"]

    def point(labels, *accuracies):
        return benchmark.aggregate([{"test_accuracy": accuracy} for accuracy in accuracies], labels)

    result = {"labels": [200, 1000, 25000], "curves": {
        "ngram_text": [point(200, 0.70, 0.72, 0.71), point(1000, 0.83, 0.83, 0.83)],
        "embedding_bag_text": [point(200, 0.70, 0.70, 0.70), point(1000, 0.80, 0.81, 0.82), point(25000, 0.88)],
        "embedding_bag_text from word2vec": [point(200, 0.80, 0.81, 0.82), point(1000, 0.84, 0.84, 0.84),
                                             point(25000, 0.876)],
        "bert_text": [point(200, 0.60), point(1000, 0.75, 0.77)]}}
    lines = benchmark.markdown(result).splitlines()
    assert "| 200 | 71.00% (70.0-72.0) | 70.00% (70.0-70.0) | 81.00% (80.0-82.0) | 60.00% (1 of 3 draws) |" in lines
    assert "| 1,000 | 83.00% (83.0-83.0) | 81.00% (80.0-82.0) | 84.00% (84.0-84.0) | 76.00% (75.0-77.0) (2 of 3 draws) |" \
        in lines  # a point whose other draws are not run yet says so
    assert "| 25,000 | - | 88.00% | 87.60% | - |" in lines
    judged = [line for line in lines if line.startswith("- ")]
    assert ("- 200 labels, embedding_bag_text from word2vec: 5 points over scratch and 2 over ngram_text: met "
            "(+11.00 over scratch, +10.00 over ngram_text).") in judged
    assert ("- 1,000 labels, embedding_bag_text from word2vec: 5 points over scratch and 2 over ngram_text: "
            "**missed** (+3.00 over scratch, +1.00 over ngram_text).") in judged
    assert "- 25,000 labels, embedding_bag_text from word2vec: within 0.3 points of scratch: **missed** (-0.40)." in judged
    assert "- 1,000 labels, transformer_text from word2vec: 5 points over scratch and 2 over ngram_text: not measured." in judged

    summary = {"model": "embedding_bag_text", "test_metrics": {"accuracy": 0.8, "examples": 25000},
               "examples": {"train": 900, "validation": 100}, "wall_time_seconds": 1.0,
               "training_pieces": [{"steps": 350}]}
    assert benchmark.point(summary, 1000)["test_accuracy"] == 0.8
    student = {**summary, "examples": {"train": 50900, "train_unlabelled": 50000, "validation": 100}}
    assert benchmark.point(student, 1000)["test_accuracy"] == 0.8  # the unlabelled reviews are no labels
    with pytest.raises(SystemExit, match="not one on 500 labels"):
        benchmark.point(summary, 500)
    with pytest.raises(SystemExit, match="not tested on the test split"):
        benchmark.point({**summary, "test_metrics": {"accuracy": 0.8, "examples": 2000}}, 1000)


def test_the_learning_curve_reuses_a_preset_only_for_the_row_that_made_it(tmp_path, monkeypatch):
    """The shipped bert_text is fine-tuned from bert_mlm: it is that row's point on the whole split,
    never the from-scratch row's."""
    benchmark = load_benchmark("learning_curve")
    (tmp_path / "bert_text").mkdir()
    (tmp_path / "bert_text" / "summary.json").write_text(json.dumps({"hyperparameters": {"init_from": "bert_mlm"}}))
    monkeypatch.setattr(benchmark.presets, "list_presets", lambda: ["bert_text"])
    monkeypatch.setattr(benchmark.presets, "preset_dir", lambda name: tmp_path / name)
    args = argparse.Namespace(output_dir=tmp_path / "runs", finished_only=True)
    assert benchmark.summary_of("bert_text from bert_mlm", "train", args)["hyperparameters"]["init_from"] == "bert_mlm"
    assert benchmark.summary_of("bert_text", "train", args) is None  # not run, and not the preset
    assert benchmark.summary_of("bert_text from bert_mlm", "train[0:2500]", args) is None


def test_the_word_vector_ceiling_reports_each_draws_accuracy_at_the_best_regularization(tmp_path, monkeypatch):
    benchmark = load_benchmark("word_vector_ceiling")
    rng = np.random.default_rng(0)
    labels = np.array([0, 1] * 20)
    separable = lambda texts, test_texts: (labels[:, None] + rng.normal(0, 0.1, (40, 2)),  # noqa: E731
                                           labels[:, None] + rng.normal(0, 0.1, (40, 2)))
    result = benchmark.best_logistic_regression(separable, [(None, labels)] * 2, (None, labels))
    assert set(result["by_C"]) == set(benchmark.C_VALUES) and result["best_C"] in benchmark.C_VALUES
    assert result["mean"] == 100.0 and all(len(draws) == 2 for draws in result["by_C"].values())
    monkeypatch.setattr(benchmark, "RESULTS_DIR", tmp_path)
    for _ in range(2):
        benchmark.write_scores({"toy": separable}, [(None, labels)] * 2, (None, labels), "toy", (1,), epochs=3)
    written = sorted(tmp_path.glob("*-toy*.json"))
    assert len(written) == 2, "a second file never overwrites the first"
    results = json.loads(written[0].read_text())
    assert results["epochs"] == 3 and results["rows"]["toy"]["by_C"] == {"1": [100.0, 100.0]}

    weights = benchmark.sif_weights(20000)
    assert np.all(np.diff(weights[2:]) > 0) and 0 < weights[2] < 0.5 < weights[-1] < 1  # the rarer, the heavier
    joined = benchmark.beside(lambda train, test: (np.ones((3, 2)), np.ones((1, 2))),
                              lambda train, test: (np.zeros((3, 5)), np.zeros((1, 5))))(None, None)
    assert [part.shape for part in joined] == [(3, 7), (1, 7)] and joined[0].sum() == 6


def test_vampire_features_are_the_zoo_models_standardised_on_the_labelled_reviews_beside_others():
    benchmark = load_benchmark("vampire_features")
    train_texts = ["A great film with a moving story.", "A dull plot.", "Awful acting, boring.", "Superb cast."]
    test_texts = ["A moving film.", "Boring."]
    features = benchmark.vampire_embedder("vampire")(train_texts)
    np.testing.assert_array_equal(features, zoo.from_preset("vampire").predict(train_texts, verbose=0))
    calls = []

    def counted(texts):
        calls.append(len(texts))
        return np.arange(len(texts), dtype=float)[:, None] * 3.0

    features = benchmark.standardised(counted, benchmark.vampire_embedder("vampire"))
    train, test = features(train_texts, test_texts)
    assert train.shape == (4, 1 + 192) and test.shape == (2, 1 + 192)
    np.testing.assert_allclose(train.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(train[:, 0], (np.arange(4) - 1.5) / np.arange(4).std())
    features(train_texts, test_texts)
    assert calls == [4, 2], "each embedder runs once per list of texts"


def test_the_learning_curve_on_the_benchmarks_page_is_its_results_file_as_written():
    """The page's figures come from a results file, word for word, as the benchmark rewrites them."""
    page = (REPO_ROOT / "docs" / "benchmarks.md").read_text()
    section = page.split("<!-- learning-curve:start -->\n")[1].split("<!-- learning-curve:end -->")[0]
    stem = re.search(r"benchmarks/results/([\w.-]+)\.json", section).group(1)
    assert f"![accuracy against labelled reviews](benchmarks/results/{stem}.png)" in section
    assert section.endswith((REPO_ROOT / "benchmarks" / "results" / f"{stem}.md").read_text())
