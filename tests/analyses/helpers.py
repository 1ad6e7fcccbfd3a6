import numpy as np
import pandas as pd

from bayesnet.evidence import derive
from bayesnet.models import build_model_data
from bayesnet.spec import spec_from_dict
from bayesnet.engines.exact import fit_exact


def fit_arrays(y, se, priors, model=None, **cols):
    ev = derive(pd.DataFrame({"study": [f"s{i}" for i in range(len(y))] if "study" not in cols else cols.pop("study"),
                              "log_hr": y, "se": se, **cols}))
    spec = spec_from_dict({"priors": priors, "model": model or {}})
    return fit_exact(build_model_data(ev, spec), spec, ev)


def close(a, b, tol=1e-3):
    """Agreement to `tol` on the scale of the value: |a - b| <= tol * max(1, |b|)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b))))


def close_interval(a, b, tol=1e-3):
    """Interval bounds agree to `tol` of the interval's width."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.all(np.abs(a - b) <= tol * (b[1] - b[0])))
