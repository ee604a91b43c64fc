"""Targeting, cost and poverty metrics — pure functions of arrays (formulas in docs/metrics.md).

Every function takes survey weights (household weights; person-weighted measures use
weight × members). A rate whose denominator is zero is ``None`` (null in JSON), never a
crash or a NaN.
"""

from __future__ import annotations

import numpy as np

CGH_BOTTOM_SHARE = 0.4
"""Coady, Grosh & Hoddinott (2004) compare the share of transfers reaching the poorest 40%
of the population with 40% — a definition of the index, not a policy number."""


def _w(weight, n: int) -> np.ndarray:
    return np.ones(n) if weight is None else np.asarray(weight, dtype="float64")


def safe_ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is 0."""
    if denominator == 0 or not np.isfinite(denominator):
        return None
    return float(numerator) / float(denominator)


def weighted_count(mask: np.ndarray, weight=None) -> float:
    mask = np.asarray(mask, dtype=bool)
    return float(_w(weight, len(mask))[mask].sum())


def coverage_rate(eligible, enrolled, weight=None) -> float | None:
    """Share of eligible households enrolled: Σw[eligible ∧ enrolled] / Σw[eligible]."""
    eligible, enrolled = np.asarray(eligible, bool), np.asarray(enrolled, bool)
    w = _w(weight, len(eligible))
    return safe_ratio(w[eligible & enrolled].sum(), w[eligible].sum())


def exclusion_error_rate(eligible, enrolled, weight=None) -> float | None:
    """漏保: Σw[eligible ∧ ¬enrolled] / Σw[eligible]."""
    eligible, enrolled = np.asarray(eligible, bool), np.asarray(enrolled, bool)
    w = _w(weight, len(eligible))
    return safe_ratio(w[eligible & ~enrolled].sum(), w[eligible].sum())


def inclusion_error_rate(eligible, enrolled, weight=None) -> float | None:
    """错保: Σw[enrolled ∧ ¬eligible] / Σw[enrolled]."""
    eligible, enrolled = np.asarray(eligible, bool), np.asarray(enrolled, bool)
    w = _w(weight, len(eligible))
    return safe_ratio(w[enrolled & ~eligible].sum(), w[enrolled].sum())


def leakage_rate(paid, eligible, weight=None) -> float | None:
    """Share of money paid to ineligible households: Σw·paid[¬eligible] / Σw·paid."""
    paid, eligible = np.asarray(paid, dtype="float64"), np.asarray(eligible, bool)
    w = _w(weight, len(paid))
    return safe_ratio((w * paid)[~eligible].sum(), (w * paid).sum())


def _poverty_gaps(per_capita_income, poverty_line, members, weight):
    """(person weights w·m, poor: y < z with z > 0, the normalised gap (z − y)/z of the
    poor, 0 elsewhere) — the parts of :func:`fgt`."""
    y = np.asarray(per_capita_income, dtype="float64")
    z = np.asarray(poverty_line, dtype="float64")
    pw = _w(weight, len(y)) * np.asarray(members, dtype="float64")
    poor = (y < z) & (z > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(poor, (z - y) / np.where(z > 0, z, 1.0), 0.0)
    return pw, poor, gap


def fgt(per_capita_income, poverty_line, members, weight=None, alpha: int = 0) -> float | None:
    """Foster–Greer–Thorbecke index, person-weighted (every member of a household has the
    household's per-capita income): Σ w·m·[y<z]·((z−y)/z)^α / Σ w·m."""
    pw, poor, gap = _poverty_gaps(per_capita_income, poverty_line, members, weight)
    terms = np.where(poor, gap ** alpha if alpha else 1.0, 0.0)
    return safe_ratio(float((pw * terms).sum()), float(pw.sum()))


def fgt_family(per_capita_income, poverty_line, members, weight=None) -> dict[str, float | None]:
    """:func:`fgt` for α = 0, 1, 2, the gaps computed once (the same figures)."""
    pw, poor, gap = _poverty_gaps(per_capita_income, poverty_line, members, weight)
    total = float(pw.sum())
    return {"fgt0": safe_ratio(float((pw * poor).sum()), total),
            "fgt1": safe_ratio(float((pw * gap).sum()), total),
            "fgt2": safe_ratio(float((pw * (gap * gap)).sum()), total)}


def cgh_index(pre_transfer_per_capita_income, transfer, members, weight=None,
              bottom_share: float = CGH_BOTTOM_SHARE) -> float | None:
    """Coady–Grosh–Hoddinott index: (share of transfers going to the poorest
    ``bottom_share`` of persons, ranked by pre-transfer per-capita income) / ``bottom_share``.

    Households straddling the cut-off count fractionally; households with equal income are
    pooled first, so the result does not depend on row order. 1 = neutral targeting,
    > 1 progressive. None when nothing is transferred or there are no persons.
    """
    y = np.asarray(pre_transfer_per_capita_income, dtype="float64")
    w = _w(weight, len(y))
    pw = w * np.asarray(members, dtype="float64")
    money = w * np.asarray(transfer, dtype="float64")
    total_money, total_persons = money.sum(), pw.sum()
    if total_money <= 0 or total_persons <= 0:
        return None
    cut = bottom_share * total_persons
    # (a transfer to a household of no persons counts for no one, pooled or not: the
    # whole sort decides those)
    bracket = (_cgh_bracket(y, pw, cut) if len(y) >= CGH_SELECT_FROM
               and not np.isnan(y).any() and not ((pw == 0) & (money != 0)).any() else None)
    if bracket is None:
        to_bottom = _money_to_bottom(y, pw, money, cut)
    else:  # every level below the bracket counts whole, every level above it not at all
        low, inside = bracket
        to_bottom = (float(money[low].sum())
                     + _money_to_bottom(y[inside], pw[inside], money[inside],
                                        cut - float(pw[low].sum())))
    return float(to_bottom / total_money / bottom_share)


# From this many households on, cgh_index sorts only the incomes around the cut-off
# (:func:`_cgh_bracket`) instead of all of them: the same figure (sums taken in another
# order: equal to about 1e-15 relative, far below summary.json's six digits) in a fraction
# of the time.
CGH_SELECT_FROM = 65_536


def _money_to_bottom(y, pw, money, cut) -> float:
    """Σ money of the persons ranked lowest by ``y`` up to ``cut`` persons: equal incomes
    pooled, the level straddling the cut counted fractionally."""
    levels, inverse = np.unique(y, return_inverse=True)
    persons_at = np.bincount(inverse, weights=pw, minlength=len(levels))
    money_at = np.bincount(inverse, weights=money, minlength=len(levels))
    before = np.cumsum(persons_at) - persons_at
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip(np.where(persons_at > 0, (cut - before) / persons_at, 0.0), 0.0, 1.0)
    return float((money_at * frac).sum())


def _cgh_bracket(y, pw, cut):
    """Masks ``(low, inside)``: incomes below a value ``lo`` and within ``[lo, hi]``, where the
    persons below ``lo`` are at most ``cut`` and those up to ``hi`` at least ``cut`` — so the
    level straddling the cut lies inside. ``lo`` and ``hi`` are the incomes at household
    ranks around the cut's share, found by selection (``np.partition``, linear time); the
    ranks widen until they bracket it. None when only the whole range does."""
    n = len(y)
    k = int(n * cut / pw.sum()) if pw.sum() > 0 else 0
    half = max(n // 64, 1)
    while half < n:
        ranks = [max(k - half, 0), min(k + half, n - 1)]
        part = np.partition(y, ranks)
        lo, hi = part[ranks[0]], part[ranks[1]]
        del part
        low = y < lo
        below = pw[low].sum()
        inside = (y >= lo) & (y <= hi)
        if below <= cut <= below + pw[inside].sum():
            return low, inside
        half *= 4
    return None

