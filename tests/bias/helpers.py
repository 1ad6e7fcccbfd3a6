import numpy as np
import pandas as pd

from bayesnet.api import load_spec
from bayesnet.evidence import derive
from bayesnet.models import build_model_data

Y = np.array([-0.92, -0.69, -0.46, -0.78, -1.17, -0.36, -1.03])
S = np.array([0.10, 0.21, 0.11, 0.07, 0.23, 0.28, 0.31])
DESIGN = ["registry", "series", "registry", "registry", "series", "series", "registry"]


def setup(y=Y, s=S, priors=None, model=None, design=DESIGN):
    ev = derive(pd.DataFrame({"study": [f"s{i}" for i in range(len(y))], "log_hr": y, "se": s,
                              "design": design[: len(y)]}))
    spec = load_spec({"priors": priors or {}, "model": model or {}})
    return build_model_data(ev, spec), spec, ev
