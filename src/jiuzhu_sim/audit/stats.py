"""Monthly statistics in the shape of the 002 attachment (全县困难群众救助保障政策落实专项治理
进展情况统计表, POLICY.md §8): counts for the month only, never cumulative. Items the audit
inputs cannot give are left empty and listed in ``NOT_DERIVABLE``."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def _count(ids: pd.Series, months: np.ndarray, window: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({"id": pd.Series(ids, dtype="str").to_numpy(), "m": months})
    frame = frame[np.isin(months, window)].drop_duplicates()
    return frame.groupby("m")["id"].size().reindex(window).fillna(0).astype(int).to_numpy()


def monthly_stats(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
    """One row per window month, the 002 attachment's items as columns."""
    window = np.arange(ctx.start_month, ctx.end_month + 1)
    out = pd.DataFrame({"月份": month_label(window)})
    for item in ITEMS:
        out[item] = pd.Series([pd.NA] * len(window), dtype="Int64")
    r = tables.roster
    prog = pd.Series(r["program"], dtype="str").to_numpy(dtype=object)
    sub = pd.Series(r["sub_type"], dtype="str").to_numpy(dtype=object)
    ids = pd.Series(r["person_id"], dtype="str")
    start_m = month_of_dates(r["start_date"].to_numpy(dtype="datetime64[D]"))
    visit_m = month_of_dates(r["last_visit_date"].to_numpy(dtype="datetime64[D]"))
    check_m = month_of_dates(r["last_check_date"].to_numpy(dtype="datetime64[D]"))
    has_sub = bool((sub != "").any())
    if has_sub:
        for item, kind in ((ITEMS[0], "urban"), (ITEMS[1], "rural")):
            sel = (prog == "dibao") & (sub == kind)
            out[item] = _count(ids[sel], start_m[sel], window)
        sel = (prog == "tekun") & (sub == "institutional")
        out[ITEMS[2]] = _count(ids[sel], start_m[sel], window)
        sel = (prog == "tekun") & (sub == "dispersed")
        out[ITEMS[3]] = _count(ids[sel], visit_m[sel], window)
    mon = tables.monitoring
    # 防止返贫监测对象 only (audit.anti_poverty_monitoring_categories): a petitioner (信访)
    # newly on dibao is screened (§5) but is not a monitored person brought into dibao
    cats = [str(c) for c in ctx.param("audit.anti_poverty_monitoring_categories")]
    is_monitored = pd.Series(mon["category"], dtype="str").isin(cats).to_numpy()
    monitored = pd.Index(pd.unique(pd.Series(mon["person_id"], dtype="str")[is_monitored]))
    for item, p in ((ITEMS[7], "dibao"), (ITEMS[8], "tekun")):
        sel = (prog == p) & (monitored.get_indexer(ids) >= 0)
        out[item] = _count(ids[sel], start_m[sel], window)
    out[ITEMS[11]] = _count(pd.Series(mon["person_id"], dtype="str")[is_monitored],
                            month_of_dates(mon["since_date"].to_numpy(
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
    sel = np.isin(prog, ["dibao", "tekun"])
    ck_ids = [ids[sel]]
    ck_m = [check_m[sel]]
    if len(h):
        hh = pd.DataFrame({"hh": pd.Series(h["household_id"], dtype="str").to_numpy(),
                           "m": month_of_dates(h["check_date"].to_numpy(dtype="datetime64[D]"))})
        members = pd.DataFrame({"hh": pd.Series(r["household_id"], dtype="str").to_numpy()[sel],
                                "id": ids[sel].to_numpy()}).drop_duplicates()
        j = hh.merge(members, on="hh")
        ck_ids.append(pd.Series(j["id"], dtype="str"))
        ck_m.append(j["m"].to_numpy())
    out[ITEMS[17]] = _count(pd.concat(ck_ids, ignore_index=True), np.concatenate(ck_m), window)
    out[ITEMS[18]] = _count(ids, visit_m, window)
    a = tables.alerts
    out[ITEMS[19]] = _count(a["person_id"], month_of_dates(
        a["verified_date"].to_numpy(dtype="datetime64[D]")), window)
    start = a["township_received_date"].to_numpy(dtype="datetime64[D]")
    start = np.where(np.isnat(start), a["received_date"].to_numpy(dtype="datetime64[D]"), start)
    am = month_of_dates(start)
    aid = pd.Series(a["person_id"], dtype="str")
    out[ITEMS[28]] = _count(aid, am, window)
    prog_of = pd.Series(prog, index=ids.to_numpy()).groupby(level=0).first()
    ap = prog_of.reindex(aid.to_numpy()).fillna("").to_numpy(dtype=object)
    for item, p in ((ITEMS[29], "dibao"), (ITEMS[30], "tekun"), (ITEMS[31], "marginal")):
        out[item] = _count(aid[ap == p], am[ap == p], window)
    if not has_sub:
        for item in ITEMS[:4]:
            out[item] = pd.Series([pd.NA] * len(window), dtype="Int64")
    return out


def not_derivable(stats: pd.DataFrame) -> list[str]:
    return [c for c in ITEMS if stats[c].isna().all()]
