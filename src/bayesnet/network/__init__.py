"""Network meta-analysis of hazard ratios on the Gaussian core (`bayesnet.model`).

    net = read_network("trials.csv")                 # contrast rows with a `treatment` column
    post = fit_network(net, spec)                    # exact (quadrature over tau) or engine="mcmc"
    post.contrast("E", "A").on("hr").median()        # HR of E versus A
    network_summary(post)                            # the summary.json `network` block

Modules: data (reading, validation), model (the GaussianModel), exact (the quadrature
engine), mcmc (PyMC), fit (NetworkPosterior), inconsistency (node-splitting, UME),
summary (summary block, tidy tables, league table, xarray), plots, report.
"""

from .data import NetworkData, NetworkStudy, is_network_table, read_network
from .fit import NetworkPosterior, fit_network
from .spec import NetworkSpec, parse_network
from .summary import contrasts_table, league_table, network_summary, rankings, to_xarray

__all__ = ["NetworkData", "NetworkPosterior", "NetworkSpec", "NetworkStudy", "contrasts_table", "fit_network",
           "is_network_table", "league_table", "network_summary", "parse_network", "rankings", "read_network",
           "to_xarray"]
