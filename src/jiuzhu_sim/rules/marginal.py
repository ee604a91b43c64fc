"""Marginal (低保边缘家庭, low-income) households — POLICY.md §3.6, CONTRACT §4."""

from __future__ import annotations

import numpy as np

from jiuzhu_sim.rules import round_money


def marginal_household(per_capita_income: np.ndarray, standard: np.ndarray,
                       threshold: np.ndarray, assets_pass: np.ndarray,
                       covered_whole: np.ndarray) -> np.ndarray:
    """Per-capita income ≥ standard and < threshold (k × standard), assets pass, and the
    household is not covered whole by dibao (``household`` or ``expenditure`` type)."""
    pc = np.asarray(per_capita_income, dtype="float64")
    return ((pc >= standard) & (pc < threshold) & np.asarray(assets_pass, dtype=bool)
            & ~np.asarray(covered_whole, dtype=bool))


def marginal_benefit(is_marginal: np.ndarray, standard: np.ndarray, members: np.ndarray, *,
                     share_of_standard: float, rounding: str | None) -> np.ndarray:
    """Optional cash aid: ``marginal.monthly_benefit_share`` × standard × members (0 by
    default: marginal households get special assistance, not cash — POLICY.md §1), rounded
    once by ``rounding`` (the ``marginal.benefit_rounding`` rule); None leaves it
    unrounded."""
    amount = np.where(is_marginal, share_of_standard * np.asarray(standard)
                      * np.asarray(members, dtype="float64"), 0.0)
    return amount if rounding is None else round_money(amount, rounding,
                                                       "marginal.benefit_rounding")
