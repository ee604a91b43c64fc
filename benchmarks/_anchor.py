"""Shared helpers of the anchored benchmarks (bench_simulate_csv.py, bench_audit_duckdb.py):
run a whole process and measure it (wall seconds, CPU seconds, peak resident memory of that
process alone, via ``os.wait4``), note the machine's load, and print a ratio."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("JIUZHU_BENCH_CACHE", Path.home() / ".cache" / "jiuzhu-bench"))


@dataclass
class Run:
    label: str
    wall: float
    cpu: float
    peak_mb: float
    load: float
    returncode: int


def load_average() -> float:
    return os.getloadavg()[0]


def run(label: str, command: list[str], env: dict | None = None, quiet: bool = True) -> Run:
    """Run ``command`` to the end; its own wall time, CPU time and peak memory."""
    load = load_average()
    started = time.perf_counter()
    proc = subprocess.Popen(command, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL if quiet else None)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = Run(label, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, load,
                 proc.returncode)
    print(f"  {label:<34} wall {wall:7.2f} s  cpu {result.cpu:7.2f} s  "
          f"peak {result.peak_mb:7.0f} MB  (load {load:.1f})", flush=True)
    if proc.returncode:
        raise SystemExit(f"{label} failed (exit {proc.returncode}): {' '.join(command)}")
    return result


def jiuzhu_command(*args: str) -> list[str]:
    """``jiuzhu ...`` with this checkout's sources first on the path."""
    return [sys.executable, "-m", "jiuzhu_sim.cli", *args]


def jiuzhu_env() -> dict:
    return {"PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, load {load_average():.1f} at start")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ratio_line(name: str, ours: list[Run], anchor: list[Run], target: float) -> str:
    wall = median([r.wall for r in ours]) / median([r.wall for r in anchor])
    cpu = median([r.cpu for r in ours]) / median([r.cpu for r in anchor])
    verdict = "meets" if wall <= target else "MISSES"
    return (f"{name}: ratio (wall, median of {len(ours)}) {wall:.2f} — {verdict} the target "
            f"≤ {target:g}; CPU-time ratio {cpu:.2f}")
