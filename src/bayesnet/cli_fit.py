"""`bayesnet fit`: fit a spec and write summary.json, studies.csv (and posterior.nc)."""

from __future__ import annotations

import sys
from pathlib import Path

from .cli import EXIT_DIAGNOSTICS, EXIT_OK, call_guarded


def add_common(p) -> None:
    from .api import ENGINES

    p.add_argument("spec", help="model spec (TOML), e.g. models/ptr_random_effects.toml")
    p.add_argument("--data", help="CSV evidence table that replaces the spec's [data]")
    p.add_argument("--engine", choices=list(ENGINES), default="auto",
                   help="exact (quadrature), mcmc (PyMC + nutpie) or auto (exact when the model allows)")
    p.add_argument("--seed", type=int, help="random seed (default: the spec's [mcmc].seed)")
    p.add_argument("--allow-failed-diagnostics", action="store_true",
                   help="write results even when MCMC diagnostics fail (they are marked failed)")


def load_and_fit(args, **kw):
    """Shared by fit and report: returns (post, exit_code or None)."""
    from .api import fit

    post, code = call_guarded(lambda: fit(args.spec, data=args.data, engine=args.engine, seed=args.seed,
                                          progress=sys.stderr.isatty(), **kw))
    if code is not None:
        return None, code
    if not post.ok:
        d = post.diagnostics
        print("MCMC DIAGNOSTICS FAILED: " + "; ".join(d["problems"]), file=sys.stderr)
        print(f"suggestion: {d['suggestion']}", file=sys.stderr)
        if not args.allow_failed_diagnostics:
            print("no results written (use --allow-failed-diagnostics to write them, marked failed)", file=sys.stderr)
            return post, EXIT_DIAGNOSTICS
    return post, None


def headline(summary: dict) -> str:
    """The lines `bayesnet fit` and `bayesnet report` print: engine, pooled and predictive
    HR, tau, every probability of summary.json (pooled and in a new study), and its
    warnings (few studies, no finite tau, group columns missing from the data)."""
    from . import format as fmt

    p, pr = summary["pooled"]["hr"], summary["predictive"]["hr"]
    lines = [f"engine: {summary['engine']}   k = {summary['k']}   status: {summary['status']}",
             f"pooled HR {fmt.hr(p['median'])} (95% CrI {fmt.ci(p['ci95'])})",
             f"predictive HR for a new study: 95% interval {fmt.ci(pr['ci95'])}"]
    if summary.get("tau"):
        t = summary["tau"]
        lines.append(f"tau {fmt.hr(t['median'], 3)} (95% CrI {fmt.ci(t['ci95'], 3)})")
    for k, v in summary["prob"]["pooled"].items():
        lines.append(f"{fmt.prob_label(k)}: {fmt.p(v)} pooled, {fmt.p(summary['prob']['predictive'][k])} "
                     f"in a new study")
    lines += [f"warning: {w}" for w in summary.get("warnings") or ()]
    return "\n".join(lines)


def is_arm(args) -> bool:
    """True when the spec's data are arm rows (routed to the arm-level analysis)."""
    from .arm_analysis import is_arm_spec

    if args.data is not None:
        return False
    try:
        return bool(is_arm_spec(args.spec))
    except Exception:  # noqa: BLE001 - an unreadable spec is reported by the fit itself
        return False


def run_arm(args, out) -> int:
    """The arm-level analysis (a spec whose data are arm rows): fit and write its report
    into `out` (summary.json, arms.csv, report.md, report.html, figures/)."""
    import json

    from .arm_analysis import write_arm_report

    if args.engine == "exact":
        print("error: an arm-level spec is fitted by MCMC only; use --engine mcmc (or auto)", file=sys.stderr)
        return 2
    path, code = call_guarded(lambda: write_arm_report(args.spec, out, seed=args.seed,
                                                       progress=sys.stderr.isatty(),
                                                       allow_failed_diagnostics=args.allow_failed_diagnostics))
    if code is not None:
        return code
    summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    print(f"arm-level analysis: status {summary.get('status')}")
    print(f"wrote {path}/summary.json, arms.csv, report.md, report.html, figures/")
    return EXIT_OK if summary.get("status") == "ok" else EXIT_DIAGNOSTICS


def cmd_fit(args) -> int:
    from .network.cli import is_network_args, run_network

    if is_network_args(args):   # data with a `treatment` column: network meta-analysis
        return run_network(args, report=False)
    from .api import write_fit_outputs
    from .io import atomic_directory

    if is_arm(args):
        if args.out is None:
            print("error: an arm-level spec writes its results to a directory: give --out DIR", file=sys.stderr)
            return 2
        return run_arm(args, args.out)
    post, code = load_and_fit(args)
    if code is not None and (post is None or not args.allow_failed_diagnostics):
        return code
    summary, code = call_guarded(post.summary)
    if code is not None:
        return code
    print(headline(summary))
    if args.out is not None:
        def write():
            with atomic_directory(Path(args.out)) as tmp:
                write_fit_outputs(post, tmp, summary)

        _, code = call_guarded(write)
        if code is not None:
            return code
        print(f"wrote {args.out}/summary.json, studies.csv" + (", posterior.nc" if post.engine == "mcmc" else ""))
    return EXIT_DIAGNOSTICS if not post.ok else EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("fit", help="fit a model spec (exact or MCMC) and write its summary",
                       description="Fit the analysis in SPEC.toml. Writes DIR/summary.json, DIR/studies.csv "
                                   "and, for MCMC, DIR/posterior.nc, atomically. Exit 0 ok, 2 bad input, "
                                   "3 failed MCMC diagnostics.")
    add_common(p)
    p.add_argument("--out", help="output directory; replaced whole, atomically, only when it is empty or was "
                                    "written by bayesnet")
    p.set_defaults(func=cmd_fit)
