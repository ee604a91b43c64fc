"""Months as integer indices and working days on the official Chinese holiday calendar
(工作日, with weekend make-up days 调休), via ``chinese_calendar`` (POLICY.md §7).

Month index: ``year * 12 + month - 1``. Dates travel as ``datetime64[D]`` arrays (NaT =
blank). A date outside the holiday calendar's coverage is a user error, never a guess.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

from jiuzhu_sim.exceptions import UserInputError


def month_index(year: int, month: int) -> int:
    return int(year) * 12 + int(month) - 1


def parse_month(text: str) -> int:
    """'YYYY-MM' → month index."""
    try:
        year, month = str(text).strip().split("-")[:2]
        if not 1 <= int(month) <= 12:
            raise ValueError
        return month_index(int(year), int(month))
    except (ValueError, TypeError):
        raise UserInputError(f"not a month (YYYY-MM): {text!r}") from None


def month_label(index: int | np.ndarray):
    """Month index (scalar or array) → 'YYYY-MM' (str or object array)."""
    if np.ndim(index) == 0:
        return f"{int(index) // 12:04d}-{int(index) % 12 + 1:02d}"
    idx = np.asarray(index, dtype=np.int64)
    if idx.size == 0:  # np.char.zfill fails on an empty array
        return np.empty(idx.shape, dtype=object)
    years = (idx // 12).astype(str)
    months = np.char.zfill((idx % 12 + 1).astype(str), 2)
    return np.char.add(np.char.add(years, "-"), months).astype(object)


def month_of_dates(days: np.ndarray) -> np.ndarray:
    """datetime64[D] → month index (int64); NaT → a very small number (never matches)."""
    days = np.asarray(days, dtype="datetime64[D]")
    months = days.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    return np.where(np.isnat(days), np.iinfo(np.int64).min // 2, months)


def month_first_day(index: int) -> np.datetime64:
    return np.datetime64(f"{month_label(index)}-01", "D")


def month_last_day(index: int) -> np.datetime64:
    return month_first_day(index + 1) - np.timedelta64(1, "D")


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Same day-of-month ``months`` later (negative: earlier), clipped to the month's end."""
    days = np.asarray(days, dtype="datetime64[D]")
    first = days.astype("datetime64[M]")
    offset = (days - first.astype("datetime64[D]")).astype(np.int64)
    target = first + np.timedelta64(int(months), "M")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64)
    out = target.astype("datetime64[D]") + np.minimum(offset, length - 1).astype("timedelta64[D]")
    return np.where(np.isnat(days), np.datetime64("NaT"), out)


def calendar_coverage() -> tuple[dt.date, dt.date]:
    """First and last day the installed holiday calendar knows (whole years)."""
    from chinese_calendar import constants

    years = [d.year for d in constants.holidays]
    return dt.date(min(years), 1, 1), dt.date(max(years), 12, 31)


@lru_cache(maxsize=8)
def _workday_table(first: dt.date, last: dt.date) -> tuple[np.datetime64, np.ndarray]:
    import chinese_calendar

    n = (last - first).days + 1
    flags = np.fromiter((chinese_calendar.is_workday(first + dt.timedelta(days=i))
                         for i in range(n)), dtype=bool, count=n)
    return np.datetime64(first, "D"), np.cumsum(flags)


def workday_counter(days: np.ndarray, *, file: str | None = None, column: str | None = None
                    ) -> tuple[np.datetime64, np.ndarray]:
    """(first day, cumulative working-day count per day) covering every non-NaT date in
    ``days`` plus a margin; raises UserInputError if a date is outside the calendar."""
    days = np.asarray(days, dtype="datetime64[D]")
    valid = days[~np.isnat(days)]
    lo_cov, hi_cov = calendar_coverage()
    if len(valid) == 0:
        return np.datetime64(lo_cov, "D"), np.zeros(1, dtype=np.int64)
    lo, hi = valid.min().astype(dt.date), valid.max().astype(dt.date)
    if lo < lo_cov or hi > hi_cov:
        bad = lo if lo < lo_cov else hi
        raise UserInputError(
            f"date {bad.isoformat()} is outside the official holiday calendar "
            f"({lo_cov.isoformat()}..{hi_cov.isoformat()}); working days cannot be counted "
            f"(update chinese_calendar)", file=file, column=column)
    first = max(lo_cov, dt.date(lo.year, 1, 1))
    last = min(hi_cov, dt.date(hi.year, 12, 31))
    return _workday_table(first, last)


def working_days_between(start: np.ndarray, end: np.ndarray, table) -> np.ndarray:
    """Working days after ``start`` up to and including ``end`` (start day not counted);
    NaT in either gives -1."""
    first, cum = table
    start = np.asarray(start, dtype="datetime64[D]")
    end = np.asarray(end, dtype="datetime64[D]")
    bad = np.isnat(start) | np.isnat(end)
    i = np.clip(np.where(bad, 0, (start - first).astype(np.int64)), 0, len(cum) - 1)
    j = np.clip(np.where(bad, 0, (end - first).astype(np.int64)), 0, len(cum) - 1)
    return np.where(bad, -1, cum[j] - cum[i])


def add_working_days(start: np.ndarray, n: np.ndarray | int, table) -> np.ndarray:
    """The day on which the ``n``-th working day after ``start`` falls (start not counted).
    Deadlines past the calendar's end come back as NaT."""
    first, cum = table
    start = np.asarray(start, dtype="datetime64[D]")
    bad = np.isnat(start)
    i = np.clip(np.where(bad, 0, (start - first).astype(np.int64)), 0, len(cum) - 1)
    target = cum[i] + np.asarray(n, dtype=np.int64)
    j = np.searchsorted(cum, target, side="left")
    out = first + j.astype("timedelta64[D]")
    return np.where(bad | (j >= len(cum)), np.datetime64("NaT"), out)


def roll_to_working_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each date moved to the next working day when it is not one, mask of dates the
    holiday calendar does not cover — left unchanged). A deadline whose last day is an
    official holiday or weekend moves to the next working day, make-up days (调休) counting
    as working days (POLICY.md §10, 民法典 第二百零三条)."""
    days = np.asarray(days, dtype="datetime64[D]")
    lo_cov, hi_cov = calendar_coverage()
    lo, hi = np.datetime64(lo_cov, "D"), np.datetime64(hi_cov, "D")
    # the last days of the calendar cannot be rolled (the next working day may be past it)
    covered = ~np.isnat(days) & (days > lo) & (days < hi - np.timedelta64(30, "D"))
    out = days.copy()
    if not covered.any():
        return out, ~np.isnat(days) & ~covered
    inside = days[covered]
    first, cum = _workday_table(max(lo_cov, inside.min().astype(dt.date)
                                    - dt.timedelta(days=1)),
                                min(hi_cov, inside.max().astype(dt.date)
                                    + dt.timedelta(days=30)))
    i = (inside - first).astype(np.int64)
    before = np.where(i > 0, cum[np.maximum(i - 1, 0)], 0)
    j = np.searchsorted(cum, before + 1, side="left")
    out[covered] = first + j.astype("timedelta64[D]")
    return out, ~np.isnat(days) & ~covered
