"""Prior distributions, written once: checked from the spec, log densities for the exact
engine (scipy), PyMC distributions for the MCMC engine, and labels for reports.

Effect priors (mu, beta) are on the log-HR scale; heterogeneity priors are on tau, the
between-study standard deviation of log-HRs. Roever C et al. (2021) Res Synth Methods
12:448-74 discuss weakly informative heterogeneity priors (half-normal(0.5) is the
default here); Bartos F et al. (2023) give empirical priors for log-HR meta-analyses
(mu ~ t(0, 0.13, 2), tau ~ inverse-gamma(2.42, 0.30)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

from .validate import Problems, is_num

_LOG2PI = math.log(2.0 * math.pi)

__all__ = ["Prior", "EFFECT_DISTS", "TAU_DISTS", "parse_prior"]

# family -> (required parameters, defaults)
EFFECT_DISTS: dict[str, tuple[tuple[str, ...], dict]] = {
    "normal": (("mu", "sigma"), {"mu": 0.0}),
    "student_t": (("nu", "mu", "sigma"), {"mu": 0.0}),
    "flat": ((), {}),
}
TAU_DISTS: dict[str, tuple[tuple[str, ...], dict]] = {
    "half_normal": (("sigma",), {}),
    "half_cauchy": (("scale",), {}),
    "half_t": (("nu", "sigma"), {}),
    "lognormal": (("mu", "sigma"), {}),
    "inv_gamma": (("alpha", "beta"), {}),
    "uniform": (("lower", "upper"), {"lower": 0.0}),
    "flat": ((), {}),
}


@dataclass(frozen=True)
class Prior:
    """A prior: a family name and its parameters (on the scale the user writes them)."""

    dist: str
    params: dict = field(default_factory=dict)
    label: str | None = None
    kind: str = "effect"  # "effect" (mu, beta) or "scale" (tau, omega)

    # ------------------------------------------------------------------ description
    def describe(self) -> str:
        if self.label:
            return self.label
        if self.dist == "flat":
            return "flat (improper uniform)"
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.dist}({args})"

    def to_dict(self) -> dict:
        d = {"dist": self.dist, **self.params}
        if self.label:
            d["label"] = self.label
        return d

    # ------------------------------------------------------------------ exact engine
    @property
    def is_normal_or_flat(self) -> bool:
        return self.dist in ("normal", "flat")

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density at x (scale priors: the density of the half distribution on x >= 0).

        Written with scipy.special rather than scipy.stats, whose import alone costs about
        1.3 s and would dominate a command-line fit; tests check every family against
        scipy.stats."""
        p, x = self.params, np.asarray(x, dtype=float)
        d = self.dist
        with np.errstate(divide="ignore", invalid="ignore"):
            if d == "flat":
                return np.where(x >= 0, 0.0, -np.inf) if self.kind == "scale" else np.zeros_like(x)
            if d == "normal":
                z = (x - p["mu"]) / p["sigma"]
                return -0.5 * z * z - math.log(p["sigma"]) - 0.5 * _LOG2PI
            if d in ("student_t", "half_t"):
                nu, mu = p["nu"], p.get("mu", 0.0)
                z = (x - mu) / p["sigma"]
                lp = (gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * math.log(nu * math.pi) - math.log(p["sigma"])
                      - (nu + 1) / 2 * np.log1p(z * z / nu))
                return lp if d == "student_t" else np.where(x >= 0, math.log(2.0) + lp, -np.inf)
            if d == "half_normal":
                z = x / p["sigma"]
                return np.where(x >= 0, math.log(2.0) - 0.5 * z * z - math.log(p["sigma"]) - 0.5 * _LOG2PI, -np.inf)
            if d == "half_cauchy":
                z = x / p["scale"]
                return np.where(x >= 0, math.log(2.0 / (math.pi * p["scale"])) - np.log1p(z * z), -np.inf)
            if d == "lognormal":
                lx = np.log(np.where(x > 0, x, 1.0))
                z = (lx - p["mu"]) / p["sigma"]
                return np.where(x > 0, -lx - math.log(p["sigma"]) - 0.5 * _LOG2PI - 0.5 * z * z, -np.inf)
            if d == "inv_gamma":
                a, b = p["alpha"], p["beta"]
                xs = np.where(x > 0, x, 1.0)
                return np.where(x > 0, a * math.log(b) - gammaln(a) - (a + 1) * np.log(xs) - b / xs, -np.inf)
            if d == "uniform":
                inside = (x >= p["lower"]) & (x <= p["upper"])
                return np.where(inside, -math.log(p["upper"] - p["lower"]), -np.inf)
        raise ValueError(d)

    # ------------------------------------------------------------------ MCMC engine
    def pymc(self, name: str, hyper: dict, **kw):
        """A PyMC random variable; `hyper` maps parameter -> tensor (pm.Data)."""
        import pymc as pm

        d, h = self.dist, hyper
        if d == "flat":
            return pm.HalfFlat(name, **kw) if self.kind == "scale" else pm.Flat(name, **kw)
        if d == "normal":
            return pm.Normal(name, mu=h["mu"], sigma=h["sigma"], **kw)
        if d == "student_t":
            return pm.StudentT(name, nu=h["nu"], mu=h["mu"], sigma=h["sigma"], **kw)
        if d == "half_normal":
            return pm.HalfNormal(name, sigma=h["sigma"], **kw)
        if d == "half_cauchy":
            return pm.HalfCauchy(name, beta=h["scale"], **kw)
        if d == "half_t":
            return pm.HalfStudentT(name, nu=h["nu"], sigma=h["sigma"], **kw)
        if d == "lognormal":
            return pm.LogNormal(name, mu=h["mu"], sigma=h["sigma"], **kw)
        if d == "inv_gamma":
            return pm.InverseGamma(name, alpha=h["alpha"], beta=h["beta"], **kw)
        if d == "uniform":
            return pm.Uniform(name, lower=h["lower"], upper=h["upper"], **kw)
        raise ValueError(d)


def parse_prior(value, where: str, kind: str) -> Prior:
    """Check a prior table from a spec or grid, e.g. {dist = "half_normal", sigma = 0.5}.
    `kind` is "effect" (mu, beta) or "scale" (tau). Every problem of the table is reported
    in one SpecError (bayesnet.validate style: the key, what was found, what is allowed)."""
    table = EFFECT_DISTS if kind == "effect" else TAU_DISTS
    P = Problems()
    if not P.table(where, value, '{ dist = "normal", mu = 0, sigma = 1 }'):
        P.raise_if_any()
    value = dict(value)
    label = value.pop("label", None)
    dist = value.pop("dist", None)
    if label is not None:
        P.check(where, "label", label, lambda v: isinstance(v, str), "a text string in quotes")
    if dist not in table:
        P.add(f"{where}.dist: unknown distribution {dist!r}; allowed: {', '.join(table)}")
        P.raise_if_any()
    required, defaults = table[dist]
    P.keys(where, {**value, "dist": dist}, {*required, "dist", "label"})
    params = {}
    for k in required:
        if k in value:
            v = value[k]
        elif k in defaults:
            v = defaults[k]
        else:
            P.add(f"{where}: dist = \"{dist}\" needs the key '{k}' (keys: {', '.join(required)})")
            continue
        if P.check(where, k, v, is_num, "a finite number"):
            params[k] = float(v)
    for k in ("sigma", "scale", "nu", "alpha", "beta"):
        if k in params and params[k] <= 0:
            P.add(f"{where}.{k}: must be > 0, got {params[k]:g}")
    if dist == "uniform" and {"lower", "upper"} <= set(params) and not (0.0 <= params["lower"] < params["upper"]):
        P.add(f"{where}: uniform needs 0 <= lower < upper, got {params['lower']:g}, {params['upper']:g}")
    P.raise_if_any()
    return Prior(dist=dist, params=params, label=label, kind=kind)
