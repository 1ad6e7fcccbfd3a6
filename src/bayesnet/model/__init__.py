"""Model builders and the linear-Gaussian core every exact analysis uses
(`bayesnet.model.gaussian`). Below the engines: never imports PyMC, posterior, report or CLI."""

from .gaussian import (
                       GaussianModel,
                       ThetaGrid,
                       conditional,
                       conditional_random,
                       conditionals,
                       integrate_theta,
                       linear_mixture,
                       log_marginal,
                       log_posterior_theta,
                       random_mixtures,
)

__all__ = ["GaussianModel", "ThetaGrid", "conditional", "conditional_random", "conditionals", "integrate_theta",
           "linear_mixture", "log_marginal", "log_posterior_theta", "random_mixtures"]
