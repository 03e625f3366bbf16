"""Precision cases for the YIN pitch tracker, beside the float64 numpy reference's time.

Every case tracks one seeded signal with float16 and float32 storage and compares each
frame with the float64 reference of the same float32 samples (kernels/yin.py): the
kernel's lag must be one the derived d' intervals allow and its f0 and confidence must
lie inside their derived intervals. The error is the largest per-frame error in units
of that frame's bound (budget 1; inf for a lag the intervals exclude). ``extra``
carries the largest f0 difference in cents from the reference, the frames whose lag
differs from the reference's (allowed where d' values tie within their intervals) and
the bound's median. The baseline is the numpy reference itself, for its time: the
kernel's speed as a ratio to the CPU (its error is not a baseline error: it is 0).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache, partial

import numpy as np

from ..harness.context import Context
from . import yin
from .suite import Case, Result, timed


@dataclass(frozen=True)
class Spec:
    signal: str  # see _signal
    seconds: float
    kwargs: dict = field(default_factory=dict, hash=False)  # yin() arguments
    sample_rate: int = 16000
    batch: int = 1
    slow: bool = False


def _tone(rng, f0: np.ndarray, sample_rate: int, harmonics: int) -> np.ndarray:
    """A harmonic tone following f0 per sample, random harmonic amplitudes and phases."""
    phase = np.cumsum(f0) / sample_rate
    amps = rng.uniform(0.2, 1.0, harmonics) / np.arange(1, harmonics + 1)
    out = np.zeros_like(phase)
    for k, a in enumerate(amps, start=1):
        below = k * f0 < sample_rate / 2
        out += below * a * np.sin(2 * np.pi * k * phase + rng.uniform(0, 2 * np.pi))
    return out / np.abs(out).max()


def _signal(spec: Spec, row: int, rng) -> np.ndarray:
    sr = spec.sample_rate
    n = int(spec.seconds * sr)
    t = np.arange(n) / sr
    if spec.signal == "sine-440":
        return 0.5 * np.sin(2 * np.pi * 440.0 * t)
    if spec.signal == "vibrato":  # 220 Hz (fifths for more rows), +-60 cents at 5.5 Hz
        f0 = 220.0 * 1.5**row * 2.0 ** (0.6 * np.sin(2 * np.pi * 5.5 * t) / 12)
        return 0.7 * _tone(rng, f0, sr, 12)
    if spec.signal == "chirp":  # 60 Hz -> 1500 Hz, exponential, 8 harmonics
        f0 = 60.0 * (1500.0 / 60.0) ** (t / t[-1])
        return 0.5 * _tone(rng, f0, sr, 8)
    if spec.signal == "gaps":  # 330 Hz in bursts with silences and low noise between
        on = (np.sin(2 * np.pi * 1.5 * t) > 0).astype(np.float64)
        tone = _tone(rng, np.full(n, 330.0), sr, 10)
        return 0.4 * on * tone + 1e-4 * rng.standard_normal(n)
    if spec.signal == "noise":
        return 0.3 * rng.standard_normal(n)
    if spec.signal == "silence":
        return np.zeros(n)
    if spec.signal == "quiet":  # -100 dBFS: the row's scale, not its level, matters
        return 1e-5 * _tone(rng, np.full(n, 150.0), sr, 6)
    if spec.signal == "slow":  # 110 Hz, +-1 octave at 0.05 Hz: long inputs
        return 0.5 * _tone(rng, 110.0 * 2.0 ** np.sin(2 * np.pi * 0.05 * t), sr, 6)
    raise ValueError(spec.signal)


SPECS = {
    "sine-440": Spec("sine-440", 1.0),
    "vibrato-250fps": Spec("vibrato", 4.0, batch=2),
    "chirp-60-1500": Spec("chirp", 4.0),
    "gaps-noise": Spec("gaps", 2.0),
    "noise": Spec("noise", 1.0),
    "silence": Spec("silence", 0.5),
    "quiet": Spec("quiet", 1.0),
    "odd-window": Spec("vibrato", 2.0, kwargs=dict(frame_length=401, hop=50)),
    "48k-100fps": Spec(
        "vibrato", 2.0, sample_rate=48000, kwargs=dict(hop=480, frame_length=1536, fmin=40.0)
    ),
    "16k-60s": Spec("slow", 60.0, slow=True),
}
QUICK = ("sine-440", "vibrato-250fps", "gaps-noise", "silence", "odd-window")


@cache
def inputs(name: str) -> np.ndarray:
    """Float32 [batch, n], seeded per case; read-only."""
    spec = SPECS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    x = np.stack([_signal(spec, row, rng) for row in range(spec.batch)]).astype(np.float32)
    x.setflags(write=False)
    return x


def _kwargs(name: str) -> dict:
    spec = SPECS[name]
    return dict(spec.kwargs, sample_rate=spec.sample_rate)


@cache
def _reference(name: str) -> tuple[yin.Analysis, float]:
    start = time.perf_counter()
    analysis = yin.reference(inputs(name), **_kwargs(name))
    return analysis, time.perf_counter() - start


def _run(ctx: Context, name: str, storage: str) -> Result:
    x = inputs(name)
    analysis, ref_seconds = _reference(name)
    out, passes, seconds = timed(ctx, yin.analyse, x, storage=storage, **_kwargs(name))
    dev = yin.deviation(out, analysis, storage)
    same = dev.same_lag
    return Result(
        error=float(dev.ratio.max()),
        budget=1.0,
        unit="frame bound",
        passes=passes,
        seconds=seconds,
        baseline_seconds=ref_seconds,
        extra={
            "frames": int(dev.ratio.size),
            "outside": int((~dev.inside).sum()),
            "max_cents_vs_reference": float(np.nanmax(np.abs(dev.cents[same]), initial=0.0)),
            "lag_differs": int((~same).sum()),
            "median_bound_cents": float(np.median(dev.bound_cents)),
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
                    kernel=yin.NAME,
                    id=f"yin-{storage}-{name}",
                    storage=storage,
                    n=int(spec.seconds * spec.sample_rate),
                    series=spec.signal,
                    run=partial(_run, name=name, storage=storage),
                    slow=spec.slow,
                )
            )
    return out
