"""The exact arm-level engine (bayesnet.engines.arms_exact): the same model as the MCMC
arm engine (within 4 MCSE), the contrast model on HR rows, and the behaviour issue 15
asks of the default arm priors (comparative arms vs the contrast model on the HRs derived
from them; vague and tight case-series bias)."""

import numpy as np
import pandas as pd
import pytest

from bayesnet.arm_analysis import parse_bias_table
from bayesnet.engines.arms_exact import fit_arms_exact
from bayesnet.evidence.arms import derive_arms
from bayesnet.model.arms import arm_gaussian_model, build_arm_model_data

from ..conftest import TOL
from .test_arm_model import PRIORS, comp_arms, exact_fit, series_arms


def derived_hrs(t):
    tr, co = t[t["treated"]].set_index("study"), t[~t["treated"]].set_index("study")
    return pd.DataFrame({"study": tr.index, "log_hr": (tr["L"] - co["L"]).values,
                         "se": np.sqrt(tr["v"] + co["v"]).values})


def both_table():
    return derive_arms(pd.concat([comp_arms(), series_arms()], ignore_index=True)).table


def test_hr_rows_only_equal_the_contrast_model():
    hr = pd.DataFrame({"study": list("ABCDEFG"), "log_hr": [-0.5, -0.3, -0.8, -0.1, -0.6, -0.4, 0.1],
                       "se": [0.2, 0.25, 0.3, 0.15, 0.35, 0.2, 0.3]})
    ex, ev = exact_fit(hr)
    post = fit_arms_exact(build_arm_model_data(ev.table, None), PRIORS)
    q = [0.025, 0.5, 0.975]
    np.testing.assert_allclose(post["pooled"].quantile(q), ex["pooled"].quantile(q), atol=TOL["gaussian_vs_nnhm"])
    np.testing.assert_allclose(post["predictive"].quantile(q), ex["predictive"].quantile(q),
                               atol=TOL["gaussian_vs_nnhm"])
    np.testing.assert_allclose(post["study", "C"].quantile(q), ex["study", "C"].quantile(q),
                               atol=TOL["gaussian_vs_nnhm"])


def test_comparative_arms_give_the_contrast_model_on_the_derived_hrs():
    """Default arm priors: the exchangeable baselines add a little information (issue 15:
    within 0.06 on the pooled log-HR)."""
    t = derive_arms(comp_arms()).table
    ex, _ = exact_fit(derived_hrs(t))
    post = fit_arms_exact(build_arm_model_data(None, t), PRIORS)
    assert abs(post["pooled"].mean() - ex["pooled"].mean()) < 0.06
    assert abs(post["pooled"].mean() - ex["pooled"].mean()) > 1e-4  # not the same model: baselines pooled


def test_vague_case_series_bias_leaves_the_pooled_effect_and_a_tight_one_pulls_it():
    comp = derive_arms(comp_arms()).table
    base = fit_arms_exact(build_arm_model_data(None, comp), PRIORS)["pooled"].mean()
    vague = parse_bias_table({"by": {"design": {"case_series": {"mu": 0.0, "sigma": 10.0}}}})
    tight = parse_bias_table({"by": {"design": {"case_series": {"mu": 0.0, "sigma": 0.01}}}})
    with_vague = fit_arms_exact(build_arm_model_data(None, both_table(), bias=vague), PRIORS)["pooled"].mean()
    with_tight = fit_arms_exact(build_arm_model_data(None, both_table(), bias=tight), PRIORS)["pooled"].mean()
    assert abs(with_vague - base) < 0.02
    # the series' survival (0.78-0.85) beats the comparative resection arms (0.60-0.75):
    # believed unbiased, they pull the pooled log-HR down (more benefit)
    assert with_tight < base - 0.05


def test_bias_terms_are_offset_and_variance_never_edits_of_the_data():
    b = parse_bias_table({"by": {"design": {"case_series": {"mu": -0.2, "sigma": 0.3}}},
                          "common": {"mu": -0.25, "sigma": 0.15}})
    md = build_arm_model_data(None, both_table(), bias=b)
    gm = arm_gaussian_model(md, PRIORS)
    np.testing.assert_array_equal(gm.y, md.L)
    plain = arm_gaussian_model(md, PRIORS, bias=False)
    np.testing.assert_array_equal(plain.y, md.L)
    assert plain.offset is None and "bias_common" not in plain.b_names and "bias_common" in gm.b_names
    # G_diag agrees with G
    th = np.array([[0.3, 0.7]])
    np.testing.assert_allclose(np.diag(gm.G(th[0])), gm.G_diag(th)[0])


def test_deterministic():
    b = parse_bias_table({"by": {"design": {"case_series": {"mu": -0.2, "sigma": 0.3}}}})
    md = build_arm_model_data(None, both_table(), bias=b)
    a, c = fit_arms_exact(md, PRIORS), fit_arms_exact(md, PRIORS)
    assert a["pooled"].quantile([0.025, 0.975]).tolist() == c["pooled"].quantile([0.025, 0.975]).tolist()


@pytest.mark.mcmc
def test_exact_equals_mcmc_on_the_same_arm_model_within_4_mcse():
    """Comparative arms, case series with a by-design bias and a common bias: the exact
    and the MCMC arm engines fit one model."""
    from bayesnet.engines.arms import fit_arms

    from ..helpers import mcse

    b = parse_bias_table({"by": {"design": {"case_series": {"mu": -0.2, "sigma": 0.3}}},
                          "common": {"mu": -0.25, "sigma": 0.15}})
    md = build_arm_model_data(None, both_table(), bias=b)
    ex = fit_arms_exact(md, PRIORS)
    mc = fit_arms(md, PRIORS, seed=11, draws=2000, target_accept=0.95)
    assert mc.ok, mc.diagnostics
    post = mc.extras["idata"]["posterior"]
    mu, tau = post["mu"].values, post["tau"].values
    k = TOL["mcse_multiple"]
    assert abs(ex["pooled"].mean() - mu.mean()) < k * mcse(mu)
    assert abs(ex["pooled"].sd() - mu.std()) < k * mcse(mu, "sd")
    for p in (0.025, 0.975):
        assert abs(ex["pooled"].quantile([p])[0] - np.quantile(mu, p)) < k * mcse(mu, "quantile", p)
    assert abs(ex["tau"].mean() - tau.mean()) < k * mcse(tau)
    sd = post["baseline_sd"].values
    assert abs(ex["baseline_sd"].mean() - sd.mean()) < k * mcse(sd)


def test_without_exchangeable_baselines_the_arm_model_is_the_contrast_model():
    """When and why the two models differ (docs/statistics.md): with baselines that share
    nothing (a flat baseline mean and a baseline SD of 30), integrating each study's
    alpha_i out leaves exactly the likelihood of the crude log-HR L_t - L_c with variance
    v_t + v_c, so the arm model on two-arm studies is the contrast model on the derived HRs.
    The default exchangeable baselines differ (tested above: by less than 0.06)."""
    from bayesnet.priors import Prior

    t = derive_arms(comp_arms()).table
    ex, _ = exact_fit(derived_hrs(t))
    flat = {"baseline_sd": Prior("uniform", {"lower": 30.0, "upper": 31.0}, kind="scale"),
            "baseline_mean": Prior("flat", {})}
    post = fit_arms_exact(build_arm_model_data(None, t), PRIORS, flat)
    q = [0.025, 0.5, 0.975]
    np.testing.assert_allclose(post["pooled"].quantile(q), ex["pooled"].quantile(q), atol=TOL["arm_flat_baselines"])


FOUR = [("A", 60, 0.70, 60, 0.45), ("B", 40, 0.65, 45, 0.50), ("C", 80, 0.75, 70, 0.40), ("D", 30, 0.60, 35, 0.42)]


@pytest.mark.mcmc
def test_default_mcmc_settings_pass_their_gate_on_a_simple_four_study_arm_data_set():
    """The spec's default [mcmc] settings (target_accept 0.95) on four two-arm studies: the
    baselines integrated out of the MCMC model (engines/arms.py) remove the funnel that gave
    1-4 divergences with sampled, non-centred baselines."""
    from bayesnet.api import load_spec
    from bayesnet.engines.arms import fit_arms

    rows = []
    for st, nt, s_t, nc, s_c in FOUR:
        rows += [dict(study=st, arm="res", treated="true", n=nt, surv=s_t, surv_time_years=5),
                 dict(study=st, arm="none", treated="false", n=nc, surv=s_c, surv_time_years=5)]
    md = build_arm_model_data(None, derive_arms(pd.DataFrame(rows)).table)
    mc = load_spec({}).mcmc
    post = fit_arms(md, PRIORS, seed=mc.seed, chains=mc.chains, draws=mc.draws, tune=mc.tune,
                    target_accept=mc.target_accept)
    assert post.ok, post.diagnostics
    assert post.diagnostics["divergences"] == 0
    ex = fit_arms_exact(md, PRIORS)
    mu = post.extras["idata"]["posterior"]["mu"].values
    from ..helpers import mcse

    assert abs(ex["pooled"].mean() - mu.mean()) < TOL["mcse_multiple"] * mcse(mu)
