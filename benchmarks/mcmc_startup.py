"""MCMC start-up: `bayesnet fit models/ptr_random_effects.toml --engine mcmc --out DIR`, each
run a fresh process (wall clock). "cold" = empty compile caches (XDG_CACHE_HOME,
NUMBA_CACHE_DIR, PyTensor's base_compiledir: a first run on a new machine); "warm" = the
next run with the caches that cold run left, with a new seed (only compiled model
structure can be reused, never results). Medians over repeats; the baseline in the same
script is `bayesnet --help` (interpreter + imports), and with --before SRC the same runs of
another checkout's src/ (e.g. `git archive <commit> src | tar -x -C /tmp/before`) give the
before/after ratio.

    python benchmarks/mcmc_startup.py [--repeat 3] [--before /tmp/before/src]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "models" / "ptr_random_effects.toml"


def _env(cache: Path, src: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTENSOR", "NUMBA"))}
    for sub in ("xdg", "numba", "pytensor"):
        (cache / sub).mkdir(parents=True, exist_ok=True)
    env.update(XDG_CACHE_HOME=str(cache / "xdg"), NUMBA_CACHE_DIR=str(cache / "numba"),
               PYTENSOR_FLAGS=f"base_compiledir={cache / 'pytensor'}")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def _run(args: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bayesnet.cli", *args], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    return time.perf_counter() - t


def cold_warm(repeat: int, srcs: list[Path | None]) -> dict:
    """{src: (cold seconds, warm seconds)} over `repeat` rounds; within a round every src
    runs cold then warm, interleaved, so that a change in the machine's load hits all alike."""
    out = {src: ([], []) for src in srcs}
    for i in range(repeat):
        for src in srcs:
            with tempfile.TemporaryDirectory() as d:
                env = _env(Path(d) / "cache", src)
                out[src][0].append(_run(["fit", str(SPEC), "--engine", "mcmc", "--seed", str(1000 + i),
                                         "--out", f"{d}/cold"], env))
                out[src][1].append(_run(["fit", str(SPEC), "--engine", "mcmc", "--seed", str(2000 + i),
                                         "--out", f"{d}/warm"], env))
    return out


def _runs(ts: list[float]) -> str:
    return ", ".join(f"{t:.0f}" for t in ts)


def measure(repeat: int = 3, before: Path | None = None) -> list[str]:
    """Markdown lines: medians of cold and warm runs (and of --before's), with ratios."""
    with tempfile.TemporaryDirectory() as d:
        t_help = statistics.median(_run(["--help"], _env(Path(d), None)) for _ in range(repeat))
    res = cold_warm(repeat, [None] + ([before] if before is not None else []))
    cold, warm = res[None]
    mc, mw = statistics.median(cold), statistics.median(warm)
    lines = [f"## MCMC start-up: `bayesnet fit ptr_random_effects --engine mcmc --out DIR` (fresh process each, "
             f"median of {repeat})", "",
             "| run | median | runs (s) | ratio to `bayesnet --help` |", "|---|---|---|---|",
             f"| `bayesnet --help` (baseline: interpreter + imports) | {t_help:.1f} s | | 1.0 |",
             f"| cold: empty compile caches (first run on a new machine) | {mc:.1f} s | {_runs(cold)} | "
             f"{mc / t_help:.1f} |",
             f"| warm: the next run, caches kept, new seed | {mw:.1f} s | {_runs(warm)} | {mw / t_help:.1f} |"]
    if before is not None:
        bc, bw = res[before]
        mbc, mbw = statistics.median(bc), statistics.median(bw)
        lines += [f"| before ({before}): cold | {mbc:.1f} s | {_runs(bc)} | {mbc / t_help:.1f} |",
                  f"| before: warm | {mbw:.1f} s | {_runs(bw)} | {mbw / t_help:.1f} |",
                  "", f"After / before: cold {mc / mbc:.2f}, warm {mw / mbw:.2f} (runs interleaved)."]
    lines += ["", "Targets (issue 20): cold <= 10 s, warm <= 3 s. Wall clock on a shared machine: compare the "
              "ratios, not the seconds.", ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--before", type=Path, help="src/ directory of another checkout to time the same way")
    a = ap.parse_args()
    if shutil.which("g++") is None:
        print("note: no C++ compiler; PyTensor falls back to slower Python code", file=sys.stderr)
    print("\n".join(measure(a.repeat, a.before)))


if __name__ == "__main__":
    main()
