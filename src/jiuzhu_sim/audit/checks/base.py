"""What every check gets: the audit context (window, end date, parameters) and shared,
cached, integer-coded views of the tables (person codes, roster months, payment matches)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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


def _cached(ctx: AuditContext, tables: AuditTables, key: str, build):
    token = (key, id(tables))
    if token not in ctx.cache:
        ctx.cache[token] = build()
    return ctx.cache[token]


def person_codes(tables: AuditTables, ctx: AuditContext) -> pd.Index:
    """The person universe (roster ∪ payments ∪ deaths) as an Index: position = code."""
    return _factorized(tables, ctx)[0]


def _factorized(tables: AuditTables, ctx: AuditContext):
    """(Index of person IDs, codes of roster rows, codes of payment rows) in one factorize."""
    def build():
        parts = [pd.Series(tables.roster["person_id"], dtype="str"),
                 pd.Series(tables.payments["person_id"], dtype="str"),
                 pd.Series(tables.deaths["person_id"], dtype="str")]
        codes, uniques = pd.factorize(pd.concat(parts, ignore_index=True))
        n_r, n_p = len(parts[0]), len(parts[1])
        return (pd.Index(uniques), codes[:n_r], codes[n_r:n_r + n_p])
    return _cached(ctx, tables, "factorized", build)


def codes_of(index: pd.Index, ids) -> np.ndarray:
    return index.get_indexer(pd.Series(ids, dtype="str"))


def names_by_code(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """Name per person code: roster first, then deaths."""
    def build():
        index = person_codes(tables, ctx)
        names = np.full(len(index), "", dtype=object)
        for frame in (tables.deaths, tables.roster):
            if len(frame):
                names[codes_of(index, frame["person_id"])] = frame["name"].to_numpy(dtype=object)
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
            np.minimum.at(out, codes_of(index, d["person_id"]), m)
        return out
    return _cached(ctx, tables, "death_month", build)


def payment_view(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """Payments inside the window with integer person code, program code and month."""
    def build():
        p = tables.payments
        m = p["period"].to_numpy(dtype=np.int64)
        keep = (m >= ctx.start_month) & (m <= ctx.end_month)
        pid = _factorized(tables, ctx)[2]
        if not keep.all():
            p, pid = p[keep].reset_index(drop=True), pid[keep]
        return pd.DataFrame({
            "pid": pid,
            "prog": pd.Series(p["program"], dtype="str").map(PROGRAM_CODES).to_numpy(
                dtype=np.int64, na_value=0),
            "month": p["period"].to_numpy(dtype=np.int64),
            "amount": p["amount"].to_numpy(dtype="float64"),
            "region": pd.Series(p["region_code"], dtype="str"),
            "paid_date": p["paid_date"].to_numpy(dtype="datetime64[D]"),
            "account": pd.Series(p["account_holder_id"], dtype="str"),
            "payment_id": pd.Series(p["payment_id"], dtype="str"),
            "person_id": pd.Series(p["person_id"], dtype="str"),
            "program": pd.Series(p["program"], dtype="str"),
        })
    return _cached(ctx, tables, "payments", build)


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
        rows = np.repeat(np.arange(len(r)), count)
        offsets = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
        pid = _factorized(tables, ctx)[1]
        prog = pd.Series(r["program"], dtype="str").map(PROGRAM_CODES).to_numpy(
            dtype=np.int64, na_value=0)
        return pd.DataFrame({"row": rows, "pid": pid[rows], "prog": prog[rows],
                             "month": first[rows] + offsets,
                             "amount": r["monthly_amount"].to_numpy(dtype="float64")[rows]})
    return _cached(ctx, tables, "roster_months", build)


def pm_key(pid, prog, month, ctx: AuditContext) -> np.ndarray:
    """One int64 per (person, program, month in window)."""
    span = ctx.end_month - ctx.start_month + 1
    return ((np.asarray(pid, np.int64) * 4 + np.asarray(prog, np.int64)) * span
            + (np.asarray(month, np.int64) - ctx.start_month))


def payment_roster_row(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """For each window payment, the roster row active for its person, program and month
    (preferring a row of the same region), or −1."""
    def build():
        pay = payment_view(tables, ctx)
        rm = roster_months(tables, ctx)
        out = np.full(len(pay), -1, dtype=np.int64)
        if not len(rm) or not len(pay):
            return out
        rkey = pm_key(rm["pid"], rm["prog"], rm["month"], ctx)
        pkey = pm_key(pay["pid"], pay["prog"], pay["month"], ctx)
        rregion = pd.Series(tables.roster["region_code"], dtype="str").to_numpy(
            dtype=object)[rm["row"].to_numpy()]
        # same region first
        both = pd.DataFrame({"k": rkey, "reg": rregion, "row": rm["row"].to_numpy()})
        same = both.drop_duplicates(["k", "reg"], keep="last")
        hit = pd.DataFrame({"k": pkey, "reg": pay["region"].to_numpy(dtype=object)}).merge(
            same, on=["k", "reg"], how="left")["row"].to_numpy(dtype="float64",
                                                               na_value=np.nan)
        out = np.where(np.isnan(hit), -1, np.nan_to_num(hit)).astype(np.int64)
        anyreg = both.drop_duplicates("k", keep="last").set_index("k")["row"]
        miss = out < 0
        if miss.any():
            alt = anyreg.reindex(pkey[miss]).to_numpy(dtype="float64", na_value=np.nan)
            out[miss] = np.where(np.isnan(alt), -1, np.nan_to_num(alt)).astype(np.int64)
        return out
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
