"""Per-region table lookup at national scale — SYNTHETIC data (not real standards).

1. The table alone: writes a synthetic minimum-wage table (N regions × 4 dated rows) to a
   temporary folder, loads and validates it (:func:`jiuzhu_sim.parameters.read_region_table`)
   and looks up the value in force for M households with random regions and dates (one
   ``np.searchsorted``).
2. The simulation's path: a copy of ``params/`` with N synthetic counties (codes 600001…,
   listed in ``tables/regions.csv`` under Quanzhou) whose minimum wages are table rows;
   :func:`jiuzhu_sim.parameters.household_parameters` resolves the standards of M households
   on the run's date, then on random dates (an ``assessment_date`` per household).

    .venv/bin/python benchmarks/bench_region_tables.py [--regions 3000] [--households 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from jiuzhu_sim.parameters import (
    default_params_dir,
    household_parameters,
    load_parameters,
    read_region_table,
)

DATES = ["2020-01-01", "2021-07-01", "2022-04-01", "2024-01-01"]


def _synthetic_rows(codes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({"region_code": np.repeat(codes, len(DATES)),
                         "effective_date": DATES * len(codes),
                         "value": rng.integers(1500, 2600, len(codes) * len(DATES)),
                         "reference": "synthetic: benchmark only"})


def bench_table(regions: int, households: int, rng: np.random.Generator) -> None:
    codes = np.array([f"{350000 + i:06d}" for i in range(1, regions + 1)])
    frame = _synthetic_rows(codes, rng)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "minimum_wage.csv"
        frame.to_csv(path, index=False)
        start = time.perf_counter()
        table = read_region_table(path, "minimum_wage", set(codes))
        load = time.perf_counter() - start
    hh_codes = codes[rng.integers(0, regions, households)]
    hh_days = np.datetime64("2020-01-01") + rng.integers(0, 2000, households)
    start = time.perf_counter()
    values = table.lookup(hh_codes, hh_days)
    lookup = time.perf_counter() - start
    assert not np.isnan(values).any()
    print(f"[synthetic] {len(frame):,} rows / {regions:,} regions: load+validate "
          f"{load:.3f} s; lookup for {households:,} households {lookup:.3f} s")


def bench_simulation_path(regions: int, households: int, rng: np.random.Generator) -> None:
    codes = np.array([f"{600000 + i:06d}" for i in range(1, regions + 1)])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "params"
        shutil.copytree(default_params_dir(), root)
        pd.DataFrame({"region_code": codes, "name": codes, "name_en": "synthetic",
                      "parent": "350500"}).to_csv(root / "tables" / "regions.csv", index=False)
        table_csv = root / "tables" / "minimum_wage.csv"
        _synthetic_rows(codes, rng).to_csv(table_csv, mode="a", header=False, index=False)
        start = time.perf_counter()
        run = load_parameters("350581", "2023-06-01", params_dir=root)
        load = time.perf_counter() - start
        hh_codes = pd.Series(codes[rng.integers(0, regions, households)], dtype="str")
        start = time.perf_counter()
        index, resolved = household_parameters(run, hh_codes)
        run_date = time.perf_counter() - start
        start = time.perf_counter()
        household_parameters(run, hh_codes)
        cached = time.perf_counter() - start
        hh_days = np.datetime64("2022-04-01") + rng.integers(0, 1000, households)
        start = time.perf_counter()
        index_d, resolved_d = household_parameters(run, hh_codes, hh_days)
        dated = time.perf_counter() - start
    standard = np.array([r["dibao.standard"] for r in resolved_d])[index_d]
    assert np.isfinite(standard).all()
    print(f"[synthetic] {regions:,} table-backed counties, {households:,} households: load "
          f"{load:.3f} s; standards on the run's date {run_date:.3f} s ({len(resolved):,} "
          f"resolutions; {cached:.3f} s cached); on their own dates {dated:.3f} s "
          f"({len(resolved_d):,} resolutions)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--regions", type=int, default=3000)
    ap.add_argument("--households", type=int, default=1_000_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    bench_table(args.regions, args.households, rng)
    bench_simulation_path(args.regions, args.households, rng)


if __name__ == "__main__":
    main()
