"""Generation speed of the synthetic population (population/generate.py); prints figures.

    .venv/bin/python benchmarks/bench_population.py [--households 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import time

from jiuzhu_sim.parameters import load_parameters
from jiuzhu_sim.population import generate_population
from jiuzhu_sim.population.generate import draw_population


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--region", default="350581")
    args = ap.parse_args()
    params = load_parameters(args.region, "2023-01-01")
    generate_population(params, 1_000, seed=0)  # warm-up (imports, scipy)
    best = float("inf")
    for rep in range(args.repeat):
        start = time.perf_counter()
        persons, households = generate_population(params, args.households, seed=rep)
        best = min(best, time.perf_counter() - start)
    arrays = float("inf")
    for rep in range(args.repeat):
        start = time.perf_counter()
        draw_population(params, args.households, seed=rep).to_population()
        arrays = min(arrays, time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"region {args.region}: {args.households:,} households, {len(persons):,} persons")
    print(f"best of {args.repeat}: {best:.3f} s = {args.households / best:,.0f} households/s, "
          f"{len(persons) / best:,.0f} persons/s (frames with resident IDs)")
    print(f"arrays only (draw_population → to_population, as scenario partitions do): "
          f"{arrays:.3f} s = {args.households / arrays:,.0f} households/s; "
          f"peak RSS {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
