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
from _tiny_models import FAMILIES, build_tiny_model  # noqa: E402


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
