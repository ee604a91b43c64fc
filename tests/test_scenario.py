"""Scenario files, reforms and comparison tables (scenario.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.scenario import (
    load_scenario,
    parse_scenario,
    rates_from_sums,
    run_scenario,
    simulate_variant,
    weighted_deciles,
)

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "params" / "scenarios").glob("*.yaml"))

PERSON = {"age": 40, "monthly_income": 0.0, "disability_grade": 0, "disability_type": "",
          "serious_illness": False, "work_capacity": True, "has_supporter": True,
          "in_school": False, "college_student": False, "care_level": "self_care",
          "institutional": False, "medical_expense_annual": 0.0,
          "education_expense_annual": 0.0, "rehab_expense_annual": 0.0}


def _population(tmp_path: Path) -> tuple[Path, Path]:
    """Shishi 2024: standard 941, marginal threshold 1.5 × 941 = 1411.5.

    h1: earner 2000 + grade-4 intellectual member 0 + elderly 1000 → per capita 1000,
        between 941 and 1411.5: not whole-household dibao; no rigid spending, so not
        expenditure-type; the grade-4 member is severe only if the max grade is 4 → single
        coverage, benefit 941 − 0 = 941.
    h2: single adult with income 3000: above every line, never covered.
    Enrollment is observed (enrolled_dibao false for both) so entitlements are compared.
    """
    persons = pd.DataFrame([
        {**PERSON, "person_id": "p1", "household_id": "h1", "monthly_income": 2000.0},
        {**PERSON, "person_id": "p2", "household_id": "h1", "age": 30, "disability_grade": 4,
         "disability_type": "intellectual", "work_capacity": False},
        {**PERSON, "person_id": "p3", "household_id": "h1", "age": 70, "monthly_income": 1000.0,
         "work_capacity": False},
        {**PERSON, "person_id": "p4", "household_id": "h2", "monthly_income": 3000.0},
    ])
    households = pd.DataFrame({"household_id": ["h1", "h2"], "region_code": ["350581"] * 2,
                               "urban": [True, False], "financial_assets": [0.0, 0.0],
                               "non_essential_vehicle": [False, False], "dwellings": [1, 1],
                               "enrolled_dibao": [False, False]})
    pp, hp = tmp_path / "persons.csv", tmp_path / "households.csv"
    persons.to_csv(pp, index=False)
    households.to_csv(hp, index=False)
    return pp, hp


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_grade4_intellectual_reform_adds_single_person_coverage(tmp_path):
    pp, hp = _population(tmp_path)
    path = _write(tmp_path, {
        "region": "350581", "date": "2024-01-01",
        "population": {"files": {"persons": pp.name, "households": hp.name}},
        "baseline": {"set": {"dibao.severe_disability_max_grade_intellectual_mental": 3}},
        "reforms": [{"name": "grade4", "set": {
            "dibao.severe_disability_max_grade_intellectual_mental": 4}}],
        "outputs": ["comparison", "winners_losers"],
    })
    result = run_scenario(path, tmp_path / "out", progress=False)
    comp = result.comparison.set_index("scenario")
    assert comp.loc["baseline", "single_person_entitled"] == 0
    assert comp.loc["grade4", "single_person_entitled"] == 1
    # eligible persons: 0 → 1 (the grade-4 member alone); eligible households 0 → 1
    assert comp.loc["baseline", "eligible_persons"] == 0
    assert comp.loc["grade4", "eligible_persons"] == 1
    assert comp.loc["grade4", "eligible_households"] == 1
    # nobody is enrolled (observed), so the reform raises exclusion, not cost
    assert comp.loc["grade4", "exclusion_error_rate"] == 1.0
    assert comp.loc["grade4", "cost_dibao"] == 0
    for name in ("comparison.csv", "winners_losers.csv", "summary.json"):
        assert (tmp_path / "out" / name).is_file()
    summary = result.summary
    assert summary["manifest"]["inputs"] and summary["replications"] == 1


def test_enrolled_reform_pays_the_single_person_benefit(tmp_path):
    pp, hp = _population(tmp_path)
    hh = pd.read_csv(hp)
    hh["enrolled_dibao"] = [True, False]
    hh.to_csv(hp, index=False)
    path = _write(tmp_path, {
        "region": "350581", "date": "2024-01-01",
        "population": {"files": {"persons": str(pp), "households": str(hp)}},
        "baseline": {"set": {"dibao.severe_disability_max_grade_intellectual_mental": 3}},
        "reforms": [{"name": "grade4", "set": {
            "dibao.severe_disability_max_grade_intellectual_mental": 4}}],
    })
    result = run_scenario(path, None, progress=False)
    comp = result.comparison.set_index("scenario")
    # baseline: h1 enrolled but not eligible → inclusion error 1/1
    assert comp.loc["baseline", "inclusion_error_rate"] == 1.0
    # reform: 941 − 0 = 941 a month × 12 = 11,292 a year for the single-person unit
    assert comp.loc["grade4", "cost_dibao"] == pytest.approx(941 * 12)
    assert comp.loc["grade4", "inclusion_error_rate"] == 0.0
    wl = result.winners_losers
    by_type = wl[(wl["group_type"] == "household_type")].set_index("group")
    # types follow the baseline rules: grade 4 is not severe there, h1 has a member aged 70
    assert by_type.loc["with_elderly", "households"] == 1
    assert by_type.loc["with_elderly", "winners_share"] == 1.0
    # baseline paid h1 as an inclusion error; the reform pays 941: the change is the difference
    assert by_type.loc["single_person", "winners_share"] == 0.0


def test_rates_from_summed_cells():
    # 8 eligible (6 enrolled), 2 ineligible enrolled; paid 900 to eligible, 100 to ineligible
    rates = rates_from_sums({
        "eligible_enrolled": 6, "eligible_not_enrolled": 2, "ineligible_enrolled": 2,
        "ineligible_not_enrolled": 90, "paid_to_eligible": 900, "paid_to_ineligible": 100,
        "persons": 10, **{f"fgt{a}_{w}": 1.0 for a in (0, 1, 2) for w in ("before", "after")}})
    assert rates["coverage_rate"] == pytest.approx(6 / 8)
    assert rates["exclusion_error_rate"] == pytest.approx(2 / 8)
    assert rates["inclusion_error_rate"] == pytest.approx(2 / 8)
    assert rates["leakage_rate"] == pytest.approx(0.1)
    assert rates["fgt0_after"] == pytest.approx(0.1)


def test_weighted_deciles_split_equal_weights_evenly():
    values = np.arange(20, dtype=float)[::-1]
    dec = weighted_deciles(values, np.ones(20))
    # two units per decile, lowest values in decile 0
    assert dec[values == 0][0] == 0 and dec[values == 19][0] == 9
    assert np.bincount(dec).tolist() == [2] * 10


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenarios_parse(path):
    spec = load_scenario(path)
    assert spec.variants[0].kind == "baseline"


def test_sweep_range_and_grid():
    spec = parse_scenario({"sweeps": [{"name": "s", "values": {
        "dibao.standard_ratio_to_minimum_wage": {"start": 0.40, "stop": 0.60, "step": 0.05},
        "marginal.ratio_to_dibao": [1.5, 2.0]}}]})
    points = [v.point for v in spec.variants if v.kind == "sweep"]
    # 5 ratios (0.40, 0.45, 0.50, 0.55, 0.60) × 2 multiples
    assert len(points) == 10
    assert points[0] == {"dibao.standard_ratio_to_minimum_wage": 0.4,
                         "marginal.ratio_to_dibao": 1.5}


@pytest.mark.parametrize("doc, key", [
    ({"reforms": [{"name": "x", "sett": {}}]}, "reforms[0].sett"),
    ({"regionz": "350581"}, "regionz"),
    ({"date": "2024-13-01"}, "date"),
    ({"sweeps": [{"values": {"a": {"start": 1}}}]}, "sweeps[0].values.a"),
    ({"population": {"synthetic": {"households": -5}}}, "population.synthetic.households"),
])
def test_bad_scenario_names_file_and_key(tmp_path, doc, key):
    path = _write(tmp_path, doc)
    with pytest.raises(UserInputError) as info:
        load_scenario(path)
    assert str(path) in info.value.one_line()
    assert key in info.value.one_line()


def test_unknown_parameter_in_a_reform_names_the_key(tmp_path):
    path = _write(tmp_path, {"date": "2024-01-01", "population": {"synthetic": {
        "households": 10}}, "reforms": [{"name": "r", "set": {"dibao.no_such": 1}}]})
    with pytest.raises(UserInputError) as info:
        run_scenario(path, None, progress=False)
    assert "dibao.no_such" in info.value.one_line() and "'r'" in info.value.one_line()


def test_cli_bad_scenario_exits_2_with_one_line(tmp_path, capsys):
    from jiuzhu_sim.cli import main

    path = _write(tmp_path, {"reforms": [{"name": "x", "set": {"dibao.no_such": 1}}],
                             "population": {"synthetic": {"households": 10}}})
    assert main(["scenario", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "dibao.no_such" in err


def test_longer_gradual_exit_keeps_more_recent_leavers(tmp_path):
    """渐退 (POLICY.md §3.4), Shishi 2024 standard 941, benefit share 1 (the whole previous
    benefit is kept), no measurement error and no discretion, so only the grace period acts:

    g1: one adult, income 1000 > 941, left dibao 4 months ago with a 300 yuan top-up;
    g2: two adults, 1100 + 900 → 1000 per capita, left 9 months ago with 500 yuan;
    g3: one adult, 1200, never on dibao.
    3 months: nobody kept → 0. 6 months: g1 → 300 × 12 = 3,600 a year. 12 months: g1 + g2 →
    800 × 12 = 9,600 a year. Kept households are on the roll already, so they are enrolled
    and coverage stays 1 whenever anybody is eligible.
    """
    rows = [("g1", 1000.0), ("g2", 1100.0), ("g2", 900.0), ("g3", 1200.0)]
    persons = pd.DataFrame([{**PERSON, "person_id": f"p{i}", "household_id": h,
                             "monthly_income": inc, "work_capacity": False}
                            for i, (h, inc) in enumerate(rows)])
    households = pd.DataFrame({"household_id": ["g1", "g2", "g3"],
                               "region_code": ["350581"] * 3, "urban": [True] * 3,
                               "financial_assets": [0.0] * 3,
                               "non_essential_vehicle": [False] * 3, "dwellings": [1] * 3,
                               "previous_dibao_benefit": [300.0, 500.0, 0.0],
                               "months_above_standard": [4, 9, 0]})
    persons.to_csv(tmp_path / "persons.csv", index=False)
    households.to_csv(tmp_path / "households.csv", index=False)
    path = _write(tmp_path, {
        "region": "350581", "date": "2024-01-01",
        "population": {"files": {"persons": "persons.csv", "households": "households.csv"}},
        "baseline": {"set": {"dibao.gradual_exit_months": 6,
                             "dibao.gradual_exit_benefit_share": 1.0,
                             "process.income_measurement_sigma": 0.0,
                             "process.discretion_inclusion_probability": 0.0}},
        "reforms": [{"name": "exit_12", "set": {"dibao.gradual_exit_months": 12}},
                    {"name": "exit_3", "set": {"dibao.gradual_exit_months": 3}}],
    })
    comp = run_scenario(path, None, progress=False).comparison.set_index("scenario")
    assert comp.loc["exit_3", "eligible_households"] == 0
    assert comp.loc["exit_3", "cost_dibao"] == 0
    assert comp.loc["baseline", "eligible_households"] == 1
    assert comp.loc["baseline", "enrolled_households"] == 1
    assert comp.loc["baseline", "cost_dibao"] == pytest.approx(300 * 12)
    assert comp.loc["exit_12", "eligible_households"] == 2
    assert comp.loc["exit_12", "dibao_recipients"] == 3  # g1's one member + g2's two
    assert comp.loc["exit_12", "cost_dibao"] == pytest.approx(800 * 12)
    assert comp.loc["exit_12", "coverage_rate"] == 1.0


def test_gradual_exit_scenario_is_not_inert_on_synthetic_data():
    """The shipped 渐退 scenario on a synthetic county (recent leavers drawn by the
    generator): a longer grace period keeps more households at a higher cost; shorter, fewer."""
    spec = load_scenario(SCENARIOS[[p.stem for p in SCENARIOS].index("gradual_exit_12_months")])
    spec.population["synthetic"] = {"households": 20_000, "seed": 3}
    comp = run_scenario(spec, None, progress=False).comparison.set_index("scenario")
    base, longer, shorter = (comp.loc[k] for k in ("baseline", "exit_12_months",
                                                   "exit_3_months"))
    assert longer["eligible_households"] > base["eligible_households"] \
        > shorter["eligible_households"]
    assert longer["enrolled_households"] > base["enrolled_households"] \
        > shorter["enrolled_households"]
    assert longer["cost_dibao"] > base["cost_dibao"] > shorter["cost_dibao"]
    assert longer["delta_cost_total"] > 0 > shorter["delta_cost_total"]


def test_simulate_variant_equals_simulate_population():
    """The partition's array path gives simulate_population's enrollment and payments."""
    from jiuzhu_sim.parameters import load_parameters
    from jiuzhu_sim.population.generate import draw_population
    from jiuzhu_sim.population.process import (
        household_hashes,
        process_key,
        uniforms_from_hashes,
    )
    from jiuzhu_sim.simulation import simulate_population

    params = load_parameters("350581", "2024-01-01", {"dibao.gradual_exit_months": 12})
    pop = draw_population(params, 5000, seed=9).to_population()
    full = simulate_population(pop, params, 77).households
    u = uniforms_from_hashes(household_hashes(pop.household_id),
                             process_key(np.random.default_rng(77)), 4)
    fast = simulate_variant(pop, params, u)
    assert full["gradual_exit"].any()
    np.testing.assert_array_equal(full["enrolled"].to_numpy(), fast["h_enrolled"])
    np.testing.assert_array_equal(full["dibao_eligible"].to_numpy(), fast["h_eligible"])
    np.testing.assert_array_equal(full["paid_dibao_monthly_benefit"].to_numpy(), fast["h_paid"])


def _couple_files(tmp_path: Path, income_p1: float) -> tuple[Path, Path]:
    """One urban couple, enrolled (observed), no assets: income_p1 + 0 a month."""
    persons = pd.DataFrame([
        {**PERSON, "person_id": "c1", "household_id": "k1", "monthly_income": income_p1},
        {**PERSON, "person_id": "c2", "household_id": "k1"}])
    households = pd.DataFrame({"household_id": ["k1"], "region_code": ["350581"],
                               "urban": [True], "financial_assets": [0.0],
                               "non_essential_vehicle": [False], "dwellings": [1],
                               "enrolled_dibao": [True]})
    pp, hp = tmp_path / "persons.csv", tmp_path / "households.csv"
    persons.to_csv(pp, index=False)
    households.to_csv(hp, index=False)
    return pp, hp


def test_rewritten_population_file_is_read_again_in_the_same_process(tmp_path):
    """The population cache is keyed on the files' content, not their paths."""
    _couple_files(tmp_path, 400.0)
    path = _write(tmp_path, {"region": "350581", "date": "2024-01-01",
                             "population": {"files": {"persons": "persons.csv",
                                                      "households": "households.csv"}},
                             "replications": 2})
    first = run_scenario(path, None, progress=False).comparison.set_index("scenario")
    # standard ceil(1960 × 0.48 = 940.8) = 941; per capita (400 + 0)/2 = 200;
    # (941 − 200) × 2 = 1,482 a month × 12 = 17,784 a year
    assert first.loc["baseline", "cost_dibao"] == pytest.approx(17784)
    # same path, same size (400 → 800 keeps the byte count), new content
    size = (tmp_path / "persons.csv").stat().st_size
    _couple_files(tmp_path, 800.0)
    assert (tmp_path / "persons.csv").stat().st_size == size
    second = run_scenario(path, None, progress=False).comparison.set_index("scenario")
    # per capita 800/2 = 400; (941 − 400) × 2 = 1,082 a month × 12 = 12,984 a year
    assert second.loc["baseline", "cost_dibao"] == pytest.approx(12984)


def test_bootstrap_cache_follows_the_region_not_its_position():
    """Same scenario name and region position, another region: its own population."""
    def run(regions):
        spec = parse_scenario({"name": "same", "regions": regions, "date": "2024-01-01",
                               "population": {"synthetic": {"households": 500, "seed": 4},
                                              "replicate": "bootstrap"}})
        return run_scenario(spec, None, progress=False).comparison.set_index("region")

    first = run(["350581", "350583"])
    # Nan'an 350583: minimum wage 1810 × the national assumption 0.45 (48% is Shishi's, 000):
    # ceil(814.5) = 815
    assert first.loc["350583", "dibao_standard_mean"] == 815
    second = run(["350581", "350505"])
    # Quangang 350505: Quanzhou's minimum wage 1960 × the national assumption 0.45:
    # ceil(882.0) = 882 for every household — not Nan'an's 815 cached at position 1
    assert second.loc["350505", "dibao_standard_mean"] == 882


def _check_dibao_standard_48(comp, frontier):
    # Shishi minimum wage 1960 (params, from 2022-04-01), ceil_yuan rounding:
    # baseline ceil(1960 × 0.45 = 882.0) = 882; reform ceil(1960 × 0.48 = 940.8) = 941
    assert comp.loc["baseline", "dibao_standard_mean"] == 882
    assert comp.loc["standard_48", "dibao_standard_mean"] == 941
    assert comp.loc["standard_48", "eligible_households"] > comp.loc["baseline",
                                                                     "eligible_households"]
    assert comp.loc["standard_48", "delta_cost_total"] > 0
    # sweep 0.40, 0.425, …, 0.60: 9 points; ends ceil(784.0) = 784 and ceil(1176.0) = 1176
    assert len(frontier) == 9
    assert frontier["dibao_standard_mean"].iloc[[0, -1]].tolist() == [784, 1176]
    assert frontier["eligible_households"].iloc[-1] > frontier["eligible_households"].iloc[0]


def _check_frontier_standard_by_marginal(comp, frontier):
    # baseline: Shishi ceil(1960 × 0.48 = 940.8) = 941, Nan'an ceil(1810 × 0.45 = 814.5) = 815
    by_region = comp[comp["scenario"] == "baseline"].set_index("region")
    assert by_region.loc["350581", "dibao_standard_mean"] == 941
    assert by_region.loc["350583", "dibao_standard_mean"] == 815
    assert len(frontier) == 6 * 2
    # at each standard ratio, the 2× marginal line finds more marginal households than 1.5×
    wide = frontier.pivot(index="dibao.standard_ratio_to_minimum_wage",
                          columns="marginal.ratio_to_dibao", values="marginal_households")
    assert (wide[2.0] > wide[1.5]).all()


def _check_grade4_intellectual_single(comp, frontier):
    assert comp.loc["grade4_single", "single_person_entitled"] > comp.loc[
        "baseline", "single_person_entitled"]
    assert comp.loc["grade4_single", "dibao_standard_mean"] == comp.loc[
        "baseline", "dibao_standard_mean"] == 941


def _check_gradual_exit_12_months(comp, frontier):
    assert comp.loc["exit_12_months", "eligible_households"] > comp.loc[
        "baseline", "eligible_households"] >= comp.loc["exit_3_months", "eligible_households"]
    assert comp.loc["exit_12_months", "delta_cost_total"] > 0


def _check_marginal_threshold_2x(comp, frontier):
    assert comp.loc["marginal_2x", "marginal_households"] > comp.loc["baseline",
                                                                     "marginal_households"]
    # single-person units are assessed below the marginal line: a wider line adds some
    assert comp.loc["marginal_2x", "single_person_entitled"] > comp.loc[
        "baseline", "single_person_entitled"]
    assert frontier["marginal_households"].is_monotonic_increasing


SHIPPED_CHECKS = {name[len("_check_"):]: f for name, f in globals().items()
                  if name.startswith("_check_")}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenarios_run_end_to_end(path, tmp_path):
    """Every shipped scenario runs on a small synthetic county, writes what its ``outputs``
    ask for, and its reform moves what it is about (a new file needs a check here)."""
    assert path.stem in SHIPPED_CHECKS, f"add _check_{path.stem} for the new scenario"
    spec = load_scenario(path)
    spec.population["synthetic"] = {**spec.population["synthetic"], "households": 20_000}
    result = run_scenario(spec, tmp_path, progress=False)
    for name in spec.outputs:
        if name != "frontier" or any(v.kind == "sweep" for v in spec.variants):
            assert (tmp_path / f"{name}.csv").is_file()
    assert (tmp_path / "summary.json").is_file()
    comp = result.comparison[result.comparison["region"] == "all"].set_index("scenario")
    SHIPPED_CHECKS[path.stem](comp if len(spec.regions) == 1 else result.comparison,
                              result.frontier)
