"""Selections: which rows enter an analysis, and why every other row does not.

A selection is a small TOML file (see ``models/selections/``)::

    name = "primary"
    description = "..."
    [[filter]]                       # rows must pass every filter, in order
    column = "outcome"
    values = ["OS", "unspecified"]
    match = "exact"                  # "exact" | "prefix"
    reason = "outcome is not overall survival"
    [overlap]                        # optional: one row per shared source population
    column = "overlap_group"
    keep = "largest"                 # "largest" | "most_recent" | "all"
    size_column = "n_total"
    year_column = "year"

Excluded rows are kept with the first reason that removed them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Selection", "select", "select_overlap", "load_selection", "KEEP_RULES"]

KEEP_RULES = ("largest", "most_recent", "all")


@dataclass
class Selection:
    name: str
    description: str = ""
    filters: list[dict] = field(default_factory=list)
    overlap: dict | None = None
    include: list[str] | None = None
    exclude: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict, origin: str = "<selection>") -> "Selection":
        allowed = {"name", "description", "filter", "overlap", "include", "exclude"}
        unknown = set(d) - allowed
        if unknown:
            raise ValueError(f"{origin}: unknown selection key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        for f in d.get("filter", []):
            bad = set(f) - {"column", "values", "match", "reason"}
            if bad or "column" not in f or "values" not in f:
                raise ValueError(f"{origin}: a [[filter]] needs 'column' and 'values' (optional 'match', 'reason'); got {sorted(f)}")
            if f.get("match", "exact") not in ("exact", "prefix"):
                raise ValueError(f"{origin}: filter match must be 'exact' or 'prefix', got {f['match']!r}")
        ov = d.get("overlap")
        if ov is not None:
            bad = set(ov) - {"column", "keep", "size_column", "year_column"}
            if bad:
                raise ValueError(f"{origin}: unknown [overlap] key(s) {sorted(bad)}")
            if ov.get("keep", "largest") not in KEEP_RULES:
                raise ValueError(f"{origin}: overlap keep must be one of {KEEP_RULES}, got {ov['keep']!r}")
        return cls(name=d.get("name", "selection"), description=d.get("description", ""),
                   filters=list(d.get("filter", [])), overlap=ov,
                   include=d.get("include"), exclude=list(d.get("exclude", [])))


def load_selection(path: str | Path) -> Selection:
    path = Path(path)
    with open(path, "rb") as fh:
        return Selection.from_dict(tomllib.load(fh), origin=str(path))


def _text(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()


def select_overlap(df: pd.DataFrame, keep: str = "largest", column: str = "overlap_group",
                   size_column: str = "n_total", year_column: str = "year") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep one row per shared source population (rows with the same `column` value).

    keep = "largest" keeps the row with the largest `size_column` (ties: most recent,
    then first in file order); "most_recent" the largest `year_column` (ties: largest,
    then file order); "all" keeps every row. Rows without a group are always kept.
    Returns (kept, excluded) with excluded carrying a ``reason`` column."""
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {KEEP_RULES}, got {keep!r}")
    if keep == "all" or column not in df.columns:
        return df, df.iloc[0:0].assign(reason=pd.Series(dtype=str))
    size = pd.to_numeric(df.get(size_column), errors="coerce") if size_column in df else pd.Series(np.nan, index=df.index)
    year = pd.to_numeric(df.get(year_column), errors="coerce") if year_column in df else pd.Series(np.nan, index=df.index)
    drop, reasons = [], []
    groups = df[column].map(_text)
    for g in groups[groups != ""].unique():
        idx = list(groups.index[groups == g])
        if len(idx) < 2:
            continue
        s, y = size.loc[idx].fillna(-np.inf), year.loc[idx].fillna(-np.inf)
        order = sorted(idx, key=lambda i: ((-s[i], -y[i]) if keep == "largest" else (-y[i], -s[i]), idx.index(i)))
        winner = order[0]
        label = df.loc[winner, "study"] if "study" in df else winner
        for i in order[1:]:
            drop.append(i)
            rule = f"largest {size_column}" if keep == "largest" else f"most recent {year_column}"
            reasons.append(f"same source population '{g}' as {label}, which is kept ({rule})")
    excluded = df.loc[drop].assign(reason=reasons)
    return df.drop(index=drop), excluded


def select(df: pd.DataFrame, selection: Selection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply a selection to a raw study table. Returns (selected, excluded); ``excluded``
    has every removed row with a ``reason`` column."""
    excluded = []
    cur = df
    ids = cur["study"].astype(str) if "study" in cur else pd.Series(dtype=str)
    if selection.include is not None:
        missing = set(selection.include) - set(ids)
        if missing:
            raise ValueError(f"selection '{selection.name}': include lists unknown study ids {sorted(missing)}")
        mask = cur["study"].isin(selection.include)
        excluded.append(cur[~mask].assign(reason="not in the selection's include list"))
        cur = cur[mask]
    if selection.exclude:
        missing = set(selection.exclude) - set(ids)
        if missing:
            raise ValueError(f"selection '{selection.name}': exclude lists unknown study ids {sorted(missing)}")
        mask = cur["study"].isin(selection.exclude)
        excluded.append(cur[mask].assign(reason="in the selection's exclude list"))
        cur = cur[~mask]
    for f in selection.filters:
        col = f["column"]
        if col not in cur.columns:
            raise ValueError(f"selection '{selection.name}': filter column '{col}' is not in the data "
                             f"(columns: {', '.join(map(str, cur.columns))})")
        vals = [str(v) for v in f["values"]]
        txt = cur[col].map(_text)
        if f.get("match", "exact") == "prefix":
            mask = txt.map(lambda s: any(s.startswith(v) for v in vals))
        else:
            mask = txt.isin(vals)
        reason = f.get("reason", f"{col} not in {vals}")
        rej = cur[~mask]
        excluded.append(rej.assign(reason=[f"{reason} ({col} = '{_text(v) or 'missing'}')" for v in rej[col]]))
        cur = cur[mask]
    if selection.overlap is not None:
        o = selection.overlap
        cur, ex = select_overlap(cur, keep=o.get("keep", "largest"), column=o.get("column", "overlap_group"),
                                 size_column=o.get("size_column", "n_total"), year_column=o.get("year_column", "year"))
        excluded.append(ex)
    excl = pd.concat([e for e in excluded if len(e)], axis=0) if any(len(e) for e in excluded) else df.iloc[0:0].assign(reason=pd.Series(dtype=str))
    return cur, excl.sort_index()
