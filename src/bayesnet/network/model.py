"""Network meta-analysis as a `GaussianModel` (bayesnet.model.gaussian).

Consistency model (Lu & Ades 2004, Stat Med 23:3105-24; Dias et al. 2011, NICE DSU TSD2;
contrast-level likelihood as TSD2 example 7 and multinma's `set_agd_contrast`): for study
j with baseline arm b_j and arms k,

    y_jk = delta_jk + e_jk,    e_j ~ N(0, C_j)   C_j: se_jk^2 on the diagonal, se_0j^2 off it
    delta_jk = d[k] - d[b_j] (+ beta (x_j - x_c) for a non-reference k against the reference)
    delta_j ~ N(., tau^2 K_j), K_j = 1 on the diagonal and 1/2 off it (Higgins & Whitehead 1996,
              Stat Med 15:2733-49: a common tau makes the correlation of two contrasts 1/2)

with d[reference] = 0, d[k] ~ the [priors] mu prior, beta ~ the [priors] beta prior, tau ~ the
[priors] tau prior. As a GaussianModel: X maps each contrast to the basic parameters (+1 for
k, -1 for b_j), S = blockdiag(C_j), Z = I, G(tau) = tau^2 blockdiag(K_j).

The meta-regression is the "common interaction" model of Dias et al. 2011 (NICE DSU TSD3):
one coefficient per covariate shared by every treatment against the reference, so the
column of a contrast k vs b is (x_j - x_c) (1[k != ref] - 1[b != ref]); x_c is the mean over
studies (the basic parameters are the effects at x_c). `[network] interactions =
"per_treatment"` gives TSD3's independent interactions instead (one coefficient per
covariate and non-reference treatment).

Node-split and unrelated-mean-effects variants are built here too (see
`bayesnet.network.inconsistency`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.linalg import block_diag

from ..errors import ModelError
from ..model.gaussian import GaussianModel
from ..priors import Prior
from .data import NetworkData, NetworkStudy

__all__ = ["block_K", "build_gaussian", "design", "prior_arrays"]


def block_K(studies: Sequence[NetworkStudy]) -> np.ndarray:
    """blockdiag(K_j): 1 on the diagonal, 1/2 between two contrasts of the same study."""
    blocks = [0.5 * (np.ones((s.n_arms - 1,) * 2) + np.eye(s.n_arms - 1)) for s in studies]
    return block_diag(*blocks) if blocks else np.zeros((0, 0))


def block_S(studies: Sequence[NetworkStudy]) -> np.ndarray:
    """blockdiag(S_j): each study's known covariance of its contrasts."""
    blocks = [np.asarray(s.cov, float).reshape(s.n_arms - 1, s.n_arms - 1) for s in studies]
    return block_diag(*blocks) if blocks else np.zeros((0, 0))


def design(studies: Sequence[NetworkStudy], params: Sequence[str], reference: str) -> np.ndarray:
    """X (n contrasts, len(params)): +1 at d[k], -1 at d[b_j] (the reference has no column)."""
    col = {t: i for i, t in enumerate(params)}
    rows = []
    for s in studies:
        for t in s.arms[1:]:
            r = np.zeros(len(params))
            if t != reference:
                r[col[t]] += 1.0
            if s.arms[0] != reference:
                r[col[s.arms[0]]] -= 1.0
            rows.append(r)
    return np.array(rows).reshape(-1, len(params))


def covariate_columns(net: NetworkData, studies: Sequence[NetworkStudy], covariates: Sequence[str],
                      per_treatment: bool = False):
    """The interaction columns and their names, and the centring values: one column per
    covariate (common interaction), or with `per_treatment` one per covariate and
    non-reference treatment t, (x_j - x_c) (1[k = t] - 1[b_j = t]) (TSD3's independent
    interactions)."""
    cols, centres, names = [], [], []
    for c in covariates:
        vals = []
        for s in net.studies:
            v = s.covariates.get(c)
            try:
                vals.append(float(v))
            except (TypeError, ValueError):
                raise ModelError(f"[model].covariates: '{c}' is not a number in study '{s.name}' ({v!r}); a network "
                                 f"meta-regression needs a numeric study covariate in every study") from None
        if not np.all(np.isfinite(vals)):
            raise ModelError(f"[model].covariates: '{c}' is missing in some studies; give it for every study")
        xc = float(np.mean(vals))
        centres.append(xc)
        for u in (net.others if per_treatment else (None,)):
            col = []
            for s in studies:
                x = float(s.covariates[c]) - xc
                for t in s.arms[1:]:
                    if u is None:
                        col.append(x * ((t != net.reference) - (s.arms[0] != net.reference)))
                    else:
                        col.append(x * ((t == u) - (s.arms[0] == u)))
            cols.append(col)
            names.append(f"beta[{c}]" if u is None else f"beta[{c}:{u}]")
    return np.array(cols).T.reshape(-1, len(names)), names, centres


def prior_arrays(priors: Sequence[Prior]) -> tuple[np.ndarray, np.ndarray]:
    """(b0, B0inv) from normal/flat priors (flat: zero precision)."""
    b0, prec = [], []
    for p in priors:
        if p.dist == "normal":
            b0.append(float(p.params["mu"]))
            prec.append(1.0 / float(p.params["sigma"]) ** 2)
        elif p.dist == "flat":
            b0.append(0.0)
            prec.append(0.0)
        else:
            raise ModelError(f"the exact engine needs normal or flat priors on the treatment effects; "
                             f"{p.describe()} is neither (use the mcmc engine)")
    return np.array(b0), np.diag(prec)


def build_gaussian(net: NetworkData, *, random: bool = True, tau_prior: Prior | None = None,
                   d_prior: Prior | None = None, beta_prior: Prior | None = None,
                   covariates: Sequence[str] = (), studies: Sequence[NetworkStudy] | None = None,
                   X: np.ndarray | None = None, b_names: Sequence[str] | None = None,
                   b_priors: Sequence[Prior] | None = None, per_treatment: bool = False) -> GaussianModel:
    """The GaussianModel of the consistency model (module docstring) of `net`, or of a variant
    when `studies` (rewritten rows), `X` and `b_names` / `b_priors` are given (node-split, UME)."""
    studies = list(net.studies if studies is None else studies)
    d_prior = d_prior or Prior("normal", {"mu": 0.0, "sigma": 1.0})
    if X is None:
        b_names = [f"d[{t}]" for t in net.others]
        X = design(studies, net.others, net.reference)
        b_priors = [d_prior] * len(b_names)
        if covariates:
            Xc, names, _ = covariate_columns(net, studies, covariates, per_treatment)
            X = np.hstack([X, Xc])
            b_names += names
            b_priors += [beta_prior or Prior("normal", {"mu": 0.0, "sigma": 0.5})] * len(names)
    b0, B0inv = prior_arrays(b_priors)
    y = np.concatenate([s.y for s in studies])
    n = len(y)
    labels = tuple(f"{s.name}: {t} vs {s.arms[0]}" for s in studies for t in s.arms[1:])
    if random:
        K = block_K(studies)
        Z, G, names, tp = np.eye(n), (lambda th, K=K: th[0] ** 2 * K), ("tau",), (tau_prior,)
    else:
        Z, G, names, tp = np.zeros((n, 0)), (lambda th: np.zeros((0, 0))), (), ()
    return GaussianModel(y=y, S=block_S(studies), X=np.asarray(X, float), b0=b0, B0inv=B0inv, Z=Z, G=G,
                         theta_names=names, theta_priors=tp, b_names=tuple(b_names), row_labels=labels)
