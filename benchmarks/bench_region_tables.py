"""Per-region table lookup at national scale — SYNTHETIC data (not real standards).

Writes a synthetic minimum-wage table (N regions × 4 dated rows) to a temporary folder,
loads and validates it (:func:`jiuzhu_sim.parameters.read_region_table`) and looks up the
value in force for M households with random regions and dates (one ``np.searchsorted``).

    .venv/bin/python benchmarks/bench_region_tables.py [--regions 3000] [--households 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from jiuzhu_sim.parameters import read_region_table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--regions", type=int, default=3000)
    ap.add_argument("--households", type=int, default=1_000_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    codes = np.array([f"{350000 + i:06d}" for i in range(1, args.regions + 1)])
    dates = ["2020-01-01", "2021-07-01", "2022-04-01", "2024-01-01"]
    frame = pd.DataFrame({"region_code": np.repeat(codes, len(dates)),
                          "effective_date": dates * args.regions,
                          "value": rng.integers(1500, 2600, args.regions * len(dates)),
                          "reference": "synthetic: benchmark only"})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "minimum_wage.csv"
        frame.to_csv(path, index=False)
        start = time.perf_counter()
        table = read_region_table(path, "minimum_wage", set(codes))
        load = time.perf_counter() - start
    hh_codes = codes[rng.integers(0, args.regions, args.households)]
    hh_days = np.datetime64("2020-01-01") + rng.integers(0, 2000, args.households)
    start = time.perf_counter()
    values = table.lookup(hh_codes, hh_days)
    lookup = time.perf_counter() - start
    assert not np.isnan(values).any()
    print(f"[synthetic] {len(frame):,} rows / {args.regions:,} regions: load+validate "
          f"{load:.3f} s; lookup for {args.households:,} households {lookup:.3f} s")


if __name__ == "__main__":
    main()
