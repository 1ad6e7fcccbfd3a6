"""BCG vaccine trials (Colditz et al. 1994, JAMA 271:698-702), metafor's dat.bcg: REML, DL, EE,
the absolute-latitude meta-regression and the prediction interval
(Viechtbauer 2010, J Stat Softw 36(3)); reference: ../shared/reference/published.json["dat.bcg"].
The reference yi/vi are rounded to 4 decimals; EE and Q (dominated by the most precise
trials) are compared at the precision that rounding allows."""

import pytest

from bayesnet.engines.frequentist import rma


@pytest.fixture(scope="module")
def bcg(published):
    return published["dat.bcg"]


def test_reml(bcg):
    f, r = rma(bcg["yi"], bcg["vi"], method="REML"), bcg["REML"]
    assert f["tau2"] == pytest.approx(r["tau2"], abs=1e-4)
    assert f["tau2_se"] == pytest.approx(r["tau2_se"], abs=1e-4)
    assert f["mu"] == pytest.approx(r["mu"], abs=1e-4)
    assert f["se"] == pytest.approx(r["se"], abs=1e-4)
    assert f["ci"] == pytest.approx(r["ci"], abs=1e-4)
    assert f["pi"] == pytest.approx(r["pi"], abs=5e-3)
    assert f["I2"] == pytest.approx(r["I2"], abs=0.05)
    assert f["H2"] == pytest.approx(r["H2"], abs=0.05)
    assert f["QE"] == pytest.approx(r["Q"], abs=0.5)


def test_dl(bcg):
    f, r = rma(bcg["yi"], bcg["vi"], method="DL"), bcg["DL"]
    assert f["mu"] == pytest.approx(r["mu"], abs=1e-4)
    assert f["ci"] == pytest.approx(r["ci"], abs=3e-4)
    assert f["tau2"] == pytest.approx(r["tau2"], abs=5e-4)
    assert f["I2"] == pytest.approx(r["I2"], abs=0.05)


def test_equal_effects(bcg):
    f = rma(bcg["yi"], bcg["vi"], method="EE")
    assert f["mu"] == pytest.approx(bcg["EE"]["mu"], abs=3e-3)
    assert f["ci"] == pytest.approx(bcg["EE"]["ci"], abs=3e-3)


def test_meta_regression_ablat(bcg):
    import numpy as np

    X = np.column_stack([np.ones(len(bcg["yi"])), bcg["ablat"]])
    f, r = rma(bcg["yi"], bcg["vi"], X, "REML", ["intrcpt", "ablat"]), bcg["REML_ablat"]
    c = f["coefficients"]
    assert c["intrcpt"]["estimate"] == pytest.approx(r["intercept"], abs=1e-4)
    assert c["intrcpt"]["se"] == pytest.approx(r["intercept_se"], abs=1e-4)
    assert c["ablat"]["estimate"] == pytest.approx(r["ablat"], abs=1e-4)
    assert c["ablat"]["se"] == pytest.approx(r["ablat_se"], abs=1e-4)
    assert f["tau2"] == pytest.approx(r["tau2"], abs=1e-4)
    assert f["I2"] == pytest.approx(r["I2"], abs=0.05)
    assert f["QM"] == pytest.approx(r["QM"], abs=0.01)
    assert f["QE"] == pytest.approx(r["QE"], abs=0.05)
