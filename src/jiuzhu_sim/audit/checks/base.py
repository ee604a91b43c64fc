"""What every check gets: the audit context (window, end date, parameters) and shared,
cached, integer-coded views of the tables (person codes, roster months, payment matches)."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim import setops
from jiuzhu_sim.audit.calendar import month_last_day, month_of_dates
from jiuzhu_sim.audit.io import AuditTables

PROGRAM_CODES = {"dibao": 0, "tekun": 1, "marginal": 2}


@dataclass
class AuditContext:
    """The audit window (month indices, inclusive), its end date (last day of the end month,
    the date parameters apply on) and the parameters. ``overrides`` are re-applied when a
    check needs parameters on another date (e.g. the dibao standard at a check date)."""

    start_month: int
    end_month: int
    params: Any
    region_code: str = ""
    overrides: Any = ()
    cache: dict = field(default_factory=dict)
    evidence: list = field(default_factory=list)  # evidence frames recorded by the checks
    # per check code: what it ran on and what it could not judge (summary.json "checks_run")
    notes: dict = field(default_factory=dict)
    # one lock per cached table (_cached), for checks running on several threads
    locks: dict = field(default_factory=dict, repr=False, compare=False)

    def note(self, code: str, **items) -> None:
        """Record, for ``code``, counts (numbers and {value: count} dicts add up) and facts
        (anything else; the last value wins) for summary.json."""
        merge_notes(self.notes, {code: items})

    @property
    def audit_end(self) -> np.datetime64:
        return month_last_day(self.end_month)

    @property
    def window_start(self) -> np.datetime64:
        return np.datetime64(month_last_day(self.start_month - 1) + np.timedelta64(1, "D"))

    def param(self, name: str):
        return self.params[name]

    def params_on(self, day: dt.date):
        """Parameters of the same region on another date (cached); the audit's own
        parameters when that date has no values (e.g. before a region's first date)."""
        from jiuzhu_sim.exceptions import UserInputError
        from jiuzhu_sim.parameters import load_parameters

        key = ("params_on", day)
        if key not in self.cache:
            try:
                self.cache[key] = load_parameters(self.params.region_code, day, self.overrides)
            except (UserInputError, AttributeError):
                self.cache[key] = self.params
        return self.cache[key]


def merge_notes(into: dict, notes: dict) -> dict:
    """Add ``notes`` ({code: {key: value}}) into ``into``: numbers and count dicts add, lists
    are merged in order (distinct), anything else is replaced."""
    for code, items in notes.items():
        target = into.setdefault(code, {})
        for key, value in items.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, dict, list)):
                target[key] = value
            elif isinstance(value, dict):
                counts = target.setdefault(key, {})
                for k, v in value.items():
                    counts[k] = counts.get(k, 0) + v
            elif isinstance(value, list):
                target[key] = list(dict.fromkeys([*target.get(key, []), *value]))
            else:
                target[key] = target.get(key, 0) + value
    return into


def unknown_payment_keys(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """pm_key of each (person, program, window month) whose payment rows were rejected on
    read (``tables.unknown_payment_keys``: person_id, program, period), so whether it was
    paid is unknown — never "missing". Empty when the reader records none."""
    def build():
        from jiuzhu_sim.audit.io import parse_months

        keys = getattr(tables, "unknown_payment_keys", None)
        if keys is None or not len(keys):
            return np.zeros(0, dtype=np.int64)
        period = keys["period"]
        if pd.api.types.is_integer_dtype(period):
            month = period.to_numpy(dtype=np.int64)
            bad = np.zeros(len(month), dtype=bool)
        else:
            month, bad = parse_months(pd.Series(period, dtype="str").fillna(""))
        pid = codes_of(person_codes(tables, ctx), keys["person_id"])
        ok = (~bad & (pid >= 0) & (month >= ctx.start_month) & (month <= ctx.end_month))
        return setops.unique(pm_key(pid[ok], program_codes(keys["program"])[ok], month[ok], ctx))
    return _cached(ctx, tables, "unknown_payment_keys", build)


def pick(series: pd.Series, rows) -> np.ndarray:
    """``series``' cells at ``rows`` (positions, or a bool mask) as an object array. Only
    those cells are converted: ``series.to_numpy(dtype=object)[rows]`` would turn every
    cell of an Arrow-backed text column into a Python object first."""
    return series.iloc[np.asarray(rows)].to_numpy(dtype=object)


def join_in_groups(values, groups, n: int, sep: str) -> np.ndarray:
    """``sep.join`` of the text ``values`` of each group ``0..n-1`` (``groups``: each
    value's group), in the values' order; "" for a group without values. What
    ``Series(values).groupby(groups).agg(sep.join)`` gives, without a Python call per group:
    the k-th values of all groups are appended at once, k up to the largest group's size."""
    values = np.asarray(values, dtype=object)
    groups = np.asarray(groups, dtype=np.int64)
    out = np.full(n, "", dtype=object)
    if not len(values):
        return out
    order = np.argsort(groups, kind="stable")
    g, v = groups[order], values[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    pos = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    out[g[pos == 0]] = v[pos == 0]
    for k in range(1, int(pos.max()) + 1):
        at = pos == k
        out[g[at]] = out[g[at]] + sep + v[at]
    return out


def _cached(ctx: AuditContext, tables: AuditTables, key: str, build):
    """``build()``'s table, built once per ``tables`` and shared by the checks. Checks may
    run on several threads (``execute.run_checks``): each table has its own lock, so a
    second thread needing it waits for the first to finish building it."""
    token = (key, id(tables))
    try:
        return ctx.cache[token]
    except KeyError:
        pass
    lock = ctx.locks.setdefault(token, threading.Lock())  # dict.setdefault is atomic
    with lock:
        if token not in ctx.cache:
            ctx.cache[token] = build()
    return ctx.cache[token]


def person_codes(tables: AuditTables, ctx: AuditContext) -> pd.Index:
    """The person universe (roster ∪ payments ∪ deaths) as an Index: position = code."""
    return _factorized(tables, ctx)[0]


def _factorized(tables: AuditTables, ctx: AuditContext):
    """(Index of person IDs, codes of roster rows, codes of payment rows, codes of death
    rows) in one factorize: the only hashing of the long ID strings."""
    def build():
        parts = [pd.Series(tables.roster["person_id"], dtype="str"),
                 pd.Series(tables.payments["person_id"], dtype="str"),
                 pd.Series(tables.deaths["person_id"], dtype="str")]
        codes, uniques = pd.factorize(pd.concat(parts, ignore_index=True))
        n_r, n_p = len(parts[0]), len(parts[1])
        return (pd.Index(uniques, dtype="str"), codes[:n_r], codes[n_r:n_r + n_p],
                codes[n_r + n_p:])
    return _cached(ctx, tables, "factorized", build)


def roster_person_codes(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """Person code of each roster row."""
    return _factorized(tables, ctx)[1]


def codes_of(index: pd.Index, ids) -> np.ndarray:
    """Codes of other IDs (e.g. a screening list) in the person universe; −1 if absent."""
    return index.get_indexer(pd.Series(ids, dtype="str"))


def program_codes(programs) -> np.ndarray:
    """dibao 0, tekun 1, marginal 2 (anything else 0), mapped on the distinct values."""
    codes, uniques = pd.factorize(pd.Series(programs, dtype="str"))
    table = np.array([PROGRAM_CODES.get(str(u), 0) for u in uniques] + [0], dtype=np.int64)
    return table[codes]


def region_codes(tables: AuditTables, ctx: AuditContext):
    """(region labels, code of each roster row, code of each payment row): one integer per
    ``region_code`` shared by roster and payments."""
    def build():
        parts = [pd.Series(tables.roster["region_code"], dtype="str"),
                 pd.Series(tables.payments["region_code"], dtype="str")]
        codes, uniques = pd.factorize(pd.concat(parts, ignore_index=True))
        n_r = len(parts[0])
        return np.asarray(uniques, dtype=object), codes[:n_r], codes[n_r:]
    return _cached(ctx, tables, "regions", build)


def household_codes(tables: AuditTables, ctx: AuditContext):
    """(household IDs, code of each roster row, code of each households row): one integer
    per ``household_id`` shared by the roster and the households file."""
    def build():
        parts = [pd.Series(tables.roster["household_id"], dtype="str"),
                 pd.Series(tables.households["household_id"], dtype="str")]
        codes, uniques = pd.factorize(pd.concat(parts, ignore_index=True))
        n_r = len(parts[0])
        return np.asarray(uniques, dtype=object), codes[:n_r], codes[n_r:]
    return _cached(ctx, tables, "households", build)


def first_roster_row_by_code(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """The first roster row (position) of each person code, −1 when not on the roster."""
    def build():
        codes = roster_person_codes(tables, ctx)
        out = np.full(len(person_codes(tables, ctx)), -1, dtype=np.int64)
        people, first = np.unique(codes, return_index=True)
        out[people] = first
        return out
    return _cached(ctx, tables, "first_roster_row", build)


def roster_info(tables: AuditTables, ctx: AuditContext, codes: np.ndarray) -> pd.DataFrame:
    """name, region_code and program of each person code's first roster row ('' when the
    code is −1 or the person is not on the roster) and ``on_roster``."""
    first = first_roster_row_by_code(tables, ctx)
    codes = np.asarray(codes, dtype=np.int64)
    known = (codes >= 0) & (codes < len(first))
    rows = np.full(len(codes), -1, dtype=np.int64)
    rows[known] = first[codes[known]]
    on = rows >= 0
    r = tables.roster
    out = {}
    for col in ("name", "region_code", "program"):
        values = np.full(len(rows), "", dtype=object)
        if on.any():
            values[on] = pick(r[col], rows[on])
        out[col] = values
    out["on_roster"] = on
    return pd.DataFrame(out)


def names_by_code(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """Name per person code: roster first, then deaths."""
    def build():
        index, roster_c, _, death_c = _factorized(tables, ctx)
        names = np.full(len(index), "", dtype=object)
        for frame, codes in ((tables.deaths, death_c), (tables.roster, roster_c)):
            if len(frame):
                names[codes] = frame["name"].to_numpy(dtype=object)
        return names
    return _cached(ctx, tables, "names", build)


def death_month_by_code(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """Month index of death per person code (a huge number when not dead)."""
    def build():
        index = person_codes(tables, ctx)
        out = np.full(len(index), np.iinfo(np.int64).max // 2, dtype=np.int64)
        d = tables.deaths
        if len(d):
            m = month_of_dates(d["death_date"].to_numpy(dtype="datetime64[D]"))
            np.minimum.at(out, _factorized(tables, ctx)[3], m)
        return out
    return _cached(ctx, tables, "death_month", build)


def death_row_by_code(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """The deaths row (position) of each person code with the earliest death date, −1."""
    def build():
        out = np.full(len(person_codes(tables, ctx)), -1, dtype=np.int64)
        d = tables.deaths
        if len(d):
            order = np.argsort(d["death_date"].to_numpy(dtype="datetime64[D]"),
                               kind="stable")
            people, first = np.unique(_factorized(tables, ctx)[3][order], return_index=True)
            out[people] = order[first]  # the earliest date
        return out
    return _cached(ctx, tables, "death_row", build)


def payment_view(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """Payments inside the window with integer person code, program code, region code and
    month; ``source_row`` is the payment's data row in its file (as in rejected.csv)."""
    def build():
        pid = _factorized(tables, ctx)[2]
        reg = region_codes(tables, ctx)[2]
        keep, columns = _payment_columns(tables, ctx)
        if keep is not None:
            pid, reg = pid[keep], reg[keep]
        return pd.DataFrame({"pid": pid, **columns, "reg": reg}, copy=False)[
            PAYMENT_VIEW_COLUMNS]  # its own arrays: no copy, no consolidation into blocks
    return _cached(ctx, tables, "payments", build)


PAYMENT_VIEW_COLUMNS = ["pid", "prog", "month", "amount", "reg", "region", "paid_date",
                        "account", "payment_id", "person_id", "program", "source_row"]


def _payment_columns(tables: AuditTables, ctx: AuditContext) -> tuple:
    """(window mask or None when every payment is inside, the columns of
    :func:`payment_view` that need no person or region code): built apart so that
    :func:`execute.shared_views` can make them on its second thread while the first hashes
    the person IDs."""
    def build():
        p = tables.payments
        m = p["period"].to_numpy(dtype=np.int64)
        keep = (m >= ctx.start_month) & (m <= ctx.end_month)
        if keep.all():
            keep = None
        else:
            p = p[keep].reset_index(drop=True)
        return keep, {
            "prog": program_codes(p["program"]),
            "month": p["period"].to_numpy(dtype=np.int64),
            "amount": p["amount"].to_numpy(dtype="float64"),
            "region": _one_chunk(p["region_code"]),
            "paid_date": p["paid_date"].to_numpy(dtype="datetime64[D]"),
            "account": _one_chunk(p["account_holder_id"]),
            "payment_id": _one_chunk(p["payment_id"]),
            "person_id": _one_chunk(p["person_id"]),
            "program": _one_chunk(p["program"]),
            "source_row": p["_row"].to_numpy(dtype=np.int64),
        }
    return _cached(ctx, tables, "payment_columns", build)


def _one_chunk(values) -> pd.Series:
    """A text column as pandas ``str`` over one Arrow chunk: the checks pick rows from the
    window payments' text many times (:func:`pick`), and Arrow's take on one chunk is about
    2.5 times as fast as on the CSV reader's dozens (the same values)."""
    import pyarrow as pa

    text = pd.Series(values, dtype="str")
    arr = getattr(text.array, "_pa_array", None)
    if not isinstance(arr, pa.ChunkedArray) or arr.num_chunks < 2:
        return text
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([arr.combine_chunks()])),
                     index=text.index, dtype=text.dtype)


ROSTER_MONTHS_GRID = 36
"""Windows of at most this many months build :func:`roster_months` from a rows × months
grid (one pass); longer ones by repeating rows."""


def roster_months(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """Roster rows × window months in which the row is active (np.repeat, vectorised).

    A roster row is active in a month if ``[start_date, end_date]`` overlaps the month
    (a blank end date = still active)."""
    def build():
        r = tables.roster
        start = month_of_dates(r["start_date"].to_numpy(dtype="datetime64[D]"))
        end_d = r["end_date"].to_numpy(dtype="datetime64[D]")
        end = np.where(np.isnat(end_d), np.iinfo(np.int64).max // 2, month_of_dates(end_d))
        first = np.maximum(start, ctx.start_month)
        last = np.minimum(end, ctx.end_month)
        count = np.maximum(last - first + 1, 0)
        span = ctx.end_month - ctx.start_month + 1
        if span <= ROSTER_MONTHS_GRID:
            # row by row, months in order: the true cells of a rows × months grid
            rows, offsets = np.nonzero(np.arange(span)[None, :] < count[:, None])
        else:
            rows = np.repeat(np.arange(len(r)), count)
            offsets = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
        prog = program_codes(r["program"])
        # each row's values repeated count times (rows run in order): as taking them at
        # ``rows``, without the random access
        pid = _factorized(tables, ctx)[1]
        return pd.DataFrame({"row": rows, "pid": np.repeat(pid, count),
                             "prog": np.repeat(prog, count),
                             "month": np.repeat(first, count) + offsets,
                             "amount": np.repeat(r["monthly_amount"].to_numpy(
                                 dtype="float64"), count)},
                            copy=False)
    return _cached(ctx, tables, "roster_months", build)


def input_file(tables: AuditTables, name: str) -> str:
    """The input's file name as in rejected.csv (the base name when not read from a file)."""
    return tables.files.get(name, name)


def pm_key(pid, prog, month, ctx: AuditContext) -> np.ndarray:
    """One int64 per (person, program, month in window)."""
    span = ctx.end_month - ctx.start_month + 1
    return ((np.asarray(pid, np.int64) * 4 + np.asarray(prog, np.int64)) * span
            + (np.asarray(month, np.int64) - ctx.start_month))


# _last_match numbers the keys by position in a table indexed by key when the keys span at
# most this many values per key and query (the audit's person-program-month keys are
# dense: codes × programs × months); otherwise by hashing
LAST_MATCH_DENSE_SPAN = 8


def _last_match(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, ``values`` at the last position where ``keys`` equals it, or −1."""
    if not len(keys):
        return np.full(len(queries), -1, dtype=np.int64)
    keys = np.asarray(keys)
    queries = np.asarray(queries, dtype=keys.dtype)
    if keys.dtype.kind == "i" and len(keys) < 2**31 - 1:
        low, high = int(keys.min()), int(keys.max())
        if high - low < LAST_MATCH_DENSE_SPAN * (len(keys) + len(queries)):
            # each key value's last position, in a table indexed by value (offsets in
            # int64: a narrower type would wrap)
            keys64 = keys.astype(np.int64, copy=False)
            queries64 = queries.astype(np.int64, copy=False)
            last = np.full(high - low + 1, -1, dtype=np.int32)
            np.maximum.at(last, keys64 - low, np.arange(len(keys), dtype=np.int32))
            inside = (queries64 >= low) & (queries64 <= high)
            at = np.where(inside, last[np.where(inside, queries64 - low, 0)], -1)
            return np.where(at >= 0, np.asarray(values)[np.maximum(at, 0)], -1)
    # one hash pass over keys then queries, no sort: the keys' values are numbered first
    # (0 .. n−1), so a query numbered below n has a key; each number's last key position
    codes, _ = pd.factorize(np.concatenate([keys, queries]))
    k, q = codes[:len(keys)], codes[len(keys):]
    n = int(k.max()) + 1
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, k, np.arange(len(k), dtype=np.int64))
    hit = q < n
    return np.where(hit, np.asarray(values)[last[np.where(hit, q, 0)]], -1)


def payment_roster_row(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """For each window payment, the roster row active for its person, program and month
    (preferring a row of the same region; among several, the last), or −1."""
    def build():
        pay = payment_view(tables, ctx)
        rm = roster_months(tables, ctx)
        if not len(rm) or not len(pay):
            return np.full(len(pay), -1, dtype=np.int64)
        n_regions = len(region_codes(tables, ctx)[0]) + 1
        rows = rm["row"].to_numpy()
        rkey = pm_key(rm["pid"], rm["prog"], rm["month"], ctx)
        pkey = pm_key(pay["pid"], pay["prog"], pay["month"], ctx)
        roster_reg = region_codes(tables, ctx)[1]
        preg = pay["reg"].to_numpy()
        # the last row of the person, program and month (whatever its region): where its
        # region is the payment's it is also the last row of that region, else the last
        # row of the payment's region is looked for among those few payments' keys only,
        # and the last row of any region stays where there is none
        last = _last_match(rkey, rows, pkey)
        other = np.flatnonzero((last >= 0) & (roster_reg[np.maximum(last, 0)] != preg))
        if len(other):
            wanted = setops.isin(rkey, pkey[other])
            same = _last_match(rkey[wanted] * n_regions + roster_reg[rows[wanted]],
                               rows[wanted], pkey[other] * n_regions + preg[other])
            last[other] = np.where(same >= 0, same, last[other])
        return last
    return _cached(ctx, tables, "payment_roster_row", build)


def paid_total_by_code(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """Total paid in the window per person code."""
    def build():
        pay = payment_view(tables, ctx)
        n = len(person_codes(tables, ctx))
        return np.bincount(pay["pid"].to_numpy(), weights=pay["amount"].to_numpy(),
                           minlength=n) if len(pay) else np.zeros(n)
    return _cached(ctx, tables, "paid_total", build)


def group_first(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.drop_duplicates(keys, keep="first")
