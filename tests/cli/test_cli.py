"""The command line as a user runs it: exit codes, messages, atomic outputs, light startup."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_random_effects.toml"


def run(*args, cwd=ROOT, **kw):
    return subprocess.run([sys.executable, "-m", "bayesnet.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, **kw)


def test_help_and_validate_do_not_import_pymc():
    code = ("import sys; from bayesnet.cli import main; "
            "rc = main(['validate', '--dataset', 'gepnet_ptr', '--select', 'primary']); "
            "assert rc == 0; assert 'pymc' not in sys.modules and 'pytensor' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    code = ("import sys\nfrom bayesnet.cli import build_parser\nbuild_parser()\n"
            "assert 'pymc' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("cmd", ["validate", "fit", "sweep", "report"])
def test_each_subcommand_has_help(cmd):
    r = run(cmd, "--help")
    assert r.returncode == 0 and "usage: bayesnet " + cmd in r.stdout


def test_validate_good_file_writes_csv(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("study,hr,ci_low,ci_high,design\nA,0.5,0.3,0.8,cohort\nB,2.0,1.2,3.1,cohort\n")
    out = tmp_path / "derived.csv"
    r = run("validate", f, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "A" in r.stdout and "0.3-0.8" in r.stdout and "hr_ci" in r.stdout  # the CI as reported
    head = out.read_text().splitlines()[0].split(",")
    assert head[:5] == ["study", "log_hr", "se", "derivation", "warnings"] and "design" in head


def test_validate_bad_file_exit_2_no_traceback(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("study,hr,ci_low,ci_high\nA,-0.5,0.3,0.8\nA,0.5,0.9,0.3\n")
    r = run("validate", f, "--out", tmp_path / "x.csv")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "almost surely a log hazard ratio" in r.stderr and "duplicate study id" in r.stderr
    assert not (tmp_path / "x.csv").exists()


def test_fit_exact_writes_outputs(tmp_path):
    out = tmp_path / "fit"
    r = run("fit", SPEC, "--engine", "exact", "--out", out)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    for key in ("engine", "k", "pooled", "tau", "predictive", "prob", "strata", "coefficients", "studies",
                "frequentist", "diagnostics", "provenance"):
        assert key in s
    assert set(s["pooled"]["hr"]) == {"mean", "sd", "median", "ci95", "hpd95"}
    assert s["provenance"]["data_sha256"] and s["provenance"]["versions"]["numpy"]
    assert s["provenance"]["spec"]["report"]["thresholds"] == [1.0, 0.8]
    assert (out / "studies.csv").read_text().startswith("study,log_hr,se,derivation,warnings")
    assert not list(tmp_path.glob(".*partial*"))


def test_fit_data_override_and_bad_data(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\nB,0.7,0.5,0.98\nC,0.6,0.4,0.9\n")
    r = run("fit", SPEC, "--data", f)
    assert r.returncode == 0 and "k = 3" in r.stdout
    f.write_text("study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\nB,zero,0.5,0.98\n")
    out = tmp_path / "o"
    r = run("fit", SPEC, "--data", f, "--out", out)
    assert r.returncode == 2 and "'zero' is not a number" in r.stderr and not out.exists()


def test_bad_spec_names_key(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[model]\neffects = "mixed"\n')
    r = run("fit", f)
    assert r.returncode == 2 and "[model].effects: 'mixed' is not allowed" in r.stderr


def test_failed_output_leaves_previous_results(tmp_path):
    from bayesnet.io import atomic_directory

    out = tmp_path / "res"
    out.mkdir()
    (out / "summary.json").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_directory(out) as tmp:
            (tmp / "summary.json").write_text("half")
            raise RuntimeError("killed")
    assert (out / "summary.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


@pytest.mark.mcmc
def test_fit_failed_diagnostics_exit_3(tmp_path):
    f = tmp_path / "s.toml"
    import re

    text = re.sub(r"(?m)^draws = \d+", "draws = 30", SPEC.read_text())  # far too short: the gate must fail
    text = re.sub(r"(?m)^tune = \d+", "tune = 30", text).replace("[mcmc]\n", "[mcmc]\nchains = 2\n")
    assert "draws = 30" in text and "tune = 30" in text
    f.write_text(text.replace('select = "primary"', f'select = "{ROOT}/models/selections/gepnet_ptr_primary.toml"'))
    out = tmp_path / "o"
    r = run("fit", f, "--engine", "mcmc", "--out", out)
    assert r.returncode == 3 and "MCMC DIAGNOSTICS FAILED" in r.stderr and not out.exists()
    r = run("fit", f, "--engine", "mcmc", "--out", out, "--allow-failed-diagnostics")
    assert r.returncode == 3 and json.loads((out / "summary.json").read_text())["status"] == "failed_diagnostics"


def test_validate_keep_overlap(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("study,hr,ci_low,ci_high,overlap_group,n_total,year\nA,0.5,0.3,0.8,SEER,100,2010\n"
                 "B,0.6,0.4,0.9,SEER,300,2015\nC,0.7,0.5,0.98,,50,2020\n")
    out = tmp_path / "o.csv"
    r = run("validate", f, "--keep-overlap", "largest", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "A: shares patients with B, which is kept: same source population 'SEER'; rule largest: larger n_total (300 vs 100)" in r.stdout
    assert [line.split(",")[0] for line in out.read_text().splitlines()[1:]] == ["B", "C"]
