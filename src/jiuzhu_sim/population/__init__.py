"""Synthetic population generation, calibration and the administrative-process model.

- :func:`generate_population` / :func:`write_population` (``generate.py``): synthetic
  households and persons for a region (CONTRACT §3); :func:`draw_population` gives the same
  draw as arrays (no IDs or tables, for partitions); parameters in
  ``params/national/population.yaml``; targets and achieved values in docs/calibration.md.
- ``process.py``: take-up, measurement error, discretion (enrollment draw).
- ``reweight.py``: raking / entropy calibration to published margins.
"""

from jiuzhu_sim.population.generate import (
    draw_population,
    generate_population,
    write_population,
)

__all__ = ["draw_population", "generate_population", "write_population"]
