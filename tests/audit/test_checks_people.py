"""Resident IDs and staff near-relatives (POLICY.md §6)."""

from audit_frames import A, B, C, make_ctx, make_tables, pay_row, rid, roster_row

from jiuzhu_sim.audit.checks import payments, people

BAD = A[:-1] + ("0" if A[-1] != "0" else "1")  # wrong check character


def test_invalid_id_is_a_finding_and_its_rows_are_still_audited():
    t = make_tables(roster=[roster_row(BAD, amount=500)],
                    payments=[pay_row(BAD, "2024-01", 500), pay_row(BAD, "2024-01", 500)])
    ctx = make_ctx("2024-01", "2024-02")
    f = people.check_invalid_id(t, ctx)
    assert list(f["person_id"]) == [BAD]
    assert list(f["amount_at_risk"]) == [1000.0]  # 2 payments × 500 to the bad ID
    assert "校验码错误" in f["detail"].iloc[0]
    assert len(payments.check_duplicate_payment(t, ctx)) == 1
    assert list(payments.check_missing_payment(t, ctx)["period"]) == ["2024-02"]


def test_valid_ids_give_no_finding():
    t = make_tables(roster=[roster_row(A), roster_row(rid(7, "20000229"))])
    assert people.check_invalid_id(t, make_ctx()).empty


def relatives(rows):
    return [{"staff_id": rid(90), "staff_name": "王五", "relative_id": r, "relation": rel,
             "filed": filed} for r, rel, filed in rows]


def test_unfiled_relative_who_is_a_beneficiary_is_a_finding():
    t = make_tables(roster=[roster_row(A), roster_row(B)],
                    payments=[pay_row(A, "2024-01", 500), pay_row(A, "2024-02", 500),
                              pay_row(B, "2024-01", 500)],
                    staff_relatives=relatives([(A, "spouse", "false"), (B, "child", "true"),
                                               (C, "parent", "否")]))
    f = people.check_staff_relative_unfiled(t, make_ctx("2024-01", "2024-02"))
    # A: unfiled, paid 2 × 500 = 1,000; B filed; C unfiled but not a beneficiary
    assert list(f["person_id"]) == [A]
    assert list(f["amount_at_risk"]) == [1000.0]
    assert "配偶" in f["detail"].iloc[0]
