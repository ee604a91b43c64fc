"""`jiuzhu simulate` as users run it (CSV in, CSV out, whole process) against OpenFisca-core
computing one dibao formula on the same persons CSV, in the same run; and `jiuzhu synth
population` writing those CSVs (issue 17).

The anchor runs in its own virtual environment, created on first use under the cache dir
(``$JIUZHU_BENCH_CACHE``, default ``~/.cache/jiuzhu-bench``): ``python -m venv`` and
``pip install openfisca-core pandas``; its script is ``benchmarks/anchors/openfisca_dibao.py``
(pandas reads the three columns the formula needs; a two-entity OpenFisca simulation
computes (standard − per-capita income) × members). Runs alternate (jiuzhu, anchor, jiuzhu,
…) so both see the same machine load; each is a whole process measured on its own (wall,
CPU and peak memory by ``os.wait4``).

    .venv/bin/python benchmarks/bench_simulate_csv.py                  # 1,000,000 households
    .venv/bin/python benchmarks/bench_simulate_csv.py --households 100000 --repeat 1

Targets: simulate / anchor ≤ 1.0 (wall), simulate peak < 2 GB; synth population 1 M
households to CSV < 10 s.
"""

from __future__ import annotations

import argparse
import shutil
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
    median,
    ratio_line,
    run,
)

ANCHOR = REPO / "benchmarks" / "anchors" / "openfisca_dibao.py"
SIMULATE_TARGET, SYNTH_TARGET_SECONDS, PEAK_TARGET_MB = 1.0, 10.0, 2048


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--households", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3, help="runs of each (median reported)")
    p.add_argument("--venv", type=Path, default=CACHE / "openfisca-venv",
                   help="the anchor's virtual environment (created when missing)")
    p.add_argument("--data", type=Path, default=None,
                   help="folder for the generated CSVs (default: under the cache dir)")
    p.add_argument("--seed", type=int, default=20240101)
    args = p.parse_args(argv)
    if args.households < 1 or args.repeat < 1:
        p.error("--households and --repeat must be at least 1")
    return args


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import openfisca_core, pandas"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating the anchor's virtual environment in {venv} …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "openfisca-core", "pandas"],
                   check=True)
    return python


def reader_line(persons: Path, households: Path) -> str:
    """Which reader ``jiuzhu simulate`` takes for these files: the fast one (Arrow, typed
    columns) or the general fallback — a silent fallback once made simulate 3× slower on
    this very benchmark (quoted CSVs), so the line says it."""
    sys.path.insert(0, str(REPO / "src"))
    from jiuzhu_sim.io import read_csv_typed
    from jiuzhu_sim.simulation import (
        HOUSEHOLD_BOOLEAN,
        HOUSEHOLD_NUMERIC,
        PERSON_BOOLEAN,
        PERSON_COLUMNS,
        PERSON_NUMERIC,
    )

    fast = (read_csv_typed(households, HOUSEHOLD_NUMERIC, HOUSEHOLD_BOOLEAN) is not None
            and read_csv_typed(persons, PERSON_NUMERIC, PERSON_BOOLEAN,
                               columns=PERSON_COLUMNS) is not None)
    return ("simulate's CSV reader on these files: "
            + ("fast (Arrow, typed columns)" if fast else
               "GENERAL FALLBACK (the fast reader declines them: the figures below are not "
               "the fast path's)"))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    python = ensure_venv(args.venv)
    data = args.data or CACHE / f"population-{args.households}"
    compile_sources()
    print(f"machine: {machine()}")
    print(f"synth population --households {args.households:,} (CSV) → {data}")
    synth = []
    for _ in range(args.repeat):
        shutil.rmtree(data, ignore_errors=True)
        synth.append(run("jiuzhu synth population", jiuzhu_command(
            "synth", "population", "--households", str(args.households), "--seed",
            str(args.seed), "--out", str(data)), env=jiuzhu_env()))
    seconds = median([r.wall for r in synth])
    print(f"synth population: {seconds:.1f} s (median) — "
          f"{'meets' if seconds < SYNTH_TARGET_SECONDS else 'MISSES'} the target "
          f"< {SYNTH_TARGET_SECONDS:g} s")

    persons, households = data / "persons.csv", data / "households.csv"
    print(reader_line(persons, households))
    ours, anchor = [], []
    with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-") as tmp:
        for i in range(args.repeat):
            out = Path(tmp) / f"out{i}"
            ours.append(run("jiuzhu simulate (CSV in/out)", jiuzhu_command(
                "simulate", "--persons", str(persons), "--households", str(households),
                "--out", str(out)), env=jiuzhu_env()))
            discard(out)
            anchor.append(run("OpenFisca-core, one formula", [str(python), str(ANCHOR),
                                                              str(persons)], env=ANCHOR_ENV))
    print(ratio_line("simulate vs OpenFisca", ours, anchor, SIMULATE_TARGET))
    peak = max(max(r.peak_mb, r.tree_mb) for r in ours)
    print(f"simulate peak memory {peak:.0f} MB — "
          f"{'meets' if peak < PEAK_TARGET_MB else 'MISSES'} the target < {PEAK_TARGET_MB} MB")


if __name__ == "__main__":
    main()
