"""The one exception type the command lines turn into a one-line message instead of a traceback."""


class UserError(ValueError):
    """A request that cannot be carried out as given; the message says what to do instead."""
