"""Harmonic synthesizer: DDSP's additive synth in one fused pass, exact phase at any length.

What
    ``harmonic_synth(f0_hz, amplitude, harmonic_distribution)`` renders magenta/ddsp's
    ``harmonic_synthesis`` as its Harmonic synth uses it. Harmonic k (1 ... K) has
    frequency k * f0. Frames are ``hop = n_samples / frames`` samples apart; sample
    ``n = i * hop + r`` (0 <= r < hop) lies in frame i and

    - f0 is upsampled 'linear' (``tf.compat.v1.image.resize`` bilinear, no half-pixel
      centres): ``f(n) = f0[i] + (f0[i+1] - f0[i]) * r / hop``;
    - amplitudes are upsampled 'window' (``upsample_with_windows``: Hann windows of
      2 * hop overlap-added at hop, trimmed by hop at both ends), which is the
      raised-cosine crossfade ``A(n) = A[i] + (A[i+1] - A[i]) * (1 - cos(pi r / hop)) / 2``;
    - with ``add_endpoint=True`` (DDSP's) the last frame is held for the last hop
      (``f0[frames] = f0[frames-1]``); with ``False`` the last frame only ends the
      previous hop, ``n_samples = (frames - 1) * hop``, on the same sample grid: what a
      block of a longer rendering needs (its inputs end with the next block's first
      frame);
    - with ``normalize=True`` the distribution is first masked where
      ``k * f0[i] >= sample_rate / 2`` and divided by its sum per frame
      (``normalize_harmonics``; a zero sum gives zero), times ``amplitude``;
    - per sample, harmonic k is silenced where ``k * f(n) >= sample_rate / 2``
      (``remove_above_nyquist`` on the upsampled frequencies);
    - the phase is the inclusive running sum of ``f(n) / sample_rate`` (DDSP's
      ``cumsum(omega)``), harmonic k's phase is k times it plus its initial phase, and
      the output is ``sum_k A_k(n) sin(2 pi phase_k(n))``. ``final_phase`` is each
      harmonic's phase at the last sample (radians in [0, 2 pi], as
      ``harmonic_oscillator_bank`` returns it), which is the ``initial_phase`` that
      continues the rendering without a click.

How (pass plan: 6 + 2u passes for u upper levels of the scan; 6 up to 1024 frames)
    1. ``harmonic_increment.frag`` [batch, frames]: each frame's phase increment, the
       sum of f(n) over its hop, as an exact residue (four base-2^11 digits).
    2. the wrapped cumsum's reduce/scan passes (kernels/cumsum.py bodies) over those
       digits, exclusive, kept as digits: each frame's starting phase, exact.
    3. ``harmonic_gain.frag`` [batch, frames]: per frame the amplitude gain and the
       first harmonic masked at frame rate (``normalize_harmonics``).
    4. ``harmonic_synth.frag`` [batch, n_samples]: the fused audio-rate pass, one
       fragment per sample looping over harmonics (see the shader).

    Phase units: ``2^-shift`` Hz * samples * hop, so one cycle is the integer
    ``p = sample_rate * hop * 2^shift`` in [2^43, 2^44). Inside a frame the inclusive sum
    of f over samples 0..r, times hop, is ``f0[i] * ca(r) + f0[i+1] * cb(r)`` with the
    integers ``cb = r(r+1)/2``, ``ca = hop(r+1) - cb``: with f0 * 2^shift an integer the
    whole phase, for every harmonic, is integer arithmetic modulo p (the residue machinery
    of kernels/cumsum.py). Nothing is ever stored per harmonic and sample.

Error analysis (float32 arithmetic; M(n) = sum_k max(|A_k[i]|, |A_k[i+1]|))
    1. Phase quantisation. f0 * 2^shift is exact for every f0 whose ulp is at least
       2^-shift, i.e. f0 >= 2^(23 - shift) Hz (0.5 Hz at 16 kHz / hop 64, 2^-5 Hz at
       48 kHz / hop 960); smaller nonzero f0 are rounded to half a unit, which costs at
       most hop^2 / 2 units per frame, i.e. hop / (2 * sample_rate * 2^shift) cycles of
       the fundamental per such frame, times k for harmonic k (:func:`budget` counts the
       frames). The scan, the in-frame term and k * phase are exact integer arithmetic.
    2. Phase to float: the residue becomes x in [-0.5, 0.5] cycles within 2^-23 cycles
       (resToCentered), 2 pi x adds 2^-24 relative: |phase error| < 2 pi * 2^-22.7 rad.
    3. sin and cos of |x| <= pi: glsl/lib/float/accurateSinCos.glsl, not the built-ins
       (GLSL ES leaves their precision to the renderer; SwiftShader's are off by 1.9e-4),
       within SIN_ERROR = 2^-21 (tests/test_harmonic.py checks it on a dense grid).
    4. Amplitude: gain split hi/lo (2^-22 relative even in float16 storage), g * d and the
       crossfade (weight error cos + 2 roundings): under 2^-20 relative of max |A|.
    5. Sum over harmonics: lane-wise Kahan, 2 * 2^-24 of sum |terms| plus the last three
       additions (3 * 2^-24 of the same).
    6. Initial phases (block rendering): the float32 radians given are converted to the
       nearest residue (exact to 2^-44 cycles); each block's final_phase is rounded to
       float32 radians, half an ulp below 2 pi: 2^-22 rad per harmonic per join.
    7. Write: float32 exact; float16 rounds to nearest in the shader (roundF16):
       half an ulp, at most 2^(floor(log2 |y|) - 11).
    Per sample: |error| <= M(n) * EPS_SAMPLE + phase terms of 1. and 6., then 7.
    EPS_SAMPLE = 2 pi * 2^-22.7 + SIN_ERROR + 2^-20 + 5 * 2^-24 = 3.6e-6: a worst case
    that assumes every harmonic's rounding errors align. The budgets are the issue's:
    SNR >= 100 dB (float32), |error| <= 2^-11 max|reference| (float16); :func:`budget`
    gives the derived worst case beside them. The Nyquist test k * f(n) >= sample_rate/2
    is float32 arithmetic within 2^-21 relative (:data:`NYQUIST_BAND`): harmonics
    closer than that to Nyquist may be kept or silenced, and :func:`reference` reports
    them so that :func:`error` accepts either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike

from ..harness import pipeline
from ..harness.context import Context
from . import _inputs, cumsum

NAME = "harmonic"
BODY_INCREMENT = "kernels/harmonic_increment.frag"
BODY_GAIN = "kernels/harmonic_gain.frag"
BODY_SYNTH = "kernels/harmonic_synth.frag"

MAX_HARMONICS = 128
MAX_HOP = 65536  # ca(r) = hop (r + 1) - r (r + 1) / 2 stays below 2^32
SIN_ERROR = 2.0**-21
EPS_SAMPLE = 2 * math.pi * 2.0**-22.7 + SIN_ERROR + 2.0**-20 + 5 * 2.0**-24
NYQUIST_BAND = 2.0**-20  # relative: wider than the shader's 5 float32 roundings
SNR_BUDGET_DB = 100.0
FLOAT16_BUDGET = 2.0**-11  # of max |reference|


# -- arguments ---------------------------------------------------------------------------------


def _array(x, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(x)
    _inputs.check_dtype(arr, name)
    if arr.ndim != ndim:
        shape = "[batch, frames]" if ndim == 2 else "[batch, frames, K]"
        raise ValueError(f"{name}: expected shape {shape}, got {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: empty array (shape {arr.shape})")
    arr32 = _inputs.finite_float32(arr, name)
    if (arr32 < 0).any():
        raise ValueError(f"{name}: must be non-negative, got min {float(arr32.min()):g}")
    return arr32


@dataclass(frozen=True)
class Shape:
    batch: int
    frames: int
    harmonics: int
    n_samples: int
    hop: int
    add_endpoint: bool


def check(
    f0_hz: ArrayLike,
    amplitude: ArrayLike,
    harmonic_distribution: ArrayLike,
    *,
    sample_rate: float,
    n_samples: int,
    add_endpoint: bool = True,
    initial_phase: ArrayLike | None = None,
    normalize: bool | None = None,
    storage: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.float32, np.ndarray | None, Shape]:
    """Validated float32 inputs, the float32 sample rate and the :class:`Shape`.

    With `storage` (and `normalize`) given, also the limits of that storage format
    (:func:`check_limits`): what a kernel call needs; the float64 reference does not.
    """
    f0 = _array(f0_hz, "f0_hz", 2)
    amp = _array(amplitude, "amplitude", 2)
    dist = _array(harmonic_distribution, "harmonic_distribution", 3)
    if isinstance(sample_rate, bool):
        raise ValueError(f"sample_rate: must be a number, got {sample_rate!r}")
    try:
        sr = float(sample_rate)
    except (TypeError, ValueError):
        raise ValueError(f"sample_rate: must be a number, got {sample_rate!r}") from None
    if not math.isfinite(sr) or sr <= 0:
        raise ValueError(f"sample_rate: must be finite and > 0, got {sample_rate!r}")
    if not _inputs.FLOAT32_TINY <= sr <= _inputs.FLOAT32_MAX:
        raise ValueError(
            f"sample_rate: must be a normal float32 in [2^-126, {_inputs.FLOAT32_MAX:g}], "
            f"got {sample_rate!r}"
        )
    sr32 = np.float32(sr)
    if amp.shape != f0.shape:
        raise ValueError(f"amplitude: shape {amp.shape} does not match f0_hz {f0.shape}")
    if dist.shape[:2] != f0.shape:
        raise ValueError(
            f"harmonic_distribution: frames {dist.shape[:2]} do not match f0_hz {f0.shape}"
        )
    batch, frames = f0.shape
    k = dist.shape[2]
    if not 1 <= k <= MAX_HARMONICS:
        raise ValueError(f"harmonic_distribution: K = {k} harmonics, must be 1 ... 128")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise ValueError(f"n_samples: must be an integer, got {n_samples!r}")
    n = int(n_samples)
    intervals = frames if add_endpoint else frames - 1
    if intervals < 1 or n <= 0 or n % intervals or n // intervals < 2:
        raise ValueError(
            f"n_samples: {n} is not reachable from {frames} frames: it must be a multiple "
            f"of {'frames' if add_endpoint else 'frames - 1'} ({intervals}) with a hop of at "
            "least 2 samples"
        )
    hop = n // intervals
    if hop > MAX_HOP:
        raise ValueError(f"n_samples: hop {hop} exceeds {MAX_HOP} samples per frame")
    phase0 = None
    if initial_phase is not None:
        phase0 = np.asarray(initial_phase)
        if phase0.dtype.kind not in "fiu" or phase0.shape != (batch, k):
            raise ValueError(
                f"initial_phase: expected a float array [batch, K] = {(batch, k)}, "
                f"got {phase0.dtype} {phase0.shape}"
            )
        phase0 = _inputs.finite_float32(phase0, "initial_phase")
    if storage is not None:
        _inputs.check_storage(storage)
        check_limits(f0, amp, dist, sr32, normalize=bool(normalize), storage=storage)
    return f0, amp, dist, sr32, phase0, Shape(batch, frames, k, n, hop, bool(add_endpoint))


# Limits of the amplitudes, per frame (host float64 over the float32 inputs):
# - The output is a sum of K <= 128 terms A_k sin(.), so |y| <= S = sum_k A_k of the
#   nearer frame (the crossfade is convex), plus the kernel's own error S * EPS_SAMPLE:
#   S * (1 + EPS_SAMPLE) must not exceed the storage's largest finite value.
# - The gain pass (harmonic_gain.frag) keeps a gain's exponent apart and zeroes subnormal
#   gains, so a nonzero gain (amplitude / distribution sum, or the amplitude) must lie in
#   [2^-126, float32 max]; its float32 sum of the distribution takes at most 127
#   roundings of 2^-24 (< 2^-17 relative), so that sum must stay below float32 max / (1 +
#   2^-17).
# - A GPU may flush subnormal values to zero: a distribution entry or a term A_k sin(.)
#   below 2^-126, at most 128 per sample, costs < 2^-119. That is inside the amplitude
#   term 2^-20 * S of the error analysis (item 4) when S >= 2^-99, and likewise for the
#   distribution's sum: both must be zero or at least 2^-99.
SMALLEST_SUM = 2.0**-99
_SUM_ROUNDING = 2.0**-17


def _first(mask: np.ndarray) -> str:
    b, i = (int(v) for v in np.argwhere(mask)[0])
    return f"batch {b}, frame {i}"


def check_limits(
    f0: np.ndarray,
    amp: np.ndarray,
    dist: np.ndarray,
    sr32: np.float32,
    *,
    normalize: bool,
    storage: str,
) -> None:
    """Refuse amplitudes whose output or gains `storage` (or float32) cannot hold."""
    d = dist.astype(np.float64)
    a = amp.astype(np.float64)
    top = _inputs.STORAGE_MAX[storage]
    if (d.sum(axis=-1) * (1 + _SUM_ROUNDING) > _inputs.FLOAT32_MAX).any():
        where = _first(d.sum(axis=-1) * (1 + _SUM_ROUNDING) > _inputs.FLOAT32_MAX)
        raise ValueError(
            f"harmonic_distribution: its sum over harmonics ({where}) is beyond float32's "
            f"range ({_inputs.FLOAT32_MAX:g}); scale it down"
        )
    if normalize:
        k = np.arange(1, d.shape[-1] + 1)
        above = f0.astype(np.float64)[..., None] * k >= float(sr32) / 2.0
        dsum = np.where(above, 0.0, d).sum(axis=-1)  # the kept harmonics, as normalised
        scale = np.where(dsum > 0, a, 0.0)
        gain = np.divide(a, dsum, out=np.zeros_like(a), where=dsum > 0)
        gain_name = "amplitude / the sum of harmonic_distribution below Nyquist"
        sum_name = "harmonic_distribution: a frame's sum over harmonics below Nyquist"
        scale_name = "amplitude"
    else:
        dsum = d.sum(axis=-1)
        scale = a * dsum
        gain = a
        gain_name = "amplitude"
        sum_name = "harmonic_distribution: a frame's sum over harmonics"
        scale_name = "amplitude * the sum of harmonic_distribution"
    tiny = (dsum > 0) & (dsum < SMALLEST_SUM)
    if tiny.any():
        raise ValueError(
            f"{sum_name} ({_first(tiny)}) is {float(dsum[tiny][0]):g}, below 2^-99: GPUs may "
            "flush its subnormal parts to zero; scale it up (normalize=True ignores its scale)"
        )
    bad_gain = (gain != 0) & ((gain < _inputs.FLOAT32_TINY) | (gain > _inputs.FLOAT32_MAX))
    if bad_gain.any():
        value = float(gain[bad_gain][0])
        raise ValueError(
            f"{gain_name} ({_first(bad_gain)}) is {value:g}: a nonzero frame gain must be a "
            f"normal float32 in [2^-126, {_inputs.FLOAT32_MAX:g}] (the gain pass zeroes "
            "subnormal gains)"
        )
    small = (scale > 0) & (scale < SMALLEST_SUM)
    if small.any():
        raise ValueError(
            f"{scale_name} ({_first(small)}) is {float(scale[small][0]):g}, below 2^-99: the "
            "output's terms would be subnormal numbers, which GPUs may flush to zero"
        )
    big = scale * (1 + EPS_SAMPLE) > top
    if big.any():
        limit = "65504" if storage == "float16" else f"{top:g}"
        advice = "; use storage='float32'" if storage == "float16" else ""
        raise ValueError(
            f"{scale_name} ({_first(big)}) is {float(scale[big][0]):g}: the output can reach "
            f"that, beyond {storage}'s largest finite value {limit} "
            f"(storage={storage!r}){advice}"
        )


def phase_modulus(sample_rate: np.float32, hop: int) -> cumsum.Modulus:
    """p = sample_rate * hop * 2^shift in [2^43, 2^44): one cycle in phase units."""
    period = Fraction(float(sample_rate)) * hop
    shift = 43 - math.floor(math.log2(period))
    while period * Fraction(2) ** shift >= 1 << 44:
        shift -= 1
    while period * Fraction(2) ** shift < 1 << 43:
        shift += 1
    p = period * Fraction(2) ** shift
    if p.denominator != 1:
        raise ValueError(
            f"sample_rate: {float(sample_rate)!r} * hop {hop} has more than 44 significant bits"
        )
    return cumsum.Modulus(int(p), shift, signed=False)


def _digits(units: np.ndarray) -> np.ndarray:
    """Residues (int64 < 2^44) as four base-2^11 digits, low first (resToDigits)."""
    u = units.astype(np.int64)
    return np.stack([(u >> (11 * j)) & 0x7FF for j in range(4)], axis=-1).astype(np.float32)


def _from_digits(d: np.ndarray) -> np.ndarray:
    u = np.rint(d).astype(np.int64)
    return u[..., 0] + (u[..., 1] << 11) + (u[..., 2] << 22) + (u[..., 3] << 33)


# -- the kernel --------------------------------------------------------------------------------


def harmonic_synth(
    f0_hz: ArrayLike,
    amplitude: ArrayLike,
    harmonic_distribution: ArrayLike,
    *,
    sample_rate: float = 16000,
    n_samples: int = 64000,
    normalize: bool = True,
    initial_phase: ArrayLike | None = None,
    return_final_phase: bool = False,
    add_endpoint: bool = True,
    storage: str = "float16",
    ctx: Context | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """DDSP's harmonic synthesizer (see the module docstring for the exact semantics).

    Args:
        f0_hz: [batch, frames] fundamental frequency in Hz, >= 0.
        amplitude: [batch, frames] overall amplitude, >= 0.
        harmonic_distribution: [batch, frames, K] harmonic weights, >= 0, K <= 128.
        sample_rate: samples per second.
        n_samples: output length: frames * hop (frames - 1) * hop without add_endpoint.
        normalize: mask the distribution above Nyquist and renormalise it per frame.
        initial_phase: [batch, K] radians, each harmonic's phase before sample 0
            (the final_phase of the previous block); None: zeros.
        return_final_phase: also return [batch, K] radians at the last sample.
        add_endpoint: hold the last frame for one hop (DDSP); False: the last frame is
            the end point of the last hop (blocks of a longer rendering).
        storage: "float16" or "float32", the format of every texture rendered into.
        ctx: a :class:`ddspgl.harness.Context`; the shared default one if None.

    Returns:
        float32 [batch, n_samples] audio, or (audio, final_phase).
    """
    _inputs.check_storage(storage)
    f0, amp, dist, sr32, phase0, shape = check(
        f0_hz,
        amplitude,
        harmonic_distribution,
        sample_rate=sample_rate,
        n_samples=n_samples,
        add_endpoint=add_endpoint,
        initial_phase=initial_phase,
        normalize=normalize,
        storage=storage,
    )
    ctx = _inputs.as_context(ctx)
    for name, elements in (
        ("n_samples", shape.batch * shape.n_samples),
        ("harmonic_distribution", dist.size),
    ):
        if elements > ctx.max_elements:
            raise ValueError(f"{name}: {elements} elements exceed this context's texture limit")
    modulus = phase_modulus(sr32, shape.hop)
    audio, total = run(
        ctx, f0, amp, dist, sr32, phase0, shape, modulus, normalize=normalize, storage=storage
    )
    if not return_final_phase:
        return audio
    return audio, final_phase(total, phase0, shape, modulus)


def _phase0_units(phase0: np.ndarray | None, shape: Shape, p: int) -> np.ndarray:
    """Initial phases (float32 radians) as the nearest residues modulo p."""
    if phase0 is None:
        return np.zeros((shape.batch, shape.harmonics), np.int64)
    cycles = np.mod(phase0.astype(np.float64) / (2 * np.pi), 1.0)
    return np.mod(np.rint(cycles * p).astype(np.int64), p)


def final_phase(total: np.ndarray, phase0, shape: Shape, modulus: cumsum.Modulus):
    """[batch, K] float32 radians: k * total + initial phase, wrapped, at the last sample."""
    p = modulus.p
    k = np.arange(1, shape.harmonics + 1, dtype=object)
    units = _phase0_units(phase0, shape, p).astype(object)
    res = (total.astype(object)[:, None] * k[None, :] + units) % p
    return (res.astype(np.float64) / p * (2 * np.pi)).astype(np.float32)


def run(ctx: Context, f0, amp, dist, sr32, phase0, shape: Shape, modulus, *, normalize, storage):
    """Issue the passes; returns (audio [batch, n], total phase residues [batch] int64)."""
    g, audio, prefix, increments = graph(
        f0, amp, dist, sr32, phase0, shape, modulus, normalize=normalize, storage=storage
    )
    with pipeline.execute(ctx, g) as result:
        out = result.read(audio)
        last = shape.frames - 1 if shape.add_endpoint else shape.frames - 2
        total = _from_digits(result.read(prefix)[:, last])
        total += _from_digits(result.read(increments)[:, last])
    return out, np.mod(total, modulus.p)


def graph(f0, amp, dist, sr32, phase0, shape: Shape, modulus, *, normalize, storage):
    """The synthesizer's passes as a :class:`~ddspgl.harness.pipeline.Graph` over checked
    inputs: frame controls -> frame phase increments -> their exclusive scan (residue
    digits) -> per-frame gains -> the audio-rate pass (upsampling inside it).

    Returns (graph, audio, prefix, increments): the graph's output values.
    """
    b, frames, k = shape.batch, shape.frames, shape.harmonics
    k4 = -(-k // 4)
    # Sizes are uniforms (the TF.js bundle passes the same names as defines), so the
    # programs depend on the variant, never on the lengths.
    sizes = {"HOP": ("int", shape.hop), "FRAMES": ("int", frames)}
    uniforms = modulus.uniforms() | sizes
    g = pipeline.Graph(NAME)
    f0_in = g.upload("f0", f0)
    increments = g.run(
        BODY_INCREMENT,
        {"f0": f0_in},
        g.texture("increments", b, frames, 4, storage),
        label="frame increments",
        uniforms=uniforms,
    )
    prefix = cumsum.scan_graph(
        g,
        increments,
        modulus,
        exclusive=True,
        reverse=False,
        storage=storage,
        digits=True,
        label="phase scan",
    )
    packed = np.zeros((b * frames, k4 * 4), np.float32)
    packed[:, :k] = dist.reshape(b * frames, k)
    dist_in = g.upload("dist", packed.reshape(b * frames, k4, 4))
    nyquist = ("float", float(sr32) / 2.0)
    ksizes = {"HARMONIC_K": ("int", k), "HARMONIC_K4": ("int", k4)}
    gain = g.run(
        BODY_GAIN,
        {"f0": f0_in, "amplitude": g.upload("amplitude", amp), "dist": dist_in},
        g.texture("gain", b, frames, 4, storage),
        label="frame gains",
        uniforms=sizes | ksizes | {"nyquist": nyquist},
        defines={"HARMONIC_NORMALIZE": int(bool(normalize))},
    )
    inputs = {"f0": f0_in, "prefix": prefix, "gain": gain, "dist": dist_in}
    if phase0 is not None:
        units = np.zeros((b, k4 * 4), np.int64)
        units[:, :k] = _phase0_units(phase0, shape, modulus.p)
        inputs["phase0"] = g.upload("phase0", _digits(units).reshape(b, k4 * 4, 4))
    audio = g.run(
        BODY_SYNTH,
        inputs,
        g.texture("audio", b, shape.n_samples, 1, storage),
        label="harmonic synth",
        uniforms=uniforms
        | ksizes
        | {"nyquist": nyquist, "invModulus": ("float", float(np.float32(1.0 / modulus.p)))},
        defines={
            "HARMONIC_INITIAL": int(phase0 is not None),
            "HARMONIC_ROUND_F16": int(storage == "float16"),
        },
    )
    g.output(audio, prefix, increments)
    return g, audio, prefix, increments


# -- reference and budget ---------------------------------------------------------------------

REFERENCE_CHUNK = 1 << 15  # samples per block of the [samples, K] reference arrays


def upsample_linear(frames: np.ndarray, n_samples: int, add_endpoint: bool = True):
    """DDSP's 'linear' resampling (bilinear, no half-pixel centres), float64 [..., n]."""
    x = np.asarray(frames, np.float64)
    intervals = x.shape[-1] if add_endpoint else x.shape[-1] - 1
    hop = n_samples // intervals
    n = np.arange(n_samples)
    i, r = n // hop, n % hop
    nxt = np.minimum(i + 1, x.shape[-1] - 1)
    return x[..., i] + (x[..., nxt] - x[..., i]) * (r / hop)


def upsample_window(frames: np.ndarray, n_samples: int, add_endpoint: bool = True):
    """DDSP's 'window' resampling as a raised-cosine crossfade, float64 [..., n]."""
    x = np.asarray(frames, np.float64)
    intervals = x.shape[-1] if add_endpoint else x.shape[-1] - 1
    hop = n_samples // intervals
    n = np.arange(n_samples)
    i, r = n // hop, n % hop
    nxt = np.minimum(i + 1, x.shape[-1] - 1)
    w = 0.5 - 0.5 * np.cos(np.pi * r / hop)
    return x[..., i] * (1.0 - w) + x[..., nxt] * w


def normalize_harmonics(f0, amplitude, dist, sample_rate) -> np.ndarray:
    """amplitude * normalize_harmonics(dist): masked at k f0 >= sr/2, sum-normalised."""
    f0 = np.asarray(f0, np.float64)
    k = np.arange(1, dist.shape[-1] + 1)
    kept = np.where(
        f0[..., None] * k >= float(sample_rate) / 2.0, 0.0, np.asarray(dist, np.float64)
    )
    total = kept.sum(axis=-1, keepdims=True)
    safe = np.where(total == 0.0, 1.0, total)
    return np.asarray(amplitude, np.float64)[..., None] * np.where(total == 0.0, 0.0, kept / safe)


def _frame_phase(f0: np.ndarray, hop: int, sample_rate: float, add_endpoint: bool):
    """Each frame's starting phase in cycles, [batch, frames], exactly rounded to float64.

    The sum of the interpolated f0 over frame i's hop is (f0[i](hop+1) + f0[i+1](hop-1))/2
    Hz * samples: accumulated as exact fractions (Python integers), wrapped modulo
    one cycle (sample_rate Hz * samples), rounded once.
    """
    sr = Fraction(sample_rate)
    out = np.zeros(f0.shape, np.float64)
    for row in range(f0.shape[0]):
        vals = [Fraction(float(v)) for v in f0[row]]
        acc = Fraction(0)
        for i in range(f0.shape[1]):
            out[row, i] = float(acc / sr)
            a = vals[i]
            b = vals[i + 1] if i + 1 < len(vals) else a
            acc = (acc + (a * (hop + 1) + b * (hop - 1)) / 2) % sr
    return out


def reference(
    f0,
    amplitude,
    harmonic_distribution,
    *,
    sample_rate=16000,
    n_samples=64000,
    normalize=True,
    initial_phase=None,
    add_endpoint=True,
):
    """Float64 DDSP harmonic synthesis of the float32 inputs, from the semantics above.

    Returns (audio, ambiguous): [batch, n] float64 each; ``ambiguous`` is the part of the
    audio from harmonics within NYQUIST_BAND of Nyquist (kept in ``audio``), which the
    kernel may keep or silence. Phase: frame starts exact (Fractions), k times that in
    float64, plus the in-frame closed form (f0[i] ca(r) + f0[i+1] cb(r)) / (hop sr) in
    cycles of the fundamental, times k: a few float64 roundings of at most
    k (1 + hop f / sr) cycles, below 2^-36 cycles for every kept harmonic.
    """
    f0, amp, dist, sr32, phase0, shape = check(
        f0,
        amplitude,
        harmonic_distribution,
        sample_rate=sample_rate,
        n_samples=n_samples,
        add_endpoint=add_endpoint,
        initial_phase=initial_phase,
    )
    sr = float(sr32)
    hop, kk = shape.hop, shape.harmonics
    f0_64 = f0.astype(np.float64)
    amps = (
        normalize_harmonics(f0, amp, dist, sr)
        if normalize
        else amp.astype(np.float64)[..., None] * dist.astype(np.float64)
    )
    start = _frame_phase(f0, hop, sr, add_endpoint)
    k = np.arange(1, kk + 1, dtype=np.float64)
    init = (
        np.zeros((shape.batch, kk))
        if phase0 is None
        else np.mod(phase0.astype(np.float64) / (2 * np.pi), 1.0)
    )
    audio = np.zeros((shape.batch, shape.n_samples))
    ambiguous = np.zeros((shape.batch, shape.n_samples))
    nyq = sr / 2.0
    for s in range(0, shape.n_samples, REFERENCE_CHUNK):
        n = np.arange(s, min(s + REFERENCE_CHUNK, shape.n_samples))
        i, r = n // hop, (n % hop).astype(np.float64)
        nxt = np.minimum(i + 1, shape.frames - 1)
        cb = r * (r + 1) / 2
        ca = hop * (r + 1) - cb
        w = 0.5 - 0.5 * np.cos(np.pi * r / hop)
        for row in range(shape.batch):
            a, b = f0_64[row, i], f0_64[row, nxt]
            f = (a * (hop - r) + b * r) / hop
            # Fundamental cycles: frame start in [0, 1) plus the in-frame closed form.
            fundamental = start[row, i] + (a * ca + b * cb) / (hop * sr)
            cycles = np.multiply.outer(fundamental, k)
            cycles += init[row]
            wave = np.sin(cycles * (2 * np.pi), out=cycles)
            env = amps[row, i] * (1.0 - w)[:, None]
            env += amps[row, nxt] * w[:, None]
            kf = np.multiply.outer(f, k)
            near = np.abs(kf - nyq) <= NYQUIST_BAND * nyq
            above = kf >= nyq
            if near.any():
                sign = np.where(above, -1.0, 1.0)
                ambiguous[row, n] = np.where(near, sign * env * wave, 0.0).sum(axis=1)
            env[above] = 0.0
            env *= wave
            audio[row, n] = env.sum(axis=1)
    return audio, ambiguous


def deviation(out, ref: np.ndarray, ambiguous: np.ndarray) -> np.ndarray:
    """|out - reference| per sample, taking the nearer of the two Nyquist readings."""
    out = np.asarray(out, np.float64)
    with np.errstate(invalid="ignore"):
        d = np.minimum(np.abs(out - ref), np.abs(out - (ref - ambiguous)))
    return np.nan_to_num(d, nan=np.inf)


def snr_db(out, ref, ambiguous) -> float:
    d = deviation(out, ref, ambiguous)
    noise = float(np.sum(d**2))
    signal = float(np.sum(ref**2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0 or not math.isfinite(noise):
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def max_error(out, ref, ambiguous) -> float:
    """Largest per-sample deviation in units of max |reference| (absolute if silent)."""
    d = deviation(out, ref, ambiguous)
    scale = float(np.abs(ref).max()) or 1.0
    return float(d.max()) / scale


def derived_bound(
    f0,
    amplitude,
    harmonic_distribution,
    *,
    sample_rate=16000,
    n_samples=64000,
    normalize=True,
    add_endpoint=True,
    blocks=1,
):
    """Worst-case |error| per sample, [batch, n], from the module's error analysis.

    M(n) * EPS_SAMPLE, plus the phase quantisation of f0 below 2^(23 - shift) Hz
    (term 1, k <= K) and the float32 radians at block joins (term 6), both times
    2 pi M(n) per cycle. Excludes the float16 write (term 7).
    """
    f0, amp, dist, sr32, _, shape = check(
        f0,
        amplitude,
        harmonic_distribution,
        sample_rate=sample_rate,
        n_samples=n_samples,
        add_endpoint=add_endpoint,
    )
    sr = float(sr32)
    amps = (
        normalize_harmonics(f0, amp, dist, sr)
        if normalize
        else amp.astype(np.float64)[..., None] * dist.astype(np.float64)
    )
    nxt = np.minimum(np.arange(shape.frames) + 1, shape.frames - 1)
    m = np.maximum(amps, amps[:, nxt]).sum(axis=-1)  # [batch, frames]
    modulus = phase_modulus(sr32, shape.hop)
    floor = 2.0 ** (23 - modulus.shift)
    rounded = ((f0 > 0) & (f0 < floor)).cumsum(axis=-1)  # frames with a rounded f0
    quantise = shape.harmonics * rounded * shape.hop / (2 * sr * 2.0**modulus.shift)
    joins = (blocks - 1) * 2.0**-22 / (2 * np.pi)
    per_frame = m * (EPS_SAMPLE + 2 * np.pi * (quantise + joins))
    idx = np.arange(shape.n_samples) // shape.hop
    return per_frame[:, idx]


def budget_snr_db(ref: np.ndarray, bound: np.ndarray) -> float:
    """The SNR that the derived worst case guarantees for this reference."""
    noise, signal = float(np.sum(bound**2)), float(np.sum(ref**2))
    if noise == 0.0:
        return math.inf
    return -math.inf if signal == 0.0 else 10.0 * math.log10(signal / noise)


def budget_float16(ref: np.ndarray, bound: np.ndarray) -> float:
    """Derived worst case of max_error under float16 storage: bound + half an ulp of |y|."""
    scale = float(np.abs(ref).max()) or 1.0
    y = np.abs(ref) + bound
    half_ulp = np.exp2(np.floor(np.log2(np.maximum(y, 2.0**-24))) - 11)
    return float((bound + half_ulp).max()) / scale
