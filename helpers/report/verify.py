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
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from helpers.common.measures import MEASURES, MISSING, Allowance, Measure
from helpers.report.found import latent_size_record, study_runs_of
from helpers.report.results import is_number, with_derived
from helpers.runs.words import counted

SCORED = "samples."  # measures of samples scored by the package's classifier, which each build trains anew
MACHINE_FIELDS = ("cpu", "cpu_flags", "cpu_capability", "threads_per_run", "torch", "precision", "device")


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
    return MISSING if value is None else f"{value:,.4g}" if isinstance(value, float) else str(value)


def machine_of(provenance: dict[str, Any]) -> dict[str, Any]:
    """What arithmetic a record's runs did: CPU, its numeric flags, threads, torch, the precisions its runs trained
    in and device (None where an older record does not say)."""
    machine = {field: provenance.get(field) for field in MACHINE_FIELDS}
    if isinstance(machine["precision"], dict):  # per run: the precisions, whichever runs the build had
        machine["precision"] = sorted(set(machine["precision"].values()))
    return machine


def same_machine(recorded: dict[str, Any], here: dict[str, Any]) -> bool:
    """Whether two records' runs did the same arithmetic (every field known and equal)."""
    a, b = machine_of(recorded), machine_of(here)
    return all(a[f] is not None for f in MACHINE_FIELDS) and a == b


def seed_spread(record: dict[str, Any], studies: dict[str, dict | None], run: str, row: dict[str, Any],
                key: str) -> tuple[float, int, bool] | None:
    """The standard deviation over seeds of measure key for this model, the seed count, and whether the seeds also
    retrained the scoring classifier: from the record's own spreads (a build with --spread) or, for a VAE, from the
    latent-size study at the same latent size (its validation loss for the negative ELBO, its seeds' active units
    on the test images for theirs)."""
    own = (record.get("spreads") or {}).get(run, {})
    if own.get(key) is not None:
        return own[key], own["seeds"], bool(own.get("classifier_seeds", 1) > 1)
    study = latent_size_record(studies).get("rows") or []
    size = next((r for r in study if r["latent_dim"] == row.get("latent_dim")), None)
    if size and key in ("neg_elbo", "validation_neg_elbo") and size.get("validation_loss_std") is not None:
        return size["validation_loss_std"], size["seeds"], False
    units = [r["test_active_units"] for r in study_runs_of(studies) or []
             if r["latent_dim"] == row.get("latent_dim") and r.get("test_active_units") is not None]
    if key == "active_units" and len(units) > 1:
        return statistics.stdev(units), len(units), False
    return None


def allowed_difference(allowance: Allowance, spread: tuple[float, int, bool] | None, recorded: dict[str, Any],
                       here: dict[str, Any]) -> float | None:
    """The t multiplier for the spread's seeds times the standard deviation of the difference of two runs (None
    without a spread on record)."""
    if spread is None:
        return None
    variance = 2 * spread[0] ** 2
    if allowance.stderr:
        variance += (recorded.get(allowance.stderr) or 0.0) ** 2 + (here.get(allowance.stderr) or 0.0) ** 2
    return Allowance.multiplier(spread[1]) * math.sqrt(variance)


COSTS = {"minutes"}  # measures that time a run rather than compute a result: shown, never judged


def compare_number(measure: Measure, label: str, recorded: dict[str, Any], here: dict[str, Any] | None,
                   exact: bool, spread: tuple[float, int, bool] | None) -> Line:
    """One measure of one model: the record's value beside this build's, and the verdict."""
    a, b = recorded.get(measure.key), (here or {}).get(measure.key)
    header = measure.header or measure.key
    if b is None:
        return Line(label, header, a, b, 0.0 if exact else None, Verdict.MISSING, "this build has no value")
    if measure.key in COSTS:
        return Line(label, header, a, b, None, Verdict.UNJUDGED, "a time, which varies with the machine and its load")
    if exact:
        return Line(label, header, a, b, 0.0, Verdict.SAME if a == b else Verdict.DIFFERS,
                    "exact: the same machine computes the same numbers")
    allowance = measure.allowance
    if allowance and measure.source.startswith(SCORED) and not (spread and spread[2]):
        return Line(label, header, a, b, None, Verdict.UNJUDGED, "scored by a classifier retrained on this machine, "
                    "and the spread on record kept one classifier")
    allowed = allowed_difference(allowance, spread, recorded, here) if allowance else None
    if allowed is None:
        return Line(label, header, a, b, None, Verdict.UNJUDGED,
                    "no spread over seeds on record for it" if allowance else "compared exactly only")
    basis = (f"{Allowance.multiplier(spread[1]):.1f} sd of the difference of two runs (t, {spread[1] - 1} degrees "
             f"of freedom, {Allowance.RATE:.2%} two-sided); sd from {allowance.words} over {spread[1]} seeds")
    return Line(label, header, a, b, allowed, Verdict.WITHIN if abs(a - b) <= allowed else Verdict.OUTSIDE, basis)


def compare(recorded: dict[str, Any], here: dict[str, Any], studies: dict[str, dict | None]) -> list[Line]:
    """Every number of the record's models and reference rows beside this build's."""
    exact = same_machine(recorded["provenance"], here["provenance"])
    built = {m["run"]: m for m in here.get("models", [])}  # this build's rows: model_result derived them
    lines = []
    for row in map(with_derived, recorded.get("models", [])):
        for measure in MEASURES:
            if is_number(row.get(measure.key)):
                spread = seed_spread(recorded, studies, row["run"], row, measure.allowance.seeds) \
                    if measure.allowance else None
                lines.append(compare_number(measure, row["model"], row, built.get(row["run"]), exact, spread))
    references = {r["reference"]: r for r in here.get("reference", [])}
    for row in recorded.get("reference", []):
        for measure in MEASURES:
            if is_number(row.get(measure.key)):
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


TABLE_HEADERS = ["model", "measure", "recorded", "this machine", "allowed difference", "verdict"]


def rows(checked: dict[str, Any]) -> list[list[str]]:
    """The verify table's rows (a summary's lines)."""
    return [[line["model"], line["measure"], fmt(line["recorded"]), fmt(line["here"]),
             "exact" if line["allowed"] == 0 else fmt(line["allowed"]), verdict_cell(line)]
            for line in checked["lines"]]


def verdict_cell(line: dict[str, Any]) -> str:
    """The verdict, with the reason beside a number shown but not judged."""
    return f"{line['verdict']}: {line['basis']}" if line["verdict"] == Verdict.UNJUDGED else line["verdict"]


def machine_words(machine: dict[str, Any]) -> str:
    """A machine as one line: CPU, flags, threads, torch, precision, device."""
    precision = ", ".join(machine.get("precision") or [])
    torch = ", ".join(machine.get("torch") or ["?"])
    threads = counted(machine["threads_per_run"], "thread") if machine.get("threads_per_run") else "? threads"
    return (f"{', '.join(machine.get('cpu') or ['?'])}; flags {' '.join(machine.get('cpu_flags') or []) or '?'} "
            f"(kernels: {machine.get('cpu_capability') or '?'}); {threads} per run; torch {torch}; {precision or '?'}; "
            f"{machine.get('device') or '?'}")


def table_text(checked: dict[str, Any]) -> str:
    """The comparison as plain text: both machines, how they are compared, every number, the builds' cost."""
    widths = [max(len(str(r[i])) for r in [TABLE_HEADERS, *rows(checked)]) for i in range(len(TABLE_HEADERS))]
    lines = [f"verify {checked['record']}:",
             f"  the record's machine: {machine_words(checked['machines']['record'])}",
             f"  this machine:         {machine_words(checked['machines']['here'])}",
             "  compared exactly (the same arithmetic)" if checked["exact"] else
             "  compared within allowances (another machine's arithmetic: training differs about as between seeds)",
             "  ".join(h.ljust(w) for h, w in zip(TABLE_HEADERS, widths))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows(checked)]
    return "\n".join([*lines, cost_text(checked)])


def wall_text(checked: dict[str, Any]) -> str:
    """'15.5 min here (17 runs), 45.6 min on record (29 runs)': both builds' wall time with their run counts."""
    walls, minutes = checked["wall_minutes"], checked["run_minutes"]
    counts = {side: counted(sum(m[side] is not None for m in minutes.values()), "run") for side in ("here", "record")}
    return (f"{fmt(walls['here'])} min here ({counts['here']}), "
            f"{fmt(walls['record'])} min on record ({counts['record']})")


def cost_text(checked: dict[str, Any]) -> str:
    """Both builds' wall time with their run counts, and the minutes of each run both builds have."""
    minutes = checked["run_minutes"]
    both = {name: m for name, m in minutes.items() if m["here"] is not None and m["record"] is not None}
    return (f"wall time of the runs: {wall_text(checked)}; per run both builds have (here / on record): "
            + ("; ".join(f"{name} {fmt(m['here'])} / {fmt(m['record'])}" for name, m in both.items()) or "none"))


def outcome_text(checked: dict[str, Any]) -> str:
    """The last line(s) of make verify: one per number not reproduced, or that every judged number is."""
    bad = failing([Line(**line) for line in checked["lines"]])
    if bad:
        return "\n".join(f"verify: NOT REPRODUCED: {line.sentence()}" for line in bad)
    unjudged = len(checked["lines"]) - checked["judged"]
    agreed = "equal bit for bit" if checked.get("exact") else "within their allowance"
    return (f"verify: reproduced: {checked['judged']} numbers {agreed}"
            + (f", {unjudged} shown but not judged (the table says why)" if unjudged else ""))
