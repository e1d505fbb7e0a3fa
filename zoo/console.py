"""How the command lines show progress: live on a terminal, plain lines in a log file."""

import sys
import time

import keras

LOG_EVERY_SECONDS = 30  # a log file gets a progress line at least this often


def progress_verbosity():
    """Keras' `verbose`: a live progress bar on a terminal, one line per pass in a log file
    (the live bar writes terminal escape codes, which clutter a log)."""
    return 1 if sys.stdout.isatty() else 2


class ProgressLog(keras.callbacks.Callback):
    """In a log file, where Keras prints a line per epoch only, a line at least every
    `LOG_EVERY_SECONDS` of training or validation: step, examples per second, loss, time left."""

    def __init__(self, batch_size):
        super().__init__()
        self.batch_size, self.every = batch_size, LOG_EVERY_SECONDS

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self._start(self.params.get("steps"))

    def on_test_begin(self, logs=None):
        self._start(None)

    def on_train_batch_end(self, batch, logs=None):
        self._report(f"epoch {self.epoch + 1}/{self.params['epochs']}", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._report("evaluating", batch, logs)

    def _start(self, steps):
        self.steps, self.started = steps, time.perf_counter()
        self.last = self.started

    def _report(self, stage, batch, logs):
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last, done = now, batch + 1
        rate = done / (now - self.started)
        parts = [f"{stage} step {done}" + (f"/{self.steps}" if self.steps else ""),
                 f"{rate * self.batch_size:,.0f} examples/s"]
        if logs and "loss" in logs:
            parts.append(f"loss {float(logs['loss']):.4f}")
        if self.steps:
            parts.append(f"{(self.steps - done) / rate:.0f} s left in the epoch")
        print(", ".join(parts), flush=True)
