"""Load, inherit, resolve (region, date) and override policy parameters; nothing else.

Parameter files live under ``params/`` (YAML, one region per file or several files per
region). Every file starts with a ``region`` block and a ``parameters`` mapping::

    region: {code: "350581", name: 石狮市, name_en: Shishi, parent: "350500"}
    parameters:
      minimum_wage:
        description: 月最低工资标准 monthly minimum wage
        unit: yuan/month
        reference: "..."            # seed document number, or "assumption: <why>"
        values:
          "2022-04-01": 2030         # applies from this date on
          "2025-01-01": {value: 2100, reference: "..."}

A region inherits every parameter of its parent (province → city → county); a child's
definition of a name replaces the parent's. Several files may share one region code (the
national defaults are split by topic); a name defined twice for one region is an error.

Derived standards (POLICY.md §2) are computed in :func:`derive`, never typed in twice.

Values that differ by county for thousands of regions (minimum-wage tiers, published dibao
standards) may instead live in per-region tables, ``params/tables/*.csv`` (``region_code,
effective_date, value, reference``, optional ``end_date``), listed in
``params/tables/tables.yaml``. A table row is a definition of the parameter at that region,
exactly like a YAML entry: the nearest region of the inheritance chain that defines a name
(in YAML or in a table) wins. :class:`RegionTable` looks values up vectorised (one
``np.searchsorted`` over region × date keys); :func:`household_parameters` is the
simulation's path — each household's regional standards from its own region and date,
table-backed names looked up for all households at once. Definitions of "overlap", "gap"
and "unknown region" are in docs/parameters.md and :func:`read_region_table`; an unknown
region code at lookup time is an error naming the table and the codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from jiuzhu_sim.exceptions import ParameterError

# libyaml's parser when installed (same documents, a tenth of the time of the pure-Python
# one: every CLI run reads ~30 parameter files)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
NATIONAL_CODE = "000000"
DERIVED_REFERENCE = "derived"
TABLES_DIR = "tables"
TABLE_INDEX = "tables.yaml"
REGIONS_TABLE = "regions.csv"
TABLE_COLUMNS = ("region_code", "effective_date", "value", "reference")
REGIONS_COLUMNS = ("region_code", "name", "name_en", "parent")
REGIONAL_NAMES = (
    "dibao.standard.urban", "dibao.standard.rural",
    "marginal.threshold.urban", "marginal.threshold.rural",
    "tekun.basic_standard.urban", "tekun.basic_standard.rural",
    "tekun.institutional_basic_standard.urban", "tekun.institutional_basic_standard.rural",
    "tekun.care_standard.self_care", "tekun.care_standard.semi_care",
    "tekun.care_standard.full_care",
)
"""Standards that follow each household's own region in a simulation (they derive from the
region's minimum wage / published standard); every other parameter is the run's."""
DERIVATION_PREFIXES = ("minimum_wage", "dibao.standard", "dibao.rounding",
                       "tekun.basic_ratio_to_dibao", "tekun.care_ratio_to_minimum_wage.",
                       "tekun.institutional_multiplier", "marginal.ratio_to_dibao")
"""Names the regional standards are derived from (see :func:`derive`)."""


def follows_region(name: str) -> bool:
    """A regional standard, or a name the regional standards are derived from."""
    return name.startswith(DERIVATION_PREFIXES) or name in REGIONAL_NAMES


def default_params_dir() -> Path:
    """The ``params/`` folder: $JIUZHU_PARAMS, else the repository's, else the packaged copy."""
    import os

    env = os.environ.get("JIUZHU_PARAMS")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "params"
        if (candidate / "national").is_dir():
            return candidate
    raise ParameterError("cannot find the params/ folder; set JIUZHU_PARAMS to its path")


@dataclass(frozen=True)
class ParamValue:
    """One resolved parameter: the value in force on the date, and where it came from."""

    name: str
    value: Any
    unit: str = ""
    description: str = ""
    reference: str = ""
    since: str = ""  # date from which the value applies ("" for derived/overrides)
    source: str = ""  # file (relative to params/), "derived", or "--set"
    inputs: tuple[str, ...] = ()  # for derived values: the parameters they are computed from

    def as_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "reference": self.reference,
            "since": self.since,
            "source": self.source,
        }


@dataclass
class RegionFile:
    code: str
    name: str
    name_en: str
    parent: str | None
    path: Path
    parameters: dict[str, dict]


@dataclass
class Region:
    code: str
    name: str
    name_en: str
    parent: str | None
    files: list[RegionFile] = field(default_factory=list)


@dataclass
class Parameters:
    """Parameters in force for one region on one date (after inheritance and overrides)."""

    region_code: str
    region_name: str
    date: dt.date
    values: dict[str, ParamValue]
    # names defined in the files but with no value yet on ``date``: name → one-line reason
    unavailable: dict[str, str] = field(default_factory=dict)
    # every definition of each name along the inheritance chain (see :func:`resolve_raw`)
    chains: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    inheritance: list[dict[str, str]] = field(default_factory=list)  # national → … → region
    overrides: dict[str, Any] = field(default_factory=dict)  # every --set applied so far
    params_dir: str | None = None

    def __getitem__(self, name: str) -> Any:
        try:
            return self.values[name].value
        except KeyError:
            if name in self.unavailable:
                raise ParameterError(self.unavailable[name]) from None
            raise ParameterError(
                f"parameter {name!r} is not defined for region {self.region_code} "
                f"on {self.date.isoformat()}"
            ) from None

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default: Any = None) -> Any:
        item = self.values.get(name)
        return default if item is None else item.value

    def reference(self, name: str) -> str:
        return self.values[name].reference

    def explain_value(self, name: str) -> dict[str, Any]:
        """One value with its unit, date, reference, source file, the definitions it replaced
        along the inheritance chain and, for a derived value, the values it comes from."""
        pv = self.values.get(name)
        if pv is None:
            self[name]  # raises the one-line reason
        rec = pv.as_record()
        rec["description"] = pv.description
        chain = self.chains.get(name, [])
        rec["defined_at"] = chain
        if pv.inputs:
            rec["inputs"] = [self.explain_value(i) for i in pv.inputs if i in self.values]
        return rec

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str]) -> Parameters:
        """A copy with ``--set`` style overrides applied and derived values recomputed."""
        return apply_overrides(self, overrides)

    def to_records(self) -> list[dict[str, Any]]:
        return [self.values[k].as_record() for k in sorted(self.values)]

    def as_dict(self) -> dict[str, Any]:
        return {k: self.values[k].value for k in sorted(self.values)}

    def sha256(self) -> str:
        blob = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "region_code": self.region_code,
            "region_name": self.region_name,
            "date": self.date.isoformat(),
            "sha256": self.sha256(),
            "values": {r["name"]: r for r in self.to_records()},
        }


# ---------------------------------------------------------------------------------------
# Reading files


def _rel(path: Path, root: Path) -> str:
    return _rel_text(str(path), str(root))


@lru_cache(maxsize=4096)
def _rel_text(path: str, root: str) -> str:
    try:
        return str(Path(path).relative_to(Path(root).parent))
    except ValueError:
        return path


def _parse_date(text: Any, file: str, key: str) -> dt.date:
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise ParameterError(
            f"date {text!r} is not YYYY-MM-DD", file=file, column=key
        ) from None


def _validate_parameter(name: str, spec: Any, file: str) -> dict:
    if not isinstance(spec, Mapping):
        raise ParameterError("a parameter must be a mapping with 'values'", file=file, column=name)
    if "values" not in spec or not isinstance(spec["values"], Mapping) or not spec["values"]:
        raise ParameterError("missing or empty 'values' (dated values)", file=file, column=name)
    for required in ("unit", "reference"):
        if not str(spec.get(required, "")).strip():
            raise ParameterError(f"missing '{required}'", file=file, column=name)
    dated: list[tuple[dt.date, Any, str]] = []
    for when, item in spec["values"].items():
        day = _parse_date(when, file, f"{name}.values.{when}")
        if isinstance(item, Mapping):
            if "value" not in item:
                raise ParameterError(
                    "a dated entry written as a mapping needs 'value'",
                    file=file, column=f"{name}.values.{when}",
                )
            value, ref = item["value"], str(item.get("reference", spec["reference"]))
        else:
            value, ref = item, str(spec["reference"])
        if value is None:
            raise ParameterError("empty value", file=file, column=f"{name}.values.{when}")
        dated.append((day, value, ref))
    dated.sort(key=lambda t: t[0])
    out = dict(spec)
    out["_dated"] = dated
    return out


def _read_region_file(path: Path, root: Path) -> RegionFile:
    rel = _rel(path, root)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        raise ParameterError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=rel,
                             row=row) from None
    if not isinstance(doc, Mapping):
        raise ParameterError("expected a mapping with 'region' and 'parameters'", file=rel)
    region = doc.get("region")
    if not isinstance(region, Mapping) or "code" not in region:
        raise ParameterError("missing 'region' block with a 'code'", file=rel, column="region")
    code = str(region["code"])
    if not (len(code) == 6 and code.isdigit()):
        raise ParameterError(f"region code {code!r} must be six digits (quote it in YAML)",
                             file=rel, column="region.code")
    parent = region.get("parent")
    parent = None if parent in (None, "") else str(parent)
    params_raw = doc.get("parameters") or {}
    if not isinstance(params_raw, Mapping):
        raise ParameterError("'parameters' must be a mapping", file=rel, column="parameters")
    parameters = {str(k): _validate_parameter(str(k), v, rel) for k, v in params_raw.items()}
    return RegionFile(code=code, name=str(region.get("name", code)),
                      name_en=str(region.get("name_en", "")), parent=parent, path=path,
                      parameters=parameters)


# ---------------------------------------------------------------------------------------
# Per-region tables (params/tables/*.csv)

_NO_END = np.iinfo(np.int64).max
_DAY_OFFSET = 1 << 31  # keeps day numbers (days since 1970, may be negative) positive in keys


def _days(dates: Any, n: int) -> np.ndarray:
    """Dates (a scalar or an array of date / datetime64 / 'YYYY-MM-DD') → int64 days since
    1970-01-01, broadcast to length ``n``."""
    if isinstance(dates, dt.datetime):
        dates = dates.date()
    arr = np.asarray(dates)
    if arr.dtype.kind != "M":
        arr = np.asarray(arr, dtype="datetime64[D]")
    days = arr.astype("datetime64[D]").astype(np.int64)
    return np.broadcast_to(days, (n,)) if days.ndim == 0 else days


@dataclass(frozen=True)
class RegionTable:
    """One parameter's per-region values, sorted by (region, effective date).

    Row ``i`` applies to ``region_code[i]`` from ``effective_day[i]`` until the day before the
    region's next row (or through ``end_day[i]`` when an end date is given). ``row`` is the
    1-based data row in the file (header excluded), for messages.
    """

    name: str
    file: str
    unit: str
    description: str
    region_code: np.ndarray
    effective_day: np.ndarray
    end_day: np.ndarray
    value: np.ndarray
    reference: np.ndarray
    row: np.ndarray
    regions: pd.Index  # unique region codes, sorted
    _row_region: np.ndarray  # index into ``regions`` per row
    _key: np.ndarray  # region index × 2**32 + day, sorted

    region_set: frozenset[str] = frozenset()

    def rows_for(self, region_codes: Any, dates: Any) -> np.ndarray:
        """Row index in force for each (region, date), −1 where the region has no row or no
        row in force on that date. Vectorised: the codes are factorised once, then one
        ``np.searchsorted`` over the sorted keys — no loop over households."""
        return self.rows_at(self.region_index(region_codes), dates)

    def region_index(self, region_codes: Any) -> np.ndarray:
        """Position of each code in :attr:`regions` (−1 where the table has no rows for it)."""
        if isinstance(region_codes, (list, tuple)) and len(region_codes) <= 64:
            # a few codes (one region's resolution): skip factorize
            return self.regions.get_indexer([str(c) for c in region_codes]).astype(np.int64)
        codes = pd.Series(region_codes, dtype="str") if not isinstance(
            region_codes, pd.Series) else region_codes.astype("str")
        codes_idx, uniques = pd.factorize(codes)
        if not len(codes):
            return np.zeros(0, dtype=np.int64)
        return self.regions.get_indexer(pd.Index(uniques))[codes_idx].astype(np.int64)

    def rows_at(self, region_idx: np.ndarray, dates: Any) -> np.ndarray:
        """:meth:`rows_for` with the regions already given as :meth:`region_index` positions."""
        region_idx = np.asarray(region_idx, dtype=np.int64)
        n = len(region_idx)
        if not n or not len(self._key):
            return np.full(n, -1, dtype=np.int64)
        days = _days(dates, n)
        key = region_idx * (1 << 32) + (days + _DAY_OFFSET)
        pos = np.searchsorted(self._key, key, side="right") - 1
        safe = np.maximum(pos, 0)
        ok = ((region_idx >= 0) & (pos >= 0) & (self._row_region[safe] == region_idx)
              & (days <= self.end_day[safe]))
        return np.where(ok, safe, -1)

    def lookup(self, region_codes: Any, dates: Any) -> np.ndarray:
        """Values (float64) in force for each (region, date); NaN where the region's rows
        have none in force on that date (before its first row, after its last ``end_date``).

        A region code with no rows in this table is a :class:`ParameterError` naming the
        table file and the codes (the first few and how many): this lookup does not walk
        the region tree — :func:`lookup_table` does (a county inherits its province's row).
        """
        region_idx = self.region_index(region_codes)
        if (region_idx < 0).any():
            codes = pd.Series(region_codes, dtype="str").to_numpy(dtype=object)
            unknown = pd.unique(codes[region_idx < 0])
            raise ParameterError(f"region code(s) with no rows in this table: "
                                 f"{_few(unknown)} (lookup_table inherits from a parent "
                                 f"region's rows)", file=self.file, column="region_code")
        rows = self.rows_at(region_idx, dates)
        return np.where(rows >= 0, self.value[np.maximum(rows, 0)], np.nan)

    def first_day(self, region: str) -> dt.date | None:
        i = self.regions.get_indexer([region])[0]
        if i < 0:
            return None
        return _day_to_date(int(self.effective_day[self._row_region == i].min()))


def _day_to_date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def _date_to_day(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def _few(codes: Any, shown: int = 5) -> str:
    """``'450326', '999999' (2 in all)``: the first few codes of a list, and how many."""
    codes = [str(c) for c in codes]
    head = ", ".join(repr(c) for c in codes[:shown])
    return f"{head}{', …' if len(codes) > shown else ''} ({len(codes)} in all)"


def _read_csv_strings(path: Path, rel: str) -> pd.DataFrame:
    """A params CSV with every column as stripped text (UTF-8, with or without BOM)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        head = path.open(encoding="utf-8-sig").readline()
    except UnicodeDecodeError:
        raise ParameterError("not UTF-8 text", file=rel) from None
    names = [c.strip() for c in head.rstrip("\r\n").split(",")]
    try:
        table = pacsv.read_csv(
            path, read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names}, strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise ParameterError(f"not a valid CSV ({str(exc).splitlines()[0]})", file=rel) from None
    frame = table.to_pandas()
    for col in frame.columns:
        frame[col] = frame[col].str.strip()
    return frame


def _table_error(reason: str, rel: str, rows: np.ndarray, bad: np.ndarray, column: str):
    i = int(np.flatnonzero(bad)[0])
    raise ParameterError(reason.format(i=i), file=rel, row=int(rows[i]), column=column)


def read_region_table(path: Path | str, name: str, known_regions: Iterable[str], *,
                      rel: str | None = None, unit: str = "", description: str = ""
                      ) -> RegionTable:
    """Read and validate one per-region table; every problem is a one-line
    :class:`ParameterError` naming the file, the 1-based data row and the column.

    - **unknown region**: a ``region_code`` that is not six digits, or not in the region list
      (the ``params/regions`` YAML tree plus ``params/tables/regions.csv``);
    - **missing reference**: an empty ``reference``, or a bare ``assumption`` without its
      rationale (``assumption: <why>``);
    - **overlap**: two rows of one region with the same ``effective_date``, or a row whose
      ``end_date`` is on or after the region's next ``effective_date``;
    - **gap**: a row with an ``end_date`` and a later row of the same region that starts more
      than one day after it (values must be contiguous from the region's first date; without
      ``end_date`` a row runs until the next one, so there is no gap);
    - a bad date (not YYYY-MM-DD), an end before its start, a value that is not a finite
      number ≥ 0.
    """
    path = Path(path)
    rel = rel or str(path)
    if not path.is_file():
        raise ParameterError("table file not found", file=rel)
    frame = _read_csv_strings(path, rel)
    for col in TABLE_COLUMNS:
        if col not in frame.columns:
            raise ParameterError("missing column", file=rel, column=col)
    n = len(frame)
    rows = np.arange(1, n + 1, dtype=np.int64)
    code = frame["region_code"].to_numpy(dtype=object).astype(str).astype(object)
    bad = ~frame["region_code"].str.fullmatch(r"\d{6}").to_numpy(dtype=bool)
    if bad.any():
        _table_error(f"region code {code[int(np.flatnonzero(bad)[0])]!r} must be six digits",
                     rel, rows, bad, "region_code")
    known = pd.Index(sorted(set(known_regions)))
    bad = known.get_indexer(frame["region_code"]) < 0
    if bad.any():
        _table_error(f"unknown region code {code[int(np.flatnonzero(bad)[0])]!r} (not in "
                     f"params/regions or params/{TABLES_DIR}/{REGIONS_TABLE})", rel, rows, bad,
                     "region_code")
    start = pd.to_datetime(frame["effective_date"], format="%Y-%m-%d", errors="coerce")
    bad = start.isna().to_numpy()
    if bad.any():
        _table_error("effective_date is not YYYY-MM-DD", rel, rows, bad, "effective_date")
    start_day = start.to_numpy().astype("datetime64[D]").astype(np.int64)
    if "end_date" in frame.columns:
        blank = (frame["end_date"] == "").to_numpy()
        end = pd.to_datetime(frame["end_date"].where(~blank, None), format="%Y-%m-%d",
                             errors="coerce")
        bad = end.isna().to_numpy() & ~blank
        if bad.any():
            _table_error("end_date is not YYYY-MM-DD (or empty)", rel, rows, bad, "end_date")
        end_day = np.where(blank, _NO_END, end.to_numpy().astype("datetime64[D]").astype(
            np.int64))
        bad = end_day < start_day
        if bad.any():
            _table_error("end_date is before effective_date", rel, rows, bad, "end_date")
    else:
        end_day = np.full(n, _NO_END, dtype=np.int64)
    value = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(value) | (value < 0)
    if bad.any():
        _table_error("value must be a number ≥ 0", rel, rows, bad, "value")
    ref = frame["reference"]
    bad = ((ref == "") | ref.str.lower().str.fullmatch(r"assumption\s*:?\s*")).to_numpy(bool)
    if bad.any():
        _table_error("missing reference (a document number, a public announcement, or "
                     "'assumption: <rationale>')", rel, rows, bad, "reference")

    order = np.lexsort((start_day, code.astype(str)))
    code, start_day, end_day = code[order], start_day[order], end_day[order]
    value, rows, ref = value[order], rows[order], ref.to_numpy(dtype=object)[order]
    same_region = np.zeros(n, dtype=bool)  # row i and row i+1 belong to one region
    if n > 1:
        same_region[:-1] = code[1:] == code[:-1]
    nxt = np.r_[start_day[1:], 0] if n else start_day
    bad = same_region & (nxt == start_day)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError(f"overlap: region {code[i]} has two rows for "
                             f"{_day_to_date(int(start_day[i]))} (rows {min(rows[i], rows[i + 1])}"
                             f" and {max(rows[i], rows[i + 1])})", file=rel,
                             row=int(max(rows[i], rows[i + 1])), column="effective_date")
    bad = same_region & (end_day != _NO_END) & (end_day >= nxt)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError(f"overlap: region {code[i]}'s row ends "
                             f"{_day_to_date(int(end_day[i]))}, on or after its next row "
                             f"(row {rows[i + 1]}) starts", file=rel, row=int(rows[i]),
                             column="end_date")
    bad = same_region & (end_day != _NO_END) & (nxt > end_day + 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError(f"gap: region {code[i]} has no value from "
                             f"{_day_to_date(int(end_day[i]) + 1)} to "
                             f"{_day_to_date(int(nxt[i]) - 1)} (between rows {rows[i]} and "
                             f"{rows[i + 1]})", file=rel, row=int(rows[i + 1]),
                             column="effective_date")
    regions = pd.Index(pd.unique(code), dtype=object) if n else pd.Index([], dtype=object)
    row_region = regions.get_indexer(code).astype(np.int64)
    key = row_region * (1 << 32) + (start_day + _DAY_OFFSET)
    return RegionTable(name=name, file=rel, unit=unit, description=description,
                       region_code=code, effective_day=start_day, end_day=end_day, value=value,
                       reference=ref, row=rows, regions=regions, _row_region=row_region,
                       _key=key, region_set=frozenset(regions))


def _read_regions_table(path: Path, root: Path, regions: dict[str, Region]) -> None:
    """Add the regions of ``params/tables/regions.csv`` (no YAML of their own) to the tree."""
    rel = _rel(path, root)
    frame = _read_csv_strings(path, rel)
    for col in REGIONS_COLUMNS:
        if col not in frame.columns:
            raise ParameterError("missing column", file=rel, column=col)
    rows = np.arange(1, len(frame) + 1)
    bad = ~frame["region_code"].str.fullmatch(r"\d{6}").to_numpy(bool)
    if bad.any():
        _table_error("region code must be six digits", rel, rows, bad, "region_code")
    bad = frame["region_code"].duplicated().to_numpy()
    if bad.any():
        _table_error("region code listed twice", rel, rows, bad, "region_code")
    for i, rec in enumerate(frame.to_dict("records")):
        code, parent = rec["region_code"], rec["parent"] or None
        reg = regions.get(code)
        if reg is not None:
            if parent != reg.parent:
                raise ParameterError(f"region {code} has parent {reg.parent} in its YAML file",
                                     file=rel, row=i + 1, column="parent")
            continue
        regions[code] = Region(code, rec["name"] or code, rec["name_en"], parent)


@lru_cache(maxsize=8)
def _load_tree(root_str: str) -> dict[str, Region]:
    root = Path(root_str)
    regions: dict[str, Region] = {}
    for path in sorted(root.rglob("*.yaml")):
        if {"scenarios", TABLES_DIR} & set(path.relative_to(root).parts):
            continue
        rf = _read_region_file(path, root)
        reg = regions.setdefault(rf.code, Region(rf.code, rf.name, rf.name_en, rf.parent))
        if rf.parent and reg.parent and rf.parent != reg.parent:
            raise ParameterError(f"region {rf.code} has two parents ({reg.parent}, {rf.parent})",
                                 file=_rel(path, root), column="region.parent")
        reg.parent = reg.parent or rf.parent
        if rf.name != rf.code:
            reg.name = rf.name
        reg.name_en = reg.name_en or rf.name_en
        seen = {n for f in reg.files for n in f.parameters}
        for name in rf.parameters:
            if name in seen:
                raise ParameterError(f"parameter defined twice for region {rf.code}",
                                     file=_rel(path, root), column=name)
        reg.files.append(rf)
    listed = root / TABLES_DIR / REGIONS_TABLE
    if listed.is_file():
        _read_regions_table(listed, root, regions)
    for reg in regions.values():
        if reg.parent and reg.parent not in regions:
            where = _rel(reg.files[0].path, root) if reg.files else _rel(listed, root)
            raise ParameterError(f"parent region {reg.parent} of {reg.code} has no file",
                                 file=where, column="region.parent")
    return regions


@lru_cache(maxsize=8)
def _load_tables(root_str: str) -> dict[str, RegionTable]:
    """The tables listed in ``params/tables/tables.yaml`` (none when it is absent)."""
    root = Path(root_str)
    index = root / TABLES_DIR / TABLE_INDEX
    if not index.is_file():
        return {}
    rel_index = _rel(index, root)
    try:
        doc = yaml.load(index.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ParameterError(f"not valid YAML ({getattr(exc, 'problem', exc)})",
                             file=rel_index) from None
    specs = doc.get("tables") or {}
    if not isinstance(specs, Mapping):
        raise ParameterError("'tables' must be a mapping name → {file, unit, description}",
                             file=rel_index, column="tables")
    regions = _load_tree(root_str)
    tables: dict[str, RegionTable] = {}
    for name, spec in specs.items():
        name = str(name)
        if not isinstance(spec, Mapping) or not spec.get("file") or not spec.get("unit"):
            raise ParameterError("a table needs 'file' and 'unit'", file=rel_index,
                                 column=f"tables.{name}")
        path = root / TABLES_DIR / str(spec["file"])
        table = read_region_table(path, name, regions, rel=_rel(path, root),
                                  unit=str(spec["unit"]),
                                  description=str(spec.get("description", "")))
        # a name is defined once per region: in YAML or in the table, not both
        for code in table.regions:
            for rf in regions[code].files:
                if name in rf.parameters:
                    i = int(np.flatnonzero(table.region_code == code)[0])
                    raise ParameterError(f"{name} for region {code} is also defined in "
                                         f"{_rel(rf.path, root)}", file=table.file,
                                         row=int(table.row[i]), column="region_code")
        tables[name] = table
    return tables


def load_tables(params_dir: Path | str | None = None) -> dict[str, RegionTable]:
    """Every per-region table of a params folder, by parameter name (validated, cached)."""
    root = Path(params_dir) if params_dir else default_params_dir()
    return _load_tables(str(root.resolve()))


def list_regions(params_dir: Path | None = None) -> list[Region]:
    root = Path(params_dir) if params_dir else default_params_dir()
    return sorted(_load_tree(str(root.resolve())).values(), key=lambda r: r.code)


def find_region(key: str, params_dir: Path | None = None) -> Region:
    """A region by six-digit code, Chinese name or English name (case-insensitive)."""
    root = Path(params_dir) if params_dir else default_params_dir()
    regions = _load_tree(str(root.resolve()))
    text = str(key).strip()
    if text in regions:
        return regions[text]
    low = text.lower()
    for reg in regions.values():
        if low in (reg.name.lower(), reg.name_en.lower()):
            return reg
    known = ", ".join(f"{r.code} {r.name_en or r.name}" for r in list(regions.values())[:20])
    more = f" and {len(regions) - 20} more (`jiuzhu params regions`)" if len(regions) > 20 else ""
    raise ParameterError(f"unknown region {key!r}; known regions: {known}{more}")


def _chain(region: Region, regions: Mapping[str, Region]) -> list[Region]:
    chain = [region]
    while chain[-1].parent:
        nxt = regions[chain[-1].parent]
        if nxt in chain:
            raise ParameterError(f"region inheritance loops at {nxt.code}")
        chain.append(nxt)
    return list(reversed(chain))


def lookup_table(name: str, region_codes: Any, dates: Any,
                 params_dir: Path | str | None = None) -> np.ndarray:
    """Vectorised: the value of table ``name`` for each household's region and date, taken
    from the nearest region of its inheritance chain that has rows in the table (a county
    with no rows of its own takes its city's or province's). Regions are mapped up the tree
    once per distinct code; NaN where the owning region has no row in force on the date.

    A region code that is not a known region, or whose chain has no rows in the table, is a
    :class:`ParameterError` naming the table file and the codes (first few and how many).
    This is the table alone: a nearer YAML definition of ``name`` does not count here (the
    simulation's :func:`household_parameters` applies the full resolution rule).
    """
    root = Path(params_dir) if params_dir else default_params_dir()
    tables = _load_tables(str(root.resolve()))
    if name not in tables:
        raise ParameterError(f"no table for {name!r} in params/{TABLES_DIR}/{TABLE_INDEX}")
    table = tables[name]
    regions = _load_tree(str(root.resolve()))
    codes = pd.Series(region_codes, dtype="str")
    idx, uniques = pd.factorize(codes)
    uniques = [str(u) for u in uniques]
    unknown = [u for u in uniques if u not in regions]
    if unknown:
        raise ParameterError(f"unknown region code(s) {_few(unknown)}: not in params/regions "
                             f"or params/{TABLES_DIR}/{REGIONS_TABLE}", file=table.file,
                             column="region_code")
    has = table.region_set
    owners = [[r.code for r in reversed(_chain(regions[u], regions)) if r.code in has]
              for u in uniques]
    uncovered = [u for u, o in zip(uniques, owners, strict=True) if not o]
    if uncovered:
        raise ParameterError(f"region code(s) {_few(uncovered)} have no rows in this table, "
                             f"nor does any parent region", file=table.file,
                             column="region_code")
    days = _days(dates, len(codes))
    rows = np.full(len(codes), -1, dtype=np.int64)
    # nearest owner first; where it has no row in force yet, the next one up (POLICY §10) —
    # one vectorised pass per level of the tree, never per household
    for level in range(max((len(o) for o in owners), default=0)):
        level_owner = [o[level] if level < len(o) else "" for o in owners]
        owner_idx = table.regions.get_indexer(pd.Index(level_owner, dtype=object)).astype(
            np.int64)
        todo = rows < 0
        if not todo.any():
            break
        found = table.rows_at(owner_idx[idx] if len(idx) else np.zeros(0, np.int64), days)
        rows = np.where(todo, found, rows)
    return np.where(rows >= 0, table.value[np.maximum(rows, 0)], np.nan)


def resolve_raw(region: Region, date: dt.date, regions: Mapping[str, Region],
                root: Path, extra_files: Iterable[RegionFile] = (),
                tables: Mapping[str, RegionTable] | None = None,
                chains: dict[str, list[dict[str, Any]]] | None = None,
                only: Any = None) -> tuple[dict[str, ParamValue], dict[str, str]]:
    """Values in force on ``date`` for ``region`` (inherited, before derivation).

    Walks the chain national → province → city → county; at each level the YAML files and
    the tables' rows of that region define names, and the nearest definition that has a
    value on ``date`` wins: before a region's first dated value its parent's value of that
    date applies (POLICY.md §10). Names no definition has a value for yet are returned
    apart, with the nearest definition's one-line reason (file and key); using one of them
    is an error, loading is not. When ``chains`` is given it receives, per name, every
    definition met on the way, each with a ``status``: ``used``, ``overridden`` (a farther
    one it replaced) or ``not_yet`` (a nearer one whose first value is later than
    ``date``). ``only`` (a predicate on names) restricts the walk.
    """
    tables = tables or {}
    if only is not None:
        tables = {k: t for k, t in tables.items() if only(k)}
    defs: dict[str, list[tuple[Region, Any, Any]]] = {}
    for reg in _chain(region, regions):
        for rf in reg.files:
            for name, spec in rf.parameters.items():
                if only is None or only(name):
                    defs.setdefault(name, []).append((reg, rf, spec))
        for name, table in tables.items():
            if reg.code in table.region_set:
                defs.setdefault(name, []).append((reg, table, None))
    for rf in extra_files:
        for name, spec in rf.parameters.items():
            defs.setdefault(name, []).append((region, rf, spec))
    out: dict[str, ParamValue] = {}
    unavailable: dict[str, str] = {}
    for name, found in defs.items():
        entries = []
        for reg, src, spec in found:
            entries.append(_definition(name, reg, src, spec, date, root))
        # the nearest definition with a value on ``date``: before a region's first dated
        # value its parent's value of that date applies (POLICY.md §10)
        used = next((i for i in range(len(entries) - 1, -1, -1)
                     if entries[i]["value"] is not None), None)
        if chains is not None:
            for i, e in enumerate(entries):
                e["status"] = ("not_yet" if used is None or i > used else
                               "used" if i == used else "overridden")
            chains[name] = entries
        if used is None:
            unavailable[name] = entries[-1].pop("_unavailable")
            continue
        last = entries[used]
        last.pop("_unavailable", None)
        reg, src, spec = found[used]
        unit = src.unit if isinstance(src, RegionTable) else str(spec.get("unit", ""))
        desc = src.description if isinstance(src, RegionTable) else str(
            spec.get("description", ""))
        out[name] = ParamValue(name=name, value=last["value"], unit=unit, description=desc,
                               reference=last["reference"], since=last["since"],
                               source=last["source"])
    for entries in (chains or {}).values():
        for e in entries:
            e.pop("_unavailable", None)
    return out, unavailable


def _table_entry(name: str, reg: Region, table: RegionTable, row: int, date: dt.date
                 ) -> dict[str, Any]:
    """The definition of ``name`` by ``table`` at region ``reg``: row ``row`` (the one in force
    on ``date``, −1 for none — then ``value`` is None and ``_unavailable`` says why)."""
    entry: dict[str, Any] = {"region_code": reg.code, "region_name": reg.name, "value": None,
                             "since": "", "reference": "", "source": table.file}
    if row < 0:
        entry["_unavailable"] = ParameterError(
            f"region {reg.code} has no row in force on {date.isoformat()} (its first row "
            f"applies from {table.first_day(reg.code)})", file=table.file, column=name
        ).one_line()
        return entry
    value = float(table.value[row])
    entry.update(value=int(value) if value.is_integer() else value,
                 since=_day_to_date(int(table.effective_day[row])).isoformat(),
                 reference=str(table.reference[row]), source=f"{table.file} row {table.row[row]}")
    return entry


def _definition(name: str, reg: Region, src: Any, spec: Any, date: dt.date, root: Path
                ) -> dict[str, Any]:
    """One definition of ``name`` at region ``reg`` (a YAML file or a table), with the value
    it gives on ``date`` (None when it has none yet)."""
    entry: dict[str, Any] = {"region_code": reg.code, "region_name": reg.name, "value": None,
                             "since": "", "reference": "", "source": ""}
    if isinstance(src, RegionTable):
        return _table_entry(name, reg, src, int(src.rows_for([reg.code], date)[0]), date)
    entry["source"] = _rel(src.path, root)
    applicable = [t for t in spec["_dated"] if t[0] <= date]
    if not applicable:
        first = spec["_dated"][0][0].isoformat()
        entry["_unavailable"] = ParameterError(
            f"parameter has no value on or before {date.isoformat()} "
            f"(its first value applies from {first})", file=entry["source"], column=name,
        ).one_line()
        return entry
    since, value, ref = applicable[-1]
    entry.update(value=value, since=since.isoformat(), reference=ref)
    return entry


# ---------------------------------------------------------------------------------------
# Derived standards (POLICY.md §2)


def round_standard(amount: float, rule: str) -> float:
    """Apply the dibao rounding rule (``dibao.rounding``) to a monthly yuan amount."""
    if rule == "ceil_yuan":
        return float(math.ceil(round(amount, 6)))
    if rule == "round_yuan":
        return float(math.floor(amount + 0.5))
    if rule == "ceil_ten_yuan":
        return float(math.ceil(round(amount, 6) / 10.0) * 10)
    if rule == "none":
        return float(amount)
    raise ParameterError(f"unknown rounding rule {rule!r} (ceil_yuan, round_yuan, "
                         f"ceil_ten_yuan, none)", column="dibao.rounding")


def _put(values: dict[str, ParamValue], name: str, value: Any, unit: str, description: str,
         formula: str, locked: set[str], inputs: tuple[str, ...] = ()) -> None:
    if name in locked:
        return
    values[name] = ParamValue(name=name, value=value, unit=unit, description=description,
                              reference=f"{DERIVED_REFERENCE}: {formula}", source="derived",
                              inputs=inputs)


def derive(values: dict[str, ParamValue], locked: set[str] = frozenset(),
           unavailable: Mapping[str, str] | None = None) -> dict[str, ParamValue]:
    """Compute derived standards from their inputs; names in ``locked`` are kept as given.

    - ``dibao.standard.urban`` / ``.rural``: explicit ones win; else ``dibao.standard``;
      else ceil(minimum_wage × ``dibao.standard_ratio_to_minimum_wage``) (000: ≥ 48%).
    - ``tekun.basic_standard.*`` = dibao standard × ``tekun.basic_ratio_to_dibao`` (000: 130%).
    - ``tekun.care_standard.{self_care,semi_care,full_care}`` = minimum wage × care ratio
      (000: 10/25/50%).
    - ``tekun.institutional_basic_standard.*`` = basic × ``tekun.institutional_multiplier``
      (000: 150%; applied to the basic standard only, an assumption in params).
    - ``marginal.threshold.*`` = dibao standard × ``marginal.ratio_to_dibao``.
    """
    v = dict(values)
    rounding = str(v["dibao.rounding"].value) if "dibao.rounding" in v else "ceil_yuan"
    wage = v.get("minimum_wage")
    ratio = v.get("dibao.standard_ratio_to_minimum_wage")
    if "dibao.standard" not in v:
        if wage is None or ratio is None:
            for needed in ("minimum_wage", "dibao.standard_ratio_to_minimum_wage"):
                if unavailable and needed in unavailable:
                    raise ParameterError(unavailable[needed])
            raise ParameterError("dibao.standard is not set and cannot be derived "
                                 "(needs minimum_wage and dibao.standard_ratio_to_minimum_wage)")
        _put(v, "dibao.standard", round_standard(float(wage.value) * float(ratio.value), rounding),
             "yuan/person/month", "低保标准 dibao standard (derived from the minimum wage)",
             f"{rounding}(minimum_wage {wage.value} × ratio {ratio.value})", locked,
             ("minimum_wage", "dibao.standard_ratio_to_minimum_wage", "dibao.rounding"))
    base = float(v["dibao.standard"].value)
    for area in ("urban", "rural"):
        key = f"dibao.standard.{area}"
        if key not in v or (key not in locked and v[key].source == "derived"):
            _put(v, key, base, "yuan/person/month", f"低保标准 dibao standard ({area})",
                 "dibao.standard", locked, ("dibao.standard",))
    if "tekun.basic_ratio_to_dibao" in v:
        r = float(v["tekun.basic_ratio_to_dibao"].value)
        mult = float(v["tekun.institutional_multiplier"].value) if "tekun.institutional_multiplier" in v else None
        for area in ("urban", "rural"):
            std = float(v[f"dibao.standard.{area}"].value)
            _put(v, f"tekun.basic_standard.{area}", round_standard(std * r, rounding),
                 "yuan/person/month", f"特困基本生活标准 tekun basic standard ({area})",
                 f"{rounding}(dibao.standard.{area} {std} × {r})", locked,
                 (f"dibao.standard.{area}", "tekun.basic_ratio_to_dibao", "dibao.rounding"))
            if mult is not None:
                basic = float(v[f"tekun.basic_standard.{area}"].value)
                _put(v, f"tekun.institutional_basic_standard.{area}",
                     round_standard(basic * mult, rounding), "yuan/person/month",
                     f"集中供养基本生活标准 institutional tekun basic standard ({area})",
                     f"{rounding}(tekun.basic_standard.{area} {basic} × {mult})", locked,
                     (f"tekun.basic_standard.{area}", "tekun.institutional_multiplier",
                      "dibao.rounding"))
    if wage is not None:
        for level in ("self_care", "semi_care", "full_care"):
            key = f"tekun.care_ratio_to_minimum_wage.{level}"
            if key in v:
                amount = round_standard(float(wage.value) * float(v[key].value), rounding)
                _put(v, f"tekun.care_standard.{level}", amount, "yuan/person/month",
                     f"特困照料护理标准 tekun care standard ({level})",
                     f"{rounding}(minimum_wage {wage.value} × {v[key].value})", locked,
                     ("minimum_wage", key, "dibao.rounding"))
    if "marginal.ratio_to_dibao" in v:
        k = float(v["marginal.ratio_to_dibao"].value)
        for area in ("urban", "rural"):
            std = float(v[f"dibao.standard.{area}"].value)
            _put(v, f"marginal.threshold.{area}", std * k, "yuan/person/month",
                 f"低保边缘认定线 marginal threshold ({area})",
                 f"dibao.standard.{area} {std} × {k}", locked,
                 (f"dibao.standard.{area}", "marginal.ratio_to_dibao"))
    return v


# ---------------------------------------------------------------------------------------
# Overrides


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` → (key, value); the value is read as a YAML scalar (0.5, true, ceil_yuan)."""
    if "=" not in text:
        raise ParameterError(f"--set {text!r}: expected KEY=VALUE")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ParameterError(f"--set {text!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def apply_overrides(params: Parameters, overrides: Mapping[str, Any] | Iterable[str]) -> Parameters:
    if not isinstance(overrides, Mapping):
        overrides = dict(parse_override(o) for o in overrides)
    if not overrides:
        return params
    base = {k: pv for k, pv in params.values.items()}
    locked: set[str] = set()
    for key, value in overrides.items():
        targets = [key]
        # --set dibao.standard=X sets both urban and rural (CONTRACT §2)
        if key == "dibao.standard":
            targets = [key, "dibao.standard.urban", "dibao.standard.rural"]
        if key not in base and not any(t in base for t in targets):
            raise ParameterError(f"--set {key}: unknown parameter for region "
                                 f"{params.region_code} (see `jiuzhu params show`)")
        old = base.get(key)
        if old is not None and isinstance(old.value, (int, float)) and not isinstance(old.value, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f"--set {key}={value!r}: expected a number")
        for t in targets:
            prev = base.get(t, old)
            base[t] = ParamValue(name=t, value=value, unit=prev.unit if prev else "",
                                 description=prev.description if prev else "",
                                 reference="override (--set)", source="--set")
            locked.add(t)
    # recompute derived values from their (possibly overridden) inputs
    raw = {k: pv for k, pv in base.items() if pv.source != "derived" or k in locked}
    return Parameters(params.region_code, params.region_name, params.date,
                      derive(raw, locked, params.unavailable), dict(params.unavailable),
                      chains=params.chains, inheritance=params.inheritance,
                      overrides={**params.overrides, **overrides}, params_dir=params.params_dir)


# ---------------------------------------------------------------------------------------
# Entry point


def _as_date(date: dt.date | str | None) -> dt.date:
    if date is None:
        return dt.date.today()
    if isinstance(date, dt.datetime):
        return date.date()
    if isinstance(date, dt.date):
        return date
    try:
        return dt.date.fromisoformat(str(date))
    except ValueError:
        raise ParameterError(f"--date {date!r}: expected YYYY-MM-DD") from None


def load_parameters(region: str | Path = "350581", date: dt.date | str | None = None,
                    overrides: Mapping[str, Any] | Iterable[str] = (),
                    params_dir: Path | str | None = None) -> Parameters:
    """Parameters for a region (code, name or a YAML file) on a date, with overrides.

    A file given as ``region`` is a region file of its own (``region.parent`` says where it
    inherits from); it is applied last, on top of its parent chain.
    """
    root = Path(params_dir) if params_dir else default_params_dir()
    regions = _load_tree(str(root.resolve()))
    day = _as_date(date)
    extra: list[RegionFile] = []
    candidate = Path(str(region))
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_file():
            raise ParameterError("parameter file not found", file=str(candidate))
        rf = _read_region_file(candidate, candidate.parent)
        extra.append(rf)
        if rf.code in regions:
            reg = regions[rf.code]
        elif rf.parent and rf.parent in regions:
            reg = Region(rf.code, rf.name, rf.name_en, rf.parent)
            regions = {**regions, rf.code: reg}
        else:
            raise ParameterError(f"region {rf.code} is unknown and its parent {rf.parent!r} "
                                 f"has no file under {root}", file=str(candidate),
                                 column="region.parent")
    else:
        reg = find_region(str(region), root)
    chains: dict[str, list[dict[str, Any]]] = {}
    raw, unavailable = resolve_raw(reg, day, regions, root, extra,
                                   _load_tables(str(root.resolve())), chains)
    inheritance = [{"region_code": r.code, "name": r.name, "name_en": r.name_en}
                   for r in _chain(reg, regions)]
    params = Parameters(reg.code, reg.name, day, derive(raw, unavailable=unavailable),
                        unavailable, chains=chains, inheritance=inheritance,
                        params_dir=str(root.resolve()))
    return apply_overrides(params, overrides)


@lru_cache(maxsize=4096)
def _table_owners(root: str, code: str) -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    """For each table of a regional name (:func:`follows_region`): the regions of ``code``'s
    chain whose table rows may define it, nearest first — those nearer than the nearest
    region defining the name in YAML — and whether such a YAML definition exists farther
    up (it applies where none of those rows is in force yet, POLICY.md §10). Names a nearer
    YAML file defines than any table row are left out."""
    regions = _load_tree(root)
    chain = _chain(regions[code], regions)
    out = []
    for name, table in _load_tables(root).items():
        if not follows_region(name):
            continue
        owners: list[str] = []
        yaml_above = False
        for reg in reversed(chain):
            if any(name in rf.parameters for rf in reg.files):
                yaml_above = True
                break
            if reg.code in table.region_set:
                owners.append(reg.code)
        if owners:
            out.append((name, tuple(owners), yaml_above))
    return tuple(out)


@lru_cache(maxsize=4096)
def _yaml_change_days(root: str, code: str) -> np.ndarray:
    """Every date (days since 1970, sorted) on which a regional YAML value of ``code``'s
    chain changes: between two of them the YAML part of its standards is the same."""
    regions = _load_tree(root)
    days = {_date_to_day(day) for reg in _chain(regions[code], regions) for rf in reg.files
            for name, spec in rf.parameters.items() if follows_region(name)
            for day, _, _ in spec["_dated"]}
    return np.array(sorted(days), dtype=np.int64)


@lru_cache(maxsize=8192)
def _standards_with_rows(root: str, code: str, day: dt.date,
                         table_rows: tuple[tuple[str, str, int], ...],
                         overrides_json: str) -> Parameters:
    """The standards of region ``code`` on ``day`` (:data:`REGIONAL_NAMES` and what they
    derive from): YAML names by inheritance, table names from the rows the vectorised lookup
    found (``table_rows``: name, owning region, row; −1 for none in force), then
    :func:`derive` and the run's overrides of regional names — the same rule as
    :func:`load_parameters`, restricted to those names."""
    regions = _load_tree(root)
    tables = _load_tables(root)
    reg = regions[code]
    chains: dict[str, list[dict[str, Any]]] = {}
    raw, unavailable = resolve_raw(reg, day, regions, Path(root), (), {}, chains,
                                   only=follows_region)
    for name, owner, row in table_rows:
        table = tables[name]
        entry = _table_entry(name, regions[owner], table, row, day)
        for farther in chains.get(name, []):
            farther["status"] = "overridden"
        entry["status"] = "used"
        reason = entry.pop("_unavailable", None)
        chains.setdefault(name, []).append(entry)
        raw.pop(name, None)
        unavailable.pop(name, None)
        if reason is not None:
            unavailable[name] = reason
            continue
        raw[name] = ParamValue(name=name, value=entry["value"], unit=table.unit,
                               description=table.description, reference=entry["reference"],
                               since=entry["since"], source=entry["source"])
    params = Parameters(reg.code, reg.name, day, derive(raw, unavailable=unavailable),
                        unavailable, chains=chains, params_dir=root,
                        inheritance=[{"region_code": r.code, "name": r.name,
                                      "name_en": r.name_en} for r in _chain(reg, regions)])
    overrides = {k: v for k, v in json.loads(overrides_json).items() if follows_region(k)}
    return apply_overrides(params, overrides)


def household_parameters(params: Parameters, region_codes: Any, dates: Any = None, *,
                         factorized: tuple[np.ndarray, Any] | None = None
                         ) -> tuple[np.ndarray, list[Parameters]]:
    """The standards (:data:`REGIONAL_NAMES`, with what they derive from) of each household,
    from its own region and date: ``(index, resolved)``, household ``i``'s standards being
    ``resolved[index[i]]``.

    ``dates``: one per household (date / datetime64 / 'YYYY-MM-DD' / int days since 1970),
    or None for the run's date (``params.date``). ``factorized``: ``(codes, uniques)`` of
    ``region_codes`` when the caller already has them.

    Regional names backed by a ``params/tables`` table are looked up **vectorised**, every
    household at once (:meth:`RegionTable.rows_at`: one ``np.searchsorted``), at the region
    of its chain that owns the name — the nearest region defining it in YAML or in the
    table, as in :func:`resolve_raw`; a county with no row of its own takes its province's.
    The other regional names come from the YAML tree, once per region and period between
    two YAML value dates. Households with the same region, YAML period and table rows share
    one resolution (derived standards, the run's ``--set`` overrides of regional names), so
    the cost is one derivation per distinct combination, never per household. Households of
    the run's region on the run's date get ``params`` itself, unchanged.

    A code that is not a known region is a :class:`ParameterError` naming the codes (first
    few and how many); a table-owned value with no row in force is the table's one-line
    error when a standard needs it.
    """
    if factorized is None:
        codes = region_codes if isinstance(region_codes, pd.Series) else pd.Series(
            region_codes, dtype="str")
        code_idx, uniques = pd.factorize(codes.astype("str"))
    else:
        code_idx, uniques = factorized
    code_idx = np.asarray(code_idx, dtype=np.int64)
    uniques = [str(u) for u in uniques]
    n = len(code_idx)
    run_day = _date_to_day(params.date)
    if dates is None:
        days = np.full(n, run_day, dtype=np.int64)
    elif isinstance(dates, np.ndarray) and dates.dtype.kind in "iu":
        days = dates.astype(np.int64)
    else:
        days = np.array(_days(dates, n), dtype=np.int64)
    if n == 0 or (uniques == [params.region_code] and (days == run_day).all()):
        return np.zeros(n, dtype=np.int64), [params]
    root = params.params_dir or str(default_params_dir().resolve())
    regions = _load_tree(root)
    unknown = [u for u in uniques if u not in regions]
    if unknown:
        raise ParameterError(f"unknown region code(s) {_few(unknown)}: not in params/regions "
                             f"or params/{TABLES_DIR}/{REGIONS_TABLE}", column="region_code")
    tables = _load_tables(root)
    owners = [{name: (cands, yaml_above) for name, cands, yaml_above in _table_owners(root, u)}
              for u in uniques]
    names = sorted({name for o in owners for name in o})

    # the YAML part changes only on YAML value dates: the latest one on or before each day
    yaml_day = days
    if dates is not None:
        changes = [_yaml_change_days(root, u) for u in uniques]
        sizes = np.array([len(c) for c in changes], dtype=np.int64)
        change_code = np.repeat(np.arange(len(uniques), dtype=np.int64), sizes)
        change_day = np.concatenate(changes) if len(changes) else np.zeros(0, np.int64)
        change_key = change_code * (1 << 32) + (change_day + _DAY_OFFSET)
        pos = np.searchsorted(change_key, code_idx * (1 << 32) + (days + _DAY_OFFSET),
                              side="right") - 1
        safe = np.maximum(pos, 0)
        found = (pos >= 0) & (change_code[safe] == code_idx) if len(change_key) else \
            np.zeros(n, dtype=bool)
        yaml_day = np.where(found, change_day[safe] if len(change_key) else days, days)

    # table-owned names: one vectorised lookup over all households per table and tree level
    # (nearest owner first; where its rows have none in force yet, the next one up)
    rows: dict[str, np.ndarray] = {}
    for name in names:
        table = tables[name]
        cands = [o.get(name, ((), False))[0] for o in owners]
        found = np.full(n, -1, dtype=np.int64)
        for level in range(max(len(c) for c in cands)):
            level_owner = [c[level] if level < len(c) else "" for c in cands]
            owner_idx = table.regions.get_indexer(pd.Index(level_owner, dtype=object))
            todo = found < 0
            if not todo.any():
                break
            found = np.where(todo, table.rows_at(owner_idx.astype(np.int64)[code_idx], days),
                             found)
        rows[name] = found
        # no row in force: keep the household's own date (its message names it)
        has_owner = np.array([bool(c) for c in cands], dtype=bool)[code_idx]
        yaml_day = np.where(has_owner & (found < 0), days, yaml_day)

    # one resolution per distinct (region, YAML period, table rows)
    combo = code_idx
    for column in (yaml_day, *(rows[name] for name in names)):
        col_codes, col_uniques = pd.factorize(column)
        combo = pd.factorize(combo * len(col_uniques) + col_codes)[0].astype(np.int64)
    k = int(combo.max()) + 1
    first = np.full(k, n, dtype=np.int64)
    np.minimum.at(first, combo, np.arange(n, dtype=np.int64))
    earliest = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(earliest, combo, days)
    overrides_json = json.dumps(params.overrides, sort_keys=True, default=str)
    resolved: list[Parameters] = []
    for c in range(k):
        h = int(first[c])
        code, day = uniques[int(code_idx[h])], int(earliest[c])
        if code == params.region_code and day == run_day:
            resolved.append(params)
            continue
        table_rows = []
        for name in names:
            cands, yaml_above = owners[int(code_idx[h])].get(name, ((), False))
            row = int(rows[name][h])
            if row >= 0:
                table_rows.append((name, str(tables[name].region_code[row]), row))
            elif cands and not yaml_above:  # nothing in force: the nearest owner's message
                table_rows.append((name, cands[0], -1))
            # else a farther YAML definition applies (resolved with the YAML part)
        resolved.append(_standards_with_rows(root, code, _day_to_date(day), tuple(table_rows),
                                             overrides_json))
    return combo, resolved


def regional_parameters(params: Parameters, region_codes: Iterable[str]
                        ) -> dict[str, Parameters]:
    """The standards (:data:`REGIONAL_NAMES`, with what they derive from) of each region in
    ``region_codes`` on ``params.date``, with the same ``--set`` overrides as ``params`` (so
    ``--set dibao.standard=X`` still sets every household's standard). The run's own region
    maps to ``params`` itself, unchanged. (:func:`household_parameters` for one code each.)
    """
    codes = list(dict.fromkeys(str(c) for c in region_codes))
    index, resolved = household_parameters(params, codes)
    return {code: resolved[int(i)] for code, i in zip(codes, index, strict=True)}


def parse_region_at(text: str) -> tuple[str, str | None]:
    """``REGION`` or ``REGION@YYYY-MM-DD`` (as in ``jiuzhu params diff A@D1 B@D2``)."""
    region, _, when = str(text).partition("@")
    return region, (when or None)


def value_origin(params: Parameters, name: str) -> dict[str, Any]:
    """Where ``params`` takes ``name`` from: ``own`` (the region defines it itself),
    ``region_code`` / ``region_name`` of the definition used (a parent's when the region
    has none of its own, or none in force yet on the date — POLICY.md §10), and whether that
    value is an assumption. Derived and ``--set`` values are their own kind."""
    pv = params.values.get(name)
    if pv is None:
        return {"own": False, "region_code": "", "region_name": "", "kind": "none",
                "assumption": False}
    if pv.source in ("derived", "--set"):
        return {"own": True, "region_code": params.region_code,
                "region_name": params.region_name, "kind": pv.source, "assumption": False}
    used = next((e for e in params.chains.get(name, []) if e.get("status") == "used"), None)
    code = used["region_code"] if used else params.region_code
    name_of = used["region_name"] if used else params.region_name
    own = code == params.region_code
    not_yet = [e for e in params.chains.get(name, []) if e.get("status") == "not_yet"]
    return {"own": own, "region_code": code, "region_name": name_of,
            "kind": "own" if own else ("before_own" if not_yet else "inherited"),
            "assumption": str(pv.reference).strip().lower().startswith("assumption")}


def diff_parameters(a: Parameters, b: Parameters,
                    labels: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """Names whose values differ between two parameter sets (two regions or two dates), and
    names one side defines itself while the other falls back to a parent's value.

    Each row: ``name``, the two values under ``labels`` (default: the region codes, or
    ``code@date`` when both are one region), where each value comes from (``source_*``,
    ``reference_*``) and its origin (``origin_a`` / ``origin_b``: :func:`value_origin` —
    own value, or the parent region it falls back to and whether that is an assumption).
    """
    if labels is None:
        labels = (a.region_code, b.region_code)
        if labels[0] == labels[1]:
            labels = (f"{a.region_code}@{a.date.isoformat()}", f"{b.region_code}@{b.date.isoformat()}")
    rows = []
    for name in sorted(set(a.values) | set(b.values)):
        va, vb = a.get(name), b.get(name)
        oa, ob = value_origin(a, name), value_origin(b, name)
        ownership_differs = (oa["kind"] not in ("derived", "--set", "none")
                             and ob["kind"] not in ("derived", "--set", "none")
                             and oa["own"] != ob["own"])
        if va != vb or ownership_differs:
            pa, pb = a.values.get(name), b.values.get(name)
            rows.append({"name": name, labels[0]: va, labels[1]: vb,
                         "source_a": "" if pa is None else pa.source,
                         "source_b": "" if pb is None else pb.source,
                         "reference_a": "" if pa is None else pa.reference,
                         "reference_b": "" if pb is None else pb.reference,
                         "origin_a": oa, "origin_b": ob})
    return rows
