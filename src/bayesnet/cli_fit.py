"""`bayesnet fit`: fit a spec and write summary.json, studies.csv (and posterior.nc)."""

from __future__ import annotations

import sys
from pathlib import Path

from .cli import EXIT_DIAGNOSTICS, EXIT_OK, call_guarded


def seed_arg(text: str) -> int:
    """argparse type of --seed: an integer from 0 to 2^32 - 1 (anything else: exit 2 with
    the allowed range, never an overflow inside the sampler)."""
    import argparse

    from .validate import SEED_ALLOWED, is_seed

    try:
        v = int(text)
    except ValueError:
        v = None
    if v is None or not is_seed(v):
        raise argparse.ArgumentTypeError(f"found {text!r}; allowed: {SEED_ALLOWED}")
    return v


def add_common(p) -> None:
    from .api import ENGINES

    p.add_argument("spec", help="model spec (TOML), e.g. models/ptr_random_effects.toml")
    p.add_argument("--data", help="CSV evidence table that replaces the spec's [data]")
    p.add_argument("--engine", choices=list(ENGINES), default="auto",
                   help="exact (quadrature), mcmc (PyMC + nutpie) or auto (exact when the model allows)")
    p.add_argument("--seed", type=seed_arg, help="random seed, an integer from 0 to 2^32 - 1 "
                                                 "(default: the spec's [mcmc].seed)")
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
    warnings (few studies, no finite tau, group columns missing from the data). With
    `[bias]`: the bias-adjusted block and the as-reported block, each labelled."""
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
    if summary.get("unadjusted"):  # with [bias]: say which basis each block is, and give both
        lines = (["under the stated bias assumptions ([bias]):"] + [f"  {x}" for x in lines] +
                 ["as reported (the same model without the assumed biases):"] +
                 [f"  {x}" for x in headline(summary["unadjusted"]).splitlines()])
    return "\n".join(lines)


def _announce_mcmc(args) -> None:
    """Say on stderr what a long silent wait is: an MCMC fit (the first in a fresh
    environment compiles the model, about a minute), unless a progress bar shows it."""
    if sys.stderr.isatty():
        return  # nutpie's progress bar shows it
    if args.engine != "mcmc":
        try:
            from .api import choose_engine, load_spec

            if choose_engine(load_spec(args.spec), args.engine) != "mcmc":
                return
        except Exception:  # noqa: BLE001 - the fit itself reports a bad spec
            return
    print("fitting the model by MCMC; the first run compiles the model (about a minute), later runs reuse it ...",
          file=sys.stderr)


def cmd_fit(args) -> int:
    from .network.cli import is_network_args, run_network

    if is_network_args(args):   # data with a `treatment` column: network meta-analysis
        return run_network(args, report=False)
    from .api import write_fit_outputs
    from .io import atomic_directory

    _announce_mcmc(args)
    post, code = load_and_fit(args)
    if code is not None and (post is None or not args.allow_failed_diagnostics):
        return code
    summary, code = call_guarded(post.summary)
    if code is not None:
        return code
    print(headline(summary))
    if args.out is None:
        print("nothing written (give --out DIR to write summary.json and studies.csv)")
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
