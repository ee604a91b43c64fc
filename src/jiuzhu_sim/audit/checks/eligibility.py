"""Eligibility and approved amounts judged by the rule engine (POLICY.md §3, §4, §6;
CONTRACT §6): ``ineligible_recipient`` (错保, past the grace period) and
``amount_not_per_standard`` (核定金额不符合标准).

Both hand what the audit knows of each person — the roster (``program``, ``coverage_type``,
``care_level``, ``sub_type`` urban/rural/institutional, ``region_code``) and the household's
verified check (``households``: ``per_capita_income``, ``members``, ``rigid_expenditure``) —
to ``jiuzhu_sim.rules.enrolled.judge_enrolled``, the very rules ``jiuzhu simulate`` runs, with
the standards in force for the person's region on the date judged
(``rules.enrolled.regional_standards``). Nothing here compares an income with a standard or
computes an amount. Where an input a rule needs is absent (no household check, a single-person
household's own income, a tekun person's care level), the person is not judged and
summary.json says how many and why (``checks_run``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim import setops
from jiuzhu_sim.audit import findings as F
from jiuzhu_sim.audit.calendar import month_last_day, month_of_dates
from jiuzhu_sim.audit.checks.base import (
    AuditContext,
    household_codes,
    payment_view,
    person_codes,
    pick,
    pm_key,
    roster_months,
    roster_person_codes,
)
from jiuzhu_sim.audit.checks.payments import payment_evidence, roster_evidence, tekun_months
from jiuzhu_sim.audit.io import COVERAGE_TYPES, AuditTables

JUDGED_PROGRAMS = {"dibao": 0, "tekun": 1}
REASON_ZH = {
    "income_not_below_standard": "家庭人均收入不低于低保标准",
    "not_low_income": "家庭人均收入不低于低保边缘（低收入）标准，不符合单人保条件",
    "tekun_income_not_below_dibao_standard": "收入不低于低保标准，不符合特困人员“无生活来源”条件",
    "assessed_income_not_below_standard": "扣除刚性支出后人均收入仍不低于低保标准",
}
COVERAGE_ZH = {"household": "整户保", "single": "单人保", "expenditure": "支出型"}


def _standards(ctx: AuditContext, sub_type, region, days) -> dict[str, np.ndarray]:
    """The standards in force for each row's region (first six digits of ``region_code``),
    urban/rural kind (``sub_type``) and date (``days``, datetime64[D]): resolved once per
    distinct (region, kind, date), :func:`jiuzhu_sim.rules.enrolled.regional_standards`."""
    from jiuzhu_sim.rules.enrolled import regional_standards

    sub = pd.Series(np.asarray(sub_type, dtype=object), dtype="str")
    kind = np.where(sub.isin(["urban", "rural"]).to_numpy(), sub.to_numpy(dtype=object), "")
    region6 = pd.Series(np.asarray(region, dtype=object), dtype="str").str.slice(0, 6)
    day = np.asarray(days, dtype="datetime64[D]").astype(np.int64)
    key = pd.DataFrame({"region": region6.to_numpy(dtype=object), "kind": kind, "day": day})
    codes = key.groupby(["region", "kind", "day"], sort=False).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)
    uk = key.iloc[first].reset_index(drop=True)
    return {k: np.asarray(values)[codes] for k, values in regional_standards(
        ctx.params, uk["region"].to_numpy(dtype=object).astype(str),
        kind=uk["kind"].to_numpy(dtype=object).astype(str),
        days=uk["day"].to_numpy(dtype=np.int64)).items()}


def _judge_rows(ctx: AuditContext, by_code: dict, attr: np.ndarray, standards, income,
                members, rigid) -> pd.DataFrame:
    """``judge_enrolled`` on these rows — roster attribute code ``attr`` of each
    (:func:`_roster_attribute_codes`; ``by_code``: :func:`_roster_inputs_by_code`) — with
    their ``standards`` (:func:`_standards`). The texts go to the rules as Categoricals: a
    few distinct words each, made once per attribute code, not once per row."""
    from jiuzhu_sim.rules.enrolled import judge_enrolled

    rows_code, present = pd.factorize(attr)

    def words(name: str, blank: str | None = None) -> pd.Categorical:
        # the text each row passes to the rules (str() of the cell, '' → ``blank``), as a
        # Categorical of the few distinct texts
        text = np.asarray(by_code[name][present], dtype=object).astype(str)
        if blank is not None:
            text = np.where(text == "", blank, text)
        codes, uniques = pd.factorize(text)
        return pd.Categorical.from_codes(codes[rows_code], uniques)

    sub = np.asarray(by_code["sub_type"][present], dtype=object)[rows_code]
    n = len(attr)
    out = judge_enrolled(
        ctx.params, program=words("program"), coverage_type=words("coverage", "household"),
        care_level=words("care"), institutional=sub == "institutional",
        per_capita_income=np.asarray(income, dtype="float64"),
        members=np.asarray(members, dtype="float64"),
        rigid_expenditure=np.asarray(rigid, dtype="float64"),
        own_income=np.full(n, np.nan), standards=standards)
    out = out.reset_index(drop=True)
    out["dibao_standard"] = standards["dibao.standard"]
    out["marginal_threshold"] = standards["marginal.threshold"]
    return out


def _roster_attribute_codes(tables: AuditTables, ctx: AuditContext) -> np.ndarray:
    """One code per roster row for what the judgement reads of it (program, coverage_type,
    care_level, sub_type, region_code): rows with equal codes are judged alike."""
    from jiuzhu_sim.audit.checks.base import _cached

    def build():
        r = tables.roster
        cols = ("program", "coverage_type", "care_level", "sub_type", "region_code")
        if not len(r):
            return np.zeros(0, dtype=np.int64)
        # on the Arrow text columns themselves (same codes as on Python objects: first
        # appearance, a blank cell its own value), not on a Python object per cell
        parts = {c: pd.factorize(pd.Series(r[c], dtype="str"), use_na_sentinel=False)[0]
                 for c in cols}
        return pd.DataFrame(parts).groupby(list(cols), sort=False).ngroup().to_numpy(
            dtype=np.int64)
    return _cached(ctx, tables, "roster_attribute_codes", build)


def _judged_program(tables: AuditTables) -> np.ndarray:
    """Whether each roster row's program is one the rules judge here (dibao, tekun): one
    pass over the roster's text column."""
    return pd.Series(tables.roster["program"], dtype="str").isin(
        list(JUDGED_PROGRAMS)).to_numpy(dtype=bool)


def _roster_inputs_by_code(tables: AuditTables, ctx: AuditContext) -> dict:
    """:func:`_roster_inputs` indexed by attribute code (:func:`_roster_attribute_codes`):
    the roster's texts read once per code — rows with one code have equal texts — and
    repeated by code (a numpy take) instead of read row by row."""
    from jiuzhu_sim.audit.checks.base import _cached

    def build():
        codes = _roster_attribute_codes(tables, ctx)
        present, first = np.unique(codes, return_index=True)
        out = {}
        for k, v in _roster_inputs(tables, first).items():
            out[k] = np.empty(int(present.max()) + 1 if len(present) else 0, dtype=object)
            out[k][present] = v
        return out
    return _cached(ctx, tables, "roster_inputs_by_code", build)


def _group_codes(columns: dict) -> np.ndarray:
    """One code per row for the distinct combinations of ``columns`` (NaN is a value)."""
    frame = pd.DataFrame(columns)
    return frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()


def _distinct(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct combination of the integer ``columns``, each row's
    combination number): the columns packed into one int64 and hashed once when their
    ranges fit, else grouped by pandas. Numbering follows first appearance."""
    n = len(columns[0])
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    packed = np.zeros(n, dtype=np.int64)
    size = 1
    for col in columns:
        col = np.asarray(col, dtype=np.int64)
        low, high = int(col.min()), int(col.max())
        size *= high - low + 1
        if size >= 1 << 62:
            code = _group_codes({str(i): c for i, c in enumerate(columns)})
            _, first = np.unique(code, return_index=True)
            return first, code
        packed = packed * (high - low + 1) + (col - low)
    # numbered in order of first appearance (a hash pass, no sort); the first row of each
    # combination: the least row with its number
    inverse, uniques = pd.factorize(packed)
    first = np.full(len(uniques), n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n, dtype=np.int64))
    return first, inverse.astype(np.int64, copy=False)


def _judge(ctx: AuditContext, tables: AuditTables, rows: np.ndarray, hrow: np.ndarray,
           days, columns: list[str]) -> pd.DataFrame:
    """The rules' verdict (:func:`_judge_rows`) on roster rows ``rows`` with the household
    check ``hrow`` (−1: none) on dates ``days``, one output row per input row, of the
    verdict's ``columns`` (only those are repeated row by row).

    The rules read only the roster row's program, coverage, care level, kind and region, the
    household check, and the standards in force on the date; so each distinct combination
    (people of one household, months of one person under unchanged standards) is judged
    once and its verdict repeated: a row-month audit judges households, not months."""
    rows = np.asarray(rows, dtype=np.int64)
    hrow = np.asarray(hrow, dtype=np.int64)
    day = np.asarray(days, dtype="datetime64[D]")
    attr = _roster_attribute_codes(tables, ctx)[rows]
    by_code = _roster_inputs_by_code(tables, ctx)
    # 1. the standards, once per distinct (attributes, date) — the attributes hold region
    #    and kind — and one code per distinct set of standard values
    ad_first, ad_code = _distinct(attr, day.astype(np.int64))
    ri = {k: v[attr[ad_first]] for k, v in by_code.items()}
    std = _standards(ctx, ri["sub_type"], ri["region"], day[ad_first])
    values = {f"{k}{j}": v[:, j] if v.ndim == 2 else v for k, v in std.items()
              for j in range(v.shape[1] if v.ndim == 2 else 1)}
    std_code = _group_codes(values) if len(ad_first) else np.zeros(0, dtype=np.int64)
    # 2. the verdict, once per distinct (attributes, household check, standards)
    first, code = _distinct(attr, hrow, std_code[ad_code])
    hi = _household_inputs(tables, hrow[first])
    std_first = {k: v[ad_code[first]] for k, v in std.items()}
    judged = _judge_rows(ctx, by_code, attr[first], std_first, hi["income"], hi["members"],
                         hi["rigid"])
    return judged[columns].take(code).reset_index(drop=True)


def _latest_check_on_or_before(tables: AuditTables, ctx: AuditContext, hh: np.ndarray,
                               day: np.ndarray) -> np.ndarray:
    """The households row of each (household code, date): the latest check on or before the
    date (−1 when none)."""
    h = tables.households
    out = np.full(len(hh), -1, dtype=np.int64)
    if not len(h) or not len(hh):
        return out
    h_codes = household_codes(tables, ctx)[2]
    check = h["check_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    order = np.lexsort((check, h_codes))
    ck, cd = h_codes[order], check[order]
    span = np.int64(1) << 32
    keys = ck.astype(np.int64) * span + (cd - cd.min() if len(cd) else cd)
    base = cd.min() if len(cd) else 0
    q = np.asarray(hh, np.int64) * span + (np.asarray(day).astype("datetime64[D]").astype(
        np.int64) - base)
    pos = np.searchsorted(keys, q, side="right") - 1
    ok = (pos >= 0) & (ck[np.maximum(pos, 0)] == np.asarray(hh))
    out[ok] = order[pos[ok]]
    return out


def _roster_inputs(tables: AuditTables, rows: np.ndarray) -> dict:
    r = tables.roster
    return {"program": pick(r["program"], rows),
            "coverage": pick(r["coverage_type"], rows),
            "care": pick(r["care_level"], rows),
            "sub_type": pick(r["sub_type"], rows),
            "region": pick(r["region_code"], rows)}


def _household_inputs(tables: AuditTables, hrow: np.ndarray) -> dict:
    h = tables.households
    ok = hrow >= 0
    take = np.maximum(hrow, 0)

    def col(name):
        values = h[name].to_numpy(dtype="float64") if len(h) else np.zeros(0)
        return np.where(ok, values[take] if len(values) else np.nan, np.nan)

    return {"income": col("per_capita_income"), "members": col("members"),
            "rigid": col("rigid_expenditure")}


def _note_unjudged(ctx: AuditContext, code: str, judged: pd.DataFrame, known: str) -> None:
    missing = judged.loc[~judged[known].to_numpy(dtype=bool), "missing"].astype(str)
    missing = missing.replace({"": "unknown"})
    ctx.note(code, rows_judged=int(len(judged)),
             rows_not_judged=int((~judged[known].to_numpy(dtype=bool)).sum()),
             not_judged_missing={str(k): int(v) for k, v in missing.value_counts().items()})


def _unmapped_roster_values(tables: AuditTables, ctx: AuditContext, code: str) -> np.ndarray:
    """Roster rows whose coverage_type or care_level the audit does not know: not judged,
    counted in summary.json with the values seen."""
    from jiuzhu_sim.audit.io import CARE_LEVELS

    r = tables.roster
    cov = pd.Series(r["coverage_type"], dtype="str")
    care = pd.Series(r["care_level"], dtype="str")
    bad_cov = (cov != "").to_numpy() & ~cov.isin(COVERAGE_TYPES).to_numpy()
    bad_care = (care != "").to_numpy() & ~care.isin(CARE_LEVELS).to_numpy()
    if bad_cov.any():
        ctx.note(code, unmapped_coverage_types={str(k): int(v) for k, v in
                                                cov[bad_cov].value_counts().items()})
    if bad_care.any():
        ctx.note(code, unmapped_care_levels={str(k): int(v) for k, v in
                                             care[bad_care].value_counts().items()})
    return bad_cov | bad_care


def check_ineligible_recipient(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """错保 (应退未退, POLICY.md §3, §6): a dibao or tekun person on the roster at the audit end
    whose household's verified checks (households file) the rules find not eligible —
    dibao whole-household: per-capita income not below the dibao standard ("低于" is strict:
    equal is not eligible); single-person (单人保): the household not low-income (per-capita
    income not below the marginal threshold); expenditure-type (支出型): income after the
    rigid-expenditure deduction not below the standard, or not low-income; tekun: income not
    below the dibao standard (无生活来源) — each with the standards in force for the person's
    region on the check date — continuously since the first check of the latest run of such
    checks, for more than the grace period counted in calendar months to the audit end
    month: ``dibao.gradual_exit_months`` (渐退) for dibao, ``audit.tekun_exit_grace_months``
    for tekun. Marginal households get no cash and are not judged here. People without a
    check, or whose rule needs an input the audit lacks, are not judged (summary.json
    ``checks_run.ineligible_recipient``). Amount = the program's payments for months after
    the grace period inside the window. Evidence: the checks of that run and those
    payments."""
    code = "ineligible_recipient"
    h = tables.households
    rm = roster_months(tables, ctx)
    rows = setops.unique(rm["row"].to_numpy()[rm["month"].to_numpy() == ctx.end_month])
    r = tables.roster
    program = r["program"].to_numpy(dtype=object)
    rows = rows[_judged_program(tables)[rows]]
    ctx.note(code, households_input="present" if len(h) else "absent",
             people_on_roster_at_end=int(len(rows)))
    if not len(h) or not len(rows):
        return F.empty_findings()
    rows = rows[~_unmapped_roster_values(tables, ctx, code)[rows]]
    # one judgement per (person's first active row, household check up to the audit end)
    pid = roster_person_codes(tables, ctx)[rows]
    _, first = np.unique(pid * 2 + (program[rows] == "tekun"), return_index=True)
    rows = rows[np.sort(first)]
    _, roster_hh, h_codes = household_codes(tables, ctx)
    check = h["check_date"].to_numpy(dtype="datetime64[D]")
    hk = pd.DataFrame({"hh": h_codes, "hrow": np.arange(len(h))})[check <= ctx.audit_end]
    pairs = pd.DataFrame({"row": rows, "hh": roster_hh[rows]}).merge(hk, on="hh")
    has_check = np.zeros(len(r), dtype=bool)
    has_check[pairs["row"].to_numpy()] = True
    no_check = int((~has_check[rows]).sum())  # rows are distinct
    ctx.note(code, people_without_household_check=int(no_check))
    if not len(pairs):
        return F.empty_findings()
    prow, hrow = pairs["row"].to_numpy(), pairs["hrow"].to_numpy()
    judged = _judge(ctx, tables, prow, hrow, check[hrow],
                    ["known", "eligible", "missing", "assessed_per_capita_income", "reason",
                     "marginal_threshold", "dibao_standard"])
    _note_unjudged(ctx, code, judged, "known")
    pairs = pairs.assign(date=check[hrow], known=judged["known"].to_numpy(dtype=bool),
                         bad=~judged["eligible"].to_numpy(dtype=bool),
                         income=judged["assessed_per_capita_income"].to_numpy(dtype="float64"),
                         reason=judged["reason"].astype(str).to_numpy(dtype=object),
                         standard=np.where(judged["reason"].astype(str) == "not_low_income",
                                           judged["marginal_threshold"],
                                           judged["dibao_standard"]), k=np.arange(len(pairs)))
    pairs = pairs[pairs["known"].to_numpy()].sort_values(["row", "date", "hrow"])
    if not len(pairs):
        return F.empty_findings()
    last = pairs.groupby("row", sort=False).tail(1)
    last = last[last["bad"].to_numpy(dtype=bool)].set_index("row")
    if not len(last):
        return F.empty_findings()
    pairs = pairs[pairs["row"].isin(last.index).to_numpy()]
    good_before = pairs[~pairs["bad"].to_numpy(dtype=bool)].groupby("row")["date"].max()
    lb = good_before.reindex(pairs["row"].to_numpy()).to_numpy(dtype="datetime64[D]")
    run = pairs[pairs["bad"].to_numpy(dtype=bool)
                & (np.isnat(lb) | (pairs["date"].to_numpy(dtype="datetime64[D]") > lb))]
    first_bad = run.groupby("row", sort=True).first()
    first_month = month_of_dates(first_bad["date"].to_numpy(dtype="datetime64[D]"))
    is_tekun = program[first_bad.index.to_numpy()] == "tekun"
    grace = np.where(is_tekun, int(ctx.param("audit.tekun_exit_grace_months")),
                     int(ctx.param("dibao.gradual_exit_months")))
    months = ctx.end_month - first_month
    over = months > grace
    if not over.any():
        return F.empty_findings()
    found_rows = first_bad.index.to_numpy()[over]
    cutoff_month = (first_month + grace)[over]
    info, lat = first_bad[over], last.reindex(found_rows)
    # payments of the program after the grace period, inside the window
    pay = payment_view(tables, ctx)
    person = roster_person_codes(tables, ctx)[found_rows]
    prog = np.where(program[found_rows] == "tekun", 1, 0)
    n_people = len(person_codes(tables, ctx))
    cutoff = np.full(n_people * 2, np.iinfo(np.int64).max // 2)
    cutoff[person * 2 + prog] = cutoff_month
    finding_of = np.full(n_people * 2, -1, dtype=np.int64)
    finding_of[person * 2 + prog] = np.arange(len(found_rows))
    pkey = pay["pid"].to_numpy() * 2 + np.minimum(pay["prog"].to_numpy(), 1)
    late = np.flatnonzero((pay["prog"].to_numpy() <= 1)
                          & (pay["month"].to_numpy() > cutoff[pkey]))
    late_finding = finding_of[pkey[late]]
    amount = np.bincount(late_finding, weights=pay["amount"].to_numpy()[late],
                         minlength=len(found_rows))
    cov = pd.Series(pick(r["coverage_type"], found_rows), dtype="str").replace(
        {"": "household"}).map(COVERAGE_ZH).fillna("")
    kind = pd.Series(np.where(is_tekun[over], "特困供养", "低保（" + cov.to_numpy(dtype=object)
                              + "）"), dtype="str")
    reason = pd.Series(lat["reason"].to_numpy(dtype=object), dtype="str").map(
        lambda v: REASON_ZH.get(v, v))
    grace_text = pd.Series(np.where(is_tekun[over], "特困无渐退期",
                                    "超过渐退期 " + F.ints_text(grace[over]) + " 个月"),
                           dtype="str")
    detail = (kind + "：" + F.dates_text(info["date"]) + " 起核对不符合条件（最近一次 "
              + F.dates_text(lat["date"]) + " 核对人均收入 " + F.yuan(lat["income"])
              + " 元，对照标准 " + F.yuan(lat["standard"]) + " 元，" + reason + "），已连续 "
              + F.ints_text(months[over]) + " 个月，" + grace_text + "仍在保；此后领取 "
              + F.yuan(amount) + " 元，应按程序退出并核实追回")
    found = F.build(code, "high",
                    person_id=pick(r["person_id"], found_rows),
                    name=pick(r["name"], found_rows),
                    region_code=pick(r["region_code"], found_rows),
                    program=program[found_rows], amount=amount, detail=detail,
                    extra_key=program[found_rows])
    from jiuzhu_sim.audit.checks.review import household_evidence

    at = pd.Index(found_rows).get_indexer(run["row"].to_numpy())
    used = at >= 0
    return F.attach(ctx, found,
                    household_evidence(tables, run["hrow"].to_numpy()[used], at[used]),
                    payment_evidence(tables, pay, late, late_finding, "program"))


def check_amount_not_per_standard(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """核定金额不符合标准 (POLICY.md §4, §6): a dibao or tekun roster row's approved
    ``monthly_amount`` differs by more than ``audit.amount_tolerance`` from what the rules give
    the person in a window month (``judge_enrolled``'s ``expected_amount``, per person: dibao
    household/expenditure standard − assessed per-capita income at the household's latest
    check on or before the month end; tekun basic — institutional basic if ``sub_type`` is
    institutional — + the care standard of ``care_level``), with the standards in force at the
    month's end. Judged only where the rules find the person eligible (an ineligible person is
    ``ineligible_recipient``'s; a dibao household in its grace period keeps its amount), the
    amount is known (a single-person household's own income is not in audit data), not after
    the month of death, and not a dibao month the person is also on tekun
    (``double_enrolment``). One finding per roster row. Amount = over-approval × the months
    paid (the excess on those payments) + under-approval × the months active (owed).
    Evidence: the roster row, the household check and the payments carrying the excess."""
    code = "amount_not_per_standard"
    rm = roster_months(tables, ctx)
    r = tables.roster
    program = r["program"].to_numpy(dtype=object)
    if not len(rm):
        return F.empty_findings()
    row, month = rm["row"].to_numpy(), rm["month"].to_numpy()
    pid = rm["pid"].to_numpy()
    from jiuzhu_sim.audit.checks.base import death_month_by_code
    from jiuzhu_sim.audit.checks.payments import _person_month

    also_tekun = (rm["prog"].to_numpy() == 0) & tekun_months(tables, ctx)[
        _person_month(pid, month, ctx)]
    keep = (_judged_program(tables)[row] & (rm["amount"].to_numpy() > 0)
            & (month <= death_month_by_code(tables, ctx)[pid]) & ~also_tekun)
    keep &= ~_unmapped_roster_values(tables, ctx, code)[row]
    row, month, pid = row[keep], month[keep], pid[keep]
    if not len(row):
        return F.empty_findings()
    month_end = np.array([month_last_day(m) for m in range(ctx.start_month, ctx.end_month + 1)],
                         dtype="datetime64[D]")[month - ctx.start_month]
    roster_hh = household_codes(tables, ctx)[1]
    hrow = _latest_check_on_or_before(tables, ctx, roster_hh[row], month_end)
    judged = _judge(ctx, tables, row, hrow, month_end,
                    ["known", "eligible", "amount_known", "missing", "expected_amount",
                     "assessed_per_capita_income", "dibao_standard"])
    ok = (judged["known"].to_numpy(dtype=bool) & judged["eligible"].to_numpy(dtype=bool)
          & judged["amount_known"].to_numpy(dtype=bool))
    _note_unjudged(ctx, code, judged.assign(
        known=judged["known"].to_numpy(dtype=bool) & judged["amount_known"].to_numpy(
            dtype=bool)), "known")
    ctx.note(code, row_months_not_eligible=int((judged["known"].to_numpy(dtype=bool)
                                                & ~judged["eligible"].to_numpy(dtype=bool)
                                                ).sum()))
    approved = r["monthly_amount"].to_numpy(dtype="float64")[row]
    expected = judged["expected_amount"].to_numpy(dtype="float64")
    diff = approved - expected
    tol = float(ctx.param("audit.amount_tolerance"))
    bad = ok & (np.abs(np.nan_to_num(diff)) > tol)
    if not bad.any():
        return F.empty_findings()
    b = pd.DataFrame({"row": row[bad], "pid": pid[bad], "month": month[bad],
                      "diff": diff[bad], "expected": expected[bad], "approved": approved[bad],
                      "hrow": hrow[bad], "income": judged["assessed_per_capita_income"]
                      .to_numpy(dtype="float64")[bad],
                      "standard": judged["dibao_standard"].to_numpy(dtype="float64")[bad]})
    # money: excess on the payments of those months; shortfall owed for every month
    pay = payment_view(tables, ctx)
    prog = np.where(program[b["row"].to_numpy()] == "tekun", 1, 0)
    bkey = pm_key(b["pid"], prog, b["month"], ctx)
    pkey = pm_key(pay["pid"], pay["prog"], pay["month"], ctx)
    at = pd.Index(bkey).get_indexer(pkey)
    paid_rows = np.flatnonzero(at >= 0)
    # one payment per person-month carries the excess (the first); capped at its amount
    first_pay = pd.Series(paid_rows).groupby(at[paid_rows]).first()
    carry = first_pay.to_numpy()
    excess_on = np.minimum(np.maximum(b["diff"].to_numpy()[first_pay.index.to_numpy()], 0),
                           pay["amount"].to_numpy()[carry])
    excess = np.zeros(len(b))
    excess[first_pay.index.to_numpy()] = excess_on
    money = np.where(b["diff"].to_numpy() > 0, excess, -b["diff"].to_numpy())
    b = b.assign(money=money)
    g = b.sort_values(["row", "month"]).groupby("row", sort=True).agg(
        months=("month", "size"), money=("money", "sum"), diff=("diff", "last"),
        expected=("expected", "last"), approved=("approved", "last"), hrow=("hrow", "last"),
        income=("income", "last"), standard=("standard", "last"), first=("month", "first"),
        last=("month", "last"), pid=("pid", "first"))
    rows_f = g.index.to_numpy()
    is_tekun = program[rows_f] == "tekun"
    care = pd.Series(pick(r["care_level"], rows_f), dtype="str").map(
        {"self_care": "全自理", "semi_care": "半护理", "full_care": "全护理"}).fillna("")
    inst = pd.Series(np.where(pick(r["sub_type"], rows_f) == "institutional",
                              "集中供养", "分散供养"), dtype="str")
    basis = pd.Series(np.where(
        is_tekun, "特困" + inst + "基本生活标准＋" + care + "护理标准",
        "低保标准 " + F.yuan(g["standard"]) + " 元 − 核对人均收入 " + F.yuan(g["income"])
        + " 元"), dtype="str")
    d = g["diff"].to_numpy()
    what = pd.Series(np.where(d > 0, "核定偏高 ", "核定偏低 "), dtype="str") + F.yuan(np.abs(d))
    act = pd.Series(np.where(d > 0, "元/月，应重新核定并追回多发部分",
                             "元/月，应重新核定并补发"), dtype="str")
    detail = ("核定月保障金 " + F.yuan(g["approved"]) + " 元，按政策应为 " + F.yuan(g["expected"])
              + " 元/人（" + basis + "），" + what + act + "；涉及 "
              + F.months_text(g["first"]) + "—" + F.months_text(g["last"]) + " 共 "
              + F.ints_text(g["months"]) + " 个月，金额 " + F.yuan(g["money"]) + " 元")
    found = F.build(code, "medium", person_id=pick(r["person_id"], rows_f),
                    name=pick(r["name"], rows_f),
                    region_code=pick(r["region_code"], rows_f),
                    program=program[rows_f], amount=g["money"], detail=detail,
                    extra_key=program[rows_f])
    parts = [roster_evidence(tables, rows_f, np.arange(len(rows_f)))]
    hr = g["hrow"].to_numpy()
    if (hr >= 0).any():
        from jiuzhu_sim.audit.checks.review import household_evidence

        parts.append(household_evidence(tables, hr[hr >= 0], np.flatnonzero(hr >= 0)))
    carrying = excess_on > 0
    if carrying.any():
        fpos = pd.Index(rows_f).get_indexer(b["row"].to_numpy()[first_pay.index.to_numpy()])
        parts.append(payment_evidence(tables, pay, carry[carrying], fpos[carrying],
                                      at_risk=excess_on[carrying]))
    return F.attach(ctx, found, *parts)
