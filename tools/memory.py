"""Peak GPU memory of the DDSP synthesizer under each disposal policy: `ddspgl memory`.

Two graphs synthesize the same production-shaped controls (16 kHz, 250 frames per
second, 100 harmonics, batch 1):

``ddspgl``
    the harmonic kernel's passes (kernels/harmonic.py): frame controls -> frame phase
    increments -> their scan -> frame gains -> one audio-rate pass that upsamples inside
    it. Nothing of size [K, n_samples] exists.
``opchain``
    the same synthesis as a converted DDSP graph runs it on TF.js
    (kernels/harmonic_opchain.py): frame gains -> upsampled frequencies and amplitudes,
    [K, n_samples] each -> TF.js's Hillis-Steele cumsum over them -> sin * amplitude ->
    sum over harmonics.

For each graph, length and storage the planner predicts the accounting of every policy
(:mod:`ddspgl.harness.pipeline`); where the graph fits the context's texture limit it
is also run under every policy, and the report records that the measured accounting
equals the plan and that the outputs are bitwise identical.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..harness import pipeline
from ..harness.context import STORAGES, Context
from ..kernels import harmonic, harmonic_opchain

SAMPLE_RATE = 16000
FRAME_RATE = 250
HARMONICS = 100
LENGTHS = (64000, 10 * 60 * SAMPLE_RATE)  # 4 s, 10 minutes
GRAPHS = ("ddspgl", "opchain")
REPORT_DIR = Path("reports") / "memory"
MIB = 1 << 20
UNLIMITED = 1 << 20  # a texture limit no graph here reaches, for planning alone


def controls(n_samples: int, seed: int = 0):
    """f0 [1, frames] (a 220 Hz note with 5.5 Hz vibrato), amplitude [1, frames] and a
    random harmonic distribution [1, frames, K], as a DDSP decoder would emit them."""
    frames = n_samples * FRAME_RATE // SAMPLE_RATE
    t = np.arange(frames) / FRAME_RATE
    f0 = 220.0 * 2.0 ** (np.sin(2 * np.pi * 5.5 * t) / 12)
    amp = 0.5 + 0.3 * np.sin(2 * np.pi * 0.5 * t)
    dist = np.random.default_rng(seed).uniform(0.0, 1.0, (1, frames, HARMONICS))
    return (
        f0[None].astype(np.float32),
        amp[None].astype(np.float32),
        dist.astype(np.float32),
    )


def graph(name: str, n_samples: int, storage: str) -> tuple[pipeline.Graph, str]:
    """(graph, audio output value) of synthesizing `n_samples` with graph `name`."""
    f0, amp, dist, sr32, _, shape = harmonic.check(
        *controls(n_samples), sample_rate=SAMPLE_RATE, n_samples=n_samples, add_endpoint=True
    )
    if name == "ddspgl":
        modulus = harmonic.phase_modulus(sr32, shape.hop)
        g, audio, *_ = harmonic.graph(
            f0, amp, dist, sr32, None, shape, modulus, normalize=True, storage=storage
        )
        return g, audio
    if name == "opchain":
        return harmonic_opchain.graph(f0, amp, dist, sr32, shape, normalize=True, storage=storage)
    raise ValueError(f"graph must be one of {GRAPHS}, got {name!r}")


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


def profile(ctx: Context, name: str, n_samples: int, storage: str) -> dict:
    """Planned (and, where it fits, measured) accounting of every policy for one graph."""
    g, audio = graph(name, n_samples, storage)
    row = {
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


def run_all(ctx: Context, lengths=LENGTHS, storages=STORAGES, progress=None) -> list[dict]:
    rows = []
    for n in lengths:
        for name in GRAPHS:
            for storage in storages:
                if progress:
                    progress(f"{name} {n} samples {storage}")
                rows.append(profile(ctx, name, n, storage))
    return rows


def check(rows: list[dict]) -> list[str]:
    """What is wrong with a set of rows: accounting off the plan, outputs differing."""
    problems = []
    for r in rows:
        what = f"{r['graph']} {r['n_samples']} {r['storage']}"
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


def markdown(info: dict, rows: list[dict]) -> str:
    lines = [
        f"# GPU memory by disposal policy: {info['renderer']}",
        "",
        f"backend: {info['backend']} · {info['version']} · max texture size "
        f"{info['max_texture_size']}",
        "",
        f"The DDSP harmonic synthesizer, {SAMPLE_RATE} Hz, {FRAME_RATE} frames/s, "
        f"{HARMONICS} harmonics, batch 1. Peak bytes of textures held while any pass "
        "runs (inputs, intermediates, pooled and held textures, outputs), exact by "
        "internal format; MiB = 2^20 bytes. `ddspgl`: this project's kernels; `opchain`: "
        "the same synthesis as a converted DDSP graph runs it on TF.js.",
        "",
        "| graph | samples | storage | passes | keep MiB | pool MiB | early MiB "
        "| early / keep | early / pool | outputs identical | plan = measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        head = f"| {r['graph']} | {_length(r['n_samples'])} | {r['storage']} | {r['passes']} |"
        peak = {p: t["peak_bytes"] for p, t in r["policies"].items()}
        figures = (
            f"{peak['keep'] / MIB:.2f} | {peak['pool'] / MIB:.2f} | "
            f"{peak['early'] / MIB:.2f} | {peak['early'] / peak['keep']:.1%} | "
            f"{peak['early'] / peak['pool']:.1%}"
        )
        if not r["fits"]:
            lines.append(f"{head} {figures} | planned only | does not fit: {r['why']} |")
            continue
        exact = all(t["measured_equals_plan"] for t in r["policies"].values())
        lines.append(
            f"{head} {figures} | {'yes' if r['identical'] else 'NO'} | {'yes' if exact else 'NO'} |"
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
                f"| {r['graph']} | {r['n_samples']} | {r['storage']} | {t['peak_pass']} "
                f"| {formats} |"
            )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> None:
    """Bytes held while each pass runs, one panel per graph at the shortest length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r["fits"] and r["n_samples"] == min(x["n_samples"] for x in rows)]
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.6), squeeze=False)
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
        ax.set_title(f"{r['graph']}, {r['n_samples']} samples, {r['storage']}", fontsize=9)
        ax.set_xlabel("pass")
        ax.set_ylabel("MiB held")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    _save(fig, path)


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write(root: Path, slug: str, payload: dict, text: str, draw) -> list[Path]:
    """reports/memory/<slug>.json, .md and .png (drawn by `draw(path)`)."""
    out = root / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{slug}.json", out / f"{slug}.md", out / f"{slug}.png"]
    paths[0].write_text(json.dumps(payload, indent=1) + "\n")
    paths[1].write_text(text)
    draw(paths[2])
    return paths


def write_report(info: dict, slug: str, rows: list[dict], root: Path) -> list[Path]:
    payload = {"info": info, "rows": rows}
    return _write(root, slug, payload, markdown(info, rows), lambda path: plot(rows, path))


# -- browser -----------------------------------------------------------------------------------

BROWSER_TARGET = 0.40  # ddspgl with early disposal vs the stock-op synth, peak bytes


def browser_markdown(info: dict, runs: list[dict]) -> str:
    """The browser runs of :func:`ddspgl.harness.browser.memory_runs` as a table: peak
    ``tf.memory().numBytesInGPUAllocated`` sampled after every kernel, per TF.js mode."""
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


def browser_plot(runs: list[dict], path: Path) -> None:
    """numBytesInGPUAllocated after every kernel, one panel per TF.js mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    storages = list(dict.fromkeys(r["storage"] for r in runs))
    fig, axes = plt.subplots(1, len(storages), figsize=(6 * len(storages), 3.8), squeeze=False)
    for ax, storage in zip(axes[0], storages, strict=True):
        for r in (r for r in runs if r["storage"] == storage):
            ax.step(
                range(1, len(r["bytes"]) + 1),
                np.array(r["bytes"]) / MIB,
                where="post",
                label=f"{r['name']} (peak {r['peak'] / MIB:.1f} MiB)",
            )
        ax.set_title(f"TF.js {storage} mode", fontsize=9)
        ax.set_xlabel("kernel / pass")
        ax.set_ylabel("MiB allocated (tf.memory)")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    _save(fig, path)


def write_browser_report(info: dict, slug: str, runs: list[dict], root: Path) -> list[Path]:
    payload = {"info": info, "runs": runs}
    text = browser_markdown(info, runs)
    return _write(root, slug, payload, text, lambda path: browser_plot(runs, path))
