"""Tekun (特困人员救助供养, extreme-poverty support) rules — POLICY.md §3.5 and §4.

Reading of POLICY.md §3.5 ("no work capacity, no income source, no legal supporter (or
supporter unable) — aged 60+, disabled, or minors") encoded here:

- **category**: age ≥ ``tekun.elderly_age``; or disabled with grade 1..``tekun.disability_max_grade``
  (any type) or 1..``dibao.severe_disability_max_grade_intellectual_mental`` for
  intellectual/mental disability; or a minor: age < ``tekun.minor_age``, or
  age < ``tekun.minor_age_in_school`` when in school;
- **and all three "no"s**: ``work_capacity`` is false; ``has_supporter`` is false (the input
  flag already means "a supporter able to support"); and "no income source" is read as own
  monthly income < ``tekun.income_limit_ratio_to_basic`` × the tekun basic standard.

A tekun person gets tekun instead of dibao (002 §二(六)) and is assessed as a separate
unit; see :mod:`jiuzhu_sim.simulation` for how the rest of the household is treated.
"""

from __future__ import annotations

import numpy as np

from jiuzhu_sim.rules import round_money

CARE_LEVELS = ("self_care", "semi_care", "full_care")


def tekun_category(age: np.ndarray, disability_grade: np.ndarray,
                   intellectual_or_mental: np.ndarray, in_school: np.ndarray, *,
                   elderly_age: float, disability_max_grade: int,
                   disability_max_grade_intellectual_mental: int, minor_age: float,
                   minor_age_in_school: float) -> np.ndarray:
    """Elderly, disabled or minor (POLICY.md §3.5 categories)."""
    age = np.asarray(age, dtype="float64")
    grade = np.asarray(disability_grade)
    disabled = (grade >= 1) & ((grade <= disability_max_grade)
                               | (np.asarray(intellectual_or_mental)
                                  & (grade <= disability_max_grade_intellectual_mental)))
    minor = (age < minor_age) | (np.asarray(in_school, dtype=bool) & (age < minor_age_in_school))
    return (age >= elderly_age) | disabled | minor


def tekun_eligible(category: np.ndarray, work_capacity: np.ndarray, has_supporter: np.ndarray,
                   monthly_income: np.ndarray, basic_standard: np.ndarray, *,
                   income_limit_ratio: float) -> np.ndarray:
    """Tekun person: in a category and no work capacity, no supporter, no income source
    (own income < ``income_limit_ratio`` × basic standard) — POLICY.md §3.5."""
    no_income = np.asarray(monthly_income, dtype="float64") \
        < income_limit_ratio * np.asarray(basic_standard, dtype="float64")
    return (np.asarray(category, dtype=bool) & ~np.asarray(work_capacity, dtype=bool)
            & ~np.asarray(has_supporter, dtype=bool) & no_income)


def tekun_benefit(eligible: np.ndarray, institutional: np.ndarray, basic_standard: np.ndarray,
                  institutional_basic_standard: np.ndarray, care_standard: np.ndarray, *,
                  institutional_multiplier: float, multiplier_applies_to_care: bool,
                  rounding: str | None = None) -> np.ndarray:
    """Monthly tekun benefit per person (POLICY.md §4, 000 二(一)): basic living standard
    (institutional 集中供养: the institutional basic standard) + care standard for the care
    level (× ``institutional_multiplier`` for institutional persons only if
    ``multiplier_applies_to_care``). 0 for non-tekun persons. Yuan, rounded once by
    ``rounding`` (the ``tekun.benefit_rounding`` rule: fen, jiao, yuan, ceil_yuan); None
    leaves the amount unrounded."""
    inst = np.asarray(institutional, dtype=bool)
    basic = np.where(inst, institutional_basic_standard, basic_standard)
    care = np.asarray(care_standard, dtype="float64")
    if multiplier_applies_to_care:
        care = np.where(inst, care * institutional_multiplier, care)
    amount = np.where(eligible, basic + care, 0.0)
    return amount if rounding is None else round_money(amount, rounding,
                                                       "tekun.benefit_rounding")
