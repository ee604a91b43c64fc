"""Synthetic households and persons for a region (CONTRACT §3 columns), vectorised.

Every share, prevalence, income shape and spending level is a parameter in
``params/national/population.yaml`` (regions may replace any of them); this module only
turns parameters into draws. The steps, per household then per person (``np.repeat``):

1. **Households**: size (7th census shares), urban (``population.urban_share``), the head's
   age band (one-person and multi-person households differ).
2. **Members**: the head; a spouse or a child second; then children, parents of a young
   head or grandchildren of an older one. Ages follow from the head's age and age gaps.
3. **Health and capacity**: disability (prevalence by age, grade, type), serious illness,
   work capacity (by age, reduced by disability or illness), legal supporters (missing
   mostly for people living alone), institutional care, care level, schooling.
4. **Income**: household per-capita income is a Singh–Maddala draw (``scipy.stats.burr12``
   shapes ``population.income.sm_c`` / ``sm_d``) scaled to the area's mean and multiplied by
   (earning capacity / reference)^elasticity, so that households of elderly, disabled, ill
   members and children are poorer. The draw's log spread shrinks with household size
   (``population.income.size_dispersion_elasticity``: members pool their luck). The
   household total is split across members by their earning weights. Shapes and targets:
   docs/calibration.md.
5. **Assets and spending**: financial assets (lognormal in months of income), vehicle and
   dwellings (rising with income), self-paid medical, rehabilitation and education spending.
6. **Recent dibao leavers** (渐退 state): households just above the standard may have left
   dibao recently: ``previous_dibao_benefit`` and ``months_above_standard`` (drawn last, so
   the other draws do not depend on it; ``population.recent_exit.*``).
7. **IDs**, only when tables are built (:meth:`SyntheticPopulation.frames`): an
   18-character resident ID per person (GB 11643: region code, birth date, sequence with the
   sex digit, check character), unique within a call; with ``start_index`` chunks use
   disjoint sequence keys (see :func:`resident_ids`).

:func:`draw_population` returns the arrays; :func:`generate_population` the tables.
Scenario and budget partitions go from arrays to the rules directly
(:meth:`SyntheticPopulation.to_population`): no strings are built for data never written.

Deterministic per seed: one ``numpy.random.Generator`` from ``seed`` (an int or a
``SeedSequence``), drawn in a fixed order.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from jiuzhu_sim import rules, setops
from jiuzhu_sim.resident_id import check_codes

DISABILITY_TYPES = np.array(rules.DISABILITY_TYPES, dtype=object)  # same codes as the rules
INTELLECTUAL_MENTAL = (4, 5)  # indices of intellectual, mental in DISABILITY_TYPES
CARE_LEVELS = np.array(["self_care", "semi_care", "full_care"], dtype=object)
RELATIONS = np.array(["head", "spouse", "child", "parent", "grandchild"], dtype=object)
HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD = range(5)

# GB 11643-1999 check character: weights 2^(17-i) mod 11 and the check-character table
DAYS_IN_SEQUENCE_YEAR = 365  # birth-day offsets 0..364 keep the age exact (GB 11643 date)
DAY_PERMUTATION = 254  # coprime with 365: spreads consecutive keys over the year
DAY_SHIFT_PER_AGE = 131  # a shift per age so that key 0 is not every age's birthday
SEQUENCE_PAIRS = 499  # odd/even sequence pairs 001..998 (odd = male, GB 11643)

PERSON_COLUMNS = [
    "person_id", "household_id", "age", "monthly_income", "disability_grade", "disability_type",
    "serious_illness", "work_capacity", "has_supporter", "in_school", "college_student",
    "care_level", "institutional", "medical_expense_annual", "education_expense_annual",
    "rehab_expense_annual",
]
PERSON_EXTRAS = ["sex", "relation"]
HOUSEHOLD_COLUMNS = [
    "household_id", "region_code", "urban", "financial_assets", "non_essential_vehicle",
    "dwellings", "weight",
]


def _vec(params, name: str) -> np.ndarray:
    return np.asarray(params[name], dtype="float64")


def _f(params, name: str) -> float:
    return float(params[name])


def _choose(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with probabilities ``shares`` (normalised), vectorised."""
    cum = np.cumsum(shares / shares.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(shares) - 1)


def _band(values: np.ndarray, lower_bounds: np.ndarray) -> np.ndarray:
    return np.searchsorted(lower_bounds, values, side="right") - 1


def _lognormal(rng: np.random.Generator, median: float, log_sd: float, n: int) -> np.ndarray:
    return median * np.exp(log_sd * rng.standard_normal(n))


def singh_maddala_quantile(u: np.ndarray, c: float, d: float) -> np.ndarray:
    """Inverse CDF of Singh–Maddala (``scipy.stats.burr12(c, d)``, scale 1)."""
    return np.power(np.power(1.0 - u, -1.0 / d) - 1.0, 1.0 / c)


def singh_maddala_mean(c: float, d: float) -> float:
    """Mean of ``burr12(c, d)`` with scale 1: d·B(d − 1/c, 1 + 1/c)."""
    from scipy.special import beta

    return float(d * beta(d - 1.0 / c, 1.0 + 1.0 / c))


def singh_maddala_moment(c: float, d: float, a: float) -> float:
    """E[X^a] of ``burr12(c, d)`` with scale 1: d·B(d − a/c, 1 + a/c) (needs a < c·d)."""
    from scipy.special import beta

    return float(d * beta(d - a / c, 1.0 + a / c))


def singh_maddala_gini(c: float, d: float) -> float:
    """Gini of Singh–Maddala: 1 − Γ(d)Γ(2d − 1/c) / (Γ(d − 1/c)Γ(2d))."""
    from scipy.special import gammaln

    return float(1.0 - np.exp(gammaln(d) + gammaln(2 * d - 1 / c) - gammaln(d - 1 / c)
                              - gammaln(2 * d)))


def weighted_gini(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Gini coefficient of ``values`` with frequency ``weights`` (e.g. household per-capita
    income weighted by members = the Gini across persons)."""
    x = np.asarray(values, dtype="float64")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype="float64")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    amount = np.cumsum(w * x)
    lorenz = np.r_[0.0, amount / amount[-1]]
    share = w / w.sum()
    return float(1.0 - np.sum((lorenz[1:] + lorenz[:-1]) * share))


# ---------------------------------------------------------------------------------------
# Resident IDs (GB 11643)


def resident_id_chars(region_code: str, age: np.ndarray, male: np.ndarray,
                      reference_date: dt.date, start_index: int, key_stride: float
                      ) -> np.ndarray:
    """18-character resident IDs as an (n, 18) uint8 array of ASCII codes; a person is
    exactly ``age`` on ``reference_date``.

    Sequence keys are the person's rank among people of the same age in this call plus
    ``floor(start_index × key_stride)``: unique within a call, and disjoint between chunks
    whose start indices differ by their household counts, as long as no single birth year
    holds more than ``key_stride`` persons per household in a chunk. A key picks the birth
    day within the year of age (0..364 days before the birthday, permuted) and the sequence
    pair (odd male / even female digit): 499 × 365 keys per birth year and region.
    """
    n = len(age)
    age = age.astype(np.int64)
    order = np.argsort(age, kind="stable")
    sorted_age = age[order]
    first = np.flatnonzero(np.r_[True, sorted_age[1:] != sorted_age[:-1]])
    group_start = np.repeat(first, np.diff(np.r_[first, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - group_start
    key = rank + int(np.floor(start_index * key_stride))
    day_offset = (key * DAY_PERMUTATION + age * DAY_SHIFT_PER_AGE) % DAYS_IN_SEQUENCE_YEAR
    pair = (key // DAYS_IN_SEQUENCE_YEAR) % SEQUENCE_PAIRS
    sequence = 2 * pair + np.where(male, 1, 2)

    years = (reference_date.year - 1970 - age).astype("datetime64[Y]")
    anniversary = (years.astype("datetime64[M]") + (reference_date.month - 1)).astype(
        "datetime64[D]") + (reference_date.day - 1)
    birth = anniversary - day_offset.astype("timedelta64[D]")
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = birth.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (birth - month_start.astype("datetime64[D]")).astype(np.int64) + 1

    digits = np.empty((n, 17), dtype=np.int8)
    digits[:, :6] = np.frombuffer(region_code.encode("ascii"), dtype=np.uint8) - 48
    for col, (value, width) in enumerate(((year, 4), (month, 2), (day, 2), (sequence, 3))):
        offset = 6 + sum((4, 2, 2, 3)[:col])
        for i in range(width):
            digits[:, offset + i] = value // 10 ** (width - 1 - i) % 10
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, :17] = digits + 48
    chars[:, 17] = check_codes(digits)
    return chars


def resident_ids(region_code: str, age: np.ndarray, male: np.ndarray, reference_date: dt.date,
                 start_index: int, key_stride: float) -> np.ndarray:
    """18-character resident IDs (str); see :func:`resident_id_chars` for the scheme."""
    return resident_id_chars(region_code, age, male, reference_date, start_index,
                             key_stride).view("S18").ravel().astype("U18")


# ---------------------------------------------------------------------------------------
# Generation


def _as_generator(seed: int | np.random.SeedSequence | np.random.Generator
                  ) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _member_ages(rng, params, head_age, n_persons, hh, position):
    """Age and relation of every person (head, spouse or child second, then others)."""
    head_of_person = head_age[hh]
    relation = np.full(n_persons, CHILD, dtype=np.int8)
    relation[position == 0] = HEAD
    u = rng.random(n_persons)
    second = position == 1
    relation[second & (u < _f(params, "population.spouse_share"))] = SPOUSE
    later = position >= 2
    parent_ok = later & (head_of_person < _f(params, "population.parent_head_max_age"))
    relation[parent_ok & (u < _f(params, "population.parent_share"))] = PARENT
    grand_ok = (position >= 3) & (head_of_person >= _f(params,
                                                       "population.grandchild_head_min_age"))
    relation[grand_ok & (u < _f(params, "population.grandchild_share"))] = GRANDCHILD

    max_age = _f(params, "population.max_age")
    gap_child = _vec(params, "population.child_age_gap")
    gap_parent = _vec(params, "population.parent_age_gap")
    gap_grand = _vec(params, "population.grandchild_age_gap")
    v = rng.random(n_persons)
    age = head_of_person.copy()
    spouse = relation == SPOUSE
    age[spouse] += _f(params, "population.spouse_age_gap_sd") * rng.standard_normal(
        int(spouse.sum()))
    for rel, gap, sign in ((CHILD, gap_child, -1.0), (PARENT, gap_parent, 1.0),
                           (GRANDCHILD, gap_grand, -1.0)):
        m = relation == rel
        age[m] += sign * (gap[0] + (gap[1] - gap[0]) * v[m])
    adult_min = _vec(params, "population.head_age_band_lower_bounds")[0]
    age[spouse] = np.maximum(age[spouse], adult_min)
    # a young head's child or grandchild would be "born in the future": spread it over the
    # years since the head came of age instead (no pile-up at age 0)
    unborn = age < 0
    span = np.maximum(head_of_person - adult_min, 1.0)
    age[unborn] = (span * rng.random(n_persons))[unborn]
    age = np.clip(age, 0.0, max_age - 1.0)
    return np.floor(age).astype(np.int64), relation


@dataclass
class SyntheticPopulation:
    """A drawn population as numpy arrays (codes, not strings): what :func:`draw_population`
    returns. :meth:`frames` turns it into the CONTRACT §3 tables (resident IDs, words);
    ``jiuzhu_sim.scenario`` hands the arrays to the rules directly, so replications build
    no strings. Person arrays are in household order; ``hh`` is each person's household row.
    """

    region_code: str
    reference_date: dt.date
    start_index: int
    id_rank_stride: float
    # households
    size: np.ndarray
    urban: np.ndarray
    financial_assets: np.ndarray
    non_essential_vehicle: np.ndarray
    dwellings: np.ndarray
    previous_dibao_benefit: np.ndarray
    months_above_standard: np.ndarray
    # persons
    hh: np.ndarray
    age: np.ndarray
    male: np.ndarray
    relation: np.ndarray
    monthly_income: np.ndarray
    disability_grade: np.ndarray
    disability_type_index: np.ndarray  # into DISABILITY_TYPES; -1 = none
    serious_illness: np.ndarray
    work_capacity: np.ndarray
    has_supporter: np.ndarray
    in_school: np.ndarray
    college_student: np.ndarray
    care_code: np.ndarray  # into CARE_LEVELS
    institutional: np.ndarray
    medical_expense_annual: np.ndarray
    education_expense_annual: np.ndarray
    rehab_expense_annual: np.ndarray

    @property
    def n_households(self) -> int:
        return len(self.size)

    @property
    def intellectual_mental(self) -> np.ndarray:
        return setops.isin(self.disability_type_index, INTELLECTUAL_MENTAL)

    def household_ids(self) -> np.ndarray:
        """``H`` + region code + 8-digit household number (start_index onwards), as str."""
        return household_id_text(self.region_code, self.start_index,
                                 self.n_households).to_numpy(dtype=object)

    def person_ids(self) -> np.ndarray:
        """18-character resident IDs (GB 11643), see :func:`resident_ids`."""
        return resident_ids(self.region_code, self.age, self.male, self.reference_date,
                            self.start_index, self.id_rank_stride)

    def _household_values(self) -> dict[str, np.ndarray]:
        """The households columns after ``household_id`` and ``region_code`` — the same
        arrays in :meth:`frames` and :meth:`arrow_tables`."""
        return {"urban": self.urban, "financial_assets": self.financial_assets,
                "non_essential_vehicle": self.non_essential_vehicle,
                "dwellings": self.dwellings, "weight": np.ones(self.n_households),
                "previous_dibao_benefit": self.previous_dibao_benefit,
                "months_above_standard": self.months_above_standard}

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(persons, households) with the CONTRACT §3 columns, plus ``sex`` and ``relation``
        per person and ``weight``, ``previous_dibao_benefit``, ``months_above_standard`` per
        household (the recent-exit state read by the gradual-exit rule)."""
        household_id = self.household_ids()
        H = self.n_households
        disabled = self.disability_type_index >= 0
        persons = pd.DataFrame({
            "person_id": self.person_ids(),
            "household_id": household_id[self.hh],
            "age": self.age,
            "monthly_income": self.monthly_income,
            "disability_grade": self.disability_grade,
            "disability_type": np.where(disabled, DISABILITY_TYPES[
                np.maximum(self.disability_type_index, 0)], "").astype(object),
            "serious_illness": self.serious_illness,
            "work_capacity": self.work_capacity,
            "has_supporter": self.has_supporter,
            "in_school": self.in_school,
            "college_student": self.college_student,
            "care_level": CARE_LEVELS[self.care_code],
            "institutional": self.institutional,
            "medical_expense_annual": self.medical_expense_annual,
            "education_expense_annual": self.education_expense_annual,
            "rehab_expense_annual": self.rehab_expense_annual,
            "sex": np.where(self.male, "M", "F").astype(object),
            "relation": RELATIONS[self.relation],
        })
        households = pd.DataFrame({
            "household_id": household_id,
            "region_code": np.full(H, self.region_code, dtype=object),
            **self._household_values(),
        })
        return persons, households

    def arrow_tables(self):
        """(persons, households) as Arrow tables with the same columns and values as
        :meth:`frames` (text columns dictionary-encoded, resident IDs straight from their
        bytes): what the CSV writer needs, without building Python strings."""
        import pyarrow as pa

        def coded(codes: np.ndarray, words) -> pa.DictionaryArray:
            return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)),
                                                  pa.array(list(words), type=pa.string()))

        n, H = len(self.hh), self.n_households
        chars = resident_id_chars(self.region_code, self.age, self.male, self.reference_date,
                                  self.start_index, self.id_rank_stride)
        person_id = pa.Array.from_buffers(pa.string(), n, [
            None, pa.py_buffer(np.arange(0, 18 * (n + 1), 18, dtype=np.int32)),
            pa.py_buffer(np.ascontiguousarray(chars))])
        household_id = pa.array(household_id_text(self.region_code, self.start_index, H))
        persons = pa.table({
            "person_id": person_id,
            "household_id": household_id.take(pa.array(self.hh)),
            "age": self.age,
            "monthly_income": self.monthly_income,
            "disability_grade": self.disability_grade,
            "disability_type": coded(self.disability_type_index + 1, ["", *DISABILITY_TYPES]),
            "serious_illness": self.serious_illness,
            "work_capacity": self.work_capacity,
            "has_supporter": self.has_supporter,
            "in_school": self.in_school,
            "college_student": self.college_student,
            "care_level": coded(self.care_code, CARE_LEVELS),
            "institutional": self.institutional,
            "medical_expense_annual": self.medical_expense_annual,
            "education_expense_annual": self.education_expense_annual,
            "rehab_expense_annual": self.rehab_expense_annual,
            "sex": coded((~self.male).astype(np.int8), ["M", "F"]),
            "relation": coded(self.relation, RELATIONS),
        })
        households = pa.table({
            "household_id": household_id,
            "region_code": coded(np.zeros(H, dtype=np.int8), [self.region_code]),
            **self._household_values(),
        })
        return persons, households

    def to_population(self):
        """The arrays as a :class:`jiuzhu_sim.population.model.Population`, without building the
        tables: what ``prepare_population(*self.frames())`` gives, except that persons are
        identified by their row number (no resident IDs are built). Household IDs are the
        real strings: the process model hashes them, so draws match a run on the files.
        """
        from jiuzhu_sim.population.model import Population

        H = self.n_households
        hid = household_id_text(self.region_code, self.start_index, H)
        return Population(
            person_id=pd.Series(np.arange(len(self.hh))),
            person_household_id=pd.Series(self.hh), hh=self.hh.astype(np.int64),
            age=self.age.astype("float64"), monthly_income=self.monthly_income,
            disability_grade=self.disability_grade.astype(np.int8),
            intellectual_mental=self.intellectual_mental,
            disability_type_code=self.disability_type_index.astype(np.int8),
            serious_illness=self.serious_illness, work_capacity=self.work_capacity,
            has_supporter=self.has_supporter, in_school=self.in_school,
            college_student=self.college_student, care_code=self.care_code.astype(np.int8),
            institutional=self.institutional,
            rigid_annual=(self.medical_expense_annual + self.education_expense_annual
                          + self.rehab_expense_annual),
            household_id=hid, region_code=pd.Series(np.full(H, self.region_code), dtype="str"),
            urban=self.urban, financial_assets=self.financial_assets,
            non_essential_vehicle=self.non_essential_vehicle,
            dwellings=self.dwellings.astype("float64"), weight=np.ones(H),
            enrolled_observed=None,
            previous_dibao_benefit=self.previous_dibao_benefit.astype("float64"),
            months_above_standard=self.months_above_standard.astype("float64"))


@functools.lru_cache(maxsize=4)
def household_id_text(region_code: str, start_index: int, n_households: int) -> pd.Series:
    """Household IDs ``H`` + region + 8 digits as a pandas str Series (treat as read-only).

    They depend only on (region, start index, count), so every replication of a chunk has
    the same IDs: kept for the next call (a replication saves building and hashing them).
    """
    number = np.arange(start_index, start_index + n_households)
    return pd.Series(np.char.add(f"H{region_code}", np.char.zfill(number.astype(str), 8)),
                     dtype="str")


def _recent_exit(rng, params, urban, size, per_capita):
    """Recent dibao leavers (渐退 state, POLICY.md §3.4): previous benefit and months above.

    A household whose per-capita income is at least the dibao standard and below
    standard × (1 + ``population.recent_exit.income_band``) left dibao within the last
    ``population.recent_exit.max_months`` months with probability
    ``population.recent_exit.share``; months above the standard are uniform on
    1..max_months. Its previous benefit was a top-up of a uniform share in
    ``population.recent_exit.previous_benefit_share_of_standard`` × standard per member.
    """
    H = len(size)
    standard = np.where(urban, _f(params, "dibao.standard.urban"),
                        _f(params, "dibao.standard.rural"))
    u = rng.random((3, H))
    band = _f(params, "population.recent_exit.income_band")
    near = (per_capita >= standard) & (per_capita < standard * (1.0 + band))
    left = near & (u[0] < _f(params, "population.recent_exit.share"))
    max_months = int(params["population.recent_exit.max_months"])
    months = np.where(left, 1 + np.minimum((u[1] * max_months).astype(np.int64),
                                           max_months - 1), 0)
    lo, hi = _vec(params, "population.recent_exit.previous_benefit_share_of_standard")
    previous = np.where(left, np.round((lo + (hi - lo) * u[2]) * standard * size, 2), 0.0)
    return previous, months.astype(np.int64)


def draw_population(params, n_households: int | None = None,
                    seed: int | np.random.SeedSequence | np.random.Generator = 0, *,
                    start_index: int = 0) -> SyntheticPopulation:
    """Draw a synthetic population as arrays (see the module doc for the steps).

    ``seed`` may be an int, a ``numpy.random.SeedSequence`` (e.g. spawned per chunk) or a
    Generator. ``start_index`` numbers households from that index (IDs unique across chunks
    drawn with consecutive start indices).
    """
    if n_households is None:
        n_households = int(params["population.default_households"])
    n_households = int(n_households)
    if n_households < 0:
        from jiuzhu_sim.exceptions import UserInputError

        raise UserInputError(f"--households must be ≥ 0, got {n_households}",
                             column="households")
    rng = _as_generator(seed)
    H = n_households

    # 1. households
    size_shares = _vec(params, "population.household_size_shares")
    size = _choose(rng, size_shares, H).astype(np.int64) + 1
    urban = rng.random(H) < _f(params, "population.urban_share")
    head_bounds = np.r_[_vec(params, "population.head_age_band_lower_bounds"),
                        _f(params, "population.max_age")]
    band_multi = _choose(rng, _vec(params, "population.head_age_shares.multi_person"), H)
    band_one = _choose(rng, _vec(params, "population.head_age_shares.one_person"), H)
    band = np.where(size == 1, band_one, band_multi)
    head_age = head_bounds[band] + (head_bounds[band + 1] - head_bounds[band]) * rng.random(H)

    # 2. members
    N = int(size.sum())
    hh = np.repeat(np.arange(H), size)
    starts = np.cumsum(size) - size
    position = np.arange(N) - starts[hh]
    age, relation = _member_ages(rng, params, head_age, N, hh, position)
    male = rng.random(N) < _f(params, "population.male_share")
    alone = (size == 1)[hh]

    # 3. health, disability, capacity
    bounds = _vec(params, "population.age_band_lower_bounds")
    age_band = _band(age, bounds)
    disabled = rng.random(N) < _vec(params, "population.disability_prevalence_by_age")[age_band]
    grade = np.where(disabled, _choose(rng, _vec(params, "population.disability_grade_shares"),
                                       N) + 1, 0).astype(np.int64)
    dtype_index = _choose(rng, _vec(params, "population.disability_type_shares"), N)
    intellectual_mental = disabled & setops.isin(dtype_index, INTELLECTUAL_MENTAL)
    severe = disabled & ((grade <= int(params["dibao.severe_disability_max_grade"]))
                         | (intellectual_mental & (grade <= int(
                             params["dibao.severe_disability_max_grade_intellectual_mental"]))))
    serious = rng.random(N) < _vec(params, "population.serious_illness_by_age")[age_band]
    work_p = _vec(params, "population.work_capacity_by_age")[age_band].copy()
    work_p *= np.where(severe, _f(params, "population.work_capacity_factor.severe_disability"),
                       np.where(disabled, _f(params,
                                             "population.work_capacity_factor.other_disability"),
                                1.0))
    work_p *= np.where(serious, _f(params, "population.work_capacity_factor.serious_illness"), 1.0)
    work_capacity = rng.random(N) < work_p

    working_age = _vec(params, "population.working_age")
    elderly = age >= working_age[1]
    p_no_supporter = np.where(
        alone & elderly, _f(params, "population.no_supporter_probability.alone_elderly"),
        np.where(alone & disabled, _f(params, "population.no_supporter_probability.alone_disabled"),
                 _f(params, "population.no_supporter_probability.other")))
    has_supporter = rng.random(N) >= p_no_supporter
    institutional = (~has_supporter & (elderly | severe)
                     & (rng.random(N) < _f(params,
                                           "population.institutional_share_without_supporter")))
    old_old = age >= _f(params, "population.old_old_age")
    care_u = rng.random(N)
    care = np.zeros(N, dtype=np.int8)
    for mask, name in ((~severe & ~old_old, "other"), (old_old & ~severe, "old_old"),
                       (severe, "severe_disability")):
        cum = np.cumsum(_vec(params, f"population.care_level_shares.{name}"))
        cum /= cum[-1]
        care[mask] = np.minimum(np.searchsorted(cum, care_u[mask], side="right"), 2)

    school = _vec(params, "population.school_age")
    compulsory_until = _f(params, "population.school_enrollment.compulsory_until")
    p_school = np.where((age >= school[0]) & (age < compulsory_until),
                        _f(params, "population.school_enrollment.compulsory"),
                        np.where((age >= compulsory_until) & (age < school[1]),
                                 _f(params, "population.school_enrollment.senior_secondary"), 0.0))
    college_age = _vec(params, "population.college_age")
    p_college = np.where((age >= college_age[0]) & (age < college_age[1]),
                         _f(params, "population.college_enrollment"), 0.0)
    school_u = rng.random(N)
    college_student = (school_u < p_college) & ~severe & (relation != HEAD)
    in_school = (school_u < p_school) | college_student
    work_capacity &= ~in_school

    # 4. income
    elderly_weight = np.where(urban, _f(params, "population.earning_weight.elderly.urban"),
                              _f(params, "population.earning_weight.elderly.rural"))
    weight = np.where(
        in_school | (age < working_age[0]), _f(params, "population.earning_weight.dependent"),
        np.where(elderly, np.where(work_capacity,
                                   _f(params, "population.earning_weight.elderly_working"),
                                   elderly_weight[hh]),
                 np.where(work_capacity, _f(params, "population.earning_weight.working"),
                          _f(params, "population.earning_weight.no_work_capacity"))))
    weight_total = np.bincount(hh, weights=weight, minlength=H)
    capacity = np.maximum(weight_total / size, _f(params, "population.income.capacity_floor"))
    c, d = _f(params, "population.income.sm_c"), _f(params, "population.income.sm_d")
    # larger households pool more earners' luck: the draw's log spread shrinks as
    # size^-theta (X^a with a = size^-theta, divided by its mean, which stays 1 per size)
    exponent = np.power(np.arange(1, size.max(initial=1) + 1, dtype="float64"),
                        -_f(params, "population.income.size_dispersion_elasticity"))
    size_mean = np.array([singh_maddala_moment(c, d, a) for a in exponent])
    draw = np.power(singh_maddala_quantile(rng.random(H), c, d), exponent[size - 1]) \
        / size_mean[size - 1]
    area_mean = np.where(urban, _f(params, "population.income.mean_annual.urban"),
                         _f(params, "population.income.mean_annual.rural")) / 12.0
    reference = np.where(urban, _f(params, "population.income.capacity_reference.urban"),
                         _f(params, "population.income.capacity_reference.rural"))
    multiplier = np.power(capacity / reference,
                          _f(params, "population.income.capacity_elasticity"))
    per_capita = area_mean * draw * multiplier
    household_total = per_capita * size
    member_total = weight_total[hh]
    share = np.where(member_total > 0, weight / np.where(member_total > 0, member_total, 1.0),
                     1.0 / size[hh])
    monthly_income = np.round(household_total[hh] * share, 2)

    # 5. assets and spending
    has_assets = rng.random(H) >= _f(params, "population.assets.zero_share")
    assets = household_total * _lognormal(
        rng, _f(params, "population.assets.median_months_of_income"),
        _f(params, "population.assets.log_sd"), H)
    financial_assets = np.round(np.where(has_assets, assets, 0.0), 2)
    relative = per_capita / area_mean
    p_vehicle = np.minimum(_f(params, "population.vehicle.share_at_mean_income")
                           * np.power(relative, _f(params, "population.vehicle.income_elasticity")),
                           _f(params, "population.vehicle.max_share"))
    vehicle = rng.random(H) < p_vehicle
    p_none = np.where(urban, _f(params, "population.dwellings.none_share.urban"),
                      _f(params, "population.dwellings.none_share.rural"))
    p_extra = np.minimum(_f(params, "population.dwellings.extra_share_at_mean_income")
                         * np.power(relative, _f(params, "population.dwellings.income_elasticity")),
                         1.0)
    u_dw = rng.random((3, H))
    owns = u_dw[0] >= p_none
    second = owns & (u_dw[1] < p_extra)
    third = second & (u_dw[2] < _f(params, "population.dwellings.third_share"))
    dwellings = owns.astype(np.int64) + second + third

    medical_any = rng.random(N) < _vec(params, "population.medical.any_share_by_age")[age_band]
    z = rng.standard_normal(N)
    medical = np.where(
        serious,
        _f(params, "population.medical.serious_median_annual")
        * np.exp(_f(params, "population.medical.serious_log_sd") * z),
        np.where(medical_any, _f(params, "population.medical.median_annual")
                 * np.exp(_f(params, "population.medical.log_sd") * z), 0.0))
    rehab = np.where(disabled & (rng.random(N) < _f(params, "population.rehab.any_share")),
                     _lognormal(rng, _f(params, "population.rehab.median_annual"),
                                _f(params, "population.rehab.log_sd"), N), 0.0)
    edu_median = np.where(college_student,
                          _f(params, "population.education.college_median_annual"),
                          _f(params, "population.education.school_median_annual"))
    education = np.where(in_school, edu_median * np.exp(
        _f(params, "population.education.log_sd") * rng.standard_normal(N)), 0.0)

    # 6. recent dibao leavers (drawn last: the draws above do not depend on it)
    previous, months_above = _recent_exit(rng, params, urban, size,
                                          household_total / size)

    return SyntheticPopulation(
        region_code=str(params.region_code), reference_date=params.date,
        start_index=int(start_index), id_rank_stride=_f(params, "population.id_rank_stride"),
        size=size, urban=urban, financial_assets=financial_assets,
        non_essential_vehicle=vehicle, dwellings=dwellings, previous_dibao_benefit=previous,
        months_above_standard=months_above, hh=hh, age=age, male=male, relation=relation,
        monthly_income=monthly_income, disability_grade=grade,
        disability_type_index=np.where(disabled, dtype_index, -1).astype(np.int8),
        serious_illness=serious, work_capacity=work_capacity, has_supporter=has_supporter,
        in_school=in_school, college_student=college_student, care_code=care,
        institutional=institutional, medical_expense_annual=np.round(medical, 2),
        education_expense_annual=np.round(education, 2), rehab_expense_annual=np.round(rehab, 2))


def generate_population(params, n_households: int | None = None,
                        seed: int | np.random.SeedSequence | np.random.Generator = 0, *,
                        start_index: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(persons, households) frames with the CONTRACT §3 columns (plus ``sex``, ``relation``,
    and the recent-exit state ``previous_dibao_benefit``, ``months_above_standard``).

    Same arguments as :func:`draw_population`; :meth:`SyntheticPopulation.frames` builds the
    tables.
    """
    return draw_population(params, n_households, seed, start_index=start_index).frames()


def write_population(out_dir: Path | str, params, n_households: int | None = None,
                     seed: int | np.random.SeedSequence = 20240101, fmt: str = "csv"
                     ) -> list[Path]:
    """Generate and write ``persons`` and ``households`` (.csv UTF-8 with BOM, or .parquet)."""
    from jiuzhu_sim.exceptions import UserInputError
    from jiuzhu_sim.io import write_table

    if n_households is not None and int(n_households) < 1:
        raise UserInputError(f"--households {n_households}: must be at least 1")
    out = Path(out_dir)
    if fmt == "parquet":
        persons, households = generate_population(params, n_households, seed)
        return [write_table(persons, out / "persons.parquet", fmt),
                write_table(households, out / "households.parquet", fmt)]
    # CSV: Arrow tables straight from the arrays, two files written at once (Arrow's
    # writer releases the GIL)
    from concurrent.futures import ThreadPoolExecutor

    from jiuzhu_sim.io import write_csv_arrow

    tables = draw_population(params, n_households, seed).arrow_tables()
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(write_csv_arrow, table, out / f"{name}.csv")
                for name, table in zip(("persons", "households"), tables, strict=True)]
        return [job.result() for job in jobs]
