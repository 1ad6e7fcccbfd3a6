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
