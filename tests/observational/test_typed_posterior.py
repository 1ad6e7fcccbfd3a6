"""The typed Posterior (issue 15, "One Posterior, typed"): the analysis as reported, the
frequentist comparator, the draws and the provenance are fields, not extras keys; the old
extras keys still read them (deprecated)."""

import tomllib
import warnings
from pathlib import Path

import pytest

import bayesnet
from bayesnet.posterior import Posterior

SPEC = Path(__file__).resolve().parents[2] / "models" / "ptr_bias_adjusted.toml"


@pytest.fixture(scope="module")
def posts():
    raw = tomllib.loads(SPEC.read_text())
    raw.pop("mcmc")
    adj = bayesnet.fit(raw, engine="exact")
    raw.pop("bias")
    plain = bayesnet.fit(raw, engine="exact")
    return adj, plain


def test_as_reported_is_the_same_model_without_bias(posts):
    adj, plain = posts
    assert isinstance(adj.as_reported, Posterior) and plain.as_reported is None
    assert adj.as_reported.spec.bias is None
    assert adj.as_reported["pooled"].mean() == pytest.approx(plain["pooled"].mean(), abs=1e-12)
    assert adj.reported is adj.as_reported and plain.reported is plain
    # the studies as reported are never the shifted data the bias fit used
    assert list(adj.as_reported.model_data.y) == list(plain.model_data.y)


def test_typed_fields(posts):
    adj, plain = posts
    assert adj.frequentist is not None and adj.frequentist == plain.frequentist
    assert adj.draws is None and adj.input_sha256 == plain.input_sha256 and len(adj.input_sha256) == 64
    assert adj.summary()["provenance"]["input_file_sha256"] == adj.input_sha256


def test_extras_keys_are_deprecated_aliases(posts):
    adj, plain = posts
    with pytest.warns(DeprecationWarning, match="as_reported"):
        assert adj.extras["unadjusted"] is adj.as_reported
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert adj.extras["frequentist"] is adj.frequentist
        assert "unadjusted" in adj.extras and "unadjusted" not in plain.extras
        assert plain.extras.get("frequentist") is plain.frequentist and "idata" not in plain.extras
    with pytest.raises(KeyError):
        plain.extras["idata"]


def test_summary_keeps_the_unadjusted_block(posts):
    adj, plain = posts
    s = adj.summary()
    assert s["unadjusted"]["pooled"]["hr"]["median"] == pytest.approx(
        plain.summary(observational=False)["pooled"]["hr"]["median"], abs=1e-12)
    assert "unadjusted" not in plain.summary()


def test_a_posterior_survives_pickling_and_deepcopy(posts):
    import copy
    import pickle

    adj, _ = posts
    for c in (pickle.loads(pickle.dumps(adj)), copy.deepcopy(adj)):
        assert c.as_reported["pooled"].mean() == adj.as_reported["pooled"].mean()
        assert c.extras["frequentist"] == adj.frequentist and c.extras._owner is c
        assert c.extras["tau_components"].tolist() == adj.extras["tau_components"].tolist()
