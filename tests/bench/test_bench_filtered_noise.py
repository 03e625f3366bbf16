"""Filtered noise benchmarks: the two-pass kernel against the float64 numpy reference.

Production shape: 16 kHz, 64000 samples (4 s), 1000 frames (hop 64), 65 bands (128 taps),
batch 1, ddsp's window (the IR's size). Each round is one whole call: for the kernel the
upload, both passes and the readback; for numpy (kernels/filtered_noise.reference, the
direct convolution) the noise draw and the synthesis. ``extra_info`` carries the device
time (GL timer query) and the seconds of audio, so `ddspgl report` gives the speed-up over
numpy and the real-time factor (seconds of audio per second of compute).
"""

from __future__ import annotations

from statistics import median

import numpy as np
import pytest

from ddspgl.harness.timing import Stopwatch
from ddspgl.kernels import filtered_noise

SR, N, FRAMES, BANDS = 16000, 64000, 1000, 65
SHAPE = f"{SR // 1000} kHz, {N} samples, {FRAMES} frames, {BANDS} bands"


def _magnitudes():
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 0.1, (1, FRAMES, BANDS)).astype(np.float32)


def _numpy(mags, *, n_samples, storage, ctx):
    return filtered_noise.reference(mags, filtered_noise.noise(1, n_samples))


IMPLS = {"ddspgl": filtered_noise.filtered_noise, "numpy": _numpy}


@pytest.mark.parametrize("storage", ["float16", "float32"])
@pytest.mark.parametrize("impl", list(IMPLS))
def test_filtered_noise(benchmark, session_ctx, impl, storage):
    fn = IMPLS[impl]
    mags = _magnitudes()
    kw = dict(n_samples=N, storage=storage, ctx=session_ctx)
    fn(mags, **kw)  # compile outside the timing
    before = session_ctx.counters.passes
    fn(mags, **kw)
    passes = session_ctx.counters.passes - before
    seconds, method = [], []

    def target():
        with Stopwatch(session_ctx) as watch:
            out = fn(mags, **kw)
        seconds.append(watch.seconds)
        method.append(watch.method)
        return out

    benchmark.group = f"filtered noise {storage}"
    rounds = 5 if impl == "ddspgl" else 2  # numpy takes about half a second per call
    out = benchmark.pedantic(target, rounds=rounds, warmup_rounds=0, iterations=1)
    benchmark.extra_info.update(
        kernel=filtered_noise.NAME,
        impl=impl,
        shape=SHAPE,
        storage=storage,
        passes=passes,
        audio_seconds=N / SR,
        timing=method[0],
        device_median_s=median(seconds),
    )
    assert out.shape == (1, N)
