"""Monthly statistics in the shape of the 002 attachment (全县困难群众救助保障政策落实专项治理
进展情况统计表, POLICY.md §8): counts for the month only, never cumulative. Items the audit
inputs cannot give are left empty and listed in ``NOT_DERIVABLE``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim import setops
from jiuzhu_sim.audit.calendar import month_label, month_of_dates
from jiuzhu_sim.audit.checks.base import AuditContext
from jiuzhu_sim.audit.io import AuditTables

ITEMS = [
    "当月底新纳入城镇低保对象（人）", "当月底新纳入农村低保对象（人）",
    "安排特困老人入住养老机构（人）", "走访探视分散特困老人（人）",
    "将符合条件的脱贫人口纳入城乡低保（人）", "将符合条件的脱贫人口纳入特困供养（人）",
    "脱贫人口实施临时救助（人次）",
    "将符合条件的防止返贫监测对象纳入城乡低保（人）",
    "将符合条件的防止返贫监测对象纳入特困供养（人）", "防止返贫监测对象实施临时救助（人次）",
    "对低收入人口进行标记（人）", "其中乡村振兴防贫监测对象标记（人）",
    "其中大额医疗支出对象标记（人）", "其中困难毕业生对象标记（人）", "其中住房救助标记（人）",
    "其中残联重残对象标记（人）", "其中易地搬迁对象标记（人）",
    "对在享低保、特困救助对象进行经济状况核对（人）", "对救助对象开展实地入户核查（人）",
    "对动态监测风险预警对象开展精准入户排查（人）", "乡镇对新审核认定对象进行入户调查（人）",
    "受理网上自助申请（件）", "进行近亲属备案对象（人）",
    "整治人情保关系保优亲厚友吃拿卡要问题（个）", "配合纪检部门移交问题线索（件）",
    "批评教育帮助（人）", "通报典型违纪违法案例（件）", "开展警示教育（次）",
    "对核对数据预警进行标记（人）", "其中低保标记（人）", "其中特困标记（人）",
    "其中低保边缘户（人）", "其中支出型困难家庭（人）",
]

HOW = {
    ITEMS[0]: "roster: dibao, sub_type urban, start_date in the month (persons)",
    ITEMS[1]: "roster: dibao, sub_type rural, start_date in the month (persons)",
    ITEMS[2]: "roster: tekun, sub_type institutional, start_date in the month",
    ITEMS[3]: "roster: tekun dispersed, last_visit_date in the month",
    ITEMS[7]: "roster dibao start in the month ∩ monitoring (audit.anti_poverty_monitoring_"
              "categories: 防止返贫监测对象 only, not petitioners)",
    ITEMS[8]: "roster tekun start in the month ∩ monitoring (audit.anti_poverty_monitoring_"
              "categories)",
    ITEMS[11]: "monitoring (audit.anti_poverty_monitoring_categories): since_date in the month",
    ITEMS[15]: "disability: severe (screening.*), issued_date in the month",
    ITEMS[17]: "roster dibao/tekun last_check_date or households.check_date in the month",
    ITEMS[18]: "roster last_visit_date in the month (any program)",
    ITEMS[19]: "alerts: verified_date in the month (persons)",
    ITEMS[28]: "alerts: township received in the month (persons)",
    ITEMS[29]: "… of which on the roster as dibao",
    ITEMS[30]: "… of which on the roster as tekun",
    ITEMS[31]: "… of which on the roster as marginal",
}
NOT_DERIVABLE = [i for i in ITEMS if i not in HOW]


def _codes(ids) -> np.ndarray:
    """Integer codes of IDs (equal IDs, equal codes; missing ones share -1)."""
    codes, _ = pd.factorize(pd.Series(ids, dtype="str"))
    return codes.astype(np.int64, copy=False)


def _count(ids, months: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Distinct (ID, month) pairs per window month. ``ids``: IDs (text), or their integer
    codes (:func:`_codes`) when several counts share them; pairs are counted as one 64-bit
    key each (code × months in the window + month), no frame, no string hashing twice."""
    codes = ids if isinstance(ids, np.ndarray) and ids.dtype.kind == "i" else _codes(ids)
    months = np.asarray(months, dtype=np.int64)
    inside = (months >= window[0]) & (months <= window[-1])
    width = len(window)
    keys = (codes[inside] + 1) * width + (months[inside] - window[0])
    if not len(keys):
        return np.zeros(width, dtype=int)
    top = int(keys.max()) + 1
    if top <= max(16 * len(keys), 1 << 24):  # a bitmap of the keys: no sort
        seen = np.zeros(top, dtype=bool)
        seen[keys] = True
        keys = np.flatnonzero(seen)
    else:
        keys = setops.unique(keys)
    return np.bincount(keys % width, minlength=width).astype(int)


def monthly_stats(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """One row per window month, the 002 attachment's items as columns."""
    window = np.arange(ctx.start_month, ctx.end_month + 1)
    out = pd.DataFrame({"月份": month_label(window)})
    for item in ITEMS:
        out[item] = pd.Series([pd.NA] * len(window), dtype="Int64")
    r = tables.roster
    program = pd.Series(r["program"], dtype="str")
    sub = pd.Series(r["sub_type"], dtype="str")
    ids = pd.Series(r["person_id"], dtype="str")
    a = tables.alerts
    aid = pd.Series(a["person_id"], dtype="str")
    # the roster's people and the alerts' as integer codes once, in one factorize (first
    # appearance order, roster first: a code below the roster's count is a roster person),
    # shared by the counts and the alerts' lookup of their person's roster row
    codes = pd.factorize(pd.concat([ids, aid], ignore_index=True))[0].astype(np.int64,
                                                                           copy=False)
    rid, alert_people = codes[:len(ids)], codes[len(ids):]
    roster_people = int(rid.max()) + 1 if len(rid) else 0
    start_m = month_of_dates(r["start_date"].to_numpy(dtype="datetime64[D]"))
    visit_m = month_of_dates(r["last_visit_date"].to_numpy(dtype="datetime64[D]"))
    check_m = month_of_dates(r["last_check_date"].to_numpy(dtype="datetime64[D]"))

    def is_program(value: str) -> np.ndarray:
        return (program == value).to_numpy(dtype=bool)

    def is_sub(value: str) -> np.ndarray:
        return (sub == value).to_numpy(dtype=bool)

    has_sub = bool((sub != "").to_numpy(dtype=bool).any())
    if has_sub:
        for item, kind in ((ITEMS[0], "urban"), (ITEMS[1], "rural")):
            sel = is_program("dibao") & is_sub(kind)
            out[item] = _count(rid[sel], start_m[sel], window)
        sel = is_program("tekun") & is_sub("institutional")
        out[ITEMS[2]] = _count(rid[sel], start_m[sel], window)
        sel = is_program("tekun") & is_sub("dispersed")
        out[ITEMS[3]] = _count(rid[sel], visit_m[sel], window)
    mon = tables.monitoring
    # 防止返贫监测对象 only (audit.anti_poverty_monitoring_categories): a petitioner (信访)
    # newly on dibao is screened (§5) but is not a monitored person brought into dibao
    cats = [str(c) for c in ctx.param("audit.anti_poverty_monitoring_categories")]
    is_monitored = pd.Series(mon["category"], dtype="str").isin(cats).to_numpy()
    mon_ids = pd.Series(mon["person_id"], dtype="str")
    monitored = pd.Index(pd.unique(mon_ids[is_monitored]))
    on_monitoring = ids.isin(monitored).to_numpy(dtype=bool)
    for item, p in ((ITEMS[7], "dibao"), (ITEMS[8], "tekun")):
        sel = is_program(p) & on_monitoring
        out[item] = _count(rid[sel], start_m[sel], window)
    out[ITEMS[11]] = _count(mon_ids[is_monitored], month_of_dates(mon["since_date"].to_numpy(
        dtype="datetime64[D]"))[is_monitored], window)
    d = tables.disability
    grade = d["grade"].to_numpy(dtype="float64")
    im = pd.Series(d["type"], dtype="str").isin(["intellectual", "mental"]).to_numpy()
    severe = (grade <= float(ctx.param("screening.severe_disability_max_grade"))) | (
        im & (grade <= float(ctx.param(
            "screening.severe_disability_max_grade_intellectual_mental"))))
    out[ITEMS[15]] = _count(pd.Series(d["person_id"], dtype="str")[severe], month_of_dates(
        d["issued_date"].to_numpy(dtype="datetime64[D]"))[severe], window)
    # economic checks: roster last_check_date or the household's check dates
    h = tables.households
    sel = is_program("dibao") | is_program("tekun")
    ck_ids = [rid[sel]]
    ck_m = [check_m[sel]]
    if len(h):
        # each household check (household, month) × the household's dibao/tekun members
        homes, _ = pd.factorize(pd.concat([pd.Series(h["household_id"], dtype="str"),
                                           pd.Series(r["household_id"], dtype="str")[sel]],
                                          ignore_index=True))
        homes = homes.astype(np.int64, copy=False)
        checked, member_home = homes[:len(h)], homes[len(h):]
        span = int(rid.max()) + 2 if len(rid) else 1  # (home, person) as one int64, sorted
        pairs = setops.unique(member_home * span + (rid[sel] + 1))
        pair_home = pairs // span
        first = np.searchsorted(pair_home, checked, side="left")
        n = np.searchsorted(pair_home, checked, side="right") - first
        which = np.repeat(np.arange(len(h)), n)
        member = pairs[np.repeat(first, n) + (np.arange(n.sum()) - np.repeat(
            np.cumsum(n) - n, n))] % span - 1
        ck_ids.append(member)
        ck_m.append(month_of_dates(h["check_date"].to_numpy(dtype="datetime64[D]"))[which])
    out[ITEMS[17]] = _count(np.concatenate(ck_ids), np.concatenate(ck_m), window)
    out[ITEMS[18]] = _count(rid, visit_m, window)
    out[ITEMS[19]] = _count(alert_people, month_of_dates(
        a["verified_date"].to_numpy(dtype="datetime64[D]")), window)
    start = a["township_received_date"].to_numpy(dtype="datetime64[D]")
    start = np.where(np.isnat(start), a["received_date"].to_numpy(dtype="datetime64[D]"), start)
    am = month_of_dates(start)
    out[ITEMS[28]] = _count(alert_people, am, window)
    # each alert's person's program: that of the person's first roster row ("" if none)
    # codes count up in order of first appearance: a row is a person's first where its code
    # exceeds every code before it
    before = np.maximum.accumulate(np.concatenate([[-1], rid[:-1]])) if len(rid) else rid
    first_row = np.flatnonzero(rid > before)
    person = np.where(alert_people < roster_people, alert_people, -1)
    row = np.where(person >= 0, first_row[np.maximum(person, 0)], -1) if roster_people \
        else person
    for item, p in ((ITEMS[29], "dibao"), (ITEMS[30], "tekun"), (ITEMS[31], "marginal")):
        of_p = np.zeros(len(aid), dtype=bool)
        of_p[row >= 0] = is_program(p)[row[row >= 0]]
        out[item] = _count(alert_people[of_p], am[of_p], window)
    if not has_sub:
        for item in ITEMS[:4]:
            out[item] = pd.Series([pd.NA] * len(window), dtype="Int64")
    return out


def not_derivable(stats: pd.DataFrame) -> list[str]:
    return [c for c in ITEMS if stats[c].isna().all()]
