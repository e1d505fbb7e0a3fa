"""Convolutional image classifiers."""

import keras
from keras import layers

from zoo.models.augmentation import RandomShift
from zoo.registry import register_model
from zoo.search_space import Choice, Float

# The recipe's optimizer and regularisation (dropout, weight decay, random shifts), for zoo.tune.
MNIST_SEARCH_SPACE = {
    "learning_rate": Float(1e-3, 1e-2, log=True),
    "weight_decay": Float(1e-5, 1e-2, log=True),
    "batch_size": Choice((64, 128, 256)),
    "dropout": Float(0.0, 0.5),
    "max_shift": Float(0.0, 0.15),
}
MNIST_RECIPE = dict(
    modality="image",
    dataset="mnist",
    serving_input="image",
    epochs=5,
    batch_size=128,
    optimizer="adamw",
    learning_rate=3e-3,
    weight_decay=1e-4,
    search_space=MNIST_SEARCH_SPACE,
)


@register_model(
    "mnist_cnn",
    **{**MNIST_RECIPE, "search_space": {**MNIST_SEARCH_SPACE, "filters": Choice((16, 24, 32))}},
)
def mnist_cnn(
    input_shape=(28, 28, 1),
    num_classes=10,
    filters=24,
    convs_per_stage=(2, 2, 1),
    max_shift=0.08,
    dropout=0.25,
):
    """A convnet with batch norm for small images (three stages of convs, then pooling); takes
    uint8 pixels, and in training shifts them by up to `max_shift` of the image size.

    The shifts and the second conv of the first two stages are what made every seed reach 99.4%
    on MNIST (docs/benchmarks.md). Batch-norm momentum is 0.9, not Keras' 0.99: the
    moving variance starts at 1 while the true one is near 0.01, and at 0.99 it is still several
    times too large after a short schedule.
    """
    return convnet("mnist_cnn", input_shape, num_classes, filters, convs_per_stage, max_shift, dropout)


@register_model(  # the same recipe, for a fair comparison
    "mnist_cnn_small",
    **MNIST_RECIPE,
)
def mnist_cnn_small(
    input_shape=(28, 28, 1),
    num_classes=10,
    filters=8,
    convs_per_stage=(1, 1, 1),
    max_shift=0.08,
    dropout=0.1,
):
    """`mnist_cnn` at a tenth of its parameters (one conv per stage, 8 filters at first): the
    student to distil `mnist_cnn` into (`train.py --teacher`), cheap to serve."""
    return convnet("mnist_cnn_small", input_shape, num_classes, filters, convs_per_stage, max_shift, dropout)


@register_model(
    "mnist_cnn_fast",
    **{**MNIST_RECIPE, "epochs": 2, "batch_size": 256, "learning_rate": 1.4e-2, "warmup_fraction": 0.2},
)
def mnist_cnn_fast(
    input_shape=(28, 28, 1),
    num_classes=10,
    filters=16,
    convs_per_stage=(1, 1, 1),
    max_shift=0.0,
    dropout=0.1,
):
    """`mnist_cnn` with one conv per stage and 16 filters at first, on a 2-epoch one-cycle schedule:
    the fastest to 99% on MNIST, where `mnist_cnn` is the most accurate (docs/benchmarks.md).

    A sixth of `mnist_cnn`'s multiply-adds, most of them saved at full resolution. The learning
    rate warms up over a fifth of the steps to a high peak, then anneals to zero by the end of
    epoch 2: on 3 epochs, 99% came at epoch 3 for one seed of three. Batches of 256 train 1.4x
    the examples per second of 128 on 2 CPU cores (fewer steps, each paying per-op overhead). No
    random shifts: over 2 epochs they bought no accuracy, and cost about a sixth of each step.
    """
    return convnet("mnist_cnn_fast", input_shape, num_classes, filters, convs_per_stage, max_shift, dropout)


def convnet(name, input_shape, num_classes, filters, convs_per_stage, max_shift, dropout):
    """Three stages of conv-BN-ReLU blocks, each then max-pooled, into a softmax; the filters
    double at each stage."""
    if len(convs_per_stage) != 3 or min(convs_per_stage) < 1:
        raise ValueError(f"convs_per_stage must be three counts of at least 1, got {convs_per_stage}")
    images = keras.Input(shape=input_shape, dtype="uint8", name="images")
    x = layers.Rescaling(1.0 / 255)(images)
    if max_shift:
        x = RandomShift(max_shift, max_shift, fill_mode="constant")(x)
    for stage, convs in enumerate(convs_per_stage):
        for _ in range(convs):
            x = layers.Conv2D(filters * 2**stage, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=0.9)(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    probabilities = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(images, probabilities, name=name)
