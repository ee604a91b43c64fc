"""One-card payment checks (一卡通资金回头看, POLICY.md §6): deceased paid, duplicates,
amounts, timeliness, missing payments, payments off the roster, account holders.

Each check: ``(tables, ctx) -> findings frame`` (CONTRACT §6 columns), one finding per person
and month (period) unless said otherwise; vectorised over integer-coded keys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    death_month_by_code,
    names_by_code,
    payment_roster_row,
    payment_view,
    person_codes,
    roster_months,
)
from jiuzhu_sim.audit.io import AuditTables


def _per_person_month(pay: pd.DataFrame, mask: np.ndarray, value: np.ndarray | None = None
                      ) -> pd.DataFrame:
    """Sum of ``value`` (default: amount) per (person, month) over the masked payments, with
    the first region/program/person_id."""
    sub = pay[mask]
    v = sub["amount"].to_numpy() if value is None else np.asarray(value)[mask]
    g = pd.DataFrame({"pid": sub["pid"].to_numpy(), "month": sub["month"].to_numpy(),
                      "value": v, "n": 1, "region": sub["region"].to_numpy(dtype=object),
                      "program": sub["program"].to_numpy(dtype=object),
                      "person_id": sub["person_id"].to_numpy(dtype=object)})
    return g.groupby(["pid", "month"], sort=True, as_index=False).agg(
        value=("value", "sum"), n=("n", "sum"), region=("region", "first"),
        program=("program", "first"), person_id=("person_id", "first"))


def check_deceased_paid(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """死人保: paid for a month after the month of death. The month of death itself is
    legitimate (POLICY.md §6). Amount = paid for that month."""
    pay = payment_view(tables, ctx)
    death = death_month_by_code(tables, ctx)
    mask = pay["month"].to_numpy() > death[pay["pid"].to_numpy()]
    g = _per_person_month(pay, mask)
    if not len(g):
        return F.empty_findings()
    pid = g["pid"].to_numpy()
    total = g.groupby("pid")["value"].transform("sum").to_numpy()
    months = g.groupby("pid")["value"].transform("size").to_numpy()
    after = g["month"].to_numpy() - death[pid]
    death_day = tables.deaths.assign(_pid=lambda d: person_codes(tables, ctx).get_indexer(
        pd.Series(d["person_id"], dtype="str"))).sort_values("death_date").drop_duplicates(
        "_pid").set_index("_pid")["death_date"].reindex(pid).to_numpy(dtype="datetime64[D]")
    detail = ("死亡日期 " + F.dates_text(death_day) + "，" + F.months_text(g["month"])
              + " 死亡后第 " + F.ints_text(after) + " 个月仍发放 " + F.yuan(g["value"])
              + " 元（死亡后共发放 " + F.ints_text(months) + " 个月，合计 " + F.yuan(total)
              + " 元），应停发并追回")
    return F.build("deceased_paid", "high", person_id=g["person_id"],
                   name=names_by_code(tables, ctx)[pid], region_code=g["region"],
                   program=g["program"], period=g["month"], amount=g["value"], detail=detail)


def check_duplicate_region(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """异地重复: paid by two or more regions for the same month. Amount = paid by the other
    regions (total − the largest region's sum)."""
    pay = payment_view(tables, ctx)
    by_region = pay.groupby(["pid", "month", "region"], sort=False, as_index=False).agg(
        amount=("amount", "sum"), person_id=("person_id", "first"),
        program=("program", "first"))
    counts = by_region.groupby(["pid", "month"])["region"].transform("size").to_numpy()
    multi = by_region[counts > 1].sort_values(["pid", "month", "amount"],
                                              ascending=[True, True, False])
    if not len(multi):
        return F.empty_findings()
    multi = multi.assign(label=multi["region"].astype("str") + " 发放 "
                         + F.yuan(multi["amount"]).to_numpy() + " 元")
    g = multi.groupby(["pid", "month"], sort=True, as_index=False).agg(
        total=("amount", "sum"), top=("amount", "max"), region=("region", "first"),
        person_id=("person_id", "first"), program=("program", "first"),
        label=("label", "；".join), n=("region", "size"))
    detail = (F.months_text(g["month"]) + " 同时由 " + F.ints_text(g["n"]) + " 个地区发放（"
              + F.text(g["label"]) + "），应核实户籍与居住地，保留一地、追回重复部分")
    return F.build("duplicate_region", "high", person_id=g["person_id"],
                   name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                   region_code=g["region"], program=g["program"], period=g["month"],
                   amount=g["total"] - g["top"], detail=detail)


def check_duplicate_program(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """低保、特困重复享受: paid both dibao and tekun for the same month (POLICY.md §3.5).
    Amount = the dibao paid that month (tekun takes precedence)."""
    pay = payment_view(tables, ctx)
    sub = pay[pay["prog"].isin([0, 1]).to_numpy()]
    g = sub.groupby(["pid", "month", "prog"], sort=False, as_index=False).agg(
        amount=("amount", "sum"), person_id=("person_id", "first"), region=("region", "first"))
    w = g.pivot_table(index=["pid", "month"], columns="prog", values="amount",
                      aggfunc="sum").dropna()
    if not len(w) or 0 not in w.columns or 1 not in w.columns:
        return F.empty_findings()
    w = w.reset_index()
    first = g.drop_duplicates(["pid", "month"]).set_index(["pid", "month"])
    key = pd.MultiIndex.from_frame(w[["pid", "month"]])
    detail = (F.months_text(w["month"]) + " 同时领取低保 " + F.yuan(w[0]) + " 元和特困供养 "
              + F.yuan(w[1]) + " 元，应取消低保、追回重复部分")
    return F.build("duplicate_program", "high",
                   person_id=first["person_id"].reindex(key).to_numpy(dtype=object),
                   name=names_by_code(tables, ctx)[w["pid"].to_numpy()],
                   region_code=first["region"].reindex(key).to_numpy(dtype=object),
                   program=np.full(len(w), "dibao", dtype=object), period=w["month"],
                   amount=w[0], detail=detail)


def check_duplicate_payment(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """重复发放: two or more payments for the same person, program, region and month.
    Amount = total − the largest single payment."""
    pay = payment_view(tables, ctx)
    g = pay.groupby(["pid", "prog", "month", "region"], sort=True, as_index=False).agg(
        n=("amount", "size"), total=("amount", "sum"), top=("amount", "max"),
        person_id=("person_id", "first"), program=("program", "first"))
    g = g[g["n"].to_numpy() > 1]
    if not len(g):
        return F.empty_findings()
    extra = g["total"] - g["top"]
    detail = (F.months_text(g["month"]) + " " + F.program_text(g["program"]) + "资金发放 "
              + F.ints_text(g["n"]) + " 笔，合计 " + F.yuan(g["total"]) + " 元，重复发放 "
              + F.yuan(extra) + " 元，应追回")
    return F.build("duplicate_payment", "high", person_id=g["person_id"],
                   name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                   region_code=g["region"], program=g["program"], period=g["month"],
                   amount=extra, detail=detail, extra_key=g["program"])


def check_amount_mismatch(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """不足额/超额: a payment differs from the approved monthly amount of the roster row active
    for that person, program and month by more than ``audit.amount_tolerance``. Each payment
    is compared on its own (a double payment is duplicate_payment, not a mismatch).
    Amount = |paid − approved| summed over the month's payments."""
    pay = payment_view(tables, ctx)
    row = payment_roster_row(tables, ctx)
    tol = float(ctx.param("audit.amount_tolerance"))
    approved = np.where(row >= 0, tables.roster["monthly_amount"].to_numpy(
        dtype="float64")[np.maximum(row, 0)], np.nan)
    diff = pay["amount"].to_numpy() - approved
    mask = (row >= 0) & (np.abs(np.nan_to_num(diff)) > tol)
    if not mask.any():
        return F.empty_findings()
    g = _per_person_month(pay, mask, diff)
    paid = _per_person_month(pay, mask)["value"].to_numpy()
    appr = _per_person_month(pay, mask, approved)["value"].to_numpy()
    d = g["value"].to_numpy()
    kind = np.where(d < 0, "少发 ", "多发 ")
    label = np.where(d < 0, "（不足额），应补发", "（超额），应追回")
    detail = (F.months_text(g["month"]) + " 实发 " + F.yuan(paid) + " 元，核定 " + F.yuan(appr)
              + " 元，" + pd.Series(kind, dtype="str") + F.yuan(np.abs(d)) + " 元"
              + pd.Series(label, dtype="str"))
    return F.build("amount_mismatch", "medium", person_id=g["person_id"],
                   name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                   region_code=g["region"], program=g["program"], period=g["month"],
                   amount=np.abs(d), detail=detail)


def check_late_payment(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """不及时: paid after the month's last day + ``audit.payment_due_days_after_month``.
    Amount = the late payments' sum."""
    pay = payment_view(tables, ctx)
    due_days = int(ctx.param("audit.payment_due_days_after_month"))
    month = pay["month"].to_numpy()
    first_next = ((month + 1 - 1970 * 12).astype("datetime64[M]")).astype("datetime64[D]")
    due = first_next + np.timedelta64(due_days - 1, "D")
    paid = pay["paid_date"].to_numpy(dtype="datetime64[D]")
    late_days = (paid - due).astype(np.int64)
    mask = ~np.isnat(paid) & (late_days > 0)
    if not mask.any():
        return F.empty_findings()
    g = _per_person_month(pay, mask)
    lateness = _per_person_month(pay, mask, late_days.astype("float64"))
    last_paid = pay[mask].groupby(["pid", "month"], sort=True)["paid_date"].max().to_numpy(
        dtype="datetime64[D]")
    due_g = (((g["month"].to_numpy() + 1 - 1970 * 12).astype("datetime64[M]")).astype(
        "datetime64[D]") + np.timedelta64(due_days - 1, "D"))
    days = (last_paid - due_g).astype(np.int64)
    del lateness
    detail = (F.months_text(g["month"]) + " 资金于 " + F.dates_text(last_paid)
              + " 发放，超过规定期限（" + F.dates_text(due_g) + "）" + F.ints_text(days)
              + " 天，涉及 " + F.yuan(g["value"]) + " 元，应查明原因、按月及时发放")
    return F.build("late_payment", "low", person_id=g["person_id"],
                   name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                   region_code=g["region"], program=g["program"], period=g["month"],
                   amount=g["value"], detail=detail)


def check_missing_payment(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """应发未发: a roster row with a positive approved amount is active in a month (overlap
    rule) and the person got no payment of that program that month. Months after the
    month of death are not owed. Amount = the approved monthly amount."""
    rm = roster_months(tables, ctx)
    if not len(rm):
        return F.empty_findings()
    pay = payment_view(tables, ctx)
    from jiuzhu_sim.audit.checks.base import pm_key

    rkey = pm_key(rm["pid"], rm["prog"], rm["month"], ctx)
    pkey = np.unique(pm_key(pay["pid"], pay["prog"], pay["month"], ctx))
    death = death_month_by_code(tables, ctx)
    owed = (rm["amount"].to_numpy() > 0) & (rm["month"].to_numpy()
                                            <= death[rm["pid"].to_numpy()])
    pos = np.searchsorted(pkey, rkey)
    paid = (pos < len(pkey)) & (pkey[np.minimum(pos, len(pkey) - 1)] == rkey) if len(pkey) \
        else np.zeros(len(rkey), bool)
    m = owed & ~paid
    sub = rm[m].drop_duplicates(["pid", "prog", "month"]).sort_values(["pid", "month"])
    if not len(sub):
        return F.empty_findings()
    r = tables.roster
    rows = sub["row"].to_numpy()
    program = r["program"].to_numpy(dtype=object)[rows]
    detail = (F.months_text(sub["month"]) + " 在册（" + F.program_text(program) + "，核定 "
              + F.yuan(sub["amount"]) + " 元/月，纳入日期 "
              + F.dates_text(r["start_date"].to_numpy(dtype="datetime64[D]")[rows])
              + "）但当月未发放，应核实并补发")
    return F.build("missing_payment", "medium", person_id=r["person_id"].to_numpy(
        dtype=object)[rows], name=r["name"].to_numpy(dtype=object)[rows],
        region_code=r["region_code"].to_numpy(dtype=object)[rows], program=program,
        period=sub["month"], amount=sub["amount"], detail=detail, extra_key=program)


def check_paid_not_on_roster(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """无审批发放: a payment with no roster row active for its person, program and month.
    Payments after the month of death are left to deceased_paid. Amount = paid."""
    pay = payment_view(tables, ctx)
    row = payment_roster_row(tables, ctx)
    death = death_month_by_code(tables, ctx)
    mask = (row < 0) & (pay["month"].to_numpy() <= death[pay["pid"].to_numpy()])
    if not mask.any():
        return F.empty_findings()
    g = _per_person_month(pay, mask)
    r = tables.roster
    on_roster = pd.Index(pd.Series(r["person_id"], dtype="str")).unique()
    known = on_roster.get_indexer(pd.Series(g["person_id"], dtype="str")) >= 0
    why = np.where(known, "花名册中该月无有效审批记录（已退出或未纳入）",
                   "不在保障花名册中")
    detail = (F.months_text(g["month"]) + " 发放" + F.program_text(g["program"]) + "资金 "
              + F.yuan(g["value"]) + " 元，但" + pd.Series(why, dtype="str")
              + "，应核实审批手续，无审批的追回")
    return F.build("paid_not_on_roster", "high", person_id=g["person_id"],
                   name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                   region_code=g["region"], program=g["program"], period=g["month"],
                   amount=g["value"], detail=detail)


def check_account_mismatch(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """发放账户非本人: the account holder is neither the beneficiary nor a registered
    guardian (guardians file). A blank account holder is not assessed. Amount = paid."""
    pay = payment_view(tables, ctx)
    account = pay["account"]
    own = (account == pay["person_id"]).to_numpy() | (account == "").to_numpy()
    g = tables.guardians
    pair = pay["person_id"] + "|" + account
    known = pd.Index(pd.unique(pd.Series(g["person_id"], dtype="str") + "|"
                               + pd.Series(g["guardian_id"], dtype="str")))
    registered = known.get_indexer(pair) >= 0
    mask = ~own & ~registered
    if not mask.any():
        return F.empty_findings()
    g2 = _per_person_month(pay, mask)
    holder = pay[mask].groupby(["pid", "month"], sort=True)["account"].first().to_numpy(
        dtype=object)
    detail = (F.months_text(g2["month"]) + " 资金 " + F.yuan(g2["value"]) + " 元发放至 "
              + pd.Series(holder, dtype="str")
              + " 的账户，该账户持有人既非本人也非登记监护人，应核实并更正发放账户")
    return F.build("account_mismatch", "medium", person_id=g2["person_id"],
                   name=names_by_code(tables, ctx)[g2["pid"].to_numpy()],
                   region_code=g2["region"], program=g2["program"], period=g2["month"],
                   amount=g2["value"], detail=detail)
