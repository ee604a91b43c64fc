"""How reports show things (issue 18): tables without pandas' index and with formatted numbers,
wide tables in a scrolling box, a contents list and print styles, no month-less bar among the
months, no absolute paths, Monte Carlo bands on the frontier."""

import numpy as np
import pandas as pd

from jiuzhu_sim import report


def _cells(html: str) -> list[str]:
    import re

    return re.findall(r"<td[^>]*>(.*?)</td>", html)


def test_table_has_no_positional_index_and_formats_numbers_by_column():
    frame = pd.DataFrame({"check": ["late_payment"], "findings": [1200],
                          "amount_at_risk": [1234567.5], "coverage_rate": [0.80951],
                          "year": [2025], "dibao.standard_ratio_to_minimum_wage": [0.425]})
    html = report.table_html(frame)
    # 1200 → thousands; yuan → 2 decimals; a rate 0.80951 → 80.95%; a year stays 2025;
    # a ratio parameter keeps its three decimals
    assert _cells(html) == ["late_payment", "1,200", "1,234,567.50", "80.95%", "2025",
                            "0.425"]
    assert "<th></th>" not in html and ">0<" not in html  # no 0, 1, 2 … index column
    assert html.startswith('<div class="jz-table-wrap">')  # scrolls inside its box


def test_labelled_index_becomes_a_column_and_metric_rows_use_their_own_format():
    comparison = pd.DataFrame({"scenario": ["baseline", "reform"], "region": ["all"] * 2,
                               "coverage_rate": [0.5, 0.75], "cost_total": [1e6, 1.5e6]})
    html = report.table_html(report.comparison_table(comparison))
    assert _cells(html) == ["覆盖率 coverage", "50.00%", "75.00%",
                            "合计 total (元/年)", "1,000,000.00", "1,500,000.00"]


def test_table_text_is_escaped():
    html = report.table_html(pd.DataFrame({"name": ["<img src=x onerror=alert(1)>"]}))
    assert "<img" not in html and "&lt;img" in html


def test_amounts_by_month_keep_the_month_less_findings_apart():
    findings = pd.DataFrame({"check": ["a", "a", "b", "c"],
                             "period": ["2024-01", "2024-03", "", None],
                             "amount_at_risk": [100.0, 50.0, 900.0, 1000.0]})
    months, apart = report.amount_by_month(findings, "2024-01", "2024-03")
    # every month of the window, February with nothing; the two month-less findings
    # (900 + 1000 = 1900 yuan) are not a bar
    assert list(months["period"]) == ["2024-01", "2024-02", "2024-03"]
    assert list(months["amount_at_risk"]) == [100.0, 0.0, 50.0]
    assert apart == {"findings": 2, "amount_at_risk": 1900.0}


def test_command_lines_and_inputs_show_file_names_only():
    scope, inputs = report.manifest_tables({
        "command": "jiuzhu report scenario /work/x/params/scenarios/a.yaml --out /tmp/r.html",
        "inputs": [{"name": "/home/someone/county/roster.csv", "bytes": 1, "sha256": "0"}]})
    command = scope.loc[scope["项目 item"] == "command", "值 value"].iloc[0]
    assert command == "jiuzhu report scenario a.yaml --out r.html"
    assert list(inputs["name"]) == ["roster.csv"]


def test_page_gets_contents_list_and_print_styles():
    page = ("<html><head></head><body><div class=\"jp-Cell\"><h1 id=\"t\">T</h1></div>"
            "<div class=\"jp-Cell\"><h2 id=\"1.-A\">1. A<a class=\"anchor-link\">¶</a></h2>"
            "</div><div class=\"jp-Cell\"><h2 id=\"2.-B\">2. B</h2></div></body></html>")
    out = report.add_contents_and_styles(page)
    assert '<a href="#1.-A">1. A</a>' in out and '<a href="#2.-B">2. B</a>' in out
    assert out.index("jz-toc") < out.index('<h2 id="1.-A"')
    assert "@media print" in out and "overflow-x: auto" in out


def test_frontier_bands_are_mean_plus_minus_1_96_standard_errors():
    frame = pd.DataFrame({"x": [0.4, 0.5], "coverage_rate": [0.8, 0.7],
                          "coverage_rate_se": [0.01, 0.02]})
    (panel,) = report.frontier_panels(frame)
    low, high = panel["bands"]["覆盖率 coverage"]
    # 80% ± 1.96 × 1% = 78.04 … 81.96; 70% ± 1.96 × 2% = 66.08 … 73.92
    assert np.allclose(low, [78.04, 66.08]) and np.allclose(high, [81.96, 73.92])


def test_scenario_describe_gives_the_monte_carlo_standard_error_of_the_mean():
    from jiuzhu_sim.scenario import _describe

    metrics = ("coverage_rate", "exclusion_error_rate", "inclusion_error_rate",
               "leakage_rate", "cost_total", "fgt0_after")
    rows = [dict.fromkeys(metrics, v) for v in (0.4, 0.5, 0.6)]
    out = _describe(rows, 3)
    # mean 0.5; sd of 0.4, 0.5, 0.6 (ddof 1) = 0.1; se = 0.1 / √3 = 0.0577350
    assert abs(out["coverage_rate"] - 0.5) < 1e-12
    assert abs(out["coverage_rate_se"] - 0.1 / 3 ** 0.5) < 1e-12
    assert "coverage_rate_se" not in _describe(rows[:1], 1)  # one replication: no band
