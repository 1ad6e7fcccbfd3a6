"""One entry point from 'a dataset or a file, plus a selection' to an EvidenceTable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import datasets
from .selection import Selection, load_selection, select
from .validation import EvidenceTable, derive, read_evidence


def _resolve_selection(select_: str | Selection | dict | None, dataset: str | None,
                       base_dir: Path | None) -> Selection | None:
    if select_ is None or isinstance(select_, Selection):
        return select_
    if isinstance(select_, dict):
        return Selection.from_dict(select_)
    candidates = []
    if base_dir is not None and dataset:
        candidates.append(base_dir / "selections" / f"{dataset}_{select_}.toml")
    if base_dir is not None:
        candidates.append(base_dir / select_)
    p = Path(select_)
    if p.suffix == ".toml":
        candidates.append(p)
    for c in candidates:
        if c.exists():
            return load_selection(c)
    if dataset:
        return load_selection(datasets.selection_path(dataset, select_))
    raise KeyError(f"selection '{select_}' not found (looked in: {', '.join(map(str, candidates)) or 'nowhere'})")


def load_evidence(*, dataset: str | None = None, path: str | Path | None = None,
                  data: pd.DataFrame | None = None, select_: str | Selection | dict | None = None,
                  base_dir: Path | None = None) -> EvidenceTable:
    """Load a shipped dataset, a CSV file or a DataFrame, apply a selection (a name such
    as "primary", a TOML path, a dict or a `Selection`), and derive the evidence table.
    The rows the selection removed are in ``EvidenceTable.excluded`` with their reason."""
    if sum(x is not None for x in (dataset, path, data)) != 1:
        raise ValueError("give exactly one of dataset=, path= or data=")
    if dataset is not None:
        raw, source = datasets.load(dataset), f"dataset '{dataset}'"
    elif path is not None:
        raw, source = read_evidence(path), str(path)
    else:
        raw, source = data.copy(), "<DataFrame>"
    if "study" not in raw.columns and "study_id" in raw.columns:
        raw.insert(0, "study", raw["study_id"])
    sel = _resolve_selection(select_, dataset, base_dir)
    excluded = None
    if sel is not None:
        raw, excluded = select(raw, sel)
    ev = derive(raw.reset_index(drop=True), source=source)
    ev.excluded = excluded
    return ev
