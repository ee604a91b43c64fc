"""Multi-year budget with uncertainty (预算测算) and the 004 capacity rules (POLICY.md §9).

``jiuzhu budget --params REGION --years 2025:2027 --out DIR [--replications N]``.

Method, in three steps:

1. **Base year** (the parameter date): a synthetic population is generated and simulated
   chunk by chunk (:func:`jiuzhu_sim.simulation.simulate`, enrollment from the process
   model). Each chunk is reduced to weighted totals per household — dibao recipients, dibao
   money paid and households by urban/rural, tekun persons by dispersed/institutional and
   care level, marginal persons and cash — so no chunk outlives its reduction.
2. **Sampling uncertainty**: replication r re-weights every household of chunk c with a
   Poisson(1) bootstrap weight drawn from the seed of partition (region, r, c); totals are
   additive over chunks, so chunks never meet.
3. **Projection** for each replication and year, with parameters drawn from the normal
   distributions declared in ``params/national/budget.yaml`` (``budget.*`` and ``*_sd``):
   minimum wage ``× (1 + g)``; dibao standard = max(ratio rule on the new minimum wage,
   last year's standard × (1 + inflation)) when ``budget.standard_price_indexation``
   (standards are never cut), rounded by ``dibao.rounding``; tekun and care standards and
   the marginal threshold re-derived by :mod:`jiuzhu_sim.parameters`. Dibao and marginal
   money are **the rules run again** on the base population, in each chunk, at each
   replication's projected standards, with every person's income × (1 + income growth)
   per year (``budget.income_growth``; assets and rigid spending stay at base-year yuan)
   and the base year's enrollment draws (common random numbers; an observed
   ``enrolled_dibao`` is kept as observed, so it adds no new enrollees), weighted by that
   replication's bootstrap weights — so households that fall below a rising standard
   enter, and households whose income outgrows it leave. Dibao money and recipients are
   then × (1 + entry − exit)^12 × (1 + take-up trend) per year (caseload change the rules
   do not see); tekun, marginal and household counts × (1 + population growth).
   Temporary assistance = households × case rate × Σ tier share × tier amount
   (:func:`jiuzhu_sim.rules.temporary.temporary_assistance_amount`). Normal draws are
   truncated at ``*_lower`` / ``*_upper`` where params declare them.

Outputs (``--out DIR``): ``budget.csv`` (year × program: mean, p5, p50, p95, replications),
``standards.csv`` (projected standards, factors and eligible households, p50 per year),
``capacity.csv`` (004: caseworkers per township population band, or per township listed in
``budget.township_populations``; purchased services ≥ 5% of work funds and ≤ 3% of the
subsidy budget), ``summary.json`` (replications, base-year totals, manifest).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim.distributed import Partition, make_partitions, run_partitions
from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.parameters import round_standard
from jiuzhu_sim.rules import engine
from jiuzhu_sim.rules import tekun as tekun_rules

PROGRAMS = ("dibao", "tekun_basic", "tekun_care", "tekun_institutional", "temporary",
            "marginal")
AREAS = ("urban", "rural")
CARE_LEVELS = tuple(tekun_rules.CARE_LEVELS)
# base-year totals kept per household and per replication (columns of the reduction)
QUANTITIES = tuple(
    [f"{q}.{a}" for a in AREAS for q in (
        "households", "persons", "dibao_households", "dibao_recipients", "dibao_paid",
        "dibao_eligible", "tekun_dispersed", "tekun_institutional", "marginal_persons",
        "marginal_paid")]
    + [f"tekun_care.{level}" for level in CARE_LEVELS]
)
# totals the rules give again in each projected year (a subset of QUANTITIES)
PROJECTED = tuple(f"{q}.{a}" for a in AREAS for q in (
    "dibao_households", "dibao_recipients", "dibao_paid", "dibao_eligible", "marginal_paid"))
# draws key → parameter; each may declare ``_sd`` and the bounds ``_lower`` / ``_upper``
UNCERTAIN = {
    "minimum_wage_growth": "budget.minimum_wage_growth",
    "price_inflation": "budget.price_inflation",
    "population_growth": "budget.population_growth",
    "entry_rate": "budget.caseload_monthly_entry_rate",
    "exit_rate": "budget.caseload_monthly_exit_rate",
    "takeup_trend": "budget.takeup_trend",
    "temporary_case_rate": "budget.temporary_case_rate",
    "income_growth": "budget.income_growth",
}
_BOOTSTRAP_STREAM = 2


@dataclass
class BudgetResult:
    """What :func:`run_budget` returns (and writes).

    Attributes:
        table: one row per year × program (``dibao``, ``tekun_basic``, ``tekun_care``,
            ``tekun_institutional``, ``temporary``, ``marginal``, ``total``) with annual cost
            in yuan: ``mean, p5, p50, p95`` and ``replications``.
        capacity: one row per year: represented population, townships, minimum caseworkers
            (004 三), subsidy budget (p50 total), work funds, purchased-services floor (≥ 5%
            of work funds), cap (≤ 3% of the subsidy budget), planned amount and whether the
            plan meets both (004 四).
        standards: one row per year: minimum wage, standards, caseload / population /
            income factors, eligible households and recipients (p50 over replications).
        draws: one row per replication × year: drawn parameters, eligible households
            and recipients from the rules run again, and cost by program.
        base: base-year weighted totals (households, recipients, money) from the simulation.
        summary: summary.json content (replications, years, base totals, manifest).
    """

    table: pd.DataFrame
    capacity: pd.DataFrame
    standards: pd.DataFrame
    draws: pd.DataFrame
    base: dict[str, float]
    summary: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Step 1–2: base-year totals, chunk by chunk


def household_quantities(households_out: pd.DataFrame, persons_out: pd.DataFrame, pop
                         ) -> np.ndarray:
    """n_households × len(QUANTITIES) matrix of per-household amounts (already × weight).

    Dibao recipients: members covered if enrolled and eligible, assessed members if enrolled
    by mistake (错保); money: ``paid_dibao_monthly_benefit``.
    """
    h = households_out
    n = len(h)
    w = h["weight"].to_numpy(float)
    urban = h["urban"].to_numpy(bool)
    enrolled = h["enrolled"].to_numpy(bool)
    eligible = h["dibao_eligible"].to_numpy(bool)
    recipients = engine.recipients_on_roster(eligible, enrolled,
                                             h["dibao_members"].to_numpy(float),
                                             h["assessed_members"].to_numpy(float))
    # persons_out rows are in the population's person order (pop.hh: household index)
    pos = pop.hh
    tekun = persons_out["tekun"].to_numpy(bool)
    institutional = np.asarray(pop.institutional, dtype=bool)
    care_level = np.asarray(tekun_rules.CARE_LEVELS, dtype=object)[pop.care_code]
    cols: dict[str, np.ndarray] = {}
    members = h["members"].to_numpy(float)
    marginal = h["marginal"].to_numpy(bool)
    for area, mask in (("urban", urban), ("rural", ~urban)):
        m = mask.astype(float) * w
        cols[f"households.{area}"] = m
        cols[f"persons.{area}"] = m * members
        cols[f"dibao_households.{area}"] = m * (recipients > 0)
        cols[f"dibao_recipients.{area}"] = m * recipients
        cols[f"dibao_paid.{area}"] = m * h["paid_dibao_monthly_benefit"].to_numpy(float)
        cols[f"dibao_eligible.{area}"] = m * eligible
        for name, flag in (("tekun_dispersed", tekun & ~institutional),
                           ("tekun_institutional", tekun & institutional)):
            cols[f"{name}.{area}"] = m * np.bincount(pos, weights=flag.astype(float),
                                                     minlength=n)
        cols[f"marginal_persons.{area}"] = m * members * marginal
        cols[f"marginal_paid.{area}"] = m * h["marginal_monthly_benefit"].to_numpy(float)
    for level in CARE_LEVELS:
        flag = tekun & (care_level == level)
        cols[f"tekun_care.{level}"] = w * np.bincount(pos, weights=flag.astype(float),
                                                      minlength=n)
    return np.column_stack([cols[q] for q in QUANTITIES])


def _int_seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, dtype=np.uint32)[0])


def variant_quantities(pop, v: dict[str, np.ndarray]) -> np.ndarray:
    """n_households × len(PROJECTED) from :func:`jiuzhu_sim.scenario.simulate_variant`'s
    arrays, with :func:`household_quantities`' definitions (× survey weight)."""
    recipients = engine.recipients_on_roster(v["h_eligible"], v["h_enrolled"],
                                             v["h_dibao_members"], v["h_unit"])
    cols: dict[str, np.ndarray] = {}
    for area, mask in (("urban", pop.urban), ("rural", ~pop.urban)):
        m = mask.astype(float) * pop.weight
        cols[f"dibao_households.{area}"] = m * (recipients > 0)
        cols[f"dibao_recipients.{area}"] = m * recipients
        cols[f"dibao_paid.{area}"] = m * v["h_paid"]
        cols[f"dibao_eligible.{area}"] = m * v["h_eligible"]
        cols[f"marginal_paid.{area}"] = m * v["h_marginal_benefit"]
    return np.column_stack([cols[q] for q in PROJECTED])


def bootstrap_weights(part: Partition, replication: int, n_households: int) -> np.ndarray:
    """Poisson(1) weights of one chunk's households in one replication (seeded per rep ×
    chunk, never per worker)."""
    seq = Partition(part.region_index, replication, part.chunk, 0, 0, part.root_seed
                    ).child_seed(_BOOTSTRAP_STREAM)
    return np.random.default_rng(seq).poisson(1.0, n_households)


def bootstrap_totals(quantities: np.ndarray, part: Partition, replications: int) -> np.ndarray:
    """replications × quantities: Σ Poisson(1) weight × quantity, one seed per (rep, chunk)."""
    out = np.empty((replications, quantities.shape[1]))
    for rep in range(replications):
        out[rep] = bootstrap_weights(part, rep, quantities.shape[0]) @ quantities
    return out


def projected_totals(pop, params, paths: pd.DataFrame, weights_for, uniforms) -> np.ndarray:
    """len(paths) × PROJECTED: the rules on ``pop`` at each path row's minimum wage and
    standards, every income × the row's ``income_factor``, weighted by
    ``weights_for(replication)`` (an n_households array). ``uniforms``: the base year's
    process draws (None: observed enrollment)."""
    from jiuzhu_sim.scenario import simulate_variant

    paths = paths.reset_index(drop=True)
    out = np.zeros((len(paths), len(PROJECTED)))
    for rep, rows in paths.groupby("replication", sort=True):
        weights = np.asarray(weights_for(int(rep)), dtype=float)
        for i, row in zip(rows.index, rows.itertuples(), strict=True):
            p = projected_parameters(params, row.minimum_wage, row.dibao_standard_urban,
                                     row.dibao_standard_rural)
            grown = dataclasses.replace(pop, monthly_income=pop.monthly_income
                                        * float(row.income_factor))
            out[i] = weights @ variant_quantities(
                grown, simulate_variant(grown, p, uniforms))
    return out


def population_totals(pop, params, part: Partition, replications: int,
                      paths: pd.DataFrame) -> dict[str, np.ndarray]:
    """One chunk's base totals, bootstrap totals per replication and projected totals per
    path row (rows at or before the base year take the bootstrap totals)."""
    from jiuzhu_sim.population.process import (
        household_hashes,
        process_key,
        uniforms_from_hashes,
    )
    from jiuzhu_sim.simulation import simulate_population

    seed = _int_seed(part.child_seed(1))
    result = simulate_population(pop, params, seed=seed)
    quantities = household_quantities(result.households, result.persons, pop)
    boot = bootstrap_totals(quantities, part, replications)
    later = (paths["year"] > params.date.year).to_numpy()
    projected = boot[paths["replication"].to_numpy(int)][:, [QUANTITIES.index(q)
                                                            for q in PROJECTED]]
    if later.any():
        uniforms = None
        if pop.enrolled_observed is None:
            # simulate_population's draws (common random numbers for every projected year)
            uniforms = uniforms_from_hashes(household_hashes(pop.household_id),
                                            process_key(np.random.default_rng(seed)), 4)
        projected[later] = projected_totals(
            pop, params, paths[later],
            lambda rep: pop.weight * bootstrap_weights(part, rep, pop.n_households), uniforms)
    return {"base": quantities.sum(axis=0), "bootstrap": boot, "projected": projected}


def _budget_chunk(part: Partition, common: dict) -> dict[str, Any]:
    """Generate and simulate one chunk; return base, bootstrap and projected totals."""
    from jiuzhu_sim.population.generate import draw_population

    params = common["params"]
    # arrays straight to the rules: no tables or resident IDs for a chunk nobody writes
    pop = draw_population(params, part.n_households, seed=part.child_seed(0),
                          start_index=part.start_index).to_population()
    return population_totals(pop, params, part, common["replications"], common["paths"])


def base_totals_from_population(persons: pd.DataFrame, households: pd.DataFrame, params,
                                seed: int, replications: int, paths: pd.DataFrame
                                ) -> dict[str, np.ndarray]:
    """:func:`population_totals` for a population given as frames (one chunk)."""
    from jiuzhu_sim.simulation import prepare_population

    part = Partition(0, 0, 0, 0, len(households), int(seed))
    return population_totals(prepare_population(persons, households), params, part,
                             replications, paths)


# ---------------------------------------------------------------------------------------
# Step 3: projection


def _draw(rng: np.random.Generator, params, name: str, size: int) -> np.ndarray:
    """Normal(``name``, ``name_sd``) draws, truncated at ``name_lower`` / ``name_upper`` when
    params declare them (scipy's truncnorm, so no mass piles up on a bound)."""
    from scipy.stats import truncnorm

    mean = float(params[name])
    sd = float(params.get(f"{name}_sd", 0.0))
    lower, upper = params.get(f"{name}_lower"), params.get(f"{name}_upper")
    lo = -np.inf if lower is None else float(lower)
    hi = np.inf if upper is None else float(upper)
    if not lo <= mean <= hi:
        raise UserInputError(f"{name} = {mean} is outside its bounds [{lo}, {hi}] "
                             f"({name}_lower / _upper)", column=name)
    if sd <= 0:
        return np.full(size, mean)
    if lower is None and upper is None:
        return rng.normal(mean, sd, size)
    return truncnorm.rvs((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd, size=size,
                         random_state=rng)


def draw_parameters(params, replications: int, n_years: int, root_seed: int) -> dict:
    """Replication × year draws of every uncertain budget parameter (one stream per rep)."""
    out = {k: np.empty((replications, n_years)) for k in UNCERTAIN}
    for rep in range(replications):
        rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=(0, rep, 1 << 20)))
        for key, name in UNCERTAIN.items():
            out[key][rep] = _draw(rng, params, name, n_years)
    return out


def projected_parameters(params, minimum_wage: float, standard_urban: float,
                         standard_rural: float):
    """The parameters of a projected year: new minimum wage and standards, derived values
    (tekun basic and care standards, institutional standard, marginal threshold) recomputed."""
    return params.with_overrides({"minimum_wage": float(minimum_wage),
                                  "dibao.standard.urban": float(standard_urban),
                                  "dibao.standard.rural": float(standard_rural)})


def projection_paths(params, years: tuple[int, int], draws: dict) -> pd.DataFrame:
    """One row per replication × year of ``years``: the drawn path of the minimum wage,
    the urban and rural dibao standards, and the caseload, population and income factors.

    Year t (t = year − base year, base year = the parameter date's year) compounds t yearly
    draws; years at or before the base year keep base values. The standard is the ratio rule
    on the new minimum wage, or last year's standard × (1 + inflation) if larger when
    ``budget.standard_price_indexation``; it is never cut.
    """
    first, last = years
    base_year = params.date.year
    months = float(params["budget.months_per_year"])
    rounding = str(params.get("dibao.rounding", "ceil_yuan"))
    ratio = float(params["dibao.standard_ratio_to_minimum_wage"])
    indexation = bool(params["budget.standard_price_indexation"])
    base_std = {a: float(params[f"dibao.standard.{a}"]) for a in AREAS}
    rows = []
    for rep in range(draws["minimum_wage_growth"].shape[0]):
        wage = float(params["minimum_wage"])
        std = dict(base_std)
        caseload = population = income = 1.0
        for year in range(min(first, base_year + 1), last + 1):
            t = year - base_year
            if t >= 1:
                k = t - 1
                wage *= 1.0 + draws["minimum_wage_growth"][rep, k]
                for a in AREAS:
                    rule = round_standard(wage * ratio, rounding)
                    indexed = round_standard(std[a] * (1.0 + draws["price_inflation"][rep, k]),
                                             rounding)
                    std[a] = max(rule, indexed, std[a]) if indexation else max(rule, std[a])
                caseload *= ((1.0 + draws["entry_rate"][rep, k] - draws["exit_rate"][rep, k])
                             ** months * (1.0 + draws["takeup_trend"][rep, k]))
                population *= 1.0 + draws["population_growth"][rep, k]
                income *= 1.0 + draws["income_growth"][rep, k]
            if year < first:
                continue
            rows.append({"replication": rep, "year": year, "minimum_wage": wage,
                         "dibao_standard_urban": std["urban"],
                         "dibao_standard_rural": std["rural"],
                         "caseload_factor": caseload, "population_factor": population,
                         "income_factor": income,
                         "temporary_case_rate": draws["temporary_case_rate"][rep, max(t - 1, 0)]})
    return pd.DataFrame(rows)


def project(params, base: np.ndarray, paths: pd.DataFrame, projected: np.ndarray
            ) -> pd.DataFrame:
    """Annual cost by program for each replication × year (one row each).

    ``base``: replications × QUANTITIES base-year monthly totals; ``paths`` from
    :func:`projection_paths`; ``projected``: len(paths) × PROJECTED monthly totals of the
    rules run again on each path row (:func:`projected_totals`).
    """
    from jiuzhu_sim.rules.temporary import temporary_assistance_amount

    col = {q: i for i, q in enumerate(QUANTITIES)}
    pcol = {q: i for i, q in enumerate(PROJECTED)}
    months = float(params["budget.months_per_year"])
    tiers = list(params["temporary.tier_multiples_of_standard"])
    tier_shares = np.asarray(params["budget.temporary_tier_shares"], dtype=float)
    rounding = str(params["temporary.benefit_rounding"])
    if len(tier_shares) != len(tiers):
        raise UserInputError("budget.temporary_tier_shares needs one share per tier of "
                             "temporary.tier_multiples_of_standard", column="budget.temporary_tier_shares")
    rows = []
    for i, path in enumerate(paths.itertuples()):
        b = base[path.replication]
        now = projected[i]
        std = {"urban": path.dibao_standard_urban, "rural": path.dibao_standard_rural}
        caseload, population = path.caseload_factor, path.population_factor
        p = projected_parameters(params, path.minimum_wage, std["urban"], std["rural"])
        cost = dict.fromkeys(PROGRAMS, 0.0)
        for a in AREAS:
            cost["dibao"] += now[pcol[f"dibao_paid.{a}"]] * caseload * months
            cost["marginal"] += now[pcol[f"marginal_paid.{a}"]] * population * months
            cost["tekun_basic"] += (b[col[f"tekun_dispersed.{a}"]] * population * months
                                    * float(p[f"tekun.basic_standard.{a}"]))
            cost["tekun_institutional"] += (
                b[col[f"tekun_institutional.{a}"]] * population * months
                * float(p[f"tekun.institutional_basic_standard.{a}"]))
            amounts = temporary_assistance_amount(std[a], np.arange(len(tiers)), tiers,
                                                  rounding)
            cost["temporary"] += (b[col[f"households.{a}"]] * population
                                  * path.temporary_case_rate * float(tier_shares @ amounts))
        for level in CARE_LEVELS:
            cost["tekun_care"] += (b[col[f"tekun_care.{level}"]] * population * months
                                   * float(p[f"tekun.care_standard.{level}"]))
        rows.append({"replication": path.replication, "year": path.year,
                     "minimum_wage": path.minimum_wage,
                     "dibao_standard_urban": std["urban"], "dibao_standard_rural": std["rural"],
                     "caseload_factor": caseload, "population_factor": population,
                     "income_factor": path.income_factor,
                     "dibao_eligible_households": sum(
                         now[pcol[f"dibao_eligible.{a}"]] for a in AREAS) * population,
                     "dibao_recipients": sum(now[pcol[f"dibao_recipients.{a}"]]
                                             for a in AREAS) * caseload,
                     "persons": sum(b[col[f"persons.{a}"]] for a in AREAS) * population,
                     **{f"cost_{k}": v for k, v in cost.items()},
                     "cost_total": sum(cost.values())})
    return pd.DataFrame(rows)


def summarise_draws(draws: pd.DataFrame) -> pd.DataFrame:
    """year × program rows: mean, p5, p50, p95 of annual cost, and the replication count."""
    rows = []
    for year, group in draws.groupby("year", sort=True):
        for program in (*PROGRAMS, "total"):
            values = group[f"cost_{program}"].to_numpy(float)
            p5, p50, p95 = np.percentile(values, [5, 50, 95])
            rows.append({"year": int(year), "program": program, "mean": float(values.mean()),
                         "p5": float(p5), "p50": float(p50), "p95": float(p95),
                         "replications": int(len(values))})
    return pd.DataFrame(rows)


def township_caseworkers(township_population: np.ndarray, params) -> np.ndarray:
    """004 三: minimum caseworkers per township by population band (2万人以下 ≥ 1, 2万至5万 ≥ 2,
    5万人以上 ≥ 3; bands and minimums from ``capacity.township_caseworker_*``).

    "以下" and "以上" include the bound itself (Civil Code art. 1259), so exactly 20,000
    residents is the first band and exactly 50,000 the last.
    """
    bounds = np.asarray(params["capacity.township_caseworker_thresholds"], dtype=float)
    minimums = np.asarray(params["capacity.township_caseworker_minimums"], dtype=int)
    people = np.asarray(township_population, float)
    band = np.searchsorted(bounds, people, side="right")
    band = np.where(people <= bounds[0], 0, np.where(people >= bounds[-1], len(bounds), band))
    return minimums[band]


def township_populations(params) -> np.ndarray:
    """``budget.township_populations`` as an array of residents (empty: none listed); a
    value that is not a list of positive numbers names the parameter."""
    listed = params.get("budget.township_populations") or []
    values = listed if isinstance(listed, (list, tuple)) else [listed]
    try:
        people = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        people = np.array([np.nan])
    if not np.isfinite(people).all() or (people <= 0).any() or any(
            isinstance(v, bool) for v in values):
        raise UserInputError(f"expected a list of township populations, positive numbers "
                             f"(e.g. [12000,30000,60000]), got {listed!r}",
                             column="budget.township_populations")
    return people


def capacity_table(params, table: pd.DataFrame, standards: pd.DataFrame) -> pd.DataFrame:
    """004 §三–四 per year: caseworkers for the represented population; purchased services
    (:func:`jiuzhu_sim.finance.purchased_services`, POLICY §9): ≥ 5% of work funds and
    subsidy together, the subsidy contributing ≤ 3% of its budget."""
    listed = township_populations(params)
    average = float(params["budget.township_average_population"])
    rows = []
    for _, srow in standards.iterrows():
        year = int(srow["year"])
        population = float(srow["persons"])
        if len(listed):
            towns = listed * float(srow["population_factor"])
        else:
            count = max(1, math.ceil(population / average))
            towns = np.full(count, population / count)
        subsidy = float(table.loc[(table["year"] == year) & (table["program"] == "total"),
                                  "p50"].iloc[0])
        work_funds = subsidy * float(params["budget.work_funds_share_of_subsidy"])
        from jiuzhu_sim.finance import purchased_services

        rows.append({"year": year, "population": population, "townships": len(towns),
                     "min_caseworkers": int(township_caseworkers(towns, params).sum()),
                     "subsidy_budget_p50": subsidy, "work_funds": work_funds,
                     **purchased_services(subsidy, work_funds, params)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Entry points


def run_budget(params, years: tuple[int, int], out_dir: Path | str | None = None,
               replications: int | None = None, households: int | None = None,
               seed: int = 20240101, workers: int | None = None, scheduler: str | None = None,
               *, population: tuple[pd.DataFrame, pd.DataFrame] | None = None,
               progress: bool = True, command: list[str] | None = None,
               processes: bool = True) -> BudgetResult:
    """Project costs by program for ``years`` (first, last) with P5/P50/P95 (see module doc).

    Args:
        params: :class:`~jiuzhu_sim.parameters.Parameters` of the base date and region.
        years: (first, last) calendar years, inclusive.
        out_dir: where to write budget.csv, standards.csv, capacity.csv, summary.json
            (None: write nothing).
        replications: Monte Carlo replications (default ``budget.default_replications``).
        households: synthetic households (default ``budget.default_households``), generated
            in chunks of ``budget.chunk_households``.
        seed: root seed; every partition's seed is spawned from it.
        workers / scheduler: run chunks on a local Dask cluster / an existing one.
        population: (persons, households) frames to use instead of a synthetic population.
    """
    started = dt.datetime.now(dt.UTC)
    first, last = years
    if last < first:
        raise UserInputError(f"--years {first}:{last}: the last year is before the first")
    if first < params.date.year:
        raise UserInputError(f"--years {first}:{last}: the first year is before the base year "
                             f"{params.date.year} (the parameter date; set --date earlier)")
    reps = int(params["budget.default_replications"] if replications is None else replications)
    if reps < 1:
        raise UserInputError(f"--replications {reps}: must be at least 1")
    # the parameter paths first: every chunk runs the rules again along them
    drawn = draw_parameters(params, reps, max(last - params.date.year, 1), seed)
    paths = projection_paths(params, years, drawn)
    if population is not None:
        persons, hh = population
        results = [base_totals_from_population(persons, hh, params, seed, reps, paths)]
        n_hh = len(hh)
    else:
        n_hh = int(params["budget.default_households"] if households is None else households)
        parts = make_partitions(1, 1, n_hh, int(params["budget.chunk_households"]), seed)
        results = run_partitions(_budget_chunk, parts, workers=workers, scheduler=scheduler,
                                 progress=progress, desc="budget chunks", processes=processes,
                                 common={"params": params, "replications": reps,
                                         "paths": paths})
    n_chunks = len(results)
    base_vec, boot, projected = (np.sum([r[k] for r in results], axis=0)
                                 for k in ("base", "bootstrap", "projected"))
    represented = float(params.get("budget.represented_households", 0) or 0)
    households_col = [QUANTITIES.index(f"households.{a}") for a in AREAS]
    # the real county (POLICY §9): its census residents, when its params give them
    from jiuzhu_sim.finance import represented_population_factor

    factor = (represented_population_factor(params, base_vec, QUANTITIES)
              if population is None else 1.0)
    if represented > 0:
        factor = represented / float(base_vec[households_col].sum())
    if factor != 1.0:
        base_vec, boot, projected = base_vec * factor, boot * factor, projected * factor
    draws = project(params, boot, paths, projected)
    table = summarise_draws(draws)
    standards = (draws.groupby("year")[["minimum_wage", "dibao_standard_urban",
                                        "dibao_standard_rural", "caseload_factor",
                                        "population_factor", "income_factor",
                                        "dibao_eligible_households", "dibao_recipients",
                                        "persons"]]
                 .median().reset_index())
    capacity = capacity_table(params, table, standards)
    base = {q: float(v) for q, v in zip(QUANTITIES, base_vec, strict=True)}
    summary = {
        "region_code": params.region_code,
        "base_date": params.date.isoformat(),
        "years": [first, last],
        "replications": reps,
        "sample_households": n_hh,
        "chunks": n_chunks,
        "engine": ("in-process" if workers is None and scheduler is None
                   else f"dask ({'scheduler ' + scheduler if scheduler else f'{workers} workers'})"),
        "base_year_monthly_totals": base,
        "annual_cost_p50": {f"{r.year}.{r.program}": r.p50 for r in table.itertuples()},
    }
    result = BudgetResult(table, capacity, standards, draws, base, summary)
    if out_dir is not None:
        write_budget(result, Path(out_dir), params, seed, command, started)
    return result


def write_budget(result: BudgetResult, out_dir: Path, params, seed: int,
                 command: list[str] | None, started: dt.datetime) -> list[Path]:
    from jiuzhu_sim.io import write_table
    from jiuzhu_sim.manifest import build_manifest

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [write_table(result.table, out_dir / "budget.csv"),
             write_table(result.standards, out_dir / "standards.csv"),
             write_table(result.capacity, out_dir / "capacity.csv")]
    result.summary["manifest"] = build_manifest(params=params, seed=seed, command=command,
                                                started=started)
    path = out_dir / "summary.json"
    path.write_text(json.dumps(result.summary, ensure_ascii=False, indent=2, default=str),
                    encoding="utf-8")
    return [*paths, path]
