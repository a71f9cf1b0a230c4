"""Persistence you can trust: skops files, versioned pickles, crafted states.

- ``skops.io`` saves every fitted estimator with plain data only: loading it
  trusts the estimator's own class plus the few types its settings add (no
  ``builtins.print``, no ``functools.partial``, no torch or skorch
  classes), and predicts the same: a fused text-plus-tabular model adds
  ``numpy.dtype`` (kept by its fitted ``SimpleImputer``), a contrastive
  estimator ``BertTransformer``, a ``BertMaskedLM`` given as ``model`` its
  class. A file holding another type is refused.
- Saved files name the public classes (``sklearn_bert.BertClassifier``),
  and files written with the private module names still load.
- Pickles record the library version; a state from another version loads
  (with a warning) or fails with a message naming both versions.
- Loading never unpickles bytes and never writes outside its temporary
  folder: a state naming a file outside it, or pickle-based weights, is
  refused.
"""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from _precision import assert_agree
from skorch.callbacks import Callback
from test_common import ESTIMATORS, assert_same_outputs, fitted, outputs

from sklearn_bert import BertClassifier, BertTransformer, __version__
from sklearn_bert._engine.base import VERSION_KEY

FAMILY = "bert"


def qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.mark.parametrize("case", ESTIMATORS, ids=str)
def test_skops_round_trip_trusts_only_the_estimator_class(case, tiny_model_dirs):
    estimator = fitted(case, tiny_model_dirs, FAMILY)
    X, _ = case.make_data()
    expected = outputs(case, estimator, X)
    data = sio.dumps(estimator)
    expected_types = [type(estimator)]
    if hasattr(estimator, "encoder_"):  # a few-shot estimator's fitted encoder
        expected_types.append(BertTransformer)
    expected_names = [qualified(t) for t in expected_types]
    if getattr(estimator, "tabular_preprocessor_", None) is not None:
        # skops does not trust the dtype a fitted SimpleImputer keeps
        expected_names.append("numpy.dtype")
        expected_types.append("numpy.dtype")
    assert sio.get_untrusted_types(data=data) == sorted(expected_names)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)
    loaded = sio.loads(data, trusted=expected_types)
    assert type(loaded) is type(estimator)
    assert_same_outputs(outputs(case, loaded, X), expected)


def test_skops_keeps_labels_column_names_and_history(tiny_bert):
    X = pd.DataFrame({"review": ["a good film", "a bad film"] * 4})
    y = np.array(["good", "bad"] * 4, dtype=object)
    clf = BertClassifier(tiny_bert, max_epochs=2, batch_size=4, random_state=0)
    clf.fit(X, y)
    loaded = sio.loads(sio.dumps(clf), trusted=[BertClassifier])
    assert loaded.classes_.tolist() == ["bad", "good"]
    assert loaded.feature_names_in_.tolist() == ["review"]
    assert len(loaded.history_) == 2
    assert loaded.history_[-1]["train_loss"] == clf.history_[-1]["train_loss"]
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="columns"):
        loaded.predict(X.rename(columns={"review": "text"}))


class _Recorder(Callback):
    def on_epoch_end(self, net, **kwargs):
        pass


def test_skops_refuses_a_file_holding_another_type(tiny_bert):
    """A callback (any object the user puts in the parameters) is a type the
    loader must trust explicitly; trusting the estimator's class is not
    enough."""
    clf = BertClassifier(
        tiny_bert, max_epochs=1, batch_size=4, random_state=0, callbacks=[_Recorder()]
    ).fit(["a good film", "a bad film"] * 2, [1, 0] * 2)
    data = sio.dumps(clf)
    untrusted = sio.get_untrusted_types(data=data)
    assert qualified(_Recorder) in untrusted
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="Recorder"):
        sio.loads(data, trusted=[BertClassifier])


# -- pickles: version, crafted states ----------------------------------------


@pytest.fixture
def classifier(tiny_bert):
    case = next(c for c in ESTIMATORS if c.name == "BertClassifier")
    return case


def test_pickles_record_the_library_version(classifier, tiny_model_dirs):
    estimator = fitted(classifier, tiny_model_dirs, FAMILY)
    assert estimator.__getstate__()[VERSION_KEY] == __version__
    blob = pickle.dumps(estimator)
    assert VERSION_KEY.encode() in blob and __version__.encode() in blob


def _load_state(estimator, state):
    twin = type(estimator).__new__(type(estimator))
    twin.__setstate__(state)
    return twin


def test_a_state_from_another_version_loads_with_a_warning(classifier, tiny_model_dirs):
    estimator = fitted(classifier, tiny_model_dirs, FAMILY)
    X, _ = classifier.make_data()
    state = estimator.__getstate__()
    state[VERSION_KEY] = "0.0.1"
    with pytest.warns(UserWarning, match=rf"0\.0\.1 and loaded by .*{__version__}"):
        twin = _load_state(estimator, state)
    np.testing.assert_array_equal(twin.predict_proba(X), estimator.predict_proba(X))
    # a pickle written before versions (and warm_start, checkpoint_dir) were
    # recorded: the new parameters take their defaults
    state = estimator.__getstate__()
    del state[VERSION_KEY], state["warm_start"], state["checkpoint_dir"]
    with pytest.warns(UserWarning, match="an unknown earlier version"):
        twin = _load_state(estimator, state)
    assert twin.get_params()["warm_start"] is False
    np.testing.assert_array_equal(twin.predict_proba(X), estimator.predict_proba(X))


def test_a_state_from_another_version_that_fails_names_both_versions(
    classifier, tiny_model_dirs
):
    estimator = fitted(classifier, tiny_model_dirs, FAMILY)
    state = estimator.__getstate__()
    state["_net_state"]["module"]["class"] = "ModuleOfAFutureRelease"
    state[VERSION_KEY] = "9.0.0"
    with pytest.raises(
        ValueError, match=rf"saved by sklearn_bert 9\.0\.0 .*{__version__}"
    ):
        _load_state(estimator, state)
    state[VERSION_KEY] = __version__  # same version: the error as it is
    with pytest.raises(ValueError, match="Unknown task module"):
        _load_state(estimator, state)


@pytest.mark.parametrize(
    "name", ["../outside.json", "/tmp/absolute.json", "pytorch_model.bin", "run.py"]
)
def test_a_crafted_state_cannot_write_outside_or_smuggle_pickles(
    classifier, tiny_model_dirs, tmp_path, name, monkeypatch
):
    estimator = fitted(classifier, tiny_model_dirs, FAMILY)
    state = estimator.__getstate__()
    _, files = state["_pretrained_files"]
    files[name] = b"{}"
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="only relative names"):
            _load_state(estimator, state)
    assert not (tmp_path.parent / "outside.json").exists()
    # the module's files in the net's state are checked the same way
    state = estimator.__getstate__()
    state["_net_state"]["module"]["hf_files"][name] = b"{}"
    with pytest.raises(ValueError, match="only relative names"):
        _load_state(estimator, state)


# -- public names in saved files ------------------------------------------------

OLD = Path(__file__).parent / "data" / "saved_0.1.0.dev0"


@pytest.mark.parametrize("case", ESTIMATORS, ids=str)
def test_saved_files_name_the_public_class(case, tiny_model_dirs):
    """Pickles and skops files refer to ``sklearn_bert.<Class>``, never to the
    private module that defines it: moving code never breaks a saved model."""
    estimator = fitted(case, tiny_model_dirs, FAMILY)
    name = type(estimator).__name__
    assert qualified(type(estimator)) == f"sklearn_bert.{name}"
    assert b"sklearn_bert._" not in pickle.dumps(estimator)
    untrusted = sio.get_untrusted_types(data=sio.dumps(estimator))
    assert f"sklearn_bert.{name}" in untrusted
    assert not [t for t in untrusted if t.startswith("sklearn_bert._")]


def _old_files() -> tuple[list[str], list]:
    expected = json.loads((OLD / "expected.json").read_text())
    return expected["X"], expected["predict_proba"]


def _predicts_as_saved(loaded) -> None:
    X, expected = _old_files()
    assert type(loaded) is BertClassifier
    assert loaded.precision == "float32"
    assert_agree(loaded.predict_proba(X), expected, "float32")


@pytest.mark.skipif(
    int(np.__version__.split(".")[0]) < 2,
    reason="the pickle was written under NumPy 2, whose pickles NumPy 1 cannot "
    "read (numpy._core); the skops file below covers NumPy 1",
)
def test_a_pickle_saved_with_the_private_names_still_loads():
    """A pickle written before the public names (release 0.1.0.dev0:
    ``sklearn_bert._tasks.sequence.classifier.BertClassifier``) loads and
    predicts as it did."""
    blob = (OLD / "classifier.pkl").read_bytes()
    assert b"sklearn_bert._tasks.sequence.classifier" in blob
    _predicts_as_saved(pickle.loads(blob))


def test_a_skops_file_saved_with_the_private_names_still_loads():
    """The same for a skops file: it names the private class, which the user
    trusts by that name."""
    data = (OLD / "classifier.skops").read_bytes()
    private = "sklearn_bert._tasks.sequence.classifier.BertClassifier"
    assert sio.get_untrusted_types(data=data) == [private]
    _predicts_as_saved(sio.loads(data, trusted=[private]))
