"""review_overdue and ineligible_recipient (POLICY.md §3.4, §7)."""

from audit_frames import A, B, C, make_ctx, make_tables, pay_row, roster_row

from jiuzhu_sim.audit.checks import eligibility, review

# Shishi 350581 dibao standard on these dates: 941 yuan/month (params, 000: 48% of the
# minimum wage, rounded up); the tests read it from the parameters, never a literal.


def test_review_overdue_uses_the_interval_at_the_audit_end():
    # end 2024-06-30 − 6 months (review.max_months_between_checks) = 2023-12-30
    t = make_tables(roster=[roster_row(A, check="2023-12-29"), roster_row(B, check="2023-12-30"),
                            roster_row(C, check="", household="H3")])
    f = review.check_review_overdue(t, make_ctx())
    assert sorted(f["person_id"]) == sorted([A, C])  # B exactly on the limit is fine
    assert set(f["amount_at_risk"]) == {0.0}


def test_household_check_date_counts_as_a_check():
    t = make_tables(roster=[roster_row(A, check="2023-01-01", household="H1")],
                    households=[{"household_id": "H1", "members": "1",
                                 "per_capita_income": "100", "check_date": "2024-05-01"}])
    assert review.check_review_overdue(t, make_ctx()).empty


def test_unstable_income_with_work_capacity_needs_a_visit():
    t = make_tables(roster=[roster_row(A, unstable_income="true", work_capacity="true",
                                       last_visit_date="2023-10-01"),
                            roster_row(B, unstable_income="true", work_capacity="false",
                                       last_visit_date="2023-10-01")])
    f = review.check_review_overdue(t, make_ctx())
    assert list(f["person_id"]) == [A] and "走访" in f["detail"].iloc[0]


def test_exited_people_are_not_reviewed():
    t = make_tables(roster=[roster_row(A, check="2020-01-01", end="2024-03-31")])
    assert review.check_review_overdue(t, make_ctx()).empty


def hh(household, income, date):
    return {"household_id": household, "members": "1", "per_capita_income": str(income),
            "check_date": date}


def test_ineligible_after_the_grace_period_only():
    ctx = make_ctx()
    standard = float(ctx.params_on(__import__("datetime").date(2023, 10, 15))[
        "dibao.standard.rural"])
    grace = int(ctx.param("dibao.gradual_exit_months"))  # 6
    # H1: above since 2023-10 → 2024-06 is 8 months later > 6 → finding
    # H2: above since 2024-02 → 4 months ≤ 6 → inside the grace period
    # H3: above in 2023-09 but below again at 2024-01 → no finding
    t = make_tables(
        roster=[roster_row(A, household="H1", sub_type="rural"),
                roster_row(B, household="H2", sub_type="rural"),
                roster_row(C, household="H3", sub_type="rural")],
        households=[hh("H1", standard + 100, "2023-10-15"), hh("H1", standard + 50, "2024-03-01"),
                    hh("H2", standard + 100, "2024-02-10"),
                    hh("H3", standard + 100, "2023-09-01"), hh("H3", standard - 1, "2024-01-05")],
        payments=[pay_row(A, m) for m in ("2024-04", "2024-05", "2024-06")])
    f = eligibility.check_ineligible_recipient(t, ctx)
    assert grace == 6
    assert list(f["person_id"]) == [A]
    # grace ends 2023-10 + 6 = 2024-04; payments after it: May + June = 2 × 500 = 1,000
    assert list(f["amount_at_risk"]) == [1000.0]
    assert "已连续 8 个月" in f["detail"].iloc[0]


def test_tekun_is_judged_against_the_dibao_standard():
    # was: never judged. Now 无生活来源 = income below the dibao standard (POLICY.md §3.5):
    # 99,999 ≥ 941 since 2023-01 → 错保 (tekun has no gradual exit)
    t = make_tables(roster=[roster_row(A, "tekun", household="H1", care_level="self_care")],
                    households=[hh("H1", 99999, "2023-01-01")])
    assert list(eligibility.check_ineligible_recipient(t, make_ctx())["person_id"]) == [A]


def test_someone_approved_last_month_without_a_later_check_is_not_overdue():
    # approved 2024-05-20, no last_check_date, no household check: the approval is the
    # check → 2024-05-20 ≥ 2023-12-30 (end − 6 months) → not overdue. B approved
    # 2023-06-01 with no check since → overdue.
    t = make_tables(roster=[roster_row(A, start="2024-05-20", check=""),
                            roster_row(B, start="2023-06-01", check="", household="H2")])
    assert list(review.check_review_overdue(t, make_ctx())["person_id"]) == [B]


def test_marginal_households_do_not_get_the_dibao_visit_rule():
    # unstable income, work capacity, last visit 2023-10-01 (> 6 months before 2024-06-30),
    # economic check recent: dibao A → visit overdue; marginal B → nothing
    t = make_tables(roster=[
        roster_row(A, unstable_income="true", work_capacity="true",
                   last_visit_date="2023-10-01"),
        roster_row(B, "marginal", amount=0, household="H2", unstable_income="true",
                   work_capacity="true", last_visit_date="2023-10-01")])
    assert list(review.check_review_overdue(t, make_ctx())["person_id"]) == [A]


def test_grace_period_follows_the_parameter():
    # (also: a households file whose every check is above the standard — it used to crash)
    # above the standard since 2024-02-10: 4 months at 2024-06 → inside the default 6-month
    # grace; with --set dibao.gradual_exit_months=3, 4 > 3 → a finding, and the dibao paid
    # after 2024-02 + 3 = 2024-05 (June: 500) is at risk
    standard = float(make_ctx().params_on(__import__("datetime").date(2024, 2, 10))[
        "dibao.standard.rural"])
    rows = dict(roster=[roster_row(A, household="H1", sub_type="rural")],
                households=[hh("H1", standard + 100, "2024-02-10")],
                payments=[pay_row(A, m) for m in ("2024-05", "2024-06")])
    assert eligibility.check_ineligible_recipient(make_tables(**rows), make_ctx()).empty
    ctx = make_ctx(overrides={"dibao.gradual_exit_months": 3})
    f = eligibility.check_ineligible_recipient(make_tables(**rows), ctx)
    assert list(f["person_id"]) == [A] and list(f["amount_at_risk"]) == [500.0]


def test_review_interval_follows_the_parameter():
    # last check 2024-02-01: within 6 months of 2024-06-30 (default) but not within 3
    rows = dict(roster=[roster_row(A, check="2024-02-01")])
    assert review.check_review_overdue(make_tables(**rows), make_ctx()).empty
    ctx = make_ctx(overrides={"review.max_months_between_checks": 3})
    assert list(review.check_review_overdue(make_tables(**rows), ctx)["person_id"]) == [A]
