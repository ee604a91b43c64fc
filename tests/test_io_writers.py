"""The output writers' fast paths give the bytes of the general ones: ``write_csv`` joins
cells with Arrow instead of ``DataFrame.to_csv``, and the xlsx cell XML is joined by Arrow
in one pass instead of column-by-column pandas concatenation. Awkward cells: blanks, None
and NaN, Chinese text, formula-looking text, quotes, commas, line breaks, 15- and 18-digit
IDs with a lowercase x, odd floats."""

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.io import _XML_INVALID, _xlsx_cells, csv_bytes, write_csv, write_xlsx

AWKWARD_TEXT = ["", "中文 姓名", "=1+1", "+86", "-338.00", "@x", "a,b", 'say "hi"', "two\nlines",
                "car\rreturn", "\ttab", " lead", "350581198001010035", "35058119800101003x",
                "350581800101003", "&<>", "ctl\x01char", "'quoted", "x" * 300, "1.0"]
AWKWARD_FLOATS = [1.0, np.nan, -0.0, 1e16, 1e-5, 0.1 + 0.2, 123456789.125, 3.0, 1e300,
                  -338.0, np.inf, -np.inf, 0.0, 4608.0, 1234.5, 5e-324, 2.5e15, 0.01,
                  99999999999.99, 7.0]


def _frame():
    n = len(AWKWARD_TEXT)
    text = pd.Series(AWKWARD_TEXT, dtype="str")
    return pd.DataFrame({
        "text": text,
        "text_na": text.where(np.arange(n) % 3 != 0),
        "object": pd.Series([None if i % 4 == 0 else t for i, t in enumerate(AWKWARD_TEXT)],
                            dtype=object),
        "float": AWKWARD_FLOATS,
        "int": np.arange(n, dtype=np.int64) * -7,
        "Int64": pd.array([None if i % 5 == 0 else i for i in range(n)], dtype="Int64"),
        "bool": np.arange(n) % 2 == 0,
        "问题,描述": text[::-1].to_numpy(),
    })


def test_csv_bytes_are_to_csvs(tmp_path):
    frame = _frame()
    assert bytes(csv_bytes(frame)) == frame.to_csv(index=False).encode("utf-8")
    assert bytes(csv_bytes(frame.iloc[:0])) == frame.iloc[:0].to_csv(index=False).encode()
    for col in frame.columns:  # each column type on its own (beside a plain column)
        sub = frame[[col, "int"]]
        assert bytes(csv_bytes(sub)) == sub.to_csv(index=False).encode("utf-8"), col
    for rows in (1, 3, 7, 1000):  # written a few rows at a time: the same bytes
        assert csv_bytes(frame, chunk_rows=rows) == frame.to_csv(index=False).encode()


def test_csv_bytes_of_other_number_types_are_to_csvs():
    frame = pd.DataFrame({
        "float32": np.array([0.1, 1e-7, np.nan, 3.0], dtype=np.float32),
        "uint64": np.array([2**64 - 1, 0, 1, 7], dtype=np.uint64),
        "UInt64": pd.array([2**64 - 1, None, 0, 1], dtype="UInt64"),
        "Int8": pd.array([-128, None, 127, 0], dtype="Int8"),
        "int32": np.array([-1, 0, 2**31 - 1, 5], dtype=np.int32),
    })
    assert csv_bytes(frame) == frame.to_csv(index=False).encode()


def test_write_csv_is_to_csv_of_the_formula_safe_frame(tmp_path):
    from jiuzhu_sim.io import formula_safe

    frame = _frame()
    write_csv(frame, tmp_path / "fast.csv")
    formula_safe(frame).to_csv(tmp_path / "pandas.csv", index=False, encoding="utf-8-sig")
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert "'=1+1" in (tmp_path / "fast.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"only": ["", "a"]}),                       # a lone empty field is quoted
    pd.DataFrame({"d": pd.to_datetime(["2024-01-01", None]), "x": [1, 2]}),
    pd.DataFrame({"mixed": ["a", 1], "x": [1, 2]}),
    pd.DataFrame({"c": pd.Categorical(["a", "b"]), "x": [1, 2]}),
])
def test_csv_bytes_declines_what_it_does_not_cover_and_write_csv_still_writes(tmp_path, frame):
    assert csv_bytes(frame) is None
    write_csv(frame, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == b"\xef\xbb\xbf" + frame.to_csv(
        index=False).encode("utf-8")


def _general_xlsx_cells(values: pd.Series, letter: str, row_numbers: pd.Series, kind: str = "",
                style: int = 0) -> pd.Series:
    """One column's ``<c>`` elements (numbers as numbers, the rest as inline strings; blank
    cells empty), vectorised. ``kind`` "text" writes numbers as text; "date" writes dates as
    Excel serial days (text that is not a date stays text); ``style`` is the cellXfs index."""
    ref = '<c r="' + letter + row_numbers
    close = f'" s="{style}">' if style else '">'  # one scalar: no extra column-wide concat
    if kind == "date":
        days = ((pd.to_datetime(values, errors="coerce", format="ISO8601")
                 - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)).to_numpy()
        is_date = ~np.isnan(days)
        if is_date.any():
            text = _general_xlsx_cells(values.where(~is_date, ""), letter, row_numbers, "text", style)
            serial = pd.Series(np.where(is_date, days, 0).astype("int64").astype(str),
                               dtype="str")
            return text.where(~is_date, ref + (close + "<v>") + serial + "</v></c>")
        kind = "text"
    numeric = (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))
    if numeric and kind != "text":
        number = values.to_numpy(dtype="float64", na_value=np.nan)
        text = pd.Series(np.where(np.isnan(number), "", values.astype(str).to_numpy(
            dtype=object)), dtype="str")
        cells = ref + (close + "<v>") + text + "</v></c>"
        return cells.where(text != "", "")
    text = pd.Series(values.to_numpy(dtype=object), dtype="str").fillna("")
    if numeric:  # numbers written as text: no "1.0" for an integer code
        number = values.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(number) & (number == np.round(number))
        text = text.where(~whole, pd.Series(np.where(whole, number, 0).astype("int64"),
                                            dtype="str")).where(~np.isnan(number), "")
    if text.str.contains(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]", regex=True).any():
        text = (text.str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False)
                .str.replace(">", "&gt;", regex=False)
                .str.replace(_XML_INVALID, "", regex=True))
    inline = close[:-1] + ' t="inlineStr"><is><t xml:space="preserve">'
    cells = ref + inline + text + "</t></is></c>"
    return cells.where(text != "", "")



@pytest.mark.parametrize("kind", ["", "text", "date", "wrap", "amount", "integer"])
def test_xlsx_cells_are_the_general_paths(kind):
    frame = _frame()
    frame["dates"] = pd.Series(["2024-07-30", "", "not a date", "2024-02-30", "1900-01-01",
                                "2024/1/5", "=1+1"] + [""] * (len(frame) - 7), dtype="str")
    numbers = pd.Series(np.arange(2, len(frame) + 2).astype(str), dtype="str")
    for col in frame.columns:
        values = frame[col]
        if kind == "date" and not pd.api.types.is_string_dtype(values):
            continue  # dates are text columns (pd.to_datetime reads numbers as epochs)
        fast = _xlsx_cells(values, "C", numbers, kind, 3)
        general = _general_xlsx_cells(values, "C", numbers, kind, 3)
        assert fast.tolist() == general.tolist(), col


def test_xlsx_sheet_xml_is_the_general_paths(tmp_path):
    import zipfile

    frame = _frame()
    write_xlsx(tmp_path / "a.xlsx", {"s": frame}, chunk_rows=7)
    xml = zipfile.ZipFile(tmp_path / "a.xlsx").read("xl/worksheets/sheet1.xml").decode()
    numbers = pd.Series(np.arange(2, len(frame) + 2).astype(str), dtype="str")
    rows = '<row r="' + numbers + '">'
    for j, col in enumerate(frame.columns):
        rows = rows + _general_xlsx_cells(frame[col], "ABCDEFGH"[j], numbers, "", 7)
    assert "".join(rows + "</row>") in xml


def test_float_text_is_numpys_str():
    from jiuzhu_sim.io import float_text

    rng = np.random.default_rng(5)
    cents = rng.integers(-10**15, 10**15, 20_000) / 100
    small = rng.integers(-10**6, 10**6, 20_000) / 100
    noise = rng.normal(0, 1e6, 5000)
    tiny = rng.normal(0, 1e-3, 1000)
    odd = np.array(AWKWARD_FLOATS + [0.005, 0.015, 1e13, 9999999999999.99, -1e-4, 1e-4,
                                     123.456, 0.1 + 0.7, 1e15 + 0.5, 2**53, -2**53, 0.01,
                                     -0.01, 0.09999999999999999, np.nextafter(0.01, 1)])
    values = np.concatenate([cents, small, noise, tiny, odd])
    expected = np.where(np.isnan(values), "", values.astype(str)).tolist()
    assert float_text(values).to_pylist() == expected
    assert float_text(np.array([], dtype=float)).to_pylist() == []


def test_formula_safe_first_byte_screen_agrees_with_the_general_path():
    """``formula_safe`` skips an Arrow text column whose cells' first bytes show no formula
    start; a risky cell anywhere (a later chunk, after a null, after a multi-byte Chinese
    cell) still gets its ``'`` — compared with the plain ``str.startswith`` rule."""
    import pyarrow as pa

    from jiuzhu_sim.io import FORMULA_STARTS, _no_formula_start, formula_safe

    safe = ["张三", "", "350581198001010035", "a=b", "中=1"]
    assert _no_formula_start(pd.Series(safe, dtype="str"))
    assert _no_formula_start(pd.Series([], dtype="str"))
    for risky in ("=1+1", "@x", "\ttab", "-张三"):
        chunked = pa.chunked_array([pa.array(safe, pa.large_string()),
                                    pa.array([None, risky], pa.large_string())])
        series = pd.Series(pd.arrays.ArrowStringArray(chunked))
        assert not _no_formula_start(series)
        out = formula_safe(pd.DataFrame({"c": series}))["c"]
        want = ["'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
                for v in [*safe, None, risky]]
        assert [None if pd.isna(v) else v for v in out] == [
            None if v is None else v for v in want]
    assert not _no_formula_start(pd.Series(["=x"], dtype=object))  # not Arrow: general path


def test_sha256_file_is_hashlibs_digest_of_the_bytes(tmp_path):
    """The manifest's file digest (read through one reused buffer): the SHA-256 of the
    whole content, for an empty file, a file shorter than the buffer and one spanning it."""
    import hashlib

    from jiuzhu_sim.manifest import sha256_file

    for size in (0, 10, (1 << 20) + 7):
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        path = tmp_path / f"f{size}"
        path.write_bytes(data)
        assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_any_byte_reads_only_the_cells_of_a_slice():
    """any_byte looks at the bytes of the array's own cells: a slice of ['a"b', 'cd', 'e&f']
    without the first and last cells holds neither '"' nor '&' (though its data buffer
    does); the whole array holds both — with a short character set (compared in place) and
    a long one (translated)."""
    import pyarrow as pa

    from jiuzhu_sim.io import _XML_SPECIAL, any_byte

    for kind in (pa.string(), pa.large_string()):
        arr = pa.array(['a"b', "cd", "e&f"], type=kind)
        assert any_byte(arr, b'"') and any_byte(arr, _XML_SPECIAL)
        assert not any_byte(arr.slice(1, 1), b'"') and not any_byte(arr.slice(1, 1), _XML_SPECIAL)
        assert any_byte(arr.slice(1, 2), _XML_SPECIAL) and not any_byte(arr.slice(1, 2), b'"')
        assert not any_byte(pa.array([], type=kind), b'"')


# --- Arrow's CSV writer (simulate's outputs, synth population) ----------------------------


def _arrow_reference(frame) -> bytes:
    """The bytes of Arrow's own writer, default options, on the formula-safe frame: what
    write_csv_arrow wrote before it sliced, batched or retyped anything."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from jiuzhu_sim.io import formula_safe

    sink = pa.BufferOutputStream()
    pacsv.write_csv(pa.Table.from_pandas(formula_safe(frame), preserve_index=False), sink,
                    pacsv.WriteOptions(quoting_style="needed"))
    return b"\xef\xbb\xbf" + sink.getvalue().to_pybytes()


def test_whole_doubles_are_written_as_arrow_writes_them():
    """The premise of writing whole float64 columns as int64: below 1e10 in magnitude Arrow
    formats a whole double with the characters of the integer, and from 1e10 up it does not
    (1e+10), which is why the bound exists."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from jiuzhu_sim.io import CSV_WHOLE_DOUBLE_BELOW

    rng = np.random.default_rng(7)
    edges = [0.0, 1.0, -1.0, 9.0, 10.0, 99.0, 100.0, 941.0, 1e6, 999_999_999.0, 1e9,
             2.0 ** 31, 9_999_999_999.0, -9_999_999_999.0]
    values = np.concatenate([
        edges, np.arange(-100_000, 100_000, dtype=float),
        np.rint(rng.uniform(-CSV_WHOLE_DOUBLE_BELOW, CSV_WHOLE_DOUBLE_BELOW, 200_000))])
    values = values[np.abs(values) < CSV_WHOLE_DOUBLE_BELOW]
    as_double = pc.cast(pa.array(values), pa.string())
    as_int = pc.cast(pa.array(values.astype(np.int64)), pa.string())
    assert as_double.equals(as_int)
    assert pc.cast(pa.array([CSV_WHOLE_DOUBLE_BELOW]), pa.string())[0].as_py() == "1e+10"


def test_write_csv_arrow_is_arrows_writer_whatever_the_numbers(tmp_path):
    """Columns retyped (whole numbers, with and without blanks) and columns left as they are
    (a fraction, -0.0, 1e10, infinity): every byte is Arrow's default writer's."""
    from jiuzhu_sim.io import write_csv_arrow

    n = 300
    i = np.arange(n, dtype=float)
    frame = pd.DataFrame({
        "whole": i * 7 - 500,                      # retyped: whole, negative and positive
        "whole_gaps": np.where(i % 4 == 0, np.nan, i),  # retyped: blanks stay blank
        "cents": i / 100 + 0.01,                   # kept: fractions
        "negative_zero": np.where(i == 3, -0.0, i),  # kept: Arrow writes -0
        "big": np.where(i == 5, 1e10, i),          # kept: Arrow writes 1e+10
        "infinite": np.where(i == 8, np.inf, i),   # kept: Arrow writes inf
        "all_blank": np.full(n, np.nan),
        "text": [f"=x{k}" if k % 9 == 0 else "中文" for k in range(n)],
        "flag": i % 2 == 0,
    })
    path = write_csv_arrow(frame, tmp_path / "f.csv")
    assert path.read_bytes() == _arrow_reference(frame)
    text = path.read_text(encoding="utf-8-sig")
    assert "\n-500," in text and "-0," in text and "1e+10," in text and "inf," in text


@pytest.mark.parametrize("parts", [2, 3])
def test_write_csv_arrow_in_many_slices_is_one_pass(tmp_path, monkeypatch, parts):
    """Slices smaller than a batch and than the window of slices in flight (7 rows each,
    145 of them): written in order, header once, the bytes of Arrow's own one pass."""
    import jiuzhu_sim.io as io

    monkeypatch.setattr(io, "CSV_SLICE_ROWS", 7)
    monkeypatch.setattr(io, "CSV_WRITE_BATCH_ROWS", 5)
    n = 1011
    frame = pd.DataFrame({"k": np.arange(n), "x": np.arange(n) * 0.25,
                          "t": [f'a"{k}' if k % 5 == 0 else f"r{k}" for k in range(n)]})
    path = io.write_csv_arrow(frame, tmp_path / "f.csv", parts=parts)
    assert path.read_bytes() == _arrow_reference(frame)
    assert path.read_text(encoding="utf-8-sig").splitlines()[1:4] == [
        '0,0,"a""0"', '1,0.25,"r1"', '2,0.5,"r2"']


# --- write_csv_arrow: an empty table, a full disk --------------------------------------


def test_an_empty_table_is_the_header(tmp_path):
    """No rows: the BOM and the header line, as Arrow's one pass writes them (Arrow quotes
    the names)."""
    from jiuzhu_sim.io import write_csv_arrow

    frame = pd.DataFrame({"k": np.zeros(0, dtype=np.int64), "x": np.zeros(0),
                          "t": pd.Series([], dtype="str")})
    assert write_csv_arrow(frame, tmp_path / "f.csv").read_bytes() == _arrow_reference(frame)
    assert (tmp_path / "f.csv").read_bytes() == '\ufeff"k","x","t"\n'.encode()


@pytest.mark.parametrize("parts", [1, 2])
def test_a_full_disk_is_an_error_naming_the_file(parts):
    """/dev/full refuses every write with ENOSPC, as a full disk does: the OSError that
    comes out of Arrow's writer (one pass, or slices on threads) names the file."""
    import errno
    import os

    from jiuzhu_sim.io import write_csv_arrow

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    frame = pd.DataFrame({"k": np.arange(300_000), "t": ["中文"] * 300_000})
    with pytest.raises(OSError) as caught:
        write_csv_arrow(frame, "/dev/full", parts=parts)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == "/dev/full"


def test_the_general_writer_on_a_full_disk_names_the_file_and_leaves_no_half(tmp_path,
                                                                             monkeypatch):
    """write_csv (the audit's outputs): the disk fills after the first piece — the error
    names the file and the half-written file is gone; on /dev/full (a device, not a file)
    the error names it and the device stays."""
    import errno
    import os

    import jiuzhu_sim.io as io

    frame = pd.DataFrame({"k": np.arange(10), "t": ["中文"] * 10})

    def parts_then_full(safe):
        def parts():
            yield b"k,t\n0,x\n"
            raise OSError(errno.ENOSPC, "No space left on device")
        return parts()

    monkeypatch.setattr(io, "csv_parts", parts_then_full)
    with pytest.raises(OSError) as caught:
        io.write_csv(frame, tmp_path / "findings.csv")
    assert (caught.value.errno, caught.value.filename) == (errno.ENOSPC,
                                                           str(tmp_path / "findings.csv"))
    assert not (tmp_path / "findings.csv").exists()
    monkeypatch.undo()
    if os.path.exists("/dev/full"):
        with pytest.raises(OSError) as caught:
            io.write_csv(frame, "/dev/full")
        assert caught.value.filename == "/dev/full" and os.path.exists("/dev/full")
