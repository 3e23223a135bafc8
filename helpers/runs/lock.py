"""One build per folder at a time: an advisory lock on the build folder, released when its process ends.

The lock is ``fcntl.flock`` on ``<build>/.lock``: the operating system drops it when the holding process
dies, so a lock left by a killed build is simply taken over. The file names the holder for the message
that a second build prints while it waits (or, with ``wait=False``, when it refuses).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK = ".lock"


class BuildLockedError(RuntimeError):
    """Another build holds the build folder and we were asked not to wait."""


@contextlib.contextmanager
def build_lock(folder: Path, wait: bool = True, say: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the folder's lock for the duration of the block; wait for it (saying so once) or refuse."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    with open(path, "a+") as handle:
        if not try_lock(handle):
            holder = path.read_text().strip() or "another process"
            if not wait:
                raise BuildLockedError(f"another build ({holder}) is using {folder}; "
                                       "wait for it to finish, or run without --no-wait to queue behind it")
            say(f"waiting: another build ({holder}) is using {folder}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def try_lock(handle) -> bool:  # noqa: ANN001 - an open file
    """Take the lock without waiting; False when another process holds it."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
