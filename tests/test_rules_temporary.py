"""Temporary assistance tiers (POLICY.md §2, 003 分级分类分档): standard × tier multiple."""

from __future__ import annotations

import numpy as np
import pytest

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.rules.temporary import temporary_assistance_amount


def test_tiers_are_multiples_of_the_standard(sim_params):
    tiers = sim_params["temporary.tier_multiples_of_standard"]  # [1, 3, 6]
    # 941 × 1, 941 × 3 = 2823, 941 × 6 = 5646
    out = temporary_assistance_amount(941.0, np.array([0, 1, 2]), tiers)
    assert list(out) == [941.0, 2823.0, 5646.0]


def test_unknown_severity_is_a_user_error(sim_params):
    with pytest.raises(UserInputError):
        temporary_assistance_amount(941.0, 3, sim_params["temporary.tier_multiples_of_standard"])
