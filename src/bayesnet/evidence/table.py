"""The types every evidence stage hands on: `Problem` (one finding in the input, with
where it is and how to fix it), `EvidenceTable` (a validated table of study effects on
the log-HR scale) and `EvidenceError` (raised with every error found in one pass; the
class lives in `bayesnet.errors` with the other user-facing errors)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import EvidenceError
from .conversions import z_for_level

__all__ = ["Problem", "EvidenceError", "EvidenceTable", "is_blank", "MISSING_TOKENS"]

# text a spreadsheet or CSV writes for "no value"
MISSING_TOKENS = ("", "NA", "NaN", "nan", "N/A", "n/a", "None", "null")


def is_blank(v) -> bool:
    """True when an evidence cell holds no value: None, a float NaN, pandas NA/NaT, or
    text that is empty, whitespace or a missing-value token (MISSING_TOKENS: "NA",
    "N/A", "NaN", "None", "null", ...). The one test of "is this cell empty" used by the
    reader, the validator, the arm tables, the selections and the summaries."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)):
        return bool(np.isnan(v))
    return isinstance(v, str) and v.strip() in MISSING_TOKENS


@dataclass(frozen=True)
class Problem:
    """One problem found in the input: where it is, what is wrong and how to fix it."""

    level: str  # "error" | "warning"
    source: str
    row: int | None  # 1-based data row (the header is not counted)
    study: str | None
    column: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.study:
            where.append(f"study '{self.study}'")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{self.level}: {', '.join(where)}: {self.message}. Fix: {self.fix}"


@dataclass
class EvidenceTable:
    """A validated evidence table.

    ``table`` has one row per study estimate with columns study, log_hr, se, derivation,
    warnings and every input column carried through; ``problems`` lists the warnings
    (errors never reach an EvidenceTable); ``excluded`` lists rows a selection removed,
    with the reason."""

    table: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    source: str = "<DataFrame>"
    excluded: pd.DataFrame | None = None

    @property
    def k(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        """One line: the source, the number of studies, exclusions and warnings (the rows
        are in ``.table``; ``display_table()`` shows them with HRs and CIs)."""
        ex = 0 if self.excluded is None else len(self.excluded)
        parts = [f"{self.k} {'study' if self.k == 1 else 'studies'} from {self.source}"]
        if ex:
            parts.append(f"{ex} row(s) excluded (.excluded)")
        if self.problems:
            parts.append(f"{len(self.problems)} warning(s) (.problems)")
        return f"<EvidenceTable: {'; '.join(parts)}>"

    def _repr_html_(self) -> str:
        """In a notebook: the one-line summary and the studies with their HR and CI."""
        import html

        cols = [c for c in ("label", "study") if c in self.table.columns][:1]
        shown = self.display_table()
        if cols == ["label"]:
            shown.insert(0, "label", self.table["label"].to_numpy())
        return f"<p>{html.escape(repr(self))}</p>" + shown.to_html(index=False, float_format=lambda x: f"{x:.3g}")

    @property
    def studies(self) -> list[str]:
        return list(self.table["study"])

    def display_table(self, level: float = 0.95) -> pd.DataFrame:
        """Study, HR with its CI at `level`, log_hr, se, derivation, warnings."""
        t = self.table
        z = z_for_level(level)
        return pd.DataFrame({
            "study": t["study"],
            "hr": np.exp(t["log_hr"]),
            "ci_low": np.exp(t["log_hr"] - z * t["se"]),
            "ci_high": np.exp(t["log_hr"] + z * t["se"]),
            "log_hr": t["log_hr"],
            "se": t["se"],
            "derivation": t["derivation"],
            "warnings": t["warnings"],
        })
