"""The OpenFisca-core anchor for ``bench_simulate_csv.py``: runs in its own virtual
environment (openfisca-core, pandas), never imports jiuzhu_sim.

Reads the persons CSV the way an OpenFisca user would (pandas, only the three columns the
formula needs), builds a two-entity simulation (persons in households) and computes one
dibao formula: (standard − household per-capita income) × members, never negative. Prints
the household count, the benefit total and the seconds spent; the benchmark times the whole
process around it.

    python openfisca_dibao.py PERSONS.csv --standard 1000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from openfisca_core.entities import build_entity
from openfisca_core.periods import MONTH
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

Household = build_entity(key="household", plural="households", label="household",
                         roles=[{"key": "member", "plural": "members", "label": "member"}])
Person = build_entity(key="person", plural="persons", label="person", is_person=True)


class monthly_income(Variable):  # noqa: N801 - OpenFisca names variables in snake case
    value_type = float
    entity = Person
    definition_period = MONTH
    label = "monthly income"


class dibao_standard(Variable):  # noqa: N801
    value_type = float
    entity = Household
    definition_period = MONTH
    label = "dibao standard (yuan/person/month)"


class dibao_benefit(Variable):  # noqa: N801
    value_type = float
    entity = Household
    definition_period = MONTH
    label = "dibao top-up: (standard - per-capita income) x members, not negative"

    def formula(household, period):
        income = household.sum(household.members("monthly_income", period))
        members = household.nb_persons()
        standard = household("dibao_standard", period)
        return np.maximum(standard * members - income, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("persons")
    parser.add_argument("--standard", type=float, default=1000.0)
    parser.add_argument("--period", default="2024-06")
    args = parser.parse_args()
    t0 = time.perf_counter()
    persons = pd.read_csv(args.persons, usecols=["person_id", "household_id", "monthly_income"],
                          dtype={"person_id": str, "household_id": str})
    system = TaxBenefitSystem([Person, Household])
    system.add_variables(monthly_income, dibao_standard, dibao_benefit)
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", persons["person_id"].to_numpy())
    membership, household_ids = pd.factorize(persons["household_id"])
    household_ids = np.asarray(household_ids, dtype=object)
    households = builder.declare_entity("household", household_ids)
    builder.join_with_persons(households, membership, np.full(len(persons), "member"))
    simulation = builder.build(system)
    simulation.set_input("monthly_income", args.period, persons["monthly_income"].to_numpy())
    simulation.set_input("dibao_standard", args.period,
                         np.full(len(household_ids), args.standard))
    benefit = simulation.calculate("dibao_benefit", args.period)
    print(f"households {len(household_ids)} benefit_total {benefit.sum():.2f} "
          f"seconds {time.perf_counter() - t0:.2f}", flush=True)


if __name__ == "__main__":
    main()
