"""``jiuzhu explore scenario|audit``: serve an explorer notebook as a page with Voilà.

The notebook (``notebooks/explore_scenarios.ipynb`` or ``notebooks/explore_audit.ipynb``) is
copied into a temporary folder with the command's values injected after its ``parameters``
cell (papermill's parameterisation, as ``jiuzhu report`` does), and Voilà serves that copy on
127.0.0.1 with a token, code cells hidden. The page runs in the ``jiuzhu_sim`` kernel.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from jiuzhu_sim.exceptions import UserInputError

NOTEBOOKS = {"scenario": "explore_scenarios.ipynb", "audit": "explore_audit.ipynb"}
DEFAULT_PORT = 8866  # Voilà's own default
HOST = "127.0.0.1"
TEMPLATE = "jiuzhu"  # explore/jupyter/voila/templates/jiuzhu: lab without CDN stylesheets
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter"


def require_explore_dependencies() -> None:
    """One line naming the install command when the optional group is missing."""
    missing = []
    for module in ("voila", "ipywidgets"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise UserInputError(f"jiuzhu explore needs {', '.join(missing)}: pip install "
                             "'jiuzhu_sim[explore]' (make venv installs it)")


def explorer_parameters(kind: str, *, audit_dir: Path | str | None = None,
                        region: str | None = None, date: str | None = None,
                        households: int | None = None, seed: int | None = None,
                        work_dir: Path | str = ".", mask: bool = True) -> dict[str, Any]:
    """The notebook parameters for ``kind``; a bad folder or size is a one-line error."""
    work_dir = str(Path(work_dir).resolve())
    if kind == "audit":
        if audit_dir is None:
            raise UserInputError("jiuzhu explore audit needs AUDIT_OUT_DIR (the folder "
                                 "jiuzhu audit --out wrote)")
        from jiuzhu_sim.explore.audit import AuditExplorer

        AuditExplorer(audit_dir)  # fail here, in one line, rather than in the page
        return {"audit_dir": str(Path(audit_dir).resolve()), "mask": bool(mask),
                "export_dir": work_dir}
    if kind != "scenario":
        raise UserInputError(f"unknown explorer {kind!r} (one of {', '.join(NOTEBOOKS)})")
    if audit_dir is not None:
        raise UserInputError("jiuzhu explore scenario takes no folder (did you mean "
                             "jiuzhu explore audit DIR?)")
    params: dict[str, Any] = {"save_dir": work_dir}
    if region:
        from jiuzhu_sim.exceptions import ParameterError
        from jiuzhu_sim.parameters import find_region

        try:
            params["region"] = find_region(region).code
        except ParameterError as exc:
            raise UserInputError(exc.one_line(), column="--params") from None
    if date:
        params["date"] = str(date)
    if households is not None:
        if households < 1:
            raise UserInputError(f"--households {households}: must be at least 1")
        params["households"] = int(households)
    if seed is not None:
        params["seed"] = int(seed)
    return params


def build_page(kind: str, parameters: dict[str, Any], folder: Path | str) -> Path:
    """The explorer notebook with ``parameters`` injected, written into ``folder``."""
    import nbformat

    from jiuzhu_sim.report import notebook_dir

    source = notebook_dir() / NOTEBOOKS[kind]
    if not source.is_file():
        raise UserInputError("explorer notebook not found (set JIUZHU_NOTEBOOKS to the "
                             "notebooks folder of the source tree)", file=str(source))
    nb = nbformat.read(str(source), as_version=4)
    at = next(i for i, cell in enumerate(nb.cells)
              if "parameters" in cell.metadata.get("tags", []))
    # values as Python literals (repr): region codes stay strings, as papermill does it
    lines = ["# injected by jiuzhu explore"] + [f"{k} = {v!r}" for k, v in parameters.items()]
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
        "\n".join(lines), metadata={"tags": ["injected-parameters"]}))
    out = Path(folder) / NOTEBOOKS[kind]
    nbformat.write(nb, str(out))
    return out


def voila_command(notebook: Path, port: int, token: str) -> list[str]:
    """Voilà serving one notebook on 127.0.0.1:port with a token, sources stripped."""
    return [sys.executable, "-m", "voila", str(notebook), f"--port={int(port)}",
            "--no-browser", f"--Voila.ip={HOST}", f"--token={token}",
            "--VoilaConfiguration.strip_sources=True", f"--template={TEMPLATE}"]


def voila_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Voilà runs in: our template folder on JUPYTER_PATH, and this
    package's source first on the kernel's PYTHONPATH (a source checkout included)."""
    env = dict(os.environ if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(JUPYTER_DATA),
                                                      env.get("JUPYTER_PATH")) if p)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def serve(kind: str, *, port: int = DEFAULT_PORT, token: str | None = None,
          **params: Any) -> int:
    """Build the page and run Voilà in the foreground until interrupted (Ctrl-C)."""
    require_explore_dependencies()
    if not 0 < int(port) < 65536:
        raise UserInputError(f"--port {port}: must be 1–65535")
    parameters = explorer_parameters(kind, **params)
    from jiuzhu_sim.report import ensure_kernel

    ensure_kernel()
    token = token or secrets.token_hex(16)
    folder = Path(tempfile.mkdtemp(prefix=f"jiuzhu_explore_{kind}_"))
    try:
        page = build_page(kind, parameters, folder)
        url = f"http://{HOST}:{port}/?token={token}"
        print(f"jiuzhu explore {kind}: {url}  (Ctrl-C stops)", flush=True)
        process = subprocess.Popen(voila_command(page, port, token), cwd=folder,
                                   env=voila_environment())
        # stopped by SIGTERM (kill, a service manager, a test's teardown) as by Ctrl-C:
        # Python's default would exit at once, leaving Voilà and its kernels running and
        # the page folder behind
        previous = _stop_on_sigterm()
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            return 0
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _stop_on_sigterm():
    """Make SIGTERM raise KeyboardInterrupt (in the main thread; elsewhere signals cannot
    be handled); the previous handler, or None when not installed."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)
