"""Dibao (最低生活保障, minimum living guarantee) rules — POLICY.md §3.1–3.4 and §4.

Pure, vectorised functions. Household-level arrays have one entry per household;
person-level arrays one per person. The orchestration (which arrays feed which function,
in the CONTRACT §4 order) lives in :mod:`jiuzhu_sim.rules.engine`.

Amounts are returned **unrounded**: the household's payment is rounded once, at the end,
by ``dibao.benefit_rounding`` (:func:`jiuzhu_sim.rules.round_money`), so no part of it
(top-up, single-person amounts, minimum, add-ons, gradual-exit amount) is rounded twice.
"""

from __future__ import annotations

import numpy as np

from jiuzhu_sim.rules import MONTHS_PER_YEAR

INTELLECTUAL_MENTAL = ("intellectual", "mental")


def severe_disability(grade: np.ndarray, intellectual_or_mental: np.ndarray, max_grade: int,
                      max_grade_intellectual_mental: int) -> np.ndarray:
    """Severely disabled (重度残疾): grade 1..``max_grade`` of any type, or grade
    1..``max_grade_intellectual_mental`` for intellectual/mental disability (POLICY.md §3.2;
    000 二(二) "重度残疾人（含智力、精神三级残疾）"). Grade 0 means no disability."""
    grade = np.asarray(grade)
    disabled = grade >= 1
    return disabled & ((grade <= max_grade)
                       | (np.asarray(intellectual_or_mental) & (grade <= max_grade_intellectual_mental)))


def asset_test(financial_assets: np.ndarray, members: np.ndarray, standard: np.ndarray,
               non_essential_vehicle: np.ndarray, dwellings: np.ndarray, *,
               asset_limit_months: float, vehicle_disqualifies: bool,
               max_dwellings: int) -> np.ndarray:
    """The asset test (财产状况, POLICY.md §3.1, all limits are parameters).

    Passes when financial assets per member ≤ ``asset_limit_months`` × standard, the
    household has no non-essential vehicle (if ``vehicle_disqualifies``) and at most
    ``max_dwellings`` dwellings. A household with no members to assess fails.
    """
    parts = asset_test_parts(financial_assets, members, standard, non_essential_vehicle,
                             dwellings, asset_limit_months=asset_limit_months,
                             vehicle_disqualifies=vehicle_disqualifies,
                             max_dwellings=max_dwellings)
    return parts["financial_assets"] & parts["vehicle"] & parts["dwellings"]


def asset_test_parts(financial_assets: np.ndarray, members: np.ndarray, standard: np.ndarray,
                     non_essential_vehicle: np.ndarray, dwellings: np.ndarray, *,
                     asset_limit_months: float, vehicle_disqualifies: bool,
                     max_dwellings: int) -> dict[str, np.ndarray]:
    """The three parts of :func:`asset_test`, each a pass mask (``jiuzhu explain`` shows
    them): ``financial_assets`` ≤ ``asset_limit_months`` × standard × members (and members >
    0), ``vehicle`` (no non-essential vehicle, if it disqualifies), ``dwellings`` ≤ max."""
    members = np.asarray(members, dtype="float64")
    money = (members > 0) & (np.asarray(financial_assets)
                             <= asset_limit_months * np.asarray(standard) * members)
    vehicle = np.ones(money.shape, dtype=bool)
    if vehicle_disqualifies:
        vehicle = ~np.asarray(non_essential_vehicle, dtype=bool) & vehicle
    return {"financial_assets": money, "vehicle": vehicle,
            "dwellings": np.asarray(dwellings) <= max_dwellings}


def employment_income_disregard(monthly_income: np.ndarray, earner: np.ndarray,
                                standard: np.ndarray, *, share: float,
                                cap_months: float) -> np.ndarray:
    """Per person: earned income disregarded in the assessment (收入扣减, POLICY.md §3.4).

    ``share`` × own income, capped at ``cap_months`` × standard per earner; 0 for
    non-earners. Who is an earner is decided by the caller (working age, work capacity,
    positive income). All income is treated as earned income: the input has one income
    column (a documented simplification).
    """
    income = np.asarray(monthly_income, dtype="float64")
    amount = np.minimum(income * share, cap_months * np.asarray(standard, dtype="float64"))
    return np.where(earner, np.maximum(amount, 0.0), 0.0)


def expenditure_assessed_per_capita_income(monthly_income_total: np.ndarray,
                                           annual_rigid_spending: np.ndarray,
                                           members: np.ndarray) -> np.ndarray:
    """Expenditure-type poverty (支出型贫困, 刚性支出扣减, POLICY.md §3.3).

    (12 × monthly income − annual rigid spending [medical + education + rehabilitation])
    / 12 / members, floored at 0 (spending beyond income does not raise the top-up above
    the standard per member). Households with no members get +inf (never eligible).
    """
    members = np.asarray(members, dtype="float64")
    annual = MONTHS_PER_YEAR * np.asarray(monthly_income_total, dtype="float64") \
        - np.asarray(annual_rigid_spending, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(members > 0, np.maximum(annual, 0.0) / MONTHS_PER_YEAR / members, np.inf)
    return out


def below_standard(income: np.ndarray, standard: np.ndarray) -> np.ndarray:
    """Income strictly below a standard (POLICY.md §10: "低于标准" excludes the bound — income
    equal to the standard is not eligible). Used for the dibao standard (整户保, 支出型), the
    marginal threshold (low-income household) and tekun's no-income test. NaN → False."""
    return np.asarray(income, dtype="float64") < np.asarray(standard, dtype="float64")


def dibao_topup(standard: np.ndarray, assessed_income_total: np.ndarray,
                members_covered: np.ndarray) -> np.ndarray:
    """Top-up (补差, POLICY.md §4) from the covered members' assessed income total:
    standard × members − assessed income total, never negative (unrounded yuan). The same as
    (standard − per capita) × members without an unrounded per-capita step; one member with
    his own income gives standard − income. A non-finite total gives 0."""
    gap = (np.asarray(standard, dtype="float64") * np.asarray(members_covered, dtype="float64")
           - np.asarray(assessed_income_total, dtype="float64"))
    gap = np.where(np.isfinite(gap), gap, 0.0)
    return np.maximum(gap, 0.0)


def dibao_benefit(standard: np.ndarray, assessed_per_capita_income: np.ndarray,
                  members_covered: np.ndarray) -> np.ndarray:
    """Top-up (补差, POLICY.md §4): (standard − assessed per-capita income) × members
    covered, never negative (unrounded yuan)."""
    gap = np.asarray(standard, dtype="float64") - np.asarray(assessed_per_capita_income,
                                                             dtype="float64")
    gap = np.where(np.isfinite(gap), gap, 0.0)
    return np.maximum(gap, 0.0) * np.asarray(members_covered, dtype="float64")


def single_person_benefit(standard: np.ndarray, own_income: np.ndarray) -> np.ndarray:
    """Single-person dibao (单人保, POLICY.md §3.2): standard − own income, never negative."""
    return np.maximum(np.asarray(standard, dtype="float64")
                      - np.asarray(own_income, dtype="float64"), 0.0)


def apply_minimum_benefit(benefit: np.ndarray, members_covered: np.ndarray,
                          minimum_per_member: float) -> np.ndarray:
    """Optional minimum payment (最低补差额, POLICY.md §4): a covered household gets at least
    ``minimum_per_member`` × members covered. 0 (the default) switches it off."""
    if not minimum_per_member:
        return np.asarray(benefit, dtype="float64")
    floor = minimum_per_member * np.asarray(members_covered, dtype="float64")
    return np.where(np.asarray(members_covered) > 0, np.maximum(benefit, floor), benefit)


def classified_addon(covered: np.ndarray, standard: np.ndarray, elderly: np.ndarray,
                     severely_disabled: np.ndarray, child: np.ndarray, *, elderly_share: float,
                     disabled_share: float, child_share: float) -> np.ndarray:
    """Per person: classified add-on (分类施保, POLICY.md §4) for a covered member —
    each share × standard, summed over the categories the member is in (all 0 by default)."""
    share = (np.where(elderly, elderly_share, 0.0) + np.where(severely_disabled, disabled_share, 0.0)
             + np.where(child, child_share, 0.0))
    return np.where(covered, share * np.asarray(standard, dtype="float64"), 0.0)


def gradual_exit(eligible_now: np.ndarray, previous_benefit: np.ndarray,
                 months_above_standard: np.ndarray, *, grace_months: float,
                 benefit_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradual exit (渐退, POLICY.md §3.4): a household that was paid ``previous_benefit``
    and is no longer eligible keeps ``benefit_share`` × that benefit while
    ``months_above_standard`` ≤ ``grace_months``.

    Returns (in_grace_period mask, benefit kept). Households still eligible are not in
    gradual exit (their current entitlement applies).
    """
    previous = np.asarray(previous_benefit, dtype="float64")
    in_grace = (~np.asarray(eligible_now, dtype=bool)) & (previous > 0) \
        & (np.asarray(months_above_standard) <= grace_months)
    return in_grace, np.where(in_grace, previous * benefit_share, 0.0)


def earner(in_unit: np.ndarray, work_capacity: np.ndarray, monthly_income: np.ndarray,
           age: np.ndarray, *, minor_age: float, elderly_age: float) -> np.ndarray:
    """Who has earned income for the disregard (收入扣减, POLICY.md §3.4): a member of the
    assessment unit of working age (``tekun.minor_age`` ≤ age < ``dibao.elderly_age``) with
    work capacity and income > 0."""
    age = np.asarray(age, dtype="float64")
    return (np.asarray(in_unit, dtype=bool) & np.asarray(work_capacity, dtype=bool)
            & (np.asarray(monthly_income, dtype="float64") > 0) & (age >= minor_age)
            & (age < elderly_age))


def per_capita_income(unit_income: np.ndarray, unit_members: np.ndarray,
                      all_income: np.ndarray, all_members: np.ndarray) -> np.ndarray:
    """Per-capita income of the assessment unit (POLICY.md §3.1): unit income / unit members;
    a household whose members are all tekun falls back to all members' income / members."""
    unit_members = np.asarray(unit_members)
    has_unit = unit_members > 0
    return np.where(has_unit, np.asarray(unit_income) / np.maximum(unit_members, 1),
                    np.asarray(all_income) / np.asarray(all_members))


def assessed_per_capita_income(assessed_income_total: np.ndarray,
                               unit_members: np.ndarray) -> np.ndarray:
    """Assessed per-capita income (after the disregard, POLICY.md §3.1, §3.4); +inf when the
    household has no member to assess (never eligible)."""
    unit_members = np.asarray(unit_members)
    return np.where(unit_members > 0, np.asarray(assessed_income_total)
                    / np.maximum(unit_members, 1), np.inf)


def low_income(assets_pass: np.ndarray, covered_whole: np.ndarray,
               assessed_per_capita: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Low-income household not covered whole (POLICY.md §3.2–3.3; CONTRACT §4 (2)–(3)):
    assets pass and assessed per-capita income < the marginal threshold."""
    return (np.asarray(assets_pass, dtype=bool) & ~np.asarray(covered_whole, dtype=bool)
            & below_standard(assessed_per_capita, threshold))


def dibao_type(whole: np.ndarray, expenditure: np.ndarray, single: np.ndarray) -> np.ndarray:
    """The dibao path (CONTRACT §4 order) as a code of :data:`jiuzhu_sim.rules.DIBAO_TYPES`:
    single-person where a member is covered alone, else expenditure, else whole household,
    else none (the three are exclusive by construction of the paths)."""
    from jiuzhu_sim.rules import TYPE_EXPENDITURE, TYPE_HOUSEHOLD, TYPE_NONE, TYPE_SINGLE

    out = np.full(len(whole), TYPE_NONE, dtype=np.int8)
    out[np.asarray(whole, dtype=bool)] = TYPE_HOUSEHOLD
    out[np.asarray(expenditure, dtype=bool)] = TYPE_EXPENDITURE
    out[np.asarray(single, dtype=bool)] = TYPE_SINGLE
    return out


def recipients_on_roster(eligible: np.ndarray, enrolled: np.ndarray,
                         dibao_members: np.ndarray, assessed_members: np.ndarray) -> np.ndarray:
    """People an enrolled household has on the dibao roster (POLICY.md §3, §3.5; 002
    §二(六)): the members covered when it is eligible; when it is enrolled but not eligible
    (错保), its assessed members — the members the assessor put on dibao. Tekun members are
    on the tekun roster, never on dibao, so "all members" would count them twice. 0 for
    households not enrolled. The one definition every count of dibao recipients uses."""
    covered = np.where(np.asarray(eligible, dtype=bool), np.asarray(dibao_members, dtype=float),
                       np.asarray(assessed_members, dtype=float))
    return np.where(np.asarray(enrolled, dtype=bool), covered, 0.0)


def inclusion_error_benefit(standard: np.ndarray, measured_per_capita_income: np.ndarray,
                            assessed_members: np.ndarray, *, floor_share: float) -> np.ndarray:
    """What an enrolled but ineligible household (错保) is paid (docs/metrics.md "paid"): the
    top-up the assessor computed from the income he measured (unknown: the standard), at
    least ``process.inclusion_benefit_floor_share`` × standard per assessed member
    (unrounded)."""
    standard = np.asarray(standard, dtype="float64")
    measured = np.asarray(measured_per_capita_income, dtype="float64")
    measured = np.where(np.isfinite(measured), measured, standard)
    per_member = np.maximum(standard - measured, floor_share * standard)
    return per_member * np.asarray(assessed_members, dtype="float64")
