"""Budgets for the real county (finance.py): represented population, townships, the
roster-anchored base year, the finance office's table and 004 §四 — worked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.cli import main
from jiuzhu_sim.finance import (
    finance_table,
    purchased_services,
    read_roster_base,
    roster_anchored,
    township_table,
)
from jiuzhu_sim.parameters import load_parameters
from jiuzhu_sim.resident_id import check_character


def _id(body17: str) -> str:
    return body17 + check_character(body17)


@pytest.fixture(scope="module")
def shishi():
    return load_parameters("350581", "2025-01-01")


def _write_roster(folder, with_payments=True):
    folder.mkdir(parents=True, exist_ok=True)
    ids = [_id(f"35058119{60 + i:02d}0101{i:03d}") for i in range(6)]
    roster = pd.DataFrame({
        "person_id": ids, "name": ["甲", "乙", "丙", "丁", "戊", "己"],
        "household_id": ["H1", "H1", "H2", "H3", "H4", "H5"],
        "region_code": ["350581"] * 6,
        "program": ["dibao", "dibao", "dibao", "dibao", "tekun", "dibao"],
        # H3 ended before the base date; H5 starts after it: neither is active
        "start_date": ["2020-01-01", "2020-01-01", "2023-05-01", "2019-01-01", "2018-03-01",
                       "2025-03-01"],
        "end_date": ["", "", "", "2024-06-30", "", ""],
        "monthly_amount": [500.0, 300.5, 200.0, 999.0, 1420.0, 777.0],
        "last_check_date": ["2024-10-01"] * 6,
    })
    roster.to_csv(folder / "roster.csv", index=False)
    if with_payments:
        pay = pd.DataFrame({
            "payment_id": ["P1", "P2", "P3", "P4"], "person_id": [ids[0], ids[0], ids[4], ids[1]],
            "account_holder_id": [ids[0], ids[0], ids[4], ids[1]],
            "region_code": ["350581"] * 4, "program": ["dibao", "dibao", "tekun", "dibao"],
            "period": ["2024-11", "2024-12", "2024-12", "2023-12"],
            "amount": [500.0, 500.0, 1420.0, 300.0],
            "paid_date": ["2024-11-20", "2024-12-20", "2024-12-20", "2023-12-20"]})
        pay.to_csv(folder / "payments.csv", index=False)
    return ids


def test_roster_base_year_is_twelve_months_of_active_approvals(tmp_path, shishi):
    _write_roster(tmp_path / "data")
    base = read_roster_base(tmp_path / "data", dt.date(2025, 1, 1), shishi)
    table = base.table.set_index("program")
    # active on 2025-01-01: dibao 500 + 300.5 + 200 = 1,000.5 a month (H3 ended 2024-06-30,
    # H5 starts 2025-03-01) → × 12 = 12,006; tekun 1,420 × 12 = 17,040; no marginal
    assert table.loc["dibao", "monthly_approved"] == pytest.approx(1000.5)
    assert table.loc["dibao", "annual_base"] == pytest.approx(12006.0)
    assert table.loc["dibao", "active_persons"] == 3
    assert table.loc["tekun", "annual_base"] == pytest.approx(17040.0)
    assert table.loc["marginal", "annual_base"] == 0
    # payments of 2024 (the year before): dibao 500 + 500 = 1,000; tekun 1,420 (2023 left out)
    assert base.last_year_paid == {"dibao": 1000.0, "tekun": 1420.0}


def test_roster_anchored_estimate_scales_the_roster_by_the_simulated_change(tmp_path, shishi):
    _write_roster(tmp_path / "data", with_payments=False)
    base = read_roster_base(tmp_path / "data", dt.date(2025, 1, 1), shishi)
    # two replications; synthetic dibao 100 → 110 (r0) and 200 → 240 (r1)
    draws = pd.DataFrame({
        "replication": [0, 1, 0, 1], "year": [2025, 2025, 2026, 2026],
        "population_factor": [1.0, 1.0, 1.0, 1.0],
        "cost_dibao": [100.0, 200.0, 110.0, 240.0], "cost_marginal": [0.0] * 4,
        "cost_tekun_basic": [50.0, 50.0, 55.0, 55.0], "cost_tekun_care": [0.0] * 4,
        "cost_tekun_institutional": [0.0] * 4, "cost_temporary": [7.0, 9.0, 8.0, 10.0]})
    out = roster_anchored(draws, 2025, base).set_index(["year", "program"])
    # base year: the roster itself, 12,006 in every replication
    assert out.loc[(2025, "dibao"), "roster_p50"] == pytest.approx(12006.0)
    # 2026: 12,006 × 1.1 = 13,206.6 and 12,006 × 1.2 = 14,407.2 → median 13,806.9
    assert out.loc[(2026, "dibao"), "roster_p50"] == pytest.approx(13806.9)
    # tekun 17,040 × 55/50 = 18,744; temporary has no roster: the synthetic 8 and 10 → 9
    assert out.loc[(2026, "tekun"), "roster_p50"] == pytest.approx(18744.0)
    assert out.loc[(2026, "temporary"), "roster_source"] == "synthetic"
    assert out.loc[(2026, "temporary"), "roster_p50"] == pytest.approx(9.0)
    # finance table for 2026 against the roster base (no payments): 增减 13,806.9 − 12,006
    # = 1,800.9; 增幅 1,800.9 / 12,006 = 0.15
    table = finance_table(pd.DataFrame(), 2026, base, out.reset_index()).set_index("program")
    assert table.loc["dibao", "last_year"] == pytest.approx(12006.0)
    assert table.loc["dibao", "change"] == pytest.approx(1800.9)
    assert table.loc["dibao", "change_share"] == pytest.approx(0.15)


def test_purchased_services_floor_is_on_work_funds_and_subsidy_together(shishi):
    # subsidy 10,000,000, work funds 1,000,000: floor 5% × 11,000,000 = 550,000; the subsidy
    # gives ≤ 3% × 10,000,000 = 300,000; the rest 250,000 from work funds, which can spare
    # 50% × 1,000,000 = 500,000 → met, 300,000 + 250,000 = 550,000
    ok = purchased_services(10_000_000, 1_000_000, shishi)
    assert ok["purchased_services_floor"] == pytest.approx(550000)
    assert ok["purchased_services_from_subsidy"] == pytest.approx(300000)
    assert ok["purchased_services_from_work_funds"] == pytest.approx(250000)
    assert ok["meets_floor"] and ok["purchased_services_note"] == ""
    # work funds 200,000: floor 5% × 10,200,000 = 510,000; 300,000 + 100,000 = 400,000 <
    # 510,000 → short by 110,000, and the note says so
    short = purchased_services(10_000_000, 200_000, shishi)
    assert short["purchased_services_shortfall"] == pytest.approx(110000)
    assert not short["meets_floor"] and "缺口 110,000 元" in short["purchased_services_note"]


def test_shishi_townships_and_their_004_capacity(shishi):
    towns = township_table(shishi)
    # 2 subdistricts + 7 towns; registered 35,222 each (2万至5万 band → 2 caseworkers),
    # 2 social workers per station (national assumption; Longyan's 004 四 says 2)
    assert len(towns) == 9 and towns["township"].iloc[0] == "湖滨街道"
    assert towns["min_caseworkers"].tolist() == [2] * 9
    assert towns["min_social_workers"].tolist() == [2] * 9
    assert towns["resident_population"].sum() == 685930


def test_shishi_budget_shows_the_census_population(tmp_path, capsys):
    """The census figure cited in shishi.budget.yaml is 685,930; the budget's represented
    population must be within 10% of it (it is re-weighted to it exactly in the base year)."""
    data = tmp_path / "data"
    _write_roster(data)
    out = tmp_path / "out"
    assert main(["budget", "--params", "350581", "--date", "2025-01-01", "--years",
                 "2025:2026", "--replications", "5", "--households", "2000", "--out",
                 str(out), "--roster", str(data)]) == 0
    printed = capsys.readouterr().out
    standards = pd.read_csv(out / "standards.csv")
    population = float(standards.loc[standards["year"] == 2025, "persons"].iloc[0])
    assert abs(population / 685930 - 1) < 0.10
    assert "census 685,930" in printed
    side = pd.read_csv(out / "budget_roster.csv").set_index(["year", "program"])
    # the roster base year: twelve months of the active approvals, 1,000.5 × 12 = 12,006
    assert side.loc[(2025, "dibao"), "roster_p50"] == pytest.approx(12006.0)
    book = pd.read_excel(out / "财政预算表.xlsx", sheet_name=None)
    assert list(book["财政预算表"].columns[:3]) == ["项目", "项目代码", "上年执行数（元）"]
    finance = book["财政预算表"].set_index("项目代码")
    # 上年执行数 from the 2024 payments: dibao 1,000
    assert finance.loc["dibao", "上年执行数（元）"] == pytest.approx(1000.0)
    assert {"名册与合成对照", "乡镇能力"} <= set(book)
    assert (out / "budget.csv").is_file() and (out / "rejected.csv").is_file()


def test_budget_roster_folder_without_roster_is_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["budget", "--params", "350581", "--years", "2025:2025", "--out",
                 str(tmp_path / "o"), "--roster", str(tmp_path / "empty")]) == 2
    assert "roster" in capsys.readouterr().err


def test_population_factor_is_one_without_a_census(shishi):
    from jiuzhu_sim.budget import QUANTITIES
    from jiuzhu_sim.finance import represented_population_factor

    base = np.zeros(len(QUANTITIES))
    base[QUANTITIES.index("persons.urban")] = 600.0
    base[QUANTITIES.index("persons.rural")] = 400.0
    # Shishi: 685,930 / 1,000 synthetic persons
    assert represented_population_factor(shishi, base, QUANTITIES) == pytest.approx(685.93)
    yongfu = load_parameters("450326", "2025-01-01")
    assert represented_population_factor(yongfu, base, QUANTITIES) == 1.0
