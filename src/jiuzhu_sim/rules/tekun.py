"""Tekun (特困人员救助供养, extreme-poverty support) rules — POLICY.md §3.5 and §4.

A tekun person has no work capacity, no income source and no legal supporter able to
support them (POLICY.md §3.5; 004 二). The terms follow the national tekun rule, 民发〔2021〕43号
特困人员认定办法, as POLICY.md §3.5 (updated) states it; its numbers are parameters
(``params/national/tekun_definitions.yaml``, ``tekun.elderly_age`` / ``tekun.minor_age`` /
``tekun.minor_age_in_school`` in ``params/national/tekun.yaml``):

- **no work capacity** (无劳动能力, :func:`no_work_capacity`): aged ≥ ``tekun.elderly_age``;
  a minor (age < ``tekun.minor_age``, or < ``tekun.minor_age_in_school`` when in school);
  disabled with a grade 1..``tekun.no_work_capacity.max_disability_grade.<type>`` for the
  person's disability type (national: intellectual and mental 1–3, physical 1–2, visual 1;
  the national rule names no other type, so hearing, speech and multiple are 0 = never — a
  province adds them by setting the parameter, as the rule's "other situations" let it);
  or seriously ill when ``tekun.no_work_capacity.serious_illness`` is true (the input's
  ``serious_illness`` flag is read as an illness a local department certified). The input
  ``work_capacity`` column is the assessor's judgement of earning ability; the national
  rule defines the term by these categories, so the tekun test does not read it (it still
  drives the dibao employment-income disregard).
- **no income source** (无生活来源, :func:`no_income_source`): own monthly income below the
  local **dibao** standard (not the tekun basic standard). The tekun asset rule is not
  modelled (the input has household assets only).
- **no supporter**: ``has_supporter`` false (the input flag already means "a supporter able
  to support").

The county's dibao single-person (单列) grades (``dibao.severe_disability_max_grade_
intellectual_mental``, e.g. Quangang's 4) are a dibao rule and are never read here.

A tekun person gets tekun instead of dibao (002 §二(六)) and is assessed as a separate
unit; see :mod:`jiuzhu_sim.rules.engine` for how the rest of the household is treated.
"""

from __future__ import annotations

import numpy as np

from jiuzhu_sim.rules import DISABILITY_TYPES, round_money

CARE_LEVELS = ("self_care", "semi_care", "full_care")

NO_WORK_CAPACITY_PARAMETERS = (
    "tekun.elderly_age", "tekun.minor_age", "tekun.minor_age_in_school",
    *(f"tekun.no_work_capacity.max_disability_grade.{t}" for t in DISABILITY_TYPES),
    "tekun.no_work_capacity.serious_illness",
)
"""The parameters :func:`no_work_capacity` reads (see :func:`no_work_capacity_parameters`)."""


def no_work_capacity_parameters(params) -> dict:
    """The keyword arguments of :func:`no_work_capacity` from a parameter set."""
    return {
        "elderly_age": float(params["tekun.elderly_age"]),
        "minor_age": float(params["tekun.minor_age"]),
        "minor_age_in_school": float(params["tekun.minor_age_in_school"]),
        "max_disability_grade_by_type": np.array(
            [int(params[f"tekun.no_work_capacity.max_disability_grade.{t}"])
             for t in DISABILITY_TYPES], dtype=np.int64),
        "serious_illness_counts": bool(params["tekun.no_work_capacity.serious_illness"]),
    }


def disabled_without_work_capacity(disability_grade: np.ndarray, disability_type_code: np.ndarray,
                                   max_disability_grade_by_type: np.ndarray) -> np.ndarray:
    """Disability that means no work capacity (POLICY.md §3.5, 民发〔2021〕43号): grade
    1..max for the person's type (``max_disability_grade_by_type[code]``; type code −1 =
    none, never)."""
    grade = np.asarray(disability_grade)
    code = np.asarray(disability_type_code)
    limit = np.asarray(max_disability_grade_by_type)[np.maximum(code, 0)]
    return (code >= 0) & (grade >= 1) & (grade <= limit)


def no_work_capacity(age: np.ndarray, disability_grade: np.ndarray,
                     disability_type_code: np.ndarray, serious_illness: np.ndarray,
                     in_school: np.ndarray, *, elderly_age: float, minor_age: float,
                     minor_age_in_school: float, max_disability_grade_by_type: np.ndarray,
                     serious_illness_counts: bool) -> np.ndarray:
    """无劳动能力 by the national definitions (POLICY.md §3.5; parameters
    :data:`NO_WORK_CAPACITY_PARAMETERS`): elderly, minor, disabled by type and grade
    (:func:`disabled_without_work_capacity`), or seriously ill if that counts."""
    age = np.asarray(age, dtype="float64")
    minor = (age < minor_age) | (np.asarray(in_school, dtype=bool) & (age < minor_age_in_school))
    out = (age >= elderly_age) | minor | disabled_without_work_capacity(
        disability_grade, disability_type_code, max_disability_grade_by_type)
    if serious_illness_counts:
        out = out | np.asarray(serious_illness, dtype=bool)
    return out


def no_income_source(own_income: np.ndarray, dibao_standard: np.ndarray) -> np.ndarray:
    """无生活来源 (POLICY.md §3.5, 民发〔2021〕43号): own monthly income strictly below the
    local dibao standard (POLICY.md §10: "低于" is strict). NaN income → False."""
    return np.asarray(own_income, dtype="float64") < np.asarray(dibao_standard, dtype="float64")


def tekun_person(no_work_capacity: np.ndarray, no_income_source: np.ndarray,
                 has_supporter: np.ndarray) -> np.ndarray:
    """Tekun (POLICY.md §3.5): no work capacity, no income source and no supporter able to
    support."""
    return (np.asarray(no_work_capacity, dtype=bool) & np.asarray(no_income_source, dtype=bool)
            & ~np.asarray(has_supporter, dtype=bool))


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


def care_standard(care_standards: np.ndarray, care_code: np.ndarray) -> np.ndarray:
    """The care standard (照料护理标准, POLICY.md §2, 000 二(一)) of each person's care level:
    ``care_standards`` rows × :data:`CARE_LEVELS` (``tekun.care_standard.*``), ``care_code``
    the index of the level per row."""
    table = np.asarray(care_standards, dtype="float64")
    return table[np.arange(len(table)), np.asarray(care_code, dtype=np.int64)]
