"""The population data model: the two simulation input tables (CONTRACT §3) as validated
numpy arrays, one row per person and per household.

Built by :func:`jiuzhu_sim.simulation.prepare_population` (from files or frames) and by
:meth:`jiuzhu_sim.population.generate.SyntheticPopulation.to_population` (from synthetic
draws, no tables); read by the rule engine (:func:`jiuzhu_sim.rules.engine.compute`). It
sits below both: it imports neither the simulation nor the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


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
