"""What a build prints while it runs: a line per change of a run's state, each running run's epoch and losses once
a minute with the time it has left, and the time the whole build has left, at the pace this build has seen."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from helpers.common.files import LOG
from helpers.common.folder import Result, RunFolder, Status
from helpers.common.paths import display_path
from helpers.config.folders import Kind
from helpers.config.registry import BY_NAME
from helpers.runs.profile import Run, run_folder
from helpers.runs.provenance import read_starts
from helpers.runs.words import counted

EPOCH_LINES_SECONDS = 60  # how often the epoch progress of running runs is printed (when it changed)


def epochs_of(run: Run) -> int:
    """The epochs a run trains: its parameter, else its notebook's default (0 for a notebook that trains nothing:
    one the registry does not know, or one that reads other runs)."""
    experiment = BY_NAME.get(run.notebook_path.stem)
    if experiment is None or experiment.kind is Kind.SUMMARY:
        return 0
    return int(run.params.get("epochs", experiment.config.model_fields["epochs"].default))


def duration(minutes: float) -> str:
    """'about 40 min', 'about 6.5 h', or 'under a minute'."""
    if minutes < 1:
        return "under a minute"
    return f"about {minutes:.0f} min" if minutes < 90 else f"about {minutes / 60:.1f} h"


class Progress:
    """One console line per state change of a run (queued, running, ok, failed, cached, skipped), and the epoch
    lines of the runs that are running."""

    def __init__(self, runs: list[Run], build: Path):
        self.index = {run.name: i for i, run in enumerate(runs, 1)}
        self.total = len(runs)
        self.build = build
        self.begin = time.perf_counter()
        self.started: dict[str, float] = {}
        self.shown: dict[str, str] = {}
        self.ended: set[str] = set()
        self.first_seen: dict[str, tuple[float, int]] = {}  # per running run: when this build first saw an epoch
        self.pace: dict[str, float] = {}  # seconds per epoch, per notebook, as last seen
        self.overhead: dict[str, float] = {}  # seconds a run spends outside its epochs, per notebook, as last seen
        self.work = {run.name: (run.notebook_path.stem, epochs_of(run)) for run in runs}
        self.keys: dict[str, str] = {}  # the cache key of each run this build executes
        self.last_epochs = time.perf_counter()

    def line(self, name: str, text: str) -> None:
        """Print '[i/n] name: text (elapsed m min)'."""
        elapsed = (time.perf_counter() - self.begin) / 60
        print(f"[{self.index.get(name, 0)}/{self.total}] {name}: {text} (elapsed {elapsed:.1f} min)", flush=True)

    def queued(self, name: str, key: str) -> None:
        """The run (of this cache key) waits for a worker (or for the runs it needs)."""
        self.keys[name] = key
        self.line(name, "queued")

    def running(self, name: str, worker: str) -> None:
        """The run's process started on a worker."""
        self.started[name] = time.perf_counter()
        log = display_path(run_folder(self.build, name) / LOG)
        self.line(name, f"running on {worker} (its output: {log})")

    def finished(self, result: Result) -> None:
        """The run ended, was found in the cache, or was skipped."""
        stem, epochs = self.work.get(result.name, ("", 0))
        if result.status is Status.OK and stem in self.pace:  # its loading and evaluation, as this build timed them
            self.overhead[stem] = max(0.0, result.minutes * 60 - epochs * self.pace[stem])
        self.started.pop(result.name, None)
        self.first_seen.pop(result.name, None)
        self.ended.add(result.name)
        took = f" in {result.minutes:.1f} min" if result.status in (Status.OK, Status.FAILED) else ""
        self.line(result.name, f"{result.status}{took}" + (f" ({result.error})" if result.error else ""))

    def epochs(self) -> None:
        """Every EPOCH_LINES_SECONDS, the epoch each running run reported and its losses, when it changed, and the
        time the build has left."""
        if time.perf_counter() - self.last_epochs < EPOCH_LINES_SECONDS:
            return
        self.last_epochs = time.perf_counter()
        for name in self.started:
            progress = self.progress(name)
            line = progress_line(progress)
            if line and line != self.shown.get(name):
                self.shown[name] = line
                self.note_pace(name, progress)
                print(f"    {name}: {line}{self.time_left(name, progress)}", flush=True)
        left = self.build_left()
        if left and left != self.shown.get(""):
            self.shown[""] = left
            print(f"    the build: {left}", flush=True)

    def progress(self, name: str) -> dict[str, Any] | None:
        """The epoch a run has reached (its progress file), None before its first."""
        return RunFolder(run_folder(self.build, name), name).progress()

    def epochs_done(self, name: str) -> int:
        """The epochs a run has behind it: its progress, when it is running or will resume it (its last start had
        this build's cache key; else its folder holds another code's progress, which it discards)."""
        starts = read_starts(run_folder(self.build, name))
        resumes = name in self.started or (starts and starts[-1].get("key") == self.keys.get(name))
        return ((self.progress(name) or {}).get("epoch") or 0) if resumes else 0

    def note_pace(self, name: str, progress: dict[str, Any]) -> None:
        """Keep the pace of the run's notebook (seconds per epoch since this build first saw the run's epoch)."""
        now, epoch = time.perf_counter(), progress["epoch"]
        since, first = self.first_seen.setdefault(name, (now, epoch))
        if epoch > first:
            self.pace[self.work[name][0]] = (now - since) / (epoch - first)

    def time_left(self, name: str, progress: dict[str, Any]) -> str:
        """' (about 12 min left)': the run's epochs to go at its notebook's pace, '' before this build has seen
        one of the run's epochs pass."""
        first = self.first_seen.get(name, (0.0, progress["epoch"]))[1]
        if progress["epoch"] <= first or self.work[name][0] not in self.pace:
            return ""
        seconds = (progress["epochs"] - progress["epoch"]) * self.pace[self.work[name][0]]
        return f" ({duration(seconds / 60)} left)"

    def build_left(self) -> str:
        """'about 6.5 h left (27 runs to end, 2 side by side)', 'under a minute left (1 run to end)': the epochs
        the unfinished runs have to go at the pace seen per notebook, and the time its finished runs spent outside
        their epochs, as many side by side as run now, and never less than the longest of them has left ('... left
        in epochs, more for evaluation' before a notebook's first run ends); '' while a notebook's pace is
        unknown."""
        to_go = {name: (stem, epochs - self.epochs_done(name))
                 for name, (stem, epochs) in self.work.items() if name not in self.ended and epochs}
        if not to_go or not self.started or any(stem not in self.pace for stem, _ in to_go.values()):
            return ""
        seconds = [epochs * self.pace[stem] + self.overhead.get(stem, 0.0) for stem, epochs in to_go.values()]
        known = all(stem in self.overhead for stem, _ in to_go.values())
        minutes = max(sum(seconds) / len(self.started), max(seconds)) / 60
        runs = f"{counted(len(to_go), 'run')} to end"
        together = f", {len(self.started)} side by side" if len(self.started) > 1 else ""
        return f"{duration(minutes)} left{'' if known else ' in epochs, more for evaluation'} ({runs}{together})"


def progress_line(progress: dict[str, Any] | None) -> str:
    """'epoch 5 of 20: train_loss 150.2, validation_loss 148.1' from a run's progress, or ''."""
    if not progress:
        return ""
    losses = ", ".join(f"{k} {v:.4g}" for k, v in progress.get("losses", {}).items())
    return f"epoch {progress['epoch']} of {progress['epochs']}" + (f": {losses}" if losses else "")
