"""alert_overdue: working days on the official calendar (POLICY.md §7)."""

import pytest
from audit_frames import A, B, C, D, make_ctx, make_tables

from jiuzhu_sim.audit.checks import alerts
from jiuzhu_sim.exceptions import UserInputError


def alert(pid, township, verified, kind="new", aid=None):
    return {"alert_id": aid or pid[-4:], "person_id": pid, "source": "medical_insurance",
            "kind": kind, "received_date": township, "forwarded_date": township,
            "township_received_date": township, "verified_date": verified, "outcome": ""}


def test_new_alert_deadline_across_national_day():
    # received 2024-09-27: the 10th working day after it is 2024-10-16 (09-29 and 10-12 are
    # make-up working days, 10-01..07 holiday) → verified 10-16 on time, 10-17 late
    t = make_tables(alerts=[alert(A, "2024-09-27", "2024-10-16"),
                            alert(B, "2024-09-27", "2024-10-17")])
    f = alerts.check_alert_overdue(t, make_ctx("2024-07", "2024-12"))
    assert list(f["person_id"]) == [B]
    assert "超期 1 个工作日" in f["detail"].iloc[0]


def test_initial_data_has_one_month_and_unverified_counts():
    # initial received 2024-03-10 → deadline 2024-04-10; verified 04-10 on time (A);
    # C never verified, deadline passed by 2024-06-30; D new, received 06-28, not yet due
    t = make_tables(alerts=[alert(A, "2024-03-10", "2024-04-10", "initial"),
                            alert(B, "2024-03-10", "2024-04-11", "初始"),
                            alert(C, "2024-03-10", "", "initial"),
                            alert(D, "2024-06-28", "")])
    f = alerts.check_alert_overdue(t, make_ctx())
    assert sorted(f["person_id"]) == sorted([B, C])
    assert "仍未核实" in f.set_index("person_id").loc[C, "detail"]


def test_date_outside_the_holiday_calendar_is_a_user_error():
    # 2099: far past any release of chinese_calendar (1.11 knows 2004–2026), so the test
    # does not start failing when a new release adds next year's holidays
    t = make_tables(alerts=[alert(A, "2099-03-01", "")])
    with pytest.raises(UserInputError, match="holiday calendar"):
        alerts.check_alert_overdue(t, make_ctx("2099-01", "2099-06"))


def test_alert_settled_before_the_window_is_not_reported_again():
    # A: received 2023-03-01, verified late on 2023-06-01 — an earlier look-back's finding;
    # B: received 2023-03-01 and still not verified at 2024-06-30 — outstanding, reported
    t = make_tables(alerts=[alert(A, "2023-03-01", "2023-06-01"),
                            alert(B, "2023-03-01", "")])
    f = alerts.check_alert_overdue(t, make_ctx("2024-01", "2024-06"))
    assert list(f["person_id"]) == [B]


def test_initial_data_before_the_calendar_needs_no_working_days():
    # initial data received 2003-05-10 (before 2004, the calendar's first year), never
    # verified: deadline 2003-06-10 by calendar months, so overdue without any calendar look-up
    t = make_tables(alerts=[alert(A, "2003-05-10", "", "initial")])
    f = alerts.check_alert_overdue(t, make_ctx("2024-01", "2024-06"))
    assert list(f["person_id"]) == [A] and "2003-06-10" in f["detail"].iloc[0]


def fwd(pid, received, forwarded, township, aid):
    return {"alert_id": aid, "person_id": pid, "source": "medical_insurance", "kind": "new",
            "received_date": received, "forwarded_date": forwarded,
            "township_received_date": township, "verified_date": "", "outcome": ""}


def test_alert_forward_overdue_three_plus_three_working_days():
    # monitoring.forward_working_days = 3 (004: city → county 3, county → township 3).
    # A: city 2024-03-04 (Mon) → county 03-07 (Thu, 3rd working day) → township 03-12
    #    (Tue, 3rd working day after 03-07) → on time.
    # B: county 03-08 (Fri) > 03-07 → the city forwarded late.
    # C: no forwarded date: city 03-04 + 3 + 3 = 6 working days = 03-12; township 03-13 → late.
    # D: city 2024-09-27 (Fri) → 09-29 (Sunday make-up day) 09-30, 10-08 (after National Day)
    #    = 3 working days → county 10-08 on time.
    t = make_tables(alerts=[fwd(A, "2024-03-04", "2024-03-07", "2024-03-12", "a"),
                            fwd(B, "2024-03-04", "2024-03-08", "2024-03-11", "b"),
                            fwd(C, "2024-03-04", "", "2024-03-13", "c"),
                            fwd(D, "2024-09-27", "2024-10-08", "2024-10-09", "d")])
    ctx = make_ctx("2024-01", "2024-12")
    assert int(ctx.param("monitoring.forward_working_days")) == 3
    f = alerts.check_alert_forward_overdue(t, ctx)
    assert sorted(f["person_id"]) == sorted([B, C])
    detail = f.set_index("person_id")["detail"]
    assert "应于 2024-03-07 前" in detail[B] and "应于 2024-03-12 前" in detail[C]
