"""Improper posteriors are refused before fitting (closed-form check), proper ones accepted."""

import pandas as pd
import pytest

from bayesnet.errors import ModelError
from bayesnet.evidence import load_evidence
from bayesnet.models import build_model_data
from bayesnet.spec import spec_from_dict

FLAT = {"dist": "flat"}


def _ev(k, design=None):
    d = {"study": [f"s{i}" for i in range(k)], "log_hr": [-0.5 + 0.1 * i for i in range(k)],
         "se": [0.2 + 0.02 * i for i in range(k)]}
    if design is not None:
        d["design"] = design
    return load_evidence(data=pd.DataFrame(d))


@pytest.mark.parametrize("k, mu, ok", [
    (2, FLAT, False),  # k - p = 1
    (3, FLAT, True),   # k - p = 2
    (1, {"dist": "normal", "mu": 0, "sigma": 1}, False),
    (2, {"dist": "normal", "mu": 0, "sigma": 1}, True),
])
def test_flat_tau(k, mu, ok):
    spec = spec_from_dict({"priors": {"tau": FLAT, "mu": mu}})
    if ok:
        build_model_data(_ev(k), spec)
    else:
        with pytest.raises(ModelError, match=r"\[priors\]\.tau.*proper tau prior"):
            build_model_data(_ev(k), spec)


def test_proper_tau_prior_always_works():
    build_model_data(_ev(1), spec_from_dict({"priors": {"mu": FLAT}}))


def test_flat_coefficients_count():
    design = ["a", "a", "b", "b"]
    spec = spec_from_dict({"model": {"covariates": ["design"]}, "priors": {"tau": FLAT, "mu": FLAT, "beta": FLAT}})
    build_model_data(_ev(4, design), spec)  # k - p = 4 - 2 = 2: proper
    with pytest.raises(ModelError, match="mu, design:b"):
        build_model_data(_ev(3, ["a", "a", "b"]), spec)  # k - p = 1: improper
