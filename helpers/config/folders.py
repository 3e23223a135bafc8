"""Parameters that name run folders: each folder must hold a finished run of the kind the parameter needs.

Such a parameter declares what it needs on its field (``Annotated[str, Needs(Kind.VAE, ...)]``), and a folder is
judged by what its run wrote into metrics.json: its kind and its parameters. Before a build runs anything, a folder
that a run of the same build will make is a placeholder ('{runs.NAME}'), judged by what that run will write
(UPSTREAM, set by Config.check).
"""

from __future__ import annotations

import enum
import glob
import os
import tempfile
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationInfo

from helpers.common.files import METRICS, WEIGHTS
from helpers.common.folder import RunFolder

SEPARATOR = ","  # between the run folders of one parameter (what a {sweep.NAME} placeholder stands for)
PLACEHOLDER_MARK = "{runs."  # a run-layer placeholder: the folder of a run that may not have run yet
UPSTREAM: ContextVar[dict[str, dict[str, Any] | None] | None] = ContextVar("upstream", default=None)  # Config.check
# (a placeholder -> what its run will write: {"kind": ..., "parameters": {...}}, or None when unknown)


class Kind(enum.StrEnum):
    """What a run folder holds, written by the run into its metrics.json (helpers.config.registry names each
    experiment's): which parameters naming run folders it may fill."""

    VAE = "vae"
    GAN = "gan"
    CLASSIFIER = "classifier"
    SUMMARY = "summary"  # a notebook that reads other runs (exploration, studies): nothing reads its folder

    @property
    def words(self) -> str:
        """One of its runs, in words: 'a VAE run'."""
        return {"vae": "a VAE run", "gan": "a GAN run", "classifier": "a classifier run"}.get(self, "a summary run")


@dataclass(frozen=True)
class Needs:
    """On a parameter naming run folders: the kind of run each must hold, and the parameters it must have."""

    kind: Kind
    detail: str = ""  # the condition in words, after the kind's: 'with latent_dim 2'
    where: tuple[tuple[str, Any], ...] = ()  # (parameter, value) pairs the run must have

    @property
    def words(self) -> str:
        """What the parameter needs, in words: 'a VAE run with latent_dim 2'."""
        return f"{self.kind.words} {self.detail}".strip()

    def fits(self, kind: str | None, params: dict[str, Any]) -> bool:
        """Whether a run of this kind with these parameters fills the slot."""
        return kind == self.kind and all(bool(params.get(k)) == v if isinstance(v, bool) else params.get(k) == v
                                         for k, v in self.where)


def needs_of(config: type[BaseModel], field: str | None) -> Needs:
    """The Needs a field declares (a config's parameters naming run folders each declare one)."""
    return next(item for item in config.model_fields[field or ""].metadata if isinstance(item, Needs))


def finished_runs(text: str, info: ValidationInfo, needs: Needs) -> str:
    """text when its comma-separated folders (or glob) are finished runs of the kind the parameter needs."""
    folders = split_folders(text)
    if not folders:
        raise ValueError(f"{info.field_name} names no run folder: {text!r}")
    for folder in folders:
        run_of_kind(str(folder), info, needs)
    return text


def run_of_kind(folder: str, info: ValidationInfo, needs: Needs) -> str:
    """folder itself when empty or a finished run of the kind its parameter needs; else ValueError naming both."""
    if folder and (run := written_run(folder, info)) is not None:
        kind, params = run.get("kind"), run.get("parameters") or {}
        if not needs.fits(kind, params):
            raise ValueError(f"{info.field_name}={folder!r} is {describe_run(kind, params)}; {info.field_name} "
                             f"needs {needs.words}")
    return folder


def written_run(folder: str, info: ValidationInfo) -> dict[str, Any] | None:
    """What a finished run folder's metrics.json says of its run (kind, parameters); a placeholder's comes from the
    build (None: not known yet).

    A folder whose run executes now (a build started this run beside it, as the profile's after_training allows)
    is unknown here: the notebook waits for that run where it reads the folder (RunFolder.trained), which stops
    with one line naming what is missing when that run did not finish.
    """
    upstream = UPSTREAM.get()
    if PLACEHOLDER_MARK in folder and upstream is not None:
        return upstream.get(folder)
    if RunFolder(Path(folder)).executing_elsewhere():
        return None
    missing = [f for f in (WEIGHTS, METRICS) if not (Path(folder) / f).exists()]
    if missing:
        raise ValueError(f"{info.field_name}={folder!r} is not a finished run folder: {', '.join(missing)} missing")
    if (run := folder_run(folder)) is None:
        raise ValueError(f"{info.field_name}={folder!r}: its {METRICS} cannot be read; run it again")
    return run


def describe_run(kind: str | None, params: dict[str, Any]) -> str:
    """A run in words, from its kind and parameters: 'a VAE run with latent_dim 20', 'a GAN run with ...'."""
    if kind == Kind.VAE:
        return f"a VAE run with latent_dim {params.get('latent_dim')}"
    if kind == Kind.GAN:
        return f"a GAN run with auxiliary={bool(params.get('auxiliary'))}"
    return Kind(kind).words if kind in set(Kind) else "a run of no known kind (its metrics.json names none)"


def scored_runs(text: str, info: ValidationInfo) -> str:
    """text when every GAN run it names was scored by a classifier while it trained (its classifier_dir set)."""
    upstream = UPSTREAM.get() or {}
    for folder in map(str, split_folders(text)):
        params = parameters_of(upstream.get(folder) if PLACEHOLDER_MARK in folder else folder_run(folder))
        if params is not None and not params.get("classifier_dir"):
            raise ValueError(f"{info.field_name}={folder!r} is a GAN run trained without classifier_dir; "
                             f"{info.field_name} needs runs scored by a classifier while they trained")
    return text


def fewest_epochs(text: str) -> int | None:
    """The fewest epochs among the runs that text names (finished or placeholders), or None where one is unknown."""
    upstream = UPSTREAM.get() or {}
    epochs = []
    for folder in map(str, split_folders(text)):
        params = parameters_of(upstream.get(folder) if PLACEHOLDER_MARK in folder else folder_run(folder))
        if not params or "epochs" not in params:
            return None
        epochs.append(int(params["epochs"]))
    return min(epochs, default=None)


def folder_run(folder: str) -> dict[str, Any] | None:
    """A finished run folder's metrics.json ({} when it has none), or None when unreadable."""
    metrics = RunFolder(Path(folder)).read(METRICS, None)
    return metrics if isinstance(metrics, dict) else None


def parameters_of(run: dict[str, Any] | None) -> dict[str, Any] | None:
    """The parameters of a run as metrics.json (or a placeholder's upstream entry) holds them; None when unknown."""
    return None if run is None else run.get("parameters") or {}


def writable_folder(folder: str, info: ValidationInfo) -> str:
    """folder when it is a folder this process may write in, or one it may make; else ValueError naming both.

    Tried, not guessed from permission bits (root passes those, yet cannot write in /proc): a temporary folder is
    made and removed in the nearest part of the path that exists.
    """
    path = Path(folder).expanduser().absolute()
    existing = next(p for p in (path, *path.parents) if os.path.lexists(p))
    if not existing.is_dir():
        raise ValueError(f"{info.field_name}={folder!r} cannot be a folder: {existing} is a file")
    try:
        tempfile.TemporaryDirectory(dir=existing).cleanup()
    except OSError as exc:
        raise ValueError(f"{info.field_name}={folder!r} cannot be made or written: {existing} refuses new "
                         f"files ({exc.strerror})") from None
    return folder


def split_folders(text: str) -> list[Path]:
    """The run folders of a '{sweep.NAME}' value once resolved (also accepts one folder or a glob)."""
    parts = [part.strip() for part in text.split(SEPARATOR) if part.strip()]
    folders: list[Path] = []
    for part in parts:
        matched = sorted(map(Path, glob.glob(part))) if any(c in part for c in "*?[") else [Path(part)]
        folders.extend(matched)
    return folders
