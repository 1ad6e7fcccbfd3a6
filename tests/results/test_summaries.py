"""summary.json: no non-finite numbers, HR overflow as null with a warning, k < 3 warning,
the headline's label."""

import math

import pandas as pd
import pytest

from bayesnet.api import fit
from bayesnet.evidence import load_evidence
from bayesnet.summaries import assert_finite, summary_dict

from ..conftest import TOL


def _fit(df, raw=None):
    return fit(raw or {}, evidence=load_evidence(data=df), engine="exact")


def test_two_studies_warn_that_tau_is_prior_driven():
    s = summary_dict(_fit(pd.DataFrame({"study": ["a", "b"], "log_hr": [-0.4, -0.6], "se": [0.2, 0.3]})))
    assert any("informed mainly by its prior" in w for w in s["warnings"])
    assert s["pooled_label"] == "pooled HR"
    s = summary_dict(_fit(pd.DataFrame({"study": list("abc"), "log_hr": [-0.4, -0.6, -0.1], "se": [0.2, 0.3, 0.25]})))
    assert not any("informed mainly by its prior" in w for w in s["warnings"])


def test_huge_se_or_hr_does_not_crash_and_is_never_inf():
    df = pd.DataFrame({"study": list("abcd"), "log_hr": [-0.4, -0.6, -0.1, math.log(1e308)],
                       "se": [0.2, 0.3, 0.25, 1e3]})
    try:
        post = _fit(df)
    except Exception as exc:  # noqa: BLE001 the evidence layer may refuse such a row: then it must be a user error
        from bayesnet.errors import BayesnetError
        assert isinstance(exc, BayesnetError)
        return
    s = summary_dict(post)
    assert_finite({k: v for k, v in s.items() if k not in ("provenance", "diagnostics")})


def test_covariate_headline_label():
    df = pd.DataFrame({"study": list("abcdef"), "log_hr": [-0.5, -0.3, -0.7, -0.2, -0.6, -0.4],
                       "se": [0.2, 0.25, 0.3, 0.2, 0.22, 0.3],
                       "design": ["cohort", "cohort", "cohort", "registry", "registry", "registry"]})
    s = summary_dict(_fit(df, {"model": {"covariates": ["design"], "reference": {"design": "registry"}}}))
    assert s["pooled_label"] == "HR at the reference levels (design = registry)"
    assert s["frequentist"]["REML"]["covariates"] is True


def test_assert_finite_catches_nan():
    with pytest.raises(RuntimeError, match="internal error"):
        assert_finite({"pooled": {"hr": {"ci95": [0.5, float("nan")]}}})


def test_ci_prob_sets_the_interval_everywhere():
    """ci_prob = 0.9 gives the 5% and 95% quantiles (equal-tailed) and the 90% HPD, in the
    summary, the studies table, the tidy table, xarray and the sweep row; 0.95 is the default."""
    from scipy.special import ndtri

    from bayesnet.sensitivity import row_from_posterior
    from bayesnet.summaries import studies_table, tidy_table, to_xarray

    df = pd.DataFrame({"study": list("abcd"), "log_hr": [-0.4, -0.6, -0.1, -0.3], "se": [0.2, 0.3, 0.25, 0.2]})
    post = _fit(df)
    m = post.marginals[("pooled",)]
    q05, q95 = (float(math.exp(v)) for v in m.quantile([0.05, 0.95]))
    s90, s95 = summary_dict(post, observational=False, ci_prob=0.9), summary_dict(post, observational=False)
    assert s90["ci_prob"] == 0.9 and s95["ci_prob"] == 0.95
    assert s90["pooled"]["hr"]["ci95"] == pytest.approx([q05, q95], rel=TOL["closed_form"])
    assert s90["pooled"]["hr"]["hpd95"] == pytest.approx(list(m.on("hr").hpd(0.9)), rel=TOL["closed_form"])
    assert s95["pooled"]["hr"]["ci95"] == pytest.approx([math.exp(v) for v in m.quantile([0.025, 0.975])], rel=TOL["float"])
    st = studies_table(post, ci_prob=0.9)
    assert st["hr_low"].iloc[0] == pytest.approx(math.exp(-0.4 - float(ndtri(0.95)) * 0.2), rel=TOL["float"])
    assert studies_table(post)["hr_high"].iloc[0] == pytest.approx(math.exp(-0.4 + 1.959963984540054 * 0.2), rel=TOL["float"])
    pooled = tidy_table(post, ci_prob=0.9).set_index("quantity").loc["pooled"]
    assert [pooled["ci_low"], pooled["ci_high"]] == pytest.approx([q05, q95], rel=TOL["closed_form"])
    x = to_xarray(post, ci_prob=0.9)
    assert x["pooled_hr"].sel(stat=["ci_low", "ci_high"]).values.tolist() == pytest.approx([q05, q95], rel=TOL["closed_form"])
    row = row_from_posterior(post, ci_prob=0.9)
    assert [row["hr_low"], row["hr_high"]] == pytest.approx([q05, q95], rel=TOL["closed_form"])


def test_one_probability_key_scheme():
    """summary.json, the tidy table and the sweep rows use the same keys (format.prob_key):
    p_hr_lt_<t> / p_hr_gt_<t> / p_pred_hr_lt_<t>, t in its canonical short form."""
    from bayesnet.format import parse_prob_key, prob_key
    from bayesnet.sensitivity import row_from_posterior
    from bayesnet.summaries import tidy_table

    assert prob_key(1.0) == "p_hr_lt_1" and prob_key(0.8) == "p_hr_lt_0.8"
    assert prob_key(1.25, "gt") == "p_hr_gt_1.25" and prob_key(1, predictive=True) == "p_pred_hr_lt_1"
    for key in ("p_hr_lt_1", "p_hr_gt_1.25", "p_pred_hr_lt_0.8", "p_pred_hr_gt_2"):
        side, t, pred = parse_prob_key(key)
        assert prob_key(t, side, pred) == key
    for bad in ("hr<1", "p_hr<1", "p_hr_lt_", "p_hr_eq_1", "d_p_hr_lt_1"):
        with pytest.raises(ValueError):
            parse_prob_key(bad)
    df = pd.DataFrame({"study": list("abc"), "log_hr": [-0.4, -0.6, -0.1], "se": [0.2, 0.3, 0.25]})
    post = _fit(df)
    keys = {"p_hr_lt_1", "p_hr_lt_0.8", "p_hr_gt_1.25"}
    s = summary_dict(post, observational=False)
    assert set(s["prob"]["pooled"]) == keys == set(s["prob"]["predictive"])
    pooled = tidy_table(post).set_index("quantity").loc["pooled"]
    row = row_from_posterior(post)
    for k in keys:
        assert pooled[k] == pytest.approx(s["prob"]["pooled"][k], rel=TOL["float"])
        assert row[k] == pytest.approx(s["prob"]["pooled"][k], rel=TOL["float"])
    assert row["p_pred_hr_lt_1"] == pytest.approx(s["prob"]["predictive"]["p_hr_lt_1"], rel=TOL["float"])


def test_coefficient_probability_is_a_ratio_key():
    """A coefficient's probability is keyed "p_ratio_lt_1" = P(ratio of HRs < 1) =
    P(coefficient < 0); strata_and_coefficients gives summary.json's blocks."""
    from bayesnet.format import is_prob_key, prob_label, ratio_prob_key
    from bayesnet.summaries import strata_and_coefficients

    assert ratio_prob_key() == "p_ratio_lt_1" and ratio_prob_key(1.25, "gt") == "p_ratio_gt_1.25"
    assert prob_label("p_ratio_lt_1") == "P(HR ratio < 1)" and not is_prob_key("p_ratio_lt_1")
    df = pd.DataFrame({"study": list("abcdef"), "log_hr": [-0.1, -0.2, 0.0, -0.9, -1.0, -0.8],
                       "se": [0.2, 0.3, 0.25, 0.2, 0.3, 0.35], "design": ["rct"] * 3 + ["cohort"] * 3})
    post = _fit(df, {"model": {"covariates": ["design"], "reference": {"design": "rct"}}})
    s = summary_dict(post, observational=False)
    coef = s["coefficients"]["design:cohort"]
    assert set(coef) == {"log_hr", "hr_ratio", "p_ratio_lt_1"}
    assert coef["p_ratio_lt_1"] == pytest.approx(float(post["coef", "design:cohort"].cdf(0.0)), rel=TOL["float"])
    assert 0.5 < coef["p_ratio_lt_1"] < 1  # cohort studies show the larger benefit here
    strata, coefficients = strata_and_coefficients(post)
    assert strata == s["strata"] and coefficients == s["coefficients"]
    s90, c90 = strata_and_coefficients(post, 0.9)
    assert c90["design:cohort"]["hr_ratio"]["ci95"][0] > coef["hr_ratio"]["ci95"][0]


def test_group_column_missing_from_the_data_is_a_warning_not_a_silent_drop():
    """A typo in [report] group_columns would silently remove the strata and the
    leave-one-level-out rows; summary.json's warnings (printed by the CLI and shown at
    the top of the report) name it."""
    df = pd.DataFrame({"study": list("abcd"), "log_hr": [-0.4, -0.6, -0.1, -0.3], "se": [0.2, 0.3, 0.25, 0.2],
                       "design": ["rct", "rct", "cohort", "cohort"]})
    s = summary_dict(_fit(df, {"report": {"group_columns": ["desing", "design"]}}))
    hits = [w for w in s["warnings"] if "group_columns" in w]
    assert len(hits) == 1 and "'desing'" in hits[0] and "'design'" not in hits[0]
    s = summary_dict(_fit(df, {"report": {"group_columns": ["design"]}}))
    assert not any("group_columns" in w for w in s["warnings"])
