"""Network meta-analysis speed (issue 17): medians of repeated in-process runs.

1. A 50-study, 10-treatment network with 5 multi-arm (three-arm) studies, drawn with a fixed
   seed: the exact fit, the fit + the network summary without inconsistency checks
   (contrasts for every ordered pair, tau, rankings from 20,000 draws), and the full summary
   (+ node-splitting of every splittable comparison and the UME model by LOO). Target: fit +
   summary <= 1 s.
2. The same fit through the Gaussian core's dense `conditionals` (the baseline the study-block
   computation is measured against, in this script).
3. From the shell: `bayesnet fit` on a 13-study, 5-treatment network (two three-arm studies),
   node splits and UME included (the issue's target: about a second; a cold Python process
   importing numpy/scipy/pandas/ArviZ is most of it).
4. With R and gemtc/multinma installed the issue asks for a ratio against them; they are not
   installed here (no JAGS/Stan), so that line is reported as not run.

Run: .venv-test/bin/python benchmarks/bench_network.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from timing import timed  # noqa: E402

from bayesnet.model.gaussian import integrate_theta  # noqa: E402
from bayesnet.network import fit_network, network_summary, read_network  # noqa: E402
from bayesnet.network.fit import network_gaussian  # noqa: E402
from bayesnet.spec import spec_from_dict  # noqa: E402


def simulated_network(k: int = 50, T: int = 10, multi: int = 5, seed: int = 17) -> pd.DataFrame:
    """k studies of T treatments ("t00".."t09"): `multi` three-arm studies, the rest two-arm,
    every treatment connected; true log-HR of t vs t00 = -0.05 t, tau = 0.15."""
    rng = np.random.default_rng(seed)
    d = -0.05 * np.arange(T)
    rows = []
    for j in range(k):
        m = 3 if j < multi else 2
        arms = [j % T, (j + 1 + j // T) % T] if m == 2 else list(rng.choice(T, 3, replace=False))
        arms = list(dict.fromkeys(arms))
        if len(arms) < m:
            arms = list(rng.choice(T, m, replace=False))
        se0 = rng.uniform(0.08, 0.15)
        rows.append((f"s{j:02d}", f"t{arms[0]:02d}", None, se0))
        delta = rng.normal(0, 0.15, m - 1)
        for i, a in enumerate(arms[1:]):
            se = float(np.sqrt(se0**2 + rng.uniform(0.08, 0.15) ** 2))
            rows.append((f"s{j:02d}", f"t{a:02d}", d[a] - d[arms[0]] + delta[i] + rng.normal(0, se), se))
    return pd.DataFrame(rows, columns=["study", "treatment", "log_hr", "se"])


def main(repeat: int = 5) -> None:
    df = simulated_network()
    net = read_network(df)
    spec = spec_from_dict({"priors": {"mu": {"dist": "normal", "mu": 0, "sigma": 1},
                                      "tau": {"dist": "half_normal", "sigma": 0.5}}})
    print(f"network: {net.k} studies, {len(net.treatments)} treatments, "
          f"{sum(s.n_arms > 2 for s in net.studies)} multi-arm, {net.n_contrasts} contrasts")
    t_fit, post = timed(lambda: fit_network(net, spec), repeat)

    def fit_summary():
        p = fit_network(net, spec)
        return network_summary(p, inconsistency=False)

    def full():
        p = fit_network(net, spec)
        return network_summary(p)

    t_sum, _ = timed(fit_summary, repeat)
    t_full, s = timed(full, max(2, repeat // 2))
    gm = network_gaussian(net, spec)
    t_core, _ = timed(lambda: integrate_theta(gm), max(2, repeat // 2))
    print(f"exact fit (study blocks):                       median {t_fit * 1e3:7.1f} ms")
    print(f"exact fit + network summary (no node-split/UME): median {t_sum * 1e3:7.1f} ms   target <= 1000 ms")
    print(f"exact fit + full summary ({len(s['node_split'])} node splits + UME):  median {t_full * 1e3:7.1f} ms")
    print(f"baseline: tau grid through the core's dense conditionals: median {t_core * 1e3:7.1f} ms "
          f"(the study-block fit is {t_core / t_fit:.1f}x faster)")
    shell_time(repeat=3)
    netmeta_time(df, t_fit)
    print("gemtc / multinma: not installed here (JAGS / Stan), ratio not measured")


def netmeta_time(df: pd.DataFrame, t_fit: float) -> None:
    """netmeta (frequentist, REML) on the same 50-study network, timed in R (median of 10),
    beside the exact Bayesian fit: a point of reference, not the MCMC tools the issue names."""
    import shutil
    import subprocess
    import tempfile

    rscript = shutil.which("Rscript")
    if not rscript:
        print("netmeta: Rscript not installed, not timed")
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "net.csv"
        df.to_csv(csv, index=False)
        code = f"""
ok <- suppressMessages(requireNamespace('netmeta', quietly = TRUE))
if (!ok) {{ cat('none\\n'); quit() }}
suppressMessages(library(netmeta))
d <- read.csv('{csv}', colClasses = c(study = 'character', treatment = 'character'))
rows <- list()
for (s in unique(d$study)) {{
  x <- d[d$study == s, ]; b <- which(is.na(x$log_hr)); v0 <- if (nrow(x) > 2) x$se[b]^2 else 0
  e <- ifelse(is.na(x$log_hr), 0, x$log_hr); v <- ifelse(is.na(x$log_hr), 0, x$se^2)
  for (i in 1:(nrow(x) - 1)) for (j in (i + 1):nrow(x)) {{
    vij <- v[i] + v[j] - (if (i != b && j != b) 2 * v0 else 0)
    rows[[length(rows) + 1]] <- data.frame(studlab = s, treat1 = x$treatment[i], treat2 = x$treatment[j],
                                           TE = e[i] - e[j], seTE = sqrt(vij)) }} }}
p <- do.call(rbind, rows)
ts <- replicate(10, system.time(netmeta(TE, seTE, treat1, treat2, studlab, data = p, method.tau = 'REML'))[['elapsed']])
cat(median(ts), '\\n')
"""
        r = subprocess.run([rscript, "-e", code], capture_output=True, text=True)
    out = r.stdout.strip().split()
    if not out or out[0] == "none":
        print("netmeta: not installed in R, not timed")
        return
    t = float(out[0])
    print(f"netmeta 2.9 (REML, frequentist) on the same network in R: median {t * 1e3:.0f} ms "
          f"(the exact Bayesian fit: {t_fit * 1e3:.0f} ms, ratio {t / t_fit:.1f}x)")


def shell_time(repeat: int = 3) -> None:
    import statistics
    import subprocess
    import tempfile
    import time

    df = simulated_network(k=13, T=5, multi=2, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        df.to_csv(tmp / "net.csv", index=False)
        (tmp / "s.toml").write_text('[data]\npath = "net.csv"\n')
        exe = Path(sys.executable).parent / "bayesnet"
        ts = []
        for i in range(repeat):
            t = time.perf_counter()
            subprocess.run([str(exe), "fit", str(tmp / "s.toml"), "--out", str(tmp / f"o{i}")], check=True,
                           capture_output=True)
            ts.append(time.perf_counter() - t)
        t_imp = []
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import bayesnet.cli, bayesnet.network, numpy, scipy, pandas"],
                           check=True, capture_output=True)
            t_imp.append(time.perf_counter() - t)
    print(f"shell: bayesnet fit, 13 studies / 5 treatments, node splits + UME: median {statistics.median(ts):.2f} s "
          f"(python + imports alone: median {statistics.median(t_imp):.2f} s)")


if __name__ == "__main__":
    main()
