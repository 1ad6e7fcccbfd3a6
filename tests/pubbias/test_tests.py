import pytest

from bayesnet.errors import ModelError
from bayesnet.pubbias.tests import UndefinedTest, debray_test, egger_test

from ..conftest import TOL
from .conftest import DATASETS, load


@pytest.mark.parametrize("name", DATASETS)
def test_egger_matches_metafor_regtest(name, metafor_ref):
    d, ref = load(name), metafor_ref[name]["egger"]
    e = egger_test(d.log_hr, d.se)
    assert e["z"] == pytest.approx(ref["z"], abs=TOL["metafor_fit"])
    assert e["p"] == pytest.approx(ref["p"], abs=TOL["metafor_fit"])
    assert e["limit_log_hr"] == pytest.approx(ref["limit"], abs=TOL["metafor_fit"])
    assert e["limit_ci"] == pytest.approx(ref["limit_ci"], abs=TOL["metafor_fit"])
    assert e["k"] == len(d)


@pytest.mark.parametrize("name", DATASETS)
def test_egger_small_sample_matches_metafor_regtest_lm(name, metafor_ref):
    """Egger's classic t test (k - 2 df), the version shown with few studies."""
    d, ref = load(name), metafor_ref[name]["egger_lm"]
    e = egger_test(d.log_hr, d.se)["small_sample"]
    assert e["t"] == pytest.approx(ref["t"], abs=TOL["metafor_fit"])
    assert e["p"] == pytest.approx(ref["p"], abs=TOL["metafor_fit"])
    assert e["limit_log_hr"] == pytest.approx(ref["limit"], abs=TOL["metafor_fit"])
    assert e["df"] == ref["df"] == len(d) - 2


def test_egger_small_sample_is_the_regression_of_y_over_se_on_precision():
    """Egger et al. 1997 literally: OLS of y/se on 1/se, the t test of the intercept."""
    from scipy import stats

    d = load("unbiased_k8")
    y, s = d.log_hr.to_numpy(), d.se.to_numpy()
    lr = stats.linregress(1 / s, y / s)
    t = lr.intercept / lr.intercept_stderr
    e = egger_test(y, s)["small_sample"]
    assert e["t"] == pytest.approx(t, abs=1e-9)
    assert e["p"] == pytest.approx(2 * stats.t.sf(abs(t), len(y) - 2), abs=1e-9)


def test_egger_and_debray_undefined_with_identical_standard_errors_or_events():
    with pytest.raises(UndefinedTest, match="same standard error"):
        egger_test([-0.3, -0.3, -0.3, -0.3], [0.2, 0.2, 0.2, 0.2])
    with pytest.raises(UndefinedTest, match="same number of events"):
        debray_test([-0.3, -0.1, -0.2], [0.2, 0.3, 0.25], events_total=[50, 50, 50])


@pytest.mark.parametrize("name", DATASETS)
def test_debray_matches_metafor_lm_ninv(name, metafor_ref):
    d, ref = load(name), metafor_ref[name]
    ev = d.events_treated + d.events_control
    fiv = debray_test(d.log_hr, d.se, events_total=ev)
    fav = debray_test(d.log_hr, d.se, events_treated=d.events_treated, events_control=d.events_control)
    assert fiv["variant"] == "D-FIV" and fav["variant"] == "D-FAV"
    for got, key in ((fiv, "debray_fiv"), (fav, "debray_fav")):
        assert got["t"] == pytest.approx(ref[key]["t"], abs=TOL["metafor_fit"])
        assert got["p"] == pytest.approx(ref[key]["p"], abs=TOL["metafor_fit"])
        assert got["df"] == ref[key]["df"]


def test_power_sentence_depends_on_k():
    d = load("unbiased_k8")
    assert "cannot rule publication bias in or out" in egger_test(d.log_hr, d.se)["power"]
    d = load("biased_k14")
    assert "cannot rule" not in egger_test(d.log_hr, d.se)["power"]
    assert "14 studies" in egger_test(d.log_hr, d.se)["power"]


def test_bad_input_is_a_clear_error():
    with pytest.raises(ModelError, match="at least 3"):
        egger_test([0.1, 0.2], [0.1, 0.1])
    with pytest.raises(ModelError, match="standard error > 0"):
        egger_test([0.1, 0.2, 0.3], [0.1, 0.0, 0.1])
    with pytest.raises(ModelError, match="needs the number of events"):
        debray_test([0.1, 0.2, 0.3], [0.1, 0.2, 0.1])
    with pytest.raises(ModelError, match="> 0"):
        debray_test([0.1, 0.2, 0.3], [0.1, 0.2, 0.1], events_total=[10, 0, 5])
