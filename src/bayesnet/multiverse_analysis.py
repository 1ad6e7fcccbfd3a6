"""Every reasonable analysis at once: a multiverse over the data selection, the model, the
priors and the bias assumption (Steegen S et al. 2016, Perspect Psychol Sci 11:702-12;
Voracek M et al. 2019, Z Psychol 227:64-82), summarised by a specification curve
(Simonsohn U, Simmons JP, Nelson LD 2020, Nat Hum Behav 4:1208-14) and a vibration of
effects (Patel CJ, Burford B, Ioannidis JPA 2015, J Clin Epidemiol 68:1046-58).

A grid file (TOML) lists, per axis, the choices, each with a label, a decision class and a
patch of one section of the base spec::

    [multiverse]
    thresholds = [1.0, 0.8]                 # default: the spec's [report] thresholds
    exclude = [{ model = "fixed effect", bias = "case series -0.3" }]   # combinations dropped
                                            # (a value may be a list of labels: any of them)

    [[multiverse.selection]]                # patches [data]: select, include, exclude,
    label = "all studies"                   #   keep_overlap, family
    class = "equivalent"                    # equivalent (default) | uncertain | non-equivalent
    [[multiverse.model]]                    # patches [model]
    label = "random effects"
    effects = "random"
    [[multiverse.priors]]                   # patches [priors]
    label = "tau HN(0.5)"
    tau = { dist = "half_normal", sigma = 0.5 }
    [[multiverse.bias]]                     # replaces [bias]; only a label = no bias model
    label = "none"

Every combination of one choice per axis is a setting (an absent axis keeps the spec's
section, labelled "(spec)"). A patched section is parsed by the spec's own section parser,
so a setting is checked exactly like a user's spec; every problem of the grid is reported
in one pass, naming the axis and the entry. A [bias.by] level that no study of a setting's
selection has is dropped in that setting (a no-op, not an error: `bias.restrict_bias`).

Decision classes (Del Giudice M, Gangestad SW 2021, Adv Methods Pract Psychol Sci
4:1-15): a setting is "equivalent" when every choice it makes is marked equivalent; the
headline shares count those settings only (and say so), beside the shares over all.

Each setting's numbers come from one fit of the patched spec: the exact engine
(`engines.exact` / `bias.fit_exact_with_bias`, no sampling) when it can fit it; otherwise
MCMC (`api.fit(engine="mcmc")`, seeded from the spec seed and a hash of the setting's
labels) when ``mcmc=True``, or status "needs_mcmc" with the reason. Settings sharing a
selection share one loaded evidence table. A setting that fails is a row with status
"failed" and its reason; the run goes on.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .format import prob_key, threshold
from .spec import read_toml
from .validate import Problems, is_num, is_str

__all__ = ["AXES", "CLASSES", "Choice", "Grid", "MultiverseResult", "influence_anova", "multiverse",
           "multiverse_columns", "multiverse_summary", "parse_grid", "read_grid", "run_settings", "setting_id",
           "setting_seed", "settings_of", "to_xarray"]

AXES = ("selection", "model", "priors", "bias")
CLASSES = ("equivalent", "uncertain", "non-equivalent")
SECTION = {"selection": "data", "model": "model", "priors": "priors", "bias": "bias"}
DATA_KEYS = ("select", "include", "exclude", "keep_overlap", "family")
BASE_LABEL = "(spec)"
STATUSES = ("ok", "failed", "needs_mcmc")


@dataclass(frozen=True)
class Choice:
    """One choice on one axis: its label, decision class, the patch as written and the
    patched section (a DataSpec, ModelSpec, PriorsSpec, or BiasSpec | None for bias)."""

    axis: str
    label: str
    cls: str = "equivalent"
    patch: Mapping[str, Any] = field(default_factory=dict)
    section: Any = None


@dataclass(frozen=True)
class Grid:
    """A checked multiverse grid: the choices per axis (every axis present; an absent one
    holds the spec's section as its only choice), the thresholds, and the excluded
    combinations (each a mapping axis -> label)."""

    axes: Mapping[str, tuple[Choice, ...]]
    thresholds: tuple[float, ...]
    exclude: tuple[Mapping[str, str], ...] = ()
    path: Path | None = None

    @property
    def n_crossed(self) -> int:
        return math.prod(len(v) for v in self.axes.values())


def _labels_ok(v) -> bool:
    return isinstance(v, list) and all(isinstance(t, dict) for t in v) and len(v) > 0


def _section_raw(spec, name: str) -> dict:
    raw = spec.raw.get(name)
    return copy.deepcopy(dict(raw)) if isinstance(raw, dict) else {}


def _patch_section(spec, axis: str, patch: dict, P: Problems):
    """Parse the base spec's section with `patch` applied, by the spec's own parser."""
    from . import spec as specmod

    if axis == "bias":
        if not patch:
            return None
        from .bias import parse_bias

        b = P.run(parse_bias, patch, "grid")
        return None if b is None or b.empty else b
    base = _section_raw(spec, SECTION[axis])
    base.update(copy.deepcopy(patch))
    return specmod.parse_section(P, SECTION[axis], base, spec.path)


def _allowed(axis: str) -> tuple[str, ...]:
    from .spec import ALLOWED

    if axis == "selection":
        return DATA_KEYS
    if axis == "bias":
        return ("common", "by")
    return tuple(sorted(ALLOWED[SECTION[axis]]))


def parse_grid(raw: dict, spec, path: Path | None = None) -> Grid:
    """Check a grid given as a dict (the parsed TOML) against the base `spec` and return a
    Grid. Every problem is collected and raised as one SpecError naming the axis, the entry
    (its number and label) and the key."""
    where = str(path) if path else "grid"
    P = Problems(where=where)
    if not P.table("", raw, "[multiverse] with [[multiverse.<axis>]] tables"):
        P.raise_if_any()
    P.keys("", raw, ("multiverse",), noun="table(s)")
    mv = raw.get("multiverse", {})
    if "multiverse" not in raw:
        P.add("no [multiverse] table; a grid has [multiverse] and [[multiverse.selection]], "
              "[[multiverse.model]], [[multiverse.priors]] or [[multiverse.bias]] entries")
    if not P.table("multiverse", mv, "[multiverse] with thresholds, exclude and [[multiverse.<axis>]] tables"):
        mv = {}
    P.keys("multiverse", mv, ("thresholds", "exclude", *AXES))
    thresholds = tuple(spec.thresholds)
    if "thresholds" in mv and P.check(
            "multiverse", "thresholds", mv["thresholds"],
            lambda v: isinstance(v, list) and v and all(is_num(x) and x > 0 for x in v),
            "a non-empty list of positive HRs, e.g. [1.0, 0.8]"):
        thresholds = tuple(float(x) for x in mv["thresholds"])
    axes: dict[str, tuple[Choice, ...]] = {}
    for axis in AXES:
        if axis not in mv:
            sec = getattr(spec, SECTION[axis])
            axes[axis] = (Choice(axis, BASE_LABEL, "equivalent", {}, sec),)
            continue
        entries = mv[axis]
        head = f"[[multiverse.{axis}]]"
        if not P.check(head, "", entries, _labels_ok, f"one or more {head} tables, each with a label"):
            axes[axis] = ()
            continue
        seen: set[str] = set()
        out = []
        for i, e in enumerate(entries, 1):
            lab = e.get("label")
            name = f"{head} #{i}" + (f" '{lab}'" if isinstance(lab, str) else "")
            sub = Problems()
            if not is_str(lab):
                sub.add(f"label: found {lab!r} ({type(lab).__name__}); allowed: a non-blank text naming the choice")
                lab = f"#{i}"
            elif lab in seen:
                sub.add(f"label '{lab}' is used twice on this axis; give each choice its own label")
            seen.add(lab)
            cls = e.get("class", "equivalent")
            if cls not in CLASSES:
                sub.add(f"class: {cls!r} is not allowed; allowed: {', '.join(CLASSES)}")
            patch = {k: v for k, v in e.items() if k not in ("label", "class")}
            sub.keys("", patch, _allowed(axis), noun="key(s)",
                     shown=f"label, class, {', '.join(_allowed(axis))}")
            patch = {k: v for k, v in patch.items() if k in _allowed(axis)}
            section = _patch_section(spec, axis, patch, sub)
            for m in sub.items:
                m = m[len("grid: "):] if m.startswith("grid: ") else m
                P.add(f"{name}: {m}")
            out.append(Choice(axis, str(lab), cls if cls in CLASSES else "equivalent", patch, section))
        axes[axis] = tuple(out)
    exclude = []
    ex = mv.get("exclude", [])
    if P.check("multiverse", "exclude", ex, lambda v: isinstance(v, list) and all(isinstance(t, dict) for t in v),
               "a list of tables naming a label per axis, e.g. [{ model = \"fixed effect\", bias = \"none\" }]"):
        for i, combo in enumerate(ex, 1):
            ok = bool(combo)
            if not combo:
                P.add(f"[multiverse].exclude #{i}: empty; name a label on one or more axes")
            for axis, lab in combo.items():
                if axis not in AXES:
                    P.add(f"[multiverse].exclude #{i}: unknown axis {axis!r}; allowed: {', '.join(AXES)}")
                    ok = False
                    continue
                known = [c.label for c in axes.get(axis, ())]
                labs = [lab] if isinstance(lab, str) else lab
                if not isinstance(labs, list) or not labs or not all(isinstance(x, str) for x in labs):
                    P.add(f"[multiverse].exclude #{i}: {axis} = {lab!r}; allowed: a label or a list of labels")
                    ok = False
                    continue
                for x in labs:
                    if x not in known:
                        P.add(f"[multiverse].exclude #{i}: {axis} = {x!r} is not a label of [[multiverse.{axis}]]; "
                              f"labels: {', '.join(repr(c) for c in known)}")
                        ok = False
                if ok and not isinstance(lab, str):
                    combo = {**combo, axis: tuple(labs)}
            if ok:
                exclude.append(dict(combo))
    P.raise_if_any()
    return Grid(axes=axes, thresholds=thresholds, exclude=tuple(exclude), path=path)


def read_grid(path, spec) -> Grid:
    """Read and check a grid TOML file against the base `spec` (SpecError naming the file)."""
    path = Path(path)
    return parse_grid(read_toml(path, "grid"), spec, path=path)


# ---------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------

def setting_id(labels: Mapping[str, str] | tuple) -> str:
    """A stable id of a setting: the first 12 hex digits of the SHA-256 of its labels
    (selection, model, priors, bias) as JSON. Editing other entries of the grid does not
    change it."""
    labs = [labels[a] for a in AXES] if isinstance(labels, Mapping) else list(labels)
    return hashlib.sha256(json.dumps(labs, ensure_ascii=False).encode("utf-8")).hexdigest()[:12]


def setting_seed(base_seed: int, labels) -> int:
    """The seed of a setting: the spec seed plus a hash of its labels, modulo 2^32 (the
    same whatever the order, the worker or the rest of the grid)."""
    return (int(base_seed) + int(setting_id(labels), 16)) % (2**32)


def settings_of(grid: Grid) -> list[dict[str, Choice]]:
    """Every combination of one choice per axis, in grid order (selection slowest), minus
    the excluded combinations."""
    out = []
    for combo in itertools.product(*(grid.axes[a] for a in AXES)):
        s = dict(zip(AXES, combo))
        if any(all(s[a].label in ((lab,) if isinstance(lab, str) else lab) for a, lab in ex.items())
               for ex in grid.exclude):
            continue
        out.append(s)
    return out


def is_equivalent(setting: Mapping[str, Choice]) -> bool:
    return all(c.cls == "equivalent" for c in setting.values())


def multiverse_columns(thresholds) -> list[str]:
    """The columns of the multiverse table, in order."""
    cols = ["setting", *AXES, "k", "log_hr_median", "hr_median", "hr_low", "hr_high", "pred_hr_low",
            "pred_hr_high"]
    cols += [prob_key(t) for t in thresholds] + [prob_key(t, predictive=True) for t in thresholds]
    return cols + ["tau_median", "status", "reason"]


def patched_spec(spec, setting: Mapping[str, Choice], thresholds):
    """The base spec with the setting's sections (and the grid's thresholds)."""
    return dataclasses.replace(
        spec, data=setting["selection"].section, model=setting["model"].section,
        priors=setting["priors"].section, bias=setting["bias"].section,
        report=dataclasses.replace(spec.report, thresholds=tuple(thresholds)))


def _evidence(spec, data, cache: dict):
    """The evidence table of a patched spec, loaded once per data selection and run."""
    from .api import evidence_for

    key = ("evidence", repr(spec.data), str(spec.base_dir), None if data is None else str(data))
    if key not in cache:
        try:
            cache[key] = (True, evidence_for(spec, data))
        except Exception as exc:  # noqa: BLE001 - recorded as each setting's reason
            cache[key] = (False, exc)
    ok, val = cache[key]
    if not ok:
        raise val
    return val


def _reason(exc: BaseException) -> str:
    from .errors import BayesnetError
    from .provenance import portable_text

    text = " ".join(str(exc).split())
    if not isinstance(exc, BayesnetError):
        text = f"{type(exc).__name__}: {text}"
    return portable_text(text)


def _narrow(ev, sp, cache: dict):
    """The evidence with only the columns this setting's model and bias read (study,
    log_hr, se, covariates, heterogeneity and population columns, [bias.by] columns): the
    numbers are the same, and the bias helpers, which read every column they are given,
    stay fast."""
    from .evidence import EvidenceTable

    m = sp.model
    cols = ["study", "log_hr", "se", *m.covariates]
    if m.heterogeneity.startswith("by:"):
        cols.append(m.heterogeneity[3:])
    if m.population:
        cols.append(m.population)
    if sp.bias is not None:
        cols += list(sp.bias.by)
    cols = [c for c in dict.fromkeys(cols) if c in ev.table.columns]
    key = ("narrow", id(ev), tuple(cols))
    if key not in cache:
        cache[key] = EvidenceTable(table=ev.table[cols], source=ev.source)
    return cache[key]


def _fit(sp, ev, mcmc: bool, seed: int, cache: dict):
    """(posterior, None) or (None, (status, reason)) for one patched spec."""
    from .bias import restrict_bias
    from .engines.exact import can_fit

    if sp.bias is not None:
        sp = dataclasses.replace(sp, bias=restrict_bias(sp.bias, ev.table))
    ok, why = can_fit(sp)
    if ok:
        from .bias import check_bias_columns, fit_exact_with_bias
        from .engines.exact import fit_exact
        from .models import build_model_data

        ev = _narrow(ev, sp, cache)
        md = build_model_data(ev, sp)
        if sp.bias is not None:
            check_bias_columns(sp.bias, ev)
            return fit_exact_with_bias(md, sp, sp.bias, ev), None
        return fit_exact(md, sp, ev, studies=False), None
    if not mcmc:
        return None, ("needs_mcmc", f"{why}: the exact engine cannot fit it; run with MCMC "
                                    f"(bayesnet multiverse --mcmc, or multiverse(..., mcmc=True))")
    from .api import fit

    post = fit(sp, evidence=ev, engine="mcmc", seed=seed, log_likelihood=False, frequentist=False)
    if not post.ok:
        return post, ("failed", "MCMC diagnostics failed (R-hat, ESS or divergences); the numbers are not "
                                "reported")
    return post, None


def _row(setting, sp, post, ci_prob: float) -> dict:
    from .sensitivity import row_from_posterior

    r = row_from_posterior(post, ci_prob)
    out = {"k": int(r["k"]), "log_hr_median": float(np.log(r["hr_median"]))}
    for c in ("hr_median", "hr_low", "hr_high", "pred_hr_low", "pred_hr_high"):
        out[c] = r[c]
    for t in sp.thresholds:
        out[prob_key(t)] = r[prob_key(t)]
    for t in sp.thresholds:
        out[prob_key(t, predictive=True)] = r[prob_key(t, predictive=True)]
    out["tau_median"] = r["tau_median"]
    return out


def run_settings(spec, grid: Grid, settings: list[dict[str, Choice]], data=None, mcmc: bool = False,
                 ci_prob: float = 0.95, cache: dict | None = None) -> list[dict]:
    """Fit each setting; one row per setting (columns `multiverse_columns`). Each
    selection's evidence is loaded once per `cache` (a dict shared by the calls of one run
    in one process; a new one per call by default)."""
    base_seed = int(spec.mcmc.seed)
    cols = multiverse_columns(grid.thresholds)
    rows = []
    cache = {} if cache is None else cache  # evidence per selection, shared by the settings
    for s in settings:
        labels = {a: s[a].label for a in AXES}
        row = dict.fromkeys(cols)
        row.update({"setting": setting_id(labels), **labels, "status": "ok", "reason": ""})
        try:
            sp = patched_spec(spec, s, grid.thresholds)
            ev = _evidence(sp, data, cache)
            row["k"] = len(ev.table)
            post, bad = _fit(sp, ev, mcmc, setting_seed(base_seed, labels), cache)
            if bad is None:
                row.update(_row(s, sp, post, ci_prob))
            else:
                row["status"], row["reason"] = bad
        except Exception as exc:  # noqa: BLE001 - a failing setting is a row, the run goes on
            row["status"], row["reason"] = "failed", _reason(exc)
        rows.append(row)
    return rows


def _frame(rows: list[dict], thresholds) -> pd.DataFrame:
    cols = multiverse_columns(thresholds)
    df = pd.DataFrame(rows, columns=cols)
    df["k"] = pd.array(df["k"], dtype="Int64")
    for c in cols:
        if c not in ("setting", *AXES, "k", "status", "reason"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["reason"] = df["reason"].fillna("")
    return df


# ---------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------

def _equivalent_mask(df: pd.DataFrame, grid: Grid) -> pd.Series:
    cls = {a: {c.label: c.cls for c in grid.axes[a]} for a in AXES}
    m = pd.Series(True, index=df.index)
    for a in AXES:
        m &= df[a].map(cls[a]).eq("equivalent")
    return m


def _count(n: int, of: int, what: str) -> dict:
    return {"count": int(n), "of": int(of), "text": f"{n} of {of} {what}"}


def influence_anova(df: pd.DataFrame, grid: Grid) -> dict:
    """Per-axis influence on the pooled log-HR: a main-effects ANOVA (sums of squares of the
    level means about the grand mean, times the cells per level) over the crossed part of
    the design: the settings with numbers, after dropping, one at a time, the level with
    the most missing cells (excluded, failed or needing MCMC) until every combination of
    the remaining levels is present (a balanced complete crossing, so the main-effect sums
    of squares are orthogonal and their shares of the total are well defined). Axes with
    one level are left out. Returns settings used, levels dropped and per axis the share
    of the total sum of squares and the mean pooled HR (exp of the mean log-HR) per level."""
    ok = df[df["status"].eq("ok") & df["log_hr_median"].notna()]
    levels = {a: [c.label for c in grid.axes[a]] for a in AXES}
    dropped: list[dict] = []
    present = set(map(tuple, ok[list(AXES)].to_numpy().tolist()))
    while True:
        full = list(itertools.product(*(levels[a] for a in AXES)))
        missing = [c for c in full if c not in present]
        if not missing or not full:
            break
        worst, wa, wl = -1, None, None
        for i, a in enumerate(AXES):
            if len(levels[a]) < 2:
                continue
            for lab in levels[a]:
                n = sum(1 for c in missing if c[i] == lab)
                if n > worst:
                    worst, wa, wl = n, a, lab
        if wa is None:  # nothing left to drop: no crossing
            levels = {a: [] for a in AXES}
            break
        levels[wa] = [x for x in levels[wa] if x != wl]
        dropped.append({"axis": wa, "label": wl})
    sub = ok[np.logical_and.reduce([ok[a].isin(levels[a]) for a in AXES])] if ok.size else ok
    out = {"method": "main-effects ANOVA of the pooled log-HR (median) over the crossed part of the design",
           "settings": int(len(sub)), "dropped_levels": dropped, "axes": {}}
    if len(sub) < 2:
        return out
    y = sub["log_hr_median"].to_numpy(float)
    grand = y.mean()
    ss_total = float(((y - grand) ** 2).sum())
    ss_axes = 0.0
    for a in AXES:
        if len(levels[a]) < 2:
            continue
        g = sub.groupby(a, sort=False)["log_hr_median"]
        means, n = g.mean(), g.size()
        ss = float((n * (means - grand) ** 2).sum())
        ss_axes += ss
        out["axes"][a] = {"share_of_variance": ss / ss_total if ss_total > 0 else 0.0,
                          "hr_by_level": {lab: float(np.exp(means[lab])) for lab in levels[a]}}
    out["residual_share"] = (ss_total - ss_axes) / ss_total if ss_total > 0 else 0.0
    return out


def multiverse_summary(df: pd.DataFrame, grid: Grid) -> dict:
    """summary.json of a multiverse: counts by status, per threshold the number of settings
    where P(HR < t) > 0.95 and > 0.5 among the settings built only from equivalent choices
    and among all (counts in this grid, not probabilities), the range of pooled HRs and
    the per-axis influence (`influence_anova`)."""
    eq = _equivalent_mask(df, grid)
    ok = df["status"].eq("ok")
    out: dict[str, Any] = {
        "settings": int(len(df)),
        "status": {s: int(df["status"].eq(s).sum()) for s in STATUSES},
        "axes": {a: [{"label": c.label, "class": c.cls} for c in grid.axes[a]] for a in AXES},
        "excluded_combinations": int(grid.n_crossed - len(df)),
        "thresholds": [float(t) for t in grid.thresholds],
        "share": {}, "hr_range": {},
    }
    groups = {"equivalent": eq & ok, "all": ok}
    nouns = {"equivalent": "settings in this grid built only from choices marked equivalent",
             "all": "settings in this grid"}
    for t in grid.thresholds:
        key = prob_key(t)
        out["share"][threshold(t)] = {
            g: {f"{key}_gt_{p:g}": _count(int((df.loc[m, key] > p).sum()), int(m.sum()), nouns[g])
                for p in (0.95, 0.5)} for g, m in groups.items()}
    for g, m in groups.items():
        hr = df.loc[m, "hr_median"]
        out["hr_range"][g] = {"settings": int(m.sum()),
                              "min": float(hr.min()) if len(hr) else None,
                              "max": float(hr.max()) if len(hr) else None}
    out["influence"] = influence_anova(df, grid)
    out["headline"] = headline(out)
    return out


def headline(summary: dict) -> str:
    """The headline in one sentence: among the settings built only from equivalent choices,
    how many give P(HR < t) > 0.95 at the first threshold, and the range of pooled HRs."""
    from . import format as fmt

    t = summary["thresholds"][0]
    key = prob_key(t)
    sh = summary["share"][threshold(t)]["equivalent"]
    hi, half = sh[f"{key}_gt_0.95"], sh[f"{key}_gt_0.5"]
    rng = summary["hr_range"]["equivalent"]
    if not hi["of"]:
        return ("No setting of this grid built only from choices marked equivalent could be fitted, so there is "
                "no headline count.")
    return (f"In {hi['count']} of {hi['of']} settings in this grid built only from choices marked equivalent, "
            f"the probability that the HR is below {fmt.threshold(t)} exceeded 0.95 (in {half['count']} it "
            f"exceeded 0.5); their pooled HRs ranged from {fmt.hr(rng['min'])} to {fmt.hr(rng['max'])}.")


def to_xarray(df: pd.DataFrame, grid: Grid):
    """The multiverse as an xarray Dataset with one dimension per axis (coordinates: the
    labels in grid order); excluded combinations are missing (NaN, status "")."""
    import xarray as xr

    idx = pd.MultiIndex.from_product([[c.label for c in grid.axes[a]] for a in AXES], names=list(AXES))
    full = df.set_index(list(AXES)).reindex(idx)
    num = [c for c in full.columns if c not in ("setting", "status", "reason", "k")]
    ds = xr.Dataset({c: (AXES, full[c].to_numpy(float).reshape([len(grid.axes[a]) for a in AXES])) for c in num},
                    coords={a: [c.label for c in grid.axes[a]] for a in AXES})
    ds["k"] = (AXES, full["k"].astype("Float64").to_numpy(float, na_value=np.nan).reshape(ds["hr_median"].shape))
    for c in ("setting", "status", "reason"):
        ds[c] = (AXES, full[c].fillna("").astype(str).to_numpy().reshape(ds["hr_median"].shape))
    for a in AXES:
        ds = ds.assign_coords({f"{a}_class": (a, [c.cls for c in grid.axes[a]])})
    ds.attrs["description"] = "bayesnet multiverse: one fit per setting (selection x model x priors x bias)"
    return ds


@dataclass
class MultiverseResult:
    """A multiverse run: `table` (one row per setting, `multiverse_columns`), `summary`
    (`multiverse_summary`), the checked `grid`; `dataset` is the table as xarray."""

    table: pd.DataFrame
    summary: dict
    grid: Grid

    @property
    def dataset(self):
        return to_xarray(self.table, self.grid)


def _chunks(settings, size: int):
    return [settings[i:i + size] for i in range(0, len(settings), size)]


def _run_part(job, cache: dict | None = None):
    """Run in a worker: (spec, grid, settings, data, mcmc, ci_prob) -> rows."""
    spec, grid, settings, data, mcmc, ci_prob = job
    return run_settings(spec, grid, settings, data=data, mcmc=mcmc, ci_prob=ci_prob, cache=cache)


def multiverse(spec, grid, data=None, *, mcmc: bool = False, workers: int = 1, scheduler: str | None = None,
               ci_prob: float = 0.95, chunk: int = 100) -> MultiverseResult:
    """Fit every setting of `grid` (a Grid, a grid dict or a TOML path) on the base `spec`
    (a Spec, dict or TOML path); `data` (a CSV path) replaces the spec's data source.

    Returns a `MultiverseResult`: `.table` one row per setting with columns setting (stable
    id from the labels), selection, model, priors, bias (labels), k, log_hr_median,
    hr_median, hr_low, hr_high (equal-tailed interval with probability `ci_prob`),
    pred_hr_low, pred_hr_high, p_hr_lt_<t>, p_pred_hr_lt_<t> per threshold, tau_median,
    status (ok | failed | needs_mcmc) and reason; `.dataset` the same as xarray with one
    dimension per axis; `.summary` the shares and influence (`multiverse_summary`).

    `mcmc=True` fits the settings the exact engine cannot fit by MCMC (each seeded by
    `setting_seed`); otherwise they are rows with status "needs_mcmc". `workers` > 1 runs
    chunks of `chunk` settings on a local Dask cluster, `scheduler` on an existing one; the
    rows are the same whatever the workers or the order."""
    from .api import load_spec

    spec = load_spec(spec)
    if not isinstance(grid, Grid):
        grid = parse_grid(grid, spec) if isinstance(grid, dict) else read_grid(grid, spec)
    settings = settings_of(grid)
    jobs = [(spec, grid, part, data, mcmc, ci_prob) for part in _chunks(settings, chunk)]
    rows: list[dict] = []
    if scheduler or workers > 1:
        for part_rows in run_parts_dask(jobs, workers=workers, scheduler=scheduler):
            rows.extend(part_rows)
    else:
        cache: dict = {}
        for j in jobs:
            rows.extend(_run_part(j, cache))
    df = _frame(rows, grid.thresholds)
    return MultiverseResult(table=df, summary=multiverse_summary(df, grid), grid=grid)


def dask_client(workers: int = 1, scheduler: str | None = None):
    """A Dask distributed Client: on `scheduler` when given, else on a LocalCluster of
    `workers` single-threaded processes (MissingExtraError when Dask is not installed)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        from .errors import MissingExtraError

        raise MissingExtraError("the multiverse on several workers needs Dask distributed, which is not "
                                "installed: pip install 'bayesnet[dask]'") from None
    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    client._bayesnet_cluster = cluster
    return client


def _close(client) -> None:
    cluster = getattr(client, "_bayesnet_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def run_parts_dask(jobs, workers: int = 1, scheduler: str | None = None, on_done=None):
    """Run the part jobs on Dask; returns the rows of each part in job order. `on_done(i,
    rows)` is called as each part finishes (in completion order)."""
    from dask.distributed import as_completed

    client = dask_client(workers, scheduler)
    try:
        futures = client.map(_run_part, jobs, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(jobs)
        for fut in as_completed(futures):
            i = index[fut.key]
            results[i] = fut.result()
            if on_done is not None:
                on_done(i, results[i])
        return results
    finally:
        _close(client)


# ---------------------------------------------------------------------------------------
# A multiverse directory that fills up as settings finish
# ---------------------------------------------------------------------------------------

PARTS = "parts"
PLAN = "plan.json"
FIGURES = ("specification_curve", "vibration_of_effects", "axes")
OUTPUTS = ("multiverse.csv", "summary.json", "multiverse.nc")
_TMP_RE = r"^\.(?P<base>.+)\.[A-Za-z0-9_]+\.tmp$"   # io.write_text_atomic's temporary files


def _data_sha256(spec, data) -> str | None:
    """SHA-256 of the data the base spec reads: `data`, the spec's CSV or its shipped dataset."""
    if data is not None:
        return hashlib.sha256(Path(data).read_bytes()).hexdigest()
    d = spec.data
    if d.path is not None:
        p = Path(d.path)
        p = p if p.is_absolute() else spec.base_dir / p
        return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
    if d.dataset:
        from . import datasets

        return datasets.sha256(d.dataset)
    return None


def _run_key(spec, grid: Grid, data, mcmc: bool, ci_prob: float) -> str:
    """What every number of a part depends on besides its settings: the spec as fitted,
    the data, the thresholds, the interval probability and whether MCMC runs."""
    from . import __version__

    src = {"spec": spec.raw, "data": _data_sha256(spec, data), "thresholds": list(grid.thresholds), "ci_prob": ci_prob,
           "mcmc": bool(mcmc), "version": __version__}
    return hashlib.sha256(json.dumps(src, sort_keys=True, default=str).encode()).hexdigest()


def _part_name(i: int, run_key: str, settings) -> str:
    h = hashlib.sha256(run_key.encode())
    for s in settings:
        for a in AXES:
            h.update(json.dumps([a, s[a].label, s[a].cls, s[a].patch], sort_keys=True, default=str).encode())
    return f"part-{i:05d}-{h.hexdigest()[:12]}.csv"


def _read_part(path: Path, thresholds) -> pd.DataFrame:
    cols = multiverse_columns(thresholds)
    text = {c: str for c in ("setting", *AXES, "status", "reason")}
    df = pd.read_csv(path, dtype=text, keep_default_na=False, na_values={c: [""] for c in cols if c not in text})
    if list(df.columns) != cols:
        raise ValueError(f"{path}: columns {list(df.columns)} are not those of this grid")
    return _frame(df.to_dict("records"), thresholds)


def _manifest(out: Path, part_names) -> None:
    """The manifest lists every file the run will ever write, before any is written, so an
    interrupted directory is still recognised as bayesnet's (and can be resumed)."""
    from . import __version__
    from .io import MANIFEST, write_text_atomic

    files = [PLAN, PARTS, *(f"{PARTS}/{n}" for n in part_names), *OUTPUTS, "figures",
             *(f"figures/{f}.{e}" for f in FIGURES for e in ("png", "svg"))]
    write_text_atomic(out / MANIFEST, json.dumps({"written_by": "bayesnet", "version": __version__,
                                                  "files": sorted(files)}, indent=1) + "\n")


def prepare_directory(out, resume: bool) -> Path:
    """Check `out` (io.check_output_dir; call under io.output_lock). With `resume` and a
    multiverse directory there (its plan.json), remove only the temporary files a killed
    run left; otherwise empty the directory (bayesnet's own output, as the check ensures)."""
    import os
    import re
    import shutil

    from .io import MANIFEST, check_output_dir

    out = Path(out)
    mf = out / MANIFEST
    if out.is_dir() and not out.is_symlink() and mf.is_file() and not mf.is_symlink():
        try:
            listed = set(json.loads(mf.read_text(encoding="utf-8"))["files"]) | {MANIFEST}
        except (OSError, ValueError, KeyError, TypeError):
            listed = set()
        for sub in ("", PARTS, "figures"):  # a SIGKILL between a file's write and its rename
            d = out / sub
            if not d.is_dir() or d.is_symlink():
                continue
            for n in os.listdir(d):
                m = re.match(_TMP_RE, n)
                if m and (Path(sub) / m["base"]).as_posix() in listed and (d / n).is_file():
                    (d / n).unlink()
    out = check_output_dir(out)
    if out.is_dir() and not (resume and (out / PLAN).is_file()):  # only a multiverse directory is resumed
        for n in os.listdir(out):
            p = out / n
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


def run_to_directory(spec, grid, out, data=None, *, resume: bool = False, workers: int = 1,
                     scheduler: str | None = None, mcmc: bool = False, ci_prob: float = 0.95, chunk: int = 100,
                     figures=None, progress=None) -> MultiverseResult:
    """Run the multiverse into directory `out` (under its lock: io.output_lock): each part
    (a chunk of `chunk` settings) is written atomically to out/parts/ as it finishes; with
    `resume`, parts already there (same spec, data, thresholds and settings) are skipped.
    When every part is done, multiverse.csv, summary.json, multiverse.nc and the figures
    are written (each atomically). An interrupted run leaves its finished parts and no
    half-written file. `figures(result, figdir)` draws the figures (the CLI passes
    `bayesnet.report.multiverse.save_figures`). Returns the result."""
    from .api import load_spec, to_json
    from .io import output_lock, write_text_atomic

    spec = load_spec(spec)
    if not isinstance(grid, Grid):
        grid = parse_grid(grid, spec) if isinstance(grid, dict) else read_grid(grid, spec)
    out = Path(out)
    with output_lock(out):
        out = prepare_directory(out, resume)
        settings = settings_of(grid)
        key = _run_key(spec, grid, data, mcmc, ci_prob)
        chunks = _chunks(settings, chunk)
        names = [_part_name(i + 1, key, c) for i, c in enumerate(chunks)]
        _manifest(out, names)
        (out / PARTS).mkdir(exist_ok=True)
        plan = {"settings": len(settings), "chunk": chunk, "parts": names,
                "grid": str(grid.path) if grid.path else ""}
        write_text_atomic(out / PLAN, json.dumps(plan, indent=1) + "\n")
        for stale in (out / PARTS).iterdir():
            if stale.name not in names:
                stale.unlink()
        todo = [i for i, n in enumerate(names) if not (resume and (out / PARTS / n).is_file())]

        def done(i, rows):
            write_text_atomic(out / PARTS / names[i], _frame(rows, grid.thresholds).to_csv(index=False))
            if progress is not None:
                progress(len(rows))

        jobs = [(spec, grid, chunks[i], data, mcmc, ci_prob) for i in todo]
        if todo and (scheduler or workers > 1):
            run_parts_dask(jobs, workers=workers, scheduler=scheduler,
                           on_done=lambda j, rows: done(todo[j], rows))
        else:
            cache: dict = {}
            for i, j in zip(todo, jobs):
                done(i, _run_part(j, cache))
        frames = [_read_part(out / PARTS / n, grid.thresholds) for n in names]
        df = pd.concat(frames, ignore_index=True) if frames else _frame([], grid.thresholds)
        summary = multiverse_summary(df, grid)
        from . import __version__
        from .provenance import portable_text

        data_sha = _data_sha256(spec, data)
        summary["provenance"] = {"spec": spec.raw, "spec_path": portable_text(str(spec.path or "")),
                                 "grid": portable_text(plan["grid"]), "data": portable_text(str(data or "")),
                                 "data_sha256": data_sha, "seed": int(spec.mcmc.seed), "mcmc": bool(mcmc),
                                 "ci_prob": ci_prob, "bayesnet": __version__}
        res = MultiverseResult(table=df, summary=summary, grid=grid)
        write_text_atomic(out / "multiverse.csv", df.to_csv(index=False))
        _write_netcdf(res.dataset, out / "multiverse.nc")
        if figures is not None:  # the figures are drawn by the caller (report layer)
            figures(res, out / "figures")
        write_text_atomic(out / "summary.json", to_json(summary))
    return res


def _write_netcdf(ds, path: Path) -> None:
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
