"""The content blocks of a report: what the text producers return and the renderers
(`bayesnet.report.render`) draw. Every text field is plain text (never markup): the HTML
template escapes it, the Markdown renderer passes it through `md_escape`."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Block", "Heading", "Paragraph", "Bullets", "Notes", "Table", "Figure"]


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


@dataclass(frozen=True)
class Table:
    """A table with its caption; cells are shown as str(cell)."""
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str
    kind: str = field(default="table", init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "header", _strs(self.header))
        object.__setattr__(self, "rows", tuple(_strs(r) for r in self.rows))


@dataclass(frozen=True)
class Figure:
    """A figure by its key in the renderer's {key: png path} mapping; a figure whose key
    is missing there is left out of the panel report."""
    key: str
    caption: str
    kind: str = field(default="figure", init=False, repr=False)


Block = Heading | Paragraph | Bullets | Notes | Table | Figure
