"""Calibration (reweighting, 校准加权): make weighted totals match published targets.

Two standard methods:

- :func:`rake` — raking / iterative proportional fitting (IPF) over categorical margins:
  each pass scales the weights of every category of one margin so that its weighted total
  matches the target, cycling through the margins until all match (Deming & Stephan 1940).
- :func:`entropy_balance` — calibration with the entropy (Kullback–Leibler) distance,
  solved in the dual with ``scipy.optimize``: weights ``w = d · exp(X λ)`` closest to the
  design weights ``d`` such that ``Xᵀ w = totals`` (Deville & Särndal 1992; Hainmueller
  2012). With indicator columns it is the same raking solution; it also takes continuous
  constraints such as a mean income.

:func:`calibrate_population` builds the household-level constraint matrix for the targets
in ``params/`` (``calibration.*``: recipients by urban/rural, population by age group,
mean income; sources in the YAML) and reports the fit before and after.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from jiuzhu_sim.exceptions import UserInputError


@dataclass
class CalibrationResult:
    """Result of a calibration.

    Attributes:
        weights: calibrated weights, one per unit (household), same order as the input.
        converged: whether every target is met within the tolerance.
        iterations: passes (raking) or optimizer iterations (entropy balancing).
        fit: one row per target: ``target``, ``target_value``, ``before`` (design weights),
            ``after`` (calibrated weights), ``relative_error_before``, ``relative_error_after``.
        method: ``"raking"`` or ``"entropy"``.
    """

    weights: np.ndarray
    converged: bool
    iterations: int
    fit: pd.DataFrame
    method: str

    # design weights the calibration started from (for the ratio diagnostics)
    base_weights: np.ndarray | None = None

    @property
    def max_relative_error(self) -> float:
        return float(self.fit["relative_error_after"].abs().max())

    @property
    def effective_sample_size(self) -> float:
        """Kish's effective sample size (Σw)² / Σw² of the calibrated weights."""
        return effective_sample_size(self.weights)

    def diagnostics(self) -> dict[str, float]:
        """Weight diagnostics a reader needs beside the fit: units, Kish effective sample size
        before and after, and the range of the calibrated / design weight ratio."""
        d = np.ones_like(self.weights) if self.base_weights is None else self.base_weights
        ratio = self.weights / d
        return {"units": float(len(self.weights)),
                "effective_sample_size_before": effective_sample_size(d),
                "effective_sample_size_after": effective_sample_size(self.weights),
                "weight_ratio_min": float(ratio.min()) if len(ratio) else float("nan"),
                "weight_ratio_max": float(ratio.max()) if len(ratio) else float("nan")}


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw²."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w @ w)) if len(w) else 0.0


def _fit_table(names: Sequence[str], targets: np.ndarray, before: np.ndarray,
               after: np.ndarray, zero_scale: np.ndarray | None = None) -> pd.DataFrame:
    """Fit per target; a zero target's error is relative to ``zero_scale`` (e.g. Σ|x|·w)."""
    fallback = np.ones_like(targets) if zero_scale is None else np.maximum(zero_scale, 1e-300)
    scale = np.where(targets != 0, np.abs(targets), fallback)
    return pd.DataFrame({
        "target": list(names),
        "target_value": targets,
        "before": before,
        "after": after,
        "relative_error_before": (before - targets) / scale,
        "relative_error_after": (after - targets) / scale,
    })


def rake(margins: Mapping[str, np.ndarray], targets: Mapping[str, Sequence[float]],
         base_weights: np.ndarray | None = None, max_iterations: int = 200,
         tolerance: float = 1e-8) -> CalibrationResult:
    """Raking (IPF): weights whose weighted category totals match every margin's targets.

    Args:
        margins: margin name → integer category code per unit (0 .. k-1).
        targets: margin name → target total for each category (length k).
        base_weights: design weights (default 1).
        max_iterations: passes over all margins.
        tolerance: stop when every category total is within this relative error.
    """
    names = list(margins)
    n = len(next(iter(margins.values()))) if names else 0
    d = np.ones(n) if base_weights is None else np.asarray(base_weights, dtype=float)
    codes = {m: np.asarray(margins[m], dtype=np.int64) for m in names}
    goal = {m: np.asarray(targets[m], dtype=float) for m in names}
    for m in names:
        k = len(goal[m])
        if len(codes[m]) != n or (n and (codes[m].min() < 0 or codes[m].max() >= k)):
            raise UserInputError(f"margin {m!r}: category codes must be 0..{k - 1}, one per unit")
        empty = np.bincount(codes[m], minlength=k) == 0
        if np.any(empty & (goal[m] > 0)):
            raise UserInputError(f"margin {m!r}: a category with a positive target has no units")

    def totals(w: np.ndarray) -> dict[str, np.ndarray]:
        return {m: np.bincount(codes[m], weights=w, minlength=len(goal[m])) for m in names}

    w = d.copy()
    converged = False
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        for m in names:
            current = np.bincount(codes[m], weights=w, minlength=len(goal[m]))
            factor = np.divide(goal[m], current, out=np.ones_like(current), where=current > 0)
            w = w * factor[codes[m]]
        now = totals(w)
        worst = max(float(np.max(np.abs(now[m] - goal[m]) / np.maximum(goal[m], 1e-300)))
                    for m in names) if names else 0.0
        if worst <= tolerance:
            converged = True
            break
    before, after = totals(d), totals(w)
    labels = [f"{m}[{i}]" for m in names for i in range(len(goal[m]))]
    fit = _fit_table(labels, np.concatenate([goal[m] for m in names]),
                     np.concatenate([before[m] for m in names]),
                     np.concatenate([after[m] for m in names]))
    return CalibrationResult(w, converged, iterations, fit, "raking")


def entropy_balance(constraints: np.ndarray, totals: Sequence[float],
                    base_weights: np.ndarray | None = None, names: Sequence[str] | None = None,
                    max_iterations: int = 200, tolerance: float = 1e-8,
                    ratio_bounds: tuple[float, float] | None = None) -> CalibrationResult:
    """Entropy balancing: ``w = d · exp(X λ)`` with ``Xᵀ w = totals`` (dual Newton solve).

    Args:
        constraints: n × k matrix X (one row per unit, one column per constraint).
        totals: the k target totals.
        base_weights: design weights d (default 1).
        names: labels of the k constraints for the fit table.
        ratio_bounds: optional (L, U): keep every ``w / d`` inside [L, U] (bounded
            calibration). Solved by an active set: units whose ratio leaves the bounds are
            fixed at the bound and the others are balanced again to the totals less the
            fixed units' share, until no new unit leaves (the trimming of Deville & Särndal's
            bounded distances, with the entropy distance inside). When the bounds are too
            tight for the targets the fit says so and ``converged`` is False.
    """
    x = np.asarray(constraints, dtype=float)
    t = np.asarray(totals, dtype=float)
    n, k = x.shape
    d = np.ones(n) if base_weights is None else np.asarray(base_weights, dtype=float)
    names = list(names) if names is not None else [f"c{i}" for i in range(k)]
    if ratio_bounds is None:
        result = _entropy_solve(x, t, d, names, max_iterations, tolerance)
        result.base_weights = d
        return result
    low, high = (float(b) for b in ratio_bounds)
    if not 0 < low <= 1 <= high:
        raise UserInputError(f"calibration weight-ratio bounds {ratio_bounds} must satisfy "
                             "0 < lower ≤ 1 ≤ upper")
    fixed = np.zeros(n, dtype=bool)
    w = d.copy()
    rounds = 0
    while rounds < max_iterations:  # each round fixes more units at a bound, or stops
        rounds += 1
        free = ~fixed
        rest = _entropy_solve(x[free], t - x[fixed].T @ w[fixed], d[free], names,
                              max_iterations, tolerance)
        w[free] = rest.weights
        ratio = w / d
        out = free & ((ratio < low) | (ratio > high))
        if not out.any():
            break
        w[out] = np.clip(ratio[out], low, high) * d[out]
        fixed |= out
        if fixed.all():
            break
    after = x.T @ w
    fit = _fit_table(names, t, x.T @ d, after, zero_scale=np.abs(x).T @ w)
    converged = bool(np.max(np.abs(fit["relative_error_after"])) <= max(tolerance, 1e-6))
    return CalibrationResult(w, converged, rounds, fit, "entropy (bounded)", d)


def _entropy_solve(x: np.ndarray, t: np.ndarray, d: np.ndarray, names: list[str],
                   max_iterations: int, tolerance: float) -> CalibrationResult:
    """The unbounded entropy-balancing solve (dual, trust-region Newton)."""
    n, k = x.shape
    # scale columns so the dual is well conditioned
    scale = np.maximum(np.abs(x).max(axis=0), 1e-12)
    xs, ts = x / scale, t / scale

    def dual(lam: np.ndarray) -> tuple[float, np.ndarray]:
        w = d * np.exp(np.clip(xs @ lam, -700, 700))
        return float(w.sum() - ts @ lam), xs.T @ w - ts

    def hess(lam: np.ndarray) -> np.ndarray:
        w = d * np.exp(np.clip(xs @ lam, -700, 700))
        return (xs * w[:, None]).T @ xs

    res = optimize.minimize(dual, np.zeros(k), jac=True, hess=hess, method="trust-exact",
                            options={"maxiter": max_iterations, "gtol": 1e-12})
    w = d * np.exp(np.clip(xs @ res.x, -700, 700))
    after = x.T @ w
    fit = _fit_table(names, t, x.T @ d, after, zero_scale=np.abs(x).T @ w)
    converged = bool(np.max(np.abs(fit["relative_error_after"])) <= max(tolerance, 1e-6))
    return CalibrationResult(w, converged, int(res.nit), fit, "entropy")


def age_band_codes(ages: np.ndarray, lower_bounds: Sequence[float]) -> np.ndarray:
    """Age-group code per person: index of the last lower bound ≤ age."""
    return np.searchsorted(np.asarray(lower_bounds, dtype=float), np.asarray(ages, float),
                           side="right") - 1


def calibration_matrix(persons: pd.DataFrame, households: pd.DataFrame, params,
                       recipients: np.ndarray | None = None,
                       ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Household-level constraints X, targets and names from ``calibration.*`` parameters.

    Columns: persons in each age group (``calibration.population_by_age``), dibao recipients
    in urban and in rural households (``calibration.dibao_persons.*``; needs ``recipients``,
    persons covered per household), and the income constraint
    Σ w·(income − mean × members) = 0 (``calibration.mean_income_monthly``).
    """
    hh_ids = households["household_id"].astype(str).to_numpy()
    index = pd.Index(hh_ids)
    pos = index.get_indexer(persons["household_id"].astype(str).to_numpy())
    if np.any(pos < 0):
        raise UserInputError("a person's household_id is not among the households",
                             column="household_id")
    n = len(hh_ids)
    bounds = params["calibration.age_band_lower_bounds"]
    by_age = np.asarray(params["calibration.population_by_age"], dtype=float)
    band = age_band_codes(persons["age"].to_numpy(float), bounds)
    cols, targets, names = [], [], []
    for b in range(len(bounds)):
        cols.append(np.bincount(pos, weights=(band == b).astype(float), minlength=n))
        label = f"{bounds[b]}+" if b == len(bounds) - 1 else f"{bounds[b]}-{bounds[b + 1] - 1}"
        names.append(f"persons aged {label}")
        targets.append(by_age[b])
    if recipients is not None:
        urban = households["urban"].to_numpy(bool)
        rec = np.asarray(recipients, dtype=float)
        for area, mask in (("urban", urban), ("rural", ~urban)):
            cols.append(np.where(mask, rec, 0.0))
            names.append(f"dibao persons {area}")
            targets.append(float(params[f"calibration.dibao_persons.{area}"]))
    members = np.bincount(pos, minlength=n).astype(float)
    income = np.bincount(pos, weights=persons["monthly_income"].to_numpy(float), minlength=n)
    mean_income = float(params["calibration.mean_income_monthly"])
    cols.append(income - mean_income * members)
    names.append("income − mean × persons (mean income)")
    targets.append(0.0)
    return np.column_stack(cols), np.asarray(targets), names


def calibrate_population(persons: pd.DataFrame, households: pd.DataFrame, params,
                         recipients: np.ndarray | None = None,
                         base_weights: np.ndarray | None = None) -> CalibrationResult:
    """Reweight households so weighted totals match the region's ``calibration.*`` targets.

    Design weights start from ``households["weight"]`` (default 1) scaled so the weighted
    population equals ``calibration.population_total``; the fit table reports each target
    before (scaled design weights) and after. The mean-income row is reported as the
    weighted mean income, not the zero-sum constraint.
    """
    x, targets, names = calibration_matrix(persons, households, params, recipients)
    if base_weights is None:
        base_weights = (households["weight"].to_numpy(float) if "weight" in households
                        else np.ones(len(households)))
    n_age = len(params["calibration.age_band_lower_bounds"])
    persons_per_hh = x[:, :n_age].sum(axis=1)
    total = float(params["calibration.population_total"])
    d = np.asarray(base_weights, float) * total / float(persons_per_hh @ base_weights)
    bounds = params.get("calibration.weight_ratio_bounds", None)
    result = entropy_balance(x, targets, d, names,
                             max_iterations=int(params.get("calibration.max_iterations", 200)),
                             tolerance=float(params.get("calibration.tolerance", 1e-8)),
                             ratio_bounds=None if not bounds else tuple(bounds))
    income = x[:, -1] + float(params["calibration.mean_income_monthly"]) * persons_per_hh
    fit = result.fit.copy()
    mean_target = float(params["calibration.mean_income_monthly"])
    before = float(income @ d / (persons_per_hh @ d))
    after = float(income @ result.weights / (persons_per_hh @ result.weights))
    fit.loc[fit.index[-1], ["target", "target_value", "before", "after",
                            "relative_error_before", "relative_error_after"]] = [
        "mean income per person per month", mean_target, before, after,
        (before - mean_target) / mean_target, (after - mean_target) / mean_target]
    result.fit = fit
    return result
