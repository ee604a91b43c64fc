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
    paid_total_by_code,
    person_codes,
    roster_months,
)
from jiuzhu_sim.audit.ids import id_problems
from jiuzhu_sim.audit.io import AuditTables

RELATION_NAMES = {"spouse": "配偶", "parent": "父母", "child": "子女", "sibling": "兄弟姐妹"}


def _roster_first(tables: AuditTables, ctx: AuditContext, ids: pd.Series) -> pd.DataFrame:
    r = tables.roster
    first = pd.DataFrame({"person_id": pd.Series(r["person_id"], dtype="str"),
                          "name": r["name"].to_numpy(dtype=object),
                          "region_code": r["region_code"].to_numpy(dtype=object),
                          "program": r["program"].to_numpy(dtype=object)}
                         ).drop_duplicates("person_id").set_index("person_id")
    return first.reindex(pd.Series(ids, dtype="str"))


def check_invalid_id(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """身份证号无效: fails the GB 11643 format, region prefix, birth date or check character.
    One finding per person (roster ∪ payments); the person's rows are still audited by the
    other checks. Amount = paid to that ID in the window."""
    index = person_codes(tables, ctx)
    _, roster_codes, payment_codes = _factorized(tables, ctx)
    used = np.zeros(len(index), dtype=bool)
    used[roster_codes] = True
    used[payment_codes] = True
    in_roster_or_paid = index[used]
    reason = id_problems(in_roster_or_paid.to_series(), latest_birth=ctx.audit_end)
    bad = reason != ""
    if not bad.any():
        return F.empty_findings()
    ids = pd.Series(in_roster_or_paid[bad], dtype="str")
    info = _roster_first(tables, ctx, ids)
    pay = tables.payments
    payer = pd.DataFrame({"person_id": pd.Series(pay["person_id"], dtype="str"),
                          "region": pay["region_code"].to_numpy(dtype=object),
                          "program": pay["program"].to_numpy(dtype=object)}
                         ).drop_duplicates("person_id").set_index("person_id").reindex(ids)
    region = info["region_code"].fillna(payer["region"]).fillna("").to_numpy(dtype=object)
    program = info["program"].fillna(payer["program"]).fillna("").to_numpy(dtype=object)
    amount = paid_total_by_code(tables, ctx)[codes_of(index, ids)]
    detail = ("身份证号 " + ids + " 无效：" + pd.Series(reason[bad], dtype="str")
              + "；窗口内向该号码发放 " + F.yuan(amount) + " 元，应核对户籍信息并更正")
    return F.build("invalid_id", "medium", person_id=ids, name=info["name"].fillna(""),
                   region_code=region, program=program, amount=amount, detail=detail)


def check_staff_relative_unfiled(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """近亲属未备案: a beneficiary (active on the roster in the window, or paid in it) is a
    staff member's relative with ``filed`` false (a blank counts as not filed). Filed
    relatives and relatives who get nothing are not findings. Amount = paid in the window."""
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
    info = _roster_first(tables, ctx, ids)
    amount = paid[code[mask]]
    relation = pd.Series(sub["relation"], dtype="str").map(lambda v: RELATION_NAMES.get(v, v))
    detail = ("系工作人员 " + pd.Series(sub["staff_name"], dtype="str").to_numpy(dtype=object)
              + "（" + pd.Series(sub["staff_id"], dtype="str").to_numpy(dtype=object) + "）的"
              + relation.to_numpy(dtype=object) + "，享受救助未进行近亲属备案；窗口内领取 "
              + F.yuan(amount).to_numpy(dtype=object) + " 元，应补办备案并复核审批是否合规")
    return F.build("staff_relative_unfiled", "medium", person_id=ids,
                   name=info["name"].fillna(""), region_code=info["region_code"].fillna(""),
                   program=info["program"].fillna(""), amount=amount, detail=detail,
                   extra_key=pd.Series(sub["staff_id"], dtype="str"))
