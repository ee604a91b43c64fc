"""The findings schema (CONTRACT §6), stable finding IDs, and vectorised Chinese text pieces.

Every finding also names the input rows it rests on (its evidence, ``findings_evidence.csv``):
``finding_id, file, row, key_fields, at_risk`` with ``row`` the 1-based data row of the input
file (as in rejected.csv), ``key_fields`` a short ``col=value; col=value`` text of the fields
used and ``at_risk`` the yuan of the finding's ``amount_at_risk`` that this row carries (a
payment's overpaid part; 0 for rows that are context only). Totals count each payment's
money once (``amount_at_risk_total``): a payment row named by two findings carries the larger
of their two pieces, and what a finding claims beyond its payment pieces (money owed but not
paid) is counted once per check, person, program and month.

A finding's stable key is ``check|person_id|period`` (plus an extra key, e.g. an alert ID,
where one person can have several findings of a check in one month); ``finding_id`` is a
deterministic 64-bit hash of it, so re-runs on the same data give the same IDs and a
rectification ledger can be matched back (对账销号, POLICY.md §8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from jiuzhu_sim.audit.calendar import month_label

FINDING_COLUMNS = ["finding_id", "check", "severity", "person_id", "name", "region_code",
                   "program", "period", "amount_at_risk", "detail"]
EVIDENCE_COLUMNS = ["finding_id", "file", "row", "key_fields", "at_risk"]
PROGRAM_NAMES = {"dibao": "低保", "tekun": "特困供养", "marginal": "低保边缘", "": ""}
_HEX = np.array(list("0123456789abcdef"))


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="float64" if c == "amount_at_risk" else "str")
                         for c in FINDING_COLUMNS})


def stable_key(check, person_id, period) -> pd.Series:
    return (pd.Series(check, dtype="str").astype("str") + "|"
            + pd.Series(person_id, dtype="str").fillna("") + "|"
            + pd.Series(period, dtype="str").fillna(""))


def hash_ids(keys: pd.Series, prefix: str = "F") -> np.ndarray:
    """Deterministic 16-hex-digit IDs of strings (pandas' fixed-key SipHash)."""
    h = pd.util.hash_pandas_object(pd.Series(keys, dtype="str").reset_index(drop=True),
                                   index=False).to_numpy(dtype=np.uint64)
    shifts = np.arange(60, -1, -4, dtype=np.uint64)
    nibbles = ((h[:, None] >> shifts[None, :]) & np.uint64(15)).astype(np.int64)
    chars = _HEX[nibbles]
    text = chars.view(f"<U{len(shifts)}").ravel() if len(h) else np.zeros(0, dtype="<U16")
    return np.char.add(prefix, text).astype(object)


def yuan(values) -> pd.Series:
    """Amounts as '2,670.00' (thousands separators, two decimals), vectorised on Arrow's
    string kernels (no Python string per cell)."""
    v = np.asarray(values, dtype="float64")
    cents = np.round(np.abs(np.nan_to_num(v)) * 100).astype(np.int64)
    whole, frac = cents // 100, cents % 100
    a, b, c = whole // 1_000_000, (whole // 1000) % 1000, whole % 1000
    c3 = _digits(c, 3)
    text = pc.if_else(pa.array(a > 0), _join(_digits(a), ",", _digits(b, 3), ",", c3),
                      pc.if_else(pa.array(b > 0), _join(_digits(b), ",", c3), _digits(c)))
    return pd.Series(_join(_sign(v), text, ".", _digits(frac, 2)), dtype="str")


def _digits(values: np.ndarray, width: int = 0):
    """Integers as Arrow text, left-padded with zeros to ``width``."""
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.large_string())
    return pc.utf8_lpad(text, width=width, padding="0") if width else text


def _sign(values: np.ndarray):
    return pc.if_else(pa.array(np.asarray(values) < 0), pa.scalar("-", pa.large_string()),
                      pa.scalar("", pa.large_string()))


def _join(*parts):
    """Arrow text columns and literal strings concatenated cell by cell."""
    return pc.binary_join_element_wise(
        *(pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts),
        pa.scalar("", pa.large_string()))


def dates_text(days) -> pd.Series:
    d = np.asarray(days, dtype="datetime64[D]")
    return pd.Series(np.where(np.isnat(d), "（空）", d.astype(str)), dtype="str")


def months_text(months) -> pd.Series:
    return pd.Series(month_label(np.asarray(months, dtype=np.int64)), dtype="str")


def ints_text(values) -> pd.Series:
    return pd.Series(np.asarray(values).astype(np.int64).astype(str), dtype="str")


def program_text(programs) -> pd.Series:
    return pd.Series(np.asarray(programs, dtype=object), dtype="str").map(
        PROGRAM_NAMES).fillna("")


def text(values) -> pd.Series:
    """Any column as a str Series with a fresh 0..n-1 index (safe to concatenate)."""
    if isinstance(values, pd.Series) and values.dtype == "str":  # Arrow text: kept as is
        return pd.Series(values.array, dtype="str").fillna("")
    return pd.Series(np.asarray(values, dtype=object), dtype="str").fillna("")


def _str(values) -> pd.Series:
    """Values as a ``str`` Series with a fresh 0..n-1 index, missing values kept: Arrow text
    as it is (no Python string per cell and back), anything else through objects."""
    if isinstance(values, pd.Series) and values.dtype == "str":
        return pd.Series(values.array, dtype="str")
    return pd.Series(np.asarray(values, dtype=object), dtype="str")


def build(check: str, severity: str, *, person_id, name=None, region_code=None, program=None,
          period=None, amount=None, detail, extra_key=None) -> pd.DataFrame:
    """A findings frame (CONTRACT §6 columns). ``period`` is a month-index array (−1 or None
    = no period)."""
    n = len(person_id)
    if period is None:
        period_text = pd.Series([""] * n, dtype="str")
    else:
        p = np.asarray(period, dtype=np.int64)
        period_text = pd.Series(np.where(p >= 0, month_label(np.maximum(p, 0)), ""),
                                dtype="str")
    frame = pd.DataFrame({
        "finding_id": "", "check": pd.Series([check] * n, dtype="str"),
        "severity": pd.Series([severity] * n, dtype="str"),
        "person_id": _str(person_id),
        "name": _str(name if name is not None else [""] * n).fillna(""),
        "region_code": _str(region_code if region_code is not None else [""] * n),
        "program": _str(program if program is not None else [""] * n),
        "period": period_text,
        "amount_at_risk": np.round(np.asarray(amount if amount is not None else np.zeros(n),
                                              dtype="float64"), 2),
        "detail": _str(detail),
    })
    if any(len(frame[c]) != n for c in frame.columns):  # pragma: no cover - programming error
        raise ValueError("findings columns differ in length")
    key = stable_key(frame["check"], frame["person_id"], frame["period"])
    if extra_key is not None:
        key = key + "|" + pd.Series(np.asarray(extra_key, dtype=object), dtype="str")
    frame["finding_id"] = hash_ids(key)
    return frame[FINDING_COLUMNS]


# --- evidence ---------------------------------------------------------------------------


def empty_evidence() -> pd.DataFrame:
    return pd.DataFrame({"finding_id": pd.Series([], dtype="str"),
                         "file": pd.Series([], dtype="str"),
                         "row": np.zeros(0, dtype=np.int64),
                         "key_fields": pd.Series([], dtype="str"),
                         "at_risk": np.zeros(0, dtype="float64")})


def plain_amount(values) -> pd.Series:
    """Amounts as '2670.00' (two decimals, no separators) for machine-readable fields."""
    v = np.asarray(values, dtype="float64")
    cents = np.round(np.abs(np.nan_to_num(v)) * 100).astype(np.int64)
    return pd.Series(_join(_sign(v), _digits(cents // 100), ".", _digits(cents % 100, 2)),
                     dtype="str")


def key_fields(**fields) -> pd.Series:
    """``col=value; col=value`` per row, vectorised; each value an array-like of text."""
    out = None
    for name, values in fields.items():
        part = name + "=" + text(values)
        out = part if out is None else out + "; " + part
    return out if out is not None else pd.Series([], dtype="str")


def evidence(finding, file: str, row, fields: pd.Series, at_risk=None) -> pd.DataFrame:
    """Evidence rows of a check: ``finding`` = position of the finding in the check's
    findings frame, ``row`` = the input data row (1-based, ``_row``), ``at_risk`` = the yuan
    of the finding's amount this row carries (default 0: context only)."""
    finding = np.asarray(finding, dtype=np.int64)
    return pd.DataFrame({"finding": finding,
                         "file": file, "row": np.asarray(row, dtype=np.int64),
                         "key_fields": text(fields).array,
                         "at_risk": (np.zeros(len(finding)) if at_risk is None else
                                     np.round(np.asarray(at_risk, dtype="float64"), 2))})


def attach(ctx, found: pd.DataFrame, *parts: pd.DataFrame) -> pd.DataFrame:
    """Record the evidence ``parts`` of ``found`` (positions → finding IDs) in
    ``ctx.evidence``; returns ``found`` unchanged."""
    ids = found["finding_id"].to_numpy(dtype=object)
    for part in parts:
        if len(part):
            position = part["finding"].to_numpy()
            if position.min() < 0 or position.max() >= len(ids):  # pragma: no cover
                raise ValueError("evidence points at no finding")
            ctx.evidence.append(pd.DataFrame({
                "finding_id": ids[part["finding"].to_numpy()], "file": part["file"].to_numpy(),
                "row": part["row"].to_numpy(dtype=np.int64),
                "key_fields": text(part["key_fields"]).array,
                "at_risk": part["at_risk"].to_numpy(dtype="float64") if "at_risk" in part
                else np.zeros(len(part))}))
    return found


def evidence_frame(ctx) -> pd.DataFrame:
    """All evidence recorded in ``ctx`` (EVIDENCE_COLUMNS), in check order."""
    if not ctx.evidence:
        return empty_evidence()
    return pd.concat(ctx.evidence, ignore_index=True)[EVIDENCE_COLUMNS]


def amount_at_risk_total(findings: pd.DataFrame, evidence: pd.DataFrame,
                         payments_file: str = "payments") -> float:
    """Money at risk counted once (POLICY.md §6, CONTRACT §6): every payment row's pieces
    (evidence ``at_risk`` of rows of ``payments_file``) count once, at the largest piece any
    finding puts on it; what a finding claims beyond its payment pieces (money owed, not
    paid) counts once per check, person, program and month (the largest claim)."""
    if not len(findings):
        return 0.0
    amount = findings["amount_at_risk"].to_numpy(dtype="float64")
    ev = evidence
    if len(ev) and "at_risk" in ev:
        on_pay = (ev["file"].astype("str") == payments_file).to_numpy() & (
            ev["at_risk"].to_numpy(dtype="float64") > 0)
        pieces = ev[on_pay]
    else:
        pieces = empty_evidence()
    paid_total = float(pieces.groupby("row")["at_risk"].max().sum()) if len(pieces) else 0.0
    claimed = (pieces.groupby("finding_id")["at_risk"].sum() if len(pieces)
               else pd.Series(dtype="float64"))
    rest = amount - claimed.reindex(findings["finding_id"].to_numpy()).fillna(0.0).to_numpy()
    other = pd.DataFrame({"key": (findings["check"].astype("str") + "|"
                                  + findings["person_id"].astype("str") + "|"
                                  + findings["program"].astype("str") + "|"
                                  + findings["period"].astype("str")).to_numpy(),
                          "rest": np.maximum(np.round(rest, 2), 0.0)})
    return round(paid_total + float(other.groupby("key")["rest"].max().sum()), 2)
