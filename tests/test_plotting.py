"""Charts render Chinese labels with the bundled CJK font (plotting.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager, rcParams

from jiuzhu_sim import plotting

CHINESE = "低保特困边缘临时救助覆盖率漏保错保资金漏出"


def _glyph_warnings(record) -> list[str]:
    return [str(w.message) for w in record
            if "missing from font" in str(w.message) or "Glyph" in str(w.message)]


def _render(fig) -> list[str]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        data = plotting.png_bytes(fig)
    assert data.startswith(b"\x89PNG")
    return _glyph_warnings(record)


def test_setup_fonts_registers_the_bundled_noto_cjk_font():
    name = plotting.setup_fonts()
    assert plotting.font_path().name == "NotoSansCJKsc-Regular.otf"
    assert rcParams["font.sans-serif"][0] == name
    assert rcParams["axes.unicode_minus"] is False
    found = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    assert found.endswith("NotoSansCJKsc-Regular.otf")


def test_chinese_bar_chart_renders_without_missing_glyph_warnings():
    fig = plotting.bar_chart(list(CHINESE[:6]), [3, -1, 4, 1, 5, 9], title=f"标题 {CHINESE}",
                             xlabel="项目 item", ylabel="金额 amount (元 yuan)",
                             source="测试数据 test data")
    assert _render(fig) == []


def test_every_chart_helper_has_title_units_and_source_and_renders_cleanly():
    frame = pd.DataFrame({"低保 dibao": [1.0, 2.0], "特困 tekun": [3.0, -4.0]},
                         index=["基线 baseline", "改革 reform"])
    bands = pd.DataFrame({"year": [2025, 2026, 2025, 2026], "program": ["低保"] * 2 + ["特困"] * 2,
                          "p50": [10.0, 11, 5, 6], "p5": [8.0, 9, 4, 5],
                          "p95": [12.0, 13, 6, 7]})
    figs = [
        plotting.bar_chart(["甲", "乙"], [1, 2], horizontal=True, title="横向 bars",
                           xlabel="类别", ylabel="人数 persons (人)", source="来源甲"),
        plotting.grouped_bar_chart(frame, title="分组 grouped", xlabel="方案",
                                   ylabel="元 yuan", source="来源乙", stacked=True),
        plotting.line_chart([0.4, 0.5], {"覆盖率 (%)": [80, 75]}, secondary={"成本": [1, 2]},
                            secondary_label="万元", title="曲线 curve", xlabel="比例",
                            ylabel="比率 (%)", source="来源丙"),
        plotting.band_chart(bands, x="year", group="program", mid="p50", low="p5",
                            high="p95", title="区间 band", xlabel="年份", ylabel="万元",
                            source="来源丁"),
    ]
    for fig in figs:
        ax = fig.axes[0]
        assert ax.get_title()
        assert ax.get_ylabel() or ax.get_xlabel()
        assert any(t.get_text().startswith("来源 Source:") for t in fig.texts)
        assert _render(fig) == []


def test_show_saves_the_png(tmp_path):
    fig = plotting.bar_chart(["甲"], [np.float64(1.5)], title="保存 save", xlabel="x",
                             ylabel="y", source="s")
    target = tmp_path / "chart.png"
    plotting.show(fig, target)
    assert target.read_bytes().startswith(b"\x89PNG")


def test_default_font_would_warn_so_the_check_can_fail():
    """Without the CJK font DejaVu Sans lacks these glyphs: the warning test is not vacuous."""
    from matplotlib.figure import Figure

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(rcParams, "font.family", ["DejaVu Sans"])
        fig = Figure()
        fig.add_subplot().set_title(CHINESE)
        assert _render(fig) != []
