"""Publication-bias ensemble benchmark: the whole RoBMA-PSMA ensemble (36 models, marginal
likelihoods by quadrature + randomised QMC) on simulated k = 10 and k = 50 data sets with
small-study effects, median of repeated runs; RoBMA 3.6 (JAGS, bridge sampling) on the same
data in the same script when Rscript can load RoBMA (--robma; R_LIBS_USER may point to a
library where it was built from source).

    python benchmarks/bench_pubbias.py [--repeat 3] [--robma]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from timing import timed  # noqa: E402  (benchmarks/timing.py)

ROBMA_SETTING = {"effect": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
                 "heterogeneity": {"dist": "inv_gamma", "alpha": 1.0, "beta": 0.15}}


def simulated(k: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """k published log-HRs (true mean -0.15, tau 0.1), non-significant ones published with
    probability 0.4 (selection on the benefit side)."""
    rng = np.random.default_rng(seed)
    ys, ss = [], []
    while len(ys) < k:
        se = rng.uniform(0.05, 0.45)
        y = -0.15 + rng.normal(0, 0.1) + rng.normal(0, se)
        if y / se < -1.96 or rng.uniform() < 0.4:
            ys.append(y)
            ss.append(se)
    return np.array(ys), np.array(ss)


def robma_time(y, s) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        np.savetxt(csv, np.column_stack([y, s]), delimiter=",", header="y,se", comments="")
        script = f"""suppressMessages(library(RoBMA)); d <- read.csv("{csv}")
t0 <- proc.time()[["elapsed"]]
fit <- RoBMA(y = d$y, se = d$se, prior_scale = "none",
  priors_effect = prior("normal", parameters = list(mean = 0, sd = 1)),
  priors_heterogeneity = prior("invgamma", parameters = list(shape = 1, scale = 0.15)),
  effect_direction = "negative", seed = 1, parallel = FALSE)
cat(proc.time()[["elapsed"]] - t0)"""
        r = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            print("RoBMA failed:", r.stderr[-500:], file=sys.stderr)
            return None
        return float(r.stdout.strip().split()[-1])


def main():
    from bayesnet.pubbias.averaging import fit_ensemble

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--robma", action="store_true", help="also time RoBMA (needs R with RoBMA and JAGS)")
    a = ap.parse_args()
    rows = []
    for k in (10, 50):
        y, s = simulated(k)
        t, out = timed(lambda y=y, s=s: fit_ensemble(y, s, ROBMA_SETTING, thresholds=(1.0,)), a.repeat)
        row = {"k": k, "seconds_median": round(t, 2), "repeats": a.repeat,
               "max_log_ml_mc_se": max(m["log_ml_mc_se"] for m in out["models"]),
               "inclusion_bf": {c: round(v, 3) for c, v in out["inclusion_bf"].items()},
               "pooled_hr": round(out["pooled"]["hr"]["median"], 3)}
        if a.robma:
            tr = robma_time(y, s)
            row["robma_seconds"] = tr
            row["speedup"] = round(tr / t, 1) if tr else None
        rows.append(row)
        print(json.dumps(row))


if __name__ == "__main__":
    main()
