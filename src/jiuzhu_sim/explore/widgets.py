"""ipywidgets front ends of the explorers (notebooks/explore_*.ipynb, ``jiuzhu explore``).

Thin: every figure comes from :class:`~jiuzhu_sim.explore.ScenarioExplorer` or
:class:`~jiuzhu_sim.explore.AuditExplorer`; these functions only lay out controls and
render the explorers' frames. A user mistake is shown as one red line, never a traceback.
Needs the optional dependency group ``explore`` (``pip install 'jiuzhu_sim[explore]'``).

Shown figures carry stable hooks for the browser tests (tests/test_explore_browser.py):
``data-metric`` and ``data-value`` on each current-setting cell (``td.jz-current``) and
``data-finding`` on evidence tables.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.explore.audit import NO_MONTH, AuditExplorer, FindingFilter
from jiuzhu_sim.explore.scenario import (
    ExplorerResult,
    ScenarioExplorer,
    format_value,
    frontier_figure,
)

# Slider ranges: what a user can reach by dragging (display choices, not policy values;
# any value can still be given to ScenarioExplorer.update or typed into the readout).
RATIO_RANGE = (0.30, 0.70, 0.01)
MARGINAL_RANGE = (1.0, 3.0, 0.1)
TAKE_UP_RANGE = (0.30, 1.0, 0.05)
GRADUAL_EXIT_RANGE = (0, 24, 1)
MAX_FINDINGS_LISTED = 500

_STYLE = """<style>
.jz-table {border-collapse: collapse; font-size: 13px; margin: 4px 0;}
.jz-table th, .jz-table td {border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right;}
.jz-table th:first-child, .jz-table td:first-child {text-align: left;}
.jz-table td.jz-text {text-align: left; white-space: normal; max-width: 520px;}
.jz-error {color: #b00020; font-weight: bold;}
.jz-note {color: #555; font-size: 12px;}
</style>"""


def _error_html(exc: Exception) -> str:
    text = exc.one_line() if isinstance(exc, UserInputError) else f"{type(exc).__name__}: {exc}"
    return f'<span class="jz-error">⚠ {html.escape(text)}</span>'


# ---------------------------------------------------------------------------------------
# Scenario explorer


def comparison_html(result: ExplorerResult) -> str:
    """The figures beside the baseline, and the cost by program, as HTML tables."""
    rows = []
    for _, row in result.comparison().iterrows():
        kind = row["kind"]
        change = row["change"]
        if change is None or pd.isna(change):
            change_text = "—"
        elif kind == "rate":
            change_text = f"{100 * change:+.2f} pp"
        else:
            change_text = f"{change:+,.0f}" if kind != "yuan_month" else f"{change:+,.2f}"
        value = "" if row["current"] is None else repr(float(row["current"]))
        rows.append(
            f"<tr><td>{html.escape(row['label'])}</td>"
            f"<td class='jz-baseline' data-metric='{row['metric']}'>"
            f"{format_value(row['baseline'], kind)}</td>"
            f"<td class='jz-current' data-metric='{row['metric']}' data-value='{value}'>"
            f"<b>{format_value(row['current'], kind)}</b></td><td>{change_text}</td></tr>")
    table = ("<table class='jz-table'><tr><th>指标 metric</th><th>基线 baseline</th>"
             "<th>当前 current</th><th>变化 change</th></tr>" + "".join(rows) + "</table>")
    costs = result.costs()
    cost_rows = "".join(
        f"<tr><td>{html.escape(r.program)}</td><td>{r.baseline / 1e4:,.1f}</td>"
        f"<td>{r.current / 1e4:,.1f}</td><td>{r.change / 1e4:+,.1f}</td></tr>"
        for r in costs.itertuples())
    cost_table = ("<table class='jz-table'><tr><th>项目 program (年度 annual, 万元)</th>"
                  "<th>基线 baseline</th><th>当前 current</th><th>变化 change</th></tr>"
                  + cost_rows + "</table>")
    note = (f"<div class='jz-note'>重新计算 recomputed in {result.seconds:.2f} s · "
            f"changes: {html.escape(', '.join(f'{k}={v}' for k, v in result.overrides.items()) or 'none (baseline)')}"
            "</div>")
    return (_STYLE + "<div style='display:flex; flex-wrap:wrap; gap:4px 24px;'>"
            f"<div>{table}</div><div>{cost_table}</div></div>" + note)


def scenario_app(explorer: ScenarioExplorer | None = None, *, region: str = "350581",
                 date: str = "2024-01-01", households: int = 20_000, seed: int = 20240101,
                 save_dir: str | Path = "."):
    """The scenario explorer as an ipywidgets box (controls, tables, frontier, save)."""
    import ipywidgets as w

    from jiuzhu_sim.parameters import list_regions
    from jiuzhu_sim.plotting import png_bytes

    ex = explorer or ScenarioExplorer(region, date, households=households, seed=seed)
    base = ex.baseline_controls()
    wide = w.Layout(width="430px")
    style = {"description_width": "190px"}
    regions = [(f"{r.code} {r.name} {r.name_en}", r.code) for r in list_regions()
               if r.parent]  # the national root has no minimum wage of its own
    region_box = w.Dropdown(options=regions, value=ex.region_code, description="地区 region",
                            layout=wide, style=style)
    date_box = w.Text(value=ex.date, description="参数日期 date (YYYY-MM-DD)", layout=wide,
                      style=style, continuous_update=False)
    mode = w.ToggleButtons(options=[("按最低工资比例 ratio", "ratio"),
                                    ("明确标准 explicit", "explicit")], value="ratio",
                           description="低保标准 standard", style=style)
    ratio = w.FloatSlider(value=base["standard_ratio"], min=RATIO_RANGE[0], max=RATIO_RANGE[1],
                          step=RATIO_RANGE[2], description="标准/最低工资 standard ratio",
                          readout_format=".2f", continuous_update=False, layout=wide,
                          style=style)
    standard = w.BoundedFloatText(value=base["standard"], min=1, max=100_000, step=10,
                                  description="明确标准 standard (yuan)", disabled=True,
                                  layout=wide, style=style)
    marginal = w.FloatSlider(value=base["marginal_ratio"], min=MARGINAL_RANGE[0],
                             max=MARGINAL_RANGE[1], step=MARGINAL_RANGE[2],
                             description="边缘线倍数 marginal ratio", readout_format=".1f",
                             continuous_update=False, layout=wide, style=style)
    take_up = w.FloatSlider(value=base["take_up"], min=TAKE_UP_RANGE[0], max=TAKE_UP_RANGE[1],
                            step=TAKE_UP_RANGE[2], description="申请率 take-up",
                            readout_format=".2f", continuous_update=False, layout=wide,
                            style=style)
    exit_months = w.IntSlider(value=base["gradual_exit_months"], min=GRADUAL_EXIT_RANGE[0],
                              max=GRADUAL_EXIT_RANGE[1], step=GRADUAL_EXIT_RANGE[2],
                              description="渐退期 gradual exit (months)",
                              continuous_update=False, layout=wide, style=style)
    grades = [("一级 1", 1), ("一至二级 1–2", 2), ("一至三级 1–3", 3), ("一至四级 1–4", 4)]
    grade_any = w.Dropdown(options=grades, value=base["severe_grade"],
                           description="单人保 any type, grades", layout=wide, style=style)
    grade_im = w.Dropdown(options=grades, value=base["severe_grade_intellectual_mental"],
                          description="单人保 intellectual/mental", layout=wide,
                          style=style)
    for box, name in ((ratio, "standard-ratio"), (standard, "standard"), (marginal, "marginal"),
                      (take_up, "take-up"), (exit_months, "gradual-exit"),
                      (grade_any, "grade-any"), (grade_im, "grade-im")):
        box.add_class(f"jz-control-{name}")
    status = w.HTML()
    tables = w.HTML()
    chart = w.Image(format="png", layout=w.Layout(width="600px"))
    name_box = w.Text(value="explored", description="情景名 name", layout=wide, style=style)
    save_button = w.Button(description="保存为情景 Save as scenario", icon="save",
                           layout=w.Layout(width="240px"))
    saved = w.HTML()
    state: dict[str, Any] = {"result": None}

    def controls() -> dict[str, Any]:
        out = {"marginal_ratio": marginal.value, "take_up": take_up.value,
               "gradual_exit_months": exit_months.value, "severe_grade": grade_any.value,
               "severe_grade_intellectual_mental": grade_im.value}
        if mode.value == "explicit":
            out["standard"] = standard.value
        else:
            out["standard_ratio"] = round(ratio.value, 4)
        return out

    def refresh(_=None) -> None:
        status.value = "<span class='jz-note'>计算中 computing…</span>"
        try:
            result = ex.update(controls())
        except UserInputError as exc:
            status.value = _error_html(exc)
            return
        state["result"] = result
        tables.value = comparison_html(result)
        chart.value = png_bytes(frontier_figure(result))
        status.value = ""

    def change_region(_=None) -> None:
        status.value = "<span class='jz-note'>抽取人口 drawing the population…</span>"
        try:
            ex.set_region(region_box.value, date_box.value.strip())
        except UserInputError as exc:
            status.value = _error_html(exc)
            return
        fresh = ex.baseline_controls()
        for box, key in ((ratio, "standard_ratio"), (standard, "standard"),
                         (marginal, "marginal_ratio"), (take_up, "take_up"),
                         (exit_months, "gradual_exit_months"), (grade_any, "severe_grade"),
                         (grade_im, "severe_grade_intellectual_mental")):
            with box.hold_trait_notifications():
                box.unobserve(refresh, names="value")
                box.value = fresh[key]
                box.observe(refresh, names="value")
        refresh()

    def change_mode(_=None) -> None:
        ratio.disabled = mode.value == "explicit"
        standard.disabled = mode.value != "explicit"
        refresh()

    def save(_=None) -> None:
        name = name_box.value.strip() or "explored"
        path = Path(save_dir) / f"{name}.yaml"
        try:
            ex.save_scenario(path, controls(), name=name)
        except UserInputError as exc:
            saved.value = _error_html(exc)
            return
        saved.value = (f"<span class='jz-note'>已保存 saved: {html.escape(str(path))} — "
                       f"<code>jiuzhu scenario {html.escape(str(path))} --out OUT_DIR</code>"
                       "</span>")

    for box in (ratio, standard, marginal, take_up, exit_months, grade_any, grade_im):
        box.observe(refresh, names="value")
    region_box.observe(change_region, names="value")
    date_box.observe(change_region, names="value")
    mode.observe(change_mode, names="value")
    save_button.on_click(save)
    refresh()
    header = w.HTML(
        f"<b>情景探索 Scenario explorer</b> — {ex.households:,} households"
        if not ex.files else "<b>情景探索 Scenario explorer</b>")
    controls_box = w.VBox([region_box, date_box, mode, ratio, standard, marginal, take_up,
                           exit_months, grade_any, grade_im, name_box,
                           w.HBox([save_button], layout=w.Layout(margin="0 0 0 194px")), saved],
                          layout=w.Layout(width="450px"))
    row = w.Layout(display="flex", flex_flow="row wrap", align_items="flex-start")
    app = w.VBox([header, w.HBox([controls_box, chart], layout=row), status, tables])
    app.add_class("jz-scenario-explorer")
    app.explorer = ex  # for a notebook user who wants the numbers behind the view
    app.current = lambda: state["result"]
    return app


# ---------------------------------------------------------------------------------------
# Audit explorer


def _table_html(frame: pd.DataFrame, text_columns: tuple[str, ...] = ("detail", "key_fields"),
                attrs: str = "") -> str:
    if frame.empty:
        return "<div class='jz-note'>(无 none)</div>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row, strict=True):
            text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else value
            if isinstance(text, float):
                text = f"{text:,.2f}"
            cls = " class='jz-text'" if col in text_columns else ""
            cells.append(f"<td{cls}>{html.escape(str(text))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='jz-table' {attrs}><tr>{head}</tr>{''.join(body)}</table>"


def audit_app(out_dir: str | Path = "", *, mask: bool = True, export_dir: str | Path = "."):
    """The audit explorer as an ipywidgets box: load, filter, select, evidence, export."""
    import ipywidgets as w

    wide = w.Layout(width="520px")
    style = {"description_width": "150px"}
    folder = w.Text(value=str(out_dir), description="审计输出 audit output", layout=wide,
                    style=style, placeholder="folder written by jiuzhu audit --out")
    load_button = w.Button(description="加载 Load", icon="folder-open")
    unmask = w.Checkbox(value=not mask, description="显示完整身份证号和姓名 unmask IDs and names",
                        indent=False, layout=w.Layout(width="auto"))
    pick = w.Layout(width="230px", height="130px")
    checks = w.SelectMultiple(description="", layout=pick)
    regions = w.SelectMultiple(description="", layout=pick)
    months = w.SelectMultiple(description="", layout=pick)
    severities = w.SelectMultiple(description="", layout=w.Layout(width="140px", height="130px"))
    for box, name in ((checks, "check"), (regions, "region"), (months, "month"),
                      (severities, "severity")):
        box.add_class(f"jz-filter-{name}")
    clear = w.Button(description="清除筛选 Clear filters")
    counts = w.HTML()
    findings = w.Select(description="", layout=w.Layout(width="100%", height="180px"))
    findings.add_class("jz-findings")
    detail = w.HTML()
    evidence = w.HTML()
    export_name = w.Text(value="filtered_findings.xlsx", description="导出 export to",
                         layout=wide, style=style)
    export_button = w.Button(description="导出 xlsx Export", icon="download")
    status = w.HTML()
    state: dict[str, Any] = {"explorer": None}

    def current_filter() -> FindingFilter:
        return FindingFilter(checks=tuple(checks.value), regions=tuple(regions.value),
                             months=tuple(months.value), severities=tuple(severities.value))

    def show_list(_=None) -> None:
        ex: AuditExplorer | None = state["explorer"]
        if ex is None:
            return
        ex.mask = not unmask.value
        flt = current_filter()
        shown = ex.filtered(flt)
        counts.value = _STYLE + (
            f"<div><b>{len(shown):,}</b> 条发现 findings, "
            f"{shown['amount_at_risk'].sum():,.2f} 元 at risk</div>"
            + _table_html(ex.counts(flt), attrs="data-table='counts'"))
        listed = shown.head(MAX_FINDINGS_LISTED)
        labels = [(f"{r.finding_id} | {r.check} | {r.severity} | {r.period or '—'} | "
                   f"{r.region_code} | {r.name} | {r.amount_at_risk:,.2f}", r.finding_id)
                  for r in listed.itertuples()]
        previous = findings.value
        findings.options = labels
        more = len(shown) - len(listed)
        if more > 0:
            counts.value += (f"<div class='jz-note'>列出前 {MAX_FINDINGS_LISTED} 条 listing the "
                             f"first {MAX_FINDINGS_LISTED}; {more:,} more — export to see all"
                             "</div>")
        if previous in {v for _, v in labels}:
            findings.value = previous
        else:
            findings.value = None
            detail.value = evidence.value = ""

    def show_finding(_=None) -> None:
        ex: AuditExplorer | None = state["explorer"]
        if ex is None or not findings.value:
            return
        fid = findings.value
        row = ex.finding(fid)
        detail.value = _STYLE + (
            f"<div data-finding='{html.escape(fid)}'><b>{html.escape(row['check'])}</b> · "
            f"{html.escape(row['severity'])} · {html.escape(row['name'])} "
            f"{html.escape(row['person_id'])} · {html.escape(row['period'] or '—')} · "
            f"{row['amount_at_risk']:,.2f} 元</div>"
            f"<div class='jz-detail'>{html.escape(row['detail'])}</div>")
        evidence.value = _STYLE + "<b>证据 evidence rows</b>" + _table_html(
            ex.evidence(fid), attrs=f"data-evidence-of='{html.escape(fid)}'")

    def load(_=None) -> None:
        try:
            ex = AuditExplorer(folder.value.strip(), mask=not unmask.value)
        except UserInputError as exc:
            status.value = _error_html(exc)
            return
        state["explorer"] = ex
        opts = ex.options()
        checks.options = opts["checks"]
        regions.options = opts["regions"]
        months.options = [("无月份 no month" if m == NO_MONTH else m, m) for m in opts["months"]]
        severities.options = opts["severities"]
        status.value = f"<span class='jz-note'>已加载 loaded {html.escape(str(ex.out_dir))}</span>"
        show_list()

    def clear_filters(_=None) -> None:
        for box in (checks, regions, months, severities):
            box.value = ()

    def export(_=None) -> None:
        ex: AuditExplorer | None = state["explorer"]
        if ex is None:
            status.value = _error_html(UserInputError("load an audit output folder first"))
            return
        path = Path(export_name.value.strip() or "filtered_findings.xlsx")
        if not path.is_absolute():
            path = Path(export_dir) / path
        ex.export_xlsx(path, current_filter())
        status.value = (f"<span class='jz-note'>已导出 exported {len(ex.select(current_filter())):,}"
                        f" findings to {html.escape(str(path))}"
                        f"{'' if ex.mask else ' (unmasked)'}</span>")

    for box in (checks, regions, months, severities):
        box.observe(show_list, names="value")
    unmask.observe(lambda _: (show_list(), show_finding()), names="value")
    findings.observe(show_finding, names="value")
    load_button.on_click(load)
    clear.on_click(clear_filters)
    export_button.on_click(export)
    if str(out_dir):
        load()

    def labelled(text, box):
        return w.VBox([w.HTML(f"<b>{text}</b>"), box])

    filters = w.HBox([labelled("检查 check", checks), labelled("地区/乡镇 region", regions),
                      labelled("月份 month", months), labelled("严重程度 severity", severities)])
    app = w.VBox([w.HTML("<b>审计探索 Audit explorer</b>"), w.HBox([folder, load_button]),
                  status, unmask, filters, clear, counts,
                  w.HTML("<b>发现 findings</b> (选择一条查看证据 select one to see its evidence)"),
                  findings, detail, evidence, w.HBox([export_name, export_button])])
    app.add_class("jz-audit-explorer")
    app.state = state
    return app
