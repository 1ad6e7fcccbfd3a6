"""Helpers shared by test folders."""

import numpy as np
import pandas as pd

from bayesnet.api import load_spec
from bayesnet.engines.exact import fit_exact
from bayesnet.evidence import derive
from bayesnet.models import build_model_data
from bayesnet.spec import spec_from_dict

# Seven observational studies (log-HR, se, design) for the bias and absolute-effect tests.
Y = np.array([-0.92, -0.69, -0.46, -0.78, -1.17, -0.36, -1.03])
S = np.array([0.10, 0.21, 0.11, 0.07, 0.23, 0.28, 0.31])
DESIGN = ["registry", "series", "registry", "registry", "series", "series", "registry"]


def fit_arrays(y, se, priors=None, model=None, **cols):
    """Exact fit of effects y with standard errors se, the [priors] and [model] spec
    sections given as dicts (defaults when None), extra columns as keyword lists (``study``
    names the rows, else s0, s1, ...). The published examples are not all log-HRs (eight
    schools: test scores), so the HR plausibility bounds are off here."""
    ev = derive(pd.DataFrame({"study": [f"s{i}" for i in range(len(y))] if "study" not in cols else cols.pop("study"),
                              "log_hr": y, "se": se, **cols}), plausible_range=False)
    spec = spec_from_dict({"priors": priors or {}, "model": model or {}})
    return fit_exact(build_model_data(ev, spec), spec, ev)


def setup(y=Y, s=S, priors=None, model=None, design=DESIGN):
    """(model data, spec, evidence) for effects y with standard errors s and a ``design``
    column, the [priors] and [model] sections given as dicts (defaults when None)."""
    ev = derive(pd.DataFrame({"study": [f"s{i}" for i in range(len(y))], "log_hr": y, "se": s,
                              "design": design[: len(y)]}))
    spec = load_spec({"priors": priors or {}, "model": model or {}})
    return build_model_data(ev, spec), spec, ev


def draws_dataset(draws):
    """An xarray Dataset holding one (chain, draw) array of MCMC draws as variable ``q``."""
    import xarray as xr

    return xr.Dataset({"q": (("chain", "draw"), draws)})


def mcse(draws, method="mean", prob=None):
    """ArviZ's Monte Carlo standard error of a (chain, draw) array of draws, for the
    statistic ``method`` ("mean", "sd", or "quantile" at ``prob``)."""
    import arviz as az

    kw = {"prob": prob} if prob is not None else {}
    return float(az.mcse(draws_dataset(draws), method=method, **kw)["q"])


def mcse_mean(post):
    """ArviZ's Monte Carlo standard error of the posterior mean of mu (log-HR) of an MCMC
    fit (its ``extras["idata"]``)."""
    import arviz as az

    return float(az.mcse(post.extras["idata"]["posterior"].to_dataset()[["mu"]])["mu"])
