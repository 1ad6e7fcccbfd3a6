"""Frequentist comparator, as panels know it from Cochrane reviews and metafor.

Random-effects (meta-regression) model y ~ N(X b, diag(v) + tau^2 I):

- REML: tau^2 maximises the restricted log-likelihood
  -1/2 [ sum log(v_i + tau^2) + log|X'WX| + (y - Xb)'W(y - Xb) ]  (Viechtbauer 2005,
  J Educ Behav Stat 30:261-93); se(tau^2) from the expected information 1/2 tr(P P).
- DL: DerSimonian & Laird (1986) moment estimator,
  tau^2 = max(0, (Q_E - (k - p)) / tr(P_FE)),  P_FE = W - W X (X'WX)^-1 X'W at tau = 0.
- EE: equal (fixed) effects, tau = 0.
- Knapp & Hartung (2003, Stat Med 22:2693-710): se scaled by
  sqrt(sum w r^2 / (k - p)), t distribution with k - p df.
- Prediction interval at the reference levels (the intercept): mu +/- z sqrt(tau^2 + se^2)
  (metafor's default) and mu +/- t_{k-p-1} sqrt(tau^2 + se^2), i.e. t_{k-2} without
  covariates (Higgins, Thompson & Spiegelhalter 2009, JRSS A 172:137-59; Cochrane Handbook).
- I^2 = tau^2 / (tau^2 + s~^2), s~^2 = (k - p) / tr(P_FE) (Higgins & Thompson 2002);
  H^2 = (tau^2 + s~^2) / s~^2.
"""

from __future__ import annotations

import numpy as np
from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit

__all__ = ["rma"]


def _fit_given_tau2(y, v, X, tau2):
    W = 1.0 / (v + tau2)
    XtWX = X.T @ (W[:, None] * X)
    cov = np.linalg.inv(XtWX)
    b = cov @ (X.T @ (W * y))
    return b, cov, W


def _traces(W, X):
    """tr(P) and tr(P P) for P = W - W X (X'WX)^-1 X'W, in O(k p^2) (no k x k matrix)."""
    A = np.linalg.inv(X.T @ (W[:, None] * X))
    B2 = X.T @ ((W**2)[:, None] * X)
    B3 = X.T @ ((W**3)[:, None] * X)
    tr1 = float(W.sum() - np.trace(A @ B2))
    tr2 = float((W**2).sum() - 2 * np.trace(A @ B3) + np.trace(A @ B2 @ A @ B2))
    return tr1, tr2


def _reml_tau2(y, v, X):
    def nll(t2):
        b, cov, W = _fit_given_tau2(y, v, X, t2)
        r = y - X @ b
        return 0.5 * (np.sum(np.log(v + t2)) + np.linalg.slogdet(X.T @ (W[:, None] * X))[1] + np.sum(W * r * r))

    hi = max(10.0 * np.var(y) + 10 * np.max(v), 1.0)
    from scipy import optimize

    res = optimize.minimize_scalar(nll, bounds=(0.0, hi), method="bounded", options={"xatol": 1e-12})
    t2 = float(res.x)
    if nll(0.0) <= res.fun:
        t2 = 0.0
    return t2


def rma(y, v, X=None, method: str = "REML", coef_names=None, level: float = 0.95) -> dict:
    """Fit the random-effects model. y: effects (log-HR), v: sampling variances (se^2),
    X: design matrix (default: intercept only). Returns a dict with tau2, its se (REML), I2,
    H2, Q_E and its p, and per coefficient: estimate, se, Wald CI, Knapp-Hartung se and CI;
    for intercept-only models also the prediction intervals."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    k = len(y)
    with np.errstate(divide="ignore", over="ignore"):
        bad = ~(np.isfinite(v) & (v > 0) & np.isfinite(1.0 / v) & np.isfinite(1.0 / v**2))
    if bad.any():
        from ..errors import ModelError

        raise ModelError(f"study/studies at position(s) {', '.join(str(i + 1) for i in np.flatnonzero(bad))} have a "
                         f"standard error that is zero, not finite or too small to weight (se^2 = "
                         f"{', '.join(f'{x:.3g}' for x in v[bad])}); check the reported CI or se")
    X = np.ones((k, 1)) if X is None else np.asarray(X, float)
    p = X.shape[1]
    names = coef_names or (["mu"] + [f"b{j}" for j in range(1, p)])
    W0 = 1.0 / v
    b0, _, _ = _fit_given_tau2(y, v, X, 0.0)
    QE = float(np.sum(W0 * (y - X @ b0) ** 2))
    trP0, _ = _traces(W0, X)
    if method == "REML":
        tau2 = _reml_tau2(y, v, X)
    elif method == "DL":
        tau2 = max(0.0, (QE - (k - p)) / trP0)
    elif method in ("EE", "FE"):
        tau2 = 0.0
    else:
        raise ValueError(f"method must be REML, DL or EE, got {method!r}")
    b, cov, W = _fit_given_tau2(y, v, X, tau2)
    se = np.sqrt(np.diag(cov))
    z = ndtri((1 + level) / 2)
    r = y - X @ b
    df = k - p
    s2_kh = float(np.sum(W * r * r) / df) if df > 0 else np.nan
    se_kh = se * np.sqrt(s2_kh)
    tcrit = stdtrit(df, (1 + level) / 2) if df > 0 else np.nan
    s2_typ = (k - p) / trP0 if k > p else np.nan
    out = {
        "method": method, "k": k, "tau2": tau2, "tau": float(np.sqrt(tau2)),
        "I2": 100.0 * tau2 / (tau2 + s2_typ) if k > p else None,
        "H2": (tau2 + s2_typ) / s2_typ if k > p else None,
        "QE": QE, "QE_df": df, "QE_p": float(chdtrc(df, QE)) if df > 0 else None,
        "coefficients": {},
    }
    if method == "REML":
        out["tau2_se"] = float(np.sqrt(2.0 / _traces(W, X)[1]))
    for j, nm in enumerate(names):
        out["coefficients"][nm] = {
            "estimate": float(b[j]), "se": float(se[j]),
            "ci": [float(b[j] - z * se[j]), float(b[j] + z * se[j])],
            "p": float(2 * ndtr(-abs(b[j] / se[j]))),
            "se_kh": float(se_kh[j]), "ci_kh": [float(b[j] - tcrit * se_kh[j]), float(b[j] + tcrit * se_kh[j])],
            "p_kh": float(2 * stdtr(df, -abs(b[j] / se_kh[j]))) if df > 0 and se_kh[j] > 0 else None,
        }
    if p > 1:
        bm, cm = b[1:], cov[1:, 1:]
        out["QM"] = float(bm @ np.linalg.solve(cm, bm))
    # Truncated Knapp-Hartung (the "ad hoc" modification: scale factor at least 1; Roever,
    # Knapp & Friede 2015, BMC Med Res Methodol 15:99) next to the untruncated one above.
    se_kht = se * np.sqrt(max(1.0, s2_kh)) if df > 0 else np.full(p, np.nan)
    for j, nm in enumerate(names):
        c = out["coefficients"][nm]
        c["se_kh_truncated"] = float(se_kht[j])
        c["ci_kh_truncated"] = [float(b[j] - tcrit * se_kht[j]), float(b[j] + tcrit * se_kht[j])]
    # Headline: the intercept = mean log-HR at the reference levels (the pooled mean without
    # covariates), with its prediction intervals.
    mu, s = float(b[0]), float(se[0])
    out["mu"], out["se"], out["ci"] = mu, s, out["coefficients"][names[0]]["ci"]
    out["ci_kh"] = out["coefficients"][names[0]]["ci_kh"]
    out["ci_kh_truncated"] = out["coefficients"][names[0]]["ci_kh_truncated"]
    sp = np.sqrt(tau2 + s * s)
    out["pi"] = [mu - z * sp, mu + z * sp]
    dfp = k - p - 1  # k - 2 without covariates (Higgins et al. 2009)
    if dfp >= 1:
        t2 = stdtrit(dfp, (1 + level) / 2)
        out["pi_t"] = [mu - t2 * sp, mu + t2 * sp]
        out["pi_t_df"] = dfp
    return out


def _hr(x):
    """exp of a log-HR interval/value; None where exp overflows (never inf in a summary)."""
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [_hr(v) for v in x]
    with np.errstate(over="ignore"):
        v = float(np.exp(x))
    return v if np.isfinite(v) else None


def comparator(y, v, X, coef_names) -> dict:
    """The block written to summary.json, per method ("REML", "DL"): the same model as the
    Bayesian fit (with covariates: the same meta-regression, headline at the reference
    levels), on the log-HR scale and as HRs:

    - hr, hr_ci: Wald 95% CI (z);
    - hr_ci_kh: Knapp-Hartung CI, untruncated (t_{k-p}, scale factor as estimated);
      hr_ci_kh_truncated: the same with the scale factor truncated at 1;
    - hr_pi_t: the prediction interval as in the Cochrane Handbook, mu +/- t_{k-p-1}
      sqrt(tau^2 + se^2) (t_{k-2} without covariates; Higgins, Thompson & Spiegelhalter 2009);
      null when k - p - 1 < 1; pi_t_df its degrees of freedom;
    - hr_pi_z: the z-based interval (metafor's default); hr_pi is kept as an alias of it;
    - tau2, I2 (%), QE, QE_p (residual heterogeneity with covariates), labels: a dict of
      plain-words names of the intervals, for the report.
    Values that overflow (exp of a huge log-HR) are null, never inf."""
    out = {}
    Xm = X if X.shape[1] > 1 and len(y) > X.shape[1] else None
    for method in ("REML", "DL"):
        f = rma(y, v, Xm, method, coef_names if Xm is not None else None)
        blk = {"mu": f["mu"], "se": f["se"], "ci": f["ci"], "ci_kh": f["ci_kh"],
               "ci_kh_truncated": f["ci_kh_truncated"], "pi": f["pi"], "pi_z": f["pi"],
               "pi_t": f.get("pi_t"), "pi_t_df": f.get("pi_t_df"),
               "tau2": f["tau2"], "I2": f["I2"], "QE": f["QE"], "QE_p": f["QE_p"],
               "hr": _hr(f["mu"]), "hr_ci": _hr(f["ci"]), "hr_ci_kh": _hr(f["ci_kh"]),
               "hr_ci_kh_truncated": _hr(f["ci_kh_truncated"]),
               "hr_pi": _hr(f["pi"]), "hr_pi_z": _hr(f["pi"]), "hr_pi_t": _hr(f.get("pi_t")),
               "covariates": Xm is not None,
               "labels": {"hr_ci": "95% CI (Wald, z)",
                          "hr_ci_kh": "95% CI (Knapp-Hartung, untruncated)",
                          "hr_ci_kh_truncated": "95% CI (Knapp-Hartung, truncated at 1)",
                          "hr_pi_t": (f"95% prediction interval (t with {f['pi_t_df']} df, as in the Cochrane Handbook)"
                                      if f.get("pi_t_df") else "95% prediction interval (t): needs at least 3 studies"),
                          "hr_pi_z": "95% prediction interval (z, metafor's default)"}}
        out[method] = blk
    if Xm is not None:
        f = rma(y, v, X, "REML", coef_names)
        out["REML_regression"] = {"tau2": f["tau2"], "QM": f.get("QM"), "coefficients": f["coefficients"]}
    return out
