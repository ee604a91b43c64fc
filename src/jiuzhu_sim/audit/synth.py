"""Synthetic audit county (合成审计数据): every CONTRACT §5 input plus ``truth.csv``.

``jiuzhu synth audit --out DIR`` writes roster, payments, deaths, guardians, staff_relatives,
medical, disability, monitoring, households, alerts and assistance for one county over a window of months,
with anomalies of every CONTRACT §6 check planted at known places, and ``truth.csv``
(``check, person_id, period``) saying where. All shape and rate settings are parameters
(``params/national/audit_synth.yaml``, assumptions); the rules that decide what is an
anomaly are the audit's own parameters (``dibao.standard``, ``screening.*``,
``review.max_months_between_checks``, ``monitoring.*``, ``audit.payment_due_days_after_month``,
``audit.amount_tolerance``, ``dibao.gradual_exit_months``), so truth follows the rules.

The county (POLICY.md §1, §4)
-----------------------------
Recipient households are dibao (低保; every member on the roster, monthly amount = standard −
per-capita income, whole yuan), tekun (特困; one person, basic [× institutional multiplier
via the derived institutional standard] + care standard) or marginal (低保边缘; on the roster
with ``monthly_amount`` 0 and **never paid**: marginal households get no cash top-up,
``marginal.monthly_benefit_share`` = 0). Most households are on the roster for the whole
window; some enter or leave mid-month (a month counts as active when any day of it is inside
``[start_date, end_date]``, and every active month with a positive amount is paid once, in
full). Payments are made late in the month or in the first days of the next. Minors and
full-care tekun persons are paid into a registered guardian's account (guardians file).
Non-recipient residents appear only on screening lists, as guardians, staff, or in deaths.

Planted anomalies and how truth is defined
------------------------------------------
Each check gets ``max(min_planted_per_check, anomaly_rate × roster persons)`` cases on
distinct persons who are otherwise clean (on the roster for the whole window, one roster row,
no other plant), so one person carries one anomaly; the only deliberate overlap is
``ineligible_recipient``, whose persons are also listed under ``review_overdue`` (their last
check is necessarily older than the grace period, which equals the review interval).

- invalid_id (person): the roster and payment ID has a wrong check character, an impossible
  birth date with a correct check character, or 17 characters.
- deceased_paid (person, period): in deaths with a death date before the window's last
  month; the roster was not updated; truth = each paid month after the month of death.
- duplicate_region (person, period): also on another county's roster (same amount) and paid
  there; truth = months paid by both.
- duplicate_program (person, period): on both dibao and tekun rosters and paid by both.
- duplicate_payment (person, period): a second payment (new payment_id, on time, same
  amount) for one month.
- amount_mismatch (person, period): the paid amount differs from ``monthly_amount`` by 20–300
  yuan in one or two months.
- late_payment (person, period): paid 5–60 days after the due date
  (month end + ``audit.payment_due_days_after_month``).
- missing_payment (person, period): one or two active months have no payment.
- paid_not_on_roster (person, period): a person absent from the roster is paid (ghost), or a
  person whose roster row ended mid-window is still paid after the month of exit.
- account_mismatch (person, period): every payment goes to an unrelated resident's account.
- staff_relative_unfiled (person): a beneficiary listed as a staff relative with filed false.
- review_overdue (person): every member of the household has ``last_check_date`` older than
  ``review.max_months_between_checks`` months before the audit end (by 2–8 months).
- exclusion_candidate (person): a non-recipient on a screening list above its threshold:
  self-paid medical > ``screening.medical_self_paid_threshold`` in the last window year, a
  disability newly issued in the window that is severe (grade ≤ ``screening.severe_disability
  _max_grade``, or intellectual/mental ≤ ``..._intellectual_mental``), or a monitoring
  category from ``screening.monitoring_categories``.
- ineligible_recipient (person): a one-person dibao household whose verified per-capita
  income (households file) is 10–40% above the standard — a fifth exactly on it ("低于" is
  strict) — at a check more than ``dibao.gradual_exit_months`` (+2..5) months before the
  audit end, still on the roster and paid; and tekun persons whose income is at or above the
  dibao standard (a quarter exactly on it) at a check 1..(review interval − 1) months ago.
- alert_forward_overdue (person): an alert the city forwards late, the county forwards late,
  or (no forwarded_date) the township receives later than twice
  ``monitoring.forward_working_days`` working days; verified on time afterwards.
- double_enrolment (person, period): a dibao member also on the tekun roster from a month
  on, paid tekun only in those months (so no missing_payment); the duplicate_program and
  duplicate_region plants are double enrolments too, in the same months.
- amount_not_per_standard (person): the approved (and paid) amount is 20–200 yuan off the
  rule's (dibao standard − per-capita income; tekun basic + care).
- deceased_not_exited (person): died before the last month, roster not updated, payments
  stopped after the month of death; the deceased_paid plants too.
- under_assisted (person): covered dibao members with self-paid medical at or above
  ``screening.medical_self_paid_threshold_dibao`` (a fifth exactly on it) and tekun persons
  with any medical spending, no ``assistance`` record.
- alert_overdue (person): an alert verified ≥ 14 working days after the township received it
  (``kind=new``; deadline ``monitoring.verify_working_days_new``) or > 40 days (``initial``;
  ``monitoring.verify_months_initial``), or never verified with the deadline passed by the end.

Negative look-alikes (must NOT be flagged): single-person (单人保) households with income
between the standard and the marginal threshold; expenditure-type (支出型) households above
the standard whose income after ``rigid_expenditure`` is below it (amount = standard − that);
members paid into the household head's account (到人到户); covered people with medical
spending who got medical or temporary assistance (``assistance``), and dibao members just
under the 10,000 line; payments on the deadline rolled past a holiday (2024-01 → 02-18); payment in the month of death (roster ends on the
death date); payments into a registered guardian's account; filed staff relatives and unfiled
relatives who are not beneficiaries; income above the standard at a check inside the grace
period; alerts verified within 8 working days across public holidays (and initial alerts in
20–26 days), or not yet due at the end; medical spending just under the threshold; covered
people on screening lists; amounts within ``audit.amount_tolerance``; payments exactly on the
due day; dibao → tekun transitions at a month boundary; re-enrolment after an exit; IDs ending
in X and born on 29 February; marginal roster entries without payments; monitoring categories
not on the screening list; new but non-severe disability records.

Linkage cases (``audit_synth.linkage_cases``, off by default; audit/linkage.py)
-----------------------------------------------------------------------------
``max(min_linkage_cases, linkage_case_rate × roster persons)`` further clean persons per
purpose, drawn from their own generator (``default_rng([seed, 0x11643])``) so that switching
them on leaves every other draw and planted case unchanged. The ID as written elsewhere is
mistyped (``linkage_typo_shares``): one digit changed, two adjacent unequal digits swapped —
both with the check character recomputed, so the ID passes GB 11643, has a real birth date
and is nobody's ID (no ``invalid_id``) — or, in death records only, the 15-digit
first-generation form; ``linkage_name_variant_share`` of the names (not for payments, which
carry no name) use a homophone character (NAME_VARIANTS).

- probable_deceased_paid (true person, period): a death record under the mistyped ID and a
  death date before the last month; the roster and payments go on under the true ID, so
  ``deceased_paid`` finds nothing; truth = each month paid after the month of death.
- probable_duplicate_region (true person, period): the neighbouring county's roster row and
  payments (from a month on) under the mistyped ID; truth = months paid by both.
- probable_paid_not_on_roster (true person, period): the roster row ends at the end of a
  month before the last; later months are paid under the mistyped ID, which is on no roster
  row — so these months are **also** exact ``paid_not_on_roster`` truth (under the mistyped
  ID); truth = those months.

``truth_linkage.csv`` (written only when switched on) pairs each case's written and true ID
(``check, person_id_written, person_id_true, kind, name_variant``). A 15-digit death ID
is an exact match once the audit normalises IDs on read (``resident_id.normalize_ids``), so
those cases are ``deceased_paid`` truth, not ``probable_deceased_paid``.

Everything is vectorised numpy (a million roster people × 6 months in seconds); random
numbers come from one ``numpy.random.default_rng(seed)`` in a fixed order, so a seed gives
the same files byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from jiuzhu_sim import setops
from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.io import write_table
from jiuzhu_sim.resident_id import CHECK_CHARS, check_codes_of_bodies


def _registry_codes() -> tuple[str, ...]:
    from jiuzhu_sim.audit.checks.registry import CODES

    return CODES


CHECKS = _registry_codes()
"""Check codes of the registry (audit/checks/registry.py), in its order: every one is
planted (tests/audit/test_registry.py fails when one is not)."""

INPUT_COLUMNS = {
    "roster": ["person_id", "name", "household_id", "region_code", "program", "start_date",
               "end_date", "monthly_amount", "last_check_date", "unstable_income",
               "work_capacity", "last_visit_date", "sub_type", "coverage_type", "care_level",
               "account_no"],
    "payments": ["payment_id", "person_id", "account_holder_id", "region_code", "program",
                 "period", "amount", "paid_date", "name", "account_no"],
    "deaths": ["person_id", "name", "death_date"],
    "guardians": ["person_id", "guardian_id"],
    "staff_relatives": ["staff_id", "staff_name", "relative_id", "relation", "filed"],
    "medical": ["person_id", "year", "self_paid_amount"],
    "disability": ["person_id", "grade", "type", "issued_date"],
    "monitoring": ["person_id", "category", "since_date"],
    "households": ["household_id", "members", "per_capita_income", "check_date",
                   "rigid_expenditure"],
    "assistance": ["person_id", "kind", "date", "amount"],
    "alerts": ["alert_id", "person_id", "source", "kind", "received_date", "forwarded_date",
               "township_received_date", "verified_date", "outcome"],
}
"""CONTRACT §5 columns of each input (roster's optional columns included)."""

TRUTH_COLUMNS = ["check", "person_id", "period"]

LINKAGE_CHECKS = ("probable_deceased_paid", "probable_duplicate_region",
                  "probable_paid_not_on_roster")
"""Truth labels of planted linkage cases (``audit_synth.linkage_cases``): the person (true ID)
an exact ID join misses but probabilistic linkage (audit/linkage.py) should find; periods as
the exact check would give them."""

LINKAGE_TRUTH_COLUMNS = ["check", "person_id_written", "person_id_true", "kind",
                         "name_variant"]
"""``truth_linkage.csv``: each planted case's ID as written in the other record and the true
ID (kind: digit, transpose, old15)."""

NAME_VARIANTS = dict(zip(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉文辉燕荣婷金凤梅晨宇欣怡子涵浩然俊"
    "雨嘉佳琪思轩淑珍德福美玲菊永清木成新君宏小龙惠珠",
    "玮方纳绣瑛闽靖莉蔷垒君阳涌燕洁鹃滔铭潮岚侠萍钢贵桦健帼智虹钰雯晖艳蓉亭今峰玫辰雨新宜紫寒皓冉骏"
    "宇佳嘉琦斯宣舒真得富媚铃桔勇青沐诚欣军鸿晓隆慧朱", strict=True))
"""Homophone variant characters (同音异形字) for given names: same pinyin, other character."""

PROGRAMS = np.array(["dibao", "tekun", "marginal"], dtype=object)
DIBAO, TEKUN, MARGINAL = 0, 1, 2
CARE_LEVELS = ("self_care", "semi_care", "full_care")
DISABILITY_TYPES = np.array(["physical", "visual", "hearing", "speech", "intellectual",
                             "mental", "multiple"], dtype=object)

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
                "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱"
                "江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱洪施庄")
GIVEN_CHARS = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉文辉海燕"
                   "荣婷金凤春梅晨宇欣怡子涵浩然俊杰雨嘉佳琪思博文轩淑珍德福美玲秋菊永清水"
                   "木成新民丽君宏亮小龙阿妹惠珠")
RELATIONS = np.array(["spouse", "parent", "child", "sibling"], dtype=object)
ALERT_SOURCES = np.array(["medical_insurance", "disability_federation", "education",
                          "human_resources", "public_security", "market_regulation"],
                         dtype=object)
ALERT_OUTCOMES = np.array(["dibao", "tekun", "temporary", "referral", "ledger"], dtype=object)
OTHER_MONITORING_CATEGORY = "stable_post_poverty"
"""A monitoring category that is not on ``screening.monitoring_categories`` (look-alike)."""


# --- small helpers ------------------------------------------------------------------------


def _window(params, start: str | None, end: str | None) -> tuple[np.datetime64, np.datetime64]:
    months = int(params["audit_synth.default_months"])
    try:
        if end is None and start is None:
            end = str(params["audit_synth.default_end_month"])
        last = np.datetime64(end, "M") if end else np.datetime64(start, "M") + months - 1
        first = np.datetime64(start, "M") if start else last - (months - 1)
    except ValueError:
        raise UserInputError(f"--start/--end {start!r}/{end!r}: expected YYYY-MM") from None
    if last < first:
        raise UserInputError(f"--end {last} is before --start {first}")
    return first, last


def _date_strings(days: np.ndarray) -> np.ndarray:
    """datetime64[D] → 'YYYY-MM-DD' strings (object), NaT → ''."""
    out = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)
    out[np.isnat(days)] = ""
    return out


def _pick(pool: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Take ``n`` items from the front of a shuffled pool → (taken, rest)."""
    n = min(n, len(pool))
    return pool[:n], pool[n:]


def id_check_char(bodies: np.ndarray) -> np.ndarray:
    """GB 11643 check character of 17-digit bodies (int64), as one-character strings."""
    return check_codes_of_bodies(bodies).view("S1").astype("U1")


def make_resident_ids(region_codes: np.ndarray, birth_dates: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """Unique valid 18-character resident IDs (GB 11643) for given address codes and births."""
    ymd = _yyyymmdd(birth_dates)
    base = region_codes.astype(np.int64) * 10**11 + ymd * 1000
    seq = rng.integers(1, 1000, len(base))
    for _ in range(50):
        body = base + seq
        _, first_index, counts = np.unique(body, return_index=True, return_counts=True)
        dup = np.ones(len(body), dtype=bool)
        dup[first_index] = False
        if not dup.any():
            break
        seq[dup] = rng.integers(1, 1000, int(dup.sum()))
    else:  # pragma: no cover - would need ~1000 people per birth date and county
        raise RuntimeError("could not draw unique resident IDs")
    body = base + seq
    return np.char.add(body.astype("U17"), id_check_char(body)).astype(object)


def _yyyymmdd(days: np.ndarray) -> np.ndarray:
    days = days.astype("datetime64[D]")
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years).astype(np.int64) + 1
    day = (days - months).astype(np.int64) + 1
    return year * 10000 + month * 100 + day


def make_names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = np.array(SURNAMES, dtype="<U1")
    given = np.array(GIVEN_CHARS, dtype="<U1")
    name = np.char.add(surnames[rng.integers(0, len(surnames), n)],
                       given[rng.integers(0, len(given), n)]).astype("<U3")
    two = rng.random(n) < 0.7
    name[two] = np.char.add(name[two], given[rng.integers(0, len(given), int(two.sum()))])
    return name.astype(object)


def _workday_table(first: np.datetime64, last: np.datetime64) -> tuple[np.datetime64, np.ndarray]:
    """Official Chinese working days (chinese_calendar) from ``first`` to ``last`` → (origin,
    cumulative count of working days up to and including each day)."""
    import chinese_calendar

    days = np.arange(first, last + 1, dtype="datetime64[D]")
    try:
        work = np.array([chinese_calendar.is_workday(d.item()) for d in days])
    except NotImplementedError:
        raise UserInputError(f"the window needs working days from {first} to {last}, beyond "
                             "the official holiday calendar (chinese_calendar); choose an "
                             "earlier --end") from None
    return first, np.cumsum(work)


def _add_workdays(dates: np.ndarray, n: np.ndarray, table) -> np.ndarray:
    """The date ``n`` working days after each date (n ≥ 1)."""
    origin, cum = table
    idx = (dates - origin).astype(np.int64)
    target = cum[idx] + n
    return origin + np.searchsorted(cum, target, side="left").astype("timedelta64[D]")


@dataclass
class _Truth:
    checks: list = field(default_factory=list)
    persons: list = field(default_factory=list)
    periods: list = field(default_factory=list)

    def add(self, check: str, persons, periods=None) -> None:
        persons = np.asarray(persons, dtype=object)
        if periods is None:
            periods = np.full(len(persons), "", dtype=object)
        self.checks.append(np.full(len(persons), check, dtype=object))
        self.persons.append(persons)
        self.periods.append(np.asarray(periods, dtype=object))

    def frame(self) -> pd.DataFrame:
        if not self.checks:
            return pd.DataFrame(columns=TRUTH_COLUMNS)
        out = pd.DataFrame({"check": np.concatenate(self.checks),
                            "person_id": np.concatenate(self.persons),
                            "period": np.concatenate(self.periods)})
        order = {c: i for i, c in enumerate(CHECKS + LINKAGE_CHECKS)}
        out["_o"] = out["check"].map(order)
        out = out.drop_duplicates(["check", "person_id", "period"])
        return out.sort_values(["_o", "person_id", "period"]).drop(columns="_o").reset_index(
            drop=True)


def default_households(params) -> int:
    return int(params["audit_synth.default_households"])


def households_for_persons(params, persons: int, paid_only: bool = False) -> int:
    """Households giving about ``persons`` people on the roster, or, with ``paid_only``,
    about that many paid (dibao and tekun) people, i.e. ``persons`` payments a month
    (benchmarks)."""
    shares = _shares(params["audit_synth.program_shares"])
    sizes = np.arange(1, 6)
    mean_dibao = float(np.dot(sizes, _shares(params["audit_synth.dibao_household_size_shares"])))
    mean_marginal = float(np.dot(sizes, _shares(
        params["audit_synth.marginal_household_size_shares"])))
    mean = shares[0] * mean_dibao + shares[1] + (0 if paid_only else shares[2] * mean_marginal)
    return max(1, round(persons / mean))


# --- the generator ------------------------------------------------------------------------


def generate_audit_data(params, n_households: int | None = None, seed: int = 20240101,
                        start: str | None = None, end: str | None = None
                        ) -> dict[str, pd.DataFrame]:
    """All CONTRACT §5 inputs and ``truth`` as frames (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_households = default_households(params) if n_households is None else int(n_households)
    if n_households < 1:
        raise UserInputError(f"--households {n_households}: must be at least 1")
    first_month, last_month = _window(params, start, end)
    months = np.arange(first_month, last_month + 1)
    n_months = len(months)
    month_first = months.astype("datetime64[D]")
    month_last = (months + 1).astype("datetime64[D]") - 1
    audit_end = month_last[-1]
    period_str = np.array([str(m) for m in months], dtype=object)
    region = str(params.region_code)
    region_int = int(region)

    standard_urban = float(params["dibao.standard.urban"])
    standard_rural = float(params["dibao.standard.rural"])
    due_days = int(params["audit.payment_due_days_after_month"])
    tolerance = float(params["audit.amount_tolerance"])
    review_months = int(params["review.max_months_between_checks"])
    grace_months = int(params["dibao.gradual_exit_months"])
    verify_new = int(params["monitoring.verify_working_days_new"])
    verify_initial_months = int(params["monitoring.verify_months_initial"])
    medical_threshold = float(params["screening.medical_self_paid_threshold"])
    medical_threshold_dibao = float(params["screening.medical_self_paid_threshold_dibao"])
    severe_grade = int(params["screening.severe_disability_max_grade"])
    severe_grade_im = int(params["screening.severe_disability_max_grade_intellectual_mental"])
    categories = np.array(list(params["screening.monitoring_categories"]), dtype=object)

    # ---- households and persons -----------------------------------------------------------
    program_h = rng.choice(3, n_households, p=_shares(params["audit_synth.program_shares"]))
    size_h = np.ones(n_households, dtype=np.int64)
    is_d, is_m = program_h == DIBAO, program_h == MARGINAL
    size_h[is_d] = 1 + rng.choice(5, int(is_d.sum()),
                                  p=_shares(params["audit_synth.dibao_household_size_shares"]))
    size_h[is_m] = 1 + rng.choice(5, int(is_m.sum()),
                                  p=_shares(params["audit_synth.marginal_household_size_shares"]))
    rural_h = rng.random(n_households) < float(params["audit_synth.rural_share"])
    standard_h = np.where(rural_h, standard_rural, standard_urban)
    # per-capita income: dibao below the standard, marginal between it and the threshold
    marginal_ratio = float(params["marginal.ratio_to_dibao"])
    pci_h = np.round(standard_h * rng.beta(2.0, 2.5, n_households) * 0.95, 0)
    pci_h[is_m] = np.round(standard_h[is_m] * rng.uniform(1.02, marginal_ratio - 0.02,
                                                          int(is_m.sum())), 0)
    pci_h[program_h == TEKUN] = np.round(standard_h[program_h == TEKUN]
                                         * rng.uniform(0, 0.3, int((program_h == TEKUN).sum())))
    household_ids = np.char.add(f"H{region}", np.char.zfill(
        np.arange(1, n_households + 1).astype("U9"), 7)).astype(object)

    n_persons = int(size_h.sum())
    hh_of = np.repeat(np.arange(n_households), size_h)
    first_of_h = np.cumsum(size_h) - size_h
    member_no = np.arange(n_persons) - first_of_h[hh_of]
    program_p = program_h[hh_of]
    # ages: the first member is an adult head; tekun are elderly, disabled adults or orphans
    age = rng.uniform(0, 90, n_persons)
    head = member_no == 0
    age[head] = rng.uniform(22, 88, int(head.sum()))
    tk = program_p == TEKUN
    kind = rng.choice(3, int(tk.sum()), p=[0.72, 0.2, 0.08])
    age[tk] = np.select([kind == 0, kind == 1], [rng.uniform(60, 96, int(tk.sum())),
                                                 rng.uniform(18, 60, int(tk.sum()))],
                        rng.uniform(3, 16, int(tk.sum())))
    care = np.full(n_persons, -1)
    care[tk] = rng.choice(3, int(tk.sum()), p=_shares(params["audit_synth.tekun_care_shares"]))
    institutional = np.zeros(n_persons, dtype=bool)
    institutional[tk] = rng.random(int(tk.sum())) < float(
        params["audit_synth.tekun_institutional_share"])

    # non-recipient residents (screening lists, guardians, staff, wrong account holders)
    n_other = int(np.ceil(n_persons * float(params["audit_synth.non_recipient_share"]))) + 200
    n_other += n_persons // 5  # guardians of minors and full-care tekun persons
    age_other = rng.uniform(18, 85, n_other)
    all_age = np.concatenate([age, age_other])
    n_all = len(all_age)
    births = audit_end - (all_age * 365.25).astype("timedelta64[D]")
    elsewhere = rng.random(n_all) < float(params["audit_synth.born_elsewhere_share"])
    other_codes = np.array([350582, 350583, 350521, 350524, 350525, 350526, 350527, 350505,
                            360702, 430524, 510322, 522121])
    addr = np.where(elsewhere, other_codes[rng.integers(0, len(other_codes), n_all)],
                    region_int)
    all_ids = make_resident_ids(addr, births, rng)
    all_names = make_names(rng, n_all)
    pid, pname = all_ids[:n_persons], all_names[:n_persons]
    other_ids, other_names = all_ids[n_persons:], all_names[n_persons:]
    other_cursor = [0]

    def take_others(n: int) -> np.ndarray:
        lo = other_cursor[0]
        if lo + n > n_other:
            raise RuntimeError("synthetic county ran out of non-recipient residents")
        other_cursor[0] = lo + n
        return np.arange(lo, lo + n)

    # monthly amounts (whole yuan): dibao standard − per-capita income; tekun basic + care
    amount = np.zeros(n_persons)
    dp = program_p == DIBAO
    amount[dp] = np.maximum(np.ceil(standard_h[hh_of][dp] - pci_h[hh_of][dp]), 1.0)
    amount[tk] = tekun_amount(params, rural_h[hh_of][tk], institutional[tk], care[tk])

    # ---- roster timing: churn households, everyone else active over the whole window ------
    start_d = audit_end - rng.integers(n_months * 31 + 60, 365 * 12, n_households).astype(
        "timedelta64[D]")
    end_d = np.full(n_households, np.datetime64("NaT"), dtype="datetime64[D]")
    churn_u = rng.random(n_households)
    entry_rate = float(params["audit_synth.monthly_entry_rate"]) * n_months
    exit_rate = float(params["audit_synth.monthly_exit_rate"]) * n_months
    entering = churn_u < entry_rate
    leaving = (churn_u >= entry_rate) & (churn_u < entry_rate + exit_rate)
    m_in = rng.integers(1, n_months, n_households) if n_months > 1 else np.zeros(
        n_households, dtype=np.int64)
    day_in = rng.integers(4, 25, n_households).astype("timedelta64[D]")
    start_d[entering] = month_first[m_in[entering]] + day_in[entering]
    m_out = rng.integers(0, max(n_months - 1, 1), n_households)
    end_d[leaving] = month_first[m_out[leaving]] + day_in[leaving]
    stable_h = ~(entering | leaving)

    # last economic check: within the review interval, a few days to (interval − 1) months ago
    check_h = audit_end - rng.integers(5, max(6, (review_months - 1) * 30),
                                       n_households).astype("timedelta64[D]")
    check_h = np.maximum(check_h, start_d)  # an approval comes with a check
    unstable_h = is_d & (rng.random(n_households) < float(
        params["audit_synth.unstable_income_share"]))

    truth = _Truth()

    # ---- plan: pools of clean persons and households --------------------------------------
    def count(rate_name: str, minimum_name: str) -> int:
        return max(int(params[minimum_name]), int(round(float(params[rate_name]) * n_persons)))

    n_plant = count("audit_synth.anomaly_rate", "audit_synth.min_planted_per_check")
    n_look = count("audit_synth.lookalike_rate", "audit_synth.min_lookalikes")

    paid_h = stable_h & (program_h != MARGINAL)
    hh_pool = rng.permutation(np.flatnonzero(paid_h & (size_h > 1)))
    single_dibao = rng.permutation(np.flatnonzero(paid_h & (size_h == 1) & is_d))
    review_h, hh_pool = _pick(hh_pool, max(1, n_plant // 2))
    ineligible_h, single_dibao = _pick(single_dibao, n_plant)
    grace_h, single_dibao = _pick(single_dibao, n_look)
    single_h, single_dibao = _pick(single_dibao, n_look)       # 单人保, low-income household
    expenditure_h, single_dibao = _pick(single_dibao, n_look)  # 支出型, after the deduction
    tekun_pool = rng.permutation(np.flatnonzero(paid_h & (program_h == TEKUN)))
    tekun_bad_h, tekun_pool = _pick(tekun_pool, max(1, n_plant // 2))
    used_h = np.zeros(n_households, dtype=bool)
    used_h[np.concatenate([review_h, ineligible_h, grace_h, single_h, expenditure_h,
                           tekun_bad_h])] = True

    # person pool: adults with no guardian in clean paid households not used above
    minor = age < 18
    needs_guardian = minor | (care == 2)
    person_ok = paid_h[hh_of] & ~used_h[hh_of] & ~needs_guardian
    pool = rng.permutation(np.flatnonzero(person_ok))
    plan = {}
    for name in ("invalid_id", "deceased_paid", "duplicate_region", "duplicate_program",
                 "duplicate_payment", "amount_mismatch", "late_payment", "missing_payment",
                 "paid_not_on_roster", "account_mismatch", "staff_relative_unfiled",
                 "alert_overdue"):
        plan[name], pool = _pick(pool, n_plant)
    for name, where in (("double_enrolment", program_p == DIBAO),
                        ("deceased_not_exited", None), ("amount_not_per_standard", None),
                        ("under_assisted", None), ("alert_forward_overdue", None)):
        plan[name], pool = _pick_where(pool, where, n_plant)
    for name in ("death_in_month", "filed_relative", "alert_ok", "screen_covered",
                 "tolerance", "due_day", "transition", "reenrol"):
        plan[name], pool = _pick(pool, n_look)
    plan["under_below"], pool = _pick_where(pool, program_p == DIBAO, n_look)
    # paid into the household head's account (到人到户, look-alike of account_mismatch):
    # a member of a several-person household whose head carries no plant
    head_of_p = (np.cumsum(size_h) - size_h)[hh_of]
    planted_now = setops.isin(head_of_p, np.concatenate(list(plan.values())))
    plan["head_account"], pool = _pick_where(
        pool, (head_of_p != np.arange(n_persons)) & ~planted_now & (size_h[hh_of] > 1), n_look)
    # transitions dibao → tekun need a one-person dibao household; keep only those
    plan["transition"] = plan["transition"][(size_h[hh_of[plan["transition"]]] == 1)
                                            & (program_p[plan["transition"]] == DIBAO)]
    if n_months < 2:  # mid-window exits, deaths, re-enrolment need two months at least
        for name in ("death_in_month", "transition", "reenrol"):
            plan[name] = plan[name][:0]

    # linkage cases (mistyped IDs) use their own generator, so switching them on leaves every
    # other draw — and so every other planted case — exactly as it was
    link_plan: dict[str, np.ndarray] = {}
    link_rng = np.random.default_rng([seed, 0x11643])
    if bool(params["audit_synth.linkage_cases"]) and n_months >= 2:
        n_link = max(int(params["audit_synth.min_linkage_cases"]), int(round(
            float(params["audit_synth.linkage_case_rate"]) * n_persons)))
        for name in ("deceased_paid", "duplicate_region", "paid_not_on_roster"):
            link_plan[name], pool = _pick(pool, n_link)
        # off-roster payments under a mistyped ID follow an exit before the last month
        link_exit = link_rng.integers(0, n_months - 1, len(link_plan["paid_not_on_roster"]))

    # ---- household-level plants: review overdue, ineligible, grace look-alikes --------------
    old = rng.integers(review_months + 2, review_months + 9, len(review_h))
    check_h[review_h] = _months_before(audit_end, old, rng)
    old = rng.integers(grace_months + 2, grace_months + 6, len(ineligible_h))
    check_h[ineligible_h] = _months_before(audit_end, old, rng)
    above = params["audit_synth.above_standard_income_multiple"]
    pci_h[ineligible_h] = np.round(standard_h[ineligible_h] * rng.uniform(
        *above["ineligible"], len(ineligible_h)))
    inside = max(1, min(grace_months, review_months) - 1)
    check_h[grace_h] = _months_before(audit_end, rng.integers(1, inside + 1, len(grace_h)), rng)
    pci_h[grace_h] = np.round(standard_h[grace_h] * rng.uniform(*above["grace"], len(grace_h)))
    # "低于" is strict (POLICY.md §10): a few ineligible households sit exactly on the standard
    on_bound = ineligible_h[: max(1, len(ineligible_h) // 5)]
    pci_h[on_bound] = standard_h[on_bound]
    # tekun whose verified income is at or above the dibao standard (无生活来源 fails, §3.5);
    # checked 1..(interval − 1) months before the end, so no review is overdue
    recent = max(1, review_months - 1)
    check_h[tekun_bad_h] = _months_before(audit_end, rng.integers(1, recent + 1,
                                                                  len(tekun_bad_h)), rng)
    pci_h[tekun_bad_h] = np.round(standard_h[tekun_bad_h] * rng.uniform(
        1.0, 1.4, len(tekun_bad_h)))
    pci_h[tekun_bad_h[: max(1, len(tekun_bad_h) // 4)]] = standard_h[
        tekun_bad_h[: max(1, len(tekun_bad_h) // 4)]]
    # single-person (单人保) households: per-capita income above the dibao standard but below
    # the marginal threshold — eligible (the member's disability is taken as approved)
    pci_h[single_h] = np.round(standard_h[single_h] * rng.uniform(
        1.02, marginal_ratio - 0.05, len(single_h)))
    # expenditure-type (支出型): income above the standard, below it after the deduction
    rigid_h = np.full(n_households, np.nan)
    pci_h[expenditure_h] = np.round(standard_h[expenditure_h] * rng.uniform(
        1.05, marginal_ratio - 0.1, len(expenditure_h)))
    assessed = np.round(standard_h[expenditure_h] * rng.uniform(0.4, 0.9, len(expenditure_h)))
    rigid_h[expenditure_h] = pci_h[expenditure_h] - assessed
    coverage_h = np.full(n_households, "", dtype=object)
    coverage_h[single_h] = "single"
    coverage_h[expenditure_h] = "expenditure"
    members_exp = setops.isin(hh_of, expenditure_h)
    amount[members_exp] = standard_h[hh_of[members_exp]] - np.round(
        pci_h[hh_of[members_exp]] - rigid_h[hh_of[members_exp]])
    # amount_not_per_standard: the approved amount is 20–200 yuan off the rule's
    anp = plan["amount_not_per_standard"]
    off = rng.integers(20, 201, len(anp)).astype(float)
    amount[anp] = np.where((rng.random(len(anp)) < 0.5) & (amount[anp] > off + 1),
                           amount[anp] - off, amount[anp] + off)
    truth.add("amount_not_per_standard", pid[anp])
    start_d[review_h] = np.minimum(start_d[review_h], check_h[review_h])
    start_d[ineligible_h] = np.minimum(start_d[ineligible_h], check_h[ineligible_h])

    # ---- roster rows (one per person, then extra spells) ----------------------------------
    r_person = np.arange(n_persons)
    r_start = start_d[hh_of].copy()
    r_end = end_d[hh_of].copy()
    r_program = program_p.copy()
    r_amount = np.where(program_p == MARGINAL, 0.0, amount)
    r_region = np.full(n_persons, region_int)
    r_hh = household_ids[hh_of].copy()

    # natural deaths (look-alike): roster ends on the death date; that month is still paid
    death_people = plan["death_in_month"]
    death_month = rng.integers(0, n_months - 1, len(death_people)) if n_months > 1 else \
        np.zeros(0, dtype=np.int64)
    death_dates = month_first[death_month] + rng.integers(2, 27, len(death_people)).astype(
        "timedelta64[D]")
    r_end[death_people] = death_dates

    # re-enrolment after exit: first spell ends in month a, second starts in month b ≥ a + 2
    re = plan["reenrol"]
    if n_months >= 3:
        a = rng.integers(0, n_months - 2, len(re))
        b = a + 2 + rng.integers(0, np.maximum(n_months - a - 2, 1))
        b = np.minimum(b, n_months - 1)
        r_end[re] = month_first[a] + rng.integers(3, 26, len(re)).astype("timedelta64[D]")
        extra_start = [month_first[b] + rng.integers(3, 26, len(re)).astype("timedelta64[D]")]
        extra_amount = [r_amount[re].copy()]
        extra = [(re, np.full(len(re), region_int), r_program[re], r_hh[re])]
        extra_end = [np.full(len(re), np.datetime64("NaT"), dtype="datetime64[D]")]
    else:
        extra, extra_start, extra_amount, extra_end = [], [], [], []

    # dibao → tekun at a month boundary (look-alike of duplicate_program)
    tr = plan["transition"]
    j = rng.integers(1, n_months, len(tr)) if n_months > 1 else np.zeros(0, dtype=np.int64)
    r_end[tr] = month_last[j - 1]
    extra.append((tr, np.full(len(tr), region_int), np.full(len(tr), TEKUN), r_hh[tr]))
    extra_start.append(month_first[j])
    extra_end.append(np.full(len(tr), np.datetime64("NaT"), dtype="datetime64[D]"))
    extra_amount.append(tekun_amount(params, rural_h[hh_of[tr]], np.zeros(len(tr), bool),
                                     np.zeros(len(tr), dtype=np.int64)))

    # duplicate_region: also on a neighbouring county's roster, same amount
    dr = plan["duplicate_region"]
    other_region = neighbour_region(region)
    dr_from = np.where(rng.random(len(dr)) < 0.5, 0, rng.integers(0, n_months, len(dr)))
    extra.append((dr, np.full(len(dr), int(other_region)), r_program[dr],
                  np.char.add(f"H{other_region}", np.char.zfill(
                      np.arange(len(dr)).astype("U9"), 7)).astype(object)))
    extra_start.append(np.where(dr_from == 0, r_start[dr], month_first[dr_from]))
    extra_end.append(np.full(len(dr), np.datetime64("NaT"), dtype="datetime64[D]"))
    extra_amount.append(r_amount[dr])
    months_idx = np.arange(n_months)
    sel = months_idx[None, :] >= dr_from[:, None]
    truth.add("duplicate_region", np.repeat(pid[dr], sel.sum(1)),
              np.tile(period_str, len(dr)).reshape(len(dr), n_months)[sel])

    # duplicate_program: on the other programme's roster too, paid by both
    dpg = plan["duplicate_program"]
    other_prog = np.where(r_program[dpg] == DIBAO, TEKUN, DIBAO)
    dp_from = np.where(rng.random(len(dpg)) < 0.5, 0, rng.integers(0, n_months, len(dpg)))
    other_amount = np.where(
        other_prog == TEKUN,
        tekun_amount(params, rural_h[hh_of[dpg]], np.zeros(len(dpg), bool),
                     np.zeros(len(dpg), dtype=np.int64)),
        np.maximum(np.ceil(standard_h[hh_of[dpg]] - pci_h[hh_of[dpg]]), 1.0))
    extra.append((dpg, np.full(len(dpg), region_int), other_prog, r_hh[dpg]))
    extra_start.append(np.where(dp_from == 0, r_start[dpg], month_first[dp_from]))
    extra_end.append(np.full(len(dpg), np.datetime64("NaT"), dtype="datetime64[D]"))
    extra_amount.append(other_amount)
    sel = months_idx[None, :] >= dp_from[:, None]
    truth.add("duplicate_program", np.repeat(pid[dpg], sel.sum(1)),
              np.tile(period_str, len(dpg)).reshape(len(dpg), n_months)[sel])

    # double_enrolment: a dibao member also on the tekun roster from a month on (self-care,
    # dispersed); only tekun is paid in those months (the dibao payments stop)
    de = plan["double_enrolment"]
    de_from = rng.integers(0, n_months, len(de))
    extra.append((de, np.full(len(de), region_int), np.full(len(de), TEKUN), r_hh[de]))
    extra_start.append(np.where(de_from == 0, r_start[de], month_first[de_from]))
    extra_end.append(np.full(len(de), np.datetime64("NaT"), dtype="datetime64[D]"))
    extra_amount.append(tekun_amount(params, rural_h[hh_of[de]], np.zeros(len(de), bool),
                                     np.zeros(len(de), dtype=np.int64)))
    sel = months_idx[None, :] >= de_from[:, None]
    for people, first_m in ((de, de_from), (dpg, dp_from)):
        sel = months_idx[None, :] >= first_m[:, None]
        truth.add("double_enrolment", np.repeat(pid[people], sel.sum(1)),
                  np.tile(period_str, len(people)).reshape(len(people), n_months)[sel])
    sel = months_idx[None, :] >= dr_from[:, None]
    truth.add("double_enrolment", np.repeat(pid[dr], sel.sum(1)),
              np.tile(period_str, len(dr)).reshape(len(dr), n_months)[sel])
    de_stop = np.full(n_persons, n_months)
    de_stop[de] = de_from

    # paid_not_on_roster (b): roster ends mid-window, payments go on
    pn = plan["paid_not_on_roster"]
    n_exit = len(pn) // 2 if n_months > 1 else 0
    pn_exit, pn_ghost = pn[:n_exit], pn[n_exit:]
    exit_month = rng.integers(0, n_months - 1, n_exit) if n_exit else np.zeros(0, np.int64)
    r_end[pn_exit] = np.where(rng.random(n_exit) < 0.5, month_last[exit_month],
                              month_first[exit_month] + rng.integers(
                                  3, 26, n_exit).astype("timedelta64[D]"))

    if link_plan:  # roster ends at the end of the exit month; the mistyped payments follow
        r_end[link_plan["paid_not_on_roster"]] = month_last[link_exit]

    for rows, reg, prog, hh in extra:
        r_person = np.concatenate([r_person, rows])
        r_region = np.concatenate([r_region, reg])
        r_program = np.concatenate([r_program, prog])
        r_hh = np.concatenate([r_hh, hh])
    r_start = np.concatenate([r_start, *extra_start])
    r_end = np.concatenate([r_end, *extra_end])
    r_amount = np.concatenate([r_amount, *extra_amount])
    # ghosts (paid_not_on_roster (a)) are removed from the roster: their rows are dropped
    keep_row = ~setops.isin(r_person, pn_ghost)

    # ---- payments: every active month with a positive amount -------------------------------
    active = (r_start[:, None] <= month_last[None, :]) & (
        np.isnat(r_end)[:, None] | (r_end[:, None] >= month_first[None, :]))
    active &= (r_amount > 0)[:, None]
    pay_row, pay_m = np.nonzero(active)
    # ghosts: keep their payments, as if their approval had been deleted
    pay_person = r_person[pay_row]
    pay_amount = r_amount[pay_row].copy()
    pay_region = r_region[pay_row]
    pay_program = r_program[pay_row]
    pay_date = _paid_dates(params, rng, month_first[pay_m], month_last[pay_m], due_days)

    de_drop = (pay_program == DIBAO) & (pay_m >= de_stop[pay_person])
    pay_person, pay_m, pay_amount = pay_person[~de_drop], pay_m[~de_drop], pay_amount[~de_drop]
    pay_region, pay_program = pay_region[~de_drop], pay_program[~de_drop]
    pay_date = pay_date[~de_drop]

    ghost_mask = setops.isin(pay_person, pn_ghost)
    truth.add("paid_not_on_roster", pid[pay_person[ghost_mask]], period_str[pay_m[ghost_mask]])
    # exited persons: extra payments after the month of exit
    ex_person = np.repeat(pn_exit, n_months)
    ex_m = np.tile(months_idx, n_exit)
    after = ex_m > np.repeat(exit_month, n_months)
    ex_person, ex_m = ex_person[after], ex_m[after]
    truth.add("paid_not_on_roster", pid[ex_person], period_str[ex_m])
    pay_person = np.concatenate([pay_person, ex_person])
    pay_m = np.concatenate([pay_m, ex_m])
    pay_amount = np.concatenate([pay_amount, r_amount[ex_person]])
    pay_region = np.concatenate([pay_region, np.full(len(ex_person), region_int)])
    pay_program = np.concatenate([pay_program, r_program[ex_person]])
    pay_date = np.concatenate([pay_date, _paid_dates(params, rng, month_first[ex_m],
                                                     month_last[ex_m], due_days)])

    key = pay_person.astype(np.int64) * n_months + pay_m
    due = _due_dates(month_last, due_days)[pay_m]

    def choose_months(people: np.ndarray) -> np.ndarray:
        """One or two distinct months per person → keys person × n_months + month."""
        m1 = rng.integers(0, n_months, len(people))
        keys = [people.astype(np.int64) * n_months + m1]
        if n_months > 1:
            two = rng.random(len(people)) < 0.3
            m2 = (m1 + 1 + rng.integers(0, n_months - 1, len(people))) % n_months
            keys.append(people[two].astype(np.int64) * n_months + m2[two])
        return np.concatenate(keys)

    def primary(mask: np.ndarray) -> np.ndarray:
        """Only the person's own county, own-programme payment (not an extra spell)."""
        return mask & (pay_region == region_int) & (pay_program == program_p[pay_person])

    # amount_mismatch
    am = primary(setops.isin(key, choose_months(plan["amount_mismatch"])))
    delta = rng.integers(20, 301, int(am.sum())).astype(float)
    sign = np.where((rng.random(int(am.sum())) < 0.5) & (pay_amount[am] > delta + 1), -1.0, 1.0)
    pay_amount[am] += sign * delta
    truth.add("amount_mismatch", pid[pay_person[am]], period_str[pay_m[am]])
    # within tolerance (look-alike)
    tl = primary(setops.isin(key, choose_months(plan["tolerance"])))
    pay_amount[tl] = np.round(pay_amount[tl] + np.where(rng.random(int(tl.sum())) < 0.5, -1, 1)
                              * np.floor(tolerance * 60) / 100, 2)
    # late_payment
    lt = primary(setops.isin(key, choose_months(plan["late_payment"])))
    pay_date[lt] = due[lt] + rng.integers(5, 61, int(lt.sum())).astype("timedelta64[D]")
    truth.add("late_payment", pid[pay_person[lt]], period_str[pay_m[lt]])
    # paid exactly on the due day (look-alike)
    dd = primary(setops.isin(key, choose_months(plan["due_day"])))
    pay_date[dd] = due[dd]
    # account_mismatch: an unrelated resident's account, every month
    holder_other = np.full(len(pay_person), -1)
    amx = setops.isin(pay_person, plan["account_mismatch"])
    wrong = take_others(len(plan["account_mismatch"]))
    lookup = np.full(n_persons, -1)
    lookup[plan["account_mismatch"]] = wrong
    holder_other[amx] = lookup[pay_person[amx]]
    truth.add("account_mismatch", pid[pay_person[amx]], period_str[pay_m[amx]])
    # duplicate_payment: a second payment for one month
    dpp = primary(setops.isin(key, plan["duplicate_payment"].astype(np.int64) * n_months
                          + rng.integers(0, n_months, len(plan["duplicate_payment"]))))
    truth.add("duplicate_payment", pid[pay_person[dpp]], period_str[pay_m[dpp]])
    # missing_payment: drop one or two months
    ms = primary(setops.isin(key, choose_months(plan["missing_payment"])))
    truth.add("missing_payment", pid[pay_person[ms]], period_str[pay_m[ms]])

    dup_idx = np.flatnonzero(dpp)
    copy_date = np.minimum(pay_date[dup_idx] + rng.integers(1, 4, len(dup_idx)).astype(
        "timedelta64[D]"), due[dup_idx])
    keep = ~ms
    idx = np.concatenate([np.flatnonzero(keep), dup_idx])
    pay_date = np.concatenate([pay_date[keep], copy_date])
    pay_person, pay_m = pay_person[idx], pay_m[idx]
    pay_amount, pay_region = pay_amount[idx], pay_region[idx]
    pay_program, holder_other = pay_program[idx], holder_other[idx]

    # deceased_paid: died before the last month, roster not updated, paid on
    dcp = plan["deceased_paid"]
    dmonth = rng.integers(-3, n_months - 1, len(dcp)) if n_months > 1 else np.full(
        len(dcp), -3)
    dmonth_first = (months[0] + dmonth).astype("datetime64[D]")
    dcp_dates = dmonth_first + rng.integers(0, 27, len(dcp)).astype("timedelta64[D]")
    sel = months_idx[None, :] > dmonth[:, None]
    truth.add("deceased_paid", np.repeat(pid[dcp], sel.sum(1)),
              np.tile(period_str, len(dcp)).reshape(len(dcp), n_months)[sel])

    # deceased_not_exited: died before the last month, roster not updated, payments stopped
    dne = plan["deceased_not_exited"]
    dne_month = rng.integers(-3, n_months - 1, len(dne)) if n_months > 1 else np.full(
        len(dne), -3)
    dne_dates = (months[0] + dne_month).astype("datetime64[D]") + rng.integers(
        0, 27, len(dne)).astype("timedelta64[D]")
    stop = np.full(n_persons, n_months)
    stop[dne] = dne_month
    keep_pay = pay_m <= stop[pay_person]
    pay_person, pay_m, pay_amount = pay_person[keep_pay], pay_m[keep_pay], pay_amount[keep_pay]
    pay_region, pay_program = pay_region[keep_pay], pay_program[keep_pay]
    pay_date, holder_other = pay_date[keep_pay], holder_other[keep_pay]
    truth.add("deceased_not_exited", pid[np.concatenate([dcp, dne])])

    # ---- guardians and account holders ----------------------------------------------------
    # a minor's guardian is the household head when an adult, else an outside resident;
    # full-care tekun persons have an outside guardian (a relative)
    head_of = first_of_h[hh_of]
    head_adult = age[head_of] >= 18
    inside_g = needs_guardian & head_adult & (head_of != np.arange(n_persons))
    outside_g = needs_guardian & ~inside_g
    guardian_index = np.full(n_persons, -1)
    guardian_index[inside_g] = head_of[inside_g]
    guardian_id = np.full(n_persons, "", dtype=object)
    guardian_id[inside_g] = pid[head_of[inside_g]]
    outside_rows = take_others(int(outside_g.sum()))
    guardian_id[outside_g] = other_ids[outside_rows]
    holder = np.where(guardian_id[pay_person] != "", guardian_id[pay_person], pid[pay_person])
    holder[holder_other >= 0] = other_ids[holder_other[holder_other >= 0]]
    # a member paid into the household head's account: correct (到人到户, look-alike)
    to_head = setops.isin(pay_person, plan["head_account"])
    holder[to_head] = pid[head_of_p[pay_person[to_head]]]

    # ---- invalid IDs: rewrite the ID everywhere it appears --------------------------------
    person_ids = pid.copy()
    bad = plan["invalid_id"]
    person_ids[bad] = invalid_ids(pid[bad], rng,
                                  params["audit_synth.invalid_id_kind_shares"])
    truth.add("invalid_id", person_ids[bad])
    holder = np.where(setops.isin(pay_person, bad) & (holder == pid[pay_person]),
                      person_ids[pay_person], holder)

    # ---- build frames ---------------------------------------------------------------------
    order = np.lexsort((pay_person, pay_m))
    n_pay = len(order)
    payments = pd.DataFrame({
        "payment_id": np.char.add(f"PAY{region}", np.char.zfill(
            np.arange(1, n_pay + 1).astype("U12"), 9)).astype(object),
        "person_id": person_ids[pay_person[order]],
        "account_holder_id": holder[order],
        "region_code": pay_region[order].astype("U6").astype(object),
        "program": PROGRAMS[pay_program[order]],
        "period": period_str[pay_m[order]],
        "amount": np.round(pay_amount[order], 2),
        "paid_date": _date_strings(pay_date[order]),
    })

    rows = np.flatnonzero(keep_row)
    rp = r_person[rows]
    hh_r = hh_of[rp]
    own_county = r_region[rows] == region_int
    check_r = np.where(own_county, check_h[hh_r], audit_end - np.timedelta64(20, "D"))
    unstable_r = unstable_h[hh_r] & own_county
    work_r = (age[rp] >= 16) & (age[rp] < 60) & (r_program[rows] != TEKUN)
    visit_r = np.where(unstable_r, audit_end - rng.integers(5, max(6, (review_months - 1) * 30),
                                                            len(rows)).astype("timedelta64[D]"),
                       np.datetime64("NaT"))
    sub_type = np.where(r_program[rows] == TEKUN,
                        np.where(institutional[rp], "institutional", "dispersed"),
                        np.where(rural_h[hh_r], "rural", "urban")).astype(object)
    roster = pd.DataFrame({
        "person_id": person_ids[rp],
        "name": pname[rp],
        "household_id": r_hh[rows],
        "region_code": r_region[rows].astype("U6").astype(object),
        "program": PROGRAMS[r_program[rows]],
        "start_date": _date_strings(r_start[rows]),
        "end_date": _date_strings(r_end[rows]),
        "monthly_amount": r_amount[rows],
        "last_check_date": _date_strings(check_r),
        "unstable_income": unstable_r,
        "work_capacity": work_r,
        "last_visit_date": _date_strings(visit_r),
        "sub_type": sub_type,
        "coverage_type": np.where(r_program[rows] == DIBAO, coverage_h[hh_r], "").astype(object),
        "care_level": np.where(r_program[rows] == TEKUN, np.array(CARE_LEVELS, dtype=object)[
            np.maximum(care[rp], 0)], "").astype(object),
    })

    # review_overdue truth from the dates actually written (own-county rows active at the end)
    limit = _months_before(audit_end, np.array([review_months]), None)[0]
    overdue_h = np.concatenate([review_h, ineligible_h])
    overdue_h = overdue_h[check_h[overdue_h] < limit]
    truth.add("review_overdue", pid[setops.isin(hh_of, overdue_h)])
    truth.add("ineligible_recipient", pid[first_of_h[np.concatenate([ineligible_h,
                                                                     tekun_bad_h])]])

    # deaths: planted deceased_paid, natural deaths (look-alike) and non-recipients
    dead_others = take_others(max(1, n_look))
    deaths = pd.DataFrame({
        "person_id": np.concatenate([pid[dcp], pid[dne], pid[death_people],
                                     other_ids[dead_others]]),
        "name": np.concatenate([pname[dcp], pname[dne], pname[death_people],
                                other_names[dead_others]]),
        "death_date": _date_strings(np.concatenate([
            dcp_dates, dne_dates, death_dates,
            audit_end - rng.integers(10, 400, len(dead_others)).astype("timedelta64[D]")])),
    })

    gmask = guardian_id != ""
    guardians = pd.DataFrame({"person_id": pid[gmask], "guardian_id": guardian_id[gmask]})

    # staff relatives: unfiled beneficiaries (planted), filed beneficiaries and unfiled
    # non-beneficiaries (look-alikes)
    su = plan["staff_relative_unfiled"]
    truth.add("staff_relative_unfiled", pid[su])
    fr = plan["filed_relative"]
    n_filed_more = int(round(float(params["audit_synth.staff_relative_share"]) * n_persons))
    extra_filed = rng.choice(np.flatnonzero(paid_h[hh_of] & ~used_h[hh_of]), min(
        n_filed_more, int((paid_h[hh_of] & ~used_h[hh_of]).sum())), replace=False)
    extra_filed = extra_filed[~setops.isin(extra_filed, np.concatenate(list(plan.values())))]
    nonben = take_others(n_look)
    relative_ids = np.concatenate([pid[su], pid[fr], pid[extra_filed], other_ids[nonben]])
    filed = np.concatenate([np.zeros(len(su), bool), np.ones(len(fr) + len(extra_filed), bool),
                            np.zeros(len(nonben), bool)])
    n_rel = len(relative_ids)
    n_staff = max(1, n_rel // 3)
    staff = take_others(n_staff)
    staff_of = staff[rng.integers(0, n_staff, n_rel)]
    staff_relatives = pd.DataFrame({
        "staff_id": other_ids[staff_of], "staff_name": other_names[staff_of],
        "relative_id": relative_ids, "relation": RELATIONS[rng.integers(0, 4, n_rel)],
        "filed": filed,
    })

    # ---- screening lists ------------------------------------------------------------------
    year = int(str(last_month)[:4])
    cand = take_others(n_plant)
    kind = rng.integers(0, 3, len(cand))
    truth.add("exclusion_candidate", other_ids[cand])
    med_c = cand[kind == 0]
    dis_c = cand[kind == 1]
    mon_c = cand[kind == 2]
    # look-alikes: under the threshold, non-severe new disability, other category, old
    # non-severe registrations; covered persons on every list
    under = take_others(n_look)
    nonsevere = take_others(n_look)
    other_cat = take_others(n_look)
    covered = plan["screen_covered"]
    cov_tekun = covered[program_p[covered] == TEKUN]
    cov_dibao = covered[program_p[covered] == DIBAO]
    # under-assistance (疑似漏救): covered dibao members at or above the dibao line (a few
    # exactly on it: "以上" includes the bound) and tekun persons with any medical spending,
    # no assistance record; the covered screen look-alikes have one (medical or temporary)
    ua = plan["under_assisted"]
    ua_tekun = ua[program_p[ua] == TEKUN]
    ua_dibao = ua[program_p[ua] != TEKUN]
    truth.add("under_assisted", pid[ua])
    med_amount = medical_threshold * rng.uniform(1.0, 3.0, len(med_c))
    med_amount[: max(1, len(med_c) // 5)] = medical_threshold  # exactly 4万元: listed
    ua_amount = medical_threshold_dibao * rng.uniform(1.0, 3.0, len(ua_dibao))
    ua_amount[: max(1, len(ua_dibao) // 5)] = medical_threshold_dibao
    below = plan["under_below"]
    medical = pd.DataFrame({
        "person_id": np.concatenate([other_ids[med_c], other_ids[under], pid[cov_dibao],
                                     pid[cov_tekun], pid[ua_dibao], pid[ua_tekun],
                                     pid[below]]),
        "year": year,
        "self_paid_amount": np.round(np.concatenate([
            med_amount,
            medical_threshold - rng.uniform(1, medical_threshold * 0.03, len(under)),
            medical_threshold_dibao * rng.uniform(1.1, 3.0, len(cov_dibao)),
            rng.uniform(200, 5000, len(cov_tekun)),
            ua_amount, rng.uniform(200, 5000, len(ua_tekun)),
            medical_threshold_dibao - rng.uniform(1, 300, len(below))]), 2),
    })
    helped = np.concatenate([cov_dibao, cov_tekun])
    assistance = pd.DataFrame({
        "person_id": pid[helped],
        "kind": np.where(rng.random(len(helped)) < 0.5, "medical", "temporary").astype(object),
        "date": _date_strings(month_first[0] + rng.integers(
            0, max(1, int((audit_end - month_first[0]).astype(np.int64))),
            len(helped)).astype("timedelta64[D]")),
        "amount": np.round(rng.uniform(500, 5000, len(helped)), 2),
    })
    window_days = (audit_end - month_first[0]).astype(np.int64)
    new_issue = month_first[0] + rng.integers(0, window_days, len(dis_c) + len(nonsevere)
                                              + len(covered)).astype("timedelta64[D]")
    im_types = np.array(["intellectual", "mental"], dtype=object)
    dis_grade = np.where(rng.random(len(dis_c)) < 0.6, rng.integers(1, severe_grade + 1,
                                                                    len(dis_c)), severe_grade_im)
    dis_type = np.where(dis_grade <= severe_grade,
                        DISABILITY_TYPES[rng.integers(0, 7, len(dis_c))],
                        im_types[rng.integers(0, 2, len(dis_c))])
    plain_types = np.array(["physical", "visual", "hearing", "speech"], dtype=object)
    ns_grade = rng.integers(severe_grade + 1, 5, len(nonsevere))
    disability = pd.DataFrame({
        "person_id": np.concatenate([other_ids[dis_c], other_ids[nonsevere], pid[covered]]),
        "grade": np.concatenate([dis_grade, ns_grade, rng.integers(1, severe_grade + 1,
                                                                   len(covered))]),
        "type": np.concatenate([dis_type, plain_types[rng.integers(0, 4, len(nonsevere))],
                                plain_types[rng.integers(0, 4, len(covered))]]),
        "issued_date": _date_strings(new_issue),
    })
    monitoring = pd.DataFrame({
        "person_id": np.concatenate([other_ids[mon_c], other_ids[other_cat], pid[covered]]),
        "category": np.concatenate([categories[rng.integers(0, len(categories), len(mon_c))],
                                    np.full(len(other_cat), OTHER_MONITORING_CATEGORY),
                                    categories[rng.integers(0, len(categories),
                                                            len(covered))]]),
        "since_date": _date_strings(audit_end - rng.integers(30, 900, len(mon_c) + len(
            other_cat) + len(covered)).astype("timedelta64[D]")),
    })

    # ---- households file (own county) -----------------------------------------------------
    households = pd.DataFrame({
        "household_id": household_ids, "members": size_h, "per_capita_income": pci_h,
        "check_date": _date_strings(check_h), "rigid_expenditure": rigid_h,
    })
    hh_keep = ~setops.isin(np.arange(n_households), hh_of[pn_ghost]) | (size_h > 1)
    households = households[hh_keep].reset_index(drop=True)

    truth_linkage = None
    if link_plan:
        roster, payments, deaths, truth_linkage = _plant_linkage(
            params, link_rng, link_plan, link_exit, roster, payments, deaths, pid, pname,
            all_ids, person_ids, months, month_first, month_last, due_days, audit_end,
            other_region, truth)
        if bool(params["audit_synth.payee_details"]):
            roster, payments, deaths = plant_payee_details(
                params, np.random.default_rng([seed, 0xACC0]), roster, payments, deaths,
                truth_linkage, set(all_ids) | set(person_ids), len(link_plan["deceased_paid"]),
                months, month_first, month_last, due_days, audit_end, truth)

    # ---- alerts ---------------------------------------------------------------------------
    alerts = _alerts(params, rng, pid, plan, n_persons, month_first[0], audit_end, verify_new,
                     verify_initial_months, truth)
    del alerts["_person"]

    return {"roster": roster, "payments": payments, "deaths": deaths, "guardians": guardians,
            "staff_relatives": staff_relatives, "medical": medical, "disability": disability,
            "monitoring": monitoring, "households": households, "alerts": alerts,
            "assistance": assistance,
            "truth": truth.frame(),
            **({"truth_linkage": truth_linkage} if truth_linkage is not None else {})}


def mistyped_ids(ids: np.ndarray, kinds: np.ndarray, rng: np.random.Generator,
                 taken: set, latest_birth: np.datetime64) -> np.ndarray:
    """IDs as a clerk might mistype them — ``digit`` (one of the 17 digits changed),
    ``transpose`` (two adjacent unequal digits swapped), ``old15`` (the 15-digit
    first-generation form) — with the check character recomputed for the 18-character kinds,
    so the result **passes GB 11643** (no ``invalid_id``), has a real birth date, and is
    nobody's ID (not in ``taken``, which grows). Redrawn until so (a handful per county)."""
    from jiuzhu_sim.audit.ids import id_problems

    out = np.asarray(ids, dtype=object).copy()
    for i, (original, kind) in enumerate(zip(ids, kinds, strict=True)):
        if kind == "old15" and original[6:8] == "19":
            out[i] = original[:6] + original[8:17]
            continue
        for _ in range(200):
            body = list(original[:17])
            if kind == "transpose":
                spots = [j for j in range(16) if body[j] != body[j + 1]]
                j = spots[int(rng.integers(0, len(spots)))]
                body[j], body[j + 1] = body[j + 1], body[j]
            else:
                j = int(rng.integers(0, 17))
                body[j] = str((int(body[j]) + int(rng.integers(1, 10))) % 10)
            text = "".join(body)
            candidate = text + str(id_check_char(np.array([int(text)]))[0])
            if candidate not in taken and id_problems(
                    np.array([candidate], dtype=object), latest_birth)[0] == "":
                out[i] = candidate
                break
        else:  # pragma: no cover - 200 tries cannot all fail for a real ID
            raise RuntimeError(f"no valid mistyped form of {original}")
        taken.add(out[i])
    return out


def variant_names(names: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each name with one given-name character replaced by a homophone (NAME_VARIANTS) where
    it has one → (names, changed)."""
    out = np.asarray(names, dtype=object).copy()
    changed = np.zeros(len(out), dtype=bool)
    for i, name in enumerate(out):
        spots = [j for j in range(1, len(name)) if name[j] in NAME_VARIANTS]
        if spots:
            j = spots[int(rng.integers(0, len(spots)))]
            out[i] = name[:j] + NAME_VARIANTS[name[j]] + name[j + 1:]
            changed[i] = True
    return out, changed


def _plant_linkage(params, rng, link_plan, link_exit, roster, payments, deaths, pid, pname,
                   all_ids, person_ids, months, month_first, month_last, due_days, audit_end,
                   other_region, truth):
    """Linkage cases (module docstring): death records, a second region's roster and
    payments, and off-roster payments under mistyped IDs, with variant names. Only rows are
    added; the persons are otherwise clean, so no exact check changes except
    ``paid_not_on_roster`` (the mistyped payments genuinely have no roster row)."""
    n_months = len(months)
    period_str = np.array([str(m) for m in months], dtype=object)
    taken = set(all_ids) | set(person_ids)
    shares = _shares(params["audit_synth.linkage_typo_shares"])
    variant_share = float(params["audit_synth.linkage_name_variant_share"])
    kinds_all = np.array(["digit", "transpose", "old15"], dtype=object)
    records = []

    def written(people, allow_old):
        kinds = kinds_all[rng.choice(3, len(people), p=shares)]
        if not allow_old:
            kinds[kinds == "old15"] = "digit"
        # a 15-digit ID has a two-digit year read as 19xx: only for people born before 2000
        born_2000s = pd.Series(pid[people], dtype="str").str.slice(6, 8).to_numpy() >= "20"
        kinds[(kinds == "old15") & born_2000s] = "digit"
        ids = mistyped_ids(pid[people], kinds, rng, taken, audit_end)
        names, changed = variant_names(pname[people], rng)
        use_variant = changed & (rng.random(len(people)) < variant_share)
        names = np.where(use_variant, names, pname[people])
        return ids, names, kinds, use_variant

    def record(check, ids, people, kinds, variant):
        records.append(pd.DataFrame({"check": check, "person_id_written": ids,
                                     "person_id_true": pid[people], "kind": kinds,
                                     "name_variant": variant}))

    # death records under a mistyped ID: the roster goes on, so do the payments
    dead = link_plan["deceased_paid"]
    ids, names, kinds, variant = written(dead, allow_old=True)
    dmonth = rng.integers(-3, n_months - 1, len(dead))
    dates = (months[0] + dmonth).astype("datetime64[D]") + rng.integers(
        0, 27, len(dead)).astype("timedelta64[D]")
    deaths = pd.concat([deaths, pd.DataFrame({"person_id": ids, "name": names,
                                              "death_date": _date_strings(dates)})],
                       ignore_index=True)
    sel = np.arange(n_months)[None, :] > dmonth[:, None]
    # the audit normalises IDs on read (15 → 18 digits), so an old-form ID is an exact hit
    old = (kinds == "old15")[:, None]
    periods = np.tile(period_str, len(dead)).reshape(len(dead), n_months)
    for check, rows in (("probable_deceased_paid", sel & ~old), ("deceased_paid", sel & old)):
        truth.add(check, np.repeat(pid[dead], rows.sum(1)), periods[rows])
    truth.add("deceased_not_exited", pid[dead][kinds == "old15"])
    record("probable_deceased_paid", ids, dead, kinds, variant)

    # a neighbouring county's roster and payments under a mistyped ID, from a month on
    dup = link_plan["duplicate_region"]
    ids, names, kinds, variant = written(dup, allow_old=False)
    first = rng.integers(0, n_months, len(dup))
    own = roster.drop_duplicates("person_id").set_index("person_id").loc[pid[dup]]
    extra_roster = own.reset_index().assign(
        person_id=ids, name=names, region_code=other_region,
        household_id=[f"H{other_region}L{i:06d}" for i in range(len(dup))],
        start_date=_date_strings(month_first[first]), end_date="",
        last_check_date=_date_strings(np.full(len(dup), audit_end - np.timedelta64(20, "D"))),
        unstable_income=False, last_visit_date="")
    sel = np.arange(n_months)[None, :] >= first[:, None]
    pay_person = np.repeat(np.arange(len(dup)), sel.sum(1))
    pay_month = np.tile(np.arange(n_months), len(dup)).reshape(len(dup), n_months)[sel]
    extra_pay = [pd.DataFrame({
        "person_id": ids[pay_person], "account_holder_id": ids[pay_person],
        "region_code": other_region, "program": own["program"].to_numpy()[pay_person],
        "period": period_str[pay_month],
        "amount": own["monthly_amount"].to_numpy()[pay_person],
        "paid_date": _date_strings(_paid_dates(params, rng, month_first[pay_month],
                                               month_last[pay_month], due_days))})]
    truth.add("probable_duplicate_region", pid[dup][pay_person], period_str[pay_month])
    record("probable_duplicate_region", ids, dup, kinds, variant)

    # payments after the exit month under a mistyped ID (no roster row at all)
    gone = link_plan["paid_not_on_roster"]
    ids, _, kinds, _ = written(gone, allow_old=False)
    sel = np.arange(n_months)[None, :] > link_exit[:, None]
    pay_person = np.repeat(np.arange(len(gone)), sel.sum(1))
    pay_month = np.tile(np.arange(n_months), len(gone)).reshape(len(gone), n_months)[sel]
    own = roster.drop_duplicates("person_id").set_index("person_id").loc[pid[gone]]
    extra_pay.append(pd.DataFrame({
        "person_id": ids[pay_person], "account_holder_id": ids[pay_person],
        "region_code": own["region_code"].to_numpy()[pay_person],
        "program": own["program"].to_numpy()[pay_person], "period": period_str[pay_month],
        "amount": own["monthly_amount"].to_numpy()[pay_person],
        "paid_date": _date_strings(_paid_dates(params, rng, month_first[pay_month],
                                               month_last[pay_month], due_days))}))
    truth.add("paid_not_on_roster", ids[pay_person], period_str[pay_month])
    truth.add("probable_paid_not_on_roster", pid[gone][pay_person], period_str[pay_month])
    record("probable_paid_not_on_roster", ids, gone, kinds, np.zeros(len(gone), bool))

    extra = pd.concat(extra_pay, ignore_index=True)
    region = str(payments["payment_id"].iloc[0])[3:9] if len(payments) else "000000"
    start = len(payments) + 1
    extra.insert(0, "payment_id", [f"PAY{region}{i:09d}" for i in range(
        start, start + len(extra))])
    payments = pd.concat([payments, extra[payments.columns]], ignore_index=True)
    roster = pd.concat([roster, extra_roster[roster.columns]], ignore_index=True)
    return roster, payments, deaths, pd.concat(records, ignore_index=True)[
        LINKAGE_TRUTH_COLUMNS]


def _card_numbers(rng, prefix: str, n: int) -> np.ndarray:
    """``n`` 19-digit bank card numbers starting with ``prefix`` (4 digits)."""
    digits = rng.integers(0, 10**15, n)
    return np.array([f"{prefix}{d:015d}" for d in digits], dtype=object)


def plant_payee_details(params, rng, roster, payments, deaths, truth_linkage, taken,
                        n_decoys, months, month_first, month_last, due_days, audit_end,
                        truth):
    """The payee's name and bank account (CONTRACT §5: roster ``account_no``, payments
    ``name`` and ``account_no``) and look-alike decoys for the probable-match linkage.

    Every roster person gets one account (a 19-digit card number); a payment carries the
    name and account of the person it is for — for the planted payments under a mistyped
    ID (``probable_paid_not_on_roster``, ``probable_duplicate_region``) the true person's,
    as a one-card system pays into the person's own card whatever ID was keyed. Decoys,
    ``n_decoys`` of each kind, must NOT be linked: payments to strangers whose ID is one
    keying error from a paid roster person's (on no roster: exact ``paid_not_on_roster``
    truth, with their own name and account), and death records of strangers one keying
    error from a paid roster person (own name; never paid, so no finding). ``rng`` is this
    function's own generator: every other draw stays as it was."""
    people = roster.drop_duplicates("person_id")
    accounts = pd.Series(_card_numbers(rng, "6217", len(people)),
                         index=people["person_id"].to_numpy(dtype=object))
    names = pd.Series(people["name"].to_numpy(dtype=object),
                      index=people["person_id"].to_numpy(dtype=object))
    # a mistyped ID pays into the true person's card (and the neighbouring county's roster
    # row under the mistyped ID carries that card)
    planted = truth_linkage[truth_linkage["check"].isin(
        ["probable_paid_not_on_roster", "probable_duplicate_region"])]
    true_of = pd.Series(planted["person_id_true"].to_numpy(dtype=object),
                        index=planted["person_id_written"].to_numpy(dtype=object))
    alias = true_of[true_of.index.isin(accounts.index)]
    accounts.loc[alias.index] = accounts.reindex(alias.to_numpy()).to_numpy()
    roster = roster.assign(account_no=roster["person_id"].map(accounts).to_numpy(dtype=object))
    written = payments["person_id"].astype(object)
    payee = written.map(true_of).astype(object)
    payee = payee.where(payee.notna(), written)
    pay_name = payee.map(names).astype(object)
    pay_account = payee.map(accounts).astype(object)
    strangers = pay_name.isna().to_numpy()  # exact off-roster anomalies: own name and card
    pay_name[strangers] = make_names(rng, int(strangers.sum()))
    pay_account[strangers] = _card_numbers(rng, "6228", int(strangers.sum()))
    payments = payments.assign(name=pay_name.to_numpy(dtype=object),
                               account_no=pay_account.to_numpy(dtype=object))

    # decoys: look-alike IDs of paid roster people, with someone else's name and card
    paid = pd.unique(payments.loc[payments["person_id"].isin(names.index), "person_id"])
    victims = rng.choice(np.asarray(paid, dtype=object), 2 * n_decoys, replace=False)
    kinds = np.where(rng.random(2 * n_decoys) < 0.6, "digit", "transpose").astype(object)
    ids = mistyped_ids(victims, kinds, rng, taken, audit_end)
    decoy_names = make_names(rng, 2 * n_decoys)
    same = decoy_names == names.reindex(victims).to_numpy(dtype=object)
    decoy_names[same] = np.char.add(decoy_names[same].astype(str), "华").astype(object)
    pay_ids, death_ids = ids[:n_decoys], ids[n_decoys:]
    own = people.set_index("person_id").loc[victims[:n_decoys]]
    n_months = len(months)
    first = rng.integers(0, n_months, n_decoys)
    sel = np.arange(n_months)[None, :] >= first[:, None]
    who = np.repeat(np.arange(n_decoys), sel.sum(1))
    month = np.tile(np.arange(n_months), n_decoys).reshape(n_decoys, n_months)[sel]
    period_str = np.array([str(m) for m in months], dtype=object)
    extra = pd.DataFrame({
        "person_id": pay_ids[who], "account_holder_id": pay_ids[who],
        "region_code": own["region_code"].to_numpy()[who],
        "program": own["program"].to_numpy()[who], "period": period_str[month],
        "amount": own["monthly_amount"].to_numpy()[who],
        "paid_date": _date_strings(_paid_dates(params, rng, month_first[month],
                                               month_last[month], due_days)),
        "name": decoy_names[:n_decoys][who],
        "account_no": _card_numbers(rng, "6230", n_decoys)[who]})
    truth.add("paid_not_on_roster", pay_ids[who], period_str[month])
    region = str(payments["payment_id"].iloc[0])[3:9] if len(payments) else "000000"
    start = len(payments) + 1
    extra.insert(0, "payment_id", [f"PAY{region}{i:09d}" for i in range(
        start, start + len(extra))])
    payments = pd.concat([payments, extra[payments.columns]], ignore_index=True)
    died = audit_end - rng.integers(20, 300, n_decoys).astype("timedelta64[D]")
    deaths = pd.concat([deaths, pd.DataFrame({
        "person_id": death_ids, "name": decoy_names[n_decoys:],
        "death_date": _date_strings(died)})], ignore_index=True)
    return roster, payments, deaths


def _alerts(params, rng, pid, plan, n_persons, window_first, audit_end, verify_new,
            verify_initial_months, truth) -> pd.DataFrame:
    table = _workday_table(window_first - 40, audit_end + 120)
    late = plan["alert_overdue"]
    # routine alerts verified on time: the look-alikes plus a share of everyone else
    routine = rng.choice(n_persons, min(n_persons, int(round(
        float(params["audit_synth.alert_share"]) * n_persons))), replace=False)
    planted = np.concatenate(list(plan.values()))
    ok = np.concatenate([plan["alert_ok"], routine[~setops.isin(routine, planted)]])
    people = np.concatenate([late, ok])
    n_alert = len(people)
    initial = rng.random(n_alert) < float(params["audit_synth.initial_alert_share"])
    # receipts early enough that a late verification still falls before the audit end
    span = max(1, int((audit_end - window_first).astype(np.int64)) - 75)
    received = window_first + rng.integers(0, span, n_alert).astype("timedelta64[D]")
    received = _add_workdays(received - 1, np.ones(n_alert, dtype=np.int64), table)
    # on-time look-alikes across public holidays: received on the last working day before one
    holiday = np.flatnonzero(np.diff(table[1]) == 0) + 1  # days that are not working days
    holiday = holiday[(table[0] + holiday >= window_first) & (table[0] + holiday < audit_end - 75)]
    n_ok = n_alert - len(late)
    if len(holiday) and n_ok:
        h = holiday[rng.integers(0, len(holiday), n_ok)]
        before = table[0] + np.searchsorted(table[1], table[1][h], side="left").astype(
            "timedelta64[D]")
        across = (rng.random(n_ok) < 0.5) & (before >= window_first)
        received[len(late):][across] = before[across]
    forwarded = _add_workdays(received, np.ones(n_alert, dtype=np.int64), table)
    township = _add_workdays(forwarded, np.ones(n_alert, dtype=np.int64), table)
    month_days = 30 * verify_initial_months
    # a late initial alert needs its deadline inside the window (short windows)
    initial &= ~((np.arange(n_alert) < len(late)) & (township + month_days + 5 > audit_end))
    is_late = np.arange(n_alert) < len(late)
    verified = np.empty(n_alert, dtype="datetime64[D]")
    # on time: new within verify_new − 2 working days of the first receipt; initial 20–26 days
    lag_ok = rng.integers(max(1, verify_new - 5), max(2, verify_new - 1), n_alert)
    verified[:] = _add_workdays(received, lag_ok, table)
    verified[initial] = received[initial] + rng.integers(
        max(1, month_days - 10), max(2, month_days - 3), int(initial.sum())).astype(
        "timedelta64[D]")
    # late: new ≥ verify_new + 4 working days after the township received it; initial > 40 d
    lag_late = rng.integers(verify_new + 4, verify_new + 25, n_alert)
    late_new = is_late & ~initial
    verified[late_new] = _add_workdays(township[late_new], lag_late[late_new], table)
    late_init = is_late & initial
    verified[late_init] = township[late_init] + rng.integers(
        month_days + 10, month_days + 40, int(late_init.sum())).astype("timedelta64[D]")
    never = is_late & (rng.random(n_alert)
                       < float(params["audit_synth.late_alert_unverified_share"]))
    verified[never] = np.datetime64("NaT")
    verified = np.where(~np.isnat(verified) & (verified > audit_end), np.datetime64("NaT"),
                        verified)
    # a late verification that would fall after the end is simply "not verified yet"; its
    # deadline is inside the window because receipts stop 75 days before the end
    truth.add("alert_overdue", pid[people[is_late]])
    outcome = np.where(np.isnat(verified), "",
                       ALERT_OUTCOMES[rng.integers(0, len(ALERT_OUTCOMES), n_alert)])
    # pending, not yet due (look-alike): received in the last working days
    pend = plan["alert_ok"][: max(1, len(ok) // 3)] if len(ok) else np.zeros(0, np.int64)
    pend_received = _add_workdays(audit_end - 4, np.ones(len(pend), dtype=np.int64), table)
    pend_received = np.minimum(pend_received, audit_end)
    frame = pd.DataFrame({
        "_person": np.concatenate([people, pend]),
        "person_id": np.concatenate([pid[people], pid[pend]]),
        "source": ALERT_SOURCES[rng.integers(0, len(ALERT_SOURCES), n_alert + len(pend))],
        "kind": np.concatenate([np.where(initial, "initial", "new"),
                                np.full(len(pend), "new")]).astype(object),
        "received_date": _date_strings(np.concatenate([received, pend_received])),
        "forwarded_date": _date_strings(np.concatenate([forwarded, pend_received])),
        "township_received_date": _date_strings(np.concatenate([township, pend_received])),
        "verified_date": _date_strings(np.concatenate([
            verified, np.full(len(pend), np.datetime64("NaT"), dtype="datetime64[D]")])),
        "outcome": np.concatenate([outcome, np.full(len(pend), "", dtype=object)]),
    })
    frame = pd.concat([frame, _forward_late_alerts(params, rng, pid, plan, window_first,
                                                    span, verify_new, table, truth)],
                      ignore_index=True)
    frame = frame.sort_values(["received_date", "person_id"], kind="stable").reset_index(
        drop=True)
    frame.insert(0, "alert_id", [f"A{i:07d}" for i in range(1, len(frame) + 1)])
    return frame


def _forward_late_alerts(params, rng, pid, plan, window_first, span, verify_new, table,
                         truth) -> pd.DataFrame:
    """alert_forward_overdue plants (004 附件: city → county and county → township within
    ``monitoring.forward_working_days`` working days each): the city forwards late, the
    county forwards late, or (no forwarded_date) the township receives later than twice the
    limit after the city; the township then verifies on time (no alert_overdue)."""
    fw = plan["alert_forward_overdue"]
    n = int(params["monitoring.forward_working_days"])
    one = np.ones(len(fw), dtype=np.int64)
    received = window_first + rng.integers(0, span, len(fw)).astype("timedelta64[D]")
    received = _add_workdays(received - 1, one, table)
    kind = rng.integers(0, 3, len(fw))
    lag = rng.integers(n + 1, n + 6, len(fw))
    forwarded = _add_workdays(received, np.where(kind == 0, lag, 1), table)
    township = _add_workdays(forwarded, np.where(kind == 1, lag, 1), table)
    township = np.where(kind == 2, _add_workdays(received, 2 * n + lag - n, table), township)
    forwarded = np.where(kind == 2, np.datetime64("NaT"), forwarded)
    verified = _add_workdays(township, rng.integers(1, max(2, verify_new - 1), len(fw)),
                             table)
    truth.add("alert_forward_overdue", pid[fw])
    return pd.DataFrame({
        "_person": fw, "person_id": pid[fw],
        "source": ALERT_SOURCES[rng.integers(0, len(ALERT_SOURCES), len(fw))],
        "kind": np.full(len(fw), "new", dtype=object),
        "received_date": _date_strings(received),
        "forwarded_date": _date_strings(forwarded.astype("datetime64[D]")),
        "township_received_date": _date_strings(township),
        "verified_date": _date_strings(verified),
        "outcome": ALERT_OUTCOMES[rng.integers(0, len(ALERT_OUTCOMES), len(fw))]})


def _pick_where(pool: np.ndarray, where: np.ndarray | None, n: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Take the first ``n`` items of a shuffled pool that satisfy ``where`` (indexed by
    item; None = any) → (taken, rest)."""
    ok = np.ones(len(pool), dtype=bool) if where is None else np.asarray(where)[pool]
    taken = np.flatnonzero(ok)[:n]
    rest = np.ones(len(pool), dtype=bool)
    rest[taken] = False
    return pool[taken], pool[rest]


def _due_dates(month_last: np.ndarray, due_days: int) -> np.ndarray:
    """Each month's payment deadline as the audit computes it: month end + ``due_days``,
    moved to the next working day when that is a weekend or holiday (POLICY.md §10)."""
    from jiuzhu_sim.audit.calendar import roll_to_working_day

    return roll_to_working_day(month_last + np.timedelta64(due_days, "D"))[0]


def _shares(values) -> np.ndarray:
    p = np.asarray(values, dtype=float)
    return p / p.sum()


def _months_before(day: np.datetime64, months: np.ndarray, rng) -> np.ndarray:
    """``day`` minus whole months (clipped to the month's length), minus 0–9 days if rng."""
    target = (day.astype("datetime64[M]") - months.astype(np.int64))
    offset = min(int((day - day.astype("datetime64[M]").astype("datetime64[D]")).astype(
        np.int64)), 27)
    out = target.astype("datetime64[D]") + np.timedelta64(offset, "D")
    if rng is not None:
        out = out - rng.integers(0, 10, len(months)).astype("timedelta64[D]")
    return out


def _paid_dates(params, rng, month_first, month_last, due_days) -> np.ndarray:
    lo, hi = (int(x) for x in params["audit_synth.paid_day_in_month"])
    next_max = max(1, min(int(params["audit_synth.paid_days_into_next_month"]), due_days - 1))
    n = len(month_first)
    in_month = month_first + (rng.integers(lo, hi + 1, n) - 1).astype("timedelta64[D]")
    in_month = np.minimum(in_month, month_last)
    next_month = month_last + rng.integers(1, next_max + 1, n).astype("timedelta64[D]")
    return np.where(rng.random(n) < float(params["audit_synth.paid_next_month_share"]),
                    next_month, in_month)


def tekun_amount(params, rural: np.ndarray, institutional: np.ndarray,
                 care: np.ndarray) -> np.ndarray:
    """Tekun monthly amount: basic (institutional standard if in an institution) + care."""
    basic = np.where(rural, float(params["tekun.basic_standard.rural"]),
                     float(params["tekun.basic_standard.urban"]))
    inst = np.where(rural, float(params["tekun.institutional_basic_standard.rural"]),
                    float(params["tekun.institutional_basic_standard.urban"]))
    care_std = np.array([float(params[f"tekun.care_standard.{c}"]) for c in CARE_LEVELS])
    return np.where(institutional, inst, basic) + care_std[care]


def neighbour_region(region: str) -> str:
    """Another county from the parameter tree for cross-region duplicates (nearest code,
    same province first)."""
    from jiuzhu_sim.parameters import list_regions

    codes = [r.code for r in list_regions() if r.code != region and not r.code.endswith("00")]
    same = [c for c in codes if c[:2] == region[:2]] or codes
    if not same:
        return "350583" if region != "350583" else "350505"
    return min(same, key=lambda c: (abs(int(c) - int(region)), c))


def invalid_ids(valid: np.ndarray, rng: np.random.Generator, shares) -> np.ndarray:
    """Broken versions of valid IDs: wrong check character, impossible birth date (with a
    correct check character) or a missing character, in ``shares``
    (``audit_synth.invalid_id_kind_shares``)."""
    n = len(valid)
    out = np.asarray(valid, dtype=object).copy()
    kind = rng.choice(3, n, p=[float(x) for x in shares])
    for i in range(n):  # a handful per county; clarity over speed
        body, check = out[i][:17], out[i][17]
        if kind[i] == 0:
            choices = [chr(c) for c in CHECK_CHARS if chr(c) != check]
            out[i] = body + choices[int(rng.integers(0, len(choices)))]
        elif kind[i] == 1:
            bad_md = ["0230", "0231", "1301", "0000", "0431", "0632"][int(rng.integers(0, 6))]
            new_body = body[:10] + bad_md + body[14:]
            out[i] = new_body + str(id_check_char(np.array([int(new_body)]))[0])
        else:
            out[i] = body
    return out


def write_audit_data(out_dir: Path | str, params, n_households: int | None = None,
                     seed: int = 20240101, start: str | None = None, end: str | None = None,
                     fmt: str = "csv") -> list[Path]:
    """Write every CONTRACT §5 input and ``truth`` into ``out_dir`` → written paths."""
    frames = generate_audit_data(params, n_households=n_households, seed=seed, start=start,
                                 end=end)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in frames.items():
        file_fmt = "csv" if name.startswith("truth") else fmt
        paths.append(write_table(frame, out / f"{name}.{file_fmt}", file_fmt))
    return paths
