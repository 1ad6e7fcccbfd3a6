"""Speed benchmarks. Medians of repeated runs, and ratios against a baseline measured in
the same process (the REML comparator, whose cost is what metafor users are used to).
Writes results/benchmarks.md.

    python benchmarks/run_benchmarks.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from timing import median_time  # noqa: E402  (benchmarks/timing.py)


def simulated(k: int, seed: int = 1):
    from bayesnet.evidence import derive

    rng = np.random.default_rng(seed)
    se = rng.uniform(0.1, 0.5, k)
    y = -0.6 + 0.25 * rng.normal(size=k) + se * rng.normal(size=k)
    return derive(pd.DataFrame({"study": [f"s{i}" for i in range(k)], "log_hr": y, "se": se}))


def r_comparison(ev, t_exact_fit: float) -> list[str]:
    """Time metafor::rma (REML) and, where installed, brms on the same k = 11 data with
    Rscript, and report the ratios to the exact engine measured in this process."""
    rscript = shutil.which("Rscript")
    if not rscript:
        return ["Rscript is not installed here, so metafor and brms were not timed "
                "(`apt-get install r-cran-metafor r-cran-brms` adds them; the benchmark then reports the ratios)."]
    with tempfile.TemporaryDirectory() as d:
        csv = Path(d) / "d.csv"
        ev.table[["study", "log_hr", "se"]].to_csv(csv, index=False)
        code = f"""
suppressMessages(library(metafor)); d <- read.csv('{csv}')
ts <- replicate(50, system.time(rma(yi = d$log_hr, sei = d$se, method = 'REML'))[['elapsed']])
cat('metafor', median(ts), '\\n')
if (requireNamespace('brms', quietly = TRUE)) {{
  suppressMessages(library(brms))
  t0 <- system.time(f <- brm(log_hr | se(se) ~ 1 + (1 | study), data = d, chains = 4, iter = 2000,
        refresh = 0, silent = 2, prior = c(prior(normal(0, 1), class = Intercept), prior(normal(0, 0.5), class = sd))))[['elapsed']]
  t1 <- system.time(update(f, newdata = d, refresh = 0, silent = 2, recompile = FALSE))[['elapsed']]
  cat('brms', t0, t1, '\\n')
}}
"""
        r = subprocess.run([rscript, "-e", code], capture_output=True, text=True)
    if r.returncode != 0:
        return [f"Rscript failed ({r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'no message'}); no R timings."]
    out = ["| what | median | ratio to the exact engine's fit |", "|---|---|---|"]
    for line in r.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "metafor":
            t = float(parts[1])
            out.append(f"| metafor rma (REML), k = 11 | {t * 1e3:.1f} ms (system.time resolution 1 ms) | {t / t_exact_fit:.1f} |")
        if parts and parts[0] == "brms":
            out.append(f"| brms first fit (compile + 4 x 1000 draws) | {float(parts[1]):.1f} s | {float(parts[1]) / t_exact_fit:.0f} |")
            out.append(f"| brms refit without recompiling | {float(parts[2]):.1f} s | {float(parts[2]) / t_exact_fit:.0f} |")
    if len(out) == 2:
        out.append("| metafor not installed | | |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rep = 3 if args.quick else 15
    from bayesnet.api import fit, load_spec
    from bayesnet.engines.exact import fit_exact
    from bayesnet.engines.frequentist import rma
    from bayesnet.models import build_model_data

    lines = ["# Benchmarks", "", f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
             f"Medians of {rep} runs unless stated; ratios against a baseline run in the same process.", ""]
    spec = load_spec({})
    ev = simulated(11)
    md = build_model_data(ev, spec)
    base = median_time(lambda: rma(md.y, md.s**2), rep)
    t_fit = median_time(lambda: fit_exact(md, spec, ev), rep)
    t_sum = median_time(lambda: fit_exact(md, spec, ev).summary(), rep)
    from bayesnet.sensitivity import row_from_posterior

    t_core = median_time(lambda: row_from_posterior(fit_exact(md, spec, ev)), rep)
    lines += ["## Exact engine, k = 11 (in-process)", "",
              "| what | median | ratio to REML (same process) |", "|---|---|---|",
              f"| REML comparator (baseline) | {base * 1e3:.2f} ms | 1.0 |",
              f"| exact fit (tau grid + mixtures) | {t_fit * 1e3:.2f} ms | {t_fit / base:.1f} |",
              f"| fit + headline numbers (pooled, predictive, tau, all probabilities) | {t_core * 1e3:.2f} ms | {t_core / base:.1f} |",
              f"| fit + every summary in summary.json (HPDs of pooled, predictive, tau, I2, every stratum and coefficient; shrunken study intervals) | {t_sum * 1e3:.1f} ms | {t_sum / base:.1f} |",
              "", "Target: fit plus all summaries <= 10 ms.", ""]
    lines += ["## Exact engine by k", "", "| k | fit | fit + headline numbers | REML | ratio fit/REML |", "|---|---|---|---|---|"]
    for k in (10, 100, 1000, 10000):
        evk = simulated(k, seed=k)
        mdk = build_model_data(evk, spec)
        r = max(3, rep // (1 if k < 1000 else 3))
        tf = median_time(lambda: fit_exact(mdk, spec, evk), r)
        tc = median_time(lambda: row_from_posterior(fit_exact(mdk, spec, evk)), r)
        tb = median_time(lambda: rma(mdk.y, mdk.s**2), r)
        lines.append(f"| {k} | {tf * 1e3:.1f} ms | {tc * 1e3:.1f} ms | {tb * 1e3:.1f} ms | {tf / tb:.1f} |")
    lines.append("")
    # CLI end to end
    exe = shutil.which("bayesnet") or f"{sys.executable} -m bayesnet.cli"
    spec_path = ROOT / "models" / "ptr_random_effects.toml"

    def cli(*a):
        subprocess.run([*exe.split(), *a], check=True, capture_output=True, cwd=ROOT)

    with tempfile.TemporaryDirectory() as d:
        t_cli = median_time(lambda: cli("fit", str(spec_path), "--engine", "exact", "--out", f"{d}/o"), max(3, rep // 3))
        t_help = median_time(lambda: cli("--help"), max(3, rep // 3))
    lines += ["## Command line, end to end (wall clock, fresh process each run)", "",
              "| what | median |", "|---|---|",
              f"| `bayesnet --help` (baseline: interpreter + imports) | {t_help:.2f} s |",
              f"| `bayesnet fit --engine exact --out DIR` | {t_cli:.2f} s (ratio {t_cli / t_help:.1f}) |",
              "", "Target: <= 1.5 s.", ""]
    # MCMC
    code = ("import time; t=time.perf_counter(); from bayesnet.api import fit; "
            "p=fit('models/ptr_random_effects.toml', engine='mcmc', log_likelihood=False); "
            "t1=time.perf_counter(); "
            "p2=fit('models/ptr_random_effects.toml', engine='mcmc', log_likelihood=True); "
            "print(t1-t, time.perf_counter()-t1, p.ok)")
    firsts = []
    for _ in range(1 if args.quick else 3):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()
        firsts.append((float(out[0]), float(out[1])))
    first = statistics.median(f[0] for f in firsts)
    with_ll = statistics.median(f[1] for f in firsts)
    from bayesnet.priors import parse_prior

    spec_m = load_spec(spec_path)
    evm = __import__("bayesnet.api", fromlist=["evidence_for"]).evidence_for(spec_m)
    fit(spec_m, evidence=evm, engine="mcmc", log_likelihood=False)  # compile in this process
    settings = [0.3, 0.5, 0.8, 1.0, 0.4]
    t_refit = []
    for i in range(max(3, rep // 3)):
        s = spec_m.with_priors(tau=parse_prior({"dist": "half_normal", "sigma": settings[i % 5]}, "tau", "scale"))
        t = time.perf_counter()
        p = fit(s, evidence=evm, engine="mcmc", log_likelihood=False)
        t_refit.append(time.perf_counter() - t)
        assert p.diagnostics["compiled_now"] is False
    t_ex = median_time(lambda: fit(spec_m, evidence=evm, engine="exact"), rep)
    lines += ["## MCMC engine (nutpie, 4 chains x 1000 draws, 1000 tuning steps, k = 9)", "",
              "| what | median |", "|---|---|",
              f"| first fit in a fresh process, imports and compilation included | {first:.1f} s |",
              f"| second fit in that process, with log_likelihood + log_prior groups (compiles their functions) | {with_ll:.1f} s |",
              f"| refit with a new prior value (with_data, no recompilation) | {statistics.median(t_refit):.2f} s |",
              f"| exact engine on the same model, same process (baseline) | {t_ex * 1e3:.1f} ms (MCMC refit / exact = {statistics.median(t_refit) / t_ex:.0f}x) |",
              "", "Targets: first fit <= 20 s on 2 cores; refit <= 0.5 s.", ""]
    # MCMC start-up with cold and warm compile caches (benchmarks/mcmc_startup.py)
    from mcmc_startup import measure as mcmc_startup  # benchmarks/mcmc_startup.py

    lines += mcmc_startup(1 if args.quick else 3)
    # sweeps
    from bayesnet.sensitivity import default_grid, sweep

    g = default_grid([1.0, 0.8])
    big = {"tau": [parse_prior({"dist": "half_normal", "sigma": s}, "t", "scale") for s in np.linspace(0.1, 2.0, 25)],
           "mu": g["mu"]}
    t_sw = median_time(lambda: sweep(spec_m, grid=big, evidence=evm), max(3, rep // 5))
    lines += ["## Prior sweeps", "", "| what | median |", "|---|---|",
              f"| 100-setting sweep, exact engine | {t_sw:.2f} s (target <= 2 s) |"]
    if not args.quick:
        spec_t = spec_m.with_model(random_dist="student_t")
        grid_m = {"tau": big["tau"][:25], "mu": [parse_prior({"dist": "normal", "mu": 0, "sigma": s}, "m", "effect") for s in (0.5, 1, 2, 4)]}
        t = time.perf_counter()
        dfm = sweep(spec_t, grid=grid_m, evidence=evm, workers=2)
        t_mc = time.perf_counter() - t
        lines.append(f"| 100-setting sweep, MCMC (Student-t effects), 2 worker processes, one compilation per worker | "
                     f"{t_mc:.1f} s (target <= 60 s; {int((~dfm['diagnostics_passed']).sum())} settings failed diagnostics) |")
    lines += ["", "## R comparators", ""] + r_comparison(ev, t_fit) + [""]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "results" / "benchmarks.md"
    from bayesnet.io import write_text_atomic

    write_text_atomic(out, text)


if __name__ == "__main__":
    main()
