"""Reproduction of RoBMA 3.6.1 (JAGS + bridge sampling; tests/reference/pubbias/
make_robma_reference.R) with the same priors, stated through [publication_bias]."""

import json
import math
import re

import pytest

from bayesnet.pubbias.averaging import fit_ensemble

from ..conftest import TOL
from .conftest import DATASETS, REF, load

ROBMA_SETTING = {"effect": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
                 "heterogeneity": {"dist": "inv_gamma", "alpha": 1.0, "beta": 0.15}}
def robma_key(row):
    b = row["bias"]
    if b == "":
        bias = "none"
    elif b.startswith("PET "):
        bias = "pet"
    elif b.startswith("PEESE"):
        bias = "peese"
    else:
        side, steps = re.match(r"omega\[(one|two)-sided: ([^\]]+)\]", b).groups()
        bias = f"{side}-sided({', '.join(f'{float(v):g}' for v in sorted(float(x) for x in steps.split(',')))})"
    return (not row["effect"].startswith("Spike"), not row["heterogeneity"].startswith("Spike"), bias)


def our_key(m):
    return (m["effect"], m["heterogeneity"], m["weightfunction"] or m["bias"])


@pytest.fixture(scope="module", params=DATASETS)  # a missing robma_NAME.json fails
def pair(request):
    name = request.param
    ref = json.loads((REF / f"robma_{name}.json").read_text())
    d = load(name)
    return ref, fit_ensemble(d.log_hr, d.se, ROBMA_SETTING, thresholds=(1.0,))


def test_log_marginal_likelihoods_match_robma(pair):
    ref, ours = pair
    theirs = {robma_key(r): r for r in ref["models"]}
    mine = {our_key(m): m for m in ours["models"]}
    assert set(theirs) == set(mine)
    for key, m in mine.items():
        assert m["prior_prob"] == pytest.approx(theirs[key]["prior_prob"], rel=TOL["robma_prior_prob"])
        # RoBMA's bridge-sampling error is of the order of 0.01 on the log scale
        assert m["log_ml"] == pytest.approx(theirs[key]["log_ml"], abs=TOL["robma_log_ml"] + TOL["mcse_multiple"] * m["log_ml_mc_se"]), key


def test_posterior_probabilities_inclusion_bf_and_mu_match_robma(pair):
    ref, ours = pair
    comp = {c["_row"]: c for c in ref["components"]}
    for ours_name, theirs_name in (("effect", "Effect"), ("heterogeneity", "Heterogeneity"), ("bias", "Bias")):
        assert ours["inclusion_prob"][ours_name] == pytest.approx(comp[theirs_name]["post_prob"], abs=TOL["robma_post_prob"])
        assert math.log(ours["inclusion_bf"][ours_name]) == pytest.approx(math.log(comp[theirs_name]["inclusion_BF"]), abs=TOL["robma_log_bf"])
    mu = {e["_row"]: e for e in ref["estimates"]}["mu"]
    assert ours["pooled"]["log_hr"]["mean"] == pytest.approx(mu["Mean"], abs=TOL["robma_mu"])
    assert ours["pooled"]["log_hr"]["ci"] == pytest.approx([mu["0.025"], mu["0.975"]], abs=TOL["robma_mu"])
