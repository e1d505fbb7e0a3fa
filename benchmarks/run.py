"""Benchmark the zoo's default recipes against the keras-io references, side by side.

    python benchmarks/run.py [--models mnist_cnn ...] [--seeds 3] [--quick] [--data-dir DIR]

For each model it trains, in one process and on the same data and pipeline, the zoo's default
recipe once per seed (the table gives the median and the range) and the matching keras-io
example once where there is one, and records test accuracy after every epoch against
training wall time (evaluation excluded), time to each target accuracy, steady-state training
throughput, serving throughput (batch 256) and batch-1 latency through the exported SavedModel,
the input pipeline's throughput alone, peak resident memory and parameter count. `--init-from
MODEL=PATH` adds a run of MODEL started from a pretrained run or preset (`train.py --init-from`),
and a row for that pretraining's cost, read from the summary.json beside it.
Results go to benchmarks/results/<machine>-<date>.json with a Markdown table and one plot per
dataset; a full run (every model, not --quick) also rewrites the benchmark table of docs/benchmarks.md.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import sys
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import psutil  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from reference import REFERENCES  # noqa: E402

import zoo  # noqa: E402
from zoo import data, training  # noqa: E402
from zoo.models import text_preprocessing  # noqa: E402
from zoo.tasks import classification, get_task  # noqa: E402
from zoo.training import transfer

TARGETS = {"mnist": (0.99,), "imdb_reviews": (0.85, 0.90)}  # the first is the main one
SERVING_BATCH = 256
LATENCY_CALLS = 20
RESULTS_DIR = pathlib.Path(__file__).resolve().parent / "results"
PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"  # the docs page the benchmarks own
QUICK_STEPS = 2
PIPELINE_REPEATS = 3


class TestCurve(keras.callbacks.Callback):
    """Test accuracy after each epoch, against training wall time with evaluation excluded."""

    def __init__(self, test_batches):
        super().__init__()
        self.test_batches = test_batches
        self.points = []

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.evaluating = 0.0

    def on_epoch_end(self, epoch, logs=None):
        trained_for = time.perf_counter() - self.started - self.evaluating
        evaluation_started = time.perf_counter()
        accuracy = self.model.evaluate(self.test_batches, return_dict=True, verbose=0)["accuracy"]
        self.evaluating += time.perf_counter() - evaluation_started
        self.points.append({"epoch": epoch + 1, "seconds": trained_for, "test_accuracy": accuracy})
        print(f"  epoch {epoch + 1}: test accuracy {accuracy:.4f} at {trained_for:.1f} s", flush=True)


class PeakMemory:
    """Samples this process's resident memory while in the `with` block; `.peak_mb` after."""

    def __enter__(self):
        self.peak = psutil.Process().memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, psutil.Process().memory_info().rss)
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak_mb = self.peak / 2**20


def pipeline_examples_per_second(batches, batch_size, steps):
    """Median examples per second of iterating `batches` alone (a warm pass first, for caches)."""
    for _ in batches.take(steps):
        pass
    timings = []
    for _ in range(PIPELINE_REPEATS):
        started = time.perf_counter()
        for _ in batches.take(steps):
            pass
        timings.append(steps * batch_size / (time.perf_counter() - started))
    return statistics.median(timings)


def measure(name, recipe, strategy, args, seed=0, init_from=None):
    """Trains `name` with the zoo's recipe (from scratch, or from the weights at `init_from`) or
    its keras-io reference under `strategy`."""
    spec = zoo.get_model_spec(name)
    reference = REFERENCES.get(name)
    ours = recipe == "zoo"
    model_args = spec.default_args()
    batch_size = spec.batch_size if ours else reference.batch_size
    epochs = 1 if args.quick else (spec.epochs if ours else reference.epochs)
    source = transfer.load_source(init_from) if init_from else None
    datasets = data.load(spec.dataset, spec.modality, batch_size=batch_size, data_dir=args.data_dir, seed=seed,
                         preprocessor=text_preprocessor(spec, ours, source), adapt=source is None)
    steps = QUICK_STEPS if args.quick else int(datasets.train.cardinality())
    task = get_task(spec.task)
    data_args = task.data_args(spec, datasets)
    if spec.modality == "text" and not ours:
        data_args.update(vocabulary_size=reference.vocabulary_size, sequence_length=reference.sequence_length)

    keras.utils.set_random_seed(seed)
    with strategy.scope():
        if ours:
            model = spec.builder(**{**model_args, **data_args})
            optimizer = training.make_optimizer(spec, spec.learning_rate, spec.weight_decay, epochs * steps)
        else:
            model = reference.builder(**data_args)
            optimizer = reference.optimizer
        task.compile(model, optimizer, args.jit_compile)
    if source:
        transfer.copy_weights(source, model)
        recipe = f"zoo, from {init_from}"

    print(f"{name} / {recipe} / seed {seed}: {epochs} epoch(s) of {steps} steps, batch {batch_size}",
          flush=True)
    curve = TestCurve(datasets.test.take(QUICK_STEPS) if args.quick else datasets.test)
    throughput = training.ThroughputMeter(batch_size)
    with PeakMemory() as memory:
        model.fit(datasets.train, epochs=epochs, steps_per_epoch=steps, callbacks=[throughput, curve],
                  shuffle=False, verbose=0)
    seconds_to = {
        str(target): next((point["seconds"] for point in curve.points if point["test_accuracy"] >= target), None)
        for target in TARGETS.get(spec.dataset, ())
    }
    serving = serving_speed(task.saved_model(model, datasets), spec, datasets, args) if ours else {}
    return {
        "model": name,
        "recipe": recipe if ours else reference_recipe(name),
        "seed": seed,
        "dataset": spec.dataset,
        "epochs": epochs,
        "batch_size": batch_size,
        "parameters": model.count_params(),
        "curve": curve.points,
        "final_test_accuracy": curve.points[-1]["test_accuracy"],
        "target_accuracy": TARGETS[spec.dataset][0] if spec.dataset in TARGETS else None,
        "seconds_to_target": next(iter(seconds_to.values()), None),
        "seconds_to": seconds_to,
        "train_examples_per_second": throughput.examples_per_second(),
        **serving,
        "pipeline_examples_per_second": pipeline_examples_per_second(datasets.train, batch_size, steps),
        "peak_memory_mb": memory.peak_mb,
    }


def reference_recipe(name):
    """The recipe name of `name`'s keras-io reference, one run of which serves every model it has."""
    return f"keras-io {REFERENCES[name].example}"


def text_preprocessor(spec, ours, source):
    """The zoo recipe's preprocessor (the source's, adapted, when fine-tuning), or the keras-io
    reference's token ids; None for images."""
    if ours:
        preprocessor = spec.make_preprocessor(spec.default_args())
        return transfer.check_preprocessor(source, preprocessor) if source else preprocessor
    reference = REFERENCES[spec.name]
    if spec.modality == "text":
        return text_preprocessing.token_ids(reference.vocabulary_size, reference.sequence_length)
    return None


def serving_speed(model, spec, datasets, args):
    """Examples per second at batch 256 and the median batch-1 latency of `model` exported as
    `zoo.export` writes it (raw inputs in) and reloaded with TensorFlow alone."""
    with tempfile.TemporaryDirectory() as directory:
        archive = classification.serving_archive(model, spec.serving_input, datasets.class_names)  # classifiers only
        archive.write_out(directory, verbose=False)
        return saved_model_speed(directory, spec.dataset, args.data_dir)


def saved_model_speed(directory, dataset, data_dir):
    """Examples per second at batch 256 and the median batch-1 latency of the SavedModel in
    `directory`, loaded with TensorFlow alone, on `dataset`'s first test examples."""
    inputs = next(iter(tfds.load(dataset, split=f"test[:{SERVING_BATCH}]", data_dir=data_dir,
                                 as_supervised=True, batch_size=SERVING_BATCH)))[0]
    serve = tf.saved_model.load(str(directory)).signatures["serving_default"]
    [input_name] = serve.structured_input_signature[1]
    batch_seconds = _median_seconds(lambda: serve(**{input_name: inputs}), repeats=3)
    latency_seconds = _median_seconds(lambda: serve(**{input_name: inputs[:1]}), repeats=LATENCY_CALLS)
    return {
        "serving_batch_size": int(inputs.shape[0]),
        "serving_examples_per_second": int(inputs.shape[0]) / batch_seconds,
        "batch_1_latency_ms": 1000 * latency_seconds,
    }


def _median_seconds(call, repeats):
    """The median wall time of `call()`, after one untimed call."""
    call()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def pretraining_cost(path):
    """What the pretraining behind `path` (a run dir, or a preset with the run's summary.json
    beside it) cost and reached, or None when no summary is there."""
    summary_file = pathlib.Path(path) / "summary.json"
    if not summary_file.exists():
        return None
    summary = json.loads(summary_file.read_text())
    hyperparameters = summary["hyperparameters"]
    steps = hyperparameters["steps_per_epoch"] * summary["epochs_run"]
    if hyperparameters.get("max_steps"):
        steps = min(steps, hyperparameters["max_steps"])
    return {
        "source": str(path),
        "model": summary["model"],
        "wall_time_seconds": summary["wall_time_seconds"],
        "examples_seen": steps * hyperparameters["batch_size"],
        "held_out_accuracy": summary["test_metrics"]["accuracy"],
        "held_out_examples": summary["test_metrics"]["examples"],
    }


def machine():
    """What the figures were measured on."""
    cpu = platform.processor()
    if pathlib.Path("/proc/cpuinfo").exists():
        names = re.findall(r"^model name\s*:\s*(.+)$", pathlib.Path("/proc/cpuinfo").read_text(), re.M)
        cpu = names[0] if names else cpu
    gpus = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
            for gpu in tf.config.list_physical_devices("GPU")]
    return {"cpu": cpu, "cores": os.cpu_count(), "gpus": gpus, "platform": platform.platform()}


def machine_slug(facts):
    if facts["gpus"]:
        return re.sub(r"[^a-z0-9]+", "-", facts["gpus"][0].lower()).strip("-")
    return f"cpu{facts['cores']}"


def markdown_table(runs, pretraining=()):
    """One row per model and recipe, several seeds as their median (min-max); then ours against
    the reference (reference / ours for times, medians for ours); then what pretraining cost."""
    groups = {}
    for run in runs:
        groups.setdefault((run["model"], run["recipe"]), []).append(run)
    lines = [
        "| model | recipe | seeds | test accuracy | time to target | train ex/s | serving ex/s (batch 256) "
        "| batch-1 latency | pipeline ex/s | peak MB | params |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, recipe), group in groups.items():
        lines.append(
            f"| `{name}` | {recipe} | {len(group)} | {_spread([r['final_test_accuracy'] for r in group], '{:.4f}')} "
            f"| {_times_to_targets(group)} "
            f"| {_spread([r['train_examples_per_second'] or 0 for r in group], '{:,.0f}')} "
            f"| {_spread_or_dash(group, 'serving_examples_per_second', '{:,.0f}')} "
            f"| {_spread_or_dash(group, 'batch_1_latency_ms', '{:.1f} ms')} "
            f"| {statistics.median(r['pipeline_examples_per_second'] for r in group):,.0f} "
            f"| {max(r['peak_memory_mb'] for r in group):,.0f} | {group[0]['parameters']:,} |"
        )
    ratios = ["", "| model | time-to-target speed-up (reference / zoo median) | accuracy gain (points, zoo median) |",
              "|---|---|---|"]
    for name in dict.fromkeys(run["model"] for run in runs):
        ours = [run for run in runs if run["model"] == name and run["recipe"] == "zoo"]
        theirs = [run for run in runs if name in REFERENCES and run["recipe"] == reference_recipe(name)]
        if ours and theirs:
            our_times = [run["seconds_to_target"] for run in ours]
            our_time = statistics.median(our_times) if all(our_times) else None
            their_time = theirs[0]["seconds_to_target"]
            speedup = (f"{their_time / our_time:.2f}x" if our_time and their_time
                       else "reference never reached it" if our_time else "n/a")
            gain = 100 * (statistics.median(run["final_test_accuracy"] for run in ours)
                          - theirs[0]["final_test_accuracy"])
            ratios.append(f"| `{name}` | {speedup} | {gain:+.2f} |")
    costs = ["", "| pretraining | wall time | examples seen | held-out masked-token accuracy |", "|---|---|---|---|"]
    costs += [f"| `{row['model']}` (`{row['source']}`) | {row['wall_time_seconds'] / 60:.0f} min "
              f"| {row['examples_seen']:,} | {row['held_out_accuracy']:.4f} ({row['held_out_examples']:,} texts) |"
              for row in pretraining]
    return "\n".join(lines + (ratios if len(ratios) > 3 else []) + (costs if pretraining else [])) + "\n"


def _times_to_targets(group):
    """'0.85: 30 s; 0.9: 2 of 3 not reached' over a group's seeds, one entry per target."""
    cells = []
    for target in group[0]["seconds_to"]:
        reached = [run["seconds_to"][target] for run in group if run["seconds_to"][target] is not None]
        cells.append(f"{target}: " + (f"{_spread(reached, '{:.0f}')} s" if len(reached) == len(group)
                                      else f"{len(group) - len(reached)} of {len(group)} not reached"))
    return "; ".join(cells)


def _spread_or_dash(group, field, number):
    """The spread of `field` over the group, or a dash where it was not measured (references)."""
    values = [run[field] for run in group if field in run]
    return _spread(values, number) if values else "-"


def _spread(values, number):
    """'median (min-max)' of several values, or the value alone."""
    if len(values) == 1:
        return number.format(values[0])
    return (f"{number.format(statistics.median(values))} "
            f"({number.format(min(values))}-{number.format(max(values))})")


def plot(runs, path_prefix):
    """One PNG per dataset: test accuracy against training wall time, every recipe on one axes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    paths = []
    for dataset in sorted({run["dataset"] for run in runs}):
        figure, axes = pyplot.subplots(figsize=(7, 4.5))
        for run in (run for run in runs if run["dataset"] == dataset):
            axes.plot([p["seconds"] for p in run["curve"]], [p["test_accuracy"] for p in run["curve"]],
                      marker="o", label=f"{run['model']} ({run['recipe']}, seed {run['seed']})")
        for target in TARGETS.get(dataset, ()):
            axes.axhline(target, color="grey", linestyle="--", label=f"target {target}")
        axes.set(xlabel="training wall time (s)", ylabel="test accuracy", title=dataset)
        axes.legend()
        axes.grid(alpha=0.3)
        paths.append(pathlib.Path(f"{path_prefix}-{dataset}.png"))
        figure.savefig(paths[-1], dpi=100, bbox_inches="tight")
        pyplot.close(figure)
    return paths


def rewrite_section(name, text):
    """Rewrites the section of the benchmarks page between `<!-- NAME:start -->` and `<!-- NAME:end -->`."""
    page = PAGE.read_text()
    start_marker, end_marker = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    start, end = page.index(start_marker) + len(start_marker), page.index(end_marker)
    PAGE.write_text(page[:start] + "\n" + text + page[end:])


def write_results(output_dir, name, result, table):
    """Writes `result` (with its `machine` and `date`) and its Markdown `table` as
    <machine>-<date>-<name>.json and .md in `output_dir`, never over earlier results; prints both."""
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = unused_stem(output_dir, f"{machine_slug(result['machine'])}-{result['date']}-{name}")
    (output_dir / f"{stem}.json").write_text(json.dumps(result, indent=2))
    (output_dir / f"{stem}.md").write_text(table)
    print(table)
    print(f"Results in {output_dir / stem}.json")


def unused_stem(output_dir, stem):
    """`stem`, or `stem-2`, `stem-3`, ... if results under it exist: a run never overwrites another."""
    candidate, number = stem, 1
    while (output_dir / f"{candidate}.json").exists():
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def model_and_path(text):
    """'bert_text=presets/bert_mlm' -> ('bert_text', 'presets/bert_mlm')."""
    name, separator, path = text.partition("=")
    if not separator or name not in zoo.list_models():
        raise argparse.ArgumentTypeError(f"expected MODEL=PATH with a registered MODEL, got {text!r}")
    return name, path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    classifiers = [name for name in zoo.list_models() if zoo.get_model_spec(name).task == "classification"]
    parser.add_argument("--models", nargs="+", default=classifiers, choices=classifiers,
                        help="classifiers (pretraining enters through --init-from)")
    parser.add_argument("--seeds", type=int, default=3, help="runs of each zoo recipe (references run once)")
    parser.add_argument("--quick", action="store_true", help="a few steps each: checks the harness, measures nothing")
    parser.add_argument("--data-dir", default=os.environ.get("TFDS_DATA_DIR", "../shared/tensorflow_datasets"))
    parser.add_argument("--output-dir", type=pathlib.Path, default=RESULTS_DIR)
    parser.add_argument("--init-from", action="append", default=[], type=model_and_path, metavar="MODEL=PATH",
                        help="also train MODEL from this run dir or preset; repeatable")
    parser.add_argument("--jit-compile", action="store_true")
    parser.add_argument("--mixed-precision", choices=training.PRECISIONS, default="off")
    args = parser.parse_args(argv)
    if args.mixed_precision != "off":
        keras.config.set_dtype_policy(args.mixed_precision)

    facts = machine()
    started = datetime.datetime.now(datetime.timezone.utc)
    strategy = training.make_strategy("auto")
    settings = "quick" if args.quick else "full"
    results = {
        "date": started.date().isoformat(),
        "settings": settings,
        "complete": False,
        "machine": facts,
        "mixed_precision": args.mixed_precision,
        "jit_compile": args.jit_compile,
        "seeds": args.seeds,
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "zoo": zoo.__version__},
        "runs": [],
        "pretraining": [],
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{machine_slug(facts)}-{results['date']}" + ("-quick" if args.quick else "")
    if args.mixed_precision != "off" or args.jit_compile:
        stem += f"-{args.mixed_precision}" + ("-xla" if args.jit_compile else "")
    stem = unused_stem(args.output_dir, stem)
    for name in args.models:
        # Not every model has a keras-io example, and one run of an example serves each model it has.
        measured = {run["recipe"] for run in results["runs"]}
        references = [0] if name in REFERENCES and reference_recipe(name) not in measured else []
        for recipe, seeds in (("zoo", range(args.seeds)), ("reference", references)):
            for seed in seeds:
                results["runs"].append(measure(name, recipe, strategy, args, seed))
                # Written after every run, so a run stopped part way keeps what it measured.
                (args.output_dir / f"{stem}.json").write_text(json.dumps(results, indent=2))
    for name, path in args.init_from:
        results["pretraining"].append(pretraining_cost(path))
        for seed in range(args.seeds):
            results["runs"].append(measure(name, "zoo", strategy, args, seed, init_from=path))
            (args.output_dir / f"{stem}.json").write_text(json.dumps(results, indent=2))
    results["pretraining"] = [row for row in results["pretraining"] if row]
    results["complete"] = True
    (args.output_dir / f"{stem}.json").write_text(json.dumps(results, indent=2))
    runs = results["runs"]
    table = markdown_table(runs, results["pretraining"])
    (args.output_dir / f"{stem}.md").write_text(table)
    plot(runs, args.output_dir / stem)
    print(table)
    every_default = set(args.models) == set(classifiers) and not args.init_from
    if not args.quick and args.output_dir == RESULTS_DIR and every_default:
        header = (f"Measured {results['date']} on {facts['cpu']}, {facts['cores']} cores"
                  f"{', ' + ', '.join(facts['gpus']) if facts['gpus'] else ', no GPU'}"
                  f" (`benchmarks/results/{stem}.json`).\n\n")
        rewrite_section("benchmarks", header + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
