"""Shared pytest fixtures: tiny offline BERT-style models (see ``_tiny_models``)."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

# Tiny models gain nothing from intra-op threads, and on a shared 2-core
# machine extra threads only contend: one thread keeps the suite fast.
torch.set_num_threads(1)
from _precision import (  # noqa: E402
    SWITCH,
    apply_bfloat16_switch,
    cpu_auto_precision,
    switch_value,
)
from _tiny_models import FAMILIES, build_tiny_model  # noqa: E402

# SKLEARN_BERT_TEST_BFLOAT16=native|absent: detect bfloat16 units as another
# machine would (see _precision.py); applied before any test or fixture runs.
apply_bfloat16_switch()


def pytest_report_header(config: pytest.Config) -> str:
    """Say which machine the suite runs as: precision="auto" on the CPU."""
    how = f"{SWITCH}={switch_value()}" if switch_value() else "this CPU's own flags"
    return (
        f"sklearn_bert: precision='auto' on the CPU is {cpu_auto_precision()!r} ({how})"
    )


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module's tests: tiny models run several times
    faster on one thread than on two busy cores (``pytestmark =
    pytest.mark.usefixtures("one_torch_thread")``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Build every tiny model family once per session; map family -> folder."""
    root = tmp_path_factory.mktemp("tiny_models")
    return {family: build_tiny_model(family, root / family) for family in FAMILIES}


@pytest.fixture(scope="session", params=FAMILIES, ids=list(FAMILIES))
def tiny_model(request: pytest.FixtureRequest, tiny_model_dirs: dict[str, str]) -> str:
    """Folder of one tiny model, parametrised over all families."""
    return tiny_model_dirs[request.param]


@pytest.fixture(scope="session")
def tiny_bert(tiny_model_dirs: dict[str, str]) -> str:
    """Folder of the tiny BERT model."""
    return tiny_model_dirs["bert"]
