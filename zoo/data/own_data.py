"""Your own data: a folder of class subfolders, or a CSV file, as labelled splits.

Folders are read by Keras' `image_dataset_from_directory` and `text_dataset_from_directory`
(`.txt` files), CSV files by Python's `csv`; `zoo.data` then caches, shuffles, adapts
and batches the splits as it does a TFDS dataset's. A folder may hold `train/` and `test/` (and
`validation/`) levels; otherwise the splits are drawn with a seed, by `--validation-fraction`
and `--test-fraction`. Class names are the subfolders' names or the CSV's labels, sorted.
"""

import csv
import io
import pathlib

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import UserError, first_line

SPLIT_FOLDERS = ("train", "validation", "test")
DEFAULT_FRACTIONS = {"validation": 0.1, "test": 0.1}
DEFAULT_CSV_COLUMNS = {"text": "text,label", "image": "image,label"}
COLOR_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}
IMAGE_FORMATS = "PNG, JPEG, GIF or BMP"


def is_path(dataset):
    """Whether `dataset` names a folder or CSV file of one's own rather than a TFDS dataset."""
    return pathlib.Path(dataset).expanduser().exists() or dataset.endswith(".csv") or dataset.startswith(("/", ".", "~"))


def settings(dataset, csv_columns=None, validation_fraction=None, test_fraction=None):
    """How own data is read, recorded with the run's settings: None for a TFDS dataset, to
    which these flags do not apply (a `UserError` if given)."""
    given = {"--csv-columns": csv_columns, "--validation-fraction": validation_fraction, "--test-fraction": test_fraction}
    if not is_path(dataset):
        flags = [flag for flag, value in given.items() if value is not None]
        if flags:
            raise UserError(f"{', '.join(flags)} only apply to your own data (a folder or CSV file as --dataset)")
        return None
    fractions = {
        "validation": DEFAULT_FRACTIONS["validation"] if validation_fraction is None else validation_fraction,
        "test": DEFAULT_FRACTIONS["test"] if test_fraction is None else test_fraction,
    }
    if not all(0 < value < 1 for value in fractions.values()) or sum(fractions.values()) >= 1:
        raise UserError("--validation-fraction and --test-fraction must each be between 0 and 1, their sum below 1")
    return {"csv_columns": csv_columns, "validation_fraction": fractions["validation"], "test_fraction": fractions["test"]}


def read(dataset, modality, *, seed, input_shape, csv_columns=None, validation_fraction, test_fraction):
    """(splits, class names): `dataset`'s train, validation and test splits as unbatched
    (raw input, label id) datasets, each cached in memory. Images are resized to `input_shape`
    (height, width, channels) and converted to its channels, as `uint8` pixels."""
    path = pathlib.Path(dataset).expanduser()
    fractions = {"validation": validation_fraction, "test": test_fraction}
    if not path.exists():
        raise UserError(f"--dataset {dataset}: no such folder or file, and no TFDS dataset is named so")
    if path.is_dir():
        if csv_columns:
            raise UserError(f"--csv-columns applies to a CSV file, and {path} is a folder")
        levels = [name for name in SPLIT_FOLDERS if (path / name).is_dir()]
        if levels:
            return _split_folders(path, levels, modality, input_shape, fractions["validation"], seed)
        whole, class_names = _folder(path, modality, input_shape)
    elif path.suffix.lower() == ".csv":
        whole, class_names = _csv(path, modality, input_shape, csv_columns or DEFAULT_CSV_COLUMNS[modality])
    else:
        raise UserError(f"--dataset {path} is neither a folder of class subfolders nor a .csv file")
    return _seeded_split(whole, path, fractions, seed), class_names


def read_all(dataset, modality, *, input_shape, csv_columns=None):
    """(examples, class names, what they are): every example of a folder or CSV file, to
    evaluate on, or of its test/ folder if it has split folders."""
    path = pathlib.Path(dataset).expanduser()
    if not path.exists():
        raise UserError(f"--dataset {dataset}: no such folder or file, and no TFDS dataset is named so")
    if path.is_dir():
        if csv_columns:
            raise UserError(f"--csv-columns applies to a CSV file, and {path} is a folder")
        if (path / "test").is_dir():
            path = path / "test"
        examples, class_names = _folder(path, modality, input_shape)
    elif path.suffix.lower() == ".csv":
        examples, class_names = _csv(path, modality, input_shape, csv_columns or DEFAULT_CSV_COLUMNS[modality])
    else:
        raise UserError(f"--dataset {path} is neither a folder of class subfolders nor a .csv file")
    return examples, class_names, f"all {int(examples.cardinality()):,} examples of {path}"


def _split_folders(path, levels, modality, input_shape, validation_fraction, seed):
    """Splits from the `train/`, `test/` and optional `validation/` levels, the class names
    taken from `train/` and required of the others; validation is carved from train if absent."""
    missing = [name for name in ("train", "test") if name not in levels]
    if missing:
        raise UserError(f"{path} holds {'/, '.join(levels)}/ but no {'/, '.join(missing)}/: a split folder needs train/ and test/")
    train, class_names = _folder(path / "train", modality, input_shape)
    splits = {role: _folder(path / role, modality, input_shape, class_names)[0] for role in levels if role != "train"}
    if "validation" in splits:
        return {"train": train, **splits}, class_names
    carved = _seeded_split(train, path / "train", {"validation": validation_fraction}, seed)
    return {**carved, "test": splits["test"]}, class_names


def _folder(path, modality, input_shape, class_names=None):
    """(dataset, class names) of a folder with one subfolder per class, read by Keras."""
    found = sorted(child.name for child in path.iterdir() if child.is_dir())
    if len(found) < 2:
        raise UserError(
            f"{path} holds {len(found) or 'no'} class subfolder{'s' * (len(found) != 1)}: a classifier needs one "
            "subfolder per class, at least two, each holding that class's examples"
        )
    try:
        if modality == "image":
            reader = keras.utils.image_dataset_from_directory(
                path, batch_size=None, shuffle=False, class_names=class_names, image_size=tuple(input_shape[:2]),
                color_mode=COLOR_MODES[input_shape[-1]], verbose=False,
            )
            dataset = reader.map(lambda image, label: (to_pixels(image), label))
        else:
            reader = keras.utils.text_dataset_from_directory(
                path, batch_size=None, shuffle=False, class_names=class_names, verbose=False
            )
            dataset = reader
    except ValueError as error:  # no files of the modality's formats, or other class names
        raise UserError(f"{path}: {first_line(error)}") from None
    return _cached(dataset, reader.file_paths if modality == "image" else ()), reader.class_names


def _csv(path, modality, input_shape, columns):
    """(dataset, class names) of a CSV file's input and label columns, read by Python's `csv`
    (quoted fields may hold commas and line breaks); the input is a text, or an image's path
    relative to the CSV file's folder. Every row must have the header's fields."""
    names = columns.split(",")
    if len(names) != 2 or not all(names):
        raise UserError(f"--csv-columns takes INPUT,LABEL, e.g. {DEFAULT_CSV_COLUMNS[modality]}; got {columns!r}")
    header, rows = _csv_rows(path)
    missing = [name for name in names if name not in header]
    if missing:
        raise UserError(
            f"{path} has no column {', '.join(map(repr, missing))} (its columns: {', '.join(header) or 'none'}): "
            "pass --csv-columns INPUT,LABEL"
        )
    if not rows:
        raise UserError(f"{path} holds no examples, only its header: add a row per example")
    input_column, label_column = (header.index(name) for name in names)
    unlabelled = next((line for line, row in rows if not row[label_column]), None)
    if unlabelled is not None:
        raise UserError(f"{path}: line {unlabelled} has no label (column {names[1]!r})")
    inputs, labels = [row[input_column] for _, row in rows], [row[label_column] for _, row in rows]
    class_names = _sorted_labels(set(labels))
    if len(class_names) < 2:
        raise UserError(f"{path} holds {len(class_names)} class label(s): a classifier needs at least two")
    ids = {name: number for number, name in enumerate(class_names)}
    label_ids = np.array([ids[label] for label in labels], np.int64)
    if modality == "text":
        if not any(text.strip() for text in inputs):
            raise UserError(f"{path}: every text in column {names[0]!r} is empty: a text classifier needs the texts")
        return _cached(tf.data.Dataset.from_tensor_slices((tf.constant(inputs, tf.string), label_ids)), ()), class_names
    files = [str(path.parent / name) for name in inputs]
    missing = next((file for file in files if not pathlib.Path(file).is_file()), None)
    if missing is not None:
        raise UserError(f"{path} names {missing}, which does not exist (image paths are relative to the CSV file's "
                        "folder): fix the path or remove its row")
    dataset = tf.data.Dataset.from_tensor_slices((files, label_ids)).map(
        lambda file, label: (decode_image(tf.io.read_file(file), input_shape), label)
    )
    return _cached(dataset, files), class_names


def _csv_rows(path):
    """A CSV file's header and its rows, each with its first line's number; a file that is
    not UTF-8, or a row (blank ones included) with other than the header's number of fields,
    is a `UserError` naming the line."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, as Excel writes, is not part of the header
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise UserError(f"{path}: line {line} is not valid UTF-8 (byte {raw[error.start]:#04x}): save the file as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        rows, line = [], reader.line_num + 1
        for row in reader:
            if len(row) != len(header):
                raise UserError(
                    f"{path}: line {line} has {len(row)} field(s), the header {len(header)}"
                    f"{' (a blank line)' if not row else ''}: make every row {','.join(header)}"
                )
            rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as error:
        raise UserError(f"{path}: line {reader.line_num} is not well-formed CSV ({error})") from None
    return header, rows


def _sorted_labels(labels):
    """`labels` sorted as numbers if they are all integers (2 before 10), else as strings."""
    try:
        return sorted(labels, key=int)
    except ValueError:
        return sorted(labels)


def _cached(dataset, image_files):
    """`dataset` cached in memory and read whole once, now, so that an unreadable image is
    reported by name."""
    dataset = dataset.cache()
    try:
        dataset.reduce(np.int64(0), lambda count, _: count + 1)
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError):
        if not image_files:
            raise
        raise UserError(f"{_unreadable(image_files)}: not an image TensorFlow reads ({IMAGE_FORMATS}); fix or remove it") from None
    return dataset


def _unreadable(files):
    """The first of `files` that TensorFlow cannot read or decode as an image."""
    for file in files:
        try:
            tf.io.decode_image(tf.io.read_file(file), expand_animations=False)
        except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError):
            return file
    return "one of the images"


def _seeded_split(dataset, path, fractions, seed):
    """`dataset` split at random, with `seed`, into the `fractions`' roles and "train" (the
    rest), each role's size rounded; each must get at least one example."""
    count = int(dataset.cardinality())
    sizes = {role: round(fraction * count) for role, fraction in fractions.items()}
    sizes["train"] = count - sum(sizes.values())
    if min(sizes.values()) < 1:
        raise UserError(
            f"{path} holds {count} example(s), too few to split into {', '.join(f'{n} {role}' for role, n in sizes.items())}: "
            "add examples, or change --validation-fraction and --test-fraction"
        )
    role_of = np.zeros(count, np.int64)
    order = np.random.default_rng(seed).permutation(count)
    roles, start = list(sizes), 0
    for number, role in enumerate(roles):
        role_of[order[start:start + sizes[role]]] = number
        start += sizes[role]
    role_of = tf.constant(role_of)

    def part(number, size):
        examples = dataset.enumerate().filter(lambda index, example: role_of[index] == number)
        return examples.map(lambda index, example: example).apply(tf.data.experimental.assert_cardinality(size))

    return {role: part(number, sizes[role]) for number, role in enumerate(roles)}


def to_pixels(image):
    """Float pixel values (resized) as the `uint8` pixels the image models take."""
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def decode_image(image_bytes, image_shape):
    """Encoded image bytes of any size and format TensorFlow decodes as `image_shape` pixels:
    converted to its channels and resized (bilinear) as Keras' folder reader does. The export's
    image-bytes signature decodes with it too."""
    image = tf.io.decode_image(image_bytes, channels=image_shape[-1], expand_animations=False)
    return to_pixels(tf.image.resize(image, image_shape[:2]))
