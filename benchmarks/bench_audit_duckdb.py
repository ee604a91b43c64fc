"""`jiuzhu audit` as users run it (CSV folder in, linkage on by default) and with
`--no-linkage`, against the audit's exact checks as hand-written DuckDB SQL
(``benchmarks/sql/audit_checks.sql``, run by ``benchmarks/anchors/duckdb_audit.py``) on the
same data, in the same run (issue 17).

The data: the synthetic county (`audit/synth.py`) with ``--people`` paid roster people over
six months (200,000 people ≈ 1.2 M payment rows), as CSV, generated once into the cache dir
(``$JIUZHU_BENCH_CACHE``, default ``~/.cache/jiuzhu-bench``). Runs alternate (SQL, jiuzhu
--no-linkage, jiuzhu) so they see the same machine load; each is a whole process measured
on its own (wall, CPU and peak memory by ``os.wait4``).

    .venv/bin/python benchmarks/bench_audit_duckdb.py                  # 200,000 people
    .venv/bin/python benchmarks/bench_audit_duckdb.py --people 20000 --repeat 1

Targets: jiuzhu audit (linkage on) / SQL ≤ 1.5; --no-linkage / SQL ≤ 1.0 (wall).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _anchor import (  # noqa: E402
    ANCHOR_ENV,
    CACHE,
    REPO,
    compile_sources,
    discard,
    jiuzhu_command,
    jiuzhu_env,
    machine,
    ratio_line,
    run,
)

ANCHOR = REPO / "benchmarks" / "anchors" / "duckdb_audit.py"
START, END = "2024-01", "2024-06"
LINKAGE_TARGET, NO_LINKAGE_TARGET = 1.5, 1.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--people", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3, help="runs of each (median reported)")
    p.add_argument("--data", type=Path, default=None,
                   help="the audit folder (generated when missing; default under the cache)")
    p.add_argument("--seed", type=int, default=20240101)
    args = p.parse_args(argv)
    if args.people < 1 or args.repeat < 1:
        p.error("--people and --repeat must be at least 1")
    return args


GENERATE = """
import sys
from jiuzhu_sim.audit.synth import households_for_persons, write_audit_data
from jiuzhu_sim.parameters import load_parameters
params = load_parameters("350581", "2024-06-30")
n = households_for_persons(params, int(sys.argv[1]), paid_only=True)
write_audit_data(sys.argv[2], params, n_households=n, seed=int(sys.argv[3]),
                 start=sys.argv[4], end=sys.argv[5], fmt="csv")
"""


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    data = args.data or CACHE / f"audit-{args.people}"
    if not (data / "payments.csv").is_file():
        print(f"generating the synthetic county ({args.people:,} people) in {data} …")
        subprocess.run([sys.executable, "-c", GENERATE, str(args.people), str(data),
                        str(args.seed), START, END], check=True, env={**jiuzhu_env()})
    sys.path.insert(0, str(REPO / "src"))
    from jiuzhu_sim.parameters import load_parameters

    params = load_parameters("350581", "2024-06-30")
    knobs = ["--due-days", str(int(params["audit.payment_due_days_after_month"])),
             "--tolerance", str(float(params["audit.amount_tolerance"])),
             "--review-months", str(int(params["review.max_months_between_checks"]))]
    compile_sources()
    print(f"machine: {machine()}")
    print(f"data: {data} ({sum(1 for _ in open(data / 'payments.csv', 'rb')) - 1:,} "
          "payment rows)")
    sql, bare, full = [], [], []
    with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-") as tmp:
        for i in range(args.repeat):
            outs = [Path(tmp) / f"{kind}{i}" for kind in ("sql", "bare", "full")]
            sql.append(run("DuckDB SQL of the checks", [
                sys.executable, str(ANCHOR), str(data), "--start", START, "--end", END,
                "--out", str(outs[0]), *knobs], env=ANCHOR_ENV))
            discard(outs[0])
            bare.append(run("jiuzhu audit --no-linkage", jiuzhu_command(
                "audit", str(data), "--start", START, "--end", END, "--no-linkage",
                "--out", str(outs[1])), env=jiuzhu_env()))
            discard(outs[1])
            full.append(run("jiuzhu audit (linkage on)", jiuzhu_command(
                "audit", str(data), "--start", START, "--end", END,
                "--out", str(outs[2])), env=jiuzhu_env()))
            discard(outs[2])
    print(ratio_line("audit --no-linkage vs SQL", bare, sql, NO_LINKAGE_TARGET))
    print(ratio_line("audit (linkage on) vs SQL", full, sql, LINKAGE_TARGET))


if __name__ == "__main__":
    main()
