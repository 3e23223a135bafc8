"""A finished run is only replaced by a run that finished: its outputs are set aside, not deleted, while it reruns.

Before a run starts, the outputs of the run its folder holds (metrics, figures, weights, payloads, the
executed notebook, run.json, log.txt) move into ``<run>/.previous/`` when that run had finished; the
checkpoint stays, for resume, and a GAN's best.pt (resume state too) is copied aside. When the new run
finishes, the set-aside outputs are dropped. When it fails, or the build was killed while it ran (found at
the next build), what the attempt left is removed, the finished outputs move back, the attempt's notebook
is kept as ``<run>.failed.ipynb`` and its log as ``log.txt``, and ``run.json`` records the failure with the
finished run's record under ``kept``: the report shows the failure and says where the finished outputs are,
and a build with that run's settings reuses them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from .runfiles import BEST_WEIGHTS, EXPLORERS, FIGURES, LOG, METRICS, PREVIOUS, RECORD, WEIGHTS, read_json, write_json

OUTPUTS = (METRICS, FIGURES, WEIGHTS, EXPLORERS, "*.png")  # what a run makes, besides its notebook (not the checkpoint)
COPIED = (BEST_WEIGHTS,)  # part of the finished outputs, and of the resume state beside the checkpoint: copied aside
FINISHED = ("ok", "cached")


def outputs(folder: Path, name: str) -> list[Path]:
    """The files a run wrote into its folder: its outputs and its executed notebook."""
    found = [file for pattern in OUTPUTS for file in folder.glob(pattern)]
    return found + [file for file in [folder / f"{name}.ipynb"] if file.exists()]


def finished_record(folder: Path) -> dict[str, Any] | None:
    """The record of the finished run whose outputs the folder holds, or None."""
    record = read_json(folder / RECORD, {}) or {}
    if record.get("status") in FINISHED:
        return record
    return record.get("kept") or None


def set_aside(folder: Path, name: str) -> bool:
    """Before a run: move a finished run's outputs into .previous/, else remove what an unfinished one left."""
    folder.mkdir(parents=True, exist_ok=True)
    recover(folder, name)
    kept = finished_record(folder)
    (folder / f"{name}.failed.ipynb").unlink(missing_ok=True)  # an older attempt's: this one replaces it
    files = outputs(folder, name) + [f for f in (folder / RECORD, folder / LOG) if f.exists()]
    if kept is None:
        for file in files:
            file.unlink()
        return False
    aside = folder / PREVIOUS
    aside.mkdir()
    for file in files:
        os.replace(file, aside / file.name)
    for name in COPIED:
        if (folder / name).exists():
            shutil.copy2(folder / name, aside / name)
    write_json(aside / RECORD, kept)
    return True


def settle(folder: Path, name: str, finished: bool) -> bool:
    """After a run: drop the set-aside outputs when it finished, else put them back; True when they were kept."""
    aside = folder / PREVIOUS
    if not aside.exists():
        return False
    if finished:
        shutil.rmtree(aside)
        return False
    failure = read_json(folder / RECORD, {}) or {"name": name, "status": "failed",
                                                 "error": "the run was interrupted before it finished"}
    attempt = folder / f"{name}.ipynb"
    if attempt.exists():
        os.replace(attempt, folder / f"{name}.failed.ipynb")
    for file in outputs(folder, name):
        file.unlink()
    for file in aside.iterdir():
        if file.name not in (RECORD, LOG):
            os.replace(file, folder / file.name)
    write_json(folder / RECORD, {**failure, "kept": read_json(aside / RECORD, {})})
    shutil.rmtree(aside)
    return True


def recover(folder: Path, name: str) -> None:
    """Put back the finished outputs an interrupted build left in .previous/ (nothing when there are none)."""
    if (folder / PREVIOUS).exists():
        record = read_json(folder / RECORD, {}) or {}
        if record.get("status") in FINISHED:  # the run finished, the build died before dropping .previous
            shutil.rmtree(folder / PREVIOUS)
        else:
            settle(folder, name, finished=False)


def reuse_kept(folder: Path, key: str) -> bool:
    """Make the kept finished run current again when its key is the one asked for (a failed attempt undone)."""
    record = read_json(folder / RECORD, {}) or {}
    kept = record.get("kept") or {}
    if record.get("status") in FINISHED or kept.get("key") != key or kept.get("status") not in FINISHED:
        return False
    write_json(folder / RECORD, kept)
    return True
