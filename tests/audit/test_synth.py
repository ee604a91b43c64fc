"""Synthetic audit county (audit/synth.py): files, columns, determinism, valid IDs, and the
planted truth (CONTRACT §5–6, POLICY.md §5–7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.audit.synth import (
    CHECKS,
    INPUT_COLUMNS,
    LINKAGE_CHECKS,
    generate_audit_data,
    id_check_char,
    invalid_ids,
    make_resident_ids,
    write_audit_data,
)
from jiuzhu_sim.parameters import load_parameters

CONTRACT_COLUMNS = {
    "roster": ["person_id", "name", "household_id", "region_code", "program", "start_date",
               "end_date", "monthly_amount", "last_check_date"],
    "payments": ["payment_id", "person_id", "account_holder_id", "region_code", "program",
                 "period", "amount", "paid_date"],
    "deaths": ["person_id", "name", "death_date"],
    "guardians": ["person_id", "guardian_id"],
    "staff_relatives": ["staff_id", "staff_name", "relative_id", "relation", "filed"],
    "medical": ["person_id", "year", "self_paid_amount"],
    "disability": ["person_id", "grade", "type", "issued_date"],
    "monitoring": ["person_id", "category", "since_date"],
    "households": ["household_id", "members", "per_capita_income", "check_date"],
    "alerts": ["alert_id", "person_id", "source", "kind", "received_date", "forwarded_date",
               "township_received_date", "verified_date", "outcome"],
    "assistance": ["person_id", "kind", "date", "amount"],
}
"""Copied from CONTRACT §5 by hand (not from the module under test)."""


@pytest.fixture(scope="module")
def params():
    return load_parameters("350581", "2024-06-30")


@pytest.fixture(scope="module")
def county(params):
    return generate_audit_data(params, n_households=1500, seed=11)


def _valid_id(text: str) -> bool:
    """GB 11643 by hand, one ID at a time (independent of the vectorised code)."""
    if len(text) != 18 or not text[:17].isdigit():
        return False
    try:
        dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(text[:17], weights, strict=True))
    return "10X98765432"[total % 11] == text[17]


def test_known_id_check_character():
    # 11010519491231002: Σ digit×weight = 1·7+1·9+0·10+1·5+0·8+5·4+1·2+9·1+4·6+9·3+1·7+2·9
    # +3·10+1·5+0·8+0·4+2·2 = 167; 167 mod 11 = 2 → '10X98765432'[2] = 'X'
    assert id_check_char(np.array([11010519491231002]))[0] == "X"


def test_every_contract_file_is_written_with_its_columns(tmp_path, params):
    paths = write_audit_data(tmp_path, params, n_households=120, seed=3)
    names = {p.name for p in paths}
    # truth_linkage.csv: the mistyped IDs behind the probable-match cases (on by default)
    assert names == ({f"{base}.csv" for base in CONTRACT_COLUMNS}
                     | {"truth.csv", "truth_linkage.csv"})
    for base, columns in CONTRACT_COLUMNS.items():
        raw = (tmp_path / f"{base}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), base  # utf-8-sig
        frame = pd.read_csv(tmp_path / f"{base}.csv", encoding="utf-8-sig", dtype=str)
        assert list(frame.columns[: len(columns)]) == columns, base
        assert set(frame.columns) <= set(INPUT_COLUMNS[base]), base
        assert len(frame) > 0, base
    truth = pd.read_csv(tmp_path / "truth.csv", encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    assert list(truth.columns) == ["check", "person_id", "period"]
    # every contract check, plus the probable-match (linkage) cases
    assert set(truth["check"]) == set(CHECKS) | set(LINKAGE_CHECKS)


def test_same_seed_same_files_other_seed_differs(tmp_path, params):
    a = write_audit_data(tmp_path / "a", params, n_households=200, seed=5)
    b = write_audit_data(tmp_path / "b", params, n_households=200, seed=5)
    write_audit_data(tmp_path / "c", params, n_households=200, seed=6)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert (tmp_path / "a" / "payments.csv").read_bytes() != (
        tmp_path / "c" / "payments.csv").read_bytes()


def test_default_window_is_fixed_and_size_near_twenty_thousand(params):
    frames = generate_audit_data(params, seed=1)
    periods = sorted(frames["payments"]["period"].unique())
    assert periods == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    people = set(frames["roster"]["person_id"]) | set(frames["medical"]["person_id"]) | set(
        frames["disability"]["person_id"]) | set(frames["monitoring"]["person_id"])
    assert 17_000 < len(people) < 23_000


def test_window_arguments(params):
    frames = generate_audit_data(params, n_households=150, seed=2, start="2023-07",
                                 end="2024-06")
    assert frames["payments"]["period"].nunique() == 12
    frames = generate_audit_data(params, n_households=150, seed=2, end="2025-03")
    assert sorted(frames["payments"]["period"].unique())[0] == "2024-10"


def test_ids_valid_except_planted_invalid(county):
    truth = county["truth"]
    planted = set(truth.loc[truth["check"] == "invalid_id", "person_id"])
    ids = pd.unique(pd.concat([county["roster"]["person_id"], county["payments"]["person_id"],
                               county["medical"]["person_id"], county["guardians"]["guardian_id"],
                               county["staff_relatives"]["staff_id"]]))
    bad = {i for i in ids if not _valid_id(i)}
    assert bad == planted
    assert len(planted) >= 3
    assert any(i.endswith("X") for i in ids)


def test_invalid_ids_fail_the_rule(params):
    rng = np.random.default_rng(0)
    valid = make_resident_ids(np.full(300, 350581), np.full(300, np.datetime64("1980-05-17")),
                              rng)
    assert len(set(valid)) == 300 and all(_valid_id(v) for v in valid)
    assert not any(_valid_id(b) for b in invalid_ids(
        valid, rng, params["audit_synth.invalid_id_kind_shares"]))


def test_marginal_on_roster_with_zero_amount_never_paid(county):
    roster = county["roster"]
    marginal = roster[roster["program"] == "marginal"]
    assert len(marginal) > 0 and (marginal["monthly_amount"] == 0).all()
    assert not county["payments"]["program"].eq("marginal").any()


def test_amounts_follow_the_standards(county, params):
    roster = county["roster"]
    truth = county["truth"]
    off = truth.loc[truth["check"] == "amount_not_per_standard", "person_id"]
    roster = roster[~roster["person_id"].isin(off)]  # planted: 20–200 yuan off the rule
    dibao = roster[(roster["program"] == "dibao") & (roster["region_code"] == "350581")]
    assert (dibao["monthly_amount"] > 0).all()
    assert (dibao["monthly_amount"] <= params["dibao.standard"]).all()
    tekun = roster[roster["program"] == "tekun"]
    # 1224 basic + 196 self-care (Shishi 2024) is the smallest; 1836 + 980 the largest
    assert tekun["monthly_amount"].min() >= 1224 + 196
    assert tekun["monthly_amount"].max() <= 1836 + 980


def test_guardian_accounts_are_registered(county):
    pay = county["payments"]
    guardians = set(zip(county["guardians"]["person_id"], county["guardians"]["guardian_id"],
                         strict=True))
    truth = county["truth"]
    wrong = set(truth.loc[truth["check"] == "account_mismatch", "person_id"])
    other = pay[(pay["account_holder_id"] != pay["person_id"]) & ~pay["person_id"].isin(wrong)]
    assert len(other) > 0
    # a registered guardian, or a member of the payee's household (到人到户, 002)
    household = county["roster"].drop_duplicates("person_id").set_index("person_id")[
        "household_id"]
    same_household = (other["person_id"].map(household).to_numpy()
                      == other["account_holder_id"].map(household).to_numpy())
    guardian = np.array([pair in guardians for pair in zip(
        other["person_id"], other["account_holder_id"], strict=True)])
    assert (guardian | same_household).all()
    assert (same_household & ~guardian).any()  # the head-account look-alikes exist


def test_each_check_planted_on_distinct_people(params):
    truth = generate_audit_data(params, n_households=3000, seed=4)["truth"]
    persons = truth.drop_duplicates(["check", "person_id"])
    per_check = persons.groupby("check").size()
    assert (per_check.reindex(list(CHECKS)) >= 20).all(), per_check
    # one person, one check — except by construction: ineligible dibao recipients are also
    # overdue for review; paid dibao and tekun (or by two regions) are double enrolments;
    # the deceased paid were not exited either
    def people(check):
        return set(persons.loc[persons["check"] == check, "person_id"])

    pairs = {"review_overdue": "ineligible_recipient",
             "duplicate_program": "double_enrolment", "duplicate_region": "double_enrolment",
             "deceased_paid": "deceased_not_exited"}
    linked = set().union(*(people(c) for c in pairs))
    others = persons[~persons["check"].isin(set(pairs) | set(pairs.values()))]
    assert not others["person_id"].duplicated().any()
    assert not set(others["person_id"]) & linked
    for first, second in pairs.items():
        if first != "review_overdue":
            assert people(first) <= people(second), first
    assert people("ineligible_recipient") - people("review_overdue")  # tekun: checked lately
    assert not people("double_enrolment") & people("deceased_not_exited")


def test_late_payments_are_after_the_due_day(county, params):
    truth = county["truth"]
    late = truth[truth["check"] == "late_payment"]
    pay = county["payments"].merge(late, on=["person_id", "period"])
    # month end + 10 days, moved to the next working day (POLICY.md §10), by hand:
    # 2024-01 → 02-10 is in the Spring Festival holiday (02-10..02-17) → Sunday 02-18, a
    # make-up working day; 2024-02 → 03-10 Sunday → Monday 03-11; 2024-03 → 04-10
    # Wednesday; 2024-04 → 05-10 Friday; 2024-05 → 06-10 Dragon Boat Festival (Monday)
    # → 06-11; 2024-06 → 07-10 Wednesday
    due_of = {"2024-01": "2024-02-18", "2024-02": "2024-03-11", "2024-03": "2024-04-10",
              "2024-04": "2024-05-10", "2024-05": "2024-06-11", "2024-06": "2024-07-10"}
    assert params["audit.payment_due_days_after_month"] == 10
    due = pd.to_datetime(pay["period"].map(due_of))
    assert (pd.to_datetime(pay["paid_date"]) > due).all()
    rest = county["payments"].merge(late, on=["person_id", "period"], how="left",
                                    indicator=True)
    rest = rest[rest["_merge"] == "left_only"]
    due = pd.to_datetime(rest["period"].map(due_of))
    on_due_day = pd.to_datetime(rest["paid_date"]) == due
    assert (pd.to_datetime(rest["paid_date"]) <= due).all() and on_due_day.any()


def test_deceased_paid_only_after_the_month_of_death(county):
    truth = county["truth"]
    dead = county["deaths"].set_index("person_id")["death_date"]
    planted = truth[truth["check"] == "deceased_paid"]
    death_month = pd.to_datetime(planted["person_id"].map(dead)).dt.to_period("M")
    assert (pd.PeriodIndex(planted["period"], freq="M").asi8
            > pd.PeriodIndex(death_month).asi8).all()
    # look-alikes: paid in the month of death, roster ended on the death date
    roster = county["roster"]
    ended = roster[roster["person_id"].isin(dead.index) & (roster["end_date"] != "")]
    assert len(ended) >= 3
    assert (ended["end_date"].values == ended["person_id"].map(dead).values).all()


def test_cli_synth_audit_writes_the_files(tmp_path, capsys):
    from jiuzhu_sim.cli import main

    status = main(["synth", "audit", "--out", str(tmp_path), "--households", "40",
                   "--date", "2024-06-30", "--seed", "9"])
    assert status == 0
    printed = capsys.readouterr().out.split()
    assert len(printed) == 13 and all(Path(p).is_file() for p in printed)
    assert (tmp_path / "truth.csv").is_file() and (tmp_path / "alerts.csv").is_file()


def test_committed_sample_is_current_and_small():
    sample = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "audit"
    files = sorted(sample.glob("*.csv"))
    assert {f.stem for f in files} == set(CONTRACT_COLUMNS) | {"truth", "truth_linkage"}
    assert sum(f.stat().st_size for f in files) < 1_000_000
    params = load_parameters("350581", "2024-06-30")
    fresh = generate_audit_data(params, n_households=330, seed=20240101)
    roster = pd.read_csv(sample / "roster.csv", encoding="utf-8-sig", dtype=str,
                         keep_default_na=False)
    assert list(roster["person_id"]) == list(fresh["roster"]["person_id"])
