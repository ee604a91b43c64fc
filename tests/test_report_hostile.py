"""Reports on hostile input (issue 15): values from files are inert in Markdown/HTML, IDs
written with separators are masked, a --params file given by a relative path works."""

import json
import re
from pathlib import Path

import pytest

from jiuzhu_sim import report

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_safe_makes_html_and_markdown_inert():
    text = report.safe('<img src=x onerror=alert(1)> [a](javascript:x) *b* `c` & 张三')
    assert "<" not in text and ">" not in text
    assert text.startswith("&lt;img src=x onerror=alert\\(1\\)&gt;")
    assert "\\[a\\]\\(javascript:x\\)" in text and "\\*b\\*" in text and "\\`c\\`" in text
    assert text.endswith("&amp; 张三")


def test_notebook_markdown_shows_file_values_only_through_safe():
    # region names, folder and file names, scenario names and descriptions come from files
    from_files = re.compile(r"\b(spec\.\w+|params\.region_name|params\.region_code|data|"
                            r"out\.name|path\.name|workbook\.name|on_roster)\b")
    for path in NOTEBOOKS.glob("*.ipynb"):
        for cell in json.loads(path.read_text("utf-8"))["cells"]:
            source = "".join(cell["source"])
            for call in re.findall(r"Markdown\((f\".*?\"\)\))", source, flags=re.S):
                for expr in re.findall(r"\{([^{}]*)\}", call):
                    if from_files.search(expr):
                        assert expr.startswith("report.safe(") or " else report.safe(" in \
                            expr, f"{path.name}: {{{expr}}} reaches Markdown unescaped"


@pytest.mark.parametrize("written", ["350524-194502276418", "350524 1945 0227 6418",
                                     "350524\u200b194502276418", "350524194502276418"])
def test_ids_with_separators_are_masked_in_text(written):
    assert report.mask_text(f"发放至 {written} 的账户") == "发放至 350524********6418 的账户"


def test_amounts_and_dates_in_text_are_not_masked():
    text = "2024年01月 实发 1,234,567.00 元，发放日期 2024-01-25"
    assert report.mask_text(text) == text


def test_relative_params_file_is_resolved_from_the_callers_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_county.yaml").write_text("x", "utf-8")
    assert report._region_argument("my_county.yaml") == str(tmp_path / "my_county.yaml")
    assert report._region_argument("350581") == "350581"


def test_exclusion_estimate_runs_for_a_region_that_is_not_built_in(tmp_path):
    from jiuzhu_sim.parameters import load_parameters

    (tmp_path / "my_county.yaml").write_text(
        'region: {code: "350599", name: "<b>某县</b>", name_en: Mine, parent: "350500"}\n'
        "parameters: {}\n", "utf-8")
    params = load_parameters(tmp_path / "my_county.yaml", "2024-06-30")
    table, values = report.exclusion_estimate(params, roster_recipients=100, candidates=3,
                                              sample_households=200)
    assert values["roster_dibao_recipients"] == 100 and len(table) == 6
