"""BCG vaccine trials (Colditz et al. 1994, JAMA 271:698-702), metafor's dat.bcg: REML, DL, EE,
the absolute-latitude meta-regression and the prediction interval
(Viechtbauer 2010, J Stat Softw 36(3)); reference: tests/reference/published.json["dat.bcg"].
The reference yi/vi are rounded to 4 decimals; EE and Q (dominated by the most precise
trials) are compared at the precision that rounding allows."""

import numpy as np
import pytest

from bayesnet.engines.frequentist import rma

from ..conftest import TOL


@pytest.fixture(scope="module")
def bcg(published):
    return published["dat.bcg"]


def test_reml(bcg):
    f, r = rma(bcg["yi"], bcg["vi"], method="REML"), bcg["REML"]
    assert f["tau2"] == pytest.approx(r["tau2"], abs=TOL["metafor_4dp"])
    assert f["tau2_se"] == pytest.approx(r["tau2_se"], abs=TOL["metafor_4dp"])
    assert f["mu"] == pytest.approx(r["mu"], abs=TOL["metafor_4dp"])
    assert f["se"] == pytest.approx(r["se"], abs=TOL["metafor_4dp"])
    assert f["ci"] == pytest.approx(r["ci"], abs=TOL["metafor_4dp"])
    assert f["pi"] == pytest.approx(r["pi"], abs=TOL["metafor_2dp"])
    assert f["I2"] == pytest.approx(r["I2"], abs=TOL["bcg_i2"])
    assert f["H2"] == pytest.approx(r["H2"], abs=TOL["bcg_i2"])
    assert f["QE"] == pytest.approx(r["Q"], abs=TOL["bcg_q"])


def test_dl(bcg):
    f, r = rma(bcg["yi"], bcg["vi"], method="DL"), bcg["DL"]
    assert f["mu"] == pytest.approx(r["mu"], abs=TOL["metafor_4dp"])
    assert f["ci"] == pytest.approx(r["ci"], abs=TOL["metafor_rounded_input"])
    assert f["tau2"] == pytest.approx(r["tau2"], abs=TOL["bcg_dl_tau2"])
    assert f["I2"] == pytest.approx(r["I2"], abs=TOL["bcg_i2"])


def test_equal_effects(bcg):
    f = rma(bcg["yi"], bcg["vi"], method="EE")
    assert f["mu"] == pytest.approx(bcg["EE"]["mu"], abs=TOL["bcg_ee"])
    assert f["ci"] == pytest.approx(bcg["EE"]["ci"], abs=TOL["bcg_ee"])


def test_meta_regression_ablat(bcg):
    X = np.column_stack([np.ones(len(bcg["yi"])), bcg["ablat"]])
    f, r = rma(bcg["yi"], bcg["vi"], X, "REML", ["intrcpt", "ablat"]), bcg["REML_ablat"]
    c = f["coefficients"]
    assert c["intrcpt"]["estimate"] == pytest.approx(r["intercept"], abs=TOL["metafor_4dp"])
    assert c["intrcpt"]["se"] == pytest.approx(r["intercept_se"], abs=TOL["metafor_4dp"])
    assert c["ablat"]["estimate"] == pytest.approx(r["ablat"], abs=TOL["metafor_4dp"])
    assert c["ablat"]["se"] == pytest.approx(r["ablat_se"], abs=TOL["metafor_4dp"])
    assert f["tau2"] == pytest.approx(r["tau2"], abs=TOL["metafor_4dp"])
    assert f["I2"] == pytest.approx(r["I2"], abs=TOL["bcg_i2"])
    assert f["QM"] == pytest.approx(r["QM"], abs=TOL["bcg_qm"])
    assert f["QE"] == pytest.approx(r["QE"], abs=TOL["bcg_qe"])
