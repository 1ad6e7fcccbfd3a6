"""Figures for panels, all on the HR scale with a log axis and the thresholds marked.

forest            reported and shrunken estimates, grouped by design, pooled diamond and
                  predictive bar
density           posterior density of the pooled HR (and the predictive HR), with the
                  benefit/harm regions shaded and their probabilities written on the plot
sweep_plot        P(benefit) and the pooled HR interval across prior settings
influence_plot    change in P(benefit) and pooled HR when a study or a level is left out
funnel            contour-enhanced funnel plot, outlying studies labelled off the points
bias_curve        P(HR < t) against a fixed common bias ratio, tipping points and their bands
arm_forest        survival per arm (the arm-level report)

Every figure is drawn for report.html at FIG_W inches or less with fonts of at least
FS_SMALL points; nothing in it is clipped, cut or overlapping (tests/report/test_figures.py).
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
from . import vocabulary as words  # noqa: E402
from .evidence.conversions import interval_tails  # noqa: E402
from .evidence.derivations import is_derived  # noqa: E402
from .format import p_eq, parse_prob_key, prob_key, prob_label  # noqa: E402

__all__ = ["forest", "density", "sweep_plot", "influence_plot", "funnel", "bias_curve", "arm_forest", "place_labels",
           "save"]

BENEFIT, HARM, NEUTRAL = "#2b8a3e", "#c92a2a", "#495057"
# Sizes for a figure shown in report.html: a PNG at 130 dpi, scaled down to the page's
# 1000 px, so a FIG_W-inch figure is shown at 100 px per inch and a font of FS_SMALL
# points is 11.8 px high (tests/report/test_figures.py checks every text of every figure)
FIG_W = 10.0
FS, FS_SMALL = 9.0, 8.5
LABEL_WRAP = 36  # characters per line of a study label (longer labels wrap, never cut)


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


def _wrap(x, width: int) -> str:
    """User text made safe for a figure (`_tx`) and wrapped onto lines of at most `width`
    characters (never shortened)."""
    import textwrap

    return "\n".join(textwrap.wrap(_tx(x), width, break_on_hyphens=False)) or _tx(x)


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
            ylab.append((y, _wrap(words.level(grp, g), LABEL_WRAP), True))
            y += 1
            prev = g
        rows.append((y, r))
        ylab.append((y, _wrap(labels.get(str(r["study"]), r["study"]), LABEL_WRAP), False))
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
    per_row = 0.36 if all("\n" not in t for _, t, _ in ylab) else 0.46
    fig, (ax, axn) = plt.subplots(1, 2, figsize=(FIG_W, per_row * n + 2.0), sharey=True, layout="constrained",
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
        axn.text(0.0, yy - 0.17, fmt.hr_ci(r["hr"], (r["hr_low"], r["hr_high"]), digits=dig) + mark, va="center",
                 fontsize=FS_SMALL, color=NEUTRAL)
        axn.text(0.0, yy + 0.17, fmt.hr_ci(r["shrunken_hr"], (r["shrunken_low"], r["shrunken_high"])),
                 va="center", fontsize=FS_SMALL, color="#1c7ed6")
    yd = y
    ax.fill([q[0], q[1], q[2], q[1]], [yd, yd - 0.3, yd, yd + 0.3], color="black", label=f"pooled HR ({pct} CrI)")
    _clip_interval(ax, qp[0], qp[1], yd + 1, xlim, "#e8590c", 4)
    ax.plot([], [], color="#e8590c", lw=4, label=f"{pct} predictive interval")
    axn.text(0.0, yd, fmt.hr_ci(q[1], (q[0], q[2])), va="center", fontsize=FS_SMALL, fontweight="bold")
    axn.text(0.0, yd + 1, f"({fmt.ci(qp)})", va="center", fontsize=FS_SMALL, color="#e8590c", fontweight="bold")
    axn.text(0.0, -1.2, f"HR ({pct} CI)", va="center", fontsize=FS, fontweight="bold")
    ylab += [(yd, "Pooled (reference levels)" if post.model_data.covariates else "Pooled", True),
             (yd + 1, "New study (predictive)", True)]
    lines = [(1.0, "black", "-", "HR 1")]
    lines += [(t, BENEFIT, "--", f"HR {t:g}") for t in sorted(post.spec.thresholds) if t != 1.0]
    lines.append((post.spec.harm, HARM, "--", f"harm {post.spec.harm:g}"))
    shown = [ln for ln in lines if xlim[0] < ln[0] < xlim[1]]
    for i, (xv, c, ls, lab) in enumerate(sorted(shown)):
        ax.axvline(xv, color=c, lw=0.8, ls=ls)
        # alternate two heights so that neighbouring labels never overlap
        ax.text(xv, -0.45 - 0.6 * (i % 2), lab, color=c, fontsize=FS_SMALL, ha="center", va="bottom",
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.85))
    _hr_axis(ax, *xlim)
    ax.axvspan(xlim[0], 1.0, color=BENEFIT, alpha=0.04)
    ax.set_yticks([p for p, _, _ in ylab])
    ax.set_yticklabels([t for _, t, _ in ylab], fontsize=FS)
    for tick, (_, _, bold) in zip(ax.get_yticklabels(), ylab):
        if bold:
            tick.set_fontweight("bold")
    ax.set_ylim(yd + 1.8, -2.1)
    axn.set_xlim(0, 1)
    axn.axis("off")
    treatment = getattr(getattr(post.spec, "report", None), "treatment", None) or "the treatment"
    ax.set_xlabel(f"Hazard ratio (log scale; < 1 favours {treatment})")
    fig.suptitle(_tx(title or "Study estimates, reported and shrunken", 90))
    fig.legend(loc="outside lower center", ncol=4, fontsize=FS_SMALL, frameon=False)
    if any(is_derived(r.get("derivation")) for _, r in rows):
        axn.text(0.0, -0.9, "\u2020 derived, not reported", va="center", fontsize=FS_SMALL, color=NEUTRAL)
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
        ax.text(np.sqrt(xlim[0] * xlim[1]), yy, "not estimable", fontsize=FS_SMALL, color=HARM, ha="center",
                va="center")
    if reference is not None and np.isfinite(reference):
        ax.axvline(reference, color="#1c7ed6", lw=0.8, ls="--")
    ax.axvline(1.0, color="black", lw=0.8)
    _hr_axis(ax, *xlim)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=FS_SMALL)
    ax.set_ylim(len(df) - 0.5, -0.5)
    ax.set_xlabel(f"pooled HR, {100 * ci_prob:g}% CrI")
    return y


def sweep_plot(df, threshold_col: str | None = None, title: str | None = None, ci_prob: float = 0.95):
    """Left: pooled HR (median and the `ci_prob` interval of the sweep rows) per prior
    setting; right: P(benefit)."""
    lt = {c: parse_prob_key(c)[1] for c in df.columns if fmt.is_prob_key(c, "lt", predictive=False)}
    col = threshold_col or (min(lt, key=lt.get) if lt else None)
    import textwrap

    labels = ["\n".join(textwrap.wrap(_tx(f"tau: {a}"), 40) + textwrap.wrap(_tx(f"mu: {b}"), 40))
              for a, b in zip(df["tau_prior"], df["mu_prior"])]
    n = len(df)
    lines = max((lb.count("\n") + 1 for lb in labels), default=2)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(FIG_W, 0.19 * lines * n + 2.2), sharey=True, layout="constrained",
                                 gridspec_kw={"width_ratios": [1.5, 1]})
    y = _interval_panel(a1, df, labels, ci_prob=ci_prob)
    side, t, _ = parse_prob_key(col)
    a2.barh(y, df[col].fillna(0), color=BENEFIT, alpha=0.7, label=f"{prob_label(col)} pooled")
    pc = prob_key(t, side, predictive=True)
    if pc in df:
        a2.plot(df[pc], y, "D", color="#e8590c", ms=4, label=f"{prob_label(col)} new study")
    a2.axvline(0.95, color="black", lw=0.8, ls=":", label="probability 0.95")
    a2.set_xlim(0, 1)
    a2.set_xlabel("probability")
    fig.legend(loc="outside lower center", ncol=3, fontsize=FS, frameon=False)
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
    ylabels = [_wrap(words.left_out(o, k, labels), 44) for o, k in zip(df["omitted"], df["kind"])]
    per_row = 0.34 if all("\n" not in t for t in ylabels) else 0.46
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(FIG_W, per_row * n + 2.2), sharey=True, layout="constrained",
                                 gridspec_kw={"width_ratios": [1.5, 1]})
    colors = [HARM if f else NEUTRAL for f in df.get("flag", [False] * n)]
    y = _interval_panel(a1, df, ylabels, colors, reference=df["hr_median"].iloc[0], ci_prob=ci_prob)
    a2.plot(df[col], y, "o", color=BENEFIT, label=f"{prob_label(col)} pooled")
    if pc in df:
        a2.plot(df[pc], y, "D", color="#e8590c", ms=4, label=f"{prob_label(col)} new study")
    a2.set_xlim(0, 1.02)
    a2.set_xlabel("probability")
    if any(colors[i] == HARM for i in range(n)):
        a1.plot([], [], color=HARM, label="most influential")
    fig.legend(loc="outside lower center", ncol=3, fontsize=FS, frameon=False)
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
    ax.set_ylim(float(se.max()), 0.0)
    ax.set_xlim(-xmax, xmax)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10) if abs(math.log(t)) <= xmax]
    ax.set_xticks([math.log(t) for t in ticks], [f"{t:g}" for t in ticks])
    ax.set_xlabel("hazard ratio (log scale)")
    ax.set_ylabel("standard error of the log-HR")
    ax.set_title(_tx(title) if title else f"Funnel plot ({fd['k']} studies); shaded: p < 0.10, 0.05, 0.01",
                 fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    out = [p for p in fd["points"] if p["outlier"]]
    place_labels(ax, [(p["log_hr"], p["se"]) for p in out], [_wrap(p["study"], 30) for p in out], fontsize=7.5)
    return fig


def place_labels(ax, points, texts, fontsize: float = 8.0, pad: float = 4.0) -> list:
    """Label data points without covering any marker, legend or other label and without
    leaving the axes: each label is tried to the upper right, lower right, upper left and
    lower left of its point (offset `pad` points) and takes the first place that is free;
    when none is, the one that overlaps least. Returns the annotations."""
    fig = ax.figure
    fig.canvas.draw()  # settle the layout so that window extents are final
    r = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(r)
    busy = []
    for ln in ax.get_lines():
        if ln.get_marker() not in (None, "None", "", " "):
            rad = ln.get_markersize() * fig.dpi / 72 / 2 + 1
            for x, y in ax.transData.transform(np.column_stack(ln.get_data()).astype(float)):
                busy.append((x - rad, y - rad, x + rad, y + rad))
    leg = ax.get_legend()
    if leg is not None:
        e = leg.get_window_extent(r)
        busy.append((e.x0, e.y0, e.x1, e.y1))

    def overlap(e):
        a = sum(max(0.0, min(e.x1, x1) - max(e.x0, x0)) * max(0.0, min(e.y1, y1) - max(e.y0, y0))
                for x0, y0, x1, y1 in busy)
        out_w = max(0.0, axbox.x0 - e.x0) + max(0.0, e.x1 - axbox.x1)
        out_h = max(0.0, axbox.y0 - e.y0) + max(0.0, e.y1 - axbox.y1)
        return a + 1e3 * (out_w + out_h) * max(e.width, e.height)

    done = []
    for (x, y), txt in zip(points, texts, strict=True):
        best = None
        for dx, dy, ha, va in ((pad, pad, "left", "bottom"), (pad, -pad, "left", "top"),
                               (-pad, pad, "right", "bottom"), (-pad, -pad, "right", "top")):
            an = ax.annotate(txt, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                             ha=ha, va=va, annotation_clip=False)
            an.set_in_layout(False)
            e = an.get_window_extent(r)
            cost = overlap(e)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, an, e)
            else:
                an.remove()
            if cost == 0:
                break
        busy.append((best[2].x0, best[2].y0, best[2].x1, best[2].y1))
        done.append(best[1])
    return done


def bias_curve(curve: dict, tipping: list[dict] | None = None, title: str | None = None):
    """P(true HR < t) against the assumed fixed common bias ratio (reported HR / true HR),
    pooled (solid) and a new setting (dashed), for each threshold of the curve; each
    tipping point (`bayesnet.bias.tipping_points` rows) as a vertical line, its stated
    probability as a dotted line, and the bias ratios beyond it (where P(HR < t) is below
    that probability) shaded, with every element named in the legend."""
    r = np.asarray(curve["ratio"])
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, ax = plt.subplots(figsize=(8.2, 5.0), layout="constrained")
    col_of = {}
    for i, t in enumerate(curve["pooled"]):
        col = col_of[float(t)] = colors[i % len(colors)]
        ax.plot(r, curve["pooled"][t], color=col, lw=2, label=f"P(HR < {t}), pooled")
        ax.plot(r, curve["predictive"][t], color=col, lw=1.5, ls="--", label=f"P(HR < {t}), new setting")
    for i, row in enumerate(tipping or []):
        col = col_of.get(float(row["threshold"]), colors[i % len(colors)])
        t, p = fmt.threshold(row["threshold"]), row["probability"]
        ax.axhline(p, color=col, ls=":", lw=1)
        if row["ratio"] is not None:
            ax.axvspan(r.min(), row["ratio"], color=col, alpha=0.10, lw=0,
                       label=f"shaded: bias beyond the tipping point {row['ratio']:.2f}: pooled P(HR < {t}) < {p:g}")
            ax.axvline(row["ratio"], color=col, lw=0.8)
    ax.set_xlim(r.min(), r.max())
    ax.set_ylim(0, 1)
    ax.set_xlabel("Assumed bias: reported HR / true HR\n(1 = no bias; lower = the studies exaggerate the benefit more)",
                  fontsize=FS)
    ax.set_ylabel("Probability that the true HR\nis below the threshold", fontsize=FS)
    ax.tick_params(labelsize=FS)
    if title:
        ax.set_title(_tx(title, 90))
    fig.legend(loc="outside lower center", ncol=2, fontsize=FS_SMALL, frameon=False)
    return fig



def arm_forest(table, treatment: str = "the treatment"):
    """Survival at the reported time per arm (point and 95% CI from the delta method on
    ln(-ln S)), one row per arm grouped by study and the studies by design (comparative
    studies, then case series); treated arms filled, comparator arms open. Each study is
    named once, on its first arm, and each row says its arm, the time and n."""
    t = table.copy()
    t["design_"] = np.where(t["n_arms"] == 1, "case series", "comparative")
    t = t.sort_values(["design_", "study", "treated"], ascending=[False, True, False], kind="stable")
    lo = np.exp(-np.exp(t["L"] + 1.96 * np.sqrt(t["v"])))
    hi = np.exp(-np.exp(t["L"] - 1.96 * np.sqrt(t["v"])))
    rows, ylab, y, prev_d, prev_s = [], [], 0, None, None
    for (_, r), a, b in zip(t.iterrows(), lo, hi, strict=True):
        if r["design_"] != prev_d:
            ylab.append((y, ("comparative studies" if r["design_"] == "comparative" else "case series (treated only)"),
                         True))
            y += 1
            prev_d, prev_s = r["design_"], None
        name = r["label"] if "label" in t and isinstance(r["label"], str) and r["label"].strip() else r["study"]
        arm = f"{_tx(str(r['arm']).replace('_', ' '))} ({r['surv_time_years']:g} y, n={r['n']:.0f})"
        lab = (_wrap(name, 44) + "\n" if r["study"] != prev_s else "") + arm
        prev_s = r["study"]
        rows.append((y, r, a, b))
        ylab.append((y, lab, False))
        y += 1
    n_lines = sum(lab.count("\n") + 1 for _, lab, _ in ylab)
    fig, ax = plt.subplots(figsize=(FIG_W, 0.21 * n_lines + 0.12 * len(ylab) + 1.6), layout="constrained")
    for yi, r, a, b in rows:
        color = "#1f5fa8" if r["design_"] == "comparative" else "#b5541b"
        ax.plot([a, b], [yi, yi], color=color, lw=1.5)
        ax.plot(r["surv"], yi, "o", color=color, mfc=color if r["treated"] else "white", ms=6)
    ax.set_yticks([p for p, _, _ in ylab], [lab for _, lab, _ in ylab], fontsize=FS_SMALL)
    for tick, (_, _, bold) in zip(ax.get_yticklabels(), ylab, strict=True):
        if bold:
            tick.set_fontweight("bold")
    ax.set_ylim(y - 0.5, -0.7)
    ax.set_xlim(0, 1)
    ax.grid(axis="x", color="#e9ecef", lw=0.8)
    ax.set_xlabel("proportion alive at the time point (95% CI)", fontsize=FS)
    ax.tick_params(axis="x", labelsize=FS)
    ax.plot([], [], "o", color=NEUTRAL, label=f"arm with {_tx(treatment)}")
    ax.plot([], [], "o", color=NEUTRAL, mfc="white", label="comparator arm")
    ax.plot([], [], color="#1f5fa8", lw=1.5, label="comparative study")
    ax.plot([], [], color="#b5541b", lw=1.5, label="case series")
    fig.legend(loc="outside lower center", ncol=4, fontsize=FS_SMALL, frameon=False)
    ax.set_title("Survival per arm", fontsize=FS + 1)
    return fig
