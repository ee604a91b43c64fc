"""exclusion_candidate (疑似漏保) and under_assisted (疑似漏救), POLICY.md §5, §10: thresholds
from screening.* parameters; "以上" includes its bound."""

from audit_frames import A, B, C, D, make_ctx, make_tables, rid, roster_row

from jiuzhu_sim.audit.checks import screening

E, F_ = rid(11), rid(12)


def med(pid, amount, year="2024"):
    return {"person_id": pid, "year": year, "self_paid_amount": str(amount)}


def test_medical_threshold_includes_its_bound_and_not_for_marginal_at_10000():
    ctx = make_ctx()
    general = float(ctx.param("screening.medical_self_paid_threshold"))        # 40,000
    assert general == 40000
    t = make_tables(
        roster=[roster_row(A), roster_row(B, "marginal", amount=0, household="H2")],
        medical=[med(A, 50000),              # covered (dibao) → never an exclusion candidate
                 med(B, 10001),              # marginal at 10,001: the 10,000 line is the
                                             # dibao members' (漏救), not marginal's → no
                 med(C, 40000),              # exactly 4万元: "以上" includes it → candidate
                 med(D, 39999.99),           # just under → not
                 med(E, 50000, "2021")])     # too old (window 2024, look-back 1 year)
    f = screening.check_exclusion_candidate(t, ctx)
    assert list(f["person_id"]) == [C]
    assert "达到筛查线 40,000.00 元以上" in f["detail"].iloc[0]


def test_new_severe_disability_since_2021_in_shishi_including_grade3_intellectual():
    # Shishi's screening.new_disability_since is 2021-01-01 (000: 2021 年以来新增):
    # A grade 2 any type (2024); B grade 3 intellectual (2024); C grade-3 physical is not
    # severe; D grade 1 issued 2022-01-01 → new since 2021 (was: "not new", outside the
    # window); F_ grade 1 issued 2020-12-31 → before 2021, not new
    t = make_tables(disability=[
        {"person_id": A, "grade": "2", "type": "physical", "issued_date": "2024-03-01"},
        {"person_id": B, "grade": "三级", "type": "智力", "issued_date": "2024-03-01"},
        {"person_id": C, "grade": "3", "type": "physical", "issued_date": "2024-03-01"},
        {"person_id": D, "grade": "1", "type": "visual", "issued_date": "2022-01-01"},
        {"person_id": F_, "grade": "1", "type": "visual", "issued_date": "2020-12-31"}])
    ctx = make_ctx()
    assert ctx.param("screening.new_disability_since") == "2021-01-01"
    f = screening.check_exclusion_candidate(t, ctx)
    assert sorted(f["person_id"]) == sorted([A, B, D])
    # blank parameter: only certificates issued inside the window (2024-01-01..06-30) are new
    blank = make_ctx(overrides={"screening.new_disability_since": ""})
    assert sorted(screening.check_exclusion_candidate(t, blank)["person_id"]) == sorted([A, B])


def test_monitoring_categories_in_the_seeds_own_words():
    # 防止返贫监测对象 (002), 脱贫不稳定人口 / 边缘易致贫人口 (000), 边缘易致贫户 (004) are mapped
    # and screened; an unknown wording is counted in the check's notes (summary.json), with
    # the value as written, and is not a finding
    t = make_tables(monitoring=[
        {"person_id": A, "category": "防止返贫监测对象", "since_date": "2023-05-01"},
        {"person_id": B, "category": "脱贫不稳定人口", "since_date": "2023-05-01"},
        {"person_id": C, "category": "边缘易致贫户", "since_date": "2023-05-01"},
        {"person_id": D, "category": "低收入重点人群", "since_date": "2023-05-01"}])
    ctx = make_ctx()
    f = screening.check_exclusion_candidate(t, ctx)
    assert sorted(f["person_id"]) == sorted([A, B, C])
    assert ctx.notes["exclusion_candidate"]["unmapped_monitoring_categories"] == {
        "低收入重点人群": 1}


def test_under_assisted_dibao_at_10000_and_tekun_with_any_medical():
    # A dibao member with exactly 10,000 self-paid (1万元以上 includes it) → 疑似漏救;
    # B dibao member 9,999 → no; C tekun with 1 yuan of medical spending → 疑似漏救
    # (screening.tekun_any_medical); none of them is an exclusion candidate (covered)
    ctx = make_ctx()
    assert float(ctx.param("screening.medical_self_paid_threshold_dibao")) == 10000
    t = make_tables(
        roster=[roster_row(A), roster_row(B, household="H2"),
                roster_row(C, "tekun", household="H3")],
        medical=[med(A, 10000), med(B, 9999), med(C, 1)])
    f = screening.check_under_assisted(t, ctx)
    assert dict(zip(f["person_id"], f["program"], strict=True)) == {A: "dibao", C: "tekun"}
    assert set(f["amount_at_risk"]) == {0.0}
    assert "未提供救助记录文件" in f["detail"].iloc[0]
    assert screening.check_exclusion_candidate(t, ctx).empty
    off = make_ctx(overrides={"screening.tekun_any_medical": False})
    assert list(screening.check_under_assisted(t, off)["person_id"]) == [A]


def test_an_assistance_record_in_the_year_clears_under_assistance():
    # A: medical assistance 2024-03-01 (in 2024, the medical year) → cleared;
    # B: temporary assistance 2023-12-20 (before 2024) → still 疑似漏救
    t = make_tables(
        roster=[roster_row(A), roster_row(B, household="H2")],
        medical=[med(A, 12000), med(B, 12000)],
        assistance=[{"person_id": A, "kind": "医疗救助", "date": "2024-03-01", "amount": "800"},
                    {"person_id": B, "kind": "临时救助", "date": "2023-12-20", "amount": "500"}])
    f = screening.check_under_assisted(t, make_ctx())
    assert list(f["person_id"]) == [B]
    assert "当年起未见医疗救助或临时救助记录" in f["detail"].iloc[0]


def test_monitoring_categories_from_params_and_reasons_in_detail():
    t = make_tables(monitoring=[
        {"person_id": A, "category": "unstable_post_poverty", "since_date": "2023-05-01"},
        {"person_id": B, "category": "stable_post_poverty", "since_date": "2023-05-01"}],
        medical=[med(A, 50000)])
    f = screening.check_exclusion_candidate(t, make_ctx())
    assert list(f["person_id"]) == [A]  # one finding, both reasons
    assert "医疗" in f["detail"].iloc[0] and "监测对象" in f["detail"].iloc[0]


def test_covered_and_deceased_are_skipped():
    t = make_tables(roster=[roster_row(A, "tekun")],
                    monitoring=[{"person_id": p, "category": "marginal_at_risk",
                                 "since_date": ""} for p in (A, F_)],
                    deaths=[{"person_id": F_, "name": "x", "death_date": "2024-02-01"}])
    assert screening.check_exclusion_candidate(t, make_ctx()).empty


def test_threshold_follows_the_parameter_42000_of_001():
    # 001 uses 42,000: 41,000 self-paid is a candidate under the default 40,000 (000) and not
    # under --set screening.medical_self_paid_threshold=42000
    rows = dict(roster=[roster_row(A)], medical=[med(C, 41000)])
    assert list(screening.check_exclusion_candidate(make_tables(**rows), make_ctx())[
        "person_id"]) == [C]
    ctx = make_ctx(overrides={"screening.medical_self_paid_threshold": 42000})
    assert screening.check_exclusion_candidate(make_tables(**rows), ctx).empty


def test_monitoring_categories_follow_the_parameter():
    # petitioner (信访) is on the default list; dropping it from the parameter drops C
    mon = [{"person_id": C, "category": "信访", "since_date": "2024-01-01"}]
    rows = dict(roster=[roster_row(A)], monitoring=mon)
    assert list(screening.check_exclusion_candidate(make_tables(**rows), make_ctx())[
        "person_id"]) == [C]
    ctx = make_ctx(overrides={"screening.monitoring_categories": ["unstable_post_poverty"]})
    assert screening.check_exclusion_candidate(make_tables(**rows), ctx).empty
