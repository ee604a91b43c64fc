"""Audit inputs: encodings, Chinese headers and values, rejected rows (CONTRACT §5)."""

import pandas as pd
import pytest
from audit_frames import A, B

from jiuzhu_sim.audit.io import load_inputs, normalise, parse_dates, parse_months, read_input
from jiuzhu_sim.exceptions import UserInputError


def test_gb18030_and_bom_csv_read_alike(tmp_path):
    text = "身份证号,姓名\n" + A + ",张三\n"
    (tmp_path / "gb.csv").write_bytes(text.encode("gb18030"))
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-8-sig"))
    gb, bom = read_input(tmp_path / "gb.csv"), read_input(tmp_path / "bom.csv")
    assert list(gb.columns) == list(bom.columns) == ["身份证号", "姓名"]
    assert gb["姓名"].iloc[0] == bom["姓名"].iloc[0] == "张三"


def test_chinese_headers_and_values_map_to_contract_names():
    frame = pd.DataFrame({"身份证号": [A], "姓名": ["张三"], "户编号": ["H1"],
                          "行政区划": ["350581"], "救助类别": ["农村低保"],
                          "纳入日期": ["2024/1/5"], "退出日期": [""], "月保障金": ["1,200"],
                          "最近核对日期": ["2024年3月1日"]})
    table, rejected = normalise("roster", frame, "roster.xlsx")
    assert rejected.empty
    row = table.iloc[0]
    assert row["program"] == "dibao" and row["sub_type"] == "rural"
    assert row["monthly_amount"] == 1200.0
    assert str(row["start_date"])[:10] == "2024-01-05"
    assert str(row["last_check_date"])[:10] == "2024-03-01"


def test_missing_required_column_names_file_and_column():
    # payment_id is the first payments column in the contract, so it is the one named
    frame = pd.DataFrame({"person_id": [A]})
    with pytest.raises(UserInputError, match=r"^payments\.csv, column payment_id: required"):
        normalise("payments", frame, "payments.csv")


def test_two_chinese_synonyms_take_the_first_and_keep_the_other():
    # a roster export with both 姓名 (the person) and 户主姓名 (the household head): 姓名 is
    # the name; 户主姓名 stays an extra column instead of a duplicate `name`
    frame = pd.DataFrame({"身份证号": [A], "姓名": ["张三"], "户主姓名": ["张大山"],
                          "户编号": ["H1"], "行政区划": ["350581"], "救助类别": ["低保"],
                          "纳入日期": ["2024-01-05"], "退出日期": [""], "月保障金": ["500"],
                          "最近核对日期": [""]})
    table, rejected = normalise("roster", frame, "roster.xlsx")
    assert rejected.empty and table["name"].iloc[0] == "张三"


def test_a_header_given_twice_is_a_one_line_error():
    frame = pd.DataFrame([[A, A, "张三"]], columns=["person_id", "身份证号", "name"])
    frame.columns = ["person_id", "person_id", "name"]
    with pytest.raises(UserInputError, match="deaths.csv, column person_id: duplicate column"):
        normalise("deaths", frame, "deaths.csv")


def test_ragged_csv_rows_are_rejected_not_fatal(tmp_path):
    # data rows 2 (one field too many) and 3 (one too few) are rejected with their row
    # numbers; rows 1 and 4 are used and keep their own row numbers for evidence
    (tmp_path / "roster.csv").write_text(
        "person_id,name,household_id,region_code,program,start_date,end_date,"
        "monthly_amount,last_check_date\n"
        f"{A},张三,H1,350581,dibao,2023-01-01,,500,2024-05-01\n"
        f"{B},李四,H2,350581,dibao,2023-01-01,,500,2024-05-01,extra\n"
        f"{B},李四,H2,350581,dibao,2023-01-01,,500\n"
        f"{B},李四,H2,350581,dibao,2023-01-01,,500,2024-05-01\n", encoding="utf-8")
    (tmp_path / "payments.csv").write_text(  # header-only payments are refused (issue 15)
        "payment_id,person_id,account_holder_id,region_code,program,period,amount,paid_date\n"
        f"P1,{A},{A},350581,dibao,2024-01,500,2024-01-25\n", encoding="utf-8")
    (tmp_path / "deaths.csv").write_text("person_id,name,death_date\n", encoding="utf-8")
    loaded = load_inputs(tmp_path)
    assert loaded.rows_read["roster"] == 4 and loaded.rows_rejected["roster"] == 2
    assert list(loaded.tables.roster["_row"]) == [1, 4]
    assert list(loaded.rejected["row"]) == [2, 3]
    assert loaded.rejected["reason"].str.contains("wrong number of fields").all()


def test_bad_rows_are_rejected_one_reason_each_and_add_up():
    frame = pd.DataFrame({"payment_id": ["1", "2", "3", "4"], "person_id": [A, B, "", A],
                          "account_holder_id": [A, B, A, A], "region_code": ["350581"] * 4,
                          "program": ["dibao", "低保", "dibao", "救济粮"],
                          "period": ["2024-01", "2024-13", "2024-01", "2024-01"],
                          "amount": ["500", "500", "x", "500"],
                          "paid_date": ["2024-01-25"] * 4})
    table, rejected = normalise("payments", frame, "payments.csv")
    assert len(table) == 1
    assert len(table) + len(rejected) == len(frame)
    assert list(rejected.sort_values("row")["row"]) == [2, 3, 4]
    assert set(rejected["column"]) == {"period", "person_id", "program"}


def test_date_and_month_formats():
    days, bad = parse_dates(pd.Series(["2024-01-05", "20240105", "2024/1/5", "", "nope"],
                                      dtype="str"))
    assert [str(x) for x in days[:3]] == ["2024-01-05"] * 3
    assert list(bad) == [False, False, False, False, True]
    months, bad = parse_months(pd.Series(["2024-02", "202402", "2024年2月", "2024-00"],
                                         dtype="str"))
    assert list(months[:3]) == [2024 * 12 + 1] * 3 and list(bad) == [False] * 3 + [True]


def test_missing_required_file(tmp_path):
    with pytest.raises(UserInputError, match="roster"):
        load_inputs(tmp_path)


def test_parquet_with_typed_columns(tmp_path):
    from audit_frames import pay_row, roster_row

    roster = pd.DataFrame([roster_row(A)])
    roster["monthly_amount"] = 500.0  # numeric in Parquet
    roster["region_code"] = 350581     # an integer code
    roster.to_parquet(tmp_path / "roster.parquet")
    pd.DataFrame([pay_row(A, "2024-01")]).to_parquet(tmp_path / "payments.parquet")
    (tmp_path / "deaths.csv").write_text("person_id,name,death_date\n", encoding="utf-8")
    loaded = load_inputs(tmp_path)
    assert loaded.rows_read == {"roster": 1, "payments": 1, "deaths": 0}
    assert loaded.tables.roster["region_code"].iloc[0] == "350581"
    assert loaded.tables.roster["monthly_amount"].iloc[0] == 500.0


def test_coverage_care_and_assistance_values_map_and_unknown_kinds_are_rejected():
    roster = pd.DataFrame([{"person_id": A, "name": "甲", "household_id": "H1",
                            "region_code": "350581", "program": "特困", "start_date": "2023-01-01",
                            "end_date": "", "monthly_amount": "1420", "last_check_date": "",
                            "保障方式": "单列", "护理等级": "半护理"}])
    table, rejected = normalise("roster", roster, "roster.csv")
    assert rejected.empty
    assert table["coverage_type"].iloc[0] == "single"
    assert table["care_level"].iloc[0] == "semi_care"     # 半护理 = CONTRACT's "partial"
    assistance = pd.DataFrame({"person_id": [A, B], "救助种类": ["医疗救助", "助学金"],
                               "救助日期": ["2024-03-01", "2024-03-01"], "救助金额": ["800", "1"]})
    table, rejected = normalise("assistance", assistance, "assistance.csv")
    assert list(table["kind"]) == ["medical"]
    assert list(rejected["row"]) == [2] and list(rejected["column"]) == ["kind"]
    assert "助学金" in rejected["reason"].iloc[0]
