"""Regenerate reports/examples/ (audit, scenario, budget HTML and their report values).

    python benchmarks/make_examples.py [kind ...]

Settings are stated here and in each report: the audit on the built-in synthetic county
(800 households); the scenario on 20,000 synthetic households × 20 replications with common
random numbers across every variant and sweep point, so that the coverage–cost–leakage curve
is smooth within its 95% Monte Carlo bands; the budget on 2,000 households × 100
replications. Paths in the rendered HTML are file names only.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from jiuzhu_sim import report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "reports" / "examples"
SETTINGS = {
    "audit": {"households": 800},
    "scenario": {"households": 20_000, "replications": 20},
    "budget": {"households": 2_000, "replications": 100, "date": "2024-01-01",
               "years": "2024:2026"},
}


def main(kinds: list[str]) -> None:
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    for kind in kinds or list(SETTINGS):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            rendered = report.render_report(kind, Path(tmp) / f"{kind}.html",
                                            **SETTINGS[kind])
            shutil.copy(rendered.html, EXAMPLES / f"{kind}.html")
            shutil.copy(rendered.output_dir / report.VALUES_FILE,
                        EXAMPLES / f"{kind}_values.json")
            print(f"{kind}: {SETTINGS[kind]} → reports/examples/{kind}.html "
                  f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
