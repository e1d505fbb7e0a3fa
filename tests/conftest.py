"""Test setup: two logical CPU devices, so MirroredStrategy runs with two replicas without GPUs."""

import contextlib
import importlib.util
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Must happen before TensorFlow initializes its devices, so before any test runs.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()],
)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA_DIR = pathlib.Path(
    os.environ.get("ZOO_REAL_DATA_DIR", REPO_ROOT.parent / "shared" / "tensorflow_datasets")
)

# Builder arguments that make every registered model tiny, for fast end-to-end tests.
TINY_MODEL_ARGS = {
    "bert_mlm": {"vocabulary_size": 200, "sequence_length": 16, "num_layers": 1, "num_heads": 2,
                 "hidden_dim": 8, "intermediate_dim": 16},
    "bert_text": {"vocabulary_size": 200, "sequence_length": 16, "num_layers": 1, "num_heads": 2,
                  "hidden_dim": 8, "intermediate_dim": 16},
    "gpt_text": {"vocabulary_size": 100, "sequence_length": 16, "num_layers": 1, "num_heads": 2,
                 "hidden_dim": 8, "intermediate_dim": 16},
    "embedding_bag_text": {"vocabulary_size": 200, "sequence_length": 16, "embedding_dim": 8},
    "mnist_cnn": {"filters": 4},
    "mnist_cnn_fast": {"filters": 4},
    "mnist_cnn_small": {"filters": 4},
    "ngram_text": {"vocabulary_size": 300},
    "lstm_text": {"vocabulary_size": 200, "sequence_length": 16, "units": 8, "embedding_dim": 8},
    "transformer_text": {"vocabulary_size": 200, "sequence_length": 16, "embedding_dim": 8,
                         "num_heads": 2, "intermediate_dim": 16},
    "word2vec": {"vocabulary_size": 200, "sequence_length": 16, "embedding_dim": 8},
    "vampire": {"vocabulary_size": 100, "hidden_dim": 8, "num_topics": 4},
}


def load_benchmark(name, folder="benchmarks"):
    """FOLDER/NAME.py as a module (benchmarks/ and release/ are no packages)."""
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}", REPO_ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_tiny(name, model_dir, **config):
    """A finished one-epoch run of `name`, built tiny (`TINY_MODEL_ARGS`), on 64 mock examples per split."""
    import tensorflow_datasets as tfds

    from zoo import training
    from zoo.config import TrainConfig

    with tfds.testing.mock_data(num_examples=64):
        return training.train(TrainConfig(model=name, model_dir=str(model_dir), epochs=1, batch_size=16,
                                          model_args=dict(TINY_MODEL_ARGS[name]), **config))


def classifiers():
    """The registered models trained as classifiers: class probabilities out, and exported."""
    import zoo

    return [name for name in zoo.list_models() if zoo.get_model_spec(name).task == "classification"]


@pytest.fixture(scope="session")
def mirrored_strategy():
    """The process's MirroredStrategy, over the two logical CPU devices."""
    from zoo.training import make_strategy

    return make_strategy("mirrored")


@pytest.fixture(scope="session")
def real_data_dir():
    """The prepared TFDS data dir with real MNIST and IMDB; tests that need it skip without it."""
    if not (SHARED_DATA_DIR / "mnist").is_dir():
        pytest.skip(f"real TFDS data not found at {SHARED_DATA_DIR} (set ZOO_REAL_DATA_DIR)")
    return SHARED_DATA_DIR


@contextlib.contextmanager
def lock_held_elsewhere(lock_file):
    """Another live process holds `lock_file` (a `zoo.store.locks` lock) while in the block, until it
    is killed as a crash would; yields that process's pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from zoo.store import locks\n"
         f"with locks.exclusive({str(lock_file)!r}):\n print('held', flush=True); time.sleep(600)"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()
