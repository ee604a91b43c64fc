"""Administrative-process model: from entitlements to enrollment (CONTRACT §4 ``enrolled``).

Rules say who is entitled; the process decides who is actually on the roll. Three
mechanisms, all parameters in ``params/national/process.yaml`` (assumptions with ranges):

1. **Measurement error** (核查误差): the assessor sees assessed per-capita income ×
   a lognormal factor with mean 1 and log-sd ``process.income_measurement_sigma``.
   A household is *measured eligible* when it is single-person type (identified by a
   disability certificate or diagnosis, not by income), or its assets pass and measured
   income < standard.
2. **Take-up** (申请): a measured-eligible household is enrolled with probability
   ``process.take_up_probability``.
3. **Discretion** (裁量, 人情保): a measured-ineligible household whose assets pass and whose
   measured income is < standard × (1 + ``process.discretion_band``) is enrolled with
   probability ``process.discretion_inclusion_probability``.

Random numbers are hash-based per household (splitmix64 of the household id's hash and a
key drawn from ``rng``): the draw is deterministic per seed and does not depend on row order.
Rules themselves never draw random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_HASH_KEY = "jiuzhu_sim_proc1"  # 16 characters, required by pandas' hash_array
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass
class ProcessDraw:
    enrolled: np.ndarray  # bool per household
    measured_per_capita_income: np.ndarray  # what the assessor saw (yuan/person/month)
    measured_eligible: np.ndarray  # bool


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def household_uniforms(household_id, key: int, streams: int) -> np.ndarray:
    """(streams, n) uniforms in (0, 1), a pure function of (household id, key, stream)."""
    ids = pd.util.hash_pandas_object(pd.Series(household_id).astype("str"), index=False,
                                     hash_key=_HASH_KEY).to_numpy()
    base = _splitmix64(ids.astype(np.uint64) ^ np.uint64(key))
    out = np.empty((streams, len(ids)), dtype="float64")
    for s in range(streams):
        with np.errstate(over="ignore"):
            bits = _splitmix64(base + np.uint64(s + 1) * np.uint64(0xD1B54A32D192ED03))
        out[s] = ((bits >> np.uint64(11)).astype("float64") + 0.5) / float(1 << 53)
    return out


def draw_process(households_out: pd.DataFrame, params, rng: np.random.Generator) -> ProcessDraw:
    """Measured income, measured eligibility and enrollment per household (see module doc).

    ``households_out`` needs: household_id, assessed_per_capita_income, dibao_standard,
    dibao_type, assets_pass, assessed_members.
    """
    take_up = float(params["process.take_up_probability"])
    sigma = float(params["process.income_measurement_sigma"])
    band = float(params["process.discretion_band"])
    p_disc = float(params["process.discretion_inclusion_probability"])
    key = int(rng.integers(0, 2**63 - 1))
    u = household_uniforms(households_out["household_id"], key, 4)
    # Box–Muller normal from two uniforms; mean-one lognormal factor
    z = np.sqrt(-2.0 * np.log(u[0])) * np.cos(2.0 * np.pi * u[1])
    factor = np.exp(sigma * z - 0.5 * sigma * sigma)
    assessed = households_out["assessed_per_capita_income"].to_numpy(dtype="float64")
    measured = assessed * factor
    standard = households_out["dibao_standard"].to_numpy(dtype="float64")
    assets_pass = households_out["assets_pass"].to_numpy(dtype=bool)
    has_unit = households_out["assessed_members"].to_numpy() > 0
    single = households_out["dibao_type"].to_numpy(dtype=object) == "single"
    measured_eligible = single | (assets_pass & has_unit & (measured < standard))
    in_band = (~measured_eligible & assets_pass & has_unit
               & (measured < standard * (1.0 + band)))
    enrolled = (measured_eligible & (u[2] < take_up)) | (in_band & (u[3] < p_disc))
    return ProcessDraw(enrolled=enrolled, measured_per_capita_income=measured,
                       measured_eligible=measured_eligible)


def draw_enrollment(households_out: pd.DataFrame, params, rng: np.random.Generator) -> np.ndarray:
    """Bool per household: enrolled by the process model (see :func:`draw_process`)."""
    return draw_process(households_out, params, rng).enrolled
