"""Masking of personal data in rendered reports (CONTRACT §7).

Which columns hold personal data is decided by the column's name (:func:`column_kind`):
the resident-ID and name columns of the inputs (CONTRACT §5), their Chinese headers, and
the variants that joins and linkage give them — ``person_id_left``, ``name_right``,
``guardian_person_id``, ``工作人员姓名``. Free text of the ``col=value; col=value`` form
(``findings_evidence.csv``'s ``key_fields``) is masked field by field with the same rule.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

ID_COLUMNS = ("person_id", "account_holder_id", "relative_id", "guardian_id", "staff_id",
              "身份证号")
NAME_COLUMNS = ("name", "staff_name", "姓名")

PAIR_SUFFIXES = ("_left", "_right", "_l", "_r", "_x", "_y", "_written", "_true")
"""Suffixes a join or a linkage adds to a column (pandas' ``_x``/``_y``, splink's ``_l``/``_r``,
linkage's ``_left``/``_right``, truth_linkage's ``_written``/``_true``)."""

ID_MARKERS = ("身份证", "身份号码", "证件号")
"""A Chinese header containing one of these holds a resident ID (身份证号码, 监护人身份证号)."""

NOT_PERSON_NAMES = ("region_name", "region_name_en", "file_name", "sheet_name", "check_name",
                    "program_name", "column_name", "parameter_name")
"""``*_name`` columns that name no person."""


def _base(column: str) -> str:
    for suffix in PAIR_SUFFIXES:
        if column.endswith(suffix) and len(column) > len(suffix):
            return column[: -len(suffix)]
    return column


def column_kind(column: object) -> str | None:
    """``"id"``, ``"name"`` or None: what personal data a column of this name holds.

    An ID column is one of :data:`ID_COLUMNS`, or ends in one (``guardian_person_id``), or
    is a Chinese header with a :data:`ID_MARKERS` word; a name column likewise with
    :data:`NAME_COLUMNS` and ``*_name`` (but not :data:`NOT_PERSON_NAMES`) or ``…姓名``.
    Either may carry a join suffix (:data:`PAIR_SUFFIXES`): ``person_id_left``."""
    base = _base(str(column))
    if (base in ID_COLUMNS or any(base.endswith("_" + c) for c in ID_COLUMNS)
            or any(m in base for m in ID_MARKERS)):
        return "id"
    if base in NOT_PERSON_NAMES:
        return None
    if base in NAME_COLUMNS or base.endswith("_name") or base.endswith("姓名"):
        return "name"
    return None


def _text(values) -> pd.Series:
    series = pd.Series(values, dtype=object).reset_index(drop=True)
    return series.where(series.notna(), "").astype(str)


def mask_ids(values) -> pd.Series:
    """Each ID with only its first six and last four characters kept
    (350581199001011234 → 350581********1234); ten characters or fewer become all ``*``
    (vectorised)."""
    text = _text(values)
    if len(text) == 0:
        return pd.Series([], dtype=object)
    length = text.str.len().to_numpy(dtype=np.int64)
    long = length > 10
    stars = np.char.multiply(np.full(len(text), "*", dtype="U1"),
                             np.where(long, length - 10, length))
    head = np.where(long, text.str[:6].to_numpy(dtype=str), "")
    tail = np.where(long, text.str[-4:].to_numpy(dtype=str), "")
    return pd.Series(np.char.add(np.char.add(head, stars), tail).astype(object))


def mask_names(values) -> pd.Series:
    """Each name with its first character kept (张三丰 → 张**); one character → ``*``
    (vectorised)."""
    text = _text(values)
    length = text.str.len().to_numpy(dtype=np.int64)
    if len(text) == 0:
        return pd.Series([], dtype=object)
    head = np.where(length > 1, text.str[:1].to_numpy(dtype=str), "")
    stars = np.char.multiply(np.full(len(text), "*", dtype="U1"),
                             np.where(length > 1, length - 1, length))
    return pd.Series(np.char.add(head, stars).astype(object))


def mask_id(value: object) -> str:
    """350581199001011234 → 350581********1234 (first six and last four kept)."""
    return str(mask_ids([value]).iloc[0])


def mask_name(value: object) -> str:
    """张三丰 → 张**; a one-character name stays as '*'."""
    return str(mask_names([value]).iloc[0])


_FIELD = re.compile(r"(?P<col>[^=;\s][^=;]*?)=(?P<value>[^;]*)")


def mask_key_fields(values) -> pd.Series:
    """``col=value; col=value`` text with every ID or name field's value masked
    (``person_id=350581199001011234; staff_name=余辉红`` →
    ``person_id=350581********1234; staff_name=余**``); other fields unchanged."""
    text = _text(values)
    cache: dict[str, str] = {}

    def one(match: re.Match) -> str:
        col, value = match.group("col"), match.group("value")
        kind = column_kind(col.strip())
        if kind is None or not value:
            return match.group(0)
        stripped = value.strip()
        masked = mask_id(stripped) if kind == "id" else mask_name(stripped)
        return f"{col}={value.replace(stripped, masked)}"

    def masked_row(row: str) -> str:
        if row not in cache:
            cache[row] = _FIELD.sub(one, row)
        return cache[row]

    return text.map(masked_row)


def personal_columns(frame: pd.DataFrame) -> dict[str, str]:
    """``{column: "id" | "name"}`` for the frame's personal-data columns."""
    kinds = {col: column_kind(col) for col in frame.columns}
    return {col: kind for col, kind in kinds.items() if kind is not None}


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with ID and name columns (:func:`column_kind`) masked, and ``key_fields``
    text masked field by field (vectorised over each column)."""
    out = frame.copy()
    for col, kind in personal_columns(out).items():
        masker = mask_ids if kind == "id" else mask_names
        out[col] = masker(out[col]).to_numpy(dtype=object)
    if "key_fields" in out.columns:
        out["key_fields"] = mask_key_fields(out["key_fields"]).to_numpy(dtype=object)
    return out
