"""The reader's fast paths (Arrow buffers and kernels instead of pandas string methods and
object round trips) give what the general paths give, on awkward cells: blanks, Chinese
text, formula-looking text, 15- and 18-digit IDs, a lowercase x, full-width digits,
invisible characters, quotes, numbers written out."""

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.audit import io as audit_io
from jiuzhu_sim.audit.io import (
    _ACCOUNT_NOISE,
    _INVISIBLE,
    _account_numbers,
    _canonical_ids,
    _fast_float,
    _other_ids,
    _resident_ids,
    _resident_ids_general,
    _text,
    refuse_numeric_ids,
)
from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.io import _arrow_text

ID = "350581198001010035"
IDS = [ID, "", "35058119800101003x", "35058119800101003X", "350581800101003",
       "３５０５８１１９８００１０１００３５", " 350581198001010035", "350581-19800101003X",
       "3505811980010100\u200b35", "'350581198001010035", "abc", "=1+1", "中文", "1" * 17,
       "1" * 19, "3.50581199005E+17", "35058119800101003Ｘ", "x" * 18, "35058119800101003 ",
       "35058119800101003x\ufeff", "+86", "-1"]


def _series(cells):
    return pd.Series(cells, dtype="str")


@pytest.mark.parametrize("cells", [IDS, IDS[:1] * 5, [ID, "35058119800101003x"] * 3,
                                   [ID, ""], [""] * 3, ["350581800101003"] * 2,
                                   [ID.lower()[:-1] + "x"] * 4, []])
def test_resident_ids_fast_path_is_the_general_path(cells):
    fast, changed = _resident_ids(_series(cells))
    general, general_changed = _resident_ids_general(_series(cells))
    assert fast.tolist() == general.tolist()
    assert changed == general_changed
    assert fast.dtype == general.dtype


def test_resident_ids_fast_path_on_a_slice_of_a_bigger_column():
    column = _series(IDS * 3).iloc[5:40]
    fast, changed = _resident_ids(column)
    general, general_changed = _resident_ids_general(column)
    assert fast.tolist() == general.tolist() and changed == general_changed
    assert list(fast.index) == list(column.index)


def test_canonical_ids_read_off_the_bytes():
    cells = [ID, "35058119800101003X", "35058119800101003x", "", "35058119800101003",
             "3505811980010100355", "35058119800101003Ｘ", "3505811980010100/5",
             "35058119800101003:"]
    got = _canonical_ids(_arrow_text(_series(cells)))
    assert got.tolist() == [True, True, False, True, False, False, False, False, False]
    same_width = [ID, "35058119800101003X", "35058119800101003x", "3505811980010100/5"]
    assert _canonical_ids(_arrow_text(_series(same_width))).tolist() == [True, True, False,
                                                                         False]


def _other_ids_general(text):
    text = text.str.upper()
    odd = text.str.contains(_INVISIBLE, regex=True).fillna(False).to_numpy(dtype=bool)
    if not odd.any():
        return text, 0
    fixed = text[odd].str.replace(_INVISIBLE, "", regex=True).str.strip()
    text = text.astype(object)
    text[odd] = fixed.to_numpy(dtype=object)
    return pd.Series(text, dtype="str"), int(odd.sum())


def _account_numbers_general(text):
    odd = ~text.str.fullmatch(r"[0-9A-Za-z]*").fillna(False).to_numpy(dtype=bool)
    if not odd.any():
        return text, 0
    fixed = text[odd].str.normalize("NFKC").str.replace(_ACCOUNT_NOISE, "", regex=True)
    changed = int((fixed != text[odd]).sum())
    text = text.astype(object)
    text[odd] = fixed.to_numpy(dtype=object)
    return pd.Series(text, dtype="str"), changed


CODES = ["H3505810000001", "h3505810000001", "", "350581", "PAY350581000000001",
         "'350581", "`H1", "H-1\u200b", "\u3000350581", "中文户", "=1+1", "x'y", "ı1"]


@pytest.mark.parametrize("cells", [CODES, CODES[:1] * 3, ["350581", ""], ["h1", "h2"],
                                   ["'1"], []])
def test_other_ids_fast_path_is_the_general_path(cells):
    fast, changed = _other_ids(_series(cells))
    general, general_changed = _other_ids_general(_series(cells))
    assert fast.tolist() == general.tolist() and changed == general_changed


ACCOUNTS = ["6217274420629888785", "", "6217 2744 2062", "6217-2744", "'6217",
            "６２１７", "abcXYZ09", "=1+1", "中文", "6217\u200b2744"]


@pytest.mark.parametrize("cells", [ACCOUNTS, ACCOUNTS[:1] * 3, ["", "1"], ["a b"]])
def test_account_numbers_fast_path_is_the_general_path(cells):
    fast, changed = _account_numbers(_series(cells))
    general, general_changed = _account_numbers_general(_series(cells))
    assert fast.tolist() == general.tolist() and changed == general_changed


@pytest.mark.parametrize("cell", ["3.50581199005E+17", "350581199005123456.0",
                                  "3.5e17", "350581199005.5"])
def test_ids_stored_as_numbers_are_refused_on_both_paths(cell):
    cells = [ID, "35058119800101003X", "", cell, "中文"]
    for series in (_series(cells), pd.Series(cells, dtype=object)):
        with pytest.raises(UserInputError, match="stored as a number") as err:
            refuse_numeric_ids(series, "person_id", "roster.csv", np.arange(1, 6))
        assert err.value.row == 4


def test_ids_that_only_look_odd_are_not_refused():
    cells = [ID, "35058119800101003X", "35058119800101003x", "", "E1", "1.5", "中文.e",
             "=1+1"]
    refuse_numeric_ids(_series(cells), "person_id", "f.csv", np.arange(1, len(cells) + 1))


@pytest.mark.parametrize("cells", [[" a ", "b", "\u3000c", "中文 ", "", "=1+1", "x\t"],
                                   ["a", "b"], ["", ""]])
def test_text_strips_as_pandas_does(cells):
    for dtype in ("str", "string", object):
        series = pd.Series(cells, dtype=dtype)
        assert _text(series).tolist() == pd.Series(cells, dtype="str").str.strip().tolist()


def test_fast_float_reads_arrow_text_as_the_object_path():
    cells = ["775.0", "1e3", "-338", "nan", "", "1,200", "中文", "inf"]
    text = _series(cells)
    got = _fast_float(text)
    clean = _series(["775.0", "1e3", "-338", "nan"])
    assert np.array_equal(_fast_float(clean), np.array([775.0, 1000.0, -338.0, np.nan]),
                          equal_nan=True)
    expected = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64",
                                                             na_value=np.nan)
    assert np.array_equal(got, expected, equal_nan=True)


def test_reader_gives_arrow_large_string_columns(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text("person_id,name\n" + f"{ID},中文\n" * 3, encoding="utf-8")
    frame = audit_io.read_input(path)
    arr = frame["person_id"].array._pa_array
    assert str(arr.type) == "large_string"
    assert frame["name"].tolist() == ["中文"] * 3


def test_lower_or_wide_on_chunked_columns_with_the_max_byte_shortcut():
    import pyarrow as pa

    from jiuzhu_sim.audit.io import _lower_or_wide, _max_byte

    chunks = [[ID, "H1"], [], ["", "PAY1"], [ID[:-1] + "x", "中文"], ["`'~{"]]
    arr = pa.chunked_array([pa.array(c, pa.large_string()) for c in chunks])
    assert _max_byte(arr) == max(b for c in chunks for t in c for b in t.encode())
    assert _lower_or_wide(arr).tolist() == [False, False, False, False, True, True, False]
    plain = pa.chunked_array([pa.array(c, pa.large_string()) for c in chunks[:3]])
    assert _max_byte(plain) < ord("a") and not _lower_or_wide(plain).any()
    assert _max_byte(pa.chunked_array([], pa.large_string())) == 0
