"""The one results object both engines return.

A `Posterior` holds one `Marginal` per named quantity. A marginal answers every question
(mean, sd, quantiles, equal-tailed and HPD intervals, CDF = probabilities, density) in the
same way whether it is an exact mixture of normals (exact engine), a density on a grid
(tau under the exact engine) or MCMC draws. Summaries (`bayesnet.summaries`) are computed
from marginals by a single code path, so both engines report the same things the same way.

Quantity keys (log-HR scale unless stated):
    ("pooled",)                        mean log-HR at the reference levels (mu)
    ("predictive",)                    log-HR of a new study at the reference levels
    ("stratum", cov, level)            mean log-HR at a covariate level
    ("stratum_predictive", cov, level) new study at that level
    ("coef", name)                     a regression coefficient (difference in log-HR)
    ("study", name)                    shrunken study effect theta_i
    ("tau",)  or ("tau", level)        between-study SD (log-HR scale)
    ("omega",)                         between-population SD
    ("i2",)                            tau^2 / (tau^2 + s~^2) (Higgins & Thompson 2002)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

__all__ = ["DrawsMarginal", "GridMarginal", "Marginal", "MixtureMarginal", "Posterior", "ScaledMarginal"]

_SQRT2PI = np.sqrt(2.0 * np.pi)


class Marginal:
    """A univariate posterior distribution."""

    def mean(self, transform: Callable | None = None) -> float: ...
    def sd(self, transform: Callable | None = None) -> float: ...
    def quantile(self, probs) -> np.ndarray: ...
    def cdf(self, x) -> np.ndarray: ...

    def hpd(self, prob: float = 0.95, transform: Callable = lambda v: v) -> tuple[float, float]:
        """Shortest interval with `prob` mass, on the scale of the monotone increasing
        `transform` (e.g. np.exp for HRs): minimise transform(Q(p + prob)) - transform(Q(p))
        over p in [0, 1 - prob] (golden-section search; unimodal densities)."""
        a, b = 0.0, 1.0 - prob
        gr = (np.sqrt(5.0) - 1.0) / 2.0

        def width(p):
            q = self.quantile([p, p + prob])
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
        q = self.quantile([p, p + prob])
        return float(transform(q[0])), float(transform(q[1]))


class MixtureMarginal(Marginal):
    """sum_g w_g N(m_g, s_g^2): the exact engine's marginal of any linear function of
    beta, theta_i or theta_new (Roever 2020, J Stat Softw 93(6), section 2)."""

    def __init__(self, m: np.ndarray, s: np.ndarray, w: np.ndarray):
        self.m, self.s, self.w = np.asarray(m, float), np.asarray(s, float), np.asarray(w, float)
        self._mu = float(self.w @ self.m)
        self._sd = float(np.sqrt(self.w @ (self.s**2 + self.m**2) - self._mu**2))

    def mean(self, transform=None) -> float:
        if transform is None:
            return self._mu
        if transform is np.exp:  # lognormal moments
            return float(self.w @ np.exp(self.m + self.s**2 / 2))
        raise NotImplementedError

    def sd(self, transform=None) -> float:
        if transform is None:
            return self._sd
        if transform is np.exp:
            e2 = float(self.w @ np.exp(2 * self.m + 2 * self.s**2))
            return float(np.sqrt(max(e2 - self.mean(np.exp) ** 2, 0.0)))
        raise NotImplementedError

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, float)
        return (ndtr((x[..., None] - self.m) / self.s) * self.w).sum(-1)

    def pdf(self, x) -> np.ndarray:
        x = np.asarray(x, float)
        z = (x[..., None] - self.m) / self.s
        return (np.exp(-0.5 * z * z) / (self.s * _SQRT2PI) * self.w).sum(-1)

    def hpd(self, prob: float = 0.95, transform: Callable = lambda v: v) -> tuple[float, float]:
        """Shortest interval for a unimodal mixture: the bounds a = Q(p), b = Q(p + prob)
        where the density of transform(X) is equal, found by Brent's method on p.
        transform is the identity or np.exp (HR scale: density f(x) / e^x)."""
        from scipy.optimize import brentq

        jac = (lambda x: np.exp(x)) if transform is np.exp else (lambda x: 1.0)

        def phi(p):
            a, b = self.quantile([p, p + prob])
            return float(self.pdf(a) / jac(a) - self.pdf(b) / jac(b))

        edge = 1.0 - prob
        # near-normal mixtures have p* close to (1 - prob) / 2: bracket there first
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
        return float(transform(q[0])), float(transform(q[1]))

    def quantile(self, probs) -> np.ndarray:
        """Newton's method on the mixture CDF, started from the moment-matched normal and
        kept inside a bisection bracket; converges to |F(x) - p| < 1e-12."""
        from scipy.special import ndtri

        p = np.clip(np.asarray(probs, float), 1e-15, 1 - 1e-15)
        lo = np.full(p.shape, float(np.min(self.m - 40 * self.s)))
        hi = np.full(p.shape, float(np.max(self.m + 40 * self.s)))
        x = np.clip(self._mu + self._sd * ndtri(p), lo, hi)
        for _ in range(100):
            f = self.cdf(x) - p
            active = np.abs(f) > 1e-13
            if not np.any(active):
                break
            lo = np.where(active & (f < 0), x, lo)
            hi = np.where(active & (f > 0), x, hi)
            d = self.pdf(x)
            xn = x - np.where(d > 0, f / np.maximum(d, 1e-300), 0.0)
            bad = (xn < lo) | (xn > hi) | ~np.isfinite(xn)
            x = np.where(active, np.where(bad, 0.5 * (lo + hi), xn), x)
        return x


class GridMarginal(Marginal):
    """A density tabulated on a grid (the exact engine's marginal of tau): CDF by the
    trapezoid rule, quantiles by inverting it with linear interpolation."""

    def __init__(self, x: np.ndarray, pdf: np.ndarray):
        self.x = np.asarray(x, float)
        dens = np.asarray(pdf, float)
        cum = np.concatenate([[0.0], np.cumsum(np.diff(self.x) * (dens[1:] + dens[:-1]) / 2)])
        self.dens = dens / cum[-1]
        self.cum = cum / cum[-1]

    def _moment(self, f) -> float:
        y = f(self.x) * self.dens
        return float(np.sum(np.diff(self.x) * (y[1:] + y[:-1]) / 2))

    def mean(self, transform=None) -> float:
        t = transform or (lambda v: v)
        return self._moment(t)

    def sd(self, transform=None) -> float:
        t = transform or (lambda v: v)
        m = self.mean(t)
        return float(np.sqrt(max(self._moment(lambda v: t(v) ** 2) - m * m, 0.0)))

    def cdf(self, x) -> np.ndarray:
        return np.interp(np.asarray(x, float), self.x, self.cum, left=0.0, right=1.0)

    def pdf(self, x) -> np.ndarray:
        return np.interp(np.asarray(x, float), self.x, self.dens, left=0.0, right=0.0)

    def quantile(self, probs) -> np.ndarray:
        p = np.asarray(probs, float)
        # strictly increasing cumulative for inversion
        cum, idx = np.unique(self.cum, return_index=True)
        return np.interp(p, cum, self.x[idx])

    def transformed(self, f: Callable, x_new: np.ndarray | None = None) -> GridMarginal:
        """The marginal of f(X) for monotone increasing f (e.g. I^2 from tau)."""
        new = object.__new__(GridMarginal)
        new.x, new.cum = f(self.x), self.cum
        dx = np.gradient(new.x, self.x)
        with np.errstate(divide="ignore", invalid="ignore"):
            new.dens = np.where(dx > 0, self.dens / dx, 0.0)
        return new


class DrawsMarginal(Marginal):
    """MCMC draws with dims (chain, draw). Intervals use ArviZ (az.hdi); quantiles numpy."""

    def __init__(self, draws: np.ndarray):
        self.draws = np.asarray(draws, float)
        if self.draws.ndim == 1:
            self.draws = self.draws[None, :]

    def mean(self, transform=None) -> float:
        d = self.draws if transform is None else transform(self.draws)
        return float(d.mean())

    def sd(self, transform=None) -> float:
        d = self.draws if transform is None else transform(self.draws)
        return float(d.std(ddof=1))

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, float)
        return (self.draws.ravel() <= x[..., None]).mean(-1)

    def quantile(self, probs) -> np.ndarray:
        return np.quantile(self.draws.ravel(), np.asarray(probs, float))

    def hpd(self, prob: float = 0.95, transform=lambda v: v) -> tuple[float, float]:
        import arviz as az
        import xarray as xr

        ds = xr.Dataset({"q": (("chain", "draw"), transform(self.draws))})
        h = az.hdi(ds, prob=prob)["q"].values
        return float(h[0]), float(h[1])


class ScaledMarginal:
    """A marginal as returned by ``post[...]``, saying which scale it is on.

    Effect quantities (pooled, predictive, strata, studies, coefficients) are stored on the
    log-HR scale: every summary method takes ``scale="log"`` (default) or ``scale="hr"``
    (e.g. ``post["pooled"].hpd(scale="hr")`` is the shortest 95% interval of the HR, computed
    on the HR density; ``quantile([0.5], scale="hr")`` the median HR; ``cdf(0.8,
    scale="hr")`` = P(HR < 0.8)). Scale parameters (tau, omega, I2) are on their own scale
    (``scale="raw"``); asking for scale="hr" there is an error. Other attributes pass through
    to the underlying marginal."""

    def __init__(self, m: Marginal, effect: bool):
        self._m = m
        self.scale = "log" if effect else "raw"

    @property
    def base(self) -> Marginal:
        """The underlying marginal (a MixtureMarginal, GridMarginal or DrawsMarginal)."""
        return self._m

    def _tf(self, scale):
        scale = scale or self.scale
        allowed = ("log", "hr") if self.scale == "log" else ("raw",)
        if scale not in allowed:
            raise ValueError(f"scale must be one of {', '.join(allowed)} for this quantity, got {scale!r}")
        return scale == "hr"

    def mean(self, transform=None, *, scale: str | None = None) -> float:
        return self._m.mean(np.exp if self._tf(scale) else transform)

    def sd(self, transform=None, *, scale: str | None = None) -> float:
        return self._m.sd(np.exp if self._tf(scale) else transform)

    def quantile(self, probs, *, scale: str | None = None) -> np.ndarray:
        q = self._m.quantile(probs)
        return np.exp(q) if self._tf(scale) else q

    def median(self, *, scale: str | None = None) -> float:
        return float(self.quantile([0.5], scale=scale)[0])

    def cdf(self, x, *, scale: str | None = None):
        return self._m.cdf(np.log(x) if self._tf(scale) else x)

    def hpd(self, prob: float = 0.95, transform=None, *, scale: str | None = None) -> tuple[float, float]:
        if self._tf(scale):
            return self._m.hpd(prob, np.exp)
        return self._m.hpd(prob) if transform is None else self._m.hpd(prob, transform)

    def __getattr__(self, name):
        return getattr(self._m, name)

    def __repr__(self) -> str:
        return f"ScaledMarginal({self._m!r}, scale={self.scale!r})"


@dataclass
class Posterior:
    """Posterior of one analysis: marginals by quantity, plus what produced them.

    Use `bayesnet.summaries` (or the methods below) to read it:
    ``post.summary()`` (the summary.json dict), ``post.prob(("pooled",), 0.8)``
    = P(HR < 0.8), ``post.tidy()`` (a tidy DataFrame), ``post.to_xarray()``."""

    engine: str
    spec: object
    evidence: object
    model_data: object
    marginals: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)  # engine-specific: tau grid, idata, ...
    seed: int | None = None

    @property
    def k(self) -> int:
        return self.model_data.k

    @property
    def ok(self) -> bool:
        """False when MCMC diagnostics failed: such a result is never reported as clean."""
        return bool(self.diagnostics.get("passed", True))

    def __getitem__(self, key) -> ScaledMarginal:
        """The marginal of a quantity, e.g. post["pooled"], post["stratum", "design", "cohort"];
        effect quantities on the log-HR scale with scale="hr" available (see ScaledMarginal)."""
        key = key if isinstance(key, tuple) else (key,)
        return ScaledMarginal(self.marginals[key], effect=key[0] not in ("tau", "omega", "i2", "tau_sd", "tau_scale"))

    def prob(self, key, hr: float, side: str = "lt") -> float:
        """P(HR < hr) (side="lt") or P(HR > hr) (side="gt") for a quantity."""
        p = float(self[key].cdf(np.log(hr)))
        return p if side == "lt" else 1.0 - p

    def summary(self, observational: bool = True, ci_prob: float = 0.95) -> dict:
        from .summaries import summary_dict

        return summary_dict(self, observational=observational, ci_prob=ci_prob)

    def tidy(self, ci_prob: float = 0.95):
        from .summaries import tidy_table

        return tidy_table(self, ci_prob)

    def studies_table(self, ci_prob: float = 0.95):
        from .summaries import studies_table

        return studies_table(self, ci_prob)

    def to_xarray(self, ci_prob: float = 0.95):
        from .summaries import to_xarray

        return to_xarray(self, ci_prob)
