"""三项清单 (POLICY.md §8, 001 §三(三)): 问题清单 (problems by check × region), 整改清单 (one
row per finding with action, responsible unit, deadline, empty status) and 成果清单
(对账销号 against a previous 整改清单, 003), written as one xlsx workbook."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jiuzhu_sim.audit.checks.registry import BY_CODE
from jiuzhu_sim.audit.findings import PROGRAM_NAMES, stable_key
from jiuzhu_sim.exceptions import UserInputError

EXCEL_MAX_ROWS = 1_048_575
CLOSED_WORDS = ("已整改", "已完成", "已销号")
# 整改状态: the values the 整改清单's drop-down offers and ``--rectified`` accepts (blank =
# not yet filled in = 未整改). Closed ones are CLOSED_WORDS; 已整改 and 已完成 mean the same.
RECTIFICATION_STATUSES = ("未整改", "整改中", "已整改", "已完成", "已销号")
RECTIFICATION_COLUMNS = {
    "finding_id": "问题编号", "check": "检查项目代码", "check_zh": "问题类型",
    "severity": "严重程度", "person_id": "身份证号", "name": "姓名", "region_code": "行政区划",
    "program": "救助类别", "period": "所属期", "amount_at_risk": "涉及金额（元）",
    "detail": "问题描述", "action": "整改措施", "unit": "责任单位", "deadline": "整改期限",
    "status": "整改状态",
}
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}


def responsible_unit(region_code: pd.Series) -> pd.Series:
    """责任单位 by region code: a 9+ digit (township) code → that township's civil affairs
    office; a six-digit county code → the county civil affairs bureau."""
    code = pd.Series(region_code, dtype="str").fillna("").reset_index(drop=True)
    township = (code.str.len() > 6).to_numpy(dtype=bool)
    # Arrow text throughout (no Python string per cell)
    return (code + " 乡镇（街道）民政办").where(township, code + " 县（市、区）民政局")


def problem_list(findings: pd.DataFrame) -> pd.DataFrame:
    """问题清单: counts and amounts by check × region."""
    if not len(findings):
        return pd.DataFrame(columns=["问题类型", "检查项目代码", "行政区划", "问题数量",
                                     "涉及人数", "涉及金额（元）"])
    g = findings.groupby(["check", "region_code"], sort=True, as_index=False).agg(
        n=("finding_id", "size"), people=("person_id", "nunique"),
        amount=("amount_at_risk", "sum"))
    order = {c: i for i, c in enumerate(BY_CODE)}
    g = g.assign(o=g["check"].map(order)).sort_values(["o", "region_code"])
    return pd.DataFrame({"问题类型": g["check"].map(lambda c: BY_CODE[c].name_zh),
                         "检查项目代码": g["check"], "行政区划": g["region_code"],
                         "问题数量": g["n"], "涉及人数": g["people"],
                         "涉及金额（元）": g["amount"].round(2)})


def rectification_list(findings: pd.DataFrame, deadline: str) -> pd.DataFrame:
    """整改清单: one row per finding, 整改状态 left empty for the townships to fill in."""
    f = findings
    if not f["check"].isin(list(BY_CODE)).all():  # an unknown code: the KeyError it was
        unknown = f.loc[~f["check"].isin(list(BY_CODE)), "check"].iloc[0]
        raise KeyError(unknown)
    out = pd.DataFrame({
        "finding_id": f["finding_id"], "check": f["check"],
        "check_zh": f["check"].map({code: c.name_zh for code, c in BY_CODE.items()}),
        "severity": f["severity"].map(SEVERITY_ZH), "person_id": f["person_id"],
        "name": f["name"], "region_code": f["region_code"],
        "program": f["program"].map(PROGRAM_NAMES).fillna(f["program"]),
        "period": f["period"], "amount_at_risk": f["amount_at_risk"], "detail": f["detail"],
        "action": f["check"].map({code: c.action_zh for code, c in BY_CODE.items()}),
        "unit": responsible_unit(f["region_code"]).set_axis(f.index), "deadline": deadline,
        "status": "",
    })
    return out.rename(columns=RECTIFICATION_COLUMNS)


def read_rectified(path: Path) -> pd.DataFrame:
    """A previous 整改清单 (xlsx sheet 整改清单, or CSV) → finding_id, key, status."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError("file not found", file=str(path))
    try:
        if path.suffix.lower() == ".xlsx":
            book = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
            frame = book.get("整改清单", next(iter(book.values())))
        else:
            from jiuzhu_sim.io import read_table

            frame = read_table(path)
    except UserInputError:
        raise
    except Exception as exc:
        raise UserInputError(f"cannot read rectification list ({type(exc).__name__})",
                             file=str(path)) from None
    frame = frame.fillna("").astype(str)
    for col in ("问题编号", "整改状态"):
        if col not in frame.columns:
            raise UserInputError("required column is missing", file=str(path), column=col)
    status = frame["整改状态"].str.strip()
    unknown = np.flatnonzero(~status.isin(("", *RECTIFICATION_STATUSES)).to_numpy())
    if len(unknown):  # free text would be read as open or closed by guesswork
        raise UserInputError(
            f"整改状态 {status.iloc[unknown[0]]!r} is not one of "
            f"{'、'.join(RECTIFICATION_STATUSES)} (the drop-down values) or blank",
            file=str(path), row=int(unknown[0]) + 1, column="整改状态")
    for col in ("检查项目代码", "身份证号", "所属期"):
        if col not in frame.columns:
            frame[col] = ""
    return pd.DataFrame({
        "finding_id": frame["问题编号"].str.strip(),
        "key": stable_key(frame["检查项目代码"].str.strip(), frame["身份证号"].str.strip(),
                          frame["所属期"].str.strip()).to_numpy(),
        "check": frame["检查项目代码"], "person_id": frame["身份证号"],
        "period": frame["所属期"], "status": frame["整改状态"].str.strip(),
    })


def results_list(findings: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """成果清单 (对账销号): each previous item, matched to this run by finding_id or by the
    stable key check+person_id+period: closed (已整改/已完成) and not found again → 已销号;
    closed but found again → 未销号（复查仍存在）; not closed → 整改中."""
    cols = ["问题编号", "检查项目代码", "身份证号", "所属期", "原整改状态", "本次复查",
            "销号结果"]
    if previous is None or not len(previous):
        return pd.DataFrame(columns=cols)
    ids = set(findings["finding_id"].astype(str))
    keys = set(stable_key(findings["check"], findings["person_id"], findings["period"]))
    found = previous["finding_id"].isin(ids).to_numpy() | previous["key"].isin(keys).to_numpy()
    closed = previous["status"].str.contains("|".join(CLOSED_WORDS)).to_numpy()
    result = np.where(closed & ~found, "已销号", np.where(closed, "未销号（复查仍存在）",
                                                         "整改中"))
    return pd.DataFrame({"问题编号": previous["finding_id"], "检查项目代码": previous["check"],
                         "身份证号": previous["person_id"], "所属期": previous["period"],
                         "原整改状态": previous["status"],
                         "本次复查": np.where(found, "仍存在", "未再发现"), "销号结果": result})


# how the workbook looks (formats by header, so columns added later get one too)
WRAP_COLUMNS = ("问题描述", "整改措施", "责任单位", "内容", "说明")
# the parameters the 说明 sheet lists: the audit's own deadlines, intervals and thresholds
EXPLAINED_PARAMETER_PREFIXES = ("audit.", "review.", "monitoring.", "screening.")


def column_formats(frame: pd.DataFrame) -> dict[str, str]:
    """Excel format of each column, by its header: deadlines and dates as real dates,
    金额 as #,##0.00, counts as #,##0, long text wrapped, everything else (IDs, codes,
    periods, statuses) as text so that Excel never turns an ID into a number."""
    formats = {}
    for name in frame.columns:
        text = str(name)
        if "期限" in text or "日期" in text:
            formats[name] = "date"
        elif "金额" in text or "（元）" in text:
            formats[name] = "amount"
        elif pd.api.types.is_integer_dtype(frame[name]):
            formats[name] = "integer"
        elif text in WRAP_COLUMNS:
            formats[name] = "wrap"
        else:
            formats[name] = "text"
    return formats


def instructions(deadline: str, about: dict | None = None, params=None) -> pd.DataFrame:
    """The 说明 sheet: what the workbook covers (window, region, parameters) and how to fill
    in and return the 整改清单 for 对账销号 (003 三(三))."""
    about = about or {}
    statuses = "、".join(RECTIFICATION_STATUSES)
    rows = [
        ("文件", "三项清单：问题清单（按问题类型和行政区划汇总）、整改清单（每个问题一行，"
                 "由责任单位填写整改状态）、成果清单（按上期整改清单对账销号的结果）"),
        ("审计期间", f"{about.get('start', '')} 至 {about.get('end', '')}"),
        ("行政区划", " ".join(str(x) for x in (about.get("region_code", ""),
                                             getattr(params, "region_name", "")) if x)),
        ("参数日期", str(about.get("params_date", ""))),
        ("整改期限", f"{deadline}（参数日期后 audit.rectification_days 天）"),
        ("填写方法 1", f"责任单位逐条核实整改，在「整改状态」列的下拉列表中选择：{statuses}。"
                      "留空视为未整改；其他文字不被接受，下次运行会报错并指出行号。"),
        ("填写方法 2", "不要修改「问题编号」「检查项目代码」「身份证号」「所属期」四列："
                      "复查时按问题编号，或按检查项目代码＋身份证号＋所属期对账。"
                      "可在右侧增加列（如整改说明、佐证材料），不影响读取。"),
        ("填写方法 3", "保存为 .xlsx（保留「整改清单」工作表名）或另存为 CSV（UTF-8），"
                      "整改期限前交回审计组（县级民政部门）。"),
        ("交回后", "审计组下一轮运行 jiuzhu audit 数据目录 --start 起始月 --end 截止月 "
                   "--out 输出目录 --rectified 本文件，生成成果清单：已整改（或已完成、"
                   "已销号）且复查未再发现 → 已销号；已整改但复查仍存在 → 未销号（复查仍存在）；"
                   "未整改、整改中或留空 → 整改中。"),
    ]
    if params is not None:
        for name in sorted(params.values):
            if name.startswith(EXPLAINED_PARAMETER_PREFIXES):
                value = params.values[name]
                rows.append((f"参数 {name}", f"{value.value} {value.unit}".strip()
                             + (f"（{value.description}；依据：{value.reference}）"
                                if value.reference else f"（{value.description}）")))
        if getattr(params, "overrides", None):
            rows.append(("本次 --set", "；".join(f"{k}={v}" for k, v in
                                                 params.overrides.items())))
        rows.append(("参数 sha256", params.sha256()))
    return pd.DataFrame(rows, columns=["项目", "内容"])


def write_three_lists(path: Path, findings: pd.DataFrame, deadline: str,
                      previous: pd.DataFrame | None, about: dict | None = None,
                      params=None) -> dict:
    """Write 三项清单.xlsx (``jiuzhu_sim.io.write_xlsx``) as a working document: 说明 first,
    header frozen and filtered, fitted widths, IDs as text, amounts and dates formatted,
    a drop-down for 整改状态, landscape pages fitted to width; returns counts for
    summary.json. ``about`` carries the audit window (start, end, region_code,
    params_date) for the 说明 sheet."""
    from jiuzhu_sim.io import SheetLayout, write_xlsx

    sheets = {"说明": instructions(deadline, about, params),
              "问题清单": problem_list(findings),
              "整改清单": rectification_list(findings, deadline),
              "成果清单": results_list(findings, previous)}
    truncated = max(0, len(sheets["整改清单"]) - EXCEL_MAX_ROWS)
    if truncated:
        sheets["整改清单"] = sheets["整改清单"].iloc[:EXCEL_MAX_ROWS]
    if previous is None:
        sheets["成果清单"] = pd.DataFrame({"说明": [
            "未提供上期整改清单（--rectified），本次无对账销号结果"]})
    status = RECTIFICATION_COLUMNS["status"]
    window = f"{(about or {}).get('start', '')}—{(about or {}).get('end', '')}"
    layouts = {name: SheetLayout(
        formats=column_formats(frame), title=f"{name} {window}".strip(),
        choices={status: RECTIFICATION_STATUSES} if name == "整改清单" else {},
        prompts={status: "从下拉列表选择；留空视为未整改"},
        autofilter=name != "说明", landscape=name != "说明",
        max_width=90 if name == "说明" else 36) for name, frame in sheets.items()}
    write_xlsx(path, sheets, layouts=layouts)
    res = sheets["成果清单"]
    counts = {"problem_rows": len(sheets["问题清单"]),
              "rectification_rows": len(sheets["整改清单"]),
              "rectification_rows_truncated": truncated}
    if previous is not None:
        counts["results"] = res["销号结果"].value_counts().to_dict()
    return counts
