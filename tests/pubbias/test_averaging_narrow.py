"""The ensemble's quadrature where a density is far narrower than the first grid (issue 16):
one very precise study (se = 2e-6) printed a heterogeneity Bayes factor of 5.4e145, and an
effect prior N(0, (1e-6)^2) an effect Bayes factor of 175 in the selection models, where a
prior that narrow makes 'effect present' the same model as 'effect absent' (BF about 1)."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from bayesnet.format import bf
from bayesnet.pubbias.averaging import ensemble_models, fit_ensemble, log_marginal_likelihood
from bayesnet.pubbias.config import ensemble_name, parse_publication_bias

Y = np.array([-0.43078292, -0.94933059, -0.35667494, -2.34794079, -1.0260416])  # the shipped primary five
S = np.array([0.07790491, 0.19500619, 0.28026339, 0.8777192, 0.31181682])


def _model(cfg, effect, heterogeneity, bias):
    return next(m for m in ensemble_models(cfg) if (m.effect, m.heterogeneity, m.bias) == (effect, heterogeneity, bias))


def test_one_very_precise_study_against_direct_integration():
    s = S.copy()
    s[0] = 2e-6
    cfg = parse_publication_bias(None)
    got = log_marginal_likelihood(Y, s, _model(cfg, True, False, "none"), cfg)["log_ml"]
    prior = stats.t(df=cfg.effect.params["nu"], loc=cfg.effect.params["mu"], scale=cfg.effect.params["sigma"])

    def f(mu):  # integrand scaled by its value at the peak (mu = y_0) for quad
        return math.exp(prior.logpdf(mu) + stats.norm.logpdf(Y, mu, s).sum() - peak)

    peak = prior.logpdf(Y[0]) + stats.norm.logpdf(Y, Y[0], s).sum()
    w = 40 * s[0]
    val = integrate.quad(f, Y[0] - w, Y[0] + w, points=[Y[0]], epsabs=0, epsrel=1e-10, limit=200)[0]
    assert got == pytest.approx(peak + math.log(val), abs=1e-6)
    out = fit_ensemble(Y, s, None)
    assert out["inclusion_bf"]["heterogeneity"] < 100  # was 5.4e145 (a misjudged spike, not evidence)


def test_prior_much_narrower_than_the_likelihood_gives_effect_bf_one():
    cfg = parse_publication_bias({"effect": {"dist": "normal", "mu": 0.0, "sigma": 1e-6}})
    for m in ensemble_models(cfg):
        if m.effect and m.bias == "selection":
            null = next(n for n in ensemble_models(cfg) if not n.effect and n.heterogeneity == m.heterogeneity
                        and n.bias == m.bias and n.wf == m.wf)
            a = log_marginal_likelihood(Y, S, m, cfg, seed=3)
            b = log_marginal_likelihood(Y, S, null, cfg, seed=3)
            assert a["log_ml"] == pytest.approx(b["log_ml"], abs=4 * math.hypot(a["mc_se"], b["mc_se"]) + 1e-3), m.label


def test_bayes_factors_and_ensembles_are_named_readably():
    assert bf(5.4e145) == "> 10^6" and bf(1e-9) == "< 10^-6" and bf(3.4) == "3.40" and bf(25000.0) == "2.5 x 10^4"
    assert bf(None) == "n/a" and bf(float("nan")) == "n/a"
    assert ensemble_name("pp") == "RoBMA-PP (PET and PEESE)" and ensemble_name("psma") == "RoBMA-PSMA"
    assert "PSMA" not in ensemble_name("sm")


def test_cli_names_the_configured_ensemble_and_formats_bfs():
    from bayesnet.cli_bias import summary_text

    hr = {"median": 0.8, "ci": [0.6, 1.0]}
    pb = {"k": 5, "averaging": {"priors": {"ensemble": "pp"},
                                "inclusion_bf": {"effect": 3.0, "heterogeneity": 5.4e145, "bias": 0.0004},
                                "pooled": {"hr": hr}, "without_bias_components": {"pooled": {"hr": hr}}}}
    text = summary_text(pb, {"sentence": "."})
    assert "RoBMA-PP (PET and PEESE) inclusion BF: effect 3.00, heterogeneity > 10^6, bias 4.0 x 10^-4" in text
    assert "PSMA" not in text
