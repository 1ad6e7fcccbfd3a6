"""Node-splitting and the unrelated-mean-effects model."""

import pandas as pd
import pytest

from bayesnet.network import fit_network, network_summary, read_network
from bayesnet.network.inconsistency import node_split, split_comparisons, ume
from bayesnet.spec import spec_from_dict
from tests.conftest import reference_path

PRIORS = {"mu": {"dist": "normal", "mu": 0, "sigma": 2}, "tau": {"dist": "half_normal", "sigma": 0.2}}


def _loop(ac: float) -> pd.DataFrame:
    """A-B, B-C and A-C trials (three each, se 0.1): B vs A -0.3, C vs B -0.3, C vs A `ac`."""
    rows = []
    for i in range(3):
        rows += [(f"ab{i}", "B", "A", -0.3), (f"bc{i}", "C", "B", -0.3), (f"ac{i}", "C", "A", ac)]
    return pd.DataFrame(rows, columns=["study", "treatment", "comparator", "log_hr"]).assign(se=0.1)


def test_node_split_flags_an_inconsistent_loop():
    """Direct C vs A = +0.3 against the indirect -0.6: every split of the loop is flagged."""
    post = fit_network(read_network(_loop(0.3)), spec_from_dict({"priors": PRIORS}))
    rows = node_split(post)
    assert {r["comparison"] for r in rows} == {"B:A", "C:A", "C:B"}
    ca = next(r for r in rows if r["comparison"] == "C:A")
    assert ca["direct"]["mean"] == pytest.approx(0.3, abs=0.05)
    assert ca["indirect"]["mean"] == pytest.approx(-0.6, abs=0.1)
    assert all(r["p_value"] < 0.01 for r in rows)


def test_node_split_quiet_on_a_consistent_loop():
    post = fit_network(read_network(_loop(-0.6)), spec_from_dict({"priors": PRIORS}))
    rows = node_split(post)
    assert all(r["p_value"] > 0.5 for r in rows)
    ca = next(r for r in rows if r["comparison"] == "C:A")
    assert ca["difference"]["mean"] == pytest.approx(0.0, abs=0.02)


def test_which_comparisons_are_split_with_multi_arm_trials():
    """van Valkenhoef et al. 2016: a comparison informed only inside one multi-arm trial (no
    loop outside it) is not split. Parkinson's: 1-2-4 is a three-arm trial; 1-3, 3-4 and
    1-2 (with 2-arm trial 2) form loops; 4-5 is a spur."""
    net = read_network(reference_path("network/parkinsons_contrast.csv"))
    got = set(split_comparisons(net))
    assert ("4", "5") not in got
    # 1-4 and 2-4 are only in the three-arm trial, but 1-3-4 and 2-1-3-4 connect them outside it
    assert got == {("1", "3"), ("1", "4"), ("2", "4"), ("3", "4")}
    # 1-2: treatment 2 is only in trials that also have 1, so there is no indirect evidence
    assert ("1", "2") not in got


def test_ume_flags_inconsistency_by_loo_and_tau():
    spec = spec_from_dict({"priors": {"mu": PRIORS["mu"], "tau": {"dist": "half_normal", "sigma": 1.0}}})
    bad = ume(fit_network(read_network(_loop(0.3)), spec))
    good = ume(fit_network(read_network(_loop(-0.6)), spec))
    assert bad["elpd_diff_ume_minus_consistency"] > 2 * bad["se_diff"]
    assert bad["tau_consistency"]["median"] > 2 * bad["tau_ume"]["median"]
    assert good["elpd_diff_ume_minus_consistency"] < 1.0
    assert set(bad["comparisons"]) == {"B:A", "C:A", "C:B"}


def test_network_summary_block_has_every_ordered_pair():
    net = read_network(reference_path("network/parkinsons_contrast.csv"))
    post = fit_network(net, spec_from_dict({"priors": PRIORS}))
    s = network_summary(post)
    T = len(s["treatments"])
    assert len(s["contrasts"]) == T * (T - 1)
    c = s["contrasts"]["2:1"]
    assert set(c) == {"log_hr", "hr", "prob", "predictive"}
    assert c["hr"]["median"] == pytest.approx(1 / s["contrasts"]["1:2"]["hr"]["median"], rel=1e-6)
    assert c["prob"]["p_hr_lt_1"] + s["contrasts"]["1:2"]["prob"]["p_hr_lt_1"] == pytest.approx(1.0, abs=1e-9)
    r = s["ranking"]
    assert sum(r["p_best"].values()) == pytest.approx(1.0)
    assert all(sum(v) == pytest.approx(1.0) for v in r["rank_prob"].values())
    assert max(r["sucra"], key=r["sucra"].get) == "2"
    assert {"comparison", "direct", "indirect", "difference", "p_value"} <= set(s["node_split"][0])
    assert s["ume"]["ume"]["elpd_loo"] < 0


def test_node_split_small_grid_agrees_with_the_full_grid():
    net = read_network(reference_path("network/parkinsons_contrast.csv"))
    post = fit_network(net, spec_from_dict({"priors": PRIORS}))
    fast, full = node_split(post), node_split(post, grid=(256, 160, 600))
    for a, b in zip(fast, full, strict=True):
        assert a["comparison"] == b["comparison"]
        assert a["p_value"] == pytest.approx(b["p_value"], abs=2e-3)
        for k in ("direct", "indirect", "difference"):
            assert a[k]["mean"] == pytest.approx(b[k]["mean"], abs=1e-3)
            assert a[k]["sd"] == pytest.approx(b[k]["sd"], abs=1e-3)


def _four_arm():
    """A four-arm study Q (A, B, C, D) and two-arm studies closing loops, all exactly
    consistent: d[B] = -0.2, d[C] = -0.4, d[D] = -0.6 against A."""
    d = {"A": 0.0, "B": -0.2, "C": -0.4, "D": -0.6}
    rows = [("Q", "A", None, 0.05), ("Q", "B", d["B"], 0.12), ("Q", "C", d["C"], 0.13), ("Q", "D", d["D"], 0.14)]
    for name, (a, b) in {"bc": ("B", "C"), "cd": ("C", "D"), "ad": ("A", "D"), "ab": ("A", "B")}.items():
        rows += [(name, a, None, None), (name, b, d[b] - d[a], 0.15)]
    return pd.DataFrame(rows, columns=["study", "treatment", "log_hr", "se"])


def test_rebased_multi_arm_study_keeps_its_covariance():
    s = read_network(_four_arm()).studies[0]
    r = s.rebased(("C", "D"))
    assert r.y[0] == pytest.approx(-0.2)
    assert r.cov[0, 0] == pytest.approx(0.13**2 + 0.14**2 - 2 * 0.05**2)
    r3 = s.rebased(("B", "C", "D"))
    assert r3.cov[0, 1] == pytest.approx(0.12**2 - 0.05**2)   # Cov(C-B, D-B) = Var(B arm) = se_B^2 - se_0^2


def test_node_split_with_a_four_arm_study_on_consistent_data():
    """van Valkenhoef et al. 2016: the four-arm study is split into its A-B part (direct) and
    its C-D part; exactly consistent data give direct = indirect for every split comparison."""
    spec = spec_from_dict({"model": {"effects": "fixed"}, "priors": {"mu": {"dist": "flat"}}})
    post = fit_network(read_network(_four_arm()), spec)
    rows = node_split(post)
    assert {r["comparison"] for r in rows} >= {"B:A", "D:A", "C:B", "D:C"}
    for r in rows:
        assert r["difference"]["mean"] == pytest.approx(0.0, abs=1e-9), r["comparison"]
        assert r["p_value"] == pytest.approx(1.0, abs=1e-6)
    ba = next(r for r in rows if r["comparison"] == "B:A")
    assert ba["studies"] == ["Q", "ab"] and ba["direct"]["mean"] == pytest.approx(-0.2, abs=1e-9)
