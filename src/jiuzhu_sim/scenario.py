"""Scenarios: compare a baseline with reforms and sweep parameters (方案比较).

``jiuzhu scenario SCENARIO.yaml --out DIR [--replications N] [--workers N | --scheduler A]``.

A scenario file (examples in ``params/scenarios/``)::

    name: dibao_standard_50
    description: raise the dibao standard from 45% to 50% of the minimum wage
    region: "350581"            # or regions: ["350581", "350505"]
    date: "2024-01-01"          # parameter date of the baseline
    population:
      synthetic: {households: 20000, seed: 20240101}
      # or files: {persons: persons.csv, households: households.csv}  (relative to this file)
    replications: 1             # --replications overrides
    # population.replicate: fresh (default: each replication draws a new population and
    # process) or bootstrap (one population per chunk, re-weighted by Poisson(1) draws per
    # replication, with a new process draw — much faster, sampling via the bootstrap)
    seed: 20240101
    baseline:
      set: {dibao.standard_ratio_to_minimum_wage: 0.45}
    reforms:
      - name: standard_50
        date: "2024-07-01"      # optional: parameters in force on this date
        set: {dibao.standard_ratio_to_minimum_wage: 0.50}
    sweeps:
      - name: standard_ratio
        values:                 # one or two parameters; two make a grid
          dibao.standard_ratio_to_minimum_wage: {start: 0.40, stop: 0.60, step: 0.05}
    outputs: [comparison, winners_losers, frontier]

Every variant (baseline, each reform, each sweep point) is simulated on the same
population with the same process seed (common random numbers), partition by partition
(region × replication × population chunk, seeds spawned per partition — identical results
for any number of workers). Each partition is reduced to additive sums, so populations larger
than memory stream through. Rates are computed from the summed cells with
:mod:`jiuzhu_sim.metrics`. FGT poverty measures use the baseline's dibao standard as the
poverty line for every variant, so a higher standard does not move the line. Income deciles
for winners and losers are formed within each chunk (exact when the population is one
chunk). Temporary assistance is reported as an expected cost (households × case rate ×
mean tier amount, ``budget.temporary_*``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from jiuzhu_sim import metrics
from jiuzhu_sim.distributed import Partition, make_partitions, run_partitions
from jiuzhu_sim.exceptions import ParameterError, UserInputError

OUTPUTS = ("comparison", "winners_losers", "frontier")
REPLICATE_MODES = ("fresh", "bootstrap")
HOUSEHOLD_TYPES = ("single_person", "with_severely_disabled", "with_elderly", "with_children",
                   "other")
N_DECILES = 10
SUM_FIELDS = (
    "households", "persons", "eligible_enrolled", "eligible_not_enrolled",
    "ineligible_enrolled", "ineligible_not_enrolled", "paid_to_eligible", "paid_to_ineligible",
    "eligible_households", "eligible_persons", "dibao_recipients", "single_person_entitled",
    "single_person_enrolled", "tekun_persons", "marginal_households",
    "cost_dibao", "cost_tekun", "cost_marginal", "cost_temporary", "standard_weighted",
    "fgt0_before", "fgt1_before", "fgt2_before", "fgt0_after", "fgt1_after", "fgt2_after",
)
GROUP_FIELDS = ("households", "persons", "winners", "losers", "change", "baseline_transfers")
_TOLERANCE_YUAN = 0.005  # below half a fen a change is no change


# ---------------------------------------------------------------------------------------
# The scenario file


@dataclass
class Variant:
    """One parameter set to simulate: the baseline, a reform or a sweep point."""

    name: str
    kind: str  # baseline, reform, sweep
    overrides: dict[str, Any]
    date: str | None = None
    description: str = ""
    sweep: str = ""
    point: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScenarioSpec:
    """A parsed scenario file (see the module docstring for the format)."""

    path: Path | None
    name: str
    description: str
    regions: list[str]
    date: str | None
    population: dict[str, Any]
    replications: int
    seed: int
    variants: list[Variant]
    outputs: list[str]
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def baseline(self) -> Variant:
        return self.variants[0]


def _err(path, key: str, reason: str) -> UserInputError:
    return UserInputError(reason, file=None if path is None else str(path), column=key)


def _mapping(value, path, key) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _err(path, key, "expected a mapping")
    return value


def _overrides(block, path, key) -> dict[str, Any]:
    block = _mapping(block, path, key)
    unknown = set(block) - {"set", "date", "name", "description"}
    if unknown:
        raise _err(path, f"{key}.{sorted(unknown)[0]}", "unknown key (set, date, name, "
                   "description)")
    sets = _mapping(block.get("set"), path, f"{key}.set")
    return {str(k): v for k, v in sets.items()}


def _date_text(value, path, key) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise _err(path, key, f"{text!r} is not YYYY-MM-DD") from None
    return text


def _sweep_values(spec, path, key) -> list:
    if isinstance(spec, list) and spec:
        return spec
    if isinstance(spec, dict) and {"start", "stop", "step"} <= set(spec):
        try:
            start, stop, step = (float(spec[k]) for k in ("start", "stop", "step"))
        except (TypeError, ValueError):
            raise _err(path, key, "start, stop and step must be numbers") from None
        if step <= 0 or stop < start:
            raise _err(path, key, "need step > 0 and stop ≥ start")
        count = int(np.floor((stop - start) / step + 1e-9)) + 1
        return [round(start + i * step, 10) for i in range(count)]
    raise _err(path, key, "expected a list of values or {start, stop, step}")


def parse_scenario(doc: Any, path: Path | None = None) -> ScenarioSpec:
    """Validate a scenario mapping; a mistake is a :class:`UserInputError` naming the key."""
    if not isinstance(doc, dict):
        raise _err(path, None, "a scenario file must be a mapping")
    known = {"name", "description", "region", "regions", "date", "population", "replications",
             "seed", "baseline", "reforms", "sweeps", "outputs"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise _err(path, unknown[0], f"unknown key (known: {', '.join(sorted(known))})")
    name = str(doc.get("name") or (path.stem if path else "scenario"))
    regions = doc.get("regions", doc.get("region", "350581"))
    regions = [str(r) for r in (regions if isinstance(regions, list) else [regions])]
    if not regions:
        raise _err(path, "regions", "name at least one region")
    date = _date_text(doc.get("date"), path, "date")
    population = dict(_mapping(doc.get("population"), path, "population"))
    replicate = population.pop("replicate", "fresh")
    if replicate not in REPLICATE_MODES:
        raise _err(path, "population.replicate", f"one of {', '.join(REPLICATE_MODES)}")
    population = population or {"synthetic": {}}
    if set(population) - {"synthetic", "files"} or len(population) != 1:
        raise _err(path, "population", "give exactly one of 'synthetic' or 'files' "
                   "(and optionally 'replicate')")
    if "files" in population:
        files = _mapping(population["files"], path, "population.files")
        for k in ("persons", "households"):
            if k not in files:
                raise _err(path, f"population.files.{k}", "missing")
            p = Path(str(files[k]))
            if not p.is_absolute() and path is not None:
                p = path.parent / p
            if not p.is_file():
                raise _err(path, f"population.files.{k}", f"file not found: {p}")
            files[k] = p
        if len(regions) != 1:
            raise _err(path, "regions", "a population given as files is simulated for one "
                       "region; name one region")
        population = {"files": files}
    else:
        synth = _mapping(population["synthetic"], path, "population.synthetic")
        for k in synth:
            if k not in ("households", "seed", "chunk_households"):
                raise _err(path, f"population.synthetic.{k}", "unknown key (households, seed, "
                           "chunk_households)")
            if not isinstance(synth[k], int) or synth[k] < 1:
                raise _err(path, f"population.synthetic.{k}", "expected a positive integer")
        population = {"synthetic": synth}
    population["replicate"] = replicate
    try:
        replications = int(doc.get("replications", 1))
        seed = int(doc.get("seed", 20240101))
    except (TypeError, ValueError):
        raise _err(path, "replications", "replications and seed must be integers") from None
    if replications < 1:
        raise _err(path, "replications", "must be at least 1")
    baseline_block = doc.get("baseline")
    variants = [Variant("baseline", "baseline", _overrides(baseline_block, path, "baseline"),
                        _date_text(_mapping(baseline_block, path, "baseline").get("date"), path,
                                   "baseline.date") or date,
                        str(_mapping(baseline_block, path, "baseline").get("description", "")))]
    reforms = doc.get("reforms") or []
    if not isinstance(reforms, list):
        raise _err(path, "reforms", "expected a list")
    for i, block in enumerate(reforms):
        key = f"reforms[{i}]"
        block = _mapping(block, path, key)
        sets = _overrides(block, path, key)
        if not sets and "date" not in block:
            raise _err(path, f"{key}.set", "a reform needs parameter changes (set) or a date")
        rname = str(block.get("name") or f"reform_{i + 1}")
        if rname in {v.name for v in variants}:
            raise _err(path, f"{key}.name", f"duplicate name {rname!r}")
        variants.append(Variant(rname, "reform", {**variants[0].overrides, **sets},
                                _date_text(block.get("date"), path, f"{key}.date") or date,
                                str(block.get("description", ""))))
    sweeps = doc.get("sweeps") or []
    if not isinstance(sweeps, list):
        raise _err(path, "sweeps", "expected a list")
    for i, block in enumerate(sweeps):
        key = f"sweeps[{i}]"
        block = _mapping(block, path, key)
        values = _mapping(block.get("values"), path, f"{key}.values")
        if "parameter" in block and not isinstance(block.get("values"), dict):
            values = {str(block["parameter"]): block.get("values")}
        if not 1 <= len(values) <= 2:
            raise _err(path, f"{key}.values", "sweep one or two parameters")
        grids = {str(k): _sweep_values(v, path, f"{key}.values.{k}") for k, v in values.items()}
        sname = str(block.get("name") or f"sweep_{i + 1}")
        for combo in itertools.product(*grids.values()):
            point = dict(zip(grids, combo, strict=True))
            label = sname + ":" + ",".join(f"{k}={v}" for k, v in point.items())
            variants.append(Variant(label, "sweep", {**variants[0].overrides, **point}, date,
                                    sweep=sname, point=point))
    outputs = doc.get("outputs") or list(OUTPUTS)
    if not isinstance(outputs, list) or set(outputs) - set(OUTPUTS):
        raise _err(path, "outputs", f"a list of {', '.join(OUTPUTS)}")
    return ScenarioSpec(path, name, str(doc.get("description", "")), regions, date,
                        population, replications, seed, variants, list(outputs), dict(doc))


def load_scenario(path: Path | str) -> ScenarioSpec:
    """Read and validate a scenario YAML file."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError("scenario file not found", file=str(path))
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserInputError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=str(path),
                             row=None if mark is None else mark.line + 1) from None
    return parse_scenario(doc, path)


def variant_parameters(spec: ScenarioSpec) -> list[list]:
    """Parameters per region × variant; an unknown or bad ``set`` names the scenario key."""
    from jiuzhu_sim.parameters import load_parameters

    out = []
    for region in spec.regions:
        row = []
        for i, variant in enumerate(spec.variants):
            try:
                row.append(load_parameters(region, variant.date, variant.overrides))
            except ParameterError as exc:
                key = ("baseline" if i == 0 else f"{variant.kind} {variant.name!r}") + ".set"
                raise UserInputError(f"region {region}: {exc.one_line()}",
                                     file=None if spec.path is None else str(spec.path),
                                     column=key) from None
        out.append(row)
    return out


# ---------------------------------------------------------------------------------------
# One partition → additive sums

_POPULATION_CACHE: dict[tuple, Any] = {}
_CACHE_SIZE = 2  # populations kept per process (bootstrap replications of a chunk reuse one)


def _cached(key: tuple, build):
    """A validated population per key, kept for the next partition on this worker."""
    pop = _POPULATION_CACHE.get(key)
    if pop is None:
        pop = build()
        while len(_POPULATION_CACHE) >= _CACHE_SIZE:
            _POPULATION_CACHE.pop(next(iter(_POPULATION_CACHE)))
        _POPULATION_CACHE[key] = pop
    return pop


_HASH_CACHE: list[tuple[pd.Series, np.ndarray]] = []


def _household_hashes(pop) -> np.ndarray:
    """The process model's per-household hashes, kept for the same ID Series object: a
    synthetic chunk reuses one Series in every replication (``household_id_text``), a file
    population is cached whole. The cache holds the Series, so identity cannot be recycled."""
    from jiuzhu_sim.population.process import household_hashes

    for ids, hashes in _HASH_CACHE:
        if ids is pop.household_id:
            return hashes
    hashes = household_hashes(pop.household_id)
    _HASH_CACHE.append((pop.household_id, hashes))
    del _HASH_CACHE[:-_CACHE_SIZE]
    return hashes


def household_types(pop, severely_disabled: np.ndarray, params) -> np.ndarray:
    """Code per household into HOUSEHOLD_TYPES (first that applies): one person; a severely
    disabled member; a member aged ≥ ``dibao.elderly_age``; a member younger than
    ``tekun.minor_age``; other."""
    n = pop.n_households
    members = np.bincount(pop.hh, minlength=n)
    severe = np.bincount(pop.hh, weights=np.asarray(severely_disabled, dtype=float),
                         minlength=n) > 0
    elderly = np.bincount(pop.hh, weights=(pop.age >= float(params["dibao.elderly_age"])),
                          minlength=n) > 0
    child = np.bincount(pop.hh, weights=(pop.age < float(params["tekun.minor_age"])),
                        minlength=n) > 0
    return np.select([members == 1, severe, elderly, child], [0, 1, 2, 3], default=4)


def weighted_deciles(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Decile 0..9 of each value, by weighted rank (ties share the lower decile)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    total = cum[-1] if len(cum) else 0.0
    if total <= 0:
        return np.zeros(len(values), dtype=int)
    # a unit's decile is where its weight starts; equal values take the first unit's decile
    start = (cum - weights[order]) / total
    dec_sorted = np.minimum((start * N_DECILES).astype(int), N_DECILES - 1)
    sorted_values = values[order]
    first_of_value = np.searchsorted(sorted_values, sorted_values, side="left")
    dec_sorted = dec_sorted[first_of_value]
    out = np.empty(len(values), dtype=int)
    out[order] = dec_sorted
    return out


def _temporary_expected(params, standard: np.ndarray, weight: np.ndarray) -> float:
    from jiuzhu_sim.rules.temporary import temporary_assistance_amount

    tiers = list(params["temporary.tier_multiples_of_standard"])
    shares = np.asarray(params["budget.temporary_tier_shares"], dtype=float)
    rate = float(params["budget.temporary_case_rate"])
    mean_multiple = float(shares @ np.asarray(tiers, dtype=float))
    # expected annual amount per household = rate × mean tier amount (yuan, rounded by
    # temporary.benefit_rounding)
    amounts = temporary_assistance_amount(standard, np.zeros(len(standard), dtype=int),
                                          [mean_multiple],
                                          str(params["temporary.benefit_rounding"]))
    return float((weight * amounts).sum() * rate)


def simulate_variant(pop, params, uniforms: np.ndarray | None) -> dict[str, np.ndarray]:
    """One variant on a population: the rules' arrays plus enrollment and money paid.

    What ``simulation.simulate_population`` computes, kept as arrays (no frames, no
    summary; a partition simulates every variant and keeps sums only). ``uniforms``:
    the process model's (4, n) draws, shared by every variant (common random numbers);
    None when enrollment is observed (``enrolled_dibao``). tests/test_scenario.py checks
    that this equals ``simulate_population`` household by household.
    """
    from jiuzhu_sim.population.process import draw_process_arrays
    from jiuzhu_sim.rules import TYPE_NONE, TYPE_SINGLE, engine, round_yuan

    a = engine.compute(pop, params)
    eligible = a["h_type"] != TYPE_NONE
    assessed = a["h_assessed_out"]
    assessed = round_yuan(np.where(np.isfinite(assessed), assessed, np.nan))
    if uniforms is None:
        enrolled, measured = np.asarray(pop.enrolled_observed, dtype=bool), assessed
    else:
        draw = draw_process_arrays(uniforms, assessed, a["h_standard"],
                                   a["h_type"] == TYPE_SINGLE, a["h_assets_pass"],
                                   a["h_unit"] > 0, a["h_gradual_exit"], params)
        enrolled = draw.enrolled
        measured = round_yuan(np.where(np.isfinite(draw.measured_per_capita_income),
                                       draw.measured_per_capita_income, np.nan))
    paid = engine.paid_dibao(enrolled, eligible, a["h_dibao_benefit"], a["h_standard"],
                             measured, a["h_unit"], params)
    return {**a, "h_eligible": eligible, "h_enrolled": enrolled, "h_paid": paid}


def variant_sums(pop, v: dict[str, np.ndarray], params, baseline_line: np.ndarray,
                 income_all: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SUM_FIELDS totals and per-household monthly transfers for one simulated variant
    (``v`` from :func:`simulate_variant`)."""
    from jiuzhu_sim.rules import engine

    w = pop.weight
    members = v["h_members"].astype(float)
    eligible, enrolled, paid = v["h_eligible"], v["h_enrolled"], v["h_paid"]
    costs = engine.program_costs(paid, v["h_tekun_benefit"], v["h_marginal_benefit"])
    transfers = engine.monthly_transfers(costs)
    dibao_members = v["h_dibao_members"].astype(float)
    on_roster = engine.recipients_on_roster(eligible, enrolled, dibao_members, v["h_unit"])
    single_hh = np.bincount(pop.hh, weights=v["p_single"].astype(float),
                            minlength=pop.n_households)
    pw = float((w * members).sum())
    pc_before = income_all / members
    pc_after = pc_before + transfers / members
    months = float(params["budget.months_per_year"])
    s = {
        "households": w.sum(), "persons": pw,
        "eligible_enrolled": w[eligible & enrolled].sum(),
        "eligible_not_enrolled": w[eligible & ~enrolled].sum(),
        "ineligible_enrolled": w[~eligible & enrolled].sum(),
        "ineligible_not_enrolled": w[~eligible & ~enrolled].sum(),
        "paid_to_eligible": (w * paid)[eligible].sum(),
        "paid_to_ineligible": (w * paid)[~eligible].sum(),
        "eligible_households": w[eligible].sum(),
        "eligible_persons": (w * dibao_members)[eligible].sum(),
        "dibao_recipients": (w * on_roster).sum(),
        "single_person_entitled": (w * single_hh).sum(),
        "single_person_enrolled": (w * single_hh)[enrolled].sum(),
        "tekun_persons": (w * v["h_tekun_persons"].astype(float)).sum(),
        "marginal_households": w[v["h_marginal"]].sum(),
        **{f"cost_{program}": (w * costs[program]).sum() * months
           for program in engine.PROGRAMS},
        "cost_temporary": _temporary_expected(params, v["h_standard"], w),
        "standard_weighted": (w * v["h_standard"]).sum(),
    }
    for when, pc in (("before", pc_before), ("after", pc_after)):
        for alpha in (0, 1, 2):
            value = metrics.fgt(pc, baseline_line, members, w, alpha)
            s[f"fgt{alpha}_{when}"] = 0.0 if value is None else value * pw
    return np.array([s[f] for f in SUM_FIELDS], dtype=float), transfers


def _scenario_partition(part: Partition, common: dict) -> dict[str, np.ndarray]:
    """Simulate every variant on one partition's population; return summed cells."""
    from jiuzhu_sim.population.process import process_key, uniforms_from_hashes
    from jiuzhu_sim.simulation import read_population

    spec: ScenarioSpec = common["spec"]
    params_row = common["params"][part.region_index]
    base_params = params_row[0]
    bootstrap = spec.population.get("replicate") == "bootstrap"
    if "files" in spec.population:
        files = spec.population["files"]
        # keyed on the files' content (sha256, hashed once by run_scenario): a file rewritten
        # between two runs in one process (a notebook, a long-lived worker) is read afresh
        key = ("files", *common["file_keys"])
        pop = _cached(key, lambda: read_population(files["persons"], files["households"]))
    else:
        from jiuzhu_sim.population.generate import draw_population

        # bootstrap: one population per (region, chunk), shared by every replication
        source = Partition(part.region_index, 0, part.chunk, part.start_index,
                           part.n_households, part.root_seed) if bootstrap else part

        def build():
            # arrays straight to the rules: no tables, no resident IDs (nothing is written)
            return draw_population(base_params, source.n_households, seed=source.child_seed(0),
                                   start_index=source.start_index).to_population()

        if bootstrap:
            # what the draw depends on: the region's baseline parameters (code and hash),
            # the chunk's position and size, and the root seed
            pop = _cached(("synthetic", *common["region_keys"][part.region_index], part.chunk,
                           part.n_households, part.start_index, part.root_seed), build)
        else:
            pop = build()
    if bootstrap:
        draws = np.random.default_rng(part.child_seed(2)).poisson(1.0, pop.n_households)
        pop = dataclasses.replace(pop, weight=pop.weight * draws)
    process_seed = int(part.child_seed(1).generate_state(1, dtype=np.uint32)[0])
    uniforms = None
    if pop.enrolled_observed is None:
        # the same draws as simulate_population(pop, params, process_seed), once for all
        hashes = _household_hashes(pop)
        uniforms = uniforms_from_hashes(hashes, process_key(np.random.default_rng(process_seed)),
                                        4)
    n = pop.n_households
    income_all = np.bincount(pop.hh, weights=pop.monthly_income, minlength=n)
    members = np.bincount(pop.hh, minlength=n).astype(float)
    w = pop.weight
    sums = np.zeros((len(spec.variants), len(SUM_FIELDS)))
    groups = np.zeros((len(spec.variants), N_DECILES + len(HOUSEHOLD_TYPES), len(GROUP_FIELDS)))
    baseline_transfers = line = None
    for v, params in enumerate(params_row):
        arrays = simulate_variant(pop, params, uniforms)
        if v == 0:
            line = arrays["h_standard"]
            group = np.concatenate([
                weighted_deciles(income_all / members, w * members)[None, :],
                N_DECILES + household_types(pop, arrays["p_severe"], params)[None, :]])
        sums[v], transfers = variant_sums(pop, arrays, params, line, income_all)
        if v == 0:
            baseline_transfers = transfers
        change = transfers - baseline_transfers
        fields = np.column_stack([w, w * members, w * (change > _TOLERANCE_YUAN),
                                  w * (change < -_TOLERANCE_YUAN), w * change,
                                  w * baseline_transfers])
        for codes in group:
            for f in range(len(GROUP_FIELDS)):
                groups[v, :, f] += np.bincount(codes, weights=fields[:, f],
                                               minlength=groups.shape[1])
    return {"sums": sums, "groups": groups}


# ---------------------------------------------------------------------------------------
# Sums → tables


def rates_from_sums(s: dict[str, float]) -> dict[str, float | None]:
    """Targeting rates and FGT from summed cells, with :mod:`jiuzhu_sim.metrics`."""
    eligible = np.array([True, True, False, False])
    enrolled = np.array([True, False, True, False])
    cells = np.array([s["eligible_enrolled"], s["eligible_not_enrolled"],
                      s["ineligible_enrolled"], s["ineligible_not_enrolled"]])
    out = {
        "coverage_rate": metrics.coverage_rate(eligible, enrolled, cells),
        "exclusion_error_rate": metrics.exclusion_error_rate(eligible, enrolled, cells),
        "inclusion_error_rate": metrics.inclusion_error_rate(eligible, enrolled, cells),
        "leakage_rate": metrics.leakage_rate(
            np.array([s["paid_to_eligible"], s["paid_to_ineligible"]]), np.array([True, False])),
    }
    for when in ("before", "after"):
        for alpha in (0, 1, 2):
            out[f"fgt{alpha}_{when}"] = metrics.safe_ratio(s[f"fgt{alpha}_{when}"],
                                                           s["persons"])
    return out


def _row(s_vec: np.ndarray) -> dict[str, float | None]:
    s = dict(zip(SUM_FIELDS, s_vec.tolist(), strict=True))
    costs = {k: s[k] for k in SUM_FIELDS if k.startswith("cost_")}
    keep = ("households", "persons", "eligible_households", "eligible_persons",
            "enrolled_households", "dibao_recipients", "single_person_entitled",
            "single_person_enrolled", "tekun_persons", "marginal_households")
    s["enrolled_households"] = s["eligible_enrolled"] + s["ineligible_enrolled"]
    row = {k: s[k] for k in keep}
    # each household's own standard (urban/rural, its region), averaged over households
    row["dibao_standard_mean"] = metrics.safe_ratio(s["standard_weighted"], s["households"])
    row.update(rates_from_sums(s))
    row.update(costs)
    row["cost_total"] = sum(costs.values())
    return row


def _describe(rows: list[dict], replications: int) -> dict[str, Any]:
    """Mean over replications, with p5/p95 columns (spread of one replication) and ``_se``
    (Monte Carlo standard error of the mean, sd / √replications) when there is more than
    one."""
    frame = pd.DataFrame(rows).astype(float)
    out: dict[str, Any] = frame.mean().to_dict()
    if replications > 1:
        for col in ("coverage_rate", "exclusion_error_rate", "inclusion_error_rate",
                    "leakage_rate", "cost_total", "fgt0_after"):
            out[f"{col}_p5"] = float(np.nanpercentile(frame[col], 5))
            out[f"{col}_p95"] = float(np.nanpercentile(frame[col], 95))
            out[f"{col}_se"] = float(frame[col].std(ddof=1) / np.sqrt(replications))
    return out


@dataclass
class ScenarioResult:
    """What :func:`run_scenario` returns (and writes as CSV + JSON).

    Attributes:
        comparison: one row per variant (baseline, then reforms) and region ("all" and each
            region when there are several): households, persons, eligible and enrolled counts,
            ``dibao_standard_mean`` (households' own monthly standard, weighted mean),
            ``coverage_rate, exclusion_error_rate, inclusion_error_rate, leakage_rate``,
            annual ``cost_dibao, cost_tekun, cost_marginal, cost_temporary, cost_total``
            (yuan), ``fgt{0,1,2}_{before,after}`` (poverty line: the baseline standard),
            ``delta_cost_total`` vs baseline; means over replications (+ p5/p95 columns).
        winners_losers: one row per reform × group (``group_type`` income_decile 1–10 by
            pre-transfer per-capita income, or household_type): households, persons,
            ``winners_share, losers_share``, ``mean_monthly_change`` per household and
            ``annual_change`` (yuan).
        frontier: one row per sweep point: the swept parameter values and the comparison
            metrics.
        summary: summary.json content (scenario, regions, replications, variants, manifest).
    """

    comparison: pd.DataFrame
    winners_losers: pd.DataFrame
    frontier: pd.DataFrame
    summary: dict[str, Any]


def run_scenario(spec: ScenarioSpec | Path | str, out_dir: Path | str | None = None,
                 replications: int | None = None, workers: int | None = None,
                 scheduler: str | None = None, *, progress: bool = True,
                 command: list[str] | None = None, processes: bool = True) -> ScenarioResult:
    """Run a scenario (a file path or a :class:`ScenarioSpec`); write outputs to ``out_dir``.

    Args:
        replications: overrides the file's ``replications`` (population + process draws).
        workers / scheduler: run partitions on a local Dask cluster / an existing one.
    """
    started = dt.datetime.now(dt.UTC)
    if not isinstance(spec, ScenarioSpec):
        spec = load_scenario(spec)
    reps = int(spec.replications if replications is None else replications)
    if reps < 1:
        raise UserInputError(f"--replications {reps}: must be at least 1")
    params = variant_parameters(spec)
    if "files" in spec.population:
        n_hh, chunk = 1, 1  # one chunk: the whole file
    else:
        synth = spec.population["synthetic"]
        base = params[0][0]
        n_hh = int(synth.get("households", base["budget.default_households"]))
        chunk = int(synth.get("chunk_households", base["budget.chunk_households"]))
    seed = int(spec.population.get("synthetic", {}).get("seed", spec.seed))
    parts = make_partitions(len(spec.regions), reps, n_hh, chunk, seed)
    results = run_partitions(_scenario_partition, parts, workers=workers, scheduler=scheduler,
                             progress=progress, desc="scenario partitions", processes=processes,
                             common={"spec": spec, "params": params,
                                     "file_keys": _file_keys(spec),
                                     "region_keys": [(code, row[0].sha256()) for code, row
                                                     in zip(spec.regions, params,
                                                            strict=True)]})
    n_var = len(spec.variants)
    sums = np.zeros((len(spec.regions), reps, n_var, len(SUM_FIELDS)))
    groups = np.zeros((n_var, N_DECILES + len(HOUSEHOLD_TYPES), len(GROUP_FIELDS)))
    for part, res in zip(parts, results, strict=True):
        sums[part.region_index, part.replication] += res["sums"]
        groups += res["groups"]
    region_sets = [("all", sums.sum(axis=0))]
    if len(spec.regions) > 1:
        region_sets += [(code, sums[i]) for i, code in enumerate(spec.regions)]
    comp_rows, frontier_rows = [], []
    for region, block in region_sets:
        base_cost = None
        for v, variant in enumerate(spec.variants):
            row = _describe([_row(block[r, v]) for r in range(reps)], reps)
            if v == 0:
                base_cost = row["cost_total"]
            row["delta_cost_total"] = row["cost_total"] - base_cost
            head = {"scenario": variant.name, "kind": variant.kind, "region": region,
                    "date": variant.date or "", "replications": reps}
            if variant.kind == "sweep":
                if region == "all":
                    frontier_rows.append({"sweep": variant.sweep, **variant.point, **head, **row})
            else:
                comp_rows.append({**head, "description": variant.description, **row})
    comparison = pd.DataFrame(comp_rows)
    frontier = pd.DataFrame(frontier_rows)
    winners_losers = _winners_losers(spec, groups, reps)
    summary = {
        "scenario": spec.name, "description": spec.description, "regions": spec.regions,
        "date": spec.date, "replications": reps, "partitions": len(parts),
        "sample_households_per_region": n_hh if "files" not in spec.population else None,
        "engine": ("in-process" if workers is None and scheduler is None
                   else f"dask ({'scheduler ' + scheduler if scheduler else f'{workers} workers'})"),
        "variants": [{"name": v.name, "kind": v.kind, "date": v.date, "set": v.overrides}
                     for v in spec.variants],
        "comparison": comparison.replace({np.nan: None}).to_dict(orient="records"),
    }
    result = ScenarioResult(comparison, winners_losers, frontier, summary)
    if out_dir is not None:
        write_scenario(result, spec, Path(out_dir), params[0][0], seed, command, started)
    return result


def _file_keys(spec: ScenarioSpec) -> tuple:
    """(path, sha256) of the persons and households files, or () for a synthetic population."""
    from jiuzhu_sim.manifest import sha256_file

    if "files" not in spec.population:
        return ()
    files = spec.population["files"]
    return tuple((str(files[k]), sha256_file(files[k])) for k in ("persons", "households"))


def _winners_losers(spec: ScenarioSpec, groups: np.ndarray, reps: int) -> pd.DataFrame:
    rows = []
    labels = [("income_decile", str(d + 1)) for d in range(N_DECILES)] + [
        ("household_type", t) for t in HOUSEHOLD_TYPES]
    for v, variant in enumerate(spec.variants):
        if variant.kind != "reform":
            continue
        for g, (gtype, label) in enumerate(labels):
            f = dict(zip(GROUP_FIELDS, groups[v, g].tolist(), strict=True))
            hh = f["households"]
            rows.append({
                "scenario": variant.name, "group_type": gtype, "group": label,
                "households": hh / reps, "persons": f["persons"] / reps,
                "winners_share": metrics.safe_ratio(f["winners"], hh),
                "losers_share": metrics.safe_ratio(f["losers"], hh),
                "mean_monthly_change": metrics.safe_ratio(f["change"], hh),
                "annual_change": f["change"] / reps * 12.0,
                "baseline_annual_transfers": f["baseline_transfers"] / reps * 12.0,
            })
    return pd.DataFrame(rows)


def write_scenario(result: ScenarioResult, spec: ScenarioSpec, out_dir: Path, params, seed: int,
                   command: list[str] | None, started: dt.datetime) -> list[Path]:
    """comparison.csv, winners_losers.csv, frontier.csv (as asked in ``outputs``) and
    summary.json with the manifest (CONTRACT §7)."""
    from jiuzhu_sim.io import write_table
    from jiuzhu_sim.manifest import build_manifest

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in spec.outputs:
        frame = getattr(result, name)
        if name == "frontier" and frame.empty:
            continue
        paths.append(write_table(frame, out_dir / f"{name}.csv"))
    inputs = [spec.path] if spec.path is not None else []
    if "files" in spec.population:
        inputs += [spec.population["files"]["persons"], spec.population["files"]["households"]]
    result.summary["manifest"] = build_manifest(params=params, inputs=inputs, seed=seed,
                                                command=command, started=started)
    path = out_dir / "summary.json"
    path.write_text(json.dumps(result.summary, ensure_ascii=False, indent=2, default=str),
                    encoding="utf-8")
    return [*paths, path]
