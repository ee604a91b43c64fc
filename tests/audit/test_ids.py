"""Resident IDs (GB 11643): check character, real birth date, region prefix."""

import numpy as np

from jiuzhu_sim.audit.ids import (
    REASON_BIRTH,
    REASON_CHECK,
    REASON_FORMAT,
    REASON_LENGTH,
    REASON_REGION,
    check_character,
    id_problems,
)


def test_check_character_of_the_standard_example():
    # GB 11643 example 11010519491231002X: Σ digit×weight = 167, 167 mod 11 = 2 → 'X'
    assert check_character("11010519491231002") == "X"


def test_valid_ids_pass_including_x_and_29_february():
    body = "35058120000229123"  # 2000 is a leap year
    ids = ["11010519491231002X", "11010519491231002x", body + check_character(body)]
    assert list(id_problems(ids)) == ["", "", ""]


def test_each_problem_is_named():
    body = "35058120010229123"  # 2001-02-29 does not exist
    reasons = id_problems(["110105194912310021",          # wrong check character
                           "1101051949123100",            # 16 characters
                           "99010519491231002X",          # no province 99
                           body + check_character(body),  # impossible birth date
                           "11010519491231002A",          # bad last character
                           "张三张三张三张三张三张三张三张三张三"])
    assert list(reasons) == [REASON_CHECK, REASON_LENGTH, REASON_REGION, REASON_BIRTH,
                             REASON_FORMAT, REASON_FORMAT]


def test_birth_after_the_audit_end_is_invalid():
    body = "35058120300101123"
    assert id_problems([body + check_character(body)],
                       latest_birth=np.datetime64("2024-06-30"))[0] == REASON_BIRTH
