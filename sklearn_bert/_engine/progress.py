"""Progress lines for long loops at ``verbose=1``.

A training or validation epoch, a prediction or an encoding that runs long
prints a line at most every :data:`INTERVAL` seconds of wall time, to
standard output (where skorch prints its per-epoch lines)::

    epoch 1/3: 120/480 batches, 35 s, about 1 min 45 s left

A loop that ends within :data:`INTERVAL` seconds prints nothing, so small fits
stay as quiet as before. ``verbose=0`` prints nothing; ``verbose>=2`` shows
progress bars instead of these lines. :class:`Progress` is the one
implementation: the training loop (:class:`~._engine.net.BertNet`) and the
inference loop (:func:`~._engine.inference.run_batches`,
:func:`~._engine.inference.embed`) use it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

#: Least wall-clock seconds from a loop's start to its first line, and
#: between two lines.
INTERVAL = 15.0


def _now() -> float:
    """The clock of the lines (a monotonic wall clock, in seconds)."""
    return time.monotonic()


def duration(seconds: float) -> str:
    """``"35 s"``, ``"1 min 45 s"``, ``"2 h 5 min"``."""
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


class Progress:
    """Throttled progress lines of one loop over ``total`` units.

    The clock starts at construction; :meth:`update` with the units done so
    far prints a line when :data:`INTERVAL` seconds have passed since the
    start or the previous line, and the loop is not finished. The time left
    is the time so far scaled to the work left: ``fraction`` of the work done
    when the units are unequal (inference runs the longest texts first),
    else ``done / total``.
    """

    def __init__(self, label: str, total: int, unit: str = "batches"):
        self.label = label
        self.total = total
        self.unit = unit
        self.start = self.last = _now()

    def update(self, done: int, fraction: float | None = None) -> None:
        if not 0 < done < self.total:
            return
        now = _now()
        if now - self.last < INTERVAL:
            return
        self.last = now
        if fraction is None or not 0 < fraction < 1:
            fraction = done / self.total
        print(self.line(done, now - self.start, fraction), flush=True)

    def line(self, done: int, elapsed: float, fraction: float) -> str:
        left = elapsed / fraction * (1 - fraction)
        return (
            f"{self.label}: {done}/{self.total} {self.unit}, {duration(elapsed)}, "
            f"about {duration(left)} left"
        )


def tracked(
    iterable: Iterable[Any],
    total: int,
    label: str,
    unit: str = "batches",
    work: Sequence[float] | None = None,
) -> Iterator[Any]:
    """``iterable``'s items, with a :class:`Progress` line now and then; an
    item counts as done when the next one is asked for. ``work``: the
    items' relative costs (default: equal)."""
    progress = Progress(label, total, unit)
    done_work = 0.0
    total_work = float(sum(work)) if work is not None else 0.0
    for done, item in enumerate(iterable, start=1):
        yield item
        fraction = None
        if work is not None and total_work > 0:
            done_work += work[done - 1]
            fraction = done_work / total_work
        progress.update(done, fraction)


class TrackedLoader:
    """A data loader whose every pass (one epoch) reports its progress;
    ``label`` gives the label of the pass that starts."""

    def __init__(self, loader: Any, label: Any):
        self.loader = loader
        self.label = label

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Any]:
        return tracked(self.loader, len(self.loader), self.label())

    def __getattr__(self, name: str) -> Any:
        loader = self.__dict__.get("loader")
        if loader is None:
            raise AttributeError(name)
        return getattr(loader, name)
