"""Apply the rules to a population (CONTRACT §3–4): entitlements, enrollment, summary.

Data flow: ``prepare_population`` (validate and convert the two input frames to numpy
arrays, one error per user mistake) → ``entitlement_arrays`` (the rules of
:mod:`jiuzhu_sim.rules`, in the CONTRACT §4 order, vectorised with ``np.bincount`` over a
household index) → the process model (:mod:`jiuzhu_sim.population.process`) when enrollment
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim import metrics
from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.io import (
    distinct_text,
    read_csv_typed,
    read_table,
    require_columns,
    strict_bool,
    strict_numeric,
    write_csv,
    write_csv_arrow,
    write_table,
)
from jiuzhu_sim.rules import (
    DIBAO_TYPES,
    DISABILITY_TYPES,
    MONTHS_PER_YEAR,
    TYPE_EXPENDITURE,
    TYPE_HOUSEHOLD,
    TYPE_NONE,
    TYPE_SINGLE,
    disability_type_codes,
    round_money,
    round_yuan,
)
from jiuzhu_sim.rules import dibao as dibao_rules
from jiuzhu_sim.rules import marginal as marginal_rules
from jiuzhu_sim.rules import tekun as tekun_rules

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


@dataclass
class Population:
    """The two input tables as validated numpy arrays; ``hh`` maps persons → households."""

    person_id: pd.Series
    person_household_id: pd.Series
    hh: np.ndarray
    age: np.ndarray
    monthly_income: np.ndarray
    disability_grade: np.ndarray
    intellectual_mental: np.ndarray
    # index into rules.DISABILITY_TYPES (int8, −1 = none): physical, visual … told apart
    disability_type_code: np.ndarray
    serious_illness: np.ndarray
    work_capacity: np.ndarray
    has_supporter: np.ndarray
    in_school: np.ndarray
    college_student: np.ndarray
    care_code: np.ndarray
    institutional: np.ndarray
    rigid_annual: np.ndarray
    household_id: pd.Series
    region_code: pd.Series
    urban: np.ndarray
    financial_assets: np.ndarray
    non_essential_vehicle: np.ndarray
    dwellings: np.ndarray
    weight: np.ndarray
    enrolled_observed: np.ndarray | None
    previous_dibao_benefit: np.ndarray
    months_above_standard: np.ndarray
    extra: dict = field(default_factory=dict)
    # optional household column ``assessment_date`` (datetime64[D], NaT = the run's date)
    assessment_date: np.ndarray | None = None

    @property
    def n_households(self) -> int:
        return len(self.household_id)


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
    return s.astype("str").fillna("").str.strip()


def _words(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([""] * len(frame), dtype="string")
    return frame[column].astype("string").fillna("").str.strip().str.lower()


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_ids(ids: pd.Series, file: str, column: str, unique: bool) -> np.ndarray | None:
    """Blank IDs are errors; with ``unique``, so are duplicates."""
    blank = (ids == "").to_numpy()
    if blank.any():
        raise UserInputError("empty ID", file=file, row=_first(blank) + 1, column=column)
    if not unique or distinct_text(ids):
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


def known_region_codes() -> set[str]:
    from jiuzhu_sim.parameters import list_regions

    return {r.code for r in list_regions()}


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

    pid = _id_strings(persons, "person_id")
    _check_ids(pid, pfile, "person_id", unique=True)
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
    dtype = _words(persons, "disability_type")
    bad = ~dtype.isin(("", *DISABILITY_TYPES)).to_numpy()
    if bad.any():
        i = _first(bad)
        raise UserInputError(f"unknown disability type {dtype.iloc[i]!r} "
                             f"({', '.join(DISABILITY_TYPES)} or empty)", file=pfile, row=i + 1,
                             column="disability_type")
    care = _words(persons, "care_level")
    bad = ~care.isin(("", *tekun_rules.CARE_LEVELS)).to_numpy()
    if bad.any():
        i = _first(bad)
        raise UserInputError(f"unknown care level {care.iloc[i]!r} "
                             f"({', '.join(tekun_rules.CARE_LEVELS)}; empty = self_care)",
                             file=pfile, row=i + 1, column="care_level")
    care_code = np.zeros(len(persons), dtype=np.int8)
    for code, level in enumerate(tekun_rules.CARE_LEVELS):
        if code:
            care_code[(care == level).to_numpy()] = code
    type_code = disability_type_codes(dtype)
    rigid = np.zeros(len(persons))
    for col in ("medical_expense_annual", "education_expense_annual", "rehab_expense_annual"):
        rigid += strict_numeric(persons, col, pfile, minimum=0)
    pop = Population(
        person_id=pid, person_household_id=phid, hh=hh.astype(np.int64), age=age,
        monthly_income=income, disability_grade=grade.astype(np.int8),
        intellectual_mental=dtype.isin(dibao_rules.INTELLECTUAL_MENTAL).to_numpy(),
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

    persons, households = _arrow_text(phid), _arrow_text(hid)
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
# Rules over arrays


def region_index(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """(code per household, distinct region codes), computed once per population."""
    cached = pop.extra.get("region_index")
    if cached is None:
        codes, uniques = pd.factorize(pop.region_code)
        cached = (codes.astype(np.int64), np.asarray(uniques, dtype=object))
        pop.extra["region_index"] = cached
    return cached


def assessment_days(pop: Population, params) -> np.ndarray | None:
    """Each household's date (days since 1970) for its standards: its ``assessment_date``,
    else the run's date; None when the households file has no such column."""
    if pop.assessment_date is None:
        return None
    run_day = np.datetime64(params.date.isoformat(), "D").astype(np.int64)
    blank = np.isnat(pop.assessment_date)
    return np.where(blank, run_day, pop.assessment_date.astype(np.int64))


def regional_resolution(pop: Population, params) -> tuple[np.ndarray, list]:
    """(index per household, resolved standards): :func:`jiuzhu_sim.parameters.
    household_parameters` for the population's regions (factorised once) and dates."""
    from jiuzhu_sim.parameters import household_parameters

    return household_parameters(params, pop.region_code, assessment_days(pop, params),
                                factorized=region_index(pop))


def household_standards(pop: Population, params) -> dict[str, np.ndarray]:
    """Each household's standards, from its own ``region_code`` and date (POLICY.md §2).

    The standards (:data:`jiuzhu_sim.parameters.REGIONAL_NAMES`: dibao standard, marginal
    threshold, tekun basic / institutional / care standards) follow the household's region:
    its minimum wage or published standard, from YAML or a ``params/tables`` table —
    table-backed names looked up vectorised for every household at once, on its
    ``assessment_date`` or the run's date — then derived once per distinct combination with
    the run's ``--set`` overrides (:func:`jiuzhu_sim.parameters.household_parameters`).
    Every other parameter is the run's. Households of the run's own region on the run's
    date get exactly the run's values.
    Returns per-household arrays by area (``dibao.standard`` etc.) and
    ``tekun.care_standard`` as households × care levels.
    """
    index, resolved = regional_resolution(pop, params)

    def column(name: str) -> np.ndarray:
        return np.array([float(r[name]) for r in resolved], dtype="float64")[index]

    out = {base: np.where(pop.urban, column(f"{base}.urban"), column(f"{base}.rural"))
           for base in ("dibao.standard", "marginal.threshold", "tekun.basic_standard",
                        "tekun.institutional_basic_standard")}
    out["tekun.care_standard"] = np.stack(
        [column(f"tekun.care_standard.{level}") for level in tekun_rules.CARE_LEVELS], axis=1)
    return out


def entitlement_arrays(pop: Population, params) -> dict[str, np.ndarray]:
    """Every intermediate and final quantity of the rules, as arrays (``h_*`` per household,
    ``p_*`` per person). Pure and deterministic; CONTRACT §4 order.

    Speed: per-household sums are ``np.bincount`` over the household index; the rare groups
    (tekun candidates, disabled, ill, earners, single-person candidates) are handled on
    index subsets, so most work is a handful of passes over the person arrays.
    """
    H, P, hh = pop.n_households, len(pop.hh), pop.hh
    income = pop.monthly_income

    def hcount(idx: np.ndarray) -> np.ndarray:
        return np.bincount(hh[idx], minlength=H)

    def hsum_at(idx: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.bincount(hh[idx], weights=values, minlength=H)

    standards = household_standards(pop, params)
    h_standard = standards["dibao.standard"]
    h_threshold = standards["marginal.threshold"]
    h_tekun_basic = standards["tekun.basic_standard"]
    h_tekun_inst = standards["tekun.institutional_basic_standard"]
    h_care = standards["tekun.care_standard"]
    p_standard = h_standard[hh]
    elderly_age = float(params["dibao.elderly_age"])
    minor_age = float(params["tekun.minor_age"])
    im_max = int(params["dibao.severe_disability_max_grade_intellectual_mental"])

    # --- tekun (POLICY.md §3.5): no supporter first (cheap, rare), then the national
    # definitions of no work capacity and no income source (own income < dibao standard)
    c = np.flatnonzero(~pop.has_supporter)
    no_capacity = tekun_rules.no_work_capacity(
        pop.age[c], pop.disability_grade[c], pop.disability_type_code[c],
        pop.serious_illness[c], pop.in_school[c],
        **tekun_rules.no_work_capacity_parameters(params))
    no_income = tekun_rules.no_income_source(income[c], p_standard[c])
    t_idx = c[tekun_rules.tekun_person(no_capacity, no_income, pop.has_supporter[c])]
    tekun_rounding = str(params["tekun.benefit_rounding"])
    t_benefit = tekun_rules.tekun_benefit(
        np.ones(len(t_idx), dtype=bool), pop.institutional[t_idx], h_tekun_basic[hh[t_idx]],
        h_tekun_inst[hh[t_idx]], h_care[hh[t_idx], pop.care_code[t_idx]],
        institutional_multiplier=float(params["tekun.institutional_multiplier"]),
        multiplier_applies_to_care=bool(params["tekun.institutional_multiplier_applies_to_care"]),
        rounding=tekun_rounding)
    p_tekun = np.zeros(P, dtype=bool)
    p_tekun[t_idx] = True
    p_tekun_benefit = np.zeros(P)
    p_tekun_benefit[t_idx] = t_benefit
    unit = ~p_tekun

    # --- the dibao assessment unit: members who are not tekun
    h_members = np.bincount(hh, minlength=H).astype(np.int64)
    h_tekun_persons = hcount(t_idx).astype(np.int64)
    h_unit = h_members - h_tekun_persons
    h_income_all = np.bincount(hh, weights=income, minlength=H)
    h_income_unit = h_income_all - hsum_at(t_idx, income[t_idx])
    share = float(params["dibao.employment_income_disregard_share"])
    p_disregard = np.zeros(P)
    p_earner = np.zeros(P, dtype=bool)
    if share > 0:
        e_idx = np.flatnonzero(unit & pop.work_capacity & (income > 0) & (pop.age >= minor_age)
                               & (pop.age < elderly_age))
        p_earner[e_idx] = True
        p_disregard[e_idx] = dibao_rules.employment_income_disregard(
            income[e_idx], np.ones(len(e_idx), dtype=bool), p_standard[e_idx], share=share,
            cap_months=float(params["dibao.employment_income_disregard_cap"]))
        h_assessed_total = h_income_unit - hsum_at(e_idx, p_disregard[e_idx])
        p_assessed_income = income - p_disregard
    else:
        h_assessed_total = h_income_unit
        p_assessed_income = income
    has_unit = h_unit > 0
    safe_unit = np.maximum(h_unit, 1)
    h_pc_income = np.where(has_unit, h_income_unit / safe_unit, h_income_all / h_members)
    h_assessed_pc = np.where(has_unit, h_assessed_total / safe_unit, np.inf)

    # per member of the whole household: co-resident tekun members share the assets, and this
    # keeps "raising the standard never shrinks eligibility" true when a member turns tekun
    h_assets_pass = has_unit & dibao_rules.asset_test(
        pop.financial_assets, h_members, h_standard, pop.non_essential_vehicle, pop.dwellings,
        asset_limit_months=float(params["dibao.asset_limit_months"]),
        vehicle_disqualifies=bool(params["dibao.vehicle_disqualifies"]),
        max_dwellings=int(params["dibao.max_dwellings"]))

    # (1) whole household 整户保
    whole = h_assets_pass & dibao_rules.below_standard(h_assessed_pc, h_standard)
    # low-income households (< marginal threshold, assets pass) not covered whole
    low_income = h_assets_pass & ~whole & dibao_rules.below_standard(h_assessed_pc,
                                                                      h_threshold)
    d_idx = np.flatnonzero(pop.disability_grade > 0)
    p_severe = np.zeros(P, dtype=bool)
    p_severe[d_idx] = dibao_rules.severe_disability(
        pop.disability_grade[d_idx], pop.intellectual_mental[d_idx],
        int(params["dibao.severe_disability_max_grade"]), im_max)
    ill_or_severe = unit & (pop.serious_illness | p_severe)
    p_special = ill_or_severe | (unit & pop.college_student)
    h_special = hcount(np.flatnonzero(p_special)) > 0
    # (2) expenditure-type 支出型: rigid spending of unit members deducted
    r_idx = np.flatnonzero((pop.rigid_annual > 0) & unit)
    h_rigid = hsum_at(r_idx, pop.rigid_annual[r_idx])
    h_expenditure_pc = dibao_rules.expenditure_assessed_per_capita_income(
        h_assessed_total, h_rigid, h_unit)
    expenditure = low_income & h_special & dibao_rules.below_standard(h_expenditure_pc,
                                                                       h_standard)
    # (3) single person 单人保 in the remaining low-income households
    s_idx = np.flatnonzero(ill_or_severe)
    s_idx = s_idx[(low_income & ~expenditure)[hh[s_idx]]]
    s_idx = s_idx[dibao_rules.below_standard(p_assessed_income[s_idx], p_standard[s_idx])]
    p_single = np.zeros(P, dtype=bool)
    p_single[s_idx] = True
    p_single_benefit = np.zeros(P)
    p_single_benefit[s_idx] = dibao_rules.single_person_benefit(
        p_standard[s_idx], p_assessed_income[s_idx])
    h_single_members = hcount(s_idx).astype(np.int64)
    single = h_single_members > 0

    h_type = np.full(H, TYPE_NONE, dtype=np.int8)
    h_type[whole] = TYPE_HOUSEHOLD
    h_type[expenditure] = TYPE_EXPENDITURE
    h_type[single] = TYPE_SINGLE
    covered_whole = whole | expenditure
    h_assessed_out = np.where(expenditure, h_expenditure_pc, h_assessed_pc)
    h_dibao_members = np.where(covered_whole, h_unit, h_single_members)

    # top-up = standard × members − assessed income total (see module doc); every part of
    # the payment stays unrounded until it is rounded once, below
    finite_expenditure_pc = np.where(np.isfinite(h_expenditure_pc), h_expenditure_pc, 0.0)
    assessed_total_for_topup = np.where(expenditure, finite_expenditure_pc * h_unit,
                                        h_assessed_total)
    topup = dibao_rules.dibao_topup(h_standard, assessed_total_for_topup, h_unit)
    h_benefit = np.where(covered_whole, topup, hsum_at(s_idx, p_single_benefit[s_idx]))
    h_benefit = dibao_rules.apply_minimum_benefit(
        h_benefit, h_dibao_members, float(params["dibao.minimum_benefit"]))
    p_covered = covered_whole[hh] & unit
    p_covered[s_idx] = True
    addon_shares = {k: float(params[f"dibao.addon.{k}_share"])
                    for k in ("elderly", "disabled", "child")}
    p_addon = np.zeros(P)
    if any(addon_shares.values()):
        a_idx = np.flatnonzero(p_covered)
        p_addon[a_idx] = dibao_rules.classified_addon(
            np.ones(len(a_idx), dtype=bool), p_standard[a_idx], pop.age[a_idx] >= elderly_age,
            p_severe[a_idx], pop.age[a_idx] < float(params["tekun.minor_age_in_school"]),
            elderly_share=addon_shares["elderly"], disabled_share=addon_shares["disabled"],
            child_share=addon_shares["child"])
        h_benefit = h_benefit + hsum_at(a_idx, p_addon[a_idx])

    # gradual exit 渐退
    in_grace, kept = dibao_rules.gradual_exit(
        h_type != TYPE_NONE, pop.previous_dibao_benefit, pop.months_above_standard,
        grace_months=float(params["dibao.gradual_exit_months"]),
        benefit_share=float(params["dibao.gradual_exit_benefit_share"]))
    in_grace &= has_unit
    if in_grace.any():
        h_type[in_grace] = TYPE_HOUSEHOLD
        h_dibao_members = np.where(in_grace, h_unit, h_dibao_members)
        h_benefit = np.where(in_grace, kept, h_benefit)
        p_covered |= in_grace[hh] & unit
    # the paid amount, rounded once (dibao.benefit_rounding)
    h_benefit = round_money(h_benefit, str(params["dibao.benefit_rounding"]))

    h_marginal = marginal_rules.marginal_household(
        h_assessed_pc, h_standard, h_threshold, h_assets_pass, covered_whole | in_grace)
    h_marginal_benefit = marginal_rules.marginal_benefit(
        h_marginal, h_standard, h_unit,
        share_of_standard=float(params["marginal.monthly_benefit_share"]),
        rounding=str(params["marginal.benefit_rounding"]))

    return {
        "h_members": h_members, "h_unit": h_unit, "h_standard": h_standard,
        "h_threshold": h_threshold, "h_income_all": h_income_all,
        "h_income_unit": h_income_unit, "h_assessed_total": h_assessed_total,
        "h_pc_income": h_pc_income, "h_assessed_pc": h_assessed_pc,
        "h_expenditure_pc": h_expenditure_pc, "h_rigid": h_rigid,
        "h_assessed_out": h_assessed_out, "h_assets_pass": h_assets_pass,
        "h_low_income": low_income, "h_special": h_special, "h_type": h_type,
        "h_whole": whole, "h_expenditure": expenditure, "h_topup": topup,
        "h_dibao_members": h_dibao_members.astype(np.int64), "h_dibao_benefit": h_benefit,
        "h_gradual_exit": in_grace, "h_tekun_persons": h_tekun_persons,
        # persons' amounts are rounded; rounding their sum by the same rule only clears
        # binary noise (a sum of fen is a whole number of fen)
        "h_tekun_benefit": round_money(hsum_at(t_idx, t_benefit), tekun_rounding,
                                       "tekun.benefit_rounding"),
        "h_marginal": h_marginal,
        "h_marginal_benefit": h_marginal_benefit,
        "p_standard": p_standard, "p_tekun": p_tekun, "p_tekun_benefit": p_tekun_benefit,
        "p_earner": p_earner, "p_disregard": p_disregard,
        "p_assessed_income": p_assessed_income, "p_severe": p_severe, "p_special": p_special,
        "p_single": p_single, "p_single_benefit": p_single_benefit, "p_covered": p_covered,
        "p_addon": p_addon,
    }


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
    households = pd.DataFrame({
        "household_id": pop.household_id,
        "members": a["h_members"],
        "per_capita_income": round_yuan(a["h_pc_income"]),
        "assessed_per_capita_income": round_yuan(_finite_or_nan(a["h_assessed_out"])),
        "dibao_standard": a["h_standard"],
        "dibao_eligible": a["h_type"] != TYPE_NONE,
        "dibao_type": np.asarray(DIBAO_TYPES, dtype=object)[a["h_type"]],
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
        "measured_per_capita_income": np.nan,
        "paid_dibao_monthly_benefit": 0.0,
    })
    persons = pd.DataFrame({
        "person_id": pop.person_id,
        "household_id": pop.person_household_id,
        "dibao_covered": a["p_covered"],
        "tekun": a["p_tekun"],
        "tekun_monthly_benefit": a["p_tekun_benefit"],
        "dibao_standard": a["p_standard"],
        "dibao_single": a["p_single"],
        "severely_disabled": a["p_severe"],
    })
    return households, persons


def compute_entitlements(persons: pd.DataFrame, households: pd.DataFrame, params,
                         file_names: tuple[str, str] = ("persons", "households")
                         ) -> Entitlements:
    """The deterministic rules only (no enrollment draw): households_out and persons_out
    frames with ``enrolled`` all false and no payment columns filled."""
    pop = prepare_population(persons, households, file_names)
    arrays = entitlement_arrays(pop, params)
    hframe, pframe = _frames(pop, arrays)
    return Entitlements(hframe, pframe, arrays, pop)


def _paid(h: pd.DataFrame, params) -> np.ndarray:
    """Dibao money paid per household per month (docs/metrics.md "paid").

    Enrolled and eligible: the entitlement. Enrolled but not eligible (错保): the top-up the
    assessor computed from measured income, at least ``process.inclusion_benefit_floor_share``
    × standard per assessed member. Not enrolled: 0.
    """
    enrolled = h["enrolled"].to_numpy(bool)
    eligible = h["dibao_eligible"].to_numpy(bool)
    standard = h["dibao_standard"].to_numpy(float)
    measured = h["measured_per_capita_income"].to_numpy(float)
    measured = np.where(np.isfinite(measured), measured, standard)
    floor_share = float(params["process.inclusion_benefit_floor_share"])
    per_member = np.maximum(standard - measured, floor_share * standard)
    wrong = round_money(per_member * h["assessed_members"].to_numpy(float),
                        str(params["dibao.benefit_rounding"]))
    return np.where(enrolled & eligible, h["dibao_monthly_benefit"].to_numpy(float),
                    np.where(enrolled, wrong, 0.0))


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
    tekun = h["tekun_monthly_benefit"].to_numpy(float)
    marginal_cash = h["marginal_monthly_benefit"].to_numpy(float)
    standard = h["dibao_standard"].to_numpy(float)
    entitled = h["dibao_monthly_benefit"].to_numpy(float)
    by_program = {"dibao": float((w * paid).sum()), "tekun": float((w * tekun).sum()),
                  "marginal": float((w * marginal_cash).sum())}
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
    transfers = paid + tekun + marginal_cash
    pc_after = pc_before + transfers / members
    types = h["dibao_type"].to_numpy(dtype=object)
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
        "entitled_monthly_cost": {
            "dibao": round(float((w * entitled).sum()), 2),
            "tekun": round(by_program["tekun"], 2),
            "marginal": round(by_program["marginal"], 2)},
        "dibao_types": {t: _count(w[types == t].sum()) for t in DIBAO_TYPES},
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


def simulate_population(pop: Population, params, seed: int = 0) -> SimulationResult:
    """Rules + enrollment + summary on an already validated :class:`Population`."""
    from jiuzhu_sim.population.process import draw_process

    arrays = entitlement_arrays(pop, params)
    h, p = _frames(pop, arrays)
    if pop.enrolled_observed is not None:
        h["enrolled"] = pop.enrolled_observed
        h["measured_per_capita_income"] = h["assessed_per_capita_income"]
    else:
        draw = draw_process(h, params, np.random.default_rng(seed))
        h["enrolled"] = draw.enrolled
        h["measured_per_capita_income"] = round_yuan(_finite_or_nan(
            draw.measured_per_capita_income))
    h["paid_dibao_monthly_benefit"] = _paid(h, params)
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
    return SimulationResult(h[HOUSEHOLDS_OUT_COLUMNS], p[PERSONS_OUT_COLUMNS], summary)


def simulate(persons: pd.DataFrame, households: pd.DataFrame, params, seed: int = 0
             ) -> SimulationResult:
    """Rules, enrollment (observed ``enrolled_dibao`` or the process model's draw, seeded)
    and summary (without manifest; :func:`simulate_files` adds it)."""
    pop = prepare_population(persons, households)
    result = simulate_population(pop, params, seed)
    result.summary["manifest"] = None
    return result


# ---------------------------------------------------------------------------------------
# Files


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """CSV in UTF-8 with BOM (Excel shows Chinese), written by pyarrow (fast)."""
    return write_csv_arrow(frame, path)


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
    recipients = np.where(h["enrolled"].to_numpy(bool),
                          np.where(h["dibao_eligible"].to_numpy(bool),
                                   h["dibao_members"].to_numpy(float),
                                   h["assessed_members"].to_numpy(float)), 0.0)
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
                             quoted_check=("person_id", "household_id"), columns=PERSON_COLUMNS)
    households = (read_csv_typed(households_path, HOUSEHOLD_NUMERIC, HOUSEHOLD_BOOLEAN,
                                 quoted_check=("household_id", "region_code"),
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
    from jiuzhu_sim.manifest import build_manifest

    started = dt.datetime.now(dt.UTC)
    pop = read_population(persons_path, households_path)
    result = (simulate_calibrated if calibrate else simulate_population)(pop, params, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        write_table(result.households, out / "households_out.parquet", "parquet")
        write_table(result.persons, out / "persons_out.parquet", "parquet")
    else:
        # two files at once: pyarrow's CSV writer releases the GIL
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [pool.submit(_write_csv, result.households, out / "households_out.csv"),
                    pool.submit(_write_csv, result.persons, out / "persons_out.csv")]
            for job in jobs:
                job.result()
    summary = result.summary
    if calibrate:
        write_csv(pd.DataFrame(summary["calibration"]["fit"]), out / "calibration_fit.csv")
    summary["manifest"] = build_manifest(params=params, inputs=[persons_path, households_path],
                                         seed=seed, command=command, started=started)
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2,
                                                 default=str), encoding="utf-8")
    return summary
