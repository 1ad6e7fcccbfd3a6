"""CrinsEtAl2014 (Crins ND et al. 2014, Pediatr Transplant 18:839-50): the worked example of
bayesmeta (Roever 2020, J Stat Softw 93(6)) and the IL-2RA meta-regression of Roever &
Friede (2023, Comput Methods Programs Biomed 229:107303). Reference values:
tests/reference/published.json["CrinsEtAl2014"] (published, and computed with bayesmeta 3.4)."""

import numpy as np
import pytest

from ..conftest import TOL
from ..helpers import fit_arrays
from .helpers import brute_force_nnhm, close


@pytest.fixture(scope="module")
def crins(published):
    return published["CrinsEtAl2014"]


@pytest.fixture(scope="module")
def ma01(crins):
    d = crins["data"]
    return fit_arrays(d["yi"], np.sqrt(d["vi"]), {"mu": {"dist": "normal", "mu": 0, "sigma": 4},
                                                   "tau": {"dist": "half_normal", "sigma": 0.5}}, study=d["study"])


def test_ma01_tau(ma01, crins):
    pub = crins["ma01_published"]["tau"]
    t = ma01["tau"]
    assert close(t.quantile([0.5])[0], pub["median"])
    assert close(t.mean(), pub["mean"])
    assert close(t.sd(), pub["sd"])
    assert close(t.hpd(), pub["hpd95"])
    assert close(t.hpd(0.99), pub["hpd99"])
    assert close(t.quantile([0.005, 0.995]), pub["central99"])
    assert close(1 - t.cdf(1.0), pub["P_gt_1"])


def test_ma01_mu(ma01, crins):
    pub = crins["ma01_published"]["mu"]
    m = ma01["pooled"]
    assert close(m.quantile([0.5])[0], pub["median"])
    assert close(m.mean(), pub["mean"])
    assert close(m.sd(), pub["sd"])
    assert close(m.hpd(), pub["hpd95"])
    assert close(1 - m.cdf(0.0), pub["P_gt_0"])


def test_ma01_theta_new_and_shrinkage(ma01, crins):
    pub = crins["ma01_published"]
    new = ma01["predictive"]
    assert close(new.quantile([0.5])[0], pub["theta_new"]["median"])
    assert close(new.sd(), pub["theta_new"]["sd"], TOL["bayesmeta_tail"])  # bayesmeta DIRECT: 0.56719; brute force 0.56653
    assert close(new.hpd(), pub["theta_new"]["hpd95"], TOL["bayesmeta_tail"])
    for name, key in (("Heffron 2003", "theta_Heffron"), ("Gibelli 2004", "theta_Gibelli")):
        th = ma01[("study", name)]
        assert close(th.quantile([0.5])[0], pub[key]["median"])
        assert close(th.hpd(), pub[key]["hpd95"])


def test_ma01_i2_at_median_tau(ma01, crins):
    from bayesnet.engines.exact import typical_within_variance

    d = crins["data"]
    s2 = typical_within_variance(np.sqrt(d["vi"]))
    t = crins["ma01_published"]["tau"]["median"]
    assert t**2 / (t**2 + s2) == pytest.approx(crins["ma01_computed"]["I2_at_median_tau"], abs=TOL["i2_arithmetic"])
    assert ma01["i2"].quantile([0.5])[0] == pytest.approx(crins["ma01_computed"]["I2_at_median_tau"], abs=TOL["bayesmeta"])


def test_meta_regression_il2ra(crins):
    d, ref = crins["data"], crins["bmr_IL2RA_groups"]["computed"]
    post = fit_arrays(d["yi"], np.sqrt(d["vi"]), {"mu": {"dist": "flat"}, "beta": {"dist": "flat"},
                                                   "tau": {"dist": "half_normal", "sigma": 0.5}},
                      model={"covariates": ["IL2RA"], "reference": {"IL2RA": "basiliximab"}}, IL2RA=d["IL2RA"])
    for lev, key in (("basiliximab", "bas"), ("daclizumab", "dac")):
        m = post[("stratum", "IL2RA", lev)]
        assert close(m.quantile([0.5])[0], ref[key]["median"])
        assert close(m.hpd(), ref[key]["hpd95"])
    assert close(post[("coef", "IL2RA:daclizumab")].quantile([0.025, 0.5, 0.975]), ref["dac_minus_bas_central"])
    assert close(post["tau"].quantile([0.5])[0], ref["tau"]["median"])
    assert close(post["tau"].hpd(), ref["tau"]["hpd95"])


def test_reml_comparator(crins):
    from bayesnet.engines.frequentist import rma

    d = crins["data"]
    f = rma(d["yi"], d["vi"])
    assert f["tau"] == pytest.approx(crins["REML_published"]["tau"], abs=TOL["metafor_4dp"])
    assert f["mu"] == pytest.approx(crins["REML_published"]["mu"], abs=TOL["metafor_4dp"])
    assert f["se"] == pytest.approx(crins["REML_published"]["se"], abs=TOL["metafor_4dp"])
    assert f["ci"] == pytest.approx(crins["REML_computed"]["ci"], abs=TOL["bayesmeta"])
    assert f["pi"] == pytest.approx(crins["REML_computed"]["pi_normal"], abs=TOL["bayesmeta"])


def test_ma01_against_brute_force(ma01, crins):
    """bayesmeta's DIRECT grid bounds the divergence between neighbouring conditionals,
    which leaves ~1e-3 errors in tail-driven numbers; a 600,000-point integration over tau
    is the exact reference for them."""
    from scipy import stats

    d = crins["data"]
    y, s2 = np.array(d["yi"]), np.array(d["vi"])
    tau, dens, b, P = brute_force_nnhm(y, s2, 16, lambda t: stats.halfnorm.logpdf(t, scale=0.5), 6, 600001)
    e_mu = np.trapezoid(dens * b, tau)
    var_mu = np.trapezoid(dens * (1 / P + b**2), tau) - e_mu**2
    var_new = var_mu + np.trapezoid(dens * tau**2, tau)
    assert ma01["pooled"].sd() == pytest.approx(np.sqrt(var_mu), abs=TOL["brute_force"])
    assert ma01["predictive"].sd() == pytest.approx(np.sqrt(var_new), abs=TOL["brute_force"])
    p_gt0 = np.trapezoid(dens * stats.norm.sf(0, b, np.sqrt(1 / P)), tau)
    assert 1 - ma01["pooled"].cdf(0.0) == pytest.approx(p_gt0, rel=TOL["bayesmeta"])
