"""double_enrolment and deceased_not_exited (POLICY.md §3.5, §6; 002 二(六), 003 三(三)), and
money at risk counted once in the totals (POLICY.md §6)."""

from audit_frames import A, B, C, make_ctx, make_tables, pay_row, roster_row

from jiuzhu_sim.audit.checks import enrolment, payments
from jiuzhu_sim.audit.findings import amount_at_risk_total, evidence_frame
from jiuzhu_sim.audit.runner import run_checks

MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")


def test_dibao_and_tekun_at_once_is_double_enrolment_and_only_tekun_is_owed():
    # A on dibao (500) all window and on tekun (1,420) from 2024-04-01; paid dibao
    # Jan–Mar, tekun Apr–Jun only. Double enrolment in Apr, May, Jun (3 findings, nothing
    # of the dibao paid → amount 0); the unpaid dibao of those months is not owed → no
    # missing_payment (before: three "应补发" findings).
    t = make_tables(
        roster=[roster_row(A, "dibao", amount=500),
                roster_row(A, "tekun", start="2024-04-01", amount=1420)],
        payments=[pay_row(A, m, 500) for m in MONTHS[:3]]
        + [pay_row(A, m, 1420, program="tekun") for m in MONTHS[3:]])
    ctx = make_ctx()
    f = enrolment.check_double_enrolment(t, ctx)
    assert list(f["period"]) == ["2024-04", "2024-05", "2024-06"]
    assert list(f["amount_at_risk"]) == [0.0, 0.0, 0.0]
    assert "特困优先" in f["detail"].iloc[0]
    assert payments.check_missing_payment(t, ctx).empty
    assert ctx.notes["missing_payment"]["dibao_months_not_owed_tekun"] == 3


def test_double_enrolment_paid_both_is_one_dibao_amount_in_the_totals():
    # April: paid dibao 500 and tekun 1,420. double_enrolment and duplicate_program each
    # find the 500 of dibao; amount_at_risk_total counts the one payment once: 500, not 1,000.
    t = make_tables(
        roster=[roster_row(A, "dibao", amount=500),
                roster_row(A, "tekun", start="2024-04-01", end="2024-04-30", amount=1420)],
        payments=[pay_row(A, m, 500) for m in MONTHS]
        + [pay_row(A, "2024-04", 1420, program="tekun")])
    ctx = make_ctx()
    found = run_checks(t, ctx)
    mine = found[found["check"].isin(["double_enrolment", "duplicate_program"])]
    assert sorted(mine["check"]) == ["double_enrolment", "duplicate_program"]
    assert list(mine["amount_at_risk"]) == [500.0, 500.0]
    assert found["amount_at_risk"].sum() == 1000.0      # each finding keeps its amount
    assert amount_at_risk_total(found, evidence_frame(ctx), "payments") == 500.0


def test_one_overpayment_found_by_two_payment_checks_counts_once():
    # A paid dibao 500 by 350581 and tekun 1,420 by 350582 in March: duplicate_region finds
    # 1,920 − 1,420 (the region paying most) = 500, duplicate_program the dibao 500: the same
    # payment → 500 in the total (was 1,000).
    t = make_tables(
        roster=[roster_row(A, "dibao", amount=500),
                roster_row(A, "tekun", amount=1420, region="350582", household="H9")],
        payments=[pay_row(A, "2024-03", 500),
                  pay_row(A, "2024-03", 1420, program="tekun", region="350582")])
    ctx = make_ctx()
    found = run_checks(t, ctx)
    dup = found[found["check"].isin(["duplicate_region", "duplicate_program"])]
    assert list(dup["amount_at_risk"]) == [500.0, 500.0]
    ev = evidence_frame(ctx)
    ev = ev[ev["finding_id"].isin(dup["finding_id"])]
    assert amount_at_risk_total(dup, ev, "payments") == 500.0


def test_same_program_in_two_regions_overlapping_but_not_a_move_mid_month():
    # A: dibao in 350581 (all window) and 350582 from 2024-05-01 → May, June double.
    # B: leaves 350581 on 2024-03-10, joins 350582 on 2024-03-15 → no overlapping day →
    # not double, though both rows are active in March.
    t = make_tables(roster=[
        roster_row(A, amount=500), roster_row(A, amount=500, region="350582", household="H8",
                                              start="2024-05-01"),
        roster_row(B, amount=500, household="H2", end="2024-03-10"),
        roster_row(B, amount=500, region="350582", household="H3", start="2024-03-15")])
    f = enrolment.check_double_enrolment(t, make_ctx())
    assert list(zip(f["person_id"], f["period"], strict=True)) == [
        (A, "2024-05"), (A, "2024-06")]


def test_deceased_still_on_the_roster_is_a_finding_even_when_payments_stopped():
    # A died 2024-02-10, roster still active, last paid February (the month of death is
    # owed) → deceased_not_exited, amount 0. B died the same day, roster ended on the death
    # date → nothing. C died 2024-02-10, roster active, paid March → finding with the 500
    # paid after death (also deceased_paid's 500: one payment, once in the total).
    t = make_tables(
        roster=[roster_row(A), roster_row(B, household="H2", end="2024-02-10"),
                roster_row(C, household="H3")],
        deaths=[{"person_id": p, "name": "x", "death_date": "2024-02-10"} for p in (A, B, C)],
        payments=[pay_row(p, m) for p in (A, B, C) for m in ("2024-01", "2024-02")]
        + [pay_row(C, "2024-03")])
    ctx = make_ctx()
    f = enrolment.check_deceased_not_exited(t, ctx)
    assert dict(zip(f["person_id"], f["amount_at_risk"], strict=True)) == {A: 0.0, C: 500.0}
    assert "至今未办理退出" in f.set_index("person_id").loc[A, "detail"]
    assert payments.check_missing_payment(t, ctx).empty  # after death nothing is owed


def test_join_in_groups_is_groupby_join():
    """Group 0 gets 'a、c' (its values in order), group 1 'b', group 2 nothing (''), group 3
    'd、e、f' — as Series.groupby(...).agg('、'.join) gives for the groups that have values."""
    import pandas as pd

    from jiuzhu_sim.audit.checks.base import join_in_groups

    values = ["a", "b", "c", "d", "e", "f"]
    groups = [0, 1, 0, 3, 3, 3]
    assert list(join_in_groups(values, groups, 4, "、")) == ["a、c", "b", "", "d、e、f"]
    expected = pd.Series(values).groupby(groups).agg("、".join)
    got = join_in_groups(values, groups, 4, "、")
    assert all(got[k] == expected[k] for k in expected.index)
    assert list(join_in_groups([], [], 2, "、")) == ["", ""]
