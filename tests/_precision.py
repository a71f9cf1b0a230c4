"""The precision a numerical test is about, the tolerance that goes with it, and
the switch that runs the suite as a machine with native bfloat16 runs it.

One table, :data:`TOLERANCE`, says how closely two computations of the same
output agree (batched vs unbatched, an exported folder vs the estimator, two
processes vs one, a pickle loaded elsewhere) when the estimator computed in a
given precision. Tests take their tolerance from :func:`assert_agree` with the
precision the estimator recorded (``precision_``) or the one they pin; none
states its own. ``docs/machines.rst`` prints the same table and
``tests/test_machines.py`` checks that the two agree.

``precision="auto"`` is ``"bfloat16"`` on CPUs with AMX or AVX512-BF16 units
and ``"float32"`` elsewhere. Set ``SKLEARN_BERT_TEST_BFLOAT16`` to make the
detection answer as another machine would:

- ``native``: as on a CPU with bfloat16 units (bfloat16 is emulated where the
  units are missing: slower, the same numerics);
- ``absent``: as on a CPU without them;
- unset or empty: this machine's own answer.

Only the tests read the variable: :func:`apply_bfloat16_switch` patches the
library's detection in the test process (``conftest.py``), in Dask's worker
processes (``client.run``) and in scripts the tests start themselves.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

SWITCH = "SKLEARN_BERT_TEST_BFLOAT16"

# rtol / atol for outputs of one computation done twice (probabilities,
# logits, embeddings of a tiny or real model, regression outputs of order 1).
# float32: the same weights and inputs differ only in summation order
# (padding, batch composition, another process or loader).
# bfloat16: autocast rounds every matrix product's inputs to 8 significant
# bits; the error of one output is a few units of 2**-8 (0.4 %).
# float16: 11 significant bits, GPU only.
TOLERANCE: dict[str, dict[str, float]] = {
    "float32": {"rtol": 1e-4, "atol": 1e-5},
    "bfloat16": {"rtol": 2e-2, "atol": 1e-2},
    "float16": {"rtol": 5e-3, "atol": 5e-3},
}

# Precisions every machine computes (bfloat16 emulated where not native).
CPU_PRECISIONS = ("float32", "bfloat16")


def tolerance(*precisions: str) -> dict[str, float]:
    """``rtol``/``atol`` for outputs computed in ``precisions`` (the loosest
    wins: a bfloat16 output against a float32 reference is compared at the
    bfloat16 tolerance)."""
    known = [TOLERANCE[p] for p in precisions]
    return {
        "rtol": max(t["rtol"] for t in known),
        "atol": max(t["atol"] for t in known),
    }


def precision_of(estimator: Any) -> str:
    """The precision a fitted estimator computed in (``precision_``)."""
    return estimator.precision_


def assert_agree(actual: Any, desired: Any, *precisions: str, err_msg: str = ""):
    """``np.testing.assert_allclose`` at the tolerance of ``precisions``."""
    if not precisions:
        raise TypeError("name the precision(s) the outputs were computed in")
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(desired, dtype=float),
        err_msg=err_msg or f"outputs computed in {'/'.join(precisions)}",
        **tolerance(*precisions),
    )


def switch_value() -> str:
    """``native``, ``absent`` or ``""`` (this machine), from the environment."""
    value = os.environ.get(SWITCH, "").strip().lower()
    if value not in ("", "native", "absent"):
        raise ValueError(
            f"{SWITCH}={value!r}: use 'native', 'absent' or leave it unset"
        )
    return value


def apply_bfloat16_switch() -> str:
    """Make the library's CPU detection answer as ``SKLEARN_BERT_TEST_BFLOAT16``
    says, in this process; returns the flags the detection now reports."""
    from sklearn_bert._engine import device

    value = switch_value()
    if value == "native":
        device.cpu_bfloat16_flags = lambda: ("avx512_bf16",)
    elif value == "absent":
        device.cpu_bfloat16_flags = lambda: ()
    return ",".join(device.cpu_bfloat16_flags())


def cpu_auto_precision() -> str:
    """What ``precision="auto"`` resolves to on the CPU in this run."""
    import torch

    from sklearn_bert._engine.device import resolve_precision

    return resolve_precision("auto", torch.device("cpu"))
