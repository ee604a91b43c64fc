"""`jiuzhu explain`: each member's facts and each rule step with its numbers."""

from __future__ import annotations

import json

from jiuzhu_sim.cli import main


def _files(tmp_path, make_frames):
    # E: incomes 1200 + 800, ill member spends 6000/year → expenditure:
    # (12 × 2000 − 6000) / 12 / 2 = 750; (941 − 750) × 2 = 382
    persons, households = make_frames([
        {"household_id": "E", "members": [
            {"monthly_income": 1200},
            {"monthly_income": 800, "serious_illness": True, "medical_expense_annual": 6000}]},
        {"household_id": "other", "members": [{}]}])
    pp, hp = tmp_path / "persons.csv", tmp_path / "households.csv"
    persons.to_csv(pp, index=False)
    households.to_csv(hp, index=False)
    return pp, hp


def test_explain_json_shows_path_and_arithmetic(tmp_path, capsys, sim_frames):
    pp, hp = _files(tmp_path, sim_frames)
    assert main(["explain", "--persons", str(pp), "--households", str(hp), "--household-id",
                 "E", "--date", "2023-06-01", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [m["person_id"] for m in report["members"]] == ["E-1", "E-2"]
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["standards"]["dibao_standard"] == 941
    assert steps["assessment unit"]["per_capita_income"] == 1000
    assert steps["asset test (POLICY.md §3.1)"]["asset_limit"] == 45168  # 24 × 941 × 2
    exp = steps["(2) expenditure-type 支出型"]
    assert exp["applies"] and exp["expenditure_assessed_per_capita_income"] == 750
    assert steps["(1) whole household 整户保"]["applies"] is False
    result = steps["result"]
    assert result["dibao_type"] == "expenditure" and result["dibao_monthly_benefit"] == 382
    assert "(941 − 750.00) × 2 = 382.00" in result["benefit_arithmetic"]


def test_explain_text(tmp_path, capsys, sim_frames):
    pp, hp = _files(tmp_path, sim_frames)
    assert main(["explain", "--persons", str(pp), "--households", str(hp), "--household-id",
                 "E", "--date", "2023-06-01"]) == 0
    out = capsys.readouterr().out
    assert "household E" in out and "dibao_type: expenditure" in out and "E-2:" in out


def test_explain_unknown_household_is_exit_2(tmp_path, capsys, sim_frames):
    pp, hp = _files(tmp_path, sim_frames)
    assert main(["explain", "--persons", str(pp), "--households", str(hp), "--household-id",
                 "nope", "--date", "2023-06-01"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "households.csv" in err and "Traceback" not in err
