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
    preset_files={  # presets/mnist_cnn/, made by benchmarks/publish_presets.py
        "README.md": "a79ed0d1ebbb9aef2cdcbb7fe95412562f40f0f815565cc1e32bbd60638299dd",
        "confusion_matrix.png": "55812370734ffebd6f64b579db63c240a6c55dafc8a353c26a1f063289af8827",
        "evaluation.json": "9890f7fcc0642effc03ca520c178294f11dc997ca78606c330e69733aecef85c",
        "model.keras": "5ba54a010f88664ef4e887ea5ad5df54eb9e7eacc543cb0a03817a8d3e00ed33",
        "preset.json": "f73058e197699ded4546c43baec62ac58c6bc5c7ea3192ca84b80ac3fbb16b74",
        "summary.json": "0f085f70543a097d782eb73437c95c5eb1a591379b8617a24d16fca01fef0321",
    },
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
    preset_files={  # presets/mnist_cnn_small/, made by benchmarks/publish_presets.py
        "README.md": "1f0525df976624ba42fab64cd9e13f9a93241f2a49ae4a7e02ff64d1f725c6cc",
        "confusion_matrix.png": "16b4d505c56cafabb44aaf90e85b6f6f043b082a00c53912925745a41057c24f",
        "evaluation.json": "c957a34013db94c97ca342194aac10701a6e30f0836ab8bbe98b6ae749d614e6",
        "model.keras": "e4f4f4979ba6c14898f5137b1be17aa04b9ca51b5864cfaa269ce4dabbbb0ec2",
        "preset.json": "3cd9e1c7e9ea70e41b9f6cb6fb1a02f342560de682f1bb74879a8b76478edb7c",
        "summary.json": "03db145e4b20e52269d1f80b4e1ceb92de1d4aa705fb13b6441d54a887e33eb0",
    },
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
    preset_files={  # presets/mnist_cnn_fast/, made by benchmarks/publish_presets.py
        "README.md": "0eb88b6312e4a84b6d8957bb6df7c689554812d956191245ba851ebaddfff185",
        "confusion_matrix.png": "c03d4d81b8ec10457953066e0b7eb2be954fc382dd109306eb6b4ead380389c9",
        "evaluation.json": "c1f0984242f7857680724a55dda5ae4dc35400316c4b9e02ba1289b05c445c10",
        "model.keras": "163824963b1c298000bf5b58d009ac8967f6aab1f6aab3a6ae7fb73550aa2199",
        "preset.json": "8b85f1fa2aa804aa19051b5b22971ea173cbb486c88c2045083b2781b14d3132",
        "summary.json": "62589c7357906002d95d28913d1d026d75153390bbeeff2894dd55156635e45f",
    },
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
