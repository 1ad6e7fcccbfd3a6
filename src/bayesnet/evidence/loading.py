"""One entry point from 'a dataset or a file, plus a selection' to an EvidenceTable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import datasets
from ..errors import EvidenceError, SelectionError
from .reading import ROW_COLUMN, read_table
from .selection import Selection, display_labels, load_selection
from .selection import select as apply_selection
from .table import EvidenceTable
from .validation import _normalise, derive


def resolve_selection(select: str | Selection | dict | None, dataset: str | None,
                      base_dir: Path | None) -> Selection | None:
    """The Selection meant by `select`: a Selection as is, a dict, a selection name of
    `dataset` or a TOML path (relative to `base_dir`); None for no selection."""
    if select is None or isinstance(select, Selection):
        return select
    if isinstance(select, dict):
        return Selection.from_dict(select)
    candidates = []
    if base_dir is not None and dataset:
        candidates.append(base_dir / "selections" / f"{dataset}_{select}.toml")
    if base_dir is not None:
        candidates.append(base_dir / select)
    p = Path(select)
    if p.suffix == ".toml":
        candidates.append(p)
    for c in candidates:
        if c.exists():
            return load_selection(c)
    if dataset:
        return load_selection(datasets.selection_path(dataset, select))
    raise SelectionError(f"selection '{select}' not found (looked in: {', '.join(map(str, candidates)) or 'nowhere'})")


def load_evidence(*, dataset: str | None = None, path: str | Path | None = None,
                  data: pd.DataFrame | None = None, select: str | Selection | dict | None = None,
                  base_dir: Path | None = None, select_: str | Selection | dict | None = None) -> EvidenceTable:
    """Load a shipped dataset, a CSV file or a DataFrame, apply a selection (a name such
    as "primary", a TOML path, a dict or a `Selection`), and derive the evidence table.
    The rows the selection removed are in ``EvidenceTable.excluded`` with their reason
    (and ``_row``, their data row in the file).

    A file is read by `bayesnet.evidence.reading.read_table`; column names are normalised
    (`bayesnet.evidence.validation.normalise_columns`) before the selection, and every row
    keeps its data row of the file (``_row``), so that messages name the row of the file
    even after a selection removed rows. Raises `EvidenceError` listing every problem."""
    if select_ is not None:
        import warnings

        warnings.warn("load_evidence(select_=...) is deprecated; use select=...", DeprecationWarning, stacklevel=2)
        if select is not None:
            raise TypeError("give select= only (select_ is its deprecated alias)")
        select = select_
    if sum(x is not None for x in (dataset, path, data)) != 1:
        raise ValueError("give exactly one of dataset=, path= or data=")
    notes = []
    if dataset is not None:
        raw, source = datasets.load(dataset), f"dataset '{dataset}'"
    elif path is not None:
        source = str(path)
        raw, notes = read_table(path, source)
    else:
        raw, source = data.copy(), "<DataFrame>"
    raw = raw.reset_index(drop=True)
    if ROW_COLUMN not in raw.columns:
        raw[ROW_COLUMN] = range(1, len(raw) + 1)
    raw, col_problems, duplicated = _normalise(raw, source)
    if duplicated:  # no row can be read unambiguously
        raise EvidenceError(notes + col_problems)
    notes = notes + [p for p in col_problems if p.level == "warning"]  # derive finds the errors again, with the rows'
    if "study" not in raw.columns and "study_id" in raw.columns:
        raw.insert(0, "study", raw["study_id"])
    sel = resolve_selection(select, dataset, base_dir)
    excluded = None
    if sel is not None:
        raw, excluded = apply_selection(raw, sel)
    elif dataset is not None:  # curated rows that cannot be pooled: documented exclusions
        raw, excluded = datasets.documented_exclusions(dataset, raw)
    ev = derive(raw.reset_index(drop=True), source=source, notes=notes)
    ev.excluded = excluded
    ev.table["label"] = display_labels(ev.table)  # display names; ids stay in "study"
    return ev
