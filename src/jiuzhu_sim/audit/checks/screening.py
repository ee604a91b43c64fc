"""Screening lists (POLICY.md §5, 000 二(二), 001 一): people on a list who are not covered
by dibao or tekun are exclusion candidates (疑似漏保, ``exclusion_candidate``); covered people
on an under-assistance list with no assistance record are ``under_assisted`` (疑似漏救).

Bounds: "以上" includes its bound (POLICY.md §10), so 4万元以上 is ≥ 40,000 and 1万元以上 is
≥ 10,000."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    codes_of,
    input_file,
    person_codes,
    pick,
    roster_info,
    roster_months,
)
from jiuzhu_sim.audit.io import MONITORING_CODES, MONITORING_VALUES, AuditTables

DISABILITY_NAMES = {"physical": "肢体", "visual": "视力", "hearing": "听力", "speech": "言语",
                    "intellectual": "智力", "mental": "精神", "multiple": "多重"}
GRADE_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}
CATEGORY_NAMES = {v: k for k, v in reversed(MONITORING_VALUES.items())}
"""Category code → its first Chinese wording in MONITORING_VALUES."""
ASSISTANCE_NAMES = {"medical": "医疗救助", "temporary": "临时救助"}


def _status(tables: AuditTables, ctx: AuditContext):
    """(covered by dibao, covered by tekun, dead by the audit end) per person code, with one
    extra slot at the end for IDs not in the person index (always False)."""
    rm = roster_months(tables, ctx)
    index = person_codes(tables, ctx)
    rm_pid, prog = rm["pid"].to_numpy(), rm["prog"].to_numpy()
    dibao = np.zeros(len(index) + 1, dtype=bool)
    dibao[rm_pid[prog == 0]] = True
    tekun = np.zeros(len(index) + 1, dtype=bool)
    tekun[rm_pid[prog == 1]] = True
    dead = np.zeros(len(index) + 1, dtype=bool)
    deaths = tables.deaths
    dead[codes_of(index, deaths["person_id"])[
        deaths["death_date"].to_numpy(dtype="datetime64[D]") <= ctx.audit_end]] = True
    dead[-1] = False
    return dibao, tekun, dead


def _medical_years(tables: AuditTables, ctx: AuditContext) -> tuple[pd.DataFrame, np.ndarray]:
    """Self-paid medical per person and year (years from ``audit.medical_lookback_years``
    before the window's first year to the end year) and the medical rows in those years."""
    m = tables.medical
    lookback = int(ctx.param("audit.medical_lookback_years"))
    start_year, end_year = ctx.start_month // 12 - lookback, ctx.end_month // 12
    year = m["year"].to_numpy(dtype="float64")
    sel = (year >= start_year) & (year <= end_year)
    per = pd.DataFrame({"person_id": pd.Series(m["person_id"], dtype="str")[sel].to_numpy(),
                        "year": year[sel].astype(np.int64),
                        "amount": m["self_paid_amount"].to_numpy(dtype="float64")[sel]}
                       ).groupby(["person_id", "year"], as_index=False)["amount"].sum()
    return per, np.flatnonzero(sel)


def _medical_evidence(tables: AuditTables, rows: np.ndarray, hit: pd.DataFrame) -> pd.DataFrame:
    """Evidence candidates: the medical rows of the (person, year) pairs in ``hit``."""
    m = tables.medical
    year = m["year"].to_numpy(dtype="float64")
    person_year = pd.Series(m["person_id"], dtype="str").to_numpy(dtype=object)[rows] \
        + "|" + year[rows].astype(np.int64).astype(str).astype(object)
    rows = rows[pd.Index(hit["person_id"].to_numpy(dtype=object) + "|"
                         + hit["year"].astype(str).to_numpy(dtype=object)
                         ).get_indexer(person_year) >= 0]
    return _evidence_rows(tables, "medical", rows, year=F.ints_text(year[rows]),
                          self_paid_amount=F.plain_amount(
                              m["self_paid_amount"].to_numpy(dtype="float64")[rows]))


def new_disability_since(ctx: AuditContext) -> np.datetime64:
    """First day a disability certificate counts as newly registered:
    ``screening.new_disability_since`` (000/001: 2021年以来新增), blank = the window's first
    day."""
    value = str(ctx.param("screening.new_disability_since") or "").strip()
    if not value:
        return ctx.window_start
    try:
        return np.datetime64(dt.date.fromisoformat(value[:10]), "D")
    except ValueError:
        from jiuzhu_sim.exceptions import UserInputError
        raise UserInputError(f"screening.new_disability_since {value!r}: expected YYYY-MM-DD "
                             "or empty") from None


def unmapped_monitoring(tables: AuditTables) -> dict[str, int]:
    """Monitoring categories the audit does not know ({value as written: rows})."""
    cat = pd.Series(tables.monitoring["category"], dtype="str")
    odd = cat[~cat.isin(list(MONITORING_CODES)).to_numpy() & (cat != "").to_numpy()]
    return {str(k): int(v) for k, v in odd.value_counts().sort_index().items()}


def check_exclusion_candidate(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """疑似漏保 (POLICY.md §5). People not covered by dibao or tekun in any window month
    (marginal households are not covered), not dead by the audit end, on a list:

    - medical: self-paid medical in one year (``_medical_years``) of at least
      ``screening.medical_self_paid_threshold`` (000: 4万元以上, ≥ 40,000);
    - disability: a certificate issued from ``new_disability_since`` (000: 2021年以来新增) to
      the audit end, grade ≤ ``screening.severe_disability_max_grade`` of any type, or ≤
      ``screening.severe_disability_max_grade_intellectual_mental`` if intellectual/mental;
    - monitoring: a category in ``screening.monitoring_categories`` (the seeds' wordings are
      mapped on read; a value the audit does not know is counted in summary.json under
      ``checks_run.exclusion_candidate.unmapped_monitoring_categories``, never dropped in
      silence), since on or before the audit end.

    One finding per person, every reason in the detail; amount 0 (not yet paid)."""
    index = person_codes(tables, ctx)
    dibao, tekun, dead = _status(tables, ctx)
    covered = dibao | tekun
    reasons: list[pd.DataFrame] = []
    used: list[pd.DataFrame] = []  # evidence candidates: person_id, file, row, key_fields

    if len(tables.medical):
        per, rows = _medical_years(tables, ctx)
        threshold = float(ctx.param("screening.medical_self_paid_threshold"))
        hit = per[per["amount"].to_numpy() >= threshold]
        hit = hit.sort_values(["amount", "year"], ascending=[False, True]).drop_duplicates(
            "person_id")
        reasons.append(pd.DataFrame({
            "person_id": hit["person_id"].to_numpy(),
            "reason": (F.ints_text(hit["year"]) + " 年个人自付医疗费用 " + F.yuan(hit["amount"])
                       + " 元，达到筛查线 " + F.yuan(np.full(len(hit), threshold))
                       + " 元以上").to_numpy(dtype=object)}))
        used.append(_medical_evidence(tables, rows, hit))

    d = tables.disability
    since_day = new_disability_since(ctx)
    ctx.note("exclusion_candidate", new_disability_since=str(since_day))
    if len(d):
        issued = d["issued_date"].to_numpy(dtype="datetime64[D]")
        grade = d["grade"].to_numpy(dtype="float64")
        kind = pd.Series(d["type"], dtype="str")
        im = kind.isin(["intellectual", "mental"]).to_numpy()
        severe = (grade <= float(ctx.param("screening.severe_disability_max_grade"))) | (
            im & (grade <= float(ctx.param(
                "screening.severe_disability_max_grade_intellectual_mental"))))
        new = (issued >= since_day) & (issued <= ctx.audit_end)
        sel = severe & new
        odd = kind[~kind.isin(list(DISABILITY_NAMES)).to_numpy() & (kind != "").to_numpy()]
        if len(odd):
            ctx.note("exclusion_candidate", unmapped_disability_types={
                str(k): int(v) for k, v in odd.value_counts().items()})
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
    unmapped = unmapped_monitoring(tables)
    if unmapped:
        ctx.note("exclusion_candidate", unmapped_monitoring_categories=unmapped)
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
    region = np.where(info["on_roster"].to_numpy(), info["region_code"].to_numpy(dtype=object),
                      ctx.region_code)
    detail = ("疑似漏保：" + g["reason"].astype("str")
              + "；未纳入低保或特困供养，应入户核查家庭经济状况，符合条件的及时纳入")
    found = F.build("exclusion_candidate", "medium", person_id=g["person_id"],
                    name=info["name"].to_numpy(dtype=object), region_code=region,
                    detail=detail)
    evidence = pd.concat(used, ignore_index=True)
    evidence["finding"] = pd.Index(g["person_id"].to_numpy(dtype=object)).get_indexer(
        evidence.pop("person_id").to_numpy(dtype=object))
    return F.attach(ctx, found, evidence[evidence["finding"].to_numpy() >= 0])


def check_under_assisted(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """疑似漏救 (POLICY.md §5, 001 一): covered people on an under-assistance list —

    - tekun persons (on the tekun roster in a window month) with any self-paid medical
      spending in a screened year, when ``screening.tekun_any_medical`` (001: 2021年产生医疗
      费用特困人员);
    - dibao members with self-paid medical of at least
      ``screening.medical_self_paid_threshold_dibao`` in one year (001: 1万元以上, ≥ 10,000)

    — and no ``assistance`` record (medical or temporary, 医疗救助/临时救助) dated from the
    first day of that year to the audit end. The deceased are skipped. Without an
    ``assistance`` input nobody can be cleared: summary.json says so
    (``checks_run.under_assisted.assistance_input``). One finding per person; amount 0
    (assistance not yet given, nothing paid wrongly). Evidence: the medical rows."""
    present = "assistance" in tables.files or len(tables.assistance) > 0
    ctx.note("under_assisted", assistance_input="present" if present else "absent",
             tekun_any_medical=bool(ctx.param("screening.tekun_any_medical")))
    if not len(tables.medical):
        ctx.note("under_assisted", medical_input="absent or empty")
        return F.empty_findings()
    index = person_codes(tables, ctx)
    dibao, tekun, dead = _status(tables, ctx)
    per, rows = _medical_years(tables, ctx)
    code = codes_of(index, per["person_id"])
    amount = per["amount"].to_numpy()
    is_tekun = tekun[code] & bool(ctx.param("screening.tekun_any_medical")) & (amount > 0)
    threshold = float(ctx.param("screening.medical_self_paid_threshold_dibao"))
    is_dibao = dibao[code] & ~tekun[code] & (amount >= threshold)
    per = per.assign(tekun=is_tekun)[(is_tekun | is_dibao) & ~dead[code]]
    if not len(per):
        return F.empty_findings()
    # cleared by an assistance record from the first day of the medical year on
    a = tables.assistance
    if len(a):
        date = a["date"].to_numpy(dtype="datetime64[D]")
        helped = pd.DataFrame({"person_id": pd.Series(a["person_id"], dtype="str").to_numpy(),
                               "date": date})
        helped = helped[helped["date"].to_numpy(dtype="datetime64[D]") <= ctx.audit_end]
        first = helped.groupby("person_id")["date"].max()
        last_help = first.reindex(per["person_id"].to_numpy()).to_numpy(dtype="datetime64[D]")
        year_start = (per["year"].to_numpy(dtype=np.int64) - 1970).astype(
            "datetime64[Y]").astype("datetime64[D]")
        per = per[np.isnat(last_help) | (last_help < year_start)]
        if not len(per):
            return F.empty_findings()
    per = per.sort_values(["person_id", "amount", "year"], ascending=[True, False, True])
    hit = per.drop_duplicates("person_id")
    info = roster_info(tables, ctx, codes_of(index, hit["person_id"]))
    tk = hit["tekun"].to_numpy(dtype=bool)
    program = np.where(tk, "tekun", "dibao").astype(object)
    why = pd.Series(np.where(
        tk, "特困供养人员有医疗支出",
        "低保对象个人自付医疗费用达到 " + F.yuan(np.full(len(hit), threshold)).to_numpy(
            dtype=object) + " 元以上"), dtype="str")
    none = "未提供救助记录文件（assistance），无法排除" if not present else "当年起未见医疗救助或临时救助记录"
    detail = ("疑似漏救：" + F.ints_text(hit["year"]) + " 年个人自付医疗费用 "
              + F.yuan(hit["amount"]) + " 元（" + why + "），" + none
              + "，应核实并及时给予医疗救助或临时救助")
    found = F.build("under_assisted", "medium", person_id=hit["person_id"],
                    name=info["name"].to_numpy(dtype=object),
                    region_code=np.where(info["on_roster"].to_numpy(),
                                         info["region_code"].to_numpy(dtype=object),
                                         ctx.region_code),
                    program=program, detail=detail)
    evidence = _medical_evidence(tables, rows, hit)
    evidence["finding"] = pd.Index(hit["person_id"].to_numpy(dtype=object)).get_indexer(
        evidence.pop("person_id").to_numpy(dtype=object))
    return F.attach(ctx, found, evidence[evidence["finding"].to_numpy() >= 0])


def _evidence_rows(tables: AuditTables, name: str, rows: np.ndarray, **fields) -> pd.DataFrame:
    """Evidence candidates of a screening list: its person, file, row and key fields."""
    table = tables[name]
    person = pick(table["person_id"], rows)
    return pd.DataFrame({"person_id": person, "file": input_file(tables, name),
                         "row": table["_row"].to_numpy(dtype=np.int64)[rows],
                         "key_fields": F.key_fields(person_id=person, **{
                             k: np.asarray(v, dtype=object) for k, v in fields.items()}
                         ).to_numpy(dtype=object)})
