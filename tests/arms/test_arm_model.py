"""The arm-level model (bayesnet.engines.arms): agreement with the contrast model and the
behaviour of single-arm case series under bias priors (issue 11)."""

import numpy as np
import pandas as pd
import pytest

from bayesnet.arm_analysis import parse_bias_table
from bayesnet.engines.arms import build_arm_model_data, fit_arms
from bayesnet.errors import ModelError, SpecError
from bayesnet.evidence import derive
from bayesnet.evidence.arms import derive_arms
from bayesnet.priors import Prior

from ..conftest import TOL
from ..helpers import mcse_mean

PRIORS = {"mu": Prior("normal", {"mu": 0.0, "sigma": 1.0}),
          "beta": Prior("normal", {"mu": 0.0, "sigma": 0.5}),
          "tau": Prior("half_normal", {"sigma": 0.5}, kind="scale")}

# comparative arms: (study, n_t, S_t, n_c, S_c) at 5 years
COMP = [("A", 60, 0.70, 60, 0.45), ("B", 40, 0.65, 45, 0.50), ("C", 80, 0.75, 70, 0.40),
        ("D", 30, 0.60, 35, 0.42), ("E", 100, 0.72, 90, 0.55), ("F", 50, 0.68, 55, 0.38)]
SERIES = [("S1", 120, 0.80), ("S2", 70, 0.85), ("S3", 200, 0.78), ("S4", 50, 0.82)]


def comp_arms():
    rows = []
    for st, nt, st_, nc, sc in COMP:
        rows += [dict(study=st, arm="resection", treated="true", n=nt, surv=st_, surv_time_years=5, design="cohort"),
                 dict(study=st, arm="none", treated="false", n=nc, surv=sc, surv_time_years=5, design="cohort")]
    return pd.DataFrame(rows)


def series_arms():
    return pd.DataFrame([dict(study=s, arm="resection", treated="true", n=n, surv=v, surv_time_years=5,
                              design="case_series") for s, n, v in SERIES])


def exact_fit(df_hr):
    from bayesnet.engines.exact import fit_exact
    from bayesnet.models import build_model_data
    from bayesnet.spec import spec_from_dict

    ev = derive(df_hr)
    spec = spec_from_dict({"priors": {"mu": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
                                      "tau": {"dist": "half_normal", "sigma": 0.5}}})
    return fit_exact(build_model_data(ev, spec), spec, evidence=ev), ev


@pytest.mark.mcmc
def test_hr_rows_only_match_the_contrast_model():
    hr = pd.DataFrame({"study": list("ABCDEFG"), "log_hr": [-0.5, -0.3, -0.8, -0.1, -0.6, -0.4, 0.1],
                       "se": [0.2, 0.25, 0.3, 0.15, 0.35, 0.2, 0.3]})
    ex, ev = exact_fit(hr)
    md = build_arm_model_data(ev.table, None)
    post = fit_arms(md, PRIORS, seed=1)
    assert post.ok, post.diagnostics
    m_ex, m_mc = ex["pooled"].mean(), post["pooled"].mean()
    assert abs(m_ex - m_mc) < TOL["mcse_multiple"] * mcse_mean(post)
    assert abs(ex["pooled"].sd() - post["pooled"].sd()) < 0.1 * ex["pooled"].sd()


@pytest.mark.mcmc
def test_comparative_arms_match_the_contrast_model_on_derived_hrs():
    arms = derive_arms(comp_arms())
    t = arms.table
    # the HRs derived from the same proportions with the same (delta-method) variance
    tr, co = t[t["treated"]].set_index("study"), t[~t["treated"]].set_index("study")
    hr = pd.DataFrame({"study": tr.index, "log_hr": (tr["L"] - co["L"]).values,
                       "se": np.sqrt(tr["v"] + co["v"]).values})
    ex, _ = exact_fit(hr)
    md = build_arm_model_data(None, t)
    post = fit_arms(md, PRIORS, seed=2, draws=2000)
    assert post.ok, post.diagnostics
    # the arm model's baselines are partially pooled (exchangeable), which adds a little
    # information; with a vague baseline SD prior the difference is within MCSE + 0.03
    assert abs(ex["pooled"].mean() - post["pooled"].mean()) < TOL["mcse_multiple"] * mcse_mean(post) + 0.03


@pytest.mark.mcmc
def test_vague_case_series_bias_leaves_the_pooled_effect_alone_and_a_tight_one_moves_it():
    comp = derive_arms(comp_arms()).table
    both = derive_arms(pd.concat([comp_arms(), series_arms()], ignore_index=True)).table
    base = fit_arms(build_arm_model_data(None, comp), PRIORS, seed=3, draws=2000)
    vague = parse_bias_table({"by": {"design": {"case_series": {"mu": 0.0, "sigma": 10.0}}}})
    with_vague = fit_arms(build_arm_model_data(None, both, bias=vague), PRIORS, seed=3, draws=2000)
    assert base.ok and with_vague.ok
    tol = TOL["mcse_multiple"] * np.hypot(mcse_mean(base), mcse_mean(with_vague))
    assert abs(base["pooled"].mean() - with_vague["pooled"].mean()) < max(0.02, tol)
    tight = parse_bias_table({"by": {"design": {"case_series": {"mu": 0.0, "sigma": 0.01}}}})
    with_tight = fit_arms(build_arm_model_data(None, both, bias=tight), PRIORS, seed=3, draws=2000)
    # the series' survival (0.78-0.85) is better than the comparative resection arms (0.60-0.75):
    # believed unbiased, they pull the pooled log-HR down (more benefit)
    assert with_tight["pooled"].mean() < base["pooled"].mean() - 0.05


def test_case_series_without_a_bias_prior_are_refused():
    both = derive_arms(pd.concat([comp_arms(), series_arms()], ignore_index=True)).table
    with pytest.raises(ModelError, match=r"S1.*bias prior.*\[bias.by.design\] case_series"):
        build_arm_model_data(None, both)


def test_bias_table_errors_are_collected():
    with pytest.raises(SpecError) as e:
        parse_bias_table({"common": {"mu": -0.1}, "by": {"design": {"x": {"mu": "a", "sigma": 1}}}, "foo": 1})
    assert len(e.value.problems) == 3


def test_bias_level_absent_from_the_data_is_an_error():
    comp = derive_arms(comp_arms()).table
    with pytest.raises(SpecError, match="level 'case_sries' is not in the data"):
        build_arm_model_data(None, comp, bias=parse_bias_table({"by": {"design": {"case_sries": {"mu": 0, "sigma": 1}}}}))
