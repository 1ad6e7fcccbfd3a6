"""`bayesnet fit` / `bayesnet report` on data with a treatment column, in-process."""

import json
import shutil

import pandas as pd
import pytest

from bayesnet.cli import main
from bayesnet.network import fit_network, read_network
from bayesnet.spec import spec_from_dict
from tests.conftest import reference_path

SPEC = """
[data]
path = "net.csv"
[priors]
mu = { dist = "normal", mu = 0, sigma = 2 }
[network]
reference = "%s"
"""


def _setup(tmp_path, ref="1", csv=None):
    shutil.copy(csv or reference_path("network/parkinsons_contrast.csv"), tmp_path / "net.csv")
    (tmp_path / "s.toml").write_text(SPEC % ref)
    return tmp_path / "s.toml"


def test_fit_writes_the_network_block(tmp_path, capsys):
    spec = _setup(tmp_path, ref="4")
    assert main(["fit", str(spec), "--out", str(tmp_path / "o")]) == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["analysis"] == "network"
    n = s["network"]
    assert n["reference"] == "4" and n["treatments"] == ["1", "2", "3", "4", "5"]
    assert set(n) >= {"treatments", "reference", "contrasts", "tau", "ranking", "node_split", "ume"}
    assert len(n["contrasts"]) == 20
    assert s["provenance"]["data_sha256"]
    out = capsys.readouterr().out
    assert "reference: 4" in out and "HR 2 vs 4" in out
    for f in ("contrasts.csv", "league.csv", "rankings.csv"):
        assert (tmp_path / "o" / f).is_file()
    league = pd.read_csv(tmp_path / "o" / "league.csv", index_col=0, dtype=str)
    assert league.shape == (5, 5)


def test_report_writes_figures_and_escapes_names(tmp_path):
    df = pd.read_csv(reference_path("network/parkinsons_contrast.csv"), dtype=str)
    df["treatment"] = df["treatment"].replace({"5": "<b>x</b>"})
    df.to_csv(tmp_path / "raw.csv", index=False)
    spec = _setup(tmp_path, ref="1", csv=tmp_path / "raw.csv")
    assert main(["report", str(spec), "--out", str(tmp_path / "r")]) == 0
    for f in ("report.md", "report.html", "figures/network.png", "figures/network.svg", "figures/forest.png",
              "figures/rankogram.png"):
        assert (tmp_path / "r" / f).is_file(), f
    page = (tmp_path / "r" / "report.html").read_text()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    md = (tmp_path / "r" / "report.md").read_text()
    assert "League table" in md and "ignore" in md and "direct and indirect" in md


def test_bad_network_exits_2_naming_the_problem(tmp_path, capsys):
    pd.DataFrame({"study": ["a", "a", "b", "b"], "treatment": ["A", "B", "C", "D"], "log_hr": [None, -0.1, None, 0.2],
                  "se": [None, 0.2, None, 0.3]}).to_csv(tmp_path / "bad.csv", index=False)
    spec = _setup(tmp_path, ref="A", csv=tmp_path / "bad.csv")
    assert main(["fit", str(spec)]) == 2
    assert "disconnected" in capsys.readouterr().err


def test_unknown_reference_exits_2(tmp_path, capsys):
    spec = _setup(tmp_path, ref="placebo")
    assert main(["fit", str(spec)]) == 2
    assert "'placebo' is not a treatment" in capsys.readouterr().err


def test_meta_regression_common_interaction():
    """A shared coefficient on a study covariate: recovered in a network whose effects vs
    the reference grow with the covariate (and zero for a contrast between two non-reference
    treatments, whose column is 0)."""
    rows = []
    for i, x in enumerate([0, 1, 2, 3, 0, 1, 2, 3]):
        t = "B" if i < 4 else "C"
        rows += [(f"s{i}", "A", None, None, x), (f"s{i}", t, -0.2 - 0.1 * (t == "C") - 0.15 * x, 0.05, x)]
    rows += [("bc", "B", None, None, 1.5), ("bc", "C", -0.1, 0.08, 1.5)]
    df = pd.DataFrame(rows, columns=["study", "treatment", "log_hr", "se", "year"])
    spec = spec_from_dict({"model": {"effects": "fixed", "covariates": ["year"]},
                           "priors": {"mu": {"dist": "flat"}, "beta": {"dist": "flat"}}})
    post = fit_network(read_network(df), spec)
    assert post.coefficient("beta[year]").mean() == pytest.approx(-0.15, abs=0.01)
    assert post.contrast("C", "B").mean() == pytest.approx(-0.1, abs=0.02)


def test_bias_section_is_refused_not_ignored():
    import dataclasses

    from bayesnet.errors import ModelError

    net = read_network(reference_path("network/parkinsons_contrast.csv"))
    # a spec with a bias model (built by replacing the field: the [bias] grammar is bias.py's)
    spec = dataclasses.replace(spec_from_dict({}), bias=object())
    with pytest.raises(ModelError, match=r"\[bias\]"):
        fit_network(net, spec)


@pytest.mark.mcmc
def test_mcmc_engine_from_the_cli(tmp_path):
    spec = _setup(tmp_path, ref="1")
    assert main(["fit", str(spec), "--engine", "mcmc", "--out", str(tmp_path / "o")]) == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["network"]["engine"] == "mcmc" and s["network"]["ume"]["engine"] == "exact"


def test_meta_regression_per_treatment_interactions():
    rows = []
    for i, x in enumerate([0, 1, 2, 3, 0, 1, 2, 3]):
        t = "B" if i < 4 else "C"
        slope = -0.15 if t == "B" else 0.1
        rows += [(f"s{i}", "A", None, None, x), (f"s{i}", t, -0.2 + slope * (x - 1.5), 0.05, x)]
    df = pd.DataFrame(rows, columns=["study", "treatment", "log_hr", "se", "year"])
    spec = spec_from_dict({"model": {"effects": "fixed", "covariates": ["year"]},
                           "priors": {"mu": {"dist": "flat"}, "beta": {"dist": "flat"}},
                           "network": {"interactions": "per_treatment"}})
    post = fit_network(read_network(df), spec)
    assert post.gm.b_names == ("d[B]", "d[C]", "beta[year:B]", "beta[year:C]")
    assert post.coefficient("beta[year:B]").mean() == pytest.approx(-0.15, abs=1e-9)
    assert post.coefficient("beta[year:C]").mean() == pytest.approx(0.1, abs=1e-9)


def test_pairwise_fit_refuses_network_data_clearly(tmp_path):
    from bayesnet.api import fit
    from bayesnet.errors import EvidenceError
    from bayesnet.network.api import analyse_network

    spec = _setup(tmp_path)
    with pytest.raises(EvidenceError, match="network"):
        fit(spec)
    with pytest.raises(EvidenceError, match="'treatment' column"):
        fit({}, data=pd.read_csv(tmp_path / "net.csv"))
    post, summary = analyse_network(spec)
    assert summary["network"]["k"] == 7
