"""The report's one statistical procedure: exact permutation tests, Holm's correction, bootstrap intervals."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest

from helpers.report import stats


def brute_force_p(a: list[float], b: list[float]) -> float:
    """The exact two-sided permutation p by enumerating every split of the pooled values."""
    pooled, observed = a + b, abs(statistics.fmean(a) - statistics.fmean(b))
    splits = list(itertools.combinations(range(len(pooled)), len(a)))
    extreme = 0
    for chosen in splits:
        left = [pooled[i] for i in chosen]
        right = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        extreme += abs(statistics.fmean(left) - statistics.fmean(right)) >= observed - 1e-12
    return extreme / len(splits)


@pytest.mark.parametrize("a, b", [([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]), ([3, 5, 4, 9, 2], [1, 2, 6, 4, 3]),
                                  ([300, 300, 300, 300, 300], [110, 95, 140, 120, 100])])
def test_the_permutation_p_is_the_exact_share_of_splits_at_least_as_extreme(a, b):
    assert stats.permutation_p(a, b) == pytest.approx(brute_force_p(a, b))


def test_past_the_exact_limit_the_p_comes_from_random_splits_in_small_batches():
    a, b = [float(i) for i in range(15)], [i + 6.0 for i in range(15)]  # 155 million splits: exact would need 17 GB
    assert math.comb(30, 15) > stats.EXACT_SPLITS
    p = stats.permutation_p(a, b)
    assert 0.0005 < p < 0.003 and p == stats.permutation_p(a, b)  # near the t test's 0.001; the same draws each time


def test_five_seeds_a_side_can_reach_the_level_and_three_cannot():
    assert stats.smallest_p(5, 5) == pytest.approx(2 / 252) and stats.smallest_p(3, 3) == pytest.approx(0.1)
    assert stats.testable(5, 5, comparisons=6) and not stats.testable(3, 3)
    assert not stats.testable(5, 5, comparisons=7)  # 2/252 is not below 0.05/7: Holm's first step cannot pass


def test_holm_multiplies_the_kth_smallest_p_by_the_comparisons_left_and_stays_monotone():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])


def test_a_group_is_called_different_only_below_the_level_after_correction():
    reference = [1, 2, 3, 4, 5]
    found = {c.label: c for c in stats.compare_groups("x", reference, {
        "apart": [6, 7, 8, 9, 10], "mixed": [1, 3, 2, 5, 4], "three seeds": [9, 9, 10]})}
    assert found["apart"].call is stats.Call.HIGHER and found["apart"].adjusted_p == pytest.approx(4 / 252)
    assert found["mixed"].call is stats.Call.CANNOT_TELL
    assert found["three seeds"].call is stats.Call.DESCRIPTIVE and math.isnan(found["three seeds"].p)
    assert found["apart"].low < 5 < found["apart"].high  # the interval holds the difference in means
    assert found["apart"].text() == "+5.0 (95% interval +3.2 to +6.8; adjusted p = 0.016)"


def test_two_seeds_a_side_give_the_seed_pairs_range_named_as_such_not_a_confidence_interval():
    two = stats.compare_groups("x", [10.0, 12.0], {"two seeds": [1.0, 4.0]})[0]
    assert (two.low, two.high) == (-11.0, -6.0) and not two.bootstrapped  # 1 - 12 and 4 - 10
    assert two.text() == "-8.5 (seed pairs differ by -11.0 to -6.0; exact test not possible)"
    one = stats.compare_groups("x", [10.0], {"one seed": [4.0]})[0]
    assert one.text() == "-6.0 (one seed a side; exact test not possible)"


def test_an_equivalence_claim_needs_the_whole_interval_inside_its_margin():
    close = stats.compare_groups("x", [1.0, 1.1, 0.9, 1.0, 1.05], {"bf16": [1.02, 1.08, 0.95, 1.01, 1.0]})[0]
    assert stats.equivalent(close, margin=0.2) and not stats.equivalent(close, margin=0.01)


def test_the_detectable_effect_shrinks_with_seeds_and_is_infinite_where_no_test_can_pass():
    assert stats.detectable_effect(3, 3) == math.inf
    five, ten = stats.detectable_effect(5, 5), stats.detectable_effect(10, 10)
    assert 1.0 < ten < five < 2.5  # in standard deviations of the seeds, at the 5% level with 80% power
    assert stats.detectable_effect(5, 5, comparisons=6) > five  # Holm's strictest level asks for more


def test_the_power_is_the_exact_tests_own_at_six_comparisons_five_seeds_reject_only_on_complete_separation():
    rng = np.random.default_rng(1)
    noise, masks = rng.standard_normal((2_000, 10)), stats.split_masks(5, 5, rng)
    shifted = noise + np.r_[np.full(5, 2.0), np.zeros(5)]
    apart = np.mean((shifted[:, :5].min(1) > shifted[:, 5:].max(1)) | (shifted[:, :5].max(1) < shifted[:, 5:].min(1)))
    assert stats.rejection_rate(2.0, noise, masks, 5, stats.ALPHA / 6) == apart
    assert stats.rejection_rate(2.0, noise, masks, 5, stats.ALPHA) > apart  # at 0.05 near-separations pass too
