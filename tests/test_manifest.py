"""The manifest's input digests: hashed ahead (manifest.start_hashing, started by the
command line before its heavy imports) and handed to the run that asks for them."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from jiuzhu_sim import manifest


def test_a_hash_started_ahead_is_the_one_handed_out(tmp_path):
    path = tmp_path / "persons.csv"
    path.write_bytes(b"person_id\n1\n" * 1000)
    manifest.start_hashing([path, tmp_path / "missing.csv", None])
    key = manifest._file_key(path)
    started = manifest._STARTED[key]
    handed = manifest.hash_in_background([str(path)])
    assert handed[str(path)] is started  # not hashed twice
    assert handed[str(path)].result() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert key not in manifest._STARTED  # handed out once
    # a missing file is left to the reader: nothing started for it
    assert not any(k[0].endswith("missing.csv") for k in manifest._STARTED)


def test_a_file_changed_after_its_hash_started_is_hashed_again(tmp_path):
    path = tmp_path / "households.csv"
    path.write_bytes(b"household_id\nH1\n")
    manifest.start_hashing([path])
    path.write_bytes(b"household_id\nH1\nH2\n")  # another size: another file
    digest = manifest.hash_in_background([path])[str(path)].result()
    assert digest == hashlib.sha256(b"household_id\nH1\nH2\n").hexdigest()
    manifest._STARTED.clear()


def test_the_command_line_hashes_simulate_inputs_before_importing_numpy(tmp_path):
    """`jiuzhu simulate` starts hashing its inputs while numpy, pandas and Arrow are not
    yet imported (the point of starting early); importing the command line imports none
    of them."""
    persons, households = tmp_path / "p.csv", tmp_path / "h.csv"
    persons.write_text("person_id\n1\n")
    households.write_text("household_id\nH1\n")
    code = f"""
import sys
import jiuzhu_sim.cli as cli
import jiuzhu_sim.manifest as manifest
heavy = ("numpy", "pandas", "pyarrow")
assert not any(m in sys.modules for m in heavy), [m for m in heavy if m in sys.modules]
seen = []
start = manifest.start_hashing
manifest.start_hashing = lambda paths: (seen.append(
    [any(m in sys.modules for m in heavy), [str(p) for p in paths]]), start(paths))
code = cli.main(["simulate", "--persons", {str(persons)!r}, "--households",
                 {str(households)!r}, "--out", {str(tmp_path / "out")!r}])
print(seen, code)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (f"[[False, [{str(persons)!r}, {str(households)!r}]]] 2")


def test_jiuzhu_simulate_records_the_inputs_sha256(tmp_path):
    """The digests started ahead by the command line are the files' SHA-256."""
    import json
    from pathlib import Path

    from jiuzhu_sim.cli import main

    sample = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "population"
    persons, households = sample / "persons.csv", sample / "households.csv"
    assert main(["simulate", "--persons", str(persons), "--households", str(households),
                 "--out", str(tmp_path)]) == 0
    inputs = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))[
        "manifest"]["inputs"]
    assert [(e["name"], e["sha256"]) for e in inputs] == [
        (p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in (persons, households)]
    assert not {manifest._file_key(p) for p in (persons, households)} & set(manifest._STARTED)


def test_the_audits_input_names_are_its_schemas():
    """files.AUDIT_INPUTS (what the command line hashes ahead) is the audit's own list."""
    from jiuzhu_sim.audit.io import SCHEMAS
    from jiuzhu_sim.files import AUDIT_INPUTS

    assert AUDIT_INPUTS == tuple(SCHEMAS)


def test_jiuzhu_audit_hashes_its_inputs_ahead_and_records_their_sha256(tmp_path):
    """`jiuzhu audit` starts hashing the inputs it will read (not the other files of the
    folder) before numpy is imported; the manifest records their SHA-256."""
    import json
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "audit"
    code = f"""
import sys
import jiuzhu_sim.cli as cli
import jiuzhu_sim.manifest as manifest
seen = []
start = manifest.start_hashing
manifest.start_hashing = lambda paths: (seen.append(
    ["numpy" in sys.modules, [p.name for p in paths if p is not None]]), start(paths))
code = cli.main(["audit", {str(sample)!r}, "--start", "2024-01", "--end", "2024-06",
                 "--no-linkage", "--out", {str(tmp_path / "out")!r}])
print(seen, code)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    # truth.csv and truth_linkage.csv are in the folder but are not inputs
    assert run.stdout.strip().splitlines()[-1] == (
        "[[False, ['roster.csv', 'payments.csv', 'deaths.csv', 'guardians.csv', "
        "'staff_relatives.csv', 'medical.csv', 'disability.csv', 'monitoring.csv', "
        "'households.csv', 'assistance.csv', 'alerts.csv']]] 0")
    inputs = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))[
        "manifest"]["inputs"]
    assert len(inputs) == 11
    for entry in inputs:
        assert entry["sha256"] == hashlib.sha256(
            (sample / entry["name"]).read_bytes()).hexdigest()


def test_a_fifo_given_as_input_is_not_hashed_and_the_command_still_exits(tmp_path):
    """Only regular files are hashed ahead: a FIFO would block the hashing thread for ever.
    `jiuzhu simulate` with one as its persons file gives its one-line error and exits."""
    import os

    fifo = tmp_path / "persons.csv"
    os.mkfifo(fifo)
    manifest.start_hashing([fifo])
    assert manifest._file_key(fifo) is None
    households = tmp_path / "h.csv"
    households.write_text("household_id\nH1\n")
    run = subprocess.run(
        [sys.executable, "-m", "jiuzhu_sim.cli", "simulate", "--persons", str(fifo),
         "--households", str(households), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_a_run_ending_early_does_not_wait_for_the_hashes(tmp_path, monkeypatch):
    """The hashes run on a daemon thread: a run that fails before it needs them exits
    without waiting (here the hash would take 60 s; the interpreter is left at once)."""
    path = tmp_path / "big.csv"
    path.write_text("x\n1\n")
    code = f"""
import time
import jiuzhu_sim.manifest as manifest
manifest.sha256_file = lambda p: time.sleep(60)
manifest.start_hashing([{str(path)!r}])
raise SystemExit(2)
"""
    import time

    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", code], timeout=50)
    assert run.returncode == 2 and time.perf_counter() - started < 30
