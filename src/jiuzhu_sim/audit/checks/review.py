"""Review cadence (POLICY.md §7): review_overdue (核对超期). ``ineligible_recipient`` is
judged by the rule engine in :mod:`jiuzhu_sim.audit.checks.eligibility`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim import setops
from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.calendar import add_months
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    household_codes,
    input_file,
    pick,
    roster_months,
    roster_person_codes,
)
from jiuzhu_sim.audit.io import AuditTables


def _active_at_end(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """Roster rows active in the audit end month."""
    rm = roster_months(tables, ctx)
    return setops.unique(rm["row"].to_numpy()[rm["month"].to_numpy() == ctx.end_month])


def _latest_household_check(tables: AuditTables, ctx: AuditContext
                            ) -> tuple[np.ndarray, np.ndarray]:
    """(latest ``check_date``, its households row or −1) per household code."""
    names, _, h_codes = household_codes(tables, ctx)
    latest = np.full(len(names), np.datetime64("NaT"), dtype="datetime64[D]")
    row = np.full(len(names), -1, dtype=np.int64)
    h = tables.households
    if len(h):
        day = h["check_date"].to_numpy(dtype="datetime64[D]")
        order = np.lexsort((day.view(np.int64), h_codes))  # NaT sorts first
        last = np.r_[h_codes[order][1:] != h_codes[order][:-1], True]
        row[h_codes[order][last]] = order[last]
        latest[h_codes[order][last]] = day[order[last]]
    return latest, row


def _latest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise later of two date arrays, NaT only where both are NaT."""
    return np.where(np.isnat(a), b, np.where(np.isnat(b), a, np.maximum(a, b)))


def household_evidence(tables: AuditTables, rows: np.ndarray, finding: np.ndarray
                       ) -> pd.DataFrame:
    """Evidence naming households rows: household, check date, per-capita income."""
    h = tables.households
    rows = np.asarray(rows, dtype=np.int64)
    return F.evidence(finding, input_file(tables, "households"),
                      h["_row"].to_numpy(dtype=np.int64)[rows], F.key_fields(
                          household_id=pick(h["household_id"], rows),
                          check_date=F.dates_text(h["check_date"].to_numpy(
                              dtype="datetime64[D]")[rows]).to_numpy(dtype=object),
                          per_capita_income=F.plain_amount(h["per_capita_income"].to_numpy(
                              dtype="float64")[rows]).to_numpy(dtype=object)))


def check_review_overdue(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """经济状况核对超期: for people on the roster at the audit end, the latest economic check
    (roster ``last_check_date``, the household's latest ``households.check_date``, or the
    approval itself — ``start_date``) is older than ``review.max_months_between_checks``
    months before the audit end date; also dibao households with unstable income and work
    capacity whose last visit is older than ``review.max_months_between_visits`` (the visit
    rule is dibao's; marginal households are not visited under it). One finding per person; amount 0 (procedural).
    Evidence: the person's first roster row active at the end and the household's latest
    households row."""
    rows = _active_at_end(tables, ctx)
    if not len(rows):
        return F.empty_findings()
    r = tables.roster
    check = r["last_check_date"].to_numpy(dtype="datetime64[D]")[rows]
    hh_latest, hh_row = _latest_household_check(tables, ctx)
    hcode = household_codes(tables, ctx)[1][rows]
    if len(tables.households):
        check = _latest(check, hh_latest[hcode])
    # an approval is itself an economic check: the interval counts from it (someone approved
    # last month with no later check is not overdue)
    approved = r["start_date"].to_numpy(dtype="datetime64[D]")[rows]
    check = _latest(check, np.where(approved <= ctx.audit_end, approved, np.datetime64("NaT")))
    program = pick(r["program"], rows)
    frame = pd.DataFrame({"pid": roster_person_codes(tables, ctx)[rows], "check": check,
                          "visit": r["last_visit_date"].to_numpy(dtype="datetime64[D]")[rows],
                          # the home-visit rule is dibao's (002 二(三)), not marginal's
                          "needs_visit": r["unstable_income"].to_numpy(dtype=bool)[rows]
                          & r["work_capacity"].to_numpy(dtype=bool)[rows]
                          & (program == "dibao"),
                          "row": rows})
    frame = frame.groupby("pid", sort=False, as_index=False).agg(
        check=("check", "max"), visit=("visit", "max"), needs_visit=("needs_visit", "max"),
        row=("row", "first"))
    check_limit = add_months(np.array([ctx.audit_end]),
                             -int(ctx.param("review.max_months_between_checks")))[0]
    visit_limit = add_months(np.array([ctx.audit_end]),
                             -int(ctx.param("review.max_months_between_visits")))[0]
    check = frame["check"].to_numpy(dtype="datetime64[D]")
    visit = frame["visit"].to_numpy(dtype="datetime64[D]")
    late_check = np.isnat(check) | (check < check_limit)
    late_visit = frame["needs_visit"].to_numpy(dtype=bool) & (np.isnat(visit)
                                                              | (visit < visit_limit))
    mask = late_check | late_visit
    if not mask.any():
        return F.empty_findings()
    f = frame[mask]
    first_row = f["row"].to_numpy()
    lc, lv = late_check[mask], late_visit[mask]
    c_text = ("最近经济状况核对日期 " + F.dates_text(f["check"]) + "，早于 "
              + str(check_limit) + "（超过 "
              + str(int(ctx.param("review.max_months_between_checks"))) + " 个月未核对）")
    v_text = ("收入不稳定且有劳动能力，最近走访日期 " + F.dates_text(f["visit"]) + "，早于 "
              + str(visit_limit))
    detail = (pd.Series(np.where(lc, c_text, ""), dtype="str")
              + pd.Series(np.where(lc & lv, "；", ""), dtype="str")
              + pd.Series(np.where(lv, v_text, ""), dtype="str")
              + "，应尽快开展核对/入户走访")
    found = F.build("review_overdue", "low",
                    person_id=pick(r["person_id"], first_row),
                    name=pick(r["name"], first_row),
                    region_code=pick(r["region_code"], first_row),
                    program=pick(r["program"], first_row), detail=detail)
    roster_used = F.evidence(
        np.arange(len(f)), input_file(tables, "roster"),
        r["_row"].to_numpy(dtype=np.int64)[first_row], F.key_fields(
            person_id=pick(r["person_id"], first_row),
            last_check_date=F.dates_text(r["last_check_date"].to_numpy(
                dtype="datetime64[D]")[first_row]).to_numpy(dtype=object),
            last_visit_date=F.dates_text(r["last_visit_date"].to_numpy(
                dtype="datetime64[D]")[first_row]).to_numpy(dtype=object)))
    h_rows = hh_row[household_codes(tables, ctx)[1][first_row]]
    checked = np.flatnonzero(h_rows >= 0)
    return F.attach(ctx, found, roster_used,
                    household_evidence(tables, h_rows[checked], checked))

