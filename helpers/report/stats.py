"""The one statistical procedure behind every sentence of the report that compares settings.

A profile declares, before its runs, each comparison and the one measure that decides it (its `comparisons:`).
Each group of seeds is set beside the reference group by an exact two-sided permutation test of the difference in
means (scipy.stats.permutation_test over every split of the pooled seeds, up to ten seeds a side; random splits
beyond); the p-values of one study are adjusted
by Holm's method; a percentile bootstrap interval of the difference (95%, resampling each group's seeds) stands
beside each verdict. A group is called different only when its adjusted p is below ALPHA; otherwise the runs cannot
tell the two apart. Where the seed counts cannot reach ALPHA at all (three against three: the smallest exact p is
0.10), the comparison is descriptive only. An equivalence claim needs a margin stated in advance and the whole
interval inside it.
"""

from __future__ import annotations

import enum
import functools
import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from helpers.common.measures import MISSING

ALPHA = 0.05  # the family-wise error rate of one study's comparisons (Holm)
CONFIDENCE = 0.95  # of the bootstrap interval
RESAMPLES = 10_000  # bootstrap resamples
EXACT_SPLITS = 200_000  # up to this many splits of the pooled seeds (10 against 10) the permutation test takes all
SEED = 0  # the bootstrap's draws: the same interval on every build
POWER = 0.8  # the power at which the smallest detectable effect is stated
POWER_DRAWS = 4_000  # simulated studies per effect size when finding it (its power to about ±0.01)
POWER_SPLITS = 5_000  # splits per simulated study: every one up to this many (6 against 6), else random ones
INTERVAL_SEEDS = 3  # fewer seeds a side and the bootstrap interval is only the range of the seed pairs' differences


@dataclass(frozen=True)
class Spread:
    """One setting's values over its seeds, described: mean and range."""

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

    def text(self, digits: int = 0, noun: str = "", note: str = "") -> str:
        """'9.7 (9–10 over 3 seeds)', '69 (15–150 over 5 seeds)', '2 in all 3 seeds', or '9 (1 seed)'; a noun goes
        after the number ('2 digits in all 3 seeds'), a note inside the brackets ('(1–15 over 5 seeds; 3 never …)')."""
        noun, more = (f" {noun}" if noun else ""), (f"; {note}" if note else "")
        if self.n == 1:
            return f"{self.values[0]:,.{digits}f}{noun} (1 seed{more})"
        if f"{self.low:,.{digits}f}" == f"{self.high:,.{digits}f}":  # equal as printed
            return f"{self.low:,.{digits}f}{noun} in all {self.n} seeds" + (f" ({note})" if note else "")
        return (f"{self.mean_text(digits)}{noun} ({self.low:,.{digits}f}–{self.high:,.{digits}f} over {self.n} "
                f"seeds{more})")

    def mean_text(self, digits: int = 0) -> str:
        """The mean as printed: a mean of whole numbers (digits covered, epochs) keeps one decimal unless it is whole
        ('5.6', '69')."""
        return f"{self.mean:,.{digits}f}" if digits else f"{self.mean:,.1f}".removesuffix(".0")


def spread(values: Sequence[float]) -> Spread:
    """The spread of values over seeds."""
    return Spread(tuple(float(v) for v in values))


class Call(enum.StrEnum):
    """What one comparison lets a sentence say."""

    HIGHER = "higher"  # adjusted p < ALPHA, the group's mean above the reference's
    LOWER = "lower"
    CANNOT_TELL = "cannot tell apart"  # tested, adjusted p >= ALPHA
    DESCRIPTIVE = "descriptive only"  # too few seeds for the exact test to reach ALPHA

    @property
    def different(self) -> bool:
        """Whether the test tells the group apart from the reference."""
        return self in (Call.HIGHER, Call.LOWER)


@dataclass(frozen=True)
class Comparison:
    """One group's seeds against the reference's by one measure: the test, its adjusted p and the interval."""

    label: str
    measure: str
    values: tuple[float, ...]
    reference: tuple[float, ...]
    p: float  # exact two-sided permutation p (nan when descriptive only)
    adjusted_p: float  # Holm-adjusted over the study's comparisons
    low: float  # bootstrap interval of mean(values) - mean(reference)
    high: float

    @property
    def difference(self) -> float:
        """The difference in means, group minus reference."""
        return statistics.fmean(self.values) - statistics.fmean(self.reference)

    @property
    def call(self) -> Call:
        """What the test lets a sentence say."""
        if math.isnan(self.p):
            return Call.DESCRIPTIVE
        if self.adjusted_p >= ALPHA:
            return Call.CANNOT_TELL
        return Call.HIGHER if self.difference > 0 else Call.LOWER

    def record(self) -> dict[str, float | str | None]:
        """The comparison as a record keeps it: difference, interval, p, adjusted p and the call."""
        return {"measure": self.measure, "n": len(self.values), "n_reference": len(self.reference),
                "difference": self.difference, "low": self.low, "high": self.high,
                "p": None if math.isnan(self.p) else self.p,  # null where untested: a record stays strict JSON
                "adjusted_p": None if math.isnan(self.adjusted_p) else self.adjusted_p, "call": str(self.call)}

    @property
    def bootstrapped(self) -> bool:
        """Whether low and high are a bootstrap interval; with fewer than INTERVAL_SEEDS a side they are the range of
        the differences between one seed of each side (bootstrap_interval)."""
        return min(len(self.values), len(self.reference)) >= INTERVAL_SEEDS

    def interval(self, digits: int = 1) -> str:
        """'95% interval +30.0 to +55.0', with too few seeds 'seed pairs differ by +30.0 to +55.0', with one seed
        a side 'one seed a side'."""
        if len(self.values) == len(self.reference) == 1:
            return "one seed a side"
        words = f"{CONFIDENCE:.0%} interval" if self.bootstrapped else "seed pairs differ by"
        return f"{words} {self.low:+,.{digits}f} to {self.high:+,.{digits}f}"

    def p_cell(self) -> str:
        """The adjusted p as a table gives it: '0.008', or the missing mark where the test could not be made."""
        return MISSING if self.call is Call.DESCRIPTIVE else f"{self.adjusted_p:.3f}"

    def text(self, digits: int = 1, unit: str = "") -> str:
        """'+42.0 (95% interval +30.0 to +55.0; adjusted p = 0.008)', the numbers beside a verdict; a unit goes
        after the difference ('-41 epochs (…)')."""
        p = "exact test not possible" if math.isnan(self.p) else f"adjusted p = {self.adjusted_p:.3f}"
        return f"{self.difference:+,.{digits}f}{f' {unit}' if unit else ''} ({self.interval(digits)}; {p})"


def difference_in_means(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """mean(a) - mean(b) along axis (the statistic of the test and of the interval)."""
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def smallest_p(n: int, m: int) -> float:
    """The smallest two-sided p an exact permutation test of n against m distinct values can give: 2 / C(n+m, n)."""
    return min(1.0, 2 / math.comb(n + m, n))


def testable(n: int, m: int, comparisons: int = 1) -> bool:
    """Whether n against m seeds can reach ALPHA after Holm's correction over that many comparisons (its first
    step, the strictest, divides ALPHA by their number)."""
    return n >= 2 and m >= 2 and smallest_p(n, m) < ALPHA / comparisons


def permutation_p(values: Sequence[float], reference: Sequence[float]) -> float:
    """The two-sided permutation p of the difference in means: exact (every split of the pooled values) up to
    EXACT_SPLITS splits, beyond that from EXACT_SPLITS random ones (fixed draws, in batches: memory stays small)."""
    if len(set(values) | set(reference)) == 1:
        return 1.0  # every value equal: no split differs
    exact = math.comb(len(values) + len(reference), len(values)) <= EXACT_SPLITS
    result = stats.permutation_test((np.asarray(values, float), np.asarray(reference, float)), difference_in_means,
                                    permutation_type="independent", alternative="two-sided", vectorized=True,
                                    n_resamples=math.inf if exact else EXACT_SPLITS, batch=10_000,
                                    rng=np.random.default_rng(SEED))
    return float(result.pvalue)


def bootstrap_interval(values: Sequence[float], reference: Sequence[float]) -> tuple[float, float]:
    """The percentile bootstrap interval of the difference in means (each group resampled on its own); with fewer
    than INTERVAL_SEEDS a side, the range of the differences between one seed of each side (what the percentile
    bootstrap of two seeds gives anyway, named for what it is)."""
    if min(len(values), len(reference)) < INTERVAL_SEEDS:
        return float(min(values) - max(reference)), float(max(values) - min(reference))
    if len(set(values) | set(reference)) == 1:
        return 0.0, 0.0
    result = stats.bootstrap((np.asarray(values, float), np.asarray(reference, float)), difference_in_means,
                             n_resamples=RESAMPLES, confidence_level=CONFIDENCE, method="percentile",
                             vectorized=True, rng=np.random.default_rng(SEED))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def mean_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """The mean of one setting's seeds and its percentile bootstrap interval (the mean itself for one seed)."""
    mean = statistics.fmean(values)
    if len(values) < 2 or len(set(values)) == 1:
        return mean, mean, mean
    result = stats.bootstrap((np.asarray(values, float),), np.mean, n_resamples=RESAMPLES, confidence_level=CONFIDENCE,
                             method="percentile", rng=np.random.default_rng(SEED))
    return mean, float(result.confidence_interval.low), float(result.confidence_interval.high)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: the k-th smallest p times (m - k + 1), kept monotone, capped at 1."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [math.nan] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def compare_groups(measure: str, reference: Sequence[float], groups: dict[str, Sequence[float]]
                   ) -> list[Comparison]:
    """Every group against the reference by the measure: exact tests where the seed counts allow them, Holm's
    adjustment over those, and an interval for each."""
    tested = {label: values for label, values in groups.items() if testable(len(values), len(reference), len(groups))}
    raw = {label: permutation_p(values, reference) for label, values in tested.items()}
    adjusted = dict(zip(raw, holm(list(raw.values()))))
    return [Comparison(label, measure, tuple(map(float, values)), tuple(map(float, reference)),
                       raw.get(label, math.nan), adjusted.get(label, math.nan), *bootstrap_interval(values, reference))
            for label, values in groups.items()]


def equivalent(comparison: Comparison, margin: float) -> bool:
    """Whether an equivalence claim holds: the whole interval of the difference inside ±margin, stated in advance."""
    return -margin < comparison.low and comparison.high < margin


def split_masks(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """Which pooled values form the first group, one row per split: every split up to POWER_SPLITS, else that many
    random ones (a power estimate needs no more)."""
    if math.comb(n + m, n) <= POWER_SPLITS:
        chosen = np.array(list(itertools.combinations(range(n + m), n)))
    else:
        chosen = np.argsort(rng.random((POWER_SPLITS, n + m)), axis=1)[:, :n]
    masks = np.zeros((len(chosen), n + m))
    np.put_along_axis(masks, chosen, 1.0, axis=1)
    return masks


def rejection_rate(effect: float, noise: np.ndarray, masks: np.ndarray, n: int, level: float) -> float:
    """How often the exact permutation test rejects at the level when the first n of each row of noise are shifted
    by effect: its two-sided p as permutation_p computes it (twice the smaller tail, the observed split counted)."""
    pooled = noise + np.r_[np.full(n, effect), np.zeros(noise.shape[1] - n)]
    m = noise.shape[1] - n
    null = (pooled @ masks.T) * (1 / n + 1 / m) - pooled.sum(axis=1, keepdims=True) / m  # mean(first) - mean(rest)
    observed = (pooled[:, :n].mean(1) - pooled[:, n:].mean(1))[:, None]
    slack = 1e-9 * np.abs(observed).clip(min=1)
    tails = np.minimum((null >= observed - slack).mean(1), (null <= observed + slack).mean(1))
    return float(np.mean(np.minimum(1.0, 2 * tails) < level))


@functools.cache  # the same few seed counts on every build: simulated once
def detectable_effect(n: int, m: int, comparisons: int = 1, power: float = POWER) -> float:
    """The smallest difference in means, in standard deviations of the seeds, that the exact permutation test
    detects with this power at its strictest Holm level (ALPHA over the comparisons), for normally spread seeds:
    POWER_DRAWS simulated studies with fixed draws, the effect found by bisection to 0.01; inf where the seed
    counts cannot reach that level at all."""
    level = ALPHA / max(1, comparisons)
    if not testable(n, m, max(1, comparisons)):
        return math.inf
    rng = np.random.default_rng(SEED)
    noise, masks = rng.standard_normal((POWER_DRAWS, n + m)), split_masks(n, m, rng)
    low, high = 0.0, 20.0
    while high - low > 0.01:
        middle = (low + high) / 2
        low, high = (low, middle) if rejection_rate(middle, noise, masks, n, level) >= power else (middle, high)
    return high
