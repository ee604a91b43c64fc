"""Roster-state checks (POLICY.md §3.5, §6): double enrolment (重复纳入) and the deceased
still on the roster (死亡未退出, 003 对账销号). They look at approvals, not payments: a
person can be wrongly on the roster while payments happen to have stopped."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim import setops
from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    death_month_by_code,
    death_row_by_code,
    input_file,
    join_in_groups,
    names_by_code,
    payment_view,
    person_codes,
    pick,
    region_codes,
    roster_months,
)
from jiuzhu_sim.audit.checks.payments import (
    _person_month,
    _positions,
    payment_evidence,
    roster_evidence,
)
from jiuzhu_sim.audit.io import AuditTables


def check_double_enrolment(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """重复纳入 (002 二(六); POLICY.md §3.5, §6): in a window month the person is on the roster
    for both dibao and tekun (tekun takes precedence: only tekun is owed, so the month's dibao
    is not ``missing_payment``), or for the same program in two regions. One finding per
    person and month. Amount = the dibao paid that month (dibao + tekun), or what regions
    other than the one paying most paid that month for the doubled program (two regions);
    the same payments as ``duplicate_program`` / ``duplicate_region``, counted once in the
    totals. Evidence: the roster rows and those payments."""
    rm = roster_months(tables, ctx)
    if not len(rm):
        return F.empty_findings()
    pid, month, prog = rm["pid"].to_numpy(), rm["month"].to_numpy(), rm["prog"].to_numpy()
    rows = rm["row"].to_numpy()
    reg = region_codes(tables, ctx)[1][rows]
    key = _person_month(pid, month, ctx)
    frame = pd.DataFrame({"key": key, "prog": prog, "reg": reg, "row": rows}, copy=False)
    frame = frame[frame["prog"].to_numpy() <= 1]
    # only a person-month with two roster entries can be doubled: the rest (most of the
    # roster) is left out before the sort below
    if len(frame):
        key_f = frame["key"].to_numpy(dtype=np.int64)
        key_f = key_f - key_f.min()
        frame = frame[np.bincount(key_f)[key_f] > 1]
    # person-months with both programs; (person-month, program)s with two regions — the
    # distinct (key, program) and (key, program, region) combinations, counted
    kp = frame["key"].to_numpy(dtype=np.int64) * 2 + frame["prog"].to_numpy(dtype=np.int64)
    # one sort: the distinct (key, program, region) floor-divided stay sorted, so the
    # distinct (key, program) and then the distinct keys are counted by runs
    reg_f = frame["reg"].to_numpy(dtype=np.int64)
    reg_f = reg_f - (reg_f.min() if len(reg_f) else 0)
    span_reg = int(reg_f.max()) + 1 if len(reg_f) else 1
    kp_u, n_regions = setops.sorted_counts(setops.unique(kp * span_reg + reg_f) // span_reg)
    k_of_kp, n_programs = setops.sorted_counts(kp_u // 2)
    both = k_of_kp[n_programs > 1]
    two = kp_u[n_regions > 1]
    two_regions = pd.DataFrame({"key": two // 2, "prog": two % 2})
    if len(two_regions):  # two regions only when the approvals overlap by a day (a move
        two_regions = _overlapping(tables, frame, two_regions)  # mid-month is not double)
    keys = setops.union1d(both, two_regions["key"].to_numpy())
    if not len(keys):
        return F.empty_findings()
    span = ctx.end_month - ctx.start_month + 1
    f_pid, f_month = keys // span, keys % span + ctx.start_month
    is_both = setops.isin(keys, both)
    doubled_prog = pd.Series(two_regions["prog"].to_numpy(),
                             index=two_regions["key"].to_numpy()).groupby(level=0).first()
    # payments of those months: dibao at risk (both programs); other regions' (two regions)
    pay = payment_view(tables, ctx)
    pkey = _person_month(pay["pid"].to_numpy(), pay["month"].to_numpy(), ctx)
    at = _positions(keys, pkey)
    hit = np.flatnonzero(at >= 0)
    p_prog = pay["prog"].to_numpy()[hit]
    risk = np.zeros(len(hit))
    b = is_both[at[hit]]
    risk[b] = np.where(p_prog[b] == 0, pay["amount"].to_numpy()[hit][b], 0.0)
    if (~b).any():
        want = doubled_prog.reindex(keys[at[hit][~b]]).to_numpy()
        sub = pd.DataFrame({"f": at[hit][~b], "reg": pay["reg"].to_numpy()[hit][~b],
                            "amount": pay["amount"].to_numpy()[hit][~b],
                            "ok": p_prog[~b] == want})
        per_region = sub[sub["ok"]].groupby(["f", "reg"])["amount"].sum().reset_index()
        top = per_region.sort_values(["f", "amount", "reg"], ascending=[True, False, True]
                                     ).drop_duplicates("f").set_index("f")["reg"]
        top_reg = top.reindex(sub["f"].to_numpy()).to_numpy()
        risk[~b] = np.where(sub["ok"].to_numpy() & (sub["reg"].to_numpy() != top_reg),
                            sub["amount"].to_numpy(), 0.0)
    amount = np.bincount(at[hit], weights=risk, minlength=len(keys))
    paid = np.bincount(at[hit], weights=pay["amount"].to_numpy()[hit], minlength=len(keys))
    r = tables.roster
    in_keys = _positions(keys, frame["key"].to_numpy())
    used = frame[in_keys >= 0].assign(f=in_keys[in_keys >= 0])
    used = used[np.where(is_both[used["f"].to_numpy()], True,
                         used["prog"].to_numpy() == doubled_prog.reindex(
                             keys[used["f"].to_numpy()]).fillna(-1).to_numpy())]
    label = (pd.Series(pick(r["program"], used["row"].to_numpy()), dtype="str")
             .map({"dibao": "低保", "tekun": "特困供养"}) + "（"
             + pd.Series(pick(r["region_code"], used["row"].to_numpy()),
                         dtype="str") + "，核定 "
             + F.yuan(r["monthly_amount"].to_numpy(dtype="float64")[used["row"].to_numpy()])
             + " 元）")
    labels = pd.Series(join_in_groups(label.to_numpy(dtype=object), used["f"].to_numpy(),
                                      len(keys), "、"), dtype="str")
    first_row = used.groupby("f")["row"].first().reindex(np.arange(len(keys))).to_numpy()
    what = pd.Series(np.where(is_both, "同时在低保和特困供养花名册", "同一救助类别在两个地区花名册"),
                     dtype="str")
    todo = pd.Series(np.where(
        is_both, "特困优先，当月只应享受特困供养，应取消低保并追回当月低保 " + F.yuan(amount)
        + " 元", "应核实户籍与居住地，保留一地并追回重复部分 " + F.yuan(amount) + " 元"),
        dtype="str")
    detail = (F.months_text(f_month) + " " + what + "：" + labels.astype(str).reset_index(
        drop=True) + "；当月实发 " + F.yuan(paid) + " 元，" + todo)
    program = np.where(is_both, "dibao", np.where(
        doubled_prog.reindex(keys).fillna(0).to_numpy() == 1, "tekun", "dibao")).astype(object)
    found = F.build("double_enrolment", "high",
                    person_id=person_codes(tables, ctx)[f_pid].to_numpy(dtype=object),
                    name=names_by_code(tables, ctx)[f_pid],
                    region_code=pick(r["region_code"], first_row),
                    program=program, period=f_month, amount=amount, detail=detail)
    roster_used = used.drop_duplicates(["f", "row"])
    return F.attach(ctx, found,
                    roster_evidence(tables, roster_used["row"].to_numpy(),
                                    roster_used["f"].to_numpy()),
                    payment_evidence(tables, pay, hit, at[hit], "program", at_risk=risk))


def _overlapping(tables: AuditTables, frame: pd.DataFrame, two: pd.DataFrame) -> pd.DataFrame:
    """The (key, prog) pairs of ``two`` whose roster rows of different regions overlap in
    days ([start_date, end_date], a blank end = open)."""
    r = tables.roster
    sub = frame.merge(two[["key", "prog"]], on=["key", "prog"])
    start = r["start_date"].to_numpy(dtype="datetime64[D]")[sub["row"].to_numpy()]
    end = r["end_date"].to_numpy(dtype="datetime64[D]")[sub["row"].to_numpy()]
    sub = sub.assign(s=start.astype(np.int64),
                     e=np.where(np.isnat(end), np.iinfo(np.int64).max, end.astype(np.int64)))
    pairs = sub.merge(sub, on=["key", "prog"])
    pairs = pairs[(pairs["reg_x"] != pairs["reg_y"])
                  & (np.maximum(pairs["s_x"], pairs["s_y"])
                     <= np.minimum(pairs["e_x"], pairs["e_y"]))]
    return pairs[["key", "prog"]].drop_duplicates().reset_index(drop=True)


def check_deceased_not_exited(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """死亡未退出 (003 对账销号; POLICY.md §6): the person died (deaths file, death date on or
    before the audit end) and a roster row is still active in a window month after the month
    of death — a finding even when payments stopped. One finding per person. Amount = paid
    in the window for months after the month of death (the same payments as
    ``deceased_paid``, counted once in the totals). Evidence: the deaths row, the roster
    rows and those payments."""
    rm = roster_months(tables, ctx)
    if not len(rm) or not len(tables.deaths):
        return F.empty_findings()
    death = death_month_by_code(tables, ctx)
    pid = rm["pid"].to_numpy()
    death_row = death_row_by_code(tables, ctx)
    death_day = np.full(len(death_row), np.datetime64("NaT"), dtype="datetime64[D]")
    known = death_row >= 0
    death_day[known] = tables.deaths["death_date"].to_numpy(dtype="datetime64[D]")[
        death_row[known]]
    after = (rm["month"].to_numpy() > death[pid]) & (death_day[pid] <= ctx.audit_end)
    if not after.any():
        return F.empty_findings()
    sub = rm[after]
    g = sub.groupby("pid", sort=True).agg(first=("month", "min"), last=("month", "max"),
                                          row=("row", "first"))
    people = g.index.to_numpy()
    pay = payment_view(tables, ctx)
    finding_of = np.full(len(person_codes(tables, ctx)), -1, dtype=np.int64)
    finding_of[people] = np.arange(len(people))
    ppid = pay["pid"].to_numpy()
    paid_after = np.flatnonzero((finding_of[ppid] >= 0) & (pay["month"].to_numpy() > death[ppid]))
    amount = np.bincount(finding_of[ppid[paid_after]], weights=pay["amount"].to_numpy()[
        paid_after], minlength=len(people))
    r = tables.roster
    rows = g["row"].to_numpy()
    end = r["end_date"].to_numpy(dtype="datetime64[D]")[rows]
    status = pd.Series(np.where(np.isnat(end), "至今未办理退出", "退出日期 " + F.dates_text(end)
                                .to_numpy(dtype=object) + "，晚于死亡当月"), dtype="str")
    money = pd.Series(np.where(amount > 0, "死亡后仍发放 " + F.yuan(amount).to_numpy(dtype=object)
                               + " 元，应停发追回并", "死亡后未见发放，应"), dtype="str")
    detail = ("死亡日期 " + F.dates_text(death_day[people]) + "，花名册（"
              + F.program_text(pick(r["program"], rows)) + "）仍在保："
              + F.months_text(g["first"]) + "—" + F.months_text(g["last"]) + " 仍为有效记录，"
              + status + "；" + money + "及时办理注销、对账销号")
    found = F.build("deceased_not_exited", "medium",
                    person_id=person_codes(tables, ctx)[people].to_numpy(dtype=object),
                    name=names_by_code(tables, ctx)[people],
                    region_code=pick(r["region_code"], rows),
                    program=pick(r["program"], rows), amount=amount,
                    detail=detail)
    deaths = tables.deaths
    drow = death_row[people]
    death_evidence = F.evidence(
        np.arange(len(people)), input_file(tables, "deaths"),
        deaths["_row"].to_numpy(dtype=np.int64)[drow],
        F.key_fields(person_id=pick(deaths["person_id"], drow),
                     death_date=F.dates_text(death_day[people]).to_numpy(dtype=object)))
    roster_used = sub.drop_duplicates("row")
    return F.attach(ctx, found, death_evidence,
                    roster_evidence(tables, roster_used["row"].to_numpy(),
                                    finding_of[roster_used["pid"].to_numpy()]),
                    payment_evidence(tables, pay, paid_after, finding_of[ppid[paid_after]],
                                     "paid_date"))
