"""Contrast rows (one log-HR per study) as a `GaussianModel`: the NNHM / meta-regression
of `bayesnet.engines.exact` and its by-design and common bias terms.

    y_i ~ N(delta_i^mean + x_i' beta + c_i + u_i, s_i^2 + delta_i^var)
    u_i ~ N(0, tau^2)                      (fixed effect: no u)
    c_i = delta_common ~ N(m_c, v_c)       one shared column of X when [bias] common is given

The reported y is never edited: the per-study bias mean is the offset, its variance a term
of S, the common bias a coefficient with a normal prior ("bias_common", a constant offset
when its variance is 0).
"""

from __future__ import annotations

import numpy as np

from .gaussian import GaussianModel

__all__ = ["from_model_data"]


def from_model_data(md, bias: bool = True) -> GaussianModel:
    """The GaussianModel of a `bayesnet.models.ModelData` (priors resolved; normal or flat
    coefficient priors). `bias=False` gives the same model without the [bias] terms (the
    evidence as reported)."""
    m0, sd0 = md.prior_moments()
    prec = np.where(np.isfinite(sd0), 1.0 / np.where(np.isfinite(sd0), sd0, 1.0) ** 2, 0.0)
    b0 = np.where(np.isfinite(sd0), m0, 0.0)
    X, names = np.asarray(md.X, float), tuple(md.coef_names)
    k = len(md.y)
    S = np.diag(np.asarray(md.s, float) ** 2)
    offset = None
    if bias and md.bias_mean is not None:
        offset = np.asarray(md.bias_mean, float).copy()
        S = S + np.diag(np.asarray(md.bias_var, float))
    if bias and md.bias_common is not None:
        mu_c, sd_c = float(md.bias_common.mu), float(md.bias_common.sigma)
        if sd_c > 0:
            X = np.column_stack([X, np.ones(k)])
            names = names + ("bias_common",)
            b0 = np.append(b0, mu_c)
            prec = np.append(prec, 1.0 / sd_c**2)
        else:
            offset = (offset if offset is not None else np.zeros(k)) + mu_c
    if md.random:
        Z = np.eye(k)
        G = lambda th: np.eye(k) * th[0] ** 2  # noqa: E731
        G_diag = lambda ths: np.repeat(np.asarray(ths, float)[:, :1] ** 2, k, axis=1)  # noqa: E731
        theta_names, theta_priors = ("tau",), (md.tau_prior,)
    else:
        Z = np.zeros((k, 0))
        G = lambda th: np.zeros((0, 0))  # noqa: E731
        G_diag = None
        theta_names, theta_priors = (), ()
    return GaussianModel(y=np.asarray(md.y, float), S=S, X=X, b0=b0, B0inv=np.diag(prec), Z=Z, G=G,
                         theta_names=theta_names, theta_priors=theta_priors, b_names=names, offset=offset,
                         row_labels=tuple(md.studies), G_diag=G_diag)
