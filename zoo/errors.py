"""The one exception type the command lines turn into a one-line message instead of a traceback."""


class UserError(ValueError):
    """A request that cannot be carried out as given; the message says what to do instead."""


def first_line(error, limit=300):
    """An exception's message cut to one line, for a one-line error that quotes it."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:limit]}" if lines else type(error).__name__
