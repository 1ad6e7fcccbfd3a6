"""The posterior of a network meta-analysis (`NetworkPosterior`), whichever engine made it
(`bayesnet.network.fit` exact, `bayesnet.network.mcmc` PyMC); re-exported by
`bayesnet.network.fit`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..posterior import DrawsMarginal, Marginal, MixtureMarginal
from .data import NetworkData
from .spec import NetworkSpec

__all__ = ["NetworkPosterior"]


@dataclass
class NetworkPosterior:
    """Posterior of a network meta-analysis (consistency model or a variant)."""

    engine: str
    net: NetworkData
    gm: Any                                  # the GaussianModel fitted
    params: tuple[str, ...]                  # treatments with a basic parameter (all but the reference)
    spec: Any = None
    nspec: NetworkSpec = field(default_factory=NetworkSpec)
    comp: dict | None = None                 # exact: taus, weights, bhat, Pinv, tau (GridMarginal)
    draws: dict | None = None                # mcmc: {"b": (N, p), "tau": (N,)}
    diagnostics: dict = field(default_factory=dict)
    seed: int | None = None
    extras: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def treatments(self) -> tuple[str, ...]:
        return self.net.treatments

    @property
    def reference(self) -> str:
        return self.net.reference

    @property
    def random(self) -> bool:
        return self.gm.d > 0

    @property
    def ok(self) -> bool:
        return bool(self.diagnostics.get("passed", True))

    def vector(self, treatment: str, comparator: str) -> np.ndarray:
        """c with c'b = d[treatment] - d[comparator] (d[reference] = 0)."""
        for t in (treatment, comparator):
            if t not in self.treatments:
                raise KeyError(f"no treatment {t!r} in this network; the treatments are {', '.join(self.treatments)}")
        c = np.zeros(self.gm.p)
        if treatment != self.reference:
            c[self.params.index(treatment)] += 1.0
        if comparator != self.reference:
            c[self.params.index(comparator)] -= 1.0
        return c

    def linear(self, c: np.ndarray, predictive: bool = False) -> Marginal:
        """The marginal of c'b (log scale); with `predictive`, of the same contrast in a new
        study (one contrast: its variance adds tau^2)."""
        if self.comp is not None:
            mean = self.comp["bhat"] @ c
            var = np.einsum("i,gij,j->g", c, self.comp["Pinv"], c)
            if predictive:
                var = var + self.comp["taus"] ** 2
            return MixtureMarginal(mean, np.sqrt(np.maximum(var, 1e-300)), self.comp["weights"])
        b = self.draws["b"] @ c
        if predictive:
            b = b + self.draws["tau"] * self.draws["z_new"]
        return DrawsMarginal(b)

    def contrast(self, treatment: str, comparator: str, predictive: bool = False) -> Marginal:
        """log-HR of `treatment` versus `comparator` (HR < 1: treatment better)."""
        key = (treatment, comparator, predictive)
        if key not in self._cache:
            self._cache[key] = self.linear(self.vector(treatment, comparator), predictive)
        return self._cache[key]

    def coefficient(self, name: str) -> Marginal:
        j = self.gm.b_names.index(name)
        c = np.zeros(self.gm.p)
        c[j] = 1.0
        return self.linear(c)

    @property
    def tau(self) -> Marginal | None:
        if not self.random:
            return None
        if self.comp is not None:
            return self.comp["tau"]
        return DrawsMarginal(self.draws["tau"], scale="raw")

    def rank_draws(self, n: int | None = None, seed: int | None = None) -> np.ndarray:
        """Draws (N, T) of d[t] (log-HR of each treatment vs the reference, 0 for it), in
        the order of `treatments`. Exact engine: `n` draws of the mixture (component by its
        weight, then b | tau ~ N(bhat, Pinv)), seeded by `seed` (default the fit's seed);
        MCMC: the posterior draws."""
        if self.comp is None:
            b = self.draws["b"][:, :len(self.params)]
        else:
            n = n or self.nspec.rank_draws
            seed = self.seed if seed is None else seed
            key = ("rank", n, seed)
            if key in self._cache:
                return self._cache[key]
            rng = np.random.default_rng(seed)
            w = self.comp["weights"]
            g = rng.choice(len(w), size=n, p=w / w.sum())
            k = len(self.params)
            L = np.linalg.cholesky(self.comp["Pinv"][:, :k, :k] + 1e-14 * np.eye(k))
            z = rng.standard_normal((n, k))
            b = self.comp["bhat"][g, :k] + np.einsum("nij,nj->ni", L[g], z)
        out = np.zeros((len(b), len(self.treatments)))
        for j, t in enumerate(self.treatments):
            if t != self.reference:
                out[:, j] = b[:, self.params.index(t)]
        if self.comp is not None:
            self._cache[("rank", n, seed)] = out
        return out
