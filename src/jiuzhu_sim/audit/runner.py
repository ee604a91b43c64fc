"""Run the audit look-back (回头看): inputs → normalised tables → checks → findings →
三项清单, monthly statistics, summary with manifest (CONTRACT §5–7).

The parameters apply on the audit end month's last day (``--date`` overrides); the region
is ``--params`` if given, else the most common ``region_code`` of the roster, or the nearest
county, city or province above it that has parameters (``region_for_roster``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim.audit.calendar import month_label, month_last_day, parse_month
from jiuzhu_sim.audit.checks.base import AuditContext
from jiuzhu_sim.audit.checks.registry import CHECKS
from jiuzhu_sim.audit.execute import (
    check_processes,
    check_threads,
    forked_pool,
    netting_evidence,
    run_checks,  # noqa: F401  (re-exported: tests and callers import it from here)
    start_checks,
    stop_pool,
)
from jiuzhu_sim.audit.findings import evidence_frame
from jiuzhu_sim.audit.io import AuditTables, load_inputs
from jiuzhu_sim.exceptions import UserInputError

DEFAULT_REGION = "350581"


@dataclass
class AuditResult:
    findings: pd.DataFrame
    rejected: pd.DataFrame
    summary: dict[str, Any]
    monthly_stats: pd.DataFrame
    tables: AuditTables
    timings: dict[str, float] = field(default_factory=dict)
    # finding_id, file, row, key_fields: the input rows behind each finding
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    # review_matches.csv rows: probable matches behind mistyped IDs (None: linkage off)
    review: pd.DataFrame | None = None


def _region_of_roster(roster: pd.DataFrame) -> str:
    codes = pd.Series(roster["region_code"], dtype="str")
    if not len(codes):
        return DEFAULT_REGION
    return str(codes.value_counts().index[0])


def resolve_params(params, roster: pd.DataFrame, day: dt.date, overrides=()):
    """Parameters object from None (region of the roster), a region/file, or as given."""
    from jiuzhu_sim.parameters import load_parameters

    if params is not None and not isinstance(params, (str, Path)):
        return params.with_overrides(overrides) if overrides else params
    if params is not None:
        return load_parameters(params, day, overrides)
    return load_parameters(region_for_roster(_region_of_roster(roster)), day, overrides)


def region_for_roster(code: str) -> str:
    """The parameter region for a roster's region code: the code itself, else the county of
    a township code (first six digits), else its city, else its province — never a region
    of another province. No match is a UserInputError asking for ``--params``."""
    from jiuzhu_sim.parameters import find_region

    code = str(code).strip()
    candidates = [code]
    if len(code) >= 6 and code[:6].isdigit():
        candidates += [code[:6], code[:4] + "00", code[:2] + "0000"]
    for candidate in dict.fromkeys(candidates):
        try:
            return find_region(candidate).code
        except UserInputError:
            continue
    raise UserInputError(f"no parameters for region {code!r} (the roster's most common "
                         "region_code) nor for its county, city or province; pass --params "
                         "REGION_OR_FILE (see `jiuzhu params show`)", file="roster",
                         column="region_code")


def run_audit(data_dir, start: str, end: str, params=None, out_dir=None, rectified=None,
              command=None, overrides=(), date=None, *, workers: int | None = None,
              scheduler: str | None = None, partitions: int | None = None,
              rows_per_partition: int | None = None, linkage: bool = True,
              work_dir=None, progress: bool = False, sheets=()) -> AuditResult:
    """Audit ``data_dir`` over months ``start``..``end`` (YYYY-MM); write outputs to
    ``out_dir`` when given.

    In one process by default. With ``workers``/``scheduler`` (a Dask cluster) or
    ``partitions``, the inputs are staged into partitions by person and audited partition
    by partition (:mod:`jiuzhu_sim.audit.partitioned`): same findings, bounded memory.
    ``linkage`` adds the probable matches behind mistyped IDs (``review_matches.csv``,
    :mod:`jiuzhu_sim.audit.linkage`); they are never findings. ``sheets`` (``--sheet``)
    chooses workbook sheets (:func:`jiuzhu_sim.audit.io.load_inputs`)."""
    started = dt.datetime.now(dt.UTC)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    start_m, end_m = check_window(start, end)
    day = month_last_day(end_m).astype(dt.date)
    if date:
        try:
            day = dt.date.fromisoformat(str(date))
        except ValueError:
            raise UserInputError(f"--date {date!r} is not a calendar date (YYYY-MM-DD)"
                                 ) from None
    if out_dir is not None:
        check_out_dir(Path(out_dir))
    engine: dict[str, Any] = {"engine": "in-process"}
    digests = workbook = None
    if any(v is not None for v in (workers, scheduler, partitions, rows_per_partition)):
        from jiuzhu_sim.audit import partitioned

        def resolver(region_counts):
            top = region_counts.most_common(1)
            roster = pd.DataFrame({"region_code": [top[0][0]] if top else []}, dtype="str")
            return resolve_params(params, roster, day, overrides)

        run = partitioned.run_partitioned(
            data_dir, start_m, end_m, resolver, overrides, workers=workers,
            scheduler=scheduler, partitions=partitions,
            rows_per_partition=rows_per_partition or partitioned.DEFAULT_ROWS_PER_PARTITION,
            work_dir=work_dir, progress=progress, linkage=linkage, sheets=tuple(sheets))
        params = run["params"]
        findings, evidence, rejected = run["findings"], run["evidence"], run["rejected"]
        stats, review, tables = run["stats"], run["review"], None
        notes = run.get("notes", {})
        rows_read, rows_rejected, paths = run["rows_read"], run["rows_rejected"], run["paths"]
        timings.update(run["timings"])
        engine = {"engine": "dask" if workers is not None or scheduler is not None
                  else "partitioned", "partitions": run["partitions"],
                  "workers": workers, "scheduler": scheduler}
    else:
        loaded = load_inputs(data_dir, tuple(sheets))
        timings["read"] = round(time.perf_counter() - t0, 3)
        params = resolve_params(params, loaded.tables.roster, day, overrides)
        require_payments_in_window(loaded.tables, start_m, end_m)
        ctx = AuditContext(start_m, end_m, params, region_code=str(params.region_code),
                           overrides=overrides)
        # the linkage and the checks read the same tables and none of each other's results.
        # Where processes can be forked, they run on worker processes forked from this one
        # (they inherit the tables; only results come back), the linkage first so it is not
        # held up by the checks' shared views; forked before this process starts a thread
        # of its own. Otherwise the linkage runs on a second thread and the checks on
        # threads. Errors surface at .result().
        t1 = time.perf_counter()
        processes = check_processes(len(loaded.tables.payments) + len(loaded.tables.roster))
        linkage_job = pool = checks = stats_pool = None
        linkage_forked = False
        done = False
        try:
            if linkage and processes:
                forked = forked_pool(1, _timed_review, (loaded.tables, params, start_m,
                                                        end_m), [()])
                if forked is not None:
                    pool, (linkage_job,) = forked
                    linkage_forked = True
            if linkage and linkage_job is None:
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuzhu-linkage")
                linkage_job = pool.submit(_timed_review, loaded.tables, params, start_m,
                                          end_m)
            # the linkage's worker takes a core; the checks fork workers for the others
            # when there are two or more, else run here on threads (on two cores this
            # measured faster than three processes sharing them, docs/performance.md)
            check_workers = processes - 1 if linkage_forked else processes
            check_workers = check_workers if check_workers > 1 else 0
            # on threads beside a forked linkage, one core is the linkage's: a second check
            # thread only took CPU from it (its DuckDB statements use two threads), and the
            # linkage is the longer of the two (audit with linkage, 200 k people, alternated:
            # 5.18 -> 5.06 s and 5.43 -> 5.19 s with one thread)
            threads = max(1, check_threads() - 1) if linkage_forked else check_threads()
            checks = start_checks(loaded.tables, ctx, timings, processes=check_workers,
                                  threads=threads)
            # forked worker processes (0: threads in this process)
            engine["worker_processes"] = {"checks": 0 if checks.pool is None
                                          else check_workers, "linkage": int(linkage_forked)}
            if out_dir is not None:  # the manifest's input digests, hashed beside the checks
                from jiuzhu_sim.manifest import hash_in_background

                digests = hash_in_background(_manifest_inputs(loaded.paths, rectified))
            from jiuzhu_sim.audit.stats import monthly_stats

            # the monthly statistics read only the tables: computed on their own thread
            # beside the checks (their errors surface at .result())
            stats_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuzhu-stats")
            stats_job = stats_pool.submit(monthly_stats, loaded.tables, ctx)
            findings = checks.result()
            evidence = netting_evidence(evidence_frame(ctx), findings, loaded.tables)
            ctx.evidence.clear()
            notes = ctx.notes
            timings["checks_total"] = round(time.perf_counter() - t1, 3)
            stats = stats_job.result()
            stats_pool.shutdown(wait=True)
            stats_pool = None
            if linkage_job is not None and out_dir is not None:
                # the workbook reads only the findings: started now, while the linkage
                # (the longer job) is still running
                workbook = start_workbook(Path(out_dir), findings, params, day,
                                          _window(start, end, day, params), rectified)
            review = None
            if linkage_job is not None:
                review, timings["linkage"], ran_here = _review_result(
                    linkage_job, loaded.tables, params, start_m, end_m)
                if ran_here:
                    engine["worker_processes"]["ran_here_after_worker_died"] = ["linkage"]
            if checks.ran_here:
                engine["worker_processes"].setdefault(
                    "ran_here_after_worker_died", []).extend(checks.ran_here)
            done = True
        finally:
            # on an error (or Ctrl-C) the workers are killed, not waited for
            if stats_pool is not None:
                stats_pool.shutdown(wait=True, cancel_futures=True)
            if checks is not None and not done:
                checks.stop()
            if workbook is not None and not done:
                workbook.abandon()
            if linkage_forked:
                stop_pool(pool, kill=not done)
            elif pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        tables, rejected = loaded.tables, loaded.rejected
        rows_read, rows_rejected, paths = (loaded.rows_read, loaded.rows_rejected,
                                           loaded.paths)
    # the workbook, the longest output to write, is started now (on a forked process in
    # the in-process engine) unless it already was, beside the summary and the CSVs
    if workbook is None and out_dir is not None:
        workbook = start_workbook(Path(out_dir), findings, params, day,
                                  _window(start, end, day, params), rectified,
                                  fork=tables is not None)
    written = False
    try:
        summary = _summary(start, end, day, params, findings, stats, rows_read,
                           rows_rejected, evidence, review, notes)
        summary["engine"] = engine
        summary["input"] = loaded.notes if tables is not None else run["input"]
        result = AuditResult(findings, rejected, summary, stats, tables, timings, evidence,
                             review)
        if out_dir is not None:
            write_outputs(result, Path(out_dir), params, day, paths, rectified=rectified,
                          command=command, started=started, digests=digests,
                          workbook=workbook)
        written = True
    finally:
        if workbook is not None:
            if written:
                workbook.pool.shutdown(wait=True)
            else:  # an error (or Ctrl-C) before the outputs were written: no workbook left
                workbook.abandon()
    summary.setdefault("timings_seconds", timings)
    return result


def check_window(start: str, end: str) -> tuple[int, int]:
    """Month indices of ``--start``..``--end``; a window longer than
    ``audit.max_window_months`` (or outside the plausible dates) is a user mistake."""
    from jiuzhu_sim.audit.io import _national_input_values, default_limits

    start_m, end_m = parse_month(start), parse_month(end)
    if start_m > end_m:
        raise UserInputError(f"--start {start} is after --end {end}")
    limits = default_limits()
    low, high = (parse_month(str(limits.earliest)[:7]), parse_month(str(limits.latest)[:7]))
    for flag, text, month in (("--start", start, start_m), ("--end", end, end_m)):
        if not low <= month <= high:
            raise UserInputError(f"{flag} {text} is outside the plausible range "
                                 f"{str(limits.earliest)[:7]}..{str(limits.latest)[:7]} "
                                 "(audit_input.earliest_date/latest_date)")
    longest = int(_national_input_values(("audit.max_window_months",))[
        "audit.max_window_months"])
    if end_m - start_m + 1 > longest:
        raise UserInputError(f"--start {start} --end {end} spans {end_m - start_m + 1} "
                             f"months, more than audit.max_window_months = {longest}; "
                             "audit a shorter window")
    return start_m, end_m


def check_out_dir(out: Path) -> None:
    """``--out`` must be a folder we can write: not an existing file, creatable, writable.
    Checked before the audit runs, so a mistake costs no time and is one line."""
    if out.exists() and not out.is_dir():
        raise UserInputError("--out names a file, not a folder", file=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".jiuzhu-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserInputError(f"--out folder cannot be written ({exc.strerror or exc})",
                             file=str(out)) from None


def require_payments_in_window(tables: AuditTables, start_month: int, end_month: int) -> None:
    """A payments file with no payment for any month of the window does not cover it: every
    active person-month would otherwise be 应发未发 (missing_payment). One-line error instead."""
    period = np.asarray(tables.payments["period"], dtype=np.int64)
    if len(period) and not ((period >= start_month) & (period <= end_month)).any():
        from jiuzhu_sim.audit.calendar import month_label

        raise UserInputError(
            f"no payment falls in the window {month_label(start_month)}..{month_label(end_month)}"
            f" (the payments cover {month_label(int(period.min()))}..{month_label(int(period.max()))});"
            " choose --start/--end inside the payments' months", file=tables.files.get(
                "payments", "payments"), column="period")


def _timed_review(tables: AuditTables, params, start_month: int, end_month: int):
    """(:func:`review_list`, its seconds)."""
    t0 = time.perf_counter()
    review = review_list(tables, params, start_month, end_month)
    return review, round(time.perf_counter() - t0, 3)


def _review_result(job, tables: AuditTables, params, start_month: int, end_month: int):
    """The linkage job's (review list, seconds, whether it ran here): if its worker process
    died (killed, out of memory) the linkage runs here instead."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return (*job.result(), False)
    except BrokenProcessPool:
        return (*_timed_review(tables, params, start_month, end_month), True)


def review_list(tables: AuditTables, params, start_month: int, end_month: int
                ) -> pd.DataFrame:
    """The probable matches behind mistyped IDs (待核实), ``review_matches.csv`` rows."""
    from jiuzhu_sim.audit.linkage import review_matches

    return review_matches(tables.roster, tables.payments, tables.deaths, params,
                          start_month, end_month)


def _window(start, end, day, params) -> dict[str, str]:
    """summary.json's ``window`` (also the 说明 sheet's)."""
    return {"start": start, "end": end, "params_date": day.isoformat(),
            "region_code": str(params.region_code)}


def _summary(start, end, day, params, findings, stats, rows_read, rows_rejected, evidence,
             review, notes=None) -> dict[str, Any]:
    from jiuzhu_sim.audit.findings import amount_at_risk_total
    from jiuzhu_sim.audit.stats import HOW, not_derivable

    per_check = {}
    checks_run = {}
    notes = notes or {}
    for check in CHECKS:
        sel = findings["check"] == check.code
        per_check[check.code] = {"findings": int(sel.sum()), "amount_at_risk": round(float(
            findings.loc[sel, "amount_at_risk"].sum()), 2), "severity": check.severity}
        present = [name for name in check.inputs if name in rows_read]
        checks_run[check.code] = {
            "inputs_present": present,
            "inputs_absent": [name for name in check.inputs if name not in rows_read],
            **notes.get(check.code, {})}
    payments_file = "payments"
    if evidence is not None and len(evidence):
        files = evidence["file"].astype(str)
        pay_like = files[files.str.startswith("payments")]
        payments_file = str(pay_like.iloc[0]) if len(pay_like) else payments_file
    summary: dict[str, Any] = {
        "window": _window(start, end, day, params),
        "rows_read": rows_read, "rows_rejected": rows_rejected,
        "rows_used": {k: rows_read[k] - rows_rejected[k] for k in rows_read},
        "findings_total": len(findings),
        # each yuan once, even when two checks find it (POLICY.md §6); the per-check
        # amounts below keep each finding's own amount, so they may add up to more
        "amount_at_risk_total": amount_at_risk_total(findings, evidence, payments_file),
        "amount_at_risk_sum_of_checks": round(float(findings["amount_at_risk"].sum()), 2),
        "findings": per_check,
        "checks_run": checks_run,
        "monthly_stats_derived": {k: v for k, v in HOW.items()},
        "monthly_stats_not_derivable": not_derivable(stats),
        "evidence_rows": len(evidence),
    }
    if review is not None:
        summary["review_matches"] = {
            "total": len(review), "threshold_match_probability": float(
                params["linkage.review_threshold_match_probability"]),
            "by_purpose": {k: int(v) for k, v in review["purpose"].value_counts().items()},
            "amount": round(float(pd.to_numeric(review["amount"]).sum()), 2)
            if len(review) else 0.0}
    return summary


def _manifest_inputs(paths, rectified) -> list[Path]:
    return list(paths) + ([Path(rectified)] if rectified else [])


@dataclass
class StartedWorkbook:
    """三项清单.xlsx being written by ``pool`` (:func:`start_workbook`): a forked process,
    else a thread of this one."""

    pool: Any  # ProcessPoolExecutor (forked) or ThreadPoolExecutor
    job: Any  # Future of write_three_lists's counts
    deadline: str
    path: Path  # written under ``path`` + ".partial", renamed by :meth:`finish`

    @property
    def partial(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")

    def finish(self) -> dict:
        """The workbook's counts once it is written, under its own name (a refused write —
        a full disk — names the workbook)."""
        from jiuzhu_sim.io import refused_write

        try:
            counts = self.job.result()
        except OSError as error:
            raise refused_write(error, self.partial) from error
        self.partial.replace(self.path)
        return counts

    def abandon(self) -> None:
        """Stop (an error elsewhere): stop the writer (a process is killed, a thread waited
        for), remove the half-made file."""
        if isinstance(self.pool, ThreadPoolExecutor):
            self.pool.shutdown(wait=True, cancel_futures=True)  # a thread cannot be killed
        else:  # killed, and waited for: a dying writer must not recreate the file
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            stop_pool(self.pool, kill=True)
            for process in processes:
                process.join(timeout=10)
        self.partial.unlink(missing_ok=True)


WORKBOOK_PROCESS_ROWS = 5_000
"""Findings from which the workbook is written on a forked process (below, forking costs
more than the few tenths of a second of GIL it frees)."""


def start_workbook(out: Path, findings: pd.DataFrame, params, day: dt.date, window: dict,
                   rectified=None, fork: bool = True) -> StartedWorkbook:
    """Start writing 三项清单.xlsx into ``out`` beside the summary and the CSVs: on a
    process forked from this one (it inherits the findings; only the counts come back),
    so the two run on two cores rather than sharing this process's GIL; on a thread where
    no process can be forked. ``rectified``: the previous rectification list, read here
    first. ``fork=False``: a thread in any case (a process with a Dask client's threads is
    not forked)."""
    from jiuzhu_sim.audit.lists import read_rectified, write_three_lists

    out.mkdir(parents=True, exist_ok=True)
    previous = read_rectified(Path(rectified)) if rectified else None
    deadline = (np.datetime64(day, "D") + np.timedelta64(
        int(params["audit.rectification_days"]), "D")).astype(str)
    path = out / "三项清单.xlsx"
    args = (path.with_name(path.name + ".partial"), findings, deadline, previous, window,
            params)
    forked = (forked_pool(1, write_three_lists, args, [()])
              if fork and len(findings) >= WORKBOOK_PROCESS_ROWS and check_processes()
              else None)
    if forked is not None:
        pool, (job,) = forked
        return StartedWorkbook(pool, job, deadline, path)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuzhu-xlsx")
    try:
        job = pool.submit(write_three_lists, *args)
    except BaseException:
        pool.shutdown(wait=False)
        raise
    return StartedWorkbook(pool, job, deadline, path)


def write_outputs(result: AuditResult, out: Path, params, day: dt.date, paths, *,
                  rectified=None, command=None, started=None, digests=None,
                  workbook: StartedWorkbook | None = None) -> None:
    """findings.csv, findings_evidence.csv, rejected.csv, monthly_stats.csv,
    review_matches.csv, 三项清单.xlsx and summary.json (with the manifest). ``digests``:
    the inputs' SHA-256 already being computed (``manifest.hash_in_background``);
    ``workbook``: the workbook already started (:func:`start_workbook`), else started
    here."""
    from jiuzhu_sim.io import write_csv
    from jiuzhu_sim.manifest import build_manifest, hash_in_background

    t0 = time.perf_counter()
    inputs = _manifest_inputs(paths, rectified)
    if digests is None:  # hashed on a worker thread while the outputs are written
        digests = hash_in_background(inputs)
    summary, timings = result.summary, result.timings
    own = workbook is None
    if own:
        workbook = start_workbook(out, result.findings, params, day, summary["window"],
                                  rectified)
    # the CSVs are written while the workbook is built (both spend most of their time in
    # Arrow and zlib, which release the GIL)
    try:
        write_csv(result.findings, out / "findings.csv")
        write_csv(result.evidence, out / "findings_evidence.csv")
        write_csv(result.rejected, out / "rejected.csv")
        write_csv(result.monthly_stats, out / "monthly_stats.csv")
        if result.review is not None:
            write_csv(result.review, out / "review_matches.csv")
        if result.tables is not None and len(result.tables.netted_payments):
            netted = result.tables.netted_payments.rename(columns={"_row": "row"})
            netted = netted.assign(period=month_label(netted["period"].to_numpy()))
            write_csv(netted, out / "netted_payments.csv")
        summary["three_lists"] = workbook.finish()
    except BaseException:
        if own:
            workbook.abandon()
        raise
    finally:
        if own:
            workbook.pool.shutdown(wait=True, cancel_futures=True)
    summary["three_lists"]["deadline"] = workbook.deadline
    timings["write"] = round(time.perf_counter() - t0, 3)
    summary["timings_seconds"] = timings
    summary["manifest"] = build_manifest(
        params=params, inputs=inputs,
        command=command if command is not None else sys.argv,
        started=started or dt.datetime.now(dt.UTC), digests=digests)
    (out / "summary.json").write_text(json.dumps(finite_json(summary), ensure_ascii=False,
                                                 indent=2, default=str, allow_nan=False),
                                      encoding="utf-8")


def finite_json(value):
    """``value`` with every non-finite float (NaN, ±inf) as None: summary.json stays JSON."""
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    return value
