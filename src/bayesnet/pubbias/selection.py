"""Vevea & Hedges (1995, Psychometrika 60:419-35) step-function selection models on
one-sided p-values, as RoBMA/BayesTools parametrise them (Maier, Bartos & Wagenmakers 2023,
Psychol Methods 28:107-22; Bartos et al. 2023, Res Synth Methods 14:99-116).

A study's log-HR y_i, marginally over its true effect, is N(mu, s_i^2 + tau^2); it is
published with a probability proportional to a weight omega_j that is constant on
intervals of its p-value. Writing x_i = -y_i when "significant" means HR < 1 (direction
"negative", the default) and x_i = y_i otherwise, and m = +-mu likewise, the weighted
density is

    f(x_i) = omega_{j(i)} phi((x_i - m)/sd_i) / sd_i  /  sum_j omega_j P_ij,
    sd_i^2 = s_i^2 + tau^2,
    P_ij   = Phi((c_ij - m)/sd_i) - Phi((c_i,j-1 - m)/sd_i)      (one-sided)

with cut-offs c_ij = s_i z_j on the x scale, z_j = Phi^-1(1 - p_j) for the one-sided
p-value steps p_j; for two-sided weight functions the intervals are on |x_i| with
z_j = Phi^-1(1 - p_j/2), and each P_ij is the sum of the two tails' pieces. The
normalising constant is therefore a finite sum of normal CDF differences (no integral).

Weights are ordered as RoBMA's: from the least significant interval (largest p-values) to
the most significant one, whose weight is 1. Their prior is RoBMA's "cumulative Dirichlet":
eta ~ Dirichlet(alpha), omega = cumsum(eta) (BayesTools JAGS code), so weights never rise
as p-values grow.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaincinv, ndtr, ndtri

from ..errors import SpecError

__all__ = [
    "ROBMA_WEIGHTFUNCTIONS",
    "WeightFunction",
    "interval_index",
    "interval_probs",
    "log_lik",
    "log_lik_pytensor",
    "log_lik_studies",
    "sign_of",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def sign_of(direction: str) -> float:
    """-1 when "significant" means HR < 1 (direction "negative"), +1 for "positive"."""
    if direction not in ("negative", "positive"):
        raise SpecError(f"[publication_bias].direction: must be \"negative\" (HR < 1 is the benefit side) "
                        f"or \"positive\"; got {direction!r}")
    return -1.0 if direction == "negative" else 1.0


@dataclass(frozen=True)
class WeightFunction:
    """A step weight function: `sided` "one" or "two", ascending p-value `steps` in (0, 1),
    Dirichlet `alpha` (one per interval, RoBMA order: least significant first) and the
    model's relative prior weight."""

    sided: str
    steps: tuple[float, ...]
    alpha: tuple[float, ...] | None = None
    prior_weight: float = 1.0

    def __post_init__(self):
        where = f"weight function {self.label}"
        problems = []
        if self.sided not in ("one", "two"):
            problems.append(f"{where}: sided must be \"one\" or \"two\", got {self.sided!r}")
        st = tuple(float(v) for v in self.steps)
        if not st or any(not (0.0 < v < 1.0) for v in st) or any(b <= a for a, b in itertools.pairwise(st)):
            problems.append(f"{where}: steps must be increasing p-values strictly between 0 and 1, got {list(self.steps)}")
        alpha = tuple(float(a) for a in (self.alpha or (1.0,) * (len(st) + 1)))
        if len(alpha) != len(st) + 1 or any(not (a > 0 and math.isfinite(a)) for a in alpha):
            problems.append(f"{where}: alpha needs {len(st) + 1} positive numbers (one per p-value interval), "
                            f"got {list(self.alpha or [])}")
        if not (self.prior_weight > 0 and math.isfinite(self.prior_weight)):
            problems.append(f"{where}: prior_weight must be > 0, got {self.prior_weight!r}")
        if problems:
            raise SpecError(problems=problems)
        object.__setattr__(self, "steps", st)
        object.__setattr__(self, "alpha", alpha)

    @property
    def label(self) -> str:
        return f"{self.sided}-sided({', '.join(f'{v:g}' for v in self.steps)})"

    @property
    def n_intervals(self) -> int:
        return len(self.steps) + 1

    def crit_z(self) -> np.ndarray:
        """z cut-offs, ascending (so interval 0 = least significant)."""
        p = np.asarray(self.steps[::-1], float)
        return -ndtri(p) if self.sided == "one" else -ndtri(p / 2.0)

    def omega_from_uniform(self, u: np.ndarray, alpha=None) -> np.ndarray:
        """Map points u in (0,1)^J (J intervals) to weights from the cumulative Dirichlet prior
        (or Dirichlet(`alpha`)): inverse-CDF gammas, normalised, cumulated; for (quasi-)Monte
        Carlo."""
        u = np.asarray(u, float)
        g = gammaincinv(np.asarray(self.alpha if alpha is None else alpha)[None, :], u)
        eta = g / g.sum(-1, keepdims=True)
        om = np.cumsum(eta, -1)
        om[..., -1] = 1.0
        return om

    def sample_omega(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.cumsum(rng.dirichlet(self.alpha, size=n), -1)


# RoBMA 3.6 set_default_priors("bias"): six weight functions with prior weight 1/12 each of
# the bias half (PET and PEESE 1/4 each).
ROBMA_WEIGHTFUNCTIONS = (
    WeightFunction("two", (0.05,), prior_weight=1 / 12),
    WeightFunction("two", (0.05, 0.10), prior_weight=1 / 12),
    WeightFunction("one", (0.05,), prior_weight=1 / 12),
    WeightFunction("one", (0.025, 0.05), prior_weight=1 / 12),
    WeightFunction("one", (0.05, 0.5), prior_weight=1 / 12),
    WeightFunction("one", (0.025, 0.05, 0.5), prior_weight=1 / 12),
)


def _cdf_diff(a, b):
    """Phi(b) - Phi(a) for a <= b, accurate in both tails."""
    upper = a > 0
    return np.where(upper, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))


def interval_probs(m, sd, s, wf: WeightFunction) -> np.ndarray:
    """P_ij: probability of each p-value interval j for study i under N(m, sd^2) on the x
    scale; m and sd broadcast to (..., k) (k = len(s)); returns (..., k, J)."""
    z = wf.crit_z()
    m, sd = np.asarray(m, float)[..., None], np.asarray(sd, float)[..., None]
    c = (np.asarray(s, float)[:, None] * z[None, :])  # (k, J-1)
    inf = np.full(c.shape[:-1] + (1,), np.inf)
    if wf.sided == "one":
        edges = np.concatenate([-inf, c, inf], -1)  # (k, J+1)
        e = (edges - m) / sd
        return _cdf_diff(e[..., :-1], e[..., 1:])
    edges = np.concatenate([np.zeros_like(inf), c, inf], -1)  # |x| edges
    hi, lo = (edges - m) / sd, (-edges - m) / sd
    return _cdf_diff(hi[..., :-1], hi[..., 1:]) + _cdf_diff(lo[..., 1:], lo[..., :-1])


def interval_index(x, s, wf: WeightFunction) -> np.ndarray:
    """Interval j(i) of each study (0 = least significant) from x_i on the x scale."""
    v = np.abs(x) if wf.sided == "two" else np.asarray(x, float)
    return (v[:, None] > np.asarray(s)[:, None] * wf.crit_z()[None, :]).sum(-1)


def log_lik_studies(y, s, mu, tau, omega, wf: WeightFunction, direction: str = "negative") -> np.ndarray:
    """Per-study log weighted-normal density of the log-HRs y (se s) at mean log-HR mu,
    heterogeneity tau and weights omega (..., J) (RoBMA order); shape (..., k)."""
    sg = sign_of(direction)
    y, s = np.asarray(y, float), np.asarray(s, float)
    x, m = sg * y, sg * np.asarray(mu, float)
    sd = np.sqrt(s**2 + np.asarray(tau, float)[..., None] ** 2)  # (..., k)
    omega = np.asarray(omega, float)
    P = interval_probs(m[..., None], sd, s, wf)  # (..., k, J)
    denom = np.einsum("...kj,...j->...k", P, omega)
    j = interval_index(x, s, wf)
    num = np.log(omega[..., j]) - 0.5 * ((x - m[..., None]) / sd) ** 2 - np.log(sd) - _LOG_SQRT_2PI
    return num - np.log(denom)


def log_lik(y, s, mu, tau, omega, wf: WeightFunction, direction: str = "negative") -> np.ndarray:
    """Sum over studies of :func:`log_lik_studies`; shape broadcast(mu, tau, omega[..., 0])."""
    return log_lik_studies(y, s, mu, tau, omega, wf, direction).sum(-1)


def log_lik_pytensor(y, s, mu, tau, omega, wf: WeightFunction, direction: str = "negative"):
    """The same log-likelihood as a pytensor scalar, for ``pm.Potential("selection", ...)``:
    y, s data arrays (k,); mu, tau scalar tensors; omega a (J,) tensor in RoBMA order."""
    import pytensor.tensor as pt

    sg = sign_of(direction)
    y, s = np.asarray(y, float), np.asarray(s, float)
    x = sg * y
    m = sg * mu
    sd = pt.sqrt(s**2 + tau**2)  # (k,)
    z = wf.crit_z()
    c = s[:, None] * z[None, :]  # (k, J-1) constants

    def Phi(v):
        return 0.5 * pt.erfc(-v / np.sqrt(2.0))

    def cdf_diff(a, b):
        return pt.switch(pt.gt(a, 0), Phi(-a) - Phi(-b), Phi(b) - Phi(a))

    big = 1e300
    if wf.sided == "one":
        edges = np.concatenate([np.full((len(s), 1), -big), c, np.full((len(s), 1), big)], 1)
        e = (edges - m) / sd[:, None]
        P = cdf_diff(e[:, :-1], e[:, 1:])
    else:
        edges = np.concatenate([np.zeros((len(s), 1)), c, np.full((len(s), 1), big)], 1)
        hi, lo = (edges - m) / sd[:, None], (-edges - m) / sd[:, None]
        P = cdf_diff(hi[:, :-1], hi[:, 1:]) + cdf_diff(lo[:, 1:], lo[:, :-1])
    denom = pt.dot(P, omega)
    j = interval_index(x, s, wf)
    num = pt.log(omega[j]) - 0.5 * ((x - m) / sd) ** 2 - pt.log(sd) - _LOG_SQRT_2PI
    return pt.sum(num - pt.log(denom))
