"""Scenario explorer (jiuzhu_sim.explore.scenario): hand-worked figures, and the saved YAML
gives the same figures when ``jiuzhu scenario`` runs it."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import make_frames
from jiuzhu_sim.cli import main
from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.explore import ScenarioExplorer

MONTHS = 12


@pytest.fixture
def three_households(tmp_path):
    """Three one-person households in Shishi, enrollment observed (no process draw):
    H1 income 500 enrolled, H2 income 900 not enrolled, H3 income 1200 enrolled."""
    persons, households = make_frames([
        {"household_id": "H1", "members": [{"monthly_income": 500.0}]},
        {"household_id": "H2", "members": [{"monthly_income": 900.0}]},
        {"household_id": "H3", "members": [{"monthly_income": 1200.0}]},
    ])
    households["enrolled_dibao"] = [True, False, True]
    persons.to_csv(tmp_path / "persons.csv", index=False)
    households.to_csv(tmp_path / "households.csv", index=False)
    return tmp_path / "persons.csv", tmp_path / "households.csv"


def test_explicit_standard_moves_coverage_leakage_and_cost_as_worked_by_hand(three_households):
    ex = ScenarioExplorer("350581", "2024-01-01", files=three_households,
                          baseline={"dibao.standard": 1000})
    # baseline, standard 1000: H1 (500) and H2 (900) eligible (< 1000), H3 (1200) not.
    # coverage = enrolled eligible / eligible = 1/2; inclusion error = 1/2 (H3 of H1, H3).
    # paid: H1 1000 − 500 = 500; H3 (wrongly enrolled) max(1000 − 1200, 0.2 × 1000) = 200
    # (process.inclusion_benefit_floor_share 0.2); leakage = 200 / 700.
    assert ex.baseline["coverage_rate"] == pytest.approx(0.5)
    assert ex.baseline["inclusion_error_rate"] == pytest.approx(0.5)
    assert ex.baseline["leakage_rate"] == pytest.approx(200 / 700)
    assert ex.baseline["cost_dibao"] == pytest.approx((500 + 200) * MONTHS)
    result = ex.update({"standard": 800})
    # standard 800: only H1 eligible → coverage 1/1; H3 still enrolled and ineligible → 1/2.
    # paid: H1 800 − 500 = 300; H3 max(800 − 1200, 0.2 × 800) = 160; leakage = 160 / 460.
    assert result.coverage_rate == pytest.approx(1.0)
    assert result.current["exclusion_error_rate"] == pytest.approx(0.0)
    assert result.current["inclusion_error_rate"] == pytest.approx(0.5)
    assert result.current["leakage_rate"] == pytest.approx(160 / 460)
    assert result.current["cost_dibao"] == pytest.approx((300 + 160) * MONTHS)
    assert result.current["eligible_households"] == pytest.approx(1)
    costs = result.costs().set_index("program")
    assert costs.loc["低保 dibao", "change"] == pytest.approx((460 - 700) * MONTHS)
    # the explicit standard replaces the ratio: the override names dibao.standard only
    assert result.overrides == {"dibao.standard": 800.0}


def test_poverty_gap_keeps_the_baseline_line(three_households):
    ex = ScenarioExplorer("350581", "2024-01-01", files=three_households,
                          baseline={"dibao.standard": 1000})
    # line 1000 (the baseline standard). Before transfers: H1 gap (1000−500)/1000 = 0.5,
    # H2 0.1, H3 none → FGT1 = 0.6/3 = 0.2. After, baseline: H1 500+500 = 1000 (not poor),
    # H2 900 (not enrolled) 0.1, H3 → FGT1 = 0.1/3.
    assert ex.baseline["fgt1_before"] == pytest.approx(0.6 / 3)
    assert ex.baseline["fgt1_after"] == pytest.approx(0.1 / 3)
    # standard 800, same line 1000: H1 500+300 = 800 → gap 0.2; H2 0.1 → FGT1 = 0.3/3.
    assert ex.update({"standard": 800}).current["fgt1_after"] == pytest.approx(0.3 / 3)


@pytest.mark.parametrize("control, value, words", [
    ("take_up", 1.5, "between 0 and 1"),
    ("severe_grade", 5, "grade is 1–4"),
    ("gradual_exit_months", 2.5, "whole number"),
    ("standard_ratio", "abc", "not a number"),
    ("standard", -10, "≥ 0"),
    ("colour", 1, "unknown control"),
])
def test_a_bad_control_value_is_a_user_error_naming_the_control(three_households, control,
                                                                 value, words):
    ex = ScenarioExplorer("350581", "2024-01-01", files=three_households)
    with pytest.raises(UserInputError) as err:
        ex.update({control: value})
    assert control in err.value.one_line() and words in err.value.one_line()


def test_an_unknown_region_is_a_user_error():
    with pytest.raises(UserInputError, match="unknown region"):
        ScenarioExplorer("999999", "2024-01-01", households=10)


def test_a_bad_region_or_date_change_leaves_the_explorer_as_it_was(three_households):
    ex = ScenarioExplorer("350581", "2024-01-01", files=three_households,
                          baseline={"dibao.standard": 1000})
    before = ex.update({"standard": 800}).current
    for region, date in (("999999", "2024-01-01"), ("350581", "2024-13-45")):
        with pytest.raises(UserInputError, match="region/date"):
            ex.set_region(region, date)
    assert (ex.region, ex.date) == ("350581", "2024-01-01")
    assert ex.update({"standard": 800}).current == before


def test_saving_the_baseline_itself_is_refused(three_households):
    ex = ScenarioExplorer("350581", "2024-01-01", files=three_households)
    with pytest.raises(UserInputError, match="equals the baseline"):
        ex.save_scenario(three_households[0].parent / "s.yaml", {"take_up": 0.8})


@pytest.fixture(scope="module")
def small_explorer():
    return ScenarioExplorer("350581", "2024-01-01", households=1500, seed=7)


def test_frontier_marks_the_current_point_and_the_baseline(small_explorer):
    result = small_explorer.update({"standard_ratio": 0.55, "marginal_ratio": 2.0})
    assert result.frontier_parameter == "dibao.standard_ratio_to_minimum_wage"
    point = result.frontier.set_index("value").loc[0.55]
    assert point["coverage_rate"] == pytest.approx(result.coverage_rate)
    assert point["cost_total"] == pytest.approx(result.current["cost_total"])
    # Shishi's ratio in force is 0.48 (000): with the baseline's other controls, that
    # frontier point is the baseline
    base_frontier = small_explorer.update({}).frontier.set_index("value").loc[0.48]
    assert base_frontier["coverage_rate"] == pytest.approx(small_explorer.baseline["coverage_rate"])


def test_common_random_numbers_same_setting_same_figures(small_explorer):
    a = small_explorer.compute({"take_up": 0.6})
    b = small_explorer.compute({"take_up": 0.6})
    assert a == b
    # lower take-up never enrolls more eligible households with the same draws
    assert a["coverage_rate"] < small_explorer.baseline["coverage_rate"]


def test_saved_yaml_runs_with_jiuzhu_scenario_and_gives_the_explorer_figures(small_explorer,
                                                                                tmp_path, capsys):
    controls = {"standard_ratio": 0.52, "take_up": 0.9, "gradual_exit_months": 12,
                "severe_grade_intellectual_mental": 4}
    result = small_explorer.update(controls, frontier=False)
    path = small_explorer.save_scenario(tmp_path / "explored.yaml", controls, name="explored")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["reforms"][0]["set"] == {
        "dibao.standard_ratio_to_minimum_wage": 0.52, "process.take_up_probability": 0.9,
        "dibao.gradual_exit_months": 12,
        "dibao.severe_disability_max_grade_intellectual_mental": 4}
    code = main(["scenario", str(path), "--out", str(tmp_path / "out")])
    assert code == 0
    capsys.readouterr()
    comparison = pd.read_csv(tmp_path / "out" / "comparison.csv").set_index("scenario")
    for name, figures in (("baseline", small_explorer.baseline), ("explored", result.current)):
        for key in ("coverage_rate", "exclusion_error_rate", "inclusion_error_rate",
                    "leakage_rate", "cost_total", "cost_dibao", "fgt1_after",
                    "eligible_households"):
            assert comparison.loc[name, key] == pytest.approx(figures[key], rel=1e-12), key


def test_explore_stopped_by_sigterm_stops_voila_and_removes_its_page(monkeypatch, tmp_path):
    """`jiuzhu explore` ended by SIGTERM (kill, a service manager, a test teardown) stops its
    Voilà process and removes the page folder, as Ctrl-C does; it used to exit at once and
    leave both behind. Voilà is a stand-in process here; the signal is real."""
    import os
    import signal
    import subprocess

    from jiuzhu_sim.explore import serve as serve_mod

    folders = []

    class FakeVoila:
        terminated = False

        def __init__(self, *args, **kwargs):
            pass

        def wait(self, timeout=None):
            if not self.terminated:
                os.kill(os.getpid(), signal.SIGTERM)  # the signal arrives while serving
            return 0

        def terminate(self):
            FakeVoila.terminated = True

        def kill(self):  # pragma: no cover - terminate is enough here
            pass

    def page(kind, parameters, folder):
        folders.append(folder)
        return folder / "page.ipynb"

    monkeypatch.setattr(serve_mod, "require_explore_dependencies", lambda: None)
    monkeypatch.setattr(serve_mod, "explorer_parameters", lambda kind, **p: {})
    monkeypatch.setattr(serve_mod, "build_page", page)
    monkeypatch.setattr("jiuzhu_sim.report.ensure_kernel", lambda: None)
    monkeypatch.setattr(subprocess, "Popen", FakeVoila)
    before = signal.getsignal(signal.SIGTERM)
    assert serve_mod.serve("scenario", port=8899, token="t") == 0
    assert FakeVoila.terminated
    assert folders and not folders[0].exists()
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back
