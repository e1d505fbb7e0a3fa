"""How the command lines show progress (live on a terminal, plain lines in a log file), and
keep libraries' own output from burying theirs."""

import contextlib
import io
import os
import sys
import tempfile
import time

import keras

from zoo.errors import UserError

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


@contextlib.contextmanager
def quiet(verbose=False):
    """Holds back what libraries print while in the block (C++ converters on file descriptors
    1 and 2, TensorFlow's logging, Python warnings), so that the command's own line is the one
    a user reads. `verbose` lets it through; a failure other than a `UserError` shows it after
    all, as it may explain the failure."""
    if verbose:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as held, io.StringIO() as python_held:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(held.fileno(), 1)
            os.dup2(held.fileno(), 2)
            with contextlib.redirect_stdout(python_held), contextlib.redirect_stderr(python_held):
                yield
        except UserError:
            raise
        except BaseException:
            _restore(saved)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace") + python_held.getvalue())
            raise
        finally:
            _restore(saved)


def _restore(saved):
    """Points file descriptors 1 and 2 back where `saved` (their duplicates) do, once."""
    if saved[0] is None:
        return
    for descriptor, duplicate in zip((1, 2), saved):
        os.dup2(duplicate, descriptor)
        os.close(duplicate)
    saved[:] = [None, None]
