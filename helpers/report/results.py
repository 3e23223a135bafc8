"""The reproduction record: every number of the results table and the build's provenance, in one JSON file.

The build writes it (``results/<profile>.json`` at the repository root for the report's default build folder),
never a person: README's results table is generated from ``results/full.json`` by helpers.report.readme.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.common.files import write_json
from helpers.common.reference import PUBLISHED_NLL, WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.report import findings
from helpers.report.runview import RunView, devices
from helpers.runs import ROOT

RESULTS = ROOT / "results"


def run_environments(views: dict[str, RunView]) -> dict[str, dict[str, Any]]:
    """Per finished run: device, CPU, torch threads, minutes of its last execution and of training."""
    return {name: {"device": view.device() or None, "cpu": (view.metrics.get("environment") or {}).get("cpu"),
                   "threads": (view.metrics.get("environment") or {}).get("threads"),
                   "minutes": view.record.get("minutes"), "status": view.status, "key": view.record.get("key"),
                   "train_minutes": round(view.metrics.get("train_seconds", 0.0) / 60, 2) if view.metrics else None}
            for name, view in views.items() if view.record or view.metrics}


def build_timing(executed: list[str], wall_minutes: float, per_run: dict[str, dict], previous: dict[str, Any]
                 ) -> dict[str, Any]:
    """The wall time of the build that trained these runs: this build's when it executed any run, else the earlier
    record's when its runs are these (same cache keys), else this build's with nothing executed."""
    earlier = previous.get("provenance", {})
    keys = {name: run.get("key") for name, run in per_run.items()}
    same_runs = {name: run.get("key") for name, run in earlier.get("runs", {}).items()} == keys
    if not executed and same_runs and "build" in earlier:
        return earlier["build"]
    return {"wall_minutes": round(wall_minutes, 1), "cores": os.cpu_count(), "executed": executed,
            "reused": sorted(set(per_run) - set(executed))}


def provenance(views: dict[str, RunView], argv: list[str], commit: str, threads: int | None,
               timing: Callable[[dict[str, dict]], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Where these numbers come from: command, date, commit, devices and CPUs, threads, minutes per run, and (with
    timing) the wall time of the build that trained them."""
    per_run = run_environments(views)
    return ({"build": timing(per_run)} if timing else {}) | {"command": "python -m helpers.report " + shlex.join(argv),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
            "device": devices(list(views.values())),
            "cpu": sorted({r["cpu"] for r in per_run.values() if r["cpu"]}) or [platform.processor()],
            "threads_per_run": threads, "python": platform.python_version(), "platform": platform.platform(),
            "runs": per_run}


def record(views: dict[str, RunView], profile: str, provenance: dict[str, Any]) -> dict[str, Any]:
    """Every number of the results table (ours, the reference points, the writeup's and published), and provenance."""
    return {"profile": profile, "models": findings.model_results(views),
            "reference": findings.reference_results(views.get("classifier")),
            "writeup": [{"model": f"VAE, latent {latent}", "validation_neg_elbo": WRITEUP_VAE_LOSS[latent][1],
                         "train_neg_elbo": WRITEUP_VAE_LOSS[latent][0], "epochs": WRITEUP_VAE_EPOCHS}
                        for latent in sorted(WRITEUP_VAE_LOSS)],
            "published": [{"source": source, "model": model, "latent_dim": latent, "nll": nll, "nll_samples": samples,
                           "differs": differs} for source, model, latent, nll, samples, differs in PUBLISHED_NLL],
            **collapse_record(views.get("collapse")), "provenance": provenance}


def collapse_record(collapse: RunView | None) -> dict[str, Any]:
    """The collapse runs compared at one epoch ({} when the build has none)."""
    rows = collapse.metrics.get("collapse") if collapse else None
    return {"collapse": {"at_epoch": collapse.metrics["at_epoch"], "runs": rows}} if rows else {}


def previous_record(folder: Path, profile: str) -> dict[str, Any]:
    """The record an earlier build wrote for this profile ({} when there is none or it cannot be read)."""
    try:
        return json.loads((folder / f"{profile}.json").read_text())
    except (OSError, ValueError):
        return {}


def write_results(data: dict[str, Any], folder: Path) -> Path:
    """Write <folder>/<profile>.json atomically."""
    path = folder / f"{data['profile']}.json"
    write_json(path, data)
    return path
