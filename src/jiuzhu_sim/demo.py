"""``make demo`` (``python -m jiuzhu_sim.demo``): the whole pipeline on synthetic data.

Synthesizes a population and simulates it, synthesizes an audit county and audits it, then
renders the three reports (audit look-back, scenario, budget). Everything goes under
``reports/demo/`` (``--out`` to change); each step prints one progress line with its time,
and the paths of what was written are printed at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jiuzhu_sim.exceptions import UserInputError

DEMO_REGION = "350581"
DEMO_DATE = "2024-06-30"  # inside the synthetic audit window's last month
DEMO_YEARS = "2024:2026"
DEMO_SEED = 20240101


def _run_step(number: int, total: int, label: str, action: Callable[[], Any]) -> Any:
    print(f"[{number}/{total}] {label} …", end="", flush=True)
    started = time.perf_counter()
    result = action()
    print(f" done in {time.perf_counter() - started:.1f} s", flush=True)
    return result


def _fmt(value: Any, pattern: str) -> str:
    return "n/a" if value is None else format(value, pattern)


def _print_simulation_summary(summary: dict) -> None:
    """The headline figures of summary.json, so the demo says what it found."""
    annual = summary["annual_cost"]["by_program"]
    print(f"      households {summary['households']:,}, persons {summary['persons']:,}; "
          f"dibao-eligible households {summary['eligible_households']:,}, "
          f"enrolled {summary['enrolled_households']:,}")
    print(f"      coverage {_fmt(summary.get('coverage_rate'), '.1%')}, exclusion error "
          f"{_fmt(summary.get('exclusion_error_rate'), '.1%')}, inclusion error "
          f"{_fmt(summary.get('inclusion_error_rate'), '.1%')}, leakage "
          f"{_fmt(summary.get('leakage_rate'), '.1%')}; annual cost "
          f"{_fmt(summary['annual_cost']['total'], ',.0f')} yuan ("
          + ", ".join(f"{k} {_fmt(v, ',.0f')}" for k, v in annual.items()) + ")", flush=True)


def _print_audit_summary(findings) -> None:
    counts = findings.groupby("check")["amount_at_risk"].agg(["size", "sum"])
    print(f"      {len(findings):,} findings, {findings['amount_at_risk'].sum():,.2f} yuan at "
          f"risk; by check: " + ", ".join(f"{c} {int(r['size'])}" for c, r in counts.iterrows()),
          flush=True)


def run_demo(out: Path | str = "reports/demo", households: int | None = None,
             audit_households: int | None = None, replications: int | None = None,
             seed: int = DEMO_SEED) -> dict[str, Path]:
    """Run every step; returns the named output paths."""
    from jiuzhu_sim.audit.synth import write_audit_data
    from jiuzhu_sim.parameters import load_parameters
    from jiuzhu_sim.population import write_population
    from jiuzhu_sim.report import render_report
    from jiuzhu_sim.simulation import simulate_files

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    params = load_parameters(DEMO_REGION, DEMO_DATE)
    end = str(params["audit_synth.default_end_month"])
    months = int(params["audit_synth.default_months"])
    import pandas as pd

    start = str(pd.Period(end, freq="M") - (months - 1))
    paths: dict[str, Path] = {}
    total = 7

    population = _run_step(1, total, "synthesizing population", lambda: write_population(
        out / "population", params, n_households=households, seed=seed))
    paths["population"] = out / "population"
    sim_summary = _run_step(2, total, "simulating the rules", lambda: simulate_files(
        population[0], population[1], out / "simulate", params, seed=seed,
        command=[sys.executable, "-m", "jiuzhu_sim.demo"]))
    paths["simulation"] = out / "simulate"
    _print_simulation_summary(sim_summary)
    _run_step(3, total, "synthesizing the audit county", lambda: write_audit_data(
        out / "audit_data", params, n_households=audit_households, seed=seed, start=start,
        end=end))
    paths["audit data"] = out / "audit_data"

    def audit():
        from jiuzhu_sim.audit.runner import run_audit

        return run_audit(out / "audit_data", start, end, params=params, out_dir=out / "audit",
                  command=[sys.executable, "-m", "jiuzhu_sim.demo"])

    audit_result = _run_step(4, total, f"auditing {start}–{end}", audit)
    paths["audit"] = out / "audit"
    _print_audit_summary(audit_result.findings)
    paths["audit report"] = _run_step(5, total, "rendering the audit report", lambda: render_report(
        "audit", out / "audit.html", source=out / "audit_data", start=start, end=end,
        region=DEMO_REGION, seed=seed)).html
    paths["scenario report"] = _run_step(6, total, "rendering the scenario report",
                                         lambda: render_report(
        "scenario", out / "scenario.html", seed=seed, households=households or 0,
        replications=replications or 0)).html
    paths["budget report"] = _run_step(7, total, "rendering the budget report",
                                       lambda: render_report(
        "budget", out / "budget.html", region=DEMO_REGION, date="2024-01-01", years=DEMO_YEARS,
        seed=seed, households=households or 0, replications=replications or 0)).html
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jiuzhu_sim.demo",
                                     description="run the whole pipeline on synthetic data")
    parser.add_argument("--out", type=Path, default=Path("reports/demo"))
    parser.add_argument("--households", type=int, default=None,
                        help="synthetic population households (default: parameters)")
    parser.add_argument("--audit-households", type=int, default=None,
                        help="audit county roster households (default: parameters)")
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    args = parser.parse_args(argv)
    from jiuzhu_sim.report import ReportCellError

    started = time.perf_counter()
    try:
        paths = run_demo(args.out, args.households, args.audit_households, args.replications,
                         args.seed)
    except (UserInputError, ReportCellError) as exc:
        print(f"\njiuzhu demo: {exc.one_line()}", file=sys.stderr)
        return 2 if isinstance(exc, UserInputError) else 1
    print(f"# written in {time.perf_counter() - started:.0f} s:")
    for label, path in paths.items():
        print(f"{label:<16} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
