"""One owner of a run folder: its record (run.json) with the run's status, whether it can be reused, the progress
the run reports, and the set-aside and restore of a finished run's outputs while the folder's run executes again.

A finished run is only replaced by a run that finished. Before a run starts, the outputs of the run its folder
holds (metrics, figures, weights, payloads, the executed notebook, run.json, log.txt) move into
``<run>/.previous/`` when that run had finished; the checkpoint stays, for resume, and a GAN's best.pt (resume
state too) is copied aside. When the new run finishes, the set-aside outputs are dropped. When it fails, or the
build was killed while it ran (found at the next build), what the attempt left is removed, the finished outputs
move back, the attempt's notebook is kept as ``<run>.failed.ipynb`` and its log as ``log.txt``, and ``run.json``
records the failure with the finished run's record under ``kept``: the report shows the failure and says where
the finished outputs are, and a build with that run's settings reuses them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from helpers.common.files import (
    BEST_WEIGHTS,
    EXPLORERS,
    FIGURES,
    LOG,
    METRICS,
    PREVIOUS,
    PROGRESS,
    RECORD,
    WEIGHTS,
    write_json,
)

OUTPUTS = (METRICS, FIGURES, WEIGHTS, EXPLORERS, PROGRESS, "*.png")  # what a run makes, besides its notebook
RUNNING = ".running"  # locked (flock) by the build's task while the run executes; readers of the run wait on it
COPIED = (BEST_WEIGHTS,)  # part of the finished outputs, and of the resume state beside the checkpoint: copied aside


class Status(enum.StrEnum):
    """How a run ended in a build; OK and CACHED are finished (their outputs are whole)."""

    OK = "ok"
    CACHED = "cached"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_RUN = "not run"

    @property
    def finished(self) -> bool:
        """Whether the folder holds this run's complete outputs."""
        return self in (Status.OK, Status.CACHED)


@dataclass
class Result:
    """What happened to one run in a build, with its minutes, the error's message and its cache key."""

    name: str
    status: Status
    minutes: float = 0.0
    error: str = ""
    key: str = ""

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    @property
    def failed(self) -> bool:
        """Whether this run counts as a failure of the build."""
        return self.status is Status.FAILED


@dataclass(frozen=True)
class RunFolder:
    """The folder of run `name` (unnamed when only read): every read and write of its record and outputs."""

    path: Path
    name: str = ""

    @contextlib.contextmanager
    def executing(self) -> Iterator[None]:
        """Hold the folder's running lock for the block (the operating system drops it if the process dies)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / RUNNING, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def executing_elsewhere(self) -> bool:
        """Whether another process holds the running lock: the run executes now."""
        try:
            with open(self.path / RUNNING) as handle:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    def wait_until_ended(self, say: Callable[[str], None] = print) -> None:
        """Return once the run is not executing (at once when it is not; no polling: blocks on its lock)."""
        if not self.executing_elsewhere():
            return
        say(f"waiting for run {self.name} to finish ({self.path})")
        with open(self.path / RUNNING) as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)

    def trained(self, kind: str) -> tuple[dict[str, Any], Path]:
        """A finished run's parameters and weights file (after waiting for a run that executes now to end);
        FileNotFoundError naming what is missing."""
        self.wait_until_ended()
        missing = [name for name in (METRICS, WEIGHTS) if not (self.path / name).exists()]
        if missing:
            raise FileNotFoundError(f"{self.path} is not a finished {kind} run: {', '.join(missing)} missing")
        return self.metrics()["parameters"], self.path / WEIGHTS

    @property
    def log(self) -> Path:
        """The run's printed output."""
        return self.path / LOG

    def read(self, name: str, default: Any) -> Any:
        """One of the run's JSON files, or default when it is missing or cannot be read (half-written, say)."""
        try:
            return json.loads((self.path / name).read_text())
        except (OSError, ValueError):
            return default

    def record(self) -> dict[str, Any]:
        """run.json, or {} when the run never ended."""
        return self.read(RECORD, {}) or {}

    def metrics(self) -> dict[str, Any]:
        """metrics.json: parameters, per-epoch history, final numbers ({} when there is none)."""
        return self.read(METRICS, {}) or {}

    def figures(self) -> list[dict[str, str]]:
        """figures.json: each saved figure's name, file and caption."""
        return self.read(FIGURES, []) or []

    def explorers(self) -> dict[str, Any]:
        """explorers.json: the exploration run's payloads for the report's kernel-free explorers."""
        return self.read(EXPLORERS, {}) or {}

    def status(self) -> Status:
        """The recorded status (NOT_RUN when there is no record)."""
        return Status(self.record().get("status", Status.NOT_RUN))

    def progress(self) -> dict[str, Any] | None:
        """The last epoch the running run reported (epoch, epochs, its losses), or None."""
        return self.read(PROGRESS, None)

    def write_record(self, notebook: str, params: dict[str, Any], result: Result,
                     starts: list[dict[str, Any]] | None = None) -> None:
        """Write run.json: what ran, with which parameters, how it ended, the commit of each start (see
        helpers.runs.provenance); a failure keeps the finished run's record."""
        self.path.mkdir(parents=True, exist_ok=True)
        old = self.record()
        kept = None if result.status is Status.OK else old if self.is_finished(old) else old.get("kept")
        write_json(self.path / RECORD, {"name": self.name, "notebook": notebook, "params": params,
                                        **dataclasses.asdict(result), "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
                   | ({"starts": starts} if starts else {}) | ({"kept": kept} if kept else {}))

    @staticmethod
    def is_finished(record: dict[str, Any]) -> bool:
        """Whether a record is of a finished run."""
        return Status(record.get("status", Status.NOT_RUN)).finished

    def is_cached(self, key: str) -> bool:
        """Whether the folder holds a finished, successful run with this key and its outputs."""
        record = self.record()
        return (record.get("status") == Status.OK and record.get("key") == key
                and (self.path / f"{self.name}.ipynb").exists() and (self.path / METRICS).exists())

    def outputs(self) -> list[Path]:
        """The files a run wrote into its folder: its outputs and its executed notebook."""
        found = [file for pattern in OUTPUTS for file in self.path.glob(pattern)]
        return found + [file for file in [self.path / f"{self.name}.ipynb"] if file.exists()]

    def finished_record(self) -> dict[str, Any] | None:
        """The record of the finished run whose outputs the folder holds, or None."""
        record = self.record()
        return record if self.is_finished(record) else record.get("kept") or None

    def set_aside(self) -> bool:
        """Before a run: move a finished run's outputs into .previous/, else remove what an unfinished one left."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.recover()
        kept = self.finished_record()
        (self.path / f"{self.name}.failed.ipynb").unlink(missing_ok=True)  # an older attempt's: this one replaces it
        files = self.outputs() + [f for f in (self.path / RECORD, self.log) if f.exists()]
        if kept is None:
            for file in files:
                file.unlink()
            return False
        aside = self.path / PREVIOUS
        aside.mkdir()
        for file in files:
            os.replace(file, aside / file.name)
        for name in COPIED:
            if (self.path / name).exists():
                shutil.copy2(self.path / name, aside / name)
        write_json(aside / RECORD, kept)
        return True

    def discard_set_aside(self) -> None:
        """After a run that finished: drop the outputs set aside before it (nothing when there are none)."""
        if (self.path / PREVIOUS).exists():
            shutil.rmtree(self.path / PREVIOUS)

    def put_back_set_aside(self) -> bool:
        """After a run that failed: remove what it left, put the set-aside finished outputs back and record the
        failure with the finished run's record under 'kept'; True when there were outputs to put back."""
        aside = self.path / PREVIOUS
        if not aside.exists():
            return False
        failure = self.record() or {"name": self.name, "status": Status.FAILED,
                                    "error": "the run was interrupted before it finished"}
        attempt = self.path / f"{self.name}.ipynb"
        if attempt.exists():
            os.replace(attempt, self.path / f"{self.name}.failed.ipynb")
        for file in self.outputs():
            file.unlink()
        for file in aside.iterdir():
            if file.name not in (RECORD, LOG):
                os.replace(file, self.path / file.name)
        write_json(self.path / RECORD, {**failure, "kept": RunFolder(aside, self.name).record()})
        shutil.rmtree(aside)
        return True

    def recover(self) -> None:
        """Settle what an interrupted build left in .previous/: dropped when the run had finished, else put back."""
        if self.is_finished(self.record()):  # the run finished, the build died before dropping .previous
            self.discard_set_aside()
        else:
            self.put_back_set_aside()

    def reuse_kept(self, key: str) -> bool:
        """Make the kept finished run current again when its key is the one asked for (a failed attempt undone)."""
        record = self.record()
        kept = record.get("kept") or {}
        if self.is_finished(record) or kept.get("key") != key or not self.is_finished(kept):
            return False
        write_json(self.path / RECORD, kept)
        return True


@dataclass
class RunHistory:
    """A finished run read back: its folder, parameters, per-epoch history and end scores (from metrics.json)."""

    folder: Path
    params: dict[str, Any]
    history: list[dict[str, Any]]
    samples: dict[str, Any] = field(default_factory=dict)  # the classifier's scores of samples at the end, if any
    test: dict[str, Any] = field(default_factory=dict)  # the test-set numbers at the end (a VAE's IS-NLL), if any

    @classmethod
    def read(cls, folder: Path) -> Self:
        """Read a run folder's metrics.json."""
        metrics = RunFolder(folder).metrics()
        return cls(folder, metrics["parameters"], metrics["history"], metrics.get("samples") or {},
                   metrics.get("test") or {})
