"""Benchmark `bert_mlm`'s pretraining step: where its time goes, tokens/s and achieved GFLOP/s
against this machine's measured matmul peak, for the old recipe, each lever, and the new recipe.

    python benchmarks/pretraining_step.py --data-dir ../shared/tensorflow_datasets

Steps run through Keras `fit` on fixed batches of random token ids (speed does not depend on
the ids), every slot a real token; the first 3 steps (tracing, XLA compiling) are not timed.
FLOPs are counted from the shapes (`train_flops`): 3x the forward pass's multiply-adds, counted
as 2 FLOPs each, of the encoder's matmuls and attention and of the masked-LM head over the
picked positions. Real reviews give the share of slots that are padding at 128 and 256 tokens,
so tokens/s of text, not of padding, can be compared. Results go to
benchmarks/results/<machine>-<date>-pretraining-step.json and .md.
"""

import argparse
import datetime
import pathlib
import sys
import time

import keras
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from run import RESULTS_DIR, machine, write_results  # noqa: E402

from zoo.registry import get_model_spec  # noqa: E402
from zoo.tasks.base import compile_token_predictions  # noqa: E402
from zoo.tasks.masked_lm import MASK_RATE, mask_generator  # noqa: E402

HELD_OUT_START = 47_500  # bert_mlm's held-out `unsupervised[95%:]`, as absolute indices: TFDS cannot slice a slice
TIMED_STEPS = 10
UNTIMED_STEPS = 3
STEPS = {  # name: (sequence length, batch, dropout, XLA, precision, with the masked-LM head)
    "old recipe: 256 tokens, batch 32, dropout 0.1": (256, 32, 0.1, False, "float32", True),
    "old recipe + XLA": (256, 32, 0.1, True, "float32", True),
    "128 tokens, batch 128, dropout 0.1": (128, 128, 0.1, False, "float32", True),
    "128 tokens, batch 128, no dropout": (128, 128, 0.0, False, "float32", True),
    "new recipe: 128 tokens, batch 128, no dropout, XLA": (128, 128, 0.0, True, "float32", True),
    "new recipe in mixed_bfloat16": (128, 128, 0.0, True, "mixed_bfloat16", True),
    "new recipe's encoder alone (no masked-LM head)": (128, 128, 0.0, True, "float32", False),
    "new recipe's final phase: 256 tokens": (256, 128, 0.0, True, "float32", True),
}


def matmul_gflops(size, repeats=20):
    """Float32 FLOP/s of one square matmul of `size`, the machine's practical peak."""
    a, b = tf.random.normal((size, size)), tf.random.normal((size, size))
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    product().numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        product().numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


def train_flops(args, batch, length, picks, head=True):
    """FLOPs of one training step (forward and backward: 3x the forward's)."""
    hidden, inner, vocabulary = args["hidden_dim"], args["intermediate_dim"], args["vocabulary_size"]
    per_token = args["num_layers"] * (8 * hidden**2 + 4 * hidden * inner + 4 * length * hidden)
    forward = batch * length * per_token
    if head:  # a dense layer, then logits over the vocabulary, at each picked position
        forward += batch * picks * (2 * hidden**2 + 2 * hidden * vocabulary)
    return 3 * forward


def step_tokens_per_second(length, batch, dropout, xla, precision, head):
    """Token slots per second of `fit`'s steady state for one configuration."""
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy(precision)
    spec = get_model_spec("bert_mlm")
    model = spec.build(sequence_length=length, dropout=dropout)
    picks = max(1, round(MASK_RATE * length))
    random = np.random.default_rng(0)
    ids = random.integers(5, spec.default_args()["vocabulary_size"], (batch, length)).astype("int32")
    inputs = {"token_ids": ids, "padding_mask": np.ones_like(ids, bool), "segment_ids": np.zeros_like(ids)}
    if head:
        inputs["mask_positions"] = np.sort(random.integers(1, length - 1, (batch, picks)), axis=1).astype("int32")
        batch_data = (inputs, ids[:, :picks], np.ones((batch, picks), "float32"))
        compile_token_predictions(model, keras.optimizers.AdamW(1e-3), xla)
    else:
        encoder = model.backbone
        model = keras.Model({name: encoder.input[name] for name in inputs}, encoder.output["sequence_output"])
        batch_data = (inputs, np.zeros((batch, length, model.output.shape[-1]), "float32"))
        model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="mse", jit_compile=xla)
    ends = []
    timer = keras.callbacks.LambdaCallback(on_train_batch_end=lambda step, logs: ends.append(time.perf_counter()))
    model.fit(tf.data.Dataset.from_tensors(batch_data).repeat(), steps_per_epoch=UNTIMED_STEPS + TIMED_STEPS,
              epochs=1, verbose=0, callbacks=[timer])
    keras.config.set_dtype_policy("float32")
    return batch * length * TIMED_STEPS / (ends[-1] - ends[UNTIMED_STEPS - 1])


def pipeline_tokens_per_second(preprocessor, texts, length):
    """Token slots per second of the input pipeline alone: text to ids, then the masking."""
    masker = mask_generator(len(preprocessor.get_vocabulary()), length)
    batches = texts.batch(128).map(lambda batch: masker(preprocessor(batch)["token_ids"]), num_parallel_calls=tf.data.AUTOTUNE)
    started, count = time.perf_counter(), 0
    for masked in batches:
        count += int(masked["token_ids"].shape[0])
    return count * length / (time.perf_counter() - started)


def padding_shares(data_dir, reviews=2000):
    """The share of slots that hold padding when real reviews are packed to 128 and to 256 tokens,
    with the shipped preset's vocabulary; and the input pipeline's tokens/s at each length."""
    from zoo.training import transfer

    source = transfer.load_source("bert_mlm")
    texts = tfds.load("imdb_reviews", split=f"unsupervised[{HELD_OUT_START}:{HELD_OUT_START + reviews}]",
                      data_dir=data_dir, as_supervised=True).map(lambda text, label: text).cache()
    shares = {}
    for length in (128, 256):
        preprocessor = type(source.preprocessor).from_config({**source.preprocessor.get_config(), "sequence_length": length})
        masks = np.concatenate([preprocessor(batch)["padding_mask"].numpy() for batch in texts.batch(256)])
        shares[length] = {"padding_share": float(1 - masks.mean()),
                          "pipeline_tokens_per_second": pipeline_tokens_per_second(preprocessor, texts, length)}
    return shares


def measure(data_dir):
    args = get_model_spec("bert_mlm").default_args()
    peaks = {size: matmul_gflops(size) for size in (512, 1024, 2048)}
    shares = padding_shares(data_dir)
    rows = []
    for name, (length, batch, dropout, xla, precision, head) in STEPS.items():
        tokens_per_second = step_tokens_per_second(length, batch, dropout, xla, precision, head)
        picks = max(1, round(MASK_RATE * length))
        gflops = train_flops(args, batch, length, picks, head) * tokens_per_second / (batch * length) / 1e9
        rows.append({"step": name, "sequence_length": length, "batch_size": batch, "dropout": dropout, "jit_compile": xla,
                     "precision": precision, "masked_lm_head": head, "tokens_per_second": tokens_per_second,
                     "gflops_per_second": gflops})
        print(f"{name}: {tokens_per_second:,.0f} tokens/s, {gflops:.1f} GFLOP/s", flush=True)
    return {"model_args": args, "matmul_gflops": peaks, "steps": rows, "real_reviews": shares}


def markdown(result):
    peak = max(result["matmul_gflops"].values())
    old, new = result["steps"][0]["tokens_per_second"], result["steps"][4]["tokens_per_second"]
    text = {length: 1 - facts["padding_share"] for length, facts in result["real_reviews"].items()}
    lines = [f"Float32 matmul peak: {peak:.0f} GFLOP/s ({', '.join(f'{n}: {g:.0f}' for n, g in result['matmul_gflops'].items())}).",
             "", "| step | tokens/s | vs old | GFLOP/s | of peak |", "|---|---|---|---|---|"]
    lines += [f"| {row['step']} | {row['tokens_per_second']:,.0f} | {row['tokens_per_second'] / old:.2f}x "
              f"| {row['gflops_per_second']:.1f} | {100 * row['gflops_per_second'] / peak:.0f}% |" for row in result["steps"]]
    lines += ["", "Real reviews (held-out unsupervised), packed by the preset's vocabulary:", "",
              "| tokens | padding share | input pipeline tokens/s |", "|---|---|---|"]
    lines += [f"| {length} | {100 * facts['padding_share']:.1f}% | {facts['pipeline_tokens_per_second']:,.0f} |"
              for length, facts in result["real_reviews"].items()]
    lines += ["", f"- Tokens of text (not padding) per second: old recipe {old * text[256]:,.0f}, new {new * text[128]:,.0f} "
              f"({new * text[128] / (old * text[256]):.2f}x)."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Where bert_mlm's pretraining step spends its time.")
    parser.add_argument("--data-dir", help="TFDS data dir (default: TFDS_DATA_DIR, then TFDS's own)")
    parser.add_argument("--results-dir", type=pathlib.Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    result = {"date": datetime.date.today().isoformat(), "machine": machine(), **measure(args.data_dir)}
    write_results(args.results_dir, "pretraining-step", result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
