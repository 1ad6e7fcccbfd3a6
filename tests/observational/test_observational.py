"""End to end on the shipped evidence: the proposed bias spec parses against the real
columns and every observational block is produced and consistent."""

import tomllib
from pathlib import Path

import pytest

from bayesnet.absolute import parse_absolute
from bayesnet.api import evidence_for, load_spec
from bayesnet.bias import fit_exact_with_bias, parse_bias
from bayesnet.engines.exact import fit_exact
from bayesnet.models import build_model_data
from bayesnet.observational import observational_blocks

SPEC = Path(__file__).parent / "data" / "ptr_bias_adjusted.toml"


@pytest.fixture(scope="module")
def blocks():
    raw = tomllib.loads(SPEC.read_text())
    bias_raw, abs_raw = raw.pop("bias"), raw.pop("absolute")
    spec = load_spec(raw)
    ev = evidence_for(spec)
    md = build_model_data(ev, spec)
    bias = parse_bias(bias_raw, SPEC.name, ev)
    rows = parse_absolute(abs_raw, SPEC.name)
    unadj = fit_exact(md, spec, ev)
    adj = fit_exact_with_bias(md, spec, bias, ev)
    return unadj, adj, observational_blocks(adj, md=md, spec=spec, unadjusted=unadj, bias=bias, evidence=ev,
                                            absolute_rows=rows, treatment="resection",
                                            indirectness=["mixed tumour sites"])


def test_adjusted_is_less_favourable_and_wider(blocks):
    unadj, adj, _ = blocks
    assert adj["pooled"].quantile([0.5])[0] > unadj["pooled"].quantile([0.5])[0] + 0.15
    assert adj["pooled"].sd() > unadj["pooled"].sd()
    assert adj.prob("pooled", 0.8) < unadj.prob("pooled", 0.8)


def test_blocks(blocks):
    _unadj, _adj, b = blocks
    assert len(b["bias_assumptions"]) == 2 and "not estimated" in " ".join(b["bias_assumptions"])
    assert [r["threshold"] for r in b["tipping_point"]] == [1.0, 0.8]
    assert all(0.2 < r["ratio"] < 1 for r in b["tipping_point"])
    assert b["evalue"]["point"] > b["evalue"]["ci"] > 1 and b["evalue"]["rare_outcome"] is False
    assert [r["time_years"] for r in b["absolute"]] == [5, 5, 3]
    assert all(r["difference_per_1000"]["median"] > 0 for r in b["absolute"])
    assert b["absolute_sentences"][0].startswith("At 5 years: 306 per 1000 alive without resection")
    g = b["grade_draft"]
    assert g["draft"] and g["start"] == "low" and g["overall"]["certainty"] in ("low", "very low")
    assert "not appropriate" in g["large_effect"]["sentence"] or "not large" in g["large_effect"]["sentence"]
