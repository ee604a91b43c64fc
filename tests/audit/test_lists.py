"""三项清单 (POLICY.md §8): problem list aggregation, rectification rows, 对账销号."""

import pandas as pd

from jiuzhu_sim.audit.findings import build, stable_key
from jiuzhu_sim.audit.lists import (
    problem_list,
    rectification_list,
    responsible_unit,
    results_list,
)


def findings():
    return build("late_payment", "low", person_id=["P1", "P2", "P3"],
                 region_code=["350581", "350581", "350583"], period=[24288, 24288, 24289],
                 amount=[100.0, 50.0, 10.0], detail=["a", "b", "c"])


def test_problem_list_counts_and_sums_by_check_and_region():
    p = problem_list(findings())
    row = p[p["行政区划"] == "350581"].iloc[0]
    assert row["问题数量"] == 2 and row["涉及金额（元）"] == 150.0  # 100 + 50
    assert row["问题类型"] == "发放不及时"


def test_rectification_list_has_action_unit_deadline_and_empty_status():
    r = rectification_list(findings(), "2024-07-30")
    assert set(r["整改状态"]) == {""}
    assert set(r["整改期限"]) == {"2024-07-30"}
    assert r["整改措施"].iloc[0].startswith("查明延迟原因")
    assert list(responsible_unit(pd.Series(["350581", "350581101"]))) == [
        "350581 县（市、区）民政局", "350581101 乡镇（街道）民政办"]


def test_results_list_closes_only_rectified_items_not_found_again():
    f = findings()
    previous = pd.DataFrame({
        "finding_id": [f["finding_id"].iloc[0], "gone", "x"],
        "key": [stable_key(["late_payment"], ["P1"], ["2024-01"]).iloc[0],
                "late_payment|P9|2024-01", stable_key(["late_payment"], ["P2"],
                                                      ["2024-01"]).iloc[0]],
        "check": "late_payment", "person_id": ["P1", "P9", "P2"],
        "period": "2024-01", "status": ["已整改", "已完成", "整改中"]})
    res = results_list(f, previous)
    assert list(res["销号结果"]) == ["未销号（复查仍存在）", "已销号", "整改中"]
