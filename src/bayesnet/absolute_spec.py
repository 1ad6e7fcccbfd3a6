"""The ``[[absolute]]`` section as data: baseline survival rows and their parser (read by
the spec layer). The absolute effects themselves are in `bayesnet.absolute`, which
re-exports these names."""

from __future__ import annotations

from dataclasses import dataclass

from .validate import Problems, is_num, is_str, loc

__all__ = ["AbsoluteRow", "parse_absolute"]


@dataclass(frozen=True)
class AbsoluteRow:
    """One ``[[absolute]]`` row: survival without the treatment at `time_years`, from a
    named source; `n` (optional) gives it Beta(n S, n (1 - S)) uncertainty."""

    time_years: float
    label: str
    survival: float
    n: float | None = None


def parse_absolute(rows, source: str = "spec") -> list[AbsoluteRow]:
    """Check the ``[[absolute]]`` array of tables (`source`, the file, prefixes every
    message); every problem in one SpecError, in the shared style of `bayesnet.validate`."""
    P = Problems(where=source)
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list):
        P.check("", "[[absolute]]", rows, lambda v: False,
                "an array of tables ([[absolute]] ... time_years, label, survival)")
        P.raise_if_any()
    out = []
    allowed = ("time_years", "label", "survival", "n")
    for i, r in enumerate(rows, start=1):
        w = f"[[absolute]] row {i}"
        if not P.table(w, r, '{ time_years = 5, label = "registry, no treatment", survival = 0.306 }'):
            continue
        n0 = len(P.items)
        P.keys(w, r, allowed)
        for k in ("time_years", "label", "survival"):
            if k not in r:
                P.add(f"{loc(w, k)}: missing; required: time_years, label, survival (optional: n)")
        if "time_years" in r:
            P.check(w, "time_years", r["time_years"], lambda v: is_num(v) and v > 0, "a positive number of years")
        if "survival" in r:
            P.check(w, "survival", r["survival"], lambda v: is_num(v) and 0 < v < 1,
                    "a proportion alive strictly between 0 and 1 (e.g. 0.306 for 30.6%)")
        if "label" in r:
            P.check(w, "label", r["label"], is_str, "a non-empty text naming the baseline and its source")
        n = r.get("n")
        if n is not None:
            P.check(w, "n", n, lambda v: is_num(v) and v > 0, "a positive number of patients")
        if len(P.items) == n0:
            out.append(AbsoluteRow(float(r["time_years"]), r["label"].strip(), float(r["survival"]),
                                   None if n is None else float(n)))
    P.raise_if_any()
    return out
