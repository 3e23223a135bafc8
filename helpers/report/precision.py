"""What the bf16-against-fp32 comparison on record lets the report say (bench/results.json, by bench.precision).

bench.precision trains a model in each precision over seeds and keeps two summaries per model: "summary", the test
on the seeds declared with its equivalence margins (empty until all of them ran), and "exploratory", the seeds that
ran before the margins were declared. The report words the test when it exists and says the comparison is
exploratory otherwise; every number comes from the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.common.files import read_json
from helpers.common.paths import ROOT
from helpers.report.stats import CONFIDENCE

BENCH_RECORD = ROOT / "bench" / "results.json"  # bench.precision writes its comparison under "precision_comparison"
# bench.precision.MEASURES, as the report names them
MEASURE_WORDS = {"validation_loss": "validation loss", "nll": "IS-NLL", "digits_covered": "digits covered",
                 "frechet_distance": "final FD", "lowest_frechet_distance": "lowest FD",
                 "mean_frechet_distance": "FD averaged over training"}


@dataclass(frozen=True)
class PrecisionComparison:
    """One model's bf16-against-fp32 summary: the declared test's, else the exploratory seeds'."""

    model: str  # the bench's model name ("vae_z20", "gan")
    epochs: int
    seeds: int  # per precision
    declared: bool  # the test on the seeds declared with the margins (else exploratory seeds)
    cpus: str  # the CPUs its runs trained on ('AMD EPYC')
    measures: dict[str, dict[str, Any]]  # per measure: bf16_minus_fp32, low, high, margin, inside_margin

    @property
    def equivalent(self) -> bool:
        """Whether the declared test puts every measure's interval inside its margin."""
        return self.declared and all(m["inside_margin"] for m in self.measures.values())

    def texts(self, digits: int = 2) -> list[str]:
        """Per measure: 'validation loss −0.18 (95% interval −0.49 to +0.09; margin ±0.5)'; exploratory seeds,
        which test nothing, without the margin (an interval beside it would read as an equivalence test)."""
        return [f"{MEASURE_WORDS.get(name, name)} {m['bf16_minus_fp32']:+.{digits}f} ({CONFIDENCE:.0%} interval "
                f"{m['low']:+.{digits}f} to {m['high']:+.{digits}f}"
                + (f"; margin ±{m['margin']:g})" if self.declared else ")") for name, m in self.measures.items()]


def comparison_of(model: str, entry: dict[str, Any]) -> PrecisionComparison | None:
    """The model's declared test where it ran, else its exploratory summary; None with neither."""
    declared = bool(entry.get("summary"))
    measures = entry.get("summary") or entry.get("exploratory") or {}
    if not measures:
        return None
    seeds = min(m["seeds"] for m in measures.values())
    cpus = {run.get("cpu") for run in summary_runs(entry, declared)} - {None}
    cpus = cpus or {(entry.get("machine") or {}).get("cpu", "an unrecorded CPU")}
    return PrecisionComparison(model, entry["epochs"], seeds, declared, " and ".join(sorted(cpus)), measures)


def summary_runs(entry: dict[str, Any], declared: bool) -> list[dict[str, Any]]:
    """The runs one summary covers: the declared seeds' for the test, the others for the exploratory summary."""
    chosen = set(entry.get("declared_seeds", []))
    return [run for run in entry.get("runs", []) if (run["seed"] in chosen) == declared]


def precision_comparisons(path: Path | None = None) -> dict[str, PrecisionComparison]:
    """Every model's comparison on record (default: BENCH_RECORD), by the bench's model name ({} without one)."""
    path = path or BENCH_RECORD
    entries = (read_json(path) if path.exists() else {}).get("precision_comparison") or {}
    return {model: found for model, entry in entries.items() if (found := comparison_of(model, entry))}
