"""Every example notebook executes on the shipped data (outputs are stripped in git)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name", sorted(p.stem for p in NB_DIR.glob("*.ipynb")))
def test_notebook_executes(name):
    nb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "outputs must be stripped in git"
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NB_DIR)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_four_notebooks():
    assert sorted(p.stem for p in NB_DIR.glob("*.ipynb")) == [
        "01_quickstart", "02_design_covariates", "03_prior_sensitivity", "04_panel_report"]
