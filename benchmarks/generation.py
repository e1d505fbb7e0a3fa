"""Benchmark a finished causal-LM run: held-out bits per character against a unigram model's,
and generation speed in Python (`zoo.generate`) and through the exported SavedModel.

    python train.py --model gpt_text --data-dir ../shared/tensorflow_datasets
    python benchmarks/generation.py --model-dir runs/gpt_text --data-dir ../shared/tensorflow_datasets

The unigram model is fitted on the run's own training split (add-one smoothing over its
vocabulary) and scored on exactly the targets the run's test metrics cover: each held-out
review's first tokens and its end, as the run's preprocessor cuts them. Speeds are at batch 1,
64 tokens (at most the context) from the prompt "This movie", the model loaded once, median of
5 calls after one untimed call; the samples fill the context.
Results go to benchmarks/results/<machine>-<date>-<model>.json and .md.
"""

import argparse
import datetime
import json
import pathlib
import sys
import tempfile
import time

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, _median_seconds, machine, write_results  # noqa: E402

from zoo.registry import get_model_spec  # noqa: E402
from zoo.serving import generation  # noqa: E402
from zoo.store import runs  # noqa: E402
from zoo.tasks import get_task  # noqa: E402

PROMPT = "This movie"
MAX_LENGTH = 64
REPEATS = 5
TARGET_REDUCTION = 0.25  # of the unigram's bits per character
LATENCY_TARGET_SECONDS = 1.0


def targets_and_weights(preprocessor, texts):
    """Every target token id of `texts` (a dataset of strings) that a run's loss counts."""
    batches = texts.batch(1024).map(lambda batch: preprocessor(batch)[1:], num_parallel_calls=tf.data.AUTOTUNE)
    return np.concatenate([targets.numpy()[weights.numpy()] for targets, weights in batches])


def unigram_bits_per_character(preprocessor, spec, data_dir):
    """A unigram model's bits per token on the run's test targets, fitted on its training ones."""
    def texts(split):
        return tfds.load(spec.dataset, split=split, data_dir=data_dir, as_supervised=True).map(lambda text, _: text)

    vocabulary_size = len(preprocessor.get_vocabulary())
    counts = np.bincount(targets_and_weights(preprocessor, texts(spec.train_split)), minlength=vocabulary_size)
    probabilities = (counts + 1) / (counts.sum() + vocabulary_size)
    test_targets = targets_and_weights(preprocessor, texts(spec.test_split))
    return {"bits_per_character": float(-np.mean(np.log2(probabilities[test_targets]))),
            "tokens": int(test_targets.size)}


def generation_speed(call):
    """Median seconds of `call()` (it returns one text) and generated tokens per second."""
    seconds = _median_seconds(call, REPEATS)
    generated = len(call()) - len(PROMPT)
    return {"seconds": seconds, "generated_tokens": generated, "tokens_per_second": generated / seconds}


def measure(model_dir, data_dir):
    summary = json.loads((pathlib.Path(model_dir) / "summary.json").read_text())
    spec = get_model_spec(summary["model"])
    run_summary, model = runs.load_run(model_dir)
    unigram = unigram_bits_per_character(model.preprocessor, spec, data_dir)
    context = model.backbone.max_sequence_length
    max_length = min(MAX_LENGTH, context)
    in_python = generation.load(model_dir)
    python_speed = generation_speed(lambda: in_python([PROMPT], max_length, "top_p", 0.8, seed=1)[0])
    with tempfile.TemporaryDirectory() as directory:
        archive = get_task(spec.task).serving_archive(model, spec.serving_input, run_summary)
        version_dir = pathlib.Path(directory) / "1"
        archive.write_out(str(version_dir), verbose=False)
        saved_model = generation.load(version_dir)
        saved_model_speed = generation_speed(lambda: saved_model([PROMPT], max_length, "top_p", 0.8, seed=1)[0])
    samples = {
        "greedy": in_python([PROMPT], context, "greedy")[0],
        "top_p, temperature 0.8, seed 1": in_python([PROMPT], context, "top_p", 0.8, seed=1)[0],
    }
    model_bits = summary["test_metrics"]["bits_per_character"]
    return {
        "model": summary["model"],
        "model_dir": str(model_dir),
        "training_wall_time_seconds": summary["wall_time_seconds"],
        "train_examples_per_second": summary["train_examples_per_second"],
        "parameters": summary["parameters"],
        "test_examples": summary["test_metrics"]["examples"],
        "test_perplexity": summary["test_metrics"]["perplexity"],
        "test_bits_per_character": model_bits,
        "unigram": unigram,
        "reduction": 1 - model_bits / unigram["bits_per_character"],
        "max_length": max_length,
        "generation_python": python_speed,
        "generation_saved_model": saved_model_speed,
        "samples": samples,
    }


def markdown(result):
    """The results table, the targets met or missed, and the samples."""
    python, saved = result["generation_python"], result["generation_saved_model"]
    met = {True: "met", False: "**missed**"}
    lines = [
        "| model | training | test perplexity (per character) | bits per character | unigram bits per character "
        f"| reduction | {result['max_length']} tokens, `zoo.generate` | {result['max_length']} tokens, SavedModel |",
        "|---|---|---|---|---|---|---|---|",
        f"| `{result['model']}` | {result['training_wall_time_seconds'] / 60:.0f} min | {result['test_perplexity']:.2f} "
        f"| {result['test_bits_per_character']:.3f} | {result['unigram']['bits_per_character']:.3f} "
        f"| {100 * result['reduction']:.1f}% | {python['seconds']:.2f} s ({python['tokens_per_second']:.0f} tokens/s) "
        f"| {saved['seconds']:.2f} s ({saved['tokens_per_second']:.0f} tokens/s) |",
        "",
        f"- Bits per character at least {100 * TARGET_REDUCTION:.0f}% below the unigram's: "
        f"{met[result['reduction'] >= TARGET_REDUCTION]} ({100 * result['reduction']:.1f}%).",
        f"- {result['max_length']} tokens at batch 1 through the SavedModel in under {LATENCY_TARGET_SECONDS:.0f} s: "
        f"{met[saved['seconds'] < LATENCY_TARGET_SECONDS]} ({saved['seconds']:.2f} s).",
        f"- Training in at most 60 minutes: {met[result['training_wall_time_seconds'] <= 3600]} "
        f"({result['training_wall_time_seconds'] / 60:.0f} min).",
        "",
    ]
    for name, text in result["samples"].items():
        lines += [f"{name}, the whole context:", "", "> " + text.replace("\n", " "), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark a finished causal-LM run.")
    parser.add_argument("--model-dir", default="runs/gpt_text", help="a finished gpt_text run")
    parser.add_argument("--data-dir", help="TFDS data dir (default: TFDS_DATA_DIR, then TFDS's own)")
    parser.add_argument("--output-dir", type=pathlib.Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    facts = machine()
    result = {"date": datetime.date.today().isoformat(), "machine": facts, **measure(args.model_dir, args.data_dir)}
    result["benchmark_seconds"] = time.perf_counter() - started
    write_results(args.output_dir, result["model"], result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
