"""Every stored number is rounded to io.STORED_DIGITS (10) significant digits, in one place
(io.stored), so that regenerating an output writes identical bytes even when the last bits
of a computation differ (another CPU, BLAS or summation order; issue 16)."""

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesnet.api import to_json
from bayesnet.io import STORED_DIGITS, csv_text, stored
from bayesnet.report import write_report

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_random_effects.toml"
NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def _significant_digits(text: str) -> int:
    mantissa = re.split(r"[eE]", text.lstrip("-"))[0].replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) if "." in text or "e" in text.lower() else len(mantissa)


def _json_floats(x):
    if isinstance(x, float):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _json_floats(v)
    elif isinstance(x, list):
        for v in x:
            yield from _json_floats(v)


def test_stored_rounds_to_ten_significant_digits():
    assert STORED_DIGITS == 10
    assert stored(1 / 3) == 0.3333333333
    assert stored(np.float64(2 / 3) * 1e-12) == 6.666666667e-13
    assert stored(123456789012.5) == 123456789000.0
    assert stored({"a": [1 / 7, 3, True, None, "x"], "b": (0.1 + 0.2,)}) == \
        {"a": [0.1428571429, 3, True, None, "x"], "b": (0.3,)}
    assert math.isnan(stored(float("nan")))
    np.testing.assert_array_equal(stored(np.array([1 / 3, np.inf])), [0.3333333333, np.inf])
    frame = pd.DataFrame({"x": [1 / 3], "s": ["a"], "n": [7]})
    assert csv_text(frame) == "x,s,n\n0.3333333333,a,7\n"
    assert frame["x"].iloc[0] == 1 / 3       # the caller's table is not modified


def test_last_bit_differences_do_not_reach_the_file():
    a = 0.6280553572817162
    b = np.nextafter(a, 1.0)                  # one unit in the last place
    assert a != b
    assert to_json({"hr": a}) == to_json({"hr": b})
    assert csv_text(pd.DataFrame({"hr": [a]})) == csv_text(pd.DataFrame({"hr": [b]}))


def test_report_files_hold_at_most_ten_significant_digits(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.chdir(ROOT)
    data = pd.DataFrame({"study": ["A", "B", "C"], "hr": [0.5, 0.6, 0.7], "ci_low": [0.3, 0.4, 0.5],
                         "ci_high": [0.8, 0.9, 0.98]})
    f = tmp_path / "d.csv"
    data.to_csv(f, index=False)
    out = write_report(SPEC, tmp_path / "r", data=f)
    floats = list(_json_floats(json.loads((out / "summary.json").read_text())))
    assert len(floats) > 50
    # before: repr() of full doubles, e.g. 0.6280553572817162 (16 digits)
    assert max(_significant_digits(repr(x)) for x in floats) <= STORED_DIGITS
    for name in ("studies.csv", "sweep.csv", "influence.csv"):
        with open(out / name, newline="") as fh:
            cells = [c for row in csv.reader(fh) for c in row if NUMBER.match(c)]
        assert cells, name
        assert max(_significant_digits(c) for c in cells) <= STORED_DIGITS, name


@pytest.mark.parametrize("text, n", [("0.3333333333", 10), ("1.5e-05", 2), ("120", 3), ("-0.000123", 3),
                                     ("5", 1)])
def test_significant_digit_counter(text, n):
    assert _significant_digits(text) == n
