"""Issue 16: the headline shows one interval kind (equal-tailed; the HPD on request with
[report] show_hpd) and the HR in a new study is labelled a predictive interval."""

import dataclasses
from pathlib import Path

import pytest

from bayesnet.api import fit, load_spec
from bayesnet.report import build_report, content
from bayesnet.report.blocks import Table

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_bias_adjusted.toml"


@pytest.fixture(scope="module")
def rep():
    return build_report(SPEC, engine="exact", sensitivity=False, publication_bias=False)[0]


def _headline(rep):
    return next(b for b in content(rep, {}) if isinstance(b, Table) and b.caption.startswith("Pooled and predictive HR"))


def test_headline_shows_one_interval_kind(rep):
    t = _headline(rep)
    assert "95% HPD" not in t.header and t.header[2] == "95% CrI (equal-tailed)"
    hpd = rep["pooled"]["hr"]["hpd95"]
    assert all(f"{hpd[0]:.2f}-{hpd[1]:.2f}" not in cell for row in t.rows for cell in row)
    t2 = _headline({**rep, "show_hpd": True})
    assert t2.header[3] == "95% HPD" and t2.rows[0][3] == f"{hpd[0]:.2f}-{hpd[1]:.2f}"


def test_show_hpd_is_a_checked_report_key():
    from bayesnet.errors import SpecError

    assert load_spec({"report": {"show_hpd": True}}).report.show_hpd is True
    with pytest.raises(SpecError, match="show_hpd"):
        load_spec({"report": {"show_hpd": "yes"}})


def test_new_study_is_labelled_a_predictive_interval():
    post = fit(dataclasses.replace(load_spec(SPEC), bias=None), engine="exact")
    line = next(ln for ln in repr(post).splitlines() if "HR in a new study" in ln)
    assert "95% predictive interval" in line and "CrI" not in line
