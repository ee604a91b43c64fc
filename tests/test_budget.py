"""Budget projection arithmetic and 004 capacity rules (budget.py), worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from jiuzhu_sim.budget import (
    PROJECTED,
    QUANTITIES,
    capacity_table,
    draw_parameters,
    project,
    projection_paths,
    summarise_draws,
    township_caseworkers,
)
from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.parameters import load_parameters

FIXED = {
    "budget.minimum_wage_growth": 0.05, "budget.minimum_wage_growth_sd": 0,
    "budget.price_inflation": 0.02, "budget.price_inflation_sd": 0,
    "budget.population_growth": 0.0, "budget.population_growth_sd": 0,
    "budget.caseload_monthly_entry_rate": 0.01, "budget.caseload_monthly_entry_rate_sd": 0,
    "budget.caseload_monthly_exit_rate": 0.01, "budget.caseload_monthly_exit_rate_sd": 0,
    "budget.takeup_trend": 0.0, "budget.takeup_trend_sd": 0,
    "budget.temporary_case_rate": 0.01, "budget.temporary_case_rate_sd": 0,
    "budget.income_growth": 0.0, "budget.income_growth_sd": 0,
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


def _projected(n_rows: int, **values) -> np.ndarray:
    """What the rules, run again, would give for every path row (here: given by hand)."""
    row = np.zeros(len(PROJECTED))
    for key, value in values.items():
        row[PROJECTED.index(key.replace("__", "."))] = value
    return np.tile(row, (n_rows, 1))


def _project(params, base, years, projected_values=None, root_seed=1):
    draws = draw_parameters(params, base.shape[0], years[1] - params.date.year, root_seed)
    paths = projection_paths(params, years, draws)
    return project(params, base, paths, _projected(len(paths), **(projected_values or {})))


def test_zero_variance_projection_matches_hand_arithmetic(params):
    assert params["dibao.standard.urban"] == 941
    base = np.stack([_base(dibao_paid__urban=30000, dibao_recipients__urban=50,
                           households__urban=1000, persons__urban=2500,
                           tekun_dispersed__rural=10, **{"tekun_care.self_care": 10})] * 3)
    # the rules, run again at each year's standard, pay 31,000 a month to 52 recipients
    out = _project(params, base, (2025, 2026), {"dibao_paid__urban": 31000,
                                                "dibao_recipients__urban": 52})
    y25 = out[out["year"] == 2025].iloc[0]
    # 2025: wage 1960 × 1.05 = 2058; ratio rule ceil(2058 × 0.48 = 987.84) = 988;
    # price rule ceil(941 × 1.02 = 959.82) = 960 → standard 988
    assert y25["dibao_standard_urban"] == 988
    # dibao: 31,000/month × churn (1 + 0.01 − 0.01)^12 = 1 × 12 = 372,000
    assert y25["cost_dibao"] == pytest.approx(372000)
    assert y25["dibao_recipients"] == pytest.approx(52)
    # tekun basic: 10 rural persons × ceil(988 × 1.3 = 1284.4) = 1285 × 12 = 154,200
    assert y25["cost_tekun_basic"] == pytest.approx(154200)
    # care, self-care: 10 × ceil(2058 × 0.10 = 205.8) = 206 × 12 = 24,720
    assert y25["cost_tekun_care"] == pytest.approx(24720)
    # temporary: 1000 households × 0.01 × (0.6×988 + 0.3×2964 + 0.1×5928 = 2074.8) = 20,748
    assert y25["cost_temporary"] == pytest.approx(20748)
    assert y25["cost_total"] == pytest.approx(372000 + 154200 + 24720 + 20748)
    y26 = out[out["year"] == 2026].iloc[0]
    # 2026: wage 2058 × 1.05 = 2160.9; ceil(1037.232) = 1038 > ceil(988 × 1.02) = 1008
    assert y26["dibao_standard_urban"] == 1038
    assert y26["cost_dibao"] == pytest.approx(372000)
    table = summarise_draws(out)
    dibao25 = table[(table["year"] == 2025) & (table["program"] == "dibao")].iloc[0]
    # three identical replications: no spread
    assert dibao25["p5"] == pytest.approx(dibao25["p95"])
    assert dibao25["replications"] == 3


def test_price_indexation_keeps_the_standard_when_wages_stand_still():
    p = load_parameters("350581", "2024-06-01", {**FIXED, "budget.minimum_wage_growth": 0.0})
    out = _project(p, np.stack([_base(dibao_paid__urban=1000)]), (2025, 2025))
    # ratio rule stays 941; price rule ceil(941 × 1.02 = 959.82) = 960
    assert out["dibao_standard_urban"].iloc[0] == 960


def test_churn_compounds_monthly():
    p = load_parameters("350581", "2024-06-01",
                        {**FIXED, "budget.caseload_monthly_exit_rate": 0.02,
                         "budget.minimum_wage_growth": 0.0, "budget.price_inflation": 0.0})
    out = _project(p, np.stack([_base(dibao_paid__urban=1000)]), (2025, 2025),
                   {"dibao_paid__urban": 1000})
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
    # Shishi lists its 9 townships (shishi.budget.yaml): 35,222–35,224 registered residents
    # each, all in 004's 2万至5万 band → 2 caseworkers each = 18
    assert cap["townships"] == 9
    assert cap["min_caseworkers"] == 18
    # POLICY §9: work funds 2% of 1,000,000 = 20,000; floor 5% × (20,000 + 1,000,000) =
    # 51,000; the subsidy gives at most 3% × 1,000,000 = 30,000; the work funds can spare
    # 50% × 20,000 = 10,000 → planned 40,000, short by 11,000: the floor cannot be met
    assert cap["work_funds"] == pytest.approx(20000)
    assert cap["purchased_services_floor"] == pytest.approx(51000)
    assert cap["purchased_services_cap"] == pytest.approx(30000)
    assert cap["purchased_services_planned"] == pytest.approx(40000)
    assert cap["purchased_services_shortfall"] == pytest.approx(11000)
    assert not cap["meets_floor"] and cap["within_cap"]
    assert "无法达到下限" in cap["purchased_services_note"]


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


def _singles(incomes, enrolled):
    """One urban adult per household, no assets, observed enrollment."""
    import pandas as pd

    person = _tiny_population()[0].iloc[0].to_dict()
    persons = pd.DataFrame([{**person, "person_id": f"s{i}", "household_id": f"g{i}",
                             "monthly_income": float(inc)} for i, inc in enumerate(incomes)])
    households = pd.DataFrame({"household_id": [f"g{i}" for i in range(len(incomes))],
                               "region_code": "350581", "urban": True, "financial_assets": 0.0,
                               "non_essential_vehicle": False, "dwellings": 1,
                               "enrolled_dibao": enrolled})
    return persons, households


@pytest.mark.parametrize("growth, eligible_2026, paid_2025", [
    # standards 941 (2024) → 988 (2025) → 1038 (2026), see the hand projection above.
    # incomes flat: 500 < 941; 960 < 988; 1000 < 1038 → 1, 2, 3 households eligible;
    # g0 paid 988 − 500 = 488 in 2025
    (0.0, 3, 488.0),
    # incomes +2% a year: 2025 510, 979.2, 1020 vs 988 → 2; 2026 520.2, 998.78, 1040.4 vs
    # 1038 → 2 (g2 outgrows the standard); g0 paid 988 − 510 = 478 in 2025
    (0.02, 2, 478.0),
])
def test_projected_rules_admit_households_below_the_rising_standard(params, growth,
                                                                     eligible_2026, paid_2025):
    from jiuzhu_sim.budget import projected_totals
    from jiuzhu_sim.simulation import prepare_population

    p = params.with_overrides({"budget.income_growth": growth})
    pop = prepare_population(*_singles([500, 960, 1000], [True, False, False]))
    paths = projection_paths(p, (2025, 2026), draw_parameters(p, 1, 2, root_seed=1))
    got = projected_totals(pop, p, paths, lambda rep: np.ones(3), None)
    eligible = got[:, PROJECTED.index("dibao_eligible.urban")]
    assert eligible.tolist() == [2, eligible_2026]
    assert got[0, PROJECTED.index("dibao_paid.urban")] == pytest.approx(paid_2025)


def test_higher_standard_path_raises_projected_eligible_households(params):
    """Same population, seed and bootstrap weights; wages (and with them the 48% standard)
    grow 5% a year or not at all, prices flat: every replication has at least as many
    eligible households on the higher path (a superset), and more in total."""
    from jiuzhu_sim.budget import run_budget

    population = _singles([500, 960, 1000, 1020], [True, False, False, False])
    runs = {g: run_budget(params.with_overrides({"budget.minimum_wage_growth": g,
                                                 "budget.price_inflation": 0.0}),
                          (2025, 2026), None, replications=20, seed=5, population=population,
                          progress=False).draws.set_index(["replication", "year"])
            for g in (0.0, 0.05)}
    low, high = (runs[g]["dibao_eligible_households"] for g in (0.0, 0.05))
    # flat path: standard stays 941, only the 500 household; 2026 high path (1038): all four
    assert (high >= low).all() and high.sum() > low.sum()
    assert runs[0.0]["dibao_standard_urban"].eq(941).all()


def test_projected_rules_at_base_values_reproduce_the_base_totals(params):
    """The rules run again with base standards and flat incomes give the bootstrap totals
    of the base simulation (same process draws, same weights)."""
    import pandas as pd

    from jiuzhu_sim.budget import population_totals
    from jiuzhu_sim.distributed import Partition
    from jiuzhu_sim.population.generate import draw_population

    pop = draw_population(params, 3000, seed=4).to_population()
    part = Partition(0, 0, 0, 0, 3000, 9)
    base_year = params.date.year + 1  # a "projected" year with base values
    paths = pd.DataFrame({"replication": [0, 1], "year": [base_year] * 2,
                          "minimum_wage": [params["minimum_wage"]] * 2,
                          "dibao_standard_urban": [params["dibao.standard.urban"]] * 2,
                          "dibao_standard_rural": [params["dibao.standard.rural"]] * 2,
                          "income_factor": [1.0, 1.0]})
    totals = population_totals(pop, params, part, 2, paths)
    cols = [QUANTITIES.index(q) for q in PROJECTED]
    assert totals["projected"][:, PROJECTED.index("dibao_paid.urban")].min() > 0
    np.testing.assert_allclose(totals["projected"], totals["bootstrap"][:, cols])


def test_listed_townships_set_on_the_command_line(tmp_path):
    """--set budget.township_populations=[12000,30000,60000]: 004 三 per township,
    12,000 < 20,000 → 1; 20,000 ≤ 30,000 ≤ 50,000 → 2; 60,000 > 50,000 → 3; 1 + 2 + 3 = 6
    (populations × the population factor ≈ 1 stay inside their bands)."""
    import pandas as pd

    from jiuzhu_sim.cli import main

    code = main(["budget", "--date", "2025-01-01", "--years", "2025:2026", "--households",
                 "300", "--replications", "2", "--out", str(tmp_path),
                 "--set", "budget.township_populations=[12000,30000,60000]"])
    assert code == 0
    capacity = pd.read_csv(tmp_path / "capacity.csv")
    assert capacity["townships"].tolist() == [3, 3]
    assert capacity["min_caseworkers"].tolist() == [6, 6]


def test_bad_township_list_names_the_parameter(tmp_path, capsys):
    from jiuzhu_sim.cli import main

    code = main(["budget", "--date", "2025-01-01", "--years", "2025:2025", "--households",
                 "100", "--replications", "1", "--out", str(tmp_path),
                 "--set", "budget.township_populations=[12000,abc]"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "budget.township_populations" in err


def test_truncated_draws_respect_the_bounds_in_params():
    # case rate 0.001 ± 0.01 truncated at the declared lower bound: no draw below it and no
    # draws piled up on it (truncation, not clipping)
    p = load_parameters("350581", "2024-06-01", {"budget.temporary_case_rate": 0.001,
                                                 "budget.temporary_case_rate_lower": 0.0005})
    draws = draw_parameters(p, 200, 3, root_seed=2)["temporary_case_rate"]
    assert draws.min() >= 0.0005
    assert (draws == 0.0005).sum() == 0
    assert draws.std() > 0


def test_central_value_outside_its_bounds_is_a_user_error():
    p = load_parameters("350581", "2024-06-01", {"budget.caseload_monthly_exit_rate": -0.01})
    with pytest.raises(UserInputError, match="budget.caseload_monthly_exit_rate"):
        draw_parameters(p, 2, 1, root_seed=1)
