"""Exclusive locks on files, so that two processes never write the same run dir or export.

A lock is the kernel's `flock` on a lock file: it is dropped when its process dies, however it
dies, so a killed run never leaves a stale lock behind, and a lock file that no process holds
marks work whose owner is gone.
"""

import contextlib
import fcntl
import os
import socket


class Busy(Exception):
    """Another live process holds the lock; `holder` is what it wrote into the lock file."""

    def __init__(self, path, holder):
        super().__init__(f"{path} is locked by {holder or 'another process'}")
        self.holder = holder or "another process"


@contextlib.contextmanager
def exclusive(path):
    """Holds an exclusive lock on the file `path` (created, naming this process) while in the
    block, and removes the file on the way out; raises `Busy` at once if another process holds it."""
    descriptor = _acquire(path)
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"pid {os.getpid()} on {socket.gethostname()}".encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # while still held: a process waiting on this file will see it gone
        os.close(descriptor)


def _acquire(path):
    """A descriptor of `path` holding its lock. A process that removed the file after we opened
    it held the lock until then: the lock is on an orphaned file, so open the path again."""
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 200).decode(errors="replace")
            os.close(descriptor)
            raise Busy(path, holder) from None
        try:
            if os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                return descriptor
        except FileNotFoundError:
            pass
        os.close(descriptor)
