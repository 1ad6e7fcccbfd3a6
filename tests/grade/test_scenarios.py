"""The shipped pessimistic common-bias scenario (issue 15): a second spec with the same
[bias.by] terms and mu/tau priors, whose headline the primary report computes exactly and
shows beside its own ([report] scenarios)."""

import math
import re
import tomllib
from pathlib import Path

import pytest

from bayesnet.api import fit, load_spec
from bayesnet.errors import SpecError
from bayesnet.report import build_report, content
from bayesnet.report.blocks import Table

ROOT = Path(__file__).resolve().parents[2]
PRIMARY = ROOT / "models" / "ptr_bias_adjusted.toml"
PESSIMISTIC = ROOT / "models" / "ptr_bias_pessimistic.toml"


def test_pessimistic_spec_changes_only_the_common_prior():
    a, b = (tomllib.loads(p.read_text()) for p in (PRIMARY, PESSIMISTIC))
    assert a["bias"]["by"] == b["bias"]["by"] and a["priors"] == b["priors"] and a["data"] == b["data"]
    assert a["model"] == b["model"] and a["absolute"] == b["absolute"]
    assert a["bias"]["common"] == {"mu": -0.18, "sigma": 0.12}  # unchanged: the tipping points rest on it
    assert b["bias"]["common"]["mu"] < a["bias"]["common"]["mu"]  # more exaggeration assumed
    assert a["report"]["scenarios"] == ["ptr_bias_pessimistic.toml"] and "scenarios" not in b["report"]
    for p in (PRIMARY, PESSIMISTIC):  # the empirical basis is cited in the spec
        assert "Hemkens" in p.read_text() and "docs/bias_priors.md" in p.read_text()
    assert (ROOT / "docs" / "bias_priors.md").is_file()


@pytest.fixture(scope="module")
def rep():
    return build_report(PRIMARY, engine="exact", sensitivity=False, publication_bias=False)[0]


def test_report_shows_the_scenario_headline_computed_exactly(rep):
    (sc,) = rep["scenarios"]
    direct = fit(load_spec(PESSIMISTIC), engine="exact").summary(observational=False)
    assert sc["name"] == "ptr_bias_pessimistic" and sc["engine"] == "exact"
    assert math.isclose(sc["pooled"]["hr"]["median"], direct["pooled"]["hr"]["median"], rel_tol=1e-12)
    assert sc["prob"]["pooled"] == pytest.approx(direct["prob"]["pooled"], rel=1e-12)
    assert sc["pooled"]["hr"]["median"] > rep["pooled"]["hr"]["median"]  # less favourable than the headline
    tab = next(b for b in content(rep, {}) if isinstance(b, Table) and b.caption.startswith("The headline under other"))
    assert [r[0].split(":")[0] for r in tab.rows] == ["this analysis (headline)", "scenario ptr_bias_pessimistic"]
    assert tab.rows[1][1] == f"{sc['pooled']['hr']['median']:.2f}"
    assert "centred at 0.84" in tab.rows[0][0] and "centred at 0.70" in tab.rows[1][0]
    rel = rep["summary_of_findings"]["relative_effect"]["scenarios"]
    assert rel[0]["hr"] == sc["pooled"]["hr"]["median"]


def _with_scenario(tmp_path, name, other_data: bool = False):
    text = re.sub(r"(?m)^multiverse = .*\n", "", PRIMARY.read_text()).replace('scenarios = ["ptr_bias_pessimistic.toml"]', f'scenarios = ["{name}"]')
    if other_data:  # the same spec without the selection: other rows
        (tmp_path / "other.toml").write_text(PESSIMISTIC.read_text().replace('select = "primary"\n', ""))
    p = tmp_path / "main.toml"
    p.write_text(text)
    return p


def test_bad_scenarios_are_clear_spec_errors(tmp_path):
    with pytest.raises(SpecError, match=r"\[report\] scenarios: 'nope.toml' is not a file"):
        build_report(_with_scenario(tmp_path, "nope.toml"), engine="exact", sensitivity=False, publication_bias=False)
    p = _with_scenario(tmp_path, "other.toml", other_data=True)
    with pytest.raises(SpecError, match=r"\[data\] differs"):
        build_report(p, engine="exact", sensitivity=False, publication_bias=False)
    with pytest.raises(SpecError, match="scenarios"):
        load_spec({"report": {"scenarios": "x.toml"}})
