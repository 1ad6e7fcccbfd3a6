import numpy as np
import pytest

from bayesnet.errors import ModelError
from bayesnet.priors import Prior
from bayesnet.pubbias.petpeese import fit_pet_or_peese, frequentist_pet_peese, pet_peese

from ..conftest import TOL
from .conftest import DATASETS, load

MU = Prior("normal", {"mu": 0.0, "sigma": 1.0})
TAU = Prior("half_normal", {"sigma": 0.5}, kind="scale")


@pytest.mark.parametrize("name", DATASETS)
def test_frequentist_pet_peese_match_metafor(name, metafor_ref):
    d, ref = load(name), metafor_ref[name]
    f = frequentist_pet_peese(d.log_hr, d.se)
    for which in ("pet", "peese"):
        r = ref[which]
        assert f[which]["tau2"] == pytest.approx(r["tau2"], abs=TOL["metafor_fit"])
        assert [f[which]["b0"]["estimate"], f[which]["b1"]["estimate"]] == pytest.approx(r["b"], abs=TOL["metafor_fit"])
        assert [f[which]["b0"]["se"], f[which]["b1"]["se"]] == pytest.approx(r["se"], abs=TOL["metafor_fit"])
        assert [f[which]["b0"]["p"], f[which]["b1"]["p"]] == pytest.approx(r["pval"], abs=TOL["metafor_fit"])


@pytest.mark.parametrize("which", ["pet", "peese"])
def test_bayesian_pet_peese_equals_brute_force_grid(which):
    """Posterior mean and P(b0 < 0) of the exact engine vs a direct 3-D grid over (b0, b1, tau)."""
    d = load("biased_k14")
    y, s = d.log_hr.to_numpy(), d.se.to_numpy()
    slope = Prior("normal", {"mu": 0.0, "sigma": 1.0 if which == "pet" else 5.0})
    post = fit_pet_or_peese(y, s, which, MU, TAU, slope)
    x = s if which == "pet" else s**2
    b0 = np.linspace(-1.5, 1.2, 161)
    b1 = np.linspace(-8, 6, 161) if which == "pet" else np.linspace(-40, 30, 161)
    tau = np.linspace(0, 0.8, 161)
    B0, B1, T = np.meshgrid(b0, b1, tau, indexing="ij")
    v = s**2 + T[..., None] ** 2
    r = y - B0[..., None] - B1[..., None] * x
    lp = (-0.5 * (np.log(v) + r * r / v)).sum(-1) + MU.logpdf(B0) + slope.logpdf(B1) + TAU.logpdf(T)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    m = post.marginals[("pooled",)]
    assert m.mean() == pytest.approx(float((w * B0).sum()), abs=TOL["grid3d_mean"])
    assert float(m.cdf(0.0)) == pytest.approx(float(w[B0 < 0].sum() + 0.5 * w[B0 == 0].sum()), abs=TOL["grid3d_prob"])


def test_pet_peese_flags_and_choice():
    small = load("unbiased_k8")
    out = pet_peese(small.log_hr, small.se, MU, TAU, thresholds=(1.0, 0.8))
    assert out["k"] == 8 and not out["reliable"]
    assert "only 8 studies" in out["unreliable_because"][0]
    assert set(out["pet"]["prob_hr_below"]) == {"1", "0.8"}
    big = load("biased_k14")
    out = pet_peese(big.log_hr, big.se, MU, TAU)
    p = out["conditional"]["p_pet_effect_on_benefit_side"]
    assert out["conditional"]["uses"] == ("peese" if p >= 0.95 else "pet")
    # the direction flips which side counts as an effect
    out_pos = pet_peese(big.log_hr, big.se, MU, TAU, direction="positive")
    assert out_pos["conditional"]["p_pet_effect_on_benefit_side"] == pytest.approx(1 - p, abs=TOL["roundtrip"])


def test_pet_peese_rejects_non_normal_effect_prior():
    d = load("biased_k14")
    with pytest.raises(ModelError, match="normal or flat"):
        pet_peese(d.log_hr, d.se, Prior("student_t", {"nu": 2.0, "mu": 0.0, "sigma": 0.13}), TAU)
