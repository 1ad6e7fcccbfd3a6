"""Bias models for observational evidence, tipping points and the bias curve.

A bias delta is log(reported HR / true HR): negative means the studies make the treatment
look better than it is. Additive bias model (Turner RM et al. 2009, JRSS A 172:21-47;
Welton NJ et al. 2009, JRSS A 172:119-36):

    y_i = theta_i + delta_i + delta + e_i,   theta_i = x_i' beta + u_i,   e_i ~ N(0, s_i^2)

* per-study bias (``[bias.by.<column>] <level> = {mu, sigma}``): delta_i ~ N(mu, sigma^2)
  independently for every study at that level, so y_i - mu ~ N(theta_i, s_i^2 + sigma^2)
  (a study matched by several columns gets the sum of their means and variances);
* common bias (``[bias] common = {mu, sigma}``): one delta ~ N(m, v) shared by all studies.
  The data inform only eta = beta_0 + delta. With beta_0 ~ N(m0, s0^2) the model is fitted
  with the prior of eta, N(m0 + m, s0^2 + v), and then, given tau, eta ~ N(b, V) maps to

      beta_0 | eta ~ N(m0 + k (eta - m0 - m), k v),     k = s0^2 / (s0^2 + v)

  so beta_0 | tau, y ~ N(m0 + k (b - m0 - m), k^2 V + k v); a flat beta_0 gives
  beta_0 = eta - delta, N(b - m, V + v) (k = 1). The bias prior widens the posterior
  however many studies there are. Predictive (a new study's TRUE effect,
  theta_new = beta_0 + u_new, without bias): add tau^2 to the variance.

All of this is linear-Gaussian, so the exact engine's mixture over tau stays exact
(Roever 2020, J Stat Softw 93(6)). A fixed common bias (sigma = 0) is the same as
analysing y - delta. A normal prior on beta_0 is not shift invariant, so the tau
posterior moves with delta; but given tau the coefficients' posterior mean is linear in
delta and log p(y - delta | tau) quadratic (`engines.exact.shift_terms`), so tipping points
and the bias curve reweight the exact engine's tau grid in closed form instead of refitting
(`_FixedBias`; whenever the exact engine applies, with or without ``[bias.by]``).

Tipping point: the fixed common bias ratio R = exp(delta) at which P(HR < t) falls to a
stated probability (0.95 for t = 1, 0.5 otherwise): a root of a monotone function of
delta (bracketed on the bias curve's ratios, then the Illinois method).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .bias_spec import (  # noqa: F401 - re-exported: the [bias] section as data
    MAX_BIAS_MU,
    MAX_BIAS_SIGMA,
    BiasPrior,
    BiasSpec,
    _clean,
    _columns,
    _number,
    check_bias_columns,
    parse_bias,
    parse_tipping_probability,
    restrict_bias,
)
from .errors import ModelError, SpecError
from .posterior import MixtureMarginal, Posterior
from .priors import Prior
from .vocabulary import column_name, value

__all__ = [
    "MAX_BIAS_MU",
    "MAX_BIAS_SIGMA",
    "TIPPING_LOWER",
    "BiasPrior",
    "BiasSpec",
    "apply_study_bias",
    "bias_curve",
    "check_bias_columns",
    "common_bias_mixture",
    "describe_bias",
    "eta_prior",
    "fit_exact_with_bias",
    "fixed_bias_probability",
    "parse_bias",
    "parse_tipping_probability",
    "plot_bias_curve",
    "pymc_bias_likelihood",
    "reported_inputs",
    "restrict_bias",
    "study_bias_arrays",
    "tipping_analysis",
    "tipping_points",
    "tipping_probabilities",
    "tipping_sentence",
]

TIPPING_LOWER = 0.2  # smallest bias ratio searched for a tipping point
def study_bias_arrays(bias: BiasSpec | None, studies: list[str], evidence) -> tuple[np.ndarray, np.ndarray]:
    """Per-study bias mean and variance (log scale) from ``[bias.by.*]``, in the order of
    `studies`: sums over the columns that match a study; 0 where none does."""
    k = len(studies)
    mean, var = np.zeros(k), np.zeros(k)
    if bias is None or not bias.by:
        return mean, var
    cols = _columns(evidence)
    if "study" in cols:
        order = [str(s) for s in cols["study"]]
        if order != [str(s) for s in studies]:
            idx = {s: i for i, s in enumerate(order)}
            missing = [s for s in studies if str(s) not in idx]
            if missing:
                raise SpecError(f"{bias.source}: [bias]: studies {', '.join(missing)} are not in the evidence table")
            cols = {c: [v[idx[str(s)]] for s in studies] for c, v in cols.items()}
    elif len(next(iter(cols.values()), [])) != k:
        raise SpecError(f"{bias.source}: [bias]: the evidence has no 'study' column and a different number of rows")
    check_bias_columns(bias, cols)
    for col, levels in bias.by.items():
        vals = _clean(cols[col])
        for i, v in enumerate(vals):
            if v in levels:
                mean[i] += levels[v].mu
                var[i] += levels[v].sigma ** 2
    return mean, var


def apply_study_bias(md, bias: BiasSpec | None, evidence):
    """A copy of ModelData `md` with y_i - mu_i and se_i = sqrt(s_i^2 + sigma_i^2) for the
    per-study biases (Turner et al. 2009, additive bias)."""
    mean, var = study_bias_arrays(bias, md.studies, evidence)
    if not np.any(mean) and not np.any(var):
        return md
    return replace(md, y=md.y - mean, s=np.sqrt(md.s**2 + var))


def eta_prior(mu_prior: Prior, common: BiasPrior) -> Prior:
    """Prior of eta = beta_0 + delta: N(m0 + m, s0^2 + v) for beta_0 ~ N(m0, s0^2), flat
    for a flat beta_0."""
    if mu_prior.dist == "flat":
        return mu_prior
    if mu_prior.dist != "normal":
        raise ModelError(f"a common bias needs a normal or flat prior on mu for the exact engine, got {mu_prior.describe()}")
    p = mu_prior.params
    return Prior("normal", {"mu": p["mu"] + common.mu, "sigma": math.sqrt(p["sigma"] ** 2 + common.sigma**2)},
                 kind="effect")


def _kr(mu_prior: Prior, common: BiasPrior) -> tuple[float, float, float]:
    """(k, r, c) with beta_0 | eta ~ N(k eta + c, r)."""
    v = common.sigma**2
    if mu_prior.dist == "flat":
        return 1.0, v, -common.mu
    m0, s02 = mu_prior.params["mu"], mu_prior.params["sigma"] ** 2
    k = s02 / (s02 + v)
    return k, k * v, (1.0 - k) * m0 - k * common.mu


def common_bias_mixture(means, sds, weights, common: BiasPrior, mu_prior: Prior, tau=None) -> MixtureMarginal:
    """Bias-adjusted mixture for beta_0 (tau None) or a new study's true effect (tau = the
    tau of each component), from the exact engine's mixture for eta = beta_0 + delta
    (weights w_g, means b_g, sds sqrt(V_g) of the pooled effect given tau_g, fitted with
    the prior `eta_prior(mu_prior, common)`): component g becomes
    N(k b_g + c, k^2 V_g + r (+ tau_g^2)) with k, r, c from the closed form of
    beta_0 | eta (module docstring; Turner et al. 2009)."""
    k, r, c = _kr(mu_prior, common)
    b, V = np.asarray(means, float), np.asarray(sds, float) ** 2
    var = k * k * V + r
    if tau is not None:
        var = var + np.asarray(tau, float) ** 2
    return MixtureMarginal(k * b + c, np.sqrt(var), np.asarray(weights, float))


def describe_bias(bias: BiasSpec | None) -> list[str]:
    """Plain sentences stating every assumed bias (for Methods and the report)."""
    if bias is None or bias.empty:
        return ["No bias was assumed."]
    out = []
    if bias.common is not None:
        c = bias.common
        if c.sigma == 0:
            out.append(f"Every study was assumed to report an HR {c.ratio:.2f} times the true HR (a fixed, "
                       "shared bias, assumed and not estimated from the data).")
        else:
            lo, hi = c.ratio_interval()
            out.append(f"Every study was assumed to share one bias: reported HR / true HR centred at {c.ratio:.2f} "
                       f"(95% prior range {lo:.2f} to {hi:.2f}); this is a prior assumption, not estimated from the data.")
    for col, levels in bias.by.items():
        for lev, p in levels.items():
            lo, hi = p.ratio_interval()
            out.append(f"Studies with {column_name(col)} = {value(lev)}: each has its own bias, reported HR / true HR centred at "
                       f"{p.ratio:.2f} (95% prior range {lo:.2f} to {hi:.2f}), independent across studies; assumed, "
                       "not estimated from the data.")
    return out


def fit_exact_with_bias(md, spec, bias: BiasSpec | None, evidence=None, table=None) -> Posterior:
    """Exact bias-adjusted posterior: per-study biases shift y and inflate the variance;
    a common bias is fitted through eta = beta_0 + delta and mapped back to beta_0 in
    closed form given tau (module docstring). Pooled, predictive, strata, stratum
    predictive and shrunken study effects are those of the TRUE effects; coefficients
    (differences between levels) and tau are unaffected by a common bias.
    `table` (a DataFrame with a 'study' column; defaults to evidence.table) carries the
    columns named in ``[bias.by]``. ``post.extras["bias"]`` describes the assumptions;
    ``post.model_data`` is the shifted, widened data fitted and
    ``post.extras["model_data_as_reported"]`` the studies as reported (`reported_inputs`)."""
    from .engines.exact import conditionals, fit_exact, prior_precision

    if table is None and evidence is not None:
        table = evidence.table
    if bias is not None and bias.by and table is None:
        raise SpecError(f"{bias.source}: [bias.by] needs the evidence table to find each study's level")
    md_b = apply_study_bias(md, bias, table) if bias is not None and bias.by else md
    common = bias.common if bias is not None else None
    if common is None:
        post = fit_exact(md_b, spec, evidence)
        post.extras["bias"] = {"assumptions": describe_bias(bias)}
        post.extras["model_data_as_reported"] = md  # the studies as reported (not shifted)
        return post
    mu_prior = md.coef_priors[0]
    eta = eta_prior(mu_prior, common)
    md_e = replace(md_b, coef_priors=(eta, *md_b.coef_priors[1:]))  # the model of eta = beta_0 + delta
    post = fit_exact(md_e, spec, evidence)
    post.model_data = md_b
    post.extras["model_data_as_reported"] = md  # the studies as reported (not shifted)
    k, r, c = _kr(mu_prior, common)
    m0, vinv = prior_precision(md_e)
    tau_c, w = post.extras["tau_components"], post.extras["weights"]
    b, Pinv, _ = conditionals(md_b, m0, vinv, tau_c)
    t2 = tau_c**2
    e0 = np.zeros(md_b.p)
    e0[0] = 1.0

    def true_lin(cvec):
        ct = cvec - (1.0 - k) * e0
        return b @ ct + c, np.einsum("i,gij,j->g", ct, Pinv, ct) + r

    marg = post.marginals
    mean, var = true_lin(md_b.contrast())
    marg[("pooled",)] = MixtureMarginal(mean, np.sqrt(var), w)
    marg[("predictive",)] = MixtureMarginal(mean, np.sqrt(var + t2), w)
    for cov, lev in md_b.strata():
        mean, var = true_lin(md_b.contrast(cov, lev))
        marg[("stratum", cov, lev)] = MixtureMarginal(mean, np.sqrt(var), w)
        marg[("stratum_predictive", cov, lev)] = MixtureMarginal(mean, np.sqrt(var + t2), w)
    s2 = md_b.s**2
    for i, st in enumerate(md_b.studies):
        B = s2[i] / (s2[i] + t2)
        a = B[:, None] * md_b.X[i][None, :] - (1.0 - k) * e0[None, :]
        mean = (1 - B) * md_b.y[i] + np.einsum("gi,gi->g", b, a) + c
        var = s2[i] * t2 / (s2[i] + t2) + np.einsum("gi,gij,gj->g", a, Pinv, a) + r
        marg[("study", st)] = MixtureMarginal(mean, np.sqrt(np.maximum(var, 1e-300)), w)
    post.extras["bias"] = {"assumptions": describe_bias(bias), "eta_prior": eta.to_dict(),
                           "k": k, "r": r, "c": c}
    return post


# ---------------------------------------------------------------------------- MCMC
def pymc_bias_likelihood(theta, y, s, study_mean, study_var, common: BiasPrior | None, dims="study",
                         name: str = "y_obs"):
    """Inside a ``pm.Model`` context: the likelihood of the additive bias model,
    y_i ~ N(theta_i + mu_i + delta, s_i^2 + sigma_i^2), with theta_i the TRUE study
    effects, (mu_i, sigma_i^2) = `study_mean`, `study_var` from `study_bias_arrays` and a
    shared delta ~ N(m, v) (a random variable "bias_common"; a constant when v = 0).
    Replaces the engine's ``pm.Normal("y_obs", mu=theta, sigma=s, ...)``."""
    import pymc as pm

    mean = theta + study_mean
    if common is not None:
        if common.sigma > 0:
            delta = pm.Normal("bias_common", mu=common.mu, sigma=common.sigma)
        else:
            delta = common.mu
        mean = mean + delta
    sd = pm.math.sqrt(s**2 + study_var)
    return pm.Normal(name, mu=mean, sigma=sd, observed=y, dims=dims)


# ---------------------------------------------------------------------------- tipping points
def tipping_probabilities(thresholds, overrides: dict[float, float] | None = None) -> dict[float, float]:
    """The probability at which each benefit threshold (t <= 1) tips: 0.95 for t = 1, 0.5
    for every other benefit threshold, unless `overrides` says otherwise."""
    out = {}
    for t in thresholds:
        t = float(t)
        if t > 1:
            continue
        out[t] = 0.95 if t == 1.0 else 0.5
    for t, p in (overrides or {}).items():
        out[float(t)] = float(p)
    return dict(sorted(out.items(), reverse=True))


class _FixedBias:
    """P(true HR < t) for the pooled effect or a new study under a fixed common bias delta,
    for any delta, without refitting (per-study biases of `bias` applied, its common bias
    ignored). Fitting with a fixed common bias delta is fitting y - delta, and in the
    normal-normal model, given tau, that moves the posterior mean of the coefficients
    linearly in delta and log p(y - delta | tau) quadratically
    (`engines.exact.shift_terms`). So the exact engine's tau grid and the conditionals on
    it are computed once (at delta = 0); for a vector of deltas at once, the tau density on
    that grid is reweighted in closed form, the engine's mixture components are its
    quantiles (`component_levels`, `grid_quantiles`), and the pooled / predictive
    P(HR < t) is a mixture of normal CDFs. At delta = 0 this is the exact fit itself;
    elsewhere it equals the exact fit of y - delta on the same tau grid (to 1e-9,
    tests/bias/test_tipping_fast.py). A refit would re-choose its adaptive grid per delta;
    that changes P(HR < t) by up to 3e-6 on the shipped specs and the tests' data (the
    engine's own quadrature error, of the same size against a 25-fold finer fit) and the
    tipping ratios by up to 3e-6. It applies whenever the exact engine does (normal or flat
    priors on the coefficients, normal random effects, with or without per-study biases);
    other specs get a ModelError, as before (no MCMC tipping points)."""

    def __init__(self, md, spec, bias=None, table=None):
        from .engines.exact import _tau_grid, can_fit, check_identified, prior_precision, shift_terms

        ok, why = can_fit(spec)
        if not ok:
            raise ModelError(f"tipping points and bias curves need the exact engine ({why}); "
                             "refit the analysis with a normal-normal model, or read the bias-adjusted MCMC result")
        md = apply_study_bias(md, bias, table) if bias is not None and bias.by else md
        self.md, self.c = md, md.contrast()
        self.m0, self.vinv = prior_precision(md)
        check_identified(md, self.vinv)
        self.x = None
        if md.random:
            self.x, dens = _tau_grid(md, self.m0, self.vinv, md.tau_prior)
            *_, self.a1, self.a2 = shift_terms(md, self.m0, self.vinv, self.x, self.c)
            with np.errstate(divide="ignore"):
                self.logd = np.log(dens)
        self._cache: dict = {}

    def _mixtures(self, deltas: list[float]) -> None:
        """Cache, for each new delta, (means, pooled sds, predictive sds) of the mixture
        components and their weights, all deltas in one pass."""
        from .engines.exact import component_levels, grid_quantiles, shift_terms

        new = np.array([d for d in dict.fromkeys(deltas) if d not in self._cache])
        if not len(new):
            return
        if self.x is None:  # fixed effect: one component at tau = 0
            tau, w = np.zeros((len(new), 1)), np.ones(1)
        else:
            u, w = component_levels()
            lp = self.logd[None, :] + new[:, None] * self.a1 - 0.5 * (new**2)[:, None] * self.a2
            tau = grid_quantiles(self.x, np.exp(lp - lp.max(axis=1, keepdims=True)), u)
        cb, ch, var, _, _ = shift_terms(self.md, self.m0, self.vinv, tau.ravel(), self.c, log_weight=False)
        cb, ch, var = (v.reshape(tau.shape) for v in (cb, ch, var))
        mean = cb - new[:, None] * ch
        sd, sd_new = np.sqrt(var), np.sqrt(var + tau**2)
        for j, d in enumerate(new):
            self._cache[float(d)] = (mean[j], sd[j], sd_new[j], w)

    def probs(self, deltas, t, quantity: str = "pooled") -> np.ndarray:
        """P(true HR < t) of `quantity` ("pooled" or "predictive") at each fixed bias delta
        (log of reported HR / true HR) in `deltas`; `t` one threshold or one per delta."""
        from scipy.special import ndtr

        deltas = [float(d) for d in np.atleast_1d(deltas)]
        self._mixtures(deltas)
        rows = [self._cache[d] for d in deltas]
        mean = np.stack([r[0] for r in rows])
        sd = np.stack([r[1 if quantity == "pooled" else 2] for r in rows])
        z = (np.log(np.broadcast_to(np.asarray(t, float), (len(deltas),)))[:, None] - mean) / sd
        return ndtr(z) @ rows[0][3]

    def prob(self, delta: float, t: float, quantity: str = "pooled") -> float:
        return float(self.probs([delta], t, quantity)[0])

    def marginal(self, delta: float, quantity: str = "pooled") -> MixtureMarginal:
        """The log-HR marginal of `quantity` ("pooled" or "predictive") under the fixed
        common bias `delta`: the normal mixture whose CDF `probs` evaluates (for absolute
        effects and quantiles under a fixed bias)."""
        delta = float(delta)
        self._mixtures([delta])
        mean, sd, sd_new, w = self._cache[delta]
        return MixtureMarginal(mean, sd if quantity == "pooled" else sd_new, w)


def fixed_bias_probability(md, spec, ratio: float, threshold: float, quantity: str = "pooled",
                           bias: BiasSpec | None = None, table=None) -> float:
    """P(true HR < threshold) when every study's HR is assumed to be `ratio` times the true
    HR (fixed common bias delta = log ratio): the exact fit of y - delta, on the tau grid
    of the unbiased fit (`_FixedBias`)."""
    return _FixedBias(md, spec, bias, table).prob(math.log(ratio), threshold, quantity)


def _increasing_roots(f, a, b, fa, fb, xtol: float = 1e-10, ftol: float = 1e-13, maxiter: int = 100):
    """Elementwise roots of increasing functions by the Illinois method (modified regula
    falsi; Dowell & Jarratt 1971, BIT 11:168-74), all elements in one call of `f` per step:
    f(x, idx) returns the values of elements `idx` at the points `x`; fa < 0 < fb at the
    bracket ends a < b. Stops an element when |f| < ftol or its bracket is below xtol."""
    a, b, fa, fb = (np.array(v, float) for v in (a, b, fa, fb))
    x, side = (a + b) / 2, np.zeros(len(a))
    active = np.ones(len(a), bool)
    for _ in range(maxiter):
        i = np.flatnonzero(active)
        if not len(i):
            break
        c = np.clip((a[i] * fb[i] - b[i] * fa[i]) / (fb[i] - fa[i]), a[i], b[i])
        fc = f(c, i)
        x[i] = c
        low, high = fc < 0, fc > 0
        j, k = i[low], i[high]
        a[j], fa[j] = c[low], fc[low]
        fb[j[side[j] == -1]] /= 2  # Illinois: halve the stale end's value
        side[j] = -1
        b[k], fb[k] = c[high], fc[high]
        fa[k[side[k] == 1]] /= 2
        side[k] = 1
        active[i] = (np.abs(fc) >= ftol) & (b[i] - a[i] >= xtol)
    return x


def tipping_points(md, spec, probabilities: dict[float, float], quantity: str = "pooled",
                   bias: BiasSpec | None = None, table=None, lower: float = TIPPING_LOWER,
                   _fixed=None) -> list[dict]:
    """For each threshold t -> probability p: the fixed common bias ratio R = exp(delta) in
    [lower, 1] at which P(true HR < t) = p (P falls as R falls, i.e. as the studies are
    assumed to exaggerate the benefit more). The root in delta is bracketed on `lower` and
    the bias curve's ratios (shared with `bias_curve` in `tipping_analysis`), then found to
    1e-10 by the Illinois method for all thresholds at once. Per-study biases of `bias` apply;
    its common bias is replaced by the fixed one being searched. `md` must be the studies AS
    REPORTED (``bias.reported_inputs(post)``): the per-study biases are applied here, once.
    Returns [{threshold, probability, ratio, prob_without_bias, quantity, reason,
    per_study_bias}], ratio None (and a reason) when P is already below p without bias, or
    still above p at R = lower; `per_study_bias` says whether ``[bias.by]`` terms applied.
    No probabilities (every threshold above 1: harm thresholds) give []."""
    rf = _fixed or _FixedBias(md, spec, bias, table)
    curve = _curve_ratios(md.k)
    ratios = np.unique(np.concatenate([[lower, 1.0], curve[curve > lower]]))
    grid = np.log(ratios)
    if not probabilities:
        return []
    ts, ps = (np.array(list(v), float) for v in (probabilities.keys(), probabilities.values()))
    vals = np.stack([rf.probs(grid, t, quantity) - p for t, p in zip(ts, ps, strict=True)])  # (thresholds, grid)
    out, search = [], []
    for n, (t, p) in enumerate(zip(ts, ps, strict=True)):
        f0 = float(vals[n, -1] + p)
        row = {"threshold": float(t), "probability": float(p), "ratio": None, "prob_without_bias": f0,
               "quantity": quantity, "reason": None, "per_study_bias": bool(bias is not None and bias.by)}
        if f0 < p:
            row["reason"] = (f"P(HR < {t:g}) is {f0:.3f} without any bias, already below {p:g}")
        elif vals[n, 0] > 0:
            row["reason"] = (f"P(HR < {t:g}) stays above {p:g} even if the studies' HRs were {lower:g} times the "
                             "true HR (the smallest bias ratio searched)")
        else:
            j = int(np.flatnonzero(vals[n] <= 0)[-1])  # the last grid point at or below p
            search.append((n, j))
        out.append(row)
    if search:
        n, j = (np.array(v) for v in zip(*search, strict=True))
        d = _increasing_roots(lambda x, i: rf.probs(x, ts[n[i]], quantity) - ps[n[i]],
                              grid[j], grid[j + 1], vals[n, j], vals[n, j + 1])
        for nn, dd in zip(n, d, strict=True):
            out[nn]["ratio"] = float(math.exp(dd))
    return out


def _curve_ratios(k: int) -> np.ndarray:
    """The default bias ratios of the curve: 0.5 to 1, 51 points (21 beyond 1000 studies)."""
    return np.linspace(0.5, 1.0, 51 if k <= 1000 else 21)


def bias_curve(md, spec, thresholds, ratios=None, bias: BiasSpec | None = None, table=None,
               _fixed=None) -> dict:
    """P(true HR < t) against the fixed common bias ratio (default 0.5 to 1, 51 points; 21
    beyond 1000 studies),
    pooled and predictive: {"ratio": [...], "pooled": {t: [...]}, "predictive": {t: [...]}}
    (keys of the inner dicts are the thresholds as formatted strings, e.g. "0.8")."""
    rf = _fixed or _FixedBias(md, spec, bias, table)
    if ratios is None:
        ratios = _curve_ratios(md.k)
    ratios = np.asarray(ratios, float)
    out = {"ratio": [float(r) for r in ratios], "pooled": {}, "predictive": {}}
    for q in ("pooled", "predictive"):
        for t in thresholds:
            out[q][f"{float(t):g}"] = [float(v) for v in rf.probs(np.log(ratios), float(t), q)]
    return out


def reported_inputs(post: Posterior) -> tuple:
    """(model data as reported, spec, bias, evidence table) of a fitted Posterior: the
    studies exactly as they reported them (``post.reported.model_data``, never the data
    the exact engine shifted by the per-study bias means), with the ``[bias]`` of its spec,
    so that an analysis applies the per-study bias terms once."""
    ref = post.reported
    table = getattr(ref.evidence, "table", None)
    md = ref.model_data if ref is not post else post.extras.get("model_data_as_reported", post.model_data)
    return md, post.spec, getattr(post.spec, "bias", None), table


def tipping_analysis(post, *args, thresholds=None, bias=None, table=None, lower: float = TIPPING_LOWER,
                     spec=None, probabilities=None) -> dict:
    """Tipping points (pooled) and the bias curve sharing one `_FixedBias` (and its cache):
    {"tipping_point": [...], "curve": {...}}.

    ``tipping_analysis(post, probabilities, thresholds=None)`` for a fitted Posterior: the
    studies as reported (`reported_inputs`) with the per-study ``[bias.by]`` terms of its
    spec applied once, the ``[bias] common`` prior replaced by the fixed ratio searched.
    ``tipping_analysis(md, spec, probabilities, thresholds=None, bias=None, table=None)``:
    the same for model data `md` as reported. `probabilities`: {threshold: probability}
    (`tipping_probabilities`); `thresholds`: those of the curve (default: the same). No
    benefit threshold (an empty `probabilities`) gives no tipping points (an empty list)."""
    if isinstance(post, Posterior):
        md, spec0, bias0, table0 = reported_inputs(post)
        spec = spec or spec0
        bias = bias0 if bias is None else bias
        table = table0 if table is None else table
        if args:
            probabilities, *rest = args
            if rest:
                thresholds = rest[0]
    else:
        md = post
        if args:
            spec, *rest = args
            if rest:
                probabilities, *rest = rest
            if rest:
                thresholds = rest[0]
    if probabilities is None:
        probabilities = tipping_probabilities(spec.thresholds)
    rf = _FixedBias(md, spec, bias, table)
    th = list(probabilities) if thresholds is None else thresholds
    return {"tipping_point": tipping_points(md, spec, probabilities, bias=bias, table=table, lower=lower, _fixed=rf),
            "curve": bias_curve(md, spec, th, _fixed=rf)}


def tipping_sentence(row: dict) -> str:
    """Plain words for a tipping point R (reported HR / true HR; a ratio further below 1 is
    a larger exaggeration of the benefit): "If the studies' reported HRs were 0.69 times
    the true HR or lower (...), the probability that the true HR is below 1 would fall
    below 95%." A row without a ratio gives its reason."""
    t, p = row["threshold"], row["probability"]
    if row["ratio"] is None:
        return row["reason"] + "."
    r = row["ratio"]
    kept = ", on top of the per-study biases assumed" if row.get("per_study_bias") else ""
    return (f"If the studies' reported HRs were {r:.2f} times the true HR or lower (a shared exaggeration of the "
            f"benefit at least that large{kept}; a ratio further below 1 is a larger exaggeration), the probability "
            f"that the true HR is below {t:g} would fall below {100 * p:g}%.")


def plot_bias_curve(curve: dict, tipping: list[dict] | None = None, ax=None, title: str | None = None):
    """Figure: P(true HR < t) against the assumed bias ratio (reported HR / true HR),
    pooled (solid) and a new setting (dashed); the stated probabilities as dotted lines
    and, shaded, the bias ratios at or beyond each tipping point."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
    else:
        fig = ax.figure
    r = np.asarray(curve["ratio"])
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, t in enumerate(curve["pooled"]):
        col = colors[i % len(colors)]
        ax.plot(r, curve["pooled"][t], color=col, lw=2, label=f"P(HR < {t}), pooled")
        ax.plot(r, curve["predictive"][t], color=col, lw=1.5, ls="--", label=f"P(HR < {t}), new setting")
    for i, row in enumerate(tipping or []):
        col = colors[i % len(colors)]
        ax.axhline(row["probability"], color=col, ls=":", lw=1)
        if row["ratio"] is not None:
            ax.axvspan(r.min(), row["ratio"], color=col, alpha=0.08, lw=0)
            ax.axvline(row["ratio"], color=col, lw=0.8)
    ax.set_xlim(r.min(), r.max())
    ax.set_ylim(0, 1)
    ax.set_xlabel("Assumed bias: reported HR / true HR (1 = no bias; lower = studies exaggerate benefit)")
    ax.set_ylabel("Probability that the true HR is below the threshold")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
