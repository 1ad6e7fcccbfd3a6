"""The PyMC bias likelihood and the exact engine agree (pooled and predictive mean/sd
within 4 MCSE from ArviZ) on a small example with a common uncertain bias plus
per-study biases for one design."""

import numpy as np
import pytest

from bayesnet.bias import (
    BiasPrior,
    BiasSpec,
    fit_exact_with_bias,
    pymc_bias_likelihood,
    study_bias_arrays,
)

from ..conftest import TOL
from ..helpers import mcse, mcse_mean, setup


@pytest.mark.mcmc
def test_mcmc_bias_model_agrees_with_exact():
    import nutpie
    import pymc as pm

    md, spec, ev = setup()
    bias = BiasSpec(common=BiasPrior(-0.18, 0.12), by={"design": {"series": BiasPrior(-0.25, 0.25)}})
    exact = fit_exact_with_bias(md, spec, bias, ev)
    bm, bv = study_bias_arrays(bias, md.studies, ev.table)
    with pm.Model(coords={"study": md.studies}) as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        tau = pm.HalfNormal("tau", 0.5)
        z = pm.Normal("z", 0.0, 1.0, dims="study")
        theta = pm.Deterministic("theta", mu + tau * z, dims="study")
        pymc_bias_likelihood(theta, md.y, md.s, bm, bv, bias.common)
    idata = nutpie.sample(nutpie.compile_pymc_model(model), chains=4, draws=2000, tune=1000, seed=5,
                          progress_bar=False, target_accept=0.99)
    post = idata["posterior"].to_dataset()
    assert int(idata["sample_stats"]["diverging"].values.sum()) == 0
    mu_d = post["mu"].values
    rng = np.random.default_rng(6)
    pred_d = mu_d + post["tau"].values * rng.standard_normal(mu_d.shape)
    for key, d in (("pooled", mu_d), ("predictive", pred_d)):
        m = exact[key]
        assert abs(d.mean() - m.mean()) < TOL["mcse_multiple"] * mcse(d, "mean"), key
        assert abs(d.std() - m.sd()) < TOL["mcse_multiple"] * mcse(d, "sd"), key
    # the bias matters: the adjusted mean differs from the unadjusted one by far more than MCSE
    from bayesnet.engines.exact import fit_exact

    assert abs(fit_exact(md, spec)["pooled"].mean() - mu_d.mean()) > 10 * mcse(mu_d, "mean")


@pytest.mark.mcmc
def test_shipped_bias_spec_exact_and_mcmc_engines_agree():
    """The same [bias] model through bayesnet.fit: the exact engine's closed form and the
    MCMC engine's bias likelihood give the same pooled and predictive effect."""
    from pathlib import Path

    from bayesnet.api import fit, load_spec

    spec = load_spec(Path(__file__).resolve().parents[2] / "models" / "ptr_bias_adjusted.toml")
    ex = fit(spec, engine="exact", frequentist=False)
    mc = fit(spec, engine="mcmc", log_likelihood=False, frequentist=False)
    assert mc.ok, mc.diagnostics["problems"]
    assert mc.as_reported is not None and ex.as_reported is not None
    assert abs(ex["pooled"].mean() - mc["pooled"].mean()) < TOL["mcse_multiple"] * mcse_mean(mc)
    assert mc["pooled"].sd() == pytest.approx(ex["pooled"].sd(), rel=0.1)
    assert mc["predictive"].quantile([0.975])[0] == pytest.approx(ex["predictive"].quantile([0.975])[0], abs=0.1)
    # the bias moves the pooled effect towards no effect, identically in both engines
    assert ex["pooled"].mean() > ex.as_reported["pooled"].mean()
