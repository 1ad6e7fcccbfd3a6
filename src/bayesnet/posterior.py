"""The one results object both engines return.

A `Posterior` holds one `Marginal` per named quantity. A marginal answers every question
(pdf, cdf = probabilities, quantile, shortest interval `hpd`, mean, sd) in the same way
whether it is an exact mixture of normals (exact engine), a density on a grid (tau under
the exact engine) or MCMC draws. Summaries (`bayesnet.summaries`) are computed from
marginals by a single code path, so both engines report the same things the same way.

Every marginal has an explicit `scale`:
    "log"  a log hazard ratio (or a difference of log-HRs, for coefficients);
    "hr"   the same quantity as a hazard ratio (a view: ``m.on("hr")``);
    "raw"  a quantity that is not a ratio (tau, omega, I^2): no HR view.

Quantity keys (log-HR scale unless stated):
    ("pooled",)                        mean log-HR at the reference levels (mu)
    ("predictive",)                    log-HR of a new study at the reference levels
    ("stratum", cov, level)            mean log-HR at a covariate level
    ("stratum_predictive", cov, level) new study at that level
    ("coef", name)                     a regression coefficient (difference in log-HR)
    ("study", name)                    shrunken study effect theta_i
    ("tau",)  or ("tau", level)        between-study SD (log-HR scale)     scale "raw"
    ("omega",)                         between-population SD               scale "raw"
    ("i2",)                            tau^2 / (tau^2 + s~^2) (Higgins & Thompson 2002), "raw"
"""

from __future__ import annotations

import abc
import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import ndtr, ndtri

if TYPE_CHECKING:
    from .evidence import EvidenceTable
    from .models import ModelData
    from .spec import Spec

__all__ = ["DrawsMarginal", "GridMarginal", "HRMarginal", "Marginal", "MixtureMarginal", "Posterior",
           "mixture_hpd_bounds", "mixture_quantiles",
           "prefetch_mixture_summaries", "shortest_interval"]

_SQRT2PI = np.sqrt(2.0 * np.pi)
SCALES = ("log", "hr", "raw")
NON_RATIO = ("tau", "omega", "i2", "tau_sd", "tau_scale")  # quantity kinds on scale "raw"

# Gauss-Hermite (probabilists') nodes and weights for E[f(X)] under each normal component
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(60)
_GH_W = _GH_W / _GH_W.sum()


def _identity(v):
    return v


def check_probabilities(probs, what: str = "quantile") -> np.ndarray:
    """`probs` as an array after checking each is a number in [0, 1] (a ValueError that
    says so otherwise): the one check of every engine's quantile()."""
    try:
        p = np.asarray(probs, float)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: probabilities must be numbers in [0, 1], got {probs!r}") from None
    if not np.all((p >= 0.0) & (p <= 1.0)):
        bad = [v for v in np.atleast_1d(p).tolist() if not 0.0 <= v <= 1.0]
        raise ValueError(f"{what}: probabilities must be numbers in [0, 1], got {bad[0]!r}")
    return p


def check_level(prob, what: str = "hpd") -> float:
    """An interval's probability `prob` after checking it is a number strictly between 0
    and 1 (a ValueError otherwise): the one check of every engine's hpd()."""
    ok = isinstance(prob, (int, float, np.floating, np.integer)) and not isinstance(prob, bool)
    if not ok or not 0.0 < float(prob) < 1.0:
        raise ValueError(f"{what}: the interval's probability must be a number strictly between 0 and 1 "
                         f"(e.g. 0.95), got {prob!r}")
    return float(prob)


def shortest_interval(m: Marginal, prob: float = 0.95, transform: Callable = _identity) -> tuple[float, float]:
    """Shortest interval with `prob` mass of transform(X), X ~ m, for a monotone increasing
    `transform`: minimise transform(Q(p + prob)) - transform(Q(p)) over p in [0, 1 - prob]
    (golden-section search, 40 steps; unimodal densities). Returns the bounds on the
    transformed scale; p = 0 when the density decreases over the whole support."""
    prob = check_level(prob)
    a, b = 0.0, 1.0 - prob
    gr = (np.sqrt(5.0) - 1.0) / 2.0

    def width(p):
        q = m.quantile([p, p + prob])
        return transform(q[1]) - transform(q[0])

    c, d = b - gr * (b - a), a + gr * (b - a)
    fc, fd = width(c), width(d)
    for _ in range(40):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - gr * (b - a)
            fc = width(c)
        else:
            a, c, fc = c, d, fd
            d = a + gr * (b - a)
            fd = width(d)
    p = (a + b) / 2.0
    w0 = width(0.0)
    if w0 <= min(fc, fd):  # monotone decreasing density (e.g. tau piling up at 0)
        p = 0.0
    q = m.quantile([p, p + prob])
    return float(transform(q[0])), float(transform(q[1]))


class Marginal(abc.ABC):
    """A univariate posterior distribution on an explicit `scale` ("log", "hr" or "raw").

    pdf(x), cdf(x) and quantile(p) are vectorised; mean() and sd() are the posterior mean
    and SD; hpd(prob) the shortest interval holding `prob` of the mass (computed on this
    scale's own density); median() = quantile(0.5).

    ``m.on("hr")`` is the same quantity as a hazard ratio, HR = exp(theta), for a marginal
    of a log-HR theta (scale "log"); ``m.on("log")`` goes back. On the HR scale:
        pdf_HR(h)      = pdf(log h) / h                  (h > 0)
        cdf_HR(h)      = cdf(log h)                      (so P(HR < 0.8) = m.cdf(log 0.8))
        quantile_HR(p) = exp(quantile(p))                (quantiles commute with exp)
        mean_HR        = E[exp(theta)]                   (not exp(E[theta]))
        sd_HR          = sqrt(E[exp(2 theta)] - E[exp(theta)]^2)
        hpd_HR         = shortest interval of the HR density (not exp of the log-scale HPD)
    Quantities that are not ratios (tau, omega, I^2) have scale "raw" and no HR view."""

    scale: str = "log"

    @abc.abstractmethod
    def pdf(self, x) -> np.ndarray:
        """Posterior density at x (on this marginal's scale)."""

    @abc.abstractmethod
    def cdf(self, x) -> np.ndarray:
        """P(X <= x)."""

    @abc.abstractmethod
    def quantile(self, probs) -> np.ndarray:
        """The inverse of cdf at each probability."""

    @abc.abstractmethod
    def moments(self, f: Callable = _identity) -> tuple[float, float]:
        """Mean and SD of f(X)."""

    def mean(self) -> float:
        """Posterior mean."""
        return self.moments()[0]

    def sd(self) -> float:
        """Posterior standard deviation."""
        return self.moments()[1]

    def median(self) -> float:
        return float(self.quantile([0.5])[0])

    def hpd(self, prob: float = 0.95) -> tuple[float, float]:
        """Shortest interval with `prob` mass (see `shortest_interval`)."""
        return shortest_interval(self, prob)

    def on(self, scale: str) -> Marginal:
        """This quantity on `scale` ("log" or "hr" for ratios; "raw" for tau, omega, I^2)."""
        if scale == self.scale:
            return self
        if self.scale == "log" and scale == "hr":
            return HRMarginal(self)
        allowed = ("log", "hr") if self.scale in ("log", "hr") else ("raw",)
        raise ValueError(f"scale must be one of {', '.join(allowed)} for this quantity, got {scale!r}")

    # hooks of the HR view (HRMarginal); subclasses override them with exact formulas
    def _exp_moments(self) -> tuple[float, float]:
        return self.moments(np.exp)

    def _exp_hpd(self, prob: float) -> tuple[float, float]:
        return shortest_interval(self, prob, np.exp)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(scale={self.scale!r}, median={self.median():.4g}, "
                f"mean={self.mean():.4g}, sd={self.sd():.4g})")


class HRMarginal(Marginal):
    """The hazard ratio exp(theta) of a log-HR marginal `base` (see `Marginal.on`)."""

    scale = "hr"

    def __init__(self, base: Marginal):
        if base.scale != "log":
            raise ValueError(f"an HR view needs a log-scale marginal, got scale {base.scale!r}")
        self.base = base

    def pdf(self, x) -> np.ndarray:
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, self.base.pdf(np.log(np.maximum(x, 1e-300))) / np.where(x > 0, x, 1.0), 0.0)

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, float)
        with np.errstate(divide="ignore"):
            return np.where(x > 0, self.base.cdf(np.log(np.maximum(x, 0.0))), 0.0)

    def quantile(self, probs) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.exp(self.base.quantile(probs))

    def moments(self, f: Callable = _identity) -> tuple[float, float]:
        if f is _identity:
            return self.base._exp_moments()
        return self.base.moments(lambda v: f(np.exp(v)))

    def hpd(self, prob: float = 0.95) -> tuple[float, float]:
        return self.base._exp_hpd(check_level(prob))

    def on(self, scale: str) -> Marginal:
        return self.base if scale == "log" else super().on(scale)


def _mix_cdf(x, m, s, w):
    """Mixture CDF sum_g w_g Phi((x - m_g) / s_g); x (..., P), m and s (..., G), w (G,)."""
    return ndtr((x[..., None] - m[..., None, :]) / s[..., None, :]) @ w


def _mix_pdf(x, m, s, w, deriv: bool = False):
    z = (x[..., None] - m[..., None, :]) / s[..., None, :]
    phi = np.exp(-0.5 * z * z) / (s[..., None, :] * _SQRT2PI)
    if not deriv:
        return phi @ w
    return phi @ w, (phi * (-z / s[..., None, :])) @ w


def mixture_quantiles(m, s, w, probs) -> np.ndarray:
    """Quantiles of normal mixtures sum_g w_g N(m_g, s_g^2) sharing the weights w, for many
    mixtures at once: m and s of shape (n, G) (or (G,)), probs (P,) or (n, P). Newton's
    method on the CDF, started from the moment-matched normal and kept inside a bisection
    bracket; converges to |F(x) - p| < 1e-13. Returns shape (n, P) (or (P,))."""
    m, s, w = np.asarray(m, float), np.asarray(s, float), np.asarray(w, float)
    single = m.ndim == 1
    m2, s2 = np.atleast_2d(m), np.atleast_2d(s)
    p = np.clip(np.asarray(probs, float), 1e-15, 1 - 1e-15)
    p = np.broadcast_to(p, (m2.shape[0], p.shape[-1])) if p.ndim <= 1 else p
    mu = m2 @ w
    sd = np.sqrt(np.maximum((s2**2 + m2**2) @ w - mu**2, 0.0))
    lo = np.broadcast_to(np.min(m2 - 40 * s2, axis=1)[:, None], p.shape).copy()
    hi = np.broadcast_to(np.max(m2 + 40 * s2, axis=1)[:, None], p.shape).copy()
    x = np.clip(mu[:, None] + sd[:, None] * ndtri(p), lo, hi)
    for _ in range(100):
        f = _mix_cdf(x, m2, s2, w) - p
        active = np.abs(f) > 1e-13
        if not np.any(active):
            break
        lo = np.where(active & (f < 0), x, lo)
        hi = np.where(active & (f > 0), x, hi)
        d = _mix_pdf(x, m2, s2, w)
        xn = x - np.where(d > 0, f / np.maximum(d, 1e-300), 0.0)
        bad = (xn < lo) | (xn > hi) | ~np.isfinite(xn)
        x = np.where(active, np.where(bad, 0.5 * (lo + hi), xn), x)
    return x[0] if single else x


def mixture_hpd_bounds(m, s, w, a, b, prob: float, c: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Shortest `prob` intervals [a, b] of n normal mixtures sharing the weights w (m and s
    of shape (n, G)) for the density g(x) = f(x) e^(-c x): F(b) - F(a) = prob and
    log g(a) = log g(b). Newton's method on both equations together (2 x 2 Jacobian from
    f and f'), from the starting bounds a, b (n,) (the equal-tailed interval), until
    |F(b) - F(a) - prob| < 1e-13 and |log g(a) - log g(b)| < 1e-10. A mixture for which
    this fails (a non-positive density, bounds that are not on either side of a mode,
    crossing bounds, 60 steps) gets NaN bounds: the caller decides (`_hpd_search`)."""
    m2, s2 = np.atleast_2d(np.asarray(m, float)), np.atleast_2d(np.asarray(s, float))
    w = np.asarray(w, float)
    a, b = np.array(a, float).reshape(-1), np.array(b, float).reshape(-1)
    active = np.ones(a.shape, bool)
    done = np.zeros(a.shape, bool)
    for _ in range(60):
        idx = np.flatnonzero(active)
        if not idx.size:
            break
        x = np.stack([a[idx], b[idx]], axis=1)
        F = _mix_cdf(x, m2[idx], s2[idx], w)
        f, d = _mix_pdf(x, m2[idx], s2[idx], w, deriv=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            r1 = F[:, 1] - F[:, 0] - prob
            r2 = np.log(f[:, 0]) - np.log(f[:, 1]) - c * (x[:, 0] - x[:, 1])
            ha, hb = d[:, 0] / f[:, 0] - c, d[:, 1] / f[:, 1] - c
            ok = (f[:, 0] > 0) & (f[:, 1] > 0) & (ha > 0) & (hb < 0)
            conv = ok & (np.abs(r1) < 1e-13) & (np.abs(r2) < 1e-10)
            det = f[:, 0] * hb - f[:, 1] * ha
            da, db = (r1 * hb + r2 * f[:, 1]) / det, (r2 * f[:, 0] + r1 * ha) / det
        step = ok & ~conv & np.isfinite(da) & np.isfinite(db) & (x[:, 0] + da < x[:, 1] + db)
        done[idx[conv]] = True
        active[idx[~step]] = False
        a[idx[step]] += da[step]
        b[idx[step]] += db[step]
    a[~done], b[~done] = np.nan, np.nan
    return a, b


def prefetch_mixture_summaries(margs, prob: float = 0.95, probs=(0.5, 0.025, 0.975), hpd_of=None) -> None:
    """Solve the quantiles `probs` of every MixtureMarginal in `margs`, and the `prob`
    shortest intervals (log and HR scale) of those also in `hpd_of` (default: all), one vectorised pass per group of mixtures
    sharing their weights (the exact engine's marginals all do), and remember them on
    each marginal: later quantile()/hpd() calls for these probabilities are lookups, with
    the same numbers as solving each marginal on its own."""
    groups: dict[int, list[MixtureMarginal]] = {}
    for mg in margs:
        if isinstance(mg, MixtureMarginal):
            groups.setdefault(id(mg.w), []).append(mg)
    tails = ((1 - prob) / 2, (1 + prob) / 2)
    want = list(dict.fromkeys([*map(float, probs), *tails]))
    for grp in groups.values():
        grp = [g for g in grp if g.w.shape == grp[0].w.shape and np.array_equal(g.w, grp[0].w)]
        if len(grp) < 2:
            continue
        m, s, w = np.stack([g.m for g in grp]), np.stack([g.s for g in grp]), grp[0].w
        if not all(p in g.__dict__.get("_q", {}) for g in grp for p in want):
            q = mixture_quantiles(m, s, w, np.array(want))
            for g, row in zip(grp, q):
                memo = g.__dict__.setdefault("_q", {})
                for p, v in zip(want, row.tolist()):
                    memo.setdefault(p, v)
        sel = [i for i, g in enumerate(grp) if hpd_of is None or any(g is h for h in hpd_of)]
        if not sel:
            continue
        lo = np.array([grp[i]._q[tails[0]] for i in sel])
        hi = np.array([grp[i]._q[tails[1]] for i in sel])
        for c in (0.0, 1.0):
            a, b = mixture_hpd_bounds(m[sel], s[sel], w, lo, hi, prob, c)
            for g, ai, bi in zip([grp[i] for i in sel], a.tolist(), b.tolist()):
                if math.isfinite(ai) and (prob, c) not in g.__dict__.get("_h", {}):
                    g.__dict__.setdefault("_h", {}).setdefault((prob, c), (ai, bi))


class MixtureMarginal(Marginal):
    """sum_g w_g N(m_g, s_g^2): the exact engine's marginal of any linear function of
    beta, theta_i or theta_new (Roever 2020, J Stat Softw 93(6), section 2)."""

    def __init__(self, m: np.ndarray, s: np.ndarray, w: np.ndarray, scale: str = "log"):
        self.m, self.s, self.w = np.asarray(m, float), np.asarray(s, float), np.asarray(w, float)
        self.scale = scale
        self._mu = float(self.w @ self.m)
        self._sd = float(np.sqrt(self.w @ (self.s**2 + self.m**2) - self._mu**2))

    def mean(self) -> float:
        return self._mu

    def sd(self) -> float:
        return self._sd

    def moments(self, f: Callable = _identity) -> tuple[float, float]:
        """Mean and SD of f(X): exact for the identity, otherwise Gauss-Hermite quadrature
        with 60 nodes per component."""
        if f is _identity:
            return self._mu, self._sd
        v = f(self.m[:, None] + self.s[:, None] * _GH_X[None, :])
        e1 = float(self.w @ (v @ _GH_W))
        e2 = float(self.w @ ((v * v) @ _GH_W))
        return e1, math.sqrt(max(e2 - e1 * e1, 0.0))

    def _exp_moments(self) -> tuple[float, float]:
        """Lognormal moments: E[e^X] = sum w e^(m + s^2/2), E[e^2X] = sum w e^(2m + 2s^2)."""
        with np.errstate(over="ignore", invalid="ignore"):
            e1 = float(self.w @ np.exp(self.m + self.s**2 / 2))
            e2 = float(self.w @ np.exp(2 * self.m + 2 * self.s**2))
            if not (math.isfinite(e1) and math.isfinite(e2)) or e1 > 1e150:  # beyond float range: no finite sd
                return e1, math.inf
            return e1, float(np.sqrt(max(e2 - e1 * e1, 0.0)))

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, float)
        return (ndtr((x[..., None] - self.m) / self.s) * self.w).sum(-1)

    def pdf(self, x) -> np.ndarray:
        x = np.asarray(x, float)
        z = (x[..., None] - self.m) / self.s
        return (np.exp(-0.5 * z * z) / (self.s * _SQRT2PI) * self.w).sum(-1)

    def quantile(self, probs) -> np.ndarray:
        """Newton's method on the mixture CDF (see `mixture_quantiles`). Each probability is
        solved once per marginal: summaries ask for the same 2.5%, 50% and 97.5% points on
        the log and HR scales and as HPD starting points."""
        p = np.atleast_1d(check_probabilities(probs))
        memo = self.__dict__.setdefault("_q", {})
        todo = [v for v in dict.fromkeys(p.tolist()) if v not in memo]
        if todo:
            memo.update(zip(todo, mixture_quantiles(self.m, self.s, self.w, np.array(todo)).tolist()))
        return np.array([memo[v] for v in p.tolist()]).reshape(np.shape(probs))

    def hpd(self, prob: float = 0.95) -> tuple[float, float]:
        """Shortest interval [a, b] of a unimodal mixture: F(b) - F(a) = prob and f(a) = f(b)."""
        a, b = self._hpd_bounds(check_level(prob), 0.0)
        return float(a), float(b)

    def _exp_hpd(self, prob: float) -> tuple[float, float]:
        """Shortest HR interval: bounds where the HR density f(x) e^-x is equal."""
        a, b = self._hpd_bounds(prob, 1.0)
        with np.errstate(over="ignore"):
            return float(np.exp(a)), float(np.exp(b))

    def _hpd_bounds(self, prob: float, c: float) -> tuple[float, float]:
        """Bounds (a, b) on the log scale with F(b) - F(a) = prob and g(a) = g(b) for the
        density g(x) = f(x) e^(-c x) (c = 0: this scale; c = 1: the HR density in x = log HR),
        by `mixture_hpd_bounds`; when that does not converge to an interior shortest
        interval (e.g. a density decreasing over the support), `_hpd_search` decides.
        Remembered per (prob, c)."""
        memo = self.__dict__.setdefault("_h", {})
        if (prob, c) not in memo:
            x = self.quantile([(1 - prob) / 2, (1 + prob) / 2])
            a, b = mixture_hpd_bounds(self.m, self.s, self.w, x[:1], x[1:], prob, c)
            memo[prob, c] = (float(a[0]), float(b[0])) if np.isfinite(a[0]) else self._hpd_search(prob, c)
        return memo[prob, c]

    def _hpd_search(self, prob: float, c: float) -> tuple[float, float]:
        """Fallback: a = Q(p), b = Q(p + prob) with g(a) = g(b) found by Brent's method on p;
        p = 0 (or 1 - prob) when g decreases (increases) over the support."""
        from scipy.optimize import brentq

        def phi(p):
            a, b = self.quantile([p, p + prob])
            return float(self.pdf(a) * math.exp(-c * a) - self.pdf(b) * math.exp(-c * b))

        edge = 1.0 - prob
        lo, hi = 0.04 * edge, 0.96 * edge
        flo, fhi = phi(lo), phi(hi)
        if flo < 0 < fhi:
            p = brentq(phi, lo, hi, xtol=1e-9)
        else:
            lo2, hi2 = 1e-12, edge - 1e-12
            flo2, fhi2 = (phi(lo2) if flo >= 0 else flo), (phi(hi2) if fhi <= 0 else fhi)
            if flo2 >= 0:  # density decreasing over the support
                p = 0.0
            elif fhi2 <= 0:
                p = edge
            else:
                a, b = (lo2, lo) if flo >= 0 else (hi, hi2)
                p = brentq(phi, a, b, xtol=1e-12)
        q = self.quantile([p, p + prob])
        return float(q[0]), float(q[1])


class GridMarginal(Marginal):
    """A density tabulated on a grid (the exact engine's marginal of tau): CDF by the
    trapezoid rule, quantiles by inverting it with linear interpolation."""

    def __init__(self, x: np.ndarray, pdf: np.ndarray, scale: str = "log"):
        self.x = np.asarray(x, float)
        self.scale = scale
        dens = np.asarray(pdf, float)
        cum = np.concatenate([[0.0], np.cumsum(np.diff(self.x) * (dens[1:] + dens[:-1]) / 2)])
        self.dens = dens / cum[-1]
        self.cum = cum / cum[-1]

    def _moment(self, f) -> float:
        y = f(self.x) * self.dens
        return float(np.sum(np.diff(self.x) * (y[1:] + y[:-1]) / 2))

    def moments(self, f: Callable = _identity) -> tuple[float, float]:
        """Mean and SD of f(X) by the trapezoid rule on the grid."""
        m = self._moment(f)
        return m, float(np.sqrt(max(self._moment(lambda v: f(v) ** 2) - m * m, 0.0)))

    def cdf(self, x) -> np.ndarray:
        return np.interp(np.asarray(x, float), self.x, self.cum, left=0.0, right=1.0)

    def pdf(self, x) -> np.ndarray:
        return np.interp(np.asarray(x, float), self.x, self.dens, left=0.0, right=0.0)

    def quantile(self, probs) -> np.ndarray:
        p = check_probabilities(probs)
        inv = self.__dict__.get("_inv")
        if inv is None:  # strictly increasing cumulative for inversion (computed once)
            cum, idx = np.unique(self.cum, return_index=True)
            inv = self._inv = (cum, self.x[idx])
        return np.interp(p, *inv)

    def transformed(self, f: Callable, x_new: np.ndarray | None = None) -> GridMarginal:
        """The marginal of f(X) for monotone increasing f (e.g. I^2 from tau), same scale."""
        new = object.__new__(GridMarginal)
        new.x, new.cum, new.scale = f(self.x), self.cum, self.scale
        dx = np.gradient(new.x, self.x)
        with np.errstate(divide="ignore", invalid="ignore"):
            new.dens = np.where(dx > 0, self.dens / dx, 0.0)
        return new


class DrawsMarginal(Marginal):
    """MCMC draws with dims (chain, draw). Density: the KDE of arviz-stats
    (``array_stats.kde``, its default bandwidth, range extended beyond the draws);
    shortest interval: ArviZ's HDI of the draws; quantiles and CDF: empirical."""

    def __init__(self, draws: np.ndarray, scale: str = "log"):
        self.draws = np.asarray(draws, float)
        if self.draws.ndim == 1:
            self.draws = self.draws[None, :]
        self.scale = scale
        self._kde = None

    def moments(self, f: Callable = _identity) -> tuple[float, float]:
        """Mean and SD (ddof = 1) of f(draws)."""
        d = f(self.draws)
        return float(d.mean()), float(d.std(ddof=1))

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, float)
        return (self.draws.ravel() <= x[..., None]).mean(-1)

    def quantile(self, probs) -> np.ndarray:
        return np.quantile(self.draws.ravel(), check_probabilities(probs))

    def pdf(self, x) -> np.ndarray:
        """KDE of the draws (arviz-stats), linearly interpolated from its 512-point grid;
        zero beyond the grid."""
        if self._kde is None:
            from arviz_stats.base import array_stats

            grid, dens, _ = array_stats.kde(self.draws.ravel(), extend=True)
            self._kde = (np.asarray(grid, float), np.asarray(dens, float))
        grid, dens = self._kde
        return np.interp(np.asarray(x, float), grid, dens, left=0.0, right=0.0)

    @staticmethod
    def _hdi(v: np.ndarray, prob: float) -> tuple[float, float]:
        import arviz as az
        import xarray as xr

        ds = xr.Dataset({"q": (("chain", "draw"), v)})
        h = az.hdi(ds, prob=prob)["q"].values
        return float(h[0]), float(h[1])

    def hpd(self, prob: float = 0.95) -> tuple[float, float]:
        """ArviZ's HDI (narrowest interval holding `prob` of the draws)."""
        return self._hdi(self.draws, check_level(prob))

    def _exp_hpd(self, prob: float) -> tuple[float, float]:
        with np.errstate(over="ignore"):
            return self._hdi(np.exp(self.draws), prob)


class _Extras(dict):
    """``Posterior.extras``: engine-specific working data (the exact engine's tau
    components and weights, the bias constants). The keys of the typed fields are kept as
    deprecated aliases that read and write those fields: "unadjusted" (``as_reported``),
    "frequentist", "idata" (``draws``) and "input_sha256"."""

    _FIELDS = {"unadjusted": "as_reported", "frequentist": "frequentist", "idata": "draws",
               "input_sha256": "input_sha256"}

    def __init__(self, owner, data=()):
        super().__init__()
        self._owner = owner
        for k, v in dict(data).items():
            self[k] = v

    def __setitem__(self, key, value):
        if key in self._FIELDS:
            setattr(self._owner, self._FIELDS[key], value)
        else:
            super().__setitem__(key, value)

    def __getitem__(self, key):
        if key in self._FIELDS:
            if key == "unadjusted":
                import warnings

                warnings.warn("post.extras['unadjusted'] is deprecated: use post.as_reported", DeprecationWarning,
                              stacklevel=2)
            v = getattr(self._owner, self._FIELDS[key])
            if v is None:
                raise KeyError(key)
            return v
        return super().__getitem__(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key):
        if key in self._FIELDS:
            return getattr(self._owner, self._FIELDS[key]) is not None
        return super().__contains__(key)

    def __reduce__(self):  # pickle / deepcopy: rebuilt bound to its (memoised) owner
        return (_Extras, (self._owner, dict(self)))


#: The views of a Posterior computed by the layer above it (`bayesnet.summaries` registers
#: summary, tidy, studies_table and to_xarray when it is imported), so that this module
#: never imports the summaries (imports run one way: posterior -> summaries).
_VIEWS: dict[str, Callable] = {}


def register_views(**views: Callable) -> None:
    """Register the functions behind `Posterior.summary()`, `.tidy()`, `.studies_table()`
    and `.to_xarray()` (called by `bayesnet.summaries` at import)."""
    _VIEWS.update(views)


def _view(name: str) -> Callable:
    if name not in _VIEWS:
        raise RuntimeError(f"Posterior.{name}() needs bayesnet.summaries: `import bayesnet.summaries` (bayesnet.fit, "
                           "the report and the CLI import it)")
    return _VIEWS[name]


@dataclass
class Posterior:
    """Posterior of one analysis: marginals by quantity, plus what produced them.

    ``post["pooled"]`` is the marginal of the pooled log-HR (``.on("hr")`` for the HR);
    ``post.prob("pooled", 0.8)`` = P(HR < 0.8); ``post.summary()`` is the summary.json dict,
    ``post.tidy()`` a tidy DataFrame and ``post.to_xarray()`` a labelled Dataset.
    Printing it (or showing it in a notebook) gives a short headline, as print.bayesmeta does.

    Typed fields beside the marginals:
        as_reported   with ``[bias]``: the same model fitted to the studies as reported,
                      without the bias terms (a Posterior); None without ``[bias]``. Every
                      analysis of the evidence as reported (tipping points, the bias curve,
                      E-values, GRADE inputs, publication bias) reads it (`reported`).
        frequentist   the REML / DerSimonian-Laird comparator (no bias model), or None
        draws         the MCMC draws (an ArviZ InferenceData), None for the exact engine
        input_sha256  SHA-256 of the evidence file (provenance), None for a DataFrame
    ``model_data`` is what the engine fitted (with ``[bias.by]`` on the exact engine: the
    studies shifted by their bias means and widened by their variances); the studies as
    reported are ``post.reported.model_data``."""

    engine: str
    spec: Spec
    evidence: EvidenceTable | None
    model_data: ModelData
    marginals: dict[tuple[str, ...], Marginal] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # engine-specific: tau grid, bias constants
    seed: int | None = None
    as_reported: Posterior | None = None
    frequentist: dict | None = None
    draws: Any = None
    input_sha256: str | None = None

    def __post_init__(self):
        self.extras = _Extras(self, self.extras)

    @property
    def reported(self) -> Posterior:
        """The analysis of the studies as reported: `as_reported` with ``[bias]``, else
        this posterior itself."""
        return self.as_reported if self.as_reported is not None else self

    @property
    def k(self) -> int:
        return self.model_data.k

    @property
    def ok(self) -> bool:
        """False when MCMC diagnostics failed: such a result is never reported as clean."""
        return bool(self.diagnostics.get("passed", True))

    def __getitem__(self, key) -> Marginal:
        """The marginal of a quantity, e.g. post["pooled"], post["stratum", "design", "cohort"]:
        effect quantities on the log-HR scale (``.on("hr")`` for the HR), tau, omega and I^2
        on their own scale ("raw")."""
        key = key if isinstance(key, tuple) else (key,)
        try:
            return self.marginals[key]
        except KeyError:
            shown = ", ".join(repr(k[0] if len(k) == 1 else k) for k in list(self.marginals)[:12])
            raise KeyError(f"no quantity {key[0] if len(key) == 1 else key!r} in this posterior; there are: {shown}"
                           f"{' ...' if len(self.marginals) > 12 else ''} (a study: post['study', '<id>'])") from None

    def prob(self, key, hr: float, side: str = "lt") -> float:
        """P(HR < hr) (side="lt") or P(HR > hr) (side="gt") for a quantity on the HR scale
        (pooled, predictive, a stratum, a coefficient's ratio of HRs, a study). `hr` must be
        a finite number > 0 and the quantity a ratio: a ValueError otherwise (tau, omega
        and I^2 are not ratios: use ``post["tau"].cdf(x)``); a KeyError names the
        quantities there are when `key` is unknown."""
        m = self[key]
        name = key if isinstance(key, str) else key[0] if len(key) == 1 else key
        if m.scale != "log":
            raise ValueError(f"post.prob({name!r}, ...) asks P(HR < t), but {name!r} is not a hazard ratio (scale "
                             f"{m.scale!r}); for P({name} < x) use post[{name!r}].cdf(x)")
        if side not in ("lt", "gt"):
            raise ValueError(f"side must be 'lt' (P(HR < hr)) or 'gt' (P(HR > hr)), got {side!r}")
        ok = isinstance(hr, (int, float, np.floating, np.integer)) and not isinstance(hr, bool)
        if not ok or not (math.isfinite(float(hr)) and float(hr) > 0):
            raise ValueError(f"post.prob({name!r}, hr): hr must be a hazard ratio, a finite number > 0, got {hr!r}")
        p = float(m.cdf(np.log(float(hr))))
        return p if side == "lt" else 1.0 - p

    def _headline(self, ci_prob: float = 0.95) -> list[tuple[str, str]]:
        """(label, value) rows of the headline: pooled HR, tau, predictive HR (medians and
        equal-tailed credible intervals with probability `ci_prob`), the pooled
        probabilities P(HR < t) and P(HR > harm) (written by `bayesnet.format`: ">0.999",
        never "1.000") and the diagnostics status."""
        from .evidence.conversions import interval_tails
        from .format import cri_label, hr_cri, p_eq, prob_key, prob_label

        rows = []
        probs_q = [0.5, *interval_tails(ci_prob)]
        label = cri_label(ci_prob)

        def q_row(name, m, lab=label):
            q = m.quantile(probs_q)
            rows.append((name, hr_cri(q[0], (q[1], q[2]), lab)))

        q_row("pooled HR", self["pooled"].on("hr"))
        if ("tau",) in self.marginals:
            q_row("tau", self["tau"])
        # the HR in a new study is a predictive interval, not a credible interval of a parameter
        q_row("HR in a new study", self["predictive"].on("hr"), f"{100 * ci_prob:g}% predictive interval ")
        spec = self.spec
        th, harm = list(getattr(spec, "thresholds", ()) or ()), getattr(spec, "harm", None)
        probs = [f"{prob_label(prob_key(t))} {p_eq(self.prob('pooled', t))}" for t in th]
        if harm is not None:
            key = prob_key(harm, "gt")
            probs.append(f"{prob_label(key)} {p_eq(self.prob('pooled', harm, 'gt'))}")
        if probs:
            rows.append(("probabilities", ", ".join(probs)))
        if getattr(spec, "bias", None) is not None:
            rows.append(("assumes", "the [bias] priors of the spec (post.as_reported: the studies as reported)"))
        else:
            rows.append(("assumes", "unbiased studies (no [bias] model; observational studies rarely are)"))
        rows.append(("diagnostics", "passed" if self.ok else "FAILED (not a clean result)"))
        return rows

    def _title(self) -> str:
        model = getattr(self.spec, "model", None)
        eff = model.get("effects") if isinstance(model, dict) else getattr(model, "effects", None)
        effects = f", {eff} effects" if eff else ""
        return f"Posterior ({self.engine} engine, k = {self.k} stud{'y' if self.k == 1 else 'ies'}{effects})"

    def __repr__(self) -> str:
        rows = self._headline()
        w = max(len(r[0]) for r in rows)
        return "\n".join([self._title()] + [f"  {a:<{w}}  {b}" for a, b in rows])

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(a)}</th><td style='text-align:left'>"
                       f"{html.escape(b)}</td></tr>" for a, b in self._headline())
        return f"<div><strong>{html.escape(self._title())}</strong><table>{body}</table></div>"

    def summary(self, observational: bool = True, ci_prob: float = 0.95) -> dict:
        """The summary.json dict (`bayesnet.summaries.summary_dict`)."""
        return _view("summary")(self, observational=observational, ci_prob=ci_prob)

    def tidy(self, ci_prob: float = 0.95):
        """Tidy pandas frame, one row per quantity (`bayesnet.summaries.tidy_table`)."""
        return _view("tidy")(self, ci_prob)

    def studies_table(self, ci_prob: float = 0.95):
        """One row per study (`bayesnet.summaries.studies_table`)."""
        return _view("studies_table")(self, ci_prob)

    def to_xarray(self, ci_prob: float = 0.95):
        """Labelled xarray Dataset (`bayesnet.summaries.to_xarray`)."""
        return _view("to_xarray")(self, ci_prob)
