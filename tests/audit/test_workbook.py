"""三项清单.xlsx as a working document (POLICY.md §8, 003 三(三) 对账销号): laid out for work
and print, and a 整改清单 filled in with its drop-down values reads back through --rectified."""

import datetime as dt
import io

import openpyxl
import pandas as pd
from audit_frames import B, C
from test_runner import ARGS, write_county

from jiuzhu_sim.audit.findings import build
from jiuzhu_sim.audit.lists import RECTIFICATION_STATUSES, write_three_lists
from jiuzhu_sim.cli import main

ID = "350581198001010035"


def _header(sheet):
    return [c.value for c in sheet[1]]


def _column(sheet, name):
    return [row[_header(sheet).index(name)] for row in sheet.iter_rows(min_row=2)]


def test_workbook_is_laid_out_for_work_and_print(tmp_path):
    findings = build("deceased_paid", "high", person_id=[ID, ID], region_code=["350581"] * 2,
                     period=[24289, 24290], amount=[1234.5, 700.0], detail=["x", "y"])
    path = tmp_path / "三项清单.xlsx"
    write_three_lists(path, findings, "2024-07-30", None,
                      {"start": "2024-01", "end": "2024-06", "region_code": "350581"})
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["说明", "问题清单", "整改清单", "成果清单"]
    sheet = book["整改清单"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:O3"  # 15 columns, header + 2 findings
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
    ids = _column(sheet, "身份证号")
    assert [c.value for c in ids] == [ID, ID] and ids[0].data_type == "s"
    assert ids[0].number_format == "@"
    amounts = _column(sheet, "涉及金额（元）")
    assert amounts[0].value == 1234.5 and amounts[0].number_format == "#,##0.00"
    deadline = _column(sheet, "整改期限")[0]
    assert deadline.value == dt.datetime(2024, 7, 30) and deadline.is_date
    # widths: an 18-digit ID is 18 + 2 margin; 问题类型 "死亡后仍发放（死人保）" is 11 CJK
    # characters × 2 = 22 + 2 = 24; 严重程度 header (4 CJK = 8) is wider than "高" → 10
    letter = {name: openpyxl.utils.get_column_letter(i + 1)
              for i, name in enumerate(_header(sheet))}
    assert sheet.column_dimensions[letter["身份证号"]].width == 20
    assert sheet.column_dimensions[letter["问题类型"]].width == 24
    assert sheet.column_dimensions[letter["严重程度"]].width == 10
    (rule,) = sheet.data_validations.dataValidation
    assert rule.type == "list" and rule.showErrorMessage and rule.errorStyle == "stop"
    assert rule.formula1 == '"未整改,整改中,已整改,已完成,已销号"'
    assert str(rule.sqref) == f"{letter['整改状态']}2:{letter['整改状态']}3"
    notes = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    assert notes["审计期间"] == "2024-01 至 2024-06"
    assert "已销号" in notes["交回后"] and "--rectified" in notes["交回后"]


def _rewrite_payments(folder, transform):
    path = folder / "payments.csv"
    frame = pd.read_csv(io.BytesIO(path.read_bytes()), encoding="gb18030", dtype=str)
    path.write_bytes(transform(frame).to_csv(index=False).encode("gb18030"))


def test_filled_in_rectification_list_round_trips_through_rectified(tmp_path):
    data, out1, out2 = write_county(tmp_path / "data"), tmp_path / "o1", tmp_path / "o2"

    def late_march_for_b(frame):  # B's March paid 2024-04-30: > 10 days after March
        late = (frame["身份证号"] == B) & (frame["所属期"] == "2024-03")
        frame.loc[late, "发放日期"] = "2024-04-30"
        return frame

    _rewrite_payments(data, late_march_for_b)
    assert main(["audit", str(data), *ARGS, "--out", str(out1)]) == 0
    book = openpyxl.load_workbook(out1 / "三项清单.xlsx")
    sheet = book["整改清单"]
    (rule,) = sheet.data_validations.dataValidation
    offered = rule.formula1.strip('"').split(",")
    assert offered == list(RECTIFICATION_STATUSES)
    # C died 2024-01-20 → deceased_paid for 2024-02 and 2024-03, and C is still active on
    # the roster (deceased_not_exited, no month); B late for 2024-03
    chosen = {("deceased_paid", "2024-02"): "已整改", ("deceased_paid", "2024-03"): "整改中",
              ("late_payment", "2024-03"): "已完成", ("deceased_not_exited", None): "整改中"}
    keys = list(zip([c.value for c in _column(sheet, "检查项目代码")],
                    [c.value for c in _column(sheet, "所属期")], strict=True))
    assert sorted(keys) == sorted(chosen)
    for key, cell in zip(keys, _column(sheet, "整改状态"), strict=True):
        assert chosen[key] in offered
        cell.value = chosen[key]
    book.save(tmp_path / "filled.xlsx")

    # round 2: C's February payment was recovered, the rest is unchanged
    _rewrite_payments(data, lambda f: f[~((f["身份证号"] == C) & (f["所属期"] == "2024-02"))])
    assert main(["audit", str(data), *ARGS, "--out", str(out2), "--rectified",
                 str(tmp_path / "filled.xlsx")]) == 0
    res = pd.read_excel(out2 / "三项清单.xlsx", sheet_name="成果清单", dtype=str)
    got = {(r["检查项目代码"], None if pd.isna(r["所属期"]) else r["所属期"]):
           (r["原整改状态"], r["本次复查"], r["销号结果"]) for _, r in res.iterrows()}
    assert got == {
        # closed and gone → 已销号; open → 整改中; closed but found again → 未销号
        ("deceased_paid", "2024-02"): ("已整改", "未再发现", "已销号"),
        ("deceased_paid", "2024-03"): ("整改中", "仍存在", "整改中"),
        ("late_payment", "2024-03"): ("已完成", "仍存在", "未销号（复查仍存在）"),
        # C is still on the roster in round 2: open, found again
        ("deceased_not_exited", None): ("整改中", "仍存在", "整改中"),
    }


def test_status_outside_the_drop_down_exits_2_naming_row_and_column(tmp_path, capsys):
    data, out1 = write_county(tmp_path / "data"), tmp_path / "o1"
    assert main(["audit", str(data), *ARGS, "--out", str(out1)]) == 0
    book = openpyxl.load_workbook(out1 / "三项清单.xlsx")
    cells = _column(book["整改清单"], "整改状态")
    cells[0].value, cells[1].value = "已整改", "整改完成"  # free text, not a drop-down value
    book.save(tmp_path / "filled.xlsx")
    assert main(["audit", str(data), *ARGS, "--out", str(tmp_path / "o2"), "--rectified",
                 str(tmp_path / "filled.xlsx")]) == 2
    err = capsys.readouterr().err.strip()
    assert "filled.xlsx" in err and "row 2" in err and "整改状态" in err and "\n" not in err
