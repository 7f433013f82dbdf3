"""The chart of a benchmark run: wall time, peak RSS and CPU time per size, per tool.

One position per size, in the order run: the mix sizes (2k, 10k, 50k objects) joined by lines, the
heavy size (few but big objects) a separate point after a dotted line, since it is not more of the same.

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
# The reference build (--reference-dist), when measured: dashed, in kube-autosave's colours, no value
# labels (they would sit on kube-autosave's); its numbers are in the markdown table.
REFERENCE_TOOLS = [
    ("refLocal", "to a folder", "#1f77b4", "o"),
    ("refS3", "to S3", "#17becf", "D"),
]
APISERVER = ("API server during kube-autosave's folder run", "#7f7f7f", "x")
# Peak RSS targets per size name (MB).
RSS_TARGETS = {"50k": 150, "heavy": 200}


def size_label(s: dict) -> str:
    if s.get("kind") == "heavy":
        return f"heavy\n{s['populate']['bytesCreated'] / 1e6:.0f} MB, {s['namespaces']} ns"
    return f"{s['objects']:,}\n{s['namespaces']} ns"


def runs(sizes: list, values: list) -> list:
    """Points to join by a line: consecutive sizes of the same kind with a value."""
    out, current, kind = [], [], None
    for i, (s, v) in enumerate(zip(sizes, values)):
        k = s.get("kind", "mix")
        if v is None or k != kind:
            if current:
                out.append(current)
            current = []
        kind = k
        if v is not None:
            current.append((i, v))
    if current:
        out.append(current)
    return out


def plot(ax, sizes, values, label, color, marker, dy, fmt, linestyle="-"):
    """One tool's line; fmt=None: no value labels."""
    first = True
    for points in runs(sizes, values):
        ax.plot(*zip(*points), marker=marker, color=color, label=label if first else None, linewidth=2,
                linestyle=linestyle, markerfacecolor="none" if linestyle != "-" else color)
        first = False
        if fmt is None:
            continue
        for a, b in points:
            ax.annotate(fmt(b), (a, b), textcoords="offset points", xytext=(6, dy), fontsize=8, color=color)


def seconds(v: float) -> str:
    return f"{v:.1f} s" if v < 100 else f"{v:.0f} s"


def main(results_path: str, chart_path: str) -> None:
    with open(results_path, encoding="utf-8") as f:
        results = json.load(f)
    sizes = results["sizes"]
    x = list(range(len(sizes)))

    fig, (ax_time, ax_rss, ax_cpu) = plt.subplots(1, 3, figsize=(17, 6), dpi=110)
    for key, label, color, marker, dy in TOOLS:
        summary = [s["summary"] for s in sizes]
        plot(ax_time, sizes, [m["seconds"][key] for m in summary], label, color, marker, dy, seconds)
        plot(ax_rss, sizes, [m["rssMB"][key] for m in summary], label, color, marker, dy, lambda v: f"{v:.0f}")
        cpu = [m.get("cpuSeconds", {}).get(key) for m in summary]
        plot(ax_cpu, sizes, cpu, label, color, marker, dy, lambda v: f"{v:.1f}")
    reference = results.get("reference")
    if reference:
        for key, what, color, marker in REFERENCE_TOOLS:
            label = f"reference build ({reference['label']}) {what}, same runs"
            summary = [s["summary"] for s in sizes]
            for ax, field in ((ax_time, "seconds"), (ax_rss, "rssMB"), (ax_cpu, "cpuSeconds")):
                plot(ax, sizes, [m[field].get(key) for m in summary], label, color, marker, 0, None, "--")
    api = [s["summary"].get("apiserverCpuSeconds", {}).get("local") for s in sizes]
    plot(ax_cpu, sizes, api, APISERVER[0], APISERVER[1], APISERVER[2], 6, lambda v: f"{v:.1f}")

    for i, s in enumerate(sizes):
        target = RSS_TARGETS.get(s.get("name", ""))
        if target:
            ax_rss.hlines(target, i - 0.3, i + 0.3, color="#555", linestyle="--", linewidth=1)
            ax_rss.annotate(f"target ≤ {target}", (i - 0.3, target), textcoords="offset points",
                            xytext=(0, 4), fontsize=8, color="#555")
    # Log scale: the baseline's kubectl holds a whole list (over 1 GB at heavy), the others stay near 100 MB.
    ax_rss.set_yscale("log")
    ax_rss.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax_time.set_yscale("log")
    ax_time.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax_cpu.set_yscale("log")
    ax_cpu.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    pinned = results["options"].get("pinned")
    ax_time.set_title("Wall time per snapshot (log scale, lower is better)" + (", pinned cores" if pinned else ""))
    ax_time.set_ylabel("seconds")
    ax_rss.set_title("Peak RSS of the process (log scale; baseline: its largest process)")
    ax_rss.set_ylabel("MB")
    ax_cpu.set_title("CPU time, user + system (log scale)")
    ax_cpu.set_ylabel("CPU seconds")
    for ax in (ax_time, ax_rss, ax_cpu):
        ax.set_xlabel("size: objects created, namespaces")
        ax.set_xticks(x)
        ax.set_xticklabels([size_label(s) for s in sizes])
        ax.set_xlim(-0.5, len(sizes) - 0.5)
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
        for i in range(1, len(sizes)):
            if sizes[i].get("kind", "mix") != sizes[i - 1].get("kind", "mix"):
                ax.axvline(i - 0.5, color="#999", linestyle=":", linewidth=1)
    legend = {}
    for ax in (ax_time, ax_cpu):
        for handle, name in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(name, handle)
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=3, fontsize=9, frameon=False)
    load = results["loadavg"]
    fig.suptitle(
        f"kube-autosave benchmark, {results['date']} — {results['machine']['cpus']} cores"
        + (f" (servers on CPU {results['options']['serverCpus']}, tools on CPU {results['options']['toolCpus']})"
           if pinned else "")
        + f", kube-apiserver {results['machine']['kubernetes']} on etcd, 127.0.0.1; "
        f"load avg {load['start'][0]:.2f} → {load['end'][0]:.2f}",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.1, 1, 0.95))
    fig.savefig(chart_path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
