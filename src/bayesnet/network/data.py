"""Network evidence: contrast rows with a `treatment` column, validated in one pass.

Two layouts, mixable study by study (one study uses one of them):

* One row per arm (multinma's `set_agd_contrast` convention; Phillippo 2024, multinma
  documentation): the study's *baseline* arm is the row with no effect statement, its
  ``se`` the standard error of the baseline arm's log hazard (the covariance of the
  study's contrasts: Var(y_k) = se_k^2, Cov(y_k, y_l) = se_0^2 for two contrasts k, l
  against the same baseline). Every other arm states its log-HR versus the baseline in
  any form bayesnet reads (log_hr + se, hr + ci_low + ci_high, hr + p_value, ...; see
  `bayesnet.evidence.validation`), ``se`` its contrast's standard error.
  A two-arm study needs no baseline se. A multi-arm study without it is refused, unless
  the baseline row gives ``events`` (deaths in the baseline arm): then se_0^2 = 1/events
  (the baseline arm's share of the log-rank variance of a log-HR, 1/E_0 + 1/E_1; Parmar
  et al. 1998, Stat Med 17:2815-34; Woods et al. 2010, BMC Med Res Methodol 10:54), with
  a warning naming the study.
* One row per two-arm study with ``treatment`` and ``comparator``: the HR of treatment
  versus comparator.

Problems are collected in one pass (`EvidenceError` with every `Problem`): a row without a
treatment, a study without a baseline row or with two, a treatment twice in a study, a
multi-arm study without the baseline se (or events), a contrast se not above the baseline
se (the study's covariance would not be positive definite), a disconnected network (the
message names the components). A treatment in one study only is a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import EvidenceError
from ..evidence.reading import ROW_COLUMN, read_table
from ..evidence.table import Problem, is_blank
from ..evidence.validation import derive

__all__ = ["EFFECT_COLUMNS", "NetworkData", "NetworkStudy", "is_network_file", "is_network_table", "read_network"]

#: Columns that state an effect; a row of an arm layout with none of them is the baseline arm.
EFFECT_COLUMNS = ("log_hr", "hr", "ci_low", "ci_high", "p_value", "o_minus_e", "v", "surv_treated",
                  "surv_control", "median_treated", "median_control")
ARM_SIZE_COLUMNS = ("n", "n_arm")


def is_network_table(df: pd.DataFrame) -> bool:
    """True when the rows name a treatment (a `treatment` column, any case): a network."""
    return any(str(c).strip().lower() == "treatment" for c in df.columns)


def is_network_file(path) -> bool:
    """True when a CSV's header line has a `treatment` column (a bounded read of the first
    line; the file is validated in full by `read_network`)."""
    from ..evidence.reading import header_columns

    return "treatment" in (header_columns(path) or set())


@dataclass(frozen=True)
class NetworkStudy:
    """One study: its arms (the first is its baseline), the log-HRs of the other arms versus
    the baseline (y), their covariance (cov), arm sizes (NaN where not given) and the rows of
    the file each contrast came from."""

    name: str
    arms: tuple[str, ...]
    y: np.ndarray
    cov: np.ndarray
    n: tuple[float, ...] = ()
    rows: tuple[int, ...] = ()
    covariates: dict = field(default_factory=dict)

    @property
    def n_arms(self) -> int:
        return len(self.arms)

    def rebased(self, arms: tuple[str, ...], name: str | None = None) -> NetworkStudy:
        """The same evidence as contrasts against arms[0] for the arms listed (a subset, in
        that order): y' = B y, cov' = B cov B' with B the change-of-baseline matrix (as
        gemtc's cob.matrix; van Valkenhoef et al. 2016, Res Synth Methods 7:80-93). Exact
        for contrast data: the log-HR of k vs a is (k vs base) - (a vs base)."""
        idx = {t: i for i, t in enumerate(self.arms)}
        B = np.zeros((len(arms) - 1, len(self.arms) - 1))
        for i, t in enumerate(arms[1:]):
            if idx[t] > 0:
                B[i, idx[t] - 1] += 1.0
            if idx[arms[0]] > 0:
                B[i, idx[arms[0]] - 1] -= 1.0
        n = tuple(self.n[idx[t]] for t in arms) if self.n else ()
        return NetworkStudy(name or self.name, tuple(arms), B @ self.y, B @ self.cov @ B.T, n, self.rows,
                            self.covariates)


@dataclass(frozen=True)
class NetworkData:
    """A validated network: treatments (sorted), the reference, the studies, the contrast
    table (one row per contrast: study, treatment, comparator, log_hr, se, derivation) and
    the warnings."""

    treatments: tuple[str, ...]
    reference: str
    studies: tuple[NetworkStudy, ...]
    table: pd.DataFrame
    problems: tuple[Problem, ...] = ()
    source: str = "<DataFrame>"

    @property
    def k(self) -> int:
        return len(self.studies)

    @property
    def others(self) -> tuple[str, ...]:
        """The non-reference treatments, in order: the basic parameters d[t] = log-HR of t vs
        the reference."""
        return tuple(t for t in self.treatments if t != self.reference)

    @property
    def n_contrasts(self) -> int:
        return sum(s.n_arms - 1 for s in self.studies)

    def with_reference(self, reference: str) -> NetworkData:
        if reference not in self.treatments:
            from ..errors import ModelError

            raise ModelError(f"[network].reference: {reference!r} is not a treatment of the network; "
                             f"the treatments are {', '.join(self.treatments)}")
        return NetworkData(self.treatments, reference, self.studies, self.table, self.problems, self.source)

    def edges(self) -> dict[tuple[str, str], list[str]]:
        """(a, b) with a < b -> the studies comparing them directly (multi-arm studies add
        every pair of their arms)."""
        out: dict[tuple[str, str], list[str]] = {}
        for s in self.studies:
            arms = sorted(s.arms)
            for i, a in enumerate(arms):
                for b in arms[i + 1:]:
                    out.setdefault((a, b), []).append(s.name)
        return out

    def arm_sizes(self) -> dict[str, float]:
        """Patients per treatment summed over the studies that give arm sizes (NaN-free)."""
        out = {t: 0.0 for t in self.treatments}
        for s in self.studies:
            for t, n in zip(s.arms, s.n or (), strict=False):
                if np.isfinite(n):
                    out[t] += float(n)
        return out


def components(treatments, studies) -> list[list[str]]:
    """The connected components of the network (each sorted; the largest first)."""
    parent = {t: t for t in treatments}

    def find(t):
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for s in studies:
        for t in s.arms[1:]:
            parent[find(t)] = find(s.arms[0])
    groups: dict[str, list[str]] = {}
    for t in treatments:
        groups.setdefault(find(t), []).append(t)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g))


def _num(v) -> float:
    if is_blank(v):
        return float("nan")
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _col(df: pd.DataFrame, name: str) -> str | None:
    for c in df.columns:
        if str(c).strip().lower() == name:
            return c
    return None


def read_network(data, source: str | None = None, reference: str | None = None) -> NetworkData:
    """Read and validate network evidence (a CSV path or DataFrame; layouts in the module
    docstring). `reference` names the reference treatment (default: the first treatment in
    alphabetical order, as gemtc). Raises EvidenceError with every problem found."""
    problems: list[Problem] = []
    if isinstance(data, (str, Path)):
        source = source or str(data)
        df, warn = read_table(data, source)
        problems += warn
    else:
        source = source or "<DataFrame>"
        df = data.copy().reset_index(drop=True)
    if ROW_COLUMN not in df.columns:
        df[ROW_COLUMN] = np.arange(1, len(df) + 1)
    rename = {}
    for want in ("treatment", "comparator", "study", "study_id", "se", "events", "n", "n_arm"):
        c = _col(df, want)
        if c is not None and c != want:
            rename[c] = want
    df = df.rename(columns=rename)
    if "study" not in df.columns and "study_id" in df.columns:
        df = df.rename(columns={"study_id": "study"})

    def err(row, study, column, message, fix, level="error"):
        problems.append(Problem(level, source, row, study, column, message, fix))

    if "study" not in df.columns:
        err(None, None, "study", "there is no study column", "add a column 'study' naming the study of each row")
        raise EvidenceError(problems)
    if "treatment" not in df.columns:
        err(None, None, "treatment", "there is no treatment column", "add a column 'treatment' naming each row's arm")
        raise EvidenceError(problems)
    if len(df) == 0:
        err(None, None, None, "the table has no rows", "add study rows")
        raise EvidenceError(problems)

    text = lambda v: "" if is_blank(v) else str(v).strip()  # noqa: E731
    df["study"] = df["study"].map(text)
    df["treatment"] = df["treatment"].map(text)
    if "comparator" in df.columns:
        df["comparator"] = df["comparator"].map(text)
    else:
        df["comparator"] = ""
    has_effect = np.zeros(len(df), bool)
    for c in EFFECT_COLUMNS:
        if c in df.columns:
            has_effect |= ~df[c].map(is_blank).to_numpy()
    for i, r in df.iterrows():
        rowno = int(r[ROW_COLUMN])
        if not r["study"]:
            err(rowno, None, "study", f"row {rowno} has no study id", "give every row the id of its study")
        if not r["treatment"]:
            err(rowno, r["study"] or None, "treatment", "the row names no treatment",
                "give every row the treatment of its arm")
        if r["comparator"] and not has_effect[i]:
            err(rowno, r["study"] or None, "comparator",
                "a row with a comparator must state the effect of treatment versus comparator",
                "give log_hr + se (or hr + ci_low + ci_high), or remove the comparator and give one row per arm")

    # derive the contrast rows with the shared validator (one study id per contrast); when some
    # fail, each row is derived alone so the structure of the other studies is still checked
    contrast_idx = np.flatnonzero(has_effect)
    eff: dict[int, tuple[float, float, str]] = {}
    bad_rows: set[int] = set()
    if len(contrast_idx):
        sub = df.iloc[contrast_idx].copy()
        sub["study"] = [f"{s} ({t}{' vs ' + c if c else ''})" for s, t, c in
                        zip(sub["study"], sub["treatment"], sub["comparator"], strict=True)]
        keep = [c for c in sub.columns if c not in ("treatment", "comparator", "events", "n", "n_arm")]
        try:
            derived = derive(sub[keep], source=source)
            problems += list(derived.problems)
            t = derived.table
            eff = {int(contrast_idx[j]): (float(t["log_hr"].iloc[j]), float(t["se"].iloc[j]),
                                          str(t["derivation"].iloc[j])) for j in range(len(contrast_idx))}
        except EvidenceError as exc:
            problems += list(exc.problems)
            for j, i in enumerate(contrast_idx):
                try:
                    one = derive(sub[keep].iloc[[j]], source=source).table
                    eff[int(i)] = (float(one["log_hr"].iloc[0]), float(one["se"].iloc[0]), str(one["derivation"].iloc[0]))
                except EvidenceError:
                    bad_rows.add(int(i))

    cov_cols = [c for c in df.columns if c not in {"study", "treatment", "comparator", ROW_COLUMN, "se", "events",
                                                   "n", "n_arm", *EFFECT_COLUMNS}]
    studies: list[NetworkStudy] = []
    rows_out: list[dict] = []
    for name, g in df.groupby("study", sort=False):
        idx = list(g.index)
        rownos = [int(df.at[i, ROW_COLUMN]) for i in idx]
        arms = [df.at[i, "treatment"] for i in idx]
        size = [_num(df.at[i, "n"]) if "n" in df.columns else float("nan") for i in idx]
        covs = {c: df.at[idx[0], c] for c in cov_cols}
        if any(i in bad_rows for i in idx):
            continue  # its effect rows have errors already listed
        one_row = [i for i in idx if df.at[i, "comparator"]]
        if one_row:
            if len(idx) > 1:
                err(rownos[0], name, "comparator",
                    f"study '{name}' has {len(idx)} rows and uses the comparator column: give a two-arm study as one "
                    "row (treatment, comparator, effect) or every study as one row per arm",
                    "keep one layout per study")
                continue
            i = idx[0]
            t, c = df.at[i, "treatment"], df.at[i, "comparator"]
            if t == c:
                err(rownos[0], name, "comparator", f"treatment and comparator are both '{t}'",
                    "a study compares two different treatments")
                continue
            y, se, tag = eff[i]
            studies.append(NetworkStudy(name, (c, t), np.array([y]), np.array([[se**2]]), (float("nan"), size[0]),
                                        (rownos[0],), covs))
            rows_out.append({"study": name, "treatment": t, "comparator": c, "log_hr": y, "se": se,
                             "derivation": tag, "row": rownos[0]})
            continue
        if len(set(arms)) < len(arms):
            dup = sorted({a for a in arms if arms.count(a) > 1})
            err(rownos[0], name, "treatment", f"treatment {', '.join(repr(d) for d in dup)} appears twice in study "
                f"'{name}'", "give one row per arm (merge the arms, or name them apart)")
            continue
        base = [j for j, i in enumerate(idx) if not has_effect[i]]
        if len(idx) < 2:
            err(rownos[0], name, "treatment", f"study '{name}' has one arm only",
                "give its baseline arm as a row with an empty effect (or a comparator column), or remove the study")
            continue
        if len(base) != 1:
            what = "no baseline arm row (a row with an empty effect)" if not base else \
                f"{len(base)} rows without an effect ({', '.join(arms[j] for j in base)})"
            err(rownos[0], name, "log_hr", f"study '{name}' has {what}",
                "give exactly one arm per study with an empty effect (its baseline) and every other arm's log-HR "
                "versus that baseline")
            continue
        b = base[0]
        order = [b] + [j for j in range(len(idx)) if j != b]
        m = len(idx) - 1
        y = np.array([eff[idx[j]][0] for j in order[1:]])
        se = np.array([eff[idx[j]][1] for j in order[1:]])
        v0 = _num(df.at[idx[b], "se"]) ** 2 if "se" in df.columns else float("nan")
        if m > 1 and not np.isfinite(v0):
            ev = _num(df.at[idx[b], "events"]) if "events" in df.columns else float("nan")
            if np.isfinite(ev) and ev > 0:
                v0 = 1.0 / ev
                err(rownos[b], name, "se", f"multi-arm study '{name}': the covariance of its contrasts is "
                    f"approximated from the {ev:g} baseline-arm events (se0^2 = 1/events)",
                    "give the standard error of the baseline arm's log hazard in 'se' if the paper reports it",
                    level="warning")
            else:
                err(rownos[b], name, "se", f"multi-arm study '{name}' ({m + 1} arms) gives no standard error of the "
                    f"baseline arm ('{arms[b]}') log hazard: the covariance of its contrasts is unknown",
                    "give that arm's se (the covariance of the contrasts, multinma's set_agd_contrast convention) "
                    "or its number of events in 'events'")
                continue
        if m == 1 and not np.isfinite(v0):
            v0 = 0.0
        if m > 1 and np.any(se**2 <= v0):
            bad = [arms[order[1 + j]] for j in np.flatnonzero(se**2 <= v0)]
            err(rownos[b], name, "se", f"study '{name}': the baseline se ({np.sqrt(v0):.4g}) is not below the se of "
                f"the contrast(s) {', '.join(bad)} (a contrast's variance is the sum of two arms' variances, so "
                f"se_k^2 > se_0^2)", "check the baseline arm's se: it is the se of its log hazard, not of a contrast")
            continue
        cov = np.full((m, m), v0) if m > 1 else np.zeros((1, 1))
        cov[np.diag_indices(m)] = se**2
        studies.append(NetworkStudy(name, tuple(arms[j] for j in order), y, cov, tuple(size[j] for j in order),
                                    tuple(rownos[j] for j in order[1:]), covs))
        for j in order[1:]:
            rows_out.append({"study": name, "treatment": arms[j], "comparator": arms[b], "log_hr": eff[idx[j]][0],
                             "se": eff[idx[j]][1], "derivation": eff[idx[j]][2], "row": rownos[j]})
    if any(p.level == "error" for p in problems):
        raise EvidenceError(problems)
    treatments = tuple(sorted({t for s in studies for t in s.arms}))
    comps = components(treatments, studies)
    if len(comps) > 1:
        parts = "; ".join("{" + ", ".join(c) + "}" for c in comps)
        err(None, None, "treatment", f"the network is disconnected: {len(comps)} components {parts}; treatments in "
            "different components cannot be compared", "add studies linking the components, or analyse each "
            "component separately (select its studies)")
    count: dict[str, list[str]] = {t: [] for t in treatments}
    for s in studies:
        for t in s.arms:
            count[t].append(s.name)
    for t, ss in count.items():
        if len(ss) == 1:
            err(None, ss[0], "treatment", f"treatment '{t}' is in one study only ('{ss[0]}'): its comparisons rest "
                "on that study alone", "read its estimates with care (no replication)", level="warning")
    if any(p.level == "error" for p in problems):
        raise EvidenceError(problems)
    ref = reference if reference is not None else treatments[0]
    if ref not in treatments:
        from ..errors import ModelError

        raise ModelError(f"[network].reference: {ref!r} is not a treatment of the network ({source}); the treatments "
                         f"are {', '.join(treatments)}")
    return NetworkData(treatments, ref, tuple(studies), pd.DataFrame(rows_out), tuple(problems), source)
