"""The partitioned audit (provincial scale) gives the single-machine result."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.audit.calendar import month_last_day, parse_month
from jiuzhu_sim.audit.partitioned import (
    order_findings,
    order_rejected,
    partition_of,
    run_partitioned,
    stage_inputs,
)
from jiuzhu_sim.audit.runner import resolve_params, run_audit
from jiuzhu_sim.audit.synth import write_audit_data
from jiuzhu_sim.parameters import load_parameters

START, END = "2024-01", "2024-06"


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """A small synthetic county (every planted anomaly) plus bad rows to reject, with the
    payments as Parquet and the roster as CSV, so both streaming readers are used."""
    folder = tmp_path_factory.mktemp("county")
    params = load_parameters("350581", "2024-06-30")
    write_audit_data(folder, params, n_households=600, seed=7, start=START, end=END)
    pays = pd.read_csv(folder / "payments.csv", dtype=str, keep_default_na=False)
    pays.loc[3, "period"] = "2024-13"      # not a month → rejected
    pays.loc[10, "person_id"] = ""          # blank ID → rejected
    pays.loc[11, "amount"] = "abc"          # not a number → rejected
    (folder / "payments.csv").unlink()
    pays.to_parquet(folder / "payments.parquet", index=False)
    roster = pd.read_csv(folder / "roster.csv", dtype=str, keep_default_na=False)
    roster.loc[5, "start_date"] = "not a date"
    roster.to_csv(folder / "roster.csv", index=False)
    return folder


def _resolver(counts):
    day = month_last_day(parse_month(END)).astype(dt.date)
    roster = pd.DataFrame({"region_code": [counts.most_common(1)[0][0]]})
    return resolve_params(None, roster, day)


def _partitioned(folder, **kwargs):
    return run_partitioned(folder, parse_month(START), parse_month(END), _resolver,
                           progress=False, **kwargs)


def _same_rows(a: pd.DataFrame, b: pd.DataFrame, key: list[str]) -> bool:
    a = a.sort_values(key).reset_index(drop=True).astype(str)
    b = b.sort_values(key).reset_index(drop=True).astype(str)
    return a.equals(b)


def test_partition_of_is_stable_and_case_blind():
    ids = pd.Series(["35058119800101001X", "35058119800101001x ", "350581199001010012"])
    parts = partition_of(ids, 7)
    assert parts[0] == parts[1]                      # same person after normalising
    assert np.array_equal(parts, partition_of(ids, 7))  # same run, same answer
    assert ((parts >= 0) & (parts < 7)).all()


def test_staging_keeps_every_row_with_its_source_row(county, tmp_path):
    staged = stage_inputs(county, tmp_path / "stage", 4, batch_rows=1000)
    pays = pd.read_parquet(county / "payments.parquet")
    parts = [pd.read_parquet(staged.part_path("payments", k)) for k in range(4)
             if staged.part_path("payments", k).is_file()]
    rows = np.sort(pd.concat(parts)["_source_row"].to_numpy())
    assert staged.rows_read["payments"] == len(pays)
    assert np.array_equal(rows, np.arange(1, len(pays) + 1))   # each row once, numbered


@pytest.fixture(scope="module")
def single(county):
    """The one-process audit of the county, the result every partitioned run must give."""
    return run_audit(county, START, END)


def _assert_single_machine_outputs(single, result):
    """Findings, evidence, rejected rows, monthly statistics and probable matches of a
    partitioned run are the one-process ones."""
    assert order_findings(single.findings).equals(result["findings"])
    assert _same_rows(single.evidence, result["evidence"], ["finding_id", "file", "row"])
    assert _same_rows(single.rejected, result["rejected"], ["file", "row"])
    assert result["rows_read"] == single.summary["rows_read"]
    assert result["rows_rejected"] == single.summary["rows_rejected"]
    assert single.monthly_stats.astype(str).equals(result["stats"].astype(str))
    assert _same_rows(single.review, result["review"], ["purpose", "left_key", "right_key"])


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_partitioned_findings_equal_single_machine(county, single, partitions):
    result = _partitioned(county, partitions=partitions)
    assert len(single.findings) > 50 and len(single.evidence) > 50
    assert len(result["rejected"]) == 4
    # probable matches are linked across partitions: a mistyped ID hashes elsewhere
    assert len(single.review) >= 20
    _assert_single_machine_outputs(single, result)


def test_rejected_rows_name_the_source_row(county):
    rejected = order_rejected(_partitioned(county, partitions=5)["rejected"],
                              {"roster": "roster.csv", "payments": "payments.parquet"})
    got = set(zip(rejected["file"], rejected["row"], rejected["column"], strict=True))
    # 0-based frame positions 3, 10, 11 are data rows 4, 11, 12; roster position 5 is row 6
    assert got == {("payments.parquet", 4, "period"), ("payments.parquet", 11, "person_id"),
                   ("payments.parquet", 12, "amount"), ("roster.csv", 6, "start_date")}


@pytest.mark.slow
def test_local_cluster_workers_give_the_single_machine_outputs(county, single):
    """``--workers 2``: a LocalCluster of two worker processes; every output, not only the
    findings, is the one-process output."""
    _assert_single_machine_outputs(single, _partitioned(county, partitions=4, workers=2))


def test_scheduler_address_gives_the_single_machine_outputs(county, single):
    """``--scheduler ADDRESS``: the tasks go to an existing cluster by its address (here an
    in-process LocalCluster with one thread worker, started by the test)."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        result = _partitioned(county, partitions=3, scheduler=cluster.scheduler_address)
    _assert_single_machine_outputs(single, result)


def test_cli_partitions_write_the_same_outputs(county, tmp_path):
    import json

    from jiuzhu_sim.cli import main

    args = ["audit", str(county), "--start", START, "--end", END]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--out", str(tmp_path / "parts"), "--partitions", "3"]) == 0
    for name, key in (("findings.csv", ["finding_id"]),
                      ("findings_evidence.csv", ["finding_id", "file", "row"]),
                      ("review_matches.csv", ["purpose", "left_key", "right_key"]),
                      ("rejected.csv", ["file", "row"])):
        a = pd.read_csv(tmp_path / "one" / name, dtype=str, keep_default_na=False)
        b = pd.read_csv(tmp_path / "parts" / name, dtype=str, keep_default_na=False)
        assert _same_rows(a, b, key), name
    summary = json.loads((tmp_path / "parts" / "summary.json").read_text(encoding="utf-8"))
    assert summary["engine"] == {"engine": "partitioned", "partitions": 3, "workers": None,
                                 "scheduler": None}
    assert main([*args, "--out", str(tmp_path / "bad"), "--partitions", "0"]) == 2


def test_ragged_csv_rows_are_rejected_alike_in_both_engines(county, tmp_path):
    # the county's roster.csv with data row 7 given an extra field and row 9 a field short:
    # the streamed reader cannot say which rows Arrow skipped, so the file is staged again
    # whole; both engines reject rows 7 and 9 and give the same outputs
    import shutil

    folder = tmp_path / "ragged"
    shutil.copytree(county, folder)
    lines = (folder / "roster.csv").read_text(encoding="utf-8").splitlines()
    lines[7] += ",extra"
    lines[9] = lines[9].rsplit(",", 1)[0]
    (folder / "roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = run_audit(folder, START, END)
    parts = _partitioned(folder, partitions=3)
    _assert_single_machine_outputs(one, parts)
    ragged = one.rejected[one.rejected["reason"].str.contains("wrong number of fields")]
    assert list(ragged["row"]) == [7, 9] and set(ragged["file"]) == {"roster.csv"}
    assert one.summary["rows_read"]["roster"] == len(lines) - 1
