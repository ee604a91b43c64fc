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

import yaml

from jiuzhu_sim.exceptions import ParameterError

NATIONAL_CODE = "000000"
DERIVED_REFERENCE = "derived"


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
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


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
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
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


@lru_cache(maxsize=8)
def _load_tree(root_str: str) -> dict[str, Region]:
    root = Path(root_str)
    regions: dict[str, Region] = {}
    for path in sorted(root.rglob("*.yaml")):
        if "scenarios" in path.relative_to(root).parts:
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
    for reg in regions.values():
        if reg.parent and reg.parent not in regions:
            raise ParameterError(f"parent region {reg.parent} of {reg.code} has no file",
                                 file=_rel(reg.files[0].path, root), column="region.parent")
    return regions


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
    known = ", ".join(f"{r.code} {r.name_en or r.name}" for r in regions.values())
    raise ParameterError(f"unknown region {key!r}; known regions: {known}")


def _chain(region: Region, regions: Mapping[str, Region]) -> list[Region]:
    chain = [region]
    while chain[-1].parent:
        nxt = regions[chain[-1].parent]
        if nxt in chain:
            raise ParameterError(f"region inheritance loops at {nxt.code}")
        chain.append(nxt)
    return list(reversed(chain))


def resolve_raw(region: Region, date: dt.date, regions: Mapping[str, Region],
                root: Path, extra_files: Iterable[RegionFile] = ()
                ) -> tuple[dict[str, ParamValue], dict[str, str]]:
    """Values in force on ``date`` for ``region`` (inherited, before derivation).

    Names with no value yet on ``date`` are returned apart, with a one-line reason that
    names the file and key; using one of them is an error, loading is not.
    """
    specs: dict[str, tuple[dict, RegionFile]] = {}
    for reg in _chain(region, regions):
        for rf in reg.files:
            for name, spec in rf.parameters.items():
                specs[name] = (spec, rf)
    for rf in extra_files:
        for name, spec in rf.parameters.items():
            specs[name] = (spec, rf)
    out: dict[str, ParamValue] = {}
    unavailable: dict[str, str] = {}
    for name, (spec, rf) in specs.items():
        applicable = [t for t in spec["_dated"] if t[0] <= date]
        if not applicable:
            first = spec["_dated"][0][0].isoformat()
            unavailable[name] = ParameterError(
                f"parameter has no value on or before {date.isoformat()} "
                f"(its first value applies from {first})",
                file=_rel(rf.path, root), column=name,
            ).one_line()
            continue
        since, value, ref = applicable[-1]
        out[name] = ParamValue(name=name, value=value, unit=str(spec.get("unit", "")),
                               description=str(spec.get("description", "")), reference=ref,
                               since=since.isoformat(), source=_rel(rf.path, root))
    return out, unavailable


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
         formula: str, locked: set[str]) -> None:
    if name in locked:
        return
    values[name] = ParamValue(name=name, value=value, unit=unit, description=description,
                              reference=f"{DERIVED_REFERENCE}: {formula}", source="derived")


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
             f"{rounding}(minimum_wage {wage.value} × ratio {ratio.value})", locked)
    base = float(v["dibao.standard"].value)
    for area in ("urban", "rural"):
        key = f"dibao.standard.{area}"
        if key not in v or (key not in locked and v[key].source == "derived"):
            _put(v, key, base, "yuan/person/month", f"低保标准 dibao standard ({area})",
                 "dibao.standard", locked)
    if "tekun.basic_ratio_to_dibao" in v:
        r = float(v["tekun.basic_ratio_to_dibao"].value)
        mult = float(v["tekun.institutional_multiplier"].value) if "tekun.institutional_multiplier" in v else None
        for area in ("urban", "rural"):
            std = float(v[f"dibao.standard.{area}"].value)
            _put(v, f"tekun.basic_standard.{area}", round_standard(std * r, rounding),
                 "yuan/person/month", f"特困基本生活标准 tekun basic standard ({area})",
                 f"{rounding}(dibao.standard.{area} {std} × {r})", locked)
            if mult is not None:
                basic = float(v[f"tekun.basic_standard.{area}"].value)
                _put(v, f"tekun.institutional_basic_standard.{area}",
                     round_standard(basic * mult, rounding), "yuan/person/month",
                     f"集中供养基本生活标准 institutional tekun basic standard ({area})",
                     f"{rounding}(tekun.basic_standard.{area} {basic} × {mult})", locked)
    if wage is not None:
        for level in ("self_care", "semi_care", "full_care"):
            key = f"tekun.care_ratio_to_minimum_wage.{level}"
            if key in v:
                amount = round_standard(float(wage.value) * float(v[key].value), rounding)
                _put(v, f"tekun.care_standard.{level}", amount, "yuan/person/month",
                     f"特困照料护理标准 tekun care standard ({level})",
                     f"{rounding}(minimum_wage {wage.value} × {v[key].value})", locked)
    if "marginal.ratio_to_dibao" in v:
        k = float(v["marginal.ratio_to_dibao"].value)
        for area in ("urban", "rural"):
            std = float(v[f"dibao.standard.{area}"].value)
            _put(v, f"marginal.threshold.{area}", std * k, "yuan/person/month",
                 f"低保边缘认定线 marginal threshold ({area})",
                 f"dibao.standard.{area} {std} × {k}", locked)
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
                      derive(raw, locked, params.unavailable), dict(params.unavailable))


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
    raw, unavailable = resolve_raw(reg, day, regions, root, extra)
    params = Parameters(reg.code, reg.name, day, derive(raw, unavailable=unavailable), unavailable)
    return apply_overrides(params, overrides)


def diff_parameters(a: Parameters, b: Parameters) -> list[dict[str, Any]]:
    rows = []
    for name in sorted(set(a.values) | set(b.values)):
        va, vb = a.get(name), b.get(name)
        if va != vb:
            rows.append({"name": name, a.region_code: va, b.region_code: vb})
    return rows
