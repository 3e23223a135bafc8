"""The collapse study's findings: GAN runs grouped into settings, each setting's seeds against the writeup's.

A setting delays the plain GAN's collapse, prevents it (within the epochs run), hastens it, or cannot be told
apart from the writeup's settings, by the rule of helpers.report.evidence over its seeds: the digits the samples
cover at the end of training and the epoch of their lowest Fréchet distance. The functions return numbers and
names; report/sections/collapse.md.j2 words them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from helpers.common import tables
from helpers.common.reference import WRITEUP_GAN_EPOCHS
from helpers.config import GANConfig
from helpers.report.evidence import MIN_SEEDS, Spread, Verdict, compare, spread
from helpers.report.runview import RunView

WRITEUP = "the writeup's settings"  # the label of runs that change nothing (helpers.evaluation.collapse)


class Outcome(enum.StrEnum):
    """What a setting does to the collapse, against the writeup's settings."""

    PREVENTS = "prevents"  # more digits at the end than every writeup seed, and no seed lost a digit by then
    DELAYS = "delays"  # more digits at the end but still losing some, or the lowest FD later, the end no different
    HASTENS = "hastens"  # fewer digits at the end, or the lowest FD sooner
    UNDECIDED = "undecided"  # the seeds' ranges overlap: the runs cannot tell the setting apart
    TOO_FEW = "too few seeds"

    @property
    def words(self) -> str:
        """The outcome as the clause after a setting's name, worded alike in the report and README."""
        return OUTCOME_WORDS[self]

    @property
    def holds_off(self) -> bool:
        """Whether the setting holds the collapse off: prevents or delays it."""
        return self in (Outcome.PREVENTS, Outcome.DELAYS)


class Balance(enum.StrEnum):
    """What the settings that tilt the game toward one network say together (see balance)."""

    OPPOSITE = "opposite"  # the stronger discriminator hastens the collapse, the weaker holds it off, the faster not
    DISAGREE = "disagree"  # as OPPOSITE, but the faster discriminator holds it off too


OUTCOME_WORDS = {Outcome.PREVENTS: "prevents the collapse within the epochs run",
                 Outcome.DELAYS: "delays the collapse rather than preventing it",
                 Outcome.HASTENS: "hastens the collapse",
                 Outcome.UNDECIDED: "cannot be told apart from the writeup's settings",
                 Outcome.TOO_FEW: "has too few seeds to be compared"}


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

    def spread(self, key: str) -> Spread:
        """One summary value over the setting's seeds."""
        return spread([row[key] for row in self.rows])

    @property
    def loses_digits(self) -> bool:
        """Whether every seed ends with fewer digits than it once covered."""
        return all(row["final_digits"] < row["most_digits"] for row in self.rows)

    @property
    def keeps_digits(self) -> bool:
        """Whether no seed ends with fewer digits than it once covered."""
        return all(row["final_digits"] >= row["most_digits"] for row in self.rows)


def group_settings(rows: list[dict[str, Any]]) -> list[Setting]:
    """The runs grouped by what they change, in the order the notebook listed them (the writeup's first)."""
    labels = list(dict.fromkeys(row["label"] for row in rows))
    return [Setting(label, tuple(row for row in rows if row["label"] == label)) for label in labels]


def outcome(setting: Setting, writeup: Setting) -> Outcome:
    """The rule applied to the digits at the end and the epoch of the lowest FD, in that order."""
    digits = compare(setting.spread("final_digits"), writeup.spread("final_digits"))
    best = compare(setting.spread("best_epoch"), writeup.spread("best_epoch"))
    if digits is Verdict.TOO_FEW:
        return Outcome.TOO_FEW
    if digits is Verdict.HIGHER:
        return Outcome.PREVENTS if setting.keeps_digits else Outcome.DELAYS
    if digits is Verdict.LOWER:
        return Outcome.HASTENS
    if best.apart:
        return Outcome.DELAYS if best is Verdict.HIGHER else Outcome.HASTENS
    return Outcome.UNDECIDED


ROLES = {  # what a setting tests, by what it changes (the writeup's learning rate is the same for both networks)
    "stronger_d": lambda c, rate: c.get("d_steps", 1) > 1,
    "weaker_d": lambda c, rate: 0 < c.get("disc_learning_rate", 0) < c.get("learning_rate", rate),
    "faster_d": lambda c, rate: c.get("disc_learning_rate", 0) > c.get("learning_rate", rate),
    "faster": lambda c, rate: set(c) == {"learning_rate"} and c["learning_rate"] > rate,
    "slower": lambda c, rate: set(c) == {"learning_rate"} and c["learning_rate"] < rate,
    "digit_head": lambda c, rate: bool(c.get("auxiliary")) and not c.get("conditional"),
    "ac_gan": lambda c, rate: bool(c.get("conditional")),
}


def roles(settings: list[Setting], rate: float) -> dict[str, Setting | None]:
    """The settings by what they test (None where the build has no such setting)."""
    return {role: next((s for s in settings if test(s.changes, rate)), None) for role, test in ROLES.items()}


def collapse_study(collapse: RunView) -> dict[str, Any] | None:
    """The collapse run's study (see study_of_rows); None without runs of the writeup's settings."""
    return study_of_rows(collapse.metrics.get("collapse") or [])


def study_of_rows(rows: list[dict[str, Any]], rate: float = GANConfig().learning_rate) -> dict[str, Any] | None:
    """The settings, each with its outcome against the writeup's, and what the whole study can say; None without
    runs of the writeup's settings."""
    settings = group_settings(rows)
    writeup = next((s for s in settings if s.label == WRITEUP), None)
    if writeup is None:
        return None
    changed = [(s, outcome(s, writeup)) for s in settings if s is not writeup]
    by_role = roles([s for s, _ in changed], rate)
    verdicts = {role: dict(changed).get(s) if s else None for role, s in by_role.items()}
    return {"at_epoch": rows[0]["at_epoch"], "writeup": writeup, "changed": changed, "role": by_role,
            "outcome": verdicts, "balance": balance(verdicts), "compared": len(writeup.rows) >= MIN_SEEDS,
            "full_length": min(row["final_epoch"] for row in rows) >= WRITEUP_GAN_EPOCHS,
            "headers": tables.collapse_headers(rows[0]["at_epoch"]), "rows": tables.collapse_rows(rows),
            "setting_headers": SETTING_HEADERS, "setting_rows": setting_rows(writeup, changed)}


def balance(verdicts: dict[str, Outcome | None]) -> Balance | None:
    """What the settings that tilt the game say together: OPPOSITE when the stronger discriminator hastens the
    collapse and the weaker one holds it off while the faster one does not; DISAGREE when the faster one holds it
    off too; None otherwise."""
    weaker, faster = verdicts.get("weaker_d"), verdicts.get("faster_d")
    if verdicts.get("stronger_d") is not Outcome.HASTENS or not (weaker and weaker.holds_off):
        return None
    return Balance.DISAGREE if faster and faster.holds_off else Balance.OPPOSITE


SETTING_HEADERS = ["setting", "seeds", "digits at the end", "most digits", "epoch of the lowest FD",
                   "FD at the end", "against the writeup's"]


def setting_rows(writeup: Setting, changed: list[tuple[Setting, Outcome]]) -> list[list[str]]:
    """One row per setting: its seeds' spreads, and the rule's outcome against the writeup's settings."""
    return [[s.label, ", ".join(map(str, s.seeds)), s.spread("final_digits").text(),
             s.spread("most_digits").text(), s.spread("best_epoch").text(),
             s.spread("final_frechet_distance").text(), str(verdict)]
            for s, verdict in [(writeup, "–"), *changed]]
