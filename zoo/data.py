"""TFDS to batches: a dataset's supervised splits as tf.data pipelines, text vectorized on the way."""

import dataclasses

import keras
import tensorflow as tf
import tensorflow_datasets as tfds

from zoo.errors import UserError

SHUFFLE_BUFFER = 10_000
VALIDATION_PERCENT = 10
ADAPT_BATCH = 1024


@dataclasses.dataclass
class Datasets:
    """One dataset's batched splits and what a model must know about them.

    `preprocessor` turns raw inputs into model inputs (the adapted `TextVectorization` for text,
    None for images, whose rescaling is inside the model); it travels with the exported model.
    """

    name: str
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    class_names: list
    input_shape: tuple
    preprocessor: keras.layers.Layer | None


def load(
    name,
    modality,
    *,
    batch_size,
    data_dir=None,
    seed=0,
    train_split="train",
    test_split="test",
    vocabulary_size=None,
    sequence_length=None,
    download=False,
):
    """Loads dataset `name` from the TFDS `data_dir` (default: `TFDS_DATA_DIR`, then TFDS's own).

    The training split is shuffled with a seeded buffer and batched with `batch_size` (global,
    remainder dropped); validation is the dataset's own split, else the last 10% of training.
    Only `download=True` lets TFDS fetch data; otherwise missing data is a `UserError`.
    """
    builder = _builder(name, data_dir, modality)
    if download:
        builder.download_and_prepare()
    input_key, label_key = builder.info.supervised_keys
    splits = _splits(builder, train_split, test_split)
    raw = {
        role: _read(builder, split, shuffle=role == "train", seed=seed)
        for role, split in splits.items()
    }

    preprocessor = None
    if modality == "text":
        preprocessor = _adapted_vectorizer(raw["train"], vocabulary_size, sequence_length)

    def batches(dataset, training):
        if training:
            dataset = dataset.cache().shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=training)
        if preprocessor is not None:
            dataset = dataset.map(
                lambda inputs, labels: (preprocessor(inputs), labels),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        if not training:
            dataset = dataset.cache()
        return dataset.prefetch(tf.data.AUTOTUNE)

    return Datasets(
        name=name,
        train=batches(raw["train"], training=True),
        validation=batches(raw["validation"], training=False),
        test=batches(raw["test"], training=False),
        class_names=list(builder.info.features[label_key].names),
        input_shape=tuple(builder.info.features[input_key].shape),
        preprocessor=preprocessor,
    )


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


def _splits(builder, train_split, test_split):
    """Train, validation and test split names; validation is carved from train if absent."""
    if "validation" in builder.info.splits:
        return {"train": train_split, "validation": "validation", "test": test_split}
    return {
        "train": f"{train_split}[:{100 - VALIDATION_PERCENT}%]",
        "validation": f"{train_split}[{100 - VALIDATION_PERCENT}%:]",
        "test": test_split,
    }


def _read(builder, split, *, shuffle, seed):
    """One split as (input, label) pairs; unprepared data is a `UserError` that says what to do."""
    try:
        return builder.as_dataset(
            split=split,
            as_supervised=True,
            shuffle_files=shuffle,
            read_config=tfds.ReadConfig(shuffle_seed=seed),
        )
    except AssertionError as error:  # how TFDS reports a dataset that is not prepared
        if "could not find data" not in str(error):
            raise
        raise UserError(
            f"dataset {builder.name!r} is not prepared in {builder.data_dir}: point --data-dir "
            "(or TFDS_DATA_DIR) at a TFDS data dir that holds it, e.g. "
            "--data-dir ../shared/tensorflow_datasets, or pass --download to let TFDS fetch it"
        ) from None


def _adapted_vectorizer(train_texts, vocabulary_size, sequence_length):
    """A `TextVectorization` whose vocabulary is adapted on the training split only."""
    vectorizer = keras.layers.TextVectorization(
        max_tokens=vocabulary_size,
        output_sequence_length=sequence_length,
        name="text_vectorizer",
    )
    batches = train_texts.map(lambda text, label: text).batch(ADAPT_BATCH)
    vectorizer.adapt(_with_progress(batches, "Adapting the vocabulary on the training split"))
    return vectorizer


def _with_progress(dataset, title):
    """Yields `dataset`'s batches while a Keras progress bar counts them."""
    steps = int(dataset.cardinality())
    print(title)
    progress = keras.utils.Progbar(steps if steps > 0 else None, unit_name="batch")
    for batch in dataset:
        yield batch
        progress.add(1)
