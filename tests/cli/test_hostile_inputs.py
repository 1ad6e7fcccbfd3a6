"""Hostile inputs that once broke a promise (a traceback, a silent acceptance, a message
naming the wrong file or section): each is bad input, exit 2, with a message naming the
file, the key or column, and what is allowed. Run in-process, exact engine only (no MCMC)."""

import json
import os
from pathlib import Path

import pytest

import bayesnet
import bayesnet.arm_analysis
from bayesnet.cli import main
from bayesnet.errors import EvidenceError, InputError, SpecError

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_random_effects.toml"
SEED_ALLOWED = "allowed: an integer from 0 to 4294967295 (2^32 - 1)"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


GOOD_CSV = ("study,hr,ci_low,ci_high,design\nA,0.5,0.3,0.8,cohort\nB,0.7,0.5,1.1,cohort\n"
            "C,0.6,0.4,0.9,registry\nD,0.8,0.6,1.2,registry\n")


# ----------------------------------------------------------------------------- seeds

@pytest.mark.parametrize("seed", ["-1", "99999999999999999999", "4294967296", "1.5", "abc"])
@pytest.mark.parametrize("cmd", ["fit", "report", "sweep"])
def test_cli_seed_outside_0_to_2_32_is_bad_input(cmd, seed, capsys):
    with pytest.raises(SystemExit) as exc:
        main([cmd, str(SPEC), "--seed", seed])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --seed: found '{seed}'; {SEED_ALLOWED}" in err and "Traceback" not in err


def test_cli_seed_at_the_bounds_is_accepted(capsys):
    assert main(["fit", str(SPEC), "--engine", "exact", "--seed", "0"]) == 0
    assert main(["fit", str(SPEC), "--engine", "exact", "--seed", str(2**32 - 1)]) == 0


@pytest.mark.parametrize("seed", [-1, 2**32, 10**20, 1.0, True])
def test_api_fit_seed_outside_0_to_2_32_is_a_spec_error(seed):
    with pytest.raises(SpecError) as exc:
        bayesnet.fit(SPEC, seed=seed, engine="exact")
    assert str(exc.value).startswith(f"fit(seed=...): found {seed!r}") and SEED_ALLOWED in str(exc.value)


def test_arm_fit_seed_is_checked_before_anything_runs():
    with pytest.raises(SpecError, match=r"fit\(seed=...\): found -1"):
        bayesnet.fit(ROOT / "models" / "liver_resection_case_series.toml", seed=-1)


@pytest.mark.parametrize("seed", [2**64, 2**32, -1])
def test_spec_seed_beyond_32_bits_names_the_range(tmp_path, seed, capsys):
    spec = write(tmp_path / "s.toml", f"[mcmc]\nseed = {seed}\n")
    assert main(["fit", str(spec), "--engine", "exact"]) == 2
    err = capsys.readouterr().err
    assert f"{spec.resolve()}: [mcmc].seed: found {seed} (int); {SEED_ALLOWED}" in err
    assert "non-negative" not in err


# ----------------------------------------------------------------------------- MCMC sizes

@pytest.mark.parametrize("mcmc, needle", [
    ("chains = 100000", "[mcmc].chains: found 100000 (int); allowed: an integer from 1 to 64"),
    ("draws = 10000000", "[mcmc].draws: found 10000000 (int); allowed: an integer from 1 to 100,000"),
    ("tune = 0", "[mcmc].tune: found 0 (int); allowed: an integer from 1 to 100,000"),
    ("chains = 64\ndraws = 100000", "[mcmc]: chains x draws = 64 x 100000 = 6,400,000 draws; allowed: at most "
                                    "1,000,000"),
])
def test_mcmc_sizes_are_bounded_before_any_fit(tmp_path, mcmc, needle, capsys):
    spec = write(tmp_path / "s.toml", f"[mcmc]\n{mcmc}\n")
    assert main(["fit", str(spec), "--engine", "exact"]) == 2
    assert needle in capsys.readouterr().err


def test_mcmc_sizes_at_their_bounds_are_accepted():
    from bayesnet.spec import spec_from_dict

    s = spec_from_dict({"mcmc": {"chains": 64, "draws": 15_625, "tune": 100_000}})
    assert (s.mcmc.chains, s.mcmc.draws, s.mcmc.tune) == (64, 15_625, 100_000)


# ----------------------------------------------------------------------------- one pass

def _three_problem_inputs(tmp_path):
    write(tmp_path / "d.csv", GOOD_CSV.replace("C,0.6,", "C,-0.6,"))
    return write(tmp_path / "s.toml", '[data]\npath = "d.csv"\n[model]\ncovariates = ["nocol"]\n'
                                      'effectz = 1\n')


def test_spec_columns_and_csv_problems_come_out_in_one_pass(tmp_path, capsys):
    spec = _three_problem_inputs(tmp_path)
    assert main(["fit", str(spec)]) == 2
    err = capsys.readouterr().err.splitlines()
    s, d = spec.resolve(), (tmp_path / "d.csv").resolve()
    assert err[0].startswith(f"error: {s}: [model]: unknown key(s) effectz")
    assert err[1].startswith(f"error: {s}: [model].covariates: column 'nocol' is not in the data (columns: study, "
                             "hr, ci_low, ci_high, design)")
    assert err[2].startswith(f"error: {d}, row 3, study 'C', column 'hr': hazard ratio -0.6 is not positive")
    assert err[3] == "3 error(s) in the spec and its data."


def test_one_pass_error_is_caught_as_either_kind(tmp_path):
    spec = _three_problem_inputs(tmp_path)
    with pytest.raises(InputError) as exc:
        bayesnet.fit(spec)
    assert isinstance(exc.value, SpecError) and isinstance(exc.value, EvidenceError)
    assert len(exc.value.problems) == 3


def test_spec_and_column_problems_together_are_a_spec_error(tmp_path):
    write(tmp_path / "d.csv", GOOD_CSV)
    spec = write(tmp_path / "s.toml", '[data]\npath = "d.csv"\n[model]\ncovariates = ["nocol", "design"]\n'
                                      'reference = { design = "rct" }\nheterogeneity = "by:site"\n[mcmc]\nchains = 0\n')
    with pytest.raises(SpecError) as exc:
        bayesnet.fit(spec)
    assert not isinstance(exc.value, EvidenceError)
    probs = exc.value.problems
    assert [p.split(": ", 2)[1] for p in probs] == ["[mcmc].chains", "[model].covariates", "[model].reference",
                                                   "[model].heterogeneity"], probs
    assert all(p.startswith(f"{spec.resolve()}: ") for p in probs)


def test_bias_column_problem_lists_only_the_files_columns(tmp_path, capsys):
    write(tmp_path / "d.csv", GOOD_CSV)
    spec = write(tmp_path / "s.toml", '[data]\npath = "d.csv"\n[bias.by.nocol]\nx = { mu = -0.1, sigma = 0.1 }\n'
                                      '[bias.by.design]\ncohrt = { mu = -0.1, sigma = 0.1 }\n')
    assert main(["bias", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"{spec.resolve()}: [bias].by.nocol: column 'nocol' is not in the evidence; columns: ci_high, ci_low, " \
           "design, hr, label, study" in err
    assert f"{spec.resolve()}: [bias].by.design.cohrt: level 'cohrt' of 'design' is not in the selected studies" in err
    for internal in ("_row", "log_hr", "derivation", "warnings"):
        assert internal not in err


def test_bias_command_with_one_study_names_the_file(tmp_path, capsys):
    write(tmp_path / "one.csv", "study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\n")
    spec = write(tmp_path / "k1.toml", '[data]\npath = "one.csv"\n')
    assert main(["bias", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"error: {spec} ({(tmp_path / 'one.csv').resolve()}): publication bias needs at least 2 studies, " \
           "got 1" in err


# ----------------------------------------------------------------------------- arm-level specs

ARMS = ("study,arm,treated,n,surv,surv_time_years,design\ns1,res,true,50,0.6,5,comparative\n"
        "s1,non,false,60,0.3,5,comparative\ns2,res,true,40,0.55,5,comparative\ns2,non,false,40,0.25,5,comparative\n"
        "s3,res,true,30,0.7,5,case_series\n")


def test_arm_bias_by_missing_column_names_its_section_and_the_spec(tmp_path, monkeypatch, capsys):
    write(tmp_path / "spec" / "data" / "arms.csv", ARMS)
    spec = write(tmp_path / "spec" / "arm.toml", '[data]\npath = "data/arms.csv"\n[bias.by.nocol]\n'
                                                 'case_series = { mu = -0.2, sigma = 0.3 }\n')
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "spec/arm.toml"]) == 2
    err = capsys.readouterr().err
    assert f"error: {spec.resolve()}: [bias].by.nocol: column 'nocol' is not in the evidence; columns: design, study" in err
    assert "[model].covariates" not in err and "_row" not in err and ", L," not in err and ", v," not in err
    assert spec.exists()


def test_arm_csv_errors_name_the_file_as_it_opens(tmp_path, monkeypatch, capsys):
    write(tmp_path / "spec" / "data" / "arms.csv", ARMS.replace("0.7,5,case_series", "70,5,case_series"))
    write(tmp_path / "spec" / "arm.toml", '[data]\npath = "data/arms.csv"\n[bias.by.design]\n'
                                          'case_series = { mu = -0.2, sigma = 0.3 }\n')
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "spec/arm.toml", "--out", "o"]) == 2
    err = capsys.readouterr().err
    assert "error: spec/data/arms.csv, row 5, study 's3', column 'surv': 70 looks like a percentage" in err
    assert os.path.isfile("spec/data/arms.csv") and not Path("o").exists()


def test_arm_fit_without_out_prints_the_headline_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(ROOT / "models" / "liver_resection_case_series.toml")]) == 0
    out = capsys.readouterr().out
    assert "pooled HR" in out and "nothing written" in out and list(tmp_path.iterdir()) == []


def test_fit_without_out_says_nothing_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(SPEC), "--engine", "exact"]) == 0
    out = capsys.readouterr().out
    assert "pooled HR" in out and "nothing written (give --out DIR" in out and list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- validate

def test_validate_prints_the_reported_numbers(tmp_path, capsys):
    f = write(tmp_path / "v.csv", "study,hr,ci_low,ci_high,p_value\nA,0.62,0.45,0.85,\nC,0.8,,,0.04\n"
                                  "D,,0.5,0.9,\n")
    assert main(["validate", str(f)]) == 0
    out = capsys.readouterr().out
    assert "0.45-0.85" in out and "0.451-0.852" not in out        # as reported, not rebuilt from log-HR and se
    assert "0.647-0.990†" in out and "0.671†" in out               # derived numbers are marked
    assert "† computed by bayesnet" in out


def test_hr_row_of_a_case_series_is_warned_about(tmp_path, capsys):
    f = write(tmp_path / "v.csv", "study,hr,ci_low,ci_high,design\nA,0.62,0.45,0.85,cohort\n"
                                  "B,0.5,0.3,0.8,Case series\n")
    assert main(["validate", str(f)]) == 0
    out = capsys.readouterr().out
    assert "1 warning(s):" in out
    assert f"warning: {f}, row 2, study 'B', column 'design': the design is 'Case series', but a case series has no " \
           "comparison group" in out


def test_evidence_table_has_a_short_repr():
    ev = bayesnet.load_evidence(dataset="gepnet_ptr", select="primary")
    text = repr(ev)
    assert text == "<EvidenceTable: 5 studies from dataset 'gepnet_ptr'; 31 row(s) excluded (.excluded)>"
    assert "Kaemmerer et al. 2019" in ev._repr_html_()  # a notebook shows labels


def test_summary_json_of_fit_out_is_unchanged_by_the_checks(tmp_path):
    """The one-pass loader returns the same evidence as before (same studies, same sha)."""
    out = tmp_path / "o"
    assert main(["fit", str(SPEC), "--engine", "exact", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["k"] == 5 and s["provenance"]["input_file_sha256"]


def test_report_reports_spec_columns_and_csv_in_one_pass(tmp_path, capsys):
    spec = _three_problem_inputs(tmp_path)
    assert main(["report", str(spec), "--out", str(tmp_path / "rep")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "3 error(s) in the spec and its data."
    assert not (tmp_path / "rep").exists()


def test_arm_spec_and_arm_rows_problems_in_one_pass(tmp_path, monkeypatch, capsys):
    write(tmp_path / "data" / "arms.csv", ARMS.replace("0.7,5,case_series", "70,5,case_series"))
    write(tmp_path / "arm.toml", '[data]\npath = "data/arms.csv"\n[bias.by.design]\n'
                                 'case_series = { mu = -0.2, sigma = -0.3 }\n[mcmc]\nchains = 100000\n')
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "arm.toml"]) == 2
    err = capsys.readouterr().err
    assert "[bias].by.design.case_series.sigma: must be >= 0" in err
    assert "[mcmc].chains: found 100000 (int); allowed: an integer from 1 to 64" in err
    assert "data/arms.csv, row 5, study 's3', column 'surv': 70 looks like a percentage" in err
    assert err.splitlines()[-1] == "3 error(s) in the spec and its data."


def test_sweep_seeds_stay_in_range_at_the_top_of_it():
    from bayesnet.priors import parse_prior
    from bayesnet.sensitivity import sweep

    grid = {"tau": [parse_prior({"dist": "half_normal", "sigma": 0.5}, "tau", "scale")],
            "mu": [parse_prior({"dist": "normal", "mu": 0, "sigma": s}, "mu", "effect") for s in (1, 2)]}
    df = sweep(SPEC, seed=2**32 - 1, grid=grid, engine="exact")
    assert len(df) == 2 and (df["status"] == "ok").all(), df[["status", "reason"]]


def test_fit_headline_of_a_bias_spec_names_both_bases(capsys):
    assert main(["fit", str(ROOT / "models" / "ptr_bias_adjusted.toml")]) == 0
    out = capsys.readouterr().out
    assert out.index("under the stated bias assumptions ([bias]):") < out.index("as reported (the same model")
    assert out.count("pooled HR") == 2


def test_unknown_selection_names_the_spec_and_its_key(tmp_path, capsys):
    write(tmp_path / "d.csv", GOOD_CSV)
    spec = write(tmp_path / "s.toml", '[data]\npath = "d.csv"\nselect = "primray"\n')
    assert main(["fit", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"error: {spec.resolve()}: [data].select: selection 'primray' not found" in err


def test_validate_keeps_a_control_vs_treated_row_in_its_own_direction(tmp_path, capsys):
    f = write(tmp_path / "v.csv", "study,hr,ci_low,ci_high,p_value,direction\n"
                                  "A,2.0,1.25,3.2,,control_vs_treated\nB,2.5,,,0.01,control_vs_treated\n")
    assert main(["validate", str(f)]) == 0
    out = capsys.readouterr().out
    assert "2‡" in out and "1.25-3.2‡" in out                       # as reported, marked as the other direction
    assert "2.5‡" in out and "1.245-5.020†‡" in out                  # derived CI (from p) in the row's direction
    assert "‡ as reported, control versus treatment" in out


def test_rows_with_errors_check_only_that_named_columns_exist(tmp_path):
    """With a wrong row the table cannot be derived: the columns the spec names are checked
    for existence on the rows as read, never for levels of the unselected rows."""
    write(tmp_path / "d.csv", GOOD_CSV.replace("C,0.6,", "C,-0.6,").replace("registry", "cohort"))
    spec = write(tmp_path / "s.toml", '[data]\npath = "d.csv"\n[model]\ncovariates = ["design"]\n'
                                      '[bias.by.design]\nrct = { mu = 0, sigma = 0.1 }\n[bias.by.site]\n'
                                      'a = { mu = 0, sigma = 0.1 }\n')
    with pytest.raises(InputError) as exc:
        bayesnet.fit(spec)
    text = "\n".join(map(str, exc.value.problems))
    assert "[bias].by.site: column 'site' is not in the evidence" in text
    assert "single level" not in text and "level 'rct'" not in text
    assert "hazard ratio -0.6 is not positive" in text and len(exc.value.problems) == 2
