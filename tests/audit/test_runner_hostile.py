"""The audit command on hostile input (issue 15): every failure path one line and exit 2,
summary.json always JSON, CSV outputs never open as formulas."""

import json

import pandas as pd
import pytest
from audit_frames import A, B, pay_row, roster_row

from jiuzhu_sim.cli import main


@pytest.fixture
def county(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    roster = [roster_row(A, name='=HYPERLINK("http://x.example","点击")'),
              roster_row(B, name="@李四")]
    pd.DataFrame(roster).to_csv(folder / "roster.csv", index=False)
    # B is paid in February with no payment in January (a real missing_payment, name @李四),
    # and paid in March with an amount of inf (rejected)
    pays = [pay_row(A, m) for m in ("2024-01", "2024-02", "2024-03")]
    pays += [pay_row(B, "2024-02"), pay_row(B, "2024-03", amount="inf")]
    pd.DataFrame(pays).to_csv(folder / "payments.csv", index=False)
    (folder / "deaths.csv").write_text("person_id,name,death_date\n", "utf-8")
    return folder


def _audit(capsys, *args):
    try:
        code = main(["audit", *map(str, args), "--no-linkage"])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


@pytest.mark.parametrize("extra, message", [
    (["--start", "2024-01", "--end", "9999-12"], "--end 9999-12 is outside the plausible"),
    (["--start", "2000-01", "--end", "2024-06"], "spans 294 months, more than "
                                                 "audit.max_window_months = 120"),
    (["--start", "2024-01", "--end", "2024-03", "--date", "2024-02-30"],
     "'2024-02-30' is not a calendar date"),
])
def test_window_and_date_mistakes_are_one_line_exit_2(county, tmp_path, capsys, extra,
                                                      message):
    code, err = _audit(capsys, county, "--out", tmp_path / "out", *extra)
    assert code == 2 and len(err) == 1 and message in err[0]


def test_out_naming_a_file_or_an_unwritable_folder_is_one_line(county, tmp_path, capsys):
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("x")
    code, err = _audit(capsys, county, "--start", "2024-01", "--end", "2024-03", "--out",
                       a_file)
    assert code == 2 and err == [f"jiuzhu audit: {a_file}: --out names a file, not a folder"]
    code, err = _audit(capsys, county, "--start", "2024-01", "--end", "2024-03", "--out",
                       "/proc/jiuzhu_cannot_write_here")
    assert code == 2 and len(err) == 1 and "--out folder cannot be written" in err[0]


def test_findings_csv_prefixes_formulas_and_summary_is_json(county, tmp_path, capsys):
    out = tmp_path / "out"
    code, _ = _audit(capsys, county, "--start", "2024-01", "--end", "2024-03", "--out", out)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"),
                         parse_constant=lambda c: pytest.fail(f"{c} in summary.json"))
    assert summary["rows_rejected"]["payments"] == 1  # the inf row
    findings = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    # B: no January payment (missing_payment, 500.00 at risk); March rejected → unknown
    names = set(findings["name"])
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
    assert "'@李四" in names
    raw = (out / "findings.csv").read_text("utf-8-sig")
    assert "\n'@李四" not in raw and ",'@李四," in raw
    rejected = pd.read_csv(out / "rejected.csv", dtype=str)
    assert rejected["reason"].str.contains("finite").all()


def test_amount_at_risk_stays_a_number_in_findings_csv(tmp_path):
    from jiuzhu_sim.io import formula_safe

    frame = pd.DataFrame({"name": ["=1+1", "-张三", "-338.00", "张三"],
                          "amount_at_risk": [-338.0, 1.0, 2.0, 3.0]})
    out = formula_safe(frame)
    assert list(out["name"]) == ["'=1+1", "'-张三", "-338.00", "张三"]
    assert out["amount_at_risk"].dtype == "float64" and out["amount_at_risk"][0] == -338.0


def test_simulate_with_zero_households_is_one_line(tmp_path, capsys):
    assert main(["synth", "population", "--out", str(tmp_path), "--households", "2"]) == 0
    for name in ("households", "persons"):
        path = tmp_path / f"{name}.csv"
        path.write_text(path.read_text("utf-8-sig").splitlines()[0] + "\n", "utf-8")
    capsys.readouterr()
    code = main(["simulate", "--persons", str(tmp_path / "persons.csv"), "--households",
                 str(tmp_path / "households.csv"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"jiuzhu simulate: {tmp_path / 'households.csv'}: no "
                                 "households (only a header, or an empty file)"]


def test_a_window_with_no_payment_at_all_is_one_line_not_missing_payments(county, tmp_path,
                                                                          capsys):
    # the county's payments are 2024-01..2024-03; a 2023 window would otherwise make every
    # active person-month of 2023 应发未发 (2 people × 12 months of false findings)
    code, err = _audit(capsys, county, "--start", "2023-01", "--end", "2023-12", "--out",
                       tmp_path / "out")
    assert code == 2 and len(err) == 1
    assert "no payment falls in the window 2023-01..2023-12" in err[0]
    assert "2024-01..2024-03" in err[0] and "period" in err[0]


def test_month_labels_and_masks_of_nothing_are_empty():
    import numpy as np

    from jiuzhu_sim.audit.calendar import month_label
    from jiuzhu_sim.privacy import mask_ids, mask_names

    assert len(month_label(np.array([], dtype=np.int64))) == 0
    assert mask_ids([]).empty and mask_names([]).empty
    # one row still masks: 18 characters → 6 + 8 stars + 4
    assert list(mask_ids(["350581199001011234"])) == ["350581********1234"]
