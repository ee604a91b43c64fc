"""Charts for the reports (图表): a CJK font that ships with the install, and chart helpers.

Every helper calls :func:`setup_fonts` first, so Chinese labels render on a fresh machine
with no system fonts: mplfonts ships ``NotoSansCJKsc-Regular.otf`` inside its package folder
and we register that file with matplotlib directly (its CLI is not needed). Every chart has
a title, axis labels with units and a source line (来源 Source) at the bottom.

Helpers return a :class:`matplotlib.figure.Figure` that is not managed by pyplot (no global
state, no double display in notebooks); :func:`show` renders it as PNG for a notebook and can
save it beside the report.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure

FONT_FILE = "NotoSansCJKsc-Regular.otf"
_FONT_NAME: str | None = None
PALETTE = ("#3b6ea5", "#d9822b", "#5a9e6f", "#b5485d", "#7d6aa8", "#8c8c8c", "#c4a000")


def font_path() -> Path:
    """The CJK font file shipped in mplfonts' package folder."""
    import mplfonts

    base = Path(mplfonts.__file__).resolve().parent
    for candidate in (base / "fonts" / FONT_FILE, *base.rglob(FONT_FILE)):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{FONT_FILE} not found under {base} (is mplfonts installed?)")


def setup_fonts() -> str:
    """Register the bundled Noto Sans CJK SC font and make it matplotlib's sans-serif default.

    Idempotent; returns the font family name. ``axes.unicode_minus`` is turned off because
    the CJK font has no U+2212 minus sign.
    """
    global _FONT_NAME
    if _FONT_NAME is None:
        path = font_path()
        font_manager.fontManager.addfont(str(path))
        _FONT_NAME = font_manager.FontProperties(fname=str(path)).get_name()
    rcParams["font.family"] = "sans-serif"
    rest = [f for f in rcParams["font.sans-serif"] if f != _FONT_NAME]
    rcParams["font.sans-serif"] = [_FONT_NAME, *rest]
    rcParams["axes.unicode_minus"] = False
    return _FONT_NAME


def _figure(width: float = 8.0, height: float = 4.2) -> tuple[Figure, object]:
    setup_fonts()
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return fig, ax


def _finish(fig: Figure, ax, title: str, xlabel: str, ylabel: str, source: str) -> Figure:
    ax.set_title(title, fontsize=12)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.text(0.01, 0.0, f"来源 Source: {source}", fontsize=8, color="#555555",
             ha="left", va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    return fig


def bar_chart(labels: Sequence, values: Sequence[float], *, title: str, xlabel: str,
              ylabel: str, source: str, horizontal: bool = False,
              annotate: bool = True, note: str = "") -> Figure:
    """One series of bars (e.g. findings or amount at risk by check). ``note``: a boxed
    line inside the plot's top left, for what the bars leave out (e.g. findings that
    belong to no month), so that it is read apart from the bars."""
    labels = [str(x) for x in labels]
    values = np.asarray(values, dtype=float)
    fig, ax = _figure(8.0, max(3.2, 0.32 * len(labels) + 1.5) if horizontal else 4.2)
    if horizontal:
        bars = ax.barh(labels, values, color=PALETTE[0])
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        ax.grid(axis="y", visible=False)
        xlabel, ylabel = ylabel, xlabel
    else:
        bars = ax.bar(labels, values, color=PALETTE[0])
        if len(labels) > 6:
            ax.tick_params(axis="x", labelrotation=45)
    if annotate and len(values):
        ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize=8, padding=2)
    if note:
        if not horizontal:
            low, high = ax.get_ylim()
            ax.set_ylim(low, high + 0.18 * (high - low))  # room for the note above the bars
        ax.text(0.01, 0.98, note, transform=ax.transAxes, ha="left", va="top", fontsize=8,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": "#fff8e6",
                      "edgecolor": "#d9822b"})
    return _finish(fig, ax, title, xlabel, ylabel, source)


def grouped_bar_chart(frame: pd.DataFrame, *, title: str, xlabel: str, ylabel: str,
                      source: str, stacked: bool = False) -> Figure:
    """Bars of each column of ``frame`` (index on the x axis), grouped or stacked."""
    fig, ax = _figure(8.5, 4.4)
    labels = [str(x) for x in frame.index]
    x = np.arange(len(labels))
    n = max(1, frame.shape[1])
    width = 0.8 if stacked else 0.8 / n
    bottom = np.zeros(len(labels))
    for i, col in enumerate(frame.columns):
        vals = frame[col].to_numpy(float)
        if stacked:
            ax.bar(x, vals, width, bottom=bottom, label=str(col), color=PALETTE[i % 7])
            bottom = bottom + np.nan_to_num(vals)
        else:
            ax.bar(x - 0.4 + width * (i + 0.5), vals, width, label=str(col),
                   color=PALETTE[i % 7])
    long_labels = len(labels) > 6 and max(len(label) for label in labels) > 4
    ax.set_xticks(x, labels, rotation=45 if long_labels else 0)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.12 * (high - low))  # room for the legend
    ax.legend(fontsize=8, ncols=min(n, 4), loc="upper right")
    return _finish(fig, ax, title, xlabel, ylabel, source)


def line_chart(x: Sequence, series: dict[str, Sequence[float]], *, title: str, xlabel: str,
               ylabel: str, source: str, markers: bool = True,
               secondary: dict[str, Sequence[float]] | None = None,
               secondary_label: str = "",
               bands: dict[str, tuple[Sequence[float], Sequence[float]]] | None = None
               ) -> Figure:
    """Lines over x (e.g. the coverage–cost–leakage frontier over the standard ratio);
    ``secondary`` series go on a right-hand axis with their own unit label; ``bands``
    shades a (low, high) interval around the series of the same name (e.g. the Monte Carlo
    95% interval of a mean over replications)."""
    fig, ax = _figure(8.5, 4.4)
    handles = []
    bands = bands or {}
    xs = list(x)
    for i, (name, vals) in enumerate(series.items()):
        handles += ax.plot(xs, np.asarray(vals, float), marker="o" if markers else None,
                           color=PALETTE[i % 7], label=name)
        if name in bands:
            ax.fill_between(xs, np.asarray(bands[name][0], float),
                            np.asarray(bands[name][1], float), color=PALETTE[i % 7],
                            alpha=0.2, linewidth=0)
    if secondary:
        ax2 = ax.twinx()
        for j, (name, vals) in enumerate(secondary.items()):
            color = PALETTE[(len(series) + j) % 7]
            handles += ax2.plot(xs, np.asarray(vals, float), linestyle="--",
                                marker="s" if markers else None, color=color, label=name)
            if name in bands:
                ax2.fill_between(xs, np.asarray(bands[name][0], float),
                                 np.asarray(bands[name][1], float), color=color, alpha=0.15,
                                 linewidth=0)
        ax2.set_ylabel(secondary_label)
    ax.legend(handles=handles, labels=[h.get_label() for h in handles], fontsize=8)
    return _finish(fig, ax, title, xlabel, ylabel, source)


def panel_chart(x: Sequence, panels: Sequence[dict], *, title: str, xlabel: str,
                source: str) -> Figure:
    """Small multiples side by side over the same x: each panel a dict with ``title``,
    ``ylabel``, ``series`` (name → values) and optional ``bands`` (name → (low, high),
    shaded). Rates of different size get their own scale instead of one flattened axis."""
    setup_fonts()
    n = max(1, len(panels))
    fig = Figure(figsize=(4.0 * n, 4.2), dpi=100, layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    xs = list(x)
    for k, (ax, panel) in enumerate(zip(axes, panels, strict=False)):
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        for i, (name, vals) in enumerate(panel["series"].items()):
            color = PALETTE[(2 * k + i) % 7]
            ax.plot(xs, np.asarray(vals, float), marker="o", markersize=3, color=color,
                    label=name)
            if name in panel.get("bands", {}):
                low, high = panel["bands"][name]
                ax.fill_between(xs, np.asarray(low, float), np.asarray(high, float),
                                color=color, alpha=0.22, linewidth=0)
        ax.set_title(panel["title"], fontsize=10)
        ax.set_ylabel(panel.get("ylabel", ""))
        ax.set_xlabel(xlabel, fontsize=8)
        if len(panel["series"]) > 1:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=12)
    fig.text(0.01, 0.0, f"来源 Source: {source}", fontsize=8, color="#555555",
             ha="left", va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    return fig


def band_chart(frame: pd.DataFrame, *, x: str, group: str, mid: str, low: str, high: str,
               title: str, xlabel: str, ylabel: str, source: str, scale: float = 1.0) -> Figure:
    """A line per group with a shaded low–high band (e.g. P50 with P5–P95 by program)."""
    fig, ax = _figure(8.5, 4.6)
    for i, (name, part) in enumerate(frame.groupby(group, sort=False)):
        part = part.sort_values(x)
        color = PALETTE[i % 7]
        xs = part[x].to_numpy()
        ax.plot(xs, part[mid].to_numpy(float) / scale, marker="o", color=color, label=str(name))
        ax.fill_between(xs, part[low].to_numpy(float) / scale,
                        part[high].to_numpy(float) / scale, color=color, alpha=0.18)
    if frame[x].nunique() <= 12:
        ax.set_xticks(sorted(frame[x].unique()))
    ax.legend(fontsize=8, ncols=2)
    return _finish(fig, ax, title, xlabel, ylabel, source)


def png_bytes(fig: Figure) -> bytes:
    """The figure rendered as PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def describe(fig: Figure) -> str:
    """The figure's titles, as alternative text for its image."""
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return "; ".join(titles) or "chart"


def show(fig: Figure, save_to: Path | str | None = None):
    """Display ``fig`` in a notebook as a PNG image with alternative text (its title), and
    save it to ``save_to``. Returns the PNG bytes outside IPython."""
    import base64
    import html

    data = png_bytes(fig)
    if save_to is not None:
        Path(save_to).parent.mkdir(parents=True, exist_ok=True)
        Path(save_to).write_bytes(data)
    try:
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return data
    encoded = base64.b64encode(data).decode("ascii")
    display(HTML(f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(describe(fig))}"'
                 ' style="max-width:100%">'))
    return None
