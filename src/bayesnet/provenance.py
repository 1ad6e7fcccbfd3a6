"""What every result records: data hash, the spec as read, seed, package versions."""

from __future__ import annotations

import hashlib
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version

PACKAGES = ("bayesnet", "numpy", "scipy", "pandas", "xarray", "arviz", "pymc", "pytensor", "nutpie", "matplotlib")


def package_versions() -> dict:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for p in PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = None
    return out


def data_sha256(ev) -> str:
    """sha256 of the analysed evidence table (study, log_hr, se and covariates) as CSV."""
    return hashlib.sha256(ev.table.to_csv(index=False).encode()).hexdigest()


def provenance(post) -> dict:
    ev, spec = post.evidence, post.spec
    src = {}
    if ev is not None:
        src = {"source": ev.source, "data_sha256": data_sha256(ev)}
        raw = post.extras.get("input_sha256")
        if raw:
            src["input_file_sha256"] = raw
    return {**src, "spec": spec.raw, "spec_path": str(spec.path) if spec.path else None,
            "seed": post.seed, "engine": post.engine, "versions": package_versions(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
