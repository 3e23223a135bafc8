"""The rule behind every comparison the report words: three seeds or more per setting, and a difference only where
the seeds' ranges lie apart; otherwise the runs cannot tell the settings apart.

With three seeds a side, ranges that do not overlap arise by chance in 2 of the 20 ways of ranking six values
(either direction), so the rule calls a difference at about the 10% level and says nothing finer; a margin can
ask the ranges to lie further apart than that.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIN_SEEDS = 3  # fewer seeds of either setting and the comparison is not made


class Verdict(enum.StrEnum):
    """How one setting's seeds compare with another's."""

    HIGHER = "higher"  # every seed's value above every seed's value of the other setting (by more than the margin)
    LOWER = "lower"
    OVERLAP = "overlap"  # the ranges overlap: the runs cannot tell the settings apart
    TOO_FEW = "too few seeds"

    @property
    def apart(self) -> bool:
        """Whether the seeds tell the settings apart."""
        return self in (Verdict.HIGHER, Verdict.LOWER)


@dataclass(frozen=True)
class Spread:
    """One setting's values over its seeds."""

    values: tuple[float, ...]

    @property
    def n(self) -> int:
        """How many seeds."""
        return len(self.values)

    @property
    def mean(self) -> float:
        """The mean over seeds."""
        return statistics.fmean(self.values)

    @property
    def low(self) -> float:
        """The smallest value."""
        return min(self.values)

    @property
    def high(self) -> float:
        """The largest value."""
        return max(self.values)

    def text(self, digits: int = 0) -> str:
        """'9.7 (9–10 over 3 seeds)', or '9 (1 seed)'."""
        if self.n == 1:
            return f"{self.values[0]:,.{digits}f} (1 seed)"
        mean_digits = digits or 1  # a mean of whole numbers (digits covered, epochs) keeps one decimal
        return f"{self.mean:,.{mean_digits}f} ({self.low:,.{digits}f}–{self.high:,.{digits}f} over {self.n} seeds)"


def spread(values: Sequence[float]) -> Spread:
    """The spread of values over seeds."""
    return Spread(tuple(float(v) for v in values))


def compare(a: Spread, b: Spread, margin: float = 0.0) -> Verdict:
    """a against b by the rule: TOO_FEW below MIN_SEEDS either side, HIGHER (LOWER) when a's range lies above
    (below) b's by more than margin, else OVERLAP."""
    if min(a.n, b.n) < MIN_SEEDS:
        return Verdict.TOO_FEW
    if a.low - b.high > margin:
        return Verdict.HIGHER
    if b.low - a.high > margin:
        return Verdict.LOWER
    return Verdict.OVERLAP
