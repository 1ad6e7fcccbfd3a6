"""Sweeps, the community of priors, influence and overlap sensitivity."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from bayesnet.api import fit, load_spec
from bayesnet.priors import parse_prior
from bayesnet.sensitivity import community_priors, influence, read_grid, sweep

from ..conftest import TOL

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_random_effects.toml"


def test_community_priors_properties():
    com = community_priors([1.0, 0.8])
    sc, en = com["sceptical"].params, com["enthusiastic"].params
    assert sc["mu"] == 0.0
    assert norm.cdf(math.log(0.8), sc["mu"], sc["sigma"]) == pytest.approx(0.05, abs=TOL["float"])
    assert en["mu"] == pytest.approx(math.log(0.8))
    assert norm.sf(0.0, en["mu"], en["sigma"]) == pytest.approx(0.05, abs=TOL["float"])
    com7 = community_priors([1.0, 0.7, 0.8])  # the clinical threshold is the largest below 1
    assert norm.cdf(math.log(0.8), 0, com7["sceptical"].params["sigma"]) == pytest.approx(0.05)


def test_default_grid_and_columns():
    df = sweep(SPEC)
    assert len(df) == 5 * 4
    for col in ("tau_prior", "mu_prior", "hr_median", "hr_low", "hr_high", "pred_hr_low", "pred_hr_high",
                "tau_median", "p_hr_lt_1", "p_hr_lt_0.8", "p_pred_hr_lt_1", "p_pred_hr_lt_0.8", "p_hr_gt_1.25"):
        assert col in df.columns, col
    assert set(df["tau_dist"]) == {"half_normal", "half_cauchy", "inv_gamma"}
    assert df.loc[df["tau_prior"].str.startswith("inverse-gamma"), "tau_beta"].iloc[0] == 0.30


def test_sweep_row_equals_direct_fit(tmp_path):
    g = tmp_path / "grid.toml"
    g.write_text('[[tau]]\ndist = "half_cauchy"\nscale = 0.3\nlabel = "HC(0.3)"\n'
                 '[[tau]]\ndist = "lognormal"\nmu = -1.5\nsigma = 1.0\n'
                 '[[mu]]\ndist = "normal"\nmu = 0.0\nsigma = 2.0\n')
    grid = read_grid(g)
    df = sweep(SPEC, grid=grid)
    assert list(df["tau_prior"]) == ["HC(0.3)", "lognormal(mu=-1.5, sigma=1)"]
    spec = load_spec(SPEC).with_priors(tau=grid["tau"][1], mu=grid["mu"][0])
    post = fit(spec, engine="exact")
    row = df.iloc[1]
    assert row["hr_median"] == pytest.approx(float(np.exp(post["pooled"].quantile([0.5])[0])), rel=TOL["float"])
    assert row["p_hr_lt_0.8"] == pytest.approx(post.prob("pooled", 0.8), rel=TOL["float"])
    assert row["p_pred_hr_lt_1"] == pytest.approx(post.prob("predictive", 1.0), rel=TOL["float"])


def test_sweep_ci_prob_sets_the_interval_columns(tmp_path):
    """ci_prob=0.9: hr_low/hr_high and pred_hr_low/pred_hr_high are the 5% and 95%
    quantiles of the pooled and predictive HR (not the default 2.5%/97.5%)."""
    g = tmp_path / "grid.toml"
    g.write_text('[[tau]]\ndist = "half_normal"\nsigma = 0.5\n[[mu]]\ndist = "normal"\nmu = 0.0\nsigma = 1.0\n')
    grid = read_grid(g)
    row90 = sweep(SPEC, grid=grid, ci_prob=0.9).iloc[0]
    row95 = sweep(SPEC, grid=grid).iloc[0]
    post = fit(load_spec(SPEC).with_priors(tau=grid["tau"][0], mu=grid["mu"][0]), engine="exact")
    q = np.exp(post["pooled"].quantile([0.05, 0.95]))
    qp = np.exp(post["predictive"].quantile([0.05, 0.95]))
    assert [row90["hr_low"], row90["hr_high"]] == pytest.approx(list(q), rel=1e-10)
    assert [row90["pred_hr_low"], row90["pred_hr_high"]] == pytest.approx(list(qp), rel=1e-10)
    assert row95["hr_low"] < row90["hr_low"] < row90["hr_high"] < row95["hr_high"]
    assert row90["hr_median"] == pytest.approx(row95["hr_median"], rel=1e-12)
    assert row90["p_hr_lt_0.8"] == pytest.approx(row95["p_hr_lt_0.8"], rel=1e-12)


def test_grid_errors_name_the_key(tmp_path):
    g = tmp_path / "grid.toml"
    g.write_text('[[tua]]\ndist = "half_normal"\nsigma = 1\n')
    with pytest.raises(ValueError, match="unknown grid key"):
        read_grid(g)
    g.write_text('[[tau]]\ndist = "half_normal"\nsigma = -1\n')
    with pytest.raises(ValueError, match=r"\[\[tau\]\] #1.sigma: must be > 0"):
        read_grid(g)


def _spec_for(y, se):
    return pd.DataFrame({"study": [f"s{i}" for i in range(len(y))], "log_hr": y, "se": se})


def test_sceptical_prior_is_overwhelmed_by_huge_data():
    com = community_priors([1.0, 0.8])
    y = np.full(12, math.log(0.6))
    data = _spec_for(y, np.full(12, 0.01))
    spec = load_spec({"priors": {"mu": com["sceptical"].to_dict(), "tau": {"dist": "half_normal", "sigma": 0.5}}})
    post = fit(spec, data=data, engine="exact")
    assert math.exp(post["pooled"].quantile([0.5])[0]) == pytest.approx(0.6, rel=0.01)
    assert post.prob("pooled", 0.8) > 0.999


def test_sceptical_prior_without_information_returns_its_own_probability():
    """With uninformative data (two studies, se = 9.9, the largest se the evidence table
    accepts) the posterior is the prior: P(HR < 0.8)
    = 5% under the sceptical prior and 95% P(HR < 1) under the enthusiastic one."""
    com = community_priors([1.0, 0.8])
    data = _spec_for([0.0, 0.0], [9.9, 9.9])
    for name, check in (("sceptical", (0.8, 0.05)), ("enthusiastic", (1.0, 0.95))):
        spec = load_spec({"priors": {"mu": com[name].to_dict(), "tau": {"dist": "half_normal", "sigma": 0.5}}})
        post = fit(spec, data=data, engine="exact")
        assert post.prob("pooled", check[0]) == pytest.approx(check[1], abs=2e-4), name


def test_influence_flags_a_constructed_outlier():
    rng = np.random.default_rng(3)
    y = list(np.log(0.6) + 0.05 * rng.normal(size=7)) + [np.log(2.5)]
    se = [0.15] * 7 + [0.12]
    data = _spec_for(y, se)
    data["design"] = ["cohort"] * 4 + ["case_series"] * 4
    df = influence(load_spec({"report": {"thresholds": [1.0, 0.8], "group_columns": ["design"]}}), data=data)
    flagged = df.loc[df["flag"], "omitted"].tolist()
    assert flagged == ["s7"]
    assert "design=case_series" in set(df["omitted"]) and "design=cohort" in set(df["omitted"])
    full = df.iloc[0]
    row = df.set_index("omitted").loc["s7"]
    assert row["hr_median"] < full["hr_median"]
    assert row["d_p_hr_lt_0.8"] > 0


def test_influence_on_shipped_data():
    df = influence(SPEC)
    assert df["flag"].sum() == 1
    assert (df["kind"] == "study").sum() == 5  # primary selection: no patient counted twice
    assert {"source_type=registry", "source_type=institutional"} <= set(df["omitted"])


@pytest.mark.mcmc
def test_mcmc_sweep_parallel_and_dask_agree():
    from dask.distributed import LocalCluster

    spec = load_spec({"model": {"random_dist": "student_t"}, "mcmc": {"draws": 300, "tune": 300}})
    grid = {"tau": [parse_prior({"dist": "half_normal", "sigma": s}, "t", "scale") for s in (0.3, 0.6)],
            "mu": [parse_prior({"dist": "normal", "mu": 0, "sigma": 1}, "m", "effect")]}
    local = sweep(spec, grid=grid, workers=2)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = sweep(spec, grid=grid, scheduler=cluster.scheduler_address)
    cols = ["hr_median", "hr_low", "hr_high", "p_hr_lt_0.8", "tau_median"]
    pd.testing.assert_frame_equal(local[cols], remote[cols])
    assert (local["engine"] == "mcmc").all()


@pytest.mark.mcmc
def test_power_scaling_on_top_level_parameters():
    from bayesnet.sensitivity import power_scaling

    post = fit(load_spec({"mcmc": {"draws": 500, "tune": 500}}), engine="mcmc")
    ps = power_scaling(post)
    text = ps.to_string()
    assert "mu" in text and "tau" in text and "theta" not in text and "z" not in ps.iloc[:, 0].astype(str).tolist()


def test_sweep_cli_writes_files(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "sw"
    r = subprocess.run([sys.executable, "-m", "bayesnet.cli", "sweep", str(SPEC), "--out", str(out), "--influence"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    for f in ("sweep.csv", "sweep.png", "sweep.svg", "influence.csv", "influence.png"):
        assert (out / f).stat().st_size > 0
    assert len(pd.read_csv(out / "sweep.csv")) == 20


@pytest.mark.mcmc
def test_overlap_rules():
    from bayesnet.sensitivity import overlap_sensitivity

    df = overlap_sensitivity(load_spec({"data": {"dataset": "gepnet_ptr", "select": "primary"},
                                        "mcmc": {"draws": 500, "tune": 500}}))
    assert df["analysis"].iloc[-1] == "all rows + population effect"
    assert {"largest", "most_recent"} <= set(df["rule"])
    assert df["k"].iloc[-1] > df["k"].iloc[0]
    assert (df["hr_median"] < 1).all()


def test_influence_refits_only_the_most_influential_at_scale():
    """Above max_studies, only the studies with the largest closed-form leave-one-out
    shift are refitted (linear cost); the planted outlier is among them."""
    from bayesnet.sensitivity import approximate_loo_shift

    rng = np.random.default_rng(5)
    k = 60
    se = rng.uniform(0.15, 0.3, k)
    y = np.log(0.7) + 0.05 * rng.normal(size=k)
    y[17] = np.log(3.0)
    se[17] = 0.1
    data = _spec_for(y, se)
    shift = approximate_loo_shift(y, se, 0.8)
    assert int(np.argmax(shift)) == 17
    df = influence(load_spec({"report": {"thresholds": [1.0, 0.8]}}), data=data, max_studies=10)
    assert (df["kind"] == "study").sum() == 10
    assert "s17" in set(df["omitted"]) and df.loc[df["flag"], "omitted"].tolist() == ["s17"]
    assert "10 of 60" in df.attrs["note"]


def test_sweep_records_an_impossible_setting_and_goes_on(monkeypatch):
    import bayesnet.api as api
    from bayesnet.errors import ModelError

    real_fit = api.fit

    def fit_refusing_flat(spec, *a, **kw):
        if spec.priors.mu.dist == "flat":
            raise ModelError("improper posterior: flat mu with this tau prior; use a proper mu prior")
        return real_fit(spec, *a, **kw)

    monkeypatch.setattr(api, "fit", fit_refusing_flat)
    data = pd.DataFrame({"study": ["a", "b", "c"], "log_hr": [-0.5, -0.3, -0.4], "se": [0.2, 0.25, 0.3]})
    grid = {"tau": [parse_prior({"dist": "half_normal", "sigma": 0.5}, "t", "scale")],
            "mu": [parse_prior({"dist": "normal", "mu": 0, "sigma": 1}, "m", "effect"),
                   parse_prior({"dist": "flat"}, "m", "effect")]}
    df = sweep(load_spec({"report": {"thresholds": [1.0, 0.8]}}), grid=grid, data=data)
    assert list(df["status"]) == ["ok", "not estimable"]
    assert "improper posterior" in df["reason"].iloc[1] and np.isnan(df["hr_median"].iloc[1])
    assert df["seed"].isna().all()  # exact fits have no seed


def test_overlap_sensitivity_rules_and_registry_families(tmp_path):
    from bayesnet.sensitivity import overlap_sensitivity

    rows = [("A1", 0.5, 0.3, 0.8, "G1", 500, 2010, "SEER"), ("A2", 0.6, 0.4, 0.9, "G1", 300, 2015, "SEER"),
            ("B1", 0.7, 0.5, 0.98, "G2", 800, 2012, "NCDB"), ("B2", 0.65, 0.45, 0.95, "G2", 400, 2018, "NCDB"),
            ("C", 0.8, 0.5, 1.3, "", 100, 2011, ""), ("D", 0.55, 0.3, 1.0, "", 90, 2016, "")]
    pd.DataFrame(rows, columns=["study", "hr", "ci_low", "ci_high", "overlap_group", "n_total", "year",
                                "registry_family"]).to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "s.toml").write_text('[data]\npath = "d.csv"\nselect = "sel.toml"\n[report]\nthresholds = [1.0, 0.8]\n')
    (tmp_path / "sel.toml").write_text('name = "t"\n[overlap]\ncolumn = "overlap_group"\nkeep = "largest"\n')
    df = overlap_sensitivity(tmp_path / "s.toml", population_model=False)
    by = df.set_index("analysis")
    assert "keep largest (primary)" in by.index and "keep most recent" in by.index
    assert by.loc["keep largest (primary)", "k"] == 4
    # best_adjusted needs design/adjusted columns this table lacks: recorded, not fatal
    ba = df["rule"] == "best_adjusted"
    assert (df.loc[ba, "status"] == "not estimable").all() and df.loc[ba, "reason"].str.contains("design").all()
    assert (df.loc[~ba, "status"] == "ok").all()
    # one row of the family + C, D, and the label says so (issue 16: what each selection holds)
    assert by.loc["SEER only (1 SEER row + 2 institutional rows (no registry))", "k"] == 3
    assert by.loc["NCDB only (1 NCDB row + 2 institutional rows (no registry))", "k"] == 3
    assert by.loc["NCDB only (1 NCDB row + 2 institutional rows (no registry))", "studies"][-2:] == ["C", "D"]


def test_sweep_and_influence_accept_a_fitted_posterior():
    """sweep(post) and influence(post) reuse the posterior's spec, evidence and engine
    (metafor's leave1out(res)) and give exactly the rows of the spec-path call."""
    from bayesnet.sensitivity import default_grid

    post = fit(SPEC)
    g = default_grid(post.spec.thresholds)
    grid = {"tau": g["tau"][:2], "mu": g["mu"][:2]}
    pd.testing.assert_frame_equal(sweep(post, grid=grid), sweep(SPEC, grid=grid))
    a, b = influence(post), influence(SPEC)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs
