"""What the rules say about people already on the roster — the audit's door into the rule
engine (CONTRACT §5–6, POLICY.md §3–4, §6; the interface is in the session notes'
ENGINE_API.md).

The audit knows less than the simulation: a roster row carries the program, the coverage
type the approval recorded, the household's verified per-capita income and headcount, the
person's own income, rigid spending, care level and institutional placement — not ages,
disabilities, supporters or assets. :func:`judge_enrolled` therefore judges the income part
of each rule, with the **same named quantities** the simulation composes
(:func:`jiuzhu_sim.rules.dibao.below_standard`, :func:`~jiuzhu_sim.rules.dibao.dibao_topup`,
:func:`~jiuzhu_sim.rules.dibao.expenditure_assessed_per_capita_income`,
:func:`~jiuzhu_sim.rules.dibao.apply_minimum_benefit`,
:func:`jiuzhu_sim.rules.tekun.no_income_source`, :func:`~jiuzhu_sim.rules.tekun.tekun_benefit`,
:func:`jiuzhu_sim.rules.marginal.marginal_benefit`), so that a verdict here and in
``jiuzhu simulate`` cannot differ for the same numbers:

- the asset test is not in audit data: ``known`` does not depend on it (an auditor checks
  assets by hand);
- single-person (单人保) coverage: the member's severe disability or illness is taken as the
  approval recorded it; the household test (per-capita income < marginal threshold) is
  judged;
- tekun: the categories (age, disability, illness — 无劳动能力) and the supporter are taken as
  recorded; 无生活来源 is judged: own income (else the household's per-capita income) below the
  **dibao** standard (民发〔2021〕43号, POLICY.md §3.5).
- "低于" is strict (POLICY.md §10): income equal to the standard is not eligible.

Amounts are per person and month, each rounded once by its program's rounding parameter
(``dibao.benefit_rounding``, ``tekun.benefit_rounding``, ``marginal.benefit_rounding``).
Classified add-ons (分类施保) need ages and disabilities and are not included (all 0 by
default); the minimum payment (``dibao.minimum_benefit``) is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jiuzhu_sim.exceptions import ParameterError
from jiuzhu_sim.rules import dibao as dibao_rules
from jiuzhu_sim.rules import marginal as marginal_rules
from jiuzhu_sim.rules import round_money
from jiuzhu_sim.rules import tekun as tekun_rules

STANDARD_NAMES = ("dibao.standard", "marginal.threshold", "tekun.basic_standard",
                  "tekun.institutional_basic_standard")
"""Keys of :func:`regional_standards` with one value per row (plus ``tekun.care_standard``,
rows × :data:`~jiuzhu_sim.rules.tekun.CARE_LEVELS`)."""
KINDS = ("urban", "rural", "")
PROGRAMS = ("dibao", "tekun", "marginal")
COVERAGE_TYPES = ("household", "single", "expenditure")
OUTPUT_COLUMNS = ("eligible", "known", "missing", "assessed_per_capita_income", "standard",
                  "threshold", "expected_amount", "amount_known", "reason")


def _base_values(resolved) -> dict[str, float]:
    """The region's base standards (kind ''): ``dibao.standard`` itself, and the other
    standards derived from it as for an area with no split standard of its own."""
    from jiuzhu_sim.parameters import derive

    split = tuple(f"{name}." for name in STANDARD_NAMES)
    kept = {k: v for k, v in resolved.values.items() if not k.startswith(split)}
    derived = derive(kept)
    return {name: float(derived[f"{name}.urban"].value) if name != "dibao.standard"
            else float(derived["dibao.standard"].value) for name in STANDARD_NAMES}


def _known_codes(params) -> set[str]:
    from jiuzhu_sim.parameters import list_regions

    root = Path(params.params_dir) if params.params_dir else None
    return {r.code for r in list_regions(root)}


def regional_standards(params, region_code, kind=None, days=None) -> dict[str, np.ndarray]:
    """Per row: the standards in force for that row's region on that row's date (POLICY.md
    §2), resolved exactly as the simulation resolves them
    (:func:`jiuzhu_sim.parameters.household_parameters`: the region's own value, else its
    parent's; table-backed names looked up vectorised; the run's ``--set`` overrides).

    ``region_code``: 6-digit codes as str; a code that is not a known region gets NaN
    standards (a verdict on such a row is then not ``known``). ``kind``: 'urban' / 'rural'
    / '' (or None: the region's base value, ``dibao.standard`` and what derives from it), a
    scalar or one per row; anything else is treated as ''. ``days``: int64 days since
    1970-01-01 per row, or None for ``params.date``.

    Keys: :data:`STANDARD_NAMES` (float arrays) and ``tekun.care_standard`` (rows × 3,
    columns = :data:`jiuzhu_sim.rules.tekun.CARE_LEVELS`).
    """
    from jiuzhu_sim.parameters import household_parameters

    codes = pd.Series(np.asarray(region_code, dtype=object), dtype="object").fillna("")
    codes = codes.astype(str).str.strip().reset_index(drop=True)
    n = len(codes)
    if kind is None or isinstance(kind, str):
        kinds = np.full(n, "" if kind is None else kind, dtype=object)
    else:
        kinds = np.asarray(pd.Series(np.asarray(kind, dtype=object)).fillna("").astype(str),
                           dtype=object)
    column = np.where(kinds == "urban", 0, np.where(kinds == "rural", 1, 2))
    known = codes.isin(_known_codes(params)).to_numpy()
    out = {name: np.full(n, np.nan) for name in STANDARD_NAMES}
    out["tekun.care_standard"] = np.full((n, len(tekun_rules.CARE_LEVELS)), np.nan)
    rows = np.flatnonzero(known)
    if not len(rows):
        return out
    row_days = None if days is None else np.asarray(days, dtype=np.int64)[rows]
    row_codes = codes.iloc[rows].reset_index(drop=True)
    try:
        _fill(out, rows, column[rows], *household_parameters(params, row_codes, row_days))
    except ParameterError:
        # some (region, date) has no standard in force (e.g. before the region's first
        # value): resolve each distinct pair alone and leave the failing ones NaN
        day_of = np.zeros(len(rows), dtype=np.int64) if row_days is None else row_days
        key = pd.factorize(row_codes)[0].astype(np.int64) * (1 << 32) + (day_of + (1 << 31))
        _, pair = np.unique(key, return_inverse=True)
        order = np.argsort(pair, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(pair[order]) != 0])
        for at in np.split(order, starts[1:]):
            try:
                resolution = household_parameters(
                    params, row_codes.iloc[at[:1]].reset_index(drop=True),
                    None if row_days is None else row_days[at[:1]])
            except ParameterError:
                continue
            _fill(out, rows[at], column[rows[at]], *resolution, repeat=len(at))
    return out


def _fill(out: dict[str, np.ndarray], rows: np.ndarray, column: np.ndarray,
          index: np.ndarray, resolved: list, repeat: int | None = None) -> None:
    """Write the resolved standards of ``rows`` (``index`` into ``resolved`` per row, or one
    resolution repeated for every row) into ``out``."""
    if repeat is not None:
        index = np.repeat(np.asarray(index)[:1], repeat)
    for name in STANDARD_NAMES:
        table = np.empty((len(resolved), 3))
        for i, r in enumerate(resolved):
            table[i] = (float(r[f"{name}.urban"]), float(r[f"{name}.rural"]),
                        _base_values(r)[name])
        out[name][rows] = table[index, column]
    care = np.array([[float(r[f"tekun.care_standard.{level}"]) for level in
                      tekun_rules.CARE_LEVELS] for r in resolved]).reshape(len(resolved), -1)
    out["tekun.care_standard"][rows] = care[index]


def _column(x, n: int) -> pd.Series:
    """An input as a length-``n`` object Series (a scalar is repeated)."""
    arr = np.asarray(x, dtype=object)
    if arr.ndim == 0:
        arr = np.full(n, arr.item(), dtype=object)
    if len(arr) != n:
        raise ValueError(f"judge_enrolled: inputs have different lengths ({len(arr)} != {n})")
    return pd.Series(arr, dtype="object")


def _as_float(x, n: int) -> np.ndarray:
    arr = np.asarray(x) if isinstance(x, np.ndarray) else None
    if arr is not None and arr.ndim == 1 and arr.dtype.kind in "fiu" and len(arr) == n:
        return arr.astype("float64")  # already numbers: what to_numeric would give
    return pd.to_numeric(_column(x, n), errors="coerce").to_numpy(dtype="float64",
                                                                   na_value=np.nan)


def _length(x) -> int:
    """The number of rows of an input (1 for a scalar)."""
    if isinstance(x, pd.Categorical | np.ndarray) and np.ndim(x) == 1:
        return len(x)
    return len(np.atleast_1d(np.asarray(x, dtype=object)))


def _as_bool(x, n: int) -> np.ndarray:
    """An input as a bool array (missing = False); a bool array of ``n`` rows as it is."""
    if isinstance(x, np.ndarray) and x.dtype == bool and x.ndim == 1 and len(x) == n:
        return x
    return _column(x, n).fillna(False).astype(bool).to_numpy()


def _word_codes(x, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes, words): the input as stripped lower-case words, ``words[codes]``; each
    distinct value cleaned once (a roster has a handful of programs, coverage types and
    care levels) and every test on the words made once per word. A
    ``pandas.Categorical`` (the audit's rows, which repeat a few words) is cleaned category
    by category: no Python string per row is made or hashed; a missing value is '' as on
    the other path."""
    if isinstance(x, pd.Categorical):
        if len(x) != n:
            raise ValueError(f"judge_enrolled: inputs have different lengths ({len(x)} != {n})")
        words = np.append(np.asarray(x.categories, dtype=object), "")
        codes = np.where(x.codes < 0, len(words) - 1, x.codes)  # missing → the last: ''
    else:
        codes, uniques = pd.factorize(_column(x, n).fillna(""))
        words = np.asarray(uniques, dtype=object)
    words = pd.Series(words, dtype=object).astype(str).str.strip().str.lower()
    return np.asarray(codes, dtype=np.intp), words.to_numpy(dtype=object)


def _join_missing(parts: list[tuple[np.ndarray, str]], n: int) -> np.ndarray:
    """The names of the true masks, comma-separated in ``parts`` order ('' when none): each
    row's masks as one bit pattern, each distinct pattern spelled once."""
    bits = np.zeros(n, dtype=np.int64)
    for i, (mask, _) in enumerate(parts):
        bits |= np.asarray(mask, dtype=bool).astype(np.int64) << i
    inverse, patterns = pd.factorize(bits)
    spelled = np.array([",".join(name for i, (_, name) in enumerate(parts) if p >> i & 1)
                        for p in patterns.tolist()], dtype=object)
    return spelled[inverse] if n else np.zeros(0, dtype=object)


def judge_enrolled(params, *, program, coverage_type, care_level, institutional,
                   per_capita_income, members, rigid_expenditure, own_income, standards
                   ) -> pd.DataFrame:
    """What the rules say about people already on the roster, one output row per input row
    (CONTRACT §5–6; POLICY.md §3, §4, §6, §10).

    Inputs (equal-length arrays): ``program`` 'dibao' | 'tekun' | 'marginal';
    ``coverage_type`` 'household' | 'single' | 'expenditure' ('' = household; dibao only);
    ``care_level`` 'self_care' | 'semi_care' | 'full_care' | '' (tekun); ``institutional``
    bool; ``per_capita_income`` the household's verified per-capita monthly income, NaN =
    unknown; ``members`` (NaN = unknown; no verdict needs it); ``rigid_expenditure`` monthly
    per-capita rigid spending deducted for 'expenditure' (NaN = 0); ``own_income`` the
    person's own monthly income (NaN = unknown); ``standards`` from
    :func:`regional_standards` for these rows.

    Verdicts (the quantity that decides, in brackets):

    - dibao household: per-capita income < dibao standard (``dibao.below_standard``);
    - dibao expenditure: per-capita income < marginal threshold and max(per-capita income −
      rigid spending, 0) < dibao standard (``dibao.expenditure_assessed_per_capita_income``);
    - dibao single: per-capita income < marginal threshold (the household is low-income);
    - tekun: own income, else per-capita income, < dibao standard (``tekun.no_income_source``);
    - marginal: dibao standard ≤ per-capita income < marginal threshold.

    Output columns: ``eligible`` (the verdict where ``known``, else False), ``known``,
    ``missing`` ('' or the absent inputs, comma-separated: the verdict's and the amount's),
    ``assessed_per_capita_income`` (compared income; after the deduction for expenditure;
    own income for tekun when known), ``standard`` (the dibao standard: the bound of the
    household, expenditure and tekun tests and the base of every dibao amount),
    ``threshold`` (the marginal threshold, the bound of the low-income tests),
    ``expected_amount`` (per person and month, rounded once; NaN when not
    ``amount_known``), ``amount_known`` and ``reason`` — 'eligible', or the failing test:
    'income_not_below_standard', 'assessed_income_not_below_standard', 'not_low_income',
    'tekun_income_not_below_dibao_standard', 'income_below_dibao_standard' (marginal), or
    'unknown' when not known.

    Amounts (POLICY.md §4, §6): dibao household/expenditure: standard − assessed per-capita
    income (``dibao.dibao_topup`` for one member), at least ``dibao.minimum_benefit``;
    single: standard − own income (needs own income); tekun: basic (institutional basic if
    institutional) + the care standard of the care level (``tekun.tekun_benefit``; needs the
    care level); marginal: ``marginal.monthly_benefit_share`` × standard.
    """
    n = _length(program)
    prog, prog_words = _word_codes(program, n)
    cov, cov_words = _word_codes(coverage_type, n)
    cov_words = np.where(cov_words == "", "household", cov_words)
    care, care_words = _word_codes(care_level, n)
    inst = _as_bool(institutional, n)
    pc = _as_float(per_capita_income, n)
    rigid = _as_float(rigid_expenditure, n)
    rigid = np.where(np.isfinite(rigid), rigid, 0.0)
    own = _as_float(own_income, n)
    standard = np.asarray(standards["dibao.standard"], dtype="float64")
    threshold = np.asarray(standards["marginal.threshold"], dtype="float64")

    is_dibao, is_tekun, is_marginal = ((prog_words == word)[prog]
                                       for word in ("dibao", "tekun", "marginal"))
    household = is_dibao & (cov_words == "household")[cov]
    expenditure = is_dibao & (cov_words == "expenditure")[cov]
    single = is_dibao & (cov_words == "single")[cov]
    bad_program = ~(is_dibao | is_tekun | is_marginal)
    bad_coverage = is_dibao & ~(household | expenditure | single)
    pc_known = np.isfinite(pc)
    own_known = np.isfinite(own)
    std_known = np.isfinite(standard)
    thr_known = np.isfinite(threshold)

    # --- the compared income
    expenditure_pc = dibao_rules.expenditure_assessed_per_capita_income(
        pc, 12.0 * rigid, np.ones(n))  # per-capita terms: members = 1
    tekun_income = np.where(own_known, own, pc)
    assessed = np.where(expenditure, expenditure_pc, np.where(is_tekun, tekun_income, pc))
    assessed = np.where(np.isfinite(assessed), assessed, np.nan)

    # --- verdicts, each from its named quantity
    below_standard = dibao_rules.below_standard(assessed, standard)
    low_income = dibao_rules.below_standard(pc, threshold)
    tekun_no_income = tekun_rules.no_income_source(tekun_income, standard)
    eligible = np.select(
        [household, expenditure, single, is_tekun, is_marginal],
        [below_standard, low_income & below_standard, low_income, tekun_no_income,
         ~dibao_rules.below_standard(pc, standard) & low_income], False)

    needs_threshold = expenditure | single | is_marginal
    needs_standard = household | expenditure | is_tekun | is_marginal
    missing_income = np.where(is_tekun, ~np.isfinite(tekun_income), ~pc_known) & ~bad_program
    missing_std = needs_standard & ~std_known
    missing_thr = needs_threshold & ~thr_known
    known = ~(bad_program | bad_coverage | missing_income | missing_std | missing_thr)
    eligible = eligible & known

    # --- amounts per person, each rounded once
    dibao_rounding = str(params["dibao.benefit_rounding"])
    topup = dibao_rules.dibao_topup(standard, assessed, np.ones(n))
    single_amount = dibao_rules.single_person_benefit(standard, own)
    dibao_raw = np.where(single, single_amount, topup)
    dibao_raw = dibao_rules.apply_minimum_benefit(dibao_raw, np.ones(n),
                                                  float(params["dibao.minimum_benefit"]))
    dibao_amount = round_money(dibao_raw, dibao_rounding, "dibao.benefit_rounding")
    care_index = pd.Index(tekun_rules.CARE_LEVELS).get_indexer(care_words)[care]
    care_known = care_index >= 0
    care_standard = np.asarray(standards["tekun.care_standard"], dtype="float64").reshape(n, -1)
    tekun_amount = tekun_rules.tekun_benefit(
        np.ones(n, dtype=bool), inst, standards["tekun.basic_standard"],
        standards["tekun.institutional_basic_standard"],
        care_standard[np.arange(n), np.maximum(care_index, 0)],
        institutional_multiplier=float(params["tekun.institutional_multiplier"]),
        multiplier_applies_to_care=bool(params["tekun.institutional_multiplier_applies_to_care"]),
        rounding=str(params["tekun.benefit_rounding"]))
    marginal_amount = marginal_rules.marginal_benefit(
        np.ones(n, dtype=bool), standard, np.ones(n),
        share_of_standard=float(params["marginal.monthly_benefit_share"]),
        rounding=str(params["marginal.benefit_rounding"]))
    expected = np.select([is_dibao, is_tekun, is_marginal],
                         [dibao_amount, tekun_amount, marginal_amount], np.nan)
    tekun_std_known = (np.isfinite(np.asarray(standards["tekun.basic_standard"], dtype=float))
                       & np.isfinite(care_standard).all(axis=1))
    missing_own = single & ~own_known
    missing_care = is_tekun & ~care_known
    amount_known = np.select(
        [household | expenditure, single, is_tekun, is_marginal],
        [pc_known & std_known, own_known & std_known, care_known & tekun_std_known, std_known],
        False) & ~(bad_program | bad_coverage)
    expected = np.where(amount_known, expected, np.nan)

    reason = np.full(n, "eligible", dtype=object)
    fail = known & ~eligible
    reason = np.where(fail & (household | is_tekun),
                      np.where(is_tekun, "tekun_income_not_below_dibao_standard",
                               "income_not_below_standard"), reason)
    reason = np.where(fail & (expenditure | single | is_marginal) & ~low_income,
                      "not_low_income", reason)
    reason = np.where(fail & expenditure & low_income, "assessed_income_not_below_standard",
                      reason)
    reason = np.where(fail & is_marginal & low_income, "income_below_dibao_standard", reason)
    reason = np.where(known, reason, "unknown")
    missing = _join_missing([
        (bad_program, "program"), (bad_coverage, "coverage_type"),
        (missing_income & ~is_tekun, "per_capita_income"),
        (missing_income & is_tekun, "own_income"),
        (missing_std, "standard"), (missing_thr, "threshold"),
        (missing_own, "own_income"), (missing_care, "care_level")], n)
    return pd.DataFrame({
        "eligible": eligible.astype(bool),
        "known": known.astype(bool),
        "missing": missing,
        "assessed_per_capita_income": assessed,
        "standard": standard,
        "threshold": threshold,
        "expected_amount": expected,
        "amount_known": amount_known.astype(bool),
        "reason": reason,
    })
