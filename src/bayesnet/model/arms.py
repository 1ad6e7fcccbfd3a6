"""Arm-level survival rows (and HR rows) as one linear-Gaussian evidence model.

For arm j of study i at time t_ij (years), on the log cumulative hazard scale
(generalised evidence synthesis: Prevost, Abrams & Jones 2000, Stat Med 19:3359-76;
exchangeable baselines: Hong H et al. 2016, Stat Methods Med Res 25:1334):

    L_ij = ln(-ln S_ij(t)) ~ N(alpha_i + gamma (ln t_ij - ln t_ref) + T_ij (d_i + delta_i), v_ij)
    v_ij = (1 - S_ij) / (n_ij S_ij (ln S_ij)^2)         delta-method variance
    y_i  ~ N(d_i + delta_i, se_i^2)                      HR rows, as in the contrast model
    alpha_i = alpha_mean + a_i,   a_i ~ N(0, sigma_alpha^2)     exchangeable baselines
    d_i  = x_i' beta + u_i,       u_i ~ N(0, tau^2)              the contrast model's study effects
    delta_i = m_i + e_i,          e_i ~ N(0, s_i^2)               by-design bias ([bias.by]; known)
            (+ delta_common ~ N(m_c, s_c^2), shared by every study: [bias] common)

As a `GaussianModel` (bayesnet.model.gaussian): the rows are the HR rows then the arm
rows; b = (beta, alpha_mean, gamma when time points differ, delta_common when its sd > 0)
with their normal (or flat) priors; u = (u_1..u_k, a_1..a_B) with G(theta) =
diag(tau^2 I_k, sigma_alpha^2 I_B), theta = (tau, sigma_alpha) (tau only without arms,
sigma_alpha only with fixed effects); the known bias mean m_i T_ij is the offset and its
variance s_i^2 T_ij T_il a term of S (shared by the treated rows of one study). Nothing
edits the data L and y.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ModelError, SpecError
from ..priors import Prior
from .gaussian import GaussianModel

__all__ = ["ArmModelData", "DEFAULT_ARM_PRIORS", "arm_gaussian_model", "build_arm_model_data"]

DEFAULT_ARM_PRIORS = {
    # ln(-ln S): S = 0.5 at the mean is -0.37; a sd of 2 covers S from ~0.001 to ~0.999
    "baseline_mean": Prior("normal", {"mu": 0.0, "sigma": 2.0}),
    "baseline_sd": Prior("half_normal", {"sigma": 1.0}, kind="scale"),
    # Weibull shape of the cumulative hazard in time (1 = exponential)
    "time_slope": Prior("normal", {"mu": 1.0, "sigma": 0.5}),
}


@dataclass
class ArmModelData:
    """Everything the arm-level model needs, as arrays (studies: HR studies first)."""

    studies: list[str]
    design: list[str]                  # per study: "hr", "comparative" or "case_series"
    X: np.ndarray                      # study-level design matrix (intercept + dummies)
    coef_names: list[str]
    covariates: dict[str, list[str]]
    reference: dict[str, str]
    hr_study: np.ndarray               # index into studies, one per HR row
    y: np.ndarray
    s: np.ndarray
    arm_study: np.ndarray              # index into studies, one per arm
    arm_base: np.ndarray               # index into arm studies (baselines), one per arm
    treated: np.ndarray
    L: np.ndarray
    v: np.ndarray
    logt: np.ndarray                   # ln t - ln t_ref per arm
    bias_mu: np.ndarray                # per study: mean of the independent bias
    bias_sd: np.ndarray                # per study: sd of the independent bias (0 = fixed)
    common_bias: tuple[float, float] = (0.0, 0.0)
    bias_text: list[str] = field(default_factory=list)
    t_ref: float = 5.0
    n_centred: int = 0                 # baselines with a comparator arm (listed first)

    @property
    def k(self) -> int:
        return len(self.studies)

    @property
    def n_base(self) -> int:
        return int(self.arm_base.max()) + 1 if len(self.arm_base) else 0

    @property
    def time_varies(self) -> bool:
        return bool(len(self.logt) and np.ptp(self.logt) > 1e-12)


#: Columns the arm tables gain from bayesnet (never listed as columns a spec can name).
_ADDED = {"_row", "L", "v", "n_arms", "log_hr", "se", "derivation", "warnings", "arms"}


def _study_values(col: str, hr_table, arm_table, studies, where: str = "[model].covariates") -> list[str]:
    """The value of column `col` per study; `where` is the spec key that names the column
    (for the message when it is missing)."""
    vals = {}
    for t in (hr_table, arm_table):
        if t is None or not len(t):
            continue
        if col not in t.columns:
            cols = [str(c) for c in t.columns if str(c) not in _ADDED]
            raise SpecError(f"{where}: column '{col}' is not in the data (columns: {', '.join(cols)})")
        for st, g in t.groupby("study", sort=False):
            levels = {str(x).strip() for x in g[col]}
            if len(levels) != 1 or "" in levels:
                raise SpecError(f"covariate '{col}' must have one non-empty value per study; study '{st}' has "
                                f"{sorted(levels)}. Fix: give every arm of the study the same {col}")
            vals[st] = levels.pop()
    return [vals[s] for s in studies]


def build_arm_model_data(hr_table: pd.DataFrame | None, arm_table: pd.DataFrame | None,
                         covariates=(), reference: dict | None = None, bias: dict | None = None,
                         t_ref: float | None = None) -> ArmModelData:
    """Arrays for the arm-level model. `hr_table` is an EvidenceTable's table (study,
    log_hr, se, ...), `arm_table` an ArmTable's table; `bias` the [bias] priors on the
    log-HR scale as {"common": (mu, sigma) | None, "by": {column: {level: (mu, sigma)}}}
    (`bayesnet.arm_analysis.parse_bias_table` reads them from a spec). Raises ModelError
    when a case series has no bias prior."""
    reference = dict(reference or {})
    bias = bias or {"common": None, "by": {}}
    hr_studies = list(dict.fromkeys(hr_table["study"].astype(str))) if hr_table is not None and len(hr_table) else []
    arm_studies = list(dict.fromkeys(arm_table["study"].astype(str))) if arm_table is not None and len(arm_table) else []
    studies = hr_studies + arm_studies
    if not studies:
        raise ModelError("no studies: give HR rows, arm rows or both")
    n_arms = {s: int((arm_table["study"] == s).sum()) for s in arm_studies}
    design = ["hr"] * len(hr_studies) + ["case_series" if n_arms[s] == 1 else "comparative" for s in arm_studies]
    cols, names, covs = [np.ones(len(studies))], ["mu"], {}
    for cov in covariates:
        vals = _study_values(cov, hr_table, arm_table, studies)
        levels = sorted(set(vals))
        ref = reference.get(cov) or pd.Series(vals).value_counts().index[0]
        if ref not in levels:
            raise SpecError(f"[model].reference: level '{ref}' of '{cov}' is not in the data; levels: {', '.join(levels)}")
        if len(levels) < 2:
            raise SpecError(f"[model].covariates: '{cov}' has a single level ('{levels[0]}'); drop it")
        ordered = [ref] + [lv for lv in levels if lv != ref]
        covs[cov], reference[cov] = ordered, ref
        for lv in ordered[1:]:
            cols.append(np.array([v == lv for v in vals], float))
            names.append(f"{cov}:{lv}")
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ModelError("[model].covariates are collinear in the selected studies; drop one of them")
    idx = {s: i for i, s in enumerate(studies)}
    # independent per-study bias by column level
    bmu, bsd = np.zeros(len(studies)), np.zeros(len(studies))
    text = []
    for col, levels in bias["by"].items():
        vals = _study_values(col, hr_table, arm_table, studies, where=f"[bias.by.{col}]")
        present = sorted(set(vals))
        for lev in levels:
            if lev not in present:
                raise SpecError(f"[bias.by.{col}]: level '{lev}' is not in the data; levels: {', '.join(present)}")
        for i, v in enumerate(vals):
            if v in levels:
                m, sd = levels[v]
                bmu[i] += m
                bsd[i] = float(np.hypot(bsd[i], sd))
        for lev, (m, sd) in levels.items():
            text.append(f"{col} = {lev}: independent bias per study ~ N({m:g}, {sd:g}^2) on the log-HR scale "
                        f"(HR ratio {np.exp(m):.2f})")
    covered = set()
    for col, levels in bias["by"].items():
        vals = _study_values(col, hr_table, arm_table, studies)
        covered |= {studies[i] for i, v in enumerate(vals) if v in levels}
    no_prior = [s for s, d in zip(studies, design) if d == "case_series" and s not in covered]
    if no_prior:
        raise ModelError(
            f"single-arm case series {', '.join(no_prior)} would inform the treatment effect only through an "
            "assumed selection bias, and no bias prior covers them. Fix: state one, e.g. "
            "[bias.by.design] case_series = { mu = -0.2, sigma = 0.3 } (mu < 0: series look better than the "
            "truth), or drop the case series")
    common = bias.get("common") or (0.0, 0.0)
    if bias.get("common"):
        text.append(f"every study: a common bias ~ N({common[0]:g}, {common[1]:g}^2), not learnable from the data")
    if arm_table is not None and len(arm_table):
        a = arm_table
        times = a["surv_time_years"].to_numpy(float)
        tr = float(t_ref if t_ref is not None else pd.Series(times).mode().iloc[0])
        arm_study = np.array([idx[s] for s in a["study"].astype(str)])
        # baselines: studies with a comparator arm first, then single-arm series
        ordered = [s for s in arm_studies if n_arms[s] > 1] + [s for s in arm_studies if n_arms[s] == 1]
        base = {s: j for j, s in enumerate(ordered)}
        n_centred = 0
        arm_base = np.array([base[s] for s in a["study"].astype(str)])
        treated = a["treated"].to_numpy(bool).astype(float)
        L, v = a["L"].to_numpy(float), a["v"].to_numpy(float)
        logt = np.log(times) - np.log(tr)
    else:
        tr = 5.0
        n_centred = 0
        arm_study = arm_base = np.zeros(0, int)
        treated = L = v = logt = np.zeros(0)
    if hr_studies:
        hr_study = np.array([idx[s] for s in hr_table["study"].astype(str)])
        y, s_ = hr_table["log_hr"].to_numpy(float), hr_table["se"].to_numpy(float)
    else:
        hr_study, y, s_ = np.zeros(0, int), np.zeros(0), np.zeros(0)
    return ArmModelData(studies=studies, design=design, X=X, coef_names=names, covariates=covs,
                        reference=reference, hr_study=hr_study, y=y, s=s_, arm_study=arm_study,
                        arm_base=arm_base, treated=treated, L=L, v=v, logt=logt, bias_mu=bmu,
                        bias_sd=bsd, common_bias=(float(common[0]), float(common[1])), bias_text=text,
                        t_ref=tr, n_centred=n_centred)


def _normal_prior(pr: Prior, name: str) -> tuple[float, float]:
    """(mean, precision) of a normal or flat prior (precision 0 = flat)."""
    if pr.dist == "normal":
        return float(pr.params["mu"]), 1.0 / float(pr.params["sigma"]) ** 2
    if pr.dist == "flat":
        return 0.0, 0.0
    raise ModelError(f"the prior on {name} {pr.describe()} is not normal or flat: the exact engine needs normal or "
                     "flat priors on the fixed effects; use --engine mcmc")


def arm_gaussian_model(md: ArmModelData, priors: dict[str, Prior], arm_priors: dict[str, Prior] | None = None,
                       random: bool = True, bias: bool = True) -> GaussianModel:
    """The GaussianModel of the module docstring for `md`. `priors` holds "mu", "beta",
    "tau" and per-coefficient overrides by name; `arm_priors` the baseline priors
    (defaults DEFAULT_ARM_PRIORS). `bias=False` is the same model without the [bias]
    terms (the evidence as reported)."""
    ap = {**DEFAULT_ARM_PRIORS, **(arm_priors or {})}
    k = md.k
    n_hr, n_arm = len(md.y), len(md.L)
    n = n_hr + n_arm
    study = np.concatenate([md.hr_study, md.arm_study]).astype(int)
    T = np.concatenate([np.ones(n_hr), md.treated]).astype(float)    # the row carries the treatment effect
    y = np.concatenate([md.y, md.L]).astype(float)
    var = np.concatenate([md.s**2, md.v]).astype(float)
    cols = [T[:, None] * md.X[study]]
    names = list(md.coef_names)
    b0, prec = [], []
    for j, nm in enumerate(md.coef_names):
        pr = priors["mu"] if j == 0 else priors.get(nm, priors["beta"])
        m_, p_ = _normal_prior(pr, nm)
        b0.append(m_)
        prec.append(p_)
    has_arms = n_arm > 0
    if has_arms:
        cols.append(np.concatenate([np.zeros(n_hr), np.ones(n_arm)])[:, None])
        names.append("baseline_mean")
        m_, p_ = _normal_prior(ap["baseline_mean"], "[arm_model] baseline_mean")
        b0.append(m_)
        prec.append(p_)
        if md.time_varies:
            cols.append(np.concatenate([np.zeros(n_hr), md.logt])[:, None])
            names.append("time_slope")
            m_, p_ = _normal_prior(ap["time_slope"], "[arm_model] time_slope")
            b0.append(m_)
            prec.append(p_)
    offset = np.zeros(n)
    S = np.diag(var)
    if bias:
        offset += T * md.bias_mu[study]
        same = study[:, None] == study[None, :]
        S = S + same * np.outer(T * md.bias_sd[study], T * md.bias_sd[study])
        mu_c, sd_c = md.common_bias
        if sd_c > 0:
            cols.append(T[:, None])
            names.append("bias_common")
            b0.append(mu_c)
            prec.append(1.0 / sd_c**2)
        else:
            offset += T * mu_c
    X = np.column_stack(cols)
    zcols, blocks, theta_names, theta_priors = [], [], [], []
    if random:
        Zt = np.zeros((n, k))
        Zt[np.arange(n), study] = T
        zcols.append(Zt)
        blocks.append(k)
        theta_names.append("tau")
        theta_priors.append(priors["tau"])
    if has_arms:
        Za = np.zeros((n, md.n_base))
        Za[np.arange(n_hr, n), md.arm_base] = 1.0
        zcols.append(Za)
        blocks.append(md.n_base)
        theta_names.append("baseline_sd")
        theta_priors.append(ap["baseline_sd"])
    Z = np.column_stack(zcols) if zcols else np.zeros((n, 0))
    reps = np.array(blocks, int)

    def G(theta, reps=reps):
        return np.diag(np.repeat(np.asarray(theta, float) ** 2, reps))

    def G_diag(thetas, reps=reps):
        return np.repeat(np.asarray(thetas, float) ** 2, reps, axis=-1)

    labels = tuple([f"{md.studies[i]} (HR)" for i in md.hr_study] +
                   [f"{md.studies[i]} arm {j}" for j, i in enumerate(md.arm_study)])
    return GaussianModel(y=y, S=S, X=X, b0=np.array(b0, float), B0inv=np.diag(np.array(prec, float)), Z=Z, G=G,
                         theta_names=tuple(theta_names), theta_priors=tuple(theta_priors), b_names=tuple(names),
                         offset=offset if np.any(offset != 0) else None, row_labels=labels,
                         G_diag=G_diag)
