"""What every command line shares: TensorFlow started quietly, libraries' output held back
where it would bury ours, failures as one line, and tables. Imports no TensorFlow itself."""

import contextlib
import functools
import io
import os
import sys
import tempfile

from zoo.errors import UserError

QUIET_LOG_LEVEL = 2  # `import zoo`'s default TF_CPP_MIN_LOG_LEVEL: warnings and info hidden


def command(name, interrupted="interrupted"):
    """Decorates a command's `main`: it returns 0 (or what `main` returns); a `UserError` is the
    line "NAME: error: ..." and exit status 2; Ctrl-C prints `interrupted` and exits with 130."""

    def decorate(main):
        @functools.wraps(main)
        def run(*args, **kwargs):
            try:
                return main(*args, **kwargs) or 0
            except UserError as error:
                print(f"{name}: error: {error}", file=sys.stderr)
                return 2
            except KeyboardInterrupt:
                print(f"\n{interrupted}", file=sys.stderr)
                return 130

        return run

    return decorate


def quiet_start(verbose=False):
    """Imports TensorFlow and finds its devices with their C++ start-up log held back: absl
    writes every line before its `InitializeLog()` whatever `TF_CPP_MIN_LOG_LEVEL` says, a CUDA
    error included on a machine without a GPU. Shown with `verbose`, or where the user asked for
    TensorFlow's info (`TF_CPP_MIN_LOG_LEVEL` 0 or 1); nothing to do once TensorFlow is loaded."""
    asked = os.environ.get("TF_CPP_MIN_LOG_LEVEL", str(QUIET_LOG_LEVEL)).strip() in ("0", "1")
    if verbose or asked or "tensorflow" in sys.modules:
        return
    with held_output():
        import tensorflow as tf

        tf.config.list_physical_devices()


@contextlib.contextmanager
def held_output(verbose=False):
    """Holds back what libraries print while in the block (C++ code on file descriptors 1 and 2,
    TensorFlow's logging, Python warnings), so that the command's own line is the one a user
    reads. `verbose` lets it through; a failure other than a `UserError` shows it after all, as
    it may explain the failure."""
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


def print_table(rows):
    """Prints `rows` (lists of cells, the header first) in columns as wide as their widest cell."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(cells[0]))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
