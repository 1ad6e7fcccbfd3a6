"""Benchmark: the arm-level fit of the shipped liver analysis, exact vs MCMC, in-process.

Times (median of repeats) the exact arm-level engine (2-D quadrature over tau and the
baseline SD, `bayesnet.engines.arms_exact`) on models/liver_resection_case_series.toml (16
studies: 7 comparative, 9 case series; with its [bias]), the whole `bayesnet.fit` of that
spec (exact: the fit, the as-reported fit and the REML comparator) and its `post.summary()`;
and, as the baseline in the same script, the MCMC engine on the same model (the spec's
[mcmc] settings; the arm-level report took about 30 s of MCMC before). Target: exact arm
fit <= 100 ms.

    PYTHONPATH=src python benchmarks/bench_arms.py [--repeat 7] [--mcmc-repeat 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from timing import median_time  # noqa: E402  (benchmarks/timing.py)

TARGET_S = 0.1
SPEC = ROOT / "models" / "liver_resection_case_series.toml"


def main(argv=None) -> int:
    from bayesnet.api import evidence_for, fit, load_spec
    from bayesnet.arm_analysis import _priors, bias_table, parse_arm_priors
    from bayesnet.engines.arms_exact import fit_arms_exact
    from bayesnet.evidence.arms import arm_rows_of
    from bayesnet.model.arms import build_arm_model_data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--mcmc-repeat", type=int, default=1, help="MCMC fits to time (0: skip the baseline)")
    a = ap.parse_args(argv)
    spec = load_spec(SPEC)
    ev = evidence_for(spec)
    hr, arms = arm_rows_of(ev.table)
    amd = build_arm_model_data(hr, arms, bias=bias_table(spec.bias))
    pri, arm_pri = _priors(spec), parse_arm_priors(spec.arm_model)
    fit_arms_exact(amd, pri, arm_pri)  # warm-up (imports)
    t_exact = median_time(lambda: fit_arms_exact(amd, pri, arm_pri), a.repeat)
    import os
    import time

    cpu = []
    for _ in range(a.repeat):  # CPU seconds per fit: on a shared machine the wall time includes waiting
        c0 = time.process_time()
        fit_arms_exact(amd, pri, arm_pri)
        cpu.append(time.process_time() - c0)
    t_api = median_time(lambda: fit(spec, evidence=ev), a.repeat)
    post = fit(spec, evidence=ev)
    t_summary = median_time(lambda: fit(spec, evidence=ev).summary(), max(1, a.repeat // 2)) - t_api
    print(f"spec: {SPEC.name} (k = {amd.k}: {amd.design.count('comparative')} comparative, "
          f"{amd.design.count('case_series')} case series); pooled HR "
          f"{float(post['pooled'].on('hr').quantile([0.5])[0]):.3f}")
    print(f"exact arm fit: {1000 * t_exact:.1f} ms (median of {a.repeat}); target <= {1000 * TARGET_S:g} ms: "
          f"{'met' if t_exact <= TARGET_S else 'NOT met'} (CPU time {1000 * sorted(cpu)[len(cpu) // 2]:.1f} ms; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"bayesnet.fit (fit + as reported + REML): {1000 * t_api:.1f} ms; post.summary() beyond it: "
          f"{1000 * t_summary:.1f} ms")
    if a.mcmc_repeat:
        from bayesnet.engines.arms import fit_arms

        mc = spec.mcmc
        t_mcmc = median_time(lambda: fit_arms(amd, pri, arm_pri, seed=mc.seed, chains=mc.chains, draws=mc.draws,
                                              tune=mc.tune, target_accept=mc.target_accept), a.mcmc_repeat)
        print(f"MCMC arm fit (baseline, {mc.chains} x {mc.draws} draws): {t_mcmc:.1f} s (median of {a.mcmc_repeat}, "
              f"compile cached after the first) = {t_mcmc / t_exact:.0f} x the exact fit")
    return 0 if t_exact <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
