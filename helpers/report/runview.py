"""Reading a run folder as the report sees it: record, metrics, figures, explorer payloads (no torch).

A build reads each run folder once: RunView.read takes the record, metrics and figure list, and the images and
explorer payloads are kept after their first read.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.common.folder import RunFolder, Status
from helpers.common.paths import display_path
from helpers.config import CONFIGS, TEST_SIZE, TRAIN_SIZE, Role
from helpers.runs.profile import REPLICA, run_folder

HIDDEN_PARAMS = {name for config in CONFIGS.values() for name in config.with_role(Role.PATH)}  # not settings


@dataclass
class RunView:
    """What one run left in its folder, as the report reads it."""

    name: str
    folder: Path
    record: dict[str, Any]
    metrics: dict[str, Any]
    figures: dict[str, dict[str, str]]
    planned: bool = True  # whether the build's profile has the run (a section's run it lacks is read all the same)
    images: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)  # name -> data: URI
    payloads: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)  # explorers.json

    @classmethod
    def read(cls, build: Path, name: str, planned: bool = True) -> RunView:
        """Read a run's folder (empty parts when the run never ran or stopped early, and when its last attempt
        failed: the outputs it kept are an older run's, which the report does not show as this build's)."""
        folder = run_folder(build, name)
        owner = RunFolder(folder, name)
        record = owner.record()
        if record.get("kept"):
            return cls(name, folder, record, {}, {}, planned)
        return cls(name, folder, record, owner.metrics(), {f["name"]: f for f in owner.figures()}, planned)

    @property
    def replica(self) -> bool:
        """Whether the run is a seed replica of another run of the build ('vae_z2.seed1', from --spread)."""
        return REPLICA in self.name

    @property
    def status(self) -> Status:
        """How the run ended (NOT_RUN when it has no record)."""
        return Status(self.record.get("status", Status.NOT_RUN))

    @property
    def ok(self) -> bool:
        """Whether the run finished and wrote its metrics."""
        return self.status.finished and bool(self.metrics)

    @property
    def params(self) -> dict[str, Any]:
        """The run's full parameters (from metrics.json), or the injected ones when it stopped early."""
        return self.metrics.get("parameters") or self.record.get("params", {})

    @property
    def train_images(self) -> int:
        """How many training images the run trained on (train_size, where 0 or absent means the whole split)."""
        return self.params.get("train_size") or TRAIN_SIZE

    @property
    def epochs_run(self) -> int | None:
        """How many epochs the run trained, or None."""
        return self.metrics.get("epochs_run")

    @property
    def precision(self) -> str | None:
        """The precision the run trained in: its history's last ('bf16', 'fp32'), else the one it was set to; None
        where it records none and left the choice to the CPU ('auto')."""
        trained = self.history("precision")
        setting = self.params.get("precision")
        return trained[-1] if trained else setting if setting in ("fp32", "bf16") else None

    def final(self, key: str) -> float | None:
        """A number from the run's final epoch, or None."""
        return (self.metrics.get("final") or {}).get(key)

    def history(self, key: str) -> list[float]:
        """One number per epoch from the run's history."""
        return [row[key] for row in self.metrics.get("history") or [] if key in row]

    def image_uri(self, name: str) -> str:
        """The PNG of one of the run's figures as a data: URI, or '' when it is missing (read once)."""
        if name not in self.images:
            entry = self.figures.get(name)
            path = self.folder / entry["file"] if entry else None
            self.images[name] = ("data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
                                 if path and path.exists() else "")
        return self.images[name]

    def image_size(self, name: str) -> tuple[int, int] | None:
        """The pixel width and height of one of the run's figures (read from its PNG header), or None."""
        entry = self.figures.get(name)
        path = self.folder / entry["file"] if entry else None
        if not path or not path.exists():
            return None
        with path.open("rb") as file:
            header = file.read(24)
        return struct.unpack(">II", header[16:24]) if header[12:16] == b"IHDR" else None

    def caption(self, name: str) -> str:
        """The caption the notebook gave a figure."""
        return self.figures.get(name, {}).get("caption", "")

    def device(self) -> str:
        """Where the run trained, e.g. 'cpu (AMD EPYC 7B13)'."""
        env = self.metrics.get("environment") or {}
        name = env.get("device_name", "")
        return f"{env.get('device', '')} ({name})" if name else env.get("device", "")

    def shown_params(self) -> list[tuple[str, Any]]:
        """The parameters worth a table: every one but paths, each with what 0 or 'auto' stood for."""
        return [(k, self.resolved(k, v)) for k, v in self.params.items() if k not in HIDDEN_PARAMS]

    def resolved(self, name: str, value: Any) -> Any:
        """A parameter's value with what it stood for in this run: 'train_size 0' is all 50,000 images, a
        discriminator learning rate of 0 the generator's, 'auto' precision what the run trained in."""
        if not isinstance(value, (int, float, str)):
            return value
        environment = self.metrics.get("environment") or {}
        meaning = {("train_size", 0): f"all {TRAIN_SIZE:,}", ("nll_images", 0): f"all {TEST_SIZE:,}",
                   ("disc_learning_rate", 0): f"the generator's, {self.params.get('learning_rate')}",
                   ("precision", "auto"): self.precision or "",
                   ("device", "auto"): environment.get("device", "")}.get((name, value))
        return f"{value} ({meaning})" if meaning else value

    def error(self) -> str:
        """Why a run gave no results: its recorded error (and where a finished run's outputs are kept), or what is
        missing."""
        if self.record.get("error"):
            return self.record["error"] + self.kept_note()
        if self.status is Status.NOT_RUN:
            return "the run has not been executed in this build folder yet"
        return "the run wrote no metrics.json"

    def kept_note(self) -> str:
        """When a failed attempt kept the outputs of the run that finished before it: what and where they are."""
        kept = self.record.get("kept") or {}
        if not kept or not RunFolder.is_finished(kept):
            return ""
        return (f"\n(The outputs of the previous run, which finished on {kept.get('finished', 'an earlier date')}, "
                f"are kept in {display_path(self.folder)}; they are not shown here because this build's attempt "
                "failed. Fix the cause and build again, or build with that run's settings to use them.)")

    @property
    def notebook_file(self) -> Path:
        """The executed notebook (a failed attempt's, when one kept older outputs)."""
        failed = self.folder / f"{self.name}.failed.ipynb"
        return failed if self.record.get("kept") and failed.exists() else self.folder / f"{self.name}.ipynb"

    def notebook_path(self) -> str:
        """The executed notebook's path, for the reader to open."""
        return display_path(self.notebook_file)

    def explorers(self) -> dict[str, Any]:
        """The explorer payloads the run wrote (only a finished exploration run's count; read once)."""
        if self.payloads is None:
            self.payloads = RunFolder(self.folder, self.name).explorers() if self.ok else {}
        return self.payloads


def devices(views: list[RunView]) -> str:
    """The devices the runs trained on, each once."""
    found = sorted({v.device() for v in views if v.device()})
    return ", ".join(found) or "unknown (no run finished)"
