"""Selections: which rows enter an analysis, and why every other row does not.

A selection is a small TOML file (see ``models/selections/``)::

    name = "primary"
    description = "..."
    [[filter]]                       # rows must pass every filter, in order
    column = "outcome"
    values = ["OS", "unspecified"]
    match = "exact"                  # "exact" | "prefix"
    reason = "outcome is not overall survival"
    [overlap]                        # optional: at most one row of rows sharing patients
    column = "overlap_group"
    overlaps_column = "overlaps_with" # groups this row's population shares (";" or "," separated)
    keep = "best_adjusted"           # one of KEEP_RULES: best_adjusted | largest | most_recent | all
    size_column = "n_total"
    year_column = "year"
    design_column = "design"         # best_adjusted: design "propensity..." ranks first
    adjusted_column = "adjusted"     # best_adjusted: adjusted = yes ranks next

Excluded rows are kept with the first reason that removed them. `select_family` keeps one
registry family at a time (a sensitivity analysis); `display_labels` gives display names.
Every problem raises `SelectionError`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SelectionError
from .table import is_blank

__all__ = [
    "KEEP_RULES",
    "Selection",
    "SelectionError",
    "adjustment_rank",
    "display_labels",
    "load_selection",
    "select",
    "select_family",
    "select_overlap",
]

#: The overlap rules, best first (the CLI offers these as choices).
KEEP_RULES = ("best_adjusted", "largest", "most_recent", "all")


@dataclass
class Selection:
    name: str
    description: str = ""
    filters: list[dict] = field(default_factory=list)
    overlap: dict | None = None
    include: list[str] | None = None
    exclude: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict, origin: str = "<selection>") -> Selection:
        """Build a selection from a TOML table; every problem raises SelectionError naming
        `origin`, the key and what is allowed."""
        from ..validate import Problems, is_str_list

        P = Problems(where=origin, error=SelectionError)
        if not P.table("", d, "name = \"primary\" with [[filter]] and [overlap] tables"):
            P.raise_if_any()
        P.keys("", d, ("name", "description", "filter", "overlap", "include", "exclude"), noun="selection key(s)")
        for key in ("name", "description"):
            if key in d:
                P.check("", key, d[key], lambda v: isinstance(v, str), "a text string in quotes")
        filters = d.get("filter", [])
        if not P.check("", "filter", filters, lambda v: isinstance(v, list) and all(isinstance(f, dict) for f in v),
                       "a list of [[filter]] tables (column, values, optional match, reason)"):
            filters = []
        for n, f in enumerate(filters, 1):
            where = f"[[filter]] #{n}"
            P.keys(where, f, ("column", "values", "match", "reason"))
            for req in ("column", "values"):
                if req not in f:
                    P.add(f"{where}: needs '{req}' (keys: column, values, optional match, reason)")
            if "column" in f:
                P.check(where, "column", f["column"], lambda v: isinstance(v, str), "a column name (string)")
            if "values" in f:
                P.check(where, "values", f["values"], lambda v: isinstance(v, list), "a list, e.g. values = [\"OS\"]")
            if "match" in f:
                P.choice(where, "match", f["match"], ("exact", "prefix"))
        ov = d.get("overlap")
        if ov is not None and P.table("overlap", ov, "[overlap] with column, keep, ..."):
            okeys = ("column", "keep", "size_column", "year_column", "overlaps_column", "design_column",
                     "adjusted_column")
            P.keys("overlap", ov, okeys)
            if "keep" in ov:
                P.choice("overlap", "keep", ov["keep"], KEEP_RULES)
            for k in okeys[2:] + ("column",):
                if k in ov:
                    P.check("overlap", k, ov[k], lambda v: isinstance(v, str), "a column name (string)")
        for key in ("include", "exclude"):
            if d.get(key) is not None:
                P.check("", key, d[key], is_str_list, "a list of study ids (strings), e.g. [\"Smith 2019\"]")
        P.raise_if_any()
        return cls(name=d.get("name", "selection"), description=d.get("description", ""),
                   filters=list(filters), overlap=ov,
                   include=d.get("include"), exclude=list(d.get("exclude", [])))


def load_selection(path: str | Path) -> Selection:
    """Read a selection TOML file (SelectionError when it cannot be read or parsed)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            d = tomllib.load(fh)
    except FileNotFoundError:
        raise SelectionError(f"selection file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SelectionError(f"{path}: cannot read the selection ({exc}); fix the TOML syntax") from None
    return Selection.from_dict(d, origin=str(path))


def _text(v) -> str:
    return "" if is_blank(v) else str(v).strip()


_SEP = re.compile(r"[;,]")
_RANK_NAME = {3: "propensity-score adjusted (matched or weighted)", 2: "multivariable-adjusted", 1: "unadjusted or adjustment not reported"}


def adjustment_rank(design, adjusted) -> int:
    """3 for a propensity-score design (``design`` starting with "propensity": matched or
    IPTW-weighted), 2 for ``adjusted = yes`` (multivariable Cox), 1 otherwise (``no``,
    ``unknown`` or missing: not documented as adjusted)."""
    if _text(design).lower().startswith("propensity"):
        return 3
    return 2 if _text(adjusted).lower() == "yes" else 1


def _links(v) -> set[str]:
    return {t.strip() for t in _SEP.split(_text(v)) if t.strip()}


def _num(v) -> float:
    try:
        x = float(_text(v))
    except ValueError:
        return float("nan")
    return x if np.isfinite(x) else float("nan")


def _require(df: pd.DataFrame, columns, rule: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SelectionError(
            f"overlap rule '{rule}' needs the column(s) {', '.join(repr(c) for c in missing)}, which the data "
            f"do not have (columns: {', '.join(map(str, df.columns))}); add the column or choose another rule "
            f"({', '.join(KEEP_RULES)})")


def select_overlap(df: pd.DataFrame, keep: str = "best_adjusted", column: str = "overlap_group",
                   size_column: str = "n_total", year_column: str = "year",
                   overlaps_column: str | None = None, design_column: str = "design",
                   adjusted_column: str = "adjusted") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep at most one row of any set of rows that share patients.

    Two rows conflict when they have the same non-empty `column` value (overlap group) or
    one row's `overlaps_column` (groups separated by ";" or ",") names the other's group.
    Rows are ranked by the rule and taken best first; a row is kept when it conflicts with
    no row kept before it (a greedy maximal conflict-free set). Rules (`KEEP_RULES`):

    - ``best_adjusted``: propensity-score (matched/IPTW) > multivariable (``adjusted =
      yes``) > unadjusted or not reported (`adjustment_rank`), then larger `size_column`,
      then more recent `year_column`;
    - ``largest``: larger `size_column`, then more recent;
    - ``most_recent``: more recent `year_column`, then larger;
    - ``all``: every row is kept.

    Ties left after these keys are broken by the study id (``study``, else ``study_id``)
    in alphabetical order, never by file order; a missing size or year ranks last.
    `overlaps_column` defaults to "overlaps_with" when the data have it; named explicitly it
    must exist. Returns (kept, excluded); each excluded row's ``reason`` names the kept row
    it conflicts with, the shared group and the rule.
    Raises SelectionError when a column the rule needs is missing."""
    if keep not in KEEP_RULES:
        raise SelectionError(f"overlap keep rule {keep!r} is not known; choose one of {', '.join(KEEP_RULES)}")
    empty = df.iloc[0:0].assign(reason=pd.Series(dtype=str))
    if keep == "all":
        return df, empty
    needed = [column] + {"best_adjusted": [design_column, adjusted_column, size_column], "largest": [size_column],
                         "most_recent": [year_column]}[keep]
    if overlaps_column is not None:
        needed.append(overlaps_column)
    _require(df, needed, keep)
    links_col = overlaps_column if overlaps_column is not None else (
        "overlaps_with" if "overlaps_with" in df.columns else None)
    ids = df["study"] if "study" in df.columns else (df["study_id"] if "study_id" in df.columns else pd.Series(
        [f"<row {i + 1}>" for i in range(len(df))], index=df.index))
    ids = ids.map(_text)
    group = df[column].map(_text)
    links = df[links_col].map(_links) if links_col else pd.Series([set()] * len(df), index=df.index)
    size = df[size_column].map(_num) if size_column in df.columns else pd.Series(np.nan, index=df.index)
    year = df[year_column].map(_num) if year_column in df.columns else pd.Series(np.nan, index=df.index)
    rank = (pd.Series([adjustment_rank(d, a) for d, a in zip(df[design_column], df[adjusted_column])], index=df.index)
            if keep == "best_adjusted" else pd.Series(0, index=df.index))

    def key(i):
        s = -size[i] if np.isfinite(size[i]) else np.inf
        y = -year[i] if np.isfinite(year[i]) else np.inf
        k = {"best_adjusted": (-rank[i], s, y), "largest": (s, y), "most_recent": (y, s)}[keep]
        return (*k, ids[i])

    def conflict(i, j) -> str | None:
        gi, gj = group[i], group[j]
        if gi and gi == gj:
            return f"same source population '{gi}'"
        if gj and gj in links[i]:
            return f"its population overlaps '{gj}' (overlaps_with)"
        if gi and gi in links[j]:
            return f"population '{gi}' overlaps theirs ('{gj or 'no group'}' lists it in overlaps_with)"
        return None

    def same(a, b) -> bool:
        return (np.isnan(a) and np.isnan(b)) or a == b

    def fmt(x) -> str:
        return "missing" if not np.isfinite(x) else f"{x:g}"

    def why(w, i) -> str:
        """The first rule key on which the kept row w beats the dropped row i."""
        steps = {"best_adjusted": ("rank", "size", "year"), "largest": ("size", "year"),
                 "most_recent": ("year", "size")}[keep]
        for st in steps:
            if st == "rank" and rank[w] != rank[i]:
                return f"{_RANK_NAME[rank[w]]} preferred to {_RANK_NAME[rank[i]]}"
            if st == "size" and not same(size[w], size[i]):
                return f"larger {size_column} ({fmt(size[w])} vs {fmt(size[i])})"
            if st == "year" and not same(year[w], year[i]):
                return f"more recent {year_column} ({fmt(year[w])} vs {fmt(year[i])})"
        return "tied on every key of the rule, broken by study id in alphabetical order"

    order = sorted(df.index, key=key)
    kept: list = []
    drop, reasons = [], []
    for i in order:
        hit = next(((w, c) for w in kept if (c := conflict(i, w)) is not None), None)
        if hit is None:
            kept.append(i)
            continue
        w, c = hit
        drop.append(i)
        reasons.append(f"shares patients with {ids[w]}, which is kept: {c}; rule {keep}: {why(w, i)}")
    excluded = df.loc[drop].assign(reason=reasons) if drop else empty
    return df.drop(index=drop), excluded


def select_family(df: pd.DataFrame, family: str, column: str = "registry_family") -> tuple[pd.DataFrame, pd.DataFrame]:
    """One registry family at a time: keep the rows whose `column` is `family` and the rows
    with no family (institutional series); exclude the other families' rows. Returns
    (kept, excluded) with a ``reason``. Raises SelectionError when the column is missing or
    no row has that family."""
    if column not in df.columns:
        raise SelectionError(f"registry family selection needs the column '{column}', which the data do not have "
                             f"(columns: {', '.join(map(str, df.columns))}); add it (e.g. SEER, NCDB, or empty)")
    fam = df[column].map(_text)
    known = sorted(set(fam) - {""})
    if family not in known:
        raise SelectionError(f"registry family '{family}' is not in column '{column}' (families: "
                             f"{', '.join(known) or 'none'})")
    mask = (fam == family) | (fam == "")
    rej = df[~mask]
    return df[mask], rej.assign(reason=[f"another registry family ({column} = '{f}'); only {family} rows and "
                                        f"non-registry rows are kept" for f in fam[~mask]])


def display_labels(df: pd.DataFrame, column: str = "label", id_column: str = "study") -> list[str]:
    """Display names for tables and figures: the `column` text where given, else the study
    id; labels shared by several rows get the outcome (if it differs) and then the study id
    appended, so that every row stays distinguishable. Ids are never changed."""
    ids = [_text(v) for v in df[id_column]] if id_column in df.columns else [str(i) for i in df.index]
    base = [(_text(v) or i) for v, i in zip(df[column], ids)] if column in df.columns else list(ids)
    counts = pd.Series(base).value_counts()
    out = []
    for b, i in zip(base, ids):
        out.append(b if counts[b] == 1 or b == i else f"{b} [{i}]")
    return out


def select(df: pd.DataFrame, selection: Selection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply a selection to a raw study table. Returns (selected, excluded); ``excluded``
    has every removed row with a ``reason`` column."""
    excluded = []
    cur = df
    ids = cur["study"].astype(str) if "study" in cur else pd.Series(dtype=str)
    if selection.include is not None:
        missing = set(selection.include) - set(ids)
        if missing:
            raise SelectionError(f"selection '{selection.name}': include lists unknown study ids {sorted(missing)}")
        mask = cur["study"].isin(selection.include)
        excluded.append(cur[~mask].assign(reason="not in the selection's include list"))
        cur = cur[mask]
    if selection.exclude:
        missing = set(selection.exclude) - set(ids)
        if missing:
            raise SelectionError(f"selection '{selection.name}': exclude lists unknown study ids {sorted(missing)}")
        mask = cur["study"].isin(selection.exclude)
        excluded.append(cur[mask].assign(reason="in the selection's exclude list"))
        cur = cur[~mask]
    for f in selection.filters:
        col = f["column"]
        if col not in cur.columns:
            raise SelectionError(f"selection '{selection.name}': filter column '{col}' is not in the data "
                             f"(columns: {', '.join(map(str, cur.columns))})")
        vals = [str(v) for v in f["values"]]
        txt = cur[col].map(_text)
        if f.get("match", "exact") == "prefix":
            mask = txt.map(lambda s, vals=tuple(vals): s.startswith(vals))
        else:
            mask = txt.isin(vals)
        reason = f.get("reason", f"{col} not in {vals}")
        rej = cur[~mask]
        excluded.append(rej.assign(reason=[f"{reason} ({col} = '{_text(v) or 'missing'}')" for v in rej[col]]))
        cur = cur[mask]
    if selection.overlap is not None:
        o = selection.overlap
        cur, ex = select_overlap(cur, keep=o.get("keep", "best_adjusted"), column=o.get("column", "overlap_group"),
                                 size_column=o.get("size_column", "n_total"), year_column=o.get("year_column", "year"),
                                 overlaps_column=o.get("overlaps_column"), design_column=o.get("design_column", "design"),
                                 adjusted_column=o.get("adjusted_column", "adjusted"))
        excluded.append(ex)
    excl = pd.concat([e for e in excluded if len(e)], axis=0) if any(len(e) for e in excluded) else df.iloc[0:0].assign(reason=pd.Series(dtype=str))
    return cur, excl.sort_index()
