"""Precision cases for the harmonic synthesizer, beside the TF.js op chain's errors.

Every case renders with float16 and float32 storage and compares with the float64
reference of the same float32 inputs. float32: SNR >= 100 dB (error unit: noise/signal
power, budget 10^-10); float16: every sample within 2^-11 max|reference| (unit
max|ref|). The derived worst case (kernels/harmonic.py) is recorded in ``extra``. The op
chain runs where its [batch * K, n] tensors fit the texture limit; with float16 storage it
overflows (a plain cumsum of harmonic phases passes 65504).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial

import numpy as np

from ..harness.context import Context
from . import harmonic, harmonic_opchain
from .suite import Case, Result, timed

BLOCKS = 16
OPCHAIN_MAX = 64000 * 128  # elements of one [batch * K, n] op-chain tensor, at most


@dataclass(frozen=True)
class Spec:
    sample_rate: float
    n_samples: int
    frames: int
    harmonics: int
    f0: str  # f0 shape per batch row, see _f0
    batch: int = 1
    slow: bool = False


def _smooth(rng, shape, frames):
    """Random smooth non-negative curves: cumulative random walks, [*, frames]."""
    steps = rng.standard_normal(shape + (frames,)) * 0.05
    return np.abs(np.cumsum(steps, axis=-1) + rng.uniform(0.3, 1.0, shape + (1,)))


def _f0(kind: str, spec: Spec, row: int) -> np.ndarray:
    seconds = np.arange(spec.frames) * (spec.n_samples / spec.frames) / spec.sample_rate
    nyq = spec.sample_rate / 2
    if kind == "vibrato":  # 440 Hz (and fifths for more rows), +-1 semitone at 5.5 Hz
        base = 440.0 * 1.5**row
        return base * 2.0 ** (np.sin(2 * np.pi * 5.5 * seconds) / 12.0)
    if kind == "chirp":  # 20 Hz -> 8 kHz, exponential
        return 20.0 * (8000.0 / 20.0) ** (np.arange(spec.frames) / (spec.frames - 1))
    if kind == "zero":
        return np.zeros(spec.frames)
    if kind == "f7999":
        return np.full(spec.frames, 7999.0)
    if kind == "glide":  # alternating frames: k f0 crosses Nyquist inside frames
        lo, hi = nyq / 5.3, nyq / 2.7
        return np.where(np.arange(spec.frames) % 2 == row % 2, lo, hi)
    if kind == "mixed":  # rows: vibrato, chirp, glide
        return _f0(("vibrato", "chirp", "glide")[row % 3], spec, row)
    if kind == "slow":  # 110 Hz, +-6 semitones at 0.1 Hz: long renders
        return 110.0 * 2.0 ** (np.sin(2 * np.pi * 0.1 * seconds) / 2.0)
    raise ValueError(kind)


SPECS = {
    "16k-1000f-100h": Spec(16000, 64000, 1000, 100, "vibrato"),
    "16k-250fps-60h": Spec(16000, 64000, 1000, 60, "mixed", batch=3),
    "16k-50fps-vst-60h": Spec(16000, 64320, 201, 60, "vibrato"),
    "48k-50fps-60h": Spec(48000, 192960, 201, 60, "vibrato"),
    "f0-zero": Spec(16000, 64000, 1000, 100, "zero"),
    "f0-7999": Spec(16000, 64000, 1000, 100, "f7999"),
    "glide-nyquist": Spec(16000, 64000, 1000, 100, "glide", batch=2),
    "vibrato": Spec(16000, 64000, 1000, 100, "vibrato", batch=2),
    "chirp-20-8k": Spec(16000, 64000, 1000, 100, "chirp"),
    "16k-10min-100h": Spec(16000, 9_600_000, 150_000, 100, "slow", slow=True),
    "48k-60s-60h": Spec(48000, 2_880_000, 3000, 60, "slow", slow=True),
}
QUICK = ("16k-1000f-100h", "16k-250fps-60h", "f0-zero", "f0-7999", "glide-nyquist", "chirp-20-8k")


@cache
def inputs(name: str):
    """(f0, amplitude, distribution) float32, seeded per case; read-only."""
    spec = SPECS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    f0 = np.stack([_f0(spec.f0, spec, row) for row in range(spec.batch)])
    amp = 0.9 * np.clip(_smooth(rng, (spec.batch,), spec.frames), 0.05, 1.0)
    dist = _smooth(rng, (spec.batch, spec.harmonics), spec.frames).transpose(0, 2, 1)
    out = tuple(a.astype(np.float32) for a in (f0, amp, dist))
    for a in out:
        a.setflags(write=False)
    return out


@cache
def _reference(name: str):
    spec = SPECS[name]
    f0, amp, dist = inputs(name)
    kw = dict(sample_rate=spec.sample_rate, n_samples=spec.n_samples)
    ref, amb = harmonic.reference(f0, amp, dist, **kw)
    bound = harmonic.derived_bound(f0, amp, dist, **kw)
    block_bound = harmonic.derived_bound(f0, amp, dist, blocks=BLOCKS, **kw)
    return ref, amb, bound, block_bound


def render_blocks(f0, amp, dist, *, blocks, sample_rate, n_samples, storage, ctx):
    """The same audio rendered as `blocks` consecutive calls on frame boundaries."""
    frames = f0.shape[1]
    hop = n_samples // frames
    edges = [round(j * frames / blocks) for j in range(blocks + 1)]
    phase, parts = None, []
    for j in range(blocks):
        lo, hi = edges[j], edges[j + 1]
        last = j == blocks - 1
        stop = hi if last else hi + 1  # a block ends with the next block's first frame
        y, phase = harmonic.harmonic_synth(
            f0[:, lo:stop],
            amp[:, lo:stop],
            dist[:, lo:stop],
            sample_rate=sample_rate,
            n_samples=(hi - lo) * hop,
            initial_phase=phase,
            return_final_phase=True,
            add_endpoint=last,
            storage=storage,
            ctx=ctx,
        )
        parts.append(y)
    return np.concatenate(parts, axis=1)


def _metrics(storage, out, ref, amb, bound) -> tuple[float, float, dict]:
    snr = harmonic.snr_db(out, ref, amb)
    err = harmonic.max_error(out, ref, amb)
    extra = {"snr_db": snr, "max_error": err}
    if storage == "float32":
        extra["derived_snr_db"] = harmonic.budget_snr_db(ref, bound)
        return 10.0 ** (-snr / 10.0), 10.0 ** (-harmonic.SNR_BUDGET_DB / 10.0), extra
    extra["derived_max_error"] = harmonic.budget_float16(ref, bound)
    return err, harmonic.FLOAT16_BUDGET, extra


def _run(ctx: Context, name: str, storage: str, blocks: bool) -> Result:
    spec = SPECS[name]
    f0, amp, dist = inputs(name)
    kw = dict(sample_rate=spec.sample_rate, n_samples=spec.n_samples, storage=storage)
    ref, amb, bound, block_bound = _reference(name)
    if blocks:
        out, passes, seconds = timed(ctx, render_blocks, f0, amp, dist, blocks=BLOCKS, **kw)
        whole = harmonic.harmonic_synth(f0, amp, dist, ctx=ctx, **kw)
        error, budget, extra = _metrics(storage, out, ref, amb, block_bound)
        extra["snr_db_vs_one_shot"] = harmonic.snr_db(out, whole.astype(np.float64), 0 * amb)
        return Result(
            error=error,
            budget=budget,
            unit=_unit(storage),
            passes=passes,
            seconds=seconds,
            extra=extra,
        )
    out, passes, seconds = timed(ctx, harmonic.harmonic_synth, f0, amp, dist, **kw)
    error, budget, extra = _metrics(storage, out, ref, amb, bound)
    result = Result(
        error=error, budget=budget, unit=_unit(storage), passes=passes, seconds=seconds, extra=extra
    )
    if f0.shape[0] * dist.shape[2] * spec.n_samples <= OPCHAIN_MAX:
        base, base_passes, base_seconds = timed(
            ctx, harmonic_opchain.harmonic_synth, f0, amp, dist, **kw
        )
        base_error, _, base_extra = _metrics(storage, base, ref, amb, bound)
        result.baseline_error = base_error
        result.baseline_passes = base_passes
        result.baseline_seconds = base_seconds
        extra["baseline_snr_db"] = base_extra["snr_db"]
        extra["baseline_max_error"] = base_extra["max_error"]
    return result


def _unit(storage: str) -> str:
    return "noise/signal" if storage == "float32" else "max|ref|"


def cases(quick: bool = False) -> list[Case]:
    out = []
    names = [n for n in SPECS if not quick or n in QUICK]
    for name in names:
        spec = SPECS[name]
        for storage in ("float16", "float32"):
            runs = [(False, "")] + ([(True, f"-blocks{BLOCKS}")] if name in QUICK[:1] else [])
            for blocks, suffix in runs:
                out.append(
                    Case(
                        kernel="harmonic",
                        id=f"harmonic-{storage}-{name}{suffix}",
                        storage=storage,
                        n=spec.n_samples,
                        series="blocks" if blocks else spec.f0,
                        run=partial(_run, name=name, storage=storage, blocks=blocks),
                        slow=spec.slow,
                    )
                )
    return out
