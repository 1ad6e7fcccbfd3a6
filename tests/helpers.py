"""Helpers shared by test folders."""

import pandas as pd

from bayesnet.engines.exact import fit_exact
from bayesnet.evidence import derive
from bayesnet.models import build_model_data
from bayesnet.spec import spec_from_dict


def fit_arrays(y, se, priors=None, model=None, **cols):
    """Exact fit of effects y with standard errors se, the [priors] and [model] spec
    sections given as dicts (defaults when None), extra columns as keyword lists (``study``
    names the rows, else s0, s1, ...). The published examples are not all log-HRs (eight
    schools: test scores), so the HR plausibility bounds are off here."""
    ev = derive(pd.DataFrame({"study": [f"s{i}" for i in range(len(y))] if "study" not in cols else cols.pop("study"),
                              "log_hr": y, "se": se, **cols}), plausible_range=False)
    spec = spec_from_dict({"priors": priors or {}, "model": model or {}})
    return fit_exact(build_model_data(ev, spec), spec, ev)
