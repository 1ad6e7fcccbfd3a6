"""PET and PEESE (Stanley & Doucouliagos 2014, Res Synth Methods 5:60-78) as Bayesian
random-effects meta-regressions of the log-HR on its standard error (PET) or its variance
(PEESE), fitted by the exact engine (``bayesnet.engines.exact``: quadrature over tau,
closed-form normal conditionals of the coefficients):

    y_i ~ N(b0 + b1 x_i, se_i^2 + tau^2),  x_i = se_i (PET) or se_i^2 (PEESE)

b0 is the log-HR of an infinitely precise study (the bias-corrected effect). The
conditional PET-PEESE estimate uses PEESE when PET finds an effect (here: posterior
probability >= 0.95 that PET's b0 is on the benefit side, the Bayesian analogue of PET's
one-sided 5% test) and PET otherwise. It is flagged unreliable with fewer than 10 studies
and under large heterogeneity (REML I^2 >= 75%; Stanley 2017, Soc Psychol Personal Sci
8:581-91 shows PET-PEESE is biased when heterogeneity is large). The frequentist versions
are metafor's ``rma(yi, vi, mods = ~ sei)`` and ``rma(yi, vi, mods = ~ vi)`` (REML).
"""

from __future__ import annotations

import numpy as np

from ..engines.exact import fit_exact
from ..engines.frequentist import rma
from ..errors import ModelError
from ..models import ModelData
from ..priors import Prior
from .tests import MIN_STUDIES

__all__ = ["DEFAULT_SLOPE_PRIORS", "I2_LARGE", "fit_pet_or_peese", "frequentist_pet_peese", "pet_peese"]

I2_LARGE = 75.0
# Normal priors on the slopes (the exact engine needs normal or flat coefficient priors):
# PET slope per unit se, PEESE slope per unit variance; centred at 0 so that the data decide
# the sign. Scales follow RoBMA's Cauchy(0, 1) and Cauchy(0, 5) (Bartos et al. 2023).
DEFAULT_SLOPE_PRIORS = {"pet": Prior("normal", {"mu": 0.0, "sigma": 1.0}),
                        "peese": Prior("normal", {"mu": 0.0, "sigma": 5.0})}


def _design(s: np.ndarray, which: str) -> np.ndarray:
    if which not in ("pet", "peese"):
        raise ValueError(f"which must be 'pet' or 'peese', got {which!r}")
    return np.column_stack([np.ones(len(s)), s if which == "pet" else s**2])


def fit_pet_or_peese(y, s, which: str, mu_prior: Prior, tau_prior: Prior, slope_prior: Prior | None = None,
                     studies=None):
    """Bayesian PET or PEESE by the exact engine; returns its Posterior. ("pooled",) is b0
    (the bias-corrected log-HR), ("coef", "pet"/"peese") the slope."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    slope_prior = slope_prior or DEFAULT_SLOPE_PRIORS[which]
    for name, pr in (("effect", mu_prior), (which, slope_prior)):
        if not pr.is_normal_or_flat:
            raise ModelError(f"PET/PEESE by the exact engine needs a normal or flat prior on the {name}; "
                             f"got {pr.describe()}")
    md = ModelData(studies=list(studies) if studies is not None else [f"study {i + 1}" for i in range(len(y))],
                   y=y, s=s, X=_design(s, which), coef_names=["mu", which], covariates={}, reference={},
                   coef_priors=(mu_prior, slope_prior), tau_prior=tau_prior)
    return fit_exact(md, None)


def frequentist_pet_peese(y, s) -> dict:
    """REML PET and PEESE meta-regressions (metafor rma(yi, vi, mods = ~ sei / ~ vi))."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    out = {}
    for which in ("pet", "peese"):
        f = rma(y, s**2, _design(s, which), "REML", ["intercept", which])
        out[which] = {"b0": f["coefficients"]["intercept"], "b1": f["coefficients"][which], "tau2": f["tau2"]}
    return out


def _summ(marg, thresholds) -> dict:
    q = marg.quantile([0.025, 0.5, 0.975])
    return {"log_hr": {"mean": marg.mean(), "sd": marg.sd(), "median": float(q[1]), "ci": [float(q[0]), float(q[2])]},
            "hr": {"median": float(np.exp(q[1])), "ci": [float(np.exp(q[0])), float(np.exp(q[2]))]},
            "prob_hr_below": {f"{t:g}": float(marg.cdf(np.log(t))) for t in thresholds}}


def pet_peese(y, s, mu_prior: Prior, tau_prior: Prior, direction: str = "negative",
              thresholds=(1.0,), slope_priors: dict | None = None) -> dict:
    """Bayesian PET, PEESE and the conditional PET-PEESE estimate, with reliability flags.
    direction: which side is "benefit" ("negative" = HR < 1). Returns a dict for
    summary.json (HRs and log-HRs, P(HR < t) for each threshold)."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    k = len(y)
    if k < 3:
        raise ModelError(f"PET-PEESE needs at least 3 studies (got {k})")
    if direction not in ("negative", "positive"):
        raise ModelError(f"direction must be 'negative' or 'positive', got {direction!r}")
    slope_priors = {**DEFAULT_SLOPE_PRIORS, **(slope_priors or {})}
    out: dict = {"k": k}
    posts = {}
    for which in ("pet", "peese"):
        post = fit_pet_or_peese(y, s, which, mu_prior, tau_prior, slope_priors[which])
        posts[which] = post
        blk = _summ(post.marginals[("pooled",)], thresholds)
        slope = post.marginals[("coef", which)]
        blk["slope"] = {"mean": slope.mean(), "sd": slope.sd(),
                        "ci": [float(v) for v in slope.quantile([0.025, 0.975])]}
        out[which] = blk
    pet0 = posts["pet"].marginals[("pooled",)]
    p_benefit = float(pet0.cdf(0.0)) if direction == "negative" else float(1.0 - pet0.cdf(0.0))
    chosen = "peese" if p_benefit >= 0.95 else "pet"
    i2 = rma(y, s**2, None, "REML")["I2"]
    reasons = []
    if k < MIN_STUDIES:
        reasons.append(f"only {k} studies (PET-PEESE needs at least {MIN_STUDIES})")
    if i2 >= I2_LARGE:
        reasons.append(f"large heterogeneity (I2 = {i2:.0f}% >= {I2_LARGE:.0f}%)")
    out["conditional"] = {"uses": chosen, "p_pet_effect_on_benefit_side": p_benefit, **out[chosen]}
    out["reliable"] = not reasons
    out["unreliable_because"] = reasons
    out["i2_reml"] = float(i2)
    out["frequentist"] = frequentist_pet_peese(y, s)
    return out
