"""Cost of the full summary of an exact fit, beside the fit alone (issue 9, "Speed of the
summary"). Medians of repeated in-process runs of

    fit      = fit_exact(model data, spec, evidence)
    fit+core = fit_exact(...).summary(observational=False)  (estimates, intervals, HPDs,
               probabilities, strata, coefficients, studies, provenance)
    fit+sum  = fit_exact(...).summary()   (every number in summary.json, including the
               observational blocks: tipping points and the bias curve, E-values, absolute
               effects, GRADE draft)

on a simulated k = 11 random-effects analysis and on the shipped exact-capable specs (k = 5, with
covariates: strata, coefficients, I2 and observational blocks). Target: fit+sum - fit
<= 10 ms.

Tipping points and the bias curve no longer refit the model per bias value (about 70
refits); they reweight the fit's tau grid in closed form (bias._FixedBias). Full summary
beyond the fit, medians of 11 on a shared 2-core machine, before -> after:
simulated k = 11: 178 -> 19 ms; ptr_random_effects: 484 -> 97 ms (the rest is mostly the
absolute effects' interval search); ptr_design_regression: 201 -> 28 ms.

    python benchmarks/bench_summary.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SPECS = ("ptr_random_effects.toml", "ptr_design_regression.toml", "ptr_design_heterogeneity.toml")


def cases():
    """(label, spec, evidence) for the simulated k = 11 analysis and the shipped specs."""
    from bayesnet.api import evidence_for, load_spec

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run_benchmarks import simulated

    yield "simulated, k = 11, random effects", load_spec({}), simulated(11)
    for name in SPECS:
        spec = load_spec(ROOT / "models" / name)
        yield f"models/{name}", spec, evidence_for(spec)


def measure(repeat: int) -> list[dict]:
    """One row per case: k and the medians (seconds) of the fit, of the core summary and of
    the full summary. Each repetition times a fresh fit and then its summary, interleaved,
    so both see the same machine load; fit + summary is the median of their sums."""
    from bayesnet.api import choose_engine
    from bayesnet.engines.exact import fit_exact
    from bayesnet.models import build_model_data

    rows = []
    for label, spec, ev in cases():
        if choose_engine(spec) != "exact":
            continue
        md = build_model_data(ev, spec)
        fit_exact(md, spec, ev).summary()  # warm-up (imports, caches)
        fits, cores, fulls = [], [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            post = fit_exact(md, spec, ev)
            t1 = time.perf_counter()
            post.summary(observational=False)
            t2 = time.perf_counter()
            fits.append(t1 - t0)
            cores.append(t2 - t0)
            t3 = time.perf_counter()
            fit_exact(md, spec, ev).summary()
            fulls.append(time.perf_counter() - t3)
        t_fit, t_core, t_all = (statistics.median(v) for v in (fits, cores, fulls))
        rows.append({"case": label, "k": md.k, "fit": t_fit, "fit_core": t_core, "fit_summary": t_all,
                     "core": t_core - t_fit, "summary": t_all - t_fit, "ratio": t_all / t_fit})
    return rows


def table(rows: list[dict]) -> list[str]:
    out = ["| case | k | fit | fit + core summary | core beyond the fit | fit + full summary | full beyond the fit | ratio full/fit |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['case']} | {r['k']} | {r['fit'] * 1e3:.1f} ms | {r['fit_core'] * 1e3:.1f} ms | "
                   f"{r['core'] * 1e3:.1f} ms | {r['fit_summary'] * 1e3:.1f} ms | {r['summary'] * 1e3:.1f} ms | "
                   f"{r['ratio']:.1f} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    print("\n".join(table(measure(args.repeat))))


if __name__ == "__main__":
    main()
