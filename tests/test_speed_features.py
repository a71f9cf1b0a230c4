"""What makes the library fast by default: precision="auto", the embedding
cache and bounded-memory streaming (speed itself is measured in
``benchmarks/``, never asserted here)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from _precision import assert_agree
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_bert import BertClassifier, BertTransformer, clear_cache
from sklearn_bert._engine import cache as cache_module
from sklearn_bert._engine import device as device_module
from sklearn_bert._engine import inference

TEXTS = [
    f"review number {i} says the food was {w}"
    for i, w in enumerate(
        ["good", "bad", "great", "awful", "fine", "cold", "warm", "tasty"] * 3
    )
]
LABELS = np.array(["pos", "neg", "pos", "neg", "pos", "neg", "pos", "pos"] * 3)


@pytest.fixture(autouse=True)
def _empty_cache():
    clear_cache()
    yield
    clear_cache()


# -- precision="auto" ------------------------------------------------------------


def test_auto_precision_follows_the_hardware(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(device_module, "cpu_bfloat16_flags", lambda: ("amx_bf16",))
    assert device_module.resolve_precision("auto", cpu) == "bfloat16"
    monkeypatch.setattr(device_module, "cpu_bfloat16_flags", lambda: ())
    assert device_module.resolve_precision("auto", cpu) == "float32"
    assert device_module.resolve_precision("bfloat16", cpu) == "bfloat16"
    for major, expected in ((8, "bfloat16"), (7, "float32")):
        monkeypatch.setattr(
            torch.cuda, "get_device_capability", lambda index, m=major: (m, 0)
        )
        got = device_module.resolve_precision("auto", torch.device("cuda"))
        assert got == expected
    assert device_module.resolve_precision("auto", torch.device("mps")) == "float32"


def test_cpu_flags_are_read_from_the_machine():
    flags = device_module.cpu_bfloat16_flags()
    assert set(flags) <= {"amx_bf16", "avx512_bf16"}


def test_fit_records_the_precision_it_chose(tiny_bert):
    expected = "bfloat16" if device_module.cpu_bfloat16_flags() else "float32"
    clf = BertClassifier(tiny_bert, max_epochs=1, max_length=32, device="cpu")
    assert clf.precision == "auto"
    assert clf.fit(TEXTS, LABELS).precision_ == expected
    assert clf.net_.precision == expected
    bt = BertTransformer(tiny_bert, device="cpu").fit(TEXTS)
    assert bt.precision_ == expected
    fixed = BertTransformer(tiny_bert, precision="float32", device="cpu").fit(TEXTS)
    assert fixed.precision_ == "float32"


# -- the embedding cache -----------------------------------------------------------


class _Counter:
    """Counts the rows that reach the encoder."""

    def __init__(self, monkeypatch):
        self.rows = 0
        original = BertTransformer._embed

        def counting(est, text_input, *args, **kwargs):
            self.rows += len(text_input)
            return original(est, text_input, *args, **kwargs)

        monkeypatch.setattr(BertTransformer, "_embed", counting)


def test_a_grid_search_encodes_each_text_once(tiny_bert, monkeypatch):
    count = _Counter(monkeypatch)
    pipe = make_pipeline(BertTransformer(tiny_bert, cache=True), LogisticRegression())
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1, 10]}, cv=3)
    search.fit(TEXTS, LABELS)
    assert count.rows == len(set(TEXTS))
    fresh = BertTransformer(tiny_bert).fit(TEXTS)
    assert_agree(
        search.best_estimator_[0].transform(TEXTS),
        fresh.transform(TEXTS),
        fresh.precision_,
    )


def test_clones_share_one_loaded_checkpoint(tiny_bert):
    a = BertTransformer(tiny_bert, cache=True).fit(TEXTS)
    b = BertTransformer(tiny_bert, cache=True).fit(TEXTS)
    assert a.model_ is b.model_
    assert BertTransformer(tiny_bert).fit(TEXTS).model_ is not a.model_


@pytest.mark.parametrize(
    "change",
    [
        {"pooling": "max"},
        {"max_length": 8},
        {"normalize": True},
        {"long_text": "chunk", "max_length": 8},
        {"precision": "bfloat16"},
    ],
    ids=lambda c: "-".join(c),
)
def test_a_changed_setting_never_returns_stale_vectors(tiny_bert, change):
    BertTransformer(tiny_bert, cache=True).fit(TEXTS).transform(TEXTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cached = BertTransformer(tiny_bert, cache=True, **change).fit(TEXTS)
        fresh = BertTransformer(tiny_bert, **change).fit(TEXTS)
        # exact: a stale vector of another precision is within bfloat16's
        # tolerance of the right one
        np.testing.assert_array_equal(cached.transform(TEXTS), fresh.transform(TEXTS))


def test_fine_tuned_weights_get_their_own_space(tiny_bert, monkeypatch):
    count = _Counter(monkeypatch)
    ft = {"fine_tune": True, "max_epochs": 1, "cache": True}
    a = BertTransformer(tiny_bert, random_state=0, **ft).fit(TEXTS, LABELS)
    b = BertTransformer(tiny_bert, random_state=1, **ft).fit(TEXTS, LABELS)
    ea, eb = a.transform(TEXTS), b.transform(TEXTS)
    assert not np.allclose(ea, eb)
    assert count.rows == 2 * len(set(TEXTS))
    np.testing.assert_array_equal(a.transform(TEXTS), ea)  # served from the cache
    assert count.rows == 2 * len(set(TEXTS))


def test_a_folder_cache_outlives_the_process_memory(tiny_bert, tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    expected = BertTransformer(tiny_bert, cache=folder).fit(TEXTS).transform(TEXTS)
    assert (folder / cache_module.CACHE_FILE).is_file()
    clear_cache()
    count = _Counter(monkeypatch)
    again = BertTransformer(tiny_bert, cache=str(folder)).fit(TEXTS)
    np.testing.assert_array_equal(again.transform(TEXTS), expected)
    assert count.rows == 0
    more = [*TEXTS, "a text never seen"]
    assert again.transform(more).shape == (len(more), expected.shape[1])
    assert count.rows == 1


def test_opening_a_cache_file_retries_while_sqlite_says_locked(tmp_path, monkeypatch):
    # SQLite can answer "database is locked" at once (no busy wait) while
    # several writers switch a new file to WAL mode: opening retries.
    import sqlite3

    real = cache_module._initialise
    calls = []

    def locked_twice(connection):
        calls.append(1)
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database is locked")
        real(connection)

    monkeypatch.setattr(cache_module, "_initialise", locked_twice)
    cache = cache_module.FolderCache(tmp_path / "c")
    cache.put("space", [b"k"], np.ones((1, 3), np.float32))
    assert len(calls) == 3
    assert cache.get("space", [b"k"])[0].tolist() == [1.0, 1.0, 1.0]

    def broken(connection):
        raise sqlite3.OperationalError("no such column: nope")

    monkeypatch.setattr(cache_module, "_initialise", broken)
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        cache.get("space", [b"k"])


def test_a_folder_cache_takes_concurrent_writers(tiny_bert, tmp_path):
    import threading

    folder = tmp_path / "shared"
    model = BertTransformer(tiny_bert, cache=folder).fit(TEXTS)
    results = {}

    def work(i):
        texts = [f"{t} from writer {i % 2}" for t in TEXTS]
        results[i] = model.transform(texts)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(results[0], results[2])
    np.testing.assert_array_equal(results[1], results[3])


def test_a_cache_path_that_is_a_file_is_an_error(tiny_bert, tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("not a folder")
    with pytest.raises(ValueError, match="is a file"):
        BertTransformer(tiny_bert, cache=path).fit(TEXTS)


# -- bounded memory: streaming in chunks of rows ------------------------------------


def test_streaming_gives_the_same_vectors_and_one_warning(tiny_bert, monkeypatch):
    long_texts = [*TEXTS, " ".join(["word"] * 80), " ".join(["other"] * 90)]
    bt = BertTransformer(tiny_bert, max_length=16).fit(long_texts)
    with pytest.warns(UserWarning, match="truncated"):
        whole = bt.transform(long_texts)
    monkeypatch.setattr(inference, "STREAM_ROWS", 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        streamed = bt.transform(long_texts)
    assert len([w for w in caught if "truncated" in str(w.message)]) == 1
    assert_agree(streamed, whole, bt.precision_)
    chunked = bt.set_params(long_text="chunk")
    assert_agree(
        chunked.transform(long_texts),
        BertTransformer(tiny_bert, max_length=16, long_text="chunk")
        .fit(long_texts)
        .transform(long_texts),
        bt.precision_,
    )


def test_parts_hold_fewer_long_rows():
    # Rows per part shrink with max_length (the tokens held at once are
    # bounded), and every row is in exactly one part, in order.
    def sizes(n, max_length):
        parts = list(inference.streamed(n, max_length))
        assert [i for p in parts for i in p] == list(range(n))
        return {len(p) for p in parts[:-1]}

    assert sizes(10_000, None) == {inference.STREAM_ROWS}
    assert sizes(10_000, 32) == {inference.STREAM_ROWS}
    assert sizes(10_000, 256) == {inference.STREAM_TOKENS // 256}
    assert sizes(3_000, 512) == {inference.STREAM_TOKENS // 512}
    assert sizes(10, 10**9) == {1}


def test_embedding_streams_by_tokens(tiny_bert, monkeypatch):
    bt = BertTransformer(tiny_bert, max_length=16).fit(TEXTS)
    whole = bt.transform(TEXTS)
    seen = []
    original = inference.streamed

    def spy(n, max_length=None):
        seen.append(max_length)
        return original(n, max_length)

    monkeypatch.setattr(inference, "streamed", spy)
    monkeypatch.setattr(inference, "STREAM_TOKENS", 16 * 3)  # 3 rows a part
    assert_agree(bt.transform(TEXTS), whole, bt.precision_)
    assert seen == [16]


def test_prediction_streams_too(tiny_bert, monkeypatch):
    clf = BertClassifier(tiny_bert, max_epochs=1, max_length=32, random_state=0)
    clf.fit(TEXTS, LABELS)
    whole = clf.predict_proba(TEXTS)
    monkeypatch.setattr(inference, "STREAM_ROWS", 5)
    assert_agree(clf.predict_proba(TEXTS), whole, clf.precision_)


def test_no_copy_without_repeated_rows(tiny_bert):
    bt = BertTransformer(tiny_bert).fit(TEXTS)
    distinct = list(dict.fromkeys(TEXTS))
    out = bt.transform(distinct)
    assert out.flags["C_CONTIGUOUS"] and out.base is None
