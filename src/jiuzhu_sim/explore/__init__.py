"""Live explorers for notebooks and ``jiuzhu explore`` (docs/explore.md).

- :class:`ScenarioExplorer`: one population and one set of process draws (common random
  numbers), recomputed through the scenario engine on every control change.
- :class:`AuditExplorer`: an audit output folder, filtered, with each finding's evidence rows,
  masked unless unmasked, exported to xlsx.

The ipywidgets front ends are in :mod:`jiuzhu_sim.explore.widgets` (optional dependency group
``explore``); :mod:`jiuzhu_sim.explore.serve` serves a notebook with Voilà.
"""

from __future__ import annotations

from jiuzhu_sim.explore.audit import AuditExplorer, FindingFilter
from jiuzhu_sim.explore.scenario import CONTROLS, ExplorerResult, ScenarioExplorer

__all__ = ["AuditExplorer", "FindingFilter", "CONTROLS", "ExplorerResult", "ScenarioExplorer"]
