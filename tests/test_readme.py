"""The README's five-minute tour runs as written (at small sizes), so it cannot drift from the
command line: every `jiuzhu` line of its first fenced block after "## Five-minute tour", and
its Python block, are run here in a scratch folder."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from jiuzhu_sim import report
from jiuzhu_sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# sizes that keep the whole tour well under a minute; nothing else of a command changes
SMALL = {"--households": "300", "--replications": "2"}
SMALL_SCENARIO_HOUSEHOLDS = 400


def tour_blocks() -> tuple[list[list[str]], str]:
    """(the tour's commands as argument lists, its Python block)."""
    tour = README[README.index("## Five-minute tour"):]
    shell = re.search(r"```\n(.*?)```", tour, re.DOTALL).group(1)
    python = re.search(r"```python\n(.*?)```", tour, re.DOTALL).group(1)
    commands = []
    for line in shell.replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            commands.append(shlex.split(line))
    return commands, python


COMMANDS, PYTHON = tour_blocks()


def small(argv: list[str], scenario_copy: Path) -> list[str]:
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg in SMALL and out[i + 1].isdigit():  # simulate's --households is a file
            out[i + 1] = SMALL[arg]
        if arg.startswith("params/scenarios/"):
            out[i] = str(scenario_copy)
    if out[1:3] == ["synth", "audit"] and "--households" not in out:
        out += ["--households", SMALL["--households"]]
    return out


def test_tour_block_is_found_and_names_files_that_exist():
    assert len(COMMANDS) >= 12 and all(c[0] == "jiuzhu" for c in COMMANDS)
    assert "..." not in " ".join(" ".join(c) for c in COMMANDS)  # runnable as written
    for argv in COMMANDS:
        for arg in argv:
            if arg.startswith("params/"):
                assert (ROOT / arg).is_file(), arg


def test_every_tour_command_runs(tmp_path, monkeypatch, capsys):
    """In order (later lines read what earlier ones wrote); `jiuzhu report` is checked up to
    the notebook run (its rendering is tests/test_report.py's), the rest runs for real."""
    scenario = tmp_path / "scenario.yaml"
    rendered = []
    monkeypatch.setattr(report, "render_report",
                        lambda kind, out, **kw: rendered.append((kind, Path(out))) or
                        report.RenderedReport(Path(out), Path(out).with_suffix(".ipynb"),
                                              Path(out).parent, {}, 0.0))
    monkeypatch.chdir(tmp_path)
    for argv in COMMANDS:
        for arg in argv:
            if arg.startswith("params/scenarios/"):
                doc = yaml.safe_load((ROOT / arg).read_text(encoding="utf-8"))
                doc["population"]["synthetic"]["households"] = SMALL_SCENARIO_HOUSEHOLDS
                scenario.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        args = small(argv, scenario)
        code = main(args[1:])
        err = capsys.readouterr().err
        assert code == 0, f"{' '.join(argv)} → exit {code}: {err}"
    assert rendered == [("audit", Path("reports/audit.html"))]
    assert (tmp_path / "out" / "audit_round2" / "三项清单.xlsx").is_file()


def test_python_block_runs(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code = PYTHON.replace("n_households=20_000", "n_households=300")
    assert code != PYTHON  # the size was found and made small
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    assert 0 <= namespace["result"].summary["coverage_rate"] <= 1


@pytest.mark.parametrize("name", ["params/scenarios/dibao_standard_48.yaml"])
def test_files_the_readme_names_exist(name):
    assert name in README and (ROOT / name).is_file()
