"""Runs train.py under tfds.testing.mock_data, for end-to-end runs that need no real data.

    python tests/mocked_train.py [--logical-cpus N] [--examples N] -- TRAIN_ARGS...
"""

import argparse
import sys

import tensorflow as tf
import tensorflow_datasets as tfds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--logical-cpus", type=int, default=1)
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("train_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.logical_cpus > 1:
        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0],
            [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus,
        )
    import train

    with tfds.testing.mock_data(num_examples=args.examples):
        return train.main([arg for arg in args.train_args if arg != "--"])


if __name__ == "__main__":
    sys.exit(main())
