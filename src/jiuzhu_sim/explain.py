"""`jiuzhu explain`: how the rules treat one household, step by step (CONTRACT §1, §4).

Runs the same vectorised rules as the simulation (:func:`jiuzhu_sim.simulation.
entitlement_arrays`) on the one household, after validating both input files in full, and
prints each member's facts and each rule step with its numbers — as text or JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.rules import DIBAO_TYPES
from jiuzhu_sim.rules import tekun as tekun_rules
from jiuzhu_sim.simulation import Population, entitlement_arrays, read_population

PERSON_FIELDS = ("person_id", "person_household_id", "age", "monthly_income",
                 "disability_grade", "intellectual_mental", "serious_illness", "work_capacity",
                 "has_supporter", "in_school", "college_student", "care_code", "institutional",
                 "rigid_annual")


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
    return None if not np.isfinite(x) else round(float(x), 2)


def explain_household(pop: Population, household_id: str, params) -> dict[str, Any]:
    """Every step of the rules for one household, as a JSON-ready dict."""
    hits = np.flatnonzero((pop.household_id == str(household_id)).to_numpy())
    if not len(hits):
        raise UserInputError(f"household {household_id!r} not found", column="household_id")
    one = _subset(pop, int(hits[0]))
    a = entitlement_arrays(one, params)
    category = tekun_rules.tekun_category(
        one.age, one.disability_grade, one.intellectual_mental, one.in_school,
        elderly_age=float(params["tekun.elderly_age"]),
        disability_max_grade=int(params["tekun.disability_max_grade"]),
        disability_max_grade_intellectual_mental=int(
            params["dibao.severe_disability_max_grade_intellectual_mental"]),
        minor_age=float(params["tekun.minor_age"]),
        minor_age_in_school=float(params["tekun.minor_age_in_school"]))
    std = float(a["h_standard"][0])
    unit = int(a["h_unit"][0])
    members = []
    for i in range(len(one.person_id)):
        members.append({
            "person_id": one.person_id.iloc[i], "age": float(one.age[i]),
            "monthly_income": _money(one.monthly_income[i]),
            "disability_grade": int(one.disability_grade[i]),
            "intellectual_or_mental": bool(one.intellectual_mental[i]),
            "serious_illness": bool(one.serious_illness[i]),
            "work_capacity": bool(one.work_capacity[i]),
            "has_supporter": bool(one.has_supporter[i]), "in_school": bool(one.in_school[i]),
            "college_student": bool(one.college_student[i]),
            "care_level": tekun_rules.CARE_LEVELS[int(one.care_code[i])],
            "institutional": bool(one.institutional[i]),
            "rigid_spending_annual": _money(one.rigid_annual[i]),
            "severely_disabled": bool(a["p_severe"][i]),
            "tekun_category": bool(category[i]),
            "tekun": bool(a["p_tekun"][i]),
            "tekun_monthly_benefit": _money(a["p_tekun_benefit"][i]),
            "earner": bool(a["p_earner"][i]),
            "income_disregard": _money(a["p_disregard"][i]),
            "dibao_covered": bool(a["p_covered"][i]),
            "single_monthly_benefit": _money(a["p_single_benefit"][i]),
        })
    limit_months = float(params["dibao.asset_limit_months"])
    assets = float(one.financial_assets[0])
    h_type = DIBAO_TYPES[int(a["h_type"][0])]
    whole = bool(unit > 0 and a["h_assets_pass"][0] and a["h_assessed_pc"][0] < std)
    steps = [
        {"step": "standards", "dibao_standard": std,
         "area": "urban" if one.urban[0] else "rural",
         "marginal_threshold": float(a["h_threshold"][0])},
        {"step": "tekun (POLICY.md §3.5)", "tekun_persons": int(a["h_tekun_persons"][0]),
         "tekun_monthly_benefit": _money(a["h_tekun_benefit"][0]),
         "note": "tekun members are assessed apart; dibao looks at the other members"},
        {"step": "assessment unit", "members": int(a["h_members"][0]), "assessed_members": unit,
         "income_of_assessed_members": _money(a["h_income_unit"][0]),
         "income_after_disregard": _money(a["h_assessed_total"][0]),
         "per_capita_income": _money(a["h_pc_income"][0]),
         "assessed_per_capita_income": _money(a["h_assessed_pc"][0])},
        {"step": "asset test (POLICY.md §3.1)", "financial_assets": assets,
         "asset_limit": _money(limit_months * std * int(a["h_members"][0])),
         "asset_limit_formula": f"{limit_months:g} months × {std:g} × "
                                f"{int(a['h_members'][0])} members (all co-resident)",
         "non_essential_vehicle": bool(one.non_essential_vehicle[0]),
         "vehicle_disqualifies": bool(params["dibao.vehicle_disqualifies"]),
         "dwellings": int(one.dwellings[0]), "max_dwellings": int(params["dibao.max_dwellings"]),
         "passes": bool(a["h_assets_pass"][0])},
        {"step": "(1) whole household 整户保", "test": "assessed per-capita income < standard "
         "and assets pass", "applies": whole},
        {"step": "(2) expenditure-type 支出型", "low_income": bool(a["h_low_income"][0]),
         "has_ill_disabled_or_student": bool(a["h_special"][0]),
         "rigid_spending_annual": _money(a["h_rigid"][0]),
         "expenditure_assessed_per_capita_income": _money(a["h_expenditure_pc"][0]),
         "formula": "(12 × monthly income − annual rigid spending) / 12 / members",
         "applies": h_type == "expenditure" and not bool(a["h_gradual_exit"][0])},
        {"step": "(3) single person 单人保", "covered_members": int(
            a["p_single"].sum()), "applies": h_type == "single"},
        {"step": "gradual exit 渐退", "previous_dibao_benefit": _money(
            one.previous_dibao_benefit[0]),
         "months_above_standard": float(one.months_above_standard[0]),
         "grace_months": float(params["dibao.gradual_exit_months"]),
         "applies": bool(a["h_gradual_exit"][0])},
        {"step": "result", "dibao_type": h_type, "dibao_members": int(a["h_dibao_members"][0]),
         "dibao_monthly_benefit": _money(a["h_dibao_benefit"][0]),
         "benefit_arithmetic": _arithmetic(h_type, a, std),
         "marginal": bool(a["h_marginal"][0]),
         "tekun_monthly_benefit": _money(a["h_tekun_benefit"][0])},
    ]
    return {"household_id": str(household_id), "region_code": one.region_code.iloc[0],
            "parameters_date": params.date.isoformat(), "members": members, "steps": steps}


def _arithmetic(h_type: str, a: dict, std: float) -> str:
    if a["h_gradual_exit"][0]:
        return "gradual exit: previous benefit × dibao.gradual_exit_benefit_share"
    if h_type in ("household", "expenditure"):
        pc = a["h_assessed_out"][0]
        n = int(a["h_dibao_members"][0])
        return f"({std:g} − {pc:.2f}) × {n} = {(std - pc) * n:.2f} (before add-ons/minimum)"
    if h_type == "single":
        parts = [f"({std:g} − {inc:.2f})" for inc, s in zip(a["p_assessed_income"],
                                                           a["p_single"], strict=True) if s]
        return " + ".join(parts) + " (standard − own income per covered member)"
    return "not covered: 0"


def render_text(report: dict[str, Any]) -> str:
    lines = [f"household {report['household_id']} (region {report['region_code']}, "
             f"parameters on {report['parameters_date']})", "", "members:"]
    for m in report["members"]:
        facts = ", ".join(f"{k}={v}" for k, v in m.items() if k != "person_id")
        lines.append(f"  {m['person_id']}: {facts}")
    lines.append("")
    for step in report["steps"]:
        lines.append(f"{step['step']}:")
        for k, v in step.items():
            if k != "step":
                lines.append(f"    {k}: {v}")
    return "\n".join(lines)


def explain_files(persons_path, households_path, household_id, params, fmt: str = "text") -> str:
    """Validate both files, then explain one household (text or JSON)."""
    pop = read_population(Path(persons_path), Path(households_path))
    try:
        report = explain_household(pop, str(household_id), params)
    except UserInputError as exc:
        raise UserInputError(exc.reason, file=str(households_path), column="household_id") from None
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2, default=str)
    return render_text(report)
