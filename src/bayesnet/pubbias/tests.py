"""Small-study (funnel-plot asymmetry) tests on log hazard ratios.

- Egger's regression test as metafor's ``regtest`` default (Egger et al. 1997, BMJ
  315:629; Sterne & Egger 2005): the random-effects meta-regression (REML)
  y_i ~ N(b0 + b1 se_i, se_i^2 + tau^2); the test is the Wald z of b1; b0 is the
  "limit estimate" (the log-HR of a study with se = 0). The z test is anti-conservative
  with few studies, so the block also carries Egger's classic small-sample version
  (``small_sample``): weighted least squares of y on se with weights 1 / se^2 and a
  multiplicative dispersion phi = sum w r^2 / (k - 2), t = b1 / sqrt(phi [(X'WX)^-1]_11)
  with k - 2 df (the regression of y / se on 1 / se of Egger 1997; metafor
  ``regtest(model = "lm")``). With every standard error the same, se cannot be
  separated from the intercept: the test is undefined (an `UndefinedTest`).
- Debray, Moons & Riley (2018, Res Synth Methods 9:41-50): weighted least squares of the
  log-HR on 1 / (total events) with a multiplicative dispersion (t test, k - 2 df). With
  events per arm the weights are the asymptotic precisions 1 / (1/d_t + 1/d_c) ("D-FAV",
  the test the paper recommends); with only the total, the inverse variances 1 / se^2
  ("D-FIV"). Equals metafor's ``regtest(model = "lm", predictor = "ninv", ni = events)``.

Every result says how many studies it rests on and, in plain words, what a test at this k
can and cannot show (Sterne et al. 2011, BMJ 343:d4002: at least 10 studies).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, stdtr

from ..engines.frequentist import rma
from ..errors import ModelError

__all__ = ["MIN_STUDIES", "UndefinedTest", "debray_test", "egger_test", "power_sentence"]

MIN_STUDIES = 10


class UndefinedTest(ModelError):
    """A regression test that these data cannot define (e.g. every standard error equal)."""


def power_sentence(k: int, test: str) -> str:
    """A plain sentence on what `test` can show with k studies (Sterne et al. 2011)."""
    if k < MIN_STUDIES:
        return (f"With {k} studies, {test} has too little power to detect small-study effects: "
                f"it cannot rule publication bias in or out (at least {MIN_STUDIES} studies are needed).")
    return (f"With {k} studies, {test} has limited power: a non-significant result does not rule out "
            f"small-study effects, and a significant one can also come from heterogeneity.")


def _check(y, s, what: str):
    y, s = np.asarray(y, float), np.asarray(s, float)
    if y.shape != s.shape or y.ndim != 1:
        raise ModelError(f"{what}: log-HRs and standard errors must be two lists of the same length")
    if len(y) < 3:
        raise ModelError(f"{what} needs at least 3 studies (got {len(y)}): a slope and an intercept "
                         f"cannot be tested on fewer")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ModelError(f"{what}: every log-HR must be finite and every standard error > 0")
    return y, s


def egger_test(y, s) -> dict:
    """Egger's test as metafor ``regtest(yi, vi)``: REML meta-regression on se, Wald z of the
    slope. y: log-HRs, s: their standard errors. Returns k, z, p (two-sided), the slope and
    its se, tau2, the limit estimate (log-HR and HR, with 95% CI) and a power sentence."""
    y, s = _check(y, s, "Egger's test")
    k = len(y)
    if np.ptp(s) <= 1e-9 * float(np.max(s)):
        raise UndefinedTest(f"Egger's test is undefined here: all {k} studies have the same standard error "
                            f"({float(s[0]):.4g}), so a trend of the log-HR with its standard error cannot be "
                            f"estimated (nor small-study effects tested this way)")
    f = rma(y, s**2, np.column_stack([np.ones(k), s]), "REML", ["intercept", "sei"])
    b1, b0 = f["coefficients"]["sei"], f["coefficients"]["intercept"]
    z = b1["estimate"] / b1["se"]
    return {"k": k, "z": float(z), "p": float(2 * ndtr(-abs(z))), "slope": b1["estimate"], "slope_se": b1["se"],
            "tau2": f["tau2"], "limit_log_hr": b0["estimate"], "limit_ci": b0["ci"],
            "limit_hr": float(np.exp(b0["estimate"])), "limit_hr_ci": [float(np.exp(c)) for c in b0["ci"]],
            "method": "metafor regtest default: rma (REML), predictor sei, z test",
            "small_sample": _egger_classic(y, s),
            "power": power_sentence(k, "Egger's test")}


def _egger_classic(y, s) -> dict:
    """Egger's classic test (module docstring): {t, df, p, slope, slope_se, limit_log_hr,
    method}; t and p are None when the studies lie exactly on the line (phi = 0)."""
    k = len(y)
    w = 1.0 / s**2
    X = np.column_stack([np.ones(k), s])
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    b = cov @ (X.T @ (w * y))
    r = y - X @ b
    df = k - 2
    phi = float(np.sum(w * r * r) / df)
    se = float(np.sqrt(phi * cov[1, 1]))
    t = float(b[1] / se) if se > 0 else None
    return {"t": t, "df": df, "p": None if t is None else float(2 * stdtr(df, -abs(t))), "slope": float(b[1]),
            "slope_se": se, "limit_log_hr": float(b[0]),
            "method": "Egger 1997: weighted regression on se, multiplicative dispersion, t test with k - 2 df "
                      "(metafor regtest model = \"lm\")"}


def debray_test(y, s, events_total=None, events_treated=None, events_control=None) -> dict:
    """Debray, Moons & Riley (2018) test: WLS of the log-HR on 1 / (total events) with a
    multiplicative dispersion phi = sum w r^2 / (k - 2); t = slope / sqrt(phi [(X'WX)^-1]_11),
    p from Student t with k - 2 df. Weights: 1 / (1/d_t + 1/d_c) when both arms' events are
    given (D-FAV), else 1 / se^2 (D-FIV). Studies without events must be left out by the
    caller; the result says how many it used."""
    y, s = _check(y, s, "Debray's test")
    k = len(y)
    if events_treated is not None and events_control is not None:
        dt, dc = np.asarray(events_treated, float), np.asarray(events_control, float)
        if dt.shape != y.shape or dc.shape != y.shape or not (np.all(dt > 0) and np.all(dc > 0)):
            raise ModelError("Debray's test: events_treated and events_control must be > 0 for every study")
        d, w, variant = dt + dc, 1.0 / (1.0 / dt + 1.0 / dc), "D-FAV"
    elif events_total is not None:
        d = np.asarray(events_total, float)
        if d.shape != y.shape or not np.all(d > 0):
            raise ModelError("Debray's test: the total number of events must be > 0 for every study")
        w, variant = 1.0 / s**2, "D-FIV"
    else:
        raise ModelError("Debray's test needs the number of events (total, or per arm) of every study")
    if np.ptp(d) <= 1e-9 * float(np.max(d)):
        raise UndefinedTest(f"Debray's test is undefined here: all {k} studies have the same number of events "
                            f"({float(d[0]):g}), so a trend of the log-HR with 1 / events cannot be estimated")
    X = np.column_stack([np.ones(k), 1.0 / d])
    XtWX = X.T @ (w[:, None] * X)
    cov = np.linalg.inv(XtWX)
    b = cov @ (X.T @ (w * y))
    r = y - X @ b
    df = k - 2
    phi = float(np.sum(w * r * r) / df)
    se = np.sqrt(phi * cov[1, 1])
    t = float(b[1] / se)
    return {"k": k, "t": t, "df": df, "p": float(2 * stdtr(df, -abs(t))), "slope": float(b[1]),
            "slope_se": float(se), "variant": variant,
            "method": "weighted least squares of log-HR on 1/total events, multiplicative dispersion",
            "power": power_sentence(k, "Debray's test")}
