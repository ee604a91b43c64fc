"""jiuzhu_sim (救助 sim): simulation and audit look-back for China's social assistance.

The public facade is small on purpose; notebooks and users import from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

from jiuzhu_sim.exceptions import JiuzhuError, ParameterError, UserInputError

# Parameters and load_parameters are loaded on first use (PEP 562): importing the package
# (and so the `jiuzhu` command) does not import pandas and numpy, so the command can start
# work, such as hashing its inputs, before those imports (cli.main)
if TYPE_CHECKING:
    from jiuzhu_sim.parameters import Parameters, load_parameters
del TYPE_CHECKING

_LAZY = {"Parameters": "jiuzhu_sim.parameters", "load_parameters": "jiuzhu_sim.parameters"}


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    # a submodule not imported yet (``jiuzhu_sim.parameters`` after ``import jiuzhu_sim``,
    # as when this module imported it)
    import importlib.util

    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'jiuzhu_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
