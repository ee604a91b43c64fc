"""Tekun rules, hand-worked (POLICY.md §3.5, §4; 000 二(一)).

Shishi 2023: dibao standard 941; tekun basic ceil(941 × 1.3) = ceil(1223.3) = 1224;
institutional basic ceil(1224 × 1.5) = 1836; care ceil(1960 × 0.10/0.25/0.50) = 196/490/980.
A tekun candidate below: no work capacity, no supporter, income 0.
"""

from __future__ import annotations

import numpy as np

from jiuzhu_sim.rules import tekun

ALONE = {"work_capacity": False, "has_supporter": False, "monthly_income": 0}


def test_dispersed_elderly_self_care(sim_run):
    # 1224 + 196 = 1420; lives alone, so no dibao unit is left
    h, p = sim_run([{"household_id": "T1", "members": [{**ALONE, "age": 70}]}])
    assert bool(p.loc["T1-1"].tekun) and p.loc["T1-1"].tekun_monthly_benefit == 1420
    row = h.loc["T1"]
    assert row.tekun_persons == 1 and row.tekun_monthly_benefit == 1420
    assert row.dibao_type == "none" and row.dibao_members == 0 and row.assessed_members == 0
    assert not p.loc["T1-1"].dibao_covered


def test_institutional_full_care(sim_run):
    # 1836 + 980 = 2816 (the 150% applies to the basic standard only)
    _, p = sim_run([{"household_id": "T2", "members": [
        {**ALONE, "age": 80, "institutional": True, "care_level": "full_care"}]}])
    assert p.loc["T2-1"].tekun_monthly_benefit == 2816


def test_institutional_multiplier_on_care_when_switched_on(sim_run):
    # 1836 + 490 × 1.5 = 1836 + 735 = 2571
    _, p = sim_run([{"household_id": "T3", "members": [
        {**ALONE, "age": 80, "institutional": True, "care_level": "semi_care"}]}],
        {"tekun.institutional_multiplier_applies_to_care": True})
    assert p.loc["T3-1"].tekun_monthly_benefit == 2571


def test_elderly_with_supporter_gets_dibao_not_tekun(sim_run):
    # has a supporter → not tekun; alone with income 0 → dibao 941
    h, p = sim_run([{"household_id": "T4", "members": [
        {**ALONE, "age": 70, "has_supporter": True}]}])
    assert not p.loc["T4-1"].tekun and h.loc["T4"].dibao_monthly_benefit == 941


def test_income_limit_is_the_basic_standard(sim_run):
    # 1223.99 < 1224 × 1.0 → tekun (1224 + 196 = 1420);
    # 1224 → not tekun: dibao per capita 1224 ≥ 941 → none, marginal (< 1411.5)
    h, p = sim_run([
        {"household_id": "lo", "members": [{**ALONE, "age": 70, "monthly_income": 1223.99}]},
        {"household_id": "hi", "members": [{**ALONE, "age": 70, "monthly_income": 1224}]}])
    assert bool(p.loc["lo-1"].tekun) and p.loc["lo-1"].tekun_monthly_benefit == 1420
    assert not p.loc["hi-1"].tekun and bool(h.loc["hi"].marginal)


def test_minors_under_16_or_under_18_in_school(sim_run):
    _, p = sim_run([
        {"household_id": "m15", "members": [{**ALONE, "age": 15}]},
        {"household_id": "m17s", "members": [{**ALONE, "age": 17, "in_school": True}]},
        {"household_id": "m17", "members": [{**ALONE, "age": 17}]}])
    assert bool(p.loc["m15-1"].tekun) and bool(p.loc["m17s-1"].tekun)
    assert not p.loc["m17-1"].tekun


def test_disability_categories(sim_run):
    # grade 2 physical and grade 3 intellectual qualify; grade 3 physical does not
    _, p = sim_run([
        {"household_id": "d2", "members": [{**ALONE, "disability_grade": 2,
                                            "disability_type": "physical"}]},
        {"household_id": "d3i", "members": [{**ALONE, "disability_grade": 3,
                                             "disability_type": "intellectual"}]},
        {"household_id": "d3p", "members": [{**ALONE, "disability_grade": 3,
                                             "disability_type": "physical"}]}])
    assert bool(p.loc["d2-1"].tekun) and bool(p.loc["d3i-1"].tekun)
    assert not p.loc["d3p-1"].tekun


def test_household_is_assessed_without_its_tekun_member(sim_run):
    # tekun elderly (income 0) + adults 1000 and 600: dibao unit = 2 adults,
    # per capita 1600 / 2 = 800 < 941 → household, benefit (941 − 800) × 2 = 282;
    # (counting the tekun member would give 533.33 and (941 − 533.33) × 3 = 1223)
    h, p = sim_run([{"household_id": "mix", "members": [
        {**ALONE, "age": 75}, {"monthly_income": 1000}, {"monthly_income": 600}]}])
    row = h.loc["mix"]
    assert row.members == 3 and row.assessed_members == 2
    assert row.per_capita_income == 800 and row.dibao_members == 2
    assert row.dibao_monthly_benefit == 282
    assert row.tekun_persons == 1 and row.tekun_monthly_benefit == 1420
    assert list(p.dibao_covered) == [False, True, True]


def test_tekun_members_income_is_left_out_of_the_household(sim_run):
    # tekun elderly with income 1000 (< 1224) + adults 900 and 900: unit per capita 900,
    # benefit (941 − 900) × 2 = 82; tekun benefit 1224 + 196 = 1420 (own income not deducted)
    h, _ = sim_run([{"household_id": "inc", "members": [
        {**ALONE, "age": 75, "monthly_income": 1000}, {"monthly_income": 900},
        {"monthly_income": 900}]}])
    assert h.loc["inc"].dibao_monthly_benefit == 82
    assert h.loc["inc"].tekun_monthly_benefit == 1420


def test_tekun_benefit_function_zero_for_non_tekun():
    out = tekun.tekun_benefit(np.array([True, False]), np.array([False, False]),
                              np.array([1224.0, 1224.0]), np.array([1836.0, 1836.0]),
                              np.array([490.0, 490.0]), institutional_multiplier=1.5,
                              multiplier_applies_to_care=False)
    assert list(out) == [1714.0, 0.0]  # 1224 + 490


def test_member_turning_tekun_when_standard_rises_keeps_household_eligible(sim_run):
    # elderly (no capacity, no supporter) income 1230 ≥ tekun basic 1224 → not tekun at 941;
    # with an adult earning 0: per capita 615 < 941, assets 40000 ≤ 24 × 941 × 2 = 45168 →
    # household. At dibao.standard=950: basic ceil(950 × 1.3 = 1235) → the elderly turns tekun
    # (1230 < 1235); the unit is the adult alone (950 − 0 = 950) and the asset limit still
    # counts both co-resident members: 24 × 950 × 2 = 45600 ≥ 40000 → still eligible
    spec = [{"household_id": "up", "financial_assets": 40000, "members": [
        {**ALONE, "age": 70, "monthly_income": 1230}, {"monthly_income": 0}]}]
    h, _ = sim_run(spec)
    assert h.loc["up"].tekun_persons == 0 and h.loc["up"].dibao_monthly_benefit == 652  # (941 − 615) × 2
    h, _ = sim_run(spec, {"dibao.standard": 950})
    assert h.loc["up"].tekun_persons == 1 and h.loc["up"].dibao_type == "household"
    assert h.loc["up"].dibao_monthly_benefit == 950
