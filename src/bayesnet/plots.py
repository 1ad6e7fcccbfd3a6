"""Figures for panels, all on the HR scale with a log axis and the thresholds marked.

forest            reported and shrunken estimates, grouped by design, pooled diamond and
                  predictive bar
density           posterior density of the pooled HR (and the predictive HR), with the
                  benefit/harm regions shaded and their probabilities written on the plot
sweep_plot        P(benefit) and the pooled HR interval across prior settings
influence_plot    change in P(benefit) and pooled HR when a study or a level is left out
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

# No backend is chosen here: importing bayesnet.plots in a notebook keeps inline figures.
# The command line selects Agg (bayesnet.cli.main); `save` writes files with any backend.
# deterministic SVG element ids (the ids are hashed from this salt, not from a random UUID)
matplotlib.rcParams["svg.hashsalt"] = "bayesnet"
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

from . import format as fmt  # noqa: E402
from .evidence.conversions import interval_tails  # noqa: E402
from .evidence.derivations import is_derived  # noqa: E402
from .format import p_eq, parse_prob_key, prob_key, prob_label  # noqa: E402

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


def _tx(x, width: int | None = None) -> str:
    """User text made safe for a figure: one line, `$` escaped (no mathtext: a study
    named `$\\badcommand$` must not crash matplotlib), optionally shortened to `width`
    characters with an ellipsis."""
    s = re.sub(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+", " ", str(x))
    if width is not None and len(s) > width:
        s = s[: width - 1].rstrip() + "\u2026"
    return s.replace("$", r"\$")


def _clip_interval(ax, lo, hi, y, xlim, color, lw):
    """Draw [lo, hi] at height y inside xlim; an end beyond the axis gets an arrow head."""
    a, b = max(lo, xlim[0]), min(hi, xlim[1])
    ax.plot([a, b], [y, y], color=color, lw=lw)
    if lo < xlim[0]:
        ax.plot(xlim[0], y, marker="<", color=color, ms=5, clip_on=False)
    if hi > xlim[1]:
        ax.plot(xlim[1], y, marker=">", color=color, ms=5, clip_on=False)


def forest(post, group: str | None = None, title: str | None = None, studies=None, labels: dict | None = None,
           max_rows: int | None = 40, with_note: bool = False, ci_prob: float = 0.95):
    """Forest plot: for each study the reported HR (square, 95% CI; a dagger marks an
    interval derived by bayesnet rather than reported) and the shrunken HR (circle, 95%
    credible interval), grouped by `group` (default: the heterogeneity column, the first
    covariate, or the first of the spec's `[report] group_columns` with two or more levels);
    the pooled HR (diamond) and the 95% predictive interval (bar) at the bottom; a right
    column prints each HR (95% CI). The x-axis spans the point estimates, the pooled and
    predictive intervals and the thresholds; longer intervals end in an arrow. With more
    than `max_rows` studies only the `max_rows` with the largest random-effects weight
    1/(se^2 + tau^2) are drawn (tau: posterior median). Returns the figure, or
    (figure, note) with with_note=True (note says what was left out, else ""). The
    intervals have probability `ci_prob` (95% by default, as the legend says)."""
    st = post.studies_table(ci_prob) if studies is None else studies
    labels = labels or {}
    note = ""
    k = len(st)
    if max_rows is not None and k > max_rows:
        tau = float(post["tau"].quantile([0.5])[0]) if ("tau",) in post.marginals else 0.0
        w = 1.0 / (st["se"].to_numpy() ** 2 + tau ** 2)
        keep = np.sort(np.argsort(-w, kind="stable")[:max_rows])
        st = st.iloc[keep]
        note = (f"Only the {max_rows} studies with the largest random-effects weight 1/(se\u00b2 + tau\u00b2) of "
                f"{k} are drawn; the pooled and predictive rows use all {k}; every study is in studies.csv.")
    grp = group or post.model_data.het_column or (list(post.model_data.covariates)[0] if post.model_data.covariates else None)
    if grp is None:
        grp = next((c for c in post.spec.group_columns
                    if c in st.columns and st[c].astype(str).nunique() >= 2), None)
    if grp and grp in st.columns:
        st = st.sort_values([grp, "hr"], kind="stable")
    rows, ylab, y = [], [], 0
    prev = None
    for _, r in st.iterrows():
        g = r[grp] if grp and grp in st.columns else None
        if g != prev and g is not None:
            ylab.append((y, _tx(f"{grp}: {g}", 40), True))
            y += 1
            prev = g
        rows.append((y, r))
        ylab.append((y, _tx(labels.get(str(r["study"]), r["study"]), 40), False))
        y += 1
    y += 0.5
    n = y + 2
    pooled, pred = post["pooled"], post["predictive"]
    lo_p, hi_p = interval_tails(ci_prob)
    pct = f"{100 * ci_prob:g}%"
    q = np.exp(pooled.quantile([lo_p, 0.5, hi_p]))
    qp = np.exp(pred.quantile([lo_p, hi_p]))
    pts = np.concatenate([st["hr"], st["shrunken_hr"], q, qp, [1.0, post.spec.harm], list(post.spec.thresholds)])
    pts = pts[np.isfinite(pts) & (pts > 0)]
    xlim = (max(float(pts.min()) / 1.5, 0.01), min(float(pts.max()) * 1.5, 100.0))
    fig, (ax, axn) = plt.subplots(1, 2, figsize=(10, 0.36 * n + 2.0), sharey=True, layout="constrained",
                                  gridspec_kw={"width_ratios": [3.2, 1.2]})
    first = rows[0][0] if rows else None
    # the squares are the studies as reported; the circles are the model's (true) study effects
    shrunk_basis = "under the assumed bias " if getattr(post.spec, "bias", None) is not None else ""
    for yy, r in rows:
        _clip_interval(ax, r["hr_low"], r["hr_high"], yy - 0.15, xlim, NEUTRAL, 1.2)
        ax.plot(r["hr"], yy - 0.15, "s", color=NEUTRAL, ms=5, label=f"reported ({pct} CI)" if yy == first else None)
        _clip_interval(ax, r["shrunken_low"], r["shrunken_high"], yy + 0.15, xlim, "#1c7ed6", 1.2)
        ax.plot(r["shrunken_hr"], yy + 0.15, "o", color="#1c7ed6", ms=5,
                label=(f"shrunken, {shrunk_basis}({pct} CrI)") if yy == first else None)
        mark = "\u2020" if is_derived(r.get("derivation")) else ""
        dig = fmt.ratio_digits((r["hr"], r["hr_low"], r["hr_high"]))  # 0.096 (0.017-0.534), not 0.10 (0.02-0.53)
        axn.text(0.0, yy - 0.15, fmt.hr_ci(r["hr"], (r["hr_low"], r["hr_high"]), digits=dig) + mark, va="center",
                 fontsize=8, color=NEUTRAL)
        axn.text(0.0, yy + 0.15, fmt.hr_ci(r["shrunken_hr"], (r["shrunken_low"], r["shrunken_high"])),
                 va="center", fontsize=8, color="#1c7ed6")
    yd = y
    ax.fill([q[0], q[1], q[2], q[1]], [yd, yd - 0.3, yd, yd + 0.3], color="black", label=f"pooled HR ({pct} CrI)")
    _clip_interval(ax, qp[0], qp[1], yd + 1, xlim, "#e8590c", 4)
    ax.plot([], [], color="#e8590c", lw=4, label=f"{pct} predictive interval")
    axn.text(0.0, yd, fmt.hr_ci(q[1], (q[0], q[2])), va="center", fontsize=8, fontweight="bold")
    axn.text(0.0, yd + 1, f"({fmt.ci(qp)})", va="center", fontsize=8, color="#e8590c", fontweight="bold")
    axn.text(0.0, -0.9, f"HR ({pct} CI)", va="center", fontsize=8.5, fontweight="bold")
    ylab += [(yd, "Pooled (reference levels)" if post.model_data.covariates else "Pooled", True),
             (yd + 1, "New study (predictive)", True)]
    lines = [(1.0, "black", "-", "HR 1")]
    lines += [(t, BENEFIT, "--", f"HR {t:g}") for t in sorted(post.spec.thresholds) if t != 1.0]
    lines.append((post.spec.harm, HARM, "--", f"harm {post.spec.harm:g}"))
    shown = [ln for ln in lines if xlim[0] < ln[0] < xlim[1]]
    for i, (xv, c, ls, lab) in enumerate(sorted(shown)):
        ax.axvline(xv, color=c, lw=0.8, ls=ls)
        # alternate two heights so that neighbouring labels never overlap
        ax.text(xv, -0.55 - 0.5 * (i % 2), lab, color=c, fontsize=7.5, ha="center", va="bottom",
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.85))
    _hr_axis(ax, *xlim)
    ax.axvspan(xlim[0], 1.0, color=BENEFIT, alpha=0.04)
    ax.set_yticks([p for p, _, _ in ylab])
    ax.set_yticklabels([t for _, t, _ in ylab], fontsize=8.5)
    for tick, (_, _, bold) in zip(ax.get_yticklabels(), ylab):
        if bold:
            tick.set_fontweight("bold")
    ax.set_ylim(yd + 1.8, -1.9)
    axn.set_xlim(0, 1)
    axn.axis("off")
    treatment = getattr(getattr(post.spec, "report", None), "treatment", None) or "the treatment"
    ax.set_xlabel(f"Hazard ratio (log scale; < 1 favours {treatment})")
    fig.suptitle(_tx(title or "Study estimates, reported and shrunken", 90))
    ax.legend(loc="lower left", fontsize=7.5, frameon=True, framealpha=0.9)
    if any(is_derived(r.get("derivation")) for _, r in rows):
        axn.text(0.0, -0.3, "\u2020 derived, not reported", va="center", fontsize=7.5, color=NEUTRAL)
    return (fig, note) if with_note else fig


def density(post, title: str | None = None):
    """Posterior density of the pooled HR (and the predictive HR, dashed), benefit regions
    (HR below each threshold) and the harm region shaded, with their probabilities."""
    pooled, pred = post["pooled"], post["predictive"]
    lo_q, hi_q = pred.quantile([0.001, 0.999])
    xs = np.linspace(lo_q, hi_q, 600)
    th, harm = sorted(post.spec.thresholds), post.spec.harm

    dp, dq = pooled.pdf(xs), pred.pdf(xs)  # log-HR densities (a KDE of the draws under MCMC)
    h = np.exp(xs)
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
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
    texts = [f"P(HR < {t:g}) {p_eq(post.prob('pooled', t))}  (new study {p_eq(post.prob('predictive', t))})" for t in th]
    texts.append(f"P(HR > {harm:g}) {p_eq(post.prob('pooled', harm, 'gt'))}  "
                 f"(new study {p_eq(post.prob('predictive', harm, 'gt'))})")
    ax.text(0.98, 0.95, "\n".join(texts), transform=ax.transAxes, ha="right", va="top", fontsize=8.5,
            bbox=dict(facecolor="white", edgecolor="#ced4da"))
    _hr_axis(ax, float(h.min()), float(h.max()))
    ax.set_ylim(0, ymax * 1.45)
    ax.set_xlabel("Hazard ratio (log scale)")
    ax.set_ylabel("posterior density (log-HR scale)")
    ax.set_title(_tx(title or "Posterior of the pooled hazard ratio", 90))
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def _interval_panel(ax, df, labels, colors=NEUTRAL, reference: float | None = None, ci_prob: float = 0.95):
    """Left panel shared by the sweep and influence figures: pooled HR medians with their
    intervals (hr_low, hr_high: probability `ci_prob`), one row per setting, on a log axis. Rows without numbers (a refit that
    was not possible) are labelled 'not estimable'."""
    y = np.arange(len(df))
    ok = df["hr_median"].notna().to_numpy() if "hr_median" in df else np.ones(len(df), bool)
    cols = np.asarray(colors if not isinstance(colors, str) else [colors] * len(df), dtype=object)
    ax.hlines(y[ok], df["hr_low"][ok], df["hr_high"][ok], color=list(cols[ok]))
    ax.plot(df["hr_median"][ok], y[ok], "o", color="black", ms=4)
    lo = float(df["hr_low"][ok].min()) if ok.any() else 0.5
    hi = float(df["hr_high"][ok].max()) if ok.any() else 1.2
    xlim = (min(lo / 1.2, 0.5), max(hi * 1.2, 1.2))
    for yy in y[~ok]:
        ax.text(np.sqrt(xlim[0] * xlim[1]), yy, "not estimable", fontsize=7, color=HARM, ha="center", va="center")
    if reference is not None and np.isfinite(reference):
        ax.axvline(reference, color="#1c7ed6", lw=0.8, ls="--")
    ax.axvline(1.0, color="black", lw=0.8)
    _hr_axis(ax, *xlim)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7.5)
    ax.set_ylim(len(df) - 0.5, -0.5)
    ax.set_xlabel(f"pooled HR, {100 * ci_prob:g}% CrI")
    return y


def sweep_plot(df, threshold_col: str | None = None, title: str | None = None, ci_prob: float = 0.95):
    """Left: pooled HR (median and the `ci_prob` interval of the sweep rows) per prior
    setting; right: P(benefit)."""
    lt = {c: parse_prob_key(c)[1] for c in df.columns if fmt.is_prob_key(c, "lt", predictive=False)}
    col = threshold_col or (min(lt, key=lt.get) if lt else None)
    import textwrap

    labels = ["\n".join(textwrap.wrap(_tx(f"tau: {a}", 120), 44) + textwrap.wrap(_tx(f"mu: {b}", 120), 44))
              for a, b in zip(df["tau_prior"], df["mu_prior"])]
    n = len(df)
    lines = max((lb.count("\n") + 1 for lb in labels), default=2)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 0.2 * lines * n + 2.0), sharey=True, layout="constrained",
                                 gridspec_kw={"width_ratios": [1.4, 1]})
    y = _interval_panel(a1, df, labels, ci_prob=ci_prob)
    side, t, _ = parse_prob_key(col)
    a2.barh(y, df[col].fillna(0), color=BENEFIT, alpha=0.7, label=f"{prob_label(col)} pooled")
    pc = prob_key(t, side, predictive=True)
    if pc in df:
        a2.plot(df[pc], y, "D", color="#e8590c", ms=4, label=f"{prob_label(col)} new study")
    a2.axvline(0.95, color="black", lw=0.8, ls=":")
    a2.set_xlim(0, 1)
    a2.set_xlabel("probability")
    a2.legend(fontsize=8, loc="lower right")
    fig.suptitle(_tx(title or "Prior sensitivity", 90))
    return fig


def influence_plot(df, title: str | None = None, labels: dict | None = None, max_rows: int | None = 40,
                   with_note: bool = False, ci_prob: float = 0.95):
    """Pooled HR and P(benefit) when each study or level is left out (full analysis first).
    With more than `max_rows` leave-one-study-out rows only the `max_rows` that move
    P(benefit) most (column benefit_shift) are drawn, with every level row. Returns the
    figure, or (figure, note) with with_note=True."""
    col = df.attrs.get("benefit_column") or next(c for c in df.columns
                                                  if fmt.is_prob_key(c, "lt", predictive=False))
    side, t, _ = parse_prob_key(col)
    pc = prob_key(t, side, predictive=True)
    labels = labels or {}
    note = ""
    n_st = int((df["kind"] == "study").sum())
    if max_rows is not None and n_st > max_rows:
        studies = df[df["kind"] == "study"]
        top = studies["benefit_shift"].fillna(-1).sort_values(ascending=False, kind="stable").index[:max_rows]
        keep = df.index[(df["kind"] != "study")].union(top)
        df = df.loc[sorted(keep)]
        note = (f"Only the {max_rows} of {n_st} leave-one-study-out refits that move P(benefit) most are drawn; "
                f"all are in influence.csv.")
    n = len(df)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12.5, 0.32 * n + 2.0), sharey=True, layout="constrained",
                                 gridspec_kw={"width_ratios": [1.4, 1]})
    colors = [HARM if f else NEUTRAL for f in df.get("flag", [False] * n)]
    ylabels = [_tx("without " + labels.get(str(o), str(o)), 48) if k != "full" else "all studies"
               for o, k in zip(df["omitted"], df["kind"])]
    y = _interval_panel(a1, df, ylabels, colors, reference=df["hr_median"].iloc[0], ci_prob=ci_prob)
    a2.plot(df[col], y, "o", color=BENEFIT, label=f"{prob_label(col)} pooled")
    if pc in df:
        a2.plot(df[pc], y, "D", color="#e8590c", ms=4, label=f"{prob_label(col)} new study")
    a2.set_xlim(0, 1.02)
    a2.set_xlabel("probability")
    a2.legend(fontsize=8, loc="lower left")
    fig.suptitle(_tx(title or "Influence: leave one study / one kind of study out", 90))
    return (fig, note) if with_note else fig


def save(fig, path_stem: Path) -> list[Path]:
    """Write <stem>.png and <stem>.svg; returns the paths."""
    path_stem = Path(path_stem)
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in ("png", "svg"):
        p = path_stem.with_suffix(f".{ext}")
        # no creation date in either file: the same figure gives the same bytes
        fig.savefig(p, dpi=130 if ext == "png" else None,
                    metadata={"Date": None} if ext == "svg" else {"Software": None})
        out.append(p)
    plt.close(fig)
    return out


def funnel(fd: dict, title: str | None = None):
    """Contour-enhanced funnel plot (Peters et al. 2008, J Clin Epidemiol 61:991): each
    study's HR (log axis) against its standard error (inverted: precise studies at the top),
    shaded where a study would be significant at p < 0.01 / 0.05 / 0.10 (two-sided), with
    the pooled HR and its 95% pseudo-confidence funnel. Only studies outside that funnel
    are labelled. `fd` is ``bayesnet.pubbias.funnel.funnel_data``'s output."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    se = np.asarray(fd["se_grid"])
    xmax = max(abs(p["log_hr"]) + 0.3 for p in fd["points"]) if fd["points"] else 2.0
    xmax = max(xmax, float(np.max(fd["contours"]["0.01"]["upper"])) if "0.01" in fd["contours"] else xmax)
    shades = {"0.01": "#d9d9d9", "0.05": "#ececec", "0.1": "#f7f7f7"}
    for key in sorted(fd["contours"], key=float, reverse=True):
        c = fd["contours"][key]
        up, lo = np.asarray(c["upper"]), np.asarray(c["lower"])
        ax.fill_betweenx(se, up, xmax, color=shades.get(key, "#eeeeee"), lw=0)
        ax.fill_betweenx(se, -xmax, lo, color=shades.get(key, "#eeeeee"), lw=0)
    # unshade the non-significant centre: the lightest region is p >= 0.10
    c10 = fd["contours"].get("0.1") or fd["contours"][max(fd["contours"], key=float)]
    ax.fill_betweenx(se, np.asarray(c10["lower"]), np.asarray(c10["upper"]), color="white", lw=0)
    pl = fd["pooled"]
    ax.plot(pl["lower"], se, color="#1f5fa8", lw=1, ls="--")
    ax.plot(pl["upper"], se, color="#1f5fa8", lw=1, ls="--")
    ax.axvline(pl["log_hr"], color="#1f5fa8", lw=1.2, label=f"{_tx(pl.get('label') or 'pooled HR')}: {math.exp(pl['log_hr']):.2f}")
    ax.axvline(0.0, color="black", lw=0.8)
    for p in fd["points"]:
        ax.plot(p["log_hr"], p["se"], "o", color="#b5541b" if p["outlier"] else "#333333", ms=5)
        if p["outlier"]:
            ax.annotate(_tx(p["study"])[:40], (p["log_hr"], p["se"]), xytext=(4, 4), textcoords="offset points",
                        fontsize=7)
    ax.set_ylim(float(se.max()), 0.0)
    ax.set_xlim(-xmax, xmax)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10) if abs(math.log(t)) <= xmax]
    ax.set_xticks([math.log(t) for t in ticks], [f"{t:g}" for t in ticks])
    ax.set_xlabel("hazard ratio (log scale)")
    ax.set_ylabel("standard error of the log-HR")
    ax.set_title(_tx(title) if title else f"Funnel plot ({fd['k']} studies); shaded: p < 0.10, 0.05, 0.01",
                 fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    return fig
