"""Study rows show what the studies REPORTED (issue 15 item 2): the studies table, the
forest plot's grey squares and summary.json `studies` are the evidence as reported (after
the documented conversions), never y - bias with a widened SE; the estimate after the
assumed study-specific bias is a separate, labelled field."""

import math
from pathlib import Path

import pytest

from bayesnet.api import fit, load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_bias_adjusted.toml"
# Schreckenbach 2018 (Eur J Surg Oncol; PMID 30611565): "no resection of the primary" as a
# risk factor, HR 10.464 (95% CI 1.873-58.448); resection vs none is its inverse.
SCHRECKENBACH = (1 / 10.464, 1 / 58.448, 1 / 1.873)


@pytest.fixture(scope="module")
def post():
    return fit(load_spec(SPEC), engine="exact")


def test_studies_table_is_as_reported(post):
    st = post.studies_table().set_index("study")
    r = st.loc["Schreckenbach2018 [OS] #1"]
    for got, want in zip((r["hr"], r["hr_low"], r["hr_high"]), SCHRECKENBACH):
        assert math.isclose(got, want, rel_tol=1e-3)
    # the single-centre bias term (mu = -0.10, sigma = 0.20) is shown separately
    assert math.isclose(r["bias_adjusted_log_hr"], math.log(SCHRECKENBACH[0]) + 0.10, abs_tol=1e-3)
    assert math.isclose(r["bias_adjusted_se"], math.sqrt(r["se"] ** 2 + 0.20 ** 2), rel_tol=1e-9)
    # a study without a study-specific bias term: reported and adjusted agree
    m = st.loc["Xiang2018"]
    assert math.isclose(m["hr"], 0.7, rel_tol=0.01) and math.isclose(m["bias_adjusted_hr"], m["hr"], rel_tol=1e-12)


def test_summary_studies_and_report_cell(post):
    from bayesnet.report.text import _reported_hr_ci

    rows = {r["study"]: r for r in post.summary(observational=False)["studies"]}
    r = rows["Schreckenbach2018 [OS] #1"]
    assert math.isclose(r["hr"], SCHRECKENBACH[0], rel_tol=1e-3)
    assert _reported_hr_ci(r) == "0.096 (0.017-0.534)"
    assert _reported_hr_ci(rows["Xiang2018"]) == "0.70 (0.40-1.21)"


def test_forest_squares_are_as_reported(post):
    import matplotlib

    matplotlib.use("Agg")
    from bayesnet.plots import forest

    fig = forest(post)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "0.096 (0.017-0.534)" in texts
    lg = fig.axes[0].get_legend() or (fig.legends[0] if fig.legends else None)  # a figure legend below the plot
    legend = [t.get_text() for t in lg.get_texts()]
    assert any(t.startswith("reported") for t in legend) and any("under the assumed bias" in t for t in legend)
    sq = [ln for ln in fig.axes[0].lines if ln.get_marker() == "s"]
    xs = sorted(float(ln.get_xdata()[0]) for ln in sq)
    assert math.isclose(xs[0], SCHRECKENBACH[0], rel_tol=1e-3)


def test_figures_name_the_spec_treatment(post):
    import matplotlib

    matplotlib.use("Agg")
    from bayesnet.absolute import benefit_curve, plot_benefit_curve
    from bayesnet.plots import forest

    assert "favours primary tumour resection" in forest(post).axes[0].get_xlabel()
    ax = plot_benefit_curve(benefit_curve(post), thresholds=[1.0], treatment="primary tumour resection")
    fig = ax.figure if hasattr(ax, "figure") else ax
    assert "with primary tumour resection" in fig.axes[0].get_xlabel()


def test_mcmc_style_bias_terms_give_the_adjusted_column(post):
    """The MCMC engine keeps the reported y and carries the [bias.by] terms beside it
    (ModelData.bias_mean/bias_var): the rows are as reported there too, and the adjusted
    field is y - m, sqrt(s^2 + v)."""
    import dataclasses

    import numpy as np

    from bayesnet.summaries import _as_reported_effects, _study_bias_effects

    y, s = _as_reported_effects(post)
    m = np.array([0.0, 0.0, 0.0, -0.1, -0.1])
    v = np.array([0.0, 0.0, 0.0, 0.04, 0.04])
    fake = dataclasses.replace(post, model_data=dataclasses.replace(post.model_data, y=y, s=s, bias_mean=m, bias_var=v))
    y2, s2 = _as_reported_effects(fake)
    assert np.array_equal(y2, y) and np.array_equal(s2, s)
    ya, sa = _study_bias_effects(fake, y, s)
    assert np.allclose(ya, y - m) and np.allclose(sa, np.sqrt(s**2 + v))
    # and they agree with the exact engine's shifted model data
    assert np.allclose(ya, post.model_data.y) and np.allclose(sa, post.model_data.s)
    # no bias terms: no adjusted field
    plain = dataclasses.replace(post, model_data=dataclasses.replace(post.model_data, y=y, s=s))
    assert _study_bias_effects(plain, y, s) == (None, None)
