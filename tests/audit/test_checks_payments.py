"""One-card payment checks (POLICY.md §6) on hand-made frames; amounts worked by hand."""

import numpy as np
import pandas as pd
import pytest
from audit_frames import A, B, C, G, make_ctx, make_tables, pay_row, roster_row

from jiuzhu_sim.audit.checks import payments

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def full_pay(pid, amount=500, **kw):
    return [pay_row(pid, m, amount, **kw) for m in MONTHS]


# --- deceased_paid ------------------------------------------------------------------------

def test_payment_in_month_of_death_is_legitimate_months_after_are_not():
    # died 2024-03-15; paid Jan..Jun at 890 → April, May, June are after the death month
    t = make_tables(roster=[roster_row(A, amount=890)], payments=full_pay(A, 890),
                    deaths=[{"person_id": A, "name": "张三", "death_date": "2024-03-15"}])
    f = payments.check_deceased_paid(t, make_ctx())
    assert list(f["period"]) == ["2024-04", "2024-05", "2024-06"]
    assert list(f["amount_at_risk"]) == [890.0, 890.0, 890.0]
    # 3 months × 890 = 2,670.00 in the detail
    assert "死亡后共发放 3 个月，合计 2,670.00 元" in f["detail"].iloc[0]
    assert set(f["severity"]) == {"high"}


def test_no_death_no_finding():
    t = make_tables(roster=[roster_row(A)], payments=full_pay(A),
                    deaths=[{"person_id": B, "name": "李四", "death_date": "2024-01-02"}])
    assert payments.check_deceased_paid(t, make_ctx()).empty


# --- duplicates ---------------------------------------------------------------------------

def test_person_paid_by_two_regions_is_duplicate_region_not_duplicate_payment():
    rows = [pay_row(A, "2024-03", 500), pay_row(A, "2024-03", 500, region="350583")]
    t = make_tables(roster=[roster_row(A)], payments=rows)
    ctx = make_ctx("2024-03", "2024-03")
    f = payments.check_duplicate_region(t, ctx)
    assert len(f) == 1 and f["period"].iloc[0] == "2024-03"
    assert f["amount_at_risk"].iloc[0] == 500.0  # 1,000 total − 500 kept in one region
    assert payments.check_duplicate_payment(t, ctx).empty


def test_double_payment_is_duplicate_payment():
    rows = [pay_row(A, "2024-03", 500, payment_id="p1"),
            pay_row(A, "2024-03", 500, payment_id="p2")]
    t = make_tables(roster=[roster_row(A)], payments=rows)
    ctx = make_ctx("2024-03", "2024-03")
    f = payments.check_duplicate_payment(t, ctx)
    assert list(f["amount_at_risk"]) == [500.0]  # 2 × 500 − 500
    assert payments.check_duplicate_region(t, ctx).empty
    assert payments.check_amount_mismatch(t, ctx).empty  # each payment equals the approval


def test_repeat_of_a_double_payment_is_not_also_an_amount_mismatch():
    # approved 500; paid 500 and 300 in March: the 300 is the repeat (duplicate_payment,
    # 800 − 500 kept = 300); the kept 500 equals the approval → no mismatch, no yuan twice
    rows = [pay_row(A, "2024-03", 500, payment_id="p1"),
            pay_row(A, "2024-03", 300, payment_id="p2")]
    t = make_tables(roster=[roster_row(A)], payments=rows)
    ctx = make_ctx("2024-03", "2024-03")
    assert list(payments.check_duplicate_payment(t, ctx)["amount_at_risk"]) == [300.0]
    assert payments.check_amount_mismatch(t, ctx).empty


def test_kept_payment_of_a_double_payment_is_still_compared():
    # approved 500; paid 400 and 300: repeat 300 (700 − 400 kept); kept 400 is 100 short
    rows = [pay_row(A, "2024-03", 400, payment_id="p1"),
            pay_row(A, "2024-03", 300, payment_id="p2")]
    t = make_tables(roster=[roster_row(A)], payments=rows)
    ctx = make_ctx("2024-03", "2024-03")
    assert list(payments.check_duplicate_payment(t, ctx)["amount_at_risk"]) == [300.0]
    f = payments.check_amount_mismatch(t, ctx)
    assert list(f["amount_at_risk"]) == [100.0] and "少发 100.00 元" in f["detail"].iloc[0]


def test_dibao_and_tekun_same_month_is_duplicate_program():
    t = make_tables(roster=[roster_row(A), roster_row(A, "tekun", amount=1200)],
                    payments=[pay_row(A, "2024-03", 500),
                              pay_row(A, "2024-03", 1200, program="tekun")])
    f = payments.check_duplicate_program(t, make_ctx("2024-03", "2024-03"))
    assert list(f["amount_at_risk"]) == [500.0]  # the dibao part
    assert list(f["program"]) == ["dibao"]


def test_dibao_to_tekun_at_a_month_boundary_is_not_duplicate_program():
    t = make_tables(roster=[roster_row(A, end="2024-02-29"),
                            roster_row(A, "tekun", start="2024-03-01", amount=1200)],
                    payments=[pay_row(A, "2024-02", 500),
                              pay_row(A, "2024-03", 1200, program="tekun")])
    ctx = make_ctx("2024-02", "2024-03")
    assert payments.check_duplicate_program(t, ctx).empty
    assert payments.check_paid_not_on_roster(t, ctx).empty
    assert payments.check_missing_payment(t, ctx).empty


# --- amounts and timing -------------------------------------------------------------------

@pytest.mark.parametrize(("paid", "expected"), [(480, [20.0]), (520, [20.0]), (500.4, [])])
def test_amount_mismatch_beyond_tolerance(paid, expected):
    # approved 500; tolerance 0.5 yuan (audit.amount_tolerance): |480−500| = 20 (不足额),
    # |520−500| = 20 (超额), |500.4−500| = 0.4 ≤ 0.5 → no finding
    t = make_tables(roster=[roster_row(A)], payments=[pay_row(A, "2024-03", paid)])
    f = payments.check_amount_mismatch(t, make_ctx("2024-03", "2024-03"))
    assert list(f["amount_at_risk"]) == expected


def test_late_payment_counts_from_month_end_plus_due_days():
    # March's due date: 03-31 + 10 days (audit.payment_due_days_after_month) = 04-10
    on_time = pay_row(A, "2024-03", 500, paid="2024-04-10")
    late = pay_row(B, "2024-03", 700, paid="2024-04-25")
    t = make_tables(roster=[roster_row(A), roster_row(B, amount=700)], payments=[on_time, late])
    f = payments.check_late_payment(t, make_ctx("2024-03", "2024-03"))
    assert list(f["person_id"]) == [B]
    assert list(f["amount_at_risk"]) == [700.0]
    assert "15 天" in f["detail"].iloc[0]  # 04-25 − 04-10


# --- roster coverage ----------------------------------------------------------------------

def test_missing_payment_uses_month_overlap_for_mid_month_dates():
    # active 2024-02-15 .. 2024-04-10 → Feb, Mar, Apr are owed; paid only Feb and Apr
    t = make_tables(roster=[roster_row(A, start="2024-02-15", end="2024-04-10")],
                    payments=[pay_row(A, "2024-02"), pay_row(A, "2024-04")])
    f = payments.check_missing_payment(t, make_ctx())
    assert list(f["period"]) == ["2024-03"]
    assert list(f["amount_at_risk"]) == [500.0]
    assert payments.check_paid_not_on_roster(t, make_ctx()).empty


def test_re_enrolment_after_exit():
    # on Jan–Feb, off in March, back from April: March payment is off-roster, nothing missing
    t = make_tables(roster=[roster_row(A, start="2023-06-01", end="2024-02-29"),
                            roster_row(A, start="2024-04-01")],
                    payments=full_pay(A))
    ctx = make_ctx()
    f = payments.check_paid_not_on_roster(t, ctx)
    assert list(f["period"]) == ["2024-03"] and list(f["amount_at_risk"]) == [500.0]
    assert payments.check_missing_payment(t, ctx).empty


def test_ghost_payment_and_marginal_without_payment():
    t = make_tables(roster=[roster_row(B, "marginal", amount=0)],
                    payments=[pay_row(C, "2024-01", 300)])
    ctx = make_ctx("2024-01", "2024-01")
    f = payments.check_paid_not_on_roster(t, ctx)
    assert list(f["person_id"]) == [C] and "不在保障花名册中" in f["detail"].iloc[0]
    assert payments.check_missing_payment(t, ctx).empty  # marginal: approved 0, not owed


def test_missing_payment_not_owed_after_death():
    t = make_tables(roster=[roster_row(A)], payments=[pay_row(A, "2024-01")],
                    deaths=[{"person_id": A, "name": "张三", "death_date": "2024-01-20"}])
    assert payments.check_missing_payment(t, make_ctx("2024-01", "2024-03")).empty


def test_month_whose_payment_row_was_rejected_is_unknown_not_missing():
    # active Jan–Mar at 500; January paid, February's row rejected on read (amount 见附件),
    # March not in the input at all → only March is 应发未发 (500.00), February is unknown
    import pandas as pd

    from jiuzhu_sim.audit.io import UNKNOWN_KEYS, normalise

    t = make_tables(roster=[roster_row(A)], payments=[pay_row(A, "2024-01")])
    read, rejected = normalise("payments", pd.DataFrame(
        [pay_row(A, "2024-01"), pay_row(A, "2024-02", amount="见附件")]), "payments.csv")
    assert len(rejected) == 1
    t.unknown_payment_keys = read.attrs[UNKNOWN_KEYS]
    f = payments.check_missing_payment(t, make_ctx("2024-01", "2024-03"))
    assert list(f["period"]) == ["2024-03"] and list(f["amount_at_risk"]) == [500.0]


# --- accounts -----------------------------------------------------------------------------

def test_guardian_account_is_not_a_mismatch_but_a_stranger_is():
    t = make_tables(roster=[roster_row(A), roster_row(B)],
                    payments=[pay_row(A, "2024-01", account=G),
                              pay_row(B, "2024-01", account=G)],
                    guardians=[{"person_id": A, "guardian_id": G}])
    f = payments.check_account_mismatch(t, make_ctx("2024-01", "2024-01"))
    assert list(f["person_id"]) == [B]
    assert list(f["amount_at_risk"]) == [500.0]


# --- issue 14: deadlines on holidays, household accounts, unknown payments -----------------


def test_deadline_on_a_holiday_moves_to_the_next_working_day():
    # January 2024 is due 2024-01-31 + 10 days = 2024-02-10, inside the Spring Festival
    # holiday (02-10..02-17); the next working day is Sunday 2024-02-18, a make-up working
    # day (调休). Paid 02-18 → on time (was: late); paid 02-19 → 1 day late.
    t = make_tables(roster=[roster_row(A), roster_row(B, household="H2")],
                    payments=[pay_row(A, "2024-01", paid="2024-02-18"),
                              pay_row(B, "2024-01", paid="2024-02-19")])
    f = payments.check_late_payment(t, make_ctx())
    assert list(f["person_id"]) == [B]
    assert "（2024-02-18）1 天" in f["detail"].iloc[0]


def test_payment_into_a_household_members_account_is_correct():
    # 到人到户 (002): B is paid into the account of A, head of B's household H1 → correct;
    # C (household H3) paid into A's account → account_mismatch
    t = make_tables(roster=[roster_row(A, household="H1"), roster_row(B, household="H1"),
                            roster_row(C, household="H3")],
                    payments=[pay_row(B, "2024-02", account=A), pay_row(C, "2024-02", account=A)])
    f = payments.check_account_mismatch(t, make_ctx())
    assert list(f["person_id"]) == [C]
    assert "非本户家庭成员" in f["detail"].iloc[0]


def test_rejected_payment_rows_make_the_month_unknown_not_missing():
    # the reader recorded (A, dibao, 2024-03) as a rejected payment row: whether March was
    # paid is unknown → no missing_payment for it; April (no row at all) is still missing
    import pandas as pd

    t = make_tables(roster=[roster_row(A)],
                    payments=[pay_row(A, m) for m in MONTHS if m not in ("2024-03", "2024-04")])
    t.unknown_payment_keys = pd.DataFrame({"person_id": [A], "program": ["dibao"],
                                           "period": ["2024-03"]})
    ctx = make_ctx()
    f = payments.check_missing_payment(t, ctx)
    assert list(f["period"]) == ["2024-04"]
    assert ctx.notes["missing_payment"]["person_months_unknown"] == 1


def test_last_match_takes_the_last_row_of_a_repeated_key():
    """_last_match (payment → roster row): keys 5, 3, 5 with values 10, 20, 30; queries 5,
    3, 9 → 30 (the last row with key 5), 20, −1 (no such key)."""
    import numpy as np

    from jiuzhu_sim.audit.checks.base import _last_match

    got = _last_match(np.array([5, 3, 5]), np.array([10, 20, 30]), np.array([5, 3, 9]))
    assert got.tolist() == [30, 20, -1]
    assert _last_match(np.zeros(0, np.int64), np.zeros(0, np.int64),
                       np.array([1])).tolist() == [-1]
    # the same case with keys too far apart for the table indexed by key (hashed instead):
    # 3 becomes 3·10¹², queries 5, 3·10¹², 9 → 30, 20, −1
    far = 3 * 10**12
    got = _last_match(np.array([5, far, 5]), np.array([10, 20, 30]), np.array([5, far, 9]))
    assert got.tolist() == [30, 20, -1]


@pytest.mark.parametrize("span,dtype", [(40, np.int64), (10**13, np.int64),
                                        (40_000, np.int16), (200, np.int8),
                                        (40, np.uint32)])
def test_last_match_by_table_and_by_hash_is_the_last_position(span, dtype):
    """Random keys (repeated, negative) and queries (some absent, some outside the keys'
    range): each answer is the value at the last position of the query among the keys, as a
    plain loop finds it; a small span takes the table indexed by key, a huge one or
    unsigned keys hash; narrow types (int16 keys −20,000 … 20,000) must not wrap."""

    from jiuzhu_sim.audit.checks.base import _last_match

    info = np.iinfo(dtype)
    rng = np.random.default_rng(span % 97)
    keys = rng.integers(max(-span // 2, info.min), min(span // 2, info.max), 200).astype(dtype)
    keys[:50] = keys[50:100]  # repeats
    values = rng.integers(0, 1000, 200)
    queries = np.concatenate([keys[rng.integers(0, 200, 100)],
                              rng.integers(max(-span, info.min), min(span, info.max), 100)
                              ]).astype(dtype)
    last = {}
    for i, k in enumerate(keys.tolist()):
        last[k] = i
    expected = [int(values[last[q]]) if q in last else -1 for q in queries.tolist()]
    assert _last_match(keys, values, queries).tolist() == expected


def test_per_person_month_sums_and_takes_the_first_text():
    """Payments (person, month, region, amount): (0, 5, A, 10), (1, 5, C, 7), (0, 5, B, 5),
    (0, 6, D, 1, not masked). Per person-month: (0, 5) 15 yuan in 2 payments, region A (its
    first payment's); (1, 5) 7 in 1, region C; the unmasked one is left out. With the first
    region missing, pandas' "first" is the first present one: B."""
    import numpy as np
    import pandas as pd

    from jiuzhu_sim.audit.checks.payments import _per_person_month

    def pay(regions):
        return pd.DataFrame({"pid": [0, 1, 0, 0], "month": [5, 5, 5, 6],
                             "amount": [10.0, 7.0, 5.0, 1.0],
                             "region": pd.Series(regions, dtype="str"),
                             "program": pd.Series(["dibao"] * 4, dtype="str"),
                             "person_id": pd.Series(["p0", "p1", "p0", "p0"], dtype="str")})

    mask = np.array([True, True, True, False])
    g = _per_person_month(pay(["A", "C", "B", "D"]), mask)
    assert g[["pid", "month", "value", "n"]].values.tolist() == [[0, 5, 15.0, 2], [1, 5, 7.0, 1]]
    assert list(g["region"]) == ["A", "C"] and list(g["person_id"]) == ["p0", "p1"]
    g = _per_person_month(pay([None, "C", "B", "D"]), mask)
    assert list(g["region"]) == ["B", "C"]
    assert _per_person_month(pay(["A", "C", "B", "D"]), mask, np.array([1., 2., 3., 4.]))[
        "value"].tolist() == [4.0, 2.0]


def test_pairs_in_compares_both_texts_exactly():
    """account_mismatch's membership test (holder, household) ∈ roster (person, household)
    and (person, holder) ∈ guardians: pairs of texts, compared as pairs — ("a|b", "c") is
    not ("a", "b|c"), which joining the two texts with "|" would have confused; order
    matters; a pair missing on the right is absent; no right-hand pairs: none found."""
    from jiuzhu_sim.audit.checks.payments import _pairs_in

    first = pd.Series(["a|b", "a", "x", "y", "a"], dtype="str")
    second = np.array(["c", "b|c", "y", "x", "b"], dtype=object)
    right_1 = [pd.Series(["a", "x"], dtype="str"), pd.Series(["a"], dtype="str")]
    right_2 = [pd.Series(["b|c", "y"], dtype="str"), pd.Series(["b"], dtype="str")]
    # ("a","b|c") and ("x","y") are in the first columns, ("a","b") in the second;
    # ("a|b","c") and the reversed ("y","x") are not
    assert _pairs_in(first, second, right_1, right_2).tolist() == [
        False, True, True, False, True]
    assert _pairs_in(first, second, [pd.Series([], dtype="str")],
                     [pd.Series([], dtype="str")]).tolist() == [False] * 5
    assert _pairs_in(first.iloc[:0], second[:0], right_1, right_2).tolist() == []


def test_payment_roster_row_prefers_the_payments_region_then_the_last_row():
    """Each payment's roster row: active for its person, program and month, of the
    payment's region when there is one (the last of them), else the last of any region.
    Rows by position: 0 A/101, 1 A/102, 2 B/101, 3 B/101, 4 C tekun/101 (all dibao but 4,
    active all window). Payments of 2024-01, worked by hand:
    A from 101 → row 0 (the last row, 1, is of 102); A from 102 → 1; A from 103 (no row of
    that region) → 1, the last; B from 101 → 3 (the later of two); C dibao (C is on the
    roster for tekun only) → −1; G (on no roster row) → −1."""
    from jiuzhu_sim.audit.checks.base import payment_roster_row

    roster = [roster_row(A, region="350581101"), roster_row(A, region="350581102"),
              roster_row(B, region="350581101"), roster_row(B, region="350581101"),
              roster_row(C, program="tekun", region="350581101", care_level="self_care")]
    pays = [pay_row(A, "2024-01", region="350581101"),
            pay_row(A, "2024-01", region="350581102"),
            pay_row(A, "2024-01", region="350581103"),
            pay_row(B, "2024-01", region="350581101"),
            pay_row(C, "2024-01", region="350581101"),
            pay_row(G, "2024-01", region="350581101")]
    t = make_tables(roster=roster, payments=pays)
    assert payment_roster_row(t, make_ctx()).tolist() == [0, 1, 1, 3, -1, -1]


@pytest.mark.parametrize("grid", [36, 0])  # the rows × months grid, and repeating rows
def test_roster_months_lists_each_rows_active_months_in_order(monkeypatch, grid):
    """Window 2024-01..2024-06. Rows by position, worked by hand: 0 A dibao 860 from
    2023-11-15, open → Jan..Jun (6 months); 1 B tekun 1420 2024-02-10..2024-02-20 → Feb only;
    2 C from 2024-07-01 → none; 3 A 2023-01-01..2023-12-31 → none; 4 B dibao 500
    2024-05-31..2024-06-01 → May, Jun. Listed row by row, months in order."""
    from jiuzhu_sim.audit.calendar import parse_month
    from jiuzhu_sim.audit.checks import base

    monkeypatch.setattr(base, "ROSTER_MONTHS_GRID", grid)
    roster = [roster_row(A, start="2023-11-15", amount=860),
              roster_row(B, program="tekun", start="2024-02-10", end="2024-02-20",
                         amount=1420, care_level="self_care"),
              roster_row(C, start="2024-07-01"),
              roster_row(A, start="2023-01-01", end="2023-12-31"),
              roster_row(B, start="2024-05-31", end="2024-06-01")]
    t = make_tables(roster=roster)
    rm = base.roster_months(t, make_ctx())
    months = [parse_month(m) for m in MONTHS]
    assert rm["row"].tolist() == [0] * 6 + [1, 4, 4]
    assert rm["month"].tolist() == months + [months[1], months[4], months[5]]
    assert rm["amount"].tolist() == [860.0] * 6 + [1420.0, 500.0, 500.0]
    assert rm["prog"].tolist() == [0] * 6 + [1, 0, 0]  # dibao 0, tekun 1
    pid = base.roster_person_codes(t, make_ctx())
    assert rm["pid"].tolist() == [pid[0]] * 6 + [pid[1], pid[4], pid[4]]
    assert pid[1] == pid[4] != pid[0]
