"""Budget projection arithmetic and 004 capacity rules (budget.py), worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from jiuzhu_sim.budget import (
    QUANTITIES,
    capacity_table,
    draw_parameters,
    project,
    summarise_draws,
    township_caseworkers,
)
from jiuzhu_sim.parameters import load_parameters

FIXED = {
    "budget.minimum_wage_growth": 0.05, "budget.minimum_wage_growth_sd": 0,
    "budget.price_inflation": 0.02, "budget.price_inflation_sd": 0,
    "budget.population_growth": 0.0, "budget.population_growth_sd": 0,
    "budget.caseload_monthly_entry_rate": 0.01, "budget.caseload_monthly_entry_rate_sd": 0,
    "budget.caseload_monthly_exit_rate": 0.01, "budget.caseload_monthly_exit_rate_sd": 0,
    "budget.takeup_trend": 0.0, "budget.takeup_trend_sd": 0,
    "budget.temporary_case_rate": 0.01, "budget.temporary_case_rate_sd": 0,
}


@pytest.fixture(scope="module")
def params():
    # Shishi, minimum wage 1960 → dibao standard ceil(1960 × 0.48 = 940.8) = 941
    return load_parameters("350581", "2024-06-01", FIXED)


def _base(**values) -> np.ndarray:
    row = np.zeros(len(QUANTITIES))
    for key, value in values.items():
        row[QUANTITIES.index(key.replace("__", "."))] = value
    return row


def test_zero_variance_projection_matches_hand_arithmetic(params):
    assert params["dibao.standard.urban"] == 941
    base = np.stack([_base(dibao_paid__urban=30000, dibao_recipients__urban=50,
                           households__urban=1000, persons__urban=2500,
                           tekun_dispersed__rural=10, **{"tekun_care.self_care": 10})] * 3)
    draws = draw_parameters(params, 3, 2, root_seed=1)
    out = project(params, base, (2025, 2026), draws)
    y25 = out[out["year"] == 2025].iloc[0]
    # 2025: wage 1960 × 1.05 = 2058; ratio rule ceil(2058 × 0.48 = 987.84) = 988;
    # price rule ceil(941 × 1.02 = 959.82) = 960 → standard 988
    assert y25["dibao_standard_urban"] == 988
    # dibao: 30000/month × 988/941 × churn (1 + 0.01 − 0.01)^12 = 1 × 12 = 377,980.87
    assert y25["cost_dibao"] == pytest.approx(360000 * 988 / 941)
    # tekun basic: 10 rural persons × ceil(988 × 1.3 = 1284.4) = 1285 × 12 = 154,200
    assert y25["cost_tekun_basic"] == pytest.approx(154200)
    # care, self-care: 10 × ceil(2058 × 0.10 = 205.8) = 206 × 12 = 24,720
    assert y25["cost_tekun_care"] == pytest.approx(24720)
    # temporary: 1000 households × 0.01 × (0.6×988 + 0.3×2964 + 0.1×5928 = 2074.8) = 20,748
    assert y25["cost_temporary"] == pytest.approx(20748)
    assert y25["cost_total"] == pytest.approx(360000 * 988 / 941 + 154200 + 24720 + 20748)
    y26 = out[out["year"] == 2026].iloc[0]
    # 2026: wage 2058 × 1.05 = 2160.9; ceil(1037.232) = 1038 > ceil(988 × 1.02) = 1008
    assert y26["dibao_standard_urban"] == 1038
    assert y26["cost_dibao"] == pytest.approx(360000 * 1038 / 941)
    table = summarise_draws(out)
    dibao25 = table[(table["year"] == 2025) & (table["program"] == "dibao")].iloc[0]
    # three identical replications: no spread
    assert dibao25["p5"] == pytest.approx(dibao25["p95"])
    assert dibao25["replications"] == 3


def test_price_indexation_keeps_the_standard_when_wages_stand_still():
    p = load_parameters("350581", "2024-06-01", {**FIXED, "budget.minimum_wage_growth": 0.0})
    draws = draw_parameters(p, 1, 1, root_seed=1)
    out = project(p, np.stack([_base(dibao_paid__urban=1000)]), (2025, 2025), draws)
    # ratio rule stays 941; price rule ceil(941 × 1.02 = 959.82) = 960
    assert out["dibao_standard_urban"].iloc[0] == 960


def test_churn_compounds_monthly():
    p = load_parameters("350581", "2024-06-01",
                        {**FIXED, "budget.caseload_monthly_exit_rate": 0.02,
                         "budget.minimum_wage_growth": 0.0, "budget.price_inflation": 0.0})
    draws = draw_parameters(p, 1, 1, root_seed=1)
    out = project(p, np.stack([_base(dibao_paid__urban=1000)]), (2025, 2025), draws)
    # entry 1%, exit 2%: caseload × 0.99^12 = 0.886385; standard unchanged (941)
    assert out["cost_dibao"].iloc[0] == pytest.approx(1000 * 12 * 0.99 ** 12)


def test_uncertain_draws_spread_and_are_reproducible():
    p = load_parameters("350581", "2024-06-01")
    a = draw_parameters(p, 50, 3, root_seed=5)
    b = draw_parameters(p, 50, 3, root_seed=5)
    np.testing.assert_array_equal(a["minimum_wage_growth"], b["minimum_wage_growth"])
    assert a["minimum_wage_growth"].std() > 0
    assert (a["entry_rate"] >= 0).all()


def test_township_caseworker_bands_004(params):
    # 004 三: 2万人以下 ≥ 1, 2万至5万 ≥ 2, 5万人以上 ≥ 3 ("以下/以上" include the bound)
    got = township_caseworkers(np.array([5000, 20000, 20001, 49999, 50000, 80000]), params)
    assert got.tolist() == [1, 1, 2, 2, 3, 3]


def test_capacity_purchased_services_bounds(params):
    import pandas as pd

    table = pd.DataFrame({"year": [2025], "program": ["total"], "p50": [1_000_000.0]})
    standards = pd.DataFrame({"year": [2025], "persons": [80000.0], "population_factor": [1.0]})
    cap = capacity_table(params, table, standards).iloc[0]
    # 80,000 persons / 36,500 per township → 3 townships of 26,667 → 2 caseworkers each
    assert cap["townships"] == 3
    assert cap["min_caseworkers"] == 6
    # work funds 2% of 1,000,000 = 20,000; floor 5% = 1,000; cap 3% of subsidy = 30,000
    assert cap["work_funds"] == pytest.approx(20000)
    assert cap["purchased_services_floor"] == pytest.approx(1000)
    assert cap["purchased_services_cap"] == pytest.approx(30000)
    assert cap["meets_floor"] and cap["within_cap"]


def _tiny_population():
    import pandas as pd

    person = {"age": 40, "monthly_income": 0.0, "disability_grade": 0, "disability_type": "",
              "serious_illness": False, "work_capacity": True, "has_supporter": True,
              "in_school": False, "college_student": False, "care_level": "self_care",
              "institutional": False, "medical_expense_annual": 0.0,
              "education_expense_annual": 0.0, "rehab_expense_annual": 0.0}
    persons = pd.DataFrame([
        # h1: two adults, income 1000 in all → per capita 500 < 941: whole household dibao
        {**person, "person_id": "p1", "household_id": "h1", "monthly_income": 1000.0},
        {**person, "person_id": "p2", "household_id": "h1"},
        # h2: an elderly person alone, no income, no supporter, no work capacity → tekun
        {**person, "person_id": "p3", "household_id": "h2", "age": 75, "work_capacity": False,
         "has_supporter": False, "care_level": "semi_care"},
        {**person, "person_id": "p4", "household_id": "h3", "monthly_income": 5000.0},
    ])
    households = pd.DataFrame({"household_id": ["h1", "h2", "h3"],
                               "region_code": ["350581"] * 3, "urban": [True, False, True],
                               "financial_assets": [0.0] * 3,
                               "non_essential_vehicle": [False] * 3, "dwellings": [1] * 3,
                               "enrolled_dibao": [True, False, False]})
    return persons, households


def test_run_budget_on_a_given_population_writes_tables(params, tmp_path):
    from jiuzhu_sim.budget import run_budget
    from jiuzhu_sim.simulation import simulate

    persons, households = _tiny_population()
    result = run_budget(params, (2025, 2026), tmp_path, replications=4, seed=3,
                        population=(persons, households), progress=False)
    summary = simulate(persons, households, params).summary
    monthly = summary["monthly_cost"]["by_program"]
    # base-year totals reproduce the simulation's monthly costs
    assert result.base["dibao_paid.urban"] == pytest.approx(monthly["dibao"])
    tekun_base = result.base["tekun_dispersed.rural"]
    assert tekun_base == 1 and result.base["tekun_care.semi_care"] == 1
    # h1: (941 − 500) × 2 = 882 a month
    assert monthly["dibao"] == pytest.approx(882)
    assert set(result.table["program"]) >= {"dibao", "tekun_basic", "tekun_care",
                                             "temporary", "marginal", "total"}
    assert (result.table["replications"] == 4).all()
    for name in ("budget.csv", "capacity.csv", "standards.csv", "summary.json"):
        assert (tmp_path / name).is_file()
    assert result.summary["replications"] == 4


def test_cli_years_before_the_parameter_date_exit_2(tmp_path, capsys):
    from jiuzhu_sim.cli import main

    code = main(["budget", "--date", "2026-01-01", "--years", "2025:2026", "--out",
                 str(tmp_path)])
    assert code == 2
    assert "before the base year 2026" in capsys.readouterr().err
