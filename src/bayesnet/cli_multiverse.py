"""`bayesnet multiverse`: every reasonable analysis at once (bayesnet.multiverse_analysis)."""

from __future__ import annotations

import sys

from .cli import EXIT_OK, call_guarded


def cmd_multiverse(args) -> int:
    from .api import load_spec
    from .io import check_output_dir
    from .multiverse_analysis import read_grid, run_to_directory, settings_of
    from .report.multiverse import save_figures

    def setup():
        if args.workers < 1:
            from .errors import SpecError

            raise SpecError(f"--workers: found {args.workers}; allowed: a positive number of worker processes")
        if args.chunk < 1:
            from .errors import SpecError

            raise SpecError(f"--chunk: found {args.chunk}; allowed: a positive number of settings per part file")
        if args.scheduler or args.workers > 1:
            try:
                import dask.distributed  # noqa: F401
            except ImportError:
                from .errors import MissingExtraError

                raise MissingExtraError("--workers/--scheduler need Dask distributed, which is not installed: "
                                        "pip install 'bayesnet[dask]'") from None
        check_output_dir(args.out, contents=False)
        spec = load_spec(args.spec)
        return spec, read_grid(args.grid, spec)

    res, code = call_guarded(setup)
    if code is not None:
        return code
    spec, grid = res
    n = len(settings_of(grid))
    print(f"{n} settings ({grid.n_crossed} combinations, {grid.n_crossed - n} excluded); writing {args.out}/",
          file=sys.stderr)
    res, code = call_guarded(lambda: run_to_directory(
        spec, grid, args.out, data=args.data, resume=args.resume, workers=args.workers, scheduler=args.scheduler,
        mcmc=args.mcmc, chunk=args.chunk, figures=save_figures))
    if code is not None:
        return code
    s = res.summary
    print(s["headline"])
    st = s["status"]
    print(f"status: {st['ok']} ok, {st['failed']} failed, {st['needs_mcmc']} need MCMC (column status, reason)")
    print(f"wrote {args.out}/: multiverse.csv, summary.json, multiverse.nc, figures/, parts/")
    return EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("multiverse", help="every reasonable analysis: the grid of selection x model x priors x bias",
                       description="Fit SPEC.toml under every combination of the grid's choices (selection, model, "
                                   "priors, bias; bayesnet.multiverse). DIR fills up as settings finish: each part "
                                   "file (a chunk of settings) is written atomically to DIR/parts/; --resume skips "
                                   "finished parts. When every setting is done: DIR/multiverse.csv, summary.json, "
                                   "multiverse.nc and figures/ (specification curve, vibration of effects, per "
                                   "axis).")
    p.add_argument("spec", help="the base model spec (TOML)")
    p.add_argument("--grid", required=True, help="MULTIVERSE.toml with [multiverse] and [[multiverse.<axis>]] entries")
    p.add_argument("--data", help="CSV evidence table that replaces the spec's data source")
    p.add_argument("--out", required=True, help="output directory (filled part by part; see --resume)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes of a local Dask cluster (default 1: in this process)")
    p.add_argument("--scheduler", help="Dask distributed scheduler address (e.g. tcp://host:8786)")
    p.add_argument("--resume", action="store_true",
                   help="keep the part files an earlier (interrupted) run into --out finished; without it the "
                        "directory is started afresh")
    p.add_argument("--mcmc", action="store_true",
                   help="fit the settings the exact engine cannot fit by MCMC (seeded from the spec seed and the "
                        "setting's labels); without it they are recorded with status needs_mcmc")
    p.add_argument("--chunk", type=int, default=100, help="settings per part file (default 100)")
    p.set_defaults(func=cmd_multiverse)
