"""Data to batches: a TFDS dataset's supervised splits, or one's own folder or CSV file's (see
`zoo.data.own_data`), as tf.data pipelines, text vectorized on the way."""

import dataclasses
import functools
import socket
import sys

import keras
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from zoo.console import progress_verbosity
from zoo.data import own_data
from zoo.errors import UserError, first_line
from zoo.models.text_preprocessing import WithDocumentFeatures

SHUFFLE_BUFFER = 10_000
VALIDATION_PERCENT = 10
ADAPT_BATCH = 1024
SHARDING = tf.data.Options()  # over several workers, each reads its share of every split's batches
SHARDING.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
UNLABELLED = -1  # the label of an example without one (TFDS's own for IMDB's unsupervised split)
DOWNLOAD_HOST = ("storage.googleapis.com", 443)  # where TFDS looks first for a prepared dataset
CONNECT_SECONDS = 5
UNSPLIT_SHARE = 0.5  # more single-token texts, or out-of-vocabulary tokens, than this: a warning
UNSPLIT_SAMPLE = 2000  # training texts checked for it


@dataclasses.dataclass
class Datasets:
    """One dataset's batched splits and what a model must know about them.

    `preprocessor` turns raw inputs into model inputs (the adapted text preprocessor,
    None for images, whose rescaling is inside the model); it travels with the saved model.
    `examples` counts each split's examples, so that evaluations can be checked against it.
    `raw_test` is the test split's (raw input, label) examples, unbatched: what a model with
    its preprocessor inside is evaluated on (`zoo.evaluate`); `test_split` names it. `test` and
    `raw_test` are None when no test split was asked for (a tuning trial's, see `zoo.tune`).
    """

    name: str
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset | None
    class_names: list
    input_shape: tuple
    preprocessor: keras.layers.Layer | None
    examples: dict
    raw_test: tf.data.Dataset | None
    test_split: str | None = "test"


def load(
    name,
    modality,
    *,
    batch_size,
    data_dir=None,
    seed=0,
    train_split="train",
    validation_split=None,
    test_split="test",
    unlabelled_split=None,
    preprocessor=None,
    adapt=True,
    apply_preprocessor=True,
    document_features=None,
    download=False,
    own=None,
    input_shape=None,
):
    """Loads dataset `name` from the TFDS `data_dir` (default: `TFDS_DATA_DIR`, then TFDS's own),
    or, when `name` is a folder or CSV file, as `zoo.data.own_data` reads it: `own` holds how (its
    `settings`), and images are resized to `input_shape`.

    Every split is held in memory, read whole once up front (see `_in_memory`). The training
    split is shuffled with a seeded buffer and batched with `batch_size` (global, remainder
    dropped); validation is `validation_split`, else the dataset's own, else the last 10% of
    the training split (TFDS split strings: "unsupervised[:90%]+train" works); a `test_split` of
    None leaves the test split unread (own data's test examples are set apart, never read). A text
    `preprocessor` (see `zoo.models.text_preprocessing`) is adapted on the training split,
    unless `adapt` is False: a pretrained model's comes with the vocabulary it learnt; it maps
    the batches unless `apply_preprocessor` is False (a model that takes raw inputs).
    `document_features`, a model of texts (a `vampire` run's), then gives its features of each
    text beside the preprocessor's token ids (`text_preprocessing.WithDocumentFeatures`).
    `unlabelled_split` joins the training split with every label set to `UNLABELLED` (counted
    apart as `train_unlabelled`). Only `download=True` lets TFDS fetch data; otherwise missing
    data is a `UserError`.
    """
    opened, class_names, input_shape = _open(name, modality, own, data_dir, seed, download, input_shape,
                                             [train_split, validation_split, test_split, unlabelled_split])
    raw, examples = {}, {}
    for role, dataset in opened.items():
        raw[role], examples[role] = _in_memory(dataset)
    # TFDS files come shuffled; own files come class by class, and need a full shuffle to mix.
    shuffle_buffer = SHUFFLE_BUFFER if own is None else examples["train"]
    if unlabelled_split:
        _join_unlabelled(raw, examples)
        shuffle_buffer = examples["train"]  # a full shuffle: the unlabelled examples come last
    if examples["train"] < batch_size:
        raise UserError(
            f"global batch size {batch_size} is larger than the {examples['train']:,} training "
            f"examples of {name!r}: pick a smaller --batch-size"
        )
    if preprocessor is not None:
        texts = raw["train"].map(lambda text, label: text)
        if adapt:
            preprocessor = adapted(preprocessor, texts)
        else:
            check_coverage(preprocessor, texts)
        if document_features is not None:
            preprocessor = WithDocumentFeatures(preprocessor, document_features)
    batches = functools.partial(_batches, batch_size=batch_size, shuffle_buffer=shuffle_buffer, seed=seed,
                                preprocessor=preprocessor if apply_preprocessor else None)
    return Datasets(
        name=name,
        train=batches(raw["train"], training=True),
        validation=batches(raw["validation"], training=False),
        test=batches(raw["test"], training=False) if "test" in raw else None,
        class_names=list(class_names),
        input_shape=tuple(input_shape),
        preprocessor=preprocessor,
        examples=examples,
        raw_test=raw.get("test"),
        test_split="test" if own is not None and test_split is not None else test_split,
    )


def _open(name, modality, own, data_dir, seed, download, input_shape, split_names):
    """(datasets by role, class names, input shape) of TFDS dataset `name`, or of own data read as
    `own` says; a test split of None is left unread."""
    train_split, validation_split, test_split, unlabelled_split = split_names
    if own is None:
        return _tfds_splits(name, modality, data_dir, seed, download, split_names)
    if unlabelled_split:
        raise UserError("--unlabelled-split names a split of a TFDS dataset; your own data has none")
    opened, class_names = own_data.read(name, modality, seed=seed, input_shape=input_shape, **own)
    if test_split is None:
        opened.pop("test")
    return opened, class_names, input_shape if modality == "image" else ()


def _join_unlabelled(raw, examples):
    """Joins the unlabelled examples to the training split, each labelled `UNLABELLED`."""
    without_labels = raw.pop("unlabelled").map(lambda inputs, label: (inputs, tf.constant(UNLABELLED, label.dtype)))
    examples["train_unlabelled"] = examples.pop("unlabelled")
    raw["train"] = raw["train"].concatenate(without_labels)
    examples["train"] += examples["train_unlabelled"]


def _batches(dataset, training, *, batch_size, shuffle_buffer, seed, preprocessor):
    """`dataset` batched (shuffled and the remainder dropped in training), through `preprocessor`."""
    if training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=training)
    if preprocessor is not None:
        dataset = dataset.map(lambda inputs, labels: (preprocessor(inputs), labels), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(SHARDING)


def _tfds_splits(name, modality, data_dir, seed, download, split_names):
    """(splits, class names, input shape) of TFDS dataset `name`: its train, validation, test
    and, if named, unlabelled splits, opened (so each name checked) but not read."""
    builder = _builder(name, data_dir, modality)
    if download:
        _download(builder)
    input_key, label_key = builder.info.supervised_keys
    train_split, validation_split, test_split, unlabelled_split = split_names
    splits = _splits(builder, train_split, validation_split, test_split)
    if test_split is None:
        splits.pop("test")
    if unlabelled_split:
        splits["unlabelled"] = unlabelled_split
    opened = {role: _read(builder, split, shuffle=role == "train", seed=seed) for role, split in splits.items()}
    features = builder.info.features
    return opened, features[label_key].names, features[input_key].shape


def _builder(name, data_dir, modality):
    """The TFDS builder for `name`, checked to be a labelled dataset of `modality`."""
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.DatasetNotFoundError:
        raise UserError(
            f"unknown TFDS dataset {name!r}; see https://www.tensorflow.org/datasets/catalog "
            "for the names"
        ) from None
    if not builder.info.supervised_keys:
        raise UserError(f"dataset {name!r} has no supervised (input, label) keys to train on")
    input_key, label_key = builder.info.supervised_keys
    features = builder.info.features
    found = {tfds.features.Image: "image", tfds.features.Text: "text"}.get(type(features[input_key]))
    if found != modality:
        raise UserError(
            f"dataset {name!r} holds {found or type(features[input_key]).__name__} inputs, "
            f"but this model takes {modality}: pick a dataset of {modality} inputs"
        )
    if not isinstance(features[label_key], tfds.features.ClassLabel):
        raise UserError(f"dataset {name!r} has no class labels for a classifier")
    if modality == "image" and None in features[input_key].shape:
        raise UserError(f"dataset {name!r} has images of varying size; the image models need one size")
    return builder


def _download(builder):
    """Lets TFDS download and prepare `builder`'s data; no network, or a failure, is a `UserError`.
    The network is tried first, in seconds: TFDS's own downloader retries for minutes."""
    try:
        socket.create_connection(DOWNLOAD_HOST, timeout=CONNECT_SECONDS).close()
        builder.download_and_prepare()
    except OSError as error:  # requests' connection errors and timeouts are OSErrors
        raise UserError(
            f"downloading {builder.name!r} failed ({first_line(error)}); "
            "check the network, or prepare the data where there is one and point --data-dir at it"
        ) from None


def _splits(builder, train_split, validation_split, test_split):
    """Train, validation and test split names; validation is carved from train if absent."""
    if validation_split or "validation" in builder.info.splits:
        return {"train": train_split, "validation": validation_split or "validation", "test": test_split}
    train, validation = _carved(builder, train_split, (100 - VALIDATION_PERCENT) / 100)
    return {"train": train, "validation": validation, "test": test_split}


def _carved(builder, split, fraction):
    """TFDS split strings for the first `fraction` of `split`'s examples and for the rest. TFDS
    cannot slice a slice ('train[:10%][:90%]'), so a sliced or joined split is cut on absolute
    example ranges; a split name is cut by percent, as TFDS reads it (mock data too)."""
    if split in builder.info.splits or split.isidentifier():
        return f"{split}[:{round(100 * fraction)}%]", f"{split}[{round(100 * fraction)}%:]"
    try:
        ranges = tfds.core.ReadInstruction.from_spec(split).to_absolute(builder.info.splits)
    except ValueError as error:
        raise UserError(f"dataset {builder.name!r}: {str(error).strip().splitlines()[0]}") from None
    ranges = [(part.splitname, part.from_ or 0, builder.info.splits[part.splitname].num_examples
               if part.to is None else part.to) for part in ranges]
    remaining = round(fraction * sum(end - start for _, start, end in ranges))
    first, rest = [], []
    for name, start, end in ranges:
        cut = min(end, start + remaining)
        remaining -= cut - start
        first += [f"{name}[{start}:{cut}]"] if cut > start else []
        rest += [f"{name}[{cut}:{end}]"] if end > cut else []
    if not first or not rest:
        raise UserError(f"dataset {builder.name!r}: split {split!r} is too small to carve "
                        f"a validation split from: pick a larger --train-split")
    return "+".join(first), "+".join(rest)


def _read(builder, split, *, shuffle, seed):
    """One split as (input, label) pairs; unprepared data is a `UserError` that says what to do."""
    try:
        return builder.as_dataset(
            split=split,
            as_supervised=True,
            shuffle_files=shuffle,
            read_config=tfds.ReadConfig(shuffle_seed=seed),
        )
    except ValueError as error:
        if "Unknown split" not in str(error) and "split format" not in str(error):
            raise
        raise UserError(f"dataset {builder.name!r}: {str(error).strip()}") from None
    except AssertionError as error:  # how TFDS reports a dataset that is not prepared
        if "could not find data" not in str(error):
            raise
        raise UserError(
            f"dataset {builder.name!r} is not prepared in {builder.data_dir}: point --data-dir "
            "(or TFDS_DATA_DIR) at a TFDS data dir that holds it, e.g. "
            f"--data-dir ../shared/tensorflow_datasets, or let TFDS fetch it (train.py --download, or tfds build {builder.name})"
        ) from None


def _in_memory(dataset):
    """`dataset` cached in memory and read whole once, with its number of examples.

    Left to Keras, a cache is filled by two iterators at once: the one that read a batch to
    build the model is still alive when the epoch's starts. That is the likely cause of the
    evaluations seen to run on one batch; once complete, every later pass only reads the cache.
    """
    dataset = dataset.cache()
    return dataset, int(dataset.reduce(np.int64(0), lambda count, _: count + 1))


def adapted(vectorizer, texts):
    """A copy of `vectorizer` (a `TextVectorization` or `BertInputs`) adapted on `texts`.

    The adapted vocabulary is handed to a new layer's constructor, so `.keras` files keep it in
    their JSON config: an adapted layer saves it as a text file that Keras reads back with
    `str.splitlines()`, which also splits on '\\x85', '\\u2028' and other characters that real
    reviews hold inside tokens, and the reloaded vocabulary is then broken.
    """
    vectorizer.adapt(with_progress(texts.batch(ADAPT_BATCH), "Adapting the vocabulary on the training split"))
    vocabulary = [str(token) for token in vectorizer.get_vocabulary()]
    config = keras.layers.serialize(vectorizer)  # as a .keras file holds it: a callable standardize by name
    config["config"]["vocabulary"] = vocabulary
    adapted_vectorizer = keras.layers.deserialize(config)
    warn_if_unsplit(adapted_vectorizer, texts)
    return adapted_vectorizer


def warn_if_unsplit(vectorizer, texts):
    """Warns, in one line, when the adapted word vocabulary does not fit the training texts: most
    are a single token, or most tokens are out of the vocabulary (see `vocabulary_fit`). That is
    text in a script the preprocessor does not split (words not separated by spaces), which would
    otherwise train at chance in silence."""
    single_share, known_share = vocabulary_fit(vectorizer, texts)
    if single_share > UNSPLIT_SHARE or known_share < 1 - UNSPLIT_SHARE:
        print(
            f"warning: {single_share:.0%} of the training texts are one token or none, and the vocabulary covers "
            f"{known_share:.0%} of their tokens: a model of these tokens learns little. Text whose words are not "
            "separated by spaces needs a preprocessor that splits it (the zoo's split Chinese and Japanese; one "
            "from --init-from keeps its source's)", file=sys.stderr, flush=True,
        )


def check_coverage(vectorizer, texts):
    """A `UserError` when a vocabulary the run starts from (`--init-from`'s) covers less than half
    of the training texts' words: a model of them would train at chance, in silence."""
    _, known_share = vocabulary_fit(vectorizer, texts)
    if known_share < 1 - UNSPLIT_SHARE:
        raise UserError(
            f"the vocabulary of --init-from covers {known_share:.0%} of the training texts' words: its model "
            "would learn little from them; train from scratch (drop --init-from), which adapts a vocabulary "
            "on these texts"
        )


def vocabulary_fit(vectorizer, texts):
    """(share of texts that are one token or none, share of their tokens in the vocabulary) over
    the first `UNSPLIT_SAMPLE` of `texts`, for a word-level vectorizer (a `TextVectorization` or
    `BertInputs`); (0, 1) for a character-level one, which nothing is out of."""
    words = getattr(vectorizer, "_words", vectorizer)  # BertInputs holds its word lookup
    if not isinstance(words, keras.layers.TextVectorization) or words.get_config()["split"] != "whitespace":
        return 0.0, 1.0
    vocabulary = [token for token in words.get_vocabulary() if token not in ("", "[UNK]") and " " not in token]
    counter = keras.layers.TextVectorization(
        vocabulary=vocabulary or ["[none]"], standardize=words.get_config()["standardize"], ragged=True
    )
    single, count, tokens, unknown = 0, 0, 0, 0
    for batch in texts.take(UNSPLIT_SAMPLE).batch(ADAPT_BATCH):
        ids = counter(batch)
        lengths = ids.row_lengths().numpy()
        single, count = single + int((lengths <= 1).sum()), count + len(lengths)
        tokens, unknown = tokens + int(lengths.sum()), unknown + int((ids.flat_values == 1).numpy().sum())
    return single / max(count, 1), 1 - unknown / max(tokens, 1)


def with_progress(dataset, title):
    """Yields `dataset`'s batches while a Keras progress bar counts them."""
    steps = int(dataset.cardinality())
    print(title)
    progress = keras.utils.Progbar(
        steps if steps > 0 else None, unit_name="batch", verbose=progress_verbosity()
    )
    for batch in dataset:
        yield batch
        progress.add(1)
