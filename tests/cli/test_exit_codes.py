"""Exit codes: 0 ok, 1 a bug in bayesnet (with the traceback), 2 bad input, 3 failed
diagnostics, 130 interrupted, 143 terminated. Run in-process with a fault injected."""

import json
import signal
import sys
from pathlib import Path

import pytest

import bayesnet.api
import bayesnet.evidence
from bayesnet.cli import ISSUES_URL, main
from bayesnet.errors import SelectionError, SpecError

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_random_effects.toml"


def csv(tmp_path, text="study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\nB,0.7,0.5,0.98\nC,0.6,0.4,0.9\n"):
    f = tmp_path / "d.csv"
    f.write_text(text)
    return f


def test_internal_error_exit_1_with_traceback(monkeypatch, capsys):
    def boom(*a, **k):
        raise KeyError("posterior_predictive")

    monkeypatch.setattr(bayesnet.api, "fit", boom)
    assert main(["fit", str(SPEC), "--engine", "exact"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'posterior_predictive'" in err
    assert f"internal error: please report this at {ISSUES_URL}" in err
    assert ISSUES_URL == "https://github.com/bayesnet/bayesnet/issues"


def test_internal_value_error_is_not_bad_input(monkeypatch, capsys, tmp_path):
    def boom(*a, **k):
        raise ValueError("operands could not be broadcast")

    monkeypatch.setattr(bayesnet.api, "write_fit_outputs", boom)
    assert main(["fit", str(SPEC), "--engine", "exact", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: operands could not be broadcast" in err and "internal error" in err
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_exit_130_one_line(monkeypatch, capsys, tmp_path):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(bayesnet.api, "fit", interrupted)
    assert main(["fit", str(SPEC), "--out", str(tmp_path / "o")]) == 130
    cap = capsys.readouterr()
    assert cap.err == "interrupted\n" and cap.out == ""
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # handlers restored


def test_interrupt_swallowed_by_the_sampler_still_exits_130(monkeypatch, capsys, tmp_path):
    """nutpie catches KeyboardInterrupt and returns the draws so far: no output from them."""
    real = bayesnet.api.fit

    def sampler_that_swallows(*a, **k):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pass
        return real(*a, **k)

    monkeypatch.setattr(bayesnet.api, "fit", sampler_that_swallows)
    assert main(["fit", str(SPEC), "--engine", "exact", "--out", str(tmp_path / "o")]) == 130
    cap = capsys.readouterr()
    assert cap.err == "interrupted\n" and cap.out == ""
    assert list(tmp_path.iterdir()) == []


def test_spec_error_prints_every_problem(monkeypatch, capsys):
    def bad(*a, **k):
        raise SpecError(problems=["[mcmc].target_accept: 'high' is not a number",
                                  "[report].title: 42 is not a string"])

    monkeypatch.setattr(bayesnet.api, "fit", bad)
    assert main(["fit", str(SPEC)]) == 2
    err = capsys.readouterr().err
    assert "[mcmc].target_accept: 'high'" in err and "[report].title: 42" in err and "Traceback" not in err


def test_missing_inputs_exit_2(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and "Traceback" not in err
    assert main(["validate", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err


def test_validate_directory_as_data_or_out(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    f = csv(tmp_path)
    assert main(["validate", str(f), "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    before = f.read_text()
    assert main(["validate", str(f), "--out", str(f)]) == 2
    assert "is the input file" in capsys.readouterr().err and f.read_text() == before
    assert main(["validate", str(f), "--out", str(f / "x.csv")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_validate_keep_overlap_choices_and_errors(tmp_path, monkeypatch, capsys):
    f = csv(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["validate", str(f), "--keep-overlap", "biggest"])
    assert e.value.code == 2 and "best_adjusted" in capsys.readouterr().err

    def bad(*a, **k):
        raise SelectionError("rule largest needs a column n_total")

    monkeypatch.setattr(bayesnet.evidence, "select_overlap", bad)
    assert main(["validate", str(f), "--keep-overlap", "largest"]) == 2
    err = capsys.readouterr().err
    assert "rule largest needs a column n_total" in err and "Traceback" not in err


def test_validate_excluded_heading_without_select(tmp_path, capsys):
    f = csv(tmp_path, "study,hr,ci_low,ci_high,overlap_group,n_total,year\nA,0.5,0.3,0.8,SEER,100,2010\n"
                      "B,0.6,0.4,0.9,SEER,300,2015\nC,0.7,0.5,0.98,,50,2020\n")
    assert main(["validate", str(f), "--keep-overlap", "largest"]) == 0
    out = capsys.readouterr().out
    assert "Excluded (documented or by the selection) (1 row(s)):" in out


def test_scheduler_without_dask_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    assert main(["sweep", str(SPEC), "--engine", "exact", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'bayesnet[dask]'" in err and "Traceback" not in err


def test_engine_choices_come_from_the_api(capsys):
    with pytest.raises(SystemExit):
        main(["fit", str(SPEC), "--engine", "nuts"])
    err = capsys.readouterr().err
    assert all(repr(e) in err for e in bayesnet.api.ENGINES)


def test_fit_passes_progress_only_on_a_tty(monkeypatch, capsys):
    seen = {}
    real = bayesnet.api.fit

    def spy(*a, **k):
        seen.update(k)
        return real(*a, **k)

    monkeypatch.setattr(bayesnet.api, "fit", spy)
    assert main(["fit", str(SPEC), "--engine", "exact"]) == 0
    assert seen["progress"] is False            # captured stderr is not a TTY


@pytest.mark.parametrize("cmd", ["fit", "report"])
def test_an_arm_spec_goes_through_the_common_pipeline(cmd, tmp_path, capsys):
    """Arm rows are fitted by the arm-level model and written by the common writers (one
    summary.json schema; no second arm pipeline)."""
    (tmp_path / "a.csv").write_text("study,arm,treated,n,surv,surv_time_years\n"
                                    "C1,res,true,40,0.7,5\nC1,none,false,40,0.4,5\n"
                                    "C2,res,true,60,0.6,5\nC2,none,false,50,0.45,5\n"
                                    "C3,res,true,30,0.5,5\nC3,none,false,35,0.35,5\n")
    (tmp_path / "arm.toml").write_text('[data]\npath = "a.csv"\n')
    out = tmp_path / "arm"
    assert main([cmd, str(tmp_path / "arm.toml"), "--out", str(out), "--seed", "7"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["engine"] == "exact" and "pooled" in s and "with_case_series" not in s
    assert "pooled HR" in capsys.readouterr().out
    if cmd == "report":
        assert (out / "report.html").exists()


def test_validate_out_disk_full_exit_2(tmp_path, monkeypatch, capsys):
    import errno
    import os

    f = csv(tmp_path)
    out = tmp_path / "derived.csv"
    out.write_text("previous")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    assert main(["validate", str(f), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and "Traceback" not in err
    assert out.read_text() == "previous" and sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "derived.csv"]
