"""How the command lines show progress: live on a terminal, plain lines in a log file."""

import sys


def progress_verbosity():
    """Keras' `verbose`: a live progress bar on a terminal, one line per pass in a log file
    (the live bar writes terminal escape codes, which clutter a log)."""
    return 1 if sys.stdout.isatty() else 2
