"""How the `jiuzhu` process ends (`cli.console`): with the command's exit status, its output
flushed, the atexit handlers run, and never before a non-daemon thread has finished — the
interpreter's object-by-object teardown is skipped (docs/performance.md), nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# stdout block-buffered, as it is into a pipe or file by default
BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _run(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=BUFFERED)


def test_a_finished_command_exits_with_its_status_output_flushed_and_atexit_run(tmp_path):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import atexit, sys
        atexit.register(lambda: open("atexit-ran", "w").write("yes"))
        atexit.register(lambda: sys.stdout.write("written at exit, unflushed\\n"))
        sys.stdout.write("unflushed text before the command\\n")
        from jiuzhu_sim.cli import console
        console(["params", "show", "350581", "--date", "2023-01-01"])
        open("after-console", "w").write("console returned")  # never reached
        """)], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=BUFFERED)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("unflushed text before the command\n")
    assert any(line.startswith("dibao.standard ") for line in done.stdout.splitlines())
    assert (tmp_path / "atexit-ran").read_text() == "yes"
    assert done.stdout.endswith("written at exit, unflushed\n")
    assert not (tmp_path / "after-console").exists()


def test_a_user_error_keeps_exit_status_2_and_its_one_line(tmp_path):
    done = _run("""
        from jiuzhu_sim.cli import console
        console(["params", "show", "nowhere"])
        """, tmp_path)
    assert done.returncode == 2
    assert "unknown region" in done.stderr and "Traceback" not in done.stderr


def test_the_exit_waits_for_a_running_non_daemon_thread(tmp_path):
    # a normal exit joins non-daemon threads before it ends; so does console's
    done = _run("""
        import threading, time
        def late():
            time.sleep(0.5)
            open("thread-finished", "w").write("yes")
        threading.Thread(target=late).start()
        from jiuzhu_sim.cli import console
        console(["params", "show", "350581", "--date", "2023-01-01"])
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "thread-finished").read_text() == "yes"


def test_python_dash_m_runs_the_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "jiuzhu_sim", "params", "show", "350581",
                           "--date", "2023-01-01"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "dibao.standard" in done.stdout


@pytest.mark.parametrize("closed", ["1", "2"])
def test_a_closed_stdout_or_stderr_is_still_exit_0(tmp_path, closed):
    # started with the descriptor closed, Python's sys.stdout (or stderr) is None; print()
    # then writes nothing, and the command still succeeds, as with a normal exit
    done = subprocess.run(["sh", "-c", f'"$0" -m jiuzhu_sim params show 350581 --date '
                           f'2023-01-01 {closed}>&-', sys.executable], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=BUFFERED)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
