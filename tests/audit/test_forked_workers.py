"""Forked worker processes (audit/execute.py ``forked_pool``, ``start_checks``): what a worker
raises reaches the caller whole, and a worker that dies does not lose its checks."""

from __future__ import annotations

import os
import pickle

import pytest

from jiuzhu_sim.audit import execute
from jiuzhu_sim.exceptions import ParameterError, UserInputError

pytestmark = pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(),
    reason="worker processes are forked (Linux)")


def _add(a, b, c):
    return a + b + c


def _refuse(reason, _call):
    raise UserInputError(reason, file="payments.csv", row=7, column="amount")


def _die(_call):
    os._exit(3)  # a worker killed mid-check (out of memory, a signal)


def test_workers_inherit_the_arguments_and_return_each_call_in_order():
    pool, futures = execute.forked_pool(2, _add, (1, 10), [(100,), (200,), (300,)])
    try:
        assert [f.result() for f in futures] == [111, 211, 311]
    finally:
        pool.shutdown()
    assert execute._INHERITED is None  # nothing kept alive after the fork


def test_a_user_error_raised_in_a_worker_arrives_whole():
    pool, (future,) = execute.forked_pool(1, _refuse, ("not a number",), [(0,)])
    try:
        with pytest.raises(UserInputError) as caught:
            future.result()
    finally:
        pool.shutdown()
    err = caught.value
    assert (err.file, err.row, err.column, err.reason) == (
        "payments.csv", 7, "amount", "not a number")
    assert err.one_line() == "payments.csv, row 7, column amount: not a number"


def test_user_errors_pickle_with_their_class_and_fields():
    err = ParameterError("unknown key", file="350581.yaml", column="dibao.standard")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ParameterError
    assert (back.file, back.row, back.column, str(back)) == (
        "350581.yaml", None, "dibao.standard", str(err))


def test_checks_of_a_dead_worker_run_in_the_calling_process(tmp_path, monkeypatch):
    """Every worker dies before finishing a check: the checks run here instead, and the
    findings, evidence and notes are those of one thread."""
    import pandas as pd

    from jiuzhu_sim.audit.checks.base import AuditContext
    from jiuzhu_sim.audit.findings import evidence_frame
    from jiuzhu_sim.audit.io import load_inputs
    from jiuzhu_sim.audit.runner import check_window
    from jiuzhu_sim.audit.synth import write_audit_data
    from jiuzhu_sim.parameters import load_parameters

    params = load_parameters("350581", "2024-06-30")
    write_audit_data(tmp_path, params, n_households=300, seed=11)
    tables = load_inputs(tmp_path, ()).tables
    start, end = check_window("2024-01", "2024-06")
    one = AuditContext(start, end, params, region_code="350581")
    expected = execute.run_checks(tables, one)
    ctx = AuditContext(start, end, params, region_code="350581")
    monkeypatch.setattr(execute, "_run_one", lambda *a: _die(a))  # what the workers inherit
    started = execute.start_checks(tables, ctx, {}, processes=2)
    monkeypatch.undo()  # this process runs the real checks
    from concurrent.futures.process import BrokenProcessPool

    assert all(isinstance(f.exception(), BrokenProcessPool) for f in started.futures.values())
    found = started.result()
    assert len(expected) > 10
    pd.testing.assert_frame_equal(found, expected)
    pd.testing.assert_frame_equal(evidence_frame(ctx), evidence_frame(one))
    assert ctx.notes == one.notes


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    from jiuzhu_sim.audit.synth import write_audit_data
    from jiuzhu_sim.parameters import load_parameters

    data = tmp_path_factory.mktemp("county")
    write_audit_data(data, load_parameters("350581", "2024-06-30"), n_households=300, seed=5)
    return data


def _audit(data, out, monkeypatch, processes, linkage=True):
    import json

    from jiuzhu_sim.audit import runner

    monkeypatch.setattr(runner, "check_processes", lambda rows: processes)
    runner.run_audit(data, "2024-01", "2024-06", out_dir=out, linkage=linkage)
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _same_outputs(a, b, names=("findings.csv", "findings_evidence.csv", "monthly_stats.csv",
                               "review_matches.csv")):
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_users_mistake_found_on_a_worker_is_one_line_and_exit_2(county, tmp_path,
                                                                   monkeypatch, capsys):
    """A check that meets a user's mistake on a worker process: the command prints the same
    one line (file, row, column, reason) and exits 2, as on one thread."""
    from jiuzhu_sim.audit import runner
    from jiuzhu_sim.cli import main

    real = execute._run_one

    def refuse(tables, ctx, index):
        if index == 3:
            raise UserInputError("bad cell", file="payments.csv", row=3, column="amount")
        return real(tables, ctx, index)

    monkeypatch.setattr(runner, "check_processes", lambda rows: 3)
    monkeypatch.setattr(execute, "_run_one", refuse)  # what the workers inherit
    code = main(["audit", str(county), "--start", "2024-01", "--end", "2024-06", "--out",
                 str(tmp_path / "out"), "--no-linkage"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "jiuzhu audit: payments.csv, row 3, column amount: bad cell"]


def test_when_workers_cannot_be_forked_the_audit_runs_on_threads(county, tmp_path,
                                                                  monkeypatch):
    """fork fails (no memory, a process limit): no worker is left waiting, the checks and
    the linkage run in this process, the outputs are the same and summary.json says so."""
    import errno

    threads = _audit(county, tmp_path / "threads", monkeypatch, 0)

    def no_fork():
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    refused = _audit(county, tmp_path / "refused", monkeypatch, 3)
    assert refused["engine"]["worker_processes"] == {"checks": 0, "linkage": 0}
    assert threads["engine"]["worker_processes"] == {"checks": 0, "linkage": 0}
    _same_outputs(tmp_path / "threads", tmp_path / "refused")


def _die_reviewing(*_args):
    os._exit(3)


def test_the_linkage_of_a_dead_worker_runs_in_the_calling_process(county, tmp_path,
                                                                   monkeypatch):
    """The linkage's worker dies: the linkage runs here, review_matches.csv is the same and
    summary.json names what ran here."""
    from jiuzhu_sim.audit import runner

    threads = _audit(county, tmp_path / "threads", monkeypatch, 0)
    real = runner.forked_pool

    def dying(workers, function, args, calls):
        if function is runner._timed_review:
            function = _die_reviewing
        return real(workers, function, args, calls)

    monkeypatch.setattr(runner, "forked_pool", dying)
    died = _audit(county, tmp_path / "died", monkeypatch, 3)
    assert died["engine"]["worker_processes"] == {
        "checks": 2, "linkage": 1, "ran_here_after_worker_died": ["linkage"]}
    assert died["review_matches"] == threads["review_matches"]
    _same_outputs(tmp_path / "threads", tmp_path / "died")
