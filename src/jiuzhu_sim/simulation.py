"""Apply the rules to a population (CONTRACT §3–4): entitlements, enrollment, summary.

Data flow: ``prepare_population`` (validate and convert the two input frames to a
:class:`~jiuzhu_sim.population.model.Population` of numpy arrays, one error per user
mistake) → the rule engine (:func:`jiuzhu_sim.rules.engine.compute`: the named quantities of
:mod:`jiuzhu_sim.rules` composed once, in the CONTRACT §4 order, vectorised with
``np.bincount`` over a household index) → the process model (:mod:`jiuzhu_sim.population.process`) when enrollment
is not observed → metrics (:mod:`jiuzhu_sim.metrics`) → files.

Decisions worth knowing (see also docs/metrics.md):

- **Tekun members are a unit of their own.** A tekun person (POLICY.md §3.5) gets tekun,
  not dibao (002 §二(六)). The household's dibao assessment then covers the remaining
  members only (``assessed_members``): their income, headcount and rigid spending. The asset
  test divides the household's assets by all co-resident members (``members``), tekun
  included: the assets are shared, and it keeps eligibility monotone in the standard. ``per_capita_income`` in households_out is per assessed member
  (the income the rules compare with the standard); when every member is tekun it falls back
  to all members' income / ``members``, the household is ``none`` for dibao and its
  ``assessed_per_capita_income`` is empty (NaN).
- **Employment-income disregard** (收入扣减): an earner is a non-tekun person of working age
  (``tekun.minor_age`` ≤ age < ``dibao.elderly_age``) with work capacity and income > 0.
- **Single-person coverage** (单人保) applies to a severely disabled or seriously ill member
  whose own (assessed) income is below the standard; a member with income ≥ standard
  would get 0 and is not counted as covered.
- **Gradual exit** (渐退): a household no longer eligible under paths 1–3 whose
  ``previous_dibao_benefit`` > 0 and ``months_above_standard`` ≤ ``dibao.gradual_exit_months``
  keeps ``dibao.gradual_exit_benefit_share`` × the previous benefit; it is reported as
  ``dibao_type = household`` with ``gradual_exit = true`` and counts as eligible.
- **Money** is float64 yuan. Each paid amount is rounded **once**, by its rule parameter
  (:func:`jiuzhu_sim.rules.round_money`): the household's dibao payment — top-up or
  single-person amounts, minimum payment, classified add-ons, or the gradual-exit amount —
  by ``dibao.benefit_rounding``; each tekun person's benefit by ``tekun.benefit_rounding``
  (the household's tekun total is the sum of its persons' amounts). No intermediate amount
  is rounded. The top-up is computed as standard × members − assessed income total (same
  as (standard − per capita) × members, without a rounded per-capita step). The income
  columns of households_out are shown to the fen.
- **Standards by region and date**: each household's standards come from its own
  ``region_code`` and, when the households file has an ``assessment_date`` column
  (YYYY-MM-DD; blank = the run's date), that date — table-backed names through the
  vectorised table lookup (:func:`jiuzhu_sim.parameters.household_parameters`).
- **Tekun take-up** is taken as complete (tekun persons are registry-identified); the
  process model draws dibao enrollment only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim import metrics, setops
from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.io import (
    csv_table,
    distinct_text,
    read_csv_typed,
    read_table,
    require_columns,
    strict_bool,
    strict_numeric,
    strip_text,
    write_csv,
    write_csv_arrow,
    write_table,
)
from jiuzhu_sim.population.model import Population
from jiuzhu_sim.rules import (
    DIBAO_TYPES,
    DISABILITY_TYPES,
    MONTHS_PER_YEAR,
    TYPE_NONE,
    engine,
    round_yuan,
)
from jiuzhu_sim.rules import dibao as dibao_rules
from jiuzhu_sim.rules import tekun as tekun_rules

__all__ = ["DISABILITY_TYPES", "Population", "entitlement_arrays", "household_standards",
           "prepare_population", "simulate", "simulate_files", "simulate_population"]

PERSON_COLUMNS = [
    "person_id", "household_id", "age", "monthly_income", "disability_grade", "disability_type",
    "serious_illness", "work_capacity", "has_supporter", "in_school", "college_student",
    "care_level", "institutional", "medical_expense_annual", "education_expense_annual",
    "rehab_expense_annual",
]
HOUSEHOLD_COLUMNS = [
    "household_id", "region_code", "urban", "financial_assets", "non_essential_vehicle",
    "dwellings",
]
# the typed columns of the two inputs, for the fast CSV reader (read_population)
PERSON_NUMERIC = ["age", "monthly_income", "disability_grade", "medical_expense_annual",
                  "education_expense_annual", "rehab_expense_annual"]
PERSON_BOOLEAN = ["serious_illness", "work_capacity", "has_supporter", "in_school",
                  "college_student", "institutional"]
HOUSEHOLD_NUMERIC = ["financial_assets", "dwellings", "weight", "previous_dibao_benefit",
                     "months_above_standard"]
HOUSEHOLD_BOOLEAN = ["urban", "non_essential_vehicle", "enrolled_dibao"]
HOUSEHOLDS_OUT_COLUMNS = [
    "household_id", "members", "per_capita_income", "assessed_per_capita_income",
    "dibao_standard", "dibao_eligible", "dibao_type", "dibao_members", "dibao_monthly_benefit",
    "tekun_persons", "tekun_monthly_benefit", "marginal", "enrolled",
    # extras
    "region_code", "urban", "weight", "assessed_members", "assets_pass", "gradual_exit",
    "marginal_threshold", "marginal_monthly_benefit", "measured_per_capita_income",
    "paid_dibao_monthly_benefit",
]
PERSONS_OUT_COLUMNS = [
    "person_id", "household_id", "dibao_covered", "tekun", "tekun_monthly_benefit",
    # extras
    "dibao_standard", "dibao_single", "severely_disabled",
]


# ---------------------------------------------------------------------------------------
# Input: validation and conversion (vectorised; the first bad cell raises UserInputError)


def _id_strings(frame: pd.DataFrame, column: str) -> pd.Series:
    """An ID/code column as stripped strings ('' for blank), vectorised; RangeIndex.

    Kept as a pandas string Series (not a numpy object array): factorizing and hashing
    Arrow-backed strings is several times faster at millions of rows.
    """
    s = frame[column].reset_index(drop=True)
    if pd.api.types.is_float_dtype(s):
        arr = s.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(arr) & (np.floor(arr) == arr)
        text = s.astype(str)
        text[whole] = pd.Series(arr[whole].astype(np.int64)).astype(str).to_numpy()
        text[np.isnan(arr)] = ""
        return text.astype("str")
    if pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s.astype("str")
    return strip_text(s.astype("str").fillna(""))


def _word_codes(frame: pd.DataFrame, column: str, vocabulary: Sequence[str], file: str,
                what: str, allowed: str) -> np.ndarray:
    """A category column (stripped, lower-case words) as int8 codes into ``vocabulary``,
    −1 for a blank cell. The distinct cells are cleaned and looked up once (factorize), not
    every row. An unknown word raises a one-line :class:`UserInputError` naming its first
    row: ``unknown {what} 'word' ({allowed})``."""
    n = len(frame)
    if column not in frame.columns:
        return np.full(n, -1, dtype=np.int8)
    codes, uniques = pd.factorize(frame[column].reset_index(drop=True), use_na_sentinel=True)
    words = pd.Series(np.asarray(uniques, dtype=object), dtype="str").fillna("").str.strip()
    words = words.str.lower()
    lookup = pd.Index(list(vocabulary)).get_indexer(words.to_numpy(dtype=object))
    lookup[(words == "").to_numpy()] = -1
    unknown = (lookup < 0) & (words != "").to_numpy()
    # factorize codes are −1 for a missing cell (blank)
    out = np.where(codes < 0, -1, np.append(lookup, -1)[codes]).astype(np.int8)
    if unknown.any():
        bad_rows = setops.isin(codes, np.flatnonzero(unknown))
        i = _first(bad_rows)
        raise UserInputError(f"unknown {what} {words.iloc[codes[i]]!r} ({allowed})",
                             file=file, row=i + 1, column=column)
    return out


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_ids(ids: pd.Series, file: str, column: str, unique: bool,
               distinct: Future | None = None) -> np.ndarray | None:
    """Blank IDs are errors; with ``unique``, so are duplicates. ``distinct``:
    :func:`distinct_text` of ``ids`` already under way on another thread."""
    blank = (ids == "").to_numpy()
    if blank.any():
        raise UserInputError("empty ID", file=file, row=_first(blank) + 1, column=column)
    if not unique or (distinct.result() if distinct is not None else distinct_text(ids)):
        return None
    codes, uniques = pd.factorize(ids)
    if len(uniques) < len(ids):
        i = _first(ids.duplicated().to_numpy())
        raise UserInputError(f"duplicate {column} {ids.iloc[i]!r}", file=file, row=i + 1,
                             column=column)
    return codes


def _optional_dates(frame: pd.DataFrame, column: str, file: str) -> np.ndarray | None:
    """An optional date column (YYYY-MM-DD, or dates from xlsx/Parquet) as datetime64[D];
    blank cells are NaT. The first bad cell raises a one-line :class:`UserInputError`."""
    if column not in frame.columns:
        return None
    s = frame[column].reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.to_numpy().astype("datetime64[D]")
    text = s.astype("string").fillna("").str.strip().str.replace(r"[ T]00:00:00$", "",
                                                                  regex=True)
    blank = text.isin(("", "NaT", "nan", "None")).to_numpy()
    parsed = pd.to_datetime(text.where(~blank, None), format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna().to_numpy() & ~blank
    if bad.any():
        i = _first(bad)
        raise UserInputError(f"date {text.iloc[i]!r} is not YYYY-MM-DD", file=file, row=i + 1,
                             column=column)
    return parsed.to_numpy().astype("datetime64[D]")


def known_region_codes(params_dir: str | Path | None = None) -> set[str]:
    """Codes of the regions in ``params_dir`` (default: the params/ folder in use)."""
    from jiuzhu_sim.parameters import list_regions

    return {r.code for r in list_regions(Path(params_dir) if params_dir else None)}


def prepare_population(persons: pd.DataFrame, households: pd.DataFrame,
                       file_names: tuple[str, str] = ("persons", "households"),
                       region_codes: set[str] | None = None) -> Population:
    """Validate the two input frames (CONTRACT §3) and convert them to arrays.

    Raises :class:`UserInputError` naming file, 1-based data row and column for: a missing
    column, a non-numeric or negative number, a bad boolean or category, an empty or
    duplicate ID, a person whose household is missing, a household with no members, an
    unknown region code.
    """
    pfile, hfile = (str(f) for f in file_names)
    require_columns(persons, PERSON_COLUMNS, pfile)
    require_columns(households, HOUSEHOLD_COLUMNS, hfile)

    # the persons' IDs proven distinct (a sort of millions of numbers) and their category
    # columns coded (Arrow's dictionary encoding), both without the GIL, on another thread
    # while the households are checked; each answer (or error) is read where its check stood,
    # so the first error reported is the same
    pid = _id_strings(persons, "person_id")
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuzhu-check")
    pid_distinct = pool.submit(distinct_text, pid)
    type_codes = pool.submit(
        _word_codes, persons, "disability_type", DISABILITY_TYPES, pfile, "disability type",
        f"{', '.join(DISABILITY_TYPES)} or empty")
    care_codes = pool.submit(
        _word_codes, persons, "care_level", tekun_rules.CARE_LEVELS, pfile, "care level",
        f"{', '.join(tekun_rules.CARE_LEVELS)}; empty = self_care")
    try:
        hid = _id_strings(households, "household_id")
        _check_ids(hid, hfile, "household_id", unique=True)
        region = _id_strings(households, "region_code")
        known = known_region_codes() if region_codes is None else region_codes
        region_codes_, region_uniques = pd.factorize(region)
        _, region_first = np.unique(region_codes_, return_index=True)
        bad_region = ~region.iloc[region_first].isin(known).to_numpy()
        if bad_region.any():
            i = int(region_first[bad_region].min())
            raise UserInputError(f"unknown region code {region.iloc[i]!r} (known: "
                                 f"{', '.join(sorted(known))})", file=hfile, row=i + 1,
                                 column="region_code")
        urban = strict_bool(households, "urban", hfile)
        assets = strict_numeric(households, "financial_assets", hfile, minimum=0)
        vehicle = strict_bool(households, "non_essential_vehicle", hfile)
        dwellings = strict_numeric(households, "dwellings", hfile, minimum=0, integer=True)
        weight = strict_numeric(households, "weight", hfile, minimum=0, default=1.0)
        enrolled = (strict_bool(households, "enrolled_dibao", hfile)
                    if "enrolled_dibao" in households.columns else None)
        previous = strict_numeric(households, "previous_dibao_benefit", hfile, minimum=0, default=0.0)
        months_above = strict_numeric(households, "months_above_standard", hfile, minimum=0,
                                      default=0.0)
        assessment_date = _optional_dates(households, "assessment_date", hfile)

        _check_ids(pid, pfile, "person_id", unique=True, distinct=pid_distinct)
        phid = _id_strings(persons, "household_id")
        _check_ids(phid, pfile, "household_id", unique=False)
        hh = _households_in_order(hid, phid)
        if hh is None:
            # person → household row: factorize both ID columns together
            codes, _ = pd.factorize(pd.concat([hid, phid], ignore_index=True))
            code_to_row = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
            code_to_row[codes[:len(hid)]] = np.arange(len(hid))
            hh = code_to_row[codes[len(hid):]]
        if (hh < 0).any():
            i = _first(hh < 0)
            raise UserInputError(f"household {phid.iloc[i]!r} is not in {hfile}", file=pfile,
                                 row=i + 1, column="household_id")
        counts = np.bincount(hh, minlength=len(hid))
        if (counts == 0).any():
            i = _first(counts == 0)
            raise UserInputError(f"household {hid.iloc[i]!r} has no members in {pfile}", file=hfile,
                                 row=i + 1, column="household_id")

        age = strict_numeric(persons, "age", pfile, minimum=0)
        income = strict_numeric(persons, "monthly_income", pfile, minimum=0)
        grade = strict_numeric(persons, "disability_grade", pfile, minimum=0, integer=True)
        if (grade > 4).any():
            i = _first(grade > 4)
            raise UserInputError(f"disability grade must be 0–4, got {grade[i]:g}", file=pfile,
                                 row=i + 1, column="disability_grade")
        type_code = type_codes.result()
        care_code = np.maximum(care_codes.result(), 0)  # blank = self_care
    except BaseException:
        # an earlier check failed: the work queued behind it is not started
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=False)
    rigid = np.zeros(len(persons))
    for col in ("medical_expense_annual", "education_expense_annual", "rehab_expense_annual"):
        rigid += strict_numeric(persons, col, pfile, minimum=0)
    pop = Population(
        person_id=pid, person_household_id=phid, hh=hh.astype(np.int64), age=age,
        monthly_income=income, disability_grade=grade.astype(np.int8),
        intellectual_mental=setops.isin(type_code, [DISABILITY_TYPES.index(t) for t in
                                                dibao_rules.INTELLECTUAL_MENTAL]),
        disability_type_code=type_code,
        serious_illness=strict_bool(persons, "serious_illness", pfile),
        work_capacity=strict_bool(persons, "work_capacity", pfile),
        has_supporter=strict_bool(persons, "has_supporter", pfile),
        in_school=strict_bool(persons, "in_school", pfile),
        college_student=strict_bool(persons, "college_student", pfile),
        care_code=care_code, institutional=strict_bool(persons, "institutional", pfile),
        rigid_annual=rigid, household_id=hid, region_code=region, urban=urban,
        financial_assets=assets, non_essential_vehicle=vehicle, dwellings=dwellings,
        weight=weight, enrolled_observed=enrolled, previous_dibao_benefit=previous,
        months_above_standard=months_above, assessment_date=assessment_date,
    )
    pop.extra["region_index"] = (region_codes_.astype(np.int64),
                                 np.asarray(region_uniques, dtype=object))
    return pop


def _households_in_order(hid: pd.Series, phid: pd.Series) -> np.ndarray | None:
    """Each person's household row when the persons file lists households in the households
    file's order, each household's members together (as generated files and most exports
    do): found by comparing neighbours, no hashing. ``None`` otherwise (the caller then
    factorizes). ``hid`` must be distinct."""
    import pyarrow.compute as pc

    from jiuzhu_sim.io import _arrow_text

    persons, households = _arrow_text(phid, combine=False), _arrow_text(hid, combine=False)
    if persons is None or households is None or len(persons) == 0:
        return None
    starts = np.ones(len(persons), dtype=bool)
    starts[1:] = pc.not_equal(persons[1:], persons[:-1]).to_numpy(zero_copy_only=False)
    first = np.flatnonzero(starts)
    if len(first) != len(households) or not pc.all(
            pc.equal(persons.take(first), households)).as_py():
        return None
    return np.cumsum(starts) - 1


def validate_population(persons: pd.DataFrame, households: pd.DataFrame,
                        file_names: tuple[str, str] = ("persons", "households")) -> None:
    """Raise :class:`UserInputError` on the first problem in the inputs (see
    :func:`prepare_population`)."""
    prepare_population(persons, households, file_names)


# ---------------------------------------------------------------------------------------
# Rules over arrays: the engine (rules/engine.py); these names stay for callers


region_index = engine.region_index
assessment_days = engine.assessment_days
regional_resolution = engine.regional_resolution
household_standards = engine.household_standards


def entitlement_arrays(pop: Population, params) -> dict[str, np.ndarray]:
    """Every quantity of the rules as arrays: :func:`jiuzhu_sim.rules.engine.compute`."""
    return engine.compute(pop, params)


# ---------------------------------------------------------------------------------------
# Frames and summary


@dataclass
class SimulationResult:
    households: pd.DataFrame
    persons: pd.DataFrame
    summary: dict[str, Any]


@dataclass
class Entitlements:
    households: pd.DataFrame
    persons: pd.DataFrame
    arrays: dict[str, np.ndarray]
    population: Population


def _finite_or_nan(x: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(x), x, np.nan)


def _frames(pop: Population, a: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame(_household_columns(pop, a), copy=False),
            pd.DataFrame(_person_columns(pop, a), copy=False))


def _words_at(words: Sequence[str], codes: np.ndarray):
    """``words[codes]`` as the text column a DataFrame makes of it: where pandas keeps text
    in Arrow (pandas 3), built by Arrow's take rather than from a million Python strings;
    otherwise the object array pandas keeps."""
    dtype = pd.Series(list(words)).dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return np.asarray(words, dtype=object)[codes]
    import pyarrow as pa

    return pd.array(pa.array(list(words), pa.large_string()).take(pa.array(codes)),
                    dtype=dtype)


def _household_columns(pop: Population, a: dict[str, np.ndarray]) -> dict[str, Any]:
    """households_out's columns (in :data:`HOUSEHOLDS_OUT_COLUMNS` order; ``enrolled``,
    ``measured_per_capita_income`` and ``paid_dibao_monthly_benefit`` not yet drawn)."""
    return {
        "household_id": pop.household_id,
        "members": a["h_members"],
        "per_capita_income": round_yuan(a["h_pc_income"]),
        "assessed_per_capita_income": round_yuan(_finite_or_nan(a["h_assessed_out"])),
        "dibao_standard": a["h_standard"],
        "dibao_eligible": a["h_type"] != TYPE_NONE,
        "dibao_type": _words_at(DIBAO_TYPES, a["h_type"]),
        "dibao_members": a["h_dibao_members"],
        "dibao_monthly_benefit": a["h_dibao_benefit"],
        "tekun_persons": a["h_tekun_persons"],
        "tekun_monthly_benefit": a["h_tekun_benefit"],
        "marginal": a["h_marginal"],
        "enrolled": np.zeros(pop.n_households, dtype=bool),
        "region_code": pop.region_code,
        "urban": pop.urban,
        "weight": pop.weight,
        "assessed_members": a["h_unit"],
        "assets_pass": a["h_assets_pass"],
        "gradual_exit": a["h_gradual_exit"],
        "marginal_threshold": a["h_threshold"],
        "marginal_monthly_benefit": a["h_marginal_benefit"],
        "measured_per_capita_income": np.full(pop.n_households, np.nan),
        "paid_dibao_monthly_benefit": np.zeros(pop.n_households),
    }


def _person_columns(pop: Population, a: dict[str, np.ndarray]) -> dict[str, Any]:
    """persons_out's columns, in :data:`PERSONS_OUT_COLUMNS` order."""
    return {
        "person_id": pop.person_id,
        "household_id": pop.person_household_id,
        "dibao_covered": a["p_covered"],
        "tekun": a["p_tekun"],
        "tekun_monthly_benefit": a["p_tekun_benefit"],
        "dibao_standard": a["p_standard"],
        "dibao_single": a["p_single"],
        "severely_disabled": a["p_severe"],
    }


def compute_entitlements(persons: pd.DataFrame, households: pd.DataFrame, params,
                         file_names: tuple[str, str] = ("persons", "households")
                         ) -> Entitlements:
    """The deterministic rules only (no enrollment draw): households_out and persons_out
    frames with ``enrolled`` all false and no payment columns filled."""
    pop = prepare_population(persons, households, file_names,
                             known_region_codes(params.params_dir))
    arrays = entitlement_arrays(pop, params)
    hframe, pframe = _frames(pop, arrays)
    return Entitlements(hframe, pframe, arrays, pop)


def _num(x: float | None, digits: int = 6):
    if x is None:
        return None
    return round(float(x), digits)


def _count(x: float):
    return int(round(x)) if float(x).is_integer() else round(float(x), 4)


def summarise(h: pd.DataFrame, params, income_all: np.ndarray | None = None) -> dict[str, Any]:
    """summary.json content (CONTRACT §4) from a households_out frame (with ``enrolled``
    and ``paid_dibao_monthly_benefit`` filled). Formulas: docs/metrics.md.

    ``income_all``: total monthly income of all members per household (tekun included), the
    pre-transfer income of the poverty measures; default ``per_capita_income × members``
    (exact unless the household has tekun members).
    """
    w = h["weight"].to_numpy(float)
    members = h["members"].to_numpy(float)
    eligible = h["dibao_eligible"].to_numpy(bool)
    enrolled = h["enrolled"].to_numpy(bool)
    paid = h["paid_dibao_monthly_benefit"].to_numpy(float)
    costs = engine.program_costs(paid, h["tekun_monthly_benefit"].to_numpy(float),
                                 h["marginal_monthly_benefit"].to_numpy(float))
    standard = h["dibao_standard"].to_numpy(float)
    entitled = h["dibao_monthly_benefit"].to_numpy(float)
    by_program = {p: float((w * costs[p]).sum()) for p in engine.PROGRAMS}
    # rounded to the fen once per program; totals are sums of the rounded parts, so every
    # figure in summary.json reconciles to the fen (tests/test_simulation.py)
    monthly_by = {k: round(v, 2) for k, v in by_program.items()}
    annual_by = {k: round(v * MONTHS_PER_YEAR, 2) for k, v in monthly_by.items()}
    monthly = {"total": round(sum(monthly_by.values()), 2), "by_program": monthly_by}
    annual = {"total": round(sum(annual_by.values()), 2), "by_program": annual_by}
    # per-capita income of all members, before and after transfers actually paid
    if income_all is None:
        income_all = h["per_capita_income"].to_numpy(float) * members
    pc_before = np.asarray(income_all, dtype=float) / members
    transfers = engine.monthly_transfers(costs)
    pc_after = pc_before + transfers / members
    types = h["dibao_type"]
    return {
        "households": _count(w.sum()),
        "persons": _count((w * members).sum()),
        "sample_households": int(len(h)),
        "sample_persons": int(members.sum()),
        "eligible_households": _count(w[eligible].sum()),
        "eligible_persons": _count((w * h["dibao_members"].to_numpy(float))[eligible].sum()),
        "enrolled_households": _count(w[enrolled].sum()),
        "coverage_rate": _num(metrics.coverage_rate(eligible, enrolled, w)),
        "exclusion_error_rate": _num(metrics.exclusion_error_rate(eligible, enrolled, w)),
        "inclusion_error_rate": _num(metrics.inclusion_error_rate(eligible, enrolled, w)),
        "leakage_rate": _num(metrics.leakage_rate(paid, eligible, w)),
        "monthly_cost": monthly,
        "annual_cost": annual,
        "entitled_monthly_cost": {p: round(float((w * entitled).sum()) if p == "dibao"
                                           else by_program[p], 2) for p in engine.PROGRAMS},
        "dibao_types": {t: _count(w[(types == t).to_numpy(bool)].sum()) for t in DIBAO_TYPES},
        "tekun_persons": _count((w * h["tekun_persons"].to_numpy(float)).sum()),
        "marginal_households": _count(w[h["marginal"].to_numpy(bool)].sum()),
        "gradual_exit_households": _count(w[h["gradual_exit"].to_numpy(bool)].sum()),
        "poverty": {
            "line": "dibao standard (per capita, person-weighted)",
            "before": {k: _num(v) for k, v in metrics.fgt_family(pc_before, standard, members,
                                                                  w).items()},
            "after": {k: _num(v) for k, v in metrics.fgt_family(pc_after, standard, members,
                                                                 w).items()},
        },
        "cgh_index": _num(metrics.cgh_index(pc_before, transfers, members, w)),
        "parameters": params.to_records(),
    }


def simulate_population(pop: Population, params, seed: int = 0,
                        on_persons=None, on_households=None) -> SimulationResult:
    """Rules + enrollment + summary on an already validated :class:`Population`.

    ``on_persons``: called with persons_out as soon as it is final (before the enrolment
    draw and the summary), e.g. to start writing it; ``on_households``: called with
    households_out once it is final (before the summary). Neither frame is changed after."""
    from jiuzhu_sim.population.process import (
        draw_process_arrays,
        household_hashes,
        process_key,
        uniforms_from_hashes,
    )

    hashes = None
    if pop.enrolled_observed is None:
        # the households' hashes for the process model's draw (numpy, without the GIL) on
        # another thread while the rules run on this one
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuzhu-hash")
        hashes = pool.submit(household_hashes, pop.household_id)
        pool.shutdown(wait=False)
    arrays = entitlement_arrays(pop, params)
    # copy=False: the frames take the columns as built (pandas would copy each one and
    # consolidate the numbers into blocks: fresh memory, faulted in page by page)
    p = pd.DataFrame(_person_columns(pop, arrays), copy=False)
    if on_persons is not None:
        on_persons(p)
    # the columns are completed first and each frame built once (building a frame and then
    # replacing columns copies every column again)
    hc = _household_columns(pop, arrays)
    if pop.enrolled_observed is not None:
        hc["enrolled"] = np.asarray(pop.enrolled_observed, dtype=bool)
        hc["measured_per_capita_income"] = hc["assessed_per_capita_income"]
    else:  # population/process.draw_process on the columns
        draw = draw_process_arrays(
            uniforms_from_hashes(hashes.result(), process_key(np.random.default_rng(seed)), 4),
            np.asarray(hc["assessed_per_capita_income"], dtype="float64"),
            np.asarray(hc["dibao_standard"], dtype="float64"),
            arrays["h_type"] == DIBAO_TYPES.index("single"),
            np.asarray(hc["assets_pass"], dtype=bool),
            np.asarray(hc["assessed_members"]) > 0, np.asarray(hc["gradual_exit"], dtype=bool),
            params)
        hc["enrolled"] = draw.enrolled
        hc["measured_per_capita_income"] = round_yuan(_finite_or_nan(
            draw.measured_per_capita_income))
    hc["paid_dibao_monthly_benefit"] = engine.paid_dibao(
        hc["enrolled"], hc["dibao_eligible"], np.asarray(hc["dibao_monthly_benefit"], float),
        np.asarray(hc["dibao_standard"], float),
        np.asarray(hc["measured_per_capita_income"], float),
        np.asarray(hc["assessed_members"], float), params)
    h = pd.DataFrame(hc, copy=False)
    if on_households is not None:
        on_households(h)
    summary = summarise(h, params, arrays["h_income_all"])
    summary["enrollment_source"] = ("observed enrolled_dibao" if pop.enrolled_observed
                                    is not None else "process model (population/process.py)")
    summary["seed"] = seed
    _, resolved = regional_resolution(pop, params)
    if len(resolved) > 1 or resolved[0] is not params:
        from jiuzhu_sim.parameters import REGIONAL_NAMES

        # by region code; by code@date for households assessed on another date
        summary["regional_standards"] = {
            (r.region_code if r.date == params.date else f"{r.region_code}@{r.date}"):
                [r.values[n].as_record() for n in REGIONAL_NAMES if n in r.values]
            for r in resolved}
    return SimulationResult(h, p, summary)


def simulate(persons: pd.DataFrame, households: pd.DataFrame, params, seed: int = 0
             ) -> SimulationResult:
    """Rules, enrollment (observed ``enrolled_dibao`` or the process model's draw, seeded)
    and summary (without manifest; :func:`simulate_files` adds it)."""
    pop = prepare_population(persons, households,
                             region_codes=known_region_codes(params.params_dir))
    result = simulate_population(pop, params, seed)
    result.summary["manifest"] = None
    return result


# ---------------------------------------------------------------------------------------
# Files


def _write_csv(frame: pd.DataFrame, path: Path, parts: int = 1) -> Path:
    """CSV in UTF-8 with BOM (Excel shows Chinese), written by pyarrow (fast; ``parts``
    slices formatted at once)."""
    return write_csv_arrow(frame, path, parts=parts)


def simulate_calibrated(pop: Population, params, seed: int = 0) -> SimulationResult:
    """Simulate, calibrate the household weights to the region's ``calibration.*`` targets
    (population by age group, dibao recipients urban/rural — the enrolled persons of this
    run —, mean income; bounded by ``calibration.weight_ratio_bounds`` if set), and simulate
    again with the calibrated weights (the rules and the seeded process draw do not depend on
    weights, so only the weighted figures change). ``summary["calibration"]`` holds the fit
    before and after, the weight diagnostics and the uncalibrated headline figures."""
    import dataclasses

    from jiuzhu_sim.population.reweight import calibrate_population

    first = simulate_population(pop, params, seed)
    h = first.households
    recipients = engine.recipients_on_roster(
        h["dibao_eligible"].to_numpy(bool), h["enrolled"].to_numpy(bool),
        h["dibao_members"].to_numpy(float), h["assessed_members"].to_numpy(float))
    persons = pd.DataFrame({"household_id": pop.household_id.to_numpy(dtype=object)[pop.hh],
                            "age": pop.age, "monthly_income": pop.monthly_income})
    households = pd.DataFrame({"household_id": pop.household_id.to_numpy(dtype=object),
                               "urban": pop.urban, "weight": pop.weight})
    cal = calibrate_population(persons, households, params, recipients=recipients)
    second = simulate_population(dataclasses.replace(pop, weight=cal.weights), params, seed)
    headline = ("households", "persons", "eligible_persons", "coverage_rate",
                "exclusion_error_rate", "inclusion_error_rate", "leakage_rate")
    second.summary["calibration"] = {
        "method": cal.method, "converged": cal.converged, "iterations": cal.iterations,
        "fit": cal.fit.to_dict(orient="records"), "weights": cal.diagnostics(),
        "uncalibrated": {k: first.summary[k] for k in headline}
        | {"annual_cost": first.summary["annual_cost"]}}
    return second


def read_population(persons_path: Path | str, households_path: Path | str) -> Population:
    """Read and validate the two inputs. Clean UTF-8 CSVs go through Arrow's multithreaded
    reader with typed columns (:func:`jiuzhu_sim.io.read_csv_typed`); any file it declines,
    and any file whose validation fails, is read again by the general reader, so every error
    message names the cell as written in the file."""
    persons_path, households_path = Path(persons_path), Path(households_path)
    names = (str(persons_path), str(households_path))
    persons = read_csv_typed(persons_path, PERSON_NUMERIC, PERSON_BOOLEAN,
                             columns=PERSON_COLUMNS)
    households = (read_csv_typed(households_path, HOUSEHOLD_NUMERIC, HOUSEHOLD_BOOLEAN,
                                 columns=[*HOUSEHOLD_COLUMNS, *HOUSEHOLD_NUMERIC,
                                          *HOUSEHOLD_BOOLEAN, "assessment_date"])
                  if persons is not None else None)
    if persons is not None and households is not None and len(persons) and len(households):
        try:
            return prepare_population(persons, households, names)
        except UserInputError:
            pass  # the general reader below raises it again with the cell's own text
    del persons, households
    persons = read_table(persons_path)
    households = read_table(households_path)
    for frame, path, what in ((households, households_path, "households"),
                              (persons, persons_path, "persons")):
        if not len(frame):  # nothing to simulate: a mistake, not an empty result
            raise UserInputError(f"no {what} (only a header, or an empty file)",
                                 file=str(path))
    return prepare_population(persons, households, names)


def simulate_files(persons_path, households_path, out_dir, params, seed: int = 0,
                   fmt: str = "csv", command: list[str] | None = None,
                   calibrate: bool = False) -> dict[str, Any]:
    """Read, validate, simulate and write households_out, persons_out and summary.json
    (with ``calibrate``: weights calibrated first, :func:`simulate_calibrated`, and the fit
    also written to calibration_fit.csv)."""
    from jiuzhu_sim.manifest import build_manifest, hash_in_background

    started = dt.datetime.now(dt.UTC)
    pop = read_population(persons_path, households_path)
    # the inputs' SHA-256 for the manifest, on the core the one-threaded rules leave idle
    digests = hash_in_background([persons_path, households_path])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet" or calibrate:
        result = (simulate_calibrated if calibrate else simulate_population)(pop, params, seed)
        if fmt == "parquet":
            write_table(result.households, out / "households_out.parquet", "parquet")
            write_table(result.persons, out / "persons_out.parquet", "parquet")
        else:
            _write_csv(result.households, out / "households_out.csv", parts=2)
            _write_csv(result.persons, out / "persons_out.csv", parts=2)
    else:
        # persons_out is final before the enrolment draw and the summary, households_out
        # before the summary: Arrow formats each on other threads (it releases the GIL)
        # while the rest runs; written under partial names and renamed once the run has
        # succeeded, so a failed run leaves no half output
        partial = {name: out / f"{name}.csv.partial" for name in ("persons_out",
                                                                  "households_out")}
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                jobs = []
                result = simulate_population(
                    pop, params, seed,
                    on_persons=lambda p: jobs.append(
                        pool.submit(_write_csv, p, partial["persons_out"])),
                    # the Arrow table is taken here, on this thread: the summary then reads
                    # the frame while the writer reads only the table
                    on_households=lambda h: jobs.append(pool.submit(
                        _write_csv, csv_table(h), partial["households_out"], parts=2)))
                for job in jobs:
                    job.result()
        except BaseException:
            for path in partial.values():
                path.unlink(missing_ok=True)
            raise
        for name, path in partial.items():
            path.replace(out / f"{name}.csv")
    summary = result.summary
    if calibrate:
        write_csv(pd.DataFrame(summary["calibration"]["fit"]), out / "calibration_fit.csv")
    summary["manifest"] = build_manifest(params=params, inputs=[persons_path, households_path],
                                         seed=seed, command=command, started=started,
                                         digests=digests)
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2,
                                                 default=str), encoding="utf-8")
    return summary
