"""`ddspgl page-speed`: the timbre-transfer page's speed and GPU memory on a sung phrase.

What a user waits for: ``timbre.transfer`` (the page's own API, the path of its buttons)
on `seconds` of a synthetic sung phrase (:mod:`ddspgl.instruments.sung`, 16 kHz, alto),
in the page as ``ddspgl serve`` serves it (:class:`.app_browser.AppBrowser`: headless
Chromium, SwiftShader by default), for each instrument model and each TF.js storage mode
(float32 textures, and float16 as on phones, ``?storage=float16``).

Per storage and instrument, a fresh page: the first transfer (the model's download and
upload, shader compilation), then `reps` more, timed with ``performance.now()`` around
the call (the audio read back, as the page plays it). The page's own stage timings
(prepare, pitch, loudness, model) come with each. GPU memory is sampled after every WebGL
program TF.js runs and after every ddspgl pass and disposal (``ddspgl._onPass``):
``tf.memory().numBytesInGPUAllocated`` (textures allocated, TF.js's pool included) at its
most during the first transfer, above the fresh page's, and ``numBytesInGPU`` (textures
in use) at its most during a repeated one, above its value before it. The instrumenting
is the benchmark's, injected into the page; the page itself carries none.

Speed is reported, never asserted: on a shared machine the ratios of the table's columns
hold better than its seconds; the report gives the machine's load beside them.
"""

from __future__ import annotations

import base64
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import reports

FORMAT = "ddspgl-page-speed/1"
STORAGES = ("float32", "float16")
SECONDS = (1.0, 300.0)  # limits of --seconds: the page takes 0.5 s to 5 minutes
REPS = (1, 20)  # limits of --reps
SAMPLE_RATE = 16000
PHRASE_SEED = 5
MIB = 2.0**20

# In the page: the sampling hooks (installed once), then the first and `reps` more transfers.
MEASURE = """async ([name, x64, reps]) => {
  const bin = atob(x64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const x = new Float32Array(bytes.buffer);
  const most = {allocated: 0, inUse: 0};
  const sample = () => {
    const m = tf.memory();
    most.allocated = Math.max(most.allocated, m.numBytesInGPUAllocated);
    most.inUse = Math.max(most.inUse, m.numBytesInGPU);
  };
  const backend = tf.backend();
  const run = backend.runWebGLProgram.bind(backend);
  backend.runWebGLProgram = (...args) => {
    const out = run(...args);
    sample();
    return out;
  };
  const before = ddspgl._onPass(sample);
  const fresh = tf.memory().numBytesInGPUAllocated;
  const runs = [];
  try {
    for (let r = 0; r <= reps; r++) {
      const start = tf.memory();
      most.allocated = start.numBytesInGPUAllocated;
      most.inUse = start.numBytesInGPU;
      const t0 = performance.now();
      const res = await timbre.transfer(x, 16000, {instrument: name});
      const ms = performance.now() - t0;
      runs.push({ms, timings: res.timings, samples: res.audio.length,
                 finite: res.audio.every(Number.isFinite),
                 peakAllocatedBytes: most.allocated - fresh,
                 peakInUseBytes: most.inUse - start.numBytesInGPU});
    }
  } finally {
    backend.runWebGLProgram = run;
    ddspgl._onPass(before);
  }
  return runs;
}"""


class PageSpeedError(Exception):
    """Arguments out of range or an instrument the models folder lacks."""


def check(seconds: float, reps: int, storages) -> None:
    lo, hi = SECONDS
    if not (isinstance(seconds, (int, float)) and lo <= seconds <= hi):
        raise PageSpeedError(f"--seconds: must lie in [{lo:g}, {hi:g}], got {seconds}")
    lo_r, hi_r = REPS
    if not (isinstance(reps, int) and lo_r <= reps <= hi_r):
        raise PageSpeedError(f"--reps: must be a whole number in [{lo_r}, {hi_r}], got {reps}")
    bad = [s for s in storages if s not in STORAGES]
    if bad or not storages:
        raise PageSpeedError(
            f"--storage: one or more of {', '.join(STORAGES)}, got {list(storages)}"
        )


def phrase(seconds: float) -> np.ndarray:
    """The input: a synthetic sung phrase (alto, vibrato and glides), float32 at 16 kHz."""
    from ..instruments import sung

    return sung.phrase(PHRASE_SEED, seconds, sample_rate=SAMPLE_RATE, voice="alto").audio


def run(
    seconds: float = 10.0,
    reps: int = 3,
    instruments: list[str] | None = None,
    storages=STORAGES,
    models: Path | None = None,
    angle: str = "swiftshader",
    log: Callable[[str], None] = lambda _: None,
) -> dict:
    """The report's payload: {format, info, seconds, reps, load, rows}; `instruments`:
    default every model in `models` (default app/models)."""
    from . import serve
    from .app_browser import AppBrowser

    check(seconds, reps, storages)
    folder = Path(models) if models is not None else (serve.app_dir() or Path("app")) / "models"
    present = serve.instruments(folder)
    names = list(instruments) if instruments else present
    missing = [n for n in names if n not in present]
    if missing or not names:
        raise PageSpeedError(
            f"--instruments: {missing or 'none'} not among the models in {folder}: {present}"
        )
    x = phrase(seconds).astype(np.float32)
    x64 = base64.b64encode(x.tobytes()).decode()
    rows, info, load = [], {}, [os.getloadavg()[0]]
    for storage in storages:
        for k, name in enumerate(names):
            log(f"{storage}: {name} ({k + 1} of {len(names)}), {reps + 1} transfers")
            with AppBrowser(models=folder, angle=angle, storage=storage) as app:
                info = info or {key: app.info.get(key) for key in ("renderer", "tfjs")}
                runs = app.page.evaluate(MEASURE, [name, x64, reps])
                if app.problems():
                    raise PageSpeedError(f"the page reported: {app.problems()[:3]}")
            rows.append(_row(storage, name, runs, x.size))
            load.append(os.getloadavg()[0])
    return {
        "format": FORMAT,
        "info": {**info, "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")},
        "seconds": seconds,
        "reps": reps,
        "load": {"min": min(load), "max": max(load)},
        "rows": rows,
    }


def _row(storage: str, name: str, runs: list[dict], samples: int) -> dict:
    for r in runs:
        if r["samples"] != samples or not r["finite"]:
            raise PageSpeedError(
                f"{name} ({storage}): {r['samples']} samples out for {samples} in, "
                f"finite: {r['finite']}"
            )
    first, warm = runs[0], runs[1:]
    stage = {k: statistics.median(r["timings"][k] for r in warm) for k in warm[0]["timings"]}
    ms = [r["ms"] for r in warm]
    return {
        "storage": storage,
        "instrument": name,
        "first_s": first["ms"] / 1000,
        "warm_s": [m / 1000 for m in ms],
        "median_s": statistics.median(ms) / 1000,
        "stages_ms": stage,
        "peak_allocated_mib": first["peakAllocatedBytes"] / MIB,
        "peak_in_use_mib": max(r["peakInUseBytes"] for r in warm) / MIB,
    }


def markdown(doc: dict) -> str:
    seconds = doc["seconds"]
    lines = [
        f"# The page's speed: {seconds:g} s of singing",
        "",
        f"`timbre.transfer` on {seconds:g} s of a synthetic sung phrase (16 kHz) in the page "
        f"as `ddspgl serve` serves it: {doc['info'].get('renderer')}, TF.js "
        f"{doc['info'].get('tfjs')}, {doc['info']['cpus']} CPU cores, load average "
        f"{doc['load']['min']:.1f} to {doc['load']['max']:.1f} during the run "
        f"({doc['info']['date']}). A fresh page per row: the first transfer (model "
        f"download and upload, shader compilation), then {doc['reps']} more (median, "
        "min-max). x real time: the input's duration over the median. Stages: the page's "
        "own timings, median. GPU memory: textures allocated at most during the first "
        "transfer above the fresh page's (TF.js's pool included; float16 textures at 2 bytes "
        "a value), and in use at most during a repeated one (TF.js's count, 4 bytes a float32 "
        "value whatever the storage).",
        "",
        "| storage | instrument | first (s) | repeated (s) | x real time | pitch (ms) | "
        "loudness (ms) | model (ms) | GPU allocated (MiB) | GPU in use (MiB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        s = r["stages_ms"]
        lines.append(
            f"| {r['storage']} | {r['instrument']} | {r['first_s']:.1f} | "
            f"{r['median_s']:.2f} ({min(r['warm_s']):.2f}-{max(r['warm_s']):.2f}) | "
            f"{seconds / r['median_s']:.2f} | {s.get('pitch', 0):.0f} | "
            f"{s.get('loudness', 0):.0f} | {s.get('model', 0):.0f} | "
            f"{r['peak_allocated_mib']:.1f} | {r['peak_in_use_mib']:.1f} |"
        )
    lines += ["", "![seconds per transfer, by instrument and storage](" + _png_name(doc) + ")", ""]
    return "\n".join(lines)


def _png_name(doc: dict) -> str:
    return f"{slug(doc)}.png"


def slug(doc: dict) -> str:
    return reports.renderer_slug(doc["info"].get("renderer") or "unknown", browser=True)


def figure(doc: dict, path: Path) -> None:
    """Seconds per transfer (first and repeated) by instrument, a bar per storage, with
    the input's duration (real time) as a line."""
    from . import figures

    plt = figures.plt
    names = list(dict.fromkeys(r["instrument"] for r in doc["rows"]))
    storages = list(dict.fromkeys(r["storage"] for r in doc["rows"]))
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(storages)
    colors = figures.colors()
    for j, storage in enumerate(storages):
        rows = {r["instrument"]: r for r in doc["rows"] if r["storage"] == storage}
        xs = [i + (j - (len(storages) - 1) / 2) * width for i in range(len(names))]
        med = [rows[n]["median_s"] if n in rows else np.nan for n in names]
        first = [rows[n]["first_s"] if n in rows else np.nan for n in names]
        ax.bar(xs, med, width * 0.9, color=colors[j], label=f"{storage}: repeated (median)")
        ax.scatter(xs, first, color=colors[j], marker="v", zorder=3, label=f"{storage}: first")
    ax.axhline(doc["seconds"], color="k", linestyle="--", linewidth=1, label="real time")
    top = max(max(r["first_s"], r["median_s"]) for r in doc["rows"])
    ax.set_ylim(0, 1.45 * max(top, doc["seconds"]))  # room for the legend above the data
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("seconds per transfer")
    ax.set_title(f"the page on {doc['seconds']:g} s of singing ({slug(doc)})")
    ax.legend(fontsize=8, ncol=3, loc="upper center")
    figures.save(fig, path)


def write(doc: dict, folder: Path) -> list[Path]:
    """folder/<renderer slug>.{json,md,png}; nothing written where drawing fails."""
    return reports.write(folder, slug(doc), doc, markdown(doc), lambda p: figure(doc, p))
