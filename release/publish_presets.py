"""Publish finished runs as the zoo's presets, each with its measured model card, and tabulate them.

    python release/publish_presets.py publish runs/presets/mnist_cnn [...] --data-dir ../shared/tensorflow_datasets \
        [--conditions "the test suite shared the cores"]
    python release/publish_presets.py cards --conditions "two other trainings shared the cores"
    python release/publish_presets.py table

`publish` copies what users need of a run made by its model's registered recipe (or that recipe
fine-tuning a shipped pretrained preset, `--init-from word2vec` or `bert_mlm`) into
`presets/NAME`, evaluates the preset as users will (`python -m zoo.evaluate --model-dir NAME`,
whole test split: it must give the run's own figure) and on the fixed slice the tests check,
times loading and batch-1 inference, and writes the card `README.md` and `preset.json` (the model,
command, figures and the SHA-256 of every other file), whose own SHA-256 goes into the presets'
`index.json`. `--name MODEL.TAG` publishes another weight set of a model beside its default one.
`cards` rewrites every card from its `preset.json` (with `--conditions`, recorded there: what
else the machine ran while the run trained); `table` rewrites the README's table of presets.
"""

import argparse
import datetime
import inspect
import json
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))  # run.machine

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402
from run import machine  # noqa: E402

import zoo  # noqa: E402
from zoo import (
    evaluation,  # noqa: E402
    training,  # noqa: E402
)
from zoo.config import TrainConfig  # noqa: E402
from zoo.serving import generation  # noqa: E402
from zoo.store import presets
from zoo.tasks import (
    classification,  # noqa: E402
    get_task,  # noqa: E402
    task_for,  # noqa: E402
)
from zoo.tasks.vampire import topic_words
from zoo.training import word_vectors

SLICE = "test[:2000]"  # the fixed slice whose figure the slow test reproduces exactly
LANGUAGE_MODEL_SLICE = "test[:200]"  # a language model's, of reviews 256 characters each
LATENCY_CALLS = 20
GENERATED_LENGTH = 64
SHIPPED = {"classification": ("model.keras", "summary.json", "evaluation.json", "confusion_matrix.png"),
           "causal_lm": ("model.keras", "summary.json"), "word2vec": ("model.keras", "summary.json"),
           "vampire": ("model.keras", "summary.json")}
NEIGHBOURS_OF = ("excellent", "boring", "plot")  # word vectors' sanity check, on their card
TOPICS_SHOWN = 16  # of VAMPIRE's topics, on its card
PRETRAINED_FROM = "preset"  # a masked-LM run's keras-hub preset folder: shipped whole, every file hashed
LICENSES = {
    "mnist": "MNIST (LeCun, Cortes and Burges), which its authors make available under the Creative Commons "
             "Attribution-Share Alike 3.0 licence",
    "imdb_reviews": "the Large Movie Review Dataset (Maas et al., ACL 2011), IMDb users' reviews; its authors "
                    "state no licence and ask that publications cite the paper",
}
NOT_FOR = {
    "image": "Images unlike MNIST's: centred white digits on black, 28x28 grey. Photos, other scripts, letters or "
             "several digits are still given one of the ten digits, often confidently.",
    "text": "Text unlike IMDB's English film reviews: other languages (Chinese has its own benchmark in the README), "
            "other domains, or neutral and mixed opinions (IMDB's labelled reviews are 1-4 or 7-10 stars only).",
}
README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
TABLE_MARKERS = ("<!-- presets:start -->", "<!-- presets:end -->")


def recipe_command(run_dir, summary):
    """The train.py command that made the run: its model's registered recipe, nothing changed but,
    at most, `--init-from` a shipped pretrained preset (word vectors or a masked LM: the zoo's
    pretrain-then-fine-tune flow). Every setting the run recorded (`run.json`: epochs, steps,
    splits, data, model arguments, initialization, precision...) is compared with what that
    command records, and a teacher too."""
    spec = zoo.get_model_spec(summary["model"])
    used = json.loads((run_dir / training.RUN_FILE).read_text())["settings"]
    source = used.get("init_from") if used.get("init_from") in pretrained_presets() else None
    config = TrainConfig(model=spec.name, init_from=source)
    recipe = training.run_settings(spec, config, task_for(spec, config))
    changed = [f"{key}={used.get(key)!r} (the recipe's {value!r})" for key, value in recipe.items() if used.get(key) != value]
    changed += [f"taught by {summary['distillation']['teacher']}"] if summary.get("distillation") else []
    if changed:
        raise SystemExit(f"{spec.name}'s run departs from its registered recipe: {'; '.join(changed)}. "
                         f"A preset is made by `python train.py --model {spec.name}` alone, or with "
                         "`--init-from` a pretrained preset.")
    return " ".join(["python train.py --model", spec.name, *(["--init-from", source] if source else []),
                     "--data-dir ../shared/tensorflow_datasets"])


def pretrained_presets():
    """The shipped presets that are pretraining (their task is not served): what a preset may be
    fine-tuned from."""
    return [name for name in zoo.list_presets() if not get_task(zoo.get_model_spec(name).task).exportable]


def publish(run_dir, data_dir, name=None, conditions=None):
    """Publishes the finished run in `run_dir` as preset `name` (default: its model's name);
    `conditions` says what else the machine ran while it trained."""
    run_dir = pathlib.Path(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    name = name or summary["model"]
    if not presets.PRESET_NAME.fullmatch(name) or name.split(".")[0] != summary["model"]:
        raise SystemExit(f"--name {name}: a preset of {summary['model']} is named {summary['model']}[.TAG]")
    command = pretraining_command(summary) if summary["task"] == "masked_lm" else recipe_command(run_dir, summary)
    target = presets.presets_dir() / name
    shutil.rmtree(target, ignore_errors=True)
    if summary["task"] == "masked_lm":
        shutil.copytree(run_dir / PRETRAINED_FROM, target)
        shutil.copy2(run_dir / "summary.json", target / "summary.json")
    else:
        target.mkdir(parents=True)
        for filename in SHIPPED[summary["task"]]:
            shutil.copy2(run_dir / filename, target / filename)
    figures = {"name": name, "model": summary["model"], "command": command, "files": shipped_files(target),
               "machine": machine(), "date": datetime.date.today().isoformat(),
               "wall_time_seconds": summary["wall_time_seconds"], "parameters": summary["parameters"],
               **({"conditions": conditions} if conditions else {})}
    write_preset_json(target, figures)  # measured below as users load it: checked
    figures.update(measure(name, target, summary, data_dir))
    figures["size_bytes"] = sum(path.stat().st_size for path in target.iterdir() if path.name != presets.CARD_FIGURES)
    write_card(target, figures, summary)


def unchecked_figures(name):
    """Preset `name`'s `preset.json`, read before its record is updated to it."""
    return json.loads((presets.presets_dir() / name / presets.CARD_FIGURES).read_text())


def shipped_files(directory):
    """The SHA-256 of every file of the preset at `directory` but its card and preset.json."""
    return {path.name: presets.sha256(path) for path in sorted(directory.iterdir())
            if path.name not in (presets.CARD, presets.CARD_FIGURES)}


def write_card(directory, figures, summary):
    """The card, naming every other file's SHA-256; then preset.json, the card's among them."""
    figures = {**figures, "files": shipped_files(directory)}
    (directory / presets.CARD).write_text(card_writer(figures)(figures, summary))
    figures["files"][presets.CARD] = presets.sha256(directory / presets.CARD)
    write_preset_json(directory, figures)


def write_preset_json(directory, figures):
    """Writes the preset's preset.json and records its SHA-256 in the presets' index.json."""
    path = directory / presets.CARD_FIGURES
    path.write_text(json.dumps(figures, indent=2) + "\n")
    index_file = presets.presets_dir() / presets.INDEX
    index = json.loads(index_file.read_text()) if index_file.exists() else {}
    index[directory.name] = presets.sha256(path)
    index_file.write_text(json.dumps(dict(sorted(index.items())), indent=2) + "\n")


def pretraining_command(summary):
    """The train.py command of a pretraining run, the last of the pieces its weights come from."""
    used, spec = summary["hyperparameters"], zoo.get_model_spec(summary["model"])
    flags = [f"--init-from {used['init_from']}" if used["init_from"] else "",
             f"--max-steps {used['max_steps']}" if used["max_steps"] else "",
             *(f"--model-arg {name}={value}" for name, value in used["model_args"].items()
               if name in spec.default_args() and spec.default_args()[name] != value)]
    return " ".join(["python train.py --model", summary["model"], *filter(None, flags),
                     "--data-dir ../shared/tensorflow_datasets"])


def measure(name, target, summary, data_dir):
    """The preset's test figures (whole split and slice), load time and batch-1 latency, measured
    through the same public calls users make."""
    spec = zoo.get_model_spec(summary["model"])
    started = time.perf_counter()
    model = zoo.from_preset(name)
    load_seconds = time.perf_counter() - started
    if summary["task"] == "masked_lm":
        pieces = summary["training_pieces"]
        return {"load_seconds": load_seconds, "pieces": pieces,
                "test": {"split": summary["hyperparameters"]["test_split"], "examples": summary["test_metrics"]["examples"],
                         "accuracy": summary["test_metrics"]["accuracy"], "metric": "masked-token accuracy (held out)"}}
    if summary["task"] == "word2vec":
        return {"load_seconds": load_seconds, "test": {
            "split": summary["hyperparameters"]["test_split"], "examples": summary["test_metrics"]["examples"],
            "accuracy": summary["test_metrics"]["accuracy"], "metric": "skip-gram accuracy (held out)"},
            "neighbours": {word: [neighbour for neighbour, _ in word_vectors.nearest(model, word)]
                           for word in NEIGHBOURS_OF}}
    if summary["task"] == "vampire":
        return {"load_seconds": load_seconds, "test": {"split": summary["hyperparameters"]["test_split"], **{
            key: summary["test_metrics"][key] for key in ("examples", "elbo", "reconstruction", "kl")}},
            "topics": topic_words(model.get_layer("vampire"), model.get_layer("text_vectorizer").get_vocabulary())}
    if summary["task"] == "causal_lm":
        return {"load_seconds": load_seconds, "test": {"split": summary["hyperparameters"]["test_split"], **{
            key: summary["test_metrics"][key] for key in ("examples", "bits_per_character", "accuracy")}},
            "slice": slice_figures(model, data_dir), "generation_seconds": generation_seconds(name)}
    with tempfile.TemporaryDirectory() as scratch:
        whole = evaluation.evaluate(name, data_dir=data_dir, output_dir=pathlib.Path(scratch) / "whole")
        part = evaluation.evaluate(name, data_dir=data_dir, output_dir=pathlib.Path(scratch) / "slice", test_split=SLICE)
    trained = json.loads((target / "evaluation.json").read_text())
    if whole["confusion_matrix"] != trained["confusion_matrix"]:
        raise SystemExit(f"{name}: zoo.evaluate on the preset does not reproduce its run's report")
    return {"load_seconds": load_seconds, "batch_1_latency_ms": latency_ms(model, spec, summary, data_dir),
            "test": {"split": summary["hyperparameters"]["test_split"], "examples": whole["examples"],
                     "accuracy": whole["accuracy"]},
            "slice": {"split": SLICE, "examples": part["examples"], "accuracy": part["accuracy"]}}


def slice_figures(model, data_dir):
    """A causal LM's bits per character and next-character accuracy over LANGUAGE_MODEL_SLICE,
    every real character of each review counted (padding not)."""
    texts = [text for text, _ in tfds.load("imdb_reviews", split=LANGUAGE_MODEL_SLICE, data_dir=data_dir,
                                           as_supervised=True)]
    inputs, targets, weights = model.preprocessor(tf.stack(texts))
    batches = tf.data.Dataset.from_tensor_slices(inputs).batch(50)  # called, not predict(): that preprocesses
    log_probabilities = np.concatenate([tf.nn.log_softmax(model(batch, training=False)).numpy() for batch in batches])
    targets, weights = targets.numpy(), weights.numpy().astype(np.float64)
    chosen = np.take_along_axis(log_probabilities, targets[..., None], axis=-1)[..., 0]
    right = log_probabilities.argmax(axis=-1) == targets
    return {"split": LANGUAGE_MODEL_SLICE, "examples": len(texts),
            "bits_per_character": float(-(chosen * weights).sum() / weights.sum() / np.log(2)),
            "accuracy": float((right * weights).sum() / weights.sum())}


def latency_ms(model, spec, summary, data_dir):
    """The median time of one raw test example through the serving signature's function."""
    [(example, _)] = tfds.load(spec.dataset, split="test[:1]", data_dir=data_dir, as_supervised=True)
    function, input_spec = classification.serving_functions(model, spec.serving_input, summary["class_names"])["serving_default"]
    serve = tf.function(function, input_signature=[input_spec])
    batch = tf.expand_dims(example, 0)
    times = []
    for _ in range(LATENCY_CALLS + 3):
        started = time.perf_counter()
        serve(batch)["label"].numpy()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times[3:])


def generation_seconds(name):
    """Seconds to write one review of GENERATED_LENGTH characters, greedy, after its first call."""
    write = generation.load(name)
    write(["This movie"], GENERATED_LENGTH, "greedy")
    started = time.perf_counter()
    write(["This movie"], GENERATED_LENGTH, "greedy")
    return time.perf_counter() - started


def card(figures, summary):
    """The model card, from the preset's figures and its run's summary."""
    name, spec = figures["name"], zoo.get_model_spec(figures["name"])
    test, used = figures["test"], summary["hyperparameters"]
    lines = [
        f"# `{name}`, trained", "",
        " ".join(inspect.getdoc(spec.builder).split("\n\n")[0].split()), "",
        f"The zoo's `{name}` ({figures['parameters']:,} parameters) trained by its registered recipe"
        + (f", fine-tuned from the `{used['init_from']}` preset," if used.get("init_from") else "") + " on "
        f"`{summary['dataset']}`, raw inputs in ({'uint8 pixels' if spec.modality == 'image' else 'UTF-8 text'}).", "",
        "```python", "import zoo", f"model = zoo.from_preset({name!r})  # checked against the SHA-256s below", "```", "",
        "```bash",
        *usage(name, spec, summary),
        "```", "",
        "## How it was made", "",
        "```bash", figures["command"], "```", "",
        f"- Data: {LICENSES[summary['dataset']]}. Trained on the `{used['train_split']}` split "
        f"({summary['examples']['train']:,} examples, {summary['examples']['validation']:,} held out for validation), "
        f"tested on `{test['split']}` ({test['examples']:,}), which training never read.",
        f"- Recipe: {used['epochs']} epoch(s), batch {used['batch_size']}, {used['optimizer']} at learning rate "
        f"{used['learning_rate']:g} ({used['learning_rate_schedule']}, warm-up {used['warmup_fraction']:.0%}), "
        f"weight decay {used['weight_decay']:g}; seed {used['seed']}.",
        f"- Wall time: {figures['wall_time_seconds'] / 60:.1f} min on {figures['machine']['cores']} cores of "
        f"an {figures['machine']['cpu']}, no GPU (TensorFlow {summary['versions']['tensorflow']}, Keras "
        f"{summary['versions']['keras']}, keras-hub {summary['versions']['keras_hub']})"
        + (f"; {figures['conditions']}." if figures.get("conditions") else "."), "",
        "## How good it is", "",
        f"- Test: **{presets.headline(figures)}** over the whole `{test['split']}` split ({test['examples']:,} examples).",
        *reproduce(name, figures), "",
        *files_section(figures),
        "## What it is not good for", "",
        f"- {NOT_FOR[spec.modality]}",
        *limits(name, figures), "",
    ]
    return "\n".join(lines)


def files_section(figures):
    """A card's list of its files with their SHA-256s, the folder's size and load time."""
    return [
        "## Files", "",
        "| file | SHA-256 |", "|---|---|",
        *[f"| `{filename}` | `{digest}` |" for filename, digest in figures["files"].items()], "",
        f"`preset.json` records these, and the presets' `index.json` its SHA-256; every use checks them. Folder size {figures['size_bytes'] / 2**20:.1f} MiB; "
        f"loads in {figures['load_seconds']:.2f} s.", "",
    ]


def card_writer(figures):
    """How a preset's card is written: a pretrained encoder's, word vectors', or a trained model's."""
    if "pieces" in figures:
        return pretraining_card
    return word_vectors_card if "neighbours" in figures else document_features_card if "topics" in figures else card


def word_vectors_card(figures, summary):
    """The card of word vectors: what made them, their held-out figure and nearest neighbours."""
    name, test, used = figures["name"], figures["test"], summary["hyperparameters"]
    dimensions = used["model_args"]["embedding_dim"]
    lines = [
        f"# `{name}`: word vectors learnt from IMDB's unlabelled reviews", "",
        f"The zoo's `{name}` (skip-gram with negative sampling; {summary['vocabulary_size']:,} words of "
        f"{dimensions} dimensions, {figures['parameters']:,} parameters with the context vectors), trained here, offline. "
        "Texts in, each token's vector out:", "",
        "```python", "import pathlib", "import tensorflow as tf", "import zoo", "from zoo import word_vectors",
        f"model = zoo.from_preset({name!r})  # checked against the SHA-256s below",
        'model(tf.constant(["A moving film."]))  # (1, 512, 128): a vector per token, padding included',
        'word_vectors.nearest(model, "excellent")  # the 5 nearest words, with their cosine similarity',
        'word_vectors.write_projector(model, pathlib.Path("projector"))  # vectors.tsv, metadata.tsv for TensorBoard',
        "```", "",
        "```bash",
        f"python train.py --model embedding_bag_text --init-from {name} --train-split 'train[:1000]' "
        "--data-dir ../shared/tensorflow_datasets   # a classifier from them",
        "```", "",
        "`--init-from word2vec` starts the token embedding of any word-level model: `embedding_bag_text`, "
        "`transformer_text` and `lstm_text` take its vocabulary whole, BERT gets the row of each of its words; "
        "narrower embeddings get the vectors' principal components.", "",
        "## How it was made", "",
        "```bash", figures["command"], "```", "",
        f"- Data: {LICENSES['imdb_reviews']}. Trained on `{used['train_split']}` ({summary['examples']['train']:,} "
        "reviews, labels unused; the labelled `test` split is never read).",
        f"- Skip-grams: window {summary['window']} (shrunk at random, as word2vec does), frequent words subsampled "
        f"at {summary['subsample']:g}, {used['model_args']['negatives']} negatives per pair drawn from the word counts "
        "to the power 3/4; a softmax over the true context and the negatives, as keras-io's word2vec example trains.",
        f"- Recipe: {used['epochs']} epochs, batches of {used['batch_size']} reviews (all their pairs), "
        f"{used['optimizer']} at learning rate {used['learning_rate']:g} ({used['learning_rate_schedule']}), XLA; "
        f"seed {used['seed']}.",
        f"- Wall time: {figures['wall_time_seconds'] / 60:.1f} min on {figures['machine']['cores']} cores of "
        f"an {figures['machine']['cpu']}, no GPU (TensorFlow {summary['versions']['tensorflow']}, Keras "
        f"{summary['versions']['keras']})" + (f"; {figures['conditions']}." if figures.get("conditions") else "."), "",
        "## How good it is", "",
        f"- Held out: **{test['accuracy']:.2%} skip-gram accuracy** on `{test['split']}` ({test['examples']:,} reviews "
        "never trained on): how often a word's true context scores above all of its negatives.",
        "- Nearest neighbours (cosine), a check anyone can rerun with `word_vectors.nearest`:", "",
        "| word | nearest words |", "|---|---|",
        *[f"| {word} | {', '.join(neighbours)} |" for word, neighbours in figures["neighbours"].items()], "",
        "- What they buy a classifier trained on few labels is the main README's learning curve.", "",
        *files_section(figures),
        "## What it is not good for", "",
        f"- {NOT_FOR['text']}",
        "- Words it never saw, or saw fewer times than the 20,000 most frequent: they all share [UNK]'s row, "
        "which is not trained.",
        "- Meaning beyond co-occurrence: antonyms that share contexts (good, bad) can be near each other.", "",
    ]
    return "\n".join(lines)


def document_features_card(figures, summary):
    """The card of VAMPIRE's document features: what made them, their held-out ELBO and topics."""
    name, test, used = figures["name"], figures["test"], summary["hyperparameters"]
    args = used["model_args"]
    lines = [
        f"# `{name}`: document features learnt from IMDB's unlabelled reviews", "",
        f"The zoo's `{name}` (VAMPIRE, Gururangan et al. 2019: a variational autoencoder of a review's bag of "
        f"words; {summary['vocabulary_size']:,} content words, two layers of {args['hidden_dim']}, "
        f"{args['num_topics']} topics; {figures['parameters']:,} parameters with its decoder), trained here, offline. "
        "Texts in, each text's features out (both hidden layers and its topic proportions):", "",
        "```python", "import tensorflow as tf", "import zoo", "from zoo.tasks.vampire import topic_words",
        f"model = zoo.from_preset({name!r})  # checked against the SHA-256s below",
        f'model(tf.constant(["A moving film."]))  # (1, {2 * args["hidden_dim"] + args["num_topics"]}): '
        "features to put beside a classifier's",
        'topic_words(model.get_layer("vampire"), model.get_layer("text_vectorizer").get_vocabulary())  # the topics',
        "```", "",
        "```bash",
        f"python train.py --model embedding_bag_text --init-from word2vec --features-from {name} "
        "--train-split 'train[:1000]' --data-dir ../shared/tensorflow_datasets   # a classifier reading them",
        "```", "",
        "## How it was made", "",
        "```bash", figures["command"], "```", "",
        f"- Data: {LICENSES['imdb_reviews']}. Trained on `{used['train_split']}` ({summary['examples']['train']:,} "
        "reviews, labels unused; the labelled `test` split is never read). Words: lowercased, punctuation and "
        "`<br />` removed, Snowball's English stop words left out, the most frequent kept.",
        "- Loss: the negative ELBO, the counts' log-likelihood under the decoder (topics drawn from the "
        "logistic-normal posterior, over the words' background log-frequencies) plus the posterior's KL divergence "
        "from the Laplace approximation of a Dirichlet(1) prior, the KL weight rising along VAMPIRE's sigmoid over "
        "the epochs.",
        f"- Recipe (VAMPIRE's IMDB one): {used['epochs']} epochs, batch {used['batch_size']}, {used['optimizer']} at "
        f"learning rate {used['learning_rate']:g} ({used['learning_rate_schedule']}); seed {used['seed']}.",
        f"- Wall time: {figures['wall_time_seconds'] / 60:.1f} min on {figures['machine']['cores']} cores of "
        f"an {figures['machine']['cpu']}, no GPU (TensorFlow {summary['versions']['tensorflow']}, Keras "
        f"{summary['versions']['keras']})" + (f"; {figures['conditions']}." if figures.get("conditions") else "."), "",
        "## How good it is", "",
        f"- Held out: **{presets.headline(figures)}** on `{test['split']}` ({test['examples']:,} reviews never "
        f"trained on): {test['reconstruction']:.1f} to reconstruct its words, {test['kl']:.1f} of KL divergence.",
        "- Each topic's most likely words, a check anyone can rerun with `topic_words` (the first "
        f"{TOPICS_SHOWN} of {len(figures['topics'])}):", "",
        "| topic | most likely words |", "|---|---|",
        *[f"| {number} | {words} |" for number, words in enumerate(figures["topics"][:TOPICS_SHOWN], 1)], "",
        "- What its features buy a classifier on few labels, beside word vectors: the benchmarks page's "
        "word-vector ceiling.", "",
        *files_section(figures),
        "## What it is not good for", "",
        f"- {NOT_FOR['text']}",
        "- Classifying by itself: its features describe what a review is about, learnt without labels; "
        "a classifier reads them (`--features-from`; `zoo.predict` and `zoo.export` refuse it and say so).",
        "- Word order: it reads a bag of words.", "",
    ]
    return "\n".join(lines)


def pretraining_card(figures, summary):
    """The card of a pretrained encoder: what made it, piece by piece, and how good it is."""
    name, test, used = figures["name"], figures["test"], summary["hyperparameters"]
    pieces = figures["pieces"]
    tokens = sum(piece["steps"] * piece["batch_size"] * piece["sequence_length"] for piece in pieces)
    hours = sum(piece["wall_time_seconds"] for piece in pieces) / 3600
    lines = [
        f"# `{name}`: a small BERT encoder pretrained on IMDB reviews", "",
        f"A keras-hub preset folder of the zoo's `{name}` (`BertMaskedLM`: the encoder and its masked-LM head; "
        f"{figures['parameters']:,} parameters; {summary['vocabulary_size']:,}-word vocabulary), pretrained here, offline.", "",
        "```python", "import zoo", f"encoder = zoo.from_preset({name!r})  # texts in; sequence_output and pooled_output out",
        "```", "",
        "```bash",
        f"python train.py --model bert_text --init-from {name} --data-dir ../shared/tensorflow_datasets   # fine-tune",
        f"python train.py --model {name} --init-from {name} --data-dir ../shared/tensorflow_datasets --max-steps 2000"
        "   # pretrain it further",
        "```", "",
        "| file | what |", "|---|---|",
        "| `config.json`, `model.weights.h5`, `task.json`, `task.weights.h5`, `metadata.json` | keras-hub's preset files: "
        f"`keras_hub.models.BertBackbone.from_preset(\"presets/{name}\")` loads the encoder, "
        "`keras_hub.models.MaskedLM.from_preset` the encoder and its head, without the zoo |",
        "| `text_preprocessor.json` | the zoo's `BertInputs` layer (strings to `token_ids`, `padding_mask`, `segment_ids` "
        "on core TensorFlow ops) with its vocabulary; `--init-from` gives it to the next run, packing to that run's length |",
        "| `summary.json` | the last pretraining run's summary, with every piece before it (`training_pieces`) |", "",
        "## How it was made", "",
        f"Masked LM ({summary['mask_rate']:.0%} of tokens picked; of those 80% [MASK], 10% random, 10% kept), AdamW, "
        f"cosine schedule with warm-up, weight decay {used['weight_decay']:g}, on IMDB's `{used['train_split']}` "
        f"({summary['examples']['train']:,} reviews; the labelled `test` split is never read). Each piece is one "
        "`train.py` run started from the one before (`--init-from`): the weights carry on, the optimizer state and "
        "schedule start anew." + word_vectors_start(summary), "",
        "| piece | steps | batch | tokens per text | token slots seen | wall time |", "|---|---|---|---|---|---|",
        *[f"| {number} | {piece['steps']:,} | {piece['batch_size']} | {piece['sequence_length']} | "
          f"{piece['steps'] * piece['batch_size'] * piece['sequence_length'] / 1e6:.1f} M | "
          f"{piece['wall_time_seconds'] / 60:.0f} min |" for number, piece in enumerate(pieces, 1)],
        f"| all | {sum(piece['steps'] for piece in pieces):,} | | | {tokens / 1e6:.1f} M | {hours:.2f} h |", "",
        f"The last piece: `{figures['command']}`. All on {figures['machine']['cores']} cores of an "
        f"{figures['machine']['cpu']}, no GPU (TensorFlow {summary['versions']['tensorflow']}, Keras "
        f"{summary['versions']['keras']}, keras-hub {summary['versions']['keras_hub']})"
        + (f"; {figures['conditions']}." if figures.get("conditions") else "."), "",
        "## How good it is", "",
        f"- Held out: **{test['accuracy']:.2%} masked-token accuracy** ({test['accuracy']:.4f}) on `{test['split']}` "
        f"({test['examples']:,} reviews, never trained on), at {pieces[-1]['sequence_length']} tokens, counted over "
        "the picked positions only.",
        "- What it buys a classifier fine-tuned from it is the main README's learning curve.", "",
        *files_section(figures),
        "## What it is not good for", "",
        f"- {NOT_FOR['text']}",
        "- Masked-word prediction as such: whole words out of 20,000 are hard targets for an encoder this small. "
        "It is a starting point for fine-tuning (`zoo.predict` and `zoo.export` refuse it and say so).",
        f"- Data: {LICENSES['imdb_reviews']}.", "",
    ]
    return "\n".join(lines)


def word_vectors_start(summary):
    """The card's sentence on where the first piece's token embedding came from, if from word vectors."""
    first = summary.get("init_from") if not summary.get("training_pieces", [])[:-1] else None
    if not first or "copied_rows" not in first:
        return ""
    return (f" Its token embedding starts from the `{pathlib.Path(first['source']).name}` preset's word vectors "
            f"({first['copied_rows']:,} of its {first['vocabulary_rows']:,} words' rows copied by token), so that "
            "masked-LM pretraining starts from words that already mean something.")


def usage(name, spec, summary):
    if summary["task"] == "causal_lm":
        return [f'python -m zoo.generate --model-dir {name} --prompt "This movie" --seed 1',
                f"python -m zoo.export --model-dir {name}   # TF Serving layout, generate signatures"]
    given = "digit.png" if spec.modality == "image" else '"A moving, funny film."'
    return [f"python -m zoo.predict {name} {given}",
            f"python -m zoo.export --model-dir {name}   # TF Serving layout",
            f"python train.py --model {name} --init-from {name} --dataset YOUR_DATA --learning-rate 1e-4   # fine-tune"]


def reproduce(name, figures):
    if "batch_1_latency_ms" not in figures:
        part = figures["slice"]
        return [f"- The recipe's test split is `{figures['test']['split']}`; the figure is the run's own evaluation "
                "(`summary.json`'s `test_metrics`).",
                f"- On `{part['split']}` (what the tests check): {part['bits_per_character']:.4f} bits per character, "
                f"{part['accuracy']:.2%} of next characters right.",
                f"- Batch-1 generation of {GENERATED_LENGTH} characters (greedy) takes {figures['generation_seconds']:.2f} s."]
    return [
        f"- Reproduce it: `python -m zoo.evaluate --model-dir {name} --data-dir ../shared/tensorflow_datasets` "
        "(per-class scores and the confusion matrix are in `evaluation.json` and `confusion_matrix.png`).",
        f"- On the first 2,000 test examples (`{SLICE}`, what the tests check exactly): "
        f"{figures['slice']['accuracy']:.2%}.",
        f"- Batch-1 latency through the serving function: {figures['batch_1_latency_ms']:.1f} ms (median of {LATENCY_CALLS}).",
    ]


def limits(name, figures):
    if "bits_per_character" in figures["test"]:
        return ["- Facts: it writes review-like English character by character, with no knowledge behind it; "
                "its sentences drift after a few dozen characters."]
    return ["- Calibration: its probabilities are a softmax's, not checked for calibration; "
            "do not read 0.9 as a 90% chance."]


def rewrite_cards(conditions=None):
    """Every published card again, from its figures and its run's summary, and its preset.json."""
    for name in presets.list_presets():
        directory = presets.presets_dir() / name
        figures = unchecked_figures(name)
        if conditions:
            figures["conditions"] = conditions
        write_card(directory, figures, json.loads((directory / "summary.json").read_text()))


def speed(figures):
    """The presets table's speed column: batch-1 latency, generation time, or what a pretrained preset is for."""
    if "batch_1_latency_ms" in figures:
        return f"{figures['batch_1_latency_ms']:.1f} ms"
    if "generation_seconds" in figures:
        return f"{figures['generation_seconds']:.2f} s per {GENERATED_LENGTH} characters"
    if "neighbours" in figures:
        return "(vectors to start a model from)"
    return "(features beside a classifier's)" if "topics" in figures else "(an encoder to fine-tune)"


def table():
    """The README's table of presets, rewritten from every preset's figures."""
    lines = ["| preset | test figure (whole recipe test split) | parameters | size on disk | load time | batch-1 latency |",
             "|---|---|---|---|---|---|"]
    for name in presets.list_presets():
        figures = unchecked_figures(name)
        if figures is None or "test" not in figures:
            continue
        load = f"{figures['load_seconds']:.2f} s" if "load_seconds" in figures else "-"
        lines.append(f"| `{name}` | {presets.headline(figures)} on `{figures['test']['split']}` | "
                     f"{figures['parameters']:,} | {figures['size_bytes'] / 2**20:.1f} MiB | {load} | {speed(figures)} |")
    text = README.read_text()
    start, end = text.index(TABLE_MARKERS[0]) + len(TABLE_MARKERS[0]), text.index(TABLE_MARKERS[1])
    README.write_text(text[:start] + "\n" + "\n".join(lines) + "\n" + text[end:])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("publish", "cards", "table"))
    parser.add_argument("run_dirs", nargs="*", help="finished runs to publish")
    parser.add_argument("--data-dir", default="../shared/tensorflow_datasets")
    parser.add_argument("--conditions", help="publish, cards: what else ran on the machine while the runs trained")
    parser.add_argument("--name", help="publish: the preset's name, MODEL (default) or MODEL.TAG for another weight set")
    args = parser.parse_args()
    for run_dir in args.run_dirs:
        publish(run_dir, args.data_dir, args.name, args.conditions)
    if args.command == "cards":
        rewrite_cards(args.conditions)
    if args.command == "table":
        table()


if __name__ == "__main__":
    main()
