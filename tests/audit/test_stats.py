"""Monthly statistics (002 附件): counts for the month only, not cumulative."""

from audit_frames import A, B, C, make_ctx, make_tables, roster_row

from jiuzhu_sim.audit.stats import ITEMS, monthly_stats, not_derivable


def test_new_urban_and_rural_dibao_by_start_month():
    t = make_tables(roster=[roster_row(A, start="2024-02-10", sub_type="urban"),
                            roster_row(B, start="2024-02-20", sub_type="rural"),
                            roster_row(C, start="2023-01-01", sub_type="rural",
                                       check="2024-03-05")])
    s = monthly_stats(t, make_ctx("2024-01", "2024-03")).set_index("月份")
    assert s.loc["2024-02", ITEMS[0]] == 1 and s.loc["2024-02", ITEMS[1]] == 1
    assert s.loc["2024-03", ITEMS[1]] == 0  # not cumulative
    # economic checks done in March: C's last_check_date (A and B checked 2024-05-01)
    assert s.loc["2024-03", ITEMS[17]] == 1


def test_items_without_inputs_are_listed_as_not_derivable():
    s = monthly_stats(make_tables(roster=[roster_row(A)]), make_ctx("2024-01", "2024-02"))
    missing = not_derivable(s)
    assert "受理网上自助申请（件）" in missing
    assert ITEMS[17] not in missing


def test_a_petitioner_newly_on_dibao_is_not_a_monitored_person_brought_into_dibao():
    # A (防止返贫监测对象) and B (信访, a petitioner) both start dibao in 2024-02: only A counts
    # as a monitored person brought into dibao (002 附件); B is screened (§5) but not monitored
    t = make_tables(roster=[roster_row(A, start="2024-02-10"),
                            roster_row(B, start="2024-02-10", household="H2")],
                    monitoring=[{"person_id": A, "category": "防止返贫监测对象",
                                 "since_date": "2023-05-01"},
                                {"person_id": B, "category": "信访", "since_date": "2024-02-01"}])
    s = monthly_stats(t, make_ctx("2024-01", "2024-03")).set_index("月份")
    assert s.loc["2024-02", ITEMS[7]] == 1
    assert s.loc["2024-02", ITEMS[11]] == 0  # B's 信访 since 2024-02 is no monitoring mark
