"""Shared fixtures. Every reference value the tests compare against lives in the repository,
in tests/reference/ (sources in tests/reference/README.md); no test reads anything outside
the repository, so a fresh clone runs the whole suite."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"

# Tolerances, in one place. Each says what limits the agreement we can demand.
TOL = {
    # relative (|a - b| <= tol * max(1, |b|)): bayesmeta's printed summaries carry 7
    # significant digits, but its DIRECT tau grid is accurate to ~1e-3 itself
    "bayesmeta": 1e-3,
    # bayesmeta numbers that depend on the tails of the tau grid (predictive, shrinkage,
    # HPDs whose published mass is 0.95005): its grid error reaches ~2e-3 there
    "bayesmeta_tail": 2e-3,
    # our exact engine against a 400,000-600,000-point trapezoid integration over tau
    "brute_force": 2e-5,
    # ... and for a posterior mean whose half-Cauchy tau tail is truncated at tau = 400
    "brute_force_mean": 1e-4,
    # values printed to 4 decimals (metafor; the REML comparison of the bayesmeta paper)
    "metafor_4dp": 1e-4,
    # our I2 arithmetic at bayesmeta's published median tau, against bayesmeta's 7 digits
    "i2_arithmetic": 1e-4,
    # metafor examples whose yi/vi inputs are themselves rounded to 4 decimals (dat.bcg):
    # the error propagates to ~3e-4 in DL/EE fits dominated by the most precise trials
    "metafor_rounded_input": 3e-4,
    # dat.bcg heterogeneity statistics from the 4-decimal yi/vi: the most precise trials
    # (vi = 0.004, 0.0069) carry up to 1.25% rounding error into their weights
    "bcg_i2": 0.05,       # I2 (percent) and H2
    "bcg_q": 0.5,         # Q of the intercept-only model
    "bcg_qe": 0.05,       # QE of the ablat meta-regression
    "bcg_qm": 0.01,       # QM of the ablat meta-regression
    "bcg_ee": 3e-3,       # equal-effects fit: weights are those of the most precise trials
    "bcg_dl_tau2": 5e-4,  # DL tau2: moment estimator, linear in Q
    # a prediction interval metafor prints to 2 decimals
    "metafor_2dp": 5e-3,
    # metafor run live on the same data, printing 10 decimals: both REML optimisers stop
    # at a relative convergence of ~1e-8 in tau2, which moves mu, se and CIs below 1e-5
    "metafor_live": 1e-5,
    "metafor_live_i2": 1e-3,  # I2 in percent
    # conversions recomputed in R and stored to 6 decimals: half a unit in the 6th place
    # plus floating-point slack
    "r_6dp": 1.5e-6,
    # a value computed by hand (or in R) and written into the test to 4 or 6 decimals:
    # half a unit in the last place, rounded up
    "hand_4dp": 1e-4,
    "hand_6dp": 1e-6,
    # R's EValue 4.1.4 (tests/reference/evalue_R.json, 15 significant digits): the same
    # closed forms (VanderWeele & Ding 2017; the sqrt-HR conversion of VanderWeele 2020)
    "evalue_R": 1e-6,
    # metafor 3.8.1 fits stored at full precision (tests/reference/pubbias/metafor_reference.json):
    # regtest, PET/PEESE and Debray regressions (REML) and selmodel (ML); both optimisers stop
    # at a convergence tolerance of ~1e-5 in tau2, which moves z, t, p, coefficients, their
    # se and the log-likelihood by less than 1e-4
    "metafor_fit": 1e-4,
    # RoBMA 3.6.1 (tests/reference/pubbias/robma_*.json). Prior model probabilities are the
    # same exact fractions on both sides (relative, floating point only)
    "robma_prior_prob": 1e-9,
    # log marginal likelihoods: RoBMA's bridge-sampling error is ~0.01 on the log scale; our
    # own Monte Carlo error is added on top as TOL["mcse_multiple"] x its MCSE
    "robma_log_ml": 0.03,
    # posterior inclusion probabilities and log inclusion Bayes factors, which carry those
    # log-ML errors (summed over up to 36 models)
    "robma_post_prob": 0.01,
    "robma_log_bf": 0.05,
    # mean and 95% quantiles of mu: RoBMA averages JAGS draws (MCMC error ~0.005) weighted
    # by the bridge-sampled model probabilities
    "robma_mu": 0.02,
    # a Monte Carlo estimate against an exact value: |difference| < 4 x its MCSE
    # (a two-sided false alarm rate of 6e-5 per comparison)
    "mcse_multiple": 4,
    # selection-model likelihood against adaptive quadrature of the weighted normal density
    # (scipy quad at epsrel 1e-12; the omega floor of 1e-3 keeps it resolvable)
    "selection_quad": 1e-6,
    # the exact PET/PEESE posterior against a direct 161^3 grid over (b0, b1, tau): the grid
    # step in b0 is 0.017, so its mean is good to ~1e-3 and its cdf at 0 to a few 1e-3
    "grid3d_mean": 2e-3,
    "grid3d_prob": 5e-3,
    # publication-bias model averaging: the closed-form route (mu integrated analytically)
    # against the quadrature-grid route, log marginal likelihood and posterior mean of mu
    "grid_route_log_ml": 2e-4,
    "grid_route_mean": 1e-3,
    # selection route against a fixed 201 x 201 x 81 Simpson grid over (mu, tau, omega_1):
    # the grid's own error, on top of TOL["mcse_multiple"] x the route's QMC error
    "simpson3d_log_ml": 2e-3,
    # common uncertain bias against a brute-force 3001-point tau grid with the full
    # multivariate normal likelihood: P(mu < c) and the predictive P(theta_new < c), whose
    # tau-tail truncation at 2.5 matters more
    "bias_brute_force": 2e-4,
    "bias_brute_force_pred": 5e-4,
    # absolute effects against 400,000 Monte Carlo draws of the pooled log-HR: mean and sd
    # of the treated survival (MC se ~1.6e-4: 3 se), coverage of the 95% HPD (MC se 3.4e-4
    # plus the HPD's own quadrature)
    "mc_400k_moment": 5e-4,
    "mc_400k_coverage": 3e-3,
    # the delta-method se of a survival-proportion log-HR against the SD over simulated
    # binomial trials (tests/evidence/test_conversion_calibration.py), relative
    "delta_method_calibration": 0.08,
    # a mixture's mean and sd against a 200,001-point trapezoid rule over its density
    "trapezoid": 1e-8,
    # a Gaussian KDE of 20,000 normal draws (4 chains x 5,000) against the normal density (pdf, HPD limits)
    "kde": 0.03,
    # -- internal comparisons (no external reference), named because they repeat --
    # one quantity computed two ways in double precision (abs or rel)
    "float": 1e-12,
    # a closed form against the engine's numerics (sums over quadrature nodes and studies)
    "closed_form": 1e-10,
    # a function composed with its inverse (exp/log, ndtri, brentq at xtol 1e-9)
    "roundtrip": 1e-9,
    # a mixture quantile against cdf/hpd: the quantile's brentq root-finder tolerance
    "quantile": 1e-6,
    # network (tests/network/): netmeta's GLS estimates are closed form, as are ours with flat
    # priors: agreement to solver precision (the REML tau: metafor.s optimiser against ours, 1e-5)
    "netmeta_gls": 1e-7,
    "netmeta_reml_tau": 1e-5,
    # multinma's printed MCMC summaries (2 decimals): rounding 0.005 + 3 MCSE (sd / sqrt(ESS),
    # ESS ~ 1500-5000 as printed: up to ~0.017 for the RE effects, ~0.011 for the FE effects)
    "multinma_fe": 0.04,
    "multinma_re": 0.06,
    # multinma's printed rank probabilities (2 decimals, 4000 draws: MC SD <= 0.008) and mean
    # ranks (MC SD <= 0.02 with ESS ~ 2000): rounding + 3 MC SD
    "multinma_rank_prob": 0.03,
    "multinma_mean_rank": 0.07,
    # the network's exact mixture against brute force: a 500 (tau) x 161 x 161 (d) grid with
    # steps of 0.02 in d (moments to ~2e-4, P(d < 0) to ~4e-4 from the step at 0)
    "network_brute_force": 1e-3,
    # a two-treatment network against engines/exact.py's NNHM (same tau grid and components)
    "network_vs_pairwise": 1e-6,
    # the Gaussian core (bayesnet.model.gaussian) against dense grids over b (and u): a
    # 401-point midpoint rule per axis over +-8 sd of a smooth integrand
    "gaussian_grid_b": 1e-6,
    # ... and against a dense grid over theta (2,000 points in 1-D, 400 x 400 in 2-D) with
    # the marginal likelihood written independently (multivariate normal of y): the core's
    # adaptive grid (600 + 160 points; 32 x 32 uniform in asinh(theta / c)) is good to ~1e-4
    "gaussian_grid_theta": 5e-4,
    # the core against engines/exact.py's NNHM: the same tau grid, different component
    # placement (trapezoid nodes vs 256 quantile components)
    "gaussian_vs_nnhm": 2e-4,
    # the arm model with baselines that share nothing (baseline SD 30 instead of infinity)
    # against the contrast model on the derived HRs: the residual pooling is O(v / 30^2)
    "arm_flat_baselines": 2e-3,
}


def reference_path(name: str) -> Path:
    """A reference file in tests/reference/; a missing file is a failure, never a skip."""
    p = REFERENCE / name
    assert p.is_file(), f"reference file missing from the repository: {p}"
    return p


@pytest.fixture(scope="session")
def published():
    """tests/reference/published.json: values from bayesmeta, metafor and papers."""
    return json.loads(reference_path("published.json").read_text())


# On CI (.ci/run sets BAYESNET_CI=1) nothing may skip except what needs R: any other skip
# is turned into a failure that quotes the skip's reason.
CI_ALLOWED_SKIPS = ("R with metafor is not installed",)


def ci_skip_violation(reason: str, on_ci: bool) -> str | None:
    """The failure message for a skip that is not allowed on CI, or None."""
    if not on_ci or any(a in reason for a in CI_ALLOWED_SKIPS):
        return None
    return f"skipped on CI, where nothing may skip except what needs R: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail"):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        msg = ci_skip_violation(str(reason), os.environ.get("BAYESNET_CI") == "1")
        if msg:
            rep.outcome, rep.longrepr = "failed", msg
