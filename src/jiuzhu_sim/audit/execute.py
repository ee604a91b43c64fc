"""Run the registered checks on normalised tables and gather the netting evidence — the
part of the audit that both the in-process runner (:mod:`jiuzhu_sim.audit.runner`) and the
partitioned runner (:mod:`jiuzhu_sim.audit.partitioned`) call. It sits below both, so
neither imports the other for it (no import cycle).
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

        order = sorted(range(len(CHECKS)), key=lambda i: (
            LONGEST_FIRST.index(CHECKS[i].code) if CHECKS[i].code in LONGEST_FIRST
            else len(LONGEST_FIRST), i))
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
