"""Temporary assistance (临时救助) — POLICY.md §2 and §4 (003 "分级分类分档")."""

from __future__ import annotations

import numpy as np

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.rules import round_money


def temporary_assistance_amount(standard: np.ndarray | float, severity: np.ndarray | int,
                                tier_multiples_of_standard: list[float],
                                rounding: str | None) -> np.ndarray:
    """One-off amount = standard × ``temporary.tier_multiples_of_standard[severity]``,
    rounded once by ``rounding`` (the ``temporary.benefit_rounding`` rule); None leaves it
    unrounded.

    ``severity`` is a 0-based tier index (0 = mildest). An index outside the tier list is a
    user mistake (:class:`UserInputError`).
    """
    tiers = np.asarray(tier_multiples_of_standard, dtype="float64")
    sev = np.asarray(severity)
    if sev.size and (sev.min() < 0 or sev.max() >= len(tiers)):
        raise UserInputError(f"temporary assistance severity must be 0..{len(tiers) - 1}",
                             column="severity")
    amount = np.asarray(standard, dtype="float64") * tiers[sev.astype(int)]
    return amount if rounding is None else round_money(amount, rounding,
                                                       "temporary.benefit_rounding")
