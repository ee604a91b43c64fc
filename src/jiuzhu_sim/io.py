"""Reading tables (CSV in UTF-8 / BOM / GB18030, xlsx, Parquet) and writing outputs.

Shared by the simulation and the audit halves. Type checking of columns happens here too,
in two modes: ``strict`` (simulation: the first bad cell stops the run with a one-line
error naming file, row and column) and rejecting (audit: bad rows are returned as a
rejected frame with file, row, column and reason, nothing is silently dropped).
"""

from __future__ import annotations

import hashlib
import io as _io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from jiuzhu_sim.exceptions import UserInputError

SUFFIXES = (".parquet", ".csv", ".xlsx")
REJECTED_COLUMNS = ["file", "row", "column", "reason"]

TRUE_WORDS = {"true", "t", "1", "yes", "y", "是", "有", "1.0"}
FALSE_WORDS = {"false", "f", "0", "no", "n", "否", "无", "0.0", ""}


def find_input(folder: Path | str, base: str, required: bool = True) -> Path | None:
    """The file named ``base`` with a known suffix in ``folder`` (Parquet, CSV, xlsx)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserInputError("input folder not found", file=str(folder))
    for suffix in SUFFIXES:
        candidate = folder / f"{base}{suffix}"
        if candidate.is_file():
            return candidate
    if required:
        raise UserInputError(f"required input '{base}' not found (looked for "
                             f"{', '.join(base + s for s in SUFFIXES)})", file=str(folder))
    return None


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_encoding(raw: bytes) -> str:
    """utf-8-sig for UTF-8 with or without BOM; gb18030 (a superset of GBK) otherwise."""
    try:
        raw.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise UserInputError("file is neither UTF-8 nor GB18030/GBK text") from None


def read_table(path: Path | str, string_columns: Sequence[str] = (),
               rename: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a CSV/xlsx/Parquet file. IDs and codes in ``string_columns`` stay strings.

    ``rename`` maps alternative headers (e.g. Chinese 身份证号) to contract names; headers
    are stripped of spaces and BOMs before mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError("file not found", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=object, engine="openpyxl")
        elif suffix == ".csv":
            raw = path.read_bytes()
            encoding = detect_encoding(raw)
            text = raw.decode(encoding)
            frame = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False,
                                na_values=[], skipinitialspace=True)
        else:
            raise UserInputError(f"unsupported file type {suffix!r} (csv, xlsx, parquet)",
                                 file=str(path))
    except UserInputError as exc:
        if exc.file is None:
            raise UserInputError(exc.reason, file=str(path)) from None
        raise
    except Exception as exc:  # a malformed file is a user mistake: one line, no traceback
        raise UserInputError(f"cannot read file ({type(exc).__name__}: {exc})".split("\n")[0],
                             file=str(path)) from None
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    if rename:
        frame = frame.rename(columns={c: rename[c] for c in frame.columns if c in rename})
    dup = frame.columns[frame.columns.duplicated()]
    if len(dup):
        raise UserInputError("duplicate column", file=str(path), column=str(dup[0]))
    for col in string_columns:
        if col in frame.columns:
            frame[col] = _as_id_string(frame[col])
    return frame


def _as_id_string(series: pd.Series) -> pd.Series:
    """IDs as strings: floats like 350581.0 from Excel lose their '.0'; blanks become ''."""
    if pd.api.types.is_float_dtype(series):
        out = series.map(lambda x: "" if pd.isna(x) else (str(int(x)) if float(x).is_integer() else str(x)))
    else:
        out = series.astype(object).map(lambda x: "" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x))
    return out.str.strip().astype(object)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], file: str) -> None:
    for col in columns:
        if col not in frame.columns:
            raise UserInputError("required column is missing", file=file, column=col)


# --- typed columns -------------------------------------------------------------------


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def to_numeric(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64, mask of cells that are not numbers). Blank counts as bad."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return values, np.isnan(values)
    text = series.astype(str).str.strip().str.replace(",", "", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return values, np.isnan(values)


def to_bool(series: pd.Series, blank: bool | None = False) -> tuple[np.ndarray, np.ndarray]:
    """(values as bool, mask of cells that are not booleans). Blank → ``blank`` (None = bad)."""
    if pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=bool, na_value=False)
        return values, np.zeros(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series):
        arr = series.to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isin(arr, (0.0, 1.0))
        if blank is not None:
            bad &= ~np.isnan(arr)
        return arr == 1.0, bad
    text = series.astype(str).str.strip().str.lower()
    is_true = text.isin(TRUE_WORDS).to_numpy()
    is_false = text.isin(FALSE_WORDS).to_numpy()
    if blank is None:
        is_false &= (text != "").to_numpy()
    elif blank:
        is_true |= (text == "").to_numpy()
    return is_true, ~(is_true | is_false)


def strict_numeric(frame: pd.DataFrame, column: str, file: str, *, minimum: float | None = None,
                   integer: bool = False, default: float | None = None) -> np.ndarray:
    """A numeric column; the first bad cell raises a one-line error (row is 1-based)."""
    if column not in frame.columns:
        if default is not None:
            return np.full(len(frame), default, dtype="float64")
        raise UserInputError("required column is missing", file=file, column=column)
    values, bad = to_numeric(frame[column])
    if bad.any():
        i = _first_bad(bad)
        raise UserInputError(f"not a number: {frame[column].iloc[i]!r}", file=file, row=i + 1,
                             column=column)
    if minimum is not None and (values < minimum).any():
        i = _first_bad(values < minimum)
        raise UserInputError(f"must be ≥ {minimum:g}, got {values[i]:g}", file=file, row=i + 1,
                             column=column)
    if integer and (np.floor(values) != values).any():
        i = _first_bad(np.floor(values) != values)
        raise UserInputError(f"must be a whole number, got {values[i]:g}", file=file, row=i + 1,
                             column=column)
    return values


def strict_bool(frame: pd.DataFrame, column: str, file: str,
                default: bool | None = None) -> np.ndarray:
    if column not in frame.columns:
        if default is not None:
            return np.full(len(frame), default, dtype=bool)
        raise UserInputError("required column is missing", file=file, column=column)
    values, bad = to_bool(frame[column])
    if bad.any():
        i = _first_bad(bad)
        raise UserInputError(f"not a boolean (true/false, 1/0, 是/否): {frame[column].iloc[i]!r}",
                             file=file, row=i + 1, column=column)
    return values


def rejected_frame(rows: Sequence[dict] | None = None) -> pd.DataFrame:
    return pd.DataFrame(list(rows or []), columns=REJECTED_COLUMNS)


def write_table(frame: pd.DataFrame, path: Path | str, fmt: str = "csv") -> Path:
    """Write CSV (UTF-8 with BOM so Excel shows Chinese) or Parquet; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        path = path.with_suffix(".parquet")
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path
