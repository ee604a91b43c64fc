"""`jiuzhu explain`: every rule step for one household, in Chinese and English (CONTRACT §1).

The trace **renders the engine's record**: the household is cut out of the validated
population, :func:`jiuzhu_sim.rules.engine.compute` runs on it with ``trace=True`` (the
simulation's code path, keeping the parts of composite tests), and
:func:`~jiuzhu_sim.rules.engine.household_record` lists every quantity's value with its
labels, POLICY section and parameters. Each decision and amount shown here is a value of
that record (``trace.data["record"]``); this module compares and computes nothing of the
rules itself, so its numbers are the simulation's by construction. What it adds is
presentation: each test with the numbers compared, pass or fail, and the parameters behind
it (value, unit, the date it applies from, its reference and the file that set it; a
derived standard also shows what it is derived from).

Python: :func:`explain` (frames) and :func:`explain_household` (a validated population)
return a :class:`Trace`; ``trace.text()`` / ``trace.to_json()`` / ``trace.data``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.population.model import Population
from jiuzhu_sim.rules import DISABILITY_TYPES, engine
from jiuzhu_sim.rules import tekun as tekun_rules
from jiuzhu_sim.simulation import _frames, prepare_population, read_population

PERSON_FIELDS = ("person_id", "person_household_id", "age", "monthly_income",
                 "disability_grade", "intellectual_mental", "disability_type_code",
                 "serious_illness", "work_capacity",
                 "has_supporter", "in_school", "college_student", "care_code", "institutional",
                 "rigid_annual")
RESULT_FIELDS = ("dibao_type", "dibao_eligible", "dibao_members", "dibao_monthly_benefit",
                 "tekun_persons", "tekun_monthly_benefit", "marginal", "per_capita_income",
                 "assessed_per_capita_income", "dibao_standard", "gradual_exit",
                 "marginal_monthly_benefit")
DIBAO_TYPE_ZH = {"none": "不纳入", "household": "整户保", "expenditure": "支出型（整户）",
                 "single": "单人保"}
CARE_ZH = {"self_care": "全自理", "semi_care": "半护理", "full_care": "全护理"}


@dataclass
class Trace:
    """One household's explanation; ``data`` is JSON-ready, ``text()`` is bilingual text."""

    data: dict[str, Any]

    def text(self) -> str:
        return render_text(self.data)

    def to_json(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, indent=2, default=str)

    @property
    def result(self) -> dict[str, Any]:
        return self.data["result"]

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython / notebooks show the text
        printer.text(self.text())


# ---------------------------------------------------------------------------------------
# Building the trace


def _subset(pop: Population, index: int) -> Population:
    """The one household at ``index`` as a Population of its own."""
    rows = np.flatnonzero(pop.hh == index)
    fields: dict[str, Any] = {"hh": np.zeros(len(rows), dtype=np.int64), "extra": {}}
    for name in Population.__dataclass_fields__:
        if name in fields:
            continue
        value = getattr(pop, name)
        take = rows if name in PERSON_FIELDS else np.array([index])
        if value is None:
            fields[name] = None
        elif isinstance(value, pd.Series):
            fields[name] = value.iloc[take].reset_index(drop=True)
        else:
            fields[name] = value[take]
    return Population(**fields)


def _money(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 2)


def _plain(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def _fmt(x: Any) -> str:
    if isinstance(x, bool | np.bool_):
        return "是 yes" if x else "否 no"
    if isinstance(x, float | np.floating):
        if not np.isfinite(x):
            return "—"
        return f"{x:.2f}" if not float(x).is_integer() else f"{x:.0f}"
    return str(x)


class _Builder:
    """Parameter records (value, unit, since, reference, file; derived values with what
    they derive from) as :func:`jiuzhu_sim.rules.engine.parameter_record` gives them."""

    def __init__(self, params, region_params):
        self.params = params
        self.region_params = region_params

    def record(self, name: str) -> dict[str, Any]:
        return engine.parameter_record(name, self.params, self.region_params)

    def value(self, name: str) -> Any:
        return self.record(name)["value"]

    def test(self, test_id: str, zh: str, en: str, expression: str, passed: bool,
             names: tuple[str, ...] = (), person_id: str | None = None) -> dict[str, Any]:
        out = {"id": test_id, "zh": zh, "en": en, "expression": expression,
               "passed": bool(passed), "parameters": [self.record(n) for n in names]}
        if person_id is not None:
            out["person_id"] = person_id
        return out


def _quantity(qid: str, zh: str, en: str, value: Any, formula: str = "",
              person_id: str | None = None) -> dict[str, Any]:
    out = {"id": qid, "zh": zh, "en": en, "value": _plain(value)}
    if formula:
        out["formula"] = formula
    if person_id is not None:
        out["person_id"] = person_id
    return out


def _step(step_id: str, zh: str, en: str, policy: str, quantities=(), tests=(),
          parameters=(), outcome: str = "", b: _Builder | None = None) -> dict[str, Any]:
    return {"id": step_id, "zh": zh, "en": en, "policy": policy,
            "quantities": list(quantities), "tests": list(tests),
            "parameters": [b.record(n) for n in parameters] if b else [],
            "outcome": outcome}


class _Record:
    """One household's engine record (:func:`jiuzhu_sim.rules.engine.household_record`):
    ``r.h(key)`` a household quantity, ``r.p(key, i)`` member ``i``'s value."""

    def __init__(self, record: dict[str, Any]):
        self.data = record

    def h(self, key: str) -> Any:
        return self.data[key]["value"]

    def p(self, key: str, i: int) -> Any:
        return self.data[key]["values"][i]

    def num(self, key: str) -> float:
        value = self.h(key)
        return float("inf") if value is None else float(value)


def explain_household(pop: Population, household_id: str, params) -> Trace:
    """Every step of the rules for one household of a validated population: the engine's
    record (:func:`jiuzhu_sim.rules.engine.compute` with ``trace=True`` on the one
    household, :func:`~jiuzhu_sim.rules.engine.household_record`), rendered. Every decision
    and amount shown is a value of that record; this function compares nothing itself."""
    hits = np.flatnonzero((pop.household_id == str(household_id)).to_numpy())
    if not len(hits):
        raise UserInputError(f"household {household_id!r} not found", column="household_id")
    one = _subset(pop, int(hits[0]))
    arrays = engine.compute(one, params, trace=True)
    hframe, pframe = _frames(one, arrays)
    row = hframe.iloc[0]
    code = str(one.region_code.iloc[0])
    # the household's standards as the simulation resolved them (its region and date)
    index, resolved = engine.regional_resolution(one, params)
    region_params = resolved[int(index[0])]
    b = _Builder(params, region_params)
    r = _Record(engine.household_record(arrays, one, 0, params, region_params))
    area = "urban" if one.urban[0] else "rural"
    area_zh = "城镇" if one.urban[0] else "农村"
    pids = [str(x) for x in one.person_id]
    std = r.num("h_standard")
    threshold = r.num("h_threshold")
    members = int(r.h("h_members"))
    unit = int(r.h("h_unit"))
    steps: list[dict[str, Any]] = []

    # inputs
    member_inputs = []
    for i, pid in enumerate(pids):
        member_inputs.append({
            "person_id": pid, "age": float(one.age[i]),
            "monthly_income": _money(one.monthly_income[i]),
            "disability_grade": int(one.disability_grade[i]),
            "disability_type": (DISABILITY_TYPES[int(one.disability_type_code[i])]
                                if one.disability_type_code[i] >= 0 else ""),
            "intellectual_or_mental": bool(one.intellectual_mental[i]),
            "serious_illness": bool(one.serious_illness[i]),
            "work_capacity": bool(one.work_capacity[i]),
            "has_supporter": bool(one.has_supporter[i]), "in_school": bool(one.in_school[i]),
            "college_student": bool(one.college_student[i]),
            "care_level": tekun_rules.CARE_LEVELS[int(one.care_code[i])],
            "institutional": bool(one.institutional[i]),
            "rigid_spending_annual": _money(one.rigid_annual[i]),
        })
    household_inputs = {
        "region_code": code, "urban": bool(one.urban[0]),
        "financial_assets": _money(one.financial_assets[0]),
        "non_essential_vehicle": bool(one.non_essential_vehicle[0]),
        "dwellings": int(one.dwellings[0]),
        "previous_dibao_benefit": _money(one.previous_dibao_benefit[0]),
        "months_above_standard": float(one.months_above_standard[0]),
    }
    if one.assessment_date is not None and not np.isnat(one.assessment_date[0]):
        household_inputs["assessment_date"] = str(one.assessment_date[0])

    # 1 standards
    std_names = tuple(n.format(area=area) for n in engine.AREA_STANDARDS)
    steps.append(_step(
        "standards", f"适用标准（{area_zh}）", f"Standards ({area})", "POLICY.md §2",
        quantities=[
            _quantity("dibao_standard", "低保标准", "dibao standard", std),
            _quantity("marginal_threshold", "低保边缘认定线", "marginal threshold", threshold),
            _quantity("tekun_basic_standard", "特困基本生活标准", "tekun basic standard",
                      float(b.value(f"tekun.basic_standard.{area}"))),
        ], parameters=std_names, b=b,
        outcome=f"低保标准 dibao standard {std:g} 元/人/月 yuan/person/month"))

    # 2 tekun, per member
    capacity_names = tekun_rules.NO_WORK_CAPACITY_PARAMETERS
    elderly_age = float(b.value("tekun.elderly_age"))
    minor_age = float(b.value("tekun.minor_age"))
    minor_school = float(b.value("tekun.minor_age_in_school"))
    tests, quantities = [], []
    for i, pid in enumerate(pids):
        age, grade = float(one.age[i]), int(one.disability_grade[i])
        code_i = int(one.disability_type_code[i])
        kind = DISABILITY_TYPES[code_i] if code_i >= 0 else ""
        grade_text = (f"{kind} grade {grade} in 1.."
                      f"{int(b.value(f'tekun.no_work_capacity.max_disability_grade.{kind}'))}?"
                      if code_i >= 0 and grade else "no disability;")
        tests.append(b.test(
            "tekun_no_work_capacity", "无劳动能力：老年、未成年、规定类别和等级的残疾或经认定的重病",
            "no work capacity: elderly, minor, disability of a listed type and grade, or a "
            "certified serious illness (民发〔2021〕43号)",
            f"age {age:g} ≥ {elderly_age:g}? age {age:g} < {minor_age:g} (in school: < "
            f"{minor_school:g})? {grade_text} serious illness = "
            f"{bool(one.serious_illness[i])}?",
            r.p("p_no_work_capacity", i), capacity_names, pid))
        tests.append(b.test("tekun_no_supporter", "无法定赡养、抚养、扶养义务人（或其无能力）",
                            "no supporter able to support",
                            f"has_supporter = {bool(one.has_supporter[i])}",
                            not one.has_supporter[i], (), pid))
        tests.append(b.test(
            "tekun_no_income", "无生活来源：本人收入低于当地低保标准",
            "no income source: own income < the local dibao standard",
            f"{float(one.monthly_income[i]):.2f} < {std:g}", r.p("p_no_income_source", i),
            (f"dibao.standard.{area}",), pid))
        if r.p("p_tekun", i):
            inst = bool(one.institutional[i])
            level = tekun_rules.CARE_LEVELS[int(one.care_code[i])]
            basic_name = (f"tekun.institutional_basic_standard.{area}" if inst
                          else f"tekun.basic_standard.{area}")
            quantities.append(_quantity(
                "tekun_monthly_benefit", f"特困供养金（{'集中' if inst else '分散'}供养，"
                f"{CARE_ZH[level]}）", f"tekun benefit ({'institutional' if inst else 'dispersed'}"
                f", {level})", float(r.p("p_tekun_benefit", i)),
                f"{basic_name} {float(b.value(basic_name)):g} + tekun.care_standard.{level} "
                f"{float(b.value(f'tekun.care_standard.{level}')):g}", pid))
    steps.append(_step(
        "tekun", "特困人员认定（特困人员不再纳入低保）",
        "Tekun (a tekun person gets tekun, not dibao, and is assessed apart)",
        "POLICY.md §3.5, §4; 002 §二(六)", quantities, tests,
        ("tekun.institutional_multiplier", "tekun.institutional_multiplier_applies_to_care"),
        outcome=f"特困人员 tekun persons {int(row['tekun_persons'])}, 月供养金 monthly "
                f"{float(row['tekun_monthly_benefit']):.2f}", b=b))

    # 3 income and deductions
    share = float(b.value("dibao.employment_income_disregard_share"))
    quantities = [
        _quantity("members", "共同生活成员", "co-resident members", members),
        _quantity("assessed_members", "低保核算人数（不含特困人员）",
                  "assessed members (tekun excluded)", unit, f"{members} − "
                  f"{int(row['tekun_persons'])} tekun"),
        _quantity("income_all", "家庭月收入（全部成员）", "monthly income, all members",
                  _money(r.h("h_income_all"))),
        _quantity("income_assessed_members", "核算成员月收入", "monthly income of assessed members",
                  _money(r.h("h_income_unit"))),
    ]
    for i, pid in enumerate(pids):
        if r.p("p_earner", i):
            quantities.append(_quantity(
                "income_disregard", "就业收入扣减", "employment-income disregard",
                _money(r.p("p_disregard", i)), f"min({float(one.monthly_income[i]):.2f} × "
                f"{share:g}, {float(b.value('dibao.employment_income_disregard_cap')):g} × "
                f"{std:g})", pid))
    assessed_total = float(r.h("h_assessed_total"))
    quantities += [
        _quantity("assessed_income", "扣减后核算收入", "assessed income after deductions",
                  _money(assessed_total)),
        _quantity("per_capita_income", "人均月收入", "per-capita income",
                  _money(r.h("h_pc_income")),
                  f"{float(r.h('h_income_unit')):.2f} / {unit}" if unit else ""),
        _quantity("assessed_per_capita_income", "扣减后人均收入", "assessed per-capita income",
                  _money(r.num("h_assessed_pc")),
                  f"{assessed_total:.2f} / {unit}" if unit else ""),
    ]
    steps.append(_step(
        "income", "收入与扣减", "Income and deductions", "POLICY.md §3.1, §3.4", quantities,
        parameters=("dibao.employment_income_disregard_share",
                    "dibao.employment_income_disregard_cap", "dibao.elderly_age",
                    "tekun.minor_age"), b=b,
        outcome=f"扣减后人均收入 assessed per-capita income "
                f"{_fmt(_money(r.num('h_assessed_pc')))}"))

    # 4 assets
    months = float(b.value("dibao.asset_limit_months"))
    assets_pass = bool(r.h("h_assets_pass"))
    tests = [
        b.test("financial_assets", "人均金融资产不超过N个月低保标准",
               "financial assets ≤ N months of standard per member",
               f"{float(one.financial_assets[0]):.2f} ≤ {months:g} × {std:g} × {members} = "
               f"{months * std * members:.2f}", r.h("h_assets_financial_assets"),
               ("dibao.asset_limit_months", f"dibao.standard.{area}")),
        b.test("vehicle", "无非生活必需机动车", "no non-essential vehicle",
               f"non_essential_vehicle = {bool(one.non_essential_vehicle[0])}",
               r.h("h_assets_vehicle"), ("dibao.vehicle_disqualifies",)),
        b.test("dwellings", "住房不超过规定套数", "dwellings within the limit",
               f"{int(one.dwellings[0])} ≤ {int(b.value('dibao.max_dwellings'))}",
               r.h("h_assets_dwellings"), ("dibao.max_dwellings",)),
    ]
    steps.append(_step("assets", "财产状况", "Asset test", "POLICY.md §3.1", tests=tests,
                       outcome=("通过 passes" if assets_pass else "未通过 fails"), b=b))

    # 5 path (1): whole household
    pc = r.num("h_assessed_pc")
    whole = bool(r.h("h_whole"))
    tests = [b.test("below_standard", "人均收入低于低保标准", "assessed per-capita income < standard",
                    f"{_fmt(_money(pc))} < {std:g}", r.h("h_below_standard"),
                    (f"dibao.standard.{area}",)),
             b.test("assets_pass", "财产状况符合", "assets pass", "see asset test",
                    assets_pass)]
    steps.append(_step("whole_household", "（1）整户保", "(1) Whole household",
                       "POLICY.md §3.1; CONTRACT §4 (1)", tests=tests,
                       outcome="适用 applies" if whole else "不适用 does not apply"))

    # 6 path (2): expenditure-type
    low_income = bool(r.h("h_low_income"))
    expenditure = bool(r.h("h_expenditure"))
    exp_pc = r.num("h_expenditure_pc")
    tests = [
        b.test("low_income", "低收入：人均收入低于边缘认定线且财产符合、未整户纳入",
               "low income: per-capita income < marginal threshold, assets pass, not whole",
               f"{_fmt(_money(pc))} < {threshold:g}", low_income, (f"marginal.threshold.{area}",)),
        b.test("has_special_member", "有重病、重残成员或大学生",
               "a seriously ill or severely disabled member, or a college student",
               ", ".join(pid for i, pid in enumerate(pids) if r.p("p_special", i)) or "none",
               r.h("h_special"), ("dibao.severe_disability_max_grade",
                                  "dibao.severe_disability_max_grade_intellectual_mental")),
        b.test("expenditure_below_standard", "扣除刚性支出后人均收入低于低保标准",
               "(12 × income − annual rigid spending) / 12 / members < standard",
               f"(12 × {assessed_total:.2f} − {float(r.h('h_rigid')):.2f}) / 12 / {unit} = "
               f"{_fmt(_money(exp_pc))} < {std:g}", r.h("h_expenditure_below_standard"),
               (f"dibao.standard.{area}",)),
    ]
    steps.append(_step("expenditure", "（2）支出型贫困（刚性支出扣减）",
                       "(2) Expenditure-type poverty (rigid spending deducted)",
                       "POLICY.md §3.3; CONTRACT §4 (2)", tests=tests,
                       outcome="适用 applies" if expenditure else "不适用 does not apply"))

    # 7 path (3): single person
    tests = []
    severe_max = int(b.value("dibao.severe_disability_max_grade"))
    im_max = int(b.value("dibao.severe_disability_max_grade_intellectual_mental"))
    for i, pid in enumerate(pids):
        if not (one.serious_illness[i] or r.p("p_severe", i)) or r.p("p_tekun", i):
            continue
        tests.append(b.test(
            "single_candidate", f"重病或重度残疾（重残：1–{severe_max}级，智力/精神类 "
            f"1–{im_max}级）", f"seriously ill or severely disabled (grade 1–{severe_max}; "
            f"intellectual/mental 1–{im_max})",
            f"serious_illness = {bool(one.serious_illness[i])}; grade "
            f"{int(one.disability_grade[i])} ≤ {severe_max}"
            f"{f' (intellectual/mental ≤ {im_max})' if one.intellectual_mental[i] else ''}",
            True, ("dibao.severe_disability_max_grade",
                   "dibao.severe_disability_max_grade_intellectual_mental"), pid))
        tests.append(b.test(
            "single_income_below_standard", "所在家庭为低收入且未整户纳入，本人收入低于低保标准",
            "in a low-income household not covered whole, own income < standard",
            f"low income {low_income}, covered whole {whole or expenditure}; "
            f"{float(r.p('p_assessed_income', i)):.2f} < {std:g}", r.p("p_single", i),
            (f"dibao.standard.{area}",), pid))
    n_single = sum(bool(v) for v in r.data["p_single"]["values"])
    steps.append(_step("single_person", "（3）单人保（单列对象）", "(3) Single person",
                       "POLICY.md §3.2; CONTRACT §4 (3)", tests=tests,
                       outcome=(f"单人保 covered alone: {n_single}" if n_single
                                else "不适用 does not apply")))

    # 8 gradual exit
    grace = float(b.value("dibao.gradual_exit_months"))
    previous = float(one.previous_dibao_benefit[0])
    months_above = float(one.months_above_standard[0])
    in_grace = bool(r.h("h_gradual_exit"))
    eligible_now = whole or expenditure or n_single > 0
    tests = [b.test("gradual_exit", "不再符合但上月领取低保，且在渐退期内",
                    "no longer eligible, was paid, within the grace period",
                    f"eligible under (1)–(3) {eligible_now}; previous benefit "
                    f"{previous:.2f} > 0; months above standard {months_above:g} ≤ "
                    f"{grace:g}", in_grace,
                    ("dibao.gradual_exit_months", "dibao.gradual_exit_benefit_share"))]
    steps.append(_step("gradual_exit", "渐退", "Gradual exit", "POLICY.md §3.4", tests=tests,
                       outcome="适用 applies" if in_grace else "不适用 does not apply"))

    # 9 benefit
    dibao_type = str(row["dibao_type"])
    benefit = float(row["dibao_monthly_benefit"])
    rounding = str(b.value("dibao.benefit_rounding"))
    if in_grace:
        formula = (f"{previous:.2f} × {float(b.value('dibao.gradual_exit_benefit_share')):g} "
                   f"(gradual exit), rounded {rounding}")
    elif whole or expenditure:
        assessed_for_topup = exp_pc * unit if expenditure else assessed_total
        formula = (f"{std:g} × {unit} − {assessed_for_topup:.2f} = "
                   f"{float(r.h('h_topup')):.2f}  (= (standard − assessed per-capita "
                   f"{_fmt(_money(float(arrays['h_assessed_out'][0])))}) × {unit})")
    elif n_single:
        formula = " + ".join(f"({std:g} − {float(r.p('p_assessed_income', i)):.2f})"
                             for i in range(len(pids)) if r.p("p_single", i))
    else:
        formula = "0"
    quantities = [_quantity("dibao_monthly_benefit", "低保月补差", "monthly dibao benefit",
                            benefit, formula)]
    for i, pid in enumerate(pids):
        if r.p("p_addon", i):
            quantities.append(_quantity("classified_addon", "分类施保加发", "classified add-on",
                                        _money(r.p("p_addon", i)), person_id=pid))
    steps.append(_step(
        "benefit", "补差金额", "Benefit (top-up)", "POLICY.md §4", quantities,
        parameters=engine.BENEFIT_PARAMETERS, b=b,
        outcome=f"{DIBAO_TYPE_ZH[dibao_type]} {dibao_type}: {int(row['dibao_members'])} 人 "
                f"persons, {benefit:.2f} 元/月 yuan/month"))

    # 10 marginal
    marginal = bool(row["marginal"])
    tests = [
        b.test("at_or_above_standard", "人均收入不低于低保标准", "per-capita income ≥ standard",
               f"{_fmt(_money(pc))} ≥ {std:g}", not r.h("h_below_standard"),
               (f"dibao.standard.{area}",)),
        b.test("below_threshold", "人均收入低于边缘认定线", "per-capita income < threshold",
               f"{_fmt(_money(pc))} < {threshold:g}", r.h("h_below_threshold"),
               (f"marginal.threshold.{area}",)),
        b.test("assets_pass", "财产状况符合", "assets pass", "see asset test", assets_pass),
        b.test("not_covered_whole", "未整户纳入低保", "not covered whole by dibao",
               f"covered whole = {whole or expenditure or in_grace}",
               not (whole or expenditure or in_grace)),
    ]
    steps.append(_step("marginal", "低保边缘家庭", "Marginal household", "POLICY.md §3.6",
                       tests=tests, parameters=("marginal.monthly_benefit_share",
                                                "marginal.benefit_rounding"), b=b,
                       outcome="是 yes" if marginal else "否 no"))

    result = {k: _plain(row[k]) for k in RESULT_FIELDS}
    result["persons"] = [
        {"person_id": str(p.person_id), "dibao_covered": bool(p.dibao_covered),
         "tekun": bool(p.tekun), "tekun_monthly_benefit": float(p.tekun_monthly_benefit)}
        for p in pframe.itertuples()]
    return Trace({
        "household_id": str(household_id), "region_code": code,
        "region_name": region_params.region_name,
        "run_region_code": params.region_code, "parameters_date": params.date.isoformat(),
        "standards_date": region_params.date.isoformat(),
        "area": area, "inputs": {"household": household_inputs, "members": member_inputs},
        "steps": steps, "result": result, "record": r.data,
    })


def explain(persons: pd.DataFrame, households: pd.DataFrame, household_id: str, params,
            file_names: tuple[str, str] = ("persons", "households")) -> Trace:
    """Python API: validate the two frames (as ``simulate`` does) and explain one household.

    >>> trace = explain(persons, households, "H35058100000001", params)  # doctest: +SKIP
    >>> print(trace.text()); trace.result["dibao_monthly_benefit"]       # doctest: +SKIP
    """
    pop = prepare_population(persons, households, file_names)
    return explain_household(pop, str(household_id), params)


def explain_files(persons_path, households_path, household_id, params, fmt: str = "text") -> str:
    """Validate both files, then explain one household (text or JSON)."""
    pop = read_population(Path(persons_path), Path(households_path))
    try:
        trace = explain_household(pop, str(household_id), params)
    except UserInputError as exc:
        if exc.file:
            raise
        raise UserInputError(exc.reason, file=str(households_path), column="household_id") from None
    return trace.to_json() if fmt == "json" else trace.text()


# ---------------------------------------------------------------------------------------
# Text


def _param_lines(rec: dict[str, Any], indent: str, seen: set[str], arrow: str = "") -> list[str]:
    """A parameter with unit, date, reference and file — in full the first time it appears
    in the text, by name and value after that (the JSON always carries the full record)."""
    unit = f" {rec['unit']}" if rec.get("unit") and rec["unit"] not in ("rule", "bool") else ""
    head = f"{indent}{arrow}{rec['name']} = {_fmt(rec['value'])}{unit}"
    if rec["name"] in seen:
        return [f"{head} (见上 see above)"]
    seen.add(rec["name"])
    where = [f"自 since {rec['since']}"] if rec.get("since") else []
    where.append(f"依据 ref: {rec['reference']}")
    if rec.get("source") and rec["source"] != "derived":
        where.append(f"来源 file: {rec['source']}")
    lines = [f"{head} · " + " · ".join(where)]
    for sub in rec.get("inputs", []):
        lines += _param_lines(sub, indent + "  ", seen, "← ")
    return lines


def render_text(report: dict[str, Any]) -> str:
    """The trace as bilingual text: inputs, then each step's quantities, tests (通过 PASS /
    未通过 FAIL, with the numbers compared) and parameters, then the result."""
    hh = report["inputs"]["household"]
    seen: set[str] = set()
    lines = [
        f"低保/特困测算说明 Explanation — 家庭 household {report['household_id']}",
        f"区划 region {report['region_code']} {report['region_name']} · 参数日期 parameters on "
        f"{report['parameters_date']} · {'城镇 urban' if report['area'] == 'urban' else '农村 rural'}"
        + (f" · 运行参数 run parameters: {report['run_region_code']}"
           if report["run_region_code"] != report["region_code"] else "")
        + (f" · 标准日期 standards on {report['standards_date']}"
           if report.get("standards_date", report["parameters_date"])
           != report["parameters_date"] else ""),
        "",
        "【输入 Inputs】",
        f"  家庭 household: 金融资产 financial assets {_fmt(hh['financial_assets'])} · "
        f"非必需车辆 non-essential vehicle {_fmt(hh['non_essential_vehicle'])} · "
        f"住房 dwellings {hh['dwellings']} · 上期低保 previous benefit "
        f"{_fmt(hh['previous_dibao_benefit'])} · 超标月数 months above standard "
        f"{_fmt(hh['months_above_standard'])}",
    ]
    for m in report["inputs"]["members"]:
        flags = [label for key, label in (
            ("serious_illness", "重病 seriously ill"), ("college_student", "大学生 college"),
            ("in_school", "在校 in school"), ("institutional", "集中供养 institutional"))
            if m[key]]
        lines.append(
            f"  成员 {m['person_id']}: 年龄 age {_fmt(m['age'])} · 月收入 income "
            f"{_fmt(m['monthly_income'])} · 残疾等级 disability grade {m['disability_grade']}"
            f"{' (' + m['disability_type'] + ')' if m.get('disability_type') else ''} · "
            f"劳动能力 work capacity {_fmt(m['work_capacity'])} · 赡养人 supporter "
            f"{_fmt(m['has_supporter'])} · 护理 care {m['care_level']} · 刚性支出/年 rigid "
            f"spending/yr {_fmt(m['rigid_spending_annual'])}"
            + (f" · {', '.join(flags)}" if flags else ""))
    for n, step in enumerate(report["steps"], start=1):
        lines += ["", f"【{n} {step['zh']} {step['en']}】 {step['policy']}"]
        for q in step["quantities"]:
            who = f"{q['person_id']}: " if q.get("person_id") else ""
            formula = f" = {q['formula']}" if q.get("formula") else ""
            lines.append(f"  {who}{q['zh']} {q['en']}{formula} → {_fmt(q['value'])}")
        for t in step["tests"]:
            mark = "[通过 PASS]" if t["passed"] else "[未通过 FAIL]"
            who = f"{t['person_id']}: " if t.get("person_id") else ""
            lines.append(f"  {mark} {who}{t['zh']} {t['en']}: {t['expression']}")
            for rec in t["parameters"]:
                lines += _param_lines(rec, "      ", seen, "参数 ")
        if step["parameters"]:
            lines.append("  参数 parameters:")
            for rec in step["parameters"]:
                lines += _param_lines(rec, "    ", seen)
        if step["outcome"]:
            lines.append(f"  ⇒ {step['outcome']}")
    r = report["result"]
    lines += [
        "", "【结果 Result】",
        f"  低保类型 dibao_type: {DIBAO_TYPE_ZH[r['dibao_type']]} {r['dibao_type']} · 保障人数 "
        f"dibao_members: {r['dibao_members']} · 低保月补差 dibao_monthly_benefit: "
        f"{r['dibao_monthly_benefit']:.2f}",
        f"  特困人数 tekun_persons: {r['tekun_persons']} · 特困月供养金 tekun_monthly_benefit: "
        f"{r['tekun_monthly_benefit']:.2f} · 低保边缘 marginal: {_fmt(r['marginal'])}",
        f"  人均收入 per_capita_income: {_fmt(r['per_capita_income'])} · 核算人均收入 "
        f"assessed_per_capita_income: {_fmt(r['assessed_per_capita_income'])} · 低保标准 "
        f"dibao_standard: {_fmt(r['dibao_standard'])}",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Notebooks


def pick_household(households_out: pd.DataFrame,
                   prefer: tuple[str, ...] = ("expenditure", "single", "household")) -> str:
    """A household worth explaining: the first of the preferred dibao types present (then
    any tekun household, then the first household). Deterministic."""
    for kind in prefer:
        hit = households_out.loc[households_out["dibao_type"] == kind, "household_id"]
        if len(hit):
            return str(hit.iloc[0])
    hit = households_out.loc[households_out["tekun_persons"] > 0, "household_id"]
    return str(hit.iloc[0] if len(hit) else households_out["household_id"].iloc[0])


def example_trace(params, n_households: int = 500, seed: int = 20240101,
                  household_id: str | None = None) -> Trace:
    """Simulate a small synthetic population under ``params`` and explain one household
    (``household_id``, or :func:`pick_household`'s choice) — the scenario notebook's
    "pick a household, see its trace" cell."""
    from jiuzhu_sim.population import generate_population
    from jiuzhu_sim.simulation import compute_entitlements

    persons, households = generate_population(params, n_households, seed)
    if household_id is None:
        household_id = pick_household(compute_entitlements(persons, households, params)
                                      .households)
    return explain(persons, households, household_id, params)
