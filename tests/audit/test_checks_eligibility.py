"""ineligible_recipient and amount_not_per_standard, judged by the rule engine
(jiuzhu_sim.rules.enrolled) on what the audit knows (POLICY.md §3, §4, §6, §10; CONTRACT §6).

Shishi (350581) in 2024, from params (000: 48% of the 1,960 minimum wage, rounded up):
dibao standard 941; marginal threshold 1.5 × 941 = 1,411.5; tekun basic 1.3 × 941 → 1,224,
institutional 1.5 × 1,224 = 1,836; care: self 10% × 1,960 = 196, semi 25% = 490, full 50%
= 980. The tests assert these from the parameters first, then use the numbers worked by hand.
Audit window 2024-01..2024-06; dibao grace (渐退) 6 months; tekun grace 0 months."""

import datetime as dt

import pytest
from audit_frames import A, B, C, D, make_ctx, make_tables, pay_row, rid, roster_row

from jiuzhu_sim.audit.checks import eligibility

E = rid(21)
MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")


@pytest.fixture()
def ctx():  # fresh per test: a context caches views by the tables' id()
    c = make_ctx()
    p = c.params_on(dt.date(2024, 6, 30))
    assert float(p["dibao.standard.rural"]) == 941
    assert float(p["marginal.threshold.rural"]) == 1411.5
    assert float(p["tekun.basic_standard.rural"]) == 1224
    assert float(p["tekun.care_standard.self_care"]) == 196
    assert float(p["tekun.care_standard.full_care"]) == 980
    assert int(c.param("dibao.gradual_exit_months")) == 6
    assert int(c.param("audit.tekun_exit_grace_months")) == 0
    return make_ctx()


def hh(household, income, date, members=1, rigid=""):
    return {"household_id": household, "members": str(members),
            "per_capita_income": str(income), "check_date": date,
            "rigid_expenditure": str(rigid)}


def judged(found):
    return dict(zip(found["person_id"], found["amount_at_risk"], strict=True))


def test_single_person_recipient_in_a_low_income_household_is_not_ineligible(ctx):
    # A: 单人保, household per-capita income 1,000 since 2023-10-15: 941 ≤ 1,000 < 1,411.5, so
    # the household is low-income and the single-person rule holds → no finding.
    # B: the same income as whole-household dibao: 1,000 ≥ 941 → not eligible since
    # 2023-10 → 2024-06 − 2023-10 = 8 months > 6 → 错保; paid after 2023-10 + 6 = 2024-04:
    # May + June = 2 × 500 = 1,000.
    t = make_tables(
        roster=[roster_row(A, household="H1", sub_type="rural", coverage_type="单人保"),
                roster_row(B, household="H2", sub_type="rural")],
        households=[hh("H1", 1000, "2023-10-15"), hh("H2", 1000, "2023-10-15")],
        payments=[pay_row(p, m) for p in (A, B) for m in MONTHS])
    f = eligibility.check_ineligible_recipient(t, ctx)
    assert judged(f) == {B: 1000.0}
    assert "应按程序退出" in f["detail"].iloc[0]


def test_single_person_household_above_the_marginal_line_is_ineligible(ctx):
    # 1,500 ≥ 1,411.5: not a low-income household → the single-person rule fails → 错保
    t = make_tables(
        roster=[roster_row(A, household="H1", sub_type="rural", coverage_type="single")],
        households=[hh("H1", 1500, "2023-10-15")])
    f = eligibility.check_ineligible_recipient(t, ctx)
    assert list(f["person_id"]) == [A] and "单人保" in f["detail"].iloc[0]


def test_expenditure_type_is_judged_after_the_rigid_deduction(ctx):
    # C: 支出型, 1,200 − 400 rigid = 800 < 941 and 1,200 < 1,411.5 → eligible, no finding
    # D: 1,200 − 200 = 1,000 ≥ 941 → not eligible since 2023-10 (8 > 6 months) → finding
    t = make_tables(
        roster=[roster_row(C, household="H1", sub_type="rural", coverage_type="支出型"),
                roster_row(D, household="H2", sub_type="rural", coverage_type="expenditure")],
        households=[hh("H1", 1200, "2023-10-15", rigid=400),
                    hh("H2", 1200, "2023-10-15", rigid=200)])
    f = eligibility.check_ineligible_recipient(t, ctx)
    assert list(f["person_id"]) == [D]


def test_income_equal_to_the_standard_is_not_eligible(ctx):
    # "低于" is strict (POLICY.md §10): 941 == 941 → not below → 错保 past the grace period;
    # 940 < 941 → eligible
    t = make_tables(
        roster=[roster_row(A, household="H1", sub_type="rural"),
                roster_row(B, household="H2", sub_type="rural")],
        households=[hh("H1", 941, "2023-10-15"), hh("H2", 940, "2023-10-15")])
    assert list(eligibility.check_ineligible_recipient(t, ctx)["person_id"]) == [A]


def test_tekun_with_income_at_or_above_the_dibao_standard_is_ineligible(ctx):
    # 无生活来源 = income below the dibao standard (POLICY.md §3.5), no gradual exit:
    # A 1,500 checked 2024-03-10 → ineligible from 2024-03; months to 2024-06 = 3 > 0 →
    # finding; paid April–June 3 × 1,420 = 4,260 at risk.
    # C exactly 941 → also ineligible (at the standard); B 500 → eligible.
    t = make_tables(
        roster=[roster_row(p, "tekun", household=h, amount=1420, sub_type="dispersed",
                           care_level="全自理")
                for p, h in ((A, "H1"), (B, "H2"), (C, "H3"))],
        households=[hh("H1", 1500, "2024-03-10"), hh("H2", 500, "2024-03-10"),
                    hh("H3", 941, "2024-03-10")],
        payments=[pay_row(p, m, 1420, program="tekun") for p in (A, B, C) for m in MONTHS])
    f = eligibility.check_ineligible_recipient(t, ctx)
    assert judged(f) == {A: 4260.0, C: 4260.0}
    assert "无生活来源" in f.set_index("person_id").loc[A, "detail"]


def test_a_person_without_a_check_is_not_judged_and_summary_says_so(ctx):
    t = make_tables(roster=[roster_row(A, household="H9", sub_type="rural")],
                    households=[hh("H1", 5000, "2023-10-15")])
    assert eligibility.check_ineligible_recipient(t, ctx).empty
    assert ctx.notes["ineligible_recipient"]["people_without_household_check"] >= 1


def test_amount_not_per_standard_for_dibao_and_tekun(ctx):
    # dibao household H1, per-capita income 600 (checked 2023-12-01, before every window
    # month): 941 − 600 = 341 per person. A approved 341 → fine; B approved 400 → 59 too much
    # a month, paid all six months → 6 × 59 = 354 at risk.
    # tekun C self-care dispersed: 1,224 + 196 = 1,420 → approved 1,420 fine;
    # D approved 1,300 → 120 too little a month × 6 months owed = 720.
    # E institutional full care: 1,836 + 980 = 2,816, approved 2,816 → fine.
    t = make_tables(
        roster=[roster_row(A, household="H1", amount=341, sub_type="rural"),
                roster_row(B, household="H1", amount=400, sub_type="rural"),
                roster_row(C, "tekun", household="H2", amount=1420, sub_type="dispersed",
                           care_level="self_care"),
                roster_row(D, "tekun", household="H3", amount=1300, sub_type="分散供养",
                           care_level="全自理"),
                roster_row(E, "tekun", household="H4", amount=2816, sub_type="集中供养",
                           care_level="全护理")],
        households=[hh("H1", 600, "2023-12-01", members=2), hh("H2", 0, "2023-12-01"),
                    hh("H3", 0, "2023-12-01"), hh("H4", 0, "2023-12-01")],
        payments=[pay_row(B, m, 400) for m in MONTHS])
    f = eligibility.check_amount_not_per_standard(t, ctx)
    assert judged(f) == {B: 354.0, D: 720.0}
    detail = f.set_index("person_id")["detail"]
    assert "按政策应为 341.00" in detail[B] and "追回" in detail[B]
    assert "按政策应为 1,420.00" in detail[D] and "补发" in detail[D]


def test_amount_not_judged_without_the_inputs_the_rule_needs(ctx):
    # a tekun person without a care level, and a single-person household (own income not
    # in audit data): no finding, and summary.json counts them as not judged
    t = make_tables(
        roster=[roster_row(A, "tekun", household="H1", amount=999, sub_type="dispersed"),
                roster_row(B, household="H2", amount=1, sub_type="rural",
                           coverage_type="single")],
        households=[hh("H1", 0, "2023-12-01"), hh("H2", 1000, "2023-12-01")])
    c = make_ctx()
    assert eligibility.check_amount_not_per_standard(t, c).empty
    assert c.notes["amount_not_per_standard"]["rows_not_judged"] == 12  # 2 people × 6 months


def test_unknown_coverage_type_is_counted_not_guessed(ctx):
    t = make_tables(roster=[roster_row(A, household="H1", sub_type="rural",
                                       coverage_type="特殊保")],
                    households=[hh("H1", 5000, "2023-10-15")])
    c = make_ctx()
    assert eligibility.check_ineligible_recipient(t, c).empty
    assert c.notes["ineligible_recipient"]["unmapped_coverage_types"] == {"特殊保": 1}


def test_distinct_numbers_combinations_in_order_of_first_appearance():
    """_distinct (the judgement's de-duplication): rows (5,1) (3,1) (5,1) (3,2) (7,1) are four
    combinations, numbered as first seen — (5,1)=0, (3,1)=1, (3,2)=2, (7,1)=3 — whose first
    rows are 0, 1, 3 and 4; the same with a column too wide to pack (pandas' grouping)."""
    import numpy as np

    from jiuzhu_sim.audit.checks.eligibility import _distinct

    first, code = _distinct(np.array([5, 3, 5, 3, 7]), np.array([1, 1, 1, 2, 1]))
    assert code.tolist() == [0, 1, 0, 2, 3] and first.tolist() == [0, 1, 3, 4]
    wide = np.array([0, 1 << 61, 0, 1 << 61, 5], dtype=np.int64)
    first, code = _distinct(wide, np.array([1, 1, 1, 2, 1]), np.array([0, 0, 0, 0, 1 << 40]))
    assert code.tolist() == [0, 1, 0, 2, 3] and first.tolist() == [0, 1, 3, 4]
    first, code = _distinct(np.zeros(0, dtype=np.int64))
    assert len(first) == 0 and len(code) == 0
