"""Where the command lines write: checked before any work, so that a bad output path is a
one-line error up front and never something shipped overwritten."""

import contextlib
import os
import pathlib
import shutil

from zoo.errors import UserError
from zoo.store import locks, presets

STAGING_PREFIX = ".staging-"  # an export being written; its lock file beside it while its export lives


def check_writable(directory, flag):
    """Refuses an output folder that is a file, lies inside the shipped presets, or sits under
    no writable folder; `flag` names it in the message."""
    directory = pathlib.Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{flag} {directory} is a file; pass a folder")
    shipped = presets.presets_dir().resolve()
    if directory.resolve() == shipped or shipped in directory.resolve().parents:
        raise UserError(f"{flag} {directory} is inside the shipped presets ({shipped}), which are never written "
                        "into; pass another folder")
    nearest = next(path for path in (directory.absolute(), *directory.absolute().parents) if path.exists())
    if not nearest.is_dir() or not os.access(nearest, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {flag} {directory}: {nearest} is not a writable folder")


@contextlib.contextmanager
def held(folder, flag, lock_name, kind):
    """Makes `folder` (checked by `check_writable` first) and holds its lock file `lock_name`
    while the context lives: another process on it is a one-line error naming `flag` and `kind`
    ("run", "search"). The folders this made and left empty, as a failed check does, are removed
    again, the innermost first."""
    check_writable(folder, flag)
    nearest = next(path for path in (folder, *folder.parents) if path.exists())
    with contextlib.ExitStack() as stack:
        try:
            folder.mkdir(parents=True)
            made = [folder, *folder.parents][:[folder, *folder.parents].index(nearest)]
            for made_folder in reversed(made):
                stack.callback(_remove_if_empty, made_folder)
        except FileExistsError:  # there before, or made this instant by another worker of a cluster
            pass
        try:
            stack.enter_context(locks.exclusive(folder / lock_name))
        except locks.Busy as busy:
            raise UserError(f"{folder} is in use by another {kind} ({busy.holder}): wait for it to end, "
                            f"or pass another {flag}") from None
        yield


def _remove_if_empty(folder):
    with contextlib.suppress(OSError):
        folder.rmdir()


def remove_dead_stagings(model_base):
    """Removes the staging folders of exports that died (killed before they could clean up):
    those whose lock file no live export holds."""
    for staging in model_base.glob(f"{STAGING_PREFIX}*"):
        if not staging.is_dir():
            continue
        try:
            with locks.exclusive(f"{staging}.lock"):
                shutil.rmtree(staging, ignore_errors=True)
        except locks.Busy:
            pass  # an export at work
