"""Resident ID checks (公民身份号码, GB 11643-1999): format, region prefix, birth date, check
character. Vectorised over numpy byte arrays (CONTRACT §5, check ``invalid_id``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jiuzhu_sim import setops
from jiuzhu_sim.resident_id import CHECK_CHARS, ID_WEIGHTS, check_character  # noqa: F401

# first two digits of a valid administrative division code (GB/T 2260 provinces, 11..82)
PROVINCE_PREFIXES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
                               41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
                               71, 81, 82})

REASON_LENGTH = "长度不是18位"
REASON_FORMAT = "含非法字符（前17位须为数字，末位为数字或X）"
REASON_REGION = "前6位不是有效的行政区划代码"
REASON_BIRTH = "出生日期不存在或不合理"
REASON_CHECK = "校验码错误"


def id_problems(ids: pd.Series | np.ndarray, latest_birth: np.datetime64 | None = None
                ) -> np.ndarray:
    """One reason per ID ('' when valid), vectorised. Checks in order: length, characters,
    region prefix, birth date (a real calendar date, 1900 or later, not after
    ``latest_birth``), check character. A lower-case x counts as X."""
    ok_len, ascii_ok, b = _id_bytes(ids)
    n = len(ok_len)
    reason = np.full(n, "", dtype=object)
    reason[~ok_len] = REASON_LENGTH
    # int16 in the n × 17 matrices (digits; weighted sums are at most 17 × 9 × 10: they
    # fit): a quarter of the memory int64 would touch
    digits = b[:, :17].astype(np.int16) - 48
    body_ok = ((digits >= 0) & (digits <= 9)).all(axis=1)
    last = b[:, 17]
    last_ok = ((last >= 48) & (last <= 57)) | (last == ord("X"))
    fmt_ok = ok_len & ascii_ok & body_ok & last_ok
    reason[ok_len & ~fmt_ok] = REASON_FORMAT
    d = np.where(fmt_ok[:, None], digits, 0)
    province = d[:, 0] * 10 + d[:, 1]
    region_ok = setops.isin(province, list(PROVINCE_PREFIXES))
    todo = fmt_ok & ~region_ok
    reason[todo] = REASON_REGION
    d64 = d[:, 6:14].astype(np.int64)
    year = d64[:, 0] * 1000 + d64[:, 1] * 100 + d64[:, 2] * 10 + d64[:, 3]
    month = d64[:, 4] * 10 + d64[:, 5]
    day = d64[:, 6] * 10 + d64[:, 7]
    month_ok = (month >= 1) & (month <= 12)
    first = (np.clip(year, 1, 9999) - 1970) * 12 + np.clip(month, 1, 12) - 1
    month_start = np.asarray(first, dtype="datetime64[M]")
    days_in_month = ((month_start + 1).astype("datetime64[D]")
                     - month_start.astype("datetime64[D]")).astype(np.int64)
    birth_ok = month_ok & (year >= 1900) & (day >= 1) & (day <= days_in_month)
    if latest_birth is not None:
        birth = month_start.astype("datetime64[D]") + (np.clip(day, 1, 31) - 1).astype(
            "timedelta64[D]")
        birth_ok &= birth <= np.datetime64(latest_birth, "D")
    todo = fmt_ok & region_ok & ~birth_ok
    reason[todo] = REASON_BIRTH
    expected = CHECK_CHARS[(d * ID_WEIGHTS.astype(np.int16)).sum(axis=1) % 11]
    todo = fmt_ok & region_ok & birth_ok & (expected != last)
    reason[todo] = REASON_CHECK
    return reason


def _id_bytes(ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(18 characters?, ASCII only?, n × 18 uint8 matrix of the IDs' bytes) of the stripped,
    upper-cased IDs, read straight from the Arrow string buffers (no per-ID Python work)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pd.Series(ids, dtype="str").fillna("")
    arr = pa.array(text.to_numpy(dtype=object) if text.dtype == object else text,
                   type=pa.large_string())
    arr = pc.utf8_upper(pc.utf8_trim_whitespace(arr))
    chars = pc.utf8_length(arr).to_numpy(zero_copy_only=False)
    n_bytes = pc.binary_length(arr).to_numpy(zero_copy_only=False)
    matrix = np.zeros((len(chars), 18), dtype=np.uint8)
    sized = n_bytes == 18
    if sized.any():
        picked = pc.cast(arr.filter(pa.array(sized)), pa.large_binary())
        offsets = np.frombuffer(picked.buffers()[1], dtype=np.int64)[
            picked.offset:picked.offset + len(picked) + 1]
        data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)
        matrix[sized] = data[offsets[0]:offsets[-1]].reshape(-1, 18)
    return chars == 18, chars == n_bytes, matrix


def is_valid_id(ids) -> np.ndarray:
    return id_problems(ids) == ""
