"""Hostile evidence files: each is read correctly or gives an EvidenceError naming the file,
the line or row and the fix (never a pandas traceback, never a silent guess)."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bayesnet
from bayesnet.evidence import EvidenceError, derive, load_evidence, reading
from bayesnet.evidence.reading import read_table

GOOD = "study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\nB,0.6,0.4,0.9\n"


def errors(path, **kw):
    with pytest.raises(EvidenceError) as exc:
        derive(path, **kw)
    errs = [str(p) for p in exc.value.problems if p.level == "error"]
    assert errs and all(str(path) in e for e in errs), errs  # every message names the file
    return errs


def write(tmp_path, text, name="d.csv", **kw):
    f = tmp_path / name
    if isinstance(text, bytes):
        f.write_bytes(text)
    else:
        f.write_text(text, **kw)
    return f


def test_directory_is_refused(tmp_path):
    (e,) = errors(tmp_path)
    assert "is a directory" in e


def test_device_is_refused_before_reading():
    with pytest.raises(EvidenceError, match="not a regular file"):
        read_table("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(EvidenceError, match="not a regular file"):
        read_table(fifo)


def test_size_limit_checked_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_BYTES", 40)
    f = write(tmp_path, GOOD * 3)
    with pytest.raises(EvidenceError, match="MB limit") as exc:
        read_table(f)
    assert str(f) in str(exc.value)


def test_missing_file(tmp_path):
    (e,) = errors(tmp_path / "nope.csv")
    assert "does not exist" in e


def test_empty_file(tmp_path):
    (e,) = errors(write(tmp_path, "\n  \n"))
    assert "the file is empty" in e and "header" in e


def test_header_only(tmp_path):
    (e,) = errors(write(tmp_path, "study,hr,ci_low,ci_high\n"))
    assert "header but no data rows" in e


def test_utf8_with_bom_is_read(tmp_path):
    ev = derive(write(tmp_path, "\ufeff" + GOOD, encoding="utf-8"))
    assert ev.studies == ["A", "B"] and list(ev.table["derivation"]) == ["hr_ci", "hr_ci"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_bom_is_read(tmp_path, codec):
    text = "study,hr,ci_low,ci_high\nMénard,0.5,0.3,0.8\n"
    data = text.encode(codec) if codec == "utf-16" else b"\xfe\xff" + text.encode(codec)
    ev = derive(write(tmp_path, data))
    assert ev.studies == ["Ménard"] and ev.table.loc[0, "log_hr"] == pytest.approx(math.log(0.5))


def test_latin1_names_line_and_fix(tmp_path):
    f = write(tmp_path, "study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\nMénard,0.6,0.4,0.9\n".encode("latin-1"))
    (e,) = errors(f)
    assert "not valid UTF-8" in e and "line 3" in e and "save the file as UTF-8" in e and "Latin-1" in e


def test_too_many_and_too_few_fields_name_the_line(tmp_path):
    f = write(tmp_path, "study,hr,ci_low,ci_high\nA,0.5,0.3,0.8,9\nB,0.6,0.4\nC,0.7,0.5,0.9\n")
    errs = errors(f)
    assert len(errs) == 2
    assert "line 2 (row 1) has 5 field(s) but the header has 4" in errs[0]
    assert "line 3 (row 2) has 3 field(s)" in errs[1]


def test_trailing_empty_fields_from_spreadsheets_are_tolerated(tmp_path):
    ev = derive(write(tmp_path, "study,hr,ci_low,ci_high\nA,0.5,0.3,0.8,,\n,,,\n"))
    assert ev.studies == ["A"]


def test_unclosed_quote_names_the_line(tmp_path):
    (e,) = errors(write(tmp_path, 'study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\n"B,0.6,0.4,0.9\nC,0.7,0.5,0.9\n'))
    assert 'quote (") opened on line 3 is never closed' in e


def test_semicolons_and_decimal_commas_are_read_with_warnings(tmp_path):
    f = write(tmp_path, "study;hr;ci_low;ci_high;p_value;n_total\nA;0,5;0,3;0,8;<0,001;120\nB;0.6;0.4;0.9;;80\n")
    ev = derive(f)
    assert ev.table["hr"].tolist() == [0.5, 0.6] and ev.table["n_total"].tolist() == [120, 80]
    assert ev.table.loc[0, "log_hr"] == pytest.approx(math.log(0.5))
    msgs = [str(p) for p in ev.problems]
    assert any("separated by semicolons" in m and str(f) in m for m in msgs)
    assert any("column 'hr'" in m and "decimal comma" in m and "'0,5' as '0.5'" in m for m in msgs)
    assert any("column 'p_value'" in m for m in msgs)


def test_decimal_comma_in_a_comma_file_is_an_error_with_the_fix(tmp_path):
    (e,) = errors(write(tmp_path, 'study,hr,ci_low,ci_high\nA,"0,5",0.3,0.8\n'))
    assert "'0,5' has a decimal comma" in e and "write a decimal point (0.5)" in e and "row 1" in e


def test_duplicated_column_name(tmp_path):
    (e,) = errors(write(tmp_path, "study,hr,ci_low,ci_high,hr\nA,0.5,0.3,0.8,0.9\n"))
    assert "'hr' appears twice" in e and "column 'hr'" in e


def test_ids_and_reported_decimals_survive(tmp_path):
    ev = derive(write(tmp_path, "study,hr,ci_low,ci_high\n007,0.50,0.30,0.80\nNaNa 2019,0.6,0.4,0.9\n"))
    assert ev.studies == ["007", "NaNa 2019"]


def test_rows_are_rows_of_the_file_with_blank_lines(tmp_path):
    f = write(tmp_path, "study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\n\nB,0.6,0.4,x\n")
    (e,) = errors(f)
    assert "row 3" in e and "study 'B'" in e


def test_row_numbers_of_the_file_after_a_selection(tmp_path):
    f = write(tmp_path, "study,outcome,hr,ci_low,ci_high\nA,PFS,0.5,0.3,0.8\nB,OS,0.5,0.3,0.8\nC,OS,0.6,0.4,x\n")
    sel = {"name": "os", "filter": [{"column": "outcome", "values": ["OS"]}]}
    with pytest.raises(EvidenceError) as exc:
        load_evidence(path=f, select=sel)
    (p,) = [p for p in exc.value.problems if p.level == "error"]
    assert p.row == 3 and p.study == "C" and str(f) in str(p)
    ev = load_evidence(path=write(tmp_path, "study,outcome,hr,ci_low,ci_high\nA,PFS,0.5,0.3,0.8\nB,OS,0.5,0.3,0.8\n",
                                  name="ok.csv"), select=sel)
    assert "_row" not in ev.table.columns and ev.excluded["_row"].tolist() == [1]


def test_load_evidence_keeps_reading_warnings(tmp_path):
    ev = load_evidence(path=write(tmp_path, "study;HR;ci_low;ci_high\nA;0,5;0,3;0,8\n"))
    msgs = [str(p) for p in ev.problems]
    assert any("semicolons" in m for m in msgs) and any("column 'HR' read as 'hr'" in m for m in msgs)
    assert ev.table.loc[0, "derivation"] == "hr_ci"


def test_cli_validate_hostile_file_exits_2_without_traceback(tmp_path):
    f = write(tmp_path, "study,hr,ci_low,ci_high\nMénard,0.5,0.3,0.8\n".encode("latin-1"))
    src = Path(bayesnet.__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}
    res = subprocess.run([sys.executable, "-m", "bayesnet.cli", "validate", str(f)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert res.returncode == 2
    assert str(f) in res.stderr and "save the file as UTF-8" in res.stderr and "Traceback" not in res.stderr


def test_column_and_row_errors_are_reported_in_one_pass(tmp_path):
    f = write(tmp_path, "study,HR,ci_low,ci_high,warnings\nNA,0.5,0.3,0.8,x\nb,1e308,0.3,0.8,y\n")
    with pytest.raises(EvidenceError) as exc:
        load_evidence(path=f)
    errs = [str(p) for p in exc.value.problems if p.level == "error"]
    assert len(errs) == 3, errs
    assert any("column 'warnings'" in e for e in errs) and any("row 1 has no study id" in e for e in errs)
    assert any("row 2" in e and "1e+308 is outside the plausible range" in e for e in errs)
