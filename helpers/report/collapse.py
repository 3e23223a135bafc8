"""The collapse study's findings: GAN runs grouped into settings, each setting's seeds against the writeup's.

The collapse profile declares, before its runs, the measure that decides each comparison: the collapse epoch, the
first monitored epoch from which the samples never again cover all ten digits (a run that still covers them at
the compared epoch counts as that epoch, a lower bound). Each setting's seeds are set beside the writeup's by the
procedure of helpers.report.stats: the setting collapses later (keeps all ten digits longer), sooner, or cannot
be told apart; with too few seeds the numbers only describe the runs. A setting that trained past the compared
epoch also tells how it ended. The functions return numbers and names; report/sections/collapse.md.j2 words them.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any

from helpers.common import tables
from helpers.common.measures import MISSING
from helpers.config import GANConfig
from helpers.report import stats
from helpers.report.runview import RunView
from helpers.runs.profile import load_profile
from helpers.runs.words import agreed, joined

WRITEUP = "the writeup's settings"  # the label of runs that change nothing (helpers.evaluation.collapse)


class Outcome(enum.StrEnum):
    """What a setting does to the collapse epoch against the writeup's settings, by the test."""

    KEEPS = "keeps its digits"  # collapses later, and no seed lost a digit for good by the compared epoch
    LATER = "collapses later"
    SOONER = "collapses sooner"
    UNDECIDED = "cannot be told apart"
    DESCRIPTIVE = "described only"  # too few seeds for the test, or a record without the measure

    @property
    def words(self) -> str:
        """The outcome as the clause after a setting's name, worded alike in the report and README."""
        return OUTCOME_WORDS[self]

    def together(self, settings: str, count: int, at_epoch: int) -> str:
        """The outcome of several settings named together, one clause of README's collapse bullet."""
        return GROUP_WORDS[self].format(settings=settings, s=agreed(count, "s", ""), at=at_epoch)

    @property
    def later(self) -> bool:
        """Whether the test finds the setting's collapse later than the writeup's."""
        return self in (Outcome.KEEPS, Outcome.LATER)


OUTCOME_WORDS = {Outcome.KEEPS: "keeps all ten digits in every seed to the compared epoch, later than the writeup's "
                                "settings lose theirs",
                 Outcome.LATER: "keeps all ten digits longer than the writeup's settings",
                 Outcome.SOONER: "covers all ten digits for fewer epochs than the writeup's settings",
                 Outcome.UNDECIDED: "cannot be told apart from the writeup's settings by the collapse epoch",
                 Outcome.DESCRIPTIVE: "has too few seeds for the test: its numbers describe the runs only"}
# The same outcomes for several settings named together, one clause each of README's collapse bullet ({s}: the
# verb's ending where only one setting is named).
GROUP_WORDS = {Outcome.KEEPS: "{settings} keep{s} all ten digits in every seed to epoch {at}",
               Outcome.LATER: "{settings} keep{s} all ten digits longer than the writeup's settings",
               Outcome.SOONER: "{settings} cover{s} all ten digits for fewer epochs",
               Outcome.UNDECIDED: "the runs cannot tell {settings} from the writeup's settings"}


@functools.cache
def declared_measure() -> str:
    """The measure the collapse profile declared before its runs (its comparisons: collapse)."""
    return load_profile("collapse").comparisons["collapse"].measure


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per setting
class Setting:
    """The runs of one setting (its seeds), as the collapse notebook summarised them."""

    label: str
    rows: tuple[dict[str, Any], ...]

    @property
    def changes(self) -> dict[str, Any]:
        """What the setting changes from the writeup's."""
        return self.rows[0]["changes"]

    @property
    def seeds(self) -> list[int]:
        """Its seeds."""
        return [row["seed"] for row in self.rows]

    def spread(self, key: str) -> stats.Spread:
        """One summary value over the setting's seeds."""
        return stats.spread(self.values(key))

    def collapse_text(self) -> str:
        """The collapse epoch over the seeds, saying which values are bounds: '69 (15–150 over 5 seeds)'; '> 300 in
        all 5 seeds' (all still cover ten at the compared epoch); 'at least 296 (280 to > 300 over 5 seeds; 3 still
        cover all ten at 300)'; '1 in all 5 seeds: none ever covers all ten'."""
        if not self.has("collapse_epoch"):
            return "not recorded"
        spread, at = self.spread("collapse_epoch"), self.rows[0]["at_epoch"]
        covering = self.covering
        never = sum(row.get("most_digits", 10) < 10 for row in self.rows)  # collapsed at their first monitored epoch
        if covering == spread.n:
            return f"> {at} in all {spread.n} seeds"
        if never == spread.n:
            return f"{spread.text()}: none ever covers all ten"
        notes = [f"{k} {verb}{agreed(k, 's', '')} all ten{tail}" for k, verb, tail in
                 ((covering, "still cover", f" at {at}"), (never, "never cover", "")) if k]
        if covering:
            return (f"at least {spread.mean_text()} ({spread.low:.0f} to > {at} over {spread.n} seeds; "
                    f"{'; '.join(notes)})")
        return spread.text(note="; ".join(notes))

    @property
    def covering(self) -> int:
        """How many seeds still cover all ten digits at the compared epoch (counted as that epoch: lower bounds)."""
        return sum(not row["collapsed"] for row in self.rows)

    def difference_text(self, test: stats.Comparison) -> str:
        """The test's difference in epochs, interval and p ('-41 epochs (95% interval …; adjusted p = 0.254)'); 'at
        least …' where seeds still covering at the compared epoch make the difference a lower bound and cap its
        interval."""
        text = test.text(0, "epochs")
        return f"at least {text[:-1]}; epochs capped at {self.rows[0]['at_epoch']})" if self.covering else text

    def values(self, key: str) -> list[float]:
        """One summary value of each seed."""
        return [row[key] for row in self.rows]

    def has(self, key: str) -> bool:
        """Whether every seed's row holds the value (records before the collapse epoch lack it)."""
        return all(row.get(key) is not None for row in self.rows)

    @property
    def went_on(self) -> bool:
        """Whether its runs trained past the compared epoch."""
        return all(row["final_epoch"] > row["at_epoch"] for row in self.rows)

    @property
    def kept_to_the_end(self) -> int:
        """How many of its seeds still covered all ten digits at their last monitored epoch."""
        return sum(not row.get("final_collapsed", True) for row in self.rows)

    def lost_at(self) -> stats.Spread:
        """The epoch from which its seeds that collapsed by their end stopped covering all ten digits for good."""
        return stats.spread([row["final_collapse_epoch"] for row in self.rows if row.get("final_collapsed", True)])

    def lost_text(self) -> str:
        """When its seeds that collapsed by their end lost the digits for good, with each seed's epoch: '589
        (475–705 over 5 seeds; seed by seed 705, 600, 620, 545 and 475)'."""
        return self.lost_at().text(note=f"seed by seed {joined(f'{epoch:.0f}' for epoch in self.lost_at().values)}")

    def fate(self, later: bool) -> str:
        """A setting that trained past the compared epoch: how its seeds ended, one sentence for the conclusion and
        README; where the test found its collapse later and every seed lost the digits by the end, that it delayed
        the collapse in these runs without preventing it."""
        seeds, kept, end = len(self.rows), self.kept_to_the_end, f"{self.rows[0]['final_epoch']:,}"
        if kept == seeds:
            return f"Run on to epoch {end}, every seed of {self.label} still covers all ten digits at the end."
        who = "every seed" if not kept else f"{seeds - kept} of the {seeds} seeds"
        stop = "stops" if not kept else agreed(seeds - kept, "stops", "stop")  # 'every seed stops', '2 of ... stop'
        verdict = f": within {end} epochs it delays the collapse and does not prevent it" if later and not kept else ""
        return (f"Run on to epoch {end}, {who} of {self.label} {stop} covering all ten digits, "
                f"for good from epoch {self.lost_at().text()}{verdict}.")


def group_settings(rows: list[dict[str, Any]]) -> list[Setting]:
    """The runs grouped by what they change, in the order the notebook listed them (the writeup's first)."""
    labels = list(dict.fromkeys(row["label"] for row in rows))
    return [Setting(label, tuple(row for row in rows if row["label"] == label)) for label in labels]


def outcome(setting: Setting, comparison: stats.Comparison | None) -> Outcome:
    """The setting's outcome by the test of the declared measure (None: the record lacks the measure)."""
    call = comparison.call if comparison else stats.Call.DESCRIPTIVE
    if call is stats.Call.HIGHER:
        return Outcome.KEEPS if not any(row["collapsed"] for row in setting.rows) else Outcome.LATER
    return {stats.Call.LOWER: Outcome.SOONER, stats.Call.CANNOT_TELL: Outcome.UNDECIDED}.get(call, Outcome.DESCRIPTIVE)


ROLES = {  # what a setting tests, by what it changes (the writeup's learning rate is the same for both networks)
    "stronger_d": lambda c, rate: c.get("d_steps", 1) > 1,
    "weaker_d": lambda c, rate: 0 < c.get("disc_learning_rate", 0) < c.get("learning_rate", rate),
    "faster_d": lambda c, rate: c.get("disc_learning_rate", 0) > c.get("learning_rate", rate),
    "faster": lambda c, rate: set(c) == {"learning_rate"} and c["learning_rate"] > rate,
    "slower": lambda c, rate: set(c) == {"learning_rate"} and c["learning_rate"] < rate,
    "beta1": lambda c, rate: "adam_beta1" in c,
    "digit_head": lambda c, rate: bool(c.get("auxiliary")) and not c.get("conditional"),
    "ac_gan": lambda c, rate: bool(c.get("conditional")),
}


def grouped(changed: list[tuple[Setting, Outcome]]) -> list[tuple[Outcome, list[Setting]]]:
    """The tested settings by outcome, in GROUP_WORDS' order (outcomes no setting had left out)."""
    return [(o, found) for o in GROUP_WORDS if (found := [s for s, outcome_of in changed if outcome_of is o])]


def roles(settings: list[Setting], rate: float) -> dict[str, Setting | None]:
    """The settings by what they test (None where the build has no such setting)."""
    return {role: next((s for s in settings if test(s.changes, rate)), None) for role, test in ROLES.items()}


def collapse_study(collapse: RunView) -> dict[str, Any] | None:
    """The collapse run's study (see study_of_rows); None without runs of the writeup's settings."""
    return study_of_rows(collapse.metrics.get("collapse") or [])


def study_of_rows(rows: list[dict[str, Any]], rate: float = GANConfig().learning_rate,
                  measure: str | None = None) -> dict[str, Any] | None:
    """The settings, each with its test against the writeup's by the declared measure and its outcome, the
    settings that trained longer, and the tables; None without runs of the writeup's settings."""
    settings = group_settings(rows)
    writeup = next((s for s in settings if s.label == WRITEUP), None)
    if writeup is None:
        return None
    measure = measure or declared_measure()
    others = [s for s in settings if s is not writeup]
    measured = writeup.has(measure) and all(s.has(measure) for s in others)
    tests = dict(zip(others, stats.compare_groups(measure, writeup.values(measure),
                                                  {s.label: s.values(measure) for s in others}))) if measured else {}
    changed = [(s, outcome(s, tests.get(s))) for s in others]
    by_role = roles(others, rate)
    verdicts = {role: dict(changed).get(s) if s else None for role, s in by_role.items()}
    return {"at_epoch": rows[0]["at_epoch"], "measure": measure, "measured": measured, "writeup": writeup,
            "changed": changed, "groups": grouped(changed), "tests": tests, "role": by_role, "outcome": verdicts,
            "seeds": min(len(s.rows) for s in settings), "compared": len(writeup.rows) >= 2,
            "runs": len(rows), "one_each": all(len(s.rows) == 1 for s in settings),
            "tested": len(writeup.rows) >= 2 and any(t.call is not stats.Call.DESCRIPTIVE for t in tests.values()),
            "longer": [s for s in settings if s.went_on],
            "fates": {s: s.fate(o.later) for s, o in changed if s.went_on},
            "headers": tables.collapse_headers(rows[0]["at_epoch"]), "rows": tables.collapse_rows(rows),
            "setting_headers": setting_headers(rows[0]["at_epoch"]),
            "setting_rows": setting_rows(writeup, changed, tests)}


def setting_headers(at_epoch: int) -> list[str]:
    """The settings table's column headers, naming the compared epoch."""
    return ["setting", "seeds", "collapse epoch", "difference (95% interval)", "adjusted p", f"digits at {at_epoch}",
            f"lowest FD to {at_epoch}", "its epoch", "against the writeup's"]


def difference_cell(test: stats.Comparison | None, setting: Setting) -> str:
    """'+42 (+30 to +55)': a difference and its interval, or what stands in for one with too few seeds; 'at least'
    where seeds still covering at the compared epoch make it a lower bound; '–' untested."""
    if test is None:
        return MISSING
    span = f"{test.low:+.0f} to {test.high:+.0f}" if test.bootstrapped else test.interval(0)
    cell = f"{test.difference:+.0f} ({span})"
    return f"at least {cell[:-1]}, capped)" if setting.covering else cell


def setting_rows(writeup: Setting, changed: list[tuple[Setting, Outcome]],
                 tests: dict[Setting, stats.Comparison]) -> list[list[str]]:
    """One row per setting: its seeds, collapse epoch, the test against the writeup's, and descriptive spreads."""
    def row(s: Setting, test: stats.Comparison | None, verdict: str) -> list[str]:
        epoch = s.collapse_text() if s.has("collapse_epoch") else MISSING
        p = test.p_cell() if test else MISSING
        return [s.label, ", ".join(map(str, s.seeds)), epoch, difference_cell(test, s), p, s.spread("digits").text(),
                s.spread("best_frechet_distance").text(), s.spread("best_epoch").text(), verdict]

    return [row(writeup, None, MISSING), *(row(s, tests.get(s), str(o)) for s, o in changed)]
