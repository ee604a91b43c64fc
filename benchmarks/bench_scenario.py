"""Benchmarks for scenarios, budgets and chunked runs (prints figures; asserts nothing).

    .venv/bin/python benchmarks/bench_scenario.py throughput      # households/s per core
    .venv/bin/python benchmarks/bench_scenario.py budget          # 200 reps × 100k, 2 workers
    .venv/bin/python benchmarks/bench_scenario.py scenario        # scenario replications
    .venv/bin/python benchmarks/bench_scenario.py big [--households 10000000]

Peak memory is the process's maximum resident set (and its children's, for Dask workers).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

REGION = "350581"
DATE = "2024-01-01"
ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def throughput(n: int = 100_000) -> None:
    import numpy as np

    from jiuzhu_sim.parameters import load_parameters
    from jiuzhu_sim.population import generate_population
    from jiuzhu_sim.population.generate import draw_population
    from jiuzhu_sim.simulation import prepare_population, simulate_population

    params = load_parameters(REGION, DATE)
    generate_population(params, 1000, seed=0)  # first-call imports (scipy.special)
    t0 = time.perf_counter()
    persons, households = generate_population(params, n, seed=np.random.SeedSequence(1))
    t1 = time.perf_counter()
    pop = prepare_population(persons, households)
    t2 = time.perf_counter()
    simulate_population(pop, params, 1)
    t3 = time.perf_counter()
    fast = draw_population(params, n, seed=np.random.SeedSequence(1)).to_population()
    t4 = time.perf_counter()
    simulate_population(fast, params, 1)
    t5 = time.perf_counter()
    frame_bytes = (persons.memory_usage(deep=True).sum()
                   + households.memory_usage(deep=True).sum())
    print(f"throughput, {n:,} households ({len(persons):,} persons), one core:")
    print(f"  generate  {t1 - t0:6.2f} s  {n / (t1 - t0):>10,.0f} households/s")
    print(f"  prepare   {t2 - t1:6.2f} s  {n / (t2 - t1):>10,.0f} households/s")
    print(f"  simulate  {t3 - t2:6.2f} s  {n / (t3 - t2):>10,.0f} households/s")
    print(f"  all       {t3 - t0:6.2f} s  {n / (t3 - t0):>10,.0f} households/s")
    print(f"  arrays (draw_population → to_population, no IDs or frames; what scenario and "
          f"budget partitions do) {t4 - t3:.2f} s, simulate {t5 - t4:.2f} s: "
          f"{n / (t5 - t3):>10,.0f} households/s")
    print(f"  input frames {frame_bytes / n:,.0f} bytes/household; peak RSS "
          f"{_peak_mb()[0]:,.0f} MB")


def budget(n: int = 100_000, reps: int = 200, workers: int = 2) -> None:
    from jiuzhu_sim.budget import run_budget
    from jiuzhu_sim.parameters import load_parameters

    params = load_parameters(REGION, DATE, {"budget.chunk_households": n // workers})
    for w in (None, workers):
        t0 = time.perf_counter()
        result = run_budget(params, (2025, 2027), None, replications=reps, households=n,
                            seed=7, workers=w, progress=False)
        wall = time.perf_counter() - t0
        total = result.table[(result.table["program"] == "total")
                             & (result.table["year"] == 2027)].iloc[0]
        print(f"budget {reps} replications × {n:,} households, "
              f"{'in-process' if w is None else f'{w} workers'}: {wall:.1f} s; "
              f"2027 total P5/P50/P95 = {total.p5 / 1e6:,.1f} / {total.p50 / 1e6:,.1f} / "
              f"{total.p95 / 1e6:,.1f} million yuan")
    own, children = _peak_mb()
    print(f"  peak RSS driver {own:,.0f} MB, largest worker process {children:,.0f} MB")


def scenario(n: int = 100_000, reps: int = 200, workers: int = 2,
             modes: tuple[str, ...] = ("bootstrap", "fresh")) -> None:
    from jiuzhu_sim.scenario import load_scenario, run_scenario

    spec = load_scenario(ROOT / "params" / "scenarios" / "dibao_standard_48.yaml")
    spec.variants = [v for v in spec.variants if v.kind != "sweep"]
    for mode in modes:
        spec.population = {"synthetic": {"households": n, "seed": 1, "chunk_households": n},
                           "replicate": mode}
        t0 = time.perf_counter()
        result = run_scenario(spec, None, replications=reps, workers=workers, progress=False)
        wall = time.perf_counter() - t0
        comp = result.comparison.set_index("scenario")
        what = ("one population, Poisson bootstrap + new process draw per replication"
                if mode == "bootstrap" else "fresh population and process draw each")
        print(f"scenario baseline + 1 reform, {reps} replications × {n:,} households "
              f"({what}), {workers} workers: {wall:.1f} s")
        print(f"  reform cost change {comp.loc['standard_48', 'delta_cost_total'] / 1e6:,.2f} "
              f"million yuan/year; coverage P5–P95 "
              f"{comp.loc['standard_48', 'coverage_rate_p5']:.3f}–"
              f"{comp.loc['standard_48', 'coverage_rate_p95']:.3f}")
    own, children = _peak_mb()
    print(f"  peak RSS driver {own:,.0f} MB, largest worker process {children:,.0f} MB")


def big(n: int = 10_000_000, workers: int | None = None, reps: int = 20) -> None:
    from jiuzhu_sim.budget import run_budget
    from jiuzhu_sim.parameters import load_parameters

    params = load_parameters(REGION, DATE)
    t0 = time.perf_counter()
    result = run_budget(params, (2025, 2025), None, replications=reps, households=n, seed=11,
                        workers=workers, progress=True)
    wall = time.perf_counter() - t0
    own, children = _peak_mb()
    print(f"chunked budget, {n:,} households in {result.summary['chunks']} chunks of "
          f"{int(params['budget.chunk_households']):,}, "
          f"{'in-process' if workers is None else f'{workers} workers'}, {reps} replications: "
          f"{wall:.1f} s ({n / wall:,.0f} households/s)")
    print(f"  peak RSS driver {own:,.0f} MB, largest worker process {children:,.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["throughput", "budget", "scenario", "big", "all"])
    parser.add_argument("--households", type=int, default=None)
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--modes", default="bootstrap,fresh",
                        help="scenario replication modes to time (bootstrap, fresh)")
    args = parser.parse_args(argv)
    if args.what in ("throughput", "all"):
        throughput(args.households or 100_000)
    if args.what in ("budget", "all"):
        budget(args.households or 100_000, args.replications or 200, args.workers or 2)
    if args.what in ("scenario", "all"):
        scenario(args.households or 100_000, args.replications or 200, args.workers or 2,
                 tuple(args.modes.split(",")))
    if args.what in ("big", "all"):
        big(args.households or 10_000_000, args.workers, args.replications or 20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
