"""Does this machine reproduce a committed record? Every number of the record beside this build's, judged by the
allowance its measure declares (helpers.common.measures).

On the machine that made the record (same CPU and flags, threads, torch, precision and device) a build computes the
same numbers, so they are compared exactly. On another machine the arithmetic differs in its last bits and training
amplifies that: a measure is then judged against Z standard deviations of the difference of two runs, drawn from the
spread over seeds that a study measured for it (and, for a sampled estimate, both estimates' standard errors). A
number whose measure has no such evidence on record is shown but not judged.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from helpers.common.machine import cpu_flags
from helpers.common.measures import MEASURES, Allowance, Measure

NUMERIC_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")  # the flags that change the arithmetic
MACHINE_FIELDS = ("cpu", "cpu_flags", "threads_per_run", "torch", "precision", "device")


class Verdict:
    """The words of a comparison's outcome."""

    SAME = "same"  # equal, where the machines are the same
    WITHIN = "within"
    OUTSIDE = "OUTSIDE"
    DIFFERS = "DIFFERS"  # not equal, where the machines are the same
    MISSING = "MISSING"  # the record has it, this build does not
    UNJUDGED = "not judged"  # another machine, and no evidence of the measure's spread on record

    FAILING = (OUTSIDE, DIFFERS, MISSING)


@dataclass
class Line:
    """One number of the record beside this build's."""

    model: str
    measure: str
    recorded: float | None
    here: float | None
    allowed: float | None  # the largest difference allowed (0: exact; None: not judged)
    verdict: str
    basis: str  # the allowance in words

    def sentence(self) -> str:
        """The line as one sentence, for a failing number."""
        return (f"{self.model}: {self.measure} is {fmt(self.here)} here against {fmt(self.recorded)} on record "
                f"({self.verdict}; allowed difference {fmt(self.allowed)}: {self.basis})")


def fmt(value: float | None) -> str:
    """A number for the table; '–' when missing."""
    return "–" if value is None else f"{value:,.4g}" if isinstance(value, float) else str(value)


def machine_of(provenance: dict[str, Any]) -> dict[str, Any]:
    """What arithmetic a record's runs did: CPU, its numeric flags, threads, torch, precision and device
    (None where an older record does not say)."""
    return {field: provenance.get(field) for field in MACHINE_FIELDS}


def this_machine_flags() -> list[str]:
    """This machine's flags among those that change the arithmetic."""
    return sorted(set(NUMERIC_FLAGS) & cpu_flags())


def same_machine(recorded: dict[str, Any], here: dict[str, Any]) -> bool:
    """Whether two records' runs did the same arithmetic (every field known and equal)."""
    a, b = machine_of(recorded), machine_of(here)
    return all(a[f] is not None for f in MACHINE_FIELDS) and a == b


def seed_spread(record: dict[str, Any], studies: dict[str, dict | None], run: str, row: dict[str, Any],
                key: str) -> tuple[float, int] | None:
    """The standard deviation over seeds of measure key for this model, and the seed count: from the record's own
    spreads (a build with --spread) or, for a VAE, from the latent-size study at the same latent size."""
    own = (record.get("spreads") or {}).get(run, {})
    if own.get(key) is not None:
        return own[key], own["seeds"]
    study = ((studies.get("study") or {}).get("study") or {}).get("rows") or []
    size = next((r for r in study if r["latent_dim"] == row.get("latent_dim")), None)
    if size and key in ("neg_elbo", "validation_neg_elbo") and size.get("validation_loss_std") is not None:
        return size["validation_loss_std"], size["seeds"]
    return None


def allowed_difference(allowance: Allowance, spread: tuple[float, int] | None, recorded: dict[str, Any],
                       here: dict[str, Any]) -> float | None:
    """Z times the standard deviation of the difference of two runs (None without a spread on record)."""
    if spread is None:
        return None
    variance = 2 * spread[0] ** 2
    if allowance.stderr:
        variance += (recorded.get(allowance.stderr) or 0.0) ** 2 + (here.get(allowance.stderr) or 0.0) ** 2
    return Allowance.Z * math.sqrt(variance)


def compare_number(measure: Measure, label: str, recorded: dict[str, Any], here: dict[str, Any] | None,
                   exact: bool, spread: tuple[float, int] | None) -> Line:
    """One measure of one model: the record's value beside this build's, and the verdict."""
    a, b = recorded.get(measure.key), (here or {}).get(measure.key)
    header = measure.header or measure.key
    if b is None:
        return Line(label, header, a, b, 0.0 if exact else None, Verdict.MISSING, "this build has no value")
    if exact:
        return Line(label, header, a, b, 0.0, Verdict.SAME if a == b else Verdict.DIFFERS,
                    "exact: the same machine computes the same numbers")
    allowance = measure.allowance
    allowed = allowed_difference(allowance, spread, recorded, here) if allowance else None
    if allowed is None:
        return Line(label, header, a, b, None, Verdict.UNJUDGED,
                    "no spread over seeds on record for it" if allowance else "compared exactly only")
    basis = f"{Allowance.Z:g} sd of the difference of two runs; sd from {allowance.words} over {spread[1]} seeds"
    return Line(label, header, a, b, allowed, Verdict.WITHIN if abs(a - b) <= allowed else Verdict.OUTSIDE, basis)


def compare(recorded: dict[str, Any], here: dict[str, Any], studies: dict[str, dict | None]) -> list[Line]:
    """Every number of the record's models and reference rows beside this build's."""
    exact = same_machine(recorded["provenance"], here["provenance"])
    built = {m["run"]: m for m in here.get("models", [])}
    lines = []
    for row in recorded.get("models", []):
        for measure in MEASURES:
            if isinstance(row.get(measure.key), (int, float)) and not isinstance(row.get(measure.key), bool):
                spread = seed_spread(recorded, studies, row["run"], row, measure.allowance.seeds) \
                    if measure.allowance else None
                lines.append(compare_number(measure, row["model"], row, built.get(row["run"]), exact, spread))
    references = {r["reference"]: r for r in here.get("reference", [])}
    for row in recorded.get("reference", []):
        for measure in MEASURES:
            if isinstance(row.get(measure.key), (int, float)):
                lines.append(compare_number(measure, row["model"], row, references.get(row["reference"]), exact,
                                            None))
    return lines


def failing(lines: list[Line]) -> list[Line]:
    """The numbers this machine does not reproduce."""
    return [line for line in lines if line.verdict in Verdict.FAILING]


def run_minutes(record: dict[str, Any]) -> dict[str, float | None]:
    """Each run's minutes of execution, from a record's provenance."""
    return {name: run.get("minutes") for name, run in (record["provenance"].get("runs") or {}).items()}


def summary(recorded: dict[str, Any], here: dict[str, Any], lines: list[Line]) -> dict[str, Any]:
    """What verify.json holds: both machines, whether exact comparison applied, every line, the cost of both
    builds, and the outcome."""
    walls = [(r["provenance"].get("runs_wall") or {}).get("wall_minutes") for r in (recorded, here)]
    minutes = run_minutes(recorded), run_minutes(here)
    return {"profile": recorded.get("profile"), "machines": {"record": machine_of(recorded["provenance"]),
                                                             "here": machine_of(here["provenance"])},
            "exact": same_machine(recorded["provenance"], here["provenance"]),
            "wall_minutes": {"record": walls[0], "here": walls[1]},
            "run_minutes": {name: {"record": minutes[0].get(name), "here": minutes[1].get(name)}
                            for name in dict.fromkeys([*minutes[0], *minutes[1]])},
            "lines": [asdict(line) for line in lines], "failing": len(failing(lines)),
            "judged": sum(line.verdict not in (Verdict.UNJUDGED,) for line in lines)}
