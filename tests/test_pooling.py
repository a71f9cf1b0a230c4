"""Tests for ``sklearn_bert._pooling`` against hand computations."""

from __future__ import annotations

import pytest
import torch

from sklearn_bert._text.pooling import (
    POOLINGS,
    cls_pool,
    max_pool,
    mean_pool,
    pool,
    pool_chunks,
)

# Two sequences of 3 token slots, dimension 2. The second has one padded slot
# whose values are huge, so any leak of padding into the result shows.
HIDDEN = torch.tensor(
    [
        [[1.0, -2.0], [3.0, -4.0], [5.0, -9.0]],
        [[-1.0, -6.0], [-3.0, -2.0], [100.0, 100.0]],
    ]
)
MASK = torch.tensor([[1, 1, 1], [1, 1, 0]])


def test_mean_pool_ignores_padding():
    expected = torch.tensor([[3.0, -5.0], [-2.0, -4.0]])
    torch.testing.assert_close(mean_pool(HIDDEN, MASK), expected)


def test_cls_pool_takes_first_token():
    expected = torch.tensor([[1.0, -2.0], [-1.0, -6.0]])
    torch.testing.assert_close(cls_pool(HIDDEN, MASK), expected)


def test_max_pool_ignores_padding_even_when_padding_is_larger():
    # real values of row 2 are all negative; padding holds 100
    expected = torch.tensor([[5.0, -2.0], [-1.0, -2.0]])
    torch.testing.assert_close(max_pool(HIDDEN, MASK), expected)


def test_mean_pool_of_fully_masked_row_is_finite():
    mask = torch.tensor([[1, 1, 1], [0, 0, 0]])
    out = mean_pool(HIDDEN, mask)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[1], torch.zeros(2))


@pytest.mark.parametrize("pooling", POOLINGS)
def test_pool_dispatches(pooling):
    expected = {"mean": mean_pool, "cls": cls_pool, "max": max_pool}[pooling]
    torch.testing.assert_close(pool(HIDDEN, MASK, pooling), expected(HIDDEN, MASK))


def test_poolings_differ():
    # guard against the dispatch table mapping two names to one function
    results = [pool(HIDDEN, MASK, p) for p in POOLINGS]
    for i in range(len(results)):
        for j in range(i + 1, len(results)):
            assert not torch.equal(results[i], results[j])


def test_pool_rejects_unknown_pooling():
    with pytest.raises(KeyError):
        pool(HIDDEN, MASK, "sum")


@pytest.mark.parametrize("pooling", POOLINGS)
def test_pool_keeps_bfloat16(pooling):
    out = pool(HIDDEN.to(torch.bfloat16), MASK, pooling)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), pool(HIDDEN, MASK, pooling))


def test_pool_matches_unpadded_computation():
    torch.manual_seed(0)
    hidden = torch.randn(3, 7, 4)
    lengths = [7, 3, 5]
    mask = torch.zeros(3, 7, dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    for i, n in enumerate(lengths):
        real = hidden[i, :n]
        torch.testing.assert_close(mean_pool(hidden, mask)[i], real.mean(0))
        torch.testing.assert_close(max_pool(hidden, mask)[i], real.max(0).values)
        torch.testing.assert_close(cls_pool(hidden, mask)[i], real[0])


# -- chunks of long texts ------------------------------------------------------

# Five chunks of three texts, interleaved: text 0 owns chunks 1 and 3, text 1
# owns chunks 0 and 2, text 2 only chunk 4. Weights are token counts.
CHUNKS = torch.tensor([[1.0, 8.0], [2.0, -1.0], [5.0, 0.0], [4.0, 3.0], [7.0, 7.0]])
OWNERS = torch.tensor([1, 0, 1, 0, 2])
WEIGHTS = torch.tensor([3.0, 1.0, 1.0, 3.0, 10.0])


def test_pool_chunks_weighted_mean():
    out = pool_chunks(CHUNKS, OWNERS, WEIGHTS, 3, "mean")
    expected = torch.tensor(
        [
            [(1 * 2.0 + 3 * 4.0) / 4, (1 * -1.0 + 3 * 3.0) / 4],
            [(3 * 1.0 + 1 * 5.0) / 4, (3 * 8.0 + 1 * 0.0) / 4],
            [7.0, 7.0],
        ]
    )
    torch.testing.assert_close(out, expected)


def test_pool_chunks_cls_uses_weighted_mean_too():
    torch.testing.assert_close(
        pool_chunks(CHUNKS, OWNERS, WEIGHTS, 3, "cls"),
        pool_chunks(CHUNKS, OWNERS, WEIGHTS, 3, "mean"),
    )


def test_pool_chunks_max():
    out = pool_chunks(CHUNKS, OWNERS, WEIGHTS, 3, "max")
    expected = torch.tensor([[4.0, 3.0], [5.0, 8.0], [7.0, 7.0]])
    torch.testing.assert_close(out, expected)


def test_pool_chunks_max_of_negative_values():
    chunks = torch.tensor([[-5.0, -1.0], [-2.0, -3.0]])
    out = pool_chunks(chunks, torch.tensor([0, 0]), torch.ones(2), 1, "max")
    torch.testing.assert_close(out, torch.tensor([[-2.0, -1.0]]))


def test_pool_chunks_equal_weights_is_plain_mean():
    out = pool_chunks(CHUNKS[:2], torch.tensor([0, 0]), torch.ones(2), 1, "mean")
    torch.testing.assert_close(out, CHUNKS[:2].mean(0, keepdim=True))


def test_pool_chunks_single_chunk_per_text_is_identity():
    owners = torch.arange(len(CHUNKS))
    for pooling in POOLINGS:
        out = pool_chunks(CHUNKS, owners, WEIGHTS, len(CHUNKS), pooling)
        torch.testing.assert_close(out, CHUNKS)
