"""The tipping analysis without refits (bias._FixedBias) against explicit refits of y - delta.

Reference 1 (`pinned_refit`): the exact engine's own steps on the data y - delta with its tau
grid pinned to the one of delta = 0 (log p(tau | y - delta) from `log_marginal_tau`, the
mixture components as in `fit_exact`, the conditionals from `conditionals`): the closed
form in delta must reproduce it to rounding.
Reference 2: `fit_exact` refitted on y - delta, which also re-chooses its adaptive tau grid
per delta; the two quadratures differ by at most a few 1e-6 in probability (the engine's
own quadrature error, see the _FixedBias docstring)."""

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import brentq

from bayesnet.bias import BiasPrior, BiasSpec, _FixedBias, apply_study_bias, tipping_points
from bayesnet.engines.exact import (
    _tau_grid,
    component_levels,
    conditionals,
    fit_exact,
    log_marginal_tau,
    prior_precision,
)
from bayesnet.posterior import GridMarginal, MixtureMarginal

from ..helpers import setup

Y2 = np.array([-0.65, -0.18, -0.81, -0.38, -0.92, -0.25, -0.57, -0.74, -0.09])
S2 = np.array([0.18, 0.25, 0.30, 0.12, 0.40, 0.22, 0.15, 0.35, 0.28])
DESIGN2 = ["registry", "series", "series", "registry", "series", "registry", "registry", "series", "series"]

DATASETS = {
    "tests' data": {},
    "with a covariate": {"model": {"covariates": ["design"]}},
    "k = 9, covariate, wide tau prior": {"y": Y2, "s": S2, "design": DESIGN2, "model": {"covariates": ["design"]},
                                         "priors": {"tau": {"dist": "half_normal", "sigma": 1.0}}},
    "flat mu": {"priors": {"mu": {"dist": "flat"}}},
    "fixed effect": {"model": {"effects": "fixed"}},
}
DELTAS = np.log([1.0, 0.9, 0.7, 0.5, 0.3, 0.2])
THRESHOLDS = (1.0, 0.8, 0.6)


def pinned_refit(md, delta):
    """{"pooled", "predictive"} mixtures of the exact fit of y - delta on the tau grid of y."""
    m0, vinv = prior_precision(md)
    md_d = replace(md, y=md.y - delta)
    if md.random:
        x, _ = _tau_grid(md, m0, vinv, md.tau_prior)
        lp = log_marginal_tau(md_d, m0, vinv, md.tau_prior, x)
        dens = np.exp(lp - np.max(lp[np.isfinite(lp)]))
        dens[~np.isfinite(dens)] = 0.0
        u, w = component_levels()
        tau = GridMarginal(x, dens, scale="raw").quantile(u)
    else:
        tau, w = np.zeros(1), np.ones(1)
    b, Pinv, _ = conditionals(md_d, m0, vinv, tau)
    c = md.contrast()
    mean, var = b @ c, np.einsum("i,gij,j->g", c, Pinv, c)
    return {"pooled": MixtureMarginal(mean, np.sqrt(var), w),
            "predictive": MixtureMarginal(mean, np.sqrt(var + tau**2), w)}


@pytest.mark.parametrize("name", DATASETS)
def test_fast_path_equals_refits_on_a_pinned_grid(name):
    md, spec, _ev = setup(**DATASETS[name])
    fb = _FixedBias(md, spec)
    for q in ("pooled", "predictive"):
        for t in THRESHOLDS:
            fast = fb.probs(DELTAS, t, q)
            ref = [float(pinned_refit(md, d)[q].cdf(math.log(t))) for d in DELTAS]
            np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-9, err_msg=f"{name}: {q}, t = {t}")
    # no bias: the exact fit itself
    post = fit_exact(md, spec)
    for q in ("pooled", "predictive"):
        assert fb.prob(0.0, 1.0, q) == pytest.approx(post.prob(q, 1.0), abs=1e-12)


@pytest.mark.parametrize("name", DATASETS)
def test_fast_path_close_to_full_refits(name):
    """Full refits re-choose the tau grid per delta: agreement to the quadrature error."""
    md, spec, _ev = setup(**DATASETS[name])
    fb = _FixedBias(md, spec)
    for d in DELTAS:
        post = fit_exact(replace(md, y=md.y - d), spec, studies=False)
        for q in ("pooled", "predictive"):
            for t in THRESHOLDS:
                assert fb.prob(d, t, q) == pytest.approx(post.prob(q, t), abs=1e-5), (name, d, q, t)


def test_per_study_bias_fast_path_equals_pinned_refit():
    md, spec, ev = setup(model={"covariates": ["design"]})
    bias = BiasSpec(by={"design": {"series": BiasPrior(-0.3, 0.2)}})
    fb = _FixedBias(md, spec, bias, ev.table)
    md_b = apply_study_bias(md, bias, ev.table)
    for q in ("pooled", "predictive"):
        ref = [float(pinned_refit(md_b, d)[q].cdf(0.0)) for d in DELTAS]
        np.testing.assert_allclose(fb.probs(DELTAS, 1.0, q), ref, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ["tests' data", "k = 9, covariate, wide tau prior"])
def test_tipping_ratio_equals_brentq_on_refits(name):
    """The old search (brentq on full refits, xtol 1e-5) finds the same ratio."""
    md, spec, _ev = setup(**DATASETS[name])
    probs = {1.0: 0.95, 0.8: 0.5, 1.1: 0.5}
    for q in ("pooled", "predictive"):
        rows = tipping_points(md, spec, probs, quantity=q)
        assert any(r["ratio"] is not None for r in rows)
        for row in rows:
            if row["ratio"] is None:
                continue
            t, p = row["threshold"], row["probability"]
            d_old = brentq(lambda d, t=t, p=p: fit_exact(replace(md, y=md.y - d), spec, studies=False).prob(q, t) - p,
                           math.log(0.2), 0.0, xtol=1e-5)
            assert row["ratio"] == pytest.approx(math.exp(d_old), abs=5e-5)
            assert _FixedBias(md, spec).prob(math.log(row["ratio"]), t, q) == pytest.approx(p, abs=1e-9)
