"""The report relates its answer to a published pooled HR (issue 15: Xiao et al. 2026, Front
Oncol, 0.48 (0.43-0.55)): the published value from the shipped table with its source, REML on
this report's rows from the frequentist comparator (not hard-coded), the note from the spec."""

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from bayesnet import datasets
from bayesnet.errors import SpecError
from bayesnet.report import build_report, content
from bayesnet.report.blocks import Paragraph

ROOT = Path(__file__).resolve().parents[2]
PRIMARY = ROOT / "models" / "ptr_bias_adjusted.toml"


@pytest.fixture(scope="module")
def rep():
    return build_report(PRIMARY, engine="exact", sensitivity=False, publication_bias=False)[0]


def test_xiao_2026_beside_reml_on_the_same_rows(rep):
    (c,) = rep["published_comparison"]
    row = pd.read_csv(datasets.path("gepnet_meta_analyses"), dtype=str).set_index("ma_id").loc["Xiao2026"]
    assert c["published"]["hr"] == float(row["pooled_estimate"]) == 0.48
    assert c["published"]["ci95"] == [0.43, 0.55] and c["published"]["n_studies"] == 11
    assert c["published"]["doi"] == "10.3389/fonc.2025.1693647" and c["published"]["source_url"]
    f = rep["frequentist"]["REML"]
    assert c["reml"]["hr"] == f["hr"] and c["reml"]["hr_ci"] == list(f["hr_ci"])
    # REML on the five de-duplicated rows: 0.48 (0.34-0.69)
    assert f"{c['reml']['hr']:.2f}" == "0.48" and [f"{x:.2f}" for x in c["reml"]["hr_ci"]] == ["0.34", "0.69"]
    want = math.log(f["hr_ci"][1] / f["hr_ci"][0]) / math.log(0.55 / 0.43)
    assert math.isclose(c["width_ratio"], want)
    para = [b.text for b in content(rep, {}) if isinstance(b, Paragraph) and b.text.startswith("Xiao et al. 2026")]
    assert para and "0.48 (0.43-0.55)" in para[0] and "REML on this report's 5 rows gives 0.48 (0.34-0.69" in para[0]
    assert "study list" in para[0] and "more than once" in para[0] and "model" in para[0]


def test_library_code_has_no_published_numbers():
    src = (ROOT / "src" / "bayesnet" / "report" / "build.py").read_text() + \
        (ROOT / "src" / "bayesnet" / "report" / "scenarios.py").read_text()
    assert "Xiao" not in src and "0.43" not in src


def _spec(tmp_path, entry):
    text = re.sub(r"(?m)^multiverse = .*\n", "", PRIMARY.read_text())  # no grid: not what is tested
    i = text.index("published = [")
    j = text.index("\n", i)
    (tmp_path / "ptr_bias_pessimistic.toml").write_text((ROOT / "models" / "ptr_bias_pessimistic.toml").read_text())
    p = tmp_path / "s.toml"
    p.write_text(text[:i] + f"published = [{entry}]" + text[j:])
    return p


@pytest.mark.parametrize("entry, match", [
    ('{ dataset = "gepnet_meta_analyses", id = "Nope" }', "no row ma_id = 'Nope'"),
    ('{ dataset = "gepnet_meta_analyses", id = "Gong2025" }', "not a hazard ratio"),
    ('{ dataset = "nope", id = "x" }', "unknown dataset"),
])
def test_bad_published_entries(tmp_path, entry, match):
    with pytest.raises(SpecError, match=match):
        build_report(_spec(tmp_path, entry), engine="exact", sensitivity=False, publication_bias=False)


def test_inverted_published_hr(tmp_path):
    r = build_report(_spec(tmp_path, '{ dataset = "gepnet_meta_analyses", id = "Tsoli2020", invert = true }'),
                     engine="exact", sensitivity=False, publication_bias=False)[0]
    pub = r["published_comparison"][0]["published"]
    assert math.isclose(pub["hr"], 1 / 2.67) and math.isclose(pub["ci95"][0], 1 / 3.18) and pub["inverted"]
