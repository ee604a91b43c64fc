"""The check registry (audit/checks/registry.py): one entry per check holds its labels,
inputs and evidence; the three lists, the report labels and the synthetic county read it, and
a check without a label or a planted case fails here (issue 13/14)."""

import pytest

from jiuzhu_sim.audit.checks.registry import BY_CODE, CHECKS
from jiuzhu_sim.audit.io import SCHEMAS
from jiuzhu_sim.audit.synth import CHECKS as PLANTED
from jiuzhu_sim.audit.synth import generate_audit_data
from jiuzhu_sim.parameters import load_parameters
from jiuzhu_sim.report import check_labels

CONTRACT_CHECKS = [  # CONTRACT §6, copied by hand
    "invalid_id", "deceased_paid", "duplicate_region", "duplicate_program",
    "duplicate_payment", "amount_mismatch", "late_payment", "missing_payment",
    "paid_not_on_roster", "account_mismatch", "staff_relative_unfiled", "review_overdue",
    "exclusion_candidate", "ineligible_recipient", "alert_overdue", "alert_forward_overdue",
    "double_enrolment", "amount_not_per_standard", "deceased_not_exited", "under_assisted"]


def test_every_contract_check_is_registered_once():
    assert sorted(BY_CODE) == sorted(CONTRACT_CHECKS)
    assert len(CHECKS) == len(BY_CODE) == 20


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.code)
def test_every_check_has_labels_inputs_and_evidence(check):
    assert check.severity in ("high", "medium", "low")
    assert check.name_zh and check.label_zh and check.name_en and check.action_zh
    assert check.policy.startswith(("§", "CONTRACT"))
    assert check.inputs and set(check.inputs) <= set(SCHEMAS)
    assert check.evidence and set(check.evidence) <= set(check.inputs)
    assert check_labels([check.code]) == [f"{check.label_zh} {check.code}"]


def test_every_registered_check_is_planted_in_the_synthetic_county():
    assert PLANTED == tuple(BY_CODE)
    params = load_parameters("350581", "2024-06-30")
    truth = generate_audit_data(params, n_households=200, seed=3)["truth"]
    missing = set(BY_CODE) - set(truth["check"])
    assert not missing, f"registered but never planted: {sorted(missing)}"


def test_longest_first_names_registered_checks():
    """The threads' start order (execute.LONGEST_FIRST) names checks that exist: a renamed
    check would silently fall back to registry order."""
    from jiuzhu_sim.audit.checks.registry import CHECKS
    from jiuzhu_sim.audit.execute import LONGEST_FIRST

    codes = {c.code for c in CHECKS}
    assert set(LONGEST_FIRST) <= codes and len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
