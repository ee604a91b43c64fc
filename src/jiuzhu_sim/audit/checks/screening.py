"""Exclusion-error screening (疑似漏保, POLICY.md §5): people on a screening list above its
threshold who are not covered by dibao or tekun in the window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    codes_of,
    input_file,
    person_codes,
    roster_info,
    roster_months,
)
from jiuzhu_sim.audit.io import MONITORING_VALUES, AuditTables

DISABILITY_NAMES = {"physical": "肢体", "visual": "视力", "hearing": "听力", "speech": "言语",
                    "intellectual": "智力", "mental": "精神", "multiple": "多重"}
GRADE_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}
CATEGORY_NAMES = {v: k for k, v in MONITORING_VALUES.items()} | {
    "return_to_poverty_monitoring": "防止返贫监测对象"}


def check_exclusion_candidate(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """疑似漏保. Lists and thresholds (all from ``screening.*``):

    - medical: self-paid medical in a year from ``audit.medical_lookback_years`` before the
      window's first year to the end year,
      above ``screening.medical_self_paid_threshold`` (40,000); for people on the roster as
      marginal (低保边缘, low-income but not covered) the dibao-member threshold
      ``screening.medical_self_paid_threshold_dibao`` (10,000) applies;
    - disability: issued inside the window (newly registered), grade ≤
      ``screening.severe_disability_max_grade`` of any type, or ≤
      ``screening.severe_disability_max_grade_intellectual_mental`` if intellectual/mental;
    - monitoring: a category in ``screening.monitoring_categories`` (since on or before the
      audit end).

    Covered = active on the roster as dibao or tekun in any window month; the deceased are
    skipped. One finding per person, every reason in the detail; amount 0 (not yet paid)."""
    rm = roster_months(tables, ctx)
    index = person_codes(tables, ctx)
    rm_pid, prog = rm["pid"].to_numpy(), rm["prog"].to_numpy()
    covered = np.zeros(len(index) + 1, dtype=bool)   # the last slot: IDs not in the index
    covered[rm_pid[prog <= 1]] = True
    marginal = np.zeros(len(index) + 1, dtype=bool)
    marginal[rm_pid[prog == 2]] = True
    dead = np.zeros(len(index) + 1, dtype=bool)
    deaths = tables.deaths
    dead[codes_of(index, deaths["person_id"])[
        deaths["death_date"].to_numpy(dtype="datetime64[D]") <= ctx.audit_end]] = True
    dead[-1] = False
    reasons: list[pd.DataFrame] = []
    used: list[pd.DataFrame] = []  # evidence candidates: person_id, file, row, key_fields

    m = tables.medical
    if len(m):
        lookback = int(ctx.param("audit.medical_lookback_years"))
        start_year, end_year = ctx.start_month // 12 - lookback, ctx.end_month // 12
        year = m["year"].to_numpy(dtype="float64")
        sel = (year >= start_year) & (year <= end_year)
        per = pd.DataFrame({"person_id": pd.Series(m["person_id"], dtype="str")[sel].to_numpy(),
                            "year": year[sel].astype(np.int64),
                            "amount": m["self_paid_amount"].to_numpy(dtype="float64")[sel]}
                           ).groupby(["person_id", "year"], as_index=False)["amount"].sum()
        low = marginal[codes_of(index, per["person_id"])]
        threshold = np.where(low, float(ctx.param("screening.medical_self_paid_threshold_dibao")),
                             float(ctx.param("screening.medical_self_paid_threshold")))
        hit = per[per["amount"].to_numpy() > threshold]
        thr = threshold[per["amount"].to_numpy() > threshold]
        hit = hit.sort_values("amount", ascending=False).drop_duplicates("person_id")
        thr_s = pd.Series(thr, index=per.index[per["amount"].to_numpy() > threshold]).reindex(
            hit.index).to_numpy()
        reasons.append(pd.DataFrame({
            "person_id": hit["person_id"].to_numpy(),
            "reason": (F.ints_text(hit["year"]) + " 年个人自付医疗费用 " + F.yuan(hit["amount"])
                       + " 元，超过筛查线 " + F.yuan(thr_s) + " 元").to_numpy(dtype=object)}))
        rows = np.flatnonzero(sel)
        person_year = pd.Series(m["person_id"], dtype="str").to_numpy(dtype=object)[rows] \
            + "|" + year[rows].astype(np.int64).astype(str).astype(object)
        rows = rows[pd.Index(hit["person_id"].to_numpy(dtype=object) + "|"
                             + hit["year"].astype(str).to_numpy(dtype=object)
                             ).get_indexer(person_year) >= 0]
        used.append(_evidence_rows(tables, "medical", rows, year=F.ints_text(year[rows]),
                                   self_paid_amount=F.plain_amount(
                                       m["self_paid_amount"].to_numpy(dtype="float64")[rows])))

    d = tables.disability
    if len(d):
        issued = d["issued_date"].to_numpy(dtype="datetime64[D]")
        grade = d["grade"].to_numpy(dtype="float64")
        kind = pd.Series(d["type"], dtype="str")
        im = kind.isin(["intellectual", "mental"]).to_numpy()
        severe = (grade <= float(ctx.param("screening.severe_disability_max_grade"))) | (
            im & (grade <= float(ctx.param(
                "screening.severe_disability_max_grade_intellectual_mental"))))
        new = (issued >= ctx.window_start) & (issued <= ctx.audit_end)
        sel = severe & new
        if sel.any():
            g = grade[sel].astype(np.int64)
            reasons.append(pd.DataFrame({
                "person_id": pd.Series(d["person_id"], dtype="str")[sel].to_numpy(),
                "reason": (F.dates_text(issued[sel]) + " 新办"
                           + kind[sel].map(lambda v: DISABILITY_NAMES.get(v, v)).astype(
                               "str").reset_index(drop=True)
                           + "残疾证（" + pd.Series(g).map(lambda v: GRADE_NAMES.get(v, str(v)))
                           .astype("str") + "级，重度）").to_numpy(dtype=object)}))
            rows = np.flatnonzero(sel)
            used.append(_evidence_rows(tables, "disability", rows, grade=F.ints_text(g),
                                       type=kind.to_numpy(dtype=object)[rows],
                                       issued_date=F.dates_text(issued[rows])))

    mon = tables.monitoring
    if len(mon):
        cats = [str(c) for c in ctx.param("screening.monitoring_categories")]
        since = mon["since_date"].to_numpy(dtype="datetime64[D]")
        cat = pd.Series(mon["category"], dtype="str")
        sel = cat.isin(cats).to_numpy() & (np.isnat(since) | (since <= ctx.audit_end))
        if sel.any():
            reasons.append(pd.DataFrame({
                "person_id": pd.Series(mon["person_id"], dtype="str")[sel].to_numpy(),
                "reason": ("监测对象（" + cat[sel].reset_index(drop=True).map(
                    lambda v: CATEGORY_NAMES.get(v, v)).astype("str") + "，纳入监测 "
                           + F.dates_text(since[sel]) + "）").to_numpy(dtype=object)}))
            rows = np.flatnonzero(sel)
            used.append(_evidence_rows(tables, "monitoring", rows,
                                       category=cat.to_numpy(dtype=object)[rows],
                                       since_date=F.dates_text(since[rows])))
    if not reasons:
        return F.empty_findings()
    allr = pd.concat(reasons, ignore_index=True)
    code = codes_of(index, allr["person_id"])
    allr = allr[~covered[code] & ~dead[code]]
    if not len(allr):
        return F.empty_findings()
    g = allr.groupby("person_id", sort=True)["reason"].agg("；".join).reset_index()
    code = codes_of(index, g["person_id"])
    info = roster_info(tables, ctx, code)
    region = np.where(info["on_roster"].to_numpy(), info["region_code"].to_numpy(dtype=object), ctx.region_code)
    detail = ("疑似漏保：" + g["reason"].astype("str")
              + "；未纳入低保或特困供养，应入户核查家庭经济状况，符合条件的及时纳入")
    found = F.build("exclusion_candidate", "medium", person_id=g["person_id"],
                    name=info["name"].to_numpy(dtype=object), region_code=region,
                    detail=detail)
    evidence = pd.concat(used, ignore_index=True)
    evidence["finding"] = pd.Index(g["person_id"].to_numpy(dtype=object)).get_indexer(
        evidence.pop("person_id").to_numpy(dtype=object))
    return F.attach(ctx, found, evidence[evidence["finding"].to_numpy() >= 0])


def _evidence_rows(tables: AuditTables, name: str, rows: np.ndarray, **fields) -> pd.DataFrame:
    """Evidence candidates of a screening list: its person, file, row and key fields."""
    table = tables[name]
    person = table["person_id"].to_numpy(dtype=object)[rows]
    return pd.DataFrame({"person_id": person, "file": input_file(tables, name),
                         "row": table["_row"].to_numpy(dtype=np.int64)[rows],
                         "key_fields": F.key_fields(person_id=person, **{
                             k: np.asarray(v, dtype=object) for k, v in fields.items()}
                         ).to_numpy(dtype=object)})
