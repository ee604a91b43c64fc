"""Scenario explorer: what-if on one population, recomputed live (docs/explore.md).

A :class:`ScenarioExplorer` draws its population once — exactly the population and the
process draws (common random numbers) that ``jiuzhu scenario`` draws for a one-region,
one-replication synthetic scenario with the same size and seed — and, on every control
change, re-runs the scenario engine (:func:`jiuzhu_sim.scenario.simulate_variant`, i.e. the
rule engine of :mod:`jiuzhu_sim.simulation`, then :func:`jiuzhu_sim.scenario.variant_sums`
and :func:`jiuzhu_sim.scenario.rates_from_sums`). No rule is computed here: a control is
only a parameter override. So the figures shown are the figures ``jiuzhu scenario`` gives
for the YAML that :meth:`ScenarioExplorer.save_scenario` writes
(tests/test_explore_scenario.py runs it).

The poverty measures use the baseline's dibao standard as the line for every setting
(as ``jiuzhu scenario`` does), so raising the standard does not move the line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from jiuzhu_sim.exceptions import ParameterError, UserInputError

CONTROLS: dict[str, str] = {
    "standard_ratio": "dibao.standard_ratio_to_minimum_wage",
    "standard": "dibao.standard",
    "marginal_ratio": "marginal.ratio_to_dibao",
    "take_up": "process.take_up_probability",
    "gradual_exit_months": "dibao.gradual_exit_months",
    "severe_grade": "dibao.severe_disability_max_grade",
    "severe_grade_intellectual_mental": "dibao.severe_disability_max_grade_intellectual_mental",
}
"""Explorer control → the parameter it overrides. ``standard`` (an explicit published
standard, yuan/person/month) replaces the standard derived from ``standard_ratio``."""

INTEGER_CONTROLS = ("gradual_exit_months", "severe_grade", "severe_grade_intellectual_mental")
SHARE_CONTROLS = ("take_up",)
DISABILITY_GRADES = (1, 2, 3, 4)  # the certificate's grades (CONTRACT §3: 1–4, 1 most severe)

# The frontier's grid: display choices of the explorer, not policy values. With a derived
# standard it sweeps the ratio to the minimum wage; with an explicit standard, multiples of it.
FRONTIER_STANDARD_RATIOS = (0.30, 0.35, 0.40, 0.45, 0.48, 0.50, 0.55, 0.60, 0.65, 0.70)
FRONTIER_STANDARD_MULTIPLES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4)

METRICS: tuple[tuple[str, str, str], ...] = (
    # (key, label, kind: rate | count | yuan | yuan_month)
    ("dibao_standard_mean", "低保标准 dibao standard (yuan/person/month, mean)", "yuan_month"),
    ("eligible_households", "应保户 eligible households", "count"),
    ("enrolled_households", "在保户 enrolled households", "count"),
    ("coverage_rate", "覆盖率 coverage", "rate"),
    ("exclusion_error_rate", "漏保率 exclusion error", "rate"),
    ("inclusion_error_rate", "错保率 inclusion error", "rate"),
    ("leakage_rate", "资金漏出率 leakage", "rate"),
    ("fgt0_after", "贫困发生率 poverty headcount (after transfers)", "rate"),
    ("fgt1_after", "贫困缺口 poverty gap (after transfers)", "rate"),
    ("cost_total", "年度支出合计 annual cost, total (yuan)", "yuan"),
)
COST_PROGRAMS: tuple[tuple[str, str], ...] = (
    ("cost_dibao", "低保 dibao"), ("cost_tekun", "特困 tekun"),
    ("cost_marginal", "低保边缘 marginal"), ("cost_temporary", "临时救助 temporary (expected)"),
)


@dataclass
class ExplorerResult:
    """One recomputation: the current setting's figures beside the baseline's."""

    controls: dict[str, Any]
    overrides: dict[str, Any]
    current: dict[str, float | None]
    baseline: dict[str, float | None]
    seconds: float
    frontier: pd.DataFrame | None = None
    frontier_parameter: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def coverage_rate(self) -> float | None:
        return self.current["coverage_rate"]

    def comparison(self) -> pd.DataFrame:
        """Metric rows: label, baseline, current, change (raw numbers)."""
        rows = []
        for key, label, kind in METRICS:
            base, cur = self.baseline.get(key), self.current.get(key)
            change = None if base is None or cur is None else cur - base
            rows.append({"metric": key, "label": label, "kind": kind, "baseline": base,
                         "current": cur, "change": change})
        return pd.DataFrame(rows)

    def costs(self) -> pd.DataFrame:
        """Annual cost by program (yuan): baseline, current, change."""
        rows = [{"program": label, "baseline": self.baseline[key], "current": self.current[key],
                 "change": self.current[key] - self.baseline[key]}
                for key, label in COST_PROGRAMS]
        rows.append({"program": "合计 total", "baseline": self.baseline["cost_total"],
                     "current": self.current["cost_total"],
                     "change": self.current["cost_total"] - self.baseline["cost_total"]})
        return pd.DataFrame(rows)


def format_value(value: float | None, kind: str) -> str:
    """A figure as the explorer shows it: rates in % to two decimals, money in yuan."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    if kind == "rate":
        return f"{100 * value:.2f}%"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "yuan_month":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _plain(value: Any) -> Any:
    """numpy scalars → Python numbers (for YAML and equality)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class ScenarioExplorer:
    """Hold a population and its process draws; recompute figures for any control setting.

    Args:
        region, date: the baseline's parameters (region code or name, YYYY-MM-DD).
        households, seed: the synthetic population (as ``population.synthetic`` of a
            scenario file; the population is one chunk).
        baseline: parameter overrides of the baseline (dotted name → value).
        files: ``(persons, households)`` paths instead of a synthetic population.
    """

    def __init__(self, region: str = "350581", date: str = "2024-01-01",
                 households: int = 20_000, seed: int = 20240101,
                 baseline: dict[str, Any] | None = None,
                 files: tuple[Path | str, Path | str] | None = None):
        self.households = int(households)
        if self.households < 1:
            raise UserInputError(f"households {households}: must be at least 1",
                                 column="households")
        self.seed = int(seed)
        self.baseline_overrides = {str(k): _plain(v) for k, v in (baseline or {}).items()}
        self.files = None if files is None else (Path(files[0]), Path(files[1]))
        self._frontier_cache: dict[tuple, pd.DataFrame] = {}
        self.set_region(region, date)

    # -- population ----------------------------------------------------------------------

    def set_region(self, region: str, date: str) -> None:
        """Load the baseline parameters of ``region`` on ``date`` and draw the population
        ``jiuzhu scenario`` would draw for them (about a second for 20,000 households)."""
        from jiuzhu_sim.distributed import make_partitions
        from jiuzhu_sim.parameters import apply_overrides, load_parameters
        from jiuzhu_sim.population.process import (
            household_hashes,
            process_key,
            uniforms_from_hashes,
        )

        try:
            # the region's parameters once; each setting applies its overrides to them, as
            # load_parameters(region, date, overrides) does (its last step)
            in_force = load_parameters(str(region), str(date))
            base_params = apply_overrides(in_force, self.baseline_overrides)
        except ParameterError as exc:
            # a bad region or date leaves the explorer as it was
            raise UserInputError(exc.one_line(), column="region/date") from None
        self.region, self.date = str(region), str(date)
        self._in_force, self.base_params = in_force, base_params
        self.region_code = self.base_params.region_code
        # one region, one replication, one chunk: the partition run_scenario makes
        part = make_partitions(1, 1, 1 if self.files else self.households,
                               1 if self.files else self.households, self.seed)[0]
        if self.files:
            from jiuzhu_sim.simulation import read_population

            self.population = read_population(*self.files)
        else:
            from jiuzhu_sim.population.generate import draw_population

            self.population = draw_population(self.base_params, self.households,
                                              seed=part.child_seed(0),
                                              start_index=part.start_index).to_population()
        pop = self.population
        self.uniforms = None
        if pop.enrolled_observed is None:
            process_seed = int(part.child_seed(1).generate_state(1, dtype=np.uint32)[0])
            self.uniforms = uniforms_from_hashes(
                household_hashes(pop.household_id),
                process_key(np.random.default_rng(process_seed)), 4)
        self.income_all = np.bincount(pop.hh, weights=pop.monthly_income,
                                      minlength=pop.n_households)
        self._frontier_cache.clear()
        base = self._simulate(self.base_params)
        self.poverty_line = base[1]
        self.baseline = base[0]

    # -- parameters ----------------------------------------------------------------------

    def _load(self, overrides: dict[str, Any]):
        from jiuzhu_sim.parameters import apply_overrides

        try:
            return apply_overrides(self._in_force, {**self.baseline_overrides, **overrides})
        except ParameterError as exc:
            raise UserInputError(exc.one_line(), column="controls") from None

    def baseline_controls(self) -> dict[str, Any]:
        """Each control's value in the baseline parameters (``standard``: the standard in
        force, derived or published)."""
        return {name: _plain(self.base_params[param]) for name, param in CONTROLS.items()}

    def overrides(self, controls: dict[str, Any] | None = None) -> dict[str, Any]:
        """Parameter overrides for a control setting: only controls that differ from the
        baseline; an explicit ``standard`` drops ``standard_ratio`` (it has no effect)."""
        base = self.baseline_controls()
        out: dict[str, Any] = {}
        for name, value in (controls or {}).items():
            if name not in CONTROLS:
                raise UserInputError(f"unknown control {name!r} (known: "
                                     f"{', '.join(CONTROLS)})", column=name)
            if value is None:
                continue
            value = _check_control(name, value)
            if value != base[name]:
                out[CONTROLS[name]] = value
        if CONTROLS["standard"] in out:
            out.pop(CONTROLS["standard_ratio"], None)
        return out

    # -- computation ---------------------------------------------------------------------

    def _simulate(self, params, line: np.ndarray | None = None
                  ) -> tuple[dict[str, float | None], np.ndarray]:
        from jiuzhu_sim.scenario import SUM_FIELDS, rates_from_sums, simulate_variant, variant_sums

        arrays = simulate_variant(self.population, params, self.uniforms)
        if line is None:
            line = arrays["h_standard"]
        sums_vec, _ = variant_sums(self.population, arrays, params, line, self.income_all)
        sums = dict(zip(SUM_FIELDS, sums_vec.tolist(), strict=True))
        figures: dict[str, float | None] = {
            "households": sums["households"],
            "eligible_households": sums["eligible_households"],
            "enrolled_households": sums["eligible_enrolled"] + sums["ineligible_enrolled"],
            "dibao_standard_mean": sums["standard_weighted"] / sums["households"],
        }
        figures.update(rates_from_sums(sums))
        for key, _ in COST_PROGRAMS:
            figures[key] = sums[key]
        figures["cost_total"] = sum(sums[key] for key, _ in COST_PROGRAMS)
        return figures, line

    def compute(self, controls: dict[str, Any] | None = None) -> dict[str, float | None]:
        """The figures for one control setting (no frontier)."""
        params = self._load(self.overrides(controls))
        return self._simulate(params, self.poverty_line)[0]

    def frontier(self, controls: dict[str, Any] | None = None) -> tuple[str, pd.DataFrame]:
        """Coverage, cost and leakage along the standard, the other controls as set:
        ``(parameter swept, frame)`` with one row per grid value."""
        overrides = self.overrides(controls)
        explicit = CONTROLS["standard"] in overrides
        rest = {k: v for k, v in overrides.items()
                if k not in (CONTROLS["standard"], CONTROLS["standard_ratio"])}
        if explicit:
            parameter = CONTROLS["standard"]
            grid = [round(overrides[parameter] * m, 2) for m in FRONTIER_STANDARD_MULTIPLES]
        else:
            parameter = CONTROLS["standard_ratio"]
            grid = list(FRONTIER_STANDARD_RATIOS)
        key = (parameter, tuple(grid), tuple(sorted(rest.items())))
        if key not in self._frontier_cache:
            rows = []
            for value in grid:
                figures = self._simulate(self._load({**rest, parameter: value}),
                                         self.poverty_line)[0]
                rows.append({"value": value, **figures})
            self._frontier_cache[key] = pd.DataFrame(rows)
        return parameter, self._frontier_cache[key]

    def update(self, controls: dict[str, Any] | None = None, *, frontier: bool = True
               ) -> ExplorerResult:
        """Recompute for a control setting: figures beside the baseline and the frontier
        (timed; docs/explore.md and benchmarks/bench_explore.py)."""
        started = time.perf_counter()
        controls = dict(controls or {})
        overrides = self.overrides(controls)
        current = self._simulate(self._load(overrides), self.poverty_line)[0]
        result = ExplorerResult(controls, overrides, current, self.baseline, 0.0)
        if frontier:
            result.frontier_parameter, result.frontier = self.frontier(controls)
        result.seconds = time.perf_counter() - started
        return result

    # -- saving --------------------------------------------------------------------------

    def scenario_document(self, controls: dict[str, Any] | None = None, *,
                          name: str = "explored", description: str = "") -> dict[str, Any]:
        """The scenario file (``jiuzhu scenario``) for the baseline and this setting."""
        overrides = self.overrides(controls)
        if not overrides:
            raise UserInputError("the setting equals the baseline: change a control first",
                                 column="controls")
        if self.files:
            population: dict[str, Any] = {"files": {"persons": str(self.files[0].resolve()),
                                                    "households": str(self.files[1].resolve())}}
        else:
            population = {"synthetic": {"households": self.households, "seed": self.seed,
                                        "chunk_households": self.households}}
        changes = ", ".join(f"{k}={v}" for k, v in overrides.items())
        return {
            "name": str(name),
            "description": description or f"explorer: {changes}",
            "region": self.region_code,
            "date": self.date,
            "population": population,
            "replications": 1,
            "seed": self.seed,
            "baseline": {"description": "parameters in force (explorer baseline)",
                         "set": dict(self.baseline_overrides)},
            "reforms": [{"name": str(name), "description": changes,
                         "set": {k: _plain(v) for k, v in overrides.items()}}],
            "outputs": ["comparison", "winners_losers"],
        }

    def save_scenario(self, path: Path | str, controls: dict[str, Any] | None = None, *,
                      name: str = "explored", description: str = "") -> Path:
        """Write the scenario YAML that ``jiuzhu scenario PATH --out DIR`` runs."""
        doc = self.scenario_document(controls, name=name, description=description)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = ("# Written by the scenario explorer (jiuzhu_sim.explore). Run with:\n"
                  f"#   jiuzhu scenario {path.name} --out OUT_DIR\n")
        path.write_text(header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        return path


def _check_control(name: str, value: Any) -> Any:
    """A control value as its parameter's type; a bad value names the control."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserInputError(f"{value!r} is not a number", column=name) from None
    if not np.isfinite(number) or number < 0:
        raise UserInputError(f"{value!r}: must be a finite number ≥ 0", column=name)
    if name in INTEGER_CONTROLS:
        if number != int(number):
            raise UserInputError(f"{value!r}: must be a whole number", column=name)
        number = int(number)
        if name.startswith("severe_grade") and number not in DISABILITY_GRADES:
            raise UserInputError(f"{value!r}: a disability grade is 1–4", column=name)
        return number
    if name in SHARE_CONTROLS and number > 1:
        raise UserInputError(f"{value!r}: a probability is between 0 and 1", column=name)
    if name != "take_up" and number == 0:
        raise UserInputError(f"{value!r}: must be positive", column=name)
    return number


def frontier_figure(result: ExplorerResult):
    """Coverage against annual cost along the standard, leakage as colour; the baseline and
    the current setting marked. A :class:`matplotlib.figure.Figure` (no pyplot state)."""
    from matplotlib.figure import Figure

    from jiuzhu_sim.plotting import setup_fonts

    setup_fonts()
    fig = Figure(figsize=(6.4, 4.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(alpha=0.3)
    frame = result.frontier
    if frame is not None and len(frame):
        cost = frame["cost_total"].to_numpy(float) / 1e4
        coverage = 100 * frame["coverage_rate"].astype(float).to_numpy()
        leakage = 100 * frame["leakage_rate"].astype(float).to_numpy()
        ax.plot(cost, coverage, color="#8c8c8c", linewidth=1, zorder=1)
        dots = ax.scatter(cost, coverage, c=leakage, cmap="viridis", s=36, zorder=2)
        fig.colorbar(dots, ax=ax, label="资金漏出率 leakage (%)")
        explicit = result.frontier_parameter == CONTROLS["standard"]
        for x, y, value in zip(cost, coverage, frame["value"], strict=True):
            ax.annotate(f"{value:g}" if explicit else f"{value:.0%}", (x, y), fontsize=7,
                        xytext=(3, 3), textcoords="offset points", color="#555555")
    for figures, marker, label, colour in (
            (result.baseline, "D", "基线 baseline", "#3b6ea5"),
            (result.current, "*", "当前 current", "#b5485d")):
        if figures.get("coverage_rate") is not None:
            ax.scatter([figures["cost_total"] / 1e4], [100 * figures["coverage_rate"]],
                       marker=marker, s=160 if marker == "*" else 70, color=colour,
                       edgecolor="black", zorder=3, label=label)
    swept = ("明确标准 explicit standard (yuan)" if result.frontier_parameter ==
             CONTROLS["standard"] else "低保标准/最低工资 standard ratio")
    ax.set_title(f"覆盖率–支出–漏出 frontier along the {swept.split(' ', 1)[1]}", fontsize=11)
    ax.set_xlabel("年度支出 annual cost (万元 10,000 yuan)")
    ax.set_ylabel("覆盖率 coverage (%)")
    ax.legend(loc="lower right", fontsize=8)
    return fig
