"""Spec checking: unknown keys and values are errors that name the key and list what is allowed."""

import dataclasses
from pathlib import Path

import pytest

from bayesnet.priors import Prior, parse_prior
from bayesnet.spec import (
    DataSpec,
    McmcSpec,
    ModelSpec,
    PriorsSpec,
    ReportSpec,
    SpecError,
    read_spec,
    spec_from_dict,
)


@pytest.mark.parametrize("raw, needle", [
    ({"modle": {}}, "unknown section(s) modle; allowed: data, model, priors, report, mcmc"),
    ({"model": {"effect": "random"}}, "[model]: unknown key(s) effect; allowed:"),
    ({"model": {"effects": "mixed"}}, "[model].effects: 'mixed' is not allowed; allowed: random, fixed"),
    ({"model": {"random_dist": "cauchy"}}, "allowed: normal, student_t"),
    ({"model": {"heterogeneity": "per_design"}}, "allowed: shared, by:<column>"),
    ({"priors": {"tau": {"dist": "half_gauss", "sigma": 1}}}, "[priors].tau.dist: unknown distribution 'half_gauss'; allowed: half_normal"),
    ({"priors": {"tau": {"dist": "half_normal"}}}, "needs the key 'sigma'"),
    ({"priors": {"tau": {"dist": "half_normal", "sigma": -1}}}, "sigma: must be > 0"),
    ({"priors": {"mu": {"dist": "normal", "sigma": 1, "scale": 2}}}, "[priors].mu: unknown key(s) scale; allowed: dist, label, mu, sigma"),
    ({"report": {"thresholds": [0.8, -1]}}, "[report].thresholds"),
    ({"data": {"dataset": "nope"}}, "[data].dataset: 'nope' is not allowed; allowed:"),
    ({"model": {"covariates": ["design"], "reference": {"site": "x"}}}, "'site' is not one of the covariates"),
])
def test_spec_errors(raw, needle):
    with pytest.raises(SpecError) as exc:
        spec_from_dict(raw)
    assert needle in str(exc.value)


MODELS = Path(__file__).resolve().parents[2] / "models"


def is_multiverse_grid(path: Path) -> bool:
    """models/ holds specs and multiverse grids (a [multiverse] table; tests/multiverse)."""
    import tomllib

    return "multiverse" in tomllib.loads(path.read_text(encoding="utf-8"))
HN = {"dist": "half_normal", "sigma": 0.5}
N01 = {"dist": "normal", "mu": 0.0, "sigma": 1.0}
# shipped spec -> (dataset, select, effects, covariates, heterogeneity, mcmc draws, target_accept, bias)
SHIPPED = {
    "ptr_random_effects": ("gepnet_ptr", "primary", "random", (), "shared", 2000, 0.99, False),
    "ptr_design_regression": ("gepnet_ptr", "primary", "random", ("source_type",), "shared", 2000, 0.99, False),
    "ptr_design_heterogeneity": ("gepnet_ptr", "primary", "random", ("source_type",), "by:source_type", 2000,
                                 0.999, False),
    "ptr_bias_adjusted": ("gepnet_ptr", "primary", "random", (), "shared", 2000, 0.99, True),
    "ptr_bias_pessimistic": ("gepnet_ptr", "primary", "random", (), "shared", 2000, 0.99, True),
    "liver_resection_vs_nonsurgical": ("nlm_liver_resection", None, "random", (), "shared", 1000, 0.95, False),
    "liver_resection_case_series": ("liver_resection_arms", None, "random", (), "shared", 2000, 0.99, True),
}


def test_defaults_are_typed():
    s = spec_from_dict({})
    assert s.model == ModelSpec() and s.model.effects == "random" and s.model.covariates == ()
    assert s.thresholds == [1.0, 0.8] and s.harm == 1.25 and s.report == ReportSpec()
    assert s.data == DataSpec(dataset="gepnet_ptr", select="primary") and s.data.path is None
    assert s.priors.mu == Prior("normal", {"mu": 0.0, "sigma": 1.0}, kind="effect")
    assert s.priors.tau == Prior("half_normal", {"sigma": 0.5}, kind="scale") and s.priors.coef == {}
    assert s.mcmc == McmcSpec(chains=4, draws=1000, tune=1000, target_accept=0.95, seed=20261122)
    # an explicit dataset without a selection has none (the default selection goes with the default dataset)
    assert spec_from_dict({"data": {"dataset": "gepnet_ptr"}}).data.select is None


def test_shipped_specs_parse_into_typed_values():
    files = sorted(f for f in MODELS.glob("*.toml") if not is_multiverse_grid(f))
    assert {f.stem for f in files} == set(SHIPPED)
    for f in files:
        s = read_spec(f)
        dataset, select, effects, covs, het, draws, ta, bias = SHIPPED[f.stem]
        assert (s.data.dataset, s.data.select, s.data.path) == (dataset, select, None), f.name
        assert (s.model.effects, s.model.covariates, s.model.heterogeneity) == (effects, covs, het), f.name
        assert isinstance(s.model.random_df, float) and s.model.random_dist == "normal", f.name
        assert s.priors.mu.to_dict() == N01 and s.priors.tau.to_dict() == HN, f.name
        assert (s.mcmc.draws, s.mcmc.target_accept) == (draws, ta), f.name
        assert s.thresholds == [1.0, 0.8] and s.harm == 1.25, f.name
        assert (s.bias is not None) == bias, f.name
        assert s.name == f.stem and s.path == f.resolve()
    s = read_spec(MODELS / "ptr_design_regression.toml")
    assert dict(s.model.reference) == {"source_type": "registry"}
    assert s.priors.beta.to_dict() == {"dist": "normal", "mu": 0.0, "sigma": 0.5}
    assert [a.survival for a in read_spec(MODELS / "ptr_random_effects.toml").absolute] == [0.306, 0.442]


@pytest.mark.parametrize("section, value", [
    ("data", DataSpec()), ("model", ModelSpec()), ("priors", PriorsSpec()), ("report", ReportSpec()),
    ("mcmc", McmcSpec())])
def test_spec_and_sections_are_frozen(section, value):
    s = spec_from_dict({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(s, section, value)
    sec = getattr(s, section)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(sec, dataclasses.fields(sec)[0].name, None)


def test_replace_sweeps_priors_and_keeps_raw_in_sync():
    s = spec_from_dict({"priors": {"mu": {"dist": "normal", "mu": 0, "sigma": 2}}, "report": {"title": "T"}})
    taus = [parse_prior({"dist": "half_normal", "sigma": v}, "tau", "scale") for v in (0.25, 0.5, 1.0)]
    sweep = [dataclasses.replace(s, priors=dataclasses.replace(s.priors, tau=t)) for t in taus]
    assert [x.priors.tau.params["sigma"] for x in sweep] == [0.25, 0.5, 1.0]
    assert all(x.priors.mu == s.priors.mu and x.report == s.report for x in sweep)
    assert s.priors.tau.params["sigma"] == 0.5          # the original is untouched
    # provenance records the effective spec: the file as read plus what was changed
    assert sweep[0].raw["priors"] == {"mu": {"dist": "normal", "mu": 0, "sigma": 2},
                                      "tau": {"dist": "half_normal", "sigma": 0.25}}
    assert s.raw == {"priors": {"mu": {"dist": "normal", "mu": 0, "sigma": 2}}, "report": {"title": "T"}}
    assert s.with_priors(tau=taus[0]) == sweep[0]
    m = s.with_model(covariates=["design"], reference={"design": "cohort"})
    assert m.model.covariates == ("design",) and m.raw["model"] == {"covariates": ["design"],
                                                                    "reference": {"design": "cohort"}}
    d = dataclasses.replace(s, data=DataSpec(dataset=None, path="x.csv", select=None))
    assert d.raw["data"] == {"path": "x.csv"}
    assert spec_from_dict(sweep[0].raw).priors == sweep[0].priors   # the record reads back


# every section reports an unknown key and a wrong type in the shared style (bayesnet.validate)
@pytest.mark.parametrize("raw, needles", [
    ({"data": {"sets": 1, "select": 5}},
     ["[data]: unknown key(s) sets; allowed: dataset, exclude, family, include, keep_overlap, path, select",
      "[data].select: found 5 (int); allowed: "]),
    ({"model": {"effect": 1, "covariates": "design"}},
     ["[model]: unknown key(s) effect; allowed: covariates, effects,",
      "[model].covariates: found 'design' (str); allowed: a list of column names"]),
    ({"priors": {"tau2": 1, "coef": 3}},
     ["[priors]: unknown key(s) tau2; allowed: beta, coef, mu, omega, tau",
      "[priors].coef: found 3 (int); allowed: a table of coefficient names"]),
    ({"priors": {"tau": {"dist": "half_normal", "sigma": "big", "scale": 1}}},
     ["[priors].tau: unknown key(s) scale; allowed: dist, label, sigma",
      "[priors].tau.sigma: found 'big' (str); allowed: a finite number"]),
    ({"report": {"titel": "x", "rare_outcome": "yes"}},
     ["[report]: unknown key(s) titel; allowed: comparator, group_columns, harm_threshold, multiverse, outcome, published,",
      "[report].rare_outcome: found 'yes' (str); allowed: true or false"]),
    ({"mcmc": {"warmup": 1, "chains": 2.5}},
     ["[mcmc]: unknown key(s) warmup; allowed: chains, draws, seed, target_accept, tune",
      "[mcmc].chains: found 2.5 (float); allowed: an integer from 1 to 64"]),
    ({"model": 3}, ["[model]: found 3 (int); allowed: a table"]),
])
def test_each_section_unknown_key_and_wrong_type_in_one_pass(raw, needles):
    with pytest.raises(SpecError) as exc:
        spec_from_dict(raw)
    assert len(exc.value.problems) == len(needles), exc.value.problems
    for needle, problem in zip(needles, exc.value.problems):
        assert problem.startswith(needle), (needle, problem)


def test_selection_and_grid_use_the_shared_style(tmp_path):
    from bayesnet.errors import SelectionError
    from bayesnet.evidence.selection import load_selection
    from bayesnet.sensitivity import read_grid

    f = tmp_path / "sel.toml"
    f.write_text('nmae = "x"\ninclude = "a"\n[overlap]\nkeep = "biggest"\ncolum = "g"\n')
    with pytest.raises(SelectionError) as exc:
        load_selection(f)
    assert exc.value.problems == [
        f"{f}: unknown selection key(s) nmae; allowed: description, exclude, filter, include, name, overlap",
        f"{f}: [overlap]: unknown key(s) colum; allowed: adjusted_column, column, design_column, keep, "
        "overlaps_column, size_column, year_column",
        f"{f}: [overlap].keep: 'biggest' is not allowed; allowed: best_adjusted, largest, most_recent, all",
        f"{f}: include: found 'a' (str); allowed: a list of study ids (strings), e.g. [\"Smith 2019\"]"]
    g = tmp_path / "grid.toml"
    g.write_text('sigma = 1\nmu = 3\n[[tau]]\ndist = "half_normal"\nsigma = "x"\n')
    with pytest.raises(SpecError) as exc:
        read_grid(g)
    assert exc.value.problems == [
        f"{g}: unknown grid key(s) sigma; allowed: beta, mu, tau",
        f"{g}: [[tau]] #1.sigma: found 'x' (str); allowed: a finite number",
        f"{g}: [[mu]]: found 3 (int); allowed: a non-empty array of prior tables"]


def test_model_data_holds_the_resolved_priors():
    import pandas as pd

    from bayesnet.evidence import load_evidence
    from bayesnet.models import build_model_data

    df = pd.DataFrame({"study": list("abcdef"), "log_hr": [-0.5, -0.3, -0.7, -0.2, -0.6, -0.4],
                       "se": [0.2, 0.25, 0.3, 0.2, 0.22, 0.3],
                       "design": ["cohort", "cohort", "registry", "registry", "series", "series"]})
    ev = load_evidence(data=df)
    override = {"dist": "normal", "mu": 0.2, "sigma": 0.1}
    spec = spec_from_dict({"model": {"covariates": ["design"], "reference": {"design": "cohort"},
                                     "random_dist": "student_t", "random_df": 5},
                           "priors": {"beta": {"dist": "normal", "mu": 0, "sigma": 0.7},
                                      "tau": {"dist": "half_cauchy", "scale": 0.3},
                                      "coef": {"design:series": override}}})
    md = build_model_data(ev, spec)
    assert md.coef_names == ["mu", "design:registry", "design:series"]
    assert [p.to_dict() for p in md.coef_priors] == [N01, {"dist": "normal", "mu": 0.0, "sigma": 0.7}, override]
    assert md.tau_prior.to_dict() == {"dist": "half_cauchy", "scale": 0.3} and md.omega_prior == spec.priors.omega
    assert (md.effects, md.random_dist, md.random_df, md.random) == ("random", "student_t", 5.0, True)
    m0, sd0 = build_model_data(ev, spec_from_dict({"model": {"covariates": ["design"]},
                                                   "priors": {"coef": {"mu": override}}})).prior_moments()
    assert m0.tolist() == [0.2, 0.0, 0.0] and sd0.tolist() == [0.1, 0.5, 0.5]


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
    assert spec_from_dict({}).group_columns == ()
    s = spec_from_dict({"model": {"covariates": ["design"]}})
    assert s.report.group_columns is None and s.group_columns == ("design",)
    s = spec_from_dict({"model": {"covariates": ["design"]}, "report": {"group_columns": ["site", "design"]}})
    assert s.group_columns == ("site", "design")


def test_covariate_level_spelt_as_a_missing_value_token_is_an_error(tmp_path):
    """A covariate cell "NA" (or "", "null", NaN) is missing (evidence.table.is_blank), not
    a level of its own: the fit stops with an error naming the studies and the token."""
    from bayesnet.api import fit
    from bayesnet.evidence import load_evidence

    csv = tmp_path / "na.csv"
    csv.write_text("study,log_hr,se,design\na,-0.4,0.2,rct\nb,-0.6,0.3,NA\nc,-0.1,0.25,rct\nd,-0.3,0.2,NA\n"
                   "e,-0.2,0.3,cohort\n")
    with pytest.raises(SpecError) as exc:
        fit({"model": {"covariates": ["design"]}}, evidence=load_evidence(path=csv), engine="exact")
    msg = str(exc.value)
    assert "covariate column 'design' is empty (written 'NA', a missing-value token) for: b, d" in msg
    assert "rename it" in msg
    csv.write_text(csv.read_text().replace(",NA\n", ",North America\n"))
    post = fit({"model": {"covariates": ["design"]}}, evidence=load_evidence(path=csv), engine="exact")
    assert set(post.model_data.covariates["design"]) == {"rct", "North America", "cohort"}
