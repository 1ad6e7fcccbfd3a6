"""Arm-level survival synthesis: HR rows, comparative arms and single-arm case series in
one model (generalised evidence synthesis; Prevost, Abrams & Jones 2000, Stat Med
19:3359-76; arm-based model with exchangeable baselines: Hong H et al. 2016, Stat Methods
Med Res 25:1334; single-arm studies: Zhang J et al. 2019, BMC Med Res Methodol 19:1;
Singh J, Abrams KR, Bujkiewicz S 2021, Res Synth Methods 12:106).

On the log cumulative hazard scale, for arm j of study i at time t_ij (years):

    L_ij = ln(-ln S_ij(t)) ~ N(alpha_i + gamma (ln t_ij - ln t_ref) + treated_ij (d_i + delta_i), v_ij)
    v_ij = (1 - S_ij) / (n_ij S_ij (ln S_ij)^2)               delta-method variance
    alpha_i ~ N(m_alpha, s_alpha^2)                           exchangeable baselines
    d_i = x_i' beta + tau u_i,  u_i ~ N(0, 1)                 the contrast model's study effects
    y_i ~ N(d_i + delta_i, se_i^2)                            HR rows, exactly as the contrast model
    delta_i = delta_common + delta_i^design                   bias priors ([bias]; Turner 2009)

beta[0] = mu is the mean log-HR at the reference levels and `[priors]` apply to beta and
tau as in the contrast model. A single-arm case series informs d_i only through the
baseline model (its alpha_i is drawn from the population of baselines learnt from the
comparative studies), so its selection bias delta_i must have a stated prior: a case
series whose design level has no `[bias.by.<column>]` entry is refused (ModelError)
rather than allowed to inform the treatment effect silently. gamma (a Weibull shape:
ln H(t) = ln lambda + gamma ln t) enters only when time points differ across arms.

The sampler sees the baselines alpha_i and each study's treatment offset d_i + delta_i
integrated out analytically (formulas in docs/statistics.md and `build_pymc_model`): the
same model as `bayesnet.model.arms`, whose exact engine (`engines/arms_exact.py`) agrees
within 4 MCSE, without the funnels between latent effects and their SDs that gave
divergences; d_i is drawn from its normal conditional after sampling.

Gaussian likelihood on L, not binomial: it is the likelihood the contrast model uses for
survival proportions, so the two models agree on comparative arms by construction, and a
simulation in `benchmarks/arm_model_coverage.py` (results in results/arm_model_coverage.md)
checks the coverage of mu under data generated from the model.
"""

from __future__ import annotations

import threading

import numpy as np

from ..model.arms import DEFAULT_ARM_PRIORS, ArmModelData, build_arm_model_data
from ..posterior import DrawsMarginal, Posterior
from ..priors import Prior
from .common import ESS_MIN, RHAT_MAX, compile_nutpie, convergence

__all__ = ["ArmModelData", "build_arm_model_data", "fit_arms", "DEFAULT_ARM_PRIORS"]

_CACHE: dict = {}
_LOCK = threading.Lock()

def _values(md: ArmModelData) -> dict:
    return {"X": md.X, "hr_study": md.hr_study.astype("int64"), "y": md.y, "s": md.s,
            "arm_study": md.arm_study.astype("int64"), "arm_base": md.arm_base.astype("int64"),
            "treated": md.treated, "L": md.L, "v_sd": np.sqrt(md.v), "logt": md.logt,
            "bias_mu": md.bias_mu, "bias_sd": md.bias_sd,
            "common_mu": np.asarray(md.common_bias[0]), "common_sd": np.asarray(md.common_bias[1]),
            "base_study": _base_study(md)}


def _base_study(md: ArmModelData) -> np.ndarray:
    """The study index of each baseline (arm study)."""
    out = np.zeros(md.n_base, "int64")
    out[md.arm_base] = md.arm_study
    return out


def _used_values(md: ArmModelData) -> dict:
    """The data arrays the model for `md` actually uses (PyMC drops unused pm.Data)."""
    vals = _values(md)
    keep = {"X", "bias_mu", "bias_sd", "common_mu"}
    if md.common_bias[1] > 0:
        keep.add("common_sd")
    if len(md.y):
        keep |= {"hr_study", "y", "s"}
    if len(md.L):
        keep |= {"arm_base", "base_study", "treated", "L", "v_sd"}
        if md.time_varies:
            keep.add("logt")
    return {k: v for k, v in vals.items() if k in keep}


def _key(md, priors, arm_priors, random) -> tuple:
    return (md.k, md.X.shape[1], len(md.y), len(md.L), md.n_base, md.n_centred, md.time_varies, random,
            tuple((n, p.dist, tuple(sorted(p.params.items()))) for n, p in sorted(priors.items())),
            tuple((n, p.dist, tuple(sorted(p.params.items()))) for n, p in sorted(arm_priors.items())),
            bool(np.any(md.bias_sd > 0)), md.common_bias[1] > 0)


def build_pymc_model(md: ArmModelData, priors: dict[str, Prior], arm_priors: dict[str, Prior],
                     random: bool = True):
    """The PyMC model (data as pm.Data so a compiled model refits through with_data)."""
    import pymc as pm
    import pytensor.tensor as pt

    vals = _used_values(md)
    coords = {"study": md.studies, "coef": md.coef_names[1:]}
    with pm.Model(coords=coords) as model:
        d = {k: pm.Data(k, v) for k, v in vals.items()}
        coefs = [priors["mu"].pymc("mu", priors["mu"].params)]
        for j, n in enumerate(md.coef_names[1:], start=1):
            pr = priors.get(n, priors["beta"])
            coefs.append(pr.pymc(f"b{j}", pr.params))
        lin = pm.math.dot(d["X"], pm.math.stack(coefs))
        # every study's treatment offset e_i = d_i + delta_i is integrated out analytically:
        # e_i ~ N(x_i'beta + m_i + common, tau^2 + s_i^2), so the sampler sees only the
        # coefficients, tau, the common bias and the baseline model (no funnel)
        tau2 = 0.0
        if random:
            tau = priors["tau"].pymc("tau", priors["tau"].params)
            tau2 = tau**2
        if md.common_bias[1] > 0:
            ec = pm.Normal("common_bias_z", 0.0, 1.0)
            common = d["common_mu"] + d["common_sd"] * ec
        else:
            common = d["common_mu"]
        mu_e = lin + d["bias_mu"] + common                      # (k,) prior mean of e_i
        s2 = tau2 + d["bias_sd"] ** 2                           # (k,) prior variance of e_i
        A = pt.zeros(md.k)                                      # log p(data_i | e) = c - A e^2 / 2 + B e
        B = pt.zeros(md.k)
        if len(md.y):
            pm.Normal("y_obs", mu=mu_e[d["hr_study"]], sigma=pt.sqrt(d["s"] ** 2 + s2[d["hr_study"]]),
                      observed=d["y"])
            A = pt.inc_subtensor(A[d["hr_study"]], 1.0 / d["s"] ** 2)
            B = pt.inc_subtensor(B[d["hr_study"]], d["y"] / d["s"] ** 2)
        if len(md.L):
            ma = arm_priors["baseline_mean"].pymc("baseline_mean", arm_priors["baseline_mean"].params)
            sa = arm_priors["baseline_sd"].pymc("baseline_sd", arm_priors["baseline_sd"].params)
            r0 = d["L"]
            if md.time_varies:
                g = arm_priors["time_slope"].pymc("time_slope", arm_priors["time_slope"].params)
                r0 = r0 - g * d["logt"]
            # per baseline (arm study) b, with w = 1/v, T = treated: W, weighted means of r0
            # and T, and the within-study sums of squares; alpha_b integrated out:
            #   log p(L_b. | e) = -1/2 [S00 - 2 e S01 + e^2 S11]
            #                     - 1/2 [log 2 pi V + (rbar - e tbar - alpha_mean)^2 / V],  V = 1/W + sigma_alpha^2
            ib, T = d["arm_base"], d["treated"]
            w = 1.0 / d["v_sd"] ** 2
            seg = lambda v: pt.inc_subtensor(pt.zeros(md.n_base)[ib], v)  # noqa: E731
            W = seg(w)
            rbar, tbar = seg(w * r0) / W, seg(w * T) / W
            dr, dt = r0 - rbar[ib], T - tbar[ib]
            S00, S01, S11 = seg(w * dr * dr), seg(w * dr * dt), seg(w * dt * dt)
            V = 1.0 / W + sa**2
            Ab = S11 + tbar**2 / V
            Bb = S01 + tbar * (rbar - ma) / V
            c = -0.5 * (S00 + (rbar - ma) ** 2 / V + pt.log(2.0 * np.pi * V))
            mu_b, s2_b = mu_e[d["base_study"]], s2[d["base_study"]]
            # integral of exp(c - A e^2/2 + B e) N(e; mu, s2) de, stable at s2 = 0
            one = 1.0 + Ab * s2_b
            pm.Potential("L_obs", pt.sum(c - 0.5 * pt.log(one) + (s2_b * Bb**2 + 2.0 * Bb * mu_b - Ab * mu_b**2)
                                         / (2.0 * one)))
            A = pt.inc_subtensor(A[d["base_study"]], Ab)
            B = pt.inc_subtensor(B[d["base_study"]], Bb)
        # the study's true effect d_i given everything else (drawn after sampling):
        # e_i | data ~ N((mu + s2 B) / (1 + A s2), s2 / (1 + A s2)); d_i = x_i'beta + k (e_i - mu_e), k = tau^2 / s2
        one = 1.0 + A * s2
        m_e, v_e = (mu_e + s2 * B) / one, s2 / one
        k_ = pt.switch(s2 > 0, tau2 / pt.switch(s2 > 0, s2, 1.0), 0.0)
        pm.Deterministic("d_mean", lin + k_ * (m_e - mu_e), dims="study")
        pm.Deterministic("d_sd", pt.sqrt(pt.maximum(tau2 * (1.0 - k_) + k_**2 * v_e, 0.0)), dims="study")
    return model


def compiled(md, priors, arm_priors, random=True):
    """(pymc model, nutpie compiled model with md's data); cached per structure."""
    key = _key(md, priors, arm_priors, random)
    with _LOCK:
        if key not in _CACHE:
            m = build_pymc_model(md, priors, arm_priors, random)
            _CACHE[key] = (m, compile_nutpie(m, "the arm-level model"))
        m, cm = _CACHE[key]
    return m, cm.with_data(**_used_values(md))


def fit_arms(md: ArmModelData, priors: dict[str, Prior], arm_priors: dict[str, Prior] | None = None,
             random: bool = True, seed: int = 20261122, chains: int = 4, draws: int = 1000,
             tune: int = 1000, target_accept: float = 0.99, progress: bool = False,
             spec=None, evidence=None) -> Posterior:
    """Sample the arm-level model with nutpie; a Posterior whose marginals are on the
    log-HR scale (pooled = mu at the reference levels, predictive = a new study's true
    effect, strata per covariate level, ("study", id) = d_i, ("baseline",) = m_alpha on
    the ln(-ln S) scale). The same diagnostics gate as the contrast model."""
    import nutpie

    arm_priors = {**DEFAULT_ARM_PRIORS, **(arm_priors or {})}
    _, cm = compiled(md, priors, arm_priors, random)
    idata = nutpie.sample(cm, chains=chains, draws=draws, tune=tune, seed=seed, progress_bar=progress,
                          target_accept=target_accept)
    post = idata["posterior"].to_dataset()
    names = ["mu"] + [f"b{j}" for j in range(1, md.X.shape[1])] + (["tau"] if random else []) + ["d_mean"]
    if len(md.L):
        names += ["baseline_mean", "baseline_sd"] + (["time_slope"] if md.time_varies else [])
    c = convergence(idata, names)
    max_rhat, min_b, min_t, div = c["max_r_hat"], c["min_ess_bulk"], c["min_ess_tail"], c["divergences"]
    problems, advice = [], []
    if not max_rhat <= RHAT_MAX:
        problems.append(f"max R-hat {max_rhat:.3f} > {RHAT_MAX}")
        advice.append("run longer chains (more [mcmc] draws and tune)")
    if not min(min_b, min_t) >= ESS_MIN:
        problems.append(f"min ESS {min(min_b, min_t):.0f} < {ESS_MIN}")
        advice.append("increase [mcmc] draws")
    if div:
        problems.append(f"{div} divergent transition(s)")
        advice.append("raise target_accept (e.g. 0.99) or use more informative priors on tau and the baseline SD")
    diag = {"passed": not problems, "problems": problems, "suggestion": "; ".join(advice),
            "max_r_hat": max_rhat, "min_ess_bulk": min_b, "min_ess_tail": min_t, "divergences": div,
            "chains": chains, "draws": draws, "tune": tune, "target_accept": target_accept}
    rng = np.random.default_rng(seed + 1)
    mu = post["mu"].values
    tau = post["tau"].values if random else np.zeros_like(mu)
    beta = {n: post[f"b{j}"].values for j, n in enumerate(md.coef_names) if j} | {"mu": mu}
    marg = {("pooled",): DrawsMarginal(mu),
            ("predictive",): DrawsMarginal(mu + tau * rng.standard_normal(mu.shape))}
    if random:
        marg[("tau",)] = DrawsMarginal(tau, scale="raw")
    for n in md.coef_names[1:]:
        marg[("coef", n)] = DrawsMarginal(beta[n])
    for cov, levels in md.covariates.items():
        for lev in levels:
            lin = mu + (beta[f"{cov}:{lev}"] if lev != md.reference[cov] else 0.0)
            marg[("stratum", cov, lev)] = DrawsMarginal(lin)
            marg[("stratum_predictive", cov, lev)] = DrawsMarginal(lin + tau * rng.standard_normal(mu.shape))
    dd = post["d_mean"].values + post["d_sd"].values * rng.standard_normal(post["d_mean"].shape)
    for i, st in enumerate(md.studies):
        marg[("study", st)] = DrawsMarginal(dd[..., i])
    if len(md.L):
        marg[("baseline",)] = DrawsMarginal(post["baseline_mean"].values)
    return Posterior(engine="mcmc_arms", spec=spec, evidence=evidence, model_data=md, marginals=marg,
                     diagnostics=diag, extras={"idata": idata}, seed=seed)
