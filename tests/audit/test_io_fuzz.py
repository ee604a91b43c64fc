"""Property-based tests over the audit readers (issue 15): any byte string, any cell, any
sheet layout gives a result or a UserInputError (exit 2) — never another exception — and
every row read is either used or rejected, never both, never neither."""

import datetime as dt

import numpy as np
import pandas as pd
from audit_frames import A, B, pay_row, roster_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiuzhu_sim.audit.io import SCHEMAS, load_inputs, normalise, read_input
from jiuzhu_sim.exceptions import UserInputError

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
PAY_COLUMNS = list(pay_row(A, "2024-01"))

cell_text = st.one_of(
    st.text(max_size=25),
    st.sampled_from(["", "合计", "9999-12-31", "3024-03-01", "2024-02-30", "inf", "1e309",
                     "-338.00", "941元", "¥941", "3.50581199005E+17", "'" + A, "\u200b" + A,
                     A[:6] + "-" + A[6:], "=HYPERLINK(\"x\")", "NaN", "None", "2024-13",
                     "２０２４-０１", "(338.00)", "1,2,3", "低保", "dibao", "0", "-0"]))
cell_value = st.one_of(cell_text, st.none(), st.integers(-10**20, 10**20),
                       st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                       st.datetimes(min_value=dt.datetime(1, 1, 1),
                                    max_value=dt.datetime(9999, 12, 31)))


def _accounted(table: pd.DataFrame, rejected: pd.DataFrame, n: int) -> None:
    """Rows 1..n: each used (in ``table``) or rejected, never both."""
    used = set(table["_row"].tolist())
    rej = set(rejected["row"].tolist())
    assert not used & rej
    assert used | rej == set(range(1, n + 1))


@FAST
@given(column=st.sampled_from(PAY_COLUMNS), cell=cell_value)
def test_any_cell_in_a_payment_row_is_used_or_rejected(column, cell):
    frame = pd.DataFrame([pay_row(A, "2024-01"), pay_row(B, "2024-02")], dtype=object)
    frame.loc[0, column] = cell
    try:
        table, rejected = normalise("payments", frame, "payments.xlsx")
    except UserInputError:
        return  # e.g. an ID typed as a number: one line, exit 2
    _accounted(table, rejected, 2)
    assert np.isfinite(table["amount"].to_numpy(dtype="float64")).all()


@FAST
@given(column=st.sampled_from(list(roster_row(A))), cell=cell_value)
def test_any_cell_in_a_roster_row_is_used_or_rejected(column, cell):
    frame = pd.DataFrame([roster_row(A), roster_row(B)], dtype=object)
    frame.loc[1, column] = cell
    try:
        table, rejected = normalise("roster", frame, "roster.xlsx")
    except UserInputError:
        return
    _accounted(table, rejected, 2)
    days = table["end_date"].to_numpy(dtype="datetime64[D]")
    assert (np.isnat(days) | (days.astype("datetime64[Y]").astype(int) + 1970 <= 2099)).all()


def _folder(tmp_path, payments: bytes):
    header = ",".join(roster_row(A)) + "\n"
    (tmp_path / "roster.csv").write_text(
        header + ",".join(roster_row(A).values()) + "\n", "utf-8")
    (tmp_path / "deaths.csv").write_text("person_id,name,death_date\n", "utf-8")
    (tmp_path / "payments.csv").write_bytes(payments)
    return tmp_path


@FAST
@given(body=st.binary(max_size=300), keep_header=st.booleans())
def test_any_bytes_as_payments_csv(tmp_path_factory, body, keep_header):
    folder = tmp_path_factory.mktemp("bytes")
    head = (",".join(PAY_COLUMNS) + "\n").encode() if keep_header else b""
    _folder(folder, head + body)
    try:
        loaded = load_inputs(folder)
    except UserInputError:
        return
    _load_accounted(loaded)


@FAST
@given(lines=st.lists(st.lists(cell_text, min_size=0, max_size=10), max_size=6))
def test_any_text_rows_as_payments_csv(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("rows")
    body = "".join(",".join('"' + c.replace('"', '""') + '"' for c in line) + "\n"
                   for line in lines)
    _folder(folder, (",".join(PAY_COLUMNS) + "\n" + body).encode("utf-8"))
    try:
        loaded = load_inputs(folder)
    except UserInputError:
        return
    _load_accounted(loaded)


def _load_accounted(loaded) -> None:
    """rows read = used + rejected, for every input, netted rows counting as used."""
    for name, n in loaded.rows_read.items():
        file = loaded.tables.files[name]
        rejected = loaded.rejected[loaded.rejected["file"] == file]
        used = set(loaded.tables[name]["_row"].tolist())
        if name == "payments":
            netted = loaded.tables.netted_payments
            used |= set(netted["_row"].tolist()) | set(netted["nets_row"].tolist())
        rej = set(rejected["row"].tolist())
        assert not used & rej, name
        assert used | rej == set(range(1, n + 1)), name
        assert loaded.rows_rejected[name] == len(rej), name


def _sheet_rows(draw_rows, header):
    return [header] + draw_rows


@FAST
@given(titles=st.lists(st.lists(cell_text, max_size=2), max_size=3),
       sheets=st.lists(st.lists(st.lists(cell_value, min_size=8, max_size=8), max_size=4),
                       min_size=1, max_size=3),
       with_header=st.lists(st.booleans(), min_size=3, max_size=3),
       blank_rows=st.integers(0, 2))
def test_any_sheet_layout(tmp_path_factory, titles, sheets, with_header, blank_rows):
    import openpyxl

    folder = tmp_path_factory.mktemp("xlsx")
    _folder(folder, b"")
    (folder / "payments.csv").unlink()
    book = openpyxl.Workbook()
    book.remove(book.active)
    for i, rows in enumerate(sheets):
        sheet = book.create_sheet(f"S{i}")
        for title in titles:
            sheet.append([_xlsx_safe(v) for v in title])
        for _ in range(blank_rows):
            sheet.append([])
        if with_header[i]:
            sheet.append(PAY_COLUMNS)
        for row in [list(pay_row(A, "2024-01").values())] + rows:
            sheet.append([_xlsx_safe(v) for v in row])
    book.save(folder / "payments.xlsx")
    try:
        frame = read_input(folder / "payments.xlsx", "payments")
        table, rejected = normalise("payments", frame, "payments.xlsx")
    except UserInputError:
        return
    _accounted(table, rejected, len(frame))
    try:
        loaded = load_inputs(folder)
    except UserInputError:
        return
    _load_accounted(loaded)


def _xlsx_safe(value):
    """openpyxl refuses control characters and naive datetimes before 1900 in cells; a
    clerk's workbook cannot hold them either."""
    import re

    if isinstance(value, str):
        return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", value)
    if isinstance(value, dt.datetime) and value.year < 1900:
        return None
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if isinstance(value, int) and abs(value) > 2**53:
        return float(value)
    return value


@FAST
@given(column=st.sampled_from(["coverage_type", "care_level"]), cell=cell_value)
def test_any_coverage_type_or_care_level_cell_is_used(column, cell):
    # category cells are never a reason to drop an approval: unknown values stay as written
    # (the eligibility checks count them in summary.json as unmapped and do not judge them)
    rows = [roster_row(A, coverage_type="单人保", care_level="全自理"),
            roster_row(B, coverage_type="", care_level="")]
    frame = pd.DataFrame(rows, dtype=object)
    frame.loc[1, column] = cell
    try:
        table, rejected = normalise("roster", frame, "roster.xlsx")
    except UserInputError:
        return
    _accounted(table, rejected, 2)
    assert table["coverage_type"].iloc[0] == "single"


def test_every_schema_column_kind_is_fuzzed():
    # the property tests above cover the payments and roster columns; a new column kind
    # added to the schemas should be fuzzed too
    kinds = {c.kind for name in ("payments", "roster") for c in SCHEMAS[name][1]}
    assert kinds <= {"id", "str", "program", "month", "number", "date", "bool", "sub_type",
                     "account", "coverage_type", "care_level"}
