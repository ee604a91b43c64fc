"""Budgets for the real county (POLICY.md §9): the represented population, its townships,
the roster-anchored base year, the finance office's table (财政预算表) and the 004 §四 reading
of purchased services.

- **Represented population**: a region's ``region.resident_population`` (census, with its
  reference) re-weights the synthetic households so their persons add up to it
  (:func:`represented_population_factor`, applied by :func:`jiuzhu_sim.budget.run_budget`).
- **Townships**: ``region.township_names`` with ``region.township_resident_populations``
  and ``budget.township_populations`` (registered, 户籍, which 004 三(一) counts) give the
  004 capacity table per real township (:func:`township_table`).
- **Roster-anchored base year** (``jiuzhu budget --roster DATA_DIR``): the current caseload
  and approved amounts of an audit roster (CONTRACT §5) are the base-year cost — twelve
  months (``budget.months_per_year``) of every active row's ``monthly_amount`` — and the
  simulation is used only for what changes: each replication's cost in a year relative to
  its base-year cost (new standards, income growth, households a rising standard brings
  in or lifts out, caseload churn) scales the roster base (:func:`roster_anchored`).
  Temporary assistance has no roster: its line stays the synthetic estimate (labelled).
- **财政预算表** (:func:`finance_table`): per program 上年执行数 (payments of the year before,
  else the roster base, else the synthetic base year — the source is a column), 本年预算
  (P50 with P5–P95), 增减 and 增幅; written as CSV and xlsx with Chinese headers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.files import find_input

PROGRAM_GROUPS = {
    "dibao": ("dibao",),
    "tekun": ("tekun_basic", "tekun_care", "tekun_institutional"),
    "marginal": ("marginal",),
    "temporary": ("temporary",),
}
"""Finance-office programs (roster ``program`` codes, plus temporary) → budget.csv programs."""
PROGRAM_NAMES = {"dibao": "最低生活保障", "tekun": "特困人员救助供养", "marginal": "低保边缘家庭",
                 "temporary": "临时救助", "total": "合计"}
ROSTER_PROGRAMS = ("dibao", "tekun", "marginal")
FINANCE_HEADERS = {
    "program_name": "项目", "program": "项目代码", "last_year": "上年执行数（元）",
    "last_year_source": "上年执行数来源", "budget_p50": "本年预算P50（元）",
    "budget_p5": "本年预算P5（元）", "budget_p95": "本年预算P95（元）",
    "change": "增减（元）", "change_share": "增幅", "budget_source": "本年预算口径",
}


# ---------------------------------------------------------------------------------------
# Represented population and townships


def represented_population_factor(params, base_vec: np.ndarray, quantities) -> float:
    """Weight factor that makes the synthetic persons add up to the region's census
    residents (``region.resident_population``); 1 when the region gives none."""
    population = float(params.get("region.resident_population", 0) or 0)
    if population <= 0:
        return 1.0
    persons = float(sum(base_vec[list(quantities).index(f"persons.{a}")]
                        for a in ("urban", "rural")))
    return population / persons if persons > 0 else 1.0


def township_table(params) -> pd.DataFrame | None:
    """One row per real township (``region.township_names``): residents, registered
    population (``budget.township_populations``, 004 三(一) counts 户籍人口), the minimum
    caseworkers of its band and the minimum social workers of its station (004 四); None
    when the region lists no townships."""
    from jiuzhu_sim.budget import township_caseworkers, township_populations

    names = params.get("region.township_names") or []
    if not names:
        return None
    residents = list(params.get("region.township_resident_populations") or [])
    registered = township_populations(params)
    if len(registered) and len(registered) != len(names):
        # a township list set for this run (--set budget.township_populations=[…]) replaces
        # the region's named townships
        names = [f"乡镇{i + 1}" for i in range(len(registered))]
        residents = []
    if len(residents) and len(residents) != len(names):
        raise UserInputError(f"{len(residents)} values for {len(names)} townships "
                             f"(region.township_names)",
                             column="region.township_resident_populations")
    staffing_base = registered if len(registered) else np.asarray(residents, float)
    return pd.DataFrame({
        "township": [str(n) for n in names],
        "resident_population": residents or [np.nan] * len(names),
        "registered_population": registered if len(registered) else [np.nan] * len(names),
        "min_caseworkers": township_caseworkers(staffing_base, params),
        "min_social_workers": int(params["capacity.social_workers_per_station"]),
    })


# ---------------------------------------------------------------------------------------
# 004 §四 purchased services (POLICY §9)


def purchased_services(subsidy: float, work_funds: float, params) -> dict[str, Any]:
    """Purchased social-assistance services for one year (004 四, POLICY.md §9).

    The floor is ``capacity.purchased_services_min_share_of_work_funds`` (5%) of the special
    funds — work funds **and** subsidy together; the subsidy (困难群众救助补助资金) may
    contribute at most ``capacity.purchased_services_max_share_of_subsidy`` (3%) of its own
    budget; the rest must come from the share of the work funds a county can spare
    (``budget.purchased_services_share_of_work_funds``). When that is not enough the floor
    cannot be met: ``meets_floor`` is false and ``purchased_services_note`` says by how much.
    """
    floor = float(params["capacity.purchased_services_min_share_of_work_funds"]) * (
        work_funds + subsidy)
    cap = float(params["capacity.purchased_services_max_share_of_subsidy"]) * subsidy
    from_subsidy = min(cap, floor)
    available = float(params["budget.purchased_services_share_of_work_funds"]) * work_funds
    from_work = min(available, floor - from_subsidy)
    planned = from_subsidy + from_work
    shortfall = max(0.0, floor - planned)
    note = "" if shortfall <= 1e-6 else (
        f"无法达到下限 floor cannot be met: 下限 {floor:,.0f} 元 (≥ 5% of work funds + subsidy); "
        f"救助补助资金至多 {cap:,.0f} 元 (3%), 工作经费可用 {available:,.0f} 元, 缺口 "
        f"{shortfall:,.0f} 元")
    return {"purchased_services_floor": floor, "purchased_services_cap": cap,
            "purchased_services_from_subsidy": from_subsidy,
            "purchased_services_from_work_funds": from_work,
            "purchased_services_planned": planned, "purchased_services_shortfall": shortfall,
            "meets_floor": bool(shortfall <= 1e-6), "within_cap": bool(from_subsidy <= cap + 1e-6),
            "floor_below_cap": bool(floor <= cap + available + 1e-6),
            "purchased_services_note": note}


# ---------------------------------------------------------------------------------------
# Roster-anchored base year


@dataclass
class RosterBase:
    """The roster's base year: per roster program, active persons on ``as_of``, their monthly
    approved amounts and twelve months of them; last year's payments when given."""

    as_of: dt.date
    table: pd.DataFrame  # program, active_persons, monthly_approved, annual_base
    last_year_paid: dict[str, float]  # program → Σ payments of as_of.year − 1 (if any)
    rejected: pd.DataFrame
    rows_read: dict[str, int]


def read_roster_base(data_dir: Path | str, as_of: dt.date, params) -> RosterBase:
    """Read ``roster`` (required) and ``payments`` (optional) of an audit folder (CONTRACT §5)
    and total the active approvals on ``as_of``: a row is active when it started on or before
    ``as_of`` and has no end date or ends on or after it. Bad rows go to ``rejected``."""
    from jiuzhu_sim.audit.io import normalise, read_input

    data_dir = Path(data_dir)
    rejected, rows_read = [], {}
    frames = {}
    for name, required in (("roster", True), ("payments", False)):
        path = find_input(data_dir, name, required=required)
        if path is None:
            continue
        raw = read_input(path, name)
        table, rej = normalise(name, raw, path.name)
        rows_read[name] = len(raw)
        if rej is not None and len(rej):
            rejected.append(rej)
        frames[name] = table
    roster = frames["roster"]
    if not len(roster):
        raise UserInputError("no usable roster rows for the base year", file="roster")
    day = np.datetime64(as_of, "D")
    start = roster["start_date"].to_numpy(dtype="datetime64[D]")
    end = roster["end_date"].to_numpy(dtype="datetime64[D]")
    active = (start <= day) & (np.isnat(end) | (end >= day))
    months = float(params["budget.months_per_year"])
    act = roster.loc[active]
    grouped = act.groupby("program")
    table = pd.DataFrame({"program": list(ROSTER_PROGRAMS)})
    table["active_persons"] = table["program"].map(grouped["person_id"].nunique()).fillna(0)
    table["monthly_approved"] = table["program"].map(grouped["monthly_amount"].sum()).fillna(0.0)
    table["annual_base"] = table["monthly_approved"] * months
    last_year: dict[str, float] = {}
    payments = frames.get("payments")
    if payments is not None and len(payments):
        year = payments["period"].to_numpy() // 12  # month index = year × 12 + month − 1
        prev = payments.loc[year == as_of.year - 1]
        last_year = {str(k): float(v) for k, v in prev.groupby("program")["amount"].sum().items()}
    from jiuzhu_sim.io import rejected_frame

    return RosterBase(as_of, table, last_year,
                      pd.concat(rejected, ignore_index=True) if rejected else rejected_frame(),
                      rows_read)


def _group_cost(draws: pd.DataFrame, program: str) -> np.ndarray:
    return draws[[f"cost_{p}" for p in PROGRAM_GROUPS[program]]].sum(axis=1).to_numpy(float)


def roster_anchored(draws: pd.DataFrame, base_year: int, roster: RosterBase) -> pd.DataFrame:
    """Per year × program: the synthetic estimate and the roster-anchored one side by side.

    Roster-anchored cost of replication r in year y = roster annual base × cost(r, y) /
    cost(r, base year): the simulation supplies only the change. A program whose synthetic
    base-year cost is 0 (e.g. marginal cash aid off) keeps the roster base × the population
    factor; temporary assistance (no roster) stays synthetic."""
    base = draws.loc[draws["year"] == base_year].set_index("replication")
    if not len(base):
        raise UserInputError(f"the budget run has no base year {base_year} to anchor on")
    roster_base = roster.table.set_index("program")["annual_base"]
    rows = []
    for year, group in draws.groupby("year", sort=True):
        group = group.set_index("replication").loc[base.index]
        total_syn = np.zeros(len(group))
        total_ros = np.zeros(len(group))
        for program in PROGRAM_GROUPS:
            syn = _group_cost(group.reset_index(), program)
            syn0 = _group_cost(base.reset_index(), program)
            if program in roster_base.index:
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(syn0 > 0, syn / np.where(syn0 > 0, syn0, 1.0),
                                     group["population_factor"].to_numpy(float))
                ros = float(roster_base[program]) * ratio
                source = "roster"
            else:
                ros, source = syn, "synthetic"
            total_syn, total_ros = total_syn + syn, total_ros + ros
            rows.append(_row(int(year), program, syn, ros, source,
                             float(roster_base.get(program, np.nan))))
        rows.append(_row(int(year), "total", total_syn, total_ros, "roster+synthetic",
                         float(roster_base.sum())))
    return pd.DataFrame(rows)


def _row(year, program, syn, ros, source, base) -> dict[str, Any]:
    s5, s50, s95 = np.percentile(syn, [5, 50, 95])
    r5, r50, r95 = np.percentile(ros, [5, 50, 95])
    return {"year": year, "program": program, "synthetic_p5": s5, "synthetic_p50": s50,
            "synthetic_p95": s95, "roster_p5": r5, "roster_p50": r50, "roster_p95": r95,
            "roster_base_annual": base, "roster_source": source}


# ---------------------------------------------------------------------------------------
# The finance office's table


def finance_table(table: pd.DataFrame, year: int, roster: RosterBase | None = None,
                  anchored: pd.DataFrame | None = None,
                  synthetic_last_year: dict[str, float] | None = None) -> pd.DataFrame:
    """财政预算表 for ``year``: per program 上年执行数, 本年预算 P50 (P5–P95), 增减, 增幅.

    本年预算 is the roster-anchored estimate when a roster is given (temporary stays
    synthetic), else the synthetic one. 上年执行数: the payments of the year before (a
    payments file beside the roster), else the roster base (twelve months of the active
    approvals), else the synthetic base year — ``last_year_source`` says which."""
    rows = []
    for program in (*PROGRAM_GROUPS, "total"):
        if anchored is not None:
            a = anchored.loc[(anchored["year"] == year) & (anchored["program"] == program)]
            p5, p50, p95 = (float(a[f"roster_{q}"].iloc[0]) for q in ("p5", "p50", "p95"))
            source = ("合成人口估计 synthetic" if a["roster_source"].iloc[0] == "synthetic"
                      else "名册基数×模拟变化 roster × simulated change")
        else:
            parts = PROGRAM_GROUPS.get(program, tuple(p for g in PROGRAM_GROUPS.values()
                                                      for p in g))
            sel = table.loc[(table["year"] == year) & table["program"].isin(
                ["total"] if program == "total" else parts)]
            p5, p50, p95 = (float(sel[q].sum()) for q in ("p5", "p50", "p95"))
            source = "合成人口估计 synthetic"
        last, last_source = _last_year(program, roster, synthetic_last_year)
        change = p50 - last if np.isfinite(last) else np.nan
        rows.append({"program_name": PROGRAM_NAMES[program], "program": program,
                     "last_year": last, "last_year_source": last_source, "budget_p50": p50,
                     "budget_p5": p5, "budget_p95": p95, "change": change,
                     "change_share": change / last if np.isfinite(last) and last > 0 else np.nan,
                     "budget_source": source})
    out = pd.DataFrame(rows)
    total = out["program"] == "total"
    if out.loc[~total, "last_year"].notna().all():
        out.loc[total, "last_year"] = out.loc[~total, "last_year"].sum()
        out.loc[total, "change"] = out.loc[total, "budget_p50"] - out.loc[total, "last_year"]
        last = float(out.loc[total, "last_year"].iloc[0])
        out.loc[total, "change_share"] = (float(out.loc[total, "change"].iloc[0]) / last
                                          if last > 0 else np.nan)
        out.loc[total, "last_year_source"] = "各项合计 sum of programs"
    return out


def _last_year(program: str, roster: RosterBase | None,
               synthetic_last_year: dict[str, float] | None) -> tuple[float, str]:
    if program == "total":
        return np.nan, ""
    if roster is not None and program in roster.last_year_paid:
        return roster.last_year_paid[program], f"{roster.as_of.year - 1}年发放数 payments"
    if roster is not None and program in ROSTER_PROGRAMS:
        base = roster.table.set_index("program")["annual_base"]
        return float(base[program]), (f"名册在保金额×12 roster active approvals on "
                                      f"{roster.as_of.isoformat()}")
    if synthetic_last_year is not None and program in synthetic_last_year:
        return synthetic_last_year[program], "合成人口基年估计 synthetic base year"
    return np.nan, ""


def write_finance(out_dir: Path, finance: pd.DataFrame, anchored: pd.DataFrame | None,
                  townships: pd.DataFrame | None, roster: RosterBase | None) -> list[Path]:
    """``财政预算表.csv`` / ``.xlsx`` (Chinese headers), ``budget_roster.csv`` (both estimates
    side by side), ``capacity_townships.csv`` and the roster's ``rejected.csv``."""
    from jiuzhu_sim.io import write_table

    out_dir.mkdir(parents=True, exist_ok=True)
    chinese = finance.rename(columns=FINANCE_HEADERS)
    paths = [write_table(chinese, out_dir / "财政预算表.csv")]
    xlsx = out_dir / "财政预算表.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        chinese.to_excel(writer, sheet_name="财政预算表", index=False)
        if anchored is not None:
            anchored.to_excel(writer, sheet_name="名册与合成对照", index=False)
        if townships is not None:
            townships.rename(columns={
                "township": "乡镇（街道）", "resident_population": "常住人口",
                "registered_population": "户籍人口", "min_caseworkers": "最少协管员",
                "min_social_workers": "最少社工"}).to_excel(writer, sheet_name="乡镇能力",
                                                       index=False)
    paths.append(xlsx)
    if anchored is not None:
        paths.append(write_table(anchored, out_dir / "budget_roster.csv"))
    if townships is not None:
        paths.append(write_table(townships, out_dir / "capacity_townships.csv"))
    if roster is not None:
        paths.append(write_table(roster.rejected, out_dir / "rejected.csv"))
    return paths


# ---------------------------------------------------------------------------------------
# Command line
