"""Temporary assistance tiers (POLICY.md §2, 003 分级分类分档): standard × tier multiple."""

from __future__ import annotations

import numpy as np
import pytest

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.rules.temporary import temporary_assistance_amount


def test_tiers_are_multiples_of_the_standard(sim_params):
    tiers = sim_params["temporary.tier_multiples_of_standard"]  # [1, 3, 6]
    # 941 × 1, 941 × 3 = 2823, 941 × 6 = 5646
    out = temporary_assistance_amount(941.0, np.array([0, 1, 2]), tiers,
                                      sim_params["temporary.benefit_rounding"])
    assert list(out) == [941.0, 2823.0, 5646.0]


def test_amount_is_rounded_once_by_the_rounding_parameter(sim_params):
    assert sim_params["temporary.benefit_rounding"] == "fen"
    # a county standard of 941.37 at the 3-month tier: 941.37 × 3 = 2824.11 (fen);
    # × 1.5 (a tier set by --set) = 1412.055 → fen 1412.06 (half away from zero),
    # jiao 1412.1, yuan 1412, ceil_yuan 1413
    assert list(temporary_assistance_amount(941.37, np.array([1]), [1, 3], "fen")) == [
        2824.11]
    got = {rule: temporary_assistance_amount(941.37, 0, [1.5], rule).item()
           for rule in ("fen", "jiao", "yuan", "ceil_yuan")}
    assert got == {"fen": 1412.06, "jiao": 1412.1, "yuan": 1412.0, "ceil_yuan": 1413.0}
    assert temporary_assistance_amount(941.37, 0, [1.5], None).item() == 941.37 * 1.5


def test_unknown_severity_is_a_user_error(sim_params):
    with pytest.raises(UserInputError):
        temporary_assistance_amount(941.0, 3, sim_params["temporary.tier_multiples_of_standard"],
                                    "fen")
