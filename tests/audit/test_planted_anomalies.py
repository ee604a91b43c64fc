"""Planted anomalies end to end: the audit (audit/runner.py) on a synthetic county finds every
check's planted cases and nothing else — recall and precision 1.0 for all 20 checks of the
registry — against truth.csv (CONTRACT §6; how each case and its look-alikes are planted is in
audit/synth.py's docstring)."""

from __future__ import annotations

import pandas as pd
import pytest

from jiuzhu_sim.audit import runner
from jiuzhu_sim.audit.synth import CHECKS, write_audit_data
from jiuzhu_sim.parameters import load_parameters

START, END = "2024-01", "2024-06"
MIN_RECALL = 1.0
MIN_PRECISION = 1.0


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    # about 5,000 people; every check gets at least 20 planted people
    params = load_parameters("350581", "2024-06-30").with_overrides(
        {"audit_synth.anomaly_rate": 0.006, "audit_synth.min_planted_per_check": 20})
    data = tmp_path_factory.mktemp("county")
    write_audit_data(data, params, n_households=2700, seed=20240101)
    truth = pd.read_csv(data / "truth.csv", encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    result = runner.run_audit(data, START, END, params=params,
                              out_dir=tmp_path_factory.mktemp("out"))
    return truth, result


def _units(frame: pd.DataFrame, by_period: bool) -> set:
    if by_period:
        return set(zip(frame["person_id"], frame["period"], strict=True))
    return set(frame["person_id"])


def score(truth: pd.DataFrame, findings: pd.DataFrame, check: str) -> tuple[float, float, int]:
    """(recall, precision, planted units) for one check: person-month when both truth and the
    findings give months, person otherwise."""
    t = truth[truth["check"] == check]
    f = findings[findings["check"] == check].copy()
    f["period"] = f["period"].fillna("").astype(str)
    f["person_id"] = f["person_id"].astype(str)
    by_period = bool((t["period"] != "").all() and len(f) and (f["period"] != "").all())
    planted, found = _units(t, by_period), _units(f, by_period)
    hit = len(planted & found)
    recall = hit / len(planted) if planted else 1.0
    precision = hit / len(found) if found else 1.0
    return recall, precision, len(planted)


def test_no_rows_rejected_from_clean_synthetic_files(audited):
    _, result = audited
    rejected = result.rejected
    # planted invalid IDs may be listed as rejected cells; nothing else may be
    assert len(rejected) == 0 or rejected["reason"].astype(str).str.contains(
        "id|ID|身份证", regex=True).all(), rejected.head()


@pytest.mark.parametrize("check", CHECKS)
def test_planted_anomalies_found(audited, check):
    # every registry check: planted cases on at least 20 people, all found, nothing else
    truth, result = audited
    recall, precision, planted = score(truth, result.findings, check)
    assert planted >= 20
    assert recall >= MIN_RECALL, f"{check}: recall {recall:.3f}"
    assert precision >= MIN_PRECISION, f"{check}: precision {precision:.3f}"


def test_checks_on_threads_give_the_one_thread_outputs(audited, tmp_path):
    """The runner runs the checks on several threads; on the planted county the findings,
    their evidence (in registry order) and the notes are those of one thread."""
    from jiuzhu_sim.audit.checks.base import AuditContext
    from jiuzhu_sim.audit.execute import run_checks
    from jiuzhu_sim.audit.findings import evidence_frame
    from jiuzhu_sim.audit.runner import check_window

    _, result = audited
    start, end = check_window(START, END)
    params = load_parameters("350581", "2024-06-30")
    outs = []
    for threads in (1, 4):
        ctx = AuditContext(start, end, params, region_code="350581")
        findings = run_checks(result.tables, ctx, threads=threads)
        outs.append((findings, evidence_frame(ctx), ctx.notes))
    (f1, e1, n1), (f4, e4, n4) = outs
    assert len(f1) > 100 and len(e1) > len(f1)
    pd.testing.assert_frame_equal(f1, f4)
    pd.testing.assert_frame_equal(e1, e4)
    assert n1 == n4


def test_checks_on_worker_processes_give_the_one_thread_outputs(audited):
    """The runner forks worker processes for the checks where it can (Linux): on the planted
    county their findings, evidence (registry order) and notes are those of one thread."""
    from jiuzhu_sim.audit.checks.base import AuditContext
    from jiuzhu_sim.audit.execute import run_checks, start_checks
    from jiuzhu_sim.audit.findings import evidence_frame
    from jiuzhu_sim.audit.runner import check_window

    _, result = audited
    start, end = check_window(START, END)
    params = load_parameters("350581", "2024-06-30")
    one = AuditContext(start, end, params, region_code="350581")
    f1 = run_checks(result.tables, one, threads=1)
    forked = AuditContext(start, end, params, region_code="350581")
    started = start_checks(result.tables, forked, {}, processes=2)
    assert started.pool is not None  # really on worker processes
    f2 = started.result()
    assert len(f1) > 100
    pd.testing.assert_frame_equal(f1, f2)
    pd.testing.assert_frame_equal(evidence_frame(one), evidence_frame(forked))
    assert one.notes == forked.notes


def test_audit_outputs_alike_on_worker_processes_and_threads(tmp_path, monkeypatch):
    """The whole audit, linkage on: every output file is the same whether the checks and the
    linkage run on forked worker processes or on threads; summary.json says which."""
    import json

    from jiuzhu_sim.audit import execute

    data = tmp_path / "county"
    params = load_parameters("350581", "2024-06-30").with_overrides(
        {"audit_synth.anomaly_rate": 0.006, "audit_synth.min_planted_per_check": 20})
    write_audit_data(data, params, n_households=600, seed=7)
    outs = {}
    # 3 cores: the linkage on one worker, the checks on two; 2 cores: the linkage on one
    # worker, the checks here on threads; 0: no workers
    for processes in (3, 2, 0):
        monkeypatch.setattr(runner, "check_processes", lambda rows, n=processes: n)
        out = tmp_path / f"out{processes}"
        runner.run_audit(data, START, END, params=params, out_dir=out)
        outs[processes] = out
    assert execute.check_processes(execute.MIN_ROWS_FOR_PROCESSES - 1) == 0  # small: threads
    for n in (3, 2):
        for name in ("findings.csv", "findings_evidence.csv", "monthly_stats.csv",
                     "review_matches.csv", "rejected.csv"):
            assert (outs[n] / name).read_bytes() == (outs[0] / name).read_bytes(), (n, name)
    s3, s2, s0 = (json.loads((outs[n] / "summary.json").read_text(encoding="utf-8"))
                  for n in (3, 2, 0))
    assert s3["engine"]["worker_processes"] == {"checks": 2, "linkage": 1}
    assert s2["engine"]["worker_processes"] == {"checks": 0, "linkage": 1}
    assert s0["engine"]["worker_processes"] == {"checks": 0, "linkage": 0}
    for key in ("findings", "checks_run", "amount_at_risk_total", "review_matches"):
        assert s3[key] == s0[key] and s2[key] == s0[key], key
