"""Figures for panels, all on the HR scale with a log axis and the thresholds marked.

forest            reported and shrunken estimates, grouped by design, pooled diamond and
                  predictive bar
density           posterior density of the pooled HR (and the predictive HR), with the
                  benefit/harm regions shaded and their probabilities written on the plot
sweep_plot        P(benefit) and the pooled HR interval across prior settings
influence_plot    change in P(benefit) and pooled HR when a study or a level is left out
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

__all__ = ["forest", "density", "sweep_plot", "influence_plot", "save"]

BENEFIT, HARM, NEUTRAL = "#2b8a3e", "#c92a2a", "#495057"


def _hr_axis(ax, lo, hi, axis="x"):
    lo, hi = max(lo, 1e-3), min(hi, 1e3)
    ticks = [t for t in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20) if lo <= t <= hi]
    set_scale = ax.set_xscale if axis == "x" else ax.set_yscale
    set_lim = ax.set_xlim if axis == "x" else ax.set_ylim
    set_scale("log")
    set_lim(lo, hi)
    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(FixedLocator(ticks))
    a.set_minor_locator(NullLocator())
    a.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))


def _pf(p: float) -> str:
    return ">0.999" if p > 0.999 else "<0.001" if p < 0.001 else f"{p:.3f}"


def forest(post, group: str | None = None, title: str | None = None):
    """Forest plot: for each study the reported HR (square, 95% CI) and the shrunken HR
    (circle, 95% credible interval), grouped by `group` (default: the first covariate, or
    design); the pooled HR (diamond) and the 95% predictive interval (bar) at the bottom."""
    st = post.studies_table()
    grp = group or post.model_data.het_column or (list(post.model_data.covariates)[0] if post.model_data.covariates else None)
    if grp is None:
        grp = next((c for c in ("source_type", "design_class", "design", "data_source")
                    if c in st.columns and st[c].astype(str).nunique() >= 2), None)
    if grp and grp in st.columns:
        st = st.sort_values([grp, "hr"], kind="stable")
    rows, labels, y = [], [], 0
    prev = None
    for _, r in st.iterrows():
        g = r[grp] if grp and grp in st.columns else None
        if g != prev and g is not None:
            labels.append((y, f"{grp}: {g}", True))
            y += 1
            prev = g
        rows.append((y, r))
        labels.append((y, str(r["study"]), False))
        y += 1
    y += 0.5
    n = y + 2
    fig, ax = plt.subplots(figsize=(9, 0.38 * n + 1.6))
    for yy, r in rows:
        ax.plot([r["hr_low"], r["hr_high"]], [yy - 0.15] * 2, color=NEUTRAL, lw=1.2)
        ax.plot(r["hr"], yy - 0.15, "s", color=NEUTRAL, ms=5, label="reported (95% CI)" if yy == rows[0][0] else None)
        ax.plot([r["shrunken_low"], r["shrunken_high"]], [yy + 0.15] * 2, color="#1c7ed6", lw=1.2)
        ax.plot(r["shrunken_hr"], yy + 0.15, "o", color="#1c7ed6", ms=5,
                label="shrunken (95% CrI)" if yy == rows[0][0] else None)
    pooled, pred = post["pooled"], post["predictive"]
    q = np.exp(pooled.quantile([0.025, 0.5, 0.975]))
    qp = np.exp(pred.quantile([0.025, 0.975]))
    yd = y
    ax.fill([q[0], q[1], q[2], q[1]], [yd, yd - 0.3, yd, yd + 0.3], color="black", label="pooled HR (95% CrI)")
    ax.plot(qp, [yd + 1] * 2, color="#e8590c", lw=4, solid_capstyle="butt", label="95% predictive interval")
    labels += [(yd, "Pooled (reference levels)", True), (yd + 1, "New study (predictive)", True)]
    ax.axvline(1.0, color="black", lw=0.8)
    for t in post.spec.thresholds:
        if t != 1.0:
            ax.axvline(t, color=BENEFIT, lw=0.8, ls="--")
    ax.axvline(post.spec.harm, color=HARM, lw=0.8, ls="--")
    allx = np.concatenate([st["hr_low"], st["hr_high"], st["shrunken_low"], st["shrunken_high"], qp, q])
    lo, hi = float(np.nanmin(allx)) / 1.3, float(np.nanmax(allx)) * 1.3
    lo, hi = min(lo, 0.5), max(hi, post.spec.harm * 1.2)
    _hr_axis(ax, lo, hi)
    ax.axvspan(lo, 1.0, color=BENEFIT, alpha=0.04)
    ax.set_yticks([p for p, _, _ in labels])
    ax.set_yticklabels([t for _, t, _ in labels])
    for tick, (_, _, bold) in zip(ax.get_yticklabels(), labels):
        if bold:
            tick.set_fontweight("bold")
    ax.set_ylim(yd + 1.8, -0.8)
    ax.set_xlabel("Hazard ratio (log scale; < 1 favours the treatment)")
    ax.set_title(title or "Study estimates, reported and shrunken")
    ax.legend(loc="lower left", fontsize=8, frameon=True, framealpha=0.9)
    fig.tight_layout()
    return fig


def density(post, title: str | None = None):
    """Posterior density of the pooled HR (and the predictive HR, dashed), benefit regions
    (HR below each threshold) and the harm region shaded, with their probabilities."""
    pooled, pred = post["pooled"], post["predictive"]
    lo_q, hi_q = pred.quantile([0.001, 0.999])
    xs = np.linspace(lo_q, hi_q, 600)
    th, harm = sorted(post.spec.thresholds), post.spec.harm

    def dens(m):
        if hasattr(m, "pdf"):
            return m.pdf(xs)
        from scipy.stats import gaussian_kde

        return gaussian_kde(m.draws.ravel())(xs)

    dp, dq = dens(pooled), dens(pred)
    h = np.exp(xs)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.plot(h, dp, color="black", lw=1.8, label="pooled HR")
    ax.plot(h, dq, color="#e8590c", lw=1.2, ls="--", label="HR in a new study (predictive)")
    shades = [BENEFIT] * len(th)
    for i, t in enumerate(th):
        mask = h <= t
        ax.fill_between(h[mask], 0, dp[mask], color=shades[i], alpha=0.12 + 0.1 * (len(th) - i - 1))
        ax.axvline(t, color=BENEFIT, lw=0.9, ls="--")
    mask = h >= harm
    ax.fill_between(h[mask], 0, dp[mask], color=HARM, alpha=0.25)
    ax.axvline(harm, color=HARM, lw=0.9, ls="--")
    ymax = max(dp.max(), dq.max())
    texts = [f"P(HR < {t:g}) = {_pf(post.prob('pooled', t))}  (new study: {_pf(post.prob('predictive', t))})" for t in th]
    texts.append(f"P(HR > {harm:g}) = {_pf(post.prob('pooled', harm, 'gt'))}  (new study: {_pf(post.prob('predictive', harm, 'gt'))})")
    ax.text(0.98, 0.95, "\n".join(texts), transform=ax.transAxes, ha="right", va="top", fontsize=8.5,
            bbox=dict(facecolor="white", edgecolor="#ced4da"))
    _hr_axis(ax, float(h.min()), float(h.max()))
    ax.set_ylim(0, ymax * 1.45)
    ax.set_xlabel("Hazard ratio (log scale)")
    ax.set_ylabel("posterior density (log-HR scale)")
    ax.set_title(title or "Posterior of the pooled hazard ratio")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def _interval_panel(ax, df, labels, colors=NEUTRAL, reference: float | None = None):
    """Left panel shared by the sweep and influence figures: pooled HR medians with their
    95% intervals, one row per setting, on a log axis."""
    y = np.arange(len(df))
    ax.hlines(y, df["hr_low"], df["hr_high"], color=colors)
    ax.plot(df["hr_median"], y, "o", color="black", ms=4)
    if reference is not None:
        ax.axvline(reference, color="#1c7ed6", lw=0.8, ls="--")
    ax.axvline(1.0, color="black", lw=0.8)
    _hr_axis(ax, min(df["hr_low"].min() / 1.2, 0.5), max(df["hr_high"].max() * 1.2, 1.2))
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlabel("pooled HR, 95% CrI")
    return y


def sweep_plot(df, threshold_col: str | None = None, title: str | None = None):
    """Left: pooled HR (median, 95% interval) per prior setting; right: P(benefit)."""
    pcols = [c for c in df.columns if c.startswith("p_hr_lt_")]
    col = threshold_col or (sorted(pcols, key=lambda c: float(c[len("p_hr_lt_"):]))[0] if pcols else None)
    labels = [f"tau: {a} | mu: {b}" for a, b in zip(df["tau_prior"], df["mu_prior"])]
    n = len(df)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 0.32 * n + 1.8), sharey=True,
                                 gridspec_kw={"width_ratios": [1.4, 1]})
    y = _interval_panel(a1, df, labels)
    t = col[len("p_hr_lt_"):]
    a2.barh(y, df[col], color=BENEFIT, alpha=0.7, label=f"P(HR < {t}) pooled")
    pc = col.replace("p_hr_lt_", "p_pred_hr_lt_")
    if pc in df:
        a2.plot(df[pc], y, "D", color="#e8590c", ms=4, label=f"P(HR < {t}) new study")
    a2.axvline(0.95, color="black", lw=0.8, ls=":")
    a2.set_xlim(0, 1)
    a2.set_xlabel("probability")
    a2.legend(fontsize=8, loc="lower right")
    fig.suptitle(title or "Prior sensitivity")
    fig.tight_layout()
    return fig


def influence_plot(df, title: str | None = None):
    """Pooled HR and P(benefit) when each study or level is left out (full analysis first)."""
    col = df.attrs.get("benefit_column") or next(c for c in df.columns if c.startswith("p_hr_lt_"))
    pc = col.replace("p_hr_lt_", "p_pred_hr_lt_")
    n = len(df)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12.5, 0.32 * n + 1.8), sharey=True, gridspec_kw={"width_ratios": [1.4, 1]})
    colors = [HARM if f else NEUTRAL for f in df.get("flag", [False] * n)]
    labels = [("without " + o if k != "full" else "all studies") for o, k in zip(df["omitted"], df["kind"])]
    y = _interval_panel(a1, df, labels, colors, reference=df["hr_median"].iloc[0])
    t = col[len("p_hr_lt_"):]
    a2.plot(df[col], y, "o", color=BENEFIT, label=f"P(HR < {t}) pooled")
    if pc in df:
        a2.plot(df[pc], y, "D", color="#e8590c", ms=4, label=f"P(HR < {t}) new study")
    a2.set_xlim(0, 1.02)
    a2.set_xlabel("probability")
    a2.legend(fontsize=8, loc="lower left")
    fig.suptitle(title or "Influence: leave one study / one kind of study out")
    fig.tight_layout()
    return fig


def save(fig, path_stem: Path) -> list[Path]:
    """Write <stem>.png and <stem>.svg; returns the paths."""
    path_stem = Path(path_stem)
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in ("png", "svg"):
        p = path_stem.with_suffix(f".{ext}")
        fig.savefig(p, dpi=130 if ext == "png" else None, metadata={"Date": None} if ext == "svg" else None)
        out.append(p)
    plt.close(fig)
    return out
