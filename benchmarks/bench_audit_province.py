"""Province-sized audit benchmark: a year of one-card payments (default 20,000,000 rows)
streamed through the partitioned audit (issue 6; ``bench_audit.py --rows N`` calls this).

The province is made of synthetic counties (one per region with a parameter file), each
generated in its own process and appended to one Parquet file per input, so generation
memory is one county's. The audit stages the inputs into partitions by person and audits
them one at a time (or ``--workers N`` at a time on a local Dask cluster), so the checks'
memory is set by the partition size (``--rows-per-partition``), not by the number of rows;
the record linkage, people-level and province-wide, keeps its tables in a DuckDB store
capped at ``linkage.duckdb_memory_limit_mb``. What grows is the findings themselves and
the people-level link inputs: ``--rows 5000000`` and ``--rows 20000000`` differ by about
1.5 × in peak (docs/audit.md, "Provincial scale").

The audit runs twice on the same data: without the record linkage of mistyped IDs
(``--no-linkage``: checks and every other output), then with it (the default of ``jiuzhu
audit``). Prints generation time, staging / checks / linkage / total seconds, partitions,
findings per check, and the peak resident memory of the audit process (workers' peaks too,
with --workers).

    .venv/bin/python benchmarks/bench_audit_province.py                 # 20 M rows
    .venv/bin/python benchmarks/bench_audit_province.py --rows 5000000
    .venv/bin/python benchmarks/bench_audit_province.py --rows 2000000 \\
        --data /tmp/province-2m --linkage-only     # generated once, then reused
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

COUNTIES = ("350581", "350505", "350583", "350800")  # regions with parameter files
YEAR = "2024"
PAYMENTS_PER_PERSON_MONTH = 0.92  # synthetic county over a year: entries and exits (measured)


def _peak_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _generate_county(out: str, region: str, people: int, seed: int, queue) -> None:
    from jiuzhu_sim.audit.synth import households_for_persons, write_audit_data
    from jiuzhu_sim.parameters import load_parameters

    params = load_parameters(region, f"{YEAR}-12-31")
    n = households_for_persons(params, people, paid_only=True)
    write_audit_data(out, params, n_households=n, seed=seed, start=f"{YEAR}-01",
                     end=f"{YEAR}-12", fmt="parquet")
    queue.put({"peak_mb": _peak_mb()})


def _in_child(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    value = queue.get()
    proc.join()
    return value


def generate_province(data: Path, rows: int, seed: int = 11) -> dict:
    """Counties generated one by one and appended into ``data/<input>.parquet``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data.mkdir(parents=True, exist_ok=True)
    people = math.ceil(rows / 12 / len(COUNTIES) / PAYMENTS_PER_PERSON_MONTH)
    writers: dict[str, pq.ParquetWriter] = {}
    peak = 0.0
    t0 = time.perf_counter()
    try:
        for i, region in enumerate(COUNTIES):
            with tempfile.TemporaryDirectory(prefix="county_", dir=data.parent) as tmp:
                got = _in_child(_generate_county, tmp, region, people, seed + i)
                peak = max(peak, got["peak_mb"])
                for path in sorted(Path(tmp).glob("*.parquet")):
                    pf = pq.ParquetFile(path)
                    if path.stem not in writers:
                        writers[path.stem] = pq.ParquetWriter(data / path.name, pf.schema_arrow)
                    for batch in pf.iter_batches(batch_size=1_000_000):
                        table = pa.Table.from_batches([batch])
                        writers[path.stem].write_table(table.cast(writers[path.stem].schema))
    finally:
        for writer in writers.values():
            writer.close()
    payments = pq.ParquetFile(data / "payments.parquet").metadata.num_rows
    (data / "people_per_county.txt").write_text(str(people))  # complete: --data reuses it
    return {"seconds": time.perf_counter() - t0, "peak_mb": peak, "payments": payments,
            "people_per_county": people}


def _reuse(data: Path, rows: int) -> dict | None:
    """The generation figures of a province already in ``data`` (None: none there yet);
    one made for another ``--rows`` is refused rather than silently measured."""
    import pyarrow.parquet as pq

    if not (data / "payments.parquet").exists():
        return None
    people = math.ceil(rows / 12 / len(COUNTIES) / PAYMENTS_PER_PERSON_MONTH)
    marker = data / "people_per_county.txt"
    if not marker.exists() or int(marker.read_text()) != people:
        raise SystemExit(f"{data} holds a province of another size (or none complete); "
                         "give another --data folder")
    payments = pq.ParquetFile(data / "payments.parquet").metadata.num_rows
    return {"seconds": 0.0, "peak_mb": 0.0, "payments": payments, "people_per_county": people,
            "reused": True}


def _audit(data: str, out: str, workers, rows_per_partition: int, linkage: bool,
           queue) -> None:
    from jiuzhu_sim.audit.runner import run_audit

    t0 = time.perf_counter()
    result = run_audit(data, f"{YEAR}-01", f"{YEAR}-12", params="350581", out_dir=out,
                       workers=workers, rows_per_partition=rows_per_partition,
                       linkage=linkage)
    seconds = time.perf_counter() - t0
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(),
               "children_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN),
               "timings": result.summary.get("timings_seconds", {}),
               "partitions": result.summary.get("engine", {}).get("partitions"),
               "findings": result.findings["check"].value_counts().to_dict()})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="payment rows (a year)")
    parser.add_argument("--workers", type=int, default=None,
                        help="local Dask workers (default: partitions one after another)")
    parser.add_argument("--rows-per-partition", type=int, default=1_000_000)
    parser.add_argument("--tmp", default=None, help="scratch folder (needs ~2 GB per 10 M rows)")
    parser.add_argument("--data", type=Path, default=None,
                        help="keep the generated province in this folder, or reuse it when "
                             "it holds one already (generating 20 M rows takes minutes)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--no-linkage", action="store_true",
                       help="only the audit without probable matches")
    which.add_argument("--linkage-only", action="store_true",
                       help="only the audit with probable matches (skip the --no-linkage run)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_province_", dir=args.tmp) as tmp:
        data, out = args.data or Path(tmp) / "data", Path(tmp) / "out"
        gen = _reuse(data, args.rows) if args.data is not None else None
        if gen is None:
            gen = generate_province(data, args.rows)
        size_mb = sum(p.stat().st_size for p in data.iterdir()) / 2**20
        print(f"== province: {len(COUNTIES)} counties × {gen['people_per_county']:,} paid "
              f"people × 12 months = {gen['payments']:,} payment rows ({size_mb:,.0f} MB "
              "Parquet) ==")
        if gen.get("reused"):
            print(f"generate: reused {data}")
        else:
            print(f"generate: {gen['seconds']:.1f} s, peak {gen['peak_mb']:,.0f} MB per county")
        runs = [] if args.linkage_only else [("checks and outputs (--no-linkage)", False)]
        if not args.no_linkage:
            runs.append(("with probable matches (the default)", True))
        for label, linkage in runs:
            audit = _in_child(_audit, str(data), str(out), args.workers,
                              args.rows_per_partition, linkage)
            _report(label, audit, gen, args)
    return 0


def _report(label: str, audit: dict, gen: dict, args) -> None:
    t = audit["timings"]
    print(f"audit, {label}: {audit['seconds']:.1f} s ({audit['partitions']} partitions of "
          f"≤ ~{args.rows_per_partition:,} payment rows; stage {t.get('stage', 0):.1f} s, "
          f"checks {t.get('checks_total', 0):.1f} s, linkage {t.get('linkage', 0):.1f} s, "
          f"write {t.get('write', 0):.1f} s)")
    print(f"  peak memory: audit process {audit['peak_mb']:,.0f} MB"
          + (f", largest worker {audit['children_peak_mb']:,.0f} MB" if args.workers else ""))
    print(f"  throughput: {gen['payments'] / audit['seconds']:,.0f} payment rows/s")
    print("  findings:", ", ".join(f"{k}={v}" for k, v in sorted(audit["findings"].items())))


if __name__ == "__main__":
    sys.exit(main())
