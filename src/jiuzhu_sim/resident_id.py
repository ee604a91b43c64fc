"""Resident ID (公民身份号码, GB 11643-1999): the check character, shared by the population
generator, the synthetic audit county and the audit's ``invalid_id`` check; normalisation
(full-width, spaces, 15 → 18 digits) and the birth date and sex an ID carries, for linkage."""

from __future__ import annotations

import numpy as np
import pandas as pd

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)


def check_codes(digits: np.ndarray) -> np.ndarray:
    """ASCII codes of the check character for an (n, 17) array of digits: Σ dᵢwᵢ mod 11."""
    total = np.zeros(len(digits), dtype=np.int64)
    for i, weight in enumerate(ID_WEIGHTS):  # column by column: no (n, 17) int64 temporary
        total += weight * digits[:, i]
    return CHECK_CHARS[total % 11]


def check_codes_of_bodies(bodies: np.ndarray) -> np.ndarray:
    """The same for 17-digit bodies held as int64 numbers."""
    total = np.zeros(len(bodies), dtype=np.int64)
    rest = bodies.astype(np.int64).copy()
    for weight in ID_WEIGHTS[::-1]:
        total += (rest % 10) * weight
        rest //= 10
    return CHECK_CHARS[total % 11]


def check_character(first17: str) -> str:
    """The check character of 17 digits given as text (for tests and tools)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return chr(CHECK_CHARS[total % 11])


# --- normalisation and the fields an ID carries (record linkage, docs/linkage.md) ----------

ID_LENGTH = 18
OLD_ID_LENGTH = 15
"""First-generation IDs (一代证, before 1999) have 15 digits: address code, YYMMDD, sequence."""


ID_NOISE = ("[\\s\u3000\u00a0\ufeff\u200b-\u200f\u2028-\u202e\u2060-\u2064"
            "'\"‘’“”`\\-\u2010-\u2015\u2212_]+")  # real characters: RE2 syntax
"""What an ID cell may carry besides the ID: whitespace, invisible characters, quotes and
hyphens or dashes (removed by :func:`normalize_ids`)."""


def normalize_ids(ids) -> pd.Series:
    """Resident IDs in one canonical 18-character form, vectorised (GB 11643-1999 §5).

    Full-width digits and letters become ASCII (Unicode NFKC), all whitespace goes (ASCII,
    no-break and the full-width space U+3000), and so do invisible characters (zero-width
    spaces and joiners, direction marks, BOM), quotes (Excel's leading ``'``) and hyphens
    or dashes inside (350524-194502276418); ``x`` becomes ``X``, and a 15-digit
    first-generation ID becomes 18 characters: the century ``19`` is inserted before the
    two-digit birth year and the check character is computed. Anything else is returned
    cleaned but otherwise unchanged (a bad ID stays bad; ``invalid_id`` judges it). Missing
    values become ``""``.
    """
    text = pd.Series(ids, dtype=object)
    text = text.where(text.notna(), "").astype(str)
    text = (text.str.normalize("NFKC").str.replace(ID_NOISE, "", regex=True).str.upper())
    old = (text.str.len() == OLD_ID_LENGTH) & text.str.fullmatch(r"\d{15}").fillna(False)
    if old.any():
        body = text[old].str[:6] + "19" + text[old].str[6:]
        digits = (np.frombuffer(body.to_numpy(dtype="U17").astype("S17").tobytes(),
                                dtype=np.uint8).reshape(-1, 17).astype(np.int64) - 48)
        check = check_codes(digits).view("S1").astype("U1")
        text = text.copy()
        text[old] = (body + check).to_numpy(dtype=object)
    return text.astype(object)


def _digit_block(ids, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """The integer in characters [start, stop) of each 18-character ID whose first 17
    characters are digits → (values, usable mask)."""
    text = pd.Series(ids, dtype=object).fillna("").astype(str)
    usable = ((text.str.len() == ID_LENGTH) & text.str[:17].str.fullmatch(r"\d{17}").fillna(
        False)).to_numpy(dtype=bool)
    values = np.zeros(len(text), dtype=np.int64)
    if usable.any():
        values[usable] = text[usable].str[start:stop].astype(np.int64).to_numpy()
    return values, usable


def birth_dates_of_ids(ids) -> np.ndarray:
    """Birth dates (characters 7–14, YYYYMMDD) of 18-character IDs as ``datetime64[D]``;
    NaT where the ID is not 17 digits + check character or the date does not exist."""
    ymd, usable = _digit_block(ids, 6, 14)
    year, month, day = ymd // 10000, ymd // 100 % 100, ymd % 100
    ok = usable & (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1800)
    month_start = ((np.where(ok, year, 1970) - 1970) * 12 + np.where(ok, month, 1) - 1
                   ).astype("datetime64[M]")
    length = ((month_start + 1).astype("datetime64[D]")
              - month_start.astype("datetime64[D]")).astype(np.int64)
    ok &= day <= length
    out = month_start.astype("datetime64[D]") + (np.where(ok, day, 1) - 1).astype(
        "timedelta64[D]")
    out[~ok] = np.datetime64("NaT")
    return out


def sexes_of_ids(ids) -> np.ndarray:
    """Sex from the 17th character (the sequence code's last digit): odd ``M`` (男), even
    ``F`` (女); ``""`` where the ID is not 17 digits + check character (GB 11643 §4.3)."""
    digit, usable = _digit_block(ids, 16, 17)
    out = np.where(digit % 2 == 1, "M", "F").astype(object)
    out[~usable] = ""
    return out
