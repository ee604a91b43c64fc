"""Review cadence and eligibility checks (POLICY.md §3.4, §7): review_overdue (核对超期)
and ineligible_recipient (错保, past the gradual-exit grace period 渐退期)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.calendar import add_months, month_of_dates
from jiuzhu_sim.audit.checks.base import AuditContext, payment_view, roster_months
from jiuzhu_sim.audit.io import AuditTables


def _active_at_end(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """Roster rows active in the audit end month."""
    rm = roster_months(tables, ctx)
    return np.unique(rm["row"].to_numpy()[rm["month"].to_numpy() == ctx.end_month])


def check_review_overdue(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """经济状况核对超期: for people on the roster at the audit end, the latest economic check
    (roster ``last_check_date`` or the household's latest ``households.check_date``) is older
    than ``review.max_months_between_checks`` months before the audit end date, or missing;
    also households with unstable income and work capacity whose last visit is older than
    ``review.max_months_between_visits``. One finding per person; amount 0 (procedural)."""
    rows = _active_at_end(tables, ctx)
    if not len(rows):
        return F.empty_findings()
    r = tables.roster.iloc[rows]
    check = r["last_check_date"].to_numpy(dtype="datetime64[D]")
    h = tables.households
    if len(h):
        latest = pd.Series(h["check_date"].to_numpy(dtype="datetime64[D]")).groupby(
            pd.Series(h["household_id"], dtype="str").to_numpy()).max()
        hh = latest.reindex(pd.Series(r["household_id"], dtype="str")).to_numpy(
            dtype="datetime64[D]")
        check = np.where(np.isnat(check), hh, np.where(np.isnat(hh), check,
                                                       np.maximum(check, hh)))
    frame = pd.DataFrame({"person_id": pd.Series(r["person_id"], dtype="str").to_numpy(),
                          "check": check,
                          "visit": r["last_visit_date"].to_numpy(dtype="datetime64[D]"),
                          "needs_visit": r["unstable_income"].to_numpy(dtype=bool)
                          & r["work_capacity"].to_numpy(dtype=bool),
                          "name": r["name"].to_numpy(dtype=object),
                          "region": r["region_code"].to_numpy(dtype=object),
                          "program": r["program"].to_numpy(dtype=object)})
    frame = frame.groupby("person_id", sort=True, as_index=False).agg(
        check=("check", "max"), visit=("visit", "max"), needs_visit=("needs_visit", "max"),
        name=("name", "first"), region=("region", "first"), program=("program", "first"))
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
    return F.build("review_overdue", "low", person_id=f["person_id"], name=f["name"],
                   region_code=f["region"], program=f["program"], detail=detail)


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
    after the grace period inside the window."""
    h = tables.households
    rows = _active_at_end(tables, ctx)
    if not len(h) or not len(rows):
        return F.empty_findings()
    r = tables.roster.iloc[rows]
    r = r[(r["program"] == "dibao").to_numpy()]
    if not len(r):
        return F.empty_findings()
    sub_type = pd.Series(r["sub_type"], dtype="str")
    hh_urban = pd.DataFrame({"hh": pd.Series(r["household_id"], dtype="str").to_numpy(),
                             "u": sub_type.to_numpy(dtype=object)}).drop_duplicates("hh")
    hh_urban = hh_urban.set_index("hh")["u"]
    hid = pd.Series(h["household_id"], dtype="str")
    keep = hh_urban.index.get_indexer(hid) >= 0
    if not keep.any():
        return F.empty_findings()
    hk = pd.DataFrame({"hh": hid[keep].to_numpy(),
                       "date": h["check_date"].to_numpy(dtype="datetime64[D]")[keep],
                       "income": h["per_capita_income"].to_numpy(dtype="float64")[keep]})
    hk = hk[hk["date"].to_numpy(dtype="datetime64[D]") <= ctx.audit_end]
    kind = hk["hh"].map(hh_urban).fillna("").to_numpy(dtype=object)
    hk = hk.assign(standard=dibao_standard_on(hk["date"].to_numpy(), kind, ctx))
    hk = hk.assign(above=hk["income"] > hk["standard"]).sort_values(["hh", "date"])
    last = hk.groupby("hh", sort=False).tail(1)
    last = last[last["above"].to_numpy(dtype=bool)]
    if not len(last):
        return F.empty_findings()
    below = hk[~hk["above"].to_numpy(dtype=bool)].groupby("hh")["date"].max()
    above = hk[hk["above"].to_numpy(dtype=bool)].assign(
        lb=lambda d: d["hh"].map(below))
    lb = above["lb"].to_numpy(dtype="datetime64[D]")
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
    people = r[first.index.get_indexer(pd.Series(r["household_id"], dtype="str")) >= 0]
    people = people.drop_duplicates("person_id")
    hh = pd.Series(people["household_id"], dtype="str").to_numpy()
    info = first.reindex(hh)
    lat = latest.reindex(hh)
    pay = payment_view(tables, ctx)
    cutoff = pd.Series(info["first_month"].to_numpy() + grace,
                       index=pd.Series(people["person_id"], dtype="str").to_numpy())
    paid_pay = pay[(pay["program"] == "dibao").to_numpy()]
    limit = cutoff.reindex(paid_pay["person_id"].to_numpy()).to_numpy(dtype="float64",
                                                                     na_value=np.nan)
    late = paid_pay[~np.isnan(limit) & (paid_pay["month"].to_numpy() > np.nan_to_num(limit))]
    amount = late.groupby("person_id")["amount"].sum().reindex(cutoff.index).fillna(
        0.0).to_numpy()
    detail = (F.dates_text(info["date"]) + " 起核对家庭人均收入高于低保标准（最近一次 "
              + F.dates_text(lat["date"]) + " 核对人均收入 " + F.yuan(lat["income"])
              + " 元，标准 " + F.yuan(lat["standard"]) + " 元），已连续 "
              + F.ints_text(info["months"]) + " 个月，超过渐退期 " + str(grace)
              + " 个月仍在保；渐退期后领取 " + F.yuan(amount) + " 元，应按程序退出并核实追回")
    return F.build("ineligible_recipient", "high", person_id=people["person_id"],
                   name=people["name"], region_code=people["region_code"],
                   program=people["program"], amount=amount, detail=detail)
