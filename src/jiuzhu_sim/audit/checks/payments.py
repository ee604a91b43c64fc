"""One-card payment checks (一卡通资金回头看, POLICY.md §6): deceased paid, duplicates,
amounts, timeliness, missing payments, payments off the roster, account holders.

Each check: ``(tables, ctx) -> findings frame`` (CONTRACT §6 columns), one finding per person
and month (period) unless said otherwise; vectorised over integer-coded keys. Each records
its evidence (the payment, roster and deaths rows used) with ``F.attach``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim import setops
from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.calendar import month_label
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    death_month_by_code,
    death_row_by_code,
    first_roster_row_by_code,
    input_file,
    join_in_groups,
    names_by_code,
    payment_roster_row,
    payment_view,
    person_codes,
    pick,
    pm_key,
    region_codes,
    roster_months,
    roster_person_codes,
    unknown_payment_keys,
)
from jiuzhu_sim.audit.io import AuditTables


def _person_month(pid, month, ctx: AuditContext) -> np.ndarray:
    """One int64 per (person, window month), ordered like (pid, month)."""
    span = ctx.end_month - ctx.start_month + 1
    return np.asarray(pid, np.int64) * span + (np.asarray(month, np.int64) - ctx.start_month)


def _per_person_month(pay: pd.DataFrame, mask: np.ndarray, value: np.ndarray | None = None
                      ) -> pd.DataFrame:
    """Sum of ``value`` (default: amount) per (person, month) over the masked payments, with
    the first region/program/person_id; sorted by person code and month. Grouped on the
    integer columns; the text of each group's first payment is then picked (blank text is
    ''; a missing cell would make pandas' "first" skip it, so that case groups the text
    too)."""
    text = ("region", "program", "person_id")
    if any(pay[c].hasnans for c in text):
        sub = pay[["pid", "month", "amount", *text]][mask]
        v = sub["amount"].to_numpy() if value is None else np.asarray(value)[mask]
        g = pd.DataFrame({"pid": sub["pid"].to_numpy(), "month": sub["month"].to_numpy(),
                          "value": v, "n": 1, **{c: sub[c].to_numpy(dtype=object)
                                                 for c in text}})
        return g.groupby(["pid", "month"], sort=True, as_index=False).agg(
            value=("value", "sum"), n=("n", "sum"), region=("region", "first"),
            program=("program", "first"), person_id=("person_id", "first"))
    rows = np.flatnonzero(mask)
    v = pay["amount"].to_numpy()[rows] if value is None else np.asarray(value)[mask]
    g = pd.DataFrame({"pid": pay["pid"].to_numpy()[rows], "month": pay["month"].to_numpy()[rows],
                      "value": v, "n": 1, "pos": rows}, copy=False).groupby(
        ["pid", "month"], sort=True, as_index=False).agg(
        value=("value", "sum"), n=("n", "sum"), pos=("pos", "first"))
    first = g.pop("pos").to_numpy()
    for c in text:
        g[c] = pick(pay[c], first)
    return g


def _positions(group_keys: np.ndarray, row_keys: np.ndarray) -> np.ndarray:
    """Position of each row's key among the (unique) group keys."""
    return pd.Index(np.asarray(group_keys, np.int64)).get_indexer(
        np.asarray(row_keys, np.int64))


def payment_evidence(tables: AuditTables, pay: pd.DataFrame, rows: np.ndarray,
                     finding: np.ndarray, *extra: str, at_risk="amount") -> pd.DataFrame:
    """Evidence naming payments (positions ``rows`` of the payment view): payment_id,
    period and amount, plus the ``extra`` view columns (paid_date, account, region).
    ``at_risk``: the yuan of each payment the finding puts at risk — "amount" (the whole
    payment, default), an array aligned with ``rows``, or None (context only)."""
    if not len(rows):
        return F.evidence(np.zeros(0, np.int64), input_file(tables, "payments"),
                          np.zeros(0, np.int64), pd.Series([], dtype="str"))
    names = {"paid_date": "paid_date", "account": "account_holder_id",
             "region": "region_code", "program": "program"}
    sub = pay[["payment_id", "month", "amount", "source_row", *extra]].iloc[rows]
    if isinstance(at_risk, str):
        at_risk = sub["amount"].to_numpy(dtype="float64")
    # text columns stay Arrow text (key_fields joins them as they are)
    fields = {"payment_id": sub["payment_id"],
              "period": month_label(sub["month"].to_numpy()),
              "amount": F.plain_amount(sub["amount"])}
    for col in extra:
        fields[names[col]] = (F.dates_text(sub[col].to_numpy()) if col == "paid_date"
                              else sub[col])
    return F.evidence(finding, input_file(tables, "payments"),
                      sub["source_row"].to_numpy(), F.key_fields(**fields), at_risk)


def roster_evidence(tables: AuditTables, rows: np.ndarray, finding: np.ndarray
                    ) -> pd.DataFrame:
    """Evidence naming roster rows (positions ``rows``): person, program, approved amount
    and start date."""
    r = tables.roster
    rows = np.asarray(rows, dtype=np.int64)
    fields = F.key_fields(
        person_id=r["person_id"].iloc[rows], program=r["program"].iloc[rows],
        monthly_amount=F.plain_amount(r["monthly_amount"].to_numpy(dtype="float64")[rows]),
        start_date=F.dates_text(r["start_date"].to_numpy(dtype="datetime64[D]")[rows]))
    return F.evidence(finding, input_file(tables, "roster"),
                      r["_row"].to_numpy(dtype=np.int64)[rows], fields)


def _group_evidence(tables, ctx, pay, mask, g, *extra, at_risk="amount") -> pd.DataFrame:
    """Evidence of per-person-month findings ``g`` (from ``_per_person_month``): the masked
    payments, each pointed at its finding; ``at_risk`` as in ``payment_evidence``, or an
    array over the whole payment view."""
    rows = np.flatnonzero(mask)
    finding = _positions(_person_month(g["pid"], g["month"], ctx),
                         _person_month(pay["pid"].to_numpy()[rows],
                                       pay["month"].to_numpy()[rows], ctx))
    if not isinstance(at_risk, str) and at_risk is not None:
        at_risk = np.asarray(at_risk, dtype="float64")[rows]
    return payment_evidence(tables, pay, rows, finding, *extra, at_risk=at_risk)


def check_deceased_paid(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """死人保: paid for a month after the month of death. The month of death itself is
    legitimate (POLICY.md §6). Amount = paid for that month. Evidence: the deaths row and
    the payments after the death month."""
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
    death_row = death_row_by_code(tables, ctx)[pid]
    death_day = tables.deaths["death_date"].to_numpy(dtype="datetime64[D]")[death_row]
    detail = ("死亡日期 " + F.dates_text(death_day) + "，" + F.months_text(g["month"])
              + " 死亡后第 " + F.ints_text(after) + " 个月仍发放 " + F.yuan(g["value"])
              + " 元（死亡后共发放 " + F.ints_text(months) + " 个月，合计 " + F.yuan(total)
              + " 元），应停发并追回")
    found = F.build("deceased_paid", "high", person_id=g["person_id"],
                    name=names_by_code(tables, ctx)[pid], region_code=g["region"],
                    program=g["program"], period=g["month"], amount=g["value"], detail=detail)
    deaths = tables.deaths
    death_evidence = F.evidence(
        np.arange(len(g)), input_file(tables, "deaths"),
        deaths["_row"].to_numpy(dtype=np.int64)[death_row],
        F.key_fields(person_id=pick(deaths["person_id"], death_row),
                     death_date=F.dates_text(death_day).to_numpy(dtype=object)))
    return F.attach(ctx, found, death_evidence,
                    _group_evidence(tables, ctx, pay, mask, g, "paid_date"))


def check_duplicate_region(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """异地重复: paid by two or more regions for the same month. Amount = paid by the other
    regions (total − the largest region's sum). Evidence: every payment of that month."""
    pay = payment_view(tables, ctx)
    key = _person_month(pay["pid"], pay["month"], ctx)
    reg = pay["reg"].to_numpy()
    n_keys = len(person_codes(tables, ctx)) * (ctx.end_month - ctx.start_month + 1)
    low = np.full(n_keys, np.iinfo(np.int64).max)
    high = np.full(n_keys, -1)
    np.minimum.at(low, key, reg)
    np.maximum.at(high, key, reg)
    mask = (high > low)[key]  # two or more regions that person-month
    if not mask.any():
        return F.empty_findings()
    pay_m = pay[["pid", "month", "region", "amount", "person_id", "prog", "program"]][mask]
    by_region = pay_m.groupby(["pid", "month", "region"], sort=False, as_index=False).agg(
        amount=("amount", "sum"), person_id=("person_id", "first"),
        program=("program", "first"))
    multi = by_region.sort_values(["pid", "month", "amount"], ascending=[True, True, False])
    multi = multi.assign(label=multi["region"].astype("str") + " 发放 "
                         + F.yuan(multi["amount"]).to_numpy() + " 元")
    g = multi.groupby(["pid", "month"], sort=True, as_index=False).agg(
        total=("amount", "sum"), top=("amount", "max"), region=("region", "first"),
        person_id=("person_id", "first"), program=("program", "first"),
        n=("region", "size"))
    # the regions' labels joined per person-month, in ``multi``'s order: its rows are
    # sorted by (pid, month), so the groups are its runs, numbered as ``g``'s rows
    pm = multi["pid"].to_numpy(dtype=np.int64), multi["month"].to_numpy(dtype=np.int64)
    starts = np.r_[True, (pm[0][1:] != pm[0][:-1]) | (pm[1][1:] != pm[1][:-1])]
    g["label"] = join_in_groups(multi["label"].to_numpy(dtype=object),
                                np.cumsum(starts) - 1, len(g), "；")
    detail = (F.months_text(g["month"]) + " 同时由 " + F.ints_text(g["n"]) + " 个地区发放（"
              + F.text(g["label"]) + "），应核实户籍与居住地，保留一地、追回重复部分")
    found = F.build("duplicate_region", "high", person_id=g["person_id"],
                    name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                    region_code=g["region"], program=g["program"], period=g["month"],
                    amount=g["total"] - g["top"], detail=detail)
    # the money at risk sits on the payments of the regions other than the largest one
    # (only the payments of those person-months: every other one is no evidence)
    rows = np.flatnonzero(mask)
    top = pick(g["region"], _positions(
        _person_month(g["pid"], g["month"], ctx),
        _person_month(pay["pid"].to_numpy()[rows], pay["month"].to_numpy()[rows], ctx)))
    other = np.zeros(len(pay))
    other[rows] = np.where(pick(pay["region"], rows) != top, pay["amount"].to_numpy()[rows],
                           0.0)
    return F.attach(ctx, found, _group_evidence(tables, ctx, pay, mask, g, "region",
                                                at_risk=other))


def check_duplicate_program(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """低保、特困重复享受: paid both dibao and tekun for the same month (POLICY.md §3.5).
    Amount = the dibao paid that month (tekun takes precedence). Evidence: the dibao and
    tekun payments of that month."""
    pay = payment_view(tables, ctx)
    key = _person_month(pay["pid"], pay["month"], ctx)
    prog = pay["prog"].to_numpy()
    n_keys = len(person_codes(tables, ctx)) * (ctx.end_month - ctx.start_month + 1)
    has_dibao = np.bincount(key[prog == 0], minlength=n_keys) > 0
    has_tekun = np.bincount(key[prog == 1], minlength=n_keys) > 0
    mask = (has_dibao & has_tekun)[key] & (prog <= 1)
    if not mask.any():
        return F.empty_findings()
    sub = pay[["pid", "month", "prog", "amount", "person_id", "region"]][mask]
    g = sub.groupby(["pid", "month", "prog"], sort=False, as_index=False).agg(
        amount=("amount", "sum"), person_id=("person_id", "first"), region=("region", "first"))
    w = g.pivot_table(index=["pid", "month"], columns="prog", values="amount",
                      aggfunc="sum").dropna().reset_index()
    first = g.drop_duplicates(["pid", "month"]).set_index(["pid", "month"])
    key_w = pd.MultiIndex.from_frame(w[["pid", "month"]])
    detail = (F.months_text(w["month"]) + " 同时领取低保 " + F.yuan(w[0]) + " 元和特困供养 "
              + F.yuan(w[1]) + " 元，应取消低保、追回重复部分")
    found = F.build("duplicate_program", "high",
                    person_id=first["person_id"].reindex(key_w).to_numpy(dtype=object),
                    name=names_by_code(tables, ctx)[w["pid"].to_numpy()],
                    region_code=first["region"].reindex(key_w).to_numpy(dtype=object),
                    program=np.full(len(w), "dibao", dtype=object), period=w["month"],
                    amount=w[0], detail=detail)
    return F.attach(ctx, found, _group_evidence(
        tables, ctx, pay, mask, w, "program",
        at_risk=np.where(prog == 0, pay["amount"].to_numpy(), 0.0)))


def check_duplicate_payment(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """重复发放: two or more payments for the same person, program, region and month.
    Amount = total − the largest single payment. Evidence: the repeated payments (all but
    the one kept, the first of the largest), so their sum is the amount at risk."""
    pay = payment_view(tables, ctx)
    mask, rows, finding, kept = _repeated_payments(tables, ctx, pay)
    if not mask.any():
        return F.empty_findings()
    groups = pay[mask].groupby(["pid", "prog", "month", "region"], sort=True)
    g = groups.agg(n=("amount", "size"), total=("amount", "sum"), top=("amount", "max"),
                   person_id=("person_id", "first"), program=("program", "first")
                   ).reset_index()
    extra = g["total"] - g["top"]
    detail = (F.months_text(g["month"]) + " " + F.program_text(g["program"]) + "资金发放 "
              + F.ints_text(g["n"]) + " 笔，合计 " + F.yuan(g["total"]) + " 元，重复发放 "
              + F.yuan(extra) + " 元，应追回")
    found = F.build("duplicate_payment", "high", person_id=g["person_id"],
                    name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                    region_code=g["region"], program=g["program"], period=g["month"],
                    amount=extra, detail=detail, extra_key=g["program"])
    return F.attach(ctx, found, payment_evidence(tables, pay, rows[~kept], finding[~kept]))


def _repeated_payments(tables: AuditTables, ctx: AuditContext, pay: pd.DataFrame):
    """The payments of a (person, program, region, month) paid more than once: (mask over
    ``pay``, their row positions, group number of each, kept flag — the first of the
    largest payments of each group is kept, the others are the repeats)."""
    n_regions = len(region_codes(tables, ctx)[0]) + 1
    key = pm_key(pay["pid"], pay["prog"], pay["month"], ctx) * n_regions + pay["reg"].to_numpy()
    mask = pd.Series(key).duplicated(keep=False).to_numpy()
    rows = np.flatnonzero(mask)
    finding = pay[["pid", "prog", "month", "region"]][mask].groupby(
        ["pid", "prog", "month", "region"], sort=True).ngroup(
        ).to_numpy()
    order = np.lexsort((np.arange(len(rows)), -pay["amount"].to_numpy()[rows], finding))
    kept = np.zeros(len(rows), dtype=bool)
    kept[order] = np.r_[True, finding[order][1:] != finding[order][:-1]][:len(rows)]
    return mask, rows, finding, kept


def check_amount_mismatch(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """不足额/超额: a payment differs from the approved monthly amount of the roster row active
    for that person, program and month by more than ``audit.amount_tolerance``. Each payment
    is compared on its own; the repeats of a double payment are duplicate_payment's and are
    not compared (only the payment kept there is), so no yuan is counted by both checks.
    Amount = |paid − approved| summed over the month's payments. Evidence: the payments and
    the roster rows whose approved amount they were compared with."""
    pay = payment_view(tables, ctx)
    row = payment_roster_row(tables, ctx)
    tol = float(ctx.param("audit.amount_tolerance"))
    approved = np.where(row >= 0, tables.roster["monthly_amount"].to_numpy(
        dtype="float64")[np.maximum(row, 0)], np.nan)
    diff = pay["amount"].to_numpy() - approved
    _, dup_rows, _, kept = _repeated_payments(tables, ctx, pay)
    repeat = np.zeros(len(pay), dtype=bool)
    repeat[dup_rows[~kept]] = True
    mask = (row >= 0) & (np.abs(np.nan_to_num(diff)) > tol) & ~repeat
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
    found = F.build("amount_mismatch", "medium", person_id=g["person_id"],
                    name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                    region_code=g["region"], program=g["program"], period=g["month"],
                    amount=np.abs(d), detail=detail)
    # an overpayment's excess is money at risk on that payment; a shortfall is owed
    payments_used = _group_evidence(tables, ctx, pay, mask, g,
                                    at_risk=np.maximum(np.nan_to_num(diff), 0.0))
    roster_used = pd.DataFrame({"finding": payments_used["finding"].to_numpy(),
                                "row": row[mask]}).drop_duplicates()
    return F.attach(ctx, found, payments_used,
                    roster_evidence(tables, roster_used["row"].to_numpy(),
                                    roster_used["finding"].to_numpy()))


def payment_due_dates(months: np.ndarray, ctx: AuditContext) -> np.ndarray:
    """The last day a month's payment is on time: the month's end +
    ``audit.payment_due_days_after_month`` days, moved to the next working day when that
    day is a weekend or an official holiday (make-up days count as working days; POLICY.md
    §10). Dates the holiday calendar does not cover stay as they are."""
    from jiuzhu_sim.audit.calendar import roll_to_working_day

    due_days = int(ctx.param("audit.payment_due_days_after_month"))
    months = np.asarray(months, dtype=np.int64)
    uniques, at = np.unique(months, return_inverse=True)
    first_next = ((uniques + 1 - 1970 * 12).astype("datetime64[M]")).astype("datetime64[D]")
    due, _ = roll_to_working_day(first_next + np.timedelta64(due_days - 1, "D"))
    return due[at]


def check_late_payment(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """不及时: paid after the month's deadline (``payment_due_dates``: month end +
    ``audit.payment_due_days_after_month``, rolled to the next working day). Amount = the
    late payments' sum. Evidence: the late payments."""
    pay = payment_view(tables, ctx)
    month = pay["month"].to_numpy()
    due = payment_due_dates(month, ctx)
    paid = pay["paid_date"].to_numpy(dtype="datetime64[D]")
    late_days = (paid - due).astype(np.int64)
    mask = ~np.isnat(paid) & (late_days > 0)
    if not mask.any():
        return F.empty_findings()
    g = _per_person_month(pay, mask)
    last_paid = pay[["pid", "month", "paid_date"]][mask].groupby(["pid", "month"], sort=True)["paid_date"].max().to_numpy(
        dtype="datetime64[D]")
    due_g = payment_due_dates(g["month"].to_numpy(), ctx)
    days = (last_paid - due_g).astype(np.int64)
    detail = (F.months_text(g["month"]) + " 资金于 " + F.dates_text(last_paid)
              + " 发放，超过规定期限（" + F.dates_text(due_g) + "）" + F.ints_text(days)
              + " 天，涉及 " + F.yuan(g["value"]) + " 元，应查明原因、按月及时发放")
    found = F.build("late_payment", "low", person_id=g["person_id"],
                    name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                    region_code=g["region"], program=g["program"], period=g["month"],
                    amount=g["value"], detail=detail)
    return F.attach(ctx, found, _group_evidence(tables, ctx, pay, mask, g, "paid_date"))


def tekun_months(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """Per (person code × window month) key: on the tekun roster that month."""
    rm = roster_months(tables, ctx)
    span = ctx.end_month - ctx.start_month + 1
    out = np.zeros(len(person_codes(tables, ctx)) * span, dtype=bool)
    tk = rm["prog"].to_numpy() == 1
    out[_person_month(rm["pid"].to_numpy()[tk], rm["month"].to_numpy()[tk], ctx)] = True
    return out


def check_missing_payment(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """应发未发: a roster row with a positive approved amount is active in a month (overlap
    rule) and the person got no payment of that program that month. Not owed: months after
    the month of death; dibao in a month the person is also on the tekun roster (only tekun
    is owed, POLICY.md §3.5, §6 — that month is double_enrolment's). Unknown, not missing: a
    person-month whose payment rows were rejected on read (``tables.unknown_payment_keys``;
    counted in summary.json). Amount = the approved monthly amount. Evidence: the roster
    row."""
    rm = roster_months(tables, ctx)
    if not len(rm):
        return F.empty_findings()
    pay = payment_view(tables, ctx)
    rkey = pm_key(rm["pid"], rm["prog"], rm["month"], ctx)
    n_keys = len(person_codes(tables, ctx)) * 4 * (ctx.end_month - ctx.start_month + 1)
    paid_keys = np.zeros(n_keys, dtype=bool)
    paid_keys[pm_key(pay["pid"], pay["prog"], pay["month"], ctx)] = True
    unknown = np.zeros(n_keys, dtype=bool)
    unknown[unknown_payment_keys(tables, ctx)] = True
    death = death_month_by_code(tables, ctx)
    rpid, rmonth = rm["pid"].to_numpy(), rm["month"].to_numpy()
    also_tekun = (rm["prog"].to_numpy() == 0) & tekun_months(tables, ctx)[
        _person_month(rpid, rmonth, ctx)]
    owed = (rm["amount"].to_numpy() > 0) & (rmonth <= death[rpid]) & ~also_tekun
    ctx.note("missing_payment", person_months_unknown=int(
        len(setops.unique(rkey[owed & ~paid_keys[rkey] & unknown[rkey]]))),
        dibao_months_not_owed_tekun=int(len(setops.unique(rkey[also_tekun]))))
    m = owed & ~paid_keys[rkey] & ~unknown[rkey]
    sub = rm[m].drop_duplicates(["pid", "prog", "month"]).sort_values(["pid", "month"])
    if not len(sub):
        return F.empty_findings()
    r = tables.roster
    rows = sub["row"].to_numpy()
    program = pick(r["program"], rows)
    detail = (F.months_text(sub["month"]) + " 在册（" + F.program_text(program) + "，核定 "
              + F.yuan(sub["amount"]) + " 元/月，纳入日期 "
              + F.dates_text(r["start_date"].to_numpy(dtype="datetime64[D]")[rows])
              + "）但当月未发放，应核实并补发")
    found = F.build("missing_payment", "medium", person_id=r["person_id"].to_numpy(
        dtype=object)[rows], name=pick(r["name"], rows),
        region_code=pick(r["region_code"], rows), program=program,
        period=sub["month"], amount=sub["amount"], detail=detail, extra_key=program)
    return F.attach(ctx, found, roster_evidence(tables, rows, np.arange(len(rows))))


def check_paid_not_on_roster(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """无审批发放: a payment with no roster row active for its person, program and month.
    Payments after the month of death are left to deceased_paid. Amount = paid. Evidence:
    those payments."""
    pay = payment_view(tables, ctx)
    row = payment_roster_row(tables, ctx)
    death = death_month_by_code(tables, ctx)
    mask = (row < 0) & (pay["month"].to_numpy() <= death[pay["pid"].to_numpy()])
    if not mask.any():
        return F.empty_findings()
    g = _per_person_month(pay, mask)
    on_roster = np.zeros(len(person_codes(tables, ctx)), dtype=bool)
    on_roster[roster_person_codes(tables, ctx)] = True
    known = on_roster[g["pid"].to_numpy()]
    why = np.where(known, "花名册中该月无有效审批记录（已退出或未纳入）",
                   "不在保障花名册中")
    detail = (F.months_text(g["month"]) + " 发放" + F.program_text(g["program"]) + "资金 "
              + F.yuan(g["value"]) + " 元，但" + pd.Series(why, dtype="str")
              + "，应核实审批手续，无审批的追回")
    found = F.build("paid_not_on_roster", "high", person_id=g["person_id"],
                    name=names_by_code(tables, ctx)[g["pid"].to_numpy()],
                    region_code=g["region"], program=g["program"], period=g["month"],
                    amount=g["value"], detail=detail)
    return F.attach(ctx, found, _group_evidence(tables, ctx, pay, mask, g, "program"))


def _pairs_in(first, second, firsts: list, seconds: list) -> np.ndarray:
    """Whether each pair (``first[i]``, ``second[i]``) of texts is one of the pairs of the
    columns ``firsts[k]`` and ``seconds[k]`` (equal texts, a missing value equal to a missing
    value): each side's texts numbered in one hash pass, the pairs compared as integers."""
    n = len(first)

    def codes(values, columns):
        parts = [pd.Series(np.asarray(values, dtype=object) if not isinstance(
            values, pd.Series) else values, dtype="str").reset_index(drop=True)]
        parts += [pd.Series(c, dtype="str").reset_index(drop=True) for c in columns]
        return pd.factorize(pd.concat(parts, ignore_index=True), use_na_sentinel=False)[0]

    a, b = codes(first, firsts), codes(second, seconds)
    if not n or len(a) == n:
        return np.zeros(n, dtype=bool)
    key = a.astype(np.int64) * (int(b.max()) + 1) + b
    return setops.isin(key[:n], key[n:])


def check_account_mismatch(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """发放账户非本人: the account holder is neither the beneficiary, nor a registered
    guardian (guardians file), nor a member of the beneficiary's household — funds go to the
    person or the household (到人到户, 002 二(四); POLICY.md §6), so the household head's
    account is correct. The household is that of the roster row the payment belongs to
    (else the person's first roster row); the holder is a member when a roster row (or
    ``tables.household_members``, given by the partitioned runner) puts them in it. A blank
    account holder is not assessed. Amount = paid. Evidence: those payments with their
    account holder."""
    pay = payment_view(tables, ctx)
    account = pay["account"]
    own = (account == pay["person_id"]).to_numpy() | (account == "").to_numpy()
    other = np.flatnonzero(~own)
    g = tables.guardians
    holder = account.iloc[other]
    guardian = _pairs_in(pay["person_id"].iloc[other], holder,
                         [g["person_id"]], [g["guardian_id"]])
    r = tables.roster
    row = payment_roster_row(tables, ctx)[other]
    first = first_roster_row_by_code(tables, ctx)[pay["pid"].to_numpy()[other]]
    row = np.where(row >= 0, row, first)
    household = np.where(row >= 0, pick(r["household_id"],
        np.maximum(row, 0)), "")
    people, households = [r["person_id"]], [r["household_id"]]
    extra = getattr(tables, "household_members", None)
    if extra is not None and len(extra):
        people.append(extra["person_id"])
        households.append(extra["household_id"])
    holder_in_household = _pairs_in(holder, household, people, households) & (row >= 0)
    mask = np.zeros(len(pay), dtype=bool)
    mask[other[~guardian & ~holder_in_household]] = True
    if not mask.any():
        return F.empty_findings()
    g2 = _per_person_month(pay, mask)
    holder = pay[["pid", "month", "account"]][mask].groupby(["pid", "month"], sort=True)["account"].first().to_numpy(
        dtype=object)
    detail = (F.months_text(g2["month"]) + " 资金 " + F.yuan(g2["value"]) + " 元发放至 "
              + pd.Series(holder, dtype="str")
              + " 的账户，该账户持有人既非本人、非登记监护人，也非本户家庭成员，应核实并更正发放账户")
    found = F.build("account_mismatch", "medium", person_id=g2["person_id"],
                    name=names_by_code(tables, ctx)[g2["pid"].to_numpy()],
                    region_code=g2["region"], program=g2["program"], period=g2["month"],
                    amount=g2["value"], detail=detail)
    return F.attach(ctx, found, _group_evidence(tables, ctx, pay, mask, g2, "account"))
