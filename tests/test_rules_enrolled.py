"""The audit's door into the rule engine (rules/enrolled.py), hand-worked.

Shishi 350581 on 2023-06-01 (tests/conftest.py): minimum wage 1960 → dibao standard
ceil(1960 × 0.48 = 940.8) = 941; marginal threshold 941 × 1.5 = 1411.5; tekun basic
ceil(941 × 1.3 = 1223.3) = 1224; institutional basic ceil(1224 × 1.5) = 1836; care
1960 × 0.10 / 0.25 / 0.50 = 196 / 490 / 980. Money rounded to the fen; dibao minimum
payment and marginal cash share 0 (national defaults).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import run_rules
from jiuzhu_sim.rules import enrolled
from jiuzhu_sim.rules.enrolled import judge_enrolled, regional_standards

NAN = np.nan


def judge(params, rows: list[dict], region: str = "350581", kind: str = "urban"
          ) -> pd.DataFrame:
    """judge_enrolled on rows of {program, coverage_type, care_level, institutional,
    per_capita_income, own_income, rigid_expenditure} (missing keys: blank / NaN)."""
    n = len(rows)
    col = {k: [r.get(k, d) for r in rows] for k, d in (
        ("program", ""), ("coverage_type", ""), ("care_level", ""), ("institutional", False),
        ("per_capita_income", NAN), ("members", NAN), ("rigid_expenditure", NAN),
        ("own_income", NAN))}
    standards = regional_standards(params, np.full(n, region), kind)
    return judge_enrolled(params, standards=standards, **col)


# --- regional_standards


def test_regional_standards_of_shishi(sim_params):
    s = regional_standards(sim_params, np.array(["350581", "350581"]),
                           np.array(["urban", "rural"]))
    assert list(s["dibao.standard"]) == [941, 941]
    assert list(s["marginal.threshold"]) == [1411.5, 1411.5]
    assert list(s["tekun.basic_standard"]) == [1224, 1224]
    assert list(s["tekun.institutional_basic_standard"]) == [1836, 1836]
    assert s["tekun.care_standard"].tolist() == [[196, 490, 980], [196, 490, 980]]


def test_regional_standards_kind_picks_the_area_and_blank_is_the_base(sim_params):
    # --set dibao.standard.rural=900 splits the standard: urban keeps the base 941, rural
    # 900 → marginal 900 × 1.5 = 1350, tekun basic ceil(900 × 1.3 = 1170) = 1170;
    # kind '' (and None) is the region's base dibao.standard 941 → 1411.5, 1224
    params = sim_params.with_overrides({"dibao.standard.rural": 900})
    s = regional_standards(params, ["350581"] * 3, ["urban", "rural", ""])
    assert list(s["dibao.standard"]) == [941, 900, 941]
    assert list(s["marginal.threshold"]) == [1411.5, 1350, 1411.5]
    assert list(s["tekun.basic_standard"]) == [1224, 1170, 1224]
    assert list(regional_standards(params, ["350581"])["dibao.standard"]) == [941]


def test_regional_standards_unknown_region_is_nan_not_an_error(sim_params):
    s = regional_standards(sim_params, ["999999", "", "350581"], "urban")
    assert np.isnan(s["dibao.standard"][:2]).all() and s["dibao.standard"][2] == 941
    assert np.isnan(s["tekun.care_standard"][:2]).all()


def test_regional_standards_per_row_date(sim_params):
    # Shishi's minimum wage 1960 applies from 2022-04-01: on 2022-05-01 and 2023-01-01 the
    # standard is 941 for both rows (days since 1970: 19113 and 19358)
    days = np.array(["2022-05-01", "2023-01-01"], dtype="datetime64[D]").astype(np.int64)
    s = regional_standards(sim_params, ["350581", "350581"], "urban", days)
    assert list(s["dibao.standard"]) == [941, 941]


# --- verdicts


def test_dibao_household_income_equal_to_standard_is_not_eligible(sim_params):
    # 940.99 < 941 → eligible, 941 − 940.99 = 0.01; 941 = 941 → not ("低于" is strict), 0;
    # 500 → 441
    out = judge(sim_params, [
        {"program": "dibao", "per_capita_income": 940.99},
        {"program": "dibao", "coverage_type": "household", "per_capita_income": 941},
        {"program": "dibao", "per_capita_income": 500}])
    assert list(out.eligible) == [True, False, True]
    assert list(out.known) == [True, True, True]
    assert list(out.expected_amount) == [0.01, 0.0, 441.0]
    assert list(out.reason) == ["eligible", "income_not_below_standard", "eligible"]
    assert list(out.standard) == [941, 941, 941]


def test_unknown_income_is_not_known(sim_params):
    out = judge(sim_params, [{"program": "dibao", "per_capita_income": NAN}])
    row = out.iloc[0]
    assert not row.known and not row.eligible and row.missing == "per_capita_income"
    assert not row.amount_known and np.isnan(row.expected_amount) and row.reason == "unknown"


def test_expenditure_type_deducts_rigid_spending(sim_params):
    # per capita 1200 < 1411.5 (low income); 1200 − 300 = 900 < 941 → eligible, 941 − 900 = 41
    # 1200 − 200 = 1000 ≥ 941 → not eligible (assessed income not below the standard)
    # 1411.5 (not < 1411.5) − 1000 = 411.5 → not low income, not eligible
    # 900 with rigid 1000: max(900 − 1000, 0) = 0 → eligible, 941 − 0 = 941
    out = judge(sim_params, [
        {"program": "dibao", "coverage_type": "expenditure", "per_capita_income": 1200,
         "rigid_expenditure": 300},
        {"program": "dibao", "coverage_type": "expenditure", "per_capita_income": 1200,
         "rigid_expenditure": 200},
        {"program": "dibao", "coverage_type": "expenditure", "per_capita_income": 1411.5,
         "rigid_expenditure": 1000},
        {"program": "dibao", "coverage_type": "expenditure", "per_capita_income": 900,
         "rigid_expenditure": 1000}])
    assert list(out.eligible) == [True, False, False, True]
    assert list(out.assessed_per_capita_income) == [900, 1000, 411.5, 0]
    assert list(out.expected_amount) == [41, 0, 529.5, 941]
    assert list(out.reason) == ["eligible", "assessed_income_not_below_standard",
                                "not_low_income", "eligible"]


def test_single_person_is_judged_on_the_household_low_income_test(sim_params):
    # per capita 1400 < 1411.5 → eligible even though 1400 ≥ 941 (单人保); own income 300
    # → 941 − 300 = 641. Per capita 1411.5 → not low income. Own income unknown: verdict
    # known, amount not.
    out = judge(sim_params, [
        {"program": "dibao", "coverage_type": "single", "per_capita_income": 1400,
         "own_income": 300},
        {"program": "dibao", "coverage_type": "single", "per_capita_income": 1411.5,
         "own_income": 0},
        {"program": "dibao", "coverage_type": "single", "per_capita_income": 1000}])
    assert list(out.eligible) == [True, False, True]
    assert list(out.known) == [True, True, True]
    assert out.expected_amount[0] == 641 and out.expected_amount[1] == 941
    assert not out.amount_known[2] and out.missing[2] == "own_income"
    assert list(out.threshold) == [1411.5] * 3


def test_tekun_no_income_source_is_below_the_dibao_standard(sim_params):
    # own income 940 < 941 → eligible; 941 → not; 1000 (below the tekun basic 1224 that the
    # old rule compared with) → not eligible either; own income unknown, per capita 500 <
    # 941 → eligible. Amounts: dispersed self-care 1224 + 196 = 1420; institutional full
    # care 1836 + 980 = 2816; semi-care 1224 + 490 = 1714
    out = judge(sim_params, [
        {"program": "tekun", "care_level": "self_care", "own_income": 940},
        {"program": "tekun", "care_level": "self_care", "own_income": 941},
        {"program": "tekun", "care_level": "full_care", "institutional": True,
         "own_income": 1000},
        {"program": "tekun", "care_level": "semi_care", "per_capita_income": 500}])
    assert list(out.eligible) == [True, False, False, True]
    assert out.reason[1] == "tekun_income_not_below_dibao_standard"
    assert list(out.expected_amount) == [1420, 1420, 2816, 1714]
    assert list(out.assessed_per_capita_income) == [940, 941, 1000, 500]


def test_tekun_unknown_care_level_leaves_the_amount_unknown(sim_params):
    out = judge(sim_params, [{"program": "tekun", "own_income": 0}])
    row = out.iloc[0]
    assert row.known and row.eligible
    assert not row.amount_known and np.isnan(row.expected_amount)
    assert row.missing == "care_level"


def test_marginal_is_between_standard_and_threshold(sim_params):
    # 941 ≤ 941 < 1411.5 → marginal; 1411.5 → not (not low income); 940 → below the dibao
    # standard, not marginal. Cash share 0 → amount 0; with share 0.5: 0.5 × 941 = 470.5
    out = judge(sim_params, [
        {"program": "marginal", "per_capita_income": 941},
        {"program": "marginal", "per_capita_income": 1411.5},
        {"program": "marginal", "per_capita_income": 940}])
    assert list(out.eligible) == [True, False, False]
    assert list(out.reason) == ["eligible", "not_low_income", "income_below_dibao_standard"]
    assert list(out.expected_amount) == [0, 0, 0]
    out = judge(sim_params.with_overrides({"marginal.monthly_benefit_share": 0.5}),
                [{"program": "marginal", "per_capita_income": 1000}])
    assert out.expected_amount[0] == 470.5


def test_amount_is_rounded_once_by_the_program_rule(sim_params):
    # 941 − 900.5 = 40.5 → fen 40.5; yuan (half away from zero) 41; tekun with
    # tekun.benefit_rounding=ceil_yuan: 1420 stays 1420
    rows = [{"program": "dibao", "per_capita_income": 900.5}]
    assert judge(sim_params, rows).expected_amount[0] == 40.5
    params = sim_params.with_overrides({"dibao.benefit_rounding": "yuan"})
    assert judge(params, rows).expected_amount[0] == 41


def test_minimum_payment_applies_per_person(sim_params):
    # dibao.minimum_benefit 50: 941 − 940 = 1 → raised to 50
    params = sim_params.with_overrides({"dibao.minimum_benefit": 50})
    assert judge(params, [{"program": "dibao", "per_capita_income": 940}]
                 ).expected_amount[0] == 50


def test_unknown_program_coverage_or_region_is_not_known(sim_params):
    out = judge(sim_params, [
        {"program": "wubao", "per_capita_income": 0},
        {"program": "dibao", "coverage_type": "partial", "per_capita_income": 0}])
    assert list(out.known) == [False, False]
    assert list(out.missing) == ["program", "coverage_type"]
    out = judge(sim_params, [{"program": "dibao", "per_capita_income": 0}], region="999999")
    assert not out.known[0] and out.missing[0] == "standard"


def test_categorical_texts_are_judged_like_plain_ones(sim_params):
    # the audit passes program, coverage and care as Categoricals (rules/enrolled.py
    # _word_codes): cleaned per category (" Dibao " → dibao), a missing value as ''.
    # dibao household 900 < 941 → eligible, 941 − 900 = 41; tekun self-care own income 940
    # < 941 → 1224 + 196 = 1420; tekun with no care level (missing) → eligible, amount
    # unknown, missing care_level; 'wubao' → not known, missing program; dibao single
    # ('single') 1000 < 1411.5 → eligible, own income unknown → amount unknown
    program = [" Dibao ", "tekun", "tekun", "wubao", "dibao"]
    coverage = ["", "", "", "", "single"]
    care = ["", "self_care", None, "", ""]
    own = [NAN, 940, 0, NAN, NAN]
    pc = [900, NAN, NAN, 0, 1000]
    standards = regional_standards(sim_params, np.full(5, "350581"), "urban")
    common = dict(institutional=np.zeros(5, dtype=bool), per_capita_income=np.array(pc),
                  members=np.full(5, NAN), rigid_expenditure=np.full(5, NAN),
                  own_income=np.array(own), standards=standards)
    as_cat = judge_enrolled(sim_params, program=pd.Categorical(program),
                            coverage_type=pd.Categorical(coverage),
                            care_level=pd.Categorical(care, categories=["self_care", ""]),
                            **common)
    assert list(as_cat.eligible) == [True, True, True, False, True]
    assert list(as_cat.known) == [True, True, True, False, True]
    assert list(as_cat.missing) == ["", "", "care_level", "program", "own_income"]
    assert as_cat.expected_amount[:2].tolist() == [41, 1420]
    assert np.isnan(as_cat.expected_amount[2:]).all()
    plain = judge_enrolled(sim_params, program=program, coverage_type=coverage,
                           care_level=care, **common)
    pd.testing.assert_frame_equal(as_cat, plain)


def test_output_columns(sim_params):
    out = judge(sim_params, [{"program": "dibao", "per_capita_income": 0}])
    assert tuple(out.columns) == enrolled.OUTPUT_COLUMNS


# --- the same quantities as the simulation


@pytest.mark.parametrize("income", [0.0, 500.0, 940.99, 941.0, 1000.0])
def test_verdict_equals_the_simulation_for_a_one_person_household(sim_params, income):
    # a one-person household on dibao: the simulation covers it whole iff income < 941;
    # judge_enrolled says eligible iff income < 941; amounts 941 − income agree
    h, _ = run_rules([{"household_id": "x", "members": [{"monthly_income": income}]}],
                     sim_params)
    out = judge(sim_params, [{"program": "dibao", "per_capita_income": income}])
    assert bool(h.loc["x"].dibao_eligible) == bool(out.eligible[0])
    if out.eligible[0]:
        assert h.loc["x"].dibao_monthly_benefit == out.expected_amount[0]


def test_a_changed_rule_quantity_changes_the_audit_verdict_and_the_simulation(sim_params,
                                                                              monkeypatch):
    # tekun's no-income test made "≤" instead of "<": own income 941 becomes tekun in both
    from jiuzhu_sim.rules import tekun

    rows = [{"program": "tekun", "care_level": "self_care", "own_income": 941}]
    spec = [{"household_id": "t", "members": [
        {"age": 70, "monthly_income": 941, "has_supporter": False, "work_capacity": False}]}]
    assert not judge(sim_params, rows).eligible[0]
    assert not run_rules(spec, sim_params)[1].loc["t-1"].tekun
    monkeypatch.setattr(tekun, "no_income_source",
                        lambda income, standard: np.asarray(income) <= np.asarray(standard))
    assert judge(sim_params, rows).eligible[0]
    assert run_rules(spec, sim_params)[1].loc["t-1"].tekun
