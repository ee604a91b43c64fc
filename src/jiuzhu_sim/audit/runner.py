"""Run the audit look-back (回头看): inputs → normalised tables → checks → findings →
三项清单, monthly statistics, summary with manifest (CONTRACT §5–7).

The parameters apply on the audit end month's last day (``--date`` overrides); the region
is ``--params`` if given, else the most common ``region_code`` of the roster (350581 if
that region has no parameter file).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim.audit.calendar import month_last_day, parse_month
from jiuzhu_sim.audit.checks.base import AuditContext
from jiuzhu_sim.audit.checks.registry import CHECKS
from jiuzhu_sim.audit.findings import FINDING_COLUMNS, empty_findings, evidence_frame
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
    region = _region_of_roster(roster)
    try:
        return load_parameters(region, day, overrides)
    except UserInputError:
        return load_parameters(DEFAULT_REGION, day, overrides)


def run_checks(tables: AuditTables, ctx: AuditContext, timings: dict | None = None
               ) -> pd.DataFrame:
    """Every registered check; findings in registry order. The checks' evidence is left in
    ``ctx.evidence`` (``findings.evidence_frame(ctx)`` gathers it)."""
    parts = []
    for check in CHECKS:
        t0 = time.perf_counter()
        part = check.function(tables, ctx)
        if timings is not None:
            timings[check.code] = round(time.perf_counter() - t0, 3)
        if len(part):
            parts.append(part)
    if not parts:
        return empty_findings()
    return pd.concat(parts, ignore_index=True)[FINDING_COLUMNS]


def run_audit(data_dir, start: str, end: str, params=None, out_dir=None, rectified=None,
              command=None, overrides=(), date=None) -> AuditResult:
    """Audit ``data_dir`` over months ``start``..``end`` (YYYY-MM); write outputs to
    ``out_dir`` when given."""
    from jiuzhu_sim.manifest import build_manifest

    started = dt.datetime.now(dt.UTC)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    start_m, end_m = parse_month(start), parse_month(end)
    if start_m > end_m:
        raise UserInputError(f"--start {start} is after --end {end}")
    loaded = load_inputs(data_dir)
    timings["read"] = round(time.perf_counter() - t0, 3)
    day = (dt.date.fromisoformat(str(date)) if date else
           month_last_day(end_m).astype(dt.date))
    params = resolve_params(params, loaded.tables.roster, day, overrides)
    ctx = AuditContext(start_m, end_m, params, region_code=str(params.region_code),
                       overrides=overrides)
    t1 = time.perf_counter()
    findings = run_checks(loaded.tables, ctx, timings)
    evidence = evidence_frame(ctx)
    ctx.evidence.clear()
    timings["checks_total"] = round(time.perf_counter() - t1, 3)
    from jiuzhu_sim.audit.stats import HOW, monthly_stats, not_derivable

    stats = monthly_stats(loaded.tables, ctx)
    per_check = {}
    for check in CHECKS:
        sel = findings["check"] == check.code
        per_check[check.code] = {"findings": int(sel.sum()), "amount_at_risk": round(float(
            findings.loc[sel, "amount_at_risk"].sum()), 2), "severity": check.severity}
    summary: dict[str, Any] = {
        "window": {"start": start, "end": end, "params_date": day.isoformat(),
                   "region_code": str(params.region_code)},
        "rows_read": loaded.rows_read, "rows_rejected": loaded.rows_rejected,
        "rows_used": {k: loaded.rows_read[k] - loaded.rows_rejected[k]
                      for k in loaded.rows_read},
        "findings_total": len(findings),
        "amount_at_risk_total": round(float(findings["amount_at_risk"].sum()), 2),
        "findings": per_check,
        "monthly_stats_derived": {k: v for k, v in HOW.items()},
        "monthly_stats_not_derivable": not_derivable(stats),
    }
    summary["evidence_rows"] = len(evidence)
    result = AuditResult(findings, loaded.rejected, summary, stats, loaded.tables, timings,
                         evidence)
    if out_dir is not None:
        t2 = time.perf_counter()
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        findings.to_csv(out / "findings.csv", index=False, encoding="utf-8-sig")
        evidence.to_csv(out / "findings_evidence.csv", index=False, encoding="utf-8-sig")
        loaded.rejected.to_csv(out / "rejected.csv", index=False, encoding="utf-8-sig")
        stats.to_csv(out / "monthly_stats.csv", index=False, encoding="utf-8-sig")
        from jiuzhu_sim.audit.lists import read_rectified, write_three_lists

        previous = read_rectified(Path(rectified)) if rectified else None
        deadline = (np.datetime64(day, "D") + np.timedelta64(
            int(params["audit.rectification_days"]), "D")).astype(str)
        summary["three_lists"] = write_three_lists(out / "三项清单.xlsx", findings, deadline,
                                                   previous)
        summary["three_lists"]["deadline"] = deadline
        timings["write"] = round(time.perf_counter() - t2, 3)
        extra_inputs = [Path(rectified)] if rectified else []
        summary["timings_seconds"] = timings
        summary["manifest"] = build_manifest(
            params=params, inputs=list(loaded.paths) + extra_inputs,
            command=command if command is not None else sys.argv, started=started)
        (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2,
                                                     default=str), encoding="utf-8")
    summary.setdefault("timings_seconds", timings)
    return result


def run_audit_cli(args) -> int:
    """``jiuzhu audit DATA_DIR --start --end --out [--params] [--date] [--set] [--rectified]``."""
    result = run_audit(args.data_dir, args.start, args.end, params=args.params,
                       out_dir=args.out, rectified=getattr(args, "rectified", None),
                       command=sys.argv, overrides=list(getattr(args, "overrides", []) or []),
                       date=getattr(args, "date", None))
    s = result.summary
    counts = Counter({k: v["findings"] for k, v in s["findings"].items() if v["findings"]})
    print(json.dumps({"findings_total": s["findings_total"],
                      "amount_at_risk_total": s["amount_at_risk_total"],
                      "findings": dict(counts), "rows_read": s["rows_read"],
                      "rows_rejected": s["rows_rejected"], "out": str(args.out)},
                     ensure_ascii=False, indent=2))
    return 0
