"""The files a run leaves in its folder: their names, defined once, and how to write them safely.

No torch here: the run and report layer use these too. Every file is written to a unique temporary name in
its own folder and renamed into place, so a reader, a crash or a second writer never sees half a file, and
a full disk is reported as such, naming the folder, with nothing partial left behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FIGURES = "figures.json"  # each saved figure: name, PNG file, caption
METRICS = "metrics.json"  # parameters, per-epoch history, final numbers, environment
WEIGHTS = "weights.pt"  # trained state dicts (torch.load(..., weights_only=True))
CHECKPOINT = "checkpoint.pt"  # everything needed to resume training
BEST_WEIGHTS = "best.pt"  # a GAN's models at its lowest-FD epoch: generator, discriminator, epoch
RECORD = "run.json"  # written by the run layer: status, minutes, error, cache key
EXPLORERS = "explorers.json"  # the exploration run's payloads for the report's kernel-free explorers
LOG = "log.txt"  # the notebook's printed output and epoch bars
PREVIOUS = ".previous"  # a finished run's outputs, set aside while its run executes again (helpers.runs.previous)
PROGRESS = "progress.json"  # the epoch a run has reached and its losses, rewritten after every epoch
PROGRESS_ENV = "HELPERS_PROGRESS"  # "text": epoch bars as text on stderr (headless runs log them), else widgets


def current_umask() -> int:
    """The process's file-creation mask (read once, at import)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = current_umask()


class DiskFullError(OSError):
    """A file could not be written because its folder's disk is full (nothing partial was left)."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a unique temporary path beside path; on success it replaces path, on failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    partial = Path(name)
    os.chmod(partial, 0o666 & ~UMASK)  # as open() would make it (mkstemp's 0600 would hide shared reports)
    try:
        yield partial
        os.replace(partial, path)
    except BaseException as error:
        full = is_disk_full(error) or (isinstance(error, Exception) and nearly_full(path.parent))
        partial.unlink(missing_ok=True)
        if full:
            raise DiskFullError(errno.ENOSPC, f"no space left on the disk of {path.parent} while writing "
                                f"{path.name}; free some space and run again (nothing partial was kept)") from None
        raise


def is_disk_full(error: BaseException) -> bool:
    """Whether an error (or what it wraps, as torch's save errors do) means the disk is full."""
    while error is not None:
        if getattr(error, "errno", None) == errno.ENOSPC or "No space left" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def nearly_full(folder: Path, margin: int = 1 << 16) -> bool:
    """Whether the disk of folder has less than margin bytes left (torch's writer hides ENOSPC in its errors)."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < margin


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write text atomically."""
    with atomic_path(path) as partial:
        partial.write_text(text)


def write_bytes(path: str | os.PathLike, content: bytes) -> None:
    """Write bytes atomically."""
    with atomic_path(path) as partial:
        partial.write_bytes(content)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write JSON atomically (readers never see half a file)."""
    write_text(path, json.dumps(data, indent=2, default=str))


def read_json(path: str | os.PathLike, default: Any = None) -> Any:
    """A JSON file's content, or default when it is missing."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else default
