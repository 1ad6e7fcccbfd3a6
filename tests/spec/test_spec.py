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


@pytest.mark.parametrize("raw, needle", [
    ({"data": {"path": 5}}, "[data].path: found 5"),
    ({"data": {"path": "."}}, "is not a regular file"),
    ({"data": {"select": 5}}, "[data].select: found 5"),
    ({"report": {"title": 42}}, "[report].title: found 42"),
    ({"mcmc": {"target_accept": [0.9]}}, "[mcmc].target_accept: found [0.9]"),
    ({"mcmc": {"target_accept": "high"}}, "[mcmc].target_accept: found 'high'"),
    ({"mcmc": {"seed": -1}}, "[mcmc].seed: found -1"),
    ({"report": {"group_columns": "design"}}, "[report].group_columns: found 'design'"),
    ({"report": {"group_columns": ["design", "design"]}}, "[report].group_columns: found"),
])
def test_bad_types_name_the_key(raw, needle):
    with pytest.raises(SpecError) as exc:
        spec_from_dict(raw)
    assert needle in str(exc.value), str(exc.value)


def test_four_errors_reported_in_one_pass(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[data]\nselect = 5\n[report]\ntitle = 42\n[mcmc]\ntarget_accept = "high"\nseed = -3\n')
    with pytest.raises(SpecError) as exc:
        read_spec(f)
    assert len(exc.value.problems) == 4
    for key in ("[data].select", "[report].title", "[mcmc].target_accept", "[mcmc].seed"):
        assert key in str(exc.value)
    assert all(str(f.resolve()) in p for p in exc.value.problems)


def test_coef_prior_naming_no_coefficient_is_refused():
    import pandas as pd

    from bayesnet.evidence import load_evidence
    from bayesnet.models import build_model_data

    df = pd.DataFrame({"study": list("abcdef"), "log_hr": [-0.5, -0.3, -0.7, -0.2, -0.6, -0.4],
                       "se": [0.2, 0.25, 0.3, 0.2, 0.22, 0.3],
                       "design": ["cohort", "cohort", "cohort", "registry", "registry", "registry"]})
    ev = load_evidence(data=df)
    spec = spec_from_dict({"model": {"covariates": ["design"]},
                           "priors": {"coef": {"design:registy": {"dist": "normal", "mu": 0, "sigma": 0.1}}}})
    with pytest.raises(SpecError) as exc:
        build_model_data(ev, spec)
    msg = str(exc.value)
    assert '"design:registy"' in msg and "mu, design:registry" in msg


def test_public_load_evidence_takes_select_and_deprecates_select_():
    import bayesnet

    ev = bayesnet.load_evidence(dataset="gepnet_ptr", select="primary")
    with pytest.warns(DeprecationWarning, match="select_"):
        ev2 = bayesnet.load_evidence(dataset="gepnet_ptr", select_="primary")
    assert list(ev.table["study"]) == list(ev2.table["study"])


def test_group_columns_default_to_the_covariates():
    assert spec_from_dict({}).report["group_columns"] == []
    s = spec_from_dict({"model": {"covariates": ["design"]}})
    assert s.report["group_columns"] == ["design"]
    s = spec_from_dict({"model": {"covariates": ["design"]}, "report": {"group_columns": ["site", "design"]}})
    assert s.report["group_columns"] == ["site", "design"]
