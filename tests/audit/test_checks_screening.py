"""exclusion_candidate (疑似漏保, POLICY.md §5): thresholds from screening.* parameters."""

from audit_frames import A, B, C, D, make_ctx, make_tables, rid, roster_row

from jiuzhu_sim.audit.checks import screening

E, F_ = rid(11), rid(12)


def med(pid, amount, year="2024"):
    return {"person_id": pid, "year": year, "self_paid_amount": str(amount)}


def test_medical_thresholds_general_and_low_income():
    ctx = make_ctx()
    general = float(ctx.param("screening.medical_self_paid_threshold"))        # 40,000
    low = float(ctx.param("screening.medical_self_paid_threshold_dibao"))      # 10,000
    t = make_tables(
        roster=[roster_row(A), roster_row(B, "marginal", amount=0, household="H2")],
        medical=[med(A, general + 1),        # covered (dibao) → never a candidate
                 med(B, low + 1),            # marginal, above 10,000 → candidate
                 med(C, general + 1),        # ordinary, above 40,000 → candidate
                 med(D, general - 1),        # just under → not
                 med(E, general + 1, "2021")])  # too old (window 2024, look-back 1 year)
    f = screening.check_exclusion_candidate(t, ctx)
    assert sorted(f["person_id"]) == sorted([B, C])
    assert "超过筛查线" in f.set_index("person_id").loc[C, "detail"]


def test_new_severe_disability_including_grade3_intellectual():
    t = make_tables(disability=[
        {"person_id": A, "grade": "2", "type": "physical", "issued_date": "2024-03-01"},
        {"person_id": B, "grade": "三级", "type": "智力", "issued_date": "2024-03-01"},
        {"person_id": C, "grade": "3", "type": "physical", "issued_date": "2024-03-01"},
        {"person_id": D, "grade": "1", "type": "visual", "issued_date": "2022-01-01"}])
    f = screening.check_exclusion_candidate(t, make_ctx())
    # A grade 2 any type; B grade 3 intellectual; C grade-3 physical is not severe; D not new
    assert sorted(f["person_id"]) == sorted([A, B])


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
