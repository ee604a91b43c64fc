"""jiuzhu_sim (救助 sim): simulation and audit look-back for China's social assistance.

The public facade is small on purpose; notebooks and users import from here.
"""

from __future__ import annotations

__version__ = "0.1.0"

from jiuzhu_sim.exceptions import JiuzhuError, ParameterError, UserInputError
from jiuzhu_sim.parameters import Parameters, load_parameters


def explain_household(persons, households, household_id, params):
    """Every rule step for one household (the trace of ``jiuzhu explain``):
    ``.text()``, ``.to_json()``, ``.result``. See :mod:`jiuzhu_sim.explain`."""
    from jiuzhu_sim.explain import explain

    return explain(persons, households, household_id, params)

__all__ = [
    "__version__",
    "JiuzhuError",
    "ParameterError",
    "UserInputError",
    "Parameters",
    "load_parameters",
    "explain_household",
]
