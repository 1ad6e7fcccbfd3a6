"""Model-averaged publication-bias analysis: the RoBMA-PSMA ensemble (Bartos et al. 2023,
Res Synth Methods 14:99-116) with marginal likelihoods by quadrature, no MCMC.

Models: effect absent (mu = 0) / present (mu ~ effect prior) x heterogeneity absent
(tau = 0) / present (tau ~ heterogeneity prior) x bias: none, each step weight function
(:mod:`.selection`), PET (y_i ~ N(mu + b se_i, se_i^2 + tau^2)) or PEESE (b se_i^2), the
slope b pointing to the benefit side with a half-Cauchy prior. Prior model probability:
P(effect) x P(heterogeneity) x P(bias component), RoBMA's defaults (1/2, 1/2; bias: 1/2 none,
then 1/12 per weight function and 1/4 each for PET and PEESE of the other half).

Marginal likelihoods p(y | model):
- models without selection are linear-Gaussian given tau and b. With a normal effect prior
  mu is integrated in closed form by the exact engine's conditionals
  (``bayesnet.engines.exact.conditionals``: log p(y | tau) of y - b x on an intercept) and
  tau, b by quadrature; with any other effect prior mu joins the quadrature grid. The
  quadrature is the trapezoid rule on a uniform grid of mu, log tau and log b over the box
  holding the mass, which converges geometrically for such smooth, decaying integrands.
- selection models: (mu, tau) by the same quadrature and the weights omega by randomised
  quasi-Monte Carlo importance sampling (R independently scrambled Sobol sets; proposal the
  defensive mixture of the cumulative-Dirichlet prior and a Dirichlet moment-matched to a
  pilot posterior of the weights); the Monte Carlo standard error of log p(y) comes from the spread between the R sets
  and is reported with every model, and propagated to posterior probabilities and inclusion
  Bayes factors by simulation.
Quadrature boxes are found by a coarse pass (where the log integrand is within 30 of its
maximum), twice, and nodes are spaced by the coarse posterior sd; faces that still carry
mass are pushed out. The tests check the grid
route against the closed-form route (normal effect prior) and the selection route against
direct 3-D quadrature.

Posterior model probabilities p_m = pi_m p(y|m) / sum; inclusion Bayes factors for effect,
heterogeneity and bias = posterior odds / prior odds of the models with vs without the
component; the model-averaged mean log-HR is a mixture of each model's posterior of mu and
a point mass at 0 (the effect-absent models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..engines.exact import conditionals
from ..errors import ModelError
from ..models import ModelData
from ..priors import Prior
from .config import PublicationBiasConfig, parse_publication_bias
from .selection import WeightFunction, log_lik_studies, sign_of

__all__ = ["EnsembleModel", "ensemble_models", "fit_ensemble", "log_marginal_likelihood"]

_LOG2PI = math.log(2.0 * math.pi)
N_COARSE = 41
DROP = 30.0  # the box keeps the region within exp(-30) of the integrand's maximum
NODES_PER_SD = 2.0
N_MIN, N_MAX, N_MAX_SEL = 25, 241, 81
NODES_PER_SD_SEL, N_MIN_SEL = 1.25, 15  # selection models: each node costs N_QMC weight points
N_QMC = {0: 8192, 1: 1024, 2: 256}  # weight points per randomised set, by grid dimension
N_SETS = 4   # independent scrambled Sobol sets (for the Monte Carlo error)
MAX_ZOOM, ZOOM_SHRINK = 12, 10.0  # box passes after the first; another while a box shrinks > 10-fold


@dataclass(frozen=True)
class EnsembleModel:
    effect: bool
    heterogeneity: bool
    bias: str  # "none", "pet", "peese", "selection"
    wf: WeightFunction | None
    prior_prob: float

    @property
    def label(self) -> str:
        b = self.wf.label if self.bias == "selection" else self.bias
        return f"effect {'present' if self.effect else 'absent'}, heterogeneity {'present' if self.heterogeneity else 'absent'}, bias: {b}"


def ensemble_models(cfg: PublicationBiasConfig, include_bias: bool = True) -> list[EnsembleModel]:
    """The ensemble's models and their prior probabilities (sum 1)."""
    comps: list[tuple[str, WeightFunction | None, float]] = []
    if include_bias:
        if cfg.ensemble in ("psma", "sm"):
            comps += [("selection", w, w.prior_weight) for w in cfg.weightfunctions]
        if cfg.ensemble in ("psma", "pp"):
            comps += [("pet", None, 0.25), ("peese", None, 0.25)]
        tot = sum(c[2] for c in comps)
        pb = cfg.prior_prob["bias"]
        comps = [("none", None, 1.0 - pb)] + [(b, w, pb * pw / tot) for b, w, pw in comps]
    else:
        comps = [("none", None, 1.0)]
    pe, ph = cfg.prior_prob["effect"], cfg.prior_prob["heterogeneity"]
    out = []
    for eff in (False, True):
        for het in (False, True):
            for b, w, pw in comps:
                out.append(EnsembleModel(eff, het, b, w, (pe if eff else 1 - pe) * (ph if het else 1 - ph) * pw))
    return out


# ----------------------------------------------------------------------------- quadrature
@dataclass
class _Dim:
    """A quadrature dimension: a real parameter (mu) or a positive one integrated over its log
    (tau, b: `log` = True), with the initial range on the integration scale."""

    name: str
    lo: float
    hi: float
    log: bool = False


def _natural(dims, mesh):
    """Integration-scale mesh -> natural parameters and the log Jacobian."""
    nat, jac = [], 0.0
    for d, m in zip(dims, mesh):
        nat.append(np.exp(m) if d.log else m)
        jac = jac + (m if d.log else 0.0)
    return nat, jac


def _box(logf, dims: list[_Dim], drop: float = DROP) -> tuple[list[tuple[float, float]], np.ndarray]:
    """Coarse pass on the integration scale: the box where the log integrand is within `drop`
    of its maximum (ranges whose edge still carries mass are widened), and per dimension the
    posterior sd on that scale (for the node spacing)."""
    lo = [d.lo for d in dims]
    hi = [d.hi for d in dims]
    for _ in range(40):
        grids = [np.linspace(a, b, N_COARSE) for a, b in zip(lo, hi)]
        mesh = np.meshgrid(*grids, indexing="ij")
        nat, jac = _natural(dims, mesh)
        lv = logf(*nat) + jac
        lv = np.where(np.isfinite(lv), lv, -np.inf)
        top = lv.max()
        if not np.isfinite(top):
            raise ModelError("the marginal likelihood is zero on the whole parameter grid (check the data)")
        again, box, sds = False, [], []
        for a in range(len(dims)):
            prof = np.moveaxis(lv, a, 0).reshape(N_COARSE, -1).max(1)
            idx = np.nonzero(prof >= top - drop)[0]
            i0, i1 = idx[0], idx[-1]
            width = hi[a] - lo[a]
            if i0 == 0:
                lo[a] -= width
                again = True
            if i1 == N_COARSE - 1:
                hi[a] += width
                again = True
            g = grids[a]
            box.append((g[max(i0 - 1, 0)], g[min(i1 + 1, N_COARSE - 1)]))
            m = np.exp(logsumexp(np.moveaxis(lv, a, 0).reshape(N_COARSE, -1), axis=1) - top)
            m = m / m.sum()
            mean = float(m @ g)
            sds.append(max(float(np.sqrt(m @ (g - mean) ** 2)), (g[1] - g[0]) / 2))
        if not again:
            return box, np.array(sds)
        if max(hi[a] - lo[a] for a in range(len(dims))) > 1e4:
            break
    raise ModelError("the marginal likelihood does not decay on the parameter grid (improper posterior?)")


def _fine(logf, dims: list[_Dim], n_max: int | None = None, per_sd: float | None = None, n_min: int | None = None):
    """Trapezoid rule on a uniform grid of the integration scale (log for positive
    parameters), over the box of :func:`_box` found twice (the second time inside the first,
    so that narrow peaks are resolved), with nodes every sd / NODES_PER_SD. For smooth
    integrands decaying at both ends the trapezoid rule converges geometrically (Trefethen &
    Weideman 2014, SIAM Review 56:385-458). A box that shrinks more than ZOOM_SHRINK-fold
    in a pass is searched again inside itself (up to MAX_ZOOM passes), so that a peak far
    narrower than the first coarse spacing (a study with se = 2e-6 pins mu) is resolved
    rather than weighted by one node. Returns the natural-scale grids, mesh and log
    weights (trapezoid weight x Jacobian)."""
    n_max = n_max or N_MAX
    box, _ = _box(logf, dims)
    for _ in range(MAX_ZOOM):
        dims2 = [_Dim(d.name, lo, hi, d.log) for d, (lo, hi) in zip(dims, box)]
        box2, sds = _box(logf, dims2)
        # a peak far narrower than the coarse spacing (one very precise study pins mu): zoom
        # in again until the box stops shrinking more than ZOOM_SHRINK-fold per pass
        shrunk = any((b1 - a1) > ZOOM_SHRINK * (b2 - a2) for (a1, b1), (a2, b2) in zip(box, box2))
        box = box2
        if not shrunk:
            break
    grids_u, ws = [], []
    for (lo, hi), sd in zip(box, sds):
        n = int(np.clip(np.ceil((hi - lo) / sd * (per_sd or NODES_PER_SD)), n_min or N_MIN, n_max))
        g = np.linspace(lo, hi, n)
        grids_u.append(g)
        ws.append(_trapezoid_weights(g))
    mesh_u = np.meshgrid(*grids_u, indexing="ij")
    mesh, jac = _natural(dims, mesh_u)
    nd = len(dims)
    lw = sum(np.log(w).reshape([-1 if i == a else 1 for i in range(nd)]) for a, w in enumerate(ws)) + jac
    grids = [np.exp(g) if d.log else g for d, g in zip(dims, grids_u)]
    return grids, mesh, lw


def _trapezoid_weights(x: np.ndarray) -> np.ndarray:
    w = np.empty_like(x)
    w[1:-1] = (x[2:] - x[:-2]) / 2.0
    w[0], w[-1] = (x[1] - x[0]) / 2.0, (x[-1] - x[-2]) / 2.0
    return w


# ----------------------------------------------------------------------------- models
def _normal_loglik(y, s, mu, tau, shift):
    """sum_i log N(y_i - shift_i; mu, s_i^2 + tau^2), broadcasting parameter arrays (...)."""
    v = s**2 + np.asarray(tau)[..., None] ** 2
    r = y - np.asarray(mu)[..., None] - shift
    return -0.5 * (np.log(v) + r * r / v + _LOG2PI).sum(-1)


def _log_ml_mu_closed_form(y, s, mu_prior: Prior, tau, shifts):
    """log p(y | tau, b) with mu ~ N(m, v) integrated out (exact engine conditionals): arrays
    tau (T,), shifts (B, k) -> (B, T)."""
    m0 = np.array([mu_prior.params["mu"]])
    vinv = np.array([1.0 / mu_prior.params["sigma"] ** 2])
    k = len(y)
    X = np.ones((k, 1))
    out = np.empty((len(shifts), len(tau)))
    for i, sh in enumerate(shifts):
        md = ModelData(studies=[""] * k, y=y - sh, s=s, X=X, coef_names=["mu"], covariates={}, reference={})
        _, _, ll = conditionals(md, m0, vinv, np.asarray(tau, float))
        out[i] = ll - 0.5 * k * _LOG2PI + 0.5 * math.log(vinv[0])
    return out


def _mu_range(y, s, prior: Prior) -> tuple[float, float]:
    """The initial quadrature range of mu: where the likelihood lives (+-(max |y| + 3 max
    se)), intersected with where the prior lives when it is narrower (a normal's centre +-
    10 sd, a Student-t's 1e-12 tail quantiles, a uniform's bounds; for an empty intersection, the prior's). A
    prior much narrower than the likelihood (e.g. N(0, 1e-6^2)) would otherwise be a spike
    between the grid's nodes and the trapezoid rule would misjudge its mass (an effect
    Bayes factor of 175 where about 1 is right); `_box` widens a range whose edge still
    carries mass."""
    half = float(np.max(np.abs(y)) + 3 * np.max(s))
    lo, hi = -half, half
    p = prior.params
    if prior.dist in ("normal", "student_t"):
        from scipy.special import stdtrit

        # +-10 sd of a normal; the 1e-12 tail quantiles of a Student-t (heavy tails kept)
        z = 10.0 if prior.dist == "normal" else float(stdtrit(float(p["nu"]), 1.0 - 1e-12))
        c, w = float(p.get("mu", 0.0)), z * float(p["sigma"])
        plo, phi = c - w, c + w
    elif prior.dist == "uniform":
        plo, phi = float(p["lower"]), float(p["upper"])
    else:
        return lo, hi
    a, b = max(lo, plo), min(hi, phi)
    return (a, b) if a < b else (plo, phi)


def log_marginal_likelihood(y, s, model: EnsembleModel, cfg: PublicationBiasConfig, seed: int = 1,
                            closed_form: bool | None = None, n_sets: int = N_SETS, n_qmc: int | None = None) -> dict:
    """log p(y | model) with its Monte Carlo standard error (0 for models without selection)
    and the model's posterior of mu on a grid (None when mu = 0). y, s: log-HRs and ses.
    `closed_form` (default: when the effect prior is normal) integrates mu analytically."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    sg = sign_of(cfg.direction)
    x_bias = s if model.bias == "pet" else s**2 if model.bias == "peese" else None
    bprior = cfg.pet if model.bias == "pet" else cfg.peese
    dims: list[_Dim] = []
    if closed_form is None:
        closed_form = cfg.effect.dist == "normal"
    closed_form = closed_form and model.effect and model.bias != "selection"
    if model.effect and not closed_form:
        dims.append(_Dim("mu", *_mu_range(y, s, cfg.effect)))
    if model.heterogeneity:
        sc = float(max(np.std(y), np.median(s), 0.05))
        dims.append(_Dim("tau", math.log(sc) - 4.0, math.log(sc) + 1.0, log=True))
    if x_bias is not None:
        # the slope's scale: spread of y over spread of se (or se^2); with every se equal, over
        # its level (the slope is then a constant shift, confounded with mu, held by its prior)
        spread = float(np.std(x_bias))
        spread = spread if spread > 1e-9 * float(np.mean(x_bias)) else float(np.mean(x_bias))
        sc = float(max(np.std(y), 0.05) / spread + 0.1)
        dims.append(_Dim("b", math.log(sc) - 4.0, math.log(sc) + 1.0, log=True))
    names = [d.name for d in dims]

    def params(mesh):
        p = dict(zip(names, mesh))
        shape = mesh[0].shape if mesh else ()
        mu = p.get("mu", np.zeros(shape))
        tau = p.get("tau", np.zeros(shape))
        b = p.get("b", np.zeros(shape))
        lp = np.zeros(shape)
        if "mu" in p:
            lp = lp + cfg.effect.logpdf(mu)
        if "tau" in p:
            lp = lp + cfg.heterogeneity.logpdf(tau)
        if "b" in p:
            lp = lp + bprior.logpdf(b)
        return mu, tau, b, lp

    info = {"dims": names, "method": "", "mc_se": 0.0}
    if model.bias != "selection":
        def logf(*mesh):
            mu, tau, b, lp = params(list(mesh))
            if closed_form:
                # mu analytic: evaluate on the (tau, b) mesh through the exact engine's conditionals
                tau_a = np.atleast_1d(tau)
                bflat = np.atleast_1d(b).ravel()
                tflat = tau_a.ravel()
                out = np.empty(tflat.shape)
                # group by b (the shift) to reuse the conditionals over tau
                ub, inv = np.unique(bflat, return_inverse=True)
                shifts = (sg * ub[:, None] * x_bias[None, :]) if x_bias is not None else np.zeros((1, len(y)))
                for j in range(len(ub)):
                    sel = inv == j
                    out[sel] = _log_ml_mu_closed_form(y, s, cfg.effect, tflat[sel], shifts[j:j + 1])[0]
                return out.reshape(np.shape(tau)) + lp
            shift = sg * np.asarray(b)[..., None] * x_bias if x_bias is not None else 0.0
            return _normal_loglik(y, s, mu, tau, shift) + lp

        info["method"] = ("closed form in mu (exact engine), " if closed_form else "") + \
            (f"Simpson quadrature over {', '.join(names)}" if names else "closed form")
        if not dims:
            lv0 = np.asarray(logf(), float)
            mu_post = ("closed", lv0.reshape(1), [], names) if closed_form else None
            return {"log_ml": float(lv0), "mc_se": 0.0, "mu_post": _mu_density(mu_post, y, s, cfg, sg, x_bias), **info}
        grids, mesh, lw = _fine(logf, dims)
        lv = logf(*mesh) + lw
        log_ml = float(logsumexp(lv))
        mu_post = None
        if "mu" in names:
            a = names.index("mu")
            marg = np.exp(logsumexp(np.moveaxis(lv, a, 0).reshape(len(grids[a]), -1), axis=1) - log_ml)
            mu_post = ("grid", grids[a], marg / _trapezoid_weights(grids[a]))
        elif closed_form:
            mu_post = ("closed", lv, mesh, names)
        return {"log_ml": log_ml, "mc_se": 0.0, "mu_post": _mu_density(mu_post, y, s, cfg, sg, x_bias), **info}

    # ---------------------------------------------------------------- selection models
    from scipy.stats import qmc

    wf = model.wf
    J = wf.n_intervals

    alpha_prior = np.asarray(wf.alpha)

    def sobol(n, rseed):
        return np.clip(qmc.Sobol(d=J, scramble=True, seed=rseed).random(n), 1e-12, 1 - 1e-12)

    def loglik_matrix(om, mu, tau):
        """sum_i log f(y_i | mu_g, tau_g, omega_w): (G, W)."""
        out = np.empty((len(mu), len(om)))
        for c in range(0, len(om), 64):
            ow = om[c:c + 64]
            out[:, c:c + 64] = log_lik_studies(y, s, mu[:, None], tau[:, None], ow[None, :, :], wf,
                                               cfg.direction).sum(-1)
        return out

    def make_logf(om, logiw):
        def logf(*mesh):
            mu, tau, _, lp = params(list(mesh))
            mu, tau = np.atleast_1d(mu), np.atleast_1d(tau)
            shape = np.broadcast(mu, tau).shape
            mu, tau = np.broadcast_to(mu, shape).ravel(), np.broadcast_to(tau, shape).ravel()
            acc = logsumexp(loglik_matrix(om, mu, tau) + logiw[None, :], axis=1)
            return (acc - math.log(len(om))).reshape(shape) + lp
        return logf

    n_qmc = n_qmc or N_QMC[len(dims)]
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**31 - 1, size=n_sets + 1)
    om0 = wf.omega_from_uniform(sobol(256, int(seeds[-1])))
    if dims:
        grids, mesh, lw = _fine(make_logf(om0[:64], np.zeros(64)), dims, N_MAX_SEL, NODES_PER_SD_SEL, N_MIN_SEL)
        mu_g, tau_g, _, lp_g = params(list(mesh))
        flat = (np.broadcast_to(mu_g, mesh[0].shape).ravel(), np.broadcast_to(tau_g, mesh[0].shape).ravel())
        base = (lp_g + lw).ravel()
    else:
        flat, base = (np.zeros(1), np.zeros(1)), np.zeros(1)
    # pilot: posterior of the Dirichlet increments eta on prior points -> a moment-matched
    # Dirichlet; the proposal is the defensive mixture 1/2 prior + 1/2 fitted (Hesterberg 1995)
    lm_w = logsumexp(loglik_matrix(om0, *flat) + base[:, None], axis=0)
    pw = np.exp(lm_w - lm_w.max())
    pw /= pw.sum()
    eta0 = np.diff(np.concatenate([np.zeros((len(om0), 1)), om0], 1), axis=1)
    m = pw @ eta0
    v = pw @ (eta0 - m) ** 2
    a0 = float(np.clip(np.mean(m * (1 - m) / np.maximum(v, 1e-12)) - 1.0, J, 1e4))
    alpha_fit = np.maximum(a0 * m, 0.05)

    def logdir(eta, alpha):
        from scipy.special import gammaln

        le = np.log(np.maximum(eta, 1e-300))
        return gammaln(alpha.sum()) - gammaln(alpha).sum() + np.where(alpha == 1.0, 0.0, (alpha - 1.0) * le).sum(-1)

    logmls, mu_dens = [], []
    for r in range(n_sets):
        u = sobol(n_qmc, int(seeds[r]))
        half = n_qmc // 2
        om = np.concatenate([wf.omega_from_uniform(u[:half]), wf.omega_from_uniform(u[half:], alpha_fit)])
        eta = np.diff(np.concatenate([np.zeros((len(om), 1)), om], 1), axis=1)
        lp_eta = logdir(eta, alpha_prior)
        logiw = lp_eta - np.logaddexp(math.log(0.5) + lp_eta, math.log(0.5) + logdir(eta, alpha_fit))
        logf = make_logf(om, logiw)
        if not dims:
            logmls.append(float(np.asarray(logf()).reshape(-1)[0]))
            continue
        lv = logf(*mesh) + lw
        lm = float(logsumexp(lv))
        logmls.append(lm)
        if "mu" in names:
            a = names.index("mu")
            mu_dens.append(logsumexp(np.moveaxis(lv, a, 0).reshape(len(grids[a]), -1), axis=1))
    logmls = np.array(logmls)
    log_ml = float(logsumexp(logmls) - math.log(n_sets))
    rel = np.exp(logmls - log_ml)
    mc_se = float(rel.std(ddof=1) / math.sqrt(n_sets)) if n_sets > 1 else float("nan")
    info["method"] = (f"trapezoid quadrature over {', '.join(names) or 'nothing'}; weights by randomised QMC "
                      f"importance sampling ({n_sets} x {n_qmc} scrambled Sobol points, half from the cumulative "
                      f"Dirichlet prior, half from a Dirichlet fitted to a pilot posterior)")
    mu_post = None
    if mu_dens:
        a = names.index("mu")
        tot = np.exp(logsumexp(np.array(mu_dens), axis=0) - math.log(n_sets) - log_ml)  # mixture of the sets
        mu_post = ("grid", grids[a], tot / _trapezoid_weights(grids[a]))
    info["mc_se"] = mc_se
    return {**info, "log_ml": log_ml, "mu_post": _mu_density(mu_post, y, s, cfg, sg, None)}


def _mu_density(mu_post, y, s, cfg, sg, x_bias):
    """The model's posterior of mu as (grid, density), or None (mu = 0)."""
    if mu_post is None:
        return None
    if mu_post[0] == "grid":
        _, g, unnorm = mu_post
        dens = np.maximum(unnorm, 0.0)
        return g, dens / np.trapezoid(dens, g)
    # closed form: mixture of normals N(b(tau, b), P^-1) weighted by the quadrature mass
    _, lv, mesh, names = mu_post
    w = np.exp(lv - logsumexp(lv)).ravel()
    p = dict(zip(names, [m.ravel() for m in mesh]))
    tau = p.get("tau", np.zeros_like(w))
    b = p.get("b", np.zeros_like(w))
    m0, v0 = cfg.effect.params["mu"], cfg.effect.params["sigma"] ** 2
    shift = sg * b[:, None] * x_bias[None, :] if x_bias is not None else 0.0
    W = 1.0 / (s**2 + tau[:, None] ** 2)
    prec = W.sum(1) + 1.0 / v0
    mean = ((W * (y - shift)).sum(1) + m0 / v0) / prec
    sd = 1.0 / np.sqrt(prec)
    keep = w > 1e-14 * w.max()
    mean, sd, w = mean[keep], sd[keep], w[keep] / w[keep].sum()
    lo, hi = float((mean - 8 * sd).min()), float((mean + 8 * sd).max())
    g = np.linspace(lo, hi, 801)
    dens = (w[:, None] * np.exp(-0.5 * ((g[None, :] - mean[:, None]) / sd[:, None]) ** 2)
            / (sd[:, None] * math.sqrt(2 * math.pi))).sum(0)
    return g, dens / np.trapezoid(dens, g)


# ----------------------------------------------------------------------------- ensemble
def _averaged_mu(results, probs, thresholds):
    """Model-averaged posterior of mu (point mass at 0 from effect-absent models)."""
    grids = [r["mu_post"][0] for r in results if r["mu_post"] is not None]
    lo = min([g[0] for g in grids] + [-1e-9])
    hi = max([g[-1] for g in grids] + [1e-9])
    g = np.union1d(np.linspace(lo, hi, 4001), [0.0])
    cdf = np.zeros_like(g)
    for r, p in zip(results, probs):
        if r["mu_post"] is None:
            cdf += p * (g >= 0.0)
        else:
            gg, d = r["mu_post"]
            c = np.concatenate([[0.0], np.cumsum(np.diff(gg) * (d[1:] + d[:-1]) / 2)])
            cdf += p * np.interp(g, gg, c / c[-1], left=0.0, right=1.0)
    cdf = np.maximum.accumulate(np.clip(cdf / max(cdf[-1], 1e-300), 0, 1))

    def q(pr):
        i = int(np.searchsorted(cdf, pr))
        return float(g[min(i, len(g) - 1)])

    mean = float(sum(p * (0.0 if r["mu_post"] is None else np.trapezoid(r["mu_post"][0] * r["mu_post"][1], r["mu_post"][0]))
                     for r, p in zip(results, probs)))

    def prob_below(x):
        """P(mu < x): the point mass at 0 counts only when 0 < x."""
        tot = 0.0
        for r, p in zip(results, probs):
            if r["mu_post"] is None:
                tot += p * float(0.0 < x)
            else:
                gg, d = r["mu_post"]
                c = np.concatenate([[0.0], np.cumsum(np.diff(gg) * (d[1:] + d[:-1]) / 2)])
                tot += p * float(np.interp(x, gg, c / c[-1], left=0.0, right=1.0))
        return tot / float(np.sum(probs))

    ci, med = [q(0.025), q(0.975)], q(0.5)
    return {"log_hr": {"mean": mean, "median": med, "ci": ci},
            "hr": {"median": math.exp(med), "ci": [math.exp(c) for c in ci]},
            "prob_hr_below": {f"{t:g}": float(prob_below(math.log(t))) for t in thresholds}}


def _inclusion(models, post, prior, attr):
    inc = np.array([attr(m) for m in models])
    pi_in, pi_out = prior[inc].sum(), prior[~inc].sum()
    po_in, po_out = post[..., inc].sum(-1), post[..., ~inc].sum(-1)
    with np.errstate(divide="ignore"):
        bf = (po_in / po_out) / (pi_in / pi_out)
    return po_in, bf


def fit_ensemble(y, s, cfg: PublicationBiasConfig | dict | None = None, thresholds=(1.0,), seed: int = 20261123,
                 n_mc: int = 2000) -> dict:
    """Fit the whole ensemble: per model its prior and posterior probability and log marginal
    likelihood (with Monte Carlo se), inclusion probabilities and Bayes factors for effect,
    heterogeneity and bias (with Monte Carlo se of log BF), the model-averaged mean HR and
    P(HR < t), also conditional on the effect being present, and the same averages without
    the bias components (how far the answer depends on them). Studies: k."""
    if not isinstance(cfg, PublicationBiasConfig):
        cfg = parse_publication_bias(cfg)
    y, s = np.asarray(y, float), np.asarray(s, float)
    k = len(y)
    if k < 2 or y.shape != s.shape or not (np.all(np.isfinite(y)) and np.all(s > 0)):
        raise ModelError(f"the publication-bias ensemble needs at least 2 studies with finite log-HRs and se > 0 (got {k})")
    models = ensemble_models(cfg)
    res = [log_marginal_likelihood(y, s, m, cfg, seed=seed + i) for i, m in enumerate(models)]
    prior = np.array([m.prior_prob for m in models])
    lml = np.array([r["log_ml"] for r in res])
    se = np.array([r["mc_se"] for r in res])

    def posterior(lm):
        lp = np.log(prior) + lm
        return np.exp(lp - logsumexp(lp, axis=-1, keepdims=True))

    post = posterior(lml)
    sims = posterior(lml + np.random.default_rng(seed).normal(size=(n_mc, len(models))) * se)
    comps = {"effect": lambda m: m.effect, "heterogeneity": lambda m: m.heterogeneity, "bias": lambda m: m.bias != "none"}
    incl_p, incl_bf, incl_bf_se = {}, {}, {}
    for name, f in comps.items():
        p, bf = _inclusion(models, post, prior, f)
        _, bfs = _inclusion(models, sims, prior, f)
        incl_p[name], incl_bf[name] = float(p), float(bf)
        incl_bf_se[name] = float(np.std(np.log(bfs))) if np.all(np.isfinite(np.log(bfs))) else float("nan")
    pooled = _averaged_mu(res, post, thresholds)
    eff = np.array([m.effect for m in models])
    cond = _averaged_mu([r for r, e in zip(res, eff) if e], post[eff] / post[eff].sum(), thresholds)
    nb = np.array([m.bias == "none" for m in models])
    prior_nb = prior[nb] / prior[nb].sum()
    lp_nb = np.log(prior_nb) + lml[nb]
    post_nb = np.exp(lp_nb - logsumexp(lp_nb))
    without = _averaged_mu([r for r, b in zip(res, nb) if b], post_nb, thresholds)
    p_eff_nb = float(post_nb[[m.effect for m in np.array(models)[nb]]].sum())
    out = {
        "k": k,
        "direction": cfg.direction,
        "models": [{"label": m.label, "effect": m.effect, "heterogeneity": m.heterogeneity, "bias": m.bias,
                    "weightfunction": m.wf.label if m.wf else None, "prior_prob": float(pi),
                    "post_prob": float(pp), "post_prob_mc_sd": float(sims[:, i].std()),
                    "log_ml": float(r["log_ml"]), "log_ml_mc_se": float(r["mc_se"]), "method": r["method"]}
                   for i, (m, pi, pp, r) in enumerate(zip(models, prior, post, res))],
        "inclusion_prob": incl_p,
        "inclusion_bf": incl_bf,
        "inclusion_log_bf_mc_sd": incl_bf_se,
        "pooled": {"log_hr": pooled["log_hr"], "hr": pooled["hr"]},
        "prob": pooled["prob_hr_below"],
        "pooled_conditional": cond,
        "without_bias_components": {"pooled": {"log_hr": without["log_hr"], "hr": without["hr"]},
                                    "prob": without["prob_hr_below"], "inclusion_prob_effect": p_eff_nb},
        "priors": cfg.to_dict(),
    }
    if k < 10:
        out["caveat"] = (f"With {k} studies, publication bias cannot be assessed reliably: the bias components "
                         f"are decided mostly by their priors. Compare the estimate with and without them.")
    return out
