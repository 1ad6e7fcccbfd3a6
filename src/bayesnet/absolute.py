"""Absolute effects for a Summary-of-Findings table, and P(HR < t) across thresholds.

Under proportional hazards the survival of treated patients at time t is
S_treated = S_control^HR, so with x = log HR

    S_treated = g(x) = S_control^exp(x),     more alive per 1000 = 1000 (g(x) - S_control)

(statistics.md section 5; GRADE guidance 27, J Clin Epidemiol 2020, PMID 31711910, on
stating alive vs dead). Both are decreasing in x, so with a fixed baseline their
quantiles are the HR's quantiles mapped (upper and lower swap) and HPD intervals are found
on their own scale; means and sds of a mixture-of-normals marginal use Gauss-Hermite
quadrature per component (exact to ~1e-12). With an uncertain baseline,
S_control ~ Beta(n S, n (1 - S)) (Newcombe RG, Bender R (2014) on propagating baseline
risk), the joint is summarised from Monte Carlo draws with a fixed seed.
"""

from __future__ import annotations

import math

import numpy as np

from .absolute_spec import AbsoluteRow, parse_absolute  # noqa: F401 - re-exported
from .evidence.conversions import interval_tails
from .posterior import DrawsMarginal, Marginal, MixtureMarginal, shortest_interval

__all__ = [
    "BENEFIT_TABLE_HR",
    "AbsoluteRow",
    "absolute_effect",
    "absolute_effects",
    "absolute_sentence",
    "benefit_curve",
    "benefit_table",
    "parse_absolute",
    "plot_benefit_curve",
]

N_DRAWS = 200_000
SEED = 20261123
BENEFIT_TABLE_HR = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0, 1.1, 1.25, 1.5)


def _summary_decreasing(marg: Marginal, f, ci_prob: float = 0.95) -> dict:
    """S = {mean, sd, median, ci95, hpd95} of f(X) for a decreasing f of the log HR X
    (intervals with probability `ci_prob`)."""
    q = marg.quantile([0.5, *interval_tails(ci_prob)])
    mean, sd = marg.moments(f)  # Gauss-Hermite for mixtures, trapezoid on grids, draws as they are
    neg = lambda x: -f(x)
    lo_neg, hi_neg = shortest_interval(marg, ci_prob, neg)
    return {"mean": mean, "sd": sd, "median": float(f(q[0])), "ci95": [float(f(q[2])), float(f(q[1]))],
            "hpd95": [float(-hi_neg), float(-lo_neg)]}


def _draws(marg: Marginal, n: int, rng) -> np.ndarray:
    if isinstance(marg, MixtureMarginal):
        comp = rng.choice(len(marg.w), size=n, p=marg.w / marg.w.sum())
        return marg.m[comp] + marg.s[comp] * rng.standard_normal(n)
    if isinstance(marg, DrawsMarginal):
        return marg.draws.ravel()
    return marg.quantile(rng.uniform(size=n))


def _summary_draws(v: np.ndarray, ci_prob: float = 0.95) -> dict:
    q = np.quantile(v, [0.5, *interval_tails(ci_prob)])
    hpd = DrawsMarginal(v).hpd(ci_prob)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)), "median": float(q[0]),
            "ci95": [float(q[1]), float(q[2])], "hpd95": [float(hpd[0]), float(hpd[1])]}


def absolute_effect(marg: Marginal, row: AbsoluteRow, seed: int = SEED, n_draws: int = N_DRAWS,
                    ci_prob: float = 0.95) -> dict:
    """{treated_survival: S, difference_per_1000: S} for one baseline and a log-HR
    marginal (pooled or predictive). Fixed baseline: exact monotone maps; with `row.n`:
    Monte Carlo (fixed seed) over the HR and S_control ~ Beta(n S, n (1 - S))."""
    S0 = row.survival
    if row.n is None:
        ls0 = math.log(S0)
        g = lambda x: np.exp(ls0 * np.exp(x))
        d = lambda x: 1000.0 * (np.exp(ls0 * np.exp(x)) - S0)
        return {"treated_survival": _summary_decreasing(marg, g, ci_prob),
                "difference_per_1000": _summary_decreasing(marg, d, ci_prob),
                "method": "exact (monotone transform of the HR posterior)"}
    rng = np.random.default_rng(seed)
    x = _draws(marg, n_draws, rng)
    s0 = rng.beta(row.n * S0, row.n * (1.0 - S0), size=x.shape)
    st = s0 ** np.exp(x)
    return {"treated_survival": _summary_draws(st, ci_prob),
            "difference_per_1000": _summary_draws(1000.0 * (st - s0), ci_prob),
            "method": f"Monte Carlo, {len(x)} draws, seed {seed}, baseline Beta(n S, n (1 - S)) with n = {row.n:g}"}


def absolute_effects(post, rows: list[AbsoluteRow], seed: int = SEED, ci_prob: float = 0.95) -> list[dict]:
    """One dict per baseline: {label, time_years, baseline_survival, baseline_n,
    treated_survival: S, difference_per_1000: S (pooled HR), predictive: {treated_survival,
    difference_per_1000} (the HR in a new setting), method}. `post` is a Posterior (or a
    mapping with ("pooled",) and ("predictive",) marginals)."""
    mg = post.marginals if hasattr(post, "marginals") else post
    out = []
    for r in rows:
        pooled = absolute_effect(mg[("pooled",)], r, seed, ci_prob=ci_prob)
        pred = absolute_effect(mg[("predictive",)], r, seed, ci_prob=ci_prob)
        out.append({"label": r.label, "time_years": r.time_years, "baseline_survival": r.survival,
                    "baseline_n": r.n, "treated_survival": pooled["treated_survival"],
                    "difference_per_1000": pooled["difference_per_1000"],
                    "predictive": {"treated_survival": pred["treated_survival"],
                                   "difference_per_1000": pred["difference_per_1000"]},
                    "method": pooled["method"]})
    return out


def _more_fewer(v: float) -> str:
    n = round(v)
    if n == 0:
        return "0 more"
    return f"{abs(n)} more" if n > 0 else f"{abs(n)} fewer"


def absolute_sentence(row: dict, treatment: str = "the treatment", interval: str = "ci95") -> str:
    """Plain words for one absolute-effect row, alive stated in every part, `treatment` the
    spec's ``[report] treatment``, e.g. "At 5 years: 306 per 1000 alive without resection;
    480 per 1000 alive with resection (95% CrI 420 to 540); 174 more alive per 1000 with
    resection (114 more to 234 more)"."""
    ts, df = row["treated_survival"], row["difference_per_1000"]
    lo, hi = ts[interval]
    dlo, dhi = df[interval]
    t = row["time_years"]
    years = f"{t:g} year" + ("" if t == 1 else "s")
    return (f"At {years}: {round(1000 * row['baseline_survival'])} per 1000 alive without {treatment}; "
            f"{round(1000 * ts['median'])} per 1000 alive with {treatment} (95% CrI {round(1000 * lo)} to "
            f"{round(1000 * hi)}); {_more_fewer(df['median'])} alive per 1000 with {treatment} "
            f"({_more_fewer(dlo)} to {_more_fewer(dhi)}).")


def benefit_curve(post, lo: float = 0.3, hi: float = 1.5, n: int = 121) -> dict:
    """P(HR < t) for t on a log-spaced grid from `lo` to `hi`, pooled and predictive:
    {"hr": [...], "pooled": [...], "predictive": [...]}."""
    mg = post.marginals if hasattr(post, "marginals") else post
    t = np.exp(np.linspace(math.log(lo), math.log(hi), n))
    return {"hr": t.tolist(), "pooled": np.asarray(mg[("pooled",)].cdf(np.log(t)), float).tolist(),
            "predictive": np.asarray(mg[("predictive",)].cdf(np.log(t)), float).tolist()}


def benefit_table(post, values=BENEFIT_TABLE_HR) -> list[dict]:
    """[{threshold, pooled: P(HR < t), predictive: P(HR_new < t)}] at round thresholds."""
    mg = post.marginals if hasattr(post, "marginals") else post
    return [{"threshold": float(t), "pooled": float(mg[("pooled",)].cdf(math.log(t))),
             "predictive": float(mg[("predictive",)].cdf(math.log(t)))} for t in values]


def plot_benefit_curve(curve: dict, thresholds=(), ax=None, title: str | None = None,
                       treatment: str = "the treatment"):
    """Figure: probability that the HR is below t (y) against t on a log HR axis, pooled
    (solid) and in a new setting (dashed); the panel's thresholds as vertical lines;
    `treatment` (the spec's ``[report] treatment``) names the treatment on the x-axis."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullFormatter

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    ax.plot(curve["hr"], curve["pooled"], lw=2, label="pooled HR")
    ax.plot(curve["hr"], curve["predictive"], lw=1.5, ls="--", label="HR in a new setting")
    for t in thresholds:
        ax.axvline(t, color="0.5", ls=":", lw=1)
    ax.set_xscale("log")
    ticks = [v for v in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5) if curve["hr"][0] <= v <= curve["hr"][-1]]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels([f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"Hazard ratio threshold t (below 1 = fewer deaths with {treatment})")
    ax.set_ylabel("Probability that the HR is below t")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
