"""Dibao rules, hand-worked (POLICY.md §3.1–3.4, §4; CONTRACT §4 order).

Shishi 2023 (params/regions/fujian/quanzhou/shishi.yaml): minimum wage 1960, dibao standard
ceil(1960 × 0.48) = ceil(940.8) = 941, marginal threshold 941 × 1.5 = 1411.5, asset limit
24 months × 941 = 22584 per member. Defaults of a hand-made person: age 40, income 0, work
capacity, a supporter (so nobody is tekun unless a test says so); household: urban, no
assets, no vehicle, one dwelling.
"""

from __future__ import annotations

import numpy as np
import pytest

from jiuzhu_sim.rules import dibao, round_yuan


def test_whole_household_below_standard(sim_run):
    # incomes 1000 + 500 + 0 = 1500; per capita 500 < 941 → household;
    # benefit (941 − 500) × 3 = 1323
    h, p = sim_run([{"household_id": "A", "members": [
        {"monthly_income": 1000}, {"monthly_income": 500}, {"monthly_income": 0}]}])
    row = h.loc["A"]
    assert row.dibao_type == "household" and bool(row.dibao_eligible)
    assert row.per_capita_income == 500 and row.dibao_members == 3
    assert row.dibao_monthly_benefit == 1323.0
    assert row.dibao_standard == 941 and not row.marginal
    assert p.dibao_covered.all()


def test_per_capita_equal_to_standard_is_not_covered_but_marginal(sim_run):
    # 941 + 941 → per capita 941, not < 941; 941 ≤ 941 < 1411.5 → marginal
    h, _ = sim_run([{"household_id": "B", "members": [{"monthly_income": 941},
                                                      {"monthly_income": 941}]}])
    assert h.loc["B"].dibao_type == "none" and h.loc["B"].dibao_monthly_benefit == 0
    assert bool(h.loc["B"].marginal)


def test_asset_limit_is_24_months_of_standard_per_member(sim_run):
    # limit 24 × 941 × 2 members = 45168: 45168 passes (benefit 941 × 2 = 1882), 45169 fails
    members = [{"monthly_income": 0}, {"monthly_income": 0}]
    h, _ = sim_run([{"household_id": "ok", "financial_assets": 45168, "members": members},
                    {"household_id": "rich", "financial_assets": 45169, "members": members}])
    assert h.loc["ok"].dibao_type == "household" and h.loc["ok"].dibao_monthly_benefit == 1882
    assert h.loc["rich"].dibao_type == "none" and not h.loc["rich"].marginal


def test_non_essential_vehicle_fails_unless_switched_off(sim_run):
    spec = [{"household_id": "car", "non_essential_vehicle": True,
             "members": [{"monthly_income": 0}]}]
    h, _ = sim_run(spec)
    assert h.loc["car"].dibao_type == "none"
    # with dibao.vehicle_disqualifies=false: 941 − 0 = 941
    h, _ = sim_run(spec, {"dibao.vehicle_disqualifies": False})
    assert h.loc["car"].dibao_monthly_benefit == 941


def test_two_dwellings_fail_the_asset_test(sim_run):
    h, _ = sim_run([{"household_id": "two", "dwellings": 2, "members": [{}]}])
    assert h.loc["two"].dibao_type == "none" and not h.loc["two"].assets_pass


def test_expenditure_type_deducts_medical_spending(sim_run):
    # incomes 1200 + 800 = 2000, per capita 1000 (≥ 941, < 1411.5: low income);
    # ill member spends 6000/year: (12 × 2000 − 6000) / 12 / 2 = 18000 / 24 = 750 < 941
    # → expenditure, benefit (941 − 750) × 2 = 382
    h, p = sim_run([{"household_id": "E", "members": [
        {"monthly_income": 1200},
        {"monthly_income": 800, "serious_illness": True, "medical_expense_annual": 6000}]}])
    row = h.loc["E"]
    assert row.dibao_type == "expenditure" and row.dibao_members == 2
    assert row.per_capita_income == 1000 and row.assessed_per_capita_income == 750
    assert row.dibao_monthly_benefit == 382 and not row.marginal
    assert p.dibao_covered.all()


def test_college_student_triggers_expenditure_assessment(sim_run):
    # 1600 + 1400 + 0 = 3000, per capita 1000; tuition 9000/year:
    # (36000 − 9000) / 12 / 3 = 750 → expenditure, (941 − 750) × 3 = 573
    h, _ = sim_run([{"household_id": "S", "members": [
        {"monthly_income": 1600}, {"monthly_income": 1400},
        {"age": 19, "college_student": True, "education_expense_annual": 9000}]}])
    assert h.loc["S"].dibao_type == "expenditure" and h.loc["S"].dibao_monthly_benefit == 573


def test_college_student_is_never_single_person(sim_run):
    # tuition 1000: (36000 − 1000) / 36 = 972.22 ≥ 941 → not expenditure; a student is not
    # a 单列 category → none, but marginal (1000 in [941, 1411.5))
    h, _ = sim_run([{"household_id": "S2", "members": [
        {"monthly_income": 1600}, {"monthly_income": 1400},
        {"age": 19, "college_student": True, "education_expense_annual": 1000}]}])
    assert h.loc["S2"].dibao_type == "none" and bool(h.loc["S2"].marginal)
    assert h.loc["S2"].assessed_per_capita_income == 1000


def test_severely_disabled_member_is_single_person(sim_run):
    # 1300 + 700 = 2000, per capita 1000; no rigid spending → expenditure 1000 ≥ 941;
    # grade 1 member covered alone: 941 − 700 = 241; household stays marginal
    h, p = sim_run([{"household_id": "D", "members": [
        {"monthly_income": 1300},
        {"monthly_income": 700, "disability_grade": 1, "disability_type": "physical"}]}])
    row = h.loc["D"]
    assert row.dibao_type == "single" and row.dibao_members == 1
    assert row.dibao_monthly_benefit == 241 and bool(row.marginal)
    assert list(p.dibao_covered) == [False, True]


def test_grade3_intellectual_is_single_person_grade3_physical_is_not(sim_run):
    base = {"monthly_income": 700, "disability_grade": 3}
    h, _ = sim_run([
        {"household_id": "int3", "members": [{"monthly_income": 1300},
                                             {**base, "disability_type": "intellectual"}]},
        {"household_id": "men3", "members": [{"monthly_income": 1300},
                                             {**base, "disability_type": "mental"}]},
        {"household_id": "phy3", "members": [{"monthly_income": 1300},
                                             {**base, "disability_type": "physical"}]},
        {"household_id": "men4", "members": [{"monthly_income": 1300},
                                             {**base, "disability_grade": 4,
                                              "disability_type": "mental"}]},
    ])
    # 941 − 700 = 241 for grade 3 intellectual/mental; grade 3 physical, grade 4 mental: none
    assert h.loc["int3"].dibao_monthly_benefit == 241 and h.loc["men3"].dibao_type == "single"
    assert h.loc["phy3"].dibao_type == "none" and h.loc["men4"].dibao_type == "none"


def test_seriously_ill_member_with_income_above_standard_is_not_covered(sim_run):
    # per capita 1000; the ill member's own income 1000 ≥ 941 → 941 − 1000 < 0: not covered
    h, _ = sim_run([{"household_id": "I", "members": [
        {"monthly_income": 1000}, {"monthly_income": 1000, "serious_illness": True}]}])
    assert h.loc["I"].dibao_type == "none" and h.loc["I"].dibao_members == 0


def test_above_marginal_threshold_no_single_coverage(sim_run):
    # 3000 + 0 → per capita 1500 ≥ 1411.5: not low income, so the grade-1 member gets nothing
    h, _ = sim_run([{"household_id": "R", "members": [
        {"monthly_income": 3000}, {"disability_grade": 1, "disability_type": "visual"}]}])
    assert h.loc["R"].dibao_type == "none" and not h.loc["R"].marginal


def test_rural_standard_applies_to_rural_households(sim_run):
    # --set dibao.standard.rural=800: rural income 850 ≥ 800 → none (marginal: 850 < 1200);
    # urban income 850 < 941 → 941 − 850 = 91
    spec = [{"household_id": "rural", "urban": False, "members": [{"monthly_income": 850}]},
            {"household_id": "urban", "urban": True, "members": [{"monthly_income": 850}]}]
    h, p = sim_run(spec, {"dibao.standard.rural": 800})
    assert h.loc["rural"].dibao_standard == 800 and h.loc["rural"].dibao_type == "none"
    assert h.loc["rural"].marginal_threshold == 1200 and bool(h.loc["rural"].marginal)
    assert h.loc["urban"].dibao_monthly_benefit == 91
    assert p.loc["rural-1"].dibao_standard == 800


def test_employment_income_disregard_with_cap(sim_run):
    # earner income 2000, share 0.3 → 600, cap 0.5 × 941 = 470.5 → disregard 470.5;
    # assessed total 2000 − 470.5 = 1529.5 over 2 members = 764.75 < 941;
    # benefit 941 × 2 − 1529.5 = 352.5. The 70-year-old is not an earner (not working age).
    spec = [{"household_id": "W", "members": [
        {"monthly_income": 2000}, {"age": 70, "work_capacity": False}]}]
    h, _ = sim_run(spec, {"dibao.employment_income_disregard_share": 0.3,
                          "dibao.employment_income_disregard_cap": 0.5})
    assert h.loc["W"].dibao_type == "household"
    assert h.loc["W"].per_capita_income == 1000
    assert h.loc["W"].assessed_per_capita_income == 764.75
    assert h.loc["W"].dibao_monthly_benefit == 352.5
    # default share 0: per capita 1000 ≥ 941 → none
    h, _ = sim_run(spec)
    assert h.loc["W"].dibao_type == "none"


def test_worker_without_work_capacity_is_not_an_earner(sim_run):
    # income 2000 but no work capacity: no disregard → per capita 1000 → none
    spec = [{"household_id": "W2", "members": [
        {"monthly_income": 2000, "work_capacity": False}, {"age": 70}]}]
    h, _ = sim_run(spec, {"dibao.employment_income_disregard_share": 0.3})
    assert h.loc["W2"].dibao_type == "none"


def test_gradual_exit_keeps_previous_benefit_within_grace(sim_run):
    # per capita 1000 ≥ 941: not eligible now; previous benefit 300, 6 months ≤ 6 → keeps
    # 300 × 1.0; 7 months → exits
    members = [{"monthly_income": 1000}, {"monthly_income": 1000}]
    h, p = sim_run([
        {"household_id": "g6", "previous_dibao_benefit": 300, "months_above_standard": 6,
         "members": members},
        {"household_id": "g7", "previous_dibao_benefit": 300, "months_above_standard": 7,
         "members": members}])
    assert bool(h.loc["g6"].gradual_exit) and h.loc["g6"].dibao_monthly_benefit == 300
    assert h.loc["g6"].dibao_type == "household" and bool(h.loc["g6"].dibao_eligible)
    assert p.loc["g6-1"].dibao_covered
    assert not h.loc["g7"].gradual_exit and h.loc["g7"].dibao_monthly_benefit == 0
    assert not h.loc["g6"].marginal and bool(h.loc["g7"].marginal)


def test_gradual_exit_share_parameter(sim_run):
    # --set dibao.gradual_exit_benefit_share=0.5: 300 × 0.5 = 150
    h, _ = sim_run([{"household_id": "g", "previous_dibao_benefit": 300,
                     "months_above_standard": 1, "members": [{"monthly_income": 1000}]}],
                   {"dibao.gradual_exit_benefit_share": 0.5})
    assert h.loc["g"].dibao_monthly_benefit == 150


def test_minimum_benefit_when_switched_on(sim_run):
    # 941 − 920 = 21 < minimum 50 → 50
    spec = [{"household_id": "m", "members": [{"monthly_income": 920}]}]
    assert sim_run(spec)[0].loc["m"].dibao_monthly_benefit == 21
    assert sim_run(spec, {"dibao.minimum_benefit": 50})[0].loc["m"].dibao_monthly_benefit == 50


def test_classified_addon_for_elderly_member(sim_run):
    # two members with no income: 941 × 2 = 1882; elderly add-on 0.1 × 941 = 94.1 → 1976.1
    h, _ = sim_run([{"household_id": "old", "members": [{"age": 70}, {"age": 40}]}],
                   {"dibao.addon.elderly_share": 0.1})
    assert h.loc["old"].dibao_monthly_benefit == pytest.approx(1976.1, abs=1e-9)


def test_benefit_is_not_distorted_by_rounding_per_capita_first(sim_run):
    # three members, total income 1000: per capita 333.33 (shown rounded), benefit
    # 941 × 3 − 1000 = 1823.00 (rounding per capita first would give 1823.01)
    h, _ = sim_run([{"household_id": "r", "members": [{"monthly_income": 1000}, {}, {}]}])
    assert h.loc["r"].per_capita_income == 333.33
    assert h.loc["r"].dibao_monthly_benefit == 1823.0


# --- the pure functions -------------------------------------------------------------


def test_dibao_benefit_never_negative():
    out = dibao.dibao_benefit(np.array([941.0, 941.0]), np.array([1000.0, 500.0]),
                              np.array([2, 2]))
    assert list(out) == [0.0, 882.0]  # (941 − 500) × 2 = 882


def test_expenditure_assessed_income_floored_at_zero():
    # (12 × 100 − 5000) < 0 → 0
    out = dibao.expenditure_assessed_per_capita_income(np.array([100.0]), np.array([5000.0]),
                                                       np.array([1]))
    assert out[0] == 0


def test_round_yuan_half_away_from_zero():
    assert list(round_yuan(np.array([12.345, 0.005, 2.675]))) == [12.35, 0.01, 2.68]
