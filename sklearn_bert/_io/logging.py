"""Keeping transformers' own logging and progress bars under ``verbose``."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_quiet_depth = 0
_saved: tuple[int, bool] | None = None


@contextlib.contextmanager
def quiet_transformers(verbose: int) -> Iterator[None]:
    """Silence transformers' load reports and bars while ``verbose < 2``.

    Safe across threads: transformers' verbosity is global, so the first
    context to enter saves it and the last one to leave restores it (two
    overlapping contexts never restore each other's silenced state).
    """
    if verbose >= 2:
        yield
        return
    global _quiet_depth, _saved
    from transformers.utils import logging as hf_logging

    with _lock:
        if _quiet_depth == 0:
            _saved = (
                hf_logging.get_verbosity(),
                hf_logging.is_progress_bar_enabled(),
            )
            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
        _quiet_depth += 1
    try:
        yield
    finally:
        with _lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _saved is not None:
                level, bars = _saved
                hf_logging.set_verbosity(level)
                if bars:
                    hf_logging.enable_progress_bar()
                _saved = None
