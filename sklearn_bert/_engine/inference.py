"""The one inference loop, behind every ``transform``, ``predict*``,
``score`` and decoding of the library, and :func:`embed` built on it.

:func:`run_batches` sorts rows by length, pads each batch to its longest row,
runs ``forward`` under ``torch.inference_mode()`` (and autocast for reduced
precision) and yields each batch's outputs on the CPU with the rows they
belong to; :func:`gather` puts them back in row order, :func:`ragged` as
one array per row for per-token outputs. Callers encode each distinct text
once (``_text.tokenize.unique_rows``) before calling it, a bounded number of
rows at a time (:func:`streamed`; :func:`by_parts` reduces ragged
per-token logits to per-row outputs part by part).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .._text.batching import length_sorted_batches, pad_batch, row_length
from .device import autocast
from .progress import Progress, tracked


def run_batches(
    forward: Callable[[dict[str, Any]], Any],
    features: Sequence[dict[str, Any]],
    *,
    batch_size: int,
    device: Any,
    precision: str,
    pad_token_id: int = 0,
    collate: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None,
    progress: int = 0,
    desc: str = "Predicting",
) -> Iterator[tuple[np.ndarray, Any]]:
    """Run ``forward`` on length-sorted, padded batches of ``features``.

    Parameters
    ----------
    forward : callable
        Maps a batch (a dict of tensors on ``device``) to tensors, or tuples
        or dicts of tensors.
    features : sequence of dict
        Unpadded rows (``input_ids`` and other token-level sequences).
    batch_size, device, precision
        As the estimators' parameters (``device`` a ``torch.device``).
    pad_token_id : int
        Padding id of ``input_ids`` (for the default collate).
    collate : callable or None
        Builds a batch from rows; default: :func:`~._text.batching.pad_batch`.
    progress : int
        The estimator's ``verbose``: 1 prints a progress line now and then
        during a long run (see :mod:`._engine.progress`), 2 and more show a
        progress bar.
    desc : str
        What the progress bar or lines call the run.

    Yields
    ------
    indices, outputs
        The rows of the batch and ``forward``'s outputs as float32 CPU tensors.
    """
    import torch

    lengths = np.fromiter((row_length(f) for f in features), dtype=np.int64)
    batches: Any = list(length_sorted_batches(lengths, batch_size))
    if progress >= 2:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc=desc, unit="batch")
    elif progress == 1:  # the time left in proportion to the padded tokens
        work = [len(idx) * int(lengths[idx].max()) for idx in batches]
        batches = tracked(batches, len(batches), desc.lower(), work=work)
    if collate is None:

        def collate(rows):
            return pad_batch(rows, pad_token_id)

    with torch.inference_mode(), autocast(device, precision):
        for idx in batches:
            batch = collate([features[i] for i in idx])
            batch = {k: v.to(device) for k, v in batch.items()}
            yield idx, to_cpu(forward(batch))


def gather(batches: Iterator[tuple[np.ndarray, Any]], n: int) -> np.ndarray:
    """Batches of ``(indices, tensor of shape (b, ...))`` as one array in row
    order (float32)."""
    out: np.ndarray | None = None
    for idx, values in batches:
        values = values.numpy()
        if out is None:
            out = np.empty((n, *values.shape[1:]), dtype=np.float32)
        out[idx] = values
    if out is None:
        raise ValueError("No rows to run the model on.")
    return out


def ragged(
    batches: Iterator[tuple[np.ndarray, Any]], features: Sequence[dict[str, Any]]
) -> list[np.ndarray]:
    """Batches of ``(indices, tensor of shape (b, tokens, ...))`` as one array
    per row, in row order, each cut to its row's own tokens (the padding of
    its batch dropped)."""
    out: list[Any] = [None] * len(features)
    for idx, values in batches:
        values = values.numpy()
        for k, i in enumerate(idx):
            out[i] = values[k, : row_length(features[i])]
    return out


def to_cpu(out: Any) -> Any:
    """Tensors (possibly nested in tuples, lists or dicts) as float32 on the CPU."""
    import torch

    if isinstance(out, torch.Tensor):
        return out.detach().float().cpu() if out.is_floating_point() else out.cpu()
    if isinstance(out, tuple | list):
        return type(out)(to_cpu(o) for o in out)
    if isinstance(out, dict):
        return {k: to_cpu(v) for k, v in out.items()}
    return out


#: Distinct rows tokenized and run at a time: memory stays bounded whatever the
#: number of rows, and length-sorting within this many rows keeps padding low.
STREAM_ROWS = 4096
#: ... and at most this many tokens of ``max_length`` (rows x max_length): the
#: tokenized rows of a part are held as Python lists, so long rows take fewer
#: rows per part (1,024 at max_length=256, 4,096 at 64 and below).
STREAM_TOKENS = 2**18


def streamed(n: int, max_length: int | None = None) -> Iterator[range]:
    """Consecutive ranges of ``range(n)``: at most :data:`STREAM_ROWS` rows,
    and at most :data:`STREAM_TOKENS` tokens of ``max_length`` each."""
    step = STREAM_ROWS
    if max_length:
        step = max(1, min(step, STREAM_TOKENS // max_length))
    for start in range(0, n, step):
        yield range(start, min(start + step, n))


def by_parts(
    n_rows: int,
    max_length: int | None,
    tokenize: Callable[[range], Any],
    run: Callable[[Sequence[dict[str, Any]]], Iterator[tuple[np.ndarray, Any]]],
    reduce: Callable[[range, Any, list[np.ndarray]], Sequence[Any]],
) -> list[Any]:
    """One output per row for rows whose runs give ragged per-token logits
    (one array per sequence, one sequence or more per row), a part of rows
    at a time.

    For each part of :func:`streamed`: ``tokenize(part)`` gives the part's
    rows as sequences (an object with ``features``; the windows of a row all
    stay in its part, as parts are counted in rows), ``run(features)`` runs
    them (:func:`run_batches`), and ``reduce(part, tokenized, logits)`` turns
    the sequences' logits (:func:`ragged`) into one output per row of the
    part (its tags, its answer span). Only those are kept: the sequences and
    logits of a part are dropped before the next, so memory beyond the
    outputs stays bounded whatever the number of rows.
    """
    outputs: list[Any] = []
    for part in streamed(n_rows, max_length):
        tokenized = tokenize(part)
        logits = ragged(run(tokenized.features), tokenized.features)
        outputs.extend(reduce(part, tokenized, logits))
        del tokenized, logits  # before the next part is tokenized
    return outputs


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64 (an empty array gives an empty one)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - (z.max(axis=-1, keepdims=True) if z.size else 0.0)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def embed(
    forward: Callable[[dict[str, Any]], Any],
    tokenizer: Any,
    text_input: Any,
    *,
    max_length: int,
    pooling: str,
    batch_size: int,
    device: Any,
    precision: str,
    long_text: str = "truncate",
    stride: int = 0,
    normalize: bool = False,
    input_names: set[str] | None = None,
    progress: int = 0,
) -> np.ndarray:
    """Encode rows into pooled float32 embeddings, in input order.

    ``forward`` maps a padded batch to the last hidden states ``(batch,
    tokens, dim)``. Each distinct row is encoded once; long rows are
    truncated (with one warning) or chunked, their chunks' vectors pooled.
    Rows are tokenized and run a bounded number at a time (:func:`streamed`)
    and written into one preallocated array, so memory beyond the output stays
    bounded.
    """
    import torch

    from .._text.pooling import pool, pool_chunks
    from .._text.tokenize import pad_token_id, tokenize, unique_rows, warn_truncated

    uniq, inverse = unique_rows(text_input)

    def pooled(batch):
        return pool(forward(batch).float(), batch["attention_mask"], pooling)

    bar = None
    if progress >= 2:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(uniq), desc="Encoding", unit="text")
    lines = Progress("encoding", len(uniq), "texts") if progress == 1 else None
    out: np.ndarray | None = None
    n_truncated = 0
    for part in streamed(len(uniq), max_length):
        tok = tokenize(
            tokenizer,
            uniq.take(part),
            max_length=max_length,
            long_text=long_text,
            stride=stride,
            input_names=input_names,
        )
        n_truncated += tok.n_truncated
        batches = run_batches(
            pooled,
            tok.features,
            batch_size=batch_size,
            device=device,
            precision=precision,
            pad_token_id=pad_token_id(tokenizer),
        )
        if lines is not None:
            batches = _followed(batches, lines, part, tok.features, len(uniq))
        vectors = torch.from_numpy(gather(batches, len(tok.features)))
        if len(tok.features) != tok.n_rows:
            vectors = pool_chunks(
                vectors,
                torch.as_tensor(tok.owners),
                torch.as_tensor(tok.lengths(), dtype=torch.float32),
                tok.n_rows,
                pooling,
            )
        if normalize:
            vectors = torch.nn.functional.normalize(vectors, dim=1)
        if out is None:
            out = np.empty((len(uniq), vectors.shape[1]), dtype=np.float32)
        out[part.start : part.stop] = vectors.numpy()
        if bar is not None:
            bar.update(len(part))
    if bar is not None:
        bar.close()
    warn_truncated(n_truncated, max_length, can_chunk=True)
    assert out is not None
    # Without repeated rows the distinct rows are the rows, in order: no copy.
    return out if len(uniq) == len(inverse) else out[inverse]


def _followed(
    batches: Iterator[tuple[np.ndarray, Any]],
    lines: Progress,
    part: range,
    features: Sequence[dict[str, Any]],
    n_texts: int,
) -> Iterator[tuple[np.ndarray, Any]]:
    """``batches`` of a part's sequences, telling ``lines`` how many texts
    are done (the part's texts in proportion to its sequences run) and what
    fraction of the work (the part's in proportion to its tokens run; the
    longest run first)."""
    lengths = [row_length(f) for f in features]
    part_tokens = max(1, sum(lengths))
    run = tokens = 0
    for idx, out in batches:
        yield idx, out
        run += len(idx)
        tokens += sum(lengths[i] for i in idx)
        done = part.start + len(part) * run // max(1, len(features))
        share = len(part) * tokens / part_tokens
        lines.update(done, (part.start + share) / max(1, n_texts))
