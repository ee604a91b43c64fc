"""Findings carry their evidence: the input rows (file, 1-based data row, key fields) each
finding rests on (findings_evidence.csv, docs/audit.md). Row numbers below are positions in
the hand-made lists, counted from 1 as in rejected.csv."""

import datetime as dt

import pandas as pd
from audit_frames import A, B, C, make_ctx, make_tables, pay_row, roster_row

from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.checks import alerts, eligibility, payments, people, review, screening
from jiuzhu_sim.audit.runner import run_audit

BAD = A[:-1] + ("0" if A[-1] != "0" else "1")  # wrong check character


def evidence_of(ctx, found) -> pd.DataFrame:
    ev = F.evidence_frame(ctx)
    return ev[ev["finding_id"].isin(found["finding_id"])]


def rows(ev, file) -> list[int]:
    return sorted(ev.loc[ev["file"] == file, "row"].tolist())


def paid_in(ev, tables) -> float:
    """Sum of the payments named in the evidence, from the payments table itself."""
    pay = tables.payments.set_index("_row")
    return round(float(pay.loc[rows(ev, "payments"), "amount"].sum()), 2)


# --- payments ------------------------------------------------------------------------------

def test_deceased_paid_names_the_death_and_the_payments_after_it():
    # died 2024-03-15; payments rows 1..6 = Jan..Jun; rows 4, 5, 6 are after the death month
    t = make_tables(roster=[roster_row(A, amount=890)],
                    payments=[pay_row(A, f"2024-0{m}", 890, payment_id=f"p{m}")
                              for m in range(1, 7)],
                    deaths=[{"person_id": A, "name": "张三", "death_date": "2024-03-15"}])
    ctx = make_ctx()
    found = payments.check_deceased_paid(t, ctx)
    ev = evidence_of(ctx, found)
    april = found.loc[found["period"] == "2024-04", "finding_id"].iloc[0]
    mine = ev[ev["finding_id"] == april]
    assert rows(mine, "payments") == [4] and rows(mine, "deaths") == [1]
    assert "death_date=2024-03-15" in mine.loc[mine["file"] == "deaths", "key_fields"].iloc[0]
    assert "payment_id=P4; period=2024-04; amount=890.00" in mine.loc[
        mine["file"] == "payments", "key_fields"].iloc[0]
    assert rows(ev, "payments") == [4, 5, 6]


def test_money_reconciles_with_the_payments_in_the_evidence():
    # deceased_paid: B died 2024-02-10, paid 700 in March (row 3) and 700 + 50 in April
    # (rows 4, 5) → 700 + 750 = 1,450.
    # duplicate_payment: A paid 500, 500, 480 for March (rows 1, 2, 6) → 1,480 − 500 kept =
    # 980, the evidence names the repeated rows 2 and 6 (500 + 480 = 980); B's April 700 + 50
    # is one too: 750 − 700 kept = 50, row 5. Total 1,030.
    # paid_not_on_roster: C is not on the roster, paid 300.25 + 199.75 (rows 7, 8) = 500.00.
    t = make_tables(
        roster=[roster_row(A), roster_row(B, amount=700, household="H2")],
        payments=[pay_row(A, "2024-03", 500, payment_id="a1"),
                  pay_row(A, "2024-03", 500, payment_id="a2"),
                  pay_row(B, "2024-03", 700, payment_id="b3"),
                  pay_row(B, "2024-04", 700, payment_id="b4"),
                  pay_row(B, "2024-04", 50, payment_id="b4x"),
                  pay_row(A, "2024-03", 480, payment_id="a3"),
                  pay_row(C, "2024-03", 300.25, payment_id="c1"),
                  pay_row(C, "2024-05", 199.75, payment_id="c2")],
        deaths=[{"person_id": B, "name": "李四", "death_date": "2024-02-10"}])
    ctx = make_ctx()
    expected = {"deceased_paid": (1450.0, [3, 4, 5]), "duplicate_payment": (1030.0, [2, 5, 6]),
                "paid_not_on_roster": (500.0, [7, 8])}
    for check, (amount, payment_rows) in expected.items():
        found = getattr(payments, f"check_{check}")(t, ctx)
        ev = evidence_of(ctx, found)
        assert round(found["amount_at_risk"].sum(), 2) == amount, check
        assert rows(ev, "payments") == payment_rows, check
        assert paid_in(ev, t) == amount, check  # to the fen
        for fid, amount_at_risk in zip(found["finding_id"], found["amount_at_risk"],
                                       strict=True):
            assert paid_in(ev[ev["finding_id"] == fid], t) == amount_at_risk, check


def test_amount_mismatch_names_the_payment_and_the_approval():
    t = make_tables(roster=[roster_row(B), roster_row(A, amount=600, household="H2")],
                    payments=[pay_row(A, "2024-02", 600), pay_row(A, "2024-03", 550)])
    ctx = make_ctx()
    found = payments.check_amount_mismatch(t, ctx)
    ev = evidence_of(ctx, found)
    assert rows(ev, "payments") == [2] and rows(ev, "roster") == [2]
    assert "monthly_amount=600.00" in ev.loc[ev["file"] == "roster", "key_fields"].iloc[0]


def test_missing_payment_names_the_roster_row():
    t = make_tables(roster=[roster_row(B), roster_row(A, start="2024-05-20", household="H2")],
                    payments=[pay_row(B, m) for m in ("2024-05", "2024-06")]
                    + [pay_row(A, "2024-05")])
    ctx = make_ctx("2024-05", "2024-06")
    found = payments.check_missing_payment(t, ctx)
    assert list(found["person_id"]) == [A]
    ev = evidence_of(ctx, found)
    assert rows(ev, "roster") == [2] and len(ev) == 1


def test_account_mismatch_names_the_payment_and_its_account_holder():
    t = make_tables(roster=[roster_row(A)],
                    payments=[pay_row(A, "2024-01"), pay_row(A, "2024-02", account=C)])
    ctx = make_ctx("2024-01", "2024-02")
    found = payments.check_account_mismatch(t, ctx)
    ev = evidence_of(ctx, found)
    assert rows(ev, "payments") == [2]
    assert f"account_holder_id={C}" in ev["key_fields"].iloc[0]


# --- people --------------------------------------------------------------------------------

def test_invalid_id_names_its_roster_and_payment_rows():
    t = make_tables(roster=[roster_row(A), roster_row(BAD, household="H2")],
                    payments=[pay_row(A, "2024-01"), pay_row(BAD, "2024-01"),
                              pay_row(BAD, "2024-02")])
    ctx = make_ctx("2024-01", "2024-02")
    found = people.check_invalid_id(t, ctx)
    ev = evidence_of(ctx, found)
    assert rows(ev, "roster") == [2] and rows(ev, "payments") == [2, 3]
    assert paid_in(ev, t) == found["amount_at_risk"].iloc[0] == 1000.0


def test_staff_relative_names_the_filing_row():
    t = make_tables(roster=[roster_row(B), roster_row(A, household="H2")],
                    staff_relatives=[{"staff_id": C, "staff_name": "王五", "relative_id": B,
                                      "relation": "child", "filed": "true"},
                                     {"staff_id": C, "staff_name": "王五", "relative_id": A,
                                      "relation": "spouse", "filed": "false"}])
    ctx = make_ctx()
    found = people.check_staff_relative_unfiled(t, ctx)
    ev = evidence_of(ctx, found)
    assert rows(ev, "staff_relatives") == [2] and rows(ev, "roster") == [2]
    assert "filed=false" in ev.loc[ev["file"] == "staff_relatives", "key_fields"].iloc[0]


# --- review, screening, alerts ---------------------------------------------------------------

def hh(household, income, date):
    return {"household_id": household, "members": "1", "per_capita_income": str(income),
            "check_date": date}


def test_review_overdue_names_the_roster_row_and_the_latest_household_check():
    t = make_tables(roster=[roster_row(B, check="2024-05-01"),
                            roster_row(A, check="2023-01-01", household="H2")],
                    households=[hh("H2", 100, "2023-06-01"), hh("H2", 100, "2023-03-01")])
    ctx = make_ctx()
    found = review.check_review_overdue(t, ctx)
    ev = evidence_of(ctx, found)
    assert list(found["person_id"]) == [A]
    assert rows(ev, "roster") == [2] and rows(ev, "households") == [1]
    assert "check_date=2023-06-01" in ev.loc[ev["file"] == "households", "key_fields"].iloc[0]


def test_ineligible_recipient_names_the_run_of_checks_and_the_payments_after_grace():
    ctx = make_ctx()
    standard = float(ctx.params_on(dt.date(2023, 10, 15))["dibao.standard.rural"])
    # H1: below 2023-08 (row 1), above 2023-10 and 2024-03 (rows 2, 3): the run is rows 2, 3;
    # grace ends 2023-10 + 6 = 2024-04 → payments for May and June (rows 2, 3) are at risk
    t = make_tables(roster=[roster_row(A, household="H1", sub_type="rural")],
                    households=[hh("H1", standard - 1, "2023-08-01"),
                                hh("H1", standard + 100, "2023-10-15"),
                                hh("H1", standard + 50, "2024-03-01")],
                    payments=[pay_row(A, m) for m in ("2024-04", "2024-05", "2024-06")])
    found = eligibility.check_ineligible_recipient(t, ctx)
    ev = evidence_of(ctx, found)
    assert rows(ev, "households") == [2, 3] and rows(ev, "payments") == [2, 3]
    assert paid_in(ev, t) == found["amount_at_risk"].iloc[0] == 1000.0


def test_exclusion_candidate_names_the_screening_rows():
    t = make_tables(medical=[{"person_id": A, "year": "2024", "self_paid_amount": "30000"},
                             {"person_id": B, "year": "2024", "self_paid_amount": "100"},
                             {"person_id": A, "year": "2024", "self_paid_amount": "20000"},
                             {"person_id": A, "year": "2023", "self_paid_amount": "100"}],
                    monitoring=[{"person_id": A, "category": "unstable_post_poverty",
                                 "since_date": "2023-05-01"}])
    ctx = make_ctx()
    found = screening.check_exclusion_candidate(t, ctx)
    ev = evidence_of(ctx, found)
    # 2024: 30,000 + 20,000 = 50,000 > 40,000 (rows 1 and 3); 2023 is not the reason
    assert list(found["person_id"]) == [A]
    assert rows(ev, "medical") == [1, 3] and rows(ev, "monitoring") == [1]


def test_alert_overdue_names_the_alert_row():
    def alert(pid, verified, aid):
        return {"alert_id": aid, "person_id": pid, "source": "medical_insurance",
                "kind": "initial", "received_date": "2024-03-10",
                "forwarded_date": "2024-03-10", "township_received_date": "2024-03-10",
                "verified_date": verified, "outcome": ""}
    t = make_tables(alerts=[alert(A, "2024-04-10", "W1"), alert(B, "2024-04-11", "W2")])
    ctx = make_ctx()
    found = alerts.check_alert_overdue(t, ctx)
    ev = evidence_of(ctx, found)
    assert rows(ev, "alerts") == [2] and "alert_id=W2" in ev["key_fields"].iloc[0]


# --- the output file -------------------------------------------------------------------------

def test_runner_writes_findings_evidence_csv(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame([roster_row(A, amount=890)]).to_csv(data / "roster.csv", index=False)
    pd.DataFrame([pay_row(A, f"2024-0{m}", 890, payment_id=f"p{m}") for m in range(1, 7)]
                 ).to_csv(data / "payments.csv", index=False)
    pd.DataFrame([{"person_id": A, "name": "张三", "death_date": "2024-03-15"}]).to_csv(
        data / "deaths.csv", index=False)
    result = run_audit(data, "2024-01", "2024-06", out_dir=tmp_path / "out")
    ev = pd.read_csv(tmp_path / "out" / "findings_evidence.csv", encoding="utf-8-sig",
                     dtype={"finding_id": str, "file": str, "row": int, "key_fields": str})
    assert list(ev.columns) == F.EVIDENCE_COLUMNS
    assert set(ev["finding_id"]) == set(result.findings["finding_id"])
    died = result.findings.loc[result.findings["check"] == "deceased_paid", "finding_id"]
    mine = ev[ev["finding_id"].isin(died)]
    assert sorted(mine.loc[mine["file"] == "payments.csv", "row"]) == [4, 5, 6]
    assert set(mine.loc[mine["file"] == "deaths.csv", "row"]) == {1}


def test_every_payment_backed_finding_reconciles_to_the_fen_on_the_synthetic_county(tmp_path):
    # The committed sample county (data/synthetic/audit, every planted anomaly): for the
    # checks whose amount at risk is a sum of payments, the payments named in a finding's
    # evidence add up to its amount_at_risk, to the fen, finding by finding
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "audit"
    result = run_audit(sample, "2024-01", "2024-06", linkage=False)
    pay = result.tables.payments.set_index("_row")["amount"]
    ev = result.evidence[result.evidence["file"] == "payments.csv"]
    paid = ev.assign(amount=pay.reindex(ev["row"].to_numpy()).to_numpy()).groupby(
        "finding_id")["amount"].sum()
    summed = ("deceased_paid", "duplicate_payment", "paid_not_on_roster", "account_mismatch",
              "late_payment", "ineligible_recipient")
    f = result.findings[result.findings["check"].isin(summed)].set_index("finding_id")
    assert set(f["check"]) == set(summed)  # the sample plants every one of them
    fen = (f["amount_at_risk"] * 100).round().astype("int64")
    assert (fen == (paid.reindex(f.index).fillna(0) * 100).round().astype("int64")).all()
    assert len(set(result.findings["finding_id"]) - set(result.evidence["finding_id"])) == 0


def test_amount_texts_by_hand():
    """The amounts in finding details and evidence key fields: yuan() with thousands
    separators, plain_amount() without; two decimals, the sign kept, NaN as zero, whole
    cents (0.1 + 0.2 is 0.30000000000000004: 30 cents)."""
    import numpy as np

    from jiuzhu_sim.audit.findings import plain_amount, yuan

    values = [0.0, 5.0, -338.0, 1234.5, 1234567.89, 0.1 + 0.2, np.nan, 1000.0, 1_000_000.0]
    assert yuan(values).tolist() == ["0.00", "5.00", "-338.00", "1,234.50", "1,234,567.89",
                                     "0.30", "0.00", "1,000.00", "1,000,000.00"]
    assert plain_amount(values).tolist() == ["0.00", "5.00", "-338.00", "1234.50",
                                             "1234567.89", "0.30", "0.00", "1000.00",
                                             "1000000.00"]
    assert yuan([]).tolist() == [] and plain_amount([]).tolist() == []
