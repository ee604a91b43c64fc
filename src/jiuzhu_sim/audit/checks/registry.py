"""The registry of audit checks (CONTRACT §6): code, severity, function, Chinese name and
the rectification action (整改措施) used in 整改清单."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from jiuzhu_sim.audit.checks import alerts, payments, people, review, screening


@dataclass(frozen=True)
class Check:
    code: str
    severity: str
    function: Callable[..., pd.DataFrame]
    name_zh: str
    action_zh: str


CHECKS: tuple[Check, ...] = (
    Check("invalid_id", "medium", people.check_invalid_id, "身份证号无效",
          "核对户籍信息，更正身份证号"),
    Check("deceased_paid", "high", payments.check_deceased_paid, "死亡后仍发放（死人保）",
          "停发并追回死亡后发放资金，办理注销"),
    Check("duplicate_region", "high", payments.check_duplicate_region, "异地重复享受",
          "核实户籍与居住地，保留一地，追回重复资金"),
    Check("duplicate_program", "high", payments.check_duplicate_program, "低保特困重复享受",
          "取消低保待遇，追回重复资金"),
    Check("duplicate_payment", "high", payments.check_duplicate_payment, "重复发放",
          "追回重复发放资金，查明原因"),
    Check("amount_mismatch", "medium", payments.check_amount_mismatch, "不足额或超额发放",
          "按核定金额补发或追回差额"),
    Check("late_payment", "low", payments.check_late_payment, "发放不及时",
          "查明延迟原因，按月及时发放"),
    Check("missing_payment", "medium", payments.check_missing_payment, "应发未发",
          "核实后补发应发资金"),
    Check("paid_not_on_roster", "high", payments.check_paid_not_on_roster, "无审批发放",
          "核实审批手续，无审批的停发并追回"),
    Check("account_mismatch", "medium", payments.check_account_mismatch, "发放账户非本人",
          "核实账户，变更为本人或登记监护人账户"),
    Check("staff_relative_unfiled", "medium", people.check_staff_relative_unfiled,
          "近亲属未备案", "补办近亲属备案，复核审批合规性"),
    Check("review_overdue", "low", review.check_review_overdue, "经济状况核对超期",
          "开展经济状况核对和入户走访"),
    Check("exclusion_candidate", "medium", screening.check_exclusion_candidate, "疑似漏保",
          "入户核查家庭经济状况，符合条件的及时纳入"),
    Check("ineligible_recipient", "high", review.check_ineligible_recipient,
          "不符合条件仍在保（错保）", "按程序办理退出，核实追回渐退期后资金"),
    Check("alert_overdue", "medium", alerts.check_alert_overdue, "预警核实超期",
          "立即入户核实，说明超期原因"),
)

BY_CODE = {c.code: c for c in CHECKS}
