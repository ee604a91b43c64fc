"""Metrics as pure functions of arrays (docs/metrics.md), hand-worked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jiuzhu_sim import metrics


def test_rates_with_weights():
    eligible = np.array([True, True, False, False])
    enrolled = np.array([True, False, True, False])
    w = np.array([2.0, 1.0, 1.0, 1.0])
    # coverage 2 / 3, exclusion 1 / 3, inclusion 1 / (2 + 1)
    assert metrics.coverage_rate(eligible, enrolled, w) == pytest.approx(2 / 3)
    assert metrics.exclusion_error_rate(eligible, enrolled, w) == pytest.approx(1 / 3)
    assert metrics.inclusion_error_rate(eligible, enrolled, w) == pytest.approx(1 / 3)


def test_zero_denominators_are_none_and_json_null():
    none = np.zeros(3, dtype=bool)
    assert metrics.coverage_rate(none, none) is None
    assert metrics.exclusion_error_rate(none, none) is None
    assert metrics.inclusion_error_rate(none, none) is None
    assert metrics.leakage_rate(np.zeros(3), none) is None
    assert metrics.cgh_index(np.zeros(3), np.zeros(3), np.ones(3)) is None
    assert metrics.fgt(np.zeros(0), np.zeros(0), np.zeros(0)) is None
    assert json.dumps({"x": metrics.coverage_rate(none, none)}) == '{"x": null}'


def test_leakage():
    # paid 500 (eligible, weight 2) and 188.2 (ineligible): 188.2 / (1000 + 188.2)
    out = metrics.leakage_rate(np.array([500.0, 188.2]), np.array([True, False]),
                               np.array([2.0, 1.0]))
    assert out == pytest.approx(188.2 / 1188.2)


def test_fgt_family_person_weighted():
    # incomes 441 (2 persons), 741 (1), 1000 (1), 2000 (1); line 941
    # FGT0 = 3/5; FGT1 = (2 × 500/941 + 200/941) / 5 = 1200 / 4705;
    # FGT2 = (2 × (500/941)² + (200/941)²) / 5
    y = np.array([441.0, 741.0, 1000.0, 2000.0])
    m = np.array([2, 1, 1, 1])
    z = np.full(4, 941.0)
    out = metrics.fgt_family(y, z, m)
    assert out["fgt0"] == pytest.approx(0.6)
    assert out["fgt1"] == pytest.approx(1200 / 4705)
    assert out["fgt2"] == pytest.approx((2 * (500 / 941) ** 2 + (200 / 941) ** 2) / 5)


def test_cgh_index_bottom_40_percent():
    # 5 persons; the poorest 2 (= 40%) are household A, which gets 1000 of 1188.2:
    # (1000 / 1188.2) / 0.4 = 2.10402...
    y = np.array([441.0, 741.0, 1000.0, 2000.0])
    transfer = np.array([500.0, 0.0, 188.2, 0.0])
    w = np.array([2.0, 1.0, 1.0, 1.0])
    m = np.array([1, 1, 1, 1])
    assert metrics.cgh_index(y, transfer, m, w) == pytest.approx(1000 / 1188.2 / 0.4)


def test_cgh_straddling_household_counts_fractionally():
    # 4 single-person households, bottom 40% = 1.6 persons: all of the poorest and 0.6 of the
    # second. Transfers 10 and 10 of 20: (10 + 0.6 × 10) / 20 / 0.4 = 2.0
    y = np.array([1.0, 2.0, 3.0, 4.0])
    out = metrics.cgh_index(y, np.array([10.0, 10.0, 0.0, 0.0]), np.ones(4))
    assert out == pytest.approx(2.0)


def test_cgh_does_not_depend_on_order_of_ties():
    y = np.array([5.0, 5.0, 9.0])
    t = np.array([10.0, 0.0, 0.0])
    a = metrics.cgh_index(y, t, np.ones(3))
    b = metrics.cgh_index(y[::-1], t[::-1], np.ones(3))
    assert a == pytest.approx(b)


def test_fgt_family_is_fgt_for_each_alpha_to_the_bit():
    """fgt_family computes the gaps once: each figure is fgt's for its α, exactly (lines of
    zero, missing incomes, weights)."""
    rng = np.random.default_rng(7)
    n = 5000
    y = np.round(rng.lognormal(6.5, 0.8, n))
    y[::11] = np.nan
    z = rng.choice([0.0, 700.0, 941.0], n)
    m = rng.integers(1, 6, n)
    w = rng.uniform(0.5, 3.0, n)
    family = metrics.fgt_family(y, z, m, w)
    assert family == {f"fgt{a}": metrics.fgt(y, z, m, w, a) for a in (0, 1, 2)}


def test_cgh_bracket_hand_worked_when_the_household_ranks_are_far_from_the_persons(
        monkeypatch):
    """The selection path (from CGH_SELECT_FROM households; here from 1): 100 households with
    incomes 1..100, the poorest of 1,000 persons, the others of 1 — 1,099 persons, the bottom
    40% = 439.6, all inside the poorest household, far from household rank 40, so the bracket
    has to widen to reach it. Transfers 100 to the poorest and 100 to the one at income 51:
    0.4396 × 100 = 43.96 of 200 reach the bottom 40%: 43.96 / 200 / 0.4 = 0.5495."""
    monkeypatch.setattr(metrics, "CGH_SELECT_FROM", 1)
    y = np.arange(1.0, 101.0)
    m = np.ones(100)
    m[0] = 1000
    t = np.zeros(100)
    t[[0, 50]] = 100.0
    assert metrics.cgh_index(y, t, m) == pytest.approx(0.5495)
    # the earlier hand-worked cases through the same path
    assert metrics.cgh_index(np.array([1.0, 2.0, 3.0, 4.0]), np.array([10.0, 10.0, 0.0, 0.0]),
                             np.ones(4)) == pytest.approx(2.0)
    assert metrics.cgh_index(np.array([441.0, 741.0, 1000.0, 2000.0]),
                             np.array([500.0, 0.0, 188.2, 0.0]), np.ones(4),
                             np.array([2.0, 1.0, 1.0, 1.0])) == pytest.approx(1000 / 1188.2 / 0.4)


def test_cgh_bracket_is_the_whole_sort_on_many_households():
    """Above CGH_SELECT_FROM only the incomes around the cut are sorted; the figure is the one
    from sorting them all (ties, heterogeneous weights and household sizes, any share)."""
    rng = np.random.default_rng(3)
    for trial in range(20):
        n = metrics.CGH_SELECT_FROM + int(rng.integers(0, 50_000))
        y = np.round(rng.lognormal(6, 1, n), int(rng.integers(-2, 2)))  # many ties
        m = rng.integers(1, 7, n).astype(float)
        if trial % 2:
            m[y < np.quantile(y, 0.3)] *= 4  # the poor in larger households
        w = rng.uniform(0, 3, n)
        t = np.where(rng.random(n) < 0.1, rng.uniform(0, 500, n), 0.0)
        share = float(rng.uniform(0.01, 0.99))
        whole = (metrics._money_to_bottom(y, w * m, w * t, share * (w * m).sum())
                 / (w * t).sum() / share)
        assert metrics.cgh_index(y, t, m, w, share) == pytest.approx(whole, rel=1e-12)


def test_cgh_a_transfer_to_a_household_of_no_persons_reaches_no_one(monkeypatch):
    """100 households at incomes 1..100, one person each but the poorest, which has none and
    gets 100; the one at income 2 gets 100 too. 99 persons, the bottom 40% = 39.6: incomes 2
    to 41 (0.6 of the last). The transfer to no one reaches no one: 100 of 200 →
    100 / 200 / 0.4 = 1.25, with the bracket path on (from 1 household) or not."""
    y = np.arange(1.0, 101.0)
    m = np.ones(100)
    m[0] = 0
    t = np.zeros(100)
    t[[0, 1]] = 100.0
    assert metrics.cgh_index(y, t, m) == pytest.approx(1.25)
    monkeypatch.setattr(metrics, "CGH_SELECT_FROM", 1)
    assert metrics.cgh_index(y, t, m) == pytest.approx(1.25)
