"""Issue 16: every figure of both shipped reports is legible and nothing in it is clipped or
overlapping. Each figure is checked as the report draws it (`bayesnet.plots.save` is
intercepted): after drawing, the window extent of every text matplotlib drew
(`Text.get_window_extent`) lies inside the figure, no two texts overlap, no text or legend
covers a data marker or a bar, the forest plot's study labels are not shortened, and every
font is at least MIN_PX pixels high when the figure is shown in the report (report.html
shows a figure at its PNG size, at most the page's 1000 px wide)."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.text import Text

from bayesnet import plots

ROOT = Path(__file__).resolve().parents[2]
PTR = ROOT / "models" / "ptr_bias_adjusted.toml"
LIVER = ROOT / "models" / "liver_resection_case_series.toml"

PAGE_PX = 1000  # report.css: body max-width 1000px; img max-width 100%
PNG_DPI = 130  # plots.save
MIN_PX = 11.0  # smallest legible glyph height (font size in px) at 100% zoom
TOL_PX = 1.0  # rounding of extents


def _drawn_texts(fig):
    """Draw `fig`; return [(Text, Bbox)] for every non-empty text matplotlib drew."""
    drawn = []
    orig = Text.draw

    def draw(self, renderer):
        orig(self, renderer)
        if self.get_visible() and self.get_text().strip() and self.get_alpha() != 0:
            drawn.append((self, self.get_window_extent(renderer)))

    Text.draw = draw
    try:
        fig.canvas.draw()
    finally:
        Text.draw = orig
    return drawn


def _label(t):
    return repr(t.get_text()[:50])


def figure_problems(fig, name: str) -> list[str]:
    """Everything that makes `fig` illegible or clipped, as sentences ([] when none)."""
    texts = _drawn_texts(fig)
    renderer = fig.canvas.get_renderer()
    W, H = fig.bbox.width, fig.bbox.height
    w_in = fig.get_figwidth()
    shown_dpi = min(PNG_DPI, PAGE_PX / w_in)  # the PNG is scaled down to the page width
    out = []
    for t, bb in texts:
        if bb.x0 < -TOL_PX or bb.y0 < -TOL_PX or bb.x1 > W + TOL_PX or bb.y1 > H + TOL_PX:
            out.append(f"{name}: text {_label(t)} is clipped by the figure edge ({bb.bounds} in {W:.0f}x{H:.0f})")
        px = t.get_fontsize() * shown_dpi / 72
        if px < MIN_PX:
            out.append(f"{name}: text {_label(t)} is {px:.1f} px high in the report (needs >= {MIN_PX:g})")
        if t.get_text().endswith("\u2026") or t.get_text().endswith("..."):
            out.append(f"{name}: text {_label(t)} is cut")
    for (a, ba), (b, bb) in itertools.combinations(texts, 2):
        w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        if w > TOL_PX and h > TOL_PX:
            out.append(f"{name}: texts {_label(a)} and {_label(b)} overlap ({w:.0f}x{h:.0f} px)")
    # texts and legends must not cover data: markers and bars
    for ax in fig.axes:
        marks = []
        for ln in ax.get_lines():
            if ln.get_marker() in (None, "None", "", " ") or not ln.get_visible():
                continue
            xy = ax.transData.transform(np.column_stack(ln.get_data()).astype(float))
            r = ln.get_markersize() * fig.dpi / 72 / 2
            marks += [(x - r, y - r, x + r, y + r) for x, y in xy if np.all(np.isfinite([x, y]))]
        for cont in ax.containers:
            for p in cont:
                if hasattr(p, "get_window_extent") and p.get_width() != 0:
                    e = p.get_window_extent(renderer)
                    marks.append((e.x0, e.y0, e.x1, e.y1))
        covers = [(t, bb) for t, bb in texts if t.axes is ax and t not in ax.get_xticklabels() + ax.get_yticklabels()]
        leg = ax.get_legend()
        if leg is not None:
            covers.append((leg, leg.get_window_extent(renderer)))
        for t, bb in covers:
            for x0, y0, x1, y1 in marks:
                w, h = min(bb.x1, x1) - max(bb.x0, x0), min(bb.y1, y1) - max(bb.y0, y0)
                if w > TOL_PX and h > TOL_PX:
                    what = "legend" if t is leg else f"text {_label(t)}"
                    out.append(f"{name}: {what} covers a data point or bar")
                    break
    return out


@pytest.fixture
def capture(monkeypatch):
    """Intercept plots.save: check each figure as drawn, then save it as usual."""
    found: dict[str, list[str]] = {}
    orig = plots.save

    def save(fig, path_stem):
        found[Path(path_stem).name] = figure_problems(fig, Path(path_stem).name)
        return orig(fig, path_stem)

    monkeypatch.setattr(plots, "save", save)
    return found


def test_every_figure_of_the_ptr_report_is_legible(capture, tmp_path):
    from bayesnet.report import write_report

    write_report(PTR, tmp_path / "ptr")
    assert {"forest", "density", "sweep", "influence", "bias_curve", "benefit_curve", "funnel"} <= set(capture)
    problems = [p for ps in capture.values() for p in ps]
    assert not problems, "\n".join(problems)


def test_every_figure_of_the_liver_report_is_legible(capture, tmp_path):
    from bayesnet.report import write_report

    write_report(LIVER, tmp_path / "liver")  # every figure of the liver report, the arm forest among them
    assert {"forest", "arm_forest", "density"} <= set(capture)
    problems = [p for ps in capture.values() for p in ps]
    assert not problems, "\n".join(problems)


def test_the_checker_finds_clipped_overlapping_and_tiny_text():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.text(0.5, 0.5, "one label", fontsize=10)
    ax.text(0.5, 0.5, "another label", fontsize=10)  # on top of the first
    ax.text(0.99, 0.5, "runs off the right edge of the figure", fontsize=10, transform=fig.transFigure)
    ax.text(0.1, 0.9, "tiny", fontsize=4)
    ax.plot([0.2], [0.2], "o", ms=8)
    ax.text(0.2, 0.2, "on a point", fontsize=10, ha="center", va="center")
    ax.bar([0.8], [0.9], width=0.1)
    ax.legend(["x", "y"], loc="upper right")
    probs = " ".join(figure_problems(fig, "f"))
    plt.close(fig)
    assert "overlap" in probs and "clipped" in probs and "px high" in probs
    assert "'on a point' covers a data point" in probs and "legend covers" in probs
    matplotlib.pyplot.close("all")


def test_the_arm_forest_uses_its_width(tmp_path):
    import matplotlib.pyplot as plt

    from bayesnet.api import evidence_for, load_spec
    from bayesnet.evidence.arms import arm_rows_of

    table = arm_rows_of(evidence_for(load_spec(LIVER)).table)[1]
    fig = plots.arm_forest(table)
    fig.canvas.draw()
    ax = fig.axes[0]
    share = ax.get_position().width
    plt.close(fig)
    assert share >= 0.5, f"the plotting area is {share:.0%} of the figure's width"
