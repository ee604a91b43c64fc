"""Benchmark the simulation: rules in memory, population generation, and `jiuzhu simulate`
end to end (Parquet in). Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_simulate.py                 # 1,000,000 households
    .venv/bin/python benchmarks/bench_simulate.py --households 100000

Targets (issue "Simulation core"): rules ≥ 5 M households/s in memory; end-to-end CLI on
1 M households (~2.8 M persons) < 5 s with peak memory < 2 GB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def build_population(n_households: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A quick vectorised stand-in population with CONTRACT §3 columns (not the generator)."""
    rng = np.random.default_rng(seed)
    size = rng.choice([1, 2, 3, 4, 5], n_households, p=[0.15, 0.25, 0.3, 0.2, 0.1])
    n = int(size.sum())
    hid = "H" + pd.Series(np.arange(n_households)).astype(str)
    age = rng.integers(0, 95, n).astype(float)
    grade = np.where(rng.random(n) < 0.06, rng.integers(1, 5, n), 0)
    types = np.array(["physical", "visual", "hearing", "speech", "intellectual", "mental",
                      "multiple"], dtype=object)
    persons = pd.DataFrame({
        "person_id": "P" + pd.Series(np.arange(n)).astype(str),
        "household_id": np.repeat(hid.to_numpy(), size),
        "age": age,
        "monthly_income": np.round(np.where(rng.random(n) < 0.35, 0.0,
                                            rng.lognormal(7.3, 0.8, n)), 2),
        "disability_grade": grade,
        "disability_type": np.where(grade > 0, types[rng.integers(0, 7, n)], ""),
        "serious_illness": rng.random(n) < 0.04,
        "work_capacity": (age >= 16) & (age < 65) & (rng.random(n) < 0.85),
        "has_supporter": rng.random(n) < 0.85,
        "in_school": (age >= 6) & (age < 22) & (rng.random(n) < 0.9),
        "college_student": (age >= 18) & (age < 23) & (rng.random(n) < 0.3),
        "care_level": np.array(["self_care", "semi_care", "full_care"],
                               dtype=object)[rng.choice(3, n, p=[0.8, 0.15, 0.05])],
        "institutional": rng.random(n) < 0.02,
        "medical_expense_annual": np.round(np.where(rng.random(n) < 0.1,
                                                    rng.lognormal(8.5, 1.2, n), 0.0), 2),
        "education_expense_annual": np.where(rng.random(n) < 0.1, 6000.0, 0.0),
        "rehab_expense_annual": 0.0,
    })
    households = pd.DataFrame({
        "household_id": hid,
        "region_code": "350581",
        "urban": rng.random(n_households) < 0.7,
        "financial_assets": np.round(rng.lognormal(9, 1.5, n_households), 2),
        "non_essential_vehicle": rng.random(n_households) < 0.1,
        "dwellings": rng.choice(3, n_households, p=[0.1, 0.8, 0.1]),
    })
    return persons, households


def bench_rules(persons, households, params, repeats: int = 3) -> None:
    from jiuzhu_sim.simulation import entitlement_arrays, prepare_population

    t = time.perf_counter()
    pop = prepare_population(persons, households)
    prep = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        entitlement_arrays(pop, params)
        times.append(time.perf_counter() - t)
    n = len(households)
    print(f"validate+convert (prepare_population): {prep:.3f} s  ({n / prep:,.0f} households/s)")
    print(f"rules alone (entitlement_arrays), best of {repeats}: {min(times):.3f} s  "
          f"({n / min(times):,.0f} households/s; all runs {', '.join(f'{x:.3f}' for x in times)})")


def bench_generation(params, n: int, seed: int) -> None:
    try:
        from jiuzhu_sim.population import generate_population
    except ImportError:
        print("generation: jiuzhu_sim.population.generate_population does not exist yet")
        return
    t = time.perf_counter()
    persons, households = generate_population(params, n, seed)
    dt = time.perf_counter() - t
    print(f"generation (generate_population): {dt:.3f} s for {len(households):,} households, "
          f"{len(persons):,} persons  ({len(households) / dt:,.0f} households/s)")


def bench_cli(persons, households, date: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pp, hp = tmp / "persons.parquet", tmp / "households.parquet"
        persons.to_parquet(pp, index=False)
        households.to_parquet(hp, index=False)
        jiuzhu = Path(sys.executable).with_name("jiuzhu")
        cmd = ([str(jiuzhu)] if jiuzhu.exists() else [sys.executable, "-m", "jiuzhu_sim"])
        cmd += ["simulate", "--persons", str(pp), "--households", str(hp), "--out",
                str(tmp / "out"), "--date", date, "--seed", "1"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t
        if proc.returncode:
            print(f"jiuzhu simulate failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
            return
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        n = len(households)
        sizes = {f.name: f.stat().st_size for f in (tmp / "out").iterdir()}
        print(f"jiuzhu simulate end to end (Parquet in, CSV out): {dt:.2f} s for {n:,} "
              f"households, {len(persons):,} persons  ({n / dt:,.0f} households/s); "
              f"peak RSS of the child {peak_mb:,.0f} MB")
        print("  outputs: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(sizes.items())))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--date", default="2023-06-01")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--skip-generation", action="store_true")
    args = ap.parse_args(argv)

    from jiuzhu_sim.parameters import load_parameters

    params = load_parameters("350581", args.date)
    t = time.perf_counter()
    persons, households = build_population(args.households, args.seed)
    print(f"stand-in population: {len(households):,} households, {len(persons):,} persons "
          f"built in {time.perf_counter() - t:.2f} s")
    if not args.skip_cli:  # first, so the child's peak RSS is not mixed with anything else
        bench_cli(persons, households, args.date)
    bench_rules(persons, households, params)
    if not args.skip_generation:
        bench_generation(params, args.households, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
