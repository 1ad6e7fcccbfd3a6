"""E-values reproduce R's EValue::evalues.HR (tests/reference/evalue_R.json, made by
tests/reference/scripts/evalue_R.R with EValue 4.1.4)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bayesnet.evalue import (
    evalue_rr,
    evalue_sentence,
    evalue_summary,
    evalues_hr,
    hr_to_rr,
)
from bayesnet.posterior import MixtureMarginal

from ..conftest import TOL

REF = json.loads((Path(__file__).parents[1] / "reference" / "evalue_R.json").read_text())


@pytest.mark.parametrize("case", REF["cases"], ids=lambda c: f"{c['est']}-{c['lo']}-{c['hi']}-rare{c['rare']}")
def test_matches_R_evalues_HR(case):
    got = evalues_hr(case["est"], case["lo"], case["hi"], rare=case["rare"])
    for block in ("rr", "evalue"):
        for k in ("point", "lower", "upper"):
            want = case[block][k]
            if want is None:
                assert got[block][k] is None, (block, k)
            else:
                assert got[block][k] == pytest.approx(want, abs=TOL["evalue_R"]), (block, k)


def test_reference_covers_the_cases_that_matter():
    cs = REF["cases"]
    assert {c["rare"] for c in cs} == {True, False}
    assert any(c["est"] < 1 for c in cs) and any(c["est"] > 1 for c in cs)
    assert any(c["evalue"]["upper"] == 1 for c in cs) and any(c["evalue"]["lower"] == 1 for c in cs)


def test_hand_derived():
    # VanderWeele & Ding 2017: RR = 1/0.5 = 2 -> 2 + sqrt(2) = 3.414
    assert evalue_rr(0.5) == pytest.approx(2 + math.sqrt(2))
    # common outcome conversion of HR = 1 is 1; symmetric: RR(1/HR) = 1/RR(HR)
    assert hr_to_rr(1.0, False) == pytest.approx(1.0)
    assert hr_to_rr(0.5, False) * hr_to_rr(2.0, False) == pytest.approx(1.0)


def test_summary_of_a_posterior():
    m = MixtureMarginal(np.array([math.log(0.5)]), np.array([0.1]), np.array([1.0]))
    ev = evalue_summary(m, rare_outcome=True)
    hi = math.exp(math.log(0.5) + 1.959963984540054 * 0.1)
    assert ev["hr"]["median"] == pytest.approx(0.5)
    assert ev["point"] == pytest.approx(2 + math.sqrt(2))
    assert ev["ci"] == pytest.approx(evalue_rr(hi))
    assert ev["rare_outcome"] is True
    assert "risk ratio of 3.41" in evalue_sentence(ev, "resection")
    wide = evalue_summary(MixtureMarginal(np.array([-0.2]), np.array([0.3]), np.array([1.0])))
    assert wide["ci"] == 1.0 and "already includes 1" in evalue_sentence(wide)
