"""How long one scenario-explorer recomputation takes (prints figures; asserts nothing).

    .venv/bin/python benchmarks/bench_explore.py [--households 20000] [--repeat 5]

A recomputation is what a slider move triggers (``ScenarioExplorer.update``): the rules on
every household, the process draws re-applied (common random numbers), the metrics, and the
coverage–cost–leakage frontier (one more recomputation per grid point). The frontier is
cached by the controls other than the standard, so moving the standard alone recomputes one
point; any other control recomputes the frontier too. Both are timed, median of ``--repeat``.
"""

from __future__ import annotations

import argparse
import statistics
import time

REGION = "350581"
DATE = "2024-01-01"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from jiuzhu_sim.explore import ScenarioExplorer

    t0 = time.perf_counter()
    explorer = ScenarioExplorer(REGION, DATE, households=args.households)
    setup = time.perf_counter() - t0
    print(f"population of {args.households:,} households drawn and baseline computed "
          f"in {setup:.2f} s (once per region/date)")

    point, full = [], []
    for i in range(args.repeat):
        # a new standard ratio: one point, frontier from the cache (same other controls)
        explorer.update({"take_up": 0.8})  # warm the frontier cache for these controls
        result = explorer.update({"standard_ratio": 0.50 + 0.01 * i, "take_up": 0.8})
        point.append(result.seconds)
        # a new take-up: the point and the whole frontier
        result = explorer.update({"standard_ratio": 0.50, "take_up": 0.70 + 0.01 * i})
        full.append(result.seconds)
    n_grid = len(result.frontier)
    print(f"one recomputation (slider on the standard; figures beside the baseline): "
          f"median {statistics.median(point):.3f} s, max {max(point):.3f} s")
    print(f"one recomputation with the frontier ({n_grid} more points; any other control): "
          f"median {statistics.median(full):.3f} s, max {max(full):.3f} s")
    verdict = "under" if max(full) < 1.0 else "NOT under"
    print(f"{verdict} one second on {args.households:,} households")


if __name__ == "__main__":
    main()
