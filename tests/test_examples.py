"""The gallery's examples (``examples/plot_*.py``) run to the end.

Each runs in its own process, as ``python examples/plot_x.py`` would, with
the non-interactive ``Agg`` backend (so ``plt.show()`` returns at once) and
offline. They use the bundled model and real data, and take one to two
minutes each on two CPU cores: marked ``slow``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
#: Limit per example, far above the two minutes each should take.
TIMEOUT_S = 20 * 60


def test_gallery_has_examples():
    assert EXAMPLES, "examples/plot_*.py not found"


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        # the package under test, not another installed copy
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    result = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,  # an example writes nothing into the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, (
        f"{path.name} exited with {result.returncode}:\n{result.stderr[-4000:]}"
    )
