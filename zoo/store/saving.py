"""Reading `.keras` files back: a truncated or altered file is a one-line error naming it,
never a traceback (Keras reports a truncated zip as "File not found")."""

import warnings
import zipfile

import keras

from zoo.errors import UserError, first_line


def load_model(path, flag, **kwargs):
    """`keras.saving.load_model(path, **kwargs)`; a file that does not load is a `UserError`
    that names it and the command-line `flag` it came from."""
    try:
        with warnings.catch_warnings():
            # keras-hub tasks compile themselves when rebuilt; the saved ones hold no optimizer.
            warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
            return keras.saving.load_model(path, **kwargs)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise UserError(
            f"{flag} {path.parent} holds a damaged run ({path.name}: {first_line(error)}): train it again"
        ) from None
