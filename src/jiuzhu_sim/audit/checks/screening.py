"""Exclusion-error screening (疑似漏保, POLICY.md §5): people on a screening list above its
threshold who are not covered by dibao or tekun in the window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.checks.base import AuditContext, roster_months
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
    r = tables.roster
    rows = rm["row"].to_numpy()
    prog = rm["prog"].to_numpy()
    ids = pd.Series(r["person_id"], dtype="str").to_numpy(dtype=object)
    covered = pd.Index(pd.unique(pd.Series(ids[rows[prog <= 1]], dtype="str")))
    marginal = pd.Index(pd.unique(pd.Series(ids[rows[prog == 2]], dtype="str")))
    dead = pd.Index(pd.Series(tables.deaths["person_id"], dtype="str")[
        tables.deaths["death_date"].to_numpy(dtype="datetime64[D]") <= ctx.audit_end])
    reasons: list[pd.DataFrame] = []

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
        low = marginal.get_indexer(pd.Series(per["person_id"], dtype="str")) >= 0
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
    if not reasons:
        return F.empty_findings()
    allr = pd.concat(reasons, ignore_index=True)
    pid = pd.Series(allr["person_id"], dtype="str")
    dead = pd.Index(pd.unique(pd.Series(dead, dtype="str")))
    allr = allr[(covered.get_indexer(pid) < 0) & (dead.get_indexer(pid) < 0)]
    if not len(allr):
        return F.empty_findings()
    g = allr.groupby("person_id", sort=True)["reason"].agg("；".join).reset_index()
    info = pd.DataFrame({"person_id": ids.astype(str), "name": r["name"].to_numpy(dtype=object),
                         "region": r["region_code"].to_numpy(dtype=object)}
                        ).drop_duplicates("person_id").set_index("person_id").reindex(
        g["person_id"])
    region = info["region"].fillna(ctx.region_code).to_numpy(dtype=object)
    detail = ("疑似漏保：" + g["reason"].astype("str")
              + "；未纳入低保或特困供养，应入户核查家庭经济状况，符合条件的及时纳入")
    return F.build("exclusion_candidate", "medium", person_id=g["person_id"],
                   name=info["name"].fillna("").to_numpy(dtype=object), region_code=region,
                   detail=detail)
