"""Calibration: raking and entropy balancing meet their margins (population/reweight.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.population.reweight import (
    age_band_codes,
    calibrate_population,
    entropy_balance,
    rake,
)


def test_rake_one_margin_is_a_ratio_adjustment():
    # two urban units (weight 1 each) and one rural unit; targets urban 10, rural 4:
    # urban weights become 10/2 = 5 each, rural 4/1 = 4 — one pass, exact.
    result = rake({"area": np.array([0, 0, 1])}, {"area": [10, 4]})
    assert result.converged
    np.testing.assert_allclose(result.weights, [5, 5, 4])


def test_rake_two_margins_converges_to_the_classic_solution():
    # 2×2 table, one unit per cell, rows target (30, 70), columns target (40, 60).
    # With equal starting weights IPF converges to the independence table
    # w[r, c] = row_r × col_c / 100: (12, 18, 28, 42).
    rows = np.array([0, 0, 1, 1])
    cols = np.array([0, 1, 0, 1])
    result = rake({"row": rows, "col": cols}, {"row": [30, 70], "col": [40, 60]})
    assert result.converged
    np.testing.assert_allclose(result.weights, [12, 18, 28, 42], rtol=1e-7)
    assert result.max_relative_error < 1e-7
    # the fit table reports before (all ones) and after
    assert list(result.fit["before"]) == [2, 2, 2, 2]


def test_rake_rejects_an_empty_category_with_a_target():
    with pytest.raises(UserInputError, match="no units"):
        rake({"area": np.array([0, 0])}, {"area": [10, 4]})


def test_entropy_balance_matches_indicator_and_continuous_totals():
    rng = np.random.default_rng(1)
    n = 500
    urban = rng.random(n) < 0.4
    income = rng.gamma(2.0, 1000.0, n)
    x = np.column_stack([urban, ~urban, income]).astype(float)
    targets = [300.0, 400.0, 700 * 2500.0]  # 700 units, mean income 2500
    result = entropy_balance(x, targets, names=["urban", "rural", "income"])
    assert result.converged
    np.testing.assert_allclose(x.T @ result.weights, targets, rtol=1e-6)
    assert np.all(result.weights > 0)


def test_entropy_balance_equals_raking_on_one_margin():
    codes = np.array([0, 0, 1, 1, 1])
    x = np.column_stack([codes == 0, codes == 1]).astype(float)
    ent = entropy_balance(x, [8, 3])
    ipf = rake({"m": codes}, {"m": [8, 3]})
    np.testing.assert_allclose(ent.weights, ipf.weights, rtol=1e-6)


def test_bounded_entropy_balance_fixes_a_unit_at_its_bound():
    # units u1 (1,0), u2 (1,1), u3 (0,1), design weights 1, totals (3, 3).
    # Unbounded: w = (y, y², y) with y + y² = 3 → y = (−1 + √13)/2 = 1.30278, y² = 1.69722.
    # Bounds [0.5, 1.5]: u2 (1.697 > 1.5) is fixed at 1.5; u1 and u3 then carry 3 − 1.5 each:
    # w = (1.5, 1.5, 1.5), every total met, every ratio inside the bounds.
    x = np.array([[1, 0], [1, 1], [0, 1]], dtype=float)
    y = (-1 + np.sqrt(13)) / 2
    free = entropy_balance(x, [3, 3])
    np.testing.assert_allclose(free.weights, [y, y * y, y], rtol=1e-6)
    bounded = entropy_balance(x, [3, 3], ratio_bounds=(0.5, 1.5))
    assert bounded.converged
    np.testing.assert_allclose(bounded.weights, [1.5, 1.5, 1.5], rtol=1e-6)
    diag = bounded.diagnostics()
    assert diag["weight_ratio_max"] <= 1.5 + 1e-9
    # Kish: (Σw)² / Σw² = 4.5² / (3 × 2.25) = 3 (equal weights: every unit counts)
    assert diag["effective_sample_size_after"] == pytest.approx(3.0)


def test_bounds_too_tight_for_the_totals_say_so():
    # four units, one total of 10, ratio at most 2: the best is 4 × 2 = 8 — not converged,
    # and the fit table shows the shortfall (8 − 10) / 10 = −20%
    result = entropy_balance(np.ones((4, 1)), [10.0], ratio_bounds=(0.5, 2.0))
    assert not result.converged
    np.testing.assert_allclose(result.weights, [2, 2, 2, 2])
    assert result.fit["relative_error_after"].iloc[0] == pytest.approx(-0.2)


def test_bounds_must_bracket_one():
    with pytest.raises(UserInputError, match="lower ≤ 1 ≤ upper"):
        entropy_balance(np.ones((2, 1)), [2.0], ratio_bounds=(1.5, 3.0))


def test_age_bands_follow_lower_bounds():
    assert list(age_band_codes(np.array([0, 14, 15, 59, 60, 90]), [0, 15, 60])) == [
        0, 0, 1, 1, 2, 2]


class _Params(dict):
    def get(self, key, default=None):
        return super().get(key, default)


def test_calibrate_population_reports_fit_before_and_after():
    # six households (one person each keeps the hand arithmetic short):
    # ages 8, 30, 40, 70, 65, 10; urban a, b, e; dibao persons 0, 0, 1, 1, 1, 1.
    households = pd.DataFrame({"household_id": list("abcdef"),
                               "urban": [True, True, False, False, True, False]})
    persons = pd.DataFrame({
        "household_id": list("abcdef"),
        "age": [8, 30, 40, 70, 65, 10],
        "monthly_income": [0.0, 4000.0, 2000.0, 500.0, 1000.0, 0.0],
    })
    recipients = np.array([0, 0, 1, 1, 1, 1])
    # targets are the totals of the weights (10, 30, 20, 15, 5, 20) = 100 persons:
    # ages 0-14: 10 + 20 = 30; 15-59: 30 + 20 = 50; 60+: 15 + 5 = 20;
    # urban dibao: e = 5; rural dibao: c + d + f = 20 + 15 + 20 = 55;
    # mean income = (30×4000 + 20×2000 + 15×500 + 5×1000) / 100 = 1725.
    params = _Params({
        "calibration.age_band_lower_bounds": [0, 15, 60],
        "calibration.population_by_age": [30.0, 50.0, 20.0],
        "calibration.population_total": 100.0,
        "calibration.dibao_persons.urban": 5.0,
        "calibration.dibao_persons.rural": 55.0,
        "calibration.mean_income_monthly": 1725.0,
    })
    result = calibrate_population(persons, households, params, recipients=recipients)
    assert result.converged
    fit = result.fit.set_index("target")
    assert fit.loc["dibao persons urban", "after"] == pytest.approx(5.0, rel=1e-6)
    assert fit.loc["dibao persons rural", "after"] == pytest.approx(55.0, rel=1e-6)
    assert fit.loc["mean income per person per month", "after"] == pytest.approx(1725, rel=1e-6)
    # before: design weights scaled to 100 persons = 100/6 per household;
    # ages 0-14 (a, f): 2 × 100/6 = 33.33; mean income = 7500/6 = 1250
    assert fit.loc["persons aged 0-14", "before"] == pytest.approx(200 / 6)
    assert fit.loc["mean income per person per month", "before"] == pytest.approx(1250.0)
    np.testing.assert_allclose(result.weights, [10, 30, 20, 15, 5, 20], rtol=1e-5)
