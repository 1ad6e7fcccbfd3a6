"""The content blocks of a report: what the text producers return and the renderers
(`bayesnet.report.render`) draw. Every text field is plain text (never markup): the HTML
template escapes it, the Markdown renderer passes it through `md_escape`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Block", "Heading", "Paragraph", "Bullets", "Notes", "Table", "Figure", "WhatIf"]


def _strs(items) -> tuple[str, ...]:
    return tuple(str(x) for x in items)


@dataclass(frozen=True)
class Heading:
    """A heading: level 1 is the report's title, level 2 a numbered section."""
    level: int
    text: str
    kind: str = field(default="heading", init=False, repr=False)


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: str = field(default="paragraph", init=False, repr=False)


@dataclass(frozen=True)
class Bullets:
    """An unordered list of sentences."""
    items: tuple[str, ...]
    kind: str = field(default="bullets", init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "items", _strs(self.items))


@dataclass(frozen=True)
class Notes:
    """Footnotes under a table (small print, one line each)."""
    items: tuple[str, ...]
    kind: str = field(default="notes", init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "items", _strs(self.items))


# a cell that holds numbers only: digits, intervals, bounds, percentages, a dagger, "n/a"
_NUMERIC_CELL = re.compile(r"^(?:n/a|[-+\u2013\u2212<>=.,%()\u2020\s\d]|to)+$")


def numeric_cell(cell: str) -> bool:
    """True for a cell a reader reads as numbers ("0.63", "0.37-0.97", "<0.001",
    "0.65 (0.56-0.76)\u2020", "n/a"): the renderer keeps it on one line."""
    return bool(re.search(r"\d|n/a", cell)) and bool(_NUMERIC_CELL.match(cell))


SHORT_CELL = 12  # characters: a column of cells this short is never wrapped


@dataclass(frozen=True)
class Table:
    """A table with its caption; cells are shown as str(cell). A column whose cells are
    all empty is not printed (with its header); every printed column needs a header.
    `numeric` says, per column, whether every non-empty cell is a number (the renderer
    never wraps inside those cells)."""
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str
    kind: str = field(default="table", init=False, repr=False)

    def __post_init__(self):
        header, rows = _strs(self.header), tuple(_strs(r) for r in self.rows)
        if any(len(r) != len(header) for r in rows):
            raise ValueError(f"table {self.caption!r}: every row needs {len(header)} cells (one per header)")
        if rows:
            keep = [j for j in range(len(header)) if any(r[j].strip() for r in rows)]
            header, rows = tuple(header[j] for j in keep), tuple(tuple(r[j] for j in keep) for r in rows)
        if any(not h.strip() for h in header):
            raise ValueError(f"table {self.caption!r}: every column needs a header, got {list(header)}")
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "rows", rows)

    @property
    def numeric(self) -> tuple[bool, ...]:
        return tuple(any(r[j].strip() for r in self.rows) and
                     all(numeric_cell(r[j]) for r in self.rows if r[j].strip())
                     for j in range(len(self.header)))

    @property
    def nowrap(self) -> tuple[bool, ...]:
        """Per column: never wrap its cells (numbers, or short cells such as "5 years")."""
        return tuple(n or all(len(r[j]) <= SHORT_CELL for r in self.rows)
                     for j, n in enumerate(self.numeric))


@dataclass(frozen=True)
class Figure:
    """A figure by its key in the renderer's {key: png path} mapping; a figure whose key
    is missing there is left out of the panel report."""
    key: str
    caption: str
    kind: str = field(default="figure", init=False, repr=False)


@dataclass(frozen=True)
class WhatIf:
    """The interactive what-if panel of report.html: a slider for the fixed common bias
    ratio R and a choice of threshold, showing P(HR < t) pooled and predictive and the
    absolute effects from a precomputed grid. `data` holds the grid's display texts
    (formatted by `bayesnet.format`; the page only picks them); `baselines` the rows of
    the absolute-effects table (label, time, survival without the treatment); Markdown
    shows the caption only."""
    data: dict
    thresholds: tuple[str, ...]
    default_threshold: str
    baselines: tuple[tuple[str, str, str], ...]
    caption: str
    kind: str = field(default="whatif", init=False, repr=False)


Block = Heading | Paragraph | Bullets | Notes | Table | Figure | WhatIf
