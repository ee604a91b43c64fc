"""The registry of audit checks (CONTRACT §6): one entry per check holds everything the rest
of the package needs to know about it — code, severity, function, Chinese and English labels,
the rectification action (整改措施, 整改清单), the inputs it needs, the evidence columns it
records, its POLICY.md section and seed. ``runner`` runs ``CHECKS`` in this order; the three
lists (``lists.py``), the report labels (``report.check_labels``), the synthetic county's
planting (``synth.CHECKS``) and docs/audit.md read it from here, and a test fails when an
entry lacks a label or a planted case (tests/audit/test_registry.py).

To add a check: write its function (``(tables, ctx) -> findings frame``) in the family
module, add its entry here, plant it in ``audit/synth.py`` (truth.csv) and test it by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from jiuzhu_sim.audit.checks import (
    alerts,
    eligibility,
    enrolment,
    payments,
    people,
    review,
    screening,
)


@dataclass(frozen=True)
class Check:
    code: str
    severity: str
    function: Callable[..., pd.DataFrame]
    name_zh: str              # 问题类型 in the three lists
    action_zh: str            # 整改措施
    label_zh: str = ""        # short label for tables and charts (report.check_labels)
    name_en: str = ""
    inputs: tuple[str, ...] = ()            # inputs it reads (CONTRACT §5)
    evidence: tuple[str, ...] = ()          # files its evidence rows name
    policy: str = ""                        # POLICY.md section and seed


CHECKS: tuple[Check, ...] = (
    Check("invalid_id", "medium", people.check_invalid_id, "身份证号无效",
          "核对户籍信息，更正身份证号", "身份证号无效", "invalid resident ID",
          ("roster", "payments"), ("roster", "payments"), "CONTRACT §5 (GB 11643)"),
    Check("deceased_paid", "high", payments.check_deceased_paid, "死亡后仍发放（死人保）",
          "停发并追回死亡后发放资金，办理注销", "死亡后仍发放", "paid after death",
          ("payments", "deaths"), ("deaths", "payments"), "§6; 003 三(三)"),
    Check("duplicate_region", "high", payments.check_duplicate_region, "异地重复享受",
          "核实户籍与居住地，保留一地，追回重复资金", "异地重复", "paid by two regions",
          ("payments",), ("payments",), "§6; 002 二(六)"),
    Check("duplicate_program", "high", payments.check_duplicate_program, "低保特困重复享受",
          "取消低保待遇，追回重复资金", "低保特困重复", "paid dibao and tekun",
          ("payments",), ("payments",), "§3.5, §6; 002 二(六)"),
    Check("duplicate_payment", "high", payments.check_duplicate_payment, "重复发放",
          "追回重复发放资金，查明原因", "重复发放", "paid twice",
          ("payments",), ("payments",), "§6; 002 二(四)"),
    Check("amount_mismatch", "medium", payments.check_amount_mismatch, "不足额或超额发放",
          "按核定金额补发或追回差额", "不足额/超额", "paid ≠ approved",
          ("roster", "payments"), ("payments", "roster"), "§6; 002 二(四)"),
    Check("late_payment", "low", payments.check_late_payment, "发放不及时",
          "查明延迟原因，按月及时发放", "发放不及时", "paid late",
          ("payments",), ("payments",), "§6, §10; 002 二(四)"),
    Check("missing_payment", "medium", payments.check_missing_payment, "应发未发",
          "核实后补发应发资金", "应发未发", "approved, not paid",
          ("roster", "payments", "deaths"), ("roster",), "§6; 002 二(四)"),
    Check("paid_not_on_roster", "high", payments.check_paid_not_on_roster, "无审批发放",
          "核实审批手续，无审批的停发并追回", "名单外发放", "paid without approval",
          ("roster", "payments"), ("payments",), "§6; 002 二(四)"),
    Check("account_mismatch", "medium", payments.check_account_mismatch, "发放账户非本人",
          "核实账户，变更为本人、本户成员或登记监护人账户", "账户非本人",
          "paid into a stranger's account", ("payments", "roster", "guardians"),
          ("payments",), "§6; 002 二(四) 到人到户"),
    Check("staff_relative_unfiled", "medium", people.check_staff_relative_unfiled,
          "近亲属未备案", "补办近亲属备案，复核审批合规性", "近亲属未备案",
          "staff relative not filed", ("staff_relatives", "roster", "payments"),
          ("staff_relatives", "roster"), "§6; 002 二(五)"),
    Check("review_overdue", "low", review.check_review_overdue, "经济状况核对超期",
          "开展经济状况核对和入户走访", "核对超期", "economic check overdue",
          ("roster", "households"), ("roster", "households"), "§7; 002 二(三)"),
    Check("exclusion_candidate", "medium", screening.check_exclusion_candidate, "疑似漏保",
          "入户核查家庭经济状况，符合条件的及时纳入", "疑似漏保", "possible exclusion error",
          ("medical", "disability", "monitoring", "roster", "deaths"),
          ("medical", "disability", "monitoring"), "§5; 000 二(二), 001 一"),
    Check("ineligible_recipient", "high", eligibility.check_ineligible_recipient,
          "不符合条件仍在保（错保）", "按程序办理退出，核实追回渐退期后资金", "错保",
          "no longer eligible", ("roster", "households", "payments"),
          ("households", "payments"), "§3, §6; 002 二(二), 004 二"),
    Check("alert_overdue", "medium", alerts.check_alert_overdue, "预警核实超期",
          "立即入户核实，说明超期原因", "预警核实超期", "alert verified late",
          ("alerts",), ("alerts",), "§7; 004 附件"),
    Check("alert_forward_overdue", "low", alerts.check_alert_forward_overdue, "预警转发超期",
          "督促市、县按时分发预警信息，说明超期原因", "预警转发超期",
          "alert forwarded late", ("alerts",), ("alerts",), "§7; 004 附件 三(2)(3)"),
    Check("double_enrolment", "high", enrolment.check_double_enrolment,
          "重复纳入（低保特困或两地同时在册）", "特困优先，取消低保或保留一地，追回重复资金",
          "重复纳入", "enrolled twice", ("roster", "payments"), ("roster", "payments"),
          "§3.5, §6; 002 二(六)"),
    Check("amount_not_per_standard", "medium", eligibility.check_amount_not_per_standard,
          "核定金额不符合标准", "按标准重新核定，追回多核部分或补发少核部分", "核定金额不符标准",
          "approved amount not per standard", ("roster", "households", "payments"),
          ("roster", "households", "payments"), "§4, §6; 000 二(一)"),
    Check("deceased_not_exited", "medium", enrolment.check_deceased_not_exited,
          "死亡未退出", "及时办理注销，停发并追回死亡后资金，对账销号", "死亡未退出",
          "died, still on the roster", ("roster", "deaths", "payments"),
          ("deaths", "roster", "payments"), "§6; 003 三(三)"),
    Check("under_assisted", "medium", screening.check_under_assisted, "疑似漏救",
          "核实后及时给予医疗救助或临时救助", "疑似漏救", "possible under-assistance",
          ("medical", "roster", "assistance"), ("medical",), "§5; 001 一"),
)

BY_CODE = {c.code: c for c in CHECKS}
CODES = tuple(BY_CODE)
