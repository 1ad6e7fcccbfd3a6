"""Exact engine properties: no PyMC import, fixed effects, agreement with the REML-free
closed forms, calibration on simulated meta-analyses."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from ..conftest import TOL
from ..helpers import fit_arrays


def test_exact_path_never_imports_pymc():
    code = ("import sys; from bayesnet.api import fit; "
            "p = fit('models/ptr_random_effects.toml', engine='exact'); p.summary(); "
            "assert 'pymc' not in sys.modules and 'pytensor' not in sys.modules, 'pymc imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fixed_effect_flat_prior_is_inverse_variance():
    y, s = np.array([-0.5, -0.2, -0.8]), np.array([0.2, 0.3, 0.25])
    post = fit_arrays(y, s, {"mu": {"dist": "flat"}}, {"effects": "fixed"})
    w = 1 / s**2
    assert post["pooled"].mean() == pytest.approx((w * y).sum() / w.sum(), abs=TOL["closed_form"])
    assert post["pooled"].sd() == pytest.approx(1 / np.sqrt(w.sum()), abs=TOL["closed_form"])
    assert post["pooled"].hpd() == pytest.approx(post["pooled"].quantile([0.025, 0.975]), abs=TOL["quantile"])


def test_probabilities_are_cdfs():
    post = fit_arrays([-0.5, -0.2, -0.8, -0.4], [0.2, 0.3, 0.25, 0.2])
    assert post.prob("pooled", 1.0) == pytest.approx(float(post["pooled"].cdf(0.0)))
    assert post.prob("pooled", 0.8) < post.prob("pooled", 1.0)
    assert post.prob("predictive", 1.25, "gt") == pytest.approx(1 - float(post["predictive"].cdf(np.log(1.25))))


def test_quantiles_invert_cdf():
    post = fit_arrays([-0.5, 0.3, -0.8, -0.1, 0.6], [0.2, 0.3, 0.25, 0.2, 0.4])
    for key in ("pooled", "predictive", "tau"):
        q = post[key].quantile([0.1, 0.5, 0.9])
        assert post[key].cdf(q) == pytest.approx([0.1, 0.5, 0.9], abs=TOL["quantile"])


@pytest.mark.slow
def test_calibration_on_simulated_meta_analyses():
    """Data simulated from the prior (mu ~ N(0, 1), tau ~ half-normal(0.5), k = 6): the
    posterior CDF at the true mu and the true theta_new is uniform (simulation-based
    calibration, Talts et al. 2018) and 95% intervals cover about 95% of the time."""
    rng = np.random.default_rng(2026)
    n = 400
    u_mu, u_new, cover_mu, cover_new = [], [], 0, 0
    for _ in range(n):
        mu, tau = rng.normal(0, 1), abs(rng.normal(0, 0.5))
        k = 6
        s = rng.uniform(0.1, 0.5, k)
        theta = mu + tau * rng.normal(size=k)
        y = theta + s * rng.normal(size=k)
        new = mu + tau * rng.normal()
        post = fit_arrays(y, s)
        u_mu.append(float(post["pooled"].cdf(mu)))
        u_new.append(float(post["predictive"].cdf(new)))
        lo, hi = post["pooled"].quantile([0.025, 0.975])
        cover_mu += lo <= mu <= hi
        lo, hi = post["predictive"].quantile([0.025, 0.975])
        cover_new += lo <= new <= hi
    assert stats.kstest(u_mu, "uniform").pvalue > 0.001
    assert stats.kstest(u_new, "uniform").pvalue > 0.001
    se = np.sqrt(0.95 * 0.05 / n)
    assert abs(cover_mu / n - 0.95) < 3.5 * se
    assert abs(cover_new / n - 0.95) < 3.5 * se


def test_marginals_say_their_scale():
    import pandas as pd

    from bayesnet.api import fit
    from bayesnet.evidence import load_evidence

    df = pd.DataFrame({"study": list("abcd"), "log_hr": [-0.4, -0.6, -0.1, -0.3], "se": [0.2, 0.3, 0.25, 0.2]})
    post = fit({}, evidence=load_evidence(data=df), engine="exact")
    m = post["pooled"]
    assert m.scale == "log"
    h = m.on("hr")
    assert h.scale == "hr" and h.on("log") is m
    assert h.quantile([0.5])[0] == pytest.approx(np.exp(m.quantile([0.5])[0]))
    lo, hi = h.hpd()
    # the HR-scale HPD is computed on the HR density, so it is not exp of the log-scale HPD
    assert 0 < lo < 1 and lo < np.exp(m.hpd()[0]) and hi < np.exp(m.hpd()[1])
    assert h.cdf(0.8) == pytest.approx(m.cdf(np.log(0.8)))
    assert h.mean() == pytest.approx(float(m.w @ np.exp(m.m + m.s**2 / 2)))
    assert post["tau"].scale == "raw"
    with pytest.raises(ValueError, match="scale"):
        post["tau"].on("hr")
