"""Audit explorer (jiuzhu_sim.explore.audit) on a hand-written audit output folder
(tests/fixtures/explore_audit: five findings, eight evidence rows)."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.explore import AuditExplorer, FindingFilter

FOLDER = Path(__file__).parent / "fixtures" / "explore_audit"


def test_options_come_from_the_findings():
    options = AuditExplorer(FOLDER).options()
    assert options["checks"] == ["deceased_paid", "duplicate_region", "invalid_id",
                                 "late_payment"]
    # a township code (9 digits) is a region of its own
    assert options["regions"] == ["350581", "350581101", "350583"]
    assert options["months"] == ["", "2024-01", "2024-02"]
    assert options["severities"] == ["high", "medium", "low"]


@pytest.mark.parametrize("flt, expected", [
    (FindingFilter(), ["F000000000000004", "F000000000000005", "F000000000000003",
                       "F000000000000001", "F000000000000002"]),
    (FindingFilter(checks=("deceased_paid",)), ["F000000000000001", "F000000000000002"]),
    (FindingFilter(months=("2024-02",)), ["F000000000000003", "F000000000000002"]),
    (FindingFilter(regions=("350581101",)), ["F000000000000003"]),
    (FindingFilter(severities=("high",), months=("2024-01",)), ["F000000000000001"]),
    (FindingFilter(months=("",)), ["F000000000000005"]),
    (FindingFilter(checks=("late_payment",), severities=("high",)), []),
])
def test_filters_combine_and_sort_by_amount_at_risk(flt, expected):
    # amounts at risk: F5 2076, F4 1420, F3 599, F1 288, F2 288
    shown = AuditExplorer(FOLDER).filtered(flt)
    assert sorted(shown["finding_id"]) == sorted(expected)
    assert list(shown["amount_at_risk"]) == sorted(shown["amount_at_risk"], reverse=True)


def test_counts_per_check_follow_the_filter():
    counts = AuditExplorer(FOLDER).counts(FindingFilter(severities=("high",)))
    # high: two deceased_paid (288 + 288), one duplicate_region (599)
    assert counts.to_dict(orient="records") == [
        {"check": "deceased_paid", "findings": 2, "amount_at_risk": 576.0},
        {"check": "duplicate_region", "findings": 1, "amount_at_risk": 599.0}]


def test_masked_by_default_ids_and_names_also_inside_the_detail():
    ex = AuditExplorer(FOLDER)
    row = ex.finding("F000000000000001")
    assert row["person_id"] == "350581********5925"
    assert row["name"] == "雷*"
    assert ex.detail("F000000000000001").endswith("应停发并追回（雷*，350581********5925）")
    evidence = ex.evidence("F000000000000001")
    assert list(evidence["file"]) == ["deaths.csv", "payments.csv"]
    assert list(evidence["row"]) == [12, 40]
    assert evidence["key_fields"][0] == ("person_id=350581********5925; name=雷*; "
                                         "death_date=2023-12-14")


def test_unmasked_shows_ids_and_names():
    ex = AuditExplorer(FOLDER, mask=False)
    assert ex.finding("F000000000000001")["person_id"] == "350581193611075925"
    assert "雷福" in ex.evidence("F000000000000001")["key_fields"][0]
    assert ex.detail("F000000000000003") == "同月在两地领取低保：石狮市与南安市"


def test_unknown_finding_is_a_user_error():
    with pytest.raises(UserInputError, match="no finding 'F9'"):
        AuditExplorer(FOLDER).evidence("F9")


def test_export_writes_the_filtered_rows_and_their_evidence_masked(tmp_path):
    ex = AuditExplorer(FOLDER)
    path = ex.export_xlsx(tmp_path / "filtered.xlsx", FindingFilter(months=("2024-02",)))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["发现 findings", "证据 evidence"]
    rows = list(book["发现 findings"].values)
    assert rows[0][:3] == ("finding_id", "check", "severity")
    assert sorted(r[0] for r in rows[1:]) == ["F000000000000002", "F000000000000003"]
    evidence = list(book["证据 evidence"].values)
    # F2: deaths 12 + payments 41; F3: payments 77 + 78
    assert len(evidence) == 1 + 4
    text = " ".join(str(v) for r in rows + evidence for v in r)
    assert "350581193611075925" not in text and "雷福" not in text and "林燕淑" not in text
    ex.mask = False
    unmasked = openpyxl.load_workbook(ex.export_xlsx(tmp_path / "u.xlsx",
                                                     FindingFilter(months=("2024-02",))))
    assert "林燕淑" in {r[4] for r in unmasked["发现 findings"].values}


def test_a_folder_without_findings_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="findings.csv is missing"):
        AuditExplorer(tmp_path)
    with pytest.raises(UserInputError, match="folder not found"):
        AuditExplorer(tmp_path / "nope")
    shutil.copy(FOLDER / "findings.csv", tmp_path / "findings.csv")
    (tmp_path / "findings.csv").write_text("finding_id,check\nF1,x\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="column severity"):
        AuditExplorer(tmp_path)
