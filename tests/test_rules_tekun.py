"""Tekun rules, hand-worked (POLICY.md §3.5, §4; 000 二(一)).

Shishi 2023: dibao standard 941; tekun basic ceil(941 × 1.3) = ceil(1223.3) = 1224;
institutional basic ceil(1224 × 1.5) = 1836; care ceil(1960 × 0.10/0.25/0.50) = 196/490/980.
A tekun candidate below: no supporter, income 0; no work capacity (无劳动能力) comes from the
national definitions (民发〔2021〕43号, POLICY.md §3.5): aged 60+, a minor, a disability of the
listed type and grade, or a certified serious illness. No income source: own income below
the dibao standard 941.
"""

from __future__ import annotations

import numpy as np

from conftest import run_rules
from jiuzhu_sim.parameters import load_parameters
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


def test_no_income_source_is_below_the_dibao_standard(sim_run):
    # 无生活来源 = own income < the local dibao standard 941 (民发〔2021〕43号, POLICY §3.5),
    # not the tekun basic standard 1224:
    # 940.99 < 941 → tekun (1224 + 196 = 1420);
    # 941 → not tekun ("低于" is strict): alone, per capita 941 ≥ 941 → no dibao; marginal
    # (941 < 1411.5); 1000 (< 1224, tekun under the old basic-standard test) → not tekun either
    h, p = sim_run([
        {"household_id": "lo", "members": [{**ALONE, "age": 70, "monthly_income": 940.99}]},
        {"household_id": "eq", "members": [{**ALONE, "age": 70, "monthly_income": 941}]},
        {"household_id": "mid", "members": [{**ALONE, "age": 70, "monthly_income": 1000}]}])
    assert bool(p.loc["lo-1"].tekun) and p.loc["lo-1"].tekun_monthly_benefit == 1420
    assert not p.loc["eq-1"].tekun and h.loc["eq"].dibao_type == "none"
    assert bool(h.loc["eq"].marginal)
    assert not p.loc["mid-1"].tekun and h.loc["mid"].tekun_monthly_benefit == 0


def test_minors_under_16_or_under_18_in_school(sim_run):
    _, p = sim_run([
        {"household_id": "m15", "members": [{**ALONE, "age": 15}]},
        {"household_id": "m17s", "members": [{**ALONE, "age": 17, "in_school": True}]},
        {"household_id": "m17", "members": [{**ALONE, "age": 17}]}])
    assert bool(p.loc["m15-1"].tekun) and bool(p.loc["m17s-1"].tekun)
    assert not p.loc["m17-1"].tekun


def test_disability_categories(sim_run):
    # national 无劳动能力 (民发〔2021〕43号): physical 1–2, visual 1, intellectual/mental 1–3;
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


def test_disability_types_are_told_apart(sim_run):
    # visual grade 1 qualifies, visual grade 2 does not (national: visual grade 1 only);
    # mental grade 3 qualifies; hearing and speech grade 1 and multiple grade 1 do not (the
    # national list names intellectual, mental, physical and visual only). The ones that do
    # not qualify live alone on 0 income: dibao 941 each (households of one, per capita 0)
    h, p = sim_run([
        {"household_id": "v1", "members": [{**ALONE, "disability_grade": 1,
                                            "disability_type": "visual"}]},
        {"household_id": "v2", "members": [{**ALONE, "disability_grade": 2,
                                            "disability_type": "visual"}]},
        {"household_id": "m3", "members": [{**ALONE, "disability_grade": 3,
                                            "disability_type": "mental"}]},
        {"household_id": "h1", "members": [{**ALONE, "disability_grade": 1,
                                            "disability_type": "hearing"}]},
        {"household_id": "s1", "members": [{**ALONE, "disability_grade": 1,
                                            "disability_type": "speech"}]},
        {"household_id": "x1", "members": [{**ALONE, "disability_grade": 1,
                                            "disability_type": "multiple"}]}])
    assert bool(p.loc["v1-1"].tekun) and bool(p.loc["m3-1"].tekun)
    for hid in ("v2", "h1", "s1", "x1"):
        assert not p.loc[f"{hid}-1"].tekun, hid
        assert h.loc[hid].dibao_monthly_benefit == 941, hid


def test_province_may_add_a_disability_type(sim_run):
    # tekun.no_work_capacity.max_disability_grade.hearing = 1 → hearing grade 1 is tekun:
    # 1224 + 196 = 1420
    _, p = sim_run([{"household_id": "h1", "members": [
        {**ALONE, "disability_grade": 1, "disability_type": "hearing"}]}],
        {"tekun.no_work_capacity.max_disability_grade.hearing": 1})
    assert bool(p.loc["h1-1"].tekun) and p.loc["h1-1"].tekun_monthly_benefit == 1420


def test_certified_serious_illness_means_no_work_capacity(sim_run):
    # aged 40, seriously ill, no supporter, income 0 → tekun 1224 + 196 = 1420; with
    # tekun.no_work_capacity.serious_illness false → not tekun: single-person household,
    # per capita 0 < 941 → dibao 941
    spec = [{"household_id": "ill", "members": [{**ALONE, "serious_illness": True}]}]
    h, p = sim_run(spec)
    assert bool(p.loc["ill-1"].tekun) and p.loc["ill-1"].tekun_monthly_benefit == 1420
    h, p = sim_run(spec, {"tekun.no_work_capacity.serious_illness": False})
    assert not p.loc["ill-1"].tekun and h.loc["ill"].dibao_monthly_benefit == 941


def test_work_capacity_flag_does_not_decide_no_work_capacity(sim_run):
    # the national rule defines 无劳动能力 by category: aged 70 with the input flag
    # work_capacity = true is still without work capacity → tekun 1420; aged 40 with
    # work_capacity = false and no category is not → dibao 941 (alone, income 0)
    h, p = sim_run([
        {"household_id": "old", "members": [{**ALONE, "age": 70, "work_capacity": True}]},
        {"household_id": "adult", "members": [{**ALONE, "age": 40}]}])
    assert bool(p.loc["old-1"].tekun) and p.loc["old-1"].tekun_monthly_benefit == 1420
    assert not p.loc["adult-1"].tekun and h.loc["adult"].dibao_monthly_benefit == 941


def test_quangang_grade4_intellectual_adult_is_dibao_not_tekun():
    # Quangang 350505 (001): dibao.severe_disability_max_grade_intellectual_mental = 4 from
    # 2022-08-18, a dibao single-person (单列) rule. The dibao standard is pinned to 941 by
    # --set (so the test does not depend on where Quangang's standard is inherited from);
    # tekun = basic + self-care standard (today 1224 + 196 = 1420).
    # An adult of 40, intellectual grade 4, no supporter, income 0, alone: grade 4 is not
    # 无劳动能力 (national: intellectual 1–3) → not tekun (the bug gave tekun 1420);
    # alone, per capita 0 < 941 → whole-household dibao, 941 − 0 = 941.
    # The same person with grade 3 is tekun — intellectual 1–3 qualifies.
    params = load_parameters("350505", "2023-06-01").with_overrides({"dibao.standard": 941})
    assert params["dibao.severe_disability_max_grade_intellectual_mental"] == 4
    hh = {"region_code": "350505"}
    h, p = run_rules([
        {"household_id": "g4", **hh, "members": [
            {**ALONE, "disability_grade": 4, "disability_type": "intellectual"}]},
        {"household_id": "g3", **hh, "members": [
            {**ALONE, "disability_grade": 3, "disability_type": "intellectual"}]}], params)
    assert not p.loc["g4-1"].tekun and p.loc["g4-1"].tekun_monthly_benefit == 0
    assert h.loc["g4"].dibao_type == "household" and h.loc["g4"].dibao_monthly_benefit == 941
    assert bool(p.loc["g4-1"].dibao_covered)
    assert bool(p.loc["g3-1"].tekun) and h.loc["g3"].dibao_monthly_benefit == 0
    assert p.loc["g3-1"].tekun_monthly_benefit == (params["tekun.basic_standard.urban"]
                                                   + params["tekun.care_standard.self_care"])


def test_quangang_grade4_still_single_person_dibao_in_a_low_income_household():
    # the dibao rule keeps working: Quangang (dibao standard pinned to 941, marginal
    # threshold 941 × 1.5 = 1411.5), grade-4 intellectual member (income 0, no supporter:
    # tekun under the old rule) + an adult earning 1800: per capita 900 < 941 → whole
    # household, (941 − 900) × 2 = 82. With the adult earning 2000: per capita 1000 ≥ 941 but
    # < 1411.5 (low income) → the grade-4 member is severely disabled under Quangang's
    # grade 4 → single person 941 − 0 = 941; nobody is tekun
    params = load_parameters("350505", "2023-06-01").with_overrides({"dibao.standard": 941})
    hh = {"region_code": "350505"}
    member = {**ALONE, "disability_grade": 4, "disability_type": "intellectual"}
    h, p = run_rules([
        {"household_id": "whole", **hh, "members": [member, {"monthly_income": 1800}]},
        {"household_id": "single", **hh, "members": [member, {"monthly_income": 2000}]}],
        params)
    assert h.loc["whole"].dibao_monthly_benefit == 82
    assert h.loc["single"].dibao_type == "single" and h.loc["single"].dibao_monthly_benefit == 941
    assert not p.tekun.any()


def test_tekun_benefit_function_zero_for_non_tekun():
    out = tekun.tekun_benefit(np.array([True, False]), np.array([False, False]),
                              np.array([1224.0, 1224.0]), np.array([1836.0, 1836.0]),
                              np.array([490.0, 490.0]), institutional_multiplier=1.5,
                              multiplier_applies_to_care=False)
    assert list(out) == [1714.0, 0.0]  # 1224 + 490


def test_member_turning_tekun_when_standard_rises_keeps_household_eligible(sim_run):
    # elderly (no supporter) income 945 ≥ dibao standard 941 → not tekun at 941;
    # with an adult earning 0: per capita 472.5 < 941, assets 40000 ≤ 24 × 941 × 2 = 45168 →
    # household, (941 − 472.5) × 2 = 937. At dibao.standard=950: 945 < 950 → the elderly
    # turns tekun (basic ceil(950 × 1.3) = 1235, + care 196 = 1431); the unit is the adult
    # alone (950 − 0 = 950) and the asset limit still counts both co-resident members:
    # 24 × 950 × 2 = 45600 ≥ 40000 → still eligible
    spec = [{"household_id": "up", "financial_assets": 40000, "members": [
        {**ALONE, "age": 70, "monthly_income": 945}, {"monthly_income": 0}]}]
    h, _ = sim_run(spec)
    assert h.loc["up"].tekun_persons == 0 and h.loc["up"].dibao_monthly_benefit == 937
    h, _ = sim_run(spec, {"dibao.standard": 950})
    assert h.loc["up"].tekun_persons == 1 and h.loc["up"].dibao_type == "household"
    assert h.loc["up"].dibao_monthly_benefit == 950
    assert h.loc["up"].tekun_monthly_benefit == 1431
