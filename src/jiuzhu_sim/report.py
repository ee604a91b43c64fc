"""Rendered reports (报告): papermill runs a notebook, nbconvert renders it to HTML.

``jiuzhu report {audit|scenario|budget} [SOURCE] --out FILE.html`` (CONTRACT §1):

1. the command's arguments become notebook parameters, validated here as Python values of
   fixed types — region codes and IDs stay **strings** (papermill's CLI and unquoted YAML
   would turn ``010101`` into an int), so papermill is called through its Python API;
2. papermill executes ``notebooks/<kind>.ipynb`` with an explicit kernel (the project's
   ``jiuzhu_sim`` kernelspec, installed on demand for this interpreter) and keeps the
   executed notebook beside the HTML (``FILE.ipynb``) — also when a cell fails;
3. nbconvert's HTML exporter renders it **without input cells or prompts**;
4. the notebook records the numbers it shows in ``FILE_files/report_values.json`` (a JSON
   sidecar instead of the unmaintained scrapbook); tests compare those for reproducibility.

With no data arguments each report runs on the built-in synthetic county. The notebooks
are thin: the small table and estimate helpers they call live below (and charts in
:mod:`jiuzhu_sim.plotting`); policy lives in the library modules, not here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim.exceptions import JiuzhuError, UserInputError
from jiuzhu_sim.rules import engine

NOTEBOOKS = {
    "audit": "audit_lookback.ipynb",
    "scenario": "scenario_analysis.ipynb",
    "budget": "budget_estimate.ipynb",
}
KERNEL_NAME = "jiuzhu_sim"
VALUES_FILE = "report_values.json"
DEFAULT_SCENARIOS = ("dibao_standard_48.yaml", "dibao_48_percent.yaml")
DEFAULT_REGION = "350581"
DEFAULT_SEED = 20240101
EXIT_CELL_FAILED = 1
EXIT_USER_ERROR = 2

# Parameters every notebook declares in its cell tagged ``parameters``, with their types.
PARAMETER_TYPES: dict[str, type] = {
    "data_dir": str,        # audit: inputs folder; budget: folder with persons/households
    "scenario_file": str,   # scenario: SCENARIO.yaml ("" = the default scenario)
    "region": str,          # region code or name, always a string
    "start": str,           # audit period, YYYY-MM ("" = synthetic default window)
    "end": str,
    "date": str,            # parameter date, YYYY-MM-DD ("" = the library's default)
    "years": str,           # budget: "YYYY:YYYY" ("" = the base year and two more)
    "overrides": list,      # ["dotted.name=value", ...]
    "seed": int,
    "households": int,      # synthetic size (0 = the parameter default)
    "replications": int,    # scenario/budget replications (0 = the file's or default)
    "mask": bool,           # mask IDs and names in what the notebook shows
    "output_dir": str,      # where the notebook writes its outputs and the JSON sidecar
    "command": str,         # the command line, for the manifest
}


class ReportCellError(JiuzhuError):
    """A notebook cell failed; ``one_line()`` names the cell and its error."""

    def __init__(self, kind: str, cell: int | None, ename: str, evalue: str, notebook: Path):
        self.kind, self.cell, self.ename, self.evalue = kind, cell, ename, evalue
        self.notebook = notebook
        super().__init__(self.one_line())

    @property
    def user_error(self) -> bool:
        return self.ename in ("UserInputError", "ParameterError")

    def one_line(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "a cell"
        text = (f"{self.kind} report: {where} failed: {self.ename}: {self.evalue} "
                f"(partial notebook kept: {self.notebook})")
        return " ".join(text.split())


@dataclasses.dataclass
class RenderedReport:
    """Paths of a rendered report and the values its notebook recorded."""

    html: Path
    notebook: Path
    output_dir: Path
    values: dict[str, Any]
    seconds: float


# ---------------------------------------------------------------------------------------
# Locating notebooks and the kernel


def notebook_dir() -> Path:
    """``notebooks/`` of the source tree (``JIUZHU_NOTEBOOKS`` overrides)."""
    env = os.environ.get("JIUZHU_NOTEBOOKS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "notebooks"


def notebook_path(kind: str) -> Path:
    if kind not in NOTEBOOKS:
        raise UserInputError(f"unknown report {kind!r} (one of {', '.join(NOTEBOOKS)})")
    path = notebook_dir() / NOTEBOOKS[kind]
    if not path.is_file():
        raise UserInputError("report notebook not found (set JIUZHU_NOTEBOOKS to the "
                             "notebooks folder of the source tree)", file=str(path))
    return path


def _spec_python(spec_dir: str) -> str | None:
    try:
        argv = json.loads((Path(spec_dir) / "kernel.json").read_text(encoding="utf-8"))["argv"]
    except (OSError, ValueError, KeyError):
        return None
    return argv[0] if argv else None


def ensure_kernel() -> str:
    """The kernel name to run reports with.

    The ``jiuzhu_sim`` kernelspec (``make venv`` installs it into the venv) when jupyter
    finds one whose interpreter exists; otherwise one is installed for this interpreter
    into ``sys.prefix`` (or the user's folder if the prefix is read-only).
    """
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if KERNEL_NAME in specs:
        python = _spec_python(specs[KERNEL_NAME])
        if python and (Path(python).exists() or python == "python"):
            return KERNEL_NAME
    from ipykernel.kernelspec import install

    try:
        install(kernel_name=KERNEL_NAME, display_name="Python (jiuzhu_sim)", prefix=sys.prefix)
    except OSError:
        install(kernel_name=KERNEL_NAME, display_name="Python (jiuzhu_sim)", user=True)
    return KERNEL_NAME


# ---------------------------------------------------------------------------------------
# Parameters


def default_scenario_file() -> Path | None:
    """The scenario a report runs when none is given (``params/scenarios/``)."""
    from jiuzhu_sim.parameters import default_params_dir

    folder = default_params_dir() / "scenarios"
    for name in DEFAULT_SCENARIOS:
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("*.yaml"))
    return found[0] if found else None


def notebook_parameters(**given: Any) -> dict[str, Any]:
    """Validated notebook parameters: known names, fixed types, strings stay strings."""
    out: dict[str, Any] = {}
    for name, value in given.items():
        if name not in PARAMETER_TYPES:
            raise UserInputError(f"unknown report parameter {name!r}")
        kind = PARAMETER_TYPES[name]
        if value is None:
            value = kind()
        if kind is str:
            if isinstance(value, Path):
                value = str(value)
            if not isinstance(value, str):  # 010101 as an int has lost its zeros already
                raise UserInputError(f"report parameter {name}: expected a string, got "
                                     f"{type(value).__name__} {value!r}")
        elif kind is bool:
            if not isinstance(value, bool | np.bool_):
                raise UserInputError(f"report parameter {name}: expected true/false")
            value = bool(value)
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise UserInputError(f"report parameter {name}: expected an integer, "
                                     f"got {value!r}")
            value = int(value)
        elif kind is list:
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise UserInputError(f"report parameter {name}: expected a list of KEY=VALUE")
            value = [str(v) for v in value]
            for item in value:
                if "=" not in item:
                    raise UserInputError(f"--set {item!r}: expected KEY=VALUE")
        out[name] = value
    for name in ("start", "end"):
        if out.get(name) and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", out[name]):
            raise UserInputError(f"--{name} {out[name]!r} is not YYYY-MM")
    if out.get("date") and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", out["date"]):
        raise UserInputError(f"--date {out['date']!r} is not YYYY-MM-DD")
    if out.get("years") and not re.fullmatch(r"\d{4}:\d{4}", out["years"]):
        raise UserInputError(f"--years {out['years']!r} is not YYYY:YYYY")
    return out


def _check_sources(kind: str, p: dict[str, Any]) -> None:
    """User mistakes caught before a kernel starts (one line, exit 2)."""
    from jiuzhu_sim.parameters import load_parameters

    if kind == "audit":
        if p.get("data_dir"):
            if not Path(p["data_dir"]).is_dir():
                raise UserInputError("audit data folder not found", file=p["data_dir"])
            if not (p.get("start") and p.get("end")):
                raise UserInputError("report audit DATA_DIR needs --start and --end (YYYY-MM)")
        elif bool(p.get("start")) != bool(p.get("end")):
            raise UserInputError("give both --start and --end, or neither")
        if p.get("start") and p.get("end") and p["end"] < p["start"]:
            raise UserInputError(f"--end {p['end']} is before --start {p['start']}")
    if kind == "scenario":
        from jiuzhu_sim.scenario import load_scenario

        if p.get("scenario_file"):
            load_scenario(p["scenario_file"])  # raises UserInputError naming the key
        elif default_scenario_file() is None:
            raise UserInputError("no scenario file given and none in params/scenarios/")
    if kind == "budget" and p.get("data_dir") and not Path(p["data_dir"]).is_dir():
        raise UserInputError("population folder not found", file=p["data_dir"])
    if kind != "scenario" or not p.get("scenario_file"):
        load_parameters(p.get("region") or DEFAULT_REGION, p.get("date") or None,
                        p.get("overrides") or [])


# ---------------------------------------------------------------------------------------
# Render


def render_report(kind: str, out: Path | str, *, source: Path | str | None = None,
                  start: str | None = None, end: str | None = None, region: str | None = None,
                  date: str | None = None, overrides: Iterable[str] = (),
                  seed: int = DEFAULT_SEED, unmask: bool = False, years: str | None = None,
                  households: int = 0, replications: int = 0, notebook: Path | None = None,
                  kernel_name: str | None = None, extra: Mapping[str, Any] | None = None,
                  ) -> RenderedReport:
    """Execute the ``kind`` notebook with these parameters and render ``out`` (HTML).

    ``source``: audit DATA_DIR, scenario SCENARIO.yaml or budget population folder (None:
    the built-in synthetic county). Writes ``out``, ``out`` with suffix ``.ipynb`` and the
    notebook's output folder ``<stem>_files/`` (machine outputs and ``report_values.json``).
    Raises :class:`ReportCellError` when a cell fails (the partial notebook is kept).
    """
    import papermill

    started = time.perf_counter()
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UserInputError("--out must name an .html file", file=str(out))
    output_dir = out.parent / f"{out.stem}_files"
    given: dict[str, Any] = {
        "region": _region_argument(region) or ("" if kind == "scenario" else DEFAULT_REGION), "start": start, "end": end, "date": date,
        "overrides": list(overrides), "seed": seed, "mask": not unmask,
        "households": households, "replications": replications,
        "output_dir": str(output_dir.resolve()),
        "command": " ".join(sys.argv) if Path(sys.argv[0]).name == "jiuzhu"
        else f"jiuzhu report {kind}",
    }
    if kind == "scenario":
        given["scenario_file"] = str(Path(source).resolve()) if source else ""
    elif source is not None:
        given["data_dir"] = str(Path(source).resolve())
    if kind == "budget":
        given["years"] = years or ""
    given.update(extra or {})
    params = notebook_parameters(**given)
    if notebook is None:  # a custom notebook checks its own inputs
        _check_sources(kind, params)
    nb_in = Path(notebook) if notebook is not None else notebook_path(kind)
    out.parent.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / VALUES_FILE).unlink(missing_ok=True)
    nb_out = out.with_suffix(".ipynb")
    kernel = kernel_name or ensure_kernel()
    try:
        with _stderr_to(output_dir / "kernel.log"):
            papermill.execute_notebook(str(nb_in), str(nb_out), parameters=params,
                                       kernel_name=kernel, progress_bar=False,
                                       log_output=False, cwd=str(out.parent.resolve()))
    except papermill.PapermillExecutionError as exc:
        evalue = str(exc.evalue).strip().splitlines()
        raise ReportCellError(kind, exc.exec_count, exc.ename,
                              evalue[-1] if evalue else "", nb_out) from None
    write_html(nb_out, out)
    values_path = output_dir / VALUES_FILE
    values = json.loads(values_path.read_text(encoding="utf-8")) if values_path.is_file() else {}
    return RenderedReport(out, nb_out, output_dir, values, time.perf_counter() - started)


def _region_argument(region: str | None) -> str | None:
    """``--params``: a region code or name as given; a YAML file made absolute from the
    caller's working folder (the notebook runs in another folder)."""
    if region and Path(region).suffix.lower() in (".yaml", ".yml"):
        return str(Path(region).expanduser().resolve())
    return region


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Send this process's stderr (file descriptor 2, inherited by the kernel) to ``path``:
    the kernel's start-up chatter goes to a log beside the report, not the user's terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def write_html(nb_path: Path, html_path: Path) -> Path:
    """Render an executed notebook to HTML without input cells or prompts."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(nb_path), as_version=4)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    title = next((line[2:].strip() for cell in nb.cells if cell.cell_type == "markdown"
                  for line in cell.source.splitlines() if line.startswith("# ")), "jiuzhu_sim")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    html_path.write_text(offline_page(add_contents_and_styles(body)), encoding="utf-8")
    return html_path


_REMOTE_SCRIPT = re.compile(r'<script src="https?://[^"]*"[^>]*>\s*</script>\s*')
_FIT_CSS = ("<style>/* jiuzhu_sim: wide tables scroll, long code wraps (no text cut off) */\n"
            ".jp-RenderedHTMLCommon table {display: block; max-width: 100%; overflow-x: auto;}\n"
            ".jp-RenderedHTMLCommon code {overflow-wrap: anywhere; white-space: pre-wrap;}\n"
            "</style>\n</head>")


def offline_page(html_text: str) -> str:
    """A rendered report that opens offline (no CDN scripts: require.js and MathJax, which
    the reports do not use, fail on a machine without internet) and fits a 1280-px screen
    (tests/test_explore_browser.py loads each example report in chromium)."""
    return _REMOTE_SCRIPT.sub("", html_text).replace("</head>", _FIT_CSS, 1)


# ---------------------------------------------------------------------------------------
# Tables and pages as shown: no pandas index, formatted numbers, wide tables scroll in
# their box, a contents list and a print stylesheet

TABLE_MAX_ROWS = 200
_PERCENT_LABEL = re.compile(r"rate|share|率|比例|占比|FGT", re.IGNORECASE)
_MONEY_LABEL = re.compile(r"元|yuan|cost|amount|benefit|transfer|change|金额|支出|资金|"
                          r"floor|cap\b|planned|^p\d+$|下限|上限|计划", re.IGNORECASE)
_PLAIN_LABEL = re.compile(r"year|年份|seed|种子|code|代码|_id$|编号|decile|十分位|period|"
                          r"月份|since|date|日期|grade|等级|row|行号", re.IGNORECASE)


def _label_kind(label: object, values: pd.Series) -> str:
    """How a column (or, in a metric-per-row table, a row) of numbers is shown: "plain"
    (years, codes), "percent" (rates and shares in [−1.5, 1.5]), "money" (#,##0.00) or
    "number" (#,##0 for whole numbers, else #,##0.00)."""
    text = str(label)
    numbers = pd.to_numeric(values, errors="coerce")
    finite = numbers[np.isfinite(numbers.astype(float))] if len(numbers) else numbers
    if _PLAIN_LABEL.search(text):
        return "plain"
    if _PERCENT_LABEL.search(text) and len(finite) and finite.abs().max() <= 1.5:
        return "percent"
    if _MONEY_LABEL.search(text):
        return "money"
    return "number"


def format_number(value: object, kind: str) -> str:
    """One cell as shown: ``0.8095`` → ``80.95%`` (percent), ``1234567.8`` →
    ``1,234,567.80`` (money, decimal), ``12000`` → ``12,000`` (number), ``0.425`` →
    ``0.425`` (small), ``2025`` → ``2025`` (plain)."""
    if value is None or isinstance(value, str):
        return "—" if value in (None, "") else value
    if isinstance(value, bool | np.bool_):
        return "是 yes" if value else "否 no"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "—"
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    whole = number == round(number)
    if kind == "plain":
        return str(int(number)) if whole else f"{number:g}"
    if kind == "percent":
        return f"{number * 100:,.2f}%"
    if kind == "money" or kind == "decimal":
        return f"{number:,.2f}" if abs(number) >= 0.01 or number == 0 else f"{number:.4g}"
    if kind == "small" or (not whole and abs(number) < 1):
        return f"{number:.4g}"  # a ratio such as 0.425 keeps its digits
    if not whole:
        return f"{number:,.2f}"
    return f"{int(number):,}"


def _is_numeric_cell(value: object) -> bool:
    return (isinstance(value, int | float | np.integer | np.floating)
            and not isinstance(value, bool | np.bool_))


def table_html(frame: pd.DataFrame, max_rows: int = TABLE_MAX_ROWS) -> str:
    """A frame as an HTML table for a report: no positional index (a labelled index
    becomes the first column), numbers right-aligned and formatted by their column's label
    (or by ``frame.attrs["row_kinds"]`` when each row is one metric), every text escaped,
    inside a box that scrolls sideways when the table is wider than the page."""
    import html as _html

    frame = frame.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [" ".join(str(x) for x in c if str(x)) for c in frame.columns]
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        names = [n for n in frame.index.names if n is not None]
        frame = frame.reset_index()
        if not names:  # an unnamed label index (metric names): first column, no header
            frame = frame.rename(columns={frame.columns[0]: ""})
    shown, more = frame.iloc[:max_rows], max(0, len(frame) - max_rows)
    column_kinds = [_label_kind(c, shown[c]) for c in shown.columns]
    for j, column in enumerate(shown.columns):  # one number style down a column
        numbers = pd.to_numeric(shown[column], errors="coerce").to_numpy(dtype=float)
        numbers = numbers[np.isfinite(numbers)]
        if column_kinds[j] == "number" and len(numbers) and (numbers != np.round(numbers)).any():
            column_kinds[j] = "small" if np.abs(numbers).max() < 10 else "decimal"
    # a metric-per-row table (columns are variants or years) says how each row is shown
    row_kinds = list(frame.attrs.get("row_kinds") or [])[:max_rows]
    head = "".join(f"<th>{_html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for i, row in enumerate(shown.itertuples(index=False)):
        cells = []
        for j, value in enumerate(row):
            if _is_numeric_cell(value):
                kind = row_kinds[i] if i < len(row_kinds) else column_kinds[j]
                cells.append(f'<td class="num">{_html.escape(format_number(value, kind))}</td>')
            else:
                text = format_number(value, "plain")
                short = ' class="short"' if len(text) <= 24 else ""  # dates, codes: one line
                cells.append(f"<td{short}>{_html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = (f'<p class="jz-more">… 另有 {more:,} 行未显示 {more:,} more rows not shown</p>'
            if more else "")
    return ('<div class="jz-table-wrap"><table class="jz-table"><thead><tr>' + head
            + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>" + note)


def _register_table_formatter() -> None:
    """Make IPython show every DataFrame with :func:`table_html` (no index, formatted)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, table_html)


REPORT_CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif; }
.jp-Notebook, main { max-width: 1180px; margin: 0 auto; }
.jz-table-wrap { max-width: 100%; overflow-x: auto; margin: 0.4em 0 1em; }
.jp-RenderedHTMLCommon table.jz-table, table.jz-table { border-collapse: collapse;
  font-size: 13px; table-layout: auto; margin: 0; display: table; max-width: none; }
.jp-RenderedHTMLCommon table.jz-table th, table.jz-table th { background: #e9eef6;
  text-align: left; vertical-align: bottom; }
.jp-RenderedHTMLCommon table.jz-table th, .jp-RenderedHTMLCommon table.jz-table td,
table.jz-table th, table.jz-table td { border: 1px solid #d0d7e2; padding: 3px 8px;
  text-align: left; vertical-align: top; max-width: 40em; }
.jp-RenderedHTMLCommon table.jz-table td.num, table.jz-table td.num { text-align: right;
  font-variant-numeric: tabular-nums; white-space: nowrap; }
.jp-RenderedHTMLCommon table.jz-table td.short, table.jz-table td.short { white-space: nowrap; }
table.jz-table tbody tr:nth-child(even) { background: #f7f9fc; }
.jz-more { color: #666; font-size: 12px; }
nav.jz-toc { border: 1px solid #d0d7e2; background: #f7f9fc; padding: 0.5em 1.2em;
  margin: 1em 0; max-width: 760px; }
nav.jz-toc h2 { font-size: 1.05em; margin: 0.3em 0; }
nav.jz-toc ul { margin: 0.2em 0 0.4em; padding-left: 0.4em; list-style: none; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
@media print {
  @page { size: A4; margin: 14mm 12mm 16mm; }
  body { font-size: 10pt; }
  .jp-Notebook, main { max-width: none; padding: 0; }
  a.anchor-link { display: none; }
  .jz-table-wrap { overflow: visible; }
  table.jz-table { font-size: 8pt; width: 100%; }
  table.jz-table td, table.jz-table th, table.jz-table td.num,
  table.jz-table td.short { padding: 1px 4px; white-space: normal; }
  thead { display: table-header-group; }
  tr, img, nav.jz-toc { page-break-inside: avoid; break-inside: avoid; }
  h1, h2, h3 { page-break-after: avoid; break-after: avoid; }
  nav.jz-toc { background: none; }
}
"""

_H2 = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.DOTALL)


def add_contents_and_styles(page: str) -> str:
    """The rendered page with the report stylesheet (screen and print) in its head and a
    contents list (目录) of its second-level headings before the first of them."""
    import html as _html

    entries = []
    for anchor, inner in _H2.findall(page):
        text = re.sub(r"<[^>]+>", "", inner).replace("¶", "").strip()
        entries.append(f'<li><a href="#{anchor}">{_html.escape(_html.unescape(text))}</a></li>')
    page = page.replace("</head>", f"<style>{REPORT_CSS}</style>\n</head>", 1)
    first = page.find("<h2 ")
    if len(entries) >= 2 and first >= 0:
        cell = page.rfind('<div class="jp-Cell', 0, first)
        at = cell if cell >= 0 else first
        toc = ('<nav class="jz-toc" aria-label="目录 Contents"><h2>目录 Contents</h2><ul>'
               + "".join(entries) + "</ul></nav>\n")
        page = page[:at] + toc + page[at:]
    return page


_ABSOLUTE_PATH = re.compile(r"(?:(?<=\s)|^)(?:/|[A-Za-z]:\\)[^\s'\"]*")


def without_absolute_paths(text: object) -> str:
    """Text (a command line, a file) with every absolute path cut to its file name: a
    report never shows the folders of the machine it was made on."""
    return _ABSOLUTE_PATH.sub(lambda m: Path(m.group(0).rstrip("/\\")).name
                              or m.group(0), "" if text is None else str(text))


def sample_note(households: int, replications: int, seed: int | None = None,
                crn: bool = False) -> str:
    """The one line that goes with every simulated figure: sample size and replications."""
    text = (f"模拟样本 Simulated sample: {int(households):,} 户 households × "
            f"{int(replications):,} 次 replications")
    if crn:
        text += "，各方案共用随机数 common random numbers across variants"
    if seed is not None:
        text += f"，种子 seed {seed}"
    return text


# ---------------------------------------------------------------------------------------
# Helpers the notebooks call (thin notebooks: tables and numbers are made here)


def setup_notebook() -> None:
    """Fonts for charts, pandas display options, and no tqdm widget warning in reports
    (the library's progress bars are off in notebooks)."""
    import warnings

    from jiuzhu_sim.plotting import setup_fonts

    warnings.filterwarnings("ignore", message="IProgress not found")

    setup_fonts()
    _register_table_formatter()
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 120)
    pd.set_option("display.float_format", lambda v: f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def safe(value: Any) -> str:
    """A value from a file (scenario description, folder or region name, a person's name)
    made inert for a notebook's Markdown and the HTML report: HTML special characters
    escaped (``<img onerror=…>`` shows as text) and Markdown punctuation backslash-escaped
    (no links, emphasis or code spans)."""
    import html

    text = _MD_SPECIAL.sub(r"\\\1", "" if value is None else str(value))
    return html.escape(text, quote=False).replace("\n", " ")


def load_report_parameters(region: str, date: str = "", overrides: Iterable[str] = ()):
    from jiuzhu_sim.parameters import load_parameters

    return load_parameters(region or DEFAULT_REGION, date or None, list(overrides))


_ID_SEP = "[ \\-\u2010-\u2015\u2212_'\u200b-\u200d\u2060\ufeff\u00a0\u3000]?"
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d(?:" + _ID_SEP + r"\d){13,16}" + _ID_SEP
                         + r"[0-9Xx](?![0-9A-Za-z])")
"""A resident ID (15–18 characters) in free text, also written with separators or invisible
characters between its digits (350524-194502276418, 350524 1945 0227 6418)."""


def _mask_id_match(match: re.Match) -> str:
    chars = re.sub(r"[^0-9Xx]", "", match.group(0))
    return chars[:6] + "*" * (len(chars) - 10) + chars[-4:]


def mask_text(text: object, names: Iterable[str] = ()) -> str:
    """Free text (a finding's ``detail``) with resident IDs and the given names masked:
    ``系工作人员 余辉红（350581200005163960）`` → ``系工作人员 余**（350581********3960）``."""
    from jiuzhu_sim.privacy import mask_name

    out = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    out = _ID_IN_TEXT.sub(_mask_id_match, out)
    for name in sorted({n for n in names if isinstance(n, str) and len(n) > 1}, key=len,
                       reverse=True):
        if name in out:
            out = out.replace(name, mask_name(name))
    return out


def masked(frame: pd.DataFrame, mask: bool = True, names: Iterable[str] = ()) -> pd.DataFrame:
    """Frame as shown in a report: IDs and names masked unless ``mask`` is False (§7) —
    every column :func:`jiuzhu_sim.privacy.column_kind` calls personal (``person_id``,
    ``name_left``, ``person_id_right``, …), ``key_fields`` field by field, and inside the
    other text columns (``detail``) resident IDs and names: ``names`` plus those of the
    frame's own name columns."""
    from jiuzhu_sim.privacy import mask_frame, personal_columns

    if not mask:
        return frame
    out = mask_frame(frame)
    personal = personal_columns(frame)
    known = set(names)
    for col, kind in personal.items():
        if kind == "name":
            known.update(frame[col].dropna().astype(str))
    for col in out.columns:
        if col in personal:
            continue
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = [mask_text(v, known) for v in out[col]]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return _plain(value.to_dict(orient="records"))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, 6)
    if isinstance(value, dt.date | Path):
        return str(value)
    return value


def write_values(output_dir: Path | str, values: Mapping[str, Any]) -> Path:
    """Record the numbers a report shows in ``report_values.json`` (sorted keys)."""
    path = Path(output_dir) / VALUES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(values), ensure_ascii=False, indent=2, sort_keys=True),
                    encoding="utf-8")
    return path


def manifest_tables(manifest: Mapping[str, Any] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scope: key/value rows, inputs: name/bytes/sha256 rows) from a manifest (§7)."""
    manifest = manifest or {}
    keys = ("package", "version", "started", "seed", "parameters_sha256", "command")
    # a command line names files by their path on the machine that ran it: names only here
    scope = pd.DataFrame([{"项目 item": k, "值 value": without_absolute_paths(
        manifest.get(k, ""))} for k in keys])
    params = manifest.get("parameters") or {}
    if isinstance(params, Mapping):
        for k in ("region_code", "region_name", "date"):
            if k in params:
                scope.loc[len(scope)] = [f"parameters.{k}", str(params[k])]
    inputs = pd.DataFrame(manifest.get("inputs") or [], columns=["name", "bytes", "sha256"])
    inputs["name"] = [without_absolute_paths(n) for n in inputs["name"]]
    return scope, inputs[["name", "bytes", "sha256"]]


def parameter_table(params, names: Iterable[str]) -> pd.DataFrame:
    """Selected parameter values with unit and reference."""
    rows = {r["name"]: r for r in params.to_records()}
    return pd.DataFrame([{"name": n, "value": rows[n]["value"], "unit": rows[n].get("unit", ""),
                          "reference": rows[n].get("reference", "")}
                         for n in names if n in rows])


# --- audit ------------------------------------------------------------------------------


def audit_parameters(region: str, date: str, overrides: Iterable[str], end: str):
    """Parameters of an audit: on ``date``, or on the last day of the audit's end month."""
    if not date and end:
        date = pd.Period(end, freq="M").to_timestamp(how="end").date().isoformat()
    return load_report_parameters(region, date, overrides)


def prepare_audit_data(data_dir: str, output_dir: Path | str, params, *, seed: int,
                       households: int = 0, start: str = "", end: str = ""
                       ) -> tuple[Path, str, str, bool]:
    """(data folder, start, end, synthetic?) — the given folder, or the built-in synthetic
    county written (once per settings) into ``output_dir/synthetic_county``."""
    if data_dir:
        return Path(data_dir), start, end, False
    from jiuzhu_sim.audit import synth

    if not (start and end):
        last = str(params["audit_synth.default_end_month"])
        months = int(params["audit_synth.default_months"])
        end_p = pd.Period(last, freq="M")
        start, end = str(end_p - (months - 1)), str(end_p)
    folder = Path(output_dir) / "synthetic_county"
    key = {"region": params.region_code, "parameters": params.sha256(), "seed": seed,
           "households": households, "start": start, "end": end}
    stamp = folder / "cache_key.json"
    if not (stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) == key):
        synth.write_audit_data(folder, params, n_households=households or None, seed=seed,
                               start=start, end=end)
        stamp.write_text(json.dumps(key, sort_keys=True), encoding="utf-8")
    return folder, start, end, True


def audit_input_files(data_dir: Path | str) -> list[Path]:
    """The CONTRACT §5 inputs found in a folder (any of csv/xlsx/parquet)."""
    found = []
    for path in sorted(Path(data_dir).iterdir()):
        if (path.suffix.lower() in (".csv", ".xlsx", ".parquet")
                and not path.stem.startswith("truth")):
            found.append(path)
    return found


def _per_input(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if isinstance(v, Mapping):  # e.g. {"rows": n} or nested per reason
                v = v.get("rows", v.get("total", sum(x for x in v.values()
                                                     if isinstance(x, int | float))))
            out[str(k)] = float(v or 0)
        return out
    return {}


def row_accounting(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Rows read, used and rejected per input (summary.json ``rows_read``/``rows_rejected``)."""
    read = _per_input(summary.get("rows_read"))
    rejected = _per_input(summary.get("rows_rejected"))
    rows = []
    for name in sorted(set(read) | set(rejected)):
        r, x = read.get(name, 0.0), rejected.get(name, 0.0)
        rows.append({"input": name, "rows_read": int(r), "rows_used": int(r - x),
                     "rows_rejected": int(x)})
    frame = pd.DataFrame(rows, columns=["input", "rows_read", "rows_used", "rows_rejected"])
    if len(frame):
        frame.loc[len(frame)] = ["合计 total", *frame.iloc[:, 1:].sum().astype(int).tolist()]
    return frame


def _check_labels() -> dict[str, str]:
    from jiuzhu_sim.audit.checks.registry import CHECKS

    return {c.code: c.label_zh for c in CHECKS}


CHECK_LABELS = _check_labels()
"""Chinese names of the CONTRACT §6 check codes, for tables and charts."""


def check_labels(codes) -> list[str]:
    """``"deceased_paid"`` → ``"死亡后仍发放 deceased_paid"`` (unknown codes unchanged)."""
    return [f"{CHECK_LABELS[c]} {c}" if c in CHECK_LABELS else str(c) for c in codes]


def _amounts(findings: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(findings.get("amount_at_risk", pd.Series(dtype=float)),
                         errors="coerce").fillna(0.0)


def findings_by(findings: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Findings and amount at risk (yuan) by one or more columns, largest amount first."""
    keys = [by] if isinstance(by, str) else list(by)
    frame = findings.assign(amount_at_risk=_amounts(findings))
    for k in keys:
        frame[k] = frame[k].astype(object).fillna("").astype(str).replace(
            {"nan": "", "<NA>": "", "None": ""})  # a missing key is counted, not dropped
        frame[k] = frame[k].where(frame[k] != "", "（无 none）")
    table = (frame.groupby(keys, sort=True)
             .agg(findings=("check", "size"), amount_at_risk=("amount_at_risk", "sum"))
             .reset_index())
    return table.sort_values(["amount_at_risk", "findings", *keys],
                             ascending=[False, False, *([True] * len(keys))],
                             ignore_index=True)


def findings_by_check_and_month(findings: pd.DataFrame, value: str = "findings"
                                ) -> pd.DataFrame:
    """check × period table of finding counts (or ``amount_at_risk``), with totals."""
    frame = findings.assign(amount_at_risk=_amounts(findings), findings=1)
    period = frame["period"].astype(str).replace({"nan": "", "<NA>": "", "None": ""})
    frame["period"] = period.where(period != "", "（无月份 no month）")
    table = frame.pivot_table(index="check", columns="period", values=value, aggfunc="sum",
                              fill_value=0)
    table["合计 total"] = table.sum(axis=1)
    return table.sort_values("合计 total", ascending=False)


def amount_by_month(findings: pd.DataFrame, start: str = "", end: str = ""
                    ) -> tuple[pd.DataFrame, dict[str, float]]:
    """(findings and amount at risk per month, in calendar order, every month of
    ``start``–``end`` present; the findings with no month — an overdue review, a screening
    candidate — counted apart), so that a chart of months never shows them as a month."""
    period = findings["period"].astype(object).fillna("").astype(str).replace(
        {"nan": "", "<NA>": "", "None": ""})
    dated = period != ""
    months = findings_by(findings[dated.to_numpy()], "period")
    if start and end:
        window = pd.period_range(start, end, freq="M").strftime("%Y-%m")
        months = (months.set_index("period").reindex(sorted({*window, *months["period"]}))
                  .fillna(0).rename_axis("period").reset_index())
        months["findings"] = months["findings"].astype(int)
    months = months.sort_values("period", ignore_index=True)
    apart = {"findings": int((~dated).sum()),
             "amount_at_risk": round(float(_amounts(findings[(~dated).to_numpy()]).sum()), 2)}
    return months, apart


def known_names(result) -> list[str]:
    """Names in an audit's inputs (roster, deaths, staff), to mask inside finding details."""
    names: set[str] = set()
    for table, column in (("roster", "name"), ("deaths", "name"),
                          ("staff_relatives", "staff_name")):
        frame = audit_table(result, table)
        if frame is not None and column in frame.columns:
            names.update(frame[column].dropna().astype(str))
    return sorted(names)


def top_cases(findings: pd.DataFrame, n: int = 15, mask: bool = True,
              names: Iterable[str] = ()) -> pd.DataFrame:
    """The ``n`` findings with the largest amount at risk (IDs and names masked, also in
    the ``detail`` text; ``names``: more names to look for there, e.g. staff)."""
    cols = [c for c in ("check", "severity", "person_id", "name", "region_code", "program",
                        "period", "amount_at_risk", "detail") if c in findings.columns]
    frame = findings.assign(amount_at_risk=_amounts(findings))[cols]
    frame = frame.sort_values(["amount_at_risk", "check", "person_id"],
                              ascending=[False, True, True]).head(n).reset_index(drop=True)
    return masked(frame, mask, names)


def top_case_evidence(findings: pd.DataFrame, evidence: pd.DataFrame | None, n: int = 5,
                      mask: bool = True, names: Iterable[str] = ()) -> pd.DataFrame:
    """The input rows behind the ``n`` findings with the largest amounts
    (``findings_evidence.csv``: file, row, key fields), IDs and names masked."""
    cols = ["check", "person_id", "period", "amount_at_risk", "file", "row", "key_fields"]
    if evidence is None or evidence.empty or findings.empty:
        return pd.DataFrame(columns=cols)
    top = (findings.assign(amount_at_risk=_amounts(findings))
           .sort_values(["amount_at_risk", "check", "person_id"],
                        ascending=[False, True, True]).head(n))
    frame = top[["finding_id", "check", "person_id", "period", "amount_at_risk"]].merge(
        evidence, on="finding_id", how="left")
    frame = frame.sort_values(["amount_at_risk", "finding_id", "file", "row"],
                              ascending=[False, True, True, True], kind="stable")
    return masked(frame[cols].reset_index(drop=True), mask, names)


REVIEW_SHOWN = ["purpose", "person_id_left", "name_left", "person_id_right", "name_right",
                "periods", "amount", "match_probability", "agreeing_fields", "match_rule"]


def review_table(review: pd.DataFrame | None, n: int = 20, mask: bool = True
                 ) -> pd.DataFrame:
    """Probable matches behind mistyped IDs (待核实, ``review_matches.csv``): the ``n`` with
    the largest amounts, best match per record, IDs and names masked."""
    if review is None or review.empty:
        return pd.DataFrame(columns=REVIEW_SHOWN)
    frame = review[pd.to_numeric(review["rank"]) == 1].copy()
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").fillna(0.0)
    frame = frame.sort_values(["amount", "purpose", "left_key"],
                              ascending=[False, True, True]).head(n)
    return masked(frame[REVIEW_SHOWN].reset_index(drop=True), mask)


def review_summary(review: pd.DataFrame | None) -> pd.DataFrame:
    """Probable matches per use: records, amount paid in the matched months."""
    if review is None or review.empty:
        return pd.DataFrame(columns=["purpose", "matches", "amount"])
    best = review[pd.to_numeric(review["rank"]) == 1]
    return (best.assign(amount=pd.to_numeric(best["amount"], errors="coerce"))
            .groupby("purpose", as_index=False)
            .agg(matches=("left_key", "size"), amount=("amount", "sum")))


def monthly_stats_table(stats: pd.DataFrame) -> pd.DataFrame:
    """The 002 monthly statistics with items as rows and months as columns; "—" where the
    inputs cannot give a figure."""
    if stats is None or stats.empty:
        return pd.DataFrame()
    month_col = stats.columns[0]
    table = stats.set_index(month_col).T.astype(object)
    return table.where(table.notna(), "—")


def lists_summary(workbook: Path | str | None, summary: Mapping[str, Any] | None = None
                  ) -> pd.DataFrame:
    """Rows per sheet of the 三项清单 workbook (问题清单, 整改清单, 成果清单): from the audit
    summary's ``three_lists`` counts when present, else read from the workbook."""
    counts = (summary or {}).get("three_lists")
    if counts:
        rows = [{"sheet": "问题清单 problems", "rows": counts.get("problem_rows")},
                {"sheet": "整改清单 rectification", "rows": counts.get("rectification_rows")}]
        results = counts.get("results")
        rows.append({"sheet": "成果清单 results",
                     "rows": sum(results.values()) if isinstance(results, Mapping) else 0})
        frame = pd.DataFrame(rows)
        if counts.get("deadline"):
            frame["整改期限 deadline"] = counts["deadline"]
        return frame
    if workbook is None or not Path(workbook).is_file():
        return pd.DataFrame(columns=["sheet", "rows"])
    sheets = pd.read_excel(workbook, sheet_name=None, dtype=str)
    return pd.DataFrame([{"sheet": name, "rows": len(df)} for name, df in sheets.items()])


def find_output(out_dir: Path | str, *names: str) -> Path | None:
    for name in names:
        path = Path(out_dir) / name
        if path.is_file():
            return path
    return None


def audit_table(result, name: str) -> pd.DataFrame | None:
    """A normalised input of an audit result (``result.tables``), or None."""
    tables = getattr(result, "tables", None)
    if tables is None:
        return None
    if isinstance(tables, Mapping):
        return tables.get(name)
    return getattr(tables, name, None)


def roster_counts(roster: pd.DataFrame | None, end: str) -> dict[str, int]:
    """People on the roster at the end month by program (active: no end date or ≥ end)."""
    if roster is None or roster.empty:
        return {}
    end_day = pd.Period(end, freq="M").to_timestamp(how="end").normalize()
    ends = pd.to_datetime(roster.get("end_date"), errors="coerce")
    starts = pd.to_datetime(roster.get("start_date"), errors="coerce")
    active = (ends.isna() | (ends >= end_day - pd.offsets.MonthBegin(1))) & (
        starts.isna() | (starts <= end_day))
    people = roster.loc[active, ["person_id", "program"]].drop_duplicates()
    return {str(k): int(v) for k, v in people["program"].value_counts().sort_index().items()}


def exclusion_estimate(params, *, roster_recipients: int, candidates: int,
                       county_persons: int = 0, sample_households: int = 20000,
                       seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Screening-list candidates beside the simulation's eligible count (疑似漏保 vs 模型).

    A synthetic population (:func:`jiuzhu_sim.population.generate_population`) is simulated
    under these parameters. It is scaled to ``county_persons`` residents when given;
    otherwise to the county whose simulated enrolled dibao recipients equal the roster's
    dibao recipients (the audit inputs do not say how many people live in the county), so
    a sample of ``sample_households`` stands for a county of any size. Returns (table,
    values).
    """
    from jiuzhu_sim.population import generate_population
    from jiuzhu_sim.simulation import (
        known_region_codes,
        prepare_population,
        simulate_population,
    )

    persons, households = generate_population(params, n_households=sample_households,
                                              seed=seed)
    # the households carry the run's region, which may be a --params file's own code (not
    # built in): its values are ``params`` itself, so it is a known region here
    pop = prepare_population(persons, households,
                             region_codes=set(known_region_codes()) | {params.region_code})
    result = simulate_population(pop, params, seed)
    h = result.households
    w = h["weight"].to_numpy(float) if "weight" in h else np.ones(len(h))
    members = h["members"].to_numpy(float)
    eligible = h["dibao_eligible"].to_numpy(bool)
    enrolled = h["enrolled"].to_numpy(bool)
    covered = h["dibao_members"].to_numpy(float)
    # people an enrolled household has on the roster (one definition, rules/engine.py)
    on_roster = engine.recipients_on_roster(eligible, enrolled, covered,
                                            h["assessed_members"].to_numpy(float))
    sample_persons = float((w * members).sum())
    sim_enrolled = float((w * on_roster).sum())
    if county_persons > 0:
        basis = "given resident population"
        scale = county_persons / sample_persons
    else:
        basis = "roster dibao recipients ÷ simulated enrolled share"
        scale = roster_recipients / sim_enrolled if sim_enrolled > 0 else float("nan")
    return _exclusion_rows(h, w, eligible, enrolled, covered, scale, basis, roster_recipients,
                           candidates)


def _exclusion_rows(h, w, eligible, enrolled, covered, scale, basis, roster_recipients,
                    candidates):
    members = h["members"].to_numpy(float)
    county = float((w * members).sum()) * scale
    eligible_persons = float((w * covered)[eligible].sum()) * scale
    excluded_persons = float((w * covered)[eligible & ~enrolled].sum()) * scale
    enrolled_persons = float((w * engine.recipients_on_roster(
        eligible, enrolled, covered, h["assessed_members"].to_numpy(float))).sum()) * scale
    values = {"basis": basis, "scale": scale, "county_persons": county,
              "simulated_eligible_persons": eligible_persons,
              "simulated_enrolled_persons": enrolled_persons,
              "simulated_excluded_persons": excluded_persons,
              "roster_dibao_recipients": roster_recipients,
              "screening_candidates": candidates,
              "gap_eligible_minus_roster": eligible_persons - roster_recipients}
    table = pd.DataFrame([
        ("县常住人口（模型）county residents (model)", county),
        ("模型估计应保人数 simulated eligible persons", eligible_persons),
        ("模型估计漏保人数 simulated eligible, not enrolled", excluded_persons),
        ("在册低保人数 dibao recipients on the roster", roster_recipients),
        ("应保 − 在册 eligible minus roster", eligible_persons - roster_recipients),
        ("筛查名单疑似漏保 screening-list candidates", candidates),
    ], columns=["项目 item", "人数 persons"])
    table["人数 persons"] = table["人数 persons"].astype(float).round(0)
    return table, values


# --- scenario ---------------------------------------------------------------------------


def load_report_scenario(scenario_file: str, *, region: str = "", date: str = "",
                         overrides: Iterable[str] = (), households: int = 0):
    """The scenario spec a report runs: the file (or the default), with the report's
    region and date when given (else the file's), ``--set`` overrides (applied to every variant under the variant's own
    ``set``) and synthetic size."""
    from jiuzhu_sim.parameters import parse_override
    from jiuzhu_sim.scenario import load_scenario

    path = Path(scenario_file) if scenario_file else default_scenario_file()
    spec = load_scenario(path)
    extra = dict(parse_override(o) for o in overrides)
    if extra:
        for v in spec.variants:
            v.overrides = {**extra, **v.overrides}
    if region:
        spec.regions = [str(region)]
    if date:
        for v in spec.variants:  # variants on the file's date move; their own dates stay
            if v.date in (None, spec.date):
                v.date = date
        spec.date = date
    if households and "synthetic" in spec.population:
        spec.population["synthetic"] = {**spec.population["synthetic"], "households": households}
    return spec


COMPARISON_COLUMNS = {
    "coverage_rate": "覆盖率 coverage",
    "exclusion_error_rate": "漏保率 exclusion error",
    "inclusion_error_rate": "错保率 inclusion error",
    "leakage_rate": "资金漏出率 leakage",
    "cost_dibao": "低保 dibao (元/年)",
    "cost_tekun": "特困 tekun (元/年)",
    "cost_marginal": "边缘 marginal (元/年)",
    "cost_temporary": "临时救助 temporary (元/年)",
    "cost_total": "合计 total (元/年)",
    "delta_cost_total": "较基线 vs baseline (元/年)",
    "fgt0_after": "贫困发生率 FGT0 (after)",
    "fgt1_after": "贫困距 poverty gap FGT1 (after)",
}


def variants_table(spec) -> pd.DataFrame:
    """One row per variant: name, kind, date and its parameter changes."""
    return pd.DataFrame([{"variant": v.name, "kind": v.kind, "date": v.date or "",
                          "set": ", ".join(f"{k}={x}" for k, x in v.overrides.items()),
                          "description": v.description} for v in spec.variants])


def cost_by_program(comparison: pd.DataFrame) -> pd.DataFrame:
    """variant × program annual cost (yuan), for the "all regions" rows."""
    frame = comparison[comparison["region"].astype(str) == "all"] if "region" in comparison \
        else comparison
    cols = {"cost_dibao": "低保 dibao", "cost_tekun": "特困 tekun",
            "cost_marginal": "边缘 marginal", "cost_temporary": "临时救助 temporary"}
    present = [c for c in cols if c in frame.columns]
    return frame.set_index("scenario")[present].rename(columns=cols)


def frontier_curve(frontier: pd.DataFrame) -> tuple[str, pd.DataFrame] | None:
    """(swept parameter, rows sorted by it) of the first one-parameter sweep, else None.

    For a two-parameter sweep the curve holds the second parameter at its first value.
    """
    if frontier is None or frontier.empty:
        return None
    first = frontier[frontier["sweep"] == frontier["sweep"].iloc[0]]
    swept = [c for c in first.columns if "." in c and first[c].notna().all()]
    if not swept:
        return None
    x = swept[0]
    for other in swept[1:]:
        first = first[first[other] == first[other].iloc[0]]
    cols = [x, "coverage_rate", "exclusion_error_rate", "inclusion_error_rate",
            "leakage_rate", "cost_total", "fgt1_after"]
    cols += [f"{c}_se" for c in cols[1:]]
    return x, first[[c for c in cols if c in first]].sort_values(x, ignore_index=True)


FRONTIER_Z = 1.96  # a 95% normal interval for a mean over replications


def frontier_panels(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The coverage–cost–leakage curve as three panels for :func:`plotting.panel_chart`:
    coverage; inclusion error and leakage (%); annual cost (万元) — each line with its
    band mean ± 1.96 × Monte Carlo standard error when there are replications."""
    def series(items):
        lines, bands = {}, {}
        for label, metric, factor in items:
            if metric not in frame:
                continue
            lines[label] = frame[metric] * factor
            if f"{metric}_se" in frame:
                half = FRONTIER_Z * frame[f"{metric}_se"] * factor
                bands[label] = (lines[label] - half, lines[label] + half)
        return lines, bands

    panels = []
    for title, ylabel, items in (
            ("覆盖率 Coverage", "%", [("覆盖率 coverage", "coverage_rate", 100)]),
            ("错保率与资金漏出率 Inclusion error, leakage", "%",
             [("错保率 inclusion error", "inclusion_error_rate", 100),
              ("资金漏出率 leakage", "leakage_rate", 100)]),
            ("年度总支出 Annual cost", "万元 10k yuan",
             [("年度总支出 annual cost", "cost_total", 1e-4)])):
        lines, bands = series(items)
        if lines:
            panels.append({"title": title, "ylabel": ylabel, "series": lines, "bands": bands})
    return panels


def frontier_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The frontier as shown: each metric with its 95% Monte Carlo interval as text."""
    table = pd.DataFrame({frame.columns[0]: frame.iloc[:, 0]})
    for metric, label in (("coverage_rate", "覆盖率 coverage"),
                          ("exclusion_error_rate", "漏保率 exclusion"),
                          ("inclusion_error_rate", "错保率 inclusion"),
                          ("leakage_rate", "资金漏出率 leakage"),
                          ("cost_total", "年度总支出 annual cost (万元)")):
        if metric not in frame:
            continue
        scale, unit = (1e-4, "") if metric == "cost_total" else (100, "%")
        mid = frame[metric] * scale
        if f"{metric}_se" in frame:
            half = FRONTIER_Z * frame[f"{metric}_se"] * scale
            table[f"{label} ±95%"] = [f"{m:,.2f}{unit} ± {h:,.2f}" for m, h
                                      in zip(mid, half, strict=True)]
        else:
            table[label] = [f"{m:,.2f}{unit}" for m in mid]
    return table


def comparison_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """Baseline vs reforms: one column per variant, one row per metric (labelled)."""
    frame = comparison[comparison["region"].astype(str) == "all"] if "region" in comparison \
        else comparison
    cols = [c for c in COMPARISON_COLUMNS if c in frame.columns]
    table = frame.set_index("scenario")[cols].T
    table.index = [COMPARISON_COLUMNS[c] for c in cols]
    table.attrs["row_kinds"] = ["percent" if c.endswith("_rate") or c.startswith("fgt")
                                else "money" for c in cols]
    return table


def incidence_table(winners_losers: pd.DataFrame, baseline_comparison: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Benefit incidence by pre-transfer income decile: baseline transfers and each reform's
    annual change (yuan) and share of the change."""
    dec = winners_losers[winners_losers["group_type"] == "income_decile"].copy()
    if dec.empty:
        return pd.DataFrame()
    dec["decile"] = dec["group"].astype(int)
    base = dec.groupby("decile")["baseline_annual_transfers"].first()
    table = pd.DataFrame({"基线转移 baseline transfers (元/年)": base,
                          "基线占比 baseline share": base / base.sum() if base.sum() else np.nan})
    for name, part in dec.groupby("scenario", sort=False):
        change = part.set_index("decile")["annual_change"]
        table[f"{name} 变化 change (元/年)"] = change
        table[f"{name} 受益户比例 winners share"] = part.set_index("decile")["winners_share"]
    table.index.name = "收入十分位 decile"
    return table


def incidence_chart_frame(incidence: pd.DataFrame) -> pd.DataFrame:
    """Baseline transfers and each reform's change by decile (yuan a year), for a chart."""
    cols = [c for c in incidence.columns if "(元/年)" in c]
    return incidence[cols]


def who_gains(winners_losers: pd.DataFrame) -> pd.DataFrame:
    """Winners and losers by household type for each reform."""
    part = winners_losers[winners_losers["group_type"] == "household_type"]
    cols = ["scenario", "group", "households", "winners_share", "losers_share",
            "mean_monthly_change", "annual_change"]
    return part[[c for c in cols if c in part.columns]].reset_index(drop=True)


# --- budget -----------------------------------------------------------------------------


def report_years(years: str, params) -> tuple[int, int]:
    """``"YYYY:YYYY"`` → (first, last); empty → the parameter year and two more."""
    if years:
        first, last = (int(x) for x in years.split(":"))
        if last < first:
            raise UserInputError(f"--years {years}: the last year is before the first")
        return first, last
    return params.date.year, params.date.year + 2


def budget_parameters(region: str, date: str, overrides: Iterable[str], years: str):
    """(parameters, (first, last)): without ``date`` the base is 1 January of the first
    year or today if that is earlier, as ``jiuzhu budget`` does."""
    if years and not date:
        first = int(years.split(":")[0])
        date = min(dt.date.today(), dt.date(first, 1, 1)).isoformat()
    params = load_report_parameters(region, date, overrides)
    return params, report_years(years, params)


def read_population_folder(data_dir: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(persons, households) from a folder, or None for the synthetic county."""
    if not data_dir:
        return None
    from jiuzhu_sim.files import find_input
    from jiuzhu_sim.io import read_table

    return (read_table(find_input(Path(data_dir), "persons")),
            read_table(find_input(Path(data_dir), "households")))


def budget_pivot(table: pd.DataFrame, column: str = "p50", scale: float = 1e4) -> pd.DataFrame:
    """program × year of annual cost (default 万元, P50)."""
    pivot = table.pivot(index="program", columns="year", values=column) / scale
    order = [p for p in (*table["program"].drop_duplicates(),) if p in pivot.index]
    return pivot.loc[order]


def budget_bands(table: pd.DataFrame, scale: float = 1e4) -> pd.DataFrame:
    """year × program with "P50 (P5–P95)" text in 万元."""
    frame = table.copy()
    frame["cost"] = [f"{m / scale:,.1f} ({lo / scale:,.1f}–{hi / scale:,.1f})"
                     for m, lo, hi in zip(frame["p50"], frame["p5"], frame["p95"], strict=True)]
    return frame.pivot(index="program", columns="year", values="cost").loc[
        list(frame["program"].drop_duplicates())]


def purchased_services_frame(capacity: pd.DataFrame) -> pd.DataFrame:
    """year × (floor, cap, planned) of purchased services (yuan)."""
    return capacity.set_index("year")[["purchased_services_floor", "purchased_services_cap",
                                       "purchased_services_planned"]].rename(columns={
        "purchased_services_floor": "下限 floor (5% 工作经费)",
        "purchased_services_cap": "上限 cap (3% 救助资金)",
        "purchased_services_planned": "计划 planned"})


def capacity_checks(capacity: pd.DataFrame) -> pd.DataFrame:
    """004 rules per year, with 是/否 marks (purchased services, caseworkers)."""
    frame = capacity.copy()
    for col in ("meets_floor", "within_cap", "floor_below_cap"):
        if col in frame:
            frame[col] = frame[col].map({True: "是 yes", False: "否 no"})
    return frame
