import json
from pathlib import Path

import pandas as pd
import pytest

REF = Path(__file__).resolve().parents[1] / "reference" / "pubbias"


@pytest.fixture(scope="session")
def metafor_ref():
    return json.loads((REF / "metafor_reference.json").read_text())


def load(name):
    return pd.read_csv(REF / f"{name}.csv")


DATASETS = ["biased_k14", "unbiased_k8"]
