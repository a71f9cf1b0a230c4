"""The training engine: batches, weights, accumulation, scaling, callbacks,
validation, atomic fits, side effects and portable pickles.

Each test here pins a training detail that the engine must keep (see
``sklearn_bert/_engine``); several failed on the engine that preceded it.
"""

from __future__ import annotations

import contextlib
import copy
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from _precision import assert_agree, tolerance
from sklearn.base import clone
from skorch.callbacks import Callback

from sklearn_bert import (
    BertClassifier,
    BertMaskedLM,
    BertQuestionAnswerer,
    BertRegressor,
    BertTokenClassifier,
    BertTransformer,
)
from sklearn_bert._engine import net as net_module
from sklearn_bert._engine.data import LengthGroupedSampler
from sklearn_bert._engine.net import BertNet

POS = ["good film great", "great story love", "happy good friendly", "love great"]
NEG = ["bad film terrible", "terrible story hate", "sad bad slow", "hate terrible"]
X = POS * 2 + NEG * 2
Y = np.array(["pos"] * 8 + ["neg"] * 8)
FAST = {"max_length": 32, "batch_size": 8, "max_epochs": 1, "random_state": 0}


def clf_(model, **kw):
    return BertClassifier(model, **{**FAST, **kw})


@pytest.fixture(scope="module")
def no_dropout_bert(tiny_bert, tmp_path_factory):
    """The tiny BERT without dropout, so that fits can be compared exactly."""
    from transformers import AutoModel, AutoTokenizer

    folder = tmp_path_factory.mktemp("no_dropout")
    model = AutoModel.from_pretrained(tiny_bert)
    model.config.hidden_dropout_prob = 0.0
    model.config.attention_probs_dropout_prob = 0.0
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return str(folder)


# -- 1. batches change every epoch ----------------------------------------------


def _epoch_batches(sampler, seed):
    torch.manual_seed(seed)
    first = {tuple(sorted(b)) for b in sampler}
    second = {tuple(sorted(b)) for b in sampler}
    return first, second


@pytest.mark.parametrize("n", [64, 200, 800])
def test_batches_are_composed_afresh_every_epoch(n):
    lengths = np.arange(n) + 5  # all lengths distinct: a full sort fixes batches
    sampler = LengthGroupedSampler(lengths, 16)
    first, second = _epoch_batches(sampler, 0)
    assert len(first & second) / len(first) < 0.2
    # every row once per epoch
    torch.manual_seed(0)
    rows = sorted(i for b in sampler for i in b)
    assert rows == list(range(n))


def test_batches_group_lengths_and_can_stop_grouping():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 300, size=800)
    grouped = LengthGroupedSampler(lengths, 16)
    plain = LengthGroupedSampler(lengths, 16, group_by_length=False)

    def padding(sampler):
        torch.manual_seed(0)
        return sum(len(b) * lengths[b].max() - lengths[b].sum() for b in sampler)

    assert padding(grouped) < 0.5 * padding(plain)
    torch.manual_seed(0)
    assert sorted(i for b in plain for i in b) == list(range(800))


def test_group_by_length_is_a_parameter(tiny_bert):
    a = clf_(tiny_bert, batch_size=4).fit(X, Y).predict_proba(X)
    b = clf_(tiny_bert, batch_size=4, group_by_length=False).fit(X, Y)
    assert b.net_.get_params()["iterator_train__group_by_length"] is False
    assert not np.allclose(a, b.predict_proba(X))


# -- 2. sample_weight means repetition ------------------------------------------


class _RowLoss(torch.nn.Module):
    def forward(self, y_pred, target):
        return y_pred


def _weighted_net(weights):
    net = BertNet(
        module=torch.nn.Linear(1, 1),
        criterion=_RowLoss(),
        weight_scale=float(np.mean(weights)),
        device="cpu",
    )
    net.initialize()
    return net


def _epoch_objective(net, losses, weights, batches):
    """What one epoch optimises: the batch losses, each counted for its rows."""
    total = 0.0
    for batch in batches:
        y = {
            "target": torch.zeros(len(batch)),
            "weight": torch.as_tensor(weights[batch], dtype=torch.float32),
        }
        total += float(net.get_loss(torch.as_tensor(losses[batch]), y)) * len(batch)
    return total / len(losses)


def test_weights_mean_repetition_whatever_the_batches():
    rng = np.random.default_rng(0)
    losses = rng.random(12).astype(np.float32)
    weights = rng.integers(0, 4, size=12).astype(np.float32)
    weights[0] = 3.0
    net = _weighted_net(weights)
    expected = float(np.sum(weights * losses) / np.sum(weights))
    for batches in (
        [np.arange(12)],
        np.split(np.arange(12), 3),
        np.split(np.arange(12), 6),
    ):
        # float32 arithmetic on the losses, no model
        assert_agree(
            _epoch_objective(net, losses, weights, batches), expected, "float32"
        )
    # Scaling one batch's weights changes what is optimised.
    scaled = weights.copy()
    scaled[:4] *= 10
    net = _weighted_net(scaled)
    batches = np.split(np.arange(12), 3)
    assert _epoch_objective(net, losses, scaled, batches) != pytest.approx(
        _epoch_objective(_weighted_net(weights), losses, weights, batches)
    )


def test_weight_two_is_like_two_copies(no_dropout_bert):
    # One batch holds every row: the fits see the same objective.
    params = {"batch_size": 32, "max_epochs": 2, "lr": 1e-3, "dropout": 0.0}
    weights = np.ones(16)
    weights[[0, 9]] = 2
    a = clf_(no_dropout_bert, **params).fit(X, Y, sample_weight=weights)
    X2 = X + [X[0], X[9]]
    Y2 = np.concatenate([Y, Y[[0, 9]]])
    b = clf_(no_dropout_bert, **params).fit(X2, Y2)
    assert_agree(a.predict_proba(X), b.predict_proba(X), a.precision_)


def test_zero_total_weight_is_an_error(tiny_bert):
    with pytest.raises(ValueError, match="sum to 0"):
        clf_(tiny_bert).fit(X, Y, sample_weight=np.zeros(16))


# -- 3. gradient scaling and accumulation groups ----------------------------------


def test_accumulation_groups_scale_the_last_partial_group():
    net = BertNet(
        module=torch.nn.Linear(1, 1),
        criterion=_RowLoss(),
        gradient_accumulation_steps=2,
    )
    net._n_batches = 5
    groups = []
    for b in range(5):
        net._batch_number = b
        groups.append(net._group())
    assert groups == [(2, False), (2, True), (2, False), (2, True), (1, True)]


class _GradRecorder(Callback):
    def initialize(self):
        self.norms = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        self.norms.append(float(torch.norm(torch.stack([g.norm() for g in grads]))))


def test_on_grad_computed_fires_once_per_optimizer_step(tiny_bert):
    record = _GradRecorder()
    clf = clf_(
        tiny_bert, batch_size=4, gradient_accumulation_steps=3, callbacks=[record]
    ).fit(X, Y)
    # 4 batches: groups of 3 and 1 -> two optimizer steps
    assert len(record.norms) == 2 and all(n > 0 for n in record.norms)
    assert clf.history_[-1]["train_batch_count"] == 4


def test_skorch_gradient_clipping_callback_runs(no_dropout_bert):
    from skorch.callbacks import GradientNormClipping

    # Clipping the norm at 0 zeroes the gradients before every step: without
    # weight decay, AdamW then leaves every weight where it started.
    params = {"batch_size": 4, "lr": 1e-3, "dropout": 0.0, "weight_decay": 0.0}
    start = clf_(no_dropout_bert, **{**params, "lr": 1e-12}).fit(X, Y)
    frozen = clf_(no_dropout_bert, **params, callbacks=[GradientNormClipping(0.0)]).fit(
        X, Y
    )
    trained = clf_(no_dropout_bert, **params).fit(X, Y)
    # clipped at 0: the starting outputs; trained: outputs beyond the tolerance
    # of the precision used
    assert_agree(
        frozen.decision_function(X), start.decision_function(X), frozen.precision_
    )
    assert not np.allclose(
        trained.decision_function(X),
        start.decision_function(X),
        **tolerance(trained.precision_),
    )


def test_float16_training_uses_a_gradient_scaler(no_dropout_bert, monkeypatch):
    # CPU autocast has no float16 here: run the float16 code path in float32
    # to check that the loss scaling is undone exactly before each step.
    monkeypatch.setattr(
        net_module, "autocast", lambda device, precision: contextlib.nullcontext()
    )
    params = {"batch_size": 4, "lr": 1e-3, "dropout": 0.0}
    half = clf_(no_dropout_bert, **params, precision="float16")
    scaled = half.fit(X, Y)
    assert scaled.net_.grad_scaler_.is_enabled()
    assert scaled.net_.grad_scaler_.get_scale() >= 2.0**15
    # a float32 identity: the reference pins float32 ("auto" is bfloat16 on
    # CPUs with bfloat16 units)
    plain = clf_(no_dropout_bert, **params, precision="float32").fit(X, Y)
    assert not plain.net_.grad_scaler_.is_enabled()
    scaled.set_params(precision="float32")
    # scaling by a power of two and back is exact: the same outputs, bit for bit
    np.testing.assert_array_equal(
        scaled.decision_function(X), plain.decision_function(X)
    )


def test_adamw_is_fused_and_updates_as_the_loop_over_weights_does(
    no_dropout_bert, monkeypatch
):
    # float32 on the CPU: the fused kernel computes AdamW's update per weight
    # in one pass; rounding differs from the loop's, nothing else
    params = {"batch_size": 4, "lr": 1e-3, "precision": "float32", "max_epochs": 2}
    fused = clf_(no_dropout_bert, **params).fit(X, Y)
    assert fused.net_.optimizer_.defaults["fused"] is True
    monkeypatch.setattr(net_module, "fused_adamw", lambda groups, options: False)
    loop = clf_(no_dropout_bert, **params).fit(X, Y)
    assert not loop.net_.optimizer_.defaults["fused"]
    start = clf_(no_dropout_bert, **{**params, "lr": 1e-12}).fit(X, Y)
    moved = np.abs(loop.decision_function(X) - start.decision_function(X)).max()
    assert moved > 1e-2  # the weights moved, so the comparison below means something
    np.testing.assert_allclose(
        fused.decision_function(X), loop.decision_function(X), rtol=0, atol=1e-4
    )


def test_adamw_is_not_fused_where_it_cannot_be():
    weight = torch.nn.Parameter(torch.zeros(2))
    groups = [{"params": [weight]}]
    assert net_module.fused_adamw(groups, {})
    assert not net_module.fused_adamw(groups, {"foreach": True})
    assert not net_module.fused_adamw(groups, {"fused": False})
    meta = [{"params": [torch.nn.Parameter(torch.zeros(2, device="meta"))]}]
    assert not net_module.fused_adamw(meta, {})


# -- 5. validation runs once per epoch ------------------------------------------


def test_validation_rows_run_once_per_epoch(tiny_bert):
    calls = []
    clf = clf_(tiny_bert, early_stopping=True, validation_fraction=0.25, max_epochs=2)

    class CountForwards(Callback):
        def on_train_begin(self, net, **kwargs):
            net.module_.register_forward_hook(lambda *a: calls.append(1))

    clf.set_params(callbacks=[CountForwards()]).fit(X, Y)
    history = clf.history_
    per_epoch = history[0]["train_batch_count"] + history[0]["valid_batch_count"]
    assert len(calls) == 2 * per_epoch
    assert all("valid_acc" in row for row in history)


def test_token_validation_score_is_per_sentence(tiny_bert):
    from sklearn_bert._tasks.token.scoring import tag_score

    words = "the old man saw a big red dog near the river bank".split()
    tags = ["O", "O", "B-PER", "O", "O", "O", "O", "B-ANI", "O", "O", "B-LOC", "I-LOC"]
    X_tok = [words[i:] + words[:i] for i in range(12)]
    y_tok = [tags[i:] + tags[:i] for i in range(12)]

    class RecordValid(Callback):
        def on_train_begin(self, net, **kwargs):
            self.valid = net.train_split.valid

    record = RecordValid()
    est = BertTokenClassifier(
        tiny_bert,
        max_length=8,  # every sentence is cut into several windows
        stride=2,
        batch_size=4,
        max_epochs=1,
        early_stopping=True,
        validation_fraction=0.25,
        random_state=0,
        callbacks=[record],
    ).fit(X_tok, y_tok)
    windows = est._windows(est.tokenizer_, est.net_.module_.hf_model, X_tok, 8)
    assert len(windows.features) > 2 * len(X_tok)
    held_out = sorted(set(windows.sentence[record.valid.ids].tolist()))
    expected = tag_score(
        [y_tok[s] for s in held_out],
        est.predict([X_tok[s] for s in held_out]),
        "entity_f1",
    )
    assert est.history_[-1]["valid_f1"] == pytest.approx(expected)


def test_masked_lm_split_keeps_chunks_of_a_text_together(tiny_bert):
    from sklearn_bert._tasks.mlm.masking import tokenize_for_mlm

    texts = [" ".join(["word"] * (20 + 7 * i)) + f" end{i}" for i in range(10)]

    class RecordSplit(Callback):
        def on_train_begin(self, net, X=None, **kwargs):
            self.train, self.valid = X.ids, net.train_split.valid.ids

    record = RecordSplit()
    mlm = BertMaskedLM(
        tiny_bert,
        max_length=16,
        batch_size=8,
        max_epochs=1,
        early_stopping=True,
        validation_fraction=0.3,
        random_state=0,
        callbacks=[record],
    ).fit(texts)
    _, owners, _ = tokenize_for_mlm(
        mlm.tokenizer_,
        mlm._check_text(texts, reset=False),
        max_length=16,
        long_text="chunk",
        input_names={"input_ids", "token_type_ids"},
    )
    assert len(owners) > len(texts)
    train_texts = set(owners[record.train].tolist())
    valid_texts = set(owners[record.valid].tolist())
    assert valid_texts and not train_texts & valid_texts
    assert "valid_loss" in mlm.history_[-1]


# -- 6. BertTransformer(fine_tune=True) trains what it returns --------------------


def test_fine_tuned_transformer_returns_the_vector_it_trained(tiny_bert, monkeypatch):
    inner = []
    original = BertTransformer._fine_tuned

    def keep(self, *args):
        inner.append(original(self, *args))
        return inner[-1]

    monkeypatch.setattr(BertTransformer, "_fine_tuned", keep)
    ft = BertTransformer(
        tiny_bert, pooling="cls", fine_tune=True, max_epochs=1, random_state=0
    ).fit(X, Y)
    clf = inner[0]
    assert clf.max_length_ == ft.max_length_  # the same limit in fit and transform
    module = clf.net_.module_.eval()
    batch = ft.tokenizer_(X[:3], padding=True, return_tensors="pt")
    device = next(module.parameters()).device  # CUDA where there is one
    with torch.no_grad():  # float32
        trained = module.pooled(**batch.to(device)).cpu().numpy()
    assert_agree(ft.transform(X[:3]), trained, ft.precision_, "float32")


def test_fine_tuned_transformer_takes_training_options(tiny_bert):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    base = {"fine_tune": True, "max_epochs": 2, "random_state": 0}
    ft = BertTransformer(
        tiny_bert, early_stopping=True, validation_fraction=0.25, **base
    ).fit(X, Y)
    assert "valid_loss" in ft.history_[-1]
    plain = BertTransformer(tiny_bert, **base).fit(X, Y).transform(X)
    balanced = BertTransformer(tiny_bert, class_weight="balanced", **base)
    Y_skewed = np.concatenate([Y[:12], ["neg"] * 4])
    assert balanced.fit(X, Y_skewed).transform(X).shape == plain.shape
    weights = np.r_[np.ones(8), np.zeros(8)]
    with __import__("sklearn").config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            BertTransformer(tiny_bert, **base).set_fit_request(sample_weight=True),
            LogisticRegression().set_fit_request(sample_weight=True),
        ).fit(X, Y, sample_weight=weights)
    routed = pipe[0].transform(X)
    assert not np.allclose(routed, plain)
    with pytest.raises(ValueError, match="class_weight"):
        BertTransformer(tiny_bert, class_weight="balanced", **base).fit(
            X, np.linspace(0, 1, 16)
        )


# -- 7. no global side effects ------------------------------------------------------


def test_fit_leaves_torch_generators_alone(tiny_bert):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    clf_(tiny_bert).fit(X, Y).predict(X)
    assert torch.equal(torch.get_rng_state(), state)


def test_seeding_forks_the_cuda_generator_of_its_device(monkeypatch):
    from sklearn_bert._engine import device as device_module

    forked = []
    seeded_cuda = []

    @contextlib.contextmanager
    def fork_rng(devices):
        forked.append(list(devices))
        yield

    monkeypatch.setattr(torch.random, "fork_rng", fork_rng)
    monkeypatch.setattr(torch.cuda, "manual_seed", seeded_cuda.append)
    monkeypatch.setattr(torch.cuda, "device", lambda index: contextlib.nullcontext())
    with device_module.seeded(7, torch.device("cuda", 1)):
        pass
    with device_module.seeded(7, torch.device("cpu")):
        pass
    assert forked == [[1], []]
    assert seeded_cuda == [7]


def test_quiet_transformers_is_thread_safe():
    from transformers.utils import logging as hf_logging

    from sklearn_bert._io.logging import quiet_transformers

    hf_logging.set_verbosity_warning()
    inside = threading.Barrier(2)
    leave_first = threading.Event()

    def first():
        with quiet_transformers(0):
            inside.wait()
            leave_first.wait()

    def second():
        with quiet_transformers(0):
            inside.wait()
        leave_first.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hf_logging.get_verbosity() == hf_logging.WARNING
    assert hf_logging.is_progress_bar_enabled()


def test_inference_moves_a_model_only_as_device_says(tiny_bert, monkeypatch):
    clf = clf_(tiny_bert, device="cpu").fit(X, Y)
    moves = []
    module = clf.net_.module_
    original = type(module).to

    def spy(self, *args, **kwargs):
        moves.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(module), "to", spy)
    clf.predict(X)
    assert moves == []


# -- 8. portable pickles ------------------------------------------------------------

_PLAIN_MODULES = ("builtins", "copyreg", "collections", "numpy", "_codecs")


def _pickled_globals(obj) -> set[str]:
    """The classes and functions a pickle of ``obj`` names (read while loading)."""
    import io

    names: set[str] = set()

    class Recording(pickle.Unpickler):
        def find_class(self, module, name):
            names.add(f"{module}.{name}")
            return super().find_class(module, name)

    Recording(io.BytesIO(pickle.dumps(obj))).load()
    return names


@pytest.mark.parametrize(
    "make",
    [
        lambda m: clf_(m),
        lambda m: BertRegressor(m, **FAST),
        lambda m: BertTokenClassifier(m, **FAST),
        lambda m: BertQuestionAnswerer(m, **FAST),
    ],
    ids=["classifier", "regressor", "token", "qa"],
)
def test_fitted_nets_pickle_as_plain_data(tiny_bert, make):
    from _qa_data import qa_frame

    est = make(tiny_bert)
    if isinstance(est, BertTokenClassifier):
        est.fit(
            [x.split() for x in X], [["O"] * (len(x.split()) - 1) + ["B-X"] for x in X]
        )
    elif isinstance(est, BertQuestionAnswerer):
        est.fit(*qa_frame(4))
    else:
        est.fit(X, Y if isinstance(est, BertClassifier) else np.arange(16.0))
    names = _pickled_globals(est)
    foreign = {
        n
        for n in names
        if not n.startswith(_PLAIN_MODULES) and not n.startswith("sklearn_bert.")
    }
    assert not any(n.startswith(("torch", "transformers", "skorch")) for n in names), (
        names
    )
    assert foreign == set(), foreign


def test_clone_of_an_unfitted_estimator_never_touches_weights(tiny_bert, monkeypatch):
    source = BertMaskedLM(tiny_bert, **FAST).fit(X)

    def refuse(self):
        raise AssertionError("weights were copied")

    monkeypatch.setattr(BertMaskedLM, "__getstate__", refuse)
    twin = clone(BertClassifier(source, **FAST))
    assert twin.model is not source
    assert not hasattr(twin.model, "model_")


# -- fitted state changes only when a fit succeeds ------------------------------------


def test_failed_refit_leaves_the_fitted_estimator_whole(tiny_bert):
    clf = clf_(tiny_bert).fit(X, Y)
    before = clf.predict_proba(X)
    state = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    for bad_y in (["a"] * 16, np.zeros((16, 1, 1)), [[1, 2], [3]] * 8):
        with pytest.raises((ValueError, TypeError)):
            clf.fit(X, bad_y)
        assert {k: v for k, v in vars(clf).items() if k.endswith("_")} == state
        np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_interrupted_refit_leaves_the_fitted_estimator_whole(tiny_bert):
    class Interrupt(Callback):
        def on_batch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    clf = clf_(tiny_bert).fit(X, Y)
    before = clf.predict_proba(X)
    net = clf.net_
    with pytest.raises(KeyboardInterrupt):
        clf.set_params(callbacks=[Interrupt()]).fit(X, Y)
    assert clf.net_ is net
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_deep_copies_and_pickles_predict_the_same(tiny_bert, tmp_path):
    clf = clf_(tiny_bert).fit(X, Y)
    expected = clf.predict_proba(X)
    for twin in (copy.deepcopy(clf), pickle.loads(pickle.dumps(clf))):
        assert_agree(twin.predict_proba(X), expected, clf.precision_)
        assert twin.history_[-1]["train_loss"] == clf.history_[-1]["train_loss"]
    path = Path(tmp_path) / "clf.pkl"
    path.write_bytes(pickle.dumps(clf))
    assert (
        path.stat().st_size
        < 3 * sum(p.numel() * 4 for p in clf.net_.module_.parameters()) + 2_000_000
    )


# -- the record of a fit's epochs ---------------------------------------------------


def test_a_fit_records_its_epochs_as_scikit_learn_does(tiny_bert):
    est = clf_(tiny_bert, max_epochs=3).fit(X, Y)
    assert est.n_iter_ == est.max_epochs_ == 3
    assert est.loss_curve_.shape == (3,) and np.isfinite(est.loss_curve_).all()
    assert est.loss_curve_.tolist() == est.history_[:, "train_loss"]
    assert est.validation_loss_curve_ is None and est.validation_scores_ is None
    assert est.best_epoch_ == 3  # no early stopping: the last epoch's weights


def test_early_stopping_records_each_epoch_and_the_epoch_it_kept(tiny_bert):
    est = clf_(
        tiny_bert,
        max_epochs=8,
        lr=1e-12,  # nothing improves after the first epoch: it stops early
        early_stopping=True,
        n_iter_no_change=2,
        validation_fraction=0.5,
    ).fit(X, Y)
    assert est.n_iter_ == len(est.history_) < 8
    curve, scores = est.validation_loss_curve_, est.validation_scores_
    assert curve.shape == scores.shape == (est.n_iter_,)
    assert scores.tolist() == est.history_[:, "valid_acc"]
    assert ((scores >= 0) & (scores <= 1)).all()
    # the kept epoch is the one of the lowest validation loss (skorch's
    # relative threshold of 1e-4 counts a smaller gain as no improvement)
    best = curve[est.best_epoch_ - 1]
    assert best <= curve.min() * (1 + 1e-4) + 1e-12
    assert 1 <= est.best_epoch_ <= est.n_iter_


def test_the_record_is_read_inside_a_search(tiny_bert):
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(
        clf_(tiny_bert, max_epochs=2, early_stopping=True, validation_fraction=0.5),
        {"lr": [1e-4, 1e-3]},
        cv=2,
    ).fit(X, Y)
    best = search.best_estimator_
    assert best.validation_scores_.shape == (best.n_iter_,)
    assert set(search.cv_results_["params"][0]) == {"lr"}


def test_the_few_shot_and_fine_tuned_transformer_records_come_along(tiny_bert):
    from sklearn_bert import BertContrastiveClassifier, BertTransformer

    tuned = BertTransformer(tiny_bert, fine_tune=True, **FAST).fit(X, Y)
    few = BertContrastiveClassifier(tiny_bert, **FAST).fit(X, Y)
    for est in (tuned, few):
        assert est.n_iter_ == 1 and est.loss_curve_.shape == (1,)
        assert est.best_epoch_ == 1
