"""Masking of personal data in rendered reports (CONTRACT §7)."""

from __future__ import annotations

import pandas as pd


def mask_id(value: object) -> str:
    """350581199001011234 → 350581********1234 (first six and last four kept)."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_name(value: object) -> str:
    """张三丰 → 张**; a one-character name stays as '*'."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    if not text:
        return ""
    return text[0] + "*" * (len(text) - 1) if len(text) > 1 else "*"


ID_COLUMNS = ("person_id", "account_holder_id", "relative_id", "guardian_id", "staff_id",
              "身份证号")
NAME_COLUMNS = ("name", "staff_name", "姓名")


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with ID and name columns masked (vectorised over the column)."""
    out = frame.copy()
    for col in out.columns:
        if col in ID_COLUMNS:
            out[col] = out[col].map(mask_id)
        elif col in NAME_COLUMNS:
            out[col] = out[col].map(mask_name)
    return out
