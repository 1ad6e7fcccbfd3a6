"""MCMC engine: PyMC model, sampled with nutpie; a diagnostics gate on every result.

Non-centred parameterisation (Betancourt & Girolami 2015) of the model in
`bayesnet.models`:

    theta_i = x_i' beta + tau_g(i) z_i + omega v_p(i),   z_i ~ N(0,1) or t_nu,  v_p ~ N(0,1)
    y_i ~ N(theta_i, s_i^2)

With heterogeneity "by:<column>" each level g has tau_g = tau exp(lambda eta_g),
eta_g ~ N(0,1), lambda ~ half-normal(0.5): one tau per level, partially pooled on the log
scale around the typical tau.

Prior hyperparameters and the data are `pm.Data`, so one compiled model is refitted
with new data or new prior values through nutpie's `with_data` without recompiling; a new
number of studies, another prior family or another model structure compiles anew (the
cache key says which).

Diagnostics gate (Vehtari et al. 2021, Bayesian Analysis 16:667-718): R-hat <= 1.01,
bulk and tail ESS >= 400 for every parameter, no divergent transitions.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ..models import ModelData
from ..posterior import DrawsMarginal, Posterior
from .common import ESS_MIN, RHAT_MAX, compile_nutpie, convergence, reproducible_compile, typical_within_variance

__all__ = ["ESS_MIN", "RHAT_MAX", "compiled_model", "fit_mcmc"]

_CACHE: dict = {}
_LOCK = threading.Lock()


def _coef_var(j: int) -> str:
    return "mu" if j == 0 else f"b{j}"


def _structure_key(md: ModelData) -> tuple:
    fam = tuple(pr.dist for pr in md.coef_priors)
    bias = (md.bias_mean is not None,
            None if md.bias_common is None else (md.bias_common.mu, md.bias_common.sigma))
    return (bias, md.k, md.p, md.effects, md.random_dist, len(md.het_levels), len(md.pop_levels),
            fam, md.tau_prior.dist, md.omega_prior.dist if md.pop_levels else None)


def _data_values(md: ModelData) -> dict:
    vals = {"y": md.y, "s": md.s, "X": md.X}
    if md.bias_mean is not None:
        vals["bias_mean"], vals["bias_var"] = md.bias_mean, md.bias_var
    for j, pr in enumerate(md.coef_priors):
        for k, v in pr.params.items():
            vals[f"prior__{_coef_var(j)}__{k}"] = np.asarray(v, float)
    if md.random:
        for k, v in md.tau_prior.params.items():
            vals[f"prior__tau__{k}"] = np.asarray(v, float)
        if md.random_dist == "student_t":
            vals["random_df"] = np.asarray(float(md.random_df))
        if md.het_index is not None:
            vals["het_index"] = md.het_index.astype("int64")
        if md.pop_index is not None:
            vals["pop_index"] = md.pop_index.astype("int64")
            for k, v in md.omega_prior.params.items():
                vals[f"prior__omega__{k}"] = np.asarray(v, float)
    return vals


def _canonical(vals: dict) -> dict:
    """Placeholder values of the right shapes for compiling: every fit then reaches its
    real data and hyperparameters through with_data, so a fit's draws depend only on
    (data, priors, seed), never on which setting happened to compile the model first."""
    out = {}
    for k, v in vals.items():
        if k.endswith("__lower") or k.endswith("__mu") or k == "y":
            out[k] = np.zeros_like(v)
        elif k.endswith("__upper"):
            out[k] = np.ones_like(v) * 10.0
        elif k in ("het_index", "pop_index"):
            out[k] = v
        elif k == "X":
            x = np.zeros_like(v)
            x[:, 0] = 1.0
            out[k] = x
        else:
            out[k] = np.ones_like(v)
    return out


def build_model(md: ModelData, canonical: bool = False):
    """The PyMC model of `md` (priors and settings resolved by build_model_data;
    hyperparameters and data as pm.Data).

    The [priors] tau prior is on the model's `tau`: with normal random effects that is the
    between-study SD; with Student-t(nu) effects it is the t scale, and the between-study
    SD is tau sqrt(nu / (nu - 2)) (reported as summary "tau"/"tau_sd", the scale as
    "tau_scale"). With heterogeneity by group, tau is the median of the group taus
    tau_g = tau exp(tau_spread eta_g)."""
    import pymc as pm

    vals = _data_values(md)
    if canonical:
        vals = _canonical(vals)
    coords = {"study": md.studies, "coef": md.coef_names[1:]}
    if md.het_levels:
        coords["het_group"] = md.het_levels
    if md.pop_levels:
        coords["population"] = md.pop_levels
    with pm.Model(coords=coords) as model:
        data = {k: pm.Data(k, v) for k, v in vals.items()}
        coefs = []
        for j, pr in enumerate(md.coef_priors):
            hyper = {k: data[f"prior__{_coef_var(j)}__{k}"] for k in pr.params}
            coefs.append(pr.pymc(_coef_var(j), hyper))
        if len(coefs) > 1:
            pm.Deterministic("beta", pm.math.stack(coefs[1:]), dims="coef")
        eta = pm.math.dot(data["X"], pm.math.stack(coefs))
        if md.random:
            tp = md.tau_prior
            tau = tp.pymc("tau", {k: data[f"prior__tau__{k}"] for k in tp.params})
            if md.random_dist == "student_t":
                z = pm.StudentT("z", nu=data["random_df"], mu=0.0, sigma=1.0, dims="study")
            else:
                z = pm.Normal("z", 0.0, 1.0, dims="study")
            if md.het_levels:
                lam = pm.HalfNormal("tau_spread", 0.5)
                eg = pm.Normal("tau_eta", 0.0, 1.0, dims="het_group")
                tau_g = pm.Deterministic("tau_group", tau * pm.math.exp(lam * eg), dims="het_group")
                eta = eta + tau_g[data["het_index"]] * z
            else:
                eta = eta + tau * z
            if md.pop_levels:
                op = md.omega_prior
                omega = op.pymc("omega", {k: data[f"prior__omega__{k}"] for k in op.params})
                v = pm.Normal("v", 0.0, 1.0, dims="population")
                eta = eta + omega * v[data["pop_index"]]
        theta = pm.Deterministic("theta", eta, dims="study")
        if md.bias_mean is not None or md.bias_common is not None:
            # assumed biases (Turner et al. 2009): y_i ~ N(theta_i + mu_i + delta, s_i^2 + sigma_i^2)
            from ..bias import pymc_bias_likelihood

            zero = np.zeros(md.k)
            pymc_bias_likelihood(theta, data["y"], data["s"], data.get("bias_mean", zero),
                                 data.get("bias_var", zero), md.bias_common)
        else:
            pm.Normal("y_obs", mu=theta, sigma=data["s"], observed=data["y"], dims="study")
    return model


def compiled_model(md: ModelData):
    """(pymc model, nutpie compiled model with this data), from the cache when the
    structure is known; returns also whether it was compiled now."""
    key = _structure_key(md)
    with _LOCK:
        hit = key in _CACHE
        if not hit:
            model = build_model(md, canonical=True)
            _CACHE[key] = (model, compile_nutpie(model))
        model, cm = _CACHE[key]
    return model, cm.with_data(**_data_values(md)), not hit


def top_level_vars(md: ModelData) -> list[str]:
    """Names of the model's top-level parameters (the diagnostics gate checks them)."""
    names = [_coef_var(j) for j in range(md.p)]
    if md.random:
        names.append("tau")
        if md.het_levels:
            names += ["tau_spread", "tau_eta"]
        if md.pop_levels:
            names.append("omega")
    return names


def diagnostics_advice(max_rhat: float, min_ess_bulk: float, min_ess_tail: float,
                       divergences: int) -> tuple[list[str], str]:
    """The gate's problems and a suggestion that matches each failure (and only those):
    R-hat above RHAT_MAX -> chains disagree: more tune/draws, or a more informative tau prior;
    ESS below ESS_MIN -> too few effective draws: more draws;
    divergences -> the sampler cannot follow the posterior: raise target_accept, or a more
    informative tau prior. Empty suggestion when the gate passes."""
    problems, advice = [], []
    if not max_rhat <= RHAT_MAX:
        problems.append(f"max R-hat {max_rhat:.3f} > {RHAT_MAX}")
        advice.append("R-hat: the chains disagree; increase [mcmc] tune and draws (e.g. double them), "
                      "or use a more informative prior on tau")
    low_ess = []
    if not min_ess_bulk >= ESS_MIN:
        problems.append(f"min bulk ESS {min_ess_bulk:.0f} < {ESS_MIN}")
        low_ess.append("bulk")
    if not min_ess_tail >= ESS_MIN:
        problems.append(f"min tail ESS {min_ess_tail:.0f} < {ESS_MIN}")
        low_ess.append("tail")
    if low_ess:
        advice.append(f"ESS ({' and '.join(low_ess)}): too few effective draws; increase [mcmc] draws "
                      f"(or chains)")
    if divergences > 0:
        problems.append(f"{divergences} divergent transition(s)")
        advice.append("divergences: the sampler cannot follow the posterior's geometry; raise [mcmc] "
                      "target_accept (e.g. 0.99) or use a more informative prior on tau (the data say "
                      "little about tau)")
    return problems, "; ".join(advice)


def _diagnostics(idata, md) -> dict:
    names = top_level_vars(md) + ["theta"]
    c = convergence(idata, names)
    max_rhat, min_bulk, min_tail = c["max_r_hat"], c["min_ess_bulk"], c["min_ess_tail"]
    div, per = c["divergences"], c["per_parameter"]
    problems, suggestion = diagnostics_advice(max_rhat, min_bulk, min_tail, div)
    n = idata["posterior"].to_dataset().sizes
    return {"passed": not problems, "problems": problems, "suggestion": suggestion,
            "max_r_hat": max_rhat, "min_ess_bulk": min_bulk, "min_ess_tail": min_tail,
            "divergences": div, "chains": int(n["chain"]), "draws": int(n["draw"]),
            "thresholds": {"r_hat_max": RHAT_MAX, "ess_min": ESS_MIN, "divergences_max": 0},
            "per_parameter": per}


def fit_mcmc(md: ModelData, spec, evidence=None, seed: int | None = None, progress: bool = False,
             log_likelihood: bool = True, chains: int | None = None, draws: int | None = None,
             tune: int | None = None) -> Posterior:
    """Sample the model with nutpie and return a Posterior with DrawsMarginals. The
    ArviZ DataTree (with log_likelihood and log_prior groups when `log_likelihood`) is in
    ``post.extras["idata"]``. The model is `md` (priors resolved); `spec.mcmc` gives the
    sampler settings and `spec` is recorded on the Posterior."""
    import nutpie

    mc = spec.mcmc
    seed = int(mc.seed if seed is None else seed)
    model, cm, compiled_now = compiled_model(md)
    idata = nutpie.sample(cm, chains=chains or mc.chains, draws=draws or mc.draws,
                          tune=tune or mc.tune, seed=seed, progress_bar=progress,
                          target_accept=mc.target_accept)
    if log_likelihood:
        import pymc as pm

        with model:
            pm.set_data(_data_values(md))
        with reproducible_compile():
            idata = pm.stats.compute_log_likelihood(idata, model=model, progressbar=False)
            idata = pm.stats.compute_log_prior(idata, model=model, progressbar=False)
    diag = _diagnostics(idata, md)
    diag["compiled_now"] = compiled_now
    post_ds = idata["posterior"].to_dataset()
    rng = np.random.default_rng(seed + 1)
    draws_shape = post_ds["mu"].shape
    mu = post_ds["mu"].values
    beta = {n: post_ds[_coef_var(j)].values for j, n in enumerate(md.coef_names)}
    random = md.random

    def new_effect():
        if not random:
            return np.zeros(draws_shape)
        if md.random_dist == "student_t":
            return rng.standard_t(md.random_df, size=draws_shape)
        return rng.standard_normal(draws_shape)

    tau = post_ds["tau"].values if random else np.zeros(draws_shape)
    tau_ref = tau
    if random and md.het_levels:
        # a new group's tau, drawn from the population of group taus: the estimand
        # "predictive_new_group"; the predictive at the reference levels uses the reference
        # group's own tau when the grouping column is a covariate (issue 8, defect 2).
        tau_new = tau * np.exp(post_ds["tau_spread"].values * rng.standard_normal(draws_shape))
        if md.het_column in md.reference:
            tau_ref = post_ds["tau_group"].sel(het_group=md.reference[md.het_column]).values
        else:
            tau_ref = tau_new
    else:
        tau_new = tau
    extra = np.zeros(draws_shape)
    if random and md.pop_levels:
        extra = post_ds["omega"].values * rng.standard_normal(draws_shape)

    marg = {("pooled",): DrawsMarginal(mu), ("predictive",): DrawsMarginal(mu + tau_ref * new_effect() + extra)}
    if random and md.het_levels:
        marg[("predictive_new_group",)] = DrawsMarginal(mu + tau_new * new_effect() + extra)
    for n in md.coef_names[1:]:
        marg[("coef", n)] = DrawsMarginal(beta[n])
    for cov, lev in md.strata():
        lin = mu + (beta[f"{cov}:{lev}"] if lev != md.reference[cov] else 0.0)
        marg[("stratum", cov, lev)] = DrawsMarginal(lin)
        t_here = tau_ref
        if md.het_levels and cov == md.het_column:
            t_here = post_ds["tau_group"].sel(het_group=lev).values
        marg[("stratum_predictive", cov, lev)] = DrawsMarginal(lin + t_here * new_effect() + extra)
    theta = post_ds["theta"].values
    for i, st in enumerate(md.studies):
        marg[("study", st)] = DrawsMarginal(theta[..., i])
    if random:
        # ("tau",) is the between-study SD. With Student-t(nu) effects the model's tau is
        # the t scale and SD = tau sqrt(nu / (nu - 2)) (nu > 2; no finite SD otherwise):
        # ("tau_scale",) holds the scale, I2 uses the variance SD^2.
        sd_factor = 1.0
        if md.random_dist == "student_t":
            nu = float(md.random_df)
            marg[("tau_scale",)] = DrawsMarginal(tau, scale="raw")
            sd_factor = math.sqrt(nu / (nu - 2.0)) if nu > 2 else None
        s2t = typical_within_variance(md.s)
        if sd_factor is not None:
            sd = tau * sd_factor
            marg[("tau",)] = DrawsMarginal(sd, scale="raw")
            marg[("i2",)] = DrawsMarginal(sd**2 / (sd**2 + s2t), scale="raw")
        if md.het_levels:
            for lev in md.het_levels:
                tg = post_ds["tau_group"].sel(het_group=lev).values
                if sd_factor is not None:
                    marg[("tau", lev)] = DrawsMarginal(tg * sd_factor, scale="raw")
        if md.pop_levels:
            marg[("omega",)] = DrawsMarginal(post_ds["omega"].values, scale="raw")
    return Posterior(engine="mcmc", spec=spec, evidence=evidence, model_data=md, marginals=marg,
                     diagnostics=diag, extras={"idata": idata}, seed=seed)
