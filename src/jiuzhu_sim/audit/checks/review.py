"""Review cadence and eligibility checks (POLICY.md §3.4, §7): review_overdue (核对超期)
and ineligible_recipient (错保, past the gradual-exit grace period 渐退期)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.calendar import add_months, month_of_dates
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    household_codes,
    input_file,
    payment_view,
    person_codes,
    roster_months,
    roster_person_codes,
)
from jiuzhu_sim.audit.checks.payments import payment_evidence
from jiuzhu_sim.audit.io import AuditTables


def _active_at_end(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """Roster rows active in the audit end month."""
    rm = roster_months(tables, ctx)
    return np.unique(rm["row"].to_numpy()[rm["month"].to_numpy() == ctx.end_month])


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


def household_evidence(tables: AuditTables, rows: np.ndarray, finding: np.ndarray
                       ) -> pd.DataFrame:
    """Evidence naming households rows: household, check date, per-capita income."""
    h = tables.households
    rows = np.asarray(rows, dtype=np.int64)
    return F.evidence(finding, input_file(tables, "households"),
                      h["_row"].to_numpy(dtype=np.int64)[rows], F.key_fields(
                          household_id=h["household_id"].to_numpy(dtype=object)[rows],
                          check_date=F.dates_text(h["check_date"].to_numpy(
                              dtype="datetime64[D]")[rows]).to_numpy(dtype=object),
                          per_capita_income=F.plain_amount(h["per_capita_income"].to_numpy(
                              dtype="float64")[rows]).to_numpy(dtype=object)))


def check_review_overdue(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """经济状况核对超期: for people on the roster at the audit end, the latest economic check
    (roster ``last_check_date`` or the household's latest ``households.check_date``) is older
    than ``review.max_months_between_checks`` months before the audit end date, or missing;
    also households with unstable income and work capacity whose last visit is older than
    ``review.max_months_between_visits``. One finding per person; amount 0 (procedural).
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
        hh = hh_latest[hcode]
        check = np.where(np.isnat(check), hh, np.where(np.isnat(hh), check,
                                                       np.maximum(check, hh)))
    frame = pd.DataFrame({"pid": roster_person_codes(tables, ctx)[rows], "check": check,
                          "visit": r["last_visit_date"].to_numpy(dtype="datetime64[D]")[rows],
                          "needs_visit": r["unstable_income"].to_numpy(dtype=bool)[rows]
                          & r["work_capacity"].to_numpy(dtype=bool)[rows],
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
                    person_id=r["person_id"].to_numpy(dtype=object)[first_row],
                    name=r["name"].to_numpy(dtype=object)[first_row],
                    region_code=r["region_code"].to_numpy(dtype=object)[first_row],
                    program=r["program"].to_numpy(dtype=object)[first_row], detail=detail)
    roster_used = F.evidence(
        np.arange(len(f)), input_file(tables, "roster"),
        r["_row"].to_numpy(dtype=np.int64)[first_row], F.key_fields(
            person_id=r["person_id"].to_numpy(dtype=object)[first_row],
            last_check_date=F.dates_text(r["last_check_date"].to_numpy(
                dtype="datetime64[D]")[first_row]).to_numpy(dtype=object),
            last_visit_date=F.dates_text(r["last_visit_date"].to_numpy(
                dtype="datetime64[D]")[first_row]).to_numpy(dtype=object)))
    h_rows = hh_row[household_codes(tables, ctx)[1][first_row]]
    checked = np.flatnonzero(h_rows >= 0)
    return F.attach(ctx, found, roster_used,
                    household_evidence(tables, h_rows[checked], checked))


def dibao_standard_on(dates: np.ndarray, kind: np.ndarray, ctx: AuditContext) -> np.ndarray:
    """The dibao standard in force on each date for ``kind`` 'urban'/'rural' (anything else
    uses ``dibao.standard``). Dates without parameter values use the audit date's."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(dates, dtype="datetime64[D]")))
    table = np.full((len(uniques) + 1, 3), np.nan)
    for i, day in enumerate(uniques):
        params = ctx.params_on(pd.Timestamp(day).date())
        base = float(params.get("dibao.standard", np.nan))
        table[i] = [float(params.get("dibao.standard.urban", base)),
                    float(params.get("dibao.standard.rural", base)), base]
    k = pd.Series(np.asarray(kind, dtype=object), dtype="str")
    col = np.where(k == "urban", 0, np.where(k == "rural", 1, 2))
    return table[np.where(codes < 0, len(uniques), codes), col]


def check_ineligible_recipient(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """错保 (应退未退): a dibao household on the roster at the audit end whose verified
    per-capita income (households file) is above the dibao standard in force at the check
    date, continuously since the first of its latest run of above-standard checks (one
    check: since that check), for more than ``dibao.gradual_exit_months`` months counted in
    calendar months up to the audit end month. Amount = dibao paid to the person for months
    after the grace period inside the window. Evidence: the household's checks of that run
    and those dibao payments."""
    h = tables.households
    rows = _active_at_end(tables, ctx)
    if not len(h) or not len(rows):
        return F.empty_findings()
    r = tables.roster
    rows = rows[(r["program"].to_numpy(dtype=object)[rows] == "dibao")]
    if not len(rows):
        return F.empty_findings()
    _, roster_hh, h_codes = household_codes(tables, ctx)
    # urban/rural of each dibao household: the sub_type of its first active dibao row
    households, first = np.unique(roster_hh[rows], return_index=True)
    kind_of = pd.Series(r["sub_type"].to_numpy(dtype=object)[rows[first]], index=households)
    keep = np.flatnonzero(kind_of.index.get_indexer(h_codes) >= 0)
    if not len(keep):
        return F.empty_findings()
    hk = pd.DataFrame({"hh": h_codes[keep],
                       "date": h["check_date"].to_numpy(dtype="datetime64[D]")[keep],
                       "income": h["per_capita_income"].to_numpy(dtype="float64")[keep],
                       "hrow": keep})
    hk = hk[hk["date"].to_numpy(dtype="datetime64[D]") <= ctx.audit_end]
    kind = kind_of.reindex(hk["hh"].to_numpy()).fillna("").to_numpy(dtype=object)
    hk = hk.assign(standard=dibao_standard_on(hk["date"].to_numpy(), kind, ctx))
    hk = hk.assign(above=hk["income"] > hk["standard"]).sort_values(["hh", "date"])
    last = hk.groupby("hh", sort=False).tail(1)
    last = last[last["above"].to_numpy(dtype=bool)]
    if not len(last):
        return F.empty_findings()
    below = hk[~hk["above"].to_numpy(dtype=bool)].groupby("hh")["date"].max()
    above = hk[hk["above"].to_numpy(dtype=bool)]
    # the last below-standard check of each household (NaT: none), by position, so that a
    # households file with no check below the standard at all works too
    at = below.index.get_indexer(above["hh"].to_numpy())
    lb = np.full(len(above), np.datetime64("NaT"), dtype="datetime64[D]")
    lb[at >= 0] = below.to_numpy(dtype="datetime64[D]")[at[at >= 0]]
    run = above[np.isnat(lb) | (above["date"].to_numpy(dtype="datetime64[D]") > lb)]
    first = run.groupby("hh", sort=True).first()
    first_month = month_of_dates(first["date"].to_numpy(dtype="datetime64[D]"))
    months_above = ctx.end_month - first_month
    grace = int(ctx.param("dibao.gradual_exit_months"))
    over = months_above > grace
    first = first[over].assign(months=months_above[over], first_month=first_month[over])
    if not len(first):
        return F.empty_findings()
    latest = last.set_index("hh").reindex(first.index)
    people_rows = rows[first.index.get_indexer(roster_hh[rows]) >= 0]
    pid = roster_person_codes(tables, ctx)[people_rows]
    _, unique_at = np.unique(pid, return_index=True)
    unique_at.sort()  # the first row of each person, in roster order
    people_rows, pid = people_rows[unique_at], pid[unique_at]
    hh = roster_hh[people_rows]
    info = first.reindex(hh)
    lat = latest.reindex(hh)
    pay = payment_view(tables, ctx)
    cutoff = np.full(len(person_codes(tables, ctx)), np.iinfo(np.int64).max // 2)
    cutoff[pid] = info["first_month"].to_numpy(dtype=np.int64) + grace
    late = np.flatnonzero((pay["prog"].to_numpy() == 0)
                          & (pay["month"].to_numpy() > cutoff[pay["pid"].to_numpy()]))
    finding_of_code = np.full(len(cutoff), -1, dtype=np.int64)
    finding_of_code[pid] = np.arange(len(pid))
    late_finding = finding_of_code[pay["pid"].to_numpy()[late]]
    amount = np.bincount(late_finding, weights=pay["amount"].to_numpy()[late],
                         minlength=len(pid))
    detail = (F.dates_text(info["date"]) + " 起核对家庭人均收入高于低保标准（最近一次 "
              + F.dates_text(lat["date"]) + " 核对人均收入 " + F.yuan(lat["income"])
              + " 元，标准 " + F.yuan(lat["standard"]) + " 元），已连续 "
              + F.ints_text(info["months"]) + " 个月，超过渐退期 " + str(grace)
              + " 个月仍在保；渐退期后领取 " + F.yuan(amount) + " 元，应按程序退出并核实追回")
    found = F.build("ineligible_recipient", "high",
                    person_id=r["person_id"].to_numpy(dtype=object)[people_rows],
                    name=r["name"].to_numpy(dtype=object)[people_rows],
                    region_code=r["region_code"].to_numpy(dtype=object)[people_rows],
                    program=r["program"].to_numpy(dtype=object)[people_rows],
                    amount=amount, detail=detail)
    checks = pd.DataFrame({"hh": hh, "finding": np.arange(len(hh))}).merge(
        run[["hh", "hrow"]], on="hh")
    return F.attach(ctx, found,
                    household_evidence(tables, checks["hrow"].to_numpy(),
                                       checks["finding"].to_numpy()),
                    payment_evidence(tables, pay, late, late_finding, "program"))
