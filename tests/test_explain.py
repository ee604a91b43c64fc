"""`jiuzhu explain` / :func:`jiuzhu_sim.explain.explain`: every rule step of one household,
bilingual, with each test's parameters (value, unit, date, reference) — and the trace's final
numbers equal the vectorised simulation's, for every hand-worked household of the rule tests.
"""

from __future__ import annotations

import importlib
import inspect
import json

import numpy as np
import pandas as pd
import pytest

from conftest import make_frames, nanan_standard_table, run_rules
from jiuzhu_sim.cli import main
from jiuzhu_sim.explain import explain
from jiuzhu_sim.simulation import simulate

# --- every hand-worked household of the rule and simulation tests --------------------------
#
# Each test below that builds households through the ``sim_run`` / ``sim_frames`` fixtures is
# run again with recording stand-ins; every household it built is then explained on its own
# and the trace's final numbers are compared with ``simulate()`` on all of them at once (the
# vectorised path). New hand-worked tests are picked up without listing them here.

HAND_WORKED_MODULES = ("test_rules_dibao", "test_rules_tekun", "test_rules_marginal",
                       "test_simulation")
RECORDABLE = {"sim_run", "sim_frames", "sim_params"}
COMPARED = ("dibao_type", "dibao_members", "dibao_monthly_benefit", "tekun_persons",
            "tekun_monthly_benefit", "marginal", "dibao_eligible", "per_capita_income",
            "assessed_per_capita_income", "dibao_standard")


def _hand_worked_tests():
    for module_name in HAND_WORKED_MODULES:
        module = importlib.import_module(module_name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_") or fn.__module__ != module_name:
                continue
            wanted = set(inspect.signature(fn).parameters)
            if wanted and wanted <= RECORDABLE and ({"sim_run", "sim_frames"} & wanted):
                yield pytest.param(fn, id=f"{module_name}::{name}")


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if pd.isna(a) and pd.isna(b):
            return True
        return a == b  # to the fen: both sides are rounded by the same rule
    return a == b


@pytest.mark.parametrize("test_fn", list(_hand_worked_tests()))
def test_trace_of_every_hand_worked_household_equals_the_vectorised_result(test_fn, sim_params):
    calls: list[tuple[list[dict], dict | None]] = []

    def recording_run(households, overrides=None):
        calls.append((households, overrides))
        return run_rules(households, sim_params, overrides)

    def recording_frames(households):
        calls.append((households, None))
        return make_frames(households)

    available = {"sim_run": recording_run, "sim_frames": recording_frames,
                 "sim_params": sim_params}
    test_fn(**{k: available[k] for k in inspect.signature(test_fn).parameters})
    assert calls, "the test built no households"
    for households, overrides in calls:
        params = sim_params.with_overrides(overrides) if overrides else sim_params
        persons, frame = make_frames(households)
        vectorised = simulate(persons, frame, params).households.set_index("household_id")
        for spec in households:
            hid = spec["household_id"]
            trace = explain(persons, frame, hid, params)
            for key in COMPARED:
                got, want = trace.result[key], vectorised.loc[hid, key]
                want = want.item() if hasattr(want, "item") else want
                assert _same(got, want), f"{hid}: {key} trace {got!r} ≠ simulate {want!r}"


def test_the_collection_finds_the_hand_worked_tests():
    names = [p.id for p in _hand_worked_tests()]
    assert len(names) >= 30
    assert "test_rules_dibao::test_expenditure_type_deducts_medical_spending" in names
    assert "test_simulation::test_tekun_cost_in_summary" in names


# --- the trace's content ----------------------------------------------------------------------


def _files(tmp_path, households=None):
    # E: incomes 1200 + 800, ill member spends 6000/year → expenditure:
    # (12 × 2000 − 6000) / 12 / 2 = 750; (941 − 750) × 2 = 382
    persons, frame = make_frames(households or [
        {"household_id": "E", "members": [
            {"monthly_income": 1200},
            {"monthly_income": 800, "serious_illness": True, "medical_expense_annual": 6000}]},
        {"household_id": "other", "members": [{}]}])
    pp, hp = tmp_path / "persons.csv", tmp_path / "households.csv"
    persons.to_csv(pp, index=False)
    frame.to_csv(hp, index=False)
    return pp, hp


def _steps(report):
    return {s["id"]: s for s in report["steps"]}


def _tests(step):
    return {t["id"]: t for t in step["tests"]}


def test_explain_json_shows_each_test_with_its_parameters(tmp_path, capsys):
    pp, hp = _files(tmp_path)
    assert main(["explain", "--persons", str(pp), "--households", str(hp), "--household-id",
                 "E", "--date", "2023-06-01", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [m["person_id"] for m in report["inputs"]["members"]] == ["E-1", "E-2"]
    steps = _steps(report)
    income = {q["id"]: q["value"] for q in steps["income"]["quantities"]}
    assert income["per_capita_income"] == 1000  # (1200 + 800) / 2
    assets = _tests(steps["assets"])
    assert assets["financial_assets"]["passed"]
    assert "24 × 941 × 2 = 45168.00" in assets["financial_assets"]["expression"]
    limit = {p["name"]: p for p in assets["financial_assets"]["parameters"]}
    assert limit["dibao.asset_limit_months"]["value"] == 24
    assert limit["dibao.asset_limit_months"]["since"] == "2020-01-01"
    assert limit["dibao.asset_limit_months"]["source"] == "params/national/dibao.yaml"
    # the standard is derived: 941 = ceil(1960 × 0.48); its inputs carry date and reference
    standard = limit["dibao.standard.urban"]
    assert standard["value"] == 941
    wage = standard["inputs"][0]["inputs"][0]
    assert wage["name"] == "minimum_wage" and wage["value"] == 1960
    assert wage["since"] == "2022-04-01" and "shishi.yaml" in wage["source"]
    ratio = standard["inputs"][0]["inputs"][1]
    assert ratio["value"] == 0.48 and "狮民〔2022〕51号" in ratio["reference"]
    whole = _tests(steps["whole_household"])["below_standard"]
    assert whole["passed"] is False and whole["expression"] == "1000 < 941"
    exp = _tests(steps["expenditure"])
    assert exp["low_income"]["passed"] and exp["has_special_member"]["passed"]
    assert exp["expenditure_below_standard"]["passed"]
    assert "= 750 < 941" in exp["expenditure_below_standard"]["expression"]
    benefit = steps["benefit"]["quantities"][0]
    assert benefit["value"] == 382 and "941 × 2 − 1500.00 = 382.00" in benefit["formula"]
    assert report["result"]["dibao_type"] == "expenditure"
    assert report["result"]["dibao_monthly_benefit"] == 382
    # every test of every step says pass or fail and names its parameters' references
    for step in report["steps"]:
        for test in step["tests"]:
            assert isinstance(test["passed"], bool) and test["zh"] and test["en"]
            for rec in test["parameters"]:
                assert rec["reference"] and "value" in rec and "unit" in rec


def test_explain_text_is_bilingual_with_pass_fail_and_references(tmp_path, capsys):
    pp, hp = _files(tmp_path)
    assert main(["explain", "--persons", str(pp), "--households", str(hp), "--household-id",
                 "E", "--date", "2023-06-01"]) == 0
    out = capsys.readouterr().out
    for fragment in ("家庭 household E", "财产状况 Asset test", "支出型贫困", "[通过 PASS]",
                     "[未通过 FAIL]", "自 since 2022-04-01", "依据 ref: 狮民〔2022〕51号",
                     "来源 file: params/regions/fujian/quanzhou/shishi.yaml",
                     "低保类型 dibao_type: 支出型（整户） expenditure",
                     "低保月补差 dibao_monthly_benefit: 382.00"):
        assert fragment in out, fragment


def test_tekun_member_trace(sim_params):
    # T-1: 70, no work capacity, no supporter, income 0 < 1224 → tekun: 1224 + 196 = 1420;
    # T-2 alone is assessed: 941 − 500 = 441
    persons, frame = make_frames([{"household_id": "T", "members": [
        {"age": 70, "work_capacity": False, "has_supporter": False}, {"monthly_income": 500}]}])
    trace = explain(persons, frame, "T", sim_params)
    tekun = _steps(trace.data)["tekun"]
    first = [t for t in tekun["tests"] if t["person_id"] == "T-1"]
    assert all(t["passed"] for t in first)
    benefit = tekun["quantities"][0]
    assert benefit["value"] == 1420 and "1224 + tekun.care_standard.self_care 196" in \
        benefit["formula"]
    assert trace.result["tekun_monthly_benefit"] == 1420
    assert trace.result["dibao_members"] == 1 and trace.result["dibao_monthly_benefit"] == 441


def test_household_of_another_region_is_explained_with_its_own_standard(sim_params):
    # Nan'an 350583: minimum wage 1810 (nanan.yaml) × the national assumption ratio 0.45
    # (48% is Shishi's own, 000) → ceil(814.5) = 815; income 0, one member → 815
    persons, frame = make_frames([{"household_id": "N", "region_code": "350583",
                                   "members": [{}]}])
    trace = explain(persons, frame, "N", sim_params)
    assert trace.result["dibao_standard"] == 815 and trace.result["dibao_monthly_benefit"] == 815
    std = _steps(trace.data)["standards"]["parameters"][0]
    wage = std["inputs"][0]["inputs"][0]
    assert wage["value"] == 1810 and "nanan.yaml" in wage["source"]
    assert "运行参数 run parameters: 350581" in trace.text()


def test_explain_unknown_household_is_exit_2(tmp_path, capsys):
    pp, hp = _files(tmp_path)
    assert main(["explain", "--persons", str(pp), "--households", str(hp), "--household-id",
                 "nope", "--date", "2023-06-01"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "households.csv" in err and "Traceback" not in err


def test_severe_disability_label_is_built_from_the_parameters(sim_params):
    # a grade-2 member, ill, in a low-income household (1000 per capita: ≥ 941, < 1411.5)
    spec = [{"household_id": "D", "members": [
        {"monthly_income": 1000, "disability_grade": 2}, {"monthly_income": 1000}]}]
    persons, frame = make_frames(spec)
    single = _steps(explain(persons, frame, "D", sim_params).data)["single_person"]
    label = _tests(single)["single_candidate"]
    assert "重残：1–2级" in label["zh"] and "智力/精神类 1–3级" in label["zh"]
    assert "grade 1–2; intellectual/mental 1–3" in label["en"]
    # Quangang (001) counts intellectual/mental grade 3–4 too: the label follows the parameter
    from jiuzhu_sim.parameters import load_parameters

    quangang = load_parameters("350505", "2023-06-01")
    persons, frame = make_frames([{**spec[0], "region_code": "350505"}])
    single = _steps(explain(persons, frame, "D", quangang).data)["single_person"]
    assert "智力/精神类 1–4级" in _tests(single)["single_candidate"]["zh"]


def test_gradual_exit_step_renders_the_engines_quantity(sim_params, monkeypatch):
    from jiuzhu_sim.rules import dibao

    persons, frame = make_frames([{"household_id": "g", "previous_dibao_benefit": 300,
                                   "months_above_standard": 2,
                                   "members": [{"monthly_income": 1000}]}])
    trace = explain(persons, frame, "g", sim_params)
    step = _steps(trace.data)["gradual_exit"]
    assert step["tests"][0]["passed"] and trace.result["dibao_monthly_benefit"] == 300
    assert "eligible under (1)–(3) False" in step["tests"][0]["expression"]
    assert trace.data["record"]["h_gradual_exit"]["value"] is True
    # the trace is the engine's record: a different gradual-exit rule changes the step and
    # the result together (income 1000 ≥ 941, no grace → none, 0) — no second derivation
    monkeypatch.setattr(dibao, "gradual_exit", lambda eligible_now, previous, months, **kw: (
        np.zeros(len(previous), dtype=bool), np.zeros(len(previous))))
    trace = explain(persons, frame, "g", sim_params)
    assert not _steps(trace.data)["gradual_exit"]["tests"][0]["passed"]
    assert trace.result["dibao_monthly_benefit"] == 0 and trace.result["dibao_type"] == "none"


def test_trace_shows_a_table_value_for_the_households_date(tmp_path):
    """A dibao.standard table for Nan'an (test values, not real ones)."""

    from jiuzhu_sim.parameters import load_parameters

    root = nanan_standard_table(tmp_path)
    persons, frame = make_frames([{"household_id": "N", "region_code": "350583",
                                   "assessment_date": "2023-08-01", "members": [{}]}])
    trace = explain(persons, frame, "N", load_parameters("350581", "2023-06-01",
                                                         params_dir=root))
    # the second row applies from 2023-07-01: 950, one member, no income → 950
    assert trace.result["dibao_standard"] == 950 and trace.result["dibao_monthly_benefit"] == 950
    std = _steps(trace.data)["standards"]["parameters"][0]
    assert std["name"] == "dibao.standard.urban"
    assert std["inputs"][0]["source"] == "params/tables/dibao_standard.csv row 2"
    assert trace.data["standards_date"] == "2023-08-01"
    assert trace.data["inputs"]["household"]["assessment_date"] == "2023-08-01"
    assert "标准日期 standards on 2023-08-01" in trace.text()
