"""Figures of a network meta-analysis: the network, a forest against one comparator, and
rankograms. Each function returns a matplotlib Figure (the caller saves it)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["forest_figure", "network_figure", "rankogram_figure"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def network_figure(net):
    """Nodes on a circle, area by patients (by studies when arm sizes are not given), edges
    by the number of studies making that comparison; each multi-arm study is a shaded
    polygon joining its arms."""
    plt = _plt()
    ts = list(net.treatments)
    T = len(ts)
    ang = np.pi / 2 - 2 * np.pi * np.arange(T) / T
    pos = {t: (math.cos(a), math.sin(a)) for t, a in zip(ts, ang, strict=True)}
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    multi = [s for s in net.studies if s.n_arms > 2]
    for i, s in enumerate(multi):
        pts = np.array([pos[t] for t in sorted(s.arms, key=ts.index)])
        ax.fill(pts[:, 0], pts[:, 1], alpha=0.15, color=f"C{(i % 8) + 1}", zorder=1,
                label=f"{s.name} ({s.n_arms} arms)")
    edges = net.edges()
    top = max(len(v) for v in edges.values())
    for (a, b), ss in edges.items():
        (x1, y1), (x2, y2) = pos[a], pos[b]
        ax.plot([x1, x2], [y1, y2], color="0.35", lw=1.0 + 5.0 * len(ss) / top, zorder=2, solid_capstyle="round")
        ax.text((x1 + x2) / 2, (y1 + y2) / 2, str(len(ss)), fontsize=9, ha="center", va="center", zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    size = net.arm_sizes()
    by_patients = any(v > 0 for v in size.values())
    if not by_patients:
        size = {t: float(sum(t in s.arms for s in net.studies)) for t in ts}
    smax = max(size.values()) or 1.0
    for t in ts:
        x, y = pos[t]
        ax.scatter([x], [y], s=200 + 1800 * size[t] / smax, color="C0", zorder=3, edgecolor="white")
        ax.text(x * 1.22, y * 1.22, t, ha="center", va="center", fontsize=11)
    ax.set_xlim(-1.55, 1.55)
    ax.set_ylim(-1.55, 1.55)
    ax.set_aspect("equal")
    ax.axis("off")
    what = "patients" if by_patients else "studies"
    ax.set_title(f"Network: node area by {what}, edge width and label = studies", fontsize=11)
    if multi:
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.08), ncol=2, fontsize=8, frameon=False,
                  title="multi-arm studies", title_fontsize=8)
    fig.tight_layout()
    return fig


def forest_figure(post, comparator: str, thresholds=(1.0, 0.8), ci_prob: float = 0.95):
    """Every treatment against `comparator`: HR median with its credible interval (thick)
    and the interval for a new study (thin), thresholds as dashed lines with the region of
    benefit (HR < 1) shaded, and P(HR < t) printed beside each row."""
    from ..evidence.conversions import interval_tails
    from ..format import p as fp

    plt = _plt()
    lo_t, hi_t = interval_tails(ci_prob)
    others = [t for t in post.treatments if t != comparator]
    fig, ax = plt.subplots(figsize=(8.5, 1.2 + 0.55 * len(others)))
    lows, highs = [], []
    for i, t in enumerate(others):
        m, pm = post.contrast(t, comparator), post.contrast(t, comparator, True)
        q = np.exp(m.quantile([0.5, lo_t, hi_t]))
        pq = np.exp(pm.quantile([lo_t, hi_t]))
        y = len(others) - 1 - i
        ax.plot(pq, [y, y], color="0.6", lw=1.2)
        ax.plot(q[1:], [y, y], color="C0", lw=3.5)
        ax.plot([q[0]], [y], "o", color="C0", ms=7)
        lows += [pq[0], q[1]]
        highs += [pq[1], q[2]]
    lo, hi = max(min(lows) / 1.3, 1e-3), min(max(highs) * 1.3, 1e3)
    ax.axvspan(lo, 1.0, color="C2", alpha=0.07, lw=0)
    for t in thresholds:
        ax.axvline(t, color="0.3" if t == 1 else "C2", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    nice = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100) if lo <= v <= hi]
    ax.xaxis.set_major_locator(FixedLocator(nice))
    ax.set_xticklabels([f"{v:g}" for v in nice])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(others)))
    ax.set_yticklabels([f"{t} vs {comparator}" for t in reversed(others)])
    ax.set_ylim(-0.7, len(others) - 0.3)
    ax.set_xlabel(f"hazard ratio (log scale; < 1 favours the treatment). Thick: {int(round(ci_prob * 100))}% "
                  f"credible interval; thin: a new study")
    ax2 = ax.twinx()
    ax2.set_ylim(ax.get_ylim())
    ax2.set_yticks(range(len(others)))
    th = sorted(thresholds, reverse=True)
    ax2.set_yticklabels(["  ".join(f"P(HR<{t:g}) {fp(float(post.contrast(t_, comparator).cdf(math.log(t))))}"
                                   for t in th) for t_ in reversed(others)], fontsize=9)
    ax.set_title(f"Every treatment against {comparator}", fontsize=11)
    fig.tight_layout()
    return fig


def rankogram_figure(ranking: dict):
    """Bars of P(rank = r) per treatment (rank 1 = lowest HR), SUCRA in each panel's title."""
    plt = _plt()
    ts = sorted(ranking["sucra"], key=lambda t: -ranking["sucra"][t])
    T = len(ts)
    cols = min(T, 4)
    rows = math.ceil(T / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.2 * rows), sharey=True, squeeze=False)
    for ax, t in zip(axes.flat, ts, strict=False):
        ax.bar(np.arange(1, T + 1), ranking["rank_prob"][t], color="C0")
        ax.set_title(f"{t}\nSUCRA {ranking['sucra'][t]:.2f}", fontsize=9)
        ax.set_xticks(range(1, T + 1))
        ax.set_ylim(0, 1)
    for ax in axes.flat[T:]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("probability")
    for i, ax in enumerate(axes.flat[:T]):
        if i + cols >= T:   # the lowest panel of its column
            ax.set_xlabel("rank (1 = lowest HR)")
    fig.suptitle("Rankograms: rankings ignore the size of the differences", fontsize=10)
    fig.tight_layout()
    return fig
