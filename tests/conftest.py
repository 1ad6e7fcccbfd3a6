import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def shared_path(*parts) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"../shared not available: {p}")
    return p


@pytest.fixture(scope="session")
def published():
    """../shared/reference/published.json: values from bayesmeta, metafor and papers."""
    return json.loads(shared_path("reference", "published.json").read_text())
