"""Issue 16: the arm-level report's "HR in a new study" is a predictive interval, not a CrI."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bayesnet.api import load_spec

ROOT = Path(__file__).resolve().parents[2]


def test_new_study_cell_says_predictive_interval():
    from bayesnet import arm_analysis

    if not hasattr(arm_analysis, "_blocks"):
        pytest.skip("the arm-level report moved into the one pipeline")
    summary = json.loads((ROOT / "results" / "liver_resection" / "summary.json").read_text())
    if "with_case_series" not in summary:
        pytest.skip("arm summary has the one schema now")
    an = SimpleNamespace(spec=load_spec(ROOT / "models" / "liver_resection_case_series.toml"))
    try:
        blocks = arm_analysis._blocks(summary, an)
    except (AttributeError, KeyError) as exc:
        pytest.skip(f"arm report needs more than the summary ({exc})")
    tab = next(b for b in blocks if getattr(b, "header", None) and "HR in a new study" in b.header)
    i = tab.header.index("HR in a new study")
    assert all("95% predictive interval" in r[i] and "CrI" not in r[i] for r in tab.rows)
    j = tab.header.index("pooled HR")
    assert all("95% CrI" in r[j] for r in tab.rows)
