"""A seed means the same MCMC draws whatever the compile cache holds (issue 16).

One fit of the shipped random-effects model, each in its own Python process: two with
fresh (empty) compile caches and one reusing the first one's now-warm cache. The draws
must be identical to the last bit. Before the fix (numba fast-math on) the warm run's
first draw of mu already differed from the cold run's in the 10th digit and the
trajectories then diverged (P(HR < 0.8) 0.9886 cold vs 0.9829 warm on the full model)."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Prints a SHA-256 of every posterior draw and every pointwise log-likelihood of one fit
CHILD = r"""
import hashlib, json, sys
import numpy as np
from bayesnet.api import fit

spec = {"data": {"dataset": "gepnet_ptr", "select": "primary"},
        "model": {"effects": "random"},
        "mcmc": {"chains": 2, "draws": 300, "tune": 300, "seed": 20261202}}
post = fit(spec, engine="mcmc", frequentist=False)
idata = post.extras["idata"]
h = hashlib.sha256()
for group in ("posterior", "log_likelihood"):
    ds = idata[group].to_dataset()
    for name in sorted(ds.data_vars):
        h.update(name.encode())
        h.update(np.ascontiguousarray(ds[name].values).tobytes())
mu = idata["posterior"].to_dataset()["mu"].values.ravel()
print(json.dumps({"sha256": h.hexdigest(), "first_mu": repr(float(mu[0])), "last_mu": repr(float(mu[-1])),
                  "compiled_now": post.diagnostics["compiled_now"]}))
"""


def _fit_in_fresh_process(cache: Path) -> dict:
    """Run CHILD with every compile cache (XDG, numba, PyTensor) under `cache`."""
    for sub in ("xdg", "numba", "pytensor"):
        (cache / sub).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTENSOR", "NUMBA"))}
    env.update(XDG_CACHE_HOME=str(cache / "xdg"), NUMBA_CACHE_DIR=str(cache / "numba"),
               PYTENSOR_FLAGS=f"base_compiledir={cache / 'pytensor'}")
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _n_files(d: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(d))


@pytest.mark.mcmc
def test_same_seed_same_draws_with_cold_and_warm_compile_caches(tmp_path):
    a, b = tmp_path / "cache_a", tmp_path / "cache_b"
    cold_a = _fit_in_fresh_process(a)
    n_cached = _n_files(a)
    assert n_cached > 0, "the first fit left its compile cache empty: the warm run below would be cold too"
    cold_b = _fit_in_fresh_process(b)
    warm_a = _fit_in_fresh_process(a)      # reuses the kernels the first fit compiled
    assert cold_a == cold_b, f"two cold compile caches gave different draws: {cold_a} vs {cold_b}"
    assert warm_a == cold_a, f"a warm compile cache gave different draws from a cold one: {warm_a} vs {cold_a}"


def test_compile_turns_fastmath_off_and_says_what_is_happening(monkeypatch, capsys):
    """The compile runs with numba fast-math off (restored afterwards) and the command line
    prints what it is doing, on stderr."""
    import nutpie
    import pytensor

    from bayesnet.cli import _say_what_is_happening
    from bayesnet.engines.common import compile_nutpie

    seen = {}

    def fake_compile(model):
        seen["fastmath"] = pytensor.config.numba__fastmath
        return "compiled"

    monkeypatch.setattr(nutpie, "compile_pymc_model", fake_compile)
    before = pytensor.config.numba__fastmath
    log = logging.getLogger("bayesnet")
    monkeypatch.setattr(log, "handlers", [])           # restored after the test
    monkeypatch.setattr(log, "level", logging.NOTSET)
    _say_what_is_happening()
    assert compile_nutpie(object()) == "compiled"
    assert seen["fastmath"] is False
    assert pytensor.config.numba__fastmath == before
    err = capsys.readouterr().err
    assert "compiling the model for MCMC" in err and "compiled in" in err
