"""Months as indices and working days on the official holiday calendar (POLICY.md §7)."""

import numpy as np
import pytest

from jiuzhu_sim.audit.calendar import (
    add_months,
    add_working_days,
    month_label,
    parse_month,
    workday_counter,
    working_days_between,
)
from jiuzhu_sim.exceptions import UserInputError


def d(*days):
    return np.array(days, dtype="datetime64[D]")


def test_month_index_round_trip():
    assert parse_month("2024-02") == 2024 * 12 + 1
    assert month_label(parse_month("2024-12")) == "2024-12"


def test_bad_month_is_a_user_error():
    with pytest.raises(UserInputError):
        parse_month("2024-13")


def test_ten_working_days_across_national_day_with_make_up_days():
    # 2024-09-27 (Fri). Working days after it: 09-29 (Sun, make-up) 1, 09-30 2,
    # 10-01..10-07 holiday, 10-08 3, 10-09 4, 10-10 5, 10-11 6, 10-12 (Sat, make-up) 7,
    # 10-14 8, 10-15 9, 10-16 10.
    table = workday_counter(d("2024-09-27", "2024-10-31"))
    assert add_working_days(d("2024-09-27"), 10, table)[0] == np.datetime64("2024-10-16")
    assert working_days_between(d("2024-09-27"), d("2024-10-12"), table)[0] == 7


def test_spring_festival_2024():
    # 2024-02-10 .. 02-17 holiday; 02-04 (Sun) and 02-18 (Sun) are make-up working days.
    table = workday_counter(d("2024-02-01", "2024-02-29"))
    # after 02-08 (Thu): 02-09 (Fri) 1, 02-18 (Sun, make-up) 2, 02-19 3
    assert add_working_days(d("2024-02-08"), 2, table)[0] == np.datetime64("2024-02-18")
    assert add_working_days(d("2024-02-08"), 3, table)[0] == np.datetime64("2024-02-19")


def test_date_outside_calendar_is_a_user_error():
    with pytest.raises(UserInputError, match="outside the official holiday calendar"):
        workday_counter(d("2024-01-01", "2099-01-01"), file="alerts.csv", column="x")


def test_add_months_clips_to_month_end():
    assert list(add_months(d("2024-08-31", "2024-06-30"), -6)) == list(d("2024-02-29",
                                                                            "2023-12-30"))
