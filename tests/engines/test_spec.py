"""Spec checking: unknown keys and values are errors that name the key and list what is allowed."""

import pytest

from bayesnet.spec import SpecError, read_spec, spec_from_dict


@pytest.mark.parametrize("raw, needle", [
    ({"modle": {}}, "unknown section(s) modle; allowed: data, model, priors, report, mcmc"),
    ({"model": {"effect": "random"}}, "[model]: unknown key(s) effect; allowed:"),
    ({"model": {"effects": "mixed"}}, "[model].effects: 'mixed' is not allowed; allowed: random, fixed"),
    ({"model": {"random_dist": "cauchy"}}, "allowed: normal, student_t"),
    ({"model": {"heterogeneity": "per_design"}}, "allowed: shared, by:<column>"),
    ({"priors": {"tau": {"dist": "half_gauss", "sigma": 1}}}, "[priors].tau.dist: unknown distribution 'half_gauss'; allowed: half_normal"),
    ({"priors": {"tau": {"dist": "half_normal"}}}, "needs the key 'sigma'"),
    ({"priors": {"tau": {"dist": "half_normal", "sigma": -1}}}, "sigma: must be > 0"),
    ({"priors": {"mu": {"dist": "normal", "sigma": 1, "scale": 2}}}, "unknown key(s) ['scale']"),
    ({"report": {"thresholds": [0.8, -1]}}, "[report].thresholds"),
    ({"data": {"dataset": "nope"}}, "[data].dataset: 'nope' is not allowed; allowed:"),
    ({"model": {"covariates": ["design"], "reference": {"site": "x"}}}, "'site' is not one of the covariates"),
])
def test_spec_errors(raw, needle):
    with pytest.raises(SpecError) as exc:
        spec_from_dict(raw)
    assert needle in str(exc.value)


def test_defaults_and_shipped_specs_parse():
    from pathlib import Path

    s = spec_from_dict({})
    assert s.model["effects"] == "random" and s.thresholds == [1.0, 0.8] and s.harm == 1.25
    for f in sorted((Path(__file__).resolve().parents[2] / "models").glob("*.toml")):
        read_spec(f)


def test_bad_toml_is_reported(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text("[model\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        read_spec(f)
