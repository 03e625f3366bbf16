"""Harmonic synthesizer benchmarks: the fused kernel against the TF.js op chain.

Production shape: 16 kHz, 64000 samples (4 s), 1000 frames, 100 harmonics, batch 1,
f0 a 110 Hz vibrato so that every harmonic is below Nyquist (the fused kernel skips
silenced harmonics; the op chain cannot). Each round is one whole call: uploads, every
pass and the readback, for both implementations alike. ``extra_info`` carries the device
time (GL timer query) and the seconds of audio, so `ddspgl report` gives the speed-up
and the real-time factor (seconds of audio per second of compute).
"""

from __future__ import annotations

from statistics import median

import numpy as np
import pytest

from ddspgl.harness.timing import Stopwatch
from ddspgl.kernels import harmonic, harmonic_opchain

SR, N, FRAMES, K = 16000, 64000, 1000, 100
SHAPE = f"{SR // 1000} kHz, {N} samples, {FRAMES} frames, {K} harmonics"
IMPLS = {"ddspgl": harmonic.harmonic_synth, "opchain": harmonic_opchain.harmonic_synth}


def _controls():
    rng = np.random.default_rng(0)
    t = np.arange(FRAMES) / 250
    f0 = (110 * 2 ** (np.sin(2 * np.pi * 5.5 * t) / 12))[None].astype(np.float32)
    amp = np.full((1, FRAMES), 0.5, np.float32)
    dist = rng.uniform(0, 1, (1, FRAMES, K)).astype(np.float32)
    return f0, amp, dist


@pytest.mark.parametrize("storage", ["float16", "float32"])
@pytest.mark.parametrize("impl", list(IMPLS))
def test_harmonic(benchmark, session_ctx, impl, storage):
    fn = IMPLS[impl]
    args = _controls()
    kw = dict(sample_rate=SR, n_samples=N, storage=storage, ctx=session_ctx)
    fn(*args, **kw)  # compile outside the timing
    before = session_ctx.counters.passes
    fn(*args, **kw)
    passes = session_ctx.counters.passes - before
    seconds, method = [], []

    def target():
        with Stopwatch(session_ctx) as watch:
            out = fn(*args, **kw)
        seconds.append(watch.seconds)
        method.append(watch.method)
        return out

    benchmark.group = f"harmonic {storage}"
    rounds = 5 if impl == "ddspgl" else 2  # the op chain takes seconds per call
    out = benchmark.pedantic(target, rounds=rounds, warmup_rounds=0, iterations=1)
    benchmark.extra_info.update(
        kernel=harmonic.NAME,
        impl=impl,
        shape=SHAPE,
        storage=storage,
        passes=passes,
        audio_seconds=N / SR,
        timing=method[0],
        device_median_s=median(seconds),
    )
    assert out.shape == (1, N)
