"""Bar chart of the speed ratios against each benchmark's peer (for the docs).

Reads the ``summary`` list of the speed benchmarks' JSON results
(``benchmarks/results/encode.json``: ours vs sentence-transformers in
texts/s; ``benchmarks/results/finetune_speed.json``: ours vs the Hugging Face
Trainer in training samples/s) and draws one panel per benchmark: a
horizontal bar per case and configuration of ours, its length the ratio to
the peer (1.0 = as fast as the peer, drawn as a line). The machine, thread
count and load average of each run are written under its panel. Results in
an older format (no ``summary``) are skipped with a note.

Run it with::

    python benchmarks/plot_results.py                  # results/speed.png
    python benchmarks/plot_results.py --quick          # results/quick/speed.png
    python benchmarks/plot_results.py --inputs a.json b.json --output speed.png

It needs matplotlib (Agg backend, no display). ``run_all.py`` calls it at
the end of a run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import _harness as h

BENCHMARKS = ("encode", "finetune_speed")
TITLES = {
    "encode": "Encoding: texts/s vs sentence-transformers",
    "finetune_speed": "Fine-tuning: training samples/s vs transformers Trainer",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--inputs", type=Path, nargs="*", default=None, help="result JSON files"
    )
    parser.add_argument("--output", type=Path, default=None, help="PNG to write")
    parser.add_argument(
        "--quick", action="store_true", help="read and write benchmarks/results/quick/"
    )
    args = parser.parse_args(argv)
    folder = h.QUICK_DIR if args.quick else h.RESULTS_DIR
    if args.inputs is None:
        args.inputs = [folder / f"{name}.json" for name in BENCHMARKS]
    args.output = args.output or folder / "speed.png"
    return args


def load(paths: list[Path]) -> list[dict[str, Any]]:
    """The results that have a ``summary`` (others are reported and skipped)."""
    results = []
    for path in paths:
        if not path.is_file():
            h.warn(f"skipped {path}: not found")
            continue
        result = json.loads(path.read_text())
        if not result.get("summary"):
            h.warn(f"skipped {path}: no 'summary' (older format)")
            continue
        results.append(result)
    return results


def plot(results: list[dict[str, Any]], output: Path) -> Path:
    """Draw the chart of ``results`` to ``output`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not results:
        raise SystemExit("no results with a summary to plot")
    bars_per_panel = [sum(not row["is_peer"] for row in r["summary"]) for r in results]
    fig, axes = plt.subplots(
        len(results),
        1,
        figsize=(8, 1.4 + sum(0.32 * n + 1.0 for n in bars_per_panel)),
        gridspec_kw={"height_ratios": [max(n, 1) + 2 for n in bars_per_panel]},
        squeeze=False,
    )
    for ax, result in zip(axes[:, 0], results, strict=True):
        rows = [row for row in result["summary"] if not row["is_peer"]]
        labels = [f"{row['case']} | {row['contender']}" for row in rows]
        ratios = [row["ratio_vs_peer"] for row in rows]
        contenders = list(dict.fromkeys(row["contender"] for row in rows))
        cmap = plt.get_cmap("tab10")
        colors = [cmap(contenders.index(row["contender"]) % 10) for row in rows]
        y = list(range(len(rows)))[::-1]
        ax.barh(y, ratios, color=colors)
        ax.axvline(1.0, color="black", linewidth=1)
        ax.set_yticks(y, labels, fontsize=8)
        for yi, ratio in zip(y, ratios, strict=True):
            ax.text(ratio, yi, f" {ratio:.2f}x", va="center", fontsize=8)
        ax.set_xlim(0, max([*ratios, 1.0]) * 1.18)
        name = result["benchmark"]
        ax.set_title(TITLES.get(name, name), fontsize=10)
        m = result["machine"]
        quick = result["settings"].get("quick")
        ax.set_xlabel(
            f"ratio vs {result['peer']} (higher is faster)\n"
            f"{m['cpu']}, {m['torch_threads']} threads, torch "
            f"{m['versions']['torch']}, load {h.first_load(m['load_average_before'])}"
            + (" - QUICK SMOKE RUN, not a measurement" if quick else ""),
            fontsize=8,
        )
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    plt.close(fig)
    return output


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = plot(load(args.inputs), args.output)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
