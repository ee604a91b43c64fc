"""The rule engine: the CONTRACT §4 order composed **once** from the named quantities of
:mod:`jiuzhu_sim.rules` (POLICY.md §2–4).

Every consumer goes through here: ``jiuzhu simulate`` (:mod:`jiuzhu_sim.simulation`),
``jiuzhu explain`` (renders :func:`household_record`), scenarios
(:func:`jiuzhu_sim.scenario.simulate_variant`), budgets, the report helpers, and the audit
(:mod:`jiuzhu_sim.rules.enrolled` calls the same quantity functions). Nothing outside
``rules/`` decides eligibility or computes an amount (tests/test_engine.py changes one
quantity and sees every consumer change).

- :func:`compute` — every quantity as arrays (``h_*`` per household, ``p_*`` per person).
  Pure and deterministic; each step calls a named, vectorised function of
  :mod:`~jiuzhu_sim.rules.dibao`, :mod:`~jiuzhu_sim.rules.tekun` or
  :mod:`~jiuzhu_sim.rules.marginal`. Speed: per-household sums are ``np.bincount`` over
  the household index; rare groups (no supporter, disabled, earners, single-person
  candidates) are handled on index subsets.
- :data:`QUANTITIES` — the record of what each array is: label (Chinese, English), the
  POLICY section, the function that computes it and the parameters it reads. With
  ``compute(..., trace=True)`` the engine also keeps the parts of composite tests (asset
  test parts, the tekun tests per person); :func:`household_record` is one household's
  values of every quantity with its parameters and references — what ``jiuzhu explain``
  prints, so explain's numbers are the simulation's by construction.
- :func:`recipients_on_roster`, :func:`paid_dibao`, :data:`PROGRAMS` /
  :func:`program_costs` — the enrolled-household roster, the money paid, and the list of
  program costs, written once for simulate, scenario, budget and reports.

The engine takes a :class:`jiuzhu_sim.population.model.Population` (duck-typed: it reads
attributes only) and a :class:`jiuzhu_sim.parameters.Parameters`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim.rules import DIBAO_TYPES, TYPE_HOUSEHOLD, TYPE_NONE, TYPE_SINGLE, round_money
from jiuzhu_sim.rules import dibao as dibao_rules
from jiuzhu_sim.rules import marginal as marginal_rules
from jiuzhu_sim.rules import tekun as tekun_rules

# ---------------------------------------------------------------------------------------
# The record: what each quantity is


@dataclass(frozen=True)
class Quantity:
    """One named quantity of the engine: ``key`` in :func:`compute`'s arrays."""

    key: str
    zh: str
    en: str
    policy: str
    function: str  # the rules function that computes it ("" = composition/arithmetic)
    parameters: tuple[str, ...] = ()  # names read; "{area}" = the household's urban/rural


AREA_STANDARDS = ("dibao.standard.{area}", "marginal.threshold.{area}",
                  "tekun.basic_standard.{area}", "tekun.institutional_basic_standard.{area}",
                  *(f"tekun.care_standard.{lv}" for lv in tekun_rules.CARE_LEVELS))
ASSET_PARAMETERS = ("dibao.asset_limit_months", "dibao.vehicle_disqualifies",
                    "dibao.max_dwellings")
TEKUN_BENEFIT_PARAMETERS = ("tekun.basic_standard.{area}",
                            "tekun.institutional_basic_standard.{area}",
                            "tekun.institutional_multiplier",
                            "tekun.institutional_multiplier_applies_to_care",
                            "tekun.benefit_rounding")
BENEFIT_PARAMETERS = ("dibao.minimum_benefit", "dibao.addon.elderly_share",
                      "dibao.addon.disabled_share", "dibao.addon.child_share",
                      "dibao.benefit_rounding")

QUANTITIES: tuple[Quantity, ...] = (
    Quantity("h_standard", "低保标准", "dibao standard", "POLICY.md §2",
             "parameters.household_parameters", AREA_STANDARDS),
    Quantity("h_threshold", "低保边缘认定线", "marginal threshold", "POLICY.md §2",
             "parameters.household_parameters", ("marginal.threshold.{area}",)),
    Quantity("p_no_work_capacity", "无劳动能力", "no work capacity", "POLICY.md §3.5",
             "rules.tekun.no_work_capacity", tekun_rules.NO_WORK_CAPACITY_PARAMETERS),
    Quantity("p_no_income_source", "无生活来源：本人收入低于当地低保标准",
             "no income source: own income < the local dibao standard", "POLICY.md §3.5",
             "rules.tekun.no_income_source", ("dibao.standard.{area}",)),
    Quantity("p_tekun", "特困人员", "tekun person", "POLICY.md §3.5; 002 §二(六)",
             "rules.tekun.tekun_person"),
    Quantity("p_tekun_benefit", "特困供养金", "tekun benefit", "POLICY.md §4",
             "rules.tekun.tekun_benefit", TEKUN_BENEFIT_PARAMETERS),
    Quantity("h_members", "共同生活成员", "co-resident members", "CONTRACT §4", ""),
    Quantity("h_unit", "低保核算人数（不含特困人员）", "assessed members (tekun excluded)",
             "POLICY.md §3.5; CONTRACT §4", ""),
    Quantity("h_income_all", "家庭月收入（全部成员）", "monthly income, all members",
             "POLICY.md §3.1", ""),
    Quantity("h_income_unit", "核算成员月收入", "monthly income of assessed members",
             "POLICY.md §3.1", ""),
    Quantity("p_earner", "就业收入扣减对象", "earner (income disregard applies)",
             "POLICY.md §3.4", "rules.dibao.earner", ("tekun.minor_age", "dibao.elderly_age")),
    Quantity("p_disregard", "就业收入扣减", "employment-income disregard", "POLICY.md §3.4",
             "rules.dibao.employment_income_disregard",
             ("dibao.employment_income_disregard_share", "dibao.employment_income_disregard_cap")),
    Quantity("p_assessed_income", "扣减后本人收入", "own income after the disregard",
             "POLICY.md §3.2, §3.4", ""),
    Quantity("h_assessed_total", "扣减后核算收入", "assessed income after deductions",
             "POLICY.md §3.4", ""),
    Quantity("h_pc_income", "人均月收入", "per-capita income", "POLICY.md §3.1",
             "rules.dibao.per_capita_income"),
    Quantity("h_assessed_pc", "扣减后人均收入", "assessed per-capita income", "POLICY.md §3.1",
             "rules.dibao.assessed_per_capita_income"),
    Quantity("h_assets_pass", "财产状况符合", "asset test passes", "POLICY.md §3.1",
             "rules.dibao.asset_test", ASSET_PARAMETERS),
    Quantity("h_assets_financial_assets", "人均金融资产不超过N个月低保标准",
             "financial assets ≤ N months of standard per member", "POLICY.md §3.1",
             "rules.dibao.asset_test_parts", ("dibao.asset_limit_months", "dibao.standard.{area}")),
    Quantity("h_assets_vehicle", "无非生活必需机动车", "no non-essential vehicle",
             "POLICY.md §3.1", "rules.dibao.asset_test_parts", ("dibao.vehicle_disqualifies",)),
    Quantity("h_assets_dwellings", "住房不超过规定套数", "dwellings within the limit",
             "POLICY.md §3.1", "rules.dibao.asset_test_parts", ("dibao.max_dwellings",)),
    Quantity("h_below_standard", "人均收入低于低保标准", "assessed per-capita income < standard",
             "POLICY.md §3.1, §10", "rules.dibao.below_standard", ("dibao.standard.{area}",)),
    Quantity("h_below_threshold", "人均收入低于边缘认定线",
             "assessed per-capita income < marginal threshold", "POLICY.md §3.6, §10",
             "rules.dibao.below_standard", ("marginal.threshold.{area}",)),
    Quantity("h_whole", "（1）整户保", "(1) whole household", "POLICY.md §3.1; CONTRACT §4 (1)",
             "rules.dibao.below_standard", ("dibao.standard.{area}",)),
    Quantity("h_low_income", "低收入且未整户纳入", "low income, not covered whole",
             "POLICY.md §3.2–3.3", "rules.dibao.low_income", ("marginal.threshold.{area}",)),
    Quantity("p_severe", "重度残疾", "severely disabled", "POLICY.md §3.2",
             "rules.dibao.severe_disability",
             ("dibao.severe_disability_max_grade",
              "dibao.severe_disability_max_grade_intellectual_mental")),
    Quantity("p_special", "重病、重残成员或大学生（非特困）",
             "seriously ill, severely disabled or college student (not tekun)",
             "POLICY.md §3.3", ""),
    Quantity("h_special", "有重病、重残成员或大学生",
             "a seriously ill or severely disabled member, or a college student",
             "POLICY.md §3.3", ""),
    Quantity("h_rigid", "年刚性支出", "annual rigid spending", "POLICY.md §3.3", ""),
    Quantity("h_expenditure_pc", "扣除刚性支出后人均收入", "per capita after rigid spending",
             "POLICY.md §3.3", "rules.dibao.expenditure_assessed_per_capita_income"),
    Quantity("h_expenditure_below_standard", "扣除刚性支出后人均收入低于低保标准",
             "(12 × income − annual rigid spending) / 12 / members < standard",
             "POLICY.md §3.3, §10", "rules.dibao.below_standard", ("dibao.standard.{area}",)),
    Quantity("h_expenditure", "（2）支出型贫困", "(2) expenditure-type",
             "POLICY.md §3.3; CONTRACT §4 (2)", "rules.dibao.below_standard",
             ("dibao.standard.{area}",)),
    Quantity("p_single", "（3）单人保", "(3) single person", "POLICY.md §3.2; CONTRACT §4 (3)",
             "rules.dibao.below_standard", ("dibao.standard.{area}",)),
    Quantity("p_single_benefit", "单人保金额", "single-person amount", "POLICY.md §3.2",
             "rules.dibao.single_person_benefit"),
    Quantity("h_topup", "补差", "top-up", "POLICY.md §4", "rules.dibao.dibao_topup"),
    Quantity("p_addon", "分类施保加发", "classified add-on", "POLICY.md §4",
             "rules.dibao.classified_addon",
             ("dibao.addon.elderly_share", "dibao.addon.disabled_share",
              "dibao.addon.child_share")),
    Quantity("h_gradual_exit", "渐退", "gradual exit", "POLICY.md §3.4",
             "rules.dibao.gradual_exit",
             ("dibao.gradual_exit_months", "dibao.gradual_exit_benefit_share")),
    Quantity("h_assessed_out", "核算人均收入（支出型为扣除后）",
             "assessed per-capita income (expenditure-type: after rigid spending)",
             "CONTRACT §4", ""),
    Quantity("p_covered", "纳入低保", "covered by dibao", "CONTRACT §4", ""),
    Quantity("h_tekun_persons", "特困人数", "tekun persons", "POLICY.md §3.5", ""),
    Quantity("h_type", "低保类型", "dibao type", "CONTRACT §4", "rules.dibao.dibao_type"),
    Quantity("h_dibao_members", "低保人数", "members covered", "CONTRACT §4", ""),
    Quantity("h_dibao_benefit", "低保月补差", "monthly dibao benefit", "POLICY.md §4",
             "rules.round_money", BENEFIT_PARAMETERS),
    Quantity("h_tekun_benefit", "特困供养金（户）", "tekun benefit (household)", "POLICY.md §4",
             "", ("tekun.benefit_rounding",)),
    Quantity("h_marginal", "低保边缘家庭", "marginal household", "POLICY.md §3.6",
             "rules.marginal.marginal_household", ("marginal.threshold.{area}",)),
    Quantity("h_marginal_benefit", "边缘家庭现金救助", "marginal cash aid", "POLICY.md §1",
             "rules.marginal.marginal_benefit",
             ("marginal.monthly_benefit_share", "marginal.benefit_rounding")),
)
QUANTITY = {q.key: q for q in QUANTITIES}


# ---------------------------------------------------------------------------------------
# Standards by region and date (POLICY.md §2)


def region_index(pop) -> tuple[np.ndarray, np.ndarray]:
    """(code per household, distinct region codes), computed once per population."""
    cached = pop.extra.get("region_index")
    if cached is None:
        codes, uniques = pd.factorize(pop.region_code)
        cached = (codes.astype(np.int64), np.asarray(uniques, dtype=object))
        pop.extra["region_index"] = cached
    return cached


def assessment_days(pop, params) -> np.ndarray | None:
    """Each household's date (days since 1970) for its standards: its ``assessment_date``,
    else the run's date; None when the households file has no such column."""
    if pop.assessment_date is None:
        return None
    run_day = np.datetime64(params.date.isoformat(), "D").astype(np.int64)
    blank = np.isnat(pop.assessment_date)
    return np.where(blank, run_day, pop.assessment_date.astype(np.int64))


def regional_resolution(pop, params) -> tuple[np.ndarray, list]:
    """(index per household, resolved standards): :func:`jiuzhu_sim.parameters.
    household_parameters` for the population's regions (factorised once) and dates."""
    from jiuzhu_sim.parameters import household_parameters

    return household_parameters(params, pop.region_code, assessment_days(pop, params),
                                factorized=region_index(pop))


def household_standards(pop, params) -> dict[str, np.ndarray]:
    """Each household's standards, from its own ``region_code`` and date (POLICY.md §2).

    The standards (:data:`jiuzhu_sim.parameters.REGIONAL_NAMES`: dibao standard, marginal
    threshold, tekun basic / institutional / care standards) follow the household's region:
    its minimum wage or published standard, from YAML or a ``params/tables`` table —
    table-backed names looked up vectorised for every household at once, on its
    ``assessment_date`` or the run's date — then derived once per distinct combination with
    the run's ``--set`` overrides (:func:`jiuzhu_sim.parameters.household_parameters`).
    Every other parameter is the run's. Households of the run's own region on the run's
    date get exactly the run's values.
    Returns per-household arrays by area (``dibao.standard`` etc.) and
    ``tekun.care_standard`` as households × care levels.
    """
    index, resolved = regional_resolution(pop, params)

    def column(name: str) -> np.ndarray:
        return np.array([float(r[name]) for r in resolved], dtype="float64")[index]

    out = {base: np.where(pop.urban, column(f"{base}.urban"), column(f"{base}.rural"))
           for base in ("dibao.standard", "marginal.threshold", "tekun.basic_standard",
                        "tekun.institutional_basic_standard")}
    out["tekun.care_standard"] = np.stack(
        [column(f"tekun.care_standard.{level}") for level in tekun_rules.CARE_LEVELS], axis=1)
    return out


# ---------------------------------------------------------------------------------------
# The composition (CONTRACT §4 order), once


def compute(pop, params, *, trace: bool = False) -> dict[str, np.ndarray]:
    """Every intermediate and final quantity of the rules, as arrays (``h_*`` per household,
    ``p_*`` per person; :data:`QUANTITIES` says what each is). Pure and deterministic;
    CONTRACT §4 order. ``trace`` also keeps the parts of composite tests
    (``p_no_work_capacity``, ``p_no_income_source`` for every person, the asset-test parts
    ``h_assets_financial`` / ``h_assets_vehicle`` / ``h_assets_dwellings``) — the same code
    path, for :func:`household_record`.
    """
    H, P, hh = pop.n_households, len(pop.hh), pop.hh
    income = pop.monthly_income

    def hcount(idx: np.ndarray) -> np.ndarray:
        return np.bincount(hh[idx], minlength=H)

    def hsum_at(idx: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.bincount(hh[idx], weights=values, minlength=H)

    standards = household_standards(pop, params)
    h_standard = standards["dibao.standard"]
    h_threshold = standards["marginal.threshold"]
    p_standard = h_standard[hh]
    elderly_age = float(params["dibao.elderly_age"])
    minor_age = float(params["tekun.minor_age"])
    extra: dict[str, np.ndarray] = {}

    # --- tekun (POLICY.md §3.5): no supporter first (cheap, rare), then the national
    # definitions of no work capacity and no income source (own income < dibao standard)
    c = np.arange(P) if trace else np.flatnonzero(~pop.has_supporter)
    no_capacity = tekun_rules.no_work_capacity(
        pop.age[c], pop.disability_grade[c], pop.disability_type_code[c],
        pop.serious_illness[c], pop.in_school[c],
        **tekun_rules.no_work_capacity_parameters(params))
    no_income = tekun_rules.no_income_source(income[c], p_standard[c])
    t_idx = c[tekun_rules.tekun_person(no_capacity, no_income, pop.has_supporter[c])]
    if trace:
        extra["p_no_work_capacity"], extra["p_no_income_source"] = no_capacity, no_income
    tekun_rounding = str(params["tekun.benefit_rounding"])
    t_benefit = tekun_rules.tekun_benefit(
        np.ones(len(t_idx), dtype=bool), pop.institutional[t_idx],
        standards["tekun.basic_standard"][hh[t_idx]],
        standards["tekun.institutional_basic_standard"][hh[t_idx]],
        tekun_rules.care_standard(standards["tekun.care_standard"][hh[t_idx]],
                                  pop.care_code[t_idx]),
        institutional_multiplier=float(params["tekun.institutional_multiplier"]),
        multiplier_applies_to_care=bool(params["tekun.institutional_multiplier_applies_to_care"]),
        rounding=tekun_rounding)
    p_tekun = np.zeros(P, dtype=bool)
    p_tekun[t_idx] = True
    p_tekun_benefit = np.zeros(P)
    p_tekun_benefit[t_idx] = t_benefit
    unit = ~p_tekun

    # --- the dibao assessment unit: members who are not tekun (POLICY.md §3.1, §3.4)
    h_members = np.bincount(hh, minlength=H).astype(np.int64)
    h_tekun_persons = hcount(t_idx).astype(np.int64)
    h_unit = h_members - h_tekun_persons
    h_income_all = np.bincount(hh, weights=income, minlength=H)
    h_income_unit = h_income_all - hsum_at(t_idx, income[t_idx])
    share = float(params["dibao.employment_income_disregard_share"])
    p_disregard = np.zeros(P)
    p_earner = np.zeros(P, dtype=bool)
    if share > 0:
        e_idx = np.flatnonzero(dibao_rules.earner(unit, pop.work_capacity, income, pop.age,
                                                  minor_age=minor_age, elderly_age=elderly_age))
        p_earner[e_idx] = True
        p_disregard[e_idx] = dibao_rules.employment_income_disregard(
            income[e_idx], np.ones(len(e_idx), dtype=bool), p_standard[e_idx], share=share,
            cap_months=float(params["dibao.employment_income_disregard_cap"]))
        h_assessed_total = h_income_unit - hsum_at(e_idx, p_disregard[e_idx])
        p_assessed_income = income - p_disregard
    else:
        h_assessed_total = h_income_unit
        p_assessed_income = income
    has_unit = h_unit > 0
    h_pc_income = dibao_rules.per_capita_income(h_income_unit, h_unit, h_income_all, h_members)
    h_assessed_pc = dibao_rules.assessed_per_capita_income(h_assessed_total, h_unit)

    # per member of the whole household: co-resident tekun members share the assets, and this
    # keeps "raising the standard never shrinks eligibility" true when a member turns tekun
    asset_args = dict(asset_limit_months=float(params["dibao.asset_limit_months"]),
                      vehicle_disqualifies=bool(params["dibao.vehicle_disqualifies"]),
                      max_dwellings=int(params["dibao.max_dwellings"]))
    h_assets_pass = has_unit & dibao_rules.asset_test(
        pop.financial_assets, h_members, h_standard, pop.non_essential_vehicle, pop.dwellings,
        **asset_args)
    if trace:
        parts = dibao_rules.asset_test_parts(
            pop.financial_assets, h_members, h_standard, pop.non_essential_vehicle,
            pop.dwellings, **asset_args)
        extra.update({f"h_assets_{k}": v for k, v in parts.items()})

    # (1) whole household 整户保
    whole = h_assets_pass & dibao_rules.below_standard(h_assessed_pc, h_standard)
    # low-income households (< marginal threshold, assets pass) not covered whole
    low_income = dibao_rules.low_income(h_assets_pass, whole, h_assessed_pc, h_threshold)
    d_idx = np.flatnonzero(pop.disability_grade > 0)
    p_severe = np.zeros(P, dtype=bool)
    p_severe[d_idx] = dibao_rules.severe_disability(
        pop.disability_grade[d_idx], pop.intellectual_mental[d_idx],
        int(params["dibao.severe_disability_max_grade"]),
        int(params["dibao.severe_disability_max_grade_intellectual_mental"]))
    ill_or_severe = unit & (pop.serious_illness | p_severe)
    p_special = ill_or_severe | (unit & pop.college_student)
    h_special = hcount(np.flatnonzero(p_special)) > 0
    # (2) expenditure-type 支出型: rigid spending of unit members deducted
    r_idx = np.flatnonzero((pop.rigid_annual > 0) & unit)
    h_rigid = hsum_at(r_idx, pop.rigid_annual[r_idx])
    h_expenditure_pc = dibao_rules.expenditure_assessed_per_capita_income(
        h_assessed_total, h_rigid, h_unit)
    expenditure_below = dibao_rules.below_standard(h_expenditure_pc, h_standard)
    expenditure = low_income & h_special & expenditure_below
    if trace:
        extra["h_below_standard"] = dibao_rules.below_standard(h_assessed_pc, h_standard)
        extra["h_expenditure_below_standard"] = expenditure_below
        extra["h_below_threshold"] = dibao_rules.below_standard(h_assessed_pc, h_threshold)
    # (3) single person 单人保 in the remaining low-income households
    s_idx = np.flatnonzero(ill_or_severe)
    s_idx = s_idx[(low_income & ~expenditure)[hh[s_idx]]]
    s_idx = s_idx[dibao_rules.below_standard(p_assessed_income[s_idx], p_standard[s_idx])]
    p_single = np.zeros(P, dtype=bool)
    p_single[s_idx] = True
    p_single_benefit = np.zeros(P)
    p_single_benefit[s_idx] = dibao_rules.single_person_benefit(
        p_standard[s_idx], p_assessed_income[s_idx])
    h_single_members = hcount(s_idx).astype(np.int64)

    h_type = dibao_rules.dibao_type(whole, expenditure, h_single_members > 0)
    covered_whole = whole | expenditure
    h_assessed_out = np.where(expenditure, h_expenditure_pc, h_assessed_pc)
    h_dibao_members = np.where(covered_whole, h_unit, h_single_members)

    # top-up = standard × members − assessed income total (no rounded per-capita step);
    # every part of the payment stays unrounded until it is rounded once, below
    finite_expenditure_pc = np.where(np.isfinite(h_expenditure_pc), h_expenditure_pc, 0.0)
    assessed_total_for_topup = np.where(expenditure, finite_expenditure_pc * h_unit,
                                        h_assessed_total)
    topup = dibao_rules.dibao_topup(h_standard, assessed_total_for_topup, h_unit)
    h_benefit = np.where(covered_whole, topup, hsum_at(s_idx, p_single_benefit[s_idx]))
    h_benefit = dibao_rules.apply_minimum_benefit(
        h_benefit, h_dibao_members, float(params["dibao.minimum_benefit"]))
    p_covered = covered_whole[hh] & unit
    p_covered[s_idx] = True
    addon_shares = {k: float(params[f"dibao.addon.{k}_share"])
                    for k in ("elderly", "disabled", "child")}
    p_addon = np.zeros(P)
    if any(addon_shares.values()):
        a_idx = np.flatnonzero(p_covered)
        p_addon[a_idx] = dibao_rules.classified_addon(
            np.ones(len(a_idx), dtype=bool), p_standard[a_idx], pop.age[a_idx] >= elderly_age,
            p_severe[a_idx], pop.age[a_idx] < float(params["tekun.minor_age_in_school"]),
            elderly_share=addon_shares["elderly"], disabled_share=addon_shares["disabled"],
            child_share=addon_shares["child"])
        h_benefit = h_benefit + hsum_at(a_idx, p_addon[a_idx])

    # gradual exit 渐退
    in_grace, kept = dibao_rules.gradual_exit(
        h_type != TYPE_NONE, pop.previous_dibao_benefit, pop.months_above_standard,
        grace_months=float(params["dibao.gradual_exit_months"]),
        benefit_share=float(params["dibao.gradual_exit_benefit_share"]))
    in_grace &= has_unit
    if in_grace.any():
        h_type = np.where(in_grace, TYPE_HOUSEHOLD, h_type).astype(np.int8)
        h_dibao_members = np.where(in_grace, h_unit, h_dibao_members)
        h_benefit = np.where(in_grace, kept, h_benefit)
        p_covered |= in_grace[hh] & unit
    # the paid amount, rounded once (dibao.benefit_rounding)
    h_benefit = round_money(h_benefit, str(params["dibao.benefit_rounding"]))

    h_marginal = marginal_rules.marginal_household(
        h_assessed_pc, h_standard, h_threshold, h_assets_pass, covered_whole | in_grace)
    h_marginal_benefit = marginal_rules.marginal_benefit(
        h_marginal, h_standard, h_unit,
        share_of_standard=float(params["marginal.monthly_benefit_share"]),
        rounding=str(params["marginal.benefit_rounding"]))

    return {
        "h_members": h_members, "h_unit": h_unit, "h_standard": h_standard,
        "h_threshold": h_threshold, "h_income_all": h_income_all,
        "h_income_unit": h_income_unit, "h_assessed_total": h_assessed_total,
        "h_pc_income": h_pc_income, "h_assessed_pc": h_assessed_pc,
        "h_expenditure_pc": h_expenditure_pc, "h_rigid": h_rigid,
        "h_assessed_out": h_assessed_out, "h_assets_pass": h_assets_pass,
        "h_low_income": low_income, "h_special": h_special, "h_type": h_type,
        "h_whole": whole, "h_expenditure": expenditure, "h_topup": topup,
        "h_dibao_members": h_dibao_members.astype(np.int64), "h_dibao_benefit": h_benefit,
        "h_gradual_exit": in_grace, "h_tekun_persons": h_tekun_persons,
        # persons' amounts are rounded; rounding their sum by the same rule only clears
        # binary noise (a sum of fen is a whole number of fen)
        "h_tekun_benefit": round_money(hsum_at(t_idx, t_benefit), tekun_rounding,
                                       "tekun.benefit_rounding"),
        "h_marginal": h_marginal,
        "h_marginal_benefit": h_marginal_benefit,
        "p_standard": p_standard, "p_tekun": p_tekun, "p_tekun_benefit": p_tekun_benefit,
        "p_earner": p_earner, "p_disregard": p_disregard,
        "p_assessed_income": p_assessed_income, "p_severe": p_severe, "p_special": p_special,
        "p_single": p_single, "p_single_benefit": p_single_benefit, "p_covered": p_covered,
        "p_addon": p_addon, **extra,
    }


# ---------------------------------------------------------------------------------------
# Enrolled households: roster, money paid, program costs (written once)

PROGRAMS = ("dibao", "tekun", "marginal")
"""Programs with a monthly cost per household, in the order every summary lists them."""


def recipients_on_roster(eligible, enrolled, dibao_members, assessed_members) -> np.ndarray:
    """People an enrolled household has on the dibao roster — see
    :func:`jiuzhu_sim.rules.dibao.recipients_on_roster` (covered members; assessed members
    of an enrolled ineligible household)."""
    return dibao_rules.recipients_on_roster(eligible, enrolled, dibao_members, assessed_members)


def paid_dibao(enrolled, eligible, entitlement, standard, measured_per_capita_income,
               assessed_members, params) -> np.ndarray:
    """Dibao money paid per household per month (docs/metrics.md "paid"). Enrolled and
    eligible: the entitlement. Enrolled but not eligible (错保): the top-up the assessor
    computed (:func:`jiuzhu_sim.rules.dibao.inclusion_error_benefit`), rounded once by
    ``dibao.benefit_rounding``. Not enrolled: 0."""
    enrolled = np.asarray(enrolled, dtype=bool)
    eligible = np.asarray(eligible, dtype=bool)
    wrong = round_money(dibao_rules.inclusion_error_benefit(
        standard, measured_per_capita_income, assessed_members,
        floor_share=float(params["process.inclusion_benefit_floor_share"])),
        str(params["dibao.benefit_rounding"]))
    return np.where(enrolled & eligible, np.asarray(entitlement, dtype=float),
                    np.where(enrolled, wrong, 0.0))


def program_costs(paid_dibao_monthly, tekun_monthly, marginal_monthly
                  ) -> dict[str, np.ndarray]:
    """Monthly cost per household by program (:data:`PROGRAMS`): dibao actually paid, tekun
    and marginal cash aid entitled (tekun take-up is complete). Their sum is the household's
    monthly transfer."""
    return {"dibao": np.asarray(paid_dibao_monthly, dtype=float),
            "tekun": np.asarray(tekun_monthly, dtype=float),
            "marginal": np.asarray(marginal_monthly, dtype=float)}


def monthly_transfers(costs: dict[str, np.ndarray]) -> np.ndarray:
    """The household's monthly transfer: the sum of its :func:`program_costs`."""
    return sum(costs[p] for p in PROGRAMS)


# ---------------------------------------------------------------------------------------
# One household's record (what explain renders)


def _plain(x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def parameter_record(name: str, params, region_params) -> dict[str, Any]:
    """One parameter as the record shows it: value, unit, since, reference, source file; a
    derived value with the records it derives from. Regional standards (and what they
    derive from) come from ``region_params``, the household's resolved standards."""
    from jiuzhu_sim.parameters import follows_region

    src = region_params if follows_region(name) else params
    pv = src.values.get(name)
    if pv is None:
        src[name]  # the one-line reason
    rec = {"name": name, "value": _plain(pv.value), "unit": pv.unit, "since": pv.since,
           "reference": pv.reference, "source": pv.source}
    if pv.inputs:
        rec["inputs"] = [parameter_record(i, params, region_params) for i in pv.inputs
                         if i in src.values]
    return rec


def household_record(arrays: dict[str, np.ndarray], pop, index: int, params,
                     region_params) -> dict[str, Any]:
    """One household's record of every quantity in :data:`QUANTITIES` (arrays from
    :func:`compute` with ``trace=True``): ``{key: {"value": …}}`` for household
    quantities and ``{key: {"values": [per member …]}}`` for person quantities, each with
    its labels, POLICY section, function and parameter records
    (:func:`parameter_record`). ``region_params`` are the household's resolved standards."""
    area = "urban" if bool(pop.urban[index]) else "rural"
    members = np.flatnonzero(pop.hh == index)
    out: dict[str, Any] = {}
    for q in QUANTITIES:
        if q.key not in arrays:
            continue
        entry: dict[str, Any] = {
            "zh": q.zh, "en": q.en, "policy": q.policy, "function": q.function,
            "parameters": [parameter_record(n.format(area=area), params, region_params)
                           for n in q.parameters]}
        values = arrays[q.key]
        if q.key.startswith("p_"):
            entry["values"] = [_plain(values[i]) for i in members]
        else:
            entry["value"] = _plain(values[index])
        out[q.key] = entry
    out["h_type"]["code"] = DIBAO_TYPES[int(arrays["h_type"][index])]
    out["h_type"]["single"] = bool(arrays["h_type"][index] == TYPE_SINGLE)
    return out
