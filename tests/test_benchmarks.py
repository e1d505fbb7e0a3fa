"""The benchmark harness runs end to end on --quick settings with mock data and writes a
well-formed results file; its figures are the benchmark's claims, not the tests'."""

import importlib.util
import json

import tensorflow_datasets as tfds

from conftest import REPO_ROOT


def load_harness():
    spec = importlib.util.spec_from_file_location("benchmark_run", REPO_ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_results_table_and_plots(tmp_path):
    harness = load_harness()
    readme_before = harness.README.read_text()
    with tfds.testing.mock_data(num_examples=256):
        assert harness.main(["--quick", "--models", "mnist_cnn", "transformer_text",
                             "--output-dir", str(tmp_path)]) == 0

    [results_file] = tmp_path.glob("*-quick.json")
    results = json.loads(results_file.read_text())
    assert results["settings"] == "quick" and results["machine"]["cores"] >= 1
    assert [(run["model"], run["recipe"]) for run in results["runs"]] == [
        ("mnist_cnn", "zoo"), ("mnist_cnn", "keras-io mnist_convnet"),
        ("transformer_text", "zoo"), ("transformer_text", "keras-io text_classification_with_transformer"),
    ]
    for run in results["runs"]:
        assert run["curve"] and 0 <= run["final_test_accuracy"] <= 1
        assert run["target_accuracy"] in (0.99, 0.85)
        assert run["pipeline_examples_per_second"] > 0 and run["peak_memory_mb"] > 0
        assert run["parameters"] > 0
    table = (tmp_path / f"{results_file.stem}.md").read_text()
    assert table.count("| `mnist_cnn` |") == 3 and "reference / zoo" in table
    assert sorted(path.name.split("-quick-")[1] for path in tmp_path.glob("*.png")) == [
        "imdb_reviews.png", "mnist.png"]
    assert harness.README.read_text() == readme_before
