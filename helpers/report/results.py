"""The reproduction record: every number of the results table and the build's provenance, in one JSON file.

The build writes it (``results/<profile>.json`` at the repository root for the report's default build folder),
never a person: README's results table is generated from ``results/full.json`` by helpers.report.readme.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import time
from pathlib import Path
from typing import Any

from helpers.common.files import write_json
from helpers.common.reference import PUBLISHED_NLL, WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.report import findings
from helpers.report.found import Found
from helpers.report.runview import RunView, devices
from helpers.runs import ROOT

RESULTS = ROOT / "results"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # run.json's "finished" (RunFolder.write_record)


def run_environments(views: dict[str, RunView]) -> dict[str, dict[str, Any]]:
    """Per finished run: device, CPU, torch threads, minutes of its last execution and of training."""
    return {name: {"device": view.device() or None, "cpu": (view.metrics.get("environment") or {}).get("cpu"),
                   "threads": (view.metrics.get("environment") or {}).get("threads"),
                   "minutes": view.record.get("minutes"), "status": view.status, "key": view.record.get("key"),
                   "train_minutes": round(view.metrics.get("train_seconds", 0.0) / 60, 2) if view.metrics else None}
            for name, view in views.items() if view.record or view.metrics}


def runs_span(views: dict[str, RunView]) -> dict[str, Any] | None:
    """The wall time the runs took together, from their own records (each run.json says when the run finished and
    how many minutes it executed): from the first run's start to the last run's end; None without records."""
    ends = {name: datetime.datetime.strptime(view.record["finished"], TIME_FORMAT)
            for name, view in views.items() if view.record.get("finished") and view.record.get("minutes") is not None}
    if not ends:
        return None
    starts = {name: end - datetime.timedelta(minutes=views[name].record["minutes"]) for name, end in ends.items()}
    first, last = min(starts.values()), max(ends.values())
    return {"wall_minutes": round((last - first).total_seconds() / 60, 1), "first_start": first.strftime(TIME_FORMAT),
            "last_end": last.strftime(TIME_FORMAT), "cores": os.cpu_count(), "runs": len(ends)}


def provenance(views: dict[str, RunView], argv: list[str], commit: str, threads: int | None) -> dict[str, Any]:
    """Where these numbers come from: command, date, commit, devices and CPUs, threads, minutes per run, and the
    wall time of the runs from the first one's start to the last one's end."""
    per_run = run_environments(views)
    return {"command": "python -m helpers.report " + shlex.join(argv),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
            "device": devices(list(views.values())),
            "cpu": sorted({r["cpu"] for r in per_run.values() if r["cpu"]}) or [platform.processor()],
            "threads_per_run": threads, "python": platform.python_version(), "platform": platform.platform(),
            "runs_wall": runs_span(views), "runs": per_run}


def record(views: dict[str, RunView], profile: str, provenance: dict[str, Any], found: Found) -> dict[str, Any]:
    """Every number of the results table (ours, the reference points, the writeup's and published), the studies
    the build found (found), and provenance."""
    models = findings.model_results(views)
    return {"profile": profile, "models": models,
            "reference": findings.reference_results(views.get("classifier")),
            "classifier": {"test_accuracy": views["classifier"].metrics.get("test_accuracy")}
            if "classifier" in views else {},
            "writeup": [{"model": f"VAE, latent {latent}", "validation_neg_elbo": WRITEUP_VAE_LOSS[latent][1],
                         "train_neg_elbo": WRITEUP_VAE_LOSS[latent][0], "epochs": WRITEUP_VAE_EPOCHS}
                        for latent in sorted(WRITEUP_VAE_LOSS)],
            "published": published_rows(models),
            **collapse_record(views.get("collapse"), found.collapse),
            **study_record(views.get("study"), found.latent_size), "provenance": provenance}


def published_rows(models: list[dict]) -> list[dict[str, Any]]:
    """The published likelihoods, each with ours at its K minus theirs where we scored at that K."""
    ours_at = {(m["latent_dim"], m.get("nll_published_k_samples")): m.get("nll_published_k")
               for m in models if m.get("latent_dim") is not None}  # ours at the published K, by latent size and K
    return [{"source": source, "model": model, "latent_dim": latent, "nll": nll, "nll_samples": samples,
             "differs": differs, "ours_minus_theirs": findings.difference(ours_at.get((latent, samples)), nll)}
            for source, model, latent, nll, samples, differs in PUBLISHED_NLL]


def study_record(study: RunView | None, best: dict[str, Any] | None) -> dict[str, Any]:
    """The latent-size study: its table's rows and the size the rule names best (best: findings.best_latent_size of
    the study run; {} when the build has none)."""
    rows = study.metrics.get("study") if study else None
    best = best if rows else None
    if not best:
        return {"study": {"rows": rows, "best": None}} if rows else {}
    spread = best["loss"]
    settings = {"headers": findings.LATENT_SIZE_HEADERS, "rows": findings.latent_size_rows(study, best)}
    return {"study": {"rows": rows, "settings": settings,
                      "best": {"latent_dim": best["latent_dim"], "loss": spread.text(2), "losses": list(spread.values),
                               "seeds": spread.n, "epochs": best["epochs"], "ties": best["ties"],
                               "too_few": best["too_few"]}}}


def collapse_record(collapse: RunView | None, study: dict[str, Any] | None) -> dict[str, Any]:
    """The collapse runs compared at one epoch, and each setting over its seeds with the rule's outcome against the
    writeup's settings (study: collapse.collapse_study of the collapse run; {} when the build has none)."""
    rows = collapse.metrics.get("collapse") if collapse else None
    if not rows:
        return {}
    settings = {"headers": study["setting_headers"], "rows": study["setting_rows"]} if study else None
    return {"collapse": {"at_epoch": collapse.metrics["at_epoch"], "runs": rows, "settings": settings}}


def write_results(data: dict[str, Any], folder: Path) -> Path:
    """Write <folder>/<profile>.json atomically."""
    path = folder / f"{data['profile']}.json"
    write_json(path, data)
    return path
