"""Early-warning alert timeliness (预警核实超期, POLICY.md §7)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.calendar import (
    add_months,
    add_working_days,
    month_of_dates,
    workday_counter,
    working_days_between,
)
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    codes_of,
    input_file,
    person_codes,
    roster_info,
)
from jiuzhu_sim.audit.io import AuditTables

KIND_NAMES = {"new": "新增预警", "initial": "初始数据"}


def check_alert_overdue(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """预警核实超期: the township must verify an alert within
    ``monitoring.verify_working_days_new`` working days (kind new; official holiday calendar
    with make-up days) or ``monitoring.verify_months_initial`` months (kind initial) after it
    received it (``township_received_date``; else ``forwarded_date``; else
    ``received_date``). Late, or not verified by the audit end with the deadline passed, is a
    finding; a verification after the audit end counts as not verified. Alerts verified
    before the window's first day are out of scope. A new alert's date outside the holiday
    calendar is a UserInputError (initial data counts calendar months, no calendar needed). One finding per alert; amount 0. Evidence: the
    alerts row."""
    a = tables.alerts
    if not len(a):
        return F.empty_findings()
    start = a["township_received_date"].to_numpy(dtype="datetime64[D]")
    for fallback in ("forwarded_date", "received_date"):
        alt = a[fallback].to_numpy(dtype="datetime64[D]")
        start = np.where(np.isnat(start), alt, start)
    verified = a["verified_date"].to_numpy(dtype="datetime64[D]")
    # in scope: received by the audit end and not settled before the window began (an alert
    # verified before the start month belongs to an earlier look-back, late or not)
    keep = (~np.isnat(start) & (start <= ctx.audit_end)
            & (np.isnat(verified) | (verified >= ctx.window_start)))
    a, start, verified = a[keep], start[keep], verified[keep]
    if not len(a):
        return F.empty_findings()
    verified = np.where(verified > ctx.audit_end, np.datetime64("NaT"), verified)
    file = tables.files.get("alerts", "alerts")
    new = (pd.Series(a["kind"], dtype="str") == "new").to_numpy()
    # working days are counted for new alerts only; initial data counts calendar months
    table = workday_counter(np.concatenate([start[new], verified[new], [ctx.audit_end]]),
                            file=file, column="township_received_date")
    n_new = int(ctx.param("monitoring.verify_working_days_new"))
    n_months = int(ctx.param("monitoring.verify_months_initial"))
    deadline = np.where(new, add_working_days(start, n_new, table),
                        add_months(start, n_months))
    deadline = np.where(np.isnat(deadline), ctx.audit_end, deadline)  # past calendar end
    done = ~np.isnat(verified)
    late = np.where(done, verified > deadline, ctx.audit_end > deadline)
    if not late.any():
        return F.empty_findings()
    sub = a[late]
    s, d, v, nw = start[late], deadline[late], verified[late], new[late]
    until = np.where(np.isnat(v), ctx.audit_end, v)
    over_wd = working_days_between(d, until, table)
    over_days = (until - d).astype(np.int64)
    over = pd.Series(np.where(nw, F.ints_text(over_wd) + " 个工作日",
                              F.ints_text(over_days) + " 天"), dtype="str")
    rule = pd.Series(np.where(nw, f"{n_new} 个工作日", f"{n_months} 个月"), dtype="str")
    what = pd.Series(np.where(np.isnat(v), "截至 " + str(ctx.audit_end) + " 仍未核实",
                              "实际 " + F.dates_text(v) + " 核实"), dtype="str")
    kind = pd.Series(sub["kind"], dtype="str").map(KIND_NAMES).fillna("预警").reset_index(
        drop=True)
    source = pd.Series(sub["source"], dtype="str").reset_index(drop=True)
    detail = ("预警 " + pd.Series(sub["alert_id"], dtype="str").reset_index(drop=True) + "（"
              + kind + "，来源 " + source + "）乡镇于 " + F.dates_text(s) + " 接收，应于 "
              + F.dates_text(d) + " 前核实（" + rule + "），" + what + "，超期 " + over
              + "，应立即入户核实并说明超期原因")
    info = roster_info(tables, ctx, codes_of(person_codes(tables, ctx), sub["person_id"]))
    region = np.where(info["on_roster"].to_numpy(), info["region_code"].to_numpy(),
                      ctx.region_code)
    extra = pd.Series(sub["alert_id"], dtype="str").to_numpy(dtype=object)
    extra = np.where(extra == "", F.dates_text(s).to_numpy(dtype=object), extra)
    found = F.build("alert_overdue", "medium", person_id=sub["person_id"],
                    name=info["name"].to_numpy(dtype=object), region_code=region,
                    program=info["program"].to_numpy(dtype=object),
                    period=month_of_dates(s), detail=detail, extra_key=extra)
    fields = F.key_fields(
        alert_id=sub["alert_id"].to_numpy(dtype=object), kind=sub["kind"].to_numpy(dtype=object),
        township_received_date=F.dates_text(s).to_numpy(dtype=object),
        verified_date=F.dates_text(sub["verified_date"].to_numpy(dtype="datetime64[D]")
                                   ).to_numpy(dtype=object))
    return F.attach(ctx, found, F.evidence(np.arange(len(sub)), input_file(tables, "alerts"),
                                           sub["_row"].to_numpy(dtype=np.int64), fields))


def check_alert_forward_overdue(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """预警转发超期 (004 附件 三(2)(3), POLICY.md §7): the city forwards an alert to the county
    within ``monitoring.forward_working_days`` working days of receiving it (3), the county
    to the township within as many again (3): ``received_date`` → ``forwarded_date`` and
    ``forwarded_date`` → ``township_received_date`` each within the limit; without a
    ``forwarded_date``, ``received_date`` → ``township_received_date`` within twice the limit
    (3 + 3). Working days follow the official holiday calendar with its make-up days. An
    alert not yet at the township by the audit end is late once its deadline has passed; one
    verified with no township date is not judged (counted in summary.json). Alerts that
    reached the township before the window's first day are out of scope. One finding per
    alert; amount 0 (procedural). Evidence: the alerts row."""
    code = "alert_forward_overdue"
    a = tables.alerts
    if not len(a):
        ctx.note(code, alerts_input="absent or empty")
        return F.empty_findings()
    received = a["received_date"].to_numpy(dtype="datetime64[D]")
    forwarded = a["forwarded_date"].to_numpy(dtype="datetime64[D]")
    township = a["township_received_date"].to_numpy(dtype="datetime64[D]")
    verified = a["verified_date"].to_numpy(dtype="datetime64[D]")
    if np.isnat(township).all():
        ctx.note(code, not_judged="no township_received_date in the alerts input")
        return F.empty_findings()
    township = np.where(township > ctx.audit_end, np.datetime64("NaT"), township)
    forwarded = np.where(forwarded > ctx.audit_end, np.datetime64("NaT"), forwarded)
    unknown = np.isnat(township) & ~np.isnat(verified) & (verified <= ctx.audit_end)
    keep = (~np.isnat(received) & (received <= ctx.audit_end) & ~unknown
            & (np.isnat(township) | (township >= ctx.window_start)))
    ctx.note(code, alerts_judged=int(keep.sum()),
             alerts_not_judged_verified_without_township_date=int(unknown.sum()))
    if not keep.any():
        return F.empty_findings()
    a, received, forwarded, township = a[keep], received[keep], forwarded[keep], township[keep]
    file = tables.files.get("alerts", "alerts")
    table = workday_counter(np.concatenate([received, forwarded, township, [ctx.audit_end]]),
                            file=file, column="received_date")
    n = int(ctx.param("monitoring.forward_working_days"))
    has_fwd = ~np.isnat(forwarded)
    due_city = add_working_days(received, n, table)
    due_county = np.where(has_fwd, add_working_days(forwarded, n, table),
                          add_working_days(received, 2 * n, table))
    end = ctx.audit_end
    city_late = has_fwd & (forwarded > due_city)
    reached = ~np.isnat(township)
    county_late = np.where(reached, township > due_county, end > due_county)
    late = city_late | county_late
    if not late.any():
        return F.empty_findings()
    sub = a[late]
    r, f, t = received[late], forwarded[late], township[late]
    dc, dk, hf = due_city[late], due_county[late], has_fwd[late]
    cl, kl = city_late[late], county_late[late]
    city_text = pd.Series(np.where(
        cl, "市级 " + F.dates_text(r) + " 接收、" + F.dates_text(f) + " 才转发县级（应于 "
        + F.dates_text(dc) + " 前，" + str(n) + " 个工作日）；", ""), dtype="str")
    start_text = pd.Series(np.where(hf, "县级 " + F.dates_text(f).to_numpy(dtype=object)
                                    + " 接收", "市级 " + F.dates_text(r).to_numpy(dtype=object)
                                    + " 接收"), dtype="str")
    rule = pd.Series(np.where(hf, f"{n} 个工作日", f"{n}+{n} 个工作日"), dtype="str")
    county_text = pd.Series(np.where(
        kl, start_text + "，应于 " + F.dates_text(dk) + " 前转发乡镇（" + rule + "），"
        + pd.Series(np.where(np.isnat(t), "截至 " + str(end) + " 仍未转到乡镇",
                             "乡镇 " + F.dates_text(t).to_numpy(dtype=object) + " 才接收"),
                    dtype="str") + "；", ""), dtype="str")
    detail = ("预警 " + pd.Series(sub["alert_id"], dtype="str").reset_index(drop=True)
              + " 转发超期：" + city_text + county_text + "应督促按时分发并说明原因")
    info = roster_info(tables, ctx, codes_of(person_codes(tables, ctx), sub["person_id"]))
    region = np.where(info["on_roster"].to_numpy(), info["region_code"].to_numpy(),
                      ctx.region_code)
    extra = pd.Series(sub["alert_id"], dtype="str").to_numpy(dtype=object)
    extra = np.where(extra == "", F.dates_text(r).to_numpy(dtype=object), extra)
    found = F.build(code, "low", person_id=sub["person_id"],
                    name=info["name"].to_numpy(dtype=object), region_code=region,
                    program=info["program"].to_numpy(dtype=object),
                    period=month_of_dates(r), detail=detail, extra_key=extra)
    fields = F.key_fields(
        alert_id=sub["alert_id"].to_numpy(dtype=object),
        received_date=F.dates_text(r).to_numpy(dtype=object),
        forwarded_date=F.dates_text(f).to_numpy(dtype=object),
        township_received_date=F.dates_text(t).to_numpy(dtype=object))
    return F.attach(ctx, found, F.evidence(np.arange(len(sub)), input_file(tables, "alerts"),
                                           sub["_row"].to_numpy(dtype=np.int64), fields))
