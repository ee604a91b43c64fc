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
    t = make_tables(alerts=[alert(A, "2027-03-01", "")])
    with pytest.raises(UserInputError, match="holiday calendar"):
        alerts.check_alert_overdue(t, make_ctx("2027-01", "2027-06"))
