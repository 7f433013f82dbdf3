"""The chart of a benchmark run: wall time and peak RSS against object count, per tool.

Usage: bench/.venv/bin/python bench/chart.py <results.json> <chart.png>  (run.ts calls it)
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

# key, legend, colour, marker, label offset (points): S3 labels above the line, the others below.
TOOLS = [
    ("baseline", "baseline: kube-aws dumper (kubectl | jq per type per namespace)", "#d62728", "s", -12),
    ("local", "kube-autosave to a folder", "#1f77b4", "o", -12),
    ("s3", "kube-autosave to S3 (versitygw)", "#17becf", "D", 6),
    ("floor", "floor: paginated GET, bodies discarded", "#2ca02c", "^", 6),
]


def main(results_path: str, chart_path: str) -> None:
    with open(results_path, encoding="utf-8") as f:
        results = json.load(f)
    sizes = results["sizes"]
    x = [s["objects"] for s in sizes]
    labels = [f"{s['objects']:,}\n{s['namespaces']} ns" for s in sizes]

    fig, (ax_time, ax_rss) = plt.subplots(1, 2, figsize=(13, 6), dpi=110)
    for key, label, color, marker, dy in TOOLS:
        secs = [s["summary"]["seconds"][key] for s in sizes]
        rss = [s["summary"]["rssMB"][key] for s in sizes]
        pts = [(a, b) for a, b in zip(x, secs) if b is not None]
        if pts:
            ax_time.plot(*zip(*pts), marker=marker, color=color, label=label, linewidth=2)
            for a, b in pts:
                ax_time.annotate(f"{b:.1f} s" if b < 100 else f"{b:.0f} s", (a, b),
                                 textcoords="offset points", xytext=(6, dy), fontsize=8, color=color)
        pts = [(a, b) for a, b in zip(x, rss) if b is not None]
        if pts:
            ax_rss.plot(*zip(*pts), marker=marker, color=color, label=label, linewidth=2)
            for a, b in pts:
                ax_rss.annotate(f"{b:.0f}", (a, b), textcoords="offset points", xytext=(6, dy),
                                fontsize=8, color=color)

    ax_time.set_xscale("log")
    ax_time.set_yscale("log")
    ax_time.set_title("Wall time per snapshot (log scale, lower is better)")
    ax_time.set_ylabel("seconds")
    ax_time.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax_rss.set_xscale("log")
    ax_rss.axhline(150, color="#555", linestyle="--", linewidth=1)
    ax_rss.annotate("target: ≤ 150 MB at 50k objects", (x[-1], 150), textcoords="offset points",
                    xytext=(-150, -12), fontsize=8, color="#555")
    highest = max([150] + [v for s in sizes for v in s["summary"]["rssMB"].values() if v is not None])
    ax_rss.set_ylim(0, highest * 1.15)
    ax_rss.set_title("Peak RSS of the process (baseline: its largest process)")
    ax_rss.set_ylabel("MB")
    for ax in (ax_time, ax_rss):
        ax.set_xlabel("objects created (namespaces)")
        ax.set_xticks(x)
        ax.set_xticklabels(labels)
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
    handles, names = ax_time.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize=9, frameon=False)
    load = results["loadavg"]
    fig.suptitle(
        f"kube-autosave benchmark, {results['date']} — {results['machine']['cpus']} cores, "
        f"kube-apiserver {results['machine']['kubernetes']} on etcd, 127.0.0.1; "
        f"load avg {load['start'][0]:.2f} → {load['end'][0]:.2f}",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.1, 1, 0.95))
    fig.savefig(chart_path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
