"""Person-level checks: resident IDs (身份证号), staff near-relatives (近亲属备案,
POLICY.md §6)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    _factorized,
    codes_of,
    first_roster_row_by_code,
    input_file,
    paid_total_by_code,
    payment_view,
    person_codes,
    pick,
    roster_info,
    roster_months,
)
from jiuzhu_sim.audit.checks.payments import payment_evidence, roster_evidence
from jiuzhu_sim.audit.ids import id_problems
from jiuzhu_sim.audit.io import AuditTables

RELATION_NAMES = {"spouse": "配偶", "parent": "父母", "child": "子女", "sibling": "兄弟姐妹"}


def check_invalid_id(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """身份证号无效: fails the GB 11643 format, region prefix, birth date or check character.
    One finding per person (roster ∪ payments); the person's rows are still audited by the
    other checks. Amount = paid to that ID in the window. Evidence: the ID's roster rows and
    window payments."""
    index, roster_codes, payment_codes, _ = _factorized(tables, ctx)
    used = np.zeros(len(index), dtype=bool)
    used[roster_codes] = True
    used[payment_codes] = True
    used_codes = np.flatnonzero(used)
    reason = id_problems(index[used_codes], latest_birth=ctx.audit_end)
    bad = reason != ""
    if not bad.any():
        return F.empty_findings()
    codes = used_codes[bad]
    ids = pd.Series(index[codes], dtype="str")
    info = roster_info(tables, ctx, codes)
    first_payment = np.full(len(index), -1, dtype=np.int64)
    people_paid, first = np.unique(payment_codes, return_index=True)
    first_payment[people_paid] = first
    pay_rows = first_payment[codes]
    paid_any = pay_rows >= 0
    pay = tables.payments
    region, program = info["region_code"].to_numpy(), info["program"].to_numpy()
    from_pay = ~info["on_roster"].to_numpy() & paid_any
    region[from_pay] = pick(pay["region_code"], pay_rows[from_pay])
    program[from_pay] = pick(pay["program"], pay_rows[from_pay])
    amount = paid_total_by_code(tables, ctx)[codes]
    detail = ("身份证号 " + ids + " 无效：" + pd.Series(reason[bad], dtype="str")
              + "；窗口内向该号码发放 " + F.yuan(amount) + " 元，应核对户籍信息并更正")
    found = F.build("invalid_id", "medium", person_id=ids, name=info["name"],
                    region_code=region, program=program, amount=amount, detail=detail)
    finding_of_code = np.full(len(index), -1, dtype=np.int64)
    finding_of_code[codes] = np.arange(len(codes))
    roster_rows = np.flatnonzero(finding_of_code[roster_codes] >= 0)
    view = payment_view(tables, ctx)
    view_rows = np.flatnonzero(finding_of_code[view["pid"].to_numpy()] >= 0)
    return F.attach(ctx, found,
                    roster_evidence(tables, roster_rows,
                                    finding_of_code[roster_codes[roster_rows]]),
                    payment_evidence(tables, view, view_rows,
                                     finding_of_code[view["pid"].to_numpy()[view_rows]]))


def check_staff_relative_unfiled(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """近亲属未备案: a beneficiary (active on the roster in the window, or paid in it) is a
    staff member's relative with ``filed`` false (a blank counts as not filed). Filed
    relatives and relatives who get nothing are not findings. Amount = paid in the window.
    Evidence: the staff_relatives row and the relative's first roster row."""
    s = tables.staff_relatives
    if not len(s):
        return F.empty_findings()
    index = person_codes(tables, ctx)
    code = codes_of(index, s["relative_id"])
    rm = roster_months(tables, ctx)
    paid = paid_total_by_code(tables, ctx)
    active = np.zeros(len(index), dtype=bool)
    active[rm["pid"].to_numpy()] = True
    beneficiary = np.zeros(len(s), dtype=bool)
    ok = code >= 0
    beneficiary[ok] = active[code[ok]] | (paid[code[ok]] > 0)
    mask = beneficiary & ~s["filed"].to_numpy(dtype=bool)
    if not mask.any():
        return F.empty_findings()
    sub = s[mask]
    ids = pd.Series(sub["relative_id"], dtype="str")
    info = roster_info(tables, ctx, code[mask])
    amount = paid[code[mask]]
    relation = pd.Series(sub["relation"], dtype="str").map(lambda v: RELATION_NAMES.get(v, v))
    detail = ("系工作人员 " + pd.Series(sub["staff_name"], dtype="str").to_numpy(dtype=object)
              + "（" + pd.Series(sub["staff_id"], dtype="str").to_numpy(dtype=object) + "）的"
              + relation.to_numpy(dtype=object) + "，享受救助未进行近亲属备案；窗口内领取 "
              + F.yuan(amount).to_numpy(dtype=object) + " 元，应补办备案并复核审批是否合规")
    found = F.build("staff_relative_unfiled", "medium", person_id=ids, name=info["name"],
                    region_code=info["region_code"], program=info["program"], amount=amount,
                    detail=detail, extra_key=pd.Series(sub["staff_id"], dtype="str"))
    filing = F.evidence(
        np.arange(len(sub)), input_file(tables, "staff_relatives"),
        sub["_row"].to_numpy(dtype=np.int64),
        F.key_fields(staff_id=sub["staff_id"].to_numpy(dtype=object),
                     relative_id=ids.to_numpy(dtype=object),
                     relation=sub["relation"].to_numpy(dtype=object),
                     filed=np.where(sub["filed"].to_numpy(dtype=bool), "true", "false")))
    roster_row = first_roster_row_by_code(tables, ctx)[code[mask]]
    listed = np.flatnonzero(roster_row >= 0)
    return F.attach(ctx, found, filing, roster_evidence(tables, roster_row[listed], listed))
