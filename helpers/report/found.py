"""What a build finds once and several readers share: the studies and the findings more than one section words.

The build reads its run folders once (helpers.report.cli) and computes these once from what it read; the document
(helpers.report.document) and the reproduction record (helpers.report.results) take them from here, as a
notebook's glued value is computed once and pulled by name wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.common.files import read_json
from helpers.common.paths import ROOT
from helpers.report import claims, collapse, findings, settings
from helpers.report.precision import PrecisionComparison, precision_comparisons
from helpers.report.runview import RunView

RESULTS = ROOT / "results"  # the committed records (results/<profile>.json)
STUDIES = ("collapse", "study")  # the profiles whose records other builds also draw on, when they exist


@dataclass(frozen=True)
class Found:
    """The findings of one build that more than one reader needs."""

    collapse: dict[str, Any] | None  # the collapse study (collapse.collapse_study); None without one
    latent_size: dict[str, Any] | None  # the latent-size study's tests (findings.latent_size_tests), this build's or
    # else the committed record's (marked "from_record"); None without either
    ends: list[tuple[str, float, float]]  # each finished GAN's D(real) and D(fake) at its end
    comparisons: list[findings.VAEComparison]  # each VAE's final validation loss beside the writeup's
    claims: list[claims.Claim]  # each of the writeup's claims with what the runs say of it (the front matter)
    shorter: list[claims.Shorter]  # the kinds of model trained for fewer epochs than the writeup's
    seeds: dict[int, dict[str, Any]] | None = None  # the writeup's VAEs over the study's seeds (findings)
    verification: dict[str, Any] | None = None  # this build against a committed record (make verify); None: not asked
    precision: dict[str, PrecisionComparison] = field(default_factory=dict)  # bf16 against fp32, per bench model
    records: tuple[str, ...] = ()  # the committed records of work this build did not run that the text draws on
    collapse_record: dict[str, Any] | None = None  # the committed collapse study, where this build compared none


def found_once(views: dict[str, RunView]) -> Found:
    """The findings of these runs (their folders as the build read them), and those of the committed records of
    work the build did not run (the studies, the bf16 comparison) where its text needs them."""
    study = collapse.collapse_study(views["collapse"]) if "collapse" in views else None
    committed = study_records()
    latent_runs = views["study"].metrics.get("runs") if "study" in views else study_runs_of(committed)
    seeds = findings.writeup_sizes_over_seeds(latent_runs)
    sizes = findings.latent_size_tests(views["study"]) if "study" in views else recorded_latent_size(committed)
    on_record = recorded_collapse(committed)  # its tests computed once, for the claims and the β₁ sentence
    recorded = on_record if study is None or not study["compared"] else None
    two_steps = study if study and study["role"]["stronger_d"] is not None else on_record or study
    claimed = claims.writeup_claims(views, two_steps, seeds)
    precision = precision_comparisons()
    drawn = {"results/collapse.json": any(c.numbers.get("from_record") for c in claimed) or recorded is not None,
             "results/study.json": "study" not in views and bool(sizes or seeds),
             "bench/results.json": bool(precision) and trained_in_bf16(views)}
    return Found(collapse=study, claims=claimed, shorter=claims.shorter(views), latent_size=sizes,
                 ends=findings.discriminator_ends(views["gan"], views["aux_gan"])
                 if "gan" in views and "aux_gan" in views else [],
                 comparisons=findings.vae_comparisons(views["vae_z2"], views["vae_z20"])
                 if "vae_z2" in views and "vae_z20" in views else [],
                 seeds=seeds, precision=precision, records=tuple(path for path, used in drawn.items() if used),
                 collapse_record=recorded)


def trained_in_bf16(views: dict[str, RunView]) -> bool:
    """Whether the writeup's VAEs or GANs trained in bf16 (their sections then word the bf16 comparison)."""
    return any(settings.precision([views[name] for name in pair if name in views]) == "bf16"
               for pair in (("vae_z2", "vae_z20"), ("gan", "aux_gan")))


def study_records(folder: Path | None = None) -> dict[str, dict | None]:
    """The collapse and latent-size studies' records in folder (default: the committed ones, RESULTS), None where
    a study has none."""
    folder = folder or RESULTS
    return {name: read_json(path) if (path := folder / f"{name}.json").exists() else None for name in STUDIES}


def collapse_of(studies: dict[str, dict | None]) -> dict[str, Any] | None:
    """The collapse study of the collapse record (helpers.report.collapse), or None without one."""
    rows = ((studies.get("collapse") or {}).get("collapse") or {}).get("runs")
    return collapse.study_of_rows(rows) if rows else None


def recorded_collapse(studies: dict[str, dict | None]) -> dict[str, Any] | None:
    """The collapse study of the collapse record, marked as coming from the record; None without one."""
    study = collapse_of(studies)
    return study | {"from_record": True} if study else None


def recorded_latent_size(studies: dict[str, dict | None]) -> dict[str, Any] | None:
    """The latent-size study's tests recomputed from the record's per-seed rows, marked as coming from the record;
    None without them (no record, or one that predates per-seed rows)."""
    study = latent_size_record(studies)
    if not study.get("runs"):
        return None
    view = RunView("study", RESULTS, {}, {"study": study["rows"], "runs": study["runs"]}, {})
    sizes = findings.latent_size_tests(view)
    return sizes | {"from_record": True} if sizes else None


def latent_size_record(studies: dict[str, dict | None]) -> dict[str, Any]:
    """The latent-size study as its record keeps it (its 'study' entry), {} without one."""
    return (studies.get("study") or {}).get("study") or {}


def study_runs_of(studies: dict[str, dict | None]) -> list[dict[str, Any]] | None:
    """The per-seed rows of the latent-size record, None without them."""
    return latent_size_record(studies).get("runs")
