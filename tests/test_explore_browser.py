"""The explorers and the example reports in a real browser (Debian's chromium via Playwright).

- JupyterLab on a free localhost port with a token: open the scenario explorer notebook, run
  it, drag the standard-ratio slider, and check that the coverage shown becomes the value
  :class:`jiuzhu_sim.explore.ScenarioExplorer` computes for the slider's new value.
- ``jiuzhu explore audit DIR`` and ``jiuzhu explore scenario`` (Voilà, token, no code shown):
  filter the findings, select one, see its evidence rows, masked.
- Each rendered report in reports/examples/: no console errors, no broken images, no text cut
  off at 1280 px.

Screenshots go to the test's tmp_path; with ``JIUZHU_UPDATE_SCREENSHOTS=1`` the two explorer
screenshots are also copied to docs/ (docs/explore_scenario.png, docs/explore_audit.png).

Chromium is /usr/bin/chromium (``apt-get install chromium``; .ci/run installs it); no
browser is downloaded. Without it the tests skip locally and fail in CI (``CI=true``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from jiuzhu_sim.explore import ScenarioExplorer
from jiuzhu_sim.explore.serve import build_page

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AUDIT_FIXTURE = ROOT / "tests" / "fixtures" / "explore_audit"
REPORTS = sorted((ROOT / "reports" / "examples").glob("*.html"))
# small population: the browser test checks the wiring; speed is benchmarks/bench_explore.py's
REGION, DATE, HOUSEHOLDS, SEED = "350581", "2024-01-01", 2000, 11
SERVER_TIMEOUT_S = 120
WIDGET_TIMEOUT_MS = 90_000
WIDTH = 1280

pytestmark = pytest.mark.slow


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install 'jiuzhu_sim[explore]')")
    with sync_playwright() as p:
        # a chromium that is installed but cannot start is a failure, never a skip
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(runtime: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["JUPYTER_RUNTIME_DIR"] = str(runtime)  # connection files and cookie secret
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH"))
                                        if p)
    env["JIUZHU_NOTEBOOKS"] = str(ROOT / "notebooks")
    return env


class Server:
    """A server process (JupyterLab or ``jiuzhu explore``) with its log in a file."""

    def __init__(self, command: list[str], cwd: Path, log: Path, ready_url: str = "",
                 ready_text: str = ""):
        self.log = log
        self.ready_url, self.ready_text = ready_url, ready_text
        self.handle = open(log, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=cwd, env=_env(log.parent / "runtime"),
                                        stdout=self.handle,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited ({self.process.returncode}):\n"
                            + self.log.read_text(encoding="utf-8")[-3000:])
            if self.ready_text:
                if self.ready_text in self.log.read_text(encoding="utf-8"):
                    return
            else:
                try:
                    with urllib.request.urlopen(self.ready_url, timeout=5) as response:
                        if response.status == 200:
                            return
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.5)
        pytest.fail(f"server not ready in {SERVER_TIMEOUT_S} s:\n"
                    + self.log.read_text(encoding="utf-8")[-3000:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.handle.close()


def _page(browser, errors: list[str], height: int = 1000):
    page = browser.new_page(viewport={"width": WIDTH, "height": height})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def _shown_coverage(page) -> tuple[float, str]:
    cell = page.locator("td.jz-current[data-metric='coverage_rate']")
    return float(cell.get_attribute("data-value")), cell.inner_text().strip()


def _update_docs(shot: Path, name: str) -> None:
    if os.environ.get("JIUZHU_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(shot, ROOT / "docs" / name)


@pytest.fixture(scope="module")
def explore_servers(tmp_path_factory):
    """JupyterLab (both explorer notebooks, parameterised) and two ``jiuzhu explore`` pages,
    started together; each on a free port with its own token."""
    from jiuzhu_sim.report import ensure_kernel

    ensure_kernel()
    base = tmp_path_factory.mktemp("explore_servers")
    lab_dir = base / "lab"
    lab_dir.mkdir()
    build_page("scenario", {"region": REGION, "date": DATE, "households": HOUSEHOLDS,
                            "seed": SEED, "save_dir": str(lab_dir)}, lab_dir)
    servers = {}
    token = secrets.token_hex(16)
    port = _free_port()
    servers["lab"] = Server(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={lab_dir}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
         "--LabApp.news_url=", "--ServerApp.port_retries=0", "--allow-root",
         "--LabApp.expose_app_in_browser=True"],
        lab_dir, base / "lab.log", f"http://127.0.0.1:{port}/api/status?token={token}")
    servers["lab"].url = f"http://127.0.0.1:{port}/lab/tree/explore_scenarios.ipynb?token={token}"
    for kind, extra in (("audit", [str(AUDIT_FIXTURE)]),
                        ("scenario", ["--params", REGION, "--date", DATE, "--households",
                                      str(HOUSEHOLDS), "--seed", str(SEED)])):
        work = base / kind
        work.mkdir()
        token, port = secrets.token_hex(16), _free_port()
        url = f"http://127.0.0.1:{port}/?token={token}"
        servers[kind] = Server([sys.executable, "-m", "jiuzhu_sim.cli", "explore", kind, *extra,
                                "--port", str(port), "--token", token], work,
                               base / f"{kind}.log", ready_text="is running at")
        servers[kind].url = url
        servers[kind].work = work
    try:
        for server in servers.values():
            server.wait_ready()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def test_lab_scenario_slider_shows_the_coverage_the_library_computes(browser, explore_servers,
                                                                    tmp_path):
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(explore_servers["lab"].url)
    page.wait_for_selector(".jp-Notebook", timeout=WIDGET_TIMEOUT_MS)
    # Run → Run All Cells (the kernel is the project's jiuzhu_sim kernelspec)
    page.wait_for_function(KERNEL_READY, timeout=WIDGET_TIMEOUT_MS)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_selector("td.jz-current[data-metric='coverage_rate']",
                           timeout=WIDGET_TIMEOUT_MS)
    before, _ = _shown_coverage(page)
    explorer = ScenarioExplorer(REGION, DATE, households=HOUSEHOLDS, seed=SEED)
    assert before == pytest.approx(explorer.baseline["coverage_rate"], abs=1e-12)

    # drag the standard-ratio slider's handle to the right
    handle = page.locator(".jz-control-standard-ratio .noUi-handle")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    readout = page.locator(".jz-control-standard-ratio .widget-readout")
    page.wait_for_function("(before) => { const c = document.querySelector("
                           "\"td.jz-current[data-metric='coverage_rate']\"); "
                           "return c && c.dataset.value !== before; }", arg=repr(before),
                           timeout=WIDGET_TIMEOUT_MS)
    ratio = round(float(readout.inner_text()), 2)
    assert ratio > 0.48, "the drag did not move the slider to the right"
    expected = explorer.compute({"standard_ratio": ratio})["coverage_rate"]
    page.wait_for_function("(want) => document.querySelector(\"td.jz-current[data-metric="
                           "'coverage_rate']\").dataset.value === want", arg=repr(expected),
                           timeout=WIDGET_TIMEOUT_MS)
    value, text = _shown_coverage(page)
    assert value == pytest.approx(expected, abs=1e-12)
    assert text == f"{100 * expected:.2f}%"
    assert expected != pytest.approx(before)
    page.screenshot(path=str(tmp_path / "lab_scenario.png"), full_page=True)
    assert not [e for e in errors if "jz-" in e or "Traceback" in e]
    page.close()


def test_voila_audit_filter_select_and_see_masked_evidence(browser, explore_servers, tmp_path):
    errors: list[str] = []
    page = _page(browser, errors, height=1500)  # the whole explorer in the screenshot
    page.goto(explore_servers["audit"].url)
    page.wait_for_selector(".jz-audit-explorer .jz-findings select",
                           timeout=WIDGET_TIMEOUT_MS)
    assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor").count() == 0  # no code
    assert "audit_app(" not in page.content()
    assert page.locator(".jz-findings option").count() == 5
    page.select_option(".jz-filter-check select", label="deceased_paid")
    page.wait_for_function("() => document.querySelectorAll('.jz-findings option').length"
                           " === 2", timeout=WIDGET_TIMEOUT_MS)
    page.select_option(".jz-findings select", index=0)
    evidence = page.locator("table[data-evidence-of='F000000000000001']")
    evidence.wait_for(timeout=WIDGET_TIMEOUT_MS)
    rows = evidence.locator("tr")
    assert rows.count() == 3  # header + deaths.csv row 12 + payments.csv row 40
    text = evidence.inner_text()
    assert "deaths.csv" in text and "payments.csv" in text
    assert "350581********5925" in text and "350581193611075925" not in text
    detail = page.locator(".jz-detail").inner_text()
    assert "应停发并追回" in detail and "350581193611075925" not in detail
    # unmask: the full ID appears
    page.get_by_text("unmask IDs and names").click()
    page.wait_for_function("() => document.querySelector(\"table[data-evidence-of="
                           "'F000000000000001']\").innerText.includes('350581193611075925')",
                           timeout=WIDGET_TIMEOUT_MS)
    page.get_by_text("unmask IDs and names").click()
    page.wait_for_function("() => !document.querySelector(\"table[data-evidence-of="
                           "'F000000000000001']\").innerText.includes('350581193611075925')",
                           timeout=WIDGET_TIMEOUT_MS)
    shot = tmp_path / "explore_audit.png"
    page.screenshot(path=str(shot), full_page=True)
    _update_docs(shot, "explore_audit.png")
    assert errors == []
    page.close()


def test_voila_scenario_page_shows_the_explorer_without_code(browser, explore_servers,
                                                           tmp_path):
    errors: list[str] = []
    page = _page(browser, errors, height=1300)  # the whole explorer in the screenshot
    page.goto(explore_servers["scenario"].url)
    page.wait_for_selector("td.jz-current[data-metric='coverage_rate']",
                           timeout=WIDGET_TIMEOUT_MS)
    assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor").count() == 0
    assert "scenario_app" not in page.content()
    value, _ = _shown_coverage(page)
    explorer = ScenarioExplorer(REGION, DATE, households=HOUSEHOLDS, seed=SEED)
    assert value == pytest.approx(explorer.baseline["coverage_rate"], abs=1e-12)
    page.locator(".jz-scenario-explorer img").wait_for(timeout=WIDGET_TIMEOUT_MS)
    assert page.evaluate(BROKEN_IMAGES) == []
    shot = tmp_path / "explore_scenario.png"
    page.screenshot(path=str(shot), full_page=True)
    _update_docs(shot, "explore_scenario.png")
    assert errors == []
    page.close()


KERNEL_READY = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""

BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80))"""

CUT_OFF = """() => {
  const bad = [];
  const scrolls = (el) => {
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
  // a box wider than its container (outside a scrolling container)
  for (const el of document.body.querySelectorAll('*')) {
    const cs = getComputedStyle(el);
    if (cs.display.startsWith('inline') || cs.display === 'none' ||
        cs.position === 'absolute' || cs.position === 'fixed') continue;
    const parent = el.parentElement;
    const r = el.getBoundingClientRect(), pr = parent.getBoundingClientRect();
    if (r.width > 0 && r.right > pr.right + 1 && !scrolls(parent))
      bad.push(`${name(el)} is ${Math.round(r.width)} px in ${name(parent)}`);
    if ((cs.overflowX === 'hidden' || cs.overflowX === 'clip') && el.scrollWidth > el.clientWidth + 1)
      bad.push(`${name(el)} clips its content`);
  }
  // text running outside its block
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || !node.parentElement) continue;
    let block = node.parentElement;
    while (block.parentElement && getComputedStyle(block).display.startsWith('inline'))
      block = block.parentElement;
    if (scrolls(block)) continue;
    const br = block.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width > 0 && (r.right > br.right + 1 || r.left < br.left - 1)) {
        bad.push(`text "${node.textContent.trim().slice(0, 40)}" leaves ${name(block)}`);
        break;
      }
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth)
    bad.push(`the page is ${document.documentElement.scrollWidth} px wide`);
  return bad.slice(0, 10);
}"""


def test_there_are_example_reports():
    assert {p.name for p in REPORTS} >= {"audit.html", "scenario.html", "budget.html"}


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: p.name)
def test_example_report_renders_cleanly_at_1280_px(browser, report, tmp_path):
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(report.resolve().as_uri())
    page.wait_for_load_state("load")
    assert errors == [], f"console errors in {report.name}"
    assert page.evaluate(BROKEN_IMAGES) == [], f"broken images in {report.name}"
    assert page.evaluate(CUT_OFF) == [], f"text cut off in {report.name}"
    page.screenshot(path=str(tmp_path / f"{report.stem}.png"))
    page.close()
