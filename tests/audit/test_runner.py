"""`jiuzhu audit` end to end on small folders written here (CONTRACT §5–7)."""

import json

import pandas as pd
import pytest
from audit_frames import A, B, C, pay_row, roster_row

from jiuzhu_sim.cli import main
from jiuzhu_sim.exceptions import UserInputError

ARGS = ["--start", "2024-01", "--end", "2024-03"]


def write_county(folder):
    folder.mkdir(exist_ok=True)
    roster = pd.DataFrame([roster_row(A, amount=500), roster_row(B, amount=600, household="H2"),
                           roster_row(C, amount=700, household="H3")])
    # the roster as an Excel export with Chinese headers and Chinese category values
    zh = roster.rename(columns={"person_id": "身份证号", "name": "姓名", "household_id": "户编号",
                                "region_code": "行政区划", "program": "救助类别",
                                "start_date": "纳入日期", "end_date": "退出日期",
                                "monthly_amount": "月保障金", "last_check_date": "最近核对日期"})
    zh["救助类别"] = "低保"
    zh.to_excel(folder / "roster.xlsx", index=False)
    pays = [pay_row(p, m, amt) for p, amt in ((A, 500), (B, 600), (C, 700))
            for m in ("2024-01", "2024-02", "2024-03")]
    pays.append(pay_row(A, "2024-13", 500))         # bad period → rejected
    pays.append(pay_row(B, "2024-02", "abc"))       # bad amount → rejected
    # a GB18030 export with Chinese headers and program values (as the one-card system
    # writes it), so the GB path and the header mapping are both exercised
    body = (pd.DataFrame(pays).rename(columns={"person_id": "身份证号", "amount": "发放金额",
                                              "period": "所属期", "paid_date": "发放日期"})
            .replace({"program": {"dibao": "低保"}}).to_csv(index=False))
    (folder / "payments.csv").write_bytes(body.encode("gb18030"))
    (folder / "deaths.csv").write_bytes(
        f"身份证号,姓名,死亡日期\n{C},王五,2024-01-20\n".encode("utf-8-sig"))
    return folder


def test_audit_writes_every_output_and_rows_add_up(tmp_path):
    data, out = write_county(tmp_path / "data"), tmp_path / "out"
    assert main(["audit", str(data), *ARGS, "--out", str(out)]) == 0
    for name in ("findings.csv", "summary.json", "rejected.csv", "三项清单.xlsx",
                 "monthly_stats.csv"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["rows_read"]["payments"] == 11 and summary["rows_rejected"]["payments"] == 2
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert len(rejected) == sum(summary["rows_rejected"].values())
    assert set(rejected["column"]) == {"period", "amount"}
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig", dtype=str)
    dead = findings[findings["check"] == "deceased_paid"]
    # C died 2024-01-20: Feb and Mar paid after the death month, 2 × 700
    assert sorted(dead["period"]) == ["2024-02", "2024-03"]
    assert summary["findings"]["deceased_paid"]["amount_at_risk"] == 1400.0
    assert len(summary["manifest"]["inputs"]) == 3
    assert all(len(i["sha256"]) == 64 for i in summary["manifest"]["inputs"])
    assert summary["window"]["params_date"] == "2024-03-31"
    assert summary["window"]["region_code"] == "350581"
    sheets = pd.read_excel(out / "三项清单.xlsx", sheet_name=None)
    assert set(sheets) == {"说明", "问题清单", "整改清单", "成果清单"}
    assert len(sheets["整改清单"]) == len(findings)
    # 03-31 + 30 days, a real date in the workbook
    assert sheets["整改清单"]["整改期限"].iloc[0] == pd.Timestamp("2024-04-30")


def test_finding_ids_are_stable_across_runs(tmp_path):
    data = write_county(tmp_path / "data")
    main(["audit", str(data), *ARGS, "--out", str(tmp_path / "o1")])
    main(["audit", str(data), *ARGS, "--out", str(tmp_path / "o2")])
    a = pd.read_csv(tmp_path / "o1" / "findings.csv", encoding="utf-8-sig")
    b = pd.read_csv(tmp_path / "o2" / "findings.csv", encoding="utf-8-sig")
    assert list(a["finding_id"]) == list(b["finding_id"]) and a["finding_id"].is_unique


def test_rectified_ledger_is_closed_item_by_item(tmp_path):
    data, out1, out2 = write_county(tmp_path / "data"), tmp_path / "o1", tmp_path / "o2"
    main(["audit", str(data), *ARGS, "--out", str(out1)])
    ledger = pd.read_excel(out1 / "三项清单.xlsx", sheet_name="整改清单", dtype=str)
    ledger["整改状态"] = "已整改"
    ledger.loc[0, "问题编号"] = "changed-id"  # matched by the stable key instead
    # one fake closed item that no longer appears
    extra = ledger.iloc[[0]].assign(问题编号="old", 检查项目代码="late_payment", 所属期="2023-01")
    pd.concat([ledger, extra]).to_excel(tmp_path / "done.xlsx", sheet_name="整改清单",
                                        index=False)
    assert main(["audit", str(data), *ARGS, "--out", str(out2), "--rectified",
                 str(tmp_path / "done.xlsx")]) == 0
    res = pd.read_excel(out2 / "三项清单.xlsx", sheet_name="成果清单", dtype=str)
    # same data: every rectified item is found again except the fake one
    assert (res["销号结果"] == "已销号").sum() == 1
    assert (res["销号结果"] == "未销号（复查仍存在）").sum() == len(ledger)


def test_missing_required_column_exits_2_with_one_line(tmp_path, capsys):
    data = write_county(tmp_path / "data")
    (data / "deaths.csv").write_text(f"person_id,name\n{C},王五\n", encoding="utf-8")
    assert main(["audit", str(data), *ARGS, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "deaths.csv" in err and "death_date" in err


def test_unknown_region_stops_with_exit_2_unless_params_given(tmp_path, capsys):
    # a roster of a province with no parameter file is not judged on Shishi's standards
    data = write_county(tmp_path / "data")
    roster = pd.read_excel(data / "roster.xlsx", dtype=str)
    roster["行政区划"] = "999999"
    roster.to_excel(data / "roster.xlsx", index=False)
    assert main(["audit", str(data), *ARGS, "--out", str(tmp_path / "o")]) == 2
    assert "no parameters for region '999999'" in capsys.readouterr().err
    assert main(["audit", str(data), *ARGS, "--out", str(tmp_path / "o"),
                 "--params", "350581"]) == 0
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert summary["window"]["region_code"] == "350581"


def test_township_code_takes_its_countys_parameters():
    # 450326101 is a township of Yongfu (450326): Yongfu's parameters, not Shishi's
    from jiuzhu_sim.audit.runner import region_for_roster

    assert region_for_roster("450326101") == "450326"
    assert region_for_roster("350582") == "350500"   # a Quanzhou county without a file: city
    assert region_for_roster("350581") == "350581"


def test_roster_of_a_region_without_parameters_is_a_user_error():
    from jiuzhu_sim.audit.runner import region_for_roster

    with pytest.raises(UserInputError, match="region_code: no parameters for region '110101'"):
        region_for_roster("110101")


def test_summary_counts_money_once_and_says_what_each_check_ran_on(tmp_path):
    # A died 2024-01-15 and stays on the roster, paid 500 in Jan, Feb, Mar:
    # deceased_paid finds Feb + Mar = 1,000, deceased_not_exited the same 1,000 paid after
    # death → amount_at_risk_total 1,000 (each payment once); the per-check amounts keep
    # 1,000 each (sum 2,000).
    # Monitoring: 防止返贫监测对象 is mapped; "低收入重点人群" is unknown → counted as unmapped.
    data = tmp_path / "in"
    data.mkdir()
    pd.DataFrame([roster_row(A)]).to_csv(data / "roster.csv", index=False)
    pd.DataFrame([pay_row(A, m) for m in ("2024-01", "2024-02", "2024-03")]).to_csv(
        data / "payments.csv", index=False)
    pd.DataFrame({"person_id": [A], "name": ["张三"], "death_date": ["2024-01-15"]}).to_csv(
        data / "deaths.csv", index=False)
    pd.DataFrame({"person_id": [B, C], "category": ["防止返贫监测对象", "低收入重点人群"],
                  "since_date": ["2023-05-01", "2023-05-01"]}).to_csv(
        data / "monitoring.csv", index=False)
    assert main(["audit", str(data), *ARGS, "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["findings"]["deceased_paid"]["amount_at_risk"] == 1000.0
    assert summary["findings"]["deceased_not_exited"]["amount_at_risk"] == 1000.0
    assert summary["amount_at_risk_sum_of_checks"] == 2000.0
    assert summary["amount_at_risk_total"] == 1000.0
    run = summary["checks_run"]
    assert run["exclusion_candidate"]["unmapped_monitoring_categories"] == {"低收入重点人群": 1}
    assert run["ineligible_recipient"]["inputs_absent"] == ["households"]
    assert run["under_assisted"]["inputs_absent"] == ["medical", "assistance"]
    findings = pd.read_csv(tmp_path / "out" / "findings.csv", dtype=str)
    assert list(findings.loc[findings["check"] == "exclusion_candidate", "person_id"]) == [B]


def test_a_failure_after_the_checks_leaves_no_workbook(tmp_path, monkeypatch):
    """The workbook starts on its thread as soon as the findings are final, before the
    summary; if the summary then fails, the error comes out and neither the workbook nor
    its partial file is left (as when the workbook was written last). A run that succeeds
    leaves the workbook under its own name and no partial file."""
    import jiuzhu_sim.audit.runner as runner

    data = write_county(tmp_path / "in")

    def broken(*args, **kwargs):
        raise RuntimeError("summary failed")

    monkeypatch.setattr(runner, "_summary", broken)
    with pytest.raises(RuntimeError, match="summary failed"):
        runner.run_audit(data, "2024-01", "2024-03", out_dir=tmp_path / "o", linkage=False)
    assert not list((tmp_path / "o").glob("三项清单*"))
    monkeypatch.undo()
    runner.run_audit(data, "2024-01", "2024-03", out_dir=tmp_path / "o", linkage=False)
    assert [p.name for p in (tmp_path / "o").glob("三项清单*")] == ["三项清单.xlsx"]


def _workbook_parts(path):
    import zipfile

    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_the_workbook_written_on_a_forked_process_is_the_same_file(tmp_path, monkeypatch):
    """A large audit writes 三项清单.xlsx on a process forked after the checks (the summary
    and CSVs are made beside it on another core). Forced here on a small county: every
    part of the workbook equals the one written on a thread; a failure after the fork
    kills the writer and leaves no workbook; a full disk in the writer names the
    workbook's file and leaves nothing behind."""
    import errno
    from concurrent.futures import ProcessPoolExecutor

    import jiuzhu_sim.audit.lists as lists
    import jiuzhu_sim.audit.runner as runner

    data = write_county(tmp_path / "in")
    runner.run_audit(data, "2024-01", "2024-03", out_dir=tmp_path / "thread", linkage=False)
    pools = []
    real_start = runner.start_workbook

    def recording(*args, **kwargs):
        started = real_start(*args, **kwargs)
        pools.append(started.pool)
        return started

    monkeypatch.setattr(runner, "WORKBOOK_PROCESS_ROWS", 0)
    monkeypatch.setattr(runner, "check_processes", lambda rows=None: 2)
    monkeypatch.setattr(runner, "start_workbook", recording)
    runner.run_audit(data, "2024-01", "2024-03", out_dir=tmp_path / "fork", linkage=False)
    assert isinstance(pools[-1], ProcessPoolExecutor)
    assert (_workbook_parts(tmp_path / "fork" / "三项清单.xlsx")
            == _workbook_parts(tmp_path / "thread" / "三项清单.xlsx"))
    assert not list((tmp_path / "fork").glob("*.partial"))

    def broken(*args, **kwargs):
        raise RuntimeError("summary failed")

    monkeypatch.setattr(runner, "_summary", broken)
    with pytest.raises(RuntimeError, match="summary failed"):
        runner.run_audit(data, "2024-01", "2024-03", out_dir=tmp_path / "o", linkage=False)
    assert isinstance(pools[-1], ProcessPoolExecutor)
    assert not list((tmp_path / "o").glob("三项清单*"))
    monkeypatch.undo()

    def full_disk(path, *args, **kwargs):  # inherited by the forked writer
        path.write_bytes(b"PK")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runner, "WORKBOOK_PROCESS_ROWS", 0)
    monkeypatch.setattr(runner, "check_processes", lambda rows=None: 2)
    monkeypatch.setattr(lists, "write_three_lists", full_disk)
    with pytest.raises(OSError) as caught:
        runner.run_audit(data, "2024-01", "2024-03", out_dir=tmp_path / "full",
                         linkage=False)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(tmp_path / "full" / "三项清单.xlsx.partial")
    assert not list((tmp_path / "full").glob("三项清单*"))


def test_a_failed_linkage_leaves_no_workbook(tmp_path, monkeypatch):
    """With the linkage on, the workbook (findings only) starts as soon as the checks are
    done, while the linkage still runs; if the linkage then fails, the error comes out and
    no workbook or partial file is left."""
    import jiuzhu_sim.audit.runner as runner

    data = write_county(tmp_path / "in")
    started = []
    real_start = runner.start_workbook

    def recording(*args, **kwargs):
        started.append(True)
        return real_start(*args, **kwargs)

    def failed(*args, **kwargs):
        assert started, "the workbook starts before the linkage's result is read"
        raise RuntimeError("linkage failed")

    monkeypatch.setattr(runner, "start_workbook", recording)
    monkeypatch.setattr(runner, "_review_result", failed)
    with pytest.raises(RuntimeError, match="linkage failed"):
        runner.run_audit(data, "2024-01", "2024-03", out_dir=tmp_path / "o", linkage=True)
    assert not list((tmp_path / "o").glob("三项清单*"))
