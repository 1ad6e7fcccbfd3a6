"""Fit a network meta-analysis: `fit_network` -> `NetworkPosterior`.

The posterior answers every question about contrasts the same way whichever engine made it:
``post.contrast("E", "A")`` is the marginal of the log-HR of E versus A (``.on("hr")`` for the
HR), ``post.contrast("E", "A", predictive=True)`` that of a new study's E-vs-A effect (adds
tau^2), ``post.tau`` the between-study SD, ``post.rank_draws()`` draws of every d (for
rankings). Exact engine: mixtures of normals over tau (`bayesnet.network.exact`); MCMC
engine: draws (`bayesnet.network.mcmc`).
"""

from __future__ import annotations

from ..errors import ModelError
from .data import NetworkData
from .model import build_gaussian
from .posterior import NetworkPosterior
from .spec import NetworkSpec

__all__ = ["NetworkPosterior", "fit_network", "network_gaussian"]


def network_gaussian(net: NetworkData, spec=None, random: bool | None = None, covariates=None,
                     placeholder_priors: bool = False):
    """The consistency model's GaussianModel with the spec's priors and settings
    (`placeholder_priors`: flat d and beta in the GaussianModel, for the MCMC engine, which
    takes any prior family from the spec itself)."""
    from ..priors import Prior
    from ..spec import Spec

    spec = spec if spec is not None else Spec()
    if placeholder_priors:
        import dataclasses

        flat = Prior("flat", {})
        spec = dataclasses.replace(spec, priors=dataclasses.replace(spec.priors, mu=flat, beta=flat))
    random = spec.model.random if random is None else random
    covs = tuple(spec.model.covariates) if covariates is None else tuple(covariates)
    per = (getattr(spec, "network", None) or NetworkSpec()).interactions == "per_treatment"
    return build_gaussian(net, random=random, tau_prior=spec.priors.tau, d_prior=spec.priors.mu,
                          beta_prior=spec.priors.beta, covariates=covs, per_treatment=per)


def study_sizes(studies) -> list[int]:
    return [s.n_arms - 1 for s in studies]


def fit_network(net: NetworkData, spec=None, engine: str = "exact", seed: int | None = None,
                nspec: NetworkSpec | None = None, progress: bool = False) -> NetworkPosterior:
    """Fit the consistency model of `net` (priors from the spec: d ~ [priors] mu, tau ~
    [priors] tau, meta-regression coefficients ~ [priors] beta).

    engine: "exact" (quadrature over tau; normal or flat priors on d) or "mcmc" (PyMC, the
    same model). `seed` seeds the MCMC draws and the ranking draws of the exact engine
    (default the spec's [mcmc] seed)."""
    from ..spec import Spec

    spec = spec if spec is not None else Spec()
    nspec = nspec or getattr(spec, "network", None) or NetworkSpec()
    if nspec.reference and nspec.reference != net.reference:
        net = net.with_reference(nspec.reference)
    seed = spec.mcmc.seed if seed is None else seed
    if getattr(spec, "bias", None) is not None:
        raise ModelError("[bias]: bias adjustment is not available for a network meta-analysis yet; remove the "
                         "[bias] section (the network's estimates then assume unbiased studies, as the report says)")
    if spec.model.heterogeneity != "shared" or spec.model.population:
        raise ModelError("[model]: a network meta-analysis has one shared tau; remove heterogeneity = \"by:...\" "
                         "and population")
    if spec.model.random_dist != "normal":
        raise ModelError("[model].random_dist: a network meta-analysis has normal random effects here; "
                         "remove random_dist (or set it to \"normal\")")
    gm = network_gaussian(net, spec, placeholder_priors=engine == "mcmc")
    if engine == "mcmc":
        from .mcmc import fit_network_mcmc

        return fit_network_mcmc(net, gm, spec, nspec, seed=seed, progress=progress)
    if engine not in ("exact", "auto"):
        raise ModelError(f"engine must be exact, mcmc or auto, got {engine!r}")
    from .exact import fit_components

    comp = fit_components(gm, study_sizes(net.studies))
    return NetworkPosterior("exact", net, gm, net.others, spec, nspec, comp=comp, seed=seed,
                            diagnostics={"passed": True, "method": "quadrature over tau",
                                         "mixture_components": len(comp["weights"])})
