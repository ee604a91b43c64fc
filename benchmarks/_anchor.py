"""Shared helpers of the anchored benchmarks (bench_simulate_csv.py, bench_audit_duckdb.py):
run a whole process and measure it (wall seconds; CPU seconds and peak resident memory via
``os.wait4``, which count its worker processes too — the peak is the largest single process;
and the peak of the whole process tree's proportional set size, sampled from
``/proc/PID/smaps_rollup``, which counts pages shared after a fork once), note the machine's
load, and print a ratio."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import threading
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
    tree_mb: float = 0.0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``; just ``pid`` elsewhere)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return found


def _tree_pss_mb(pid: int) -> float:
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
        except OSError:
            pass
    return total / 1024


def _sample_tree(pid: int, peak: list[float], done: threading.Event) -> None:
    while not done.wait(0.2):
        peak[0] = max(peak[0], _tree_pss_mb(pid))


def discard(path: Path) -> None:
    """Remove a measured run's outputs before the next run. Kept, each run's files stay in
    the page cache, and on this machine every later run then took longer to allocate
    memory and write its own: six `jiuzhu simulate` runs in a row took 5.2, 6.4, 7.5, 7.5,
    7.3 and 8.3 s with their outputs kept (system time 1.5 → 3.7 s) and 5.5–6.6 s with each
    removed (docs/performance.md, 3 December late evening). A user's run does not follow
    five others' fresh outputs; OpenFisca writes nothing and the SQL anchor only its
    findings, so keeping them weighed on jiuzhu most. Untimed."""
    shutil.rmtree(path, ignore_errors=True)


def load_average() -> float:
    return os.getloadavg()[0]


def run(label: str, command: list[str], env: dict | None = None, quiet: bool = True) -> Run:
    """Run ``command`` to the end; its own wall time, CPU time and peak memory.

    Dirty file pages are flushed first (``os.sync``, untimed): otherwise the files an
    earlier run wrote (simulate's 300 MB of outputs, synth's inputs) are written back by
    the kernel during a later run, about 30 s after they were written, and on two cores
    that takes CPU from a two-threaded jiuzhu run and hardly from a one-threaded anchor
    (docs/performance.md). Each run still pays for writing its own outputs."""
    os.sync()
    load = load_average()
    started = time.perf_counter()
    proc = subprocess.Popen(command, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL if quiet else None)
    tree, done = [0.0], threading.Event()
    sampler = threading.Thread(target=_sample_tree, args=(proc.pid, tree, done), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = Run(label, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, load,
                 proc.returncode, tree[0])
    print(f"  {label:<34} wall {wall:7.2f} s  cpu {result.cpu:7.2f} s  "
          f"peak {result.peak_mb:7.0f} MB  tree {result.tree_mb:6.0f} MB  (load {load:.1f})",
          flush=True)
    if proc.returncode:
        raise SystemExit(f"{label} failed (exit {proc.returncode}): {' '.join(command)}")
    return result


def jiuzhu_command(*args: str) -> list[str]:
    """``jiuzhu ...`` with this checkout's sources first on the path."""
    return [sys.executable, "-m", "jiuzhu_sim.cli", *args]


ANCHOR_ENV = {"NUMPY_MADVISE_HUGEPAGE": "0"}
"""The anchors run without numpy's huge-page advice, as jiuzhu's commands do
(``cli._no_huge_page_advice``): where transparent huge pages are "madvise" with synchronous
defragmentation, an advised allocation right after another process freed a gigabyte
compacts memory first — OpenFisca's run after jiuzhu simulate took 4.9 s of system time
instead of 0.5 s (9 s wall instead of 5), which would flatter jiuzhu."""


def compile_sources() -> None:
    """Byte-compile this checkout's sources (untimed) before anything is measured, as an
    installed package is: otherwise, where ``PYTHONDONTWRITEBYTECODE`` is set (this
    development machine sets it) or the checkout is read-only, every jiuzhu run compiles
    each module it imports whose source changed since its ``.pyc`` — about 0.1 s of
    compiling per audit run that no user's second run pays, and that the anchors, whose
    packages were compiled when they were installed, never pay."""
    import compileall

    compileall.compile_dir(str(REPO / "src"), quiet=1)


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
