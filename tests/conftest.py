"""Shared fixtures for the simulation tests (sim-core). Fixture names start with ``sim_``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.parameters import load_parameters

SIM_DATE = "2023-06-01"
"""Shishi 2023: minimum wage 1960 → dibao standard ceil(1960×0.48)=941, marginal 1411.5,
tekun basic ceil(941×1.3)=1224, institutional ceil(1224×1.5)=1836, care 196/490/980."""

PERSON_DEFAULTS = dict(
    age=40, monthly_income=0.0, disability_grade=0, disability_type="", serious_illness=False,
    work_capacity=True, has_supporter=True, in_school=False, college_student=False,
    care_level="self_care", institutional=False, medical_expense_annual=0.0,
    education_expense_annual=0.0, rehab_expense_annual=0.0,
)
HOUSEHOLD_DEFAULTS = dict(region_code="350581", urban=True, financial_assets=0.0,
                          non_essential_vehicle=False, dwellings=1)


def make_frames(households: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households as ``{"household_id": ..., <household fields>, "members": [<person
    overrides>, ...]}``; person ids are ``<household_id>-<n>``."""
    hrows, prows = [], []
    for spec in households:
        spec = dict(spec)
        members = spec.pop("members")
        hrows.append({**HOUSEHOLD_DEFAULTS, **spec})
        for n, person in enumerate(members, start=1):
            prows.append({"person_id": f"{spec['household_id']}-{n}",
                          "household_id": spec["household_id"], **PERSON_DEFAULTS, **person})
    return pd.DataFrame(prows), pd.DataFrame(hrows)


def make_random_frames(n_households: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A quick synthetic population (tests and benchmarks; not the real generator)."""
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 6, n_households)
    n = int(size.sum())
    hid = np.char.add("H", np.arange(n_households).astype(str)).astype(object)
    phid = np.repeat(hid, size)
    age = rng.integers(0, 95, n).astype(float)
    grade = np.where(rng.random(n) < 0.08, rng.integers(1, 5, n), 0)
    dtypes = np.array(["physical", "visual", "hearing", "speech", "intellectual", "mental",
                       "multiple"], dtype=object)
    persons = pd.DataFrame({
        "person_id": np.char.add("P", np.arange(n).astype(str)).astype(object),
        "household_id": phid,
        "age": age,
        "monthly_income": np.round(np.where(rng.random(n) < 0.35, 0.0,
                                            rng.lognormal(7.3, 0.8, n)), 2),
        "disability_grade": grade,
        "disability_type": np.where(grade > 0, dtypes[rng.integers(0, 7, n)], ""),
        "serious_illness": rng.random(n) < 0.04,
        "work_capacity": (age >= 16) & (age < 65) & (rng.random(n) < 0.85),
        "has_supporter": rng.random(n) < 0.8,
        "in_school": (age >= 6) & (age < 22) & (rng.random(n) < 0.9),
        "college_student": (age >= 18) & (age < 23) & (rng.random(n) < 0.3),
        "care_level": np.array(["self_care", "semi_care", "full_care"],
                               dtype=object)[rng.choice(3, n, p=[0.8, 0.15, 0.05])],
        "institutional": rng.random(n) < 0.02,
        "medical_expense_annual": np.round(np.where(rng.random(n) < 0.1,
                                                    rng.lognormal(8.5, 1.2, n), 0.0), 2),
        "education_expense_annual": np.where(rng.random(n) < 0.1, 6000.0, 0.0),
        "rehab_expense_annual": 0.0,
    })
    households = pd.DataFrame({
        "household_id": hid,
        "region_code": "350581",
        "urban": rng.random(n_households) < 0.7,
        "financial_assets": np.round(rng.lognormal(9, 1.5, n_households), 2),
        "non_essential_vehicle": rng.random(n_households) < 0.1,
        "dwellings": rng.choice(3, n_households, p=[0.1, 0.8, 0.1]),
    })
    return persons, households


@pytest.fixture(scope="session")
def sim_params():
    return load_parameters("350581", SIM_DATE)


@pytest.fixture
def sim_frames():
    return make_frames


@pytest.fixture
def sim_random_frames():
    return make_random_frames


def run_rules(households: list[dict], params, overrides=None):
    """compute_entitlements on hand-made households → (households_out, persons_out), each
    indexed by its id."""
    from jiuzhu_sim.simulation import compute_entitlements

    if overrides:
        params = params.with_overrides(overrides)
    persons, hh = make_frames(households)
    result = compute_entitlements(persons, hh, params)
    return (result.households.set_index("household_id"),
            result.persons.set_index("person_id"))


@pytest.fixture
def sim_run(sim_params):
    def _run(households, overrides=None):
        return run_rules(households, sim_params, overrides)
    return _run


def nanan_standard_table(tmp_path) -> Path:
    """A copy of params/ whose dibao.standard has a per-region table with two made-up rows
    for Nan'an (350583): 900 from 2022-01-01, 950 from 2023-07-01. Returns the copy's root."""
    import shutil

    from jiuzhu_sim.parameters import default_params_dir

    root = tmp_path / "params"
    shutil.copytree(default_params_dir(), root)
    index = root / "tables" / "tables.yaml"
    index.write_text(index.read_text(encoding="utf-8") + (
        "  dibao.standard:\n    file: dibao_standard.csv\n    unit: yuan/person/month\n"),
        encoding="utf-8")
    (root / "tables" / "dibao_standard.csv").write_text(
        "region_code,effective_date,value,reference\n"
        "350583,2022-01-01,900,test: not a real standard\n"
        "350583,2023-07-01,950,test: not a real standard\n", encoding="utf-8")
    return root
