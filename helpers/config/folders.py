"""Parameters that name run folders: each folder must hold a finished run of the kind the parameter needs.

A folder is judged by its metrics.json parameters ('latent_dim': a VAE run, 'noise_dim': a GAN run, 'channels':
a classifier run). Before a build runs anything, a folder that a run of the same build will make is a
placeholder ('{runs.NAME}'), judged by the parameters that run will have (UPSTREAM, set by Config.check).
"""

from __future__ import annotations

import glob
import os
import tempfile
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

from helpers.common.files import METRICS, WEIGHTS
from helpers.common.folder import RunFolder

SEPARATOR = ","  # between the run folders of one parameter (what a {sweep.NAME} placeholder stands for)
PLACEHOLDER_MARK = "{runs."  # a run-layer placeholder: the folder of a run that may not have run yet
UPSTREAM: ContextVar[dict[str, dict[str, Any] | None] | None] = ContextVar("upstream", default=None)  # Config.check


def finished_runs(text: str, info: ValidationInfo) -> str:
    """text when its comma-separated folders (or glob) are finished runs of the kind the parameter needs."""
    folders = split_folders(text)
    if not folders:
        raise ValueError(f"{info.field_name} names no run folder: {text!r}")
    for folder in folders:
        run_of_kind(str(folder), info)
    return text


def run_of_kind(folder: str, info: ValidationInfo) -> str:
    """folder itself when empty or a finished run of the kind its parameter needs; else ValueError naming both."""
    if folder and (params := run_parameters(folder, info)) is not None:
        check_run_kind(info.field_name, folder, params)
    return folder


RUN_SLOTS = {  # what each parameter naming run folders needs in them: a test on its parameters, and in words
    "vae_z2_dir": (lambda p: "latent_dim" in p and p["latent_dim"] == 2, "a VAE run with latent_dim 2"),
    "vae_z20_dir": (lambda p: "latent_dim" in p, "a VAE run"),
    "gan_dir": (lambda p: "noise_dim" in p and not p.get("auxiliary"), "a GAN run without the digit head "
                "(auxiliary=False)"),
    "aux_gan_dir": (lambda p: "noise_dim" in p and bool(p.get("auxiliary")), "a GAN run with the digit head "
                    "(auxiliary=True)"),
    "sweep_dirs": (lambda p: "latent_dim" in p, "a VAE run"),
    "run_dirs": (lambda p: "noise_dim" in p, "a GAN run"),
    "classifier_dir": (lambda p: "channels" in p, "a classifier run (notebooks/classifier.ipynb)"),
}


def run_parameters(folder: str, info: ValidationInfo) -> dict[str, Any] | None:
    """A finished run folder's parameters (metrics.json); a placeholder's come from the build (None: unknown).

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
    if (params := folder_parameters(folder)) is None:
        raise ValueError(f"{info.field_name}={folder!r}: its {METRICS} cannot be read; run it again")
    return params


def check_run_kind(field: str, folder: str, params: dict[str, Any]) -> None:
    """Raise ValueError unless a run's parameters are of the kind the parameter field needs."""
    fits, wanted = RUN_SLOTS[field]
    if not fits(params):
        raise ValueError(f"{field}={folder!r} is {describe_run(params)}; {field} needs {wanted}")


def describe_run(params: dict[str, Any]) -> str:
    """A run's kind in words, from its parameters: 'a VAE run with latent_dim 20', 'a GAN run with ...'."""
    if "latent_dim" in params:
        return f"a VAE run with latent_dim {params['latent_dim']}"
    if "noise_dim" in params:
        return f"a GAN run with auxiliary={bool(params.get('auxiliary'))}"
    return "a classifier run" if "channels" in params else "not a VAE, GAN or classifier run"


def scored_runs(text: str, info: ValidationInfo) -> str:
    """text when every GAN run it names was scored by a classifier while it trained (its classifier_dir set)."""
    upstream = UPSTREAM.get() or {}
    for folder in map(str, split_folders(text)):
        params = upstream.get(folder) if PLACEHOLDER_MARK in folder else folder_parameters(folder)
        if params is not None and not params.get("classifier_dir"):
            raise ValueError(f"{info.field_name}={folder!r} is a GAN run trained without classifier_dir; "
                             f"{info.field_name} needs runs scored by a classifier while they trained")
    return text


def fewest_epochs(text: str) -> int | None:
    """The fewest epochs among the runs that text names (finished or placeholders), or None where one is unknown."""
    upstream = UPSTREAM.get() or {}
    epochs = []
    for folder in map(str, split_folders(text)):
        params = upstream.get(folder) if PLACEHOLDER_MARK in folder else folder_parameters(folder)
        if not params or "epochs" not in params:
            return None
        epochs.append(int(params["epochs"]))
    return min(epochs, default=None)


def folder_parameters(folder: str) -> dict[str, Any] | None:
    """A finished run folder's parameters from its metrics.json ({} when it has none), or None when unreadable."""
    metrics = RunFolder(Path(folder)).read(METRICS, None)
    return (metrics.get("parameters") or {}) if isinstance(metrics, dict) else None


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
