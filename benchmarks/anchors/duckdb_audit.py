"""The DuckDB anchor of ``bench_audit_duckdb.py``: runs ``benchmarks/sql/audit_checks.sql``
(the audit's exact checks as hand-written SQL) on an audit folder of CSVs, whole process.

    python duckdb_audit.py DATA_DIR --start 2024-01 --end 2024-06 --out DIR
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

SQL = Path(__file__).resolve().parents[1] / "sql" / "audit_checks.sql"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--due-days", type=int, default=10)
    p.add_argument("--tolerance", type=float, default=0.5)
    p.add_argument("--review-months", type=int, default=6)
    args = p.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sql = SQL.read_text(encoding="utf-8").format(
        data=args.data, start=args.start + "-01", end=args.end + "-01", out=args.out,
        due_days=args.due_days, tolerance=args.tolerance, review_months=args.review_months)
    con = duckdb.connect()
    con.execute(sql)
    total = con.execute("select count(*) from findings").fetchone()[0]
    print(f"findings {total} seconds {time.perf_counter() - t0:.2f}", flush=True)


if __name__ == "__main__":
    main()
