"""monthly_stats on integer codes (one factorisation of the roster's people, pairs counted
as 64-bit keys) gives what the frame-based general path gives: on a synthetic county read
from CSV, with awkward additions (alerts of people not on the roster, a person on the
roster twice under two programs, a household check with no members), and on random
(ID, month) pairs with blanks, repeats, NaT and months outside the window."""

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.audit.calendar import month_label, month_of_dates, parse_month
from jiuzhu_sim.audit.checks.base import AuditContext
from jiuzhu_sim.audit.io import AuditTables, load_inputs
from jiuzhu_sim.audit.stats import ITEMS, _codes, _count, monthly_stats
from jiuzhu_sim.audit.synth import generate_audit_data
from jiuzhu_sim.parameters import load_parameters


def _general_count(ids: pd.Series, months: np.ndarray, window: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({"id": pd.Series(ids, dtype="str").to_numpy(), "m": months})
    frame = frame[np.isin(months, window)].drop_duplicates()
    return frame.groupby("m")["id"].size().reindex(window).fillna(0).astype(int).to_numpy()


def _general_monthly_stats(tables: AuditTables, ctx: AuditContext) -> pd.DataFrame:
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
            out[item] = _general_count(ids[sel], start_m[sel], window)
        sel = (prog == "tekun") & (sub == "institutional")
        out[ITEMS[2]] = _general_count(ids[sel], start_m[sel], window)
        sel = (prog == "tekun") & (sub == "dispersed")
        out[ITEMS[3]] = _general_count(ids[sel], visit_m[sel], window)
    mon = tables.monitoring
    # 防止返贫监测对象 only (audit.anti_poverty_monitoring_categories): a petitioner (信访)
    # newly on dibao is screened (§5) but is not a monitored person brought into dibao
    cats = [str(c) for c in ctx.param("audit.anti_poverty_monitoring_categories")]
    is_monitored = pd.Series(mon["category"], dtype="str").isin(cats).to_numpy()
    monitored = pd.Index(pd.unique(pd.Series(mon["person_id"], dtype="str")[is_monitored]))
    for item, p in ((ITEMS[7], "dibao"), (ITEMS[8], "tekun")):
        sel = (prog == p) & (monitored.get_indexer(ids) >= 0)
        out[item] = _general_count(ids[sel], start_m[sel], window)
    out[ITEMS[11]] = _general_count(pd.Series(mon["person_id"], dtype="str")[is_monitored],
                            month_of_dates(mon["since_date"].to_numpy(
                                dtype="datetime64[D]"))[is_monitored], window)
    d = tables.disability
    grade = d["grade"].to_numpy(dtype="float64")
    im = pd.Series(d["type"], dtype="str").isin(["intellectual", "mental"]).to_numpy()
    severe = (grade <= float(ctx.param("screening.severe_disability_max_grade"))) | (
        im & (grade <= float(ctx.param(
            "screening.severe_disability_max_grade_intellectual_mental"))))
    out[ITEMS[15]] = _general_count(pd.Series(d["person_id"], dtype="str")[severe], month_of_dates(
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
    out[ITEMS[17]] = _general_count(pd.concat(ck_ids, ignore_index=True), np.concatenate(ck_m), window)
    out[ITEMS[18]] = _general_count(ids, visit_m, window)
    a = tables.alerts
    out[ITEMS[19]] = _general_count(a["person_id"], month_of_dates(
        a["verified_date"].to_numpy(dtype="datetime64[D]")), window)
    start = a["township_received_date"].to_numpy(dtype="datetime64[D]")
    start = np.where(np.isnat(start), a["received_date"].to_numpy(dtype="datetime64[D]"), start)
    am = month_of_dates(start)
    aid = pd.Series(a["person_id"], dtype="str")
    out[ITEMS[28]] = _general_count(aid, am, window)
    prog_of = pd.Series(prog, index=ids.to_numpy()).groupby(level=0).first()
    ap = prog_of.reindex(aid.to_numpy()).fillna("").to_numpy(dtype=object)
    for item, p in ((ITEMS[29], "dibao"), (ITEMS[30], "tekun"), (ITEMS[31], "marginal")):
        out[item] = _general_count(aid[ap == p], am[ap == p], window)
    if not has_sub:
        for item in ITEMS[:4]:
            out[item] = pd.Series([pd.NA] * len(window), dtype="Int64")
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_count_is_the_general_count(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    people = np.array(["350581198001010035", "35058119800101003X", "", "中文", "=1+1",
                       "350581800101003"] + [f"P{i}" for i in range(40)], dtype=object)
    ids = pd.Series(people[rng.integers(0, len(people), n)], dtype="str")
    ids[rng.random(n) < 0.05] = np.nan
    months = rng.integers(24280, 24300, n)
    months[rng.random(n) < 0.1] = month_of_dates(np.array(["NaT"], dtype="datetime64[D]"))[0]
    window = np.arange(24285, 24291)
    assert _count(ids, months, window).tolist() == _general_count(ids, months,
                                                                  window).tolist()
    assert _count(_codes(ids), months, window).tolist() == _general_count(
        ids, months, window).tolist()
    assert _count(ids[:0], months[:0], window).tolist() == [0] * 6


def test_monthly_stats_are_the_general_paths(tmp_path):
    params = load_parameters("350581", "2024-06-30")
    frames = generate_audit_data(params, n_households=400, seed=7)
    roster = frames["roster"]
    twice = roster.iloc[:3].assign(program="tekun", sub_type="dispersed")
    frames["roster"] = pd.concat([roster, twice], ignore_index=True)
    alerts = frames["alerts"]
    stranger = alerts.iloc[:2].assign(person_id="110101199003077777")
    frames["alerts"] = pd.concat([alerts, stranger], ignore_index=True)
    homes = frames["households"]
    frames["households"] = pd.concat([homes, homes.iloc[:1].assign(household_id="H-EMPTY")],
                                     ignore_index=True)
    for name, frame in frames.items():
        if name != "truth":
            frame.to_csv(tmp_path / f"{name}.csv", index=False)
    tables = load_inputs(tmp_path).tables
    ctx = AuditContext(parse_month("2024-01"), parse_month("2024-06"), params,
                       region_code="350581")
    fast = monthly_stats(tables, ctx)
    general = _general_monthly_stats(tables, ctx)
    pd.testing.assert_frame_equal(fast, general)
    assert fast[ITEMS[17]].sum() > 0 and fast[ITEMS[28]].sum() > 0
    assert fast["月份"].tolist() == list(month_label(np.arange(parse_month("2024-01"),
                                                             parse_month("2024-06") + 1)))
