"""The rule engine (rules/engine.py) is the single source: every consumer goes through it.

Shishi 2023 (tests/conftest.py): dibao standard 941, marginal threshold 1411.5, tekun basic
1224 + self-care 196 = 1420.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from conftest import make_frames, run_rules
from jiuzhu_sim.rules import dibao, engine

SRC = Path(__file__).resolve().parents[1] / "src" / "jiuzhu_sim"

# one person, income exactly the standard: not eligible ("低于" is strict, POLICY.md §10);
# eligible everywhere once the rule's comparison is patched to "≤"
AT_STANDARD = [{"household_id": "eq", "members": [{"monthly_income": 941}]}]


def _consumers(params) -> dict[str, bool]:
    """Whether the AT_STANDARD household is dibao-eligible, as each consumer sees it."""
    from jiuzhu_sim import budget, scenario
    from jiuzhu_sim.explain import explain
    from jiuzhu_sim.rules.enrolled import judge_enrolled, regional_standards
    from jiuzhu_sim.simulation import prepare_population, simulate, simulate_population

    persons, households = make_frames(AT_STANDARD)
    households["enrolled_dibao"] = True
    pop = prepare_population(persons, households)
    v = scenario.simulate_variant(pop, params, None)
    sums, _ = scenario.variant_sums(pop, v, params, v["h_standard"], v["h_income_all"])
    result = simulate_population(pop, params)
    budget_base = budget.household_quantities(result.households, result.persons, pop)
    budget_projected = budget.variant_quantities(pop, v)
    audit = judge_enrolled(params, program=["dibao"], coverage_type=[""], care_level=[""],
                           institutional=[False], per_capita_income=[941.0], members=[1],
                           rigid_expenditure=[np.nan], own_income=[941.0],
                           standards=regional_standards(params, ["350581"], "urban"))
    return {
        "simulate": bool(simulate(persons, households, params).households
                         ["dibao_eligible"].iloc[0]),
        "explain": explain(persons, households, "eq", params).result["dibao_eligible"],
        "scenario": sums[scenario.SUM_FIELDS.index("eligible_households")] == 1,
        "budget": budget_base[0, budget.QUANTITIES.index("dibao_eligible.urban")] == 1,
        "budget_projection": budget_projected[
            0, budget.PROJECTED.index("dibao_eligible.urban")] == 1,
        "audit": bool(audit["eligible"].iloc[0]),
    }


def test_one_rule_quantity_changes_every_consumer(sim_params, monkeypatch):
    # below the standard means strictly below: 941 < 941 is false for every consumer …
    assert _consumers(sim_params) == dict.fromkeys(
        ("simulate", "explain", "scenario", "budget", "budget_projection", "audit"), False)
    # … and when the one quantity says "≤", every consumer follows: none of them decides
    # eligibility with its own comparison
    monkeypatch.setattr(dibao, "below_standard",
                        lambda income, standard: np.asarray(income) <= np.asarray(standard))
    assert _consumers(sim_params) == dict.fromkeys(
        ("simulate", "explain", "scenario", "budget", "budget_projection", "audit"), True)


def test_one_amount_quantity_changes_every_consumer(sim_params, monkeypatch):
    # a one-person household with income 500: top-up 941 − 500 = 441 in simulate, explain,
    # scenario (paid, observed enrolment) and the audit's expected amount; a top-up rule
    # that adds 1 yuan shows up in all of them (442)
    from jiuzhu_sim import scenario
    from jiuzhu_sim.explain import explain
    from jiuzhu_sim.rules.enrolled import judge_enrolled, regional_standards
    from jiuzhu_sim.simulation import prepare_population, simulate

    spec = [{"household_id": "t", "members": [{"monthly_income": 500}]}]

    def amounts():
        persons, households = make_frames(spec)
        households["enrolled_dibao"] = True
        pop = prepare_population(persons, households)
        v = scenario.simulate_variant(pop, sim_params, None)
        audit = judge_enrolled(sim_params, program=["dibao"], coverage_type=["household"],
                               care_level=[""], institutional=[False], per_capita_income=[500],
                               members=[1], rigid_expenditure=[0], own_income=[500],
                               standards=regional_standards(sim_params, ["350581"], "urban"))
        return (float(simulate(persons, households, sim_params).households
                      ["dibao_monthly_benefit"].iloc[0]),
                explain(persons, households, "t", sim_params).result["dibao_monthly_benefit"],
                float(v["h_paid"][0]), float(audit["expected_amount"].iloc[0]))

    assert amounts() == (441, 441, 441, 441)
    real = dibao.dibao_topup
    monkeypatch.setattr(dibao, "dibao_topup", lambda *a: real(*a) + 1.0)
    assert amounts() == (442, 442, 442, 442)


def test_no_consumer_compares_income_with_a_standard_itself():
    # outside rules/, no module compares an income with a standard or threshold: a
    # consumer that did would decide eligibility on its own (the audit's review check is
    # the audit helper's to move onto rules/enrolled.py)
    suspicious = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(("rules/", "audit/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and len(node.ops) == 1 \
                    and isinstance(node.ops[0], ast.Lt | ast.LtE | ast.Gt | ast.GtE):
                text = ast.unparse(node)
                if "income" in text and ("standard" in text or "threshold" in text):
                    suspicious.append(f"{rel}:{node.lineno}: {text}")
    assert suspicious == []


def test_recipients_on_roster_are_the_assessed_members_of_an_enrolled_ineligible_household():
    # eligible household covering 2 → 2; enrolled but ineligible household of 3 members, one
    # of them tekun (assessed members 2) → 2, not 3: the tekun member is on the tekun roster
    # (002 §二(六)); eligible single-person household covering 1 of 3 → 1; not enrolled → 0
    out = engine.recipients_on_roster(
        eligible=np.array([True, False, True, True]),
        enrolled=np.array([True, True, True, False]),
        dibao_members=np.array([2, 0, 1, 2]), assessed_members=np.array([2, 2, 3, 2]))
    assert out.tolist() == [2, 2, 1, 0]


def test_program_costs_are_listed_once():
    costs = engine.program_costs(np.array([441.0]), np.array([1420.0]), np.array([0.0]))
    assert tuple(costs) == engine.PROGRAMS == ("dibao", "tekun", "marginal")
    assert engine.monthly_transfers(costs).tolist() == [1861.0]  # 441 + 1420 + 0


def test_record_lists_each_quantity_with_its_policy_and_parameters(sim_params):
    # an elderly tekun member (income 0, alone with an adult earning 500): tekun 1420; the
    # adult's household of one assessed member: (941 − 500) × 1 = 441
    from jiuzhu_sim.explain import explain

    persons, households = make_frames([{"household_id": "r", "members": [
        {"age": 70, "has_supporter": False}, {"monthly_income": 500}]}])
    record = explain(persons, households, "r", sim_params).data["record"]
    assert record["p_tekun"]["values"] == [True, False]
    assert record["p_tekun_benefit"]["values"] == [1420, 0]
    assert record["h_dibao_benefit"]["value"] == 441 and record["h_unit"]["value"] == 1
    assert record["p_no_income_source"]["policy"] == "POLICY.md §3.5"
    income = record["p_no_income_source"]["parameters"][0]
    assert income["name"] == "dibao.standard.urban" and income["value"] == 941
    assert {q.key for q in engine.QUANTITIES} <= set(record) | {
        "h_assets_financial_assets", "h_assets_vehicle", "h_assets_dwellings"}


def test_engine_trace_keeps_the_same_numbers(sim_params):
    # trace=True keeps extra parts; every shared array is identical
    from jiuzhu_sim.simulation import prepare_population

    persons, households = make_frames([
        {"household_id": "a", "members": [{"age": 70, "has_supporter": False},
                                          {"monthly_income": 500}]},
        {"household_id": "b", "members": [{"monthly_income": 2000}]}])
    pop = prepare_population(persons, households)
    plain, traced = engine.compute(pop, sim_params), engine.compute(pop, sim_params, trace=True)
    for key, value in plain.items():
        np.testing.assert_array_equal(traced[key], value, err_msg=key)


@pytest.mark.parametrize("income", [940.99, 941.0])
def test_simulation_and_audit_agree_at_the_standard(sim_params, income):
    from jiuzhu_sim.rules.enrolled import judge_enrolled, regional_standards

    h, _ = run_rules([{"household_id": "x", "members": [{"monthly_income": income}]}],
                     sim_params)
    audit = judge_enrolled(sim_params, program=["dibao"], coverage_type=[""], care_level=[""],
                           institutional=[False], per_capita_income=[income], members=[1],
                           rigid_expenditure=[0], own_income=[income],
                           standards=regional_standards(sim_params, ["350581"], "urban"))
    assert bool(h.loc["x"].dibao_eligible) == bool(audit["eligible"].iloc[0]) == (income < 941)


def test_report_counts_an_ineligible_enrolled_households_assessed_members():
    # households_out of two enrolled households: A eligible, 2 covered; B enrolled by
    # mistake (错保), 3 members of whom 1 is tekun → 2 assessed members on the dibao roster.
    # Enrolled persons = 2 + 2 = 4 (the old count took B's 3 members: 5); scale 1
    import pandas as pd

    from jiuzhu_sim import report

    h = pd.DataFrame({"members": [2, 3], "assessed_members": [2, 2],
                      "dibao_members": [2, 0], "dibao_eligible": [True, False],
                      "enrolled": [True, True]})
    _, values = report._exclusion_rows(
        h, np.ones(2), h["dibao_eligible"].to_numpy(bool), h["enrolled"].to_numpy(bool),
        h["dibao_members"].to_numpy(float), 1.0, "test", 4, 0)
    assert values["simulated_enrolled_persons"] == 4
    assert values["simulated_eligible_persons"] == 2
