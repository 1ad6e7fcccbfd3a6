import json

import numpy as np
import pytest

from bayesnet.pubbias.funnel import funnel_data
from bayesnet.pubbias.summary import publication_bias_summary

from ..conftest import TOL
from .conftest import load


def test_summary_block_has_the_issue_schema_and_is_json():
    d = load("unbiased_k8")
    out = publication_bias_summary(d.log_hr, d.se, {"ensemble": "pp"}, thresholds=(1.0, 0.8),
                                   studies=d.study, events_treated=d.events_treated, events_control=d.events_control)
    json.dumps(out)  # serialisable as is
    assert out["k"] == 8 and out["caveat"].startswith("With 8 studies, publication bias cannot be assessed reliably")
    assert {"z", "p"} <= set(out["egger"]) and out["debray"]["variant"] == "D-FAV"
    avg = out["averaging"]
    for key in ("models", "inclusion_prob", "inclusion_bf", "pooled", "prob"):
        assert key in avg
    assert set(avg["inclusion_bf"]) == {"effect", "heterogeneity", "bias"}
    assert set(avg["pooled"]) == {"log_hr", "hr"} and set(avg["prob"]) == {"1", "0.8"}
    assert len(avg["models"]) == 12  # 2 x 2 x (none, PET, PEESE)
    assert out["selection"]["post_prob"] == 0.0 and out["selection"]["weightfunctions"] == []
    assert out["pet_peese"]["reliable"] is False


def test_debray_uses_totals_when_arms_are_missing():
    d = load("biased_k14")
    tot = np.array(d.events_treated + d.events_control, dtype=float)
    tot[:2] = np.nan
    et = np.array(d.events_treated, dtype=float)
    et[0] = np.nan
    out = publication_bias_summary(d.log_hr, d.se, {"ensemble": "pp"}, events_treated=et,
                                   events_control=d.events_control, events_total=tot)
    assert out["debray"]["k"] == 13 and out["debray"]["variant"] == "D-FAV"
    assert out["debray"]["studies_without_events"] == 1
    assert "caveat" not in out


def test_funnel_contours_and_outliers():
    y, s = np.array([-0.1, -1.0, 0.05]), np.array([0.1, 0.2, 0.3])
    f = funnel_data(y, s, -0.1, studies=["a", "b", "c"])
    z05 = f["contours"]["0.05"]["z"]
    assert z05 == pytest.approx(1.959964, abs=TOL["hand_6dp"])
    assert f["contours"]["0.05"]["upper"][-1] == pytest.approx(z05 * f["se_grid"][-1])
    assert [p["outlier"] for p in f["points"]] == [False, True, False]
