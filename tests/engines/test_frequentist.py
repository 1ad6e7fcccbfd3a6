"""Frequentist comparator: Cochrane t prediction interval, labelled Knapp-Hartung, the same
meta-regression as the Bayesian model, robust to extreme inputs."""

import numpy as np
import pytest
from scipy import stats

from bayesnet.engines.frequentist import comparator, rma
from bayesnet.errors import ModelError

Y = np.array([-0.9, -0.2, -0.6, 0.1, -0.7, -0.4])
V = np.array([0.04, 0.09, 0.05, 0.06, 0.1, 0.03])


def test_cochrane_prediction_interval_uses_t_k_minus_2():
    blk = comparator(Y, V, np.ones((6, 1)), ["mu"])["REML"]
    f = rma(Y, V, None, "REML")
    sp = np.sqrt(f["tau2"] + f["se"] ** 2)
    t = stats.t.ppf(0.975, 6 - 2)
    assert blk["hr_pi_t"] == pytest.approx(list(np.exp([f["mu"] - t * sp, f["mu"] + t * sp])))
    assert blk["pi_t_df"] == 4 and "Cochrane" in blk["labels"]["hr_pi_t"]
    assert blk["hr_pi_z"][0] > blk["hr_pi_t"][0]  # z is narrower
    assert "untruncated" in blk["labels"]["hr_ci_kh"]
    lo, hi = blk["hr_ci_kh_truncated"]
    assert lo <= blk["hr_ci_kh"][0] + 1e-12 or hi >= blk["hr_ci_kh"][1] - 1e-12


def test_covariate_comparator_is_the_same_meta_regression():
    X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    blk = comparator(Y, V, X, ["mu", "design:registry"])["REML"]
    f = rma(Y, V, X, "REML", ["mu", "design:registry"])
    assert blk["covariates"] is True
    assert blk["mu"] == pytest.approx(f["coefficients"]["mu"]["estimate"])
    assert blk["mu"] != pytest.approx(rma(Y, V, None, "REML")["mu"])
    assert blk["pi_t_df"] == 6 - 2 - 1


def test_tiny_se_is_refused_not_null():
    with pytest.raises(ModelError, match="position"):
        rma(Y, np.r_[V[:-1], 1e-600], None, "REML")


def test_overflowing_hr_is_null_not_inf():
    blk = comparator(np.r_[Y[:-1], 800.0], np.r_[V[:-1], 1e6], np.ones((6, 1)), ["mu"])["REML"]
    for key in ("hr", "hr_ci", "hr_pi_t", "hr_pi_z"):
        vals = blk[key] if isinstance(blk[key], list) else [blk[key]]
        assert all(v is None or np.isfinite(v) for v in vals)
