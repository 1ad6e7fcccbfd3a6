"""The multiverse in the report and its figures: the specification curve (Simonsohn,
Simmons & Nelson 2020, Nat Hum Behav 4:1208-14), the vibration of effects (Patel,
Burford & Ioannidis 2015, J Clin Epidemiol 68:1046-58) and per-axis small multiples; the
section "Every reasonable analysis", shown only when the spec names a grid
(``[report] multiverse = "GRID.toml"``, relative to the spec file)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .. import format as fmt
from ..format import prob_key
from .blocks import Block, Bullets, Figure, Heading, Paragraph

__all__ = ["axes_plot", "multiverse_blocks", "multiverse_for_report", "save_figures", "specification_curve",
           "vibration_plot", "write_multiverse_outputs"]

EQUIV, OTHER, LINE = "#1c7ed6", "#adb5bd", "#495057"
RASTER_ABOVE = 300  # settings above which the specification curve's marks are rasterised in the SVG


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "bayesnet"
    import matplotlib.pyplot as plt

    return plt


def _tx(x, width: int = 48) -> str:
    from ..plots import _tx as tx

    return tx(x, width)


def _log_axis(ax, lo, hi, axis="y"):
    from ..plots import _hr_axis

    _hr_axis(ax, lo, hi, axis=axis)


def _ok(res):
    df = res.table
    from ..multiverse_analysis import _equivalent_mask

    ok = df["status"].eq("ok") & df["hr_median"].notna()
    eq = _equivalent_mask(df, res.grid)
    return df[ok].assign(_eq=eq[ok].to_numpy())


def specification_curve(res):
    """Settings sorted by pooled HR (median, with its 95% credible interval; log axis),
    the thresholds marked, settings built only from equivalent choices in colour; beneath,
    the decision panel: one row per choice, a mark where a setting made it."""
    plt = _plt()
    d = _ok(res).sort_values(["hr_median", "setting"], kind="stable").reset_index(drop=True)
    grid = res.grid
    rows = [(a, c.label) for a in ("selection", "model", "priors", "bias") for c in grid.axes[a]
            if len(grid.axes[a]) > 1]
    n = max(len(d), 1)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 3.6 + 0.19 * max(len(rows), 1)), sharex=True,
                                  gridspec_kw={"height_ratios": [3.2, 0.19 * max(len(rows), 1) + 0.3]},
                                  layout="constrained")
    x = np.arange(len(d))
    col = np.where(d["_eq"], EQUIV, OTHER)
    many = len(d) > RASTER_ABOVE  # thousands of marks: embedded as an image in the SVG (small, fast)
    if len(d):
        for eq, z in ((False, 1), (True, 2)):  # the equivalent settings drawn on top
            m = (d["_eq"] == eq).to_numpy()
            c = EQUIV if eq else OTHER
            ax.vlines(x[m], d["hr_low"][m], d["hr_high"][m], colors=c, lw=0.6, alpha=0.6, zorder=z, rasterized=many)
            ax.scatter(x[m], d["hr_median"][m], c=c, s=6, zorder=z + 2, rasterized=many)
        lo = min(d["hr_low"].min(), min(grid.thresholds)) * 0.9
        hi = max(d["hr_high"].max(), max(grid.thresholds)) * 1.1
        _log_axis(ax, lo, hi, "y")
    for t in grid.thresholds:
        ax.axhline(t, color=LINE, lw=0.8, ls="--" if t != 1 else "-")
        ax.annotate(f"HR {fmt.threshold(t)}", (1.0, t), xycoords=("axes fraction", "data"), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8, color=LINE)
    ax.set_ylabel("pooled HR (median, 95% CrI)")
    ax.set_title(f"Specification curve: {len(d)} settings with numbers, sorted by pooled HR\n"
                 f"(blue: built only from choices marked equivalent)", fontsize=10)
    lab = {r: i for i, r in enumerate(rows)}
    if len(d) and rows:
        for a in ("selection", "model", "priors", "bias"):
            if len(grid.axes[a]) < 2:
                continue
            ys = [lab[(a, v)] for v in d[a]]
            ax2.scatter(x, ys, marker="|", s=14, c=col, linewidths=0.7, rasterized=many)
        ax2.set_yticks(range(len(rows)), [_tx(f"{a}: {v}", 72) for a, v in rows], fontsize=7.5)
        ax2.set_ylim(len(rows) - 0.5, -0.5)
        edges = np.cumsum([len(grid.axes[a]) for a in ("selection", "model", "priors", "bias")
                           if len(grid.axes[a]) > 1])[:-1]
        for e in edges:
            ax2.axhline(e - 0.5, color=LINE, lw=0.5)
    ax2.set_xlabel("setting (rank of the pooled HR)")
    ax2.set_xlim(-0.5, n - 0.5)
    return fig


def vibration_plot(res):
    """Vibration of effects: each setting's pooled HR (median, log axis) against its
    P(HR < 1) (first threshold), the 0.95 and 0.5 lines marked."""
    plt = _plt()
    d = _ok(res)
    t = res.grid.thresholds[0]
    key = prob_key(t)
    fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    for eq, colr, name in ((False, OTHER, "other settings"), (True, EQUIV, "only equivalent choices")):
        s = d[d["_eq"] == eq]
        if len(s):
            ax.scatter(s["hr_median"], s[key], s=10, c=colr, alpha=0.8, label=f"{name} ({len(s)})",
                       rasterized=len(d) > RASTER_ABOVE)
    if len(d):
        lo = min(d["hr_median"].min(), t) * 0.9
        hi = max(d["hr_median"].max(), t) * 1.1
        _log_axis(ax, lo, hi, "x")
    for p in (0.95, 0.5):
        ax.axhline(p, color=LINE, lw=0.8, ls="--")
    ax.axvline(t, color=LINE, lw=0.8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("pooled HR (posterior median)")
    ax.set_ylabel(fmt.prob_label(key))
    ax.set_title(_tx(f"Vibration of effects: {len(d)} settings", 90), fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def axes_plot(res):
    """Per-axis small multiples: the pooled HRs (medians) of the settings making each
    choice, as box plots on a log axis, one panel per axis with two or more choices."""
    plt = _plt()
    d = _ok(res)
    axes = [a for a in ("selection", "model", "priors", "bias") if len(res.grid.axes[a]) > 1]
    heights = [0.3 * len(res.grid.axes[a]) + 0.8 for a in axes] or [1.0]
    fig, axs = plt.subplots(len(heights), 1, figsize=(8.5, sum(heights) + 0.6),
                            gridspec_kw={"height_ratios": heights}, layout="constrained", squeeze=False)
    lo = min(d["hr_median"].min(), min(res.grid.thresholds)) * 0.9 if len(d) else 0.1
    hi = max(d["hr_median"].max(), max(res.grid.thresholds)) * 1.1 if len(d) else 10
    for ax, a in zip(axs[:, 0], axes):
        labels = [c.label for c in res.grid.axes[a]]
        data = [d.loc[d[a] == lab, "hr_median"].to_numpy() for lab in labels]
        keep = [i for i, v in enumerate(data) if len(v)]
        if keep:
            ax.boxplot([data[i] for i in keep], positions=keep, orientation="horizontal", widths=0.6, showfliers=True,
                       flierprops={"markersize": 2})
        ax.set_yticks(range(len(labels)), [_tx(f"{lab} ({c.cls})", 80) for lab, c in zip(labels, res.grid.axes[a])],
                      fontsize=8)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        _log_axis(ax, lo, hi, "x")
        for t in res.grid.thresholds:
            ax.axvline(t, color=LINE, lw=0.8, ls="-" if t == 1 else "--")
        ax.set_title(f"by {a}", fontsize=9, loc="left")
    axs[-1, 0].set_xlabel("pooled HR (posterior median) of the settings making each choice")
    return fig


def _save_atomic(fig, stem: Path) -> Path:
    """<stem>.png and <stem>.svg, each written to a temporary file and renamed (no dates:
    the same figure gives the same bytes). Returns the png path."""
    plt = _plt()
    stem.parent.mkdir(parents=True, exist_ok=True)
    try:
        for ext in ("png", "svg"):
            p = stem.with_suffix(f".{ext}")
            fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
            os.close(fd)
            try:
                fig.savefig(tmp, format=ext, dpi=130 if ext == "png" else None,
                            metadata={"Date": None} if ext == "svg" else {"Software": None})
                os.chmod(tmp, 0o644)  # as the report's other figures (mkstemp makes 0600)
                os.replace(tmp, p)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    finally:
        plt.close(fig)
    return stem.with_suffix(".png")


def save_figures(res, figdir, prefix: str = "") -> dict[str, Path]:
    """<prefix>specification_curve, <prefix>vibration_of_effects and <prefix>axes (png +
    svg) into `figdir`; returns {key: png path} (keys with the prefix)."""
    figdir = Path(figdir)
    draw = {"specification_curve": specification_curve, "vibration_of_effects": vibration_plot, "axes": axes_plot}
    return {f"{prefix}{k}": _save_atomic(f(res), figdir / f"{prefix}{k}") for k, f in draw.items()}


# ---------------------------------------------------------------------------------------
# The report section
# ---------------------------------------------------------------------------------------

def multiverse_for_report(spec, data=None):
    """The multiverse the spec's `[report] multiverse` names (a grid TOML, relative to the
    spec file), run in-process; None when it names none. Returns the MultiverseResult."""
    grid = getattr(spec.report, "multiverse", None)
    if not grid:
        return None
    from ..multiverse_analysis import multiverse

    p = Path(grid)
    p = p if p.is_absolute() else spec.base_dir / p
    return multiverse(spec, p, data=data)


def write_multiverse_outputs(rep: dict, out_dir) -> dict[str, Path]:
    """Write the report's multiverse (rep["_multiverse"], popped): out_dir/multiverse/
    multiverse.csv and summary.json, and its figures as out_dir/figures/multiverse_*; put
    its summary in rep["multiverse"]; returns the figures for the report ({} without a
    multiverse)."""
    res = rep.pop("_multiverse", None)
    if res is None:
        return {}
    from ..api import to_json

    d = Path(out_dir) / "multiverse"
    d.mkdir(parents=True, exist_ok=True)
    res.table.to_csv(d / "multiverse.csv", index=False)
    (d / "summary.json").write_text(to_json(res.summary), encoding="utf-8")
    rep["multiverse"] = res.summary
    # the figures once, beside the report's other figures (figures/multiverse_*.png|svg)
    return save_figures(res, Path(out_dir) / "figures", prefix="multiverse_")


def multiverse_blocks(rep: dict) -> list[Block]:
    """The section "Every reasonable analysis": the headline count in one sentence (the
    settings built only from equivalent choices), the count over all settings, the range
    of pooled HRs, which axis moves the answer most, and the figures."""
    s = rep.get("multiverse")
    if not s:
        return []
    b: list[Block] = [Heading(2, "6c. Every reasonable analysis")]
    b.append(Paragraph(s["headline"]))
    t = s["thresholds"][0]
    key = prob_key(t)
    al = s["share"][fmt.threshold(t)]["all"][f"{key}_gt_0.95"]
    st = s["status"]
    rng = s["hr_range"]["all"]
    bullets = [f"Over every setting of the grid, including choices marked uncertain or non-equivalent: "
               f"{al['text']} give a probability above 0.95 that the HR is below {fmt.threshold(t)}"
               + (f"; pooled HRs from {fmt.hr(rng['min'])} to {fmt.hr(rng['max'])}." if rng["min"] is not None else ".")]
    for tt in s["thresholds"][1:]:
        k2 = prob_key(tt)
        e2 = s["share"][fmt.threshold(tt)]["equivalent"][f"{k2}_gt_0.95"]
        bullets.append(f"HR below {fmt.threshold(tt)} with probability above 0.95: {e2['text']}.")
    if st.get("failed") or st.get("needs_mcmc"):
        bullets.append(f"Not counted: {st.get('failed', 0)} setting(s) that could not be fitted and "
                       f"{st.get('needs_mcmc', 0)} that need MCMC (multiverse.csv gives each reason).")
    inf = s.get("influence", {}).get("axes", {})
    if inf:
        top = max(inf, key=lambda a: inf[a]["share_of_variance"])
        lv = inf[top]["hr_by_level"]
        bullets.append(f"The choice that moves the pooled HR most is the {top} "
                       f"({inf[top]['share_of_variance']:.0%} of the variation of the log-HR across the crossed "
                       f"settings; pooled HR averaged on the log scale, by choice, from {fmt.hr(min(lv.values()))} to "
                       f"{fmt.hr(max(lv.values()))}).")
    if len(s["axes"]["bias"]) > 1 or s["axes"]["bias"][0]["label"] != "(spec)":
        bullets.append("Each setting's numbers are under that setting's own bias assumption (the bias axis of the "
                       "grid; a bias entry with no bias model gives the results as reported).")
    bullets.append("These are counts of analyses in the grid the analysts chose, not probabilities: a different "
                   "grid gives different counts.")
    b.append(Bullets(bullets))
    b.append(Figure("multiverse_specification_curve",
                    "Specification curve: every setting's pooled HR with its 95% credible interval, sorted; "
                    "beneath, the choices each setting made"))
    b.append(Figure("multiverse_vibration_of_effects",
                    f"Vibration of effects: pooled HR against the probability that the HR is below {fmt.threshold(t)}"))
    b.append(Figure("multiverse_axes", "Pooled HRs of the settings making each choice, axis by axis"))
    return b
