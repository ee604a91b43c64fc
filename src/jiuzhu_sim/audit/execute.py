"""Run the registered checks on normalised tables and gather the netting evidence — the
part of the audit that both the in-process runner (:mod:`jiuzhu_sim.audit.runner`) and the
partitioned runner (:mod:`jiuzhu_sim.audit.partitioned`) call. It sits below both, so
neither imports the other for it (no import cycle).

The checks run on threads (:func:`run_checks`) or, in the in-process runner on Linux, on
worker processes forked from the reading process (:func:`start_checks`,
:func:`forked_pool`): the checks hold the GIL between numpy, pandas and Arrow calls, so two
threads used about 1.2 cores; forked workers inherit the tables instead of receiving a copy.
Either way the findings, evidence and notes are those of one thread.
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np
import pandas as pd

from jiuzhu_sim.audit.checks.base import AuditContext
from jiuzhu_sim.audit.checks.registry import CHECKS
from jiuzhu_sim.audit.findings import FINDING_COLUMNS, empty_findings
from jiuzhu_sim.audit.io import AuditTables


def check_threads() -> int:
    """Threads for :func:`run_checks` in one process: the cores this process may use, at
    most ``MAX_CHECK_THREADS`` (the checks hold the GIL between numpy/pandas/Arrow calls,
    so more threads stop paying)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_CHECK_THREADS))


MAX_CHECK_THREADS = 4

LONGEST_FIRST = ("amount_not_per_standard", "ineligible_recipient", "double_enrolment",
                 "amount_mismatch", "account_mismatch", "duplicate_region", "invalid_id")
"""Checks started first on threads, the longest first (the slowest on the 200 k-person
benchmark, docs/performance.md), so the threads finish together instead of one running
a long check alone at the end. Scheduling only: findings and evidence keep registry
order."""


MAX_CHECK_PROCESSES = 4
MIN_ROWS_FOR_PROCESSES = 100_000


def check_processes(rows: int | None = None) -> int:
    """Worker processes for :func:`start_checks` (and one for the linkage): the cores this
    process may use (at most ``MAX_CHECK_PROCESSES``) where workers can be forked (Linux),
    so they inherit the read tables instead of receiving a copy; 0 (threads) on one core,
    where ``fork`` is not available, or for fewer than ``MIN_ROWS_FOR_PROCESSES`` input
    ``rows`` (starting workers costs more than it saves on a small audit)."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods() or not hasattr(
            os, "sched_getaffinity"):
        return 0  # pragma: no cover - not Linux
    if rows is not None and rows < MIN_ROWS_FOR_PROCESSES:
        return 0
    cores = min(len(os.sched_getaffinity(0)), MAX_CHECK_PROCESSES)
    return cores if cores > 1 else 0


# in a forked worker only: (function, arguments) it inherited (``_worker_start``)
_INHERITED: tuple | None = None


def _worker_start(parent: int, function, args: tuple) -> None:
    """A forked worker's first act: keep what it inherited (never pickled: fork copies the
    parent's memory, and the fork start method hands the initializer's arguments over as
    they are); die with the parent (Linux ``PR_SET_PDEATHSIG``: a killed audit leaves no
    worker blocked on its queue); leave Ctrl-C to the parent, which stops the workers."""
    import signal

    global _INHERITED
    _INHERITED = (function, args)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        pass
    if os.getppid() != parent:  # the parent died before prctl: nothing to work for
        os._exit(1)


def _call_inherited(*more):
    function, args = _INHERITED
    return function(*args, *more)


def forked_pool(workers: int, function, args: tuple, calls: list[tuple]):
    """Fork ``workers`` processes now (``concurrent.futures.ProcessPoolExecutor`` with the
    ``fork`` start method) and submit ``function(*args, *call)`` for each of ``calls``:
    (executor, futures in the order of ``calls``), or None when the processes could not be
    started (no memory, a process limit): the caller then runs the work itself. The workers
    inherit ``args`` (the read tables) through fork; only ``call`` and the results are
    pickled. Fork before starting threads of your own: the workers hold only the forking
    thread. Stop the executor with :func:`stop_pool`."""
    import multiprocessing
    import warnings
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_start,
                               initargs=(os.getpid(), function, args))
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns when a process with threads forks; ours are Arrow's idle
            # pool threads (Arrow resets its pools in the child) and, for a second pool, the
            # first pool's manager thread
            warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork.*")
            # with fork, the first submit starts every worker
            futures = [pool.submit(_call_inherited, *call) for call in calls]
    except OSError:  # fork failed (ENOMEM, EAGAIN): no workers, and none left waiting
        stop_pool(pool, kill=True)
        return None
    return pool, futures


def stop_pool(pool, kill: bool = False) -> None:
    """Shut ``pool`` down: waiting for running work, or with ``kill`` (an error or Ctrl-C
    in the caller) killing its workers first, so the error is not held up by work whose
    result nobody will read."""
    if pool is None:
        return
    if kill:
        if hasattr(pool, "kill_workers"):  # Python >= 3.14
            pool.kill_workers()
        else:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                if process.is_alive():
                    process.kill()
    pool.shutdown(wait=not kill, cancel_futures=True)


def _check_order() -> list[int]:
    return sorted(range(len(CHECKS)), key=lambda i: (
        LONGEST_FIRST.index(CHECKS[i].code) if CHECKS[i].code in LONGEST_FIRST
        else len(LONGEST_FIRST), i))


def _run_one(tables: AuditTables, ctx: AuditContext, index: int):
    """Check ``index``: (findings, evidence frames, notes, seconds). The notes start empty
    so each check returns only its own; the cache is the process's, shared by its checks."""
    view = dataclasses.replace(ctx, evidence=[], notes={})
    t0 = time.perf_counter()
    part = CHECKS[index].function(tables, view)
    return part, view.evidence, view.notes, round(time.perf_counter() - t0, 3)


def shared_views(tables: AuditTables, ctx: AuditContext) -> None:
    """Build the views most checks read (person, region and household codes, payments and
    roster months with their matches, names, deaths) into ``ctx``'s cache: built once here,
    before the workers fork, each worker inherits them instead of building its own."""
    from concurrent.futures import ThreadPoolExecutor

    from jiuzhu_sim.audit.checks import base

    def roster_side() -> None:
        # what the payments' views do not need first; a table the other thread is building
        # is waited for (each table has its own lock, taken in the order the tables depend
        # on each other: no cycle, no deadlock)
        base.region_codes(tables, ctx)
        base._payment_columns(tables, ctx)
        base.roster_months(tables, ctx)
        base.household_codes(tables, ctx)
        base.first_roster_row_by_code(tables, ctx)
        base.names_by_code(tables, ctx)
        base.death_month_by_code(tables, ctx)
        base.death_row_by_code(tables, ctx)
        # what both eligibility checks read of the roster (and the rules they import):
        # made once here, where this thread has time left, not in two workers
        from jiuzhu_sim.audit.checks import eligibility

        eligibility._roster_inputs_by_code(tables, ctx)

    # on two threads (the hashing, sorting and copying in Arrow and numpy release the GIL);
    # the thread has ended before the workers fork
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuzhu-views") as pool:
        other = pool.submit(roster_side)
        base.payment_roster_row(tables, ctx)
        base.paid_total_by_code(tables, ctx)
        other.result()


class StartedChecks:
    """The checks started by :func:`start_checks`; :meth:`result` waits for them."""

    def __init__(self, tables: AuditTables, ctx: AuditContext, timings: dict | None,
                 processes: int, threads: int):
        self.tables, self.ctx, self.timings, self.threads = tables, ctx, timings, threads
        self.pool, self.futures, self.ran_here = None, {}, []
        if processes > 1:
            shared_views(tables, ctx)
            order = _check_order()
            started = forked_pool(processes, _run_one, (tables, ctx), [(i,) for i in order])
            if started is not None:  # else on threads, at result()
                self.pool, futures = started
                self.futures = dict(zip(order, futures, strict=True))

    def stop(self) -> None:
        """Kill the workers (an error elsewhere: their results will not be read)."""
        stop_pool(self.pool, kill=True)

    def result(self) -> pd.DataFrame:
        """Findings of every check in registry order; their evidence and notes added to
        the context (as :func:`run_checks` leaves them)."""
        if self.pool is None:
            return run_checks(self.tables, self.ctx, self.timings, threads=self.threads)
        from concurrent.futures.process import BrokenProcessPool

        from jiuzhu_sim.audit.checks.base import merge_notes

        done = False
        try:
            outcomes = {}
            for i in range(len(CHECKS)):
                try:
                    outcomes[i] = self.futures[i].result()
                except BrokenProcessPool:
                    # a worker died (killed, out of memory): the check runs here instead
                    outcomes[i] = _run_one(self.tables, self.ctx, i)
                    self.ran_here.append(CHECKS[i].code)
            done = True
        finally:
            stop_pool(self.pool, kill=not done)
        parts = []
        for i, check in enumerate(CHECKS):
            part, evidence, notes, seconds = outcomes[i]
            self.ctx.evidence.extend(evidence)
            merge_notes(self.ctx.notes, notes)
            if self.timings is not None:
                self.timings[check.code] = seconds
            if len(part):
                parts.append(part)
        if not parts:
            return empty_findings()
        return pd.concat(parts, ignore_index=True)[FINDING_COLUMNS]


def start_checks(tables: AuditTables, ctx: AuditContext, timings: dict | None = None,
                 processes: int = 0, threads: int = 1) -> StartedChecks:
    """Start every registered check. With ``processes`` > 1 they run at once on that many
    forked worker processes (each check whole, the longest first; findings, evidence and
    notes come back and are gathered in registry order, so the outputs are those of one
    thread); the workers are forked here, so call this before starting threads of your
    own. Otherwise they run on ``threads`` threads when :meth:`StartedChecks.result` is
    called."""
    return StartedChecks(tables, ctx, timings, processes, threads)


def run_checks(tables: AuditTables, ctx: AuditContext, timings: dict | None = None,
               threads: int = 1) -> pd.DataFrame:
    """Every registered check; findings in registry order. The checks' evidence is left in
    ``ctx.evidence`` in registry order (``findings.evidence_frame(ctx)`` gathers it).

    With ``threads`` > 1 the checks run on that many threads (numpy, pandas and Arrow
    release the GIL in their loops, so two checks share two cores). Each check records its
    evidence in its own list (a copy of ``ctx`` sharing the cache and notes); the lists
    are joined in registry order, so the outputs are those of one thread. Shared
    intermediate tables are built once (``checks.base._cached`` locks per table)."""
    def run(check, view):
        t0 = time.perf_counter()
        part = check.function(tables, view)
        if timings is not None:
            timings[check.code] = round(time.perf_counter() - t0, 3)
        return part

    views = [dataclasses.replace(ctx, evidence=[]) for _ in CHECKS]
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        order = _check_order()
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="jiuzhu-check") as pool:
            jobs = {i: pool.submit(run, CHECKS[i], views[i]) for i in order}
            results = [jobs[i].result() for i in range(len(CHECKS))]
    else:
        results = [run(check, view) for check, view in zip(CHECKS, views, strict=True)]
    for view in views:
        ctx.evidence.extend(view.evidence)
    parts = [part for part in results if len(part)]
    if not parts:
        return empty_findings()
    return pd.concat(parts, ignore_index=True)[FINDING_COLUMNS]


def netting_evidence(evidence: pd.DataFrame, findings: pd.DataFrame, tables: AuditTables
                     ) -> pd.DataFrame:
    """Evidence rows showing the netting behind a finding: for every finding on a person,
    program and month where a negative payment row was netted, the reversal row and the
    payment it netted (``netted=…`` key fields), unless already listed."""
    from jiuzhu_sim.audit import findings as F
    from jiuzhu_sim.audit.calendar import month_label

    netted = tables.netted_payments
    if not len(netted) or not len(findings):
        return evidence
    key = (netted["person_id"].astype("str") + "|" + netted["program"].astype("str") + "|"
           + pd.Series(month_label(netted["period"].to_numpy()), dtype="str"))
    fkey = (findings["person_id"].astype("str") + "|" + findings["program"].astype("str")
            + "|" + findings["period"].astype("str"))
    hit = pd.DataFrame({"finding_id": findings["finding_id"].to_numpy(), "key": fkey}).merge(
        pd.DataFrame({"key": key, "n": np.arange(len(netted))}), on="key")
    if not len(hit):
        return evidence
    rows = netted.iloc[hit["n"].to_numpy()]
    file = tables.files.get("payments", "payments")
    fields = F.key_fields(
        netted=np.full(len(rows), "冲销 reversal", dtype=object), payment_id=rows["payment_id"].to_numpy(dtype=object),
        period=month_label(rows["period"].to_numpy()),
        amount=F.plain_amount(rows["amount"]).to_numpy(dtype=object),
        nets_row=rows["nets_row"].astype(str).to_numpy(dtype=object),
        nets_payment_id=rows["nets_payment_id"].to_numpy(dtype=object),
        amount_before=F.plain_amount(rows["amount_before"]).to_numpy(dtype=object),
        amount_after=F.plain_amount(rows["amount_after"]).to_numpy(dtype=object))
    extra = pd.DataFrame({"finding_id": hit["finding_id"].to_numpy(), "file": file,
                          "row": rows["_row"].to_numpy(dtype=np.int64),
                          "key_fields": fields.to_numpy(dtype=object),
                          "at_risk": 0.0})  # context: the money sits on the netted payment
    both = pd.concat([evidence, extra], ignore_index=True)
    return both.drop_duplicates(["finding_id", "file", "row"]).reset_index(drop=True)
