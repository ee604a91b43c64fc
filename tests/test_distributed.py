"""Partitioned runs: seeds per partition, identical results for any number of workers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from jiuzhu_sim.distributed import chunk_sizes, make_partitions, run_partitions
from jiuzhu_sim.exceptions import UserInputError


def _draw_sum(part, common):
    rng = np.random.default_rng(part.seed)
    return float(rng.normal(size=part.n_households).sum()) + common["offset"]


def test_chunk_sizes_cover_every_household():
    assert chunk_sizes(25, 10) == [10, 10, 5]
    assert chunk_sizes(20, 10) == [10, 10]
    with pytest.raises(UserInputError):
        chunk_sizes(0, 10)


def test_partitions_have_distinct_reproducible_seeds():
    parts = make_partitions(2, 3, 25, 10, root_seed=7)
    assert len(parts) == 2 * 3 * 3
    states = {tuple(p.seed.generate_state(2)) for p in parts}
    assert len(states) == len(parts)
    again = make_partitions(2, 3, 25, 10, root_seed=7)
    assert [p.seed.generate_state(2).tolist() for p in again] == [
        p.seed.generate_state(2).tolist() for p in parts]
    # spawn keys reproduce SeedSequence(root).spawn three levels down
    spawned = np.random.SeedSequence(7).spawn(2)[1].spawn(3)[2].spawn(3)[0]
    assert parts[-3].seed.generate_state(4).tolist() == spawned.generate_state(4).tolist()


def test_in_process_run_does_not_import_dask():
    # a fresh interpreter: other tests may have imported dask already
    code = ("import sys; from jiuzhu_sim.distributed import make_partitions, run_partitions; "
            "run_partitions(lambda p, c: p.chunk, make_partitions(1, 2, 30, 10, 1), "
            "progress=False); print('dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_one_and_two_workers_give_identical_results():
    pytest.importorskip("dask.distributed")
    parts = make_partitions(2, 4, 50, 20, root_seed=11)
    common = {"offset": 0.5}
    local = run_partitions(_draw_sum, parts, progress=False, common=common)
    one = run_partitions(_draw_sum, parts, workers=1, processes=False, progress=False,
                         common=common)
    two = run_partitions(_draw_sum, parts, workers=2, processes=False, progress=False,
                         common=common)
    assert one == local
    assert two == local


@pytest.mark.slow
def test_budget_and_scenario_identical_on_one_and_two_workers():
    pytest.importorskip("dask.distributed")
    import pandas as pd

    from jiuzhu_sim.budget import run_budget
    from jiuzhu_sim.parameters import load_parameters
    from jiuzhu_sim.scenario import parse_scenario, run_scenario

    params = load_parameters("350581", "2024-06-01", {"budget.chunk_households": 1000})
    runs = [run_budget(params, (2025, 2026), None, replications=5, households=3000, seed=3,
                       workers=w, processes=False, progress=False) for w in (None, 1, 2)]
    pd.testing.assert_frame_equal(runs[0].table, runs[1].table)
    pd.testing.assert_frame_equal(runs[0].table, runs[2].table)
    for replicate in ("fresh", "bootstrap"):
        spec = parse_scenario({
            "date": "2024-01-01", "replications": 3,
            "population": {"synthetic": {"households": 2000, "chunk_households": 1000},
                           "replicate": replicate},
            "reforms": [{"name": "r50", "set": {"dibao.standard_ratio_to_minimum_wage": 0.5}}]})
        results = [run_scenario(spec, None, workers=w, processes=False, progress=False)
                   for w in (None, 1, 2)]
        for other in results[1:]:
            pd.testing.assert_frame_equal(results[0].comparison, other.comparison)
            pd.testing.assert_frame_equal(results[0].winners_losers, other.winners_losers)
        comp = results[0].comparison.set_index("scenario")
        # replications differ from each other: a spread between P5 and P95
        assert comp.loc["r50", "cost_total_p95"] > comp.loc["r50", "cost_total_p5"]


@pytest.mark.slow
def test_existing_scheduler_address_is_used():
    distributed = pytest.importorskip("dask.distributed")
    parts = make_partitions(1, 3, 20, 10, root_seed=2)
    local = run_partitions(_draw_sum, parts, progress=False, common={"offset": 1.0})
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        remote = run_partitions(_draw_sum, parts, scheduler=cluster.scheduler_address,
                                progress=False, common={"offset": 1.0})
    assert remote == local


def test_unreachable_scheduler_is_a_user_error():
    pytest.importorskip("dask.distributed")
    parts = make_partitions(1, 1, 10, 10, root_seed=2)
    with pytest.raises(UserInputError, match="--scheduler"):
        run_partitions(_draw_sum, parts, scheduler="tcp://127.0.0.1:1", progress=False,
                       common={"offset": 0.0})
