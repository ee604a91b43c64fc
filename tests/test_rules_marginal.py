"""Marginal households (低保边缘, POLICY.md §3.6): standard ≤ per capita < 1411.5 (941 × 1.5)."""

from __future__ import annotations

import numpy as np

from jiuzhu_sim.rules import marginal


def test_marginal_band_edges(sim_run):
    h, _ = sim_run([
        {"household_id": "in", "members": [{"monthly_income": 1411.49}]},
        {"household_id": "edge", "members": [{"monthly_income": 1411.5}]},
        {"household_id": "poor_assets", "financial_assets": 30000,
         "members": [{"monthly_income": 1000}]},  # limit 24 × 941 = 22584 → fails
    ])
    assert bool(h.loc["in"].marginal)
    assert not h.loc["edge"].marginal
    assert not h.loc["poor_assets"].marginal


def test_covered_whole_is_not_marginal(sim_run):
    h, _ = sim_run([{"household_id": "w", "members": [{"monthly_income": 900}]}])
    assert h.loc["w"].dibao_type == "household" and not h.loc["w"].marginal


def test_marginal_cash_share(sim_run):
    # --set marginal.monthly_benefit_share=0.1: 0.1 × 941 × 2 members = 188.2
    h, _ = sim_run([{"household_id": "c", "members": [{"monthly_income": 1000},
                                                      {"monthly_income": 1000}]}],
                   {"marginal.monthly_benefit_share": 0.1})
    assert h.loc["c"].marginal_monthly_benefit == 188.2


def test_marginal_cash_is_rounded_by_its_parameter(sim_run):
    # --set marginal.monthly_benefit_share=0.15: 0.15 × 941 × 1 member = 141.15 yuan;
    # marginal.benefit_rounding=yuan → 141 (half away from zero), ceil_yuan → 142
    people = [{"household_id": "c", "members": [{"monthly_income": 1000}]}]
    for rule, expected in (("fen", 141.15), ("yuan", 141.0), ("ceil_yuan", 142.0)):
        h, _ = sim_run(people, {"marginal.monthly_benefit_share": 0.15,
                                "marginal.benefit_rounding": rule})
        assert h.loc["c"].marginal_monthly_benefit == expected, rule


def test_marginal_function():
    out = marginal.marginal_household(np.array([941.0, 940.99, 1200.0]), 941.0, 1411.5,
                                      np.array([True, True, True]),
                                      np.array([False, False, True]))
    assert list(out) == [True, False, False]
