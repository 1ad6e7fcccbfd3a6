"""Inconsistency checks of a network: node-splitting and the unrelated-mean-effects model.

Node-splitting (Dias et al. 2010, Stat Med 29:932-44): for a comparison x-y the studies
containing both x and y inform a separate parameter d_dir (the direct evidence); every other
study informs the basic parameters, so d_ind = d[y] - d[x] is the indirect evidence; both
share tau. The difference d_dir - d_ind and its two-sided posterior tail probability
p = 2 min(P(diff > 0), P(diff < 0)) measure the disagreement. Which comparisons are split and
how multi-arm studies enter follow van Valkenhoef et al. 2016 (Res Synth Methods 7:80-93;
gemtc's mtc.nodesplit.comparisons and nodesplit.rewrite.data.re): x-y is split when it has
direct evidence and x and y are still connected after removing every study that contains both;
a three-arm study with x and y keeps only its x and y arms, a study with more arms is split
into its x-y part and the rest (contrasts re-based exactly, `NetworkStudy.rebased`).

Unrelated mean effects (Dias et al. 2011, NICE DSU TSD4; Dias et al. 2013, Med Decis Making
33:641-56): every comparison observed against a study's first treatment (treatment order)
has its own mean, with the same prior as the basic parameters and one tau. It is compared with
the consistency model by PSIS-LOO (Vehtari et al. 2017, Stat Comput 27:1413-32; ArviZ `loo`)
on per-study log-likelihoods (the study's contrasts jointly, random effects integrated:
y_j ~ N(X_j b, C_j + tau^2 K_j)) evaluated at draws of each exact posterior, and by tau.
"""

from __future__ import annotations

import math

import numpy as np

from ..evidence.conversions import interval_tails
from ..summaries import S
from .data import components
from .exact import fit_components
from .fit import NetworkPosterior, study_sizes
from .model import block_K, build_gaussian, design, prior_arrays  # noqa: F401

__all__ = ["S_hr", "node_split", "split_comparisons", "ume"]


def S_hr(m, ci_prob: float = 0.95) -> dict:
    """S on the HR scale; the mean and sd are None (not available) when the HR's moments
    overflow a float (a heavy-tailed predictive: E[HR] = E[exp(theta)] grows like
    exp(tau^2 / 2)), as `bayesnet.summaries` does for HRs beyond the largest float."""
    try:
        return S(m, "hr", ci_prob)
    except OverflowError:
        q = m.on("hr").quantile([0.5, *interval_tails(ci_prob)])
        return {"mean": None, "sd": None, "median": float(q[0]), "ci95": [float(q[1]), float(q[2])],
                "hpd95": [float(x) for x in m.on("hr").hpd(ci_prob)]}


def split_comparisons(net) -> list[tuple[str, str]]:
    """The comparisons (x, y), x before y in treatment order, to split (module docstring)."""
    out = []
    for (x, y), _ in net.edges().items():
        rest = [s for s in net.studies if not (x in s.arms and y in s.arms)]
        present = {t for s in rest for t in s.arms}
        if x in present and y in present:
            comp = components(sorted(present), rest)
            if any(x in c and y in c for c in comp):
                out.append((x, y))
    return out


def _rewrite(net, x, y):
    """(studies, direct row flags) of the node-split data set for x-y."""
    studies, direct = [], []
    for s in net.studies:
        if x in s.arms and y in s.arms:
            studies.append(s.rebased((x, y), f"{s.name}*" if s.n_arms > 3 else s.name))
            direct.append([True])
            if s.n_arms > 3:
                rest = tuple(t for t in s.arms if t not in (x, y))
                studies.append(s.rebased(rest, f"{s.name}**"))
                direct.append([False] * (len(rest) - 1))
        else:
            studies.append(s)
            direct.append([False] * (s.n_arms - 1))
    return studies, np.concatenate([np.array(d, bool) for d in direct])


def _split_model(post: NetworkPosterior, x, y):
    net, spec = post.net, post.spec
    studies, is_direct = _rewrite(net, x, y)
    X = design(studies, net.others, net.reference)
    X[is_direct] = 0.0
    X = np.hstack([X, is_direct[:, None].astype(float)])
    names = [f"d[{t}]" for t in net.others] + [f"direct[{y}:{x}]"]
    priors = [spec.priors.mu] * len(names)
    gm = build_gaussian(net, random=post.random, tau_prior=spec.priors.tau, studies=studies, X=X, b_names=names,
                        b_priors=priors)
    return gm, studies


#: grid of the node-split fits (one per comparison): (components, coarse, fine points); the
#: consistency fit uses (256, 160, 600). Agreement with the full grid: tests/network.
SPLIT_GRID = (96, 60, 160)


def node_split(post: NetworkPosterior, ci_prob: float = 0.95, grid=SPLIT_GRID) -> list[dict]:
    """One row per split comparison: {comparison "y:x" (x the reference when it is in the pair,
    else the first in treatment order), direct, indirect, difference (S on
    the log-HR scale), direct_hr, indirect_hr, ratio_of_hrs (S on the HR scale), p_value
    (two-sided), studies (the direct evidence), tau (S, under the node-split model)}."""
    net = post.net
    rows = []
    for x, y in split_comparisons(net):
        if y == net.reference:   # read as "treatment vs the reference" when the reference is in the pair
            x, y = y, x
        gm, studies = _split_model(post, x, y)
        comp = fit_components(gm, study_sizes(studies), *grid)
        sub = NetworkPosterior("exact", net, gm, net.others, post.spec, post.nspec, comp=comp, seed=post.seed)
        p = gm.p  # node-split models are fitted by the exact engine whatever engine fitted `post`
        c_dir = np.zeros(p)
        c_dir[-1] = 1.0
        c_ind = np.zeros(p)
        if y != net.reference:
            c_ind[net.others.index(y)] += 1.0
        if x != net.reference:
            c_ind[net.others.index(x)] -= 1.0
        m_dir, m_ind, m_diff = sub.linear(c_dir), sub.linear(c_ind), sub.linear(c_dir - c_ind)
        p_lt = float(m_diff.cdf(0.0))
        rows.append({"comparison": f"{y}:{x}", "treatment": y, "comparator": x,
                     "direct": S(m_dir, "log", ci_prob), "indirect": S(m_ind, "log", ci_prob),
                     "difference": S(m_diff, "log", ci_prob),
                     "direct_hr": S_hr(m_dir, ci_prob), "indirect_hr": S_hr(m_ind, ci_prob),
                     "ratio_of_hrs": S_hr(m_diff, ci_prob),
                     "p_value": float(min(1.0, 2.0 * min(p_lt, 1.0 - p_lt))),
                     "studies": [s.name for s in net.studies if x in s.arms and y in s.arms],
                     "tau": S(sub.tau, "raw", ci_prob) if sub.random else None})
    return rows


def _ume_model(post: NetworkPosterior):
    net, spec = post.net, post.spec
    order = {t: i for i, t in enumerate(net.treatments)}
    studies = []
    for s in net.studies:
        arms = tuple(sorted(s.arms, key=order.get))
        studies.append(s.rebased(arms) if arms != s.arms else s)
    params = sorted({(s.arms[0], t) for s in studies for t in s.arms[1:]}, key=lambda p: (order[p[0]], order[p[1]]))
    col = {p: i for i, p in enumerate(params)}
    X = np.zeros((sum(s.n_arms - 1 for s in studies), len(params)))
    i = 0
    for s in studies:
        for t in s.arms[1:]:
            X[i, col[(s.arms[0], t)]] = 1.0
            i += 1
    names = [f"{t}:{b}" for b, t in params]
    gm = build_gaussian(net, random=post.random, tau_prior=spec.priors.tau, studies=studies, X=X, b_names=names,
                        b_priors=[spec.priors.mu] * len(names))
    return gm, studies, names


def pointwise_loglik(gm, studies, comp, n: int = 4000, seed: int = 0) -> np.ndarray:
    """(n, J) log p(y_j | b, tau) per study j at n draws (tau, b) of the exact posterior
    (component by weight, b | tau ~ N(bhat, Pinv)); random effects integrated."""
    rng = np.random.default_rng(seed)
    w = comp["weights"]
    g = rng.choice(len(w), size=n, p=w / w.sum())
    L = np.linalg.cholesky(comp["Pinv"] + 1e-14 * np.eye(gm.p))
    b = comp["bhat"][g] + np.einsum("nij,nj->ni", L[g], rng.standard_normal((n, gm.p)))
    t2 = comp["taus"][g] ** 2
    X, y = np.asarray(gm.X), gm.resid
    mean = b @ X.T                                                  # (n, rows)
    out = np.zeros((n, len(studies)))
    starts = np.concatenate([[0], np.cumsum([s.n_arms - 1 for s in studies])[:-1]]).astype(int)
    by_m: dict[int, list[int]] = {}
    for j, s in enumerate(studies):
        by_m.setdefault(s.n_arms - 1, []).append(j)
    for m, js in by_m.items():  # studies with m contrasts together
        rows = starts[js][:, None] + np.arange(m)[None]             # (J, m)
        K = np.full((m, m), 0.5) + 0.5 * np.eye(m)
        C = np.stack([studies[j].cov for j in js])                  # (J, m, m)
        V = C[None] + t2[:, None, None, None] * K                   # (n, J, m, m)
        r = y[rows][None] - mean[:, rows]                           # (n, J, m)
        if m == 1:
            v = V[..., 0, 0]
            ll = -0.5 * (math.log(2 * math.pi) + np.log(v) + r[..., 0] ** 2 / v)
        else:
            L = np.linalg.cholesky(V)
            z = np.linalg.solve(L, r[..., None])[..., 0]
            ll = -0.5 * (m * math.log(2 * math.pi) + 2 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(-1)
                         + (z**2).sum(-1))
        out[:, js] = ll
    return out


def _loo(ll: np.ndarray):
    import warnings

    from arviz_base import from_dict  # arviz.from_dict / arviz.loo, without importing the plotting stack
    from arviz_stats import loo

    n = ll.shape[0]
    dt = from_dict({"posterior": {"x": np.zeros((1, n))}, "log_likelihood": {"y": ll[None]}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # high Pareto k is reported in the result instead
        return loo(dt, var_name="y", pointwise=True)


def ume(post: NetworkPosterior, ci_prob: float = 0.95, n: int = 4000) -> dict:
    """The unrelated-mean-effects model beside the consistency model: PSIS-LOO of each
    (elpd_loo, its SE, p_loo, the largest Pareto k), the difference UME - consistency with its
    SE (positive favours UME: evidence of inconsistency), tau under each, and the UME
    comparisons (S on the log-HR scale)."""
    gm_u, studies_u, names = _ume_model(post)
    comp_u = fit_components(gm_u, study_sizes(studies_u))
    seed = post.seed or 0
    gm_c = post.gm
    if post.comp is None:   # an MCMC fit: the consistency model refitted exactly, with the spec's priors
        from .fit import network_gaussian

        gm_c = network_gaussian(post.net, post.spec)
    comp_c = post.comp if post.comp is not None else fit_components(gm_c, study_sizes(post.net.studies))
    ll_c = pointwise_loglik(gm_c, list(post.net.studies), comp_c, n, seed)
    ll_u = pointwise_loglik(gm_u, studies_u, comp_u, n, seed)
    lc, lu = _loo(ll_c), _loo(ll_u)
    di = np.asarray(lu.elpd_i).ravel() - np.asarray(lc.elpd_i).ravel()
    sub = NetworkPosterior("exact", post.net, gm_u, (), post.spec, post.nspec, comp=comp_u, seed=post.seed)

    def block(r):
        return {"elpd_loo": float(r.elpd), "se": float(r.se), "p_loo": float(r.p),
                "max_pareto_k": float(np.max(np.asarray(r.pareto_k)))}

    out = {"consistency": block(lc), "ume": block(lu),
           "elpd_diff_ume_minus_consistency": float(di.sum()),
           "se_diff": float(math.sqrt(len(di) * np.var(di))),
           "tau_consistency": S(comp_c["tau"], "raw", ci_prob) if post.random else None,
           "tau_ume": S(sub.tau, "raw", ci_prob) if sub.random else None,
           "comparisons": {nm: S(sub.coefficient(nm), "log", ci_prob) for nm in names},
           "draws": n,
           "method": "PSIS-LOO (ArviZ) over studies, from draws of each exact posterior",
           "engine": "exact"}
    high = [m for m, r in (("consistency", lc), ("UME", lu)) if np.max(np.asarray(r.pareto_k)) > 0.7]
    out["warning"] = (f"Pareto k above 0.7 for some studies under the {' and '.join(high)} model: the LOO "
                      f"comparison is approximate (an influential study)" if high else None)
    return out
