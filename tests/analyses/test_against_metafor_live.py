"""Optional: where R with metafor is installed, our REML comparator matches metafor::rma on
the shipped primary analysis (skipped otherwise; the package never needs R)."""

import shutil
import subprocess

import pytest

from bayesnet.api import evidence_for, load_spec
from bayesnet.engines.frequentist import rma

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_reml_matches_metafor_on_gepnet_primary(tmp_path):
    rscript = shutil.which("Rscript")
    if not rscript or subprocess.run([rscript, "-e", "library(metafor)"], capture_output=True).returncode != 0:
        pytest.skip("R with metafor is not installed (apt-get install r-cran-metafor)")
    ev = evidence_for(load_spec(ROOT / "models" / "ptr_random_effects.toml"))
    csv = tmp_path / "d.csv"
    ev.table[["study", "log_hr", "se"]].to_csv(csv, index=False)
    code = (f"suppressMessages(library(metafor)); d <- read.csv('{csv}'); "
            "f <- rma(yi = d$log_hr, sei = d$se, method = 'REML'); "
            "k <- rma(yi = d$log_hr, sei = d$se, method = 'REML', test = 'knha'); "
            "cat(sprintf('%.10f', c(f$b, f$se, f$tau2, f$I2, k$ci.lb, k$ci.ub)))")
    out = subprocess.run([rscript, "-e", code], capture_output=True, text=True, check=True).stdout.split()
    b, se, tau2, i2, lo, hi = map(float, out)
    ours = rma(ev.table["log_hr"], ev.table["se"] ** 2)
    assert ours["mu"] == pytest.approx(b, abs=1e-5)
    assert ours["se"] == pytest.approx(se, abs=1e-5)
    assert ours["tau2"] == pytest.approx(tau2, abs=1e-5)
    assert ours["I2"] == pytest.approx(i2, abs=1e-3)
    assert ours["ci_kh"] == pytest.approx([lo, hi], abs=1e-5)
