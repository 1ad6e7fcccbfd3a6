"""`bayesnet sweep`: prior-sensitivity sweep (and influence analyses)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .cli import EXIT_OK, call_guarded
from .format import is_prob_key


def cmd_sweep(args) -> int:
    from .api import load_spec
    from .sensitivity import influence, read_grid, sweep

    def work():
        if args.scheduler:
            try:
                import dask.distributed  # noqa: F401
            except ImportError:
                from .errors import MissingExtraError

                raise MissingExtraError("--scheduler needs Dask distributed, which is not installed: "
                                        "pip install 'bayesnet[dask]'") from None
        spec = load_spec(args.spec)
        grid = read_grid(args.grid) if args.grid else None
        df = sweep(spec, grid=grid, data=args.data, engine=args.engine, workers=args.workers,
                   scheduler=args.scheduler, seed=args.seed)
        inf, extra = None, {}
        if args.influence:
            from .api import choose_engine, fit
            from .sensitivity import overlap_sensitivity, power_scaling

            inf = influence(spec, data=args.data, engine=args.engine, seed=args.seed)
            if choose_engine(spec, args.engine) == "mcmc":
                extra["psense.csv"] = power_scaling(fit(spec, data=args.data, engine="mcmc", seed=args.seed))
            if args.data is None:
                ov = overlap_sensitivity(spec, engine=args.engine, seed=args.seed)
                if len(ov):
                    extra["overlap.csv"] = ov
        return df, inf, extra

    res, code = call_guarded(work)
    if code is not None:
        return code
    df, inf, extra = res
    show = [c for c in df.columns if c in ("tau_prior", "mu_prior", "hr_median", "hr_low", "hr_high")
            or is_prob_key(c, "lt", predictive=False)]
    print(df[show].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    failed = int((~df["diagnostics_passed"]).sum())
    if failed:
        print(f"WARNING: {failed} setting(s) failed MCMC diagnostics (column diagnostics_passed)", file=sys.stderr)
    if args.out is not None:
        _, code = call_guarded(lambda: _write(args, df, inf, extra))
        if code is not None:
            return code
        written = ["sweep.csv", "sweep.png/.svg"] + (["influence.csv", "influence.png/.svg"] + list(extra) if inf is not None else [])
        print(f"wrote {args.out}/: " + ", ".join(written))
    return EXIT_OK


def _write(args, df, inf, extra) -> None:
    from . import plots
    from .io import atomic_directory, write_csv

    with atomic_directory(Path(args.out)) as tmp:
        write_csv(df, tmp / "sweep.csv")
        plots.save(plots.sweep_plot(df), tmp / "sweep")
        if inf is not None:
            write_csv(inf, tmp / "influence.csv")
            plots.save(plots.influence_plot(inf), tmp / "influence")
            for name, frame in extra.items():
                write_csv(frame, tmp / name)


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="prior-sensitivity sweep (and influence with --influence)",
                       description="Fit SPEC.toml under every combination of the grid's priors (default grid: "
                                   "tau half-normal 0.25/0.5/1, half-Cauchy 0.5, inverse-gamma(2.42, 0.30); mu flat, "
                                   "N(0,1), sceptical, enthusiastic). Writes DIR/sweep.csv and a figure; with "
                                   "--influence also DIR/influence.csv (leave-one-out, leave-one-level-out).")
    p.add_argument("spec", help="model spec (TOML)")
    p.add_argument("--grid", help="GRID.toml with [[tau]], [[mu]] (and [[beta]]) prior tables")
    p.add_argument("--data", help="CSV evidence table that replaces the spec's [data]")
    p.add_argument("--out", help="output directory; replaced whole, atomically, only when it is empty or was "
                                    "written by bayesnet")
    from .api import ENGINES
    from .cli_fit import seed_arg

    p.add_argument("--engine", choices=list(ENGINES), default="auto")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="parallel processes for MCMC settings (default: up to 2)")
    p.add_argument("--scheduler", help="Dask distributed scheduler address (e.g. tcp://host:8786)")
    p.add_argument("--seed", type=seed_arg, help="base seed; setting i uses seed + i")
    p.add_argument("--influence", action="store_true",
                   help="also run leave-one-out / leave-one-level-out (influence.csv), the overlap selection rules "
                        "(overlap.csv: keep largest / most recent / all with a population effect) and, for MCMC "
                        "models, power-scaling sensitivity (psense.csv)")
    p.set_defaults(func=cmd_sweep)
