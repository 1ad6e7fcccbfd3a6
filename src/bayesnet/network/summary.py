"""Summaries of a NetworkPosterior, one code path for both engines: the summary.json
`network` block, tidy tables (contrasts, league table, rankings) and an xarray Dataset with
dims (treatment, comparator).

Conventions (as everywhere in bayesnet): "E:A" is the HR of E versus A; benefit is HR < 1;
rank 1 is the lowest HR against the reference (the best), so rankings assume a lower hazard
is better. S = {mean, sd, median, ci95, hpd95} (`bayesnet.summaries.S`).

Rankings (Salanti et al. 2011, J Clin Epidemiol 64:163-71): rank_prob[t][r-1] = P(rank of t
= r); SUCRA_t = sum_{r=1}^{T-1} P(rank of t <= r) / (T - 1) = (T - E[rank_t]) / (T - 1);
p_best = P(rank 1). Computed from draws of the joint posterior of the d's (exact engine:
`rank_draws` draws of the exact mixture; the Monte Carlo SE of each SUCRA is reported).
Rankings say nothing about how large the differences are: two treatments can rank 1 and 2
with a negligible difference between them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..evidence.conversions import interval_tails
from ..posterior import prefetch_mixture_summaries
from ..summaries import S, assert_finite, prob_block
from .inconsistency import S_hr

__all__ = ["contrasts_table", "league_table", "network_summary", "rankings", "to_xarray"]

RANKING_CAUTION = ("Rankings order the treatments by their estimated hazard ratios against the reference; they ignore "
                   "how large the differences are and how certain: two treatments can rank first and second with a "
                   "negligible difference between them. Read them with the league table.")


def pairs(post) -> list[tuple[str, str]]:
    """Every ordered pair (E, A), E != A, in treatment order."""
    return [(e, a) for e in post.treatments for a in post.treatments if e != a]


def rankings(post, n: int | None = None, seed: int | None = None) -> dict:
    """{sucra, p_best, rank_prob, mean_rank, sucra_mcse, n_draws} from draws of the d's
    (module docstring)."""
    d = post.rank_draws(n, seed)
    N, T = d.shape
    rank = np.argsort(np.argsort(d, axis=1, kind="stable"), axis=1) + 1       # 1 = lowest log-HR
    probs = np.stack([(rank == r).mean(0) for r in range(1, T + 1)], axis=1)  # (T, T)
    sucra_draw = (T - rank) / (T - 1) if T > 1 else np.ones_like(rank, float)
    sucra = sucra_draw.mean(0)
    if post.engine == "mcmc" and "b_chain" in (post.draws or {}):
        from arviz_stats import mcse as az_mcse  # autocorrelated draws: ArviZ's MCSE of the mean

        shape = post.draws["b_chain"].shape[:2]
        mcse = np.array([float(az_mcse(sucra_draw[:, j].reshape(shape), method="mean")) for j in range(T)])
    else:
        mcse = sucra_draw.std(0) / math.sqrt(N)   # independent draws of the exact posterior
    ts = post.treatments
    return {"sucra": {t: float(sucra[j]) for j, t in enumerate(ts)},
            "p_best": {t: float(probs[j, 0]) for j, t in enumerate(ts)},
            "rank_prob": {t: [float(x) for x in probs[j]] for j, t in enumerate(ts)},
            "mean_rank": {t: float(rank[:, j].mean()) for j, t in enumerate(ts)},
            "sucra_mcse": {t: float(mcse[j]) for j, t in enumerate(ts)},
            "n_draws": int(N), "direction": "rank 1 = lowest hazard ratio against the reference (HR < 1 is benefit)",
            "caution": RANKING_CAUTION}


def _contrast_block(post, e, a, th, harm, ci_prob):
    m, pm = post.contrast(e, a), post.contrast(e, a, predictive=True)
    return {"log_hr": S(m, "log", ci_prob), "hr": S_hr(m, ci_prob), "prob": prob_block(m, th, harm),
            "predictive": {"log_hr": S(pm, "log", ci_prob), "hr": S_hr(pm, ci_prob),
                           "prob": prob_block(pm, th, harm)}}


def _prefetch(post, ci_prob):
    margs = [post.contrast(e, a, p) for e, a in pairs(post) for p in (False, True)]
    prefetch_mixture_summaries(margs, prob=ci_prob, probs=(0.5, *interval_tails(ci_prob)), hpd_of=margs)


def network_summary(post, ci_prob: float = 0.95, thresholds=None, harm=None, inconsistency: bool = True) -> dict:
    """The summary.json `network` block: treatments, reference, contrasts for every ordered
    pair ("E:A" = HR of E vs A: log_hr, hr, prob, predictive), tau, ranking, node_split, ume,
    studies, diagnostics."""
    spec = post.spec
    th = list(thresholds if thresholds is not None else (spec.thresholds if spec is not None else (1.0, 0.8)))
    harm = float(harm if harm is not None else (spec.harm if spec is not None else 1.25))
    _prefetch(post, ci_prob)
    contrasts = {f"{e}:{a}": _contrast_block(post, e, a, th, harm, ci_prob) for e, a in pairs(post)}
    net = post.net
    out = {
        "engine": post.engine,
        "status": "ok" if post.ok else "failed_diagnostics",
        "model": "consistency, random effects (common tau, multi-arm correlation 1/2)" if post.random else
                 "consistency, fixed effect",
        "treatments": list(net.treatments),
        "reference": net.reference,
        "k": net.k,
        "n_contrasts": net.n_contrasts,
        "multi_arm_studies": [s.name for s in net.studies if s.n_arms > 2],
        "ci_prob": ci_prob,
        "contrasts": contrasts,
        "tau": S(post.tau, "raw", ci_prob) if post.random else None,
        "ranking": rankings(post),
        "coefficients": {nm: S(post.coefficient(nm), "log", ci_prob) for nm in post.gm.b_names
                         if nm.startswith("beta[")},
        "edges": [{"treatments": [a, b], "studies": ss} for (a, b), ss in net.edges().items()],
        "patients": (net.arm_sizes() if any(np.isfinite(n) for st in net.studies for n in (st.n or ()))
                     else None),   # None: no arm sizes (column n) given
        "warnings": [str(p).removeprefix("warning: ") for p in net.problems],
        "diagnostics": post.diagnostics,
    }
    if any(nm.startswith("beta[") for nm in post.gm.b_names):
        out["warnings"].append("the node-split and unrelated-mean-effects checks are fitted without the "
                               "meta-regression covariates; the basic parameters are the effects at the covariates' "
                               "mean over studies")
    exact_ok = spec is None or (spec.priors.mu.is_normal_or_flat and spec.priors.beta.is_normal_or_flat)
    if inconsistency and not exact_ok:
        out["warnings"].append("node-splitting and the unrelated-mean-effects model are fitted by the exact engine, "
                               "which needs normal or flat priors on the treatment effects: not computed with "
                               f"{spec.priors.mu.describe()}")
        out["node_split"], out["ume"] = [], None
        inconsistency = False
    if inconsistency:
        from .inconsistency import node_split, ume

        ns = post.nspec
        out["node_split"] = node_split(post, ci_prob) if ns.node_split else []
        out["node_split_engine"] = "exact"   # node-split models are fitted by quadrature whatever the engine
        out["ume"] = ume(post, ci_prob) if ns.ume else None
    assert_finite({k: v for k, v in out.items() if k != "diagnostics"}, "network")
    return out


def contrasts_table(post, ci_prob: float = 0.95) -> pd.DataFrame:
    """Tidy: one row per ordered pair and kind (mean / predictive) with HR median, interval
    and P(HR < 1)."""
    lo_t, hi_t = interval_tails(ci_prob)
    rows = []
    for e, a in pairs(post):
        for kind, pred in (("mean", False), ("predictive", True)):
            m = post.contrast(e, a, pred)
            q = m.quantile([0.5, lo_t, hi_t])
            rows.append({"treatment": e, "comparator": a, "kind": kind, "log_hr_mean": m.mean(), "log_hr_sd": m.sd(),
                         "hr_median": math.exp(q[0]), "hr_low": math.exp(q[1]), "hr_high": math.exp(q[2]),
                         "p_hr_lt_1": float(m.cdf(0.0))})
    return pd.DataFrame(rows)


def league_table(post, ci_prob: float = 0.95, digits: int = 2) -> pd.DataFrame:
    """Rows = treatment E, columns = comparator A, cell = "HR (lo to hi)" of E vs A (the
    diagonal holds the treatment's name), treatments ordered by SUCRA (best first)."""
    from ..format import hr as fhr

    lo_t, hi_t = interval_tails(ci_prob)
    rk = rankings(post)["sucra"]
    order = sorted(post.treatments, key=lambda t: -rk[t])
    cells = {}
    for e in order:
        cells[e] = {}
        for a in order:
            if e == a:
                cells[e][a] = e
                continue
            q = post.contrast(e, a).quantile([0.5, lo_t, hi_t])
            cells[e][a] = f"{fhr(math.exp(q[0]), digits)} ({fhr(math.exp(q[1]), digits)} to {fhr(math.exp(q[2]), digits)})"
    df = pd.DataFrame(cells).T.loc[order, order]
    df.index.name, df.columns.name = "treatment", "comparator"
    return df


def to_xarray(post, ci_prob: float = 0.95):
    """xarray Dataset with dims (treatment, comparator): hr_median, hr_low, hr_high,
    log_hr_mean, log_hr_sd, p_hr_lt_1 and the predictive interval (NaN on the diagonal);
    and with dim (treatment, rank): rank_prob; (treatment): sucra, p_best."""
    import xarray as xr

    ts = list(post.treatments)
    T = len(ts)
    lo_t, hi_t = interval_tails(ci_prob)
    names = ("hr_median", "hr_low", "hr_high", "log_hr_mean", "log_hr_sd", "p_hr_lt_1", "pred_hr_low", "pred_hr_high")
    arr = {k: np.full((T, T), np.nan) for k in names}
    for i, e in enumerate(ts):
        for j, a in enumerate(ts):
            if i == j:
                continue
            m, pm = post.contrast(e, a), post.contrast(e, a, True)
            q, pq = m.quantile([0.5, lo_t, hi_t]), pm.quantile([lo_t, hi_t])
            arr["hr_median"][i, j], arr["hr_low"][i, j], arr["hr_high"][i, j] = np.exp(q)
            arr["log_hr_mean"][i, j], arr["log_hr_sd"][i, j] = m.mean(), m.sd()
            arr["p_hr_lt_1"][i, j] = float(m.cdf(0.0))
            arr["pred_hr_low"][i, j], arr["pred_hr_high"][i, j] = np.exp(pq)
    rk = rankings(post)
    ds = xr.Dataset({k: (("treatment", "comparator"), v) for k, v in arr.items()},
                    coords={"treatment": ts, "comparator": ts, "rank": np.arange(1, T + 1)})
    ds["rank_prob"] = (("treatment", "rank"), np.array([rk["rank_prob"][t] for t in ts]))
    ds["sucra"] = (("treatment",), np.array([rk["sucra"][t] for t in ts]))
    ds["p_best"] = (("treatment",), np.array([rk["p_best"][t] for t in ts]))
    ds.attrs.update({"reference": post.reference, "engine": post.engine, "ci_prob": ci_prob,
                     "convention": "HR of treatment versus comparator; HR < 1 favours the treatment"})
    return ds
