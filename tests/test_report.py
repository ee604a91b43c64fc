"""Reports: papermill with validated string parameters, HTML without code, JSON sidecar."""

from __future__ import annotations

import importlib.util
import re

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from jiuzhu_sim import report
from jiuzhu_sim.cli import main
from jiuzhu_sim.exceptions import UserInputError

HAS_AUDIT = importlib.util.find_spec("jiuzhu_sim.audit.runner") is not None


@pytest.fixture(scope="module")
def kernel() -> str:
    return report.ensure_kernel()


def _tiny_notebook(path, body: str):
    params = new_code_cell('region = "350581"\nscenario_file = ""\nseed = 1\n'
                           'output_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": report.KERNEL_NAME, "language": "python",
                                 "display_name": "Python (jiuzhu_sim)"}
    nbformat.write(nb, str(path))
    return path


def _assert_clean_html(rendered, headings: list[str], min_images: int):
    html = rendered.html.read_text(encoding="utf-8")
    for heading in headings:
        assert heading in html, heading
    assert len(re.findall(r"<img ", html)) >= min_images
    assert "Traceback" not in html
    assert "report.setup_notebook()" not in html  # no input cells
    assert 'class="jp-InputPrompt' not in html and 'class="jp-OutputPrompt' not in html
    nb = nbformat.read(str(rendered.notebook), as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), out["text"]
    return html


# --- parameters ------------------------------------------------------------------------


def test_region_codes_and_ids_stay_strings():
    p = report.notebook_parameters(region="010101", data_dir="000123199001011234", seed=7,
                                   overrides=["dibao.gradual_exit_months=12"], mask=True)
    assert p["region"] == "010101" and p["data_dir"] == "000123199001011234"
    assert p["overrides"] == ["dibao.gradual_exit_months=12"]


@pytest.mark.parametrize("given", [{"region": 10101}, {"seed": "7"}, {"mask": "yes"},
                                   {"start": "2024-13"}, {"overrides": ["no_equals"]},
                                   {"years": "2025-2027"}, {"colour": "red"}])
def test_bad_parameters_are_user_errors(given):
    with pytest.raises(UserInputError):
        report.notebook_parameters(**given)


def test_papermill_receives_string_parameters(tmp_path, kernel):
    nb = _tiny_notebook(tmp_path / "types.ipynb", (
        "from jiuzhu_sim import report\n"
        "report.write_values(output_dir, {'region': region, 'type': type(region).__name__,"
        " 'id': scenario_file})"))
    rendered = report.render_report("budget", tmp_path / "out" / "types.html", notebook=nb,
                                    region="010101", source=None, kernel_name=kernel,
                                    extra={"scenario_file": "000123199001011234"})
    assert rendered.values == {"region": "010101", "type": "str", "id": "000123199001011234"}
    injected = nbformat.read(str(rendered.notebook), as_version=4).cells[1].source
    assert 'region = "010101"' in injected


def test_failing_cell_exits_non_zero_with_one_line_and_keeps_the_notebook(
        tmp_path, monkeypatch, capsys, kernel):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _tiny_notebook(folder / report.NOTEBOOKS["budget"],
                   "x = 1\nraise RuntimeError('the budget cell broke\\nsecond line')")
    monkeypatch.setenv("JIUZHU_NOTEBOOKS", str(folder))
    out = tmp_path / "r" / "budget.html"
    code = main(["report", "budget", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == report.EXIT_CELL_FAILED
    assert len(err.strip().splitlines()) == 1
    assert "RuntimeError" in err and "second line" in err and "cell" in err
    kept = nbformat.read(str(out.with_suffix(".ipynb")), as_version=4)
    assert any(o["output_type"] == "error" for c in kept.cells for o in c.get("outputs", []))
    assert not out.exists()


def test_missing_audit_folder_is_exit_2(tmp_path, capsys):
    code = main(["report", "audit", str(tmp_path / "nope"), "--start", "2024-01",
                 "--end", "2024-06", "--out", str(tmp_path / "a.html")])
    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_out_must_be_html(tmp_path):
    with pytest.raises(UserInputError):
        report.render_report("budget", tmp_path / "b.pdf")


# --- helpers ---------------------------------------------------------------------------


def test_findings_tables_sum_to_the_findings():
    findings = pd.DataFrame({
        "check": ["late_payment", "late_payment", "invalid_id"],
        "person_id": ["350581199001011234", "350581199001011242", "35058119900101123"],
        "name": ["张三", "李四", "王五"], "region_code": ["350581"] * 3,
        "period": ["2024-01", "2024-02", ""], "amount_at_risk": [100.0, 50.0, 0.0]})
    by_check = report.findings_by(findings, "check")
    # late_payment: 2 findings, 100 + 50 = 150 yuan; invalid_id: 1 finding, 0 yuan
    assert by_check.to_dict(orient="records") == [
        {"check": "late_payment", "findings": 2, "amount_at_risk": 150.0},
        {"check": "invalid_id", "findings": 1, "amount_at_risk": 0.0}]
    pivot = report.findings_by_check_and_month(findings)
    assert pivot.loc["late_payment", "2024-01"] == 1
    assert pivot["合计 total"].sum() == 3
    cases = report.top_cases(findings, n=2)
    assert cases["person_id"].tolist() == ["350581********1234", "350581********1242"]
    assert cases["name"].tolist() == ["张*", "李*"]


def test_mask_text_hides_ids_and_known_names_in_details():
    text = "系工作人员 余辉红（350581200005163960）的配偶；号码 35058119430330655 无效"
    assert report.mask_text(text, ["余辉红"]) == (
        "系工作人员 余**（350581********3960）的配偶；号码 350581*******0655 无效")


def test_review_table_masks_both_sides_of_a_pair():
    review = pd.DataFrame({
        "purpose": ["duplicate_region"], "person_id_left": ["350581199001011243"],
        "name_left": ["王玮"], "person_id_right": ["350582199001011234"],
        "name_right": ["王伟"], "periods": ["2024-01;2024-02"], "amount": ["1200"],
        "match_probability": [0.97], "agreeing_fields": ["name;birth_date"],
        "match_rule": ["probabilistic"], "rank": [1], "left_key": ["350581199001011243|350582"]})
    shown = report.review_table(review).iloc[0]
    # first six and last four kept, the eight between starred; first character of a name
    assert shown["person_id_left"] == "350581********1243"
    assert shown["person_id_right"] == "350582********1234"
    assert (shown["name_left"], shown["name_right"]) == ("王*", "王*")
    unmasked = report.review_table(review, mask=False).iloc[0]
    assert (unmasked["name_left"], unmasked["person_id_right"]) == ("王玮", "350582199001011234")


def test_evidence_key_fields_are_masked_field_by_field():
    findings = pd.DataFrame({"finding_id": ["F1"], "check": ["staff_relative_unfiled"],
                             "person_id": ["350581199001011234"], "period": [""],
                             "amount_at_risk": [0.0]})
    evidence = pd.DataFrame({"finding_id": ["F1"], "file": ["staff_relatives.csv"], "row": [3],
                             "key_fields": ["staff_id=3505811980051712AB; relation=配偶; "
                                            "filed=false"]})
    shown = report.top_case_evidence(findings, evidence)
    # an ID the text pattern would miss (letters) is still masked, by its field name
    assert shown["key_fields"].iloc[0] == "staff_id=350581********12AB; relation=配偶; filed=false"


def test_row_accounting_used_is_read_minus_rejected():
    table = report.row_accounting({"rows_read": {"roster": 10, "payments": 20},
                                   "rows_rejected": {"payments": 3}})
    rows = table.set_index("input")
    assert rows.loc["payments", "rows_used"] == 17  # 20 read − 3 rejected
    assert rows.loc["合计 total"].tolist() == [30, 27, 3]


# --- the three reports end to end (small data) -----------------------------------------


def test_budget_report_renders_and_is_reproducible(tmp_path, kernel):
    kwargs = dict(households=1500, replications=40, seed=11, years="2025:2026",
                  kernel_name=kernel)
    first = report.render_report("budget", tmp_path / "a" / "budget.html", **kwargs)
    _assert_clean_html(first, ["分项目多年度支出", "004"], min_images=3)
    second = report.render_report("budget", tmp_path / "b" / "budget.html", **kwargs)
    assert first.values == second.values
    assert first.values["years"] == [2025, 2026]
    totals = [r for r in first.values["budget"] if r["program"] == "total"]
    assert all(r["p5"] <= r["p50"] <= r["p95"] for r in totals)


def test_scenario_report_renders(tmp_path, kernel):
    rendered = report.render_report("scenario", tmp_path / "scenario.html", households=1000,
                                    kernel_name=kernel)
    _assert_clean_html(rendered, ["基线与改革", "覆盖—成本—漏出曲线", "受益归宿", "谁受益"],
                       min_images=4)
    names = [r["scenario"] for r in rendered.values["comparison"]]
    assert names[0] == "baseline" and len(names) >= 2
    assert len(rendered.values["frontier"]) >= 3
    # the explained household's members are named by resident ID in the trace: masked in
    # the HTML (CONTRACT §7), full in report_values.json (a machine output)
    html = rendered.html.read_text(encoding="utf-8")
    members = [p["person_id"] for p in rendered.values["explained_household"]["persons"]]
    assert members and not any(pid in html for pid in members)
    assert all(report.mask_text(pid) in html for pid in members)


@pytest.fixture(scope="module")
def audit_report(tmp_path_factory, kernel):
    """The audit report on the built-in synthetic county of 600 households, rendered once:
    its planted typos put probable matches (待核实) in the report."""
    if not HAS_AUDIT:
        pytest.skip("audit.runner not written yet")
    out = tmp_path_factory.mktemp("audit_report") / "audit.html"
    return report.render_report("audit", out, households=600, kernel_name=kernel)


def test_audit_report_renders_masked(audit_report):
    rendered = audit_report
    html = _assert_clean_html(rendered, ["范围与清单", "行数核对", "问题发现", "重点个案",
                                         "三项清单", "月度统计", "疑似漏保"], min_images=4)
    findings = pd.read_csv(rendered.output_dir / "audit" / "findings.csv", dtype=str)
    ids = findings["person_id"].dropna()
    ids = ids[ids.str.len() == 18]
    assert len(ids) and not any(pid in html for pid in ids)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert not re.search(r"(?<![0-9A-Za-z])\d{17}[0-9X](?![0-9A-Za-z])", text)  # nor in details
    assert re.search(r"\d{6}\*{8}\d{3}[0-9X]", text)
    values = rendered.values
    assert values["findings"] == len(findings)
    assert values["exclusion"]["simulated_eligible_persons"] > 0


RESIDENT_ID_COLUMNS = ("person_id", "account_holder_id", "guardian_id", "staff_id",
                       "relative_id")
NAME_INPUT_COLUMNS = ("name", "staff_name")


def test_audit_report_shows_no_input_name_or_id(audit_report):
    """CONTRACT §7: no name (two characters or more) and no 18-character resident ID of any
    input file appears in the HTML — also not in the probable-match table, whose columns
    are ``name_left``/``person_id_right``…, nor in the evidence's ``key_fields``."""
    rendered = audit_report
    html = rendered.html.read_text(encoding="utf-8")
    review = pd.read_csv(rendered.output_dir / "audit" / "review_matches.csv", dtype=str,
                         keep_default_na=False)
    assert len(review) >= 5 and (review["name_left"] != "").any()  # the table has rows
    assert "name_left" in html  # … and is shown
    names, ids = set(), set()
    for path in (rendered.output_dir / "synthetic_county").glob("*.csv"):
        if path.stem.startswith("truth"):
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in frame.columns:
            if col in NAME_INPUT_COLUMNS:
                names.update(v for v in frame[col] if len(v) >= 2)
            if col in RESIDENT_ID_COLUMNS:
                ids.update(v for v in frame[col] if len(v) == 18)
    # a name that is also a word of the notebook's own text would be no leak
    notebook_text = report.notebook_path("audit").read_text(encoding="utf-8")
    names = {n for n in names if n not in notebook_text}
    assert len(names) > 100 and len(ids) > 100
    assert set(review["name_left"]) - {""} <= names | {""}
    assert [n for n in sorted(names) if n in html] == []
    assert [i for i in sorted(ids) if i in html] == []


def test_exclusion_estimate_scales_to_the_roster_or_the_given_county():
    params = report.load_report_parameters("350581", "2024-06-30")
    _, by_roster = report.exclusion_estimate(params, roster_recipients=5000, candidates=40,
                                             sample_households=3000, seed=3)
    # scaled so the simulated recipients equal the roster's 5,000
    assert by_roster["simulated_enrolled_persons"] == pytest.approx(5000)
    assert by_roster["simulated_eligible_persons"] >= by_roster["simulated_excluded_persons"]
    assert by_roster["screening_candidates"] == 40
    _, by_county = report.exclusion_estimate(params, roster_recipients=5000, candidates=40,
                                             county_persons=300000, sample_households=3000,
                                             seed=3)
    assert by_county["county_persons"] == pytest.approx(300000)
    # same sample, another scale: eligible per resident is the same
    assert (by_county["simulated_eligible_persons"] / 300000 == pytest.approx(
        by_roster["simulated_eligible_persons"] / by_roster["county_persons"]))


def test_roster_counts_keep_people_active_in_the_end_month():
    roster = pd.DataFrame({
        "person_id": ["a", "b", "c", "d", "a"],
        "program": ["dibao", "dibao", "tekun", "dibao", "dibao"],
        "start_date": pd.to_datetime(["2023-01-01", "2023-01-01", "2023-01-01", "2024-07-01",
                                      "2023-01-01"]),
        "end_date": pd.to_datetime([None, "2024-05-31", "2024-06-15", None, None])})
    # a active (listed twice, counted once); b left in May; c active in June; d starts later
    assert report.roster_counts(roster, "2024-06") == {"dibao": 1, "tekun": 1}
