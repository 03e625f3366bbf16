"""Precision cases for the filtered noise synthesizer, beside the float64 reference's time.

Every case renders with float16 and float32 storage and compares each sample with the
float64 reference (kernels/filtered_noise.reference) of the same float32 magnitudes and
the same noise bits (kernels/filtered_noise.noise). The error is the largest
``|y - y_ref| / bound`` over the samples (budget 1), the bound derived per sample
(:func:`~ddspgl.kernels.filtered_noise.derived_bound`, plus the float16 write's half ulp).
``extra`` carries the SNR in dB, the largest absolute error and the reference's peak. The
baseline is the numpy reference itself, for its time (its error is 0 by definition).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache, partial

import numpy as np

from ..harness.context import Context
from . import filtered_noise
from .suite import Case, Result, timed

SEED = 2024


@dataclass(frozen=True)
class Spec:
    sample_rate: int  # for the case's description only: the kernel has no sample rate
    n_samples: int
    frames: int
    bands: int
    magnitudes: str  # see _magnitudes
    window_size: int = 0
    batch: int = 1
    slow: bool = False


def _magnitudes(spec: Spec, rng) -> np.ndarray:
    """[batch, frames, K] float32 magnitudes of the kind the spec names."""
    shape = (spec.batch, spec.frames, spec.bands)
    if spec.magnitudes == "random":  # ddsp's exp_sigmoid range, a smooth random walk in dB
        walk = np.cumsum(rng.standard_normal(shape) * 0.3, axis=1)
        db = -30.0 + 15.0 * np.tanh(walk / 5.0) + rng.uniform(-10, 10, shape[:1] + (1,) + shape[2:])
        return (10.0 ** (db / 20.0)).astype(np.float32)
    if spec.magnitudes == "zero":
        return np.zeros(shape, np.float32)
    if spec.magnitudes == "one-band":  # band K // 3 only: a narrow band of noise
        out = np.zeros(shape, np.float32)
        out[..., spec.bands // 3] = rng.uniform(0.2, 1.0, shape[:2])
        return out
    if spec.magnitudes == "large":  # scaled so that the float16 output limit is nearly met
        m = rng.uniform(0.0, 1.0, shape)
        coef = filtered_noise.taps(spec.bands, spec.window_size)[1].sum()
        peak = filtered_noise.weighted_sums(m).max() / (2 * (spec.bands - 1)) * coef
        return (m * (60000.0 / peak)).astype(np.float32)
    if spec.magnitudes == "tiny":  # float16 outputs among its subnormals
        return rng.uniform(0.0, 1e-6, shape).astype(np.float32)
    raise ValueError(spec.magnitudes)


SPECS = {
    # The production convnet: 16 kHz, 250 frames/s (hop 64), 65 bands (IR 128), 4 s.
    "16k-250fps-65b": Spec(16000, 64000, 1000, 65, "random"),
    "16k-50fps-65b": Spec(16000, 64000, 200, 65, "random"),  # hop 320
    "48k-50fps-65b": Spec(48000, 96000, 100, 65, "random", window_size=257),  # hop 960, 2 s
    "window-257": Spec(16000, 16000, 250, 65, "random", window_size=257),  # > IR: the IR's
    "window-64": Spec(16000, 16000, 250, 65, "random", window_size=64),  # even, < IR: L 63
    "window-65": Spec(16000, 16000, 250, 65, "random", window_size=65),  # odd, < IR: L 65
    "n-not-multiple": Spec(16000, 63990, 1000, 65, "random"),  # hop 64, last frame 38
    "batch-2": Spec(16000, 16000, 250, 65, "random", batch=2),
    "zero": Spec(16000, 16000, 250, 65, "zero"),
    "one-band": Spec(16000, 16000, 250, 65, "one-band"),
    "large": Spec(16000, 16000, 250, 65, "large"),
    "tiny": Spec(16000, 16000, 250, 65, "tiny"),
    "bands-3": Spec(16000, 4000, 50, 3, "random"),
    "bands-257": Spec(16000, 16000, 250, 257, "random"),  # IR 512: 512 taps per sample
    "16k-60s": Spec(16000, 960000, 15000, 65, "random", slow=True),
}
QUICK = ("16k-250fps-65b", "window-64", "window-65", "n-not-multiple", "batch-2", "zero")


@cache
def inputs(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(magnitudes, noise) float32, seeded per case; read-only."""
    spec = SPECS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    mags = _magnitudes(spec, rng)
    x = filtered_noise.noise(spec.batch, spec.n_samples, seed=SEED)
    for a in (mags, x):
        a.setflags(write=False)
    return mags, x


@cache
def _reference(name: str) -> tuple[np.ndarray, np.ndarray, float]:
    """(reference, float32 bound before the write, reference seconds)."""
    spec = SPECS[name]
    mags, x = inputs(name)
    start = time.perf_counter()
    ref = filtered_noise.reference(mags, x, window_size=spec.window_size)
    seconds = time.perf_counter() - start
    bound = filtered_noise.derived_bound(
        mags, n_samples=spec.n_samples, window_size=spec.window_size
    )
    return ref, bound, seconds


def _run(ctx: Context, name: str, storage: str) -> Result:
    spec = SPECS[name]
    mags, _ = inputs(name)
    ref, bound32, ref_seconds = _reference(name)
    out, passes, seconds = timed(
        ctx,
        filtered_noise.filtered_noise,
        mags,
        n_samples=spec.n_samples,
        window_size=spec.window_size,
        seed=SEED,
        storage=storage,
    )
    bound = filtered_noise.write_bound(ref, bound32, storage)
    ratio = filtered_noise.deviation(out, ref, bound)
    return Result(
        error=float(ratio.max()),
        budget=1.0,
        unit="sample bound",
        passes=passes,
        seconds=seconds,
        baseline_seconds=ref_seconds,
        extra={
            "snr_db": filtered_noise.snr_db(out, ref),
            "max_abs_error": float(np.abs(out - ref).max()),
            "max_abs_reference": float(np.abs(ref).max()),
            "median_bound": float(np.median(bound)),
            "reference_seconds_per_kernel_second": ref_seconds / seconds,
        },
    )


def cases(quick: bool = False) -> list[Case]:
    out = []
    for name, spec in SPECS.items():
        if quick and name not in QUICK:
            continue
        for storage in ("float16", "float32"):
            out.append(
                Case(
                    kernel=filtered_noise.NAME,
                    id=f"filtered_noise-{storage}-{name}",
                    storage=storage,
                    n=spec.n_samples,
                    series=spec.magnitudes,
                    run=partial(_run, name=name, storage=storage),
                    slow=spec.slow,
                )
            )
    return out
