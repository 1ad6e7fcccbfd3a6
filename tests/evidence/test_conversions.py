"""Every conversion against hand-computed values (Tierney et al. 2007, Trials 8:16)."""

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bayesnet.evidence import conversions as cv
from bayesnet.evidence import derive

from ..conftest import TOL

REF = Path(__file__).resolve().parents[1] / "reference" / "hr_ci_conversions.csv"  # sources: tests/reference/README.md


def test_hr_ci_hand_computed():
    e = cv.from_hr_ci(0.41, 0.25, 0.66)
    assert e.log_hr == pytest.approx(math.log(0.41))
    assert e.se == pytest.approx((math.log(0.66) - math.log(0.25)) / (2 * 1.959963984540054))
    assert e.derivation == "hr_ci"


def test_hr_ci_other_level():
    e = cv.from_hr_ci(0.5, 0.3, 0.8, level=0.90)
    assert e.se == pytest.approx((math.log(0.8) - math.log(0.3)) / (2 * 1.6448536269514722))


def test_ci_only_imputes_log_midpoint():
    e = cv.from_ci_only(0.22, 0.47)
    assert e.log_hr == pytest.approx((math.log(0.22) + math.log(0.47)) / 2)
    assert math.exp(e.log_hr) == pytest.approx(0.3216, abs=TOL["hand_4dp"])
    assert e.derivation == "imputed_point_estimate"


def test_se_from_exact_p():
    # HR 0.38, p = 0.002: z = Phi^-1(0.999) = 3.090232; se = 0.967584 / 3.090232 = 0.313111
    e = cv.from_hr_p(0.38, 0.002)
    assert e.se == pytest.approx(0.313111, abs=TOL["hand_6dp"])
    assert e.derivation == "se_from_p"


def test_se_from_p_bound_is_conservative():
    e = cv.from_hr_p(0.5, 0.001, bound=True)
    assert e.se == pytest.approx(math.log(2) / 3.2905267314918945, abs=TOL["roundtrip"])
    assert e.derivation == "se_from_p_bound"


def test_se_from_p_rejects_uninformative():
    with pytest.raises(ValueError):
        cv.from_hr_p(1.0, 0.5)
    with pytest.raises(ValueError):
        cv.from_hr_p(0.8, 1.0)


def test_logrank_peto():
    e = cv.from_logrank(-8.0, 20.0)
    assert (e.log_hr, e.se) == (pytest.approx(-0.4), pytest.approx(1 / math.sqrt(20)))


def test_survival_proportions():
    # 5-year OS 74% vs 30%, n = 339 vs 414 (Mayo 2011): ln(-ln .74) - ln(-ln .30)
    e = cv.from_survival_proportions(0.74, 0.30, 339, 414)
    assert e.log_hr == pytest.approx(math.log(-math.log(0.74)) - math.log(-math.log(0.30)))
    assert e.log_hr == pytest.approx(-1.3859, abs=TOL["hand_4dp"])  # ln(0.30111) - ln(1.20397)
    # delta method per arm: (1 - S) / (n S (ln S)^2)
    v_t = 0.26 / (339 * 0.74 * math.log(0.74) ** 2)
    v_c = 0.70 / (414 * 0.30 * math.log(0.30) ** 2)
    assert e.se == pytest.approx(math.sqrt(v_t + v_c))
    assert e.se == pytest.approx(0.123773, abs=TOL["hand_6dp"])


def test_medians_exponential():
    e = cv.from_medians(134.0, 67.0, 40, 60)
    assert e.log_hr == pytest.approx(math.log(0.5))
    # KM median under exponential survival: 1 / ((ln 2)^2 2 d) per arm, d = deaths by the median
    ln2sq = math.log(2) ** 2
    assert e.se == pytest.approx(math.sqrt(1 / (ln2sq * 80) + 1 / (ln2sq * 120)))
    # with the arm sizes, only the deaths up to the median count: d = min(events, n / 2)
    e = cv.from_medians(134.0, 67.0, 90, 100, n_treated=100, n_control=120)
    assert e.se == pytest.approx(math.sqrt(1 / (ln2sq * 100) + 1 / (ln2sq * 120)))
    assert e.se == pytest.approx(0.195342, abs=TOL["hand_6dp"])


def test_invert():
    e = cv.invert(cv.from_hr_ci(2.514, 2.081, 3.037))
    assert math.exp(e.log_hr) == pytest.approx(1 / 2.514)
    assert e.derivation == "hr_ci+inverted"


def test_reproduces_r_conversions_to_6_decimals():
    """tests/reference/hr_ci_conversions.csv: log_hr and se computed in R from each HR and 95% CI
    of the shipped gepnet_ptr_studies.csv (as reported, before inversion)."""
    ref = pd.read_csv(REF)
    assert len(ref) == 19
    for _, r in ref.iterrows():
        e = cv.from_hr_ci(r.hr, r.ci_low, r.ci_high)
        assert round(e.log_hr, 6) == pytest.approx(r.log_hr, abs=TOL["r_6dp"]), r.study_id
        assert round(e.se, 6) == pytest.approx(r.se, abs=TOL["r_6dp"]), r.study_id


def test_derive_matches_r_conversions_through_the_table():
    ref = pd.read_csv(REF)
    df = pd.DataFrame({"study": [f"s{i}" for i in range(len(ref))], "hr": ref.hr,
                       "ci_low": ref.ci_low, "ci_high": ref.ci_high})
    ev = derive(df)
    assert ev.table["log_hr"].round(6).tolist() == pytest.approx(ref.log_hr.tolist(), abs=TOL["r_6dp"])
    assert ev.table["se"].round(6).tolist() == pytest.approx(ref.se.tolist(), abs=TOL["r_6dp"])


@given(
    log_hr=st.floats(-4, 4),
    se=st.floats(0.01, 2.0),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_round_trip_hr_ci(log_hr, se, level):
    lo, hi = cv.ci_from_log_hr_se(log_hr, se, level)
    e = cv.from_hr_ci(math.exp(log_hr), lo, hi, level)
    assert e.log_hr == pytest.approx(log_hr, abs=TOL["roundtrip"])
    assert e.se == pytest.approx(se, rel=TOL["roundtrip"])
    lo2, hi2 = cv.ci_from_log_hr_se(e.log_hr, e.se, level)
    assert (lo2, hi2) == (pytest.approx(lo, rel=TOL["roundtrip"]), pytest.approx(hi, rel=TOL["roundtrip"]))


@given(log_hr=st.floats(-3, 3).filter(lambda x: abs(x) > 1e-3), se=st.floats(0.05, 1.5))
def test_round_trip_p_value(log_hr, se):
    p = cv.p_from_log_hr_se(log_hr, se)
    assume(1e-300 < p < 1)  # p underflows to 0 for |z| > ~37: no SE can be recovered from it
    e = cv.from_hr_p(math.exp(log_hr), p)
    assert e.se == pytest.approx(se, rel=1e-6)
