"""From an evidence table and a spec to the model's data: the design matrix and groups.

The model (both engines; Roever 2020 J Stat Softw 93(6); Roever & Friede 2023):

    y_i ~ N(theta_i, s_i^2)                     s_i known (the study's se)
    theta_i = x_i' beta + tau_g(i) u_i (+ omega v_p(i))
    u_i ~ N(0, 1) or Student-t(nu)              random_dist
    v_p ~ N(0, 1)                               population effect (three-level model,
                                                Konstantopoulos 2011 Res Synth Methods 2:61-76)

x_i is an intercept plus treatment-coded dummies for every covariate level other than its
reference, so beta[0] ("mu") is the mean log-HR at the reference levels and
beta["design:case_series"] the difference for that level (a design bias term when its
prior is informative; Turner RM et al. 2009 JRSS A 172:21-47).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ModelError
from .evidence import EvidenceTable
from .evidence.table import MISSING_TOKENS, is_blank
from .priors import Prior
from .spec import Spec, SpecError

__all__ = ["ModelData", "build_model_data", "check_propriety", "data_problems", "input_columns"]


@dataclass
class ModelData:
    studies: list[str]
    y: np.ndarray
    s: np.ndarray
    X: np.ndarray
    coef_names: list[str]  # "mu" then "cov:level"
    covariates: dict[str, list[str]]  # covariate -> levels (reference first)
    reference: dict[str, str]
    het_column: str | None = None
    het_levels: list[str] = field(default_factory=list)
    het_index: np.ndarray | None = None
    pop_column: str | None = None
    pop_levels: list[str] = field(default_factory=list)
    pop_index: np.ndarray | None = None
    covariate_values: dict[str, list[str]] = field(default_factory=dict)
    # assumed biases ([bias]; bayesnet.bias): per-study mean and variance on the log-HR
    # scale and the common bias prior; None when no bias is assumed
    bias_mean: np.ndarray | None = None
    bias_var: np.ndarray | None = None
    bias_common: object = None
    # the spec resolved once (build_model_data): the prior of each coefficient, aligned with
    # coef_names ([priors.coef] override, else mu / beta), the tau and omega priors, and the
    # random-effects settings of [model]. The engines read these, never the spec.
    coef_priors: tuple[Prior, ...] = ()
    tau_prior: Prior | None = None
    omega_prior: Prior | None = None
    effects: str = "random"              # "random" | "fixed"
    random_dist: str = "normal"          # "normal" | "student_t"
    random_df: float = 4.0

    @property
    def random(self) -> bool:
        """Random effects (False: fixed effect, tau = 0)."""
        return self.effects == "random"

    @property
    def k(self) -> int:
        return len(self.y)

    @property
    def p(self) -> int:
        return self.X.shape[1]

    def contrast(self, covariate: str | None = None, level: str | None = None) -> np.ndarray:
        """Row vector c such that c'beta is the mean log-HR at the reference levels, or at
        `level` of `covariate` with the other covariates at their reference."""
        c = np.zeros(self.p)
        c[0] = 1.0
        if covariate is not None and level != self.reference[covariate]:
            c[self.coef_names.index(f"{covariate}:{level}")] = 1.0
        return c

    def strata(self) -> list[tuple[str, str]]:
        return [(cov, lev) for cov, levs in self.covariates.items() for lev in levs]

    def prior_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Normal prior means and standard deviations of the coefficients, log-HR scale
        (sd inf: flat prior)."""
        m, sd = np.zeros(self.p), np.full(self.p, np.inf)
        for j, (name, pr) in enumerate(zip(self.coef_names, self.coef_priors, strict=True)):
            if pr.dist == "normal":
                m[j], sd[j] = pr.params["mu"], pr.params["sigma"]
            elif pr.dist != "flat":
                raise ModelError(f"prior {pr.describe()} on {name} is not normal or flat: the exact engine needs normal or flat priors on the coefficients; use --engine mcmc")
        return m, sd


def _blank_problem(series: pd.Series, column: str, study: pd.Series) -> str | None:
    """The message for blank cells of a grouping column (`is_blank`: empty, NaN, or a
    missing-value token such as "NA", "N/A", "null"), naming the studies; None if none."""
    missing = series.map(is_blank).to_numpy(bool)
    if not missing.any():
        return None
    who = ", ".join(study[missing].astype(str))
    tokens = sorted({str(v).strip() for v in series[missing] if isinstance(v, str) and v.strip()})
    said = f" (written {', '.join(repr(t) for t in tokens)}, a missing-value token)" if tokens else ""
    return (f"covariate column '{column}' is empty{said} for: {who}. Fix: fill it in (a level cannot be "
            f"spelt as a missing-value token: {', '.join(repr(t) for t in MISSING_TOKENS if t)}; "
            f"rename it, e.g. 'not available'), or drop the covariate")


def _levels(series: pd.Series, column: str, study: pd.Series) -> list[str]:
    """The covariate's level per study (text, stripped). A blank cell is an error naming
    the studies (`_blank_problem`): it is never grouped into a level of its own."""
    msg = _blank_problem(series, column, study)
    if msg:
        raise SpecError(msg)
    return series.astype(str).str.strip().tolist()


#: Columns bayesnet adds to an evidence table: never offered as a column a spec can name.
INTERNAL_COLUMNS = ("log_hr", "se", "derivation", "warnings", "arms", "design_arms")  # arms: the arm evidence


def input_columns(table: pd.DataFrame) -> list[str]:
    """The columns a message lists as "columns: ...": the table's columns without those
    bayesnet adds (`INTERNAL_COLUMNS` and the `_`-prefixed ones such as `_row`)."""
    return [str(c) for c in table.columns if str(c) not in INTERNAL_COLUMNS and not str(c).startswith("_")]


def data_problems(ev: EvidenceTable | pd.DataFrame, spec: Spec, columns_only: bool = False) -> list[str]:
    """Every problem of the columns the spec names, in one pass, each prefixed with the spec
    file: [model] covariates (present, no blank cell, the reference level present, two or
    more levels), heterogeneity and population columns (`[bias.by.<column>]` is checked by
    `bayesnet.bias.check_bias_columns`). `ev` is an EvidenceTable or the rows as read;
    `columns_only`: only whether each named column exists. `build_model_data` raises them
    as one SpecError."""
    t = ev.table if isinstance(ev, EvidenceTable) else ev
    cols = ", ".join(input_columns(t))
    out = []
    for cov in spec.model.covariates:
        if cov not in t.columns:
            out.append(f"[model].covariates: column '{cov}' is not in the data (columns: {cols})")
            continue
        if columns_only:
            continue
        blank = _blank_problem(t[cov], cov, t["study"])
        if blank:
            out.append(blank)
            continue
        levels = sorted(set(t[cov].astype(str).str.strip()))
        ref = spec.model.reference.get(cov)
        if ref is not None and ref not in levels:
            out.append(f"[model].reference: level '{ref}' of '{cov}' is not in the data; levels: {', '.join(levels)}")
        if len(levels) < 2:
            out.append(f"[model].covariates: '{cov}' has a single level ('{levels[0]}') in the selected studies; "
                       f"drop it or select studies with other levels")
    het = spec.model.heterogeneity
    if isinstance(het, str) and het.startswith("by:"):
        col = het.split(":", 1)[1]
        if col not in t.columns:
            out.append(f"[model].heterogeneity: column '{col}' is not in the data (columns: {cols})")
        elif col not in spec.model.covariates and not columns_only:
            blank = _blank_problem(t[col], col, t["study"])
            if blank:
                out.append(blank)
    pop = spec.model.population
    if isinstance(pop, str) and pop and pop not in t.columns:
        out.append(f"[model].population: column '{pop}' is not in the data (columns: {cols})")
    where = f"{spec.path}: " if spec.path else ""
    return [m if (not where or m.startswith(where)) else where + m for m in out]


def build_model_data(ev: EvidenceTable, spec: Spec) -> ModelData:
    """Design matrix, heterogeneity groups and population index for `spec` on `ev`, with
    the spec's priors and random-effects settings resolved for the engines."""
    t = ev.table
    problems = data_problems(ev, spec)
    if problems:
        raise SpecError(problems=problems)
    studies = t["study"].astype(str).tolist()
    y = t["log_hr"].to_numpy(float)
    s = t["se"].to_numpy(float)
    cols, names = [np.ones(len(t))], ["mu"]
    covariates: dict[str, list[str]] = {}
    reference: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for cov in spec.model.covariates:
        if cov not in t.columns:
            raise SpecError(f"[model].covariates: column '{cov}' is not in the data (columns: {', '.join(map(str, t.columns))})")
        vals = _levels(t[cov], cov, t["study"])
        values[cov] = vals
        levels = sorted(set(vals))
        ref = spec.model.reference.get(cov)
        if ref is None:
            counts = pd.Series(vals).value_counts()
            ref = str(counts.index[0])  # most common level
        elif ref not in levels:
            raise SpecError(f"[model].reference: level '{ref}' of '{cov}' is not in the data; levels: {', '.join(levels)}")
        if len(levels) < 2:
            raise SpecError(f"[model].covariates: '{cov}' has a single level ('{levels[0]}') in the selected studies; "
                            f"drop it or select studies with other levels")
        ordered = [ref] + [lv for lv in levels if lv != ref]
        covariates[cov], reference[cov] = ordered, ref
        for lv in ordered[1:]:
            cols.append(np.array([v == lv for v in vals], dtype=float))
            names.append(f"{cov}:{lv}")
    X = np.column_stack(cols)
    if X.shape[0] == 0:
        raise SpecError("no studies left to analyse (the selection, or a leave-one-out refit, removed every study)")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise SpecError("[model].covariates: the covariates are collinear in the selected studies "
                        "(a level of one is determined by another); drop one of them")
    unknown = [c for c in spec.priors.coef if c not in names]
    if unknown:
        where = f"{spec.path}: " if spec.path else ""
        raise SpecError(problems=[
            f"{where}[priors.coef]: key \"{c}\" names no coefficient of this model; valid coefficient names: "
            f"{', '.join(names)} (\"covariate:level\" for each non-reference level)" for c in unknown])
    pri, mod = spec.priors, spec.model
    md = ModelData(studies=studies, y=y, s=s, X=X, coef_names=names, covariates=covariates,
                   reference=reference, covariate_values=values,
                   coef_priors=tuple(pri.for_coefficient(n) for n in names), tau_prior=pri.tau,
                   omega_prior=pri.omega, effects=mod.effects, random_dist=mod.random_dist,
                   random_df=float(mod.random_df))
    het = mod.heterogeneity
    if het != "shared":
        col = het.split(":", 1)[1]
        if col not in t.columns:
            raise SpecError(f"[model].heterogeneity: column '{col}' is not in the data")
        vals = _levels(t[col], col, t["study"])
        levels = sorted(set(vals))
        md.het_column, md.het_levels = col, levels
        md.het_index = np.array([levels.index(v) for v in vals])
    pop = mod.population
    if pop:
        if pop not in t.columns:
            raise SpecError(f"[model].population: column '{pop}' is not in the data")
        raw = t[pop].astype("string").fillna("").str.strip().tolist()
        labels = [v if v else f"own:{st}" for v, st in zip(raw, studies)]  # no group: own population
        levels = list(dict.fromkeys(labels))
        md.pop_column, md.pop_levels = pop, levels
        md.pop_index = np.array([levels.index(v) for v in labels])
    check_propriety(md, spec.path)
    return md


def check_propriety(md: ModelData, path=None) -> None:
    """Refuse (ModelError naming the prior to change) a model whose posterior is improper.

    Only the "flat" scale prior is improper. With a flat prior on a scale sigma (tau, a
    group's tau, or omega) the likelihood, integrated over the flat coefficients, decays like
    sigma^-(r) as sigma -> infinity, with r = rank([X_F, Z]) - rank(X_F): X_F the columns of
    the design matrix with flat priors, Z the indicator matrix of the units that sigma scales
    (the studies, the studies of one group, the populations). The posterior is proper iff
    r >= 2 (the integral of sigma^-r over [1, inf) converges). Without covariates and with
    study-level tau this is the familiar k - p_flat >= 2; k = 1 with a normal prior on mu and a
    flat tau gives r = 1: improper. Normal priors on coefficients do not help (they do not
    change the rate). A proper tau prior always gives a proper posterior (Roever 2020,
    J Stat Softw 93(6), sec. 2.3; Gelman 2006, Bayesian Anal 1:515-34)."""
    if not md.random:
        return
    flat = [j for j, pr in enumerate(md.coef_priors) if pr.dist == "flat"]
    XF = md.X[:, flat]
    rF = np.linalg.matrix_rank(XF) if flat else 0
    flat_names = [md.coef_names[j] for j in flat]
    what = (f"the flat prior(s) on {', '.join(flat_names)}" if flat_names else "no flat coefficient prior")

    def rate(Z: np.ndarray) -> int:
        return int(np.linalg.matrix_rank(np.column_stack([XF, Z]) if flat else Z)) - rF

    problems = []
    if md.tau_prior.dist == "flat":
        if md.het_column is None:
            units = [("all studies", np.eye(md.k))]
        else:
            units = [(f"{md.het_column} = {lev}", np.eye(md.k)[:, md.het_index == g])
                     for g, lev in enumerate(md.het_levels)]
        for label, Z in units:
            r = rate(Z)
            if r < 2:
                problems.append(
                    f"[priors].tau: the flat (improper) prior on tau gives an improper posterior for {label} "
                    f"({Z.shape[1]} study/studies, {what}: needs at least 2 more studies than flat "
                    f"coefficients). Fix: use a proper tau prior, e.g. tau = {{ dist = \"half_normal\", sigma = 0.5 }}")
    if md.pop_column is not None and md.omega_prior.dist == "flat":
        Z = np.eye(len(md.pop_levels))[md.pop_index]
        if rate(Z) < 2:
            problems.append(
                f"[priors].omega: the flat (improper) prior on omega gives an improper posterior "
                f"({len(md.pop_levels)} population(s), {what}). Fix: use a proper omega prior, e.g. "
                f"omega = {{ dist = \"half_normal\", sigma = 0.5 }}")
    if problems:
        where = f"{path}: " if path else ""
        raise ModelError(where + "\n".join(problems))
