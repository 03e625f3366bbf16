"""The harmonic synthesizer's precision suite in the browser: the TF.js bundle against stock TF.js.

The specs, references and budgets of :mod:`harmonic_suite` (SNR >= 100 dB in float32
storage, every sample within 2^-11 max|reference| in float16 storage, the derived worst
case in ``extra``), run by :class:`ddspgl.tools.browser.BrowserHost` through
``ddspgl.harmonicSynth`` in each TF.js mode of the page (webgl: both; webgpu: float32),
on the kernel of the page's backend. The baseline is the same synthesis from stock TF.js
ops (js/harness/stock_synth.js: resizeBilinear, cumsum over [batch, n, K], sin, weighted
sum), recorded where its [batch, n, K] tensors fit (:data:`harmonic_suite.OPCHAIN_MAX`),
never held to a budget.

TF.js float16 mode uploads every input as float16, so there the reference is computed from
the inputs rounded to float16, as TF.js holds them (SwiftShader rounds to nearest:
:func:`cumsum_browser.as_stored`): the suite measures the kernel, not the input rounding.
The long renders (minutes of audio) stay with the GL suite: base64 of millions of samples
and a software renderer make them minutes per case here.
"""

from __future__ import annotations

import base64
from functools import cache, partial

import numpy as np

from . import harmonic, harmonic_suite
from .cumsum_browser import as_stored
from .suite import Case, Result

SPECS = tuple(name for name, spec in harmonic_suite.SPECS.items() if not spec.slow)


@cache
def stored_inputs(name: str, storage: str):
    """(f0, amplitude, distribution) float32 as the page holds them in `storage` mode."""
    return tuple(as_stored(a, storage) for a in harmonic_suite.inputs(name))


@cache
def reference(name: str, storage: str):
    """(reference, ambiguous, derived bound, derived bound of 16 blocks) of the stored inputs."""
    spec = harmonic_suite.SPECS[name]
    xs = stored_inputs(name, storage)
    kw = dict(sample_rate=spec.sample_rate, n_samples=spec.n_samples)
    ref, amb = harmonic.reference(*xs, **kw)
    bound = harmonic.derived_bound(*xs, **kw)
    block_bound = harmonic.derived_bound(*xs, blocks=harmonic_suite.BLOCKS, **kw)
    return ref, amb, bound, block_bound


def call(page, fn: str, xs, sample_rate: float, n_samples: int, initial_phase=None, **options):
    """harness.<fn> (``harmonic`` or ``stockHarmonic``) on controls xs: (outputs, record)."""
    f0, amp, dist = xs
    spec = {
        "f0": f0,
        "amplitude": amp,
        "dist": dist,
        "frames": list(f0.shape),
        "k": dist.shape[2],
        "options": {"sampleRate": sample_rate, "nSamples": n_samples, **options},
    }
    if initial_phase is not None:
        spec["initialPhase"] = np.asarray(initial_phase, np.float32)
    res = page.call(fn, spec)
    return [_decode(o["b64"], o["shape"]) for o in res["outputs"]], res


def _decode(b64: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.float32).reshape(shape)


def render_blocks(page, xs, *, blocks: int, sample_rate: float, n_samples: int):
    """:func:`harmonic_suite.render_blocks` in the page: consecutive calls on frame
    boundaries, each block's final phase (read back) the next one's initial phase.
    Returns (audio, passes, milliseconds) over all blocks."""
    f0, amp, dist = xs
    frames = f0.shape[1]
    hop = n_samples // frames
    edges = [round(j * frames / blocks) for j in range(blocks + 1)]
    phase, parts, passes, ms = None, [], 0, 0.0
    for j in range(blocks):
        lo, hi = edges[j], edges[j + 1]
        last = j == blocks - 1
        stop = hi if last else hi + 1  # a block ends with the next block's first frame
        (y, phase), rec = call(
            page,
            "harmonic",
            tuple(a[:, lo:stop] for a in xs),
            sample_rate,
            (hi - lo) * hop,
            initial_phase=phase,
            addEndpoint=last,
            returnFinalPhase=True,
        )
        parts.append(y)
        passes += rec["passes"]
        ms += rec["ms"]
    return np.concatenate(parts, axis=1), passes, ms


def _run(host, name: str, storage: str, blocks: bool) -> Result:
    page = host.page(storage)
    spec = harmonic_suite.SPECS[name]
    xs = stored_inputs(name, storage)
    ref, amb, bound, block_bound = reference(name, storage)
    kw = dict(sample_rate=spec.sample_rate, n_samples=spec.n_samples)
    if blocks:
        out, passes, ms = render_blocks(page, xs, blocks=harmonic_suite.BLOCKS, **kw)
        (whole,), _ = call(page, "harmonic", xs, **kw)
        error, budget, extra = harmonic_suite._metrics(storage, out, ref, amb, block_bound)
        extra["snr_db_vs_one_shot"] = harmonic.snr_db(out, whole.astype(np.float64), 0 * amb)
        return Result(error, budget, harmonic_suite._unit(storage), passes, ms / 1e3, extra=extra)
    (out,), rec = call(page, "harmonic", xs, **kw)
    error, budget, extra = harmonic_suite._metrics(storage, out, ref, amb, bound)
    result = Result(
        error, budget, harmonic_suite._unit(storage), rec["passes"], rec["ms"] / 1e3, extra=extra
    )
    f0, _, dist = xs
    if f0.shape[0] * dist.shape[2] * spec.n_samples <= harmonic_suite.OPCHAIN_MAX:
        (base,), base_rec = call(page, "stockHarmonic", xs, **kw)
        base_error, _, base_extra = harmonic_suite._metrics(storage, base, ref, amb, bound)
        result.baseline_error = base_error
        result.baseline_passes = base_rec["programs"]
        result.baseline_seconds = base_rec["ms"] / 1e3
        extra["baseline_snr_db"] = base_extra["snr_db"]
        extra["baseline_max_error"] = base_extra["max_error"]
    return result


def cases(quick: bool = False, names=None) -> list[Case]:
    """The browser cases: :mod:`harmonic_suite`'s specs but the long renders (``names``
    overrides them; tests use a few)."""
    chosen = names or [n for n in SPECS if not quick or n in harmonic_suite.QUICK]
    out = []
    for name in chosen:
        spec = harmonic_suite.SPECS[name]
        for storage in ("float16", "float32"):
            runs = [(False, "")]
            if name == harmonic_suite.QUICK[0]:
                runs.append((True, f"-blocks{harmonic_suite.BLOCKS}"))
            for blocks, suffix in runs:
                out.append(
                    Case(
                        kernel=harmonic.NAME,
                        id=f"harmonic-tfjs-{storage}-{name}{suffix}",
                        storage=storage,
                        n=spec.n_samples,
                        series="blocks" if blocks else spec.f0,
                        run=partial(_run, name=name, storage=storage, blocks=blocks),
                    )
                )
    return out
