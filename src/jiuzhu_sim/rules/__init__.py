"""Eligibility and benefit rules, one module per program (POLICY.md §3–4).

Every function here is pure and vectorised over households or persons (numpy arrays in,
numpy arrays out), takes its policy numbers as arguments (read from ``params/`` by the
caller) and draws no random numbers: rules are deterministic (STYLE.md).

- :mod:`jiuzhu_sim.rules.dibao` — 最低生活保障: asset test, income disregard, the three
  coverage paths (whole household, expenditure-type, single person), top-up, add-ons,
  gradual exit.
- :mod:`jiuzhu_sim.rules.tekun` — 特困人员救助供养: who is tekun, and the benefit.
- :mod:`jiuzhu_sim.rules.marginal` — 低保边缘家庭.
- :mod:`jiuzhu_sim.rules.temporary` — 临时救助 tier amounts.
"""

from __future__ import annotations

import numpy as np

MONTHS_PER_YEAR = 12
DIBAO_TYPES = ("none", "household", "expenditure", "single")
"""Codes of ``dibao_type`` (index = integer code used internally)."""
TYPE_NONE, TYPE_HOUSEHOLD, TYPE_EXPENDITURE, TYPE_SINGLE = range(4)
DISABILITY_TYPES = ("physical", "visual", "hearing", "speech", "intellectual", "mental",
                    "multiple")
"""Codes of ``disability_type`` (CONTRACT §3; index = the integer code a
:class:`~jiuzhu_sim.population.model.Population` holds, −1 = none)."""
NO_DISABILITY_TYPE = -1


def round_yuan(amount: np.ndarray | float) -> np.ndarray:
    """Money amounts in yuan to 2 decimals (fen), half away from zero.

    ``sign(x) × floor(|x| × 100 + 0.5 + 1e-6) / 100``: the 1e-6 fen absorbs binary noise, so
    12.345 (stored as 12.34499…) → 12.35; −0 never appears.
    """
    x = np.asarray(amount, dtype="float64")
    out = np.floor(np.abs(x) * 100.0 + 0.500001) / 100.0
    return np.where(x < 0, -out, out) + 0.0


MONEY_ROUNDING = ("fen", "jiao", "yuan", "ceil_yuan")


def round_money(amount: np.ndarray | float, rule: str,
                parameter: str = "dibao.benefit_rounding") -> np.ndarray:
    """A paid amount rounded by a rounding rule parameter (``dibao.benefit_rounding``,
    ``tekun.benefit_rounding``; ``parameter`` names it in errors): ``fen`` (0.01 yuan, half
    away from zero: :func:`round_yuan`), ``jiao`` (0.1 yuan, half away), ``yuan`` (whole yuan,
    half away) or ``ceil_yuan`` (up to whole yuan). Amounts stay float64. Each rule rounds
    the raw amount once (no double rounding through the fen): callers pass unrounded
    amounts; a millionth of a unit absorbs binary noise. An unknown rule is a
    :class:`~jiuzhu_sim.exceptions.ParameterError`."""
    if rule == "fen":
        return round_yuan(amount)
    x = np.asarray(amount, dtype="float64")
    if rule in ("jiao", "yuan"):
        step = 10.0 if rule == "jiao" else 1.0
        out = np.floor(np.abs(x) * step + 0.500001) / step
        return np.where(x < 0, -out, out) + 0.0
    if rule == "ceil_yuan":
        return np.ceil(x - 1e-6) + 0.0
    from jiuzhu_sim.exceptions import ParameterError

    raise ParameterError(f"unknown money rounding rule {rule!r} ({', '.join(MONEY_ROUNDING)})",
                         column=parameter)
