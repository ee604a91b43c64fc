"""Real exports and hostile input (issue 15): dates, amounts, IDs, workbooks, totals rows,
reversals and rejected payments — never a wrong answer with exit 0."""

import json

import numpy as np
import pandas as pd
import pytest
from audit_frames import A, B, pay_row, roster_row

from jiuzhu_sim.audit.io import (
    IDS_NORMALISED,
    SHEETS,
    TOTALS_REASON,
    UNKNOWN_KEYS,
    date_parts,
    load_inputs,
    normalise,
    read_input,
)
from jiuzhu_sim.exceptions import UserInputError

PAY_HEADER = ("payment_id,person_id,account_holder_id,region_code,program,period,amount,"
              "paid_date\n")
ROSTER_HEADER = ("person_id,name,household_id,region_code,program,start_date,end_date,"
                 "monthly_amount,last_check_date\n")


def _folder(tmp_path, roster_lines, pay_lines, deaths_lines=()):
    (tmp_path / "roster.csv").write_text(ROSTER_HEADER + "".join(roster_lines), "utf-8")
    (tmp_path / "payments.csv").write_text(PAY_HEADER + "".join(pay_lines), "utf-8")
    (tmp_path / "deaths.csv").write_text("person_id,name,death_date\n" + "".join(
        deaths_lines), "utf-8")
    return tmp_path


# --- dates ------------------------------------------------------------------------------


def test_dates_are_day_precision_without_nanosecond_overflow():
    # 9999-12-31 overflowed datetime64[ns] (max 2262-04-11) into a date in the 1800s
    days, bad = date_parts(pd.Series(["9999-12-31", "3024-03-01", "2024-02-30", "２０２４-０１-０５"],
                                     dtype="str"))
    assert [str(d) for d in days[:2]] == ["9999-12-31", "3024-03-01"]
    assert np.isnat(days[2]) and bad[2]  # February has no 30th
    assert str(days[3]) == "2024-01-05" and not bad[3]


@pytest.mark.parametrize("end", ["9999-12-31", "2099-12-31", "长期", "2999-12-31"])
def test_open_end_conventions_mean_active(end):
    frame = pd.DataFrame([roster_row(A, end=end)])
    table, rejected = normalise("roster", frame, "roster.csv")
    assert rejected.empty and pd.isna(table["end_date"].iloc[0])


def test_date_beyond_the_plausible_range_is_a_rejected_cell_with_its_reason():
    # a death in 3024 is a typo: it must not make a living person 死人保
    frame = pd.DataFrame({"person_id": [A, B], "name": ["张三", "李四"],
                          "death_date": ["3024-03-01", "2024-03-01"]})
    table, rejected = normalise("deaths", frame, "deaths.csv")
    assert list(table["person_id"]) == [B]
    assert list(rejected["row"]) == [1] and rejected["column"].iloc[0] == "death_date"
    assert "plausible range 1900-01-01..2099-12-31" in rejected["reason"].iloc[0]


# --- amounts ----------------------------------------------------------------------------


def test_amount_forms_clerks_type_are_understood():
    cells = ["941元", "¥941", "￥９４１", "1,200.50", " 941 ", "RMB 941.00"]
    frame = pd.DataFrame([pay_row(A, "2024-01", amount=c) for c in cells])
    table, rejected = normalise("payments", frame, "payments.csv")
    assert rejected.empty
    assert list(table["amount"]) == [941.0, 941.0, 941.0, 1200.5, 941.0, 941.0]


@pytest.mark.parametrize("cell", ["inf", "1e309", "nan", "-inf", "Infinity"])
def test_non_finite_amounts_are_rejected(cell):
    frame = pd.DataFrame([pay_row(A, "2024-01", amount=cell), pay_row(A, "2024-02")])
    table, rejected = normalise("payments", frame, "payments.csv")
    assert list(rejected["row"]) == [1] and list(table["amount"]) == [500.0]


def test_typed_infinite_and_huge_amounts_are_rejected():
    frame = pd.DataFrame([pay_row(A, "2024-01")] * 3)
    frame["amount"] = [np.inf, 5e7, 500.0]  # Parquet/xlsx numbers; 5e7 > 10,000,000 yuan
    table, rejected = normalise("payments", frame, "payments.parquet")
    assert list(rejected["row"]) == [1, 2] and list(table["amount"]) == [500.0]
    assert "finite" in rejected["reason"].iloc[0]
    assert "outside ±10,000,000" in rejected["reason"].iloc[1]


# --- IDs --------------------------------------------------------------------------------


def test_an_id_column_of_excel_numbers_is_refused_with_how_to_export_text(tmp_path):
    frame = pd.DataFrame([pay_row(A, "2024-01"), pay_row(B, "2024-01")])
    frame.loc[1, "person_id"] = "3.50581198001E+17"
    with pytest.raises(UserInputError, match=r"^payments\.csv, row 2, column person_id: .*"
                       r"stored as a number.*as text"):
        normalise("payments", frame, "payments.csv")
    typed = pd.DataFrame([pay_row(A, "2024-01")])
    typed["person_id"] = [float(A)]  # 3.5058119800101e+17: not the ID any more
    with pytest.raises(UserInputError, match="row 1, column person_id"):
        normalise("payments", typed, "payments.xlsx")
    typed["person_id"] = typed["person_id"].astype(np.int64)  # Parquet int64
    with pytest.raises(UserInputError, match="stored as a number"):
        normalise("payments", typed, "payments.parquet")


def test_stray_characters_around_ids_are_normalised_and_counted():
    written = ["\u200b" + A, "'" + A, A[:6] + "-" + A[6:], A[:6] + " " + A[6:], A]
    frame = pd.DataFrame([pay_row(p, "2024-01", account=A) for p in written])
    table, rejected = normalise("payments", frame, "payments.csv")
    assert rejected.empty and set(table["person_id"]) == {A}
    assert table.attrs[IDS_NORMALISED] == {"person_id": 4}  # four written oddly, one clean


def test_payments_name_and_account_no_are_read_and_normalised():
    frame = pd.DataFrame([{**pay_row(A, "2024-01"), "姓名": "张三",
                           "银行账号": "6217 0012-3456 7890"}])
    table, rejected = normalise("payments", frame, "payments.csv")
    assert rejected.empty
    assert table["name"].iloc[0] == "张三" and table["account_no"].iloc[0] == "6217001234567890"
    roster = pd.DataFrame([{**roster_row(A), "account_no": "'6217001234567890"}])
    table, _ = normalise("roster", roster, "roster.csv")
    assert table["account_no"].iloc[0] == "6217001234567890"


# --- totals rows, workbooks ---------------------------------------------------------------


def test_a_totals_row_is_rejected_as_such():
    frame = pd.DataFrame([pay_row(A, "2024-01"), pay_row(B, "2024-01")])
    total = {c: "" for c in frame.columns}
    total.update(payment_id="合计", amount="1000")
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    table, rejected = normalise("payments", frame, "payments.csv")
    assert len(table) == 2 and list(rejected["row"]) == [3]
    assert rejected["reason"].iloc[0] == TOTALS_REASON


def _workbook(path, sheets):
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)


def _pay_cells(pid, period, amount=500):
    r = pay_row(pid, period, amount)
    return [r["payment_id"], r["person_id"], r["account_holder_id"], r["region_code"],
            "低保", r["period"], amount, r["paid_date"]]


CN_PAY_HEADER = ["发放编号", "身份证号", "领取人身份证号", "行政区划", "救助类别", "所属期",
                 "发放金额", "发放日期"]


def test_workbook_every_sheet_with_the_table_read_below_title_rows(tmp_path):
    # Q1 with two title rows and a totals row, Q2 plain, a notes sheet: 3 + 2 payments read
    # (rows 1..4 in Q1 including the totals row, 5..6 in Q2), the notes sheet skipped
    q1 = [["××市2024年低保金发放明细表"], ["单位：元"], CN_PAY_HEADER,
          _pay_cells(A, "2024-01"), _pay_cells(A, "2024-02"), _pay_cells(B, "2024-01"),
          ["合计", None, None, None, None, None, 1500, None]]
    q2 = [CN_PAY_HEADER, _pay_cells(A, "2024-04"), _pay_cells(B, "2024-04") + ["补发"]]
    _workbook(tmp_path / "payments.xlsx", {"2024Q1": q1, "2024Q2": q2,
                                           "说明": [["本表由一卡通系统导出"]]})
    frame = read_input(tmp_path / "payments.xlsx", "payments")
    assert len(frame) == 6
    sheets = frame.attrs[SHEETS]
    assert [(s["sheet"], s["header_row"], s["first_row"], s["last_row"])
            for s in sheets["read"]] == [("2024Q1", 3, 1, 4), ("2024Q2", 1, 5, 6)]
    assert [s["sheet"] for s in sheets["skipped"]] == ["说明"]
    assert [s["cells_without_header"] for s in sheets["read"]] == [0, 1]  # 补发, no header
    table, rejected = normalise("payments", frame, "payments.xlsx")
    assert len(table) == 5 and list(rejected["row"]) == [4]
    assert rejected["reason"].iloc[0] == TOTALS_REASON
    only = read_input(tmp_path / "payments.xlsx", "payments", ("2024Q2",))
    assert len(only) == 2
    with pytest.raises(UserInputError, match="no sheet named '2025Q1'"):
        read_input(tmp_path / "payments.xlsx", "payments", ("2025Q1",))


def test_workbook_id_cells_typed_as_numbers_are_refused(tmp_path):
    rows = [CN_PAY_HEADER, _pay_cells(A, "2024-01")]
    rows[1][1] = float(A)  # how Excel keeps an ID typed into a General cell
    _workbook(tmp_path / "payments.xlsx", {"Sheet1": rows})
    frame = read_input(tmp_path / "payments.xlsx", "payments")
    with pytest.raises(UserInputError, match="row 1, column person_id: .*stored as a number"):
        normalise("payments", frame, "payments.xlsx")


# --- rejected payments are unknown, reversals net -------------------------------------------


def test_a_rejected_payment_row_makes_its_month_unknown_not_missing():
    frame = pd.DataFrame([pay_row(A, "2024-01", amount="九百四十一"), pay_row(A, "2024-02")])
    table, rejected = normalise("payments", frame, "payments.csv")
    keys = table.attrs[UNKNOWN_KEYS]
    assert len(rejected) == 1
    assert keys.to_dict("records") == [{"person_id": A, "program": "dibao",
                                        "period": 2024 * 12 + 0}]


def test_reversal_nets_against_the_payment_it_reverses(tmp_path):
    # January: paid 338 twice, one reversed (-338) → one payment of 338 left, not a duplicate.
    # February: 500 paid, clawback -120 → 380 left. March: -50 with nothing paid → rejected.
    folder = _folder(tmp_path, [",".join(roster_row(A).values()) + "\n"], [
        ",".join(pay_row(A, "2024-01", 338, payment_id="P1").values()) + "\n",
        ",".join(pay_row(A, "2024-01", 338, payment_id="P2").values()) + "\n",
        ",".join(pay_row(A, "2024-01", -338, payment_id="P3").values()) + "\n",
        ",".join(pay_row(A, "2024-02", 500, payment_id="P4").values()) + "\n",
        ",".join(pay_row(A, "2024-02", -120, payment_id="P5").values()) + "\n",
        ",".join(pay_row(A, "2024-03", -50, payment_id="P6").values()) + "\n"])
    loaded = load_inputs(folder)
    pay = loaded.tables.payments
    assert sorted(zip(pay["payment_id"], pay["amount"], strict=True)) == [("P2", 338.0),
                                                                          ("P4", 380.0)]
    netted = loaded.tables.netted_payments
    assert list(zip(netted["payment_id"], netted["nets_payment_id"], netted["amount_after"],
                    strict=True)) == [("P3", "P1", 0.0), ("P5", "P4", 380.0)]
    assert list(loaded.rejected["row"]) == [6] and "reversal" in loaded.rejected["reason"][0]
    # read = used + rejected: 6 = (2 kept + 3 netted away) + 1 rejected
    assert loaded.rows_read["payments"] == 6 and loaded.rows_rejected["payments"] == 1
    assert (loaded.tables.unknown_payment_keys["period"] == 2024 * 12 + 2).all()


def test_audit_of_reversals_has_no_negative_amount_and_shows_the_netting(tmp_path):
    from jiuzhu_sim.audit.runner import run_audit

    (tmp_path / "in").mkdir()
    folder = _folder(tmp_path / "in", [",".join(roster_row(A, amount=338).values()) + "\n"],
                     [",".join(pay_row(A, m, 338, payment_id=f"P{m}").values()) + "\n"
                      for m in ("2024-01", "2024-02")]
                     + [",".join(pay_row(A, "2024-01", 338, payment_id="DUP").values()) + "\n",
                        ",".join(pay_row(A, "2024-01", -338, payment_id="REV").values())
                        + "\n"])
    result = run_audit(folder, "2024-01", "2024-02", out_dir=tmp_path / "out", linkage=False)
    assert (result.findings["amount_at_risk"] >= 0).all()
    assert not result.findings["detail"].str.contains("-").any()
    assert "duplicate_payment" not in set(result.findings["check"])
    netted = pd.read_csv(tmp_path / "out" / "netted_payments.csv", dtype=str)
    assert list(netted["payment_id"]) == ["REV"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    assert summary["input"]["netting"]["reversal_rows"] == 1


# --- failure paths: one line, exit 2 ---------------------------------------------------------


def test_header_only_roster_or_payments_is_one_line(tmp_path):
    folder = _folder(tmp_path, [], [])
    with pytest.raises(UserInputError, match=r"^roster\.csv: no data rows"):
        load_inputs(folder)
    folder = _folder(tmp_path, [",".join(roster_row(A).values()) + "\n"],
                     [",".join(pay_row(A, "2024-01", "x").values()) + "\n"])
    with pytest.raises(UserInputError, match=r"^payments\.csv: no usable rows: all 1 rows "
                       r"rejected \(first: row 1, column amount"):
        load_inputs(folder)


def test_invisible_characters_in_other_codes_are_removed_and_counted():
    # a zero-width space in a region code would make a second region (false 异地重复)
    frame = pd.DataFrame([pay_row(A, "2024-01", region="350581\u200b"),
                          pay_row(A, "2024-02", region="'350581"), pay_row(A, "2024-03")])
    table, rejected = normalise("payments", frame, "payments.csv")
    assert rejected.empty and set(table["region_code"]) == {"350581"}
    assert table.attrs[IDS_NORMALISED] == {"region_code": 2}


def test_partitioned_run_nets_and_counts_like_the_single_run(tmp_path):
    # the same reversals and stray IDs through 3 partitions: same findings, same netting
    from jiuzhu_sim.audit.runner import run_audit

    folder = _folder(tmp_path, [",".join(roster_row(p, amount=338).values()) + "\n"
                                for p in (A, B)],
                     [",".join(pay_row(p, m, 338, payment_id=f"P{p[-3:]}{m}").values()) + "\n"
                      for p in (A, B) for m in ("2024-01", "2024-02")]
                     + [",".join(pay_row("'" + A, "2024-01", 338, payment_id="DUP").values())
                        + "\n",
                        ",".join(pay_row(A, "2024-01", -338, payment_id="REV").values())
                        + "\n"])
    one = run_audit(folder, "2024-01", "2024-02", linkage=False)
    parts = run_audit(folder, "2024-01", "2024-02", linkage=False, partitions=3)
    assert one.summary["input"]["netting"] == parts.summary["input"]["netting"] == {
        "reversal_rows": 1, "payments_netted": 1, "payments_cancelled": 1,
        "amount_netted": 338.0}
    assert one.summary["input"]["ids_normalised"] == parts.summary["input"][
        "ids_normalised"] == {"payments": {"person_id": 1, "account_holder_id": 1}}
    assert sorted(one.findings["finding_id"]) == sorted(parts.findings["finding_id"])
    assert one.summary["rows_rejected"] == parts.summary["rows_rejected"]
