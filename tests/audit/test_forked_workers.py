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
