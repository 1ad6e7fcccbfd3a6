"""GRADE draft: starts low for observational evidence, rates down per serious domain."""

from bayesnet.grade import grade_draft


def _base(**kw):
    args = {"pooled_hr": 0.45, "pooled_ci95": [0.35, 0.58], "predictive_ci95": [0.2, 1.1], "thresholds": [1.0, 0.8],
                "prob_pooled": {1.0: 0.999, 0.8: 0.99},
                "tipping_point": [{"threshold": 1.0, "probability": 0.95, "ratio": 0.55, "prob_without_bias": 0.999}],
                "adjusted": {"hr": 0.6, "ci95": [0.4, 0.9], "prob": {1.0: 0.99}},
                "indirectness": ["mixed tumour sites"]}
    args.update(kw)
    return grade_draft(**args)


def test_draft_labels_and_start():
    g = _base()
    assert g["draft"] is True and "panel" in g["note"] and g["start"] == "low"
    assert g["domains"]["publication_bias"]["sentence"] == "Publication bias: not assessed."
    # only inconsistency (predictive interval crosses 1) is serious -> very low
    assert [n for n, d in g["domains"].items() if d["concern"] == "serious"] == ["inconsistency"]
    assert g["overall"]["certainty"] == "very low"
    assert "not appropriate" in g["large_effect"]["sentence"]
    assert "the panel decides" in g["overall"]["sentence"]


def test_risk_of_bias_from_tipping_point_and_adjusted():
    g = _base(predictive_ci95=[0.3, 0.75],
              tipping_point=[{"threshold": 1.0, "probability": 0.95, "ratio": 0.85, "prob_without_bias": 0.99}])
    assert g["domains"]["risk_of_bias"]["concern"] == "serious"
    g = _base(predictive_ci95=[0.3, 0.75], adjusted={"hr": 0.8, "ci95": [0.55, 1.2], "prob": {1.0: 0.8}})
    assert g["domains"]["risk_of_bias"]["concern"] == "serious"
    g = _base(predictive_ci95=[0.3, 0.75])
    assert g["overall"]["certainty"] == "low"


def test_randomised_start_high_and_imprecision():
    g = _base(observational=False, pooled_ci95=[0.7, 1.05], predictive_ci95=[0.6, 0.95], pooled_hr=0.85)
    assert g["start"] == "high"
    assert g["domains"]["imprecision"]["concern"] == "serious"
    assert "spans the threshold(s) 1, 0.8" in g["domains"]["imprecision"]["sentence"]
    # the predictive interval 0.6-0.95 spans the threshold 0.8: inconsistency is serious too
    assert g["domains"]["inconsistency"]["concern"] == "serious"
    assert g["overall"]["certainty"] == "low"


def test_large_effect_not_rated_up_when_confounding_inflates_it():
    assert "may consider rating up" in _base(confounding_exaggerates_benefit=False)["large_effect"]["sentence"]
    assert "not large enough" in _base(pooled_hr=0.7)["large_effect"]["sentence"]


def test_probabilities_never_print_as_certainties():
    g = _base(prob_pooled={1.0: 0.99995, 0.8: 0.5})
    s = g["domains"]["imprecision"]["sentence"]
    assert "P(HR < 1) > 0.999" in s and "P(HR < 0.8) = 0.50" in s and "1.00" not in s


def test_a_tipping_point_inside_the_assumed_bias_range_is_a_serious_risk_of_bias():
    from bayesnet.grade import grade_draft

    kw = dict(pooled_hr=0.5, pooled_ci95=[0.3, 0.75], predictive_ci95=[0.3, 0.8], thresholds=[1.0],
              prob_pooled={1.0: 0.997},
              tipping_point=[{"threshold": 1.0, "probability": 0.95, "ratio": 0.71, "prob_without_bias": 0.997}])
    assert grade_draft(**kw)["domains"]["risk_of_bias"]["concern"] == "not serious"
    d = grade_draft(**kw, assumed_bias_range=(0.66, 1.06))["domains"]["risk_of_bias"]
    assert d["concern"] == "serious" and "0.66 to 1.06" in d["sentence"]
