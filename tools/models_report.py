"""`ddspgl models`: real ddsp exports in headless Chromium, stock conversion against ddspgl's.

For each SavedModel (a ddsp export, ``AutoencoderInference(...).save_model``):

- **stock**: ``ddspgl convert --no-fuse --no-compact``: the converter with only what
  TF.js 4.22 needs to run the graph at all (the Roll and layer-norm rewrites, and
  compress: the converter folds ``tf.zeros_like`` of the [1, n, K] envelope into a dense
  constant, 25.6 MB at 4 s, and TF.js in SwiftShader stalls on it, 4 programs into the
  first call and nothing for minutes after; compress rebuilds it as a Fill), what a ddsp
  user gets from ``ddsp_export`` plus those fixes;
- **ddspgl**: ``ddspgl convert`` (compress, fuse onto ddspgl's kernels, compact);
- **ddspgl-f16**: the same with ``--quantize-float16`` (its size; its audio is timed too).

All three run in one page per TF.js mode (float32 and float16 textures), interleaved
(``js/harness/models.js``), on the same f0 and loudness (a glide with vibrato over the
export's frames) and, where the graph still draws noise with RandomUniform, the same
uniform draw. Per model and mode: warm median milliseconds per call (the audio read back)
and of a call for the frame-rate controls alone (the decoder; the synthesizers are the
difference), peak ``numBytesInGPUAllocated`` above the inputs during the first call in
a fresh page (weights uploaded, intermediates and TF.js's texture pool: what the page
needs) and peak ``numBytesInGPU`` (textures in use) during a warm call, the files'
bytes, and accuracy: the harmonic audio against kernels/harmonic.py's float64 synthesis
from the page's own controls (read back), the filtered noise against
kernels/filtered_noise.py's float64 reference of the noise it filtered, as SNR in dB.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..kernels import filtered_noise, harmonic
from ..model import convert, graph
from . import browser, figures, reports

REPORT_DIR = Path("reports") / "models"
VARIANTS = {  # name -> convert() options
    "stock": {"fuse": False, "compact": False},
    "ddspgl": {},
    "ddspgl-f16": {"float16": True},
}
DECODER = (
    "harmonic_controls_amplitudes",
    "harmonic_controls_harmonic_distribution",
    "filtered_noise_controls_magnitudes",
)
READ = (
    "audio_synth",  # first: the one a timed call reads back
    "harmonic_signal",
    "filtered_noise_signal",
    "harmonic_controls_f0_hz",
    *DECODER,
)
STORAGES = ("float32", "float16")
SEED = 7


def model_name(saved: Path) -> str:
    """A ddsp export's name: its folder, or the folder above a folder named saved_model."""
    saved = Path(saved)
    return saved.parent.name if saved.name == "saved_model" else saved.name


def convert_all(saved: Path, root: Path, log: Callable[[str], None]) -> dict:
    """Each variant of `saved` converted into root/<variant>: {variant: (folder, Result)}."""
    out = {}
    for variant, options in VARIANTS.items():
        log(f"  convert {variant}")
        folder = root / variant
        out[variant] = (folder, convert.convert(saved, folder, **options))
    return out


def _synth_shape(res: convert.Result) -> dict:
    """The fused harmonic synthesizer's sample rate, samples and hop (from the fuse)."""
    fused = [m for m in res.matches if getattr(m, "pattern", "") == "harmonic synthesis"]
    if not fused:
        raise graph.ModelError(
            "no harmonic synthesizer was fused: not a ddsp export `ddspgl models` can "
            "compare (see `ddspgl fuse` for what was left and why)"
        )
    return fused[0].shape


def feeds(model: graph.Model, shape: dict) -> dict[str, np.ndarray]:
    """f0 (a 220-440 Hz glide with 1% vibrato at 5 Hz) and loudness (-60 to -10 dB) per
    frame; the RandomUniform node, where the graph has one, a fixed draw on a 2^-23 grid."""
    frames = shape["n_samples"] // shape["hop"]
    seconds = shape["n_samples"] / shape["sample_rate"]
    t = np.arange(frames) * shape["hop"] / shape["sample_rate"]
    out = {
        "f0_hz": (220 * 2 ** (t / seconds) * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))),
        "loudness_db": -60 + 50 * t / seconds,
    }
    rng = np.random.default_rng(SEED)
    for n in model.nodes:
        if n["op"] == "RandomUniform":
            out[n["name"]] = rng.integers(0, 2**23, (1, shape["n_samples"])) / 2**23
    return {k: np.asarray(v, np.float32) for k, v in out.items()}


def _snr(out: np.ndarray, ref: np.ndarray) -> float:
    noise, signal = float(np.sum((out - ref) ** 2)), float(np.sum(ref**2))
    if not np.all(np.isfinite(out)):
        return float("nan")
    return float("inf") if noise == 0 else 10 * np.log10(signal / noise)


def accuracy(outputs: dict[str, np.ndarray], model: graph.Model, fed: dict, shape) -> dict:
    """SNR (dB) of the harmonic and noise audio against float64 from the page's controls."""
    f0 = outputs["harmonic_controls_f0_hz"][..., 0]
    amp = outputs["harmonic_controls_amplitudes"][..., 0]
    dist = outputs["harmonic_controls_harmonic_distribution"]
    ref, _ = harmonic.reference(
        f0, amp, dist, sample_rate=shape["sample_rate"], n_samples=shape["n_samples"],
        normalize=False,
    )  # fmt: skip
    mags = outputs["filtered_noise_controls_magnitudes"]
    draws = [fed[n["name"]] for n in model.nodes if n["op"] == "RandomUniform"]
    if draws:
        noise = 2 * draws[0].astype(np.float64) - 1
    else:
        (node,) = [n for n in model.nodes if n["op"] == "FilteredNoise"]
        seed = int(node["attr"].get("seed", {}).get("i", 0))
        noise = filtered_noise.noise(mags.shape[0], shape["n_samples"], seed)
    noise_ref = filtered_noise.reference(mags, noise)
    return {
        "harmonic_snr_db": _snr(outputs["harmonic_signal"], ref),
        "noise_snr_db": _snr(outputs["filtered_noise_signal"], noise_ref),
    }


def run(
    saved_models: list[Path], *, angle="swiftshader", reps=5, storages=STORAGES, log=print
) -> dict:
    """The report's rows: every model, variant and TF.js mode (`storages`)."""
    rows, info = [], {}
    with tempfile.TemporaryDirectory(prefix="ddspgl-models-") as tmp:
        root = Path(tmp)
        plans = {}
        for saved in saved_models:
            name = model_name(saved)
            log(f"{name}: converting")
            plans[name] = convert_all(Path(saved), root / name, log)
        with browser.BrowserHost(tuple(storages), extra=root, angle=angle) as host:
            info = host.info()
            for name, variants in plans.items():
                shape = _synth_shape(variants["ddspgl"][1])
                loaded = {v: graph.load(folder) for v, (folder, _) in variants.items()}
                fed = {v: feeds(m, shape) for v, m in loaded.items()}
                for storage in storages:
                    log(f"{name}: {storage} textures, {reps} calls per variant")
                    spec = {
                        "models": [
                            {
                                "name": v,
                                "url": f"/extra/{name}/{v}/model.json",
                                "feeds": _blobs(host, fed[v]),
                            }
                            for v in VARIANTS
                        ],  # fmt: skip
                        "outputs": list(READ),
                        "parts": {
                            "call": ["audio_synth"],
                            "decoder": list(DECODER),
                            "synthesizers": ["add_signal"],
                        },
                        "reps": reps,
                    }
                    page = host.page(storage)
                    results = page.evaluate("spec => harness.runModels(spec)", spec)
                    for res, model in zip(results, spec["models"], strict=True):
                        v = res["name"]
                        first = spec["outputs"][:1]
                        res.update(_memory(host, storage, model["url"], fed[v], first))
                        rows.append(
                            _row(name, v, storage, res, loaded[v], fed[v], shape,
                                 variants[v][0])
                        )  # fmt: skip
    return {"info": info, "angle": angle, "reps": reps, "rows": rows}


def _blobs(host, arrays: dict[str, np.ndarray]) -> dict:
    """`arrays` sent to the page as blobs (each read once): {node: {key, shape}}."""
    return {k: {"key": host.put(a), "shape": list(a.shape)} for k, a in arrays.items()}


def _memory(host, storage: str, url: str, feeds: dict, outputs: list[str]) -> dict:
    """harness.modelMemory in a fresh page (an empty texture pool): the first call's peak
    numBytesInGPUAllocated above the inputs."""
    page = browser.BrowserPage(host, storage)
    try:
        spec = {
            "url": url,
            "feeds": _blobs(host, feeds),
            "outputs": outputs,
        }
        return page.evaluate("spec => harness.modelMemory(spec)", spec)
    finally:
        page.close()


def _row(name, variant, storage, res, model, fed, shape, folder) -> dict:
    frames = shape["n_samples"] // shape["hop"]
    n = shape["n_samples"]
    shapes = {
        "audio_synth": (1, n),
        "harmonic_signal": (1, n),
        "filtered_noise_signal": (1, n),
        "harmonic_controls_f0_hz": (1, frames, 1),
        "harmonic_controls_amplitudes": (1, frames, 1),
    }
    outs = {}
    for k, b64 in res["outputs"].items():
        flat = browser.decode(b64, [-1])
        outs[k] = flat.reshape(shapes.get(k, (1, frames, -1)))
    times = res["times"]
    full, dec = statistics.median(times["call"]), statistics.median(times["decoder"])
    synth = statistics.median(times["synthesizers"])
    return {
        "model": name,
        "variant": variant,
        "storage": storage,
        "n_samples": n,
        "sample_rate": shape["sample_rate"],
        "call_ms": full,
        "decoder_ms": dec,
        "synth_ms": synth - dec,
        "effects_ms": full - synth,
        "times_ms": times,
        "peak_bytes": res["peakBytes"],
        "peak_in_use_bytes": res["peakInUseBytes"],
        "files": graph.sizes(folder),
        **accuracy(outs, model, fed, shape),
    }


# -- the report -----------------------------------------------------------------------------


def _get(rows, model, variant, storage) -> dict | None:
    """The row of `model` ((name, n_samples)), `variant` and `storage`."""
    for r in rows:
        if ((r["model"], r["n_samples"]), r["variant"], r["storage"]) == (model, variant, storage):
            return r
    return None


def _db(x: float) -> str:
    return "NaN" if x != x else ("exact" if x == float("inf") else f"{x:.1f}")


def markdown(report: dict) -> str:
    rows = report["rows"]
    info = report["info"]
    lines = [
        "# Real ddsp models in TF.js: the stock conversion against ddspgl's",
        "",
        f"`ddspgl models` in headless Chromium ({report['angle']}), {info.get('backend', '')}. "
        f"Median of {report['reps']} warm calls per variant, the variants of a model "
        "interleaved in one page per TF.js mode. *call*: one `executeAsync` for "
        "`audio_synth`, read back; *decoder*: a call for the frame-rate controls alone; "
        "*synth*: a call for `add_signal` (harmonic plus noise) less the decoder's; "
        "*effects*: the call less that (the trainable reverb, where the export kept "
        "it). *peak*: the most `numBytesInGPUAllocated` above the inputs during the "
        "model's first call in a fresh page (weights uploaded, "
        "intermediates, TF.js's texture pool); *in use*: the most `numBytesInGPU` "
        "(textures in use) above its start during a warm call. SNR: the harmonic and "
        "noise audio against float64 synthesis (kernels/harmonic.py, "
        "kernels/filtered_noise.py) from the controls the page itself computed; NaN "
        "where the audio is not finite.",
        "",
        "| model | mode | variant | call ms | decoder ms | synth ms | effects ms | "
        "×stock call | ×stock synth | peak MiB | peak / stock | in use MiB | files KB | "
        "harmonic SNR dB | noise SNR dB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    models = list(dict.fromkeys((r["model"], r["n_samples"]) for r in rows))
    for model in models:
        for storage in STORAGES:
            stock = _get(rows, model, "stock", storage)
            if stock is None:
                continue
            seconds = stock["n_samples"] / stock["sample_rate"]
            for variant in VARIANTS:
                r = _get(rows, model, variant, storage)
                if r is None:
                    continue
                speed = stock["call_ms"] / r["call_ms"]
                synth = stock["synth_ms"] / max(r["synth_ms"], 1e-3)
                mem = r["peak_bytes"] / stock["peak_bytes"] if stock["peak_bytes"] else 0
                lines.append(
                    f"| {model[0]} ({seconds:g} s) | {storage} | {variant} | {r['call_ms']:.0f} | "
                    f"{r['decoder_ms']:.0f} | {r['synth_ms']:.0f} | {r['effects_ms']:.0f} | "
                    f"{speed:.1f} | "
                    f"{synth:.1f} | {r['peak_bytes'] / 2**20:.1f} | {mem:.3f} | "
                    f"{r['peak_in_use_bytes'] / 2**20:.1f} | "
                    f"{r['files']['total'] / 1000:.0f} | {_db(r['harmonic_snr_db'])} | "
                    f"{_db(r['noise_snr_db'])} |"
                )
    return "\n".join(lines) + "\n"


def draw(report: dict, path: Path) -> None:
    """Milliseconds per call of each part (decoder, synthesizers, effects), per variant,
    one panel per model and mode, log scale."""
    import matplotlib.pyplot as plt

    rows = report["rows"]
    groups = [((r["model"], r["n_samples"]), r["storage"]) for r in rows if r["variant"] == "stock"]
    fig, axes = plt.subplots(1, len(groups), figsize=(3.4 * len(groups), 4), squeeze=False)
    c = figures.colors()
    parts = (("decoder_ms", "decoder"), ("synth_ms", "synthesizers"), ("effects_ms", "effects"))
    width = 0.8 / len(parts)
    for ax, (model, storage) in zip(axes[0], groups, strict=True):
        names = [v for v in VARIANTS if _get(rows, model, v, storage)]
        for j, (key, label) in enumerate(parts):
            ms = [max(_get(rows, model, v, storage)[key], 0.1) for v in names]
            x = [i + (j - 1) * width for i in range(len(names))]
            ax.bar(x, ms, width, color=c[j], label=label)
        ax.set_xticks(range(len(names)), names, fontsize=8)
        ax.set_yscale("log")
        seconds = model[1] / _get(rows, model, "stock", storage)["sample_rate"]
        ax.set_title(f"{model[0]}, {seconds:g} s\n{storage} textures", fontsize=9)
    axes[0][0].set_ylabel("ms per call (log; 0.1 = none)")
    axes[0][0].legend(fontsize=8)
    figures.save(fig, path)


def write(report: dict, folder: Path = REPORT_DIR) -> list[Path]:
    slug = reports.renderer_slug(report["info"]["renderer"], browser=True)
    return reports.write(folder, slug, report, markdown(report), lambda p: draw(report, p))
