"""Peak GPU memory of the kernels' graphs under each disposal policy: `ddspgl memory`.

Each kernel's manifest entry names the graphs to profile (``memory``): for the harmonic
synthesizer, ddspgl's passes and the op chain a converted DDSP graph runs on TF.js, both
on the same production-shaped controls (kernels/memory_graphs.py). For each graph, length
and storage the planner predicts the accounting of every policy
(:mod:`ddspgl.harness.pipeline`); where the graph fits the context's texture limit it is
also run under every policy, and the report records that the measured accounting equals
the plan and that the outputs are bitwise identical.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..harness import pipeline
from ..harness.context import STORAGES, Context
from ..kernels import manifest, memory_graphs
from . import figures, reports

SAMPLE_RATE = memory_graphs.SAMPLE_RATE
HARMONICS = memory_graphs.HARMONICS
LENGTHS = (64000, 10 * 60 * SAMPLE_RATE)  # 4 s, 10 minutes
REPORT_DIR = Path("reports") / "memory"
MIB = 1 << 20
UNLIMITED = 1 << 20  # a texture limit no graph here reaches, for planning alone


def entries(kernels: Iterable[str] | None = None) -> list[manifest.Kernel]:
    """The named kernels' entries (every kernel with memory graphs by default)."""
    return manifest.select(kernels, having="memory")


def graph(kernel: str, name: str, n_samples: int, storage: str) -> tuple[pipeline.Graph, str]:
    """(graph, output value) of graph `name` of `kernel` on `n_samples` samples."""
    graphs = entries([kernel])[0].memory.graphs
    if name not in graphs:
        raise ValueError(f"graph: {kernel} has {tuple(graphs)}, not {name!r}")
    return graphs[name].build(n_samples, storage)


def _trace(snapshots: list[pipeline.Snapshot]) -> dict:
    peak = max(snapshots, key=lambda s: s.bytes)
    return {
        "peak_bytes": peak.bytes,
        "peak_textures": peak.textures,
        "peak_pass": peak.label,
        "peak_by_format": dict(peak.by_format),
        "bytes": [s.bytes for s in snapshots],
        "textures": [s.textures for s in snapshots],
    }


def profile(ctx: Context, kernel: str, name: str, n_samples: int, storage: str) -> dict:
    """Planned (and, where it fits, measured) accounting of every policy for one graph."""
    g, audio = graph(kernel, name, n_samples, storage)
    row = {
        "kernel": kernel,
        "graph": name,
        "n_samples": n_samples,
        "storage": storage,
        "passes": len(g.passes),
        "labels": [p.label for p in g.passes],
        "policies": {},
    }
    try:
        plans = {p: pipeline.plan(g, p, ctx.max_texture_size) for p in pipeline.POLICIES}
    except ValueError as exc:
        # Still plan it, on a texture limit large enough, to say what it would take.
        row["fits"] = False
        row["why"] = str(exc)
        for policy in pipeline.POLICIES:
            pl = pipeline.plan(g, policy, UNLIMITED)
            row["policies"][policy] = _trace(pl.snapshots)
        return row
    row["fits"] = True
    outputs = {}
    for policy, pl in plans.items():
        start = time.perf_counter()
        with pipeline.execute(ctx, g, policy) as run:
            outputs[policy] = run.read(audio)
            seconds = time.perf_counter() - start
            measured = run.snapshots
        row["policies"][policy] = _trace(pl.snapshots) | {
            "measured_equals_plan": measured == pl.snapshots,
            "seconds": seconds,
        }
    first = outputs[pipeline.POLICIES[0]]
    row["identical"] = all(
        np.array_equal(first.view(np.uint32), out.view(np.uint32)) for out in outputs.values()
    )
    return row


def run_all(
    ctx: Context, lengths=LENGTHS, storages=STORAGES, progress=None, kernels=None
) -> list[dict]:
    """Every memory graph of the named kernels (all by default) at every length and storage."""
    rows = []
    for n in lengths:
        for entry in entries(kernels):
            for name in entry.memory.graphs:
                for storage in storages:
                    if progress:
                        progress(f"{entry.name} {name} {n} samples {storage}")
                    rows.append(profile(ctx, entry.name, name, n, storage))
    return rows


def check(rows: list[dict]) -> list[str]:
    """What is wrong with a set of rows: accounting off the plan, outputs differing."""
    problems = []
    for r in rows:
        what = f"{r.get('kernel', '')} {r['graph']} {r['n_samples']} {r['storage']}".strip()
        if not r.get("fits"):
            continue
        if not r["identical"]:
            problems.append(f"{what}: outputs differ between policies")
        for policy, t in r["policies"].items():
            if not t["measured_equals_plan"]:
                problems.append(f"{what}: {policy}: measured accounting differs from the plan")
    return problems


# -- report ------------------------------------------------------------------------------------


def _length(n: int) -> str:
    seconds = n / SAMPLE_RATE
    return f"{n} ({seconds / 60:g} min)" if seconds >= 60 else f"{n} ({seconds:g} s)"


def _about(rows: list[dict]) -> str:
    """The report's introduction: each profiled kernel and its graphs, from the manifest."""
    about = [manifest.get(name).memory for name in dict.fromkeys(r["kernel"] for r in rows)]
    graphs = "; ".join(f"`{g}`: {m.graphs[g].about}" for m in about for g in m.graphs)
    kernels = " ".join(m.about for m in about)
    return (
        f"{kernels} Peak bytes of textures held while any pass runs (inputs, "
        "intermediates, pooled and held textures, outputs), exact by internal format; "
        f"MiB = 2^20 bytes. {graphs}."
    )


def _graph(r: dict, rows: list[dict]) -> str:
    """A row's graph, named with its kernel where the rows hold several kernels."""
    several = len({x["kernel"] for x in rows}) > 1
    return f"{r['kernel']} {r['graph']}" if several else r["graph"]


def markdown(info: dict, rows: list[dict]) -> str:
    lines = [
        f"# GPU memory by disposal policy: {info['renderer']}",
        "",
        f"backend: {info['backend']} · {info['version']} · max texture size "
        f"{info['max_texture_size']}",
        "",
        _about(rows),
        "",
        "| graph | samples | storage | passes | keep MiB | pool MiB | early MiB "
        "| early / keep | early / pool | outputs identical | plan = measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        head = f"| {_graph(r, rows)} | {_length(r['n_samples'])} | {r['storage']} | {r['passes']} |"
        peak = {p: t["peak_bytes"] for p, t in r["policies"].items()}
        cells = (
            f"{peak['keep'] / MIB:.2f} | {peak['pool'] / MIB:.2f} | "
            f"{peak['early'] / MIB:.2f} | {peak['early'] / peak['keep']:.1%} | "
            f"{peak['early'] / peak['pool']:.1%}"
        )
        if not r["fits"]:
            lines.append(f"{head} {cells} | planned only | does not fit: {r['why']} |")
            continue
        exact = all(t["measured_equals_plan"] for t in r["policies"].values())
        lines.append(
            f"{head} {cells} | {'yes' if r['identical'] else 'NO'} | {'yes' if exact else 'NO'} |"
        )
    lines += [
        "",
        "Where the peak is, under `early`, by internal format (bytes):",
        "",
        "| graph | samples | storage | peak pass | by format |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        if r["policies"]:
            t = r["policies"]["early"]
            formats = ", ".join(f"{f} {b}" for f, b in sorted(t["peak_by_format"].items()))
            lines.append(
                f"| {_graph(r, rows)} | {r['n_samples']} | {r['storage']} | {t['peak_pass']} "
                f"| {formats} |"
            )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> None:
    """Bytes held while each pass runs, one panel per graph at the shortest length."""
    shown = [r for r in rows if r["fits"] and r["n_samples"] == min(x["n_samples"] for x in rows)]
    fig, axes = figures.plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.6), squeeze=False)
    for ax, r in zip(axes[0], shown, strict=True):
        for policy, style in zip(pipeline.POLICIES, ("-", "--", ":"), strict=True):
            t = r["policies"][policy]
            ax.step(
                range(1, r["passes"] + 1),
                np.array(t["bytes"]) / MIB,
                style,
                where="mid",
                label=f"{policy} (peak {t['peak_bytes'] / MIB:.1f} MiB)",
            )
        ax.set_title(f"{_graph(r, rows)}, {r['n_samples']} samples, {r['storage']}", fontsize=9)
        ax.set_xlabel("pass")
        ax.set_ylabel("MiB held")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    figures.save(fig, path)


def write_report(info: dict, slug: str, rows: list[dict], root: Path) -> list[Path]:
    """reports/memory/<slug>.{json,md,png} of :func:`run_all`'s rows."""
    payload = {"info": info, "rows": rows}
    text = markdown(info, rows)
    return reports.write(root / REPORT_DIR, slug, payload, text, lambda path: plot(rows, path))


# -- browser -----------------------------------------------------------------------------------

BROWSER_TARGET = 0.40  # ddspgl with early disposal vs the stock-op synth, peak bytes


def browser_markdown(info: dict, runs: list[dict]) -> str:
    """The browser runs of :func:`ddspgl.tools.browser.memory_runs` as a table: peak
    GPU bytes TF.js holds, sampled after every kernel, per TF.js mode."""
    if any("in_use" in r for r in runs):
        return _webgpu_markdown(info, runs)
    lines = [
        f"# GPU memory in the browser: {info['renderer']}",
        "",
        f"{info['backend']} · {info['version']}",
        "",
        f"The DDSP harmonic synthesizer at {LENGTHS[0]} samples ({SAMPLE_RATE} Hz, "
        f"{HARMONICS} harmonics). Peak and final `tf.memory().numBytesInGPUAllocated`, "
        "sampled after every kernel (and every pass inside ddspgl's kernels); "
        "MiB = 2^20 bytes.",
        "",
        "| TF.js mode | synth | samples taken | peak MiB | final MiB | peak / stock | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for storage in dict.fromkeys(r["storage"] for r in runs):
        mode = [r for r in runs if r["storage"] == storage]
        stock = next((r["peak"] for r in mode if r["name"].startswith("stock")), None)
        for r in mode:
            ratio = f"{r['peak'] / stock:.1%}" if stock else "–"
            lines.append(
                f"| {storage} | {r['name']} | {len(r['bytes'])} | {r['peak'] / MIB:.2f} | "
                f"{r['final'] / MIB:.2f} | {ratio} | {r['seconds']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def _webgpu_markdown(info: dict, runs: list[dict]) -> str:
    """browser_markdown on TF.js's webgpu backend: allocated and in-use buffer bytes."""
    stock = next((r for r in runs if r["name"].startswith("stock")), None)
    lines = [
        f"# GPU memory in the browser: {info['renderer']}",
        "",
        f"{info['backend']} · {info['version']}",
        "",
        f"The DDSP harmonic synthesizer at {LENGTHS[0]} samples ({SAMPLE_RATE} Hz, "
        f"{HARMONICS} harmonics), each synth in a fresh page (an empty buffer pool). "
        "Sampled after every WebGPU dispatch and op (stock) or every pass and intermediate "
        "disposal (ddspgl), the readback and the output's disposal: "
        "`tf.memory().numBytesAllocatedInGPU` (GPU buffers TF.js's buffer manager has "
        "created, in use and pooled; it destroys none, so its peak is its final value) "
        "and `numBytesInGPU` (buffers in use; one released while the pending command "
        "encoder still reads it counts until TF.js submits the encoder, every "
        "`WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE` dispatches or at a readback). "
        "MiB = 2^20 bytes.",
        "",
        "| synth | samples taken | peak allocated MiB | peak in use MiB | final allocated MiB "
        "| final in use MiB | buffers at the end | allocated / stock | in use / stock "
        "| seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        ratios = (
            f"{r['peak'] / stock['peak']:.2%} | {r['peak_in_use'] / stock['peak_in_use']:.2%}"
            if stock
            else "– | –"
        )
        lines.append(
            f"| {r['name']} | {len(r['bytes'])} | {r['peak'] / MIB:.2f} | "
            f"{r['peak_in_use'] / MIB:.2f} | {r['final'] / MIB:.2f} | "
            f"{r['final_in_use'] / MIB:.2f} | {r['buffers'][-1]} | {ratios} | "
            f"{r['seconds']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def browser_plot(runs: list[dict], path: Path) -> None:
    """GPU bytes after every kernel, one panel per TF.js mode (on webgpu, allocated
    solid and in use dashed)."""
    storages = list(dict.fromkeys(r["storage"] for r in runs))
    fig, axes = figures.plt.subplots(
        1, len(storages), figsize=(6 * len(storages), 3.8), squeeze=False
    )
    for ax, storage in zip(axes[0], storages, strict=True):
        for i, r in enumerate(r for r in runs if r["storage"] == storage):
            color = f"C{i}"
            ax.step(
                range(1, len(r["bytes"]) + 1),
                np.array(r["bytes"]) / MIB,
                color=color,
                where="post",
                label=f"{r['name']} (peak {r['peak'] / MIB:.1f} MiB"
                + (" allocated)" if "in_use" in r else ")"),
            )
            if "in_use" in r:
                ax.step(
                    range(1, len(r["in_use"]) + 1),
                    np.array(r["in_use"]) / MIB,
                    "--",
                    color=color,
                    where="post",
                    label=f"{r['name']} (peak {r['peak_in_use'] / MIB:.1f} MiB in use)",
                )
        webgpu = any("in_use" in r for r in runs)
        ax.set_title(f"TF.js {'webgpu' if webgpu else storage + ' mode'}", fontsize=9)
        ax.set_xlabel("dispatch / pass" if webgpu else "kernel / pass")
        ax.set_ylabel("MiB (tf.memory)" if webgpu else "MiB allocated (tf.memory)")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    figures.save(fig, path)


def write_browser_report(info: dict, slug: str, runs: list[dict], root: Path) -> list[Path]:
    """reports/memory/<slug>.{json,md,png} of the browser's memory runs."""
    payload = {"info": info, "runs": runs}
    text = browser_markdown(info, runs)
    return reports.write(
        root / REPORT_DIR, slug, payload, text, lambda path: browser_plot(runs, path)
    )
