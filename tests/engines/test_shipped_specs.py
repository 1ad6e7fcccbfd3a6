"""Every shipped analysis (models/*.toml) fits clean with every engine it supports."""

from pathlib import Path

import pytest

from bayesnet.api import fit, load_spec
from bayesnet.engines.exact import can_fit

ROOT = Path(__file__).resolve().parents[2]
# arm-level specs go through the same fit (the arm-level model; bayesnet.arm_analysis); grids: tests/multiverse
SPECS = sorted(f for f in (ROOT / "models").glob("*.toml") if "[multiverse]" not in f.read_text(encoding="utf-8"))
CASES = [(f, eng) for f in SPECS for eng in ("exact", "mcmc") if eng == "mcmc" or can_fit(load_spec(f))[0]]


def test_there_are_shipped_specs():
    assert len(SPECS) >= 3


@pytest.mark.slow
@pytest.mark.mcmc
@pytest.mark.parametrize("path, engine", CASES, ids=[f"{f.stem}-{e}" for f, e in CASES])
def test_shipped_spec_fits_clean(path, engine):
    post = fit(path, engine=engine, log_likelihood=False)
    s = post.summary()
    assert s["status"] == "ok", (s["diagnostics"].get("problems"), s["diagnostics"].get("suggestion"))
