"""Audit benchmark: a synthetic county through every check (CONTRACT §6).

Sizes count paid (dibao and tekun) roster people, one payment each a month; the roster also
holds unpaid marginal people (about a fifth more rows). Cases (each audit runs in a fresh
process so its peak memory is its own):
  1. 1,000,000 roster people × 6 months (~6 M payments), inputs as Parquet.
     Target on the project machine: < 60 s, < 6 GB.
  2. 200,000 roster people × 6 months (~1.2 M payments), inputs as CSV, end to end
     (reading included). Reference: a careful hand-written DuckDB SQL version of these checks
     takes about 8.6 s on the project machine; target within 1.5× of that.

Each case is audited twice on the same data: the checks and every output but the probable
matches (``linkage=False``, ``jiuzhu audit --no-linkage``: what the targets and the DuckDB
reference are about), then as ``jiuzhu audit`` runs by default, with the record linkage of
mistyped IDs (review_matches.csv, issue 6) on top.

Prints generation time, audit total seconds, per-check seconds (when the runner reports
them), findings per check, and the audit process's peak resident memory. No assertions.

    .venv/bin/python benchmarks/bench_audit.py            # both cases
    .venv/bin/python benchmarks/bench_audit.py --people 200000 --format csv
    .venv/bin/python benchmarks/bench_audit.py --rows 20000000     # province, partitioned
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

DUCKDB_REFERENCE_SECONDS = 8.6  # 200,000 people × 6 months, CSV in (figure from the issue)
START, END = "2024-01", "2024-06"


def _peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate(out: str, people: int, fmt: str, seed: int, queue) -> None:
    from jiuzhu_sim.audit.synth import households_for_persons, write_audit_data
    from jiuzhu_sim.parameters import load_parameters

    params = load_parameters("350581", "2024-06-30")
    t0 = time.perf_counter()
    n_households = households_for_persons(params, people, paid_only=True)
    write_audit_data(out, params, n_households=n_households,
                     seed=seed, start=START, end=END, fmt=fmt)
    queue.put({"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb()})


def _per_check_seconds(result) -> dict:
    """Per-check timings if the runner reports them (summary 'timings'/'seconds_per_check'
    or an attribute of the result)."""
    for holder in (getattr(result, "timings", None), getattr(result, "check_seconds", None)):
        if isinstance(holder, dict) and holder:
            return holder
    summary = getattr(result, "summary", {}) or {}
    for key in ("timings", "seconds_per_check", "check_seconds", "seconds"):
        value = summary.get(key)
        if isinstance(value, dict) and value:
            return value
    return {}


def _audit(data: str, out: str, linkage: bool, queue) -> None:
    from jiuzhu_sim.audit.runner import run_audit
    from jiuzhu_sim.parameters import load_parameters

    params = load_parameters("350581", "2024-06-30")
    t0 = time.perf_counter()
    result = run_audit(data, START, END, params=params, out_dir=out, linkage=linkage)
    seconds = time.perf_counter() - t0
    findings = result.findings
    counts = findings["check"].value_counts().to_dict() if len(findings) else {}
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(), "per_check": _per_check_seconds(result),
               "findings": counts, "payments": int(result.summary.get("rows_read", {}).get(
                   "payments", 0)) if isinstance(result.summary.get("rows_read"), dict) else 0})


def _in_child(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    value = queue.get()
    proc.join()
    return value


def run_case(people: int, fmt: str, seed: int = 1) -> dict:
    """The case's audit without linkage (returned: the targets' figures), then with it."""
    with tempfile.TemporaryDirectory(prefix="bench_audit_") as tmp:
        data = Path(tmp) / "data"
        gen = _in_child(_generate, str(data), people, fmt, seed)
        size_mb = sum(p.stat().st_size for p in data.iterdir()) / 2**20
        checks = _in_child(_audit, str(data), str(Path(tmp) / "out"), False)
        linked = _in_child(_audit, str(data), str(Path(tmp) / "out_linked"), True)
    print(f"\n== {people:,} roster people × 6 months, {fmt} inputs ({size_mb:,.0f} MB) ==")
    print(f"generate: {gen['seconds']:.1f} s, peak {gen['peak_mb']:,.0f} MB")
    print(f"audit, checks and outputs (--no-linkage): {checks['seconds']:.1f} s, peak memory "
          f"{checks['peak_mb']:,.0f} MB"
          + (f", payments read {checks['payments']:,}" if checks["payments"] else ""))
    if checks["per_check"]:
        for name, sec in sorted(checks["per_check"].items(), key=lambda kv: -float(kv[1])):
            print(f"  {name:<26} {float(sec):8.2f} s")
    else:
        print("  (the runner reports no per-check timings)")
    print("findings:", ", ".join(f"{k}={v}" for k, v in sorted(checks["findings"].items())))
    link_s = float(linked["per_check"].get("linkage", float("nan")))
    print(f"audit with probable matches (the default): {linked['seconds']:.1f} s "
          f"(linkage {link_s:.1f} s), peak memory {linked['peak_mb']:,.0f} MB")
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=None, help="one case of this size only")
    parser.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    parser.add_argument("--rows", type=int, default=None,
                        help="province-sized year of N payment rows through the partitioned "
                             "audit (benchmarks/bench_audit_province.py)")
    parser.add_argument("--workers", type=int, default=None, help="with --rows: Dask workers")
    args = parser.parse_args(argv)
    if args.rows:
        import bench_audit_province

        return bench_audit_province.main(
            ["--rows", str(args.rows)]
            + (["--workers", str(args.workers)] if args.workers else []))
    if args.people:
        run_case(args.people, args.format)
        return 0
    big = run_case(1_000_000, "parquet")
    print(f"target < 60 s and < 6,000 MB (checks and outputs): {big['seconds']:.1f} s, "
          f"{big['peak_mb']:,.0f} MB")
    small = run_case(200_000, "csv")
    ratio = small["seconds"] / DUCKDB_REFERENCE_SECONDS
    print(f"200k CSV, checks and outputs, vs hand-written DuckDB SQL of the checks "
          f"({DUCKDB_REFERENCE_SECONDS} s): {ratio:.2f}× (target ≤ 1.5×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
