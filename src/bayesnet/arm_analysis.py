"""Arm rows through the one pipeline: `bayesnet.fit`, `validate`, `fit`, `report`, `sweep`
and `bias` recognise arm rows from the columns (`bayesnet.evidence.arms.arm_evidence`)
and fit the arm-level model (`bayesnet.model.arms`) instead of the contrast model; the
result is the same typed Posterior, so summary.json and the report have one schema.

A spec for arm data is an ordinary spec; `[arm_model]` is optional (defaults:
`bayesnet.model.arms.DEFAULT_ARM_PRIORS`):

    [bias.by.design]                       # required when the data hold single-arm series
    case_series = { mu = -0.2, sigma = 0.3 }
    [arm_model]                            # optional priors of the baseline model
    baseline_mean = { dist = "normal", mu = 0.0, sigma = 2.0 }   # mean of ln(-ln S) without treatment
    baseline_sd = { dist = "half_normal", sigma = 1.0 }          # between-study SD of baselines
    time_slope = { dist = "normal", mu = 1.0, sigma = 0.5 }      # Weibull shape (time points differ)

Engines: "exact" (2-D quadrature; `bayesnet.engines.arms_exact`, never imports PyMC) and
"mcmc" (`bayesnet.engines.arms`); "auto" picks exact whenever the priors on the fixed
effects are normal or flat. The analysis "as reported" (`post.as_reported`) is the
same model without `[bias]` on the studies that compare arms or report an HR: a case series
compares nothing, so without an assumed selection bias it cannot enter.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import ModelError
from .priors import parse_prior
from .validate import Problems

__all__ = ["ARM_DATASETS", "ArmFixedBias", "bias_table", "fit_arm_posterior", "parse_arm_priors",
           "parse_bias_table"]

ARM_DATASETS = {"liver_resection_arms"}
ARM_PRIOR_KINDS = {"baseline_mean": "effect", "baseline_sd": "scale", "time_slope": "effect"}


def parse_bias_table(raw: dict | None, where: str = "spec") -> dict:
    """The [bias] priors on the log-HR scale as the arm-level builder takes them:
    {"common": (mu, sigma) | None, "by": {column: {level: (mu, sigma)}}}; the table is
    checked by `bayesnet.bias.parse_bias` (every problem in one SpecError)."""
    from .bias import parse_bias

    return bias_table(parse_bias(raw or {}, where))


def bias_table(b) -> dict:
    """A `bayesnet.bias.BiasSpec` (or None) as the arm-level builder's bias dict."""
    if b is None:
        return {"common": None, "by": {}}
    return {"common": None if b.common is None else (b.common.mu, b.common.sigma),
            "by": {str(c): {str(lv): (p.mu, p.sigma) for lv, p in levels.items()} for c, levels in b.by.items()}}


def parse_arm_priors(raw, where: str = "") -> dict:
    """`[arm_model]` as priors (defaults for the keys not given); every problem in one
    SpecError naming the key."""
    from .model.arms import DEFAULT_ARM_PRIORS

    raw = raw or {}
    P = Problems(where=where)
    out = dict(DEFAULT_ARM_PRIORS)
    if P.table("arm_model", raw, '{ baseline_sd = { dist = "half_normal", sigma = 1.0 } }'):
        P.keys("arm_model", raw, ARM_PRIOR_KINDS, shown=", ".join(ARM_PRIOR_KINDS))
        for k, v in raw.items():
            if k in ARM_PRIOR_KINDS:
                pr = P.run(parse_prior, v, f"[arm_model].{k}", ARM_PRIOR_KINDS[k])
                if pr is not None:
                    out[k] = pr
    P.raise_if_any()
    return out


def _priors(spec) -> dict:
    pr = spec.priors.top()
    pr.update(spec.priors.coef)
    return pr


def _contrast_view(ev, amd, spec):
    """A `bayesnet.models.ModelData` over the same studies (in the arm model's order) whose
    y, s are what each study reports as a contrast: the HR as reported, a comparative
    study's crude log-HR from its arms (derived), a case series' none (NaN). Summaries,
    studies tables and forest plots read the studies from it; the arm model is in
    `post.extras["arm_model_data"]`."""
    from .models import ModelData

    t = ev.table.set_index(ev.table["study"].astype(str))
    y = np.array([float(t.loc[s, "log_hr"]) for s in amd.studies])
    s_ = np.array([float(t.loc[s, "se"]) for s in amd.studies])
    pri = _priors(spec)
    coef_priors = tuple(pri["mu"] if j == 0 else pri.get(n, pri["beta"]) for j, n in enumerate(amd.coef_names))
    cov_vals = {}
    for cov in amd.covariates:
        cov_vals[cov] = [str(t.loc[s, cov]).strip() for s in amd.studies]
    return ModelData(studies=list(amd.studies), y=y, s=s_, X=amd.X, coef_names=list(amd.coef_names),
                     covariates=dict(amd.covariates), reference=dict(amd.reference), covariate_values=cov_vals,
                     coef_priors=coef_priors, tau_prior=spec.priors.tau, effects=spec.model.effects)


class ArmFixedBias:
    """P(true HR < t) of the pooled effect or a new study when the common bias of `[bias]`
    is replaced by a fixed delta = ln(reported HR / true HR) (the tipping-point question;
    the per-study `[bias.by]` terms stay), for any delta without refitting: with the
    offset delta on every treated row, given theta, the posterior mean of b moves
    linearly in delta (b(delta) = b - delta h) and log p(y | theta) quadratically
    (+ delta a1 - delta^2 a2 / 2); h, a1 and a2 are read off exact conditionals at
    delta = -1, 0, 1 on the theta grid of delta = 0. The same object as
    `bayesnet.bias._FixedBias` for the contrast model (`probs(deltas, t, quantity)`)."""

    def __init__(self, amd, priors, arm_priors, random: bool):
        self._args = (amd, priors, arm_priors, random)  # computed on first use (refits never ask)
        self._ready = False

    def _setup(self):
        from .model.arms import arm_gaussian_model
        from .model.gaussian import conditionals, integrate_theta

        amd, priors, arm_priors, random = self._args
        md0 = dataclasses.replace(amd, common_bias=(0.0, 0.0))
        gm = arm_gaussian_model(md0, priors, arm_priors, random=random, bias=True)
        grid = integrate_theta(gm)
        T = np.concatenate([np.ones(len(amd.y)), amd.treated]).astype(float)
        base = np.zeros(gm.n) if gm.offset is None else gm.offset
        c0 = conditionals(gm, grid.nodes)
        cp = conditionals(dataclasses.replace(gm, offset=base + T), grid.nodes)
        cm = conditionals(dataclasses.replace(gm, offset=base - T), grid.nodes)
        j = gm.b_index("mu")
        self.m0 = c0["bhat"][:, j]
        self.h = self.m0 - cp["bhat"][:, j]
        self.var = c0["Pinv"][:, j, j]
        self.tau2 = grid.nodes[:, gm.theta_names.index("tau")] ** 2 if "tau" in gm.theta_names else 0.0 * self.m0
        self.a1 = (cp["loglik"] - cm["loglik"]) / 2.0
        self.a2 = -(cp["loglik"] + cm["loglik"] - 2.0 * c0["loglik"])
        with np.errstate(divide="ignore"):
            self.logw = np.log(grid.weights)
        self._ready = True

    def probs(self, deltas, t, quantity: str = "pooled") -> np.ndarray:
        from scipy.special import ndtr

        if not self._ready:
            self._setup()
        d = np.atleast_1d(np.asarray(deltas, float))[:, None]
        lw = self.logw[None, :] + d * self.a1 - 0.5 * d**2 * self.a2
        w = np.exp(lw - lw.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        mean = self.m0[None, :] - d * self.h
        sd = np.sqrt(self.var + (self.tau2 if quantity == "predictive" else 0.0))[None, :]
        tt = np.log(np.broadcast_to(np.asarray(t, float), (len(d),)))[:, None]
        return (ndtr((tt - mean) / sd) * w).sum(axis=1)

    def prob(self, delta: float, t: float, quantity: str = "pooled") -> float:
        return float(self.probs([delta], t, quantity)[0])

    def marginal(self, delta: float, quantity: str = "pooled"):
        """The log-HR marginal of `quantity` under the fixed common bias `delta`: the normal
        mixture over the theta grid whose CDF `probs` evaluates (as `_FixedBias.marginal`)."""
        from .posterior import MixtureMarginal

        if not self._ready:
            self._setup()
        d = float(delta)
        lw = self.logw + d * self.a1 - 0.5 * d**2 * self.a2
        w = np.exp(lw - lw.max())
        keep = w > 0
        sd = np.sqrt(self.var + (self.tau2 if quantity == "predictive" else 0.0))
        return MixtureMarginal((self.m0 - d * self.h)[keep], sd[keep], w[keep] / w[keep].sum())


def _engine(engine: str, priors, arm_priors) -> str:
    from .engines.arms_exact import can_fit_arms

    if engine not in ("auto", "exact", "mcmc"):
        raise ModelError(f"engine must be one of auto, exact, mcmc, got {engine!r}")
    ok, why = can_fit_arms(priors, arm_priors)
    if engine == "auto":
        return "exact" if ok else "mcmc"
    if engine == "exact" and not ok:
        raise ModelError(f"the exact engine cannot fit this arm-level model: {why}. Use --engine mcmc (or auto)")
    return engine


def _fit_one(amd, spec, ev, eng, priors, arm_priors, seed, progress):
    random = spec.model.effects == "random"
    if eng == "exact":
        from .engines.arms_exact import fit_arms_exact

        post = fit_arms_exact(amd, priors, arm_priors, random=random, spec=spec, evidence=ev)
        post.seed = seed
        return post
    from .engines.arms import fit_arms

    mc = spec.mcmc
    return fit_arms(amd, priors, arm_priors, random=random, seed=int(mc.seed if seed is None else seed),
                    chains=mc.chains, draws=mc.draws, tune=mc.tune, target_accept=mc.target_accept,
                    progress=progress, spec=spec, evidence=ev)


def _finish(post, amd, spec, ev, frequentist: bool):
    """Give an arm-level Posterior what the common summaries read: the contrast view as
    model_data, the arm model in extras, the REML comparator on the studies that report
    or compare arms (their derived HRs)."""
    post.extras["arm_model_data"] = amd
    post.model_data = _contrast_view(ev, amd, spec)
    post.extras["arm_model"] = arm_model_summary(post)
    if post.engine == "mcmc_arms":
        post.engine = "mcmc"
    md = post.model_data
    ok = np.isfinite(md.y)
    if frequentist and ok.sum() >= 2:
        from .engines.frequentist import comparator

        X = md.X[ok]
        keep = [0] + [j for j in range(1, X.shape[1]) if np.ptp(X[:, j]) > 0]
        post.extras["frequentist"] = comparator(md.y[ok], md.s[ok] ** 2, X[:, keep],
                                                [md.coef_names[j] for j in keep])
    post.extras["input_sha256"] = getattr(ev, "input_sha256", None)
    return post


def fit_arm_posterior(spec, ev, engine: str = "auto", seed: int | None = None, progress: bool = False,
                      frequentist: bool = True):
    """Fit the arm-level model to an `arm_evidence` table (HR rows, arm rows or both) as
    `bayesnet.fit` does for contrast rows: a Posterior with pooled (the log-HR mu at the
    reference levels), predictive, strata, coefficients, per-study true effects, tau and the
    baseline model; with `[bias]`, `post.as_reported` is the analysis as reported
    (no `[bias]`, studies that compare arms or report an HR) and `extras["fixed_bias"]` the
    tipping-point object (`ArmFixedBias`, exact engine)."""
    from .evidence.arms import arm_rows_of
    from .model.arms import build_arm_model_data

    hr, arms = arm_rows_of(ev.table)
    n_comp = 0 if arms is None else int((arms.groupby("study")["arm"].count() > 1).sum())
    if hr is None and n_comp == 0:
        raise ModelError(f"{ev.source}: no study compares arms (every study is a single-arm case series and none "
                         "reports an HR), so the HR would rest on the baseline prior alone. Fix: add comparative "
                         "studies (arms with and without the treatment) or HR rows")
    priors = _priors(spec)
    arm_priors = parse_arm_priors(getattr(spec, "arm_model", None), str(getattr(spec, "path", "") or ""))
    eng = _engine(engine, priors, arm_priors)
    bias = getattr(spec, "bias", None)
    covs, ref = list(spec.model.covariates), dict(spec.model.reference)
    amd = build_arm_model_data(hr, arms, covariates=covs, reference=ref, bias=bias_table(bias))
    post = _fit_one(amd, spec, ev, eng, priors, arm_priors, seed, progress)
    _finish(post, amd, spec, ev, frequentist)
    if bias is not None:
        from .bias import describe_bias
        from .evidence.table import EvidenceTable

        plain = dataclasses.replace(spec, bias=None)
        keep = ev.table[ev.table["design_arms"] != "case_series"].reset_index(drop=True)
        ev_rep = EvidenceTable(table=keep, problems=ev.problems, source=ev.source)
        hr_r, arms_r = arm_rows_of(keep)
        amd_r = build_arm_model_data(hr_r, arms_r, covariates=covs, reference=ref)
        unadj = _finish(_fit_one(amd_r, plain, ev_rep, eng, priors, arm_priors, seed, progress), amd_r, plain,
                        ev_rep, frequentist)
        post.as_reported = unadj
        post.extras["bias"] = {"assumptions": describe_bias(bias)}
        if "frequentist" in unadj.extras:
            post.extras["frequentist"] = unadj.extras["frequentist"]
        n_series = int((ev.table["design_arms"] == "case_series").sum())
        if n_series:
            post.extras["unadjusted_note"] = (f"as reported: the {len(keep)} studies that compare arms or report an "
                                              f"HR; the {n_series} case series compare nothing and enter only with "
                                              "their assumed selection bias")
        post.extras["arm_model"] = arm_model_summary(post)
        if eng == "exact":
            post.extras["fixed_bias"] = ArmFixedBias(amd, priors, arm_priors, spec.model.effects == "random")
    return post


def arm_model_summary(post, ci_prob: float = 0.95) -> dict | None:
    """summary.json's "arm_model" block of an arm-level fit (None for a contrast fit):
    studies by kind, the baseline model's priors, the reference time, what "as reported"
    holds, and the Methods sentence (`bayesnet.summaries` adds the posteriors of the
    baseline mean and SD, ln(-ln S) scale)."""
    amd = post.extras.get("arm_model_data")
    if amd is None:
        return None
    from .format import prior as fmt_prior
    from .model.arms import DEFAULT_ARM_PRIORS

    spec = post.spec
    ap = parse_arm_priors(getattr(spec, "arm_model", None))
    counts = design_counts(post)
    out = {"designs": counts, "t_ref_years": amd.t_ref, "time_varies": amd.time_varies,
           "baseline_priors": {k: ap.get(k, DEFAULT_ARM_PRIORS[k]).describe() for k in DEFAULT_ARM_PRIORS},
           "unadjusted_note": post.extras.get("unadjusted_note")}
    parts = []
    if counts.get("hr"):
        parts.append(f"{counts['hr']} studies as reported hazard ratios")
    if counts.get("comparative"):
        parts.append(f"{counts['comparative']} comparative studies as the survival of each arm at its time point")
    if counts.get("case_series"):
        parts.append(f"{counts['case_series']} single-arm case series as the survival of their treated arm")
    out["methods"] = (
        "Arm-level evidence synthesis (Prevost, Abrams & Jones 2000; exchangeable baselines, Hong et al. 2016): "
        + "; ".join(parts) + ". Each arm's survival S at time t enters as ln(-ln S) with its delta-method variance "
        "(1 - S) / (n S (ln S)^2), modelled as a study baseline alpha_i plus, for treated arms, the study's log-HR "
        "d_i (proportional hazards)" + (", with a Weibull time slope" if amd.time_varies else "") +
        "; baselines are exchangeable, alpha_i ~ N(alpha_mean, sigma_alpha^2) (priors "
        + "; ".join(fmt_prior(ap.get(k, DEFAULT_ARM_PRIORS[k]), ARM_PRIOR_SYMBOLS.get(k, k))
                    for k in DEFAULT_ARM_PRIORS) +
        "), and d_i = mu + u_i, u_i ~ N(0, tau^2) as in the contrast model. A case series informs the HR only "
        "through the baseline model and its stated selection bias.")
    return out


#: How the Methods paragraph names the arm model's priors (statistician's notation).
ARM_PRIOR_SYMBOLS = {"baseline_mean": "alpha_mean", "baseline_sd": "sigma_alpha", "time_slope": "gamma"}


def design_counts(post) -> dict:
    """Studies by kind in an arm-level fit: HR rows, comparative studies, case series."""
    amd = post.extras.get("arm_model_data")
    if amd is None:
        return {}
    return {d: amd.design.count(d) for d in ("hr", "comparative", "case_series")}
