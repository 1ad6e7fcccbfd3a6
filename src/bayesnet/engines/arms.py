"""Arm-level survival synthesis: HR rows, comparative arms and single-arm case series in
one model (generalised evidence synthesis; Prevost, Abrams & Jones 2000, Stat Med
19:3359-76; arm-based model with exchangeable baselines: Hong H et al. 2016, Stat Methods
Med Res 25:1334; single-arm studies: Zhang J et al. 2019, BMC Med Res Methodol 19:1;
Singh J, Abrams KR, Bujkiewicz S 2021, Res Synth Methods 12:106).

On the log cumulative hazard scale, for arm j of study i at time t_ij (years):

    L_ij = ln(-ln S_ij(t)) ~ N(alpha_i + gamma (ln t_ij - ln t_ref) + treated_ij (d_i + delta_i), v_ij)
    v_ij = (1 - S_ij) / (n_ij S_ij (ln S_ij)^2)               delta-method variance
    alpha_i ~ N(m_alpha, s_alpha^2)                           exchangeable baselines
    d_i = x_i' beta + tau u_i,  u_i ~ N(0, 1)                 the contrast model's study effects
    y_i ~ N(d_i + delta_i, se_i^2)                            HR rows, exactly as the contrast model
    delta_i = delta_common + delta_i^design                   bias priors ([bias]; Turner 2009)

beta[0] = mu is the mean log-HR at the reference levels and `[priors]` apply to beta and
tau as in the contrast model. A single-arm case series informs d_i only through the
baseline model (its alpha_i is drawn from the population of baselines learnt from the
comparative studies), so its selection bias delta_i must have a stated prior: a case
series whose design level has no `[bias.by.<column>]` entry is refused (ModelError)
rather than allowed to inform the treatment effect silently. gamma (a Weibull shape:
ln H(t) = ln lambda + gamma ln t) enters only when time points differ across arms.

Gaussian likelihood on L, not binomial: it is the likelihood the contrast model uses for
survival proportions, so the two models agree on comparative arms by construction, and a
simulation in `benchmarks/arm_model_coverage.py` (results in results/arm_model_coverage.md)
checks the coverage of mu under data generated from the model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ModelError, SpecError
from ..posterior import DrawsMarginal, Posterior
from ..priors import Prior
from .common import ESS_MIN, RHAT_MAX, compile_nutpie, convergence

__all__ = ["ArmModelData", "build_arm_model_data", "fit_arms", "DEFAULT_ARM_PRIORS"]

DEFAULT_ARM_PRIORS = {
    # ln(-ln S): S = 0.5 at the mean is -0.37; a sd of 2 covers S from ~0.001 to ~0.999
    "baseline_mean": Prior("normal", {"mu": 0.0, "sigma": 2.0}),
    "baseline_sd": Prior("half_normal", {"sigma": 1.0}, kind="scale"),
    # Weibull shape of the cumulative hazard in time (1 = exponential)
    "time_slope": Prior("normal", {"mu": 1.0, "sigma": 0.5}),
}
_CACHE: dict = {}
_LOCK = threading.Lock()


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


def _study_values(col: str, hr_table, arm_table, studies) -> list[str]:
    vals = {}
    for t in (hr_table, arm_table):
        if t is None or not len(t):
            continue
        if col not in t.columns:
            raise SpecError(f"[model].covariates: column '{col}' is not in the data "
                            f"(columns: {', '.join(map(str, t.columns))})")
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
        vals = _study_values(col, hr_table, arm_table, studies)
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
        # baselines: studies with a comparator arm first, then single-arm series. All are
        # non-centred by default (n_centred = 0): with few studies the baseline SD is weakly
        # identified and a centred parameterisation diverges (62 divergences in the tests'
        # six-study example vs at most 1 non-centred)
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


def _values(md: ArmModelData) -> dict:
    return {"X": md.X, "hr_study": md.hr_study.astype("int64"), "y": md.y, "s": md.s,
            "arm_study": md.arm_study.astype("int64"), "arm_base": md.arm_base.astype("int64"),
            "treated": md.treated, "L": md.L, "v_sd": np.sqrt(md.v), "logt": md.logt,
            "bias_mu": md.bias_mu, "bias_sd": md.bias_sd,
            "common_mu": np.asarray(md.common_bias[0]), "common_sd": np.asarray(md.common_bias[1])}


def _used_values(md: ArmModelData) -> dict:
    """The data arrays the model for `md` actually uses (PyMC drops unused pm.Data)."""
    vals = _values(md)
    keep = {"X", "bias_mu", "bias_sd", "common_mu"}
    if md.common_bias[1] > 0:
        keep.add("common_sd")
    if len(md.y):
        keep |= {"hr_study", "y", "s"}
    if len(md.L):
        keep |= {"arm_study", "arm_base", "treated", "L", "v_sd"}
        if md.time_varies:
            keep.add("logt")
    return {k: v for k, v in vals.items() if k in keep}


def _key(md, priors, arm_priors, random) -> tuple:
    return (md.k, md.X.shape[1], len(md.y), len(md.L), md.n_base, md.n_centred, md.time_varies, random,
            tuple((n, p.dist, tuple(sorted(p.params.items()))) for n, p in sorted(priors.items())),
            tuple((n, p.dist, tuple(sorted(p.params.items()))) for n, p in sorted(arm_priors.items())),
            bool(np.any(md.bias_sd > 0)), md.common_bias[1] > 0)


def build_pymc_model(md: ArmModelData, priors: dict[str, Prior], arm_priors: dict[str, Prior],
                     random: bool = True):
    """The PyMC model (data as pm.Data so a compiled model refits through with_data)."""
    import pymc as pm

    vals = _used_values(md)
    coords = {"study": md.studies, "coef": md.coef_names[1:]}
    with pm.Model(coords=coords) as model:
        d = {k: pm.Data(k, v) for k, v in vals.items()}
        coefs = [priors["mu"].pymc("mu", priors["mu"].params)]
        for j, n in enumerate(md.coef_names[1:], start=1):
            pr = priors.get(n, priors["beta"])
            coefs.append(pr.pymc(f"b{j}", pr.params))
        lin = pm.math.dot(d["X"], pm.math.stack(coefs))
        if random:
            tau = priors["tau"].pymc("tau", priors["tau"].params)
            z = pm.Normal("z", 0.0, 1.0, dims="study")
            lin = lin + tau * z
        dstudy = pm.Deterministic("d", lin, dims="study")
        e = pm.Normal("bias_z", 0.0, 1.0, dims="study")
        delta = d["bias_mu"] + d["bias_sd"] * e
        if md.common_bias[1] > 0:
            ec = pm.Normal("common_bias_z", 0.0, 1.0)
            delta = delta + d["common_mu"] + d["common_sd"] * ec
        else:
            delta = delta + d["common_mu"]
        if len(md.y):
            pm.Normal("y_obs", mu=dstudy[d["hr_study"]] + delta[d["hr_study"]], sigma=d["s"], observed=d["y"])
        if len(md.L):
            ma = arm_priors["baseline_mean"].pymc("baseline_mean", arm_priors["baseline_mean"].params)
            sa = arm_priors["baseline_sd"].pymc("baseline_sd", arm_priors["baseline_sd"].params)
            parts = []
            if md.n_centred:
                parts.append(pm.Normal("alpha_c", ma, sa, shape=md.n_centred))
            if md.n_base - md.n_centred:
                parts.append(ma + sa * pm.Normal("alpha_z", 0.0, 1.0, shape=md.n_base - md.n_centred))
            alpha = pm.Deterministic("alpha", pm.math.concatenate(parts) if len(parts) > 1 else parts[0])
            mean = alpha[d["arm_base"]] + d["treated"] * (dstudy[d["arm_study"]] + delta[d["arm_study"]])
            if md.time_varies:
                g = arm_priors["time_slope"].pymc("time_slope", arm_priors["time_slope"].params)
                mean = mean + g * d["logt"]
            pm.Normal("L_obs", mu=mean, sigma=d["v_sd"], observed=d["L"])
    return model


def compiled(md, priors, arm_priors, random=True):
    """(pymc model, nutpie compiled model with md's data); cached per structure."""
    key = _key(md, priors, arm_priors, random)
    with _LOCK:
        if key not in _CACHE:
            m = build_pymc_model(md, priors, arm_priors, random)
            _CACHE[key] = (m, compile_nutpie(m, "the arm-level model"))
        m, cm = _CACHE[key]
    return m, cm.with_data(**_used_values(md))


def fit_arms(md: ArmModelData, priors: dict[str, Prior], arm_priors: dict[str, Prior] | None = None,
             random: bool = True, seed: int = 20261122, chains: int = 4, draws: int = 1000,
             tune: int = 1000, target_accept: float = 0.99, progress: bool = False,
             spec=None, evidence=None) -> Posterior:
    """Sample the arm-level model with nutpie; a Posterior whose marginals are on the
    log-HR scale (pooled = mu at the reference levels, predictive = a new study's true
    effect, strata per covariate level, ("study", id) = d_i, ("baseline",) = m_alpha on
    the ln(-ln S) scale). The same diagnostics gate as the contrast model."""
    import nutpie

    arm_priors = {**DEFAULT_ARM_PRIORS, **(arm_priors or {})}
    _, cm = compiled(md, priors, arm_priors, random)
    idata = nutpie.sample(cm, chains=chains, draws=draws, tune=tune, seed=seed, progress_bar=progress,
                          target_accept=target_accept)
    post = idata["posterior"].to_dataset()
    names = ["mu"] + [f"b{j}" for j in range(1, md.X.shape[1])] + (["tau"] if random else []) + ["d"]
    if len(md.L):
        names += ["baseline_mean", "baseline_sd"] + (["time_slope"] if md.time_varies else [])
    c = convergence(idata, names)
    max_rhat, min_b, min_t, div = c["max_r_hat"], c["min_ess_bulk"], c["min_ess_tail"], c["divergences"]
    problems, advice = [], []
    if not max_rhat <= RHAT_MAX:
        problems.append(f"max R-hat {max_rhat:.3f} > {RHAT_MAX}")
        advice.append("run longer chains (more [mcmc] draws and tune)")
    if not min(min_b, min_t) >= ESS_MIN:
        problems.append(f"min ESS {min(min_b, min_t):.0f} < {ESS_MIN}")
        advice.append("increase [mcmc] draws")
    if div:
        problems.append(f"{div} divergent transition(s)")
        advice.append("raise target_accept (e.g. 0.99) or use more informative priors on tau and the baseline SD")
    diag = {"passed": not problems, "problems": problems, "suggestion": "; ".join(advice),
            "max_r_hat": max_rhat, "min_ess_bulk": min_b, "min_ess_tail": min_t, "divergences": div}
    rng = np.random.default_rng(seed + 1)
    mu = post["mu"].values
    tau = post["tau"].values if random else np.zeros_like(mu)
    beta = {n: post[f"b{j}"].values for j, n in enumerate(md.coef_names) if j} | {"mu": mu}
    marg = {("pooled",): DrawsMarginal(mu),
            ("predictive",): DrawsMarginal(mu + tau * rng.standard_normal(mu.shape))}
    if random:
        marg[("tau",)] = DrawsMarginal(tau, scale="raw")
    for n in md.coef_names[1:]:
        marg[("coef", n)] = DrawsMarginal(beta[n])
    for cov, levels in md.covariates.items():
        for lev in levels:
            lin = mu + (beta[f"{cov}:{lev}"] if lev != md.reference[cov] else 0.0)
            marg[("stratum", cov, lev)] = DrawsMarginal(lin)
            marg[("stratum_predictive", cov, lev)] = DrawsMarginal(lin + tau * rng.standard_normal(mu.shape))
    dd = post["d"].values
    for i, st in enumerate(md.studies):
        marg[("study", st)] = DrawsMarginal(dd[..., i])
    if len(md.L):
        marg[("baseline",)] = DrawsMarginal(post["baseline_mean"].values)
    return Posterior(engine="mcmc_arms", spec=spec, evidence=evidence, model_data=md, marginals=marg,
                     diagnostics=diag, extras={"idata": idata}, seed=seed)
