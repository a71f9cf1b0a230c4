"""Device, precision and seeding helpers (torch imported lazily)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any


def resolve_device(device: str) -> Any:
    """Map ``device`` (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...) to a
    ``torch.device``; ``"auto"`` picks CUDA, then MPS, then the CPU."""
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a device torch knows; use 'auto', 'cpu', "
            "'cuda' or 'cuda:<index>'."
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available; "
            "use device='auto' or 'cpu'."
        )
    return dev


def resolve_precision(precision: str, device: Any) -> str:
    """The precision to compute in: ``"auto"`` is ``"bfloat16"`` where the
    device has native bfloat16 matrix units, ``"float32"`` elsewhere."""
    if precision != "auto":
        return precision
    return "bfloat16" if native_bfloat16(device) else "float32"


def native_bfloat16(device: Any) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices natively: a CUDA GPU of
    compute capability 8.0 or newer (Ampere and later), or a CPU with AMX or
    AVX512-BF16 instructions. Elsewhere bfloat16 is emulated and slower than
    float32."""
    import torch

    if device.type == "cuda":
        index = device.index if device.index is not None else 0
        return torch.cuda.get_device_capability(index)[0] >= 8
    if device.type == "cpu":
        return bool(cpu_bfloat16_flags())
    return False


@functools.lru_cache(maxsize=1)
def cpu_bfloat16_flags() -> tuple[str, ...]:
    """The CPU's bfloat16 matrix instructions (``amx_bf16``, ``avx512_bf16``),
    read once from ``/proc/cpuinfo`` (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return tuple(f for f in ("amx_bf16", "avx512_bf16") if f in flags)
    except OSError:
        pass
    return ()


def autocast(device: Any, precision: str) -> contextlib.AbstractContextManager:
    """Autocast context for ``precision`` on ``device`` (no-op for float32)."""
    import torch

    if precision == "float32":
        return contextlib.nullcontext()
    dtype = getattr(torch, precision)
    if device.type == "cpu" and dtype == torch.float16:
        raise ValueError(
            "precision='float16' is not supported on the CPU; use 'bfloat16'."
        )
    return torch.autocast(device_type=device.type, dtype=dtype)


def seed_from(random_state: Any) -> int:
    """An integer seed from a ``random_state`` value (None draws one)."""
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(0, 2**31 - 1))


@contextlib.contextmanager
def seeded(seed: int, device: Any = None) -> Iterator[None]:
    """Run with torch's generators seeded by ``seed``, then restore them.

    Seeds the CPU generator and, for a CUDA ``device``, that device's
    generator; both are forked, so code outside the block never sees a
    reseeded generator, and no other device is touched (CUDA is not
    initialised for a CPU fit).
    """
    import torch

    cuda = device is not None and getattr(device, "type", None) == "cuda"
    index = None
    if cuda:
        index = (
            device.index if device.index is not None else torch.cuda.current_device()
        )
    with torch.random.fork_rng(devices=[index] if cuda else []):
        torch.random.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def release_memory(device: Any) -> None:
    """Return cached accelerator memory to the driver after fit / predict.

    A no-op on the CPU: there is no cache to return, and a full ``gc.collect``
    costs about half a second per call once transformers is imported.
    """
    if getattr(device, "type", None) != "cuda":
        return
    import gc

    import torch

    gc.collect()
    torch.cuda.empty_cache()
