"""Filtered noise: DDSP's FilteredNoise synthesizer, time-varying FIR filtering computed directly.

What
    ``filtered_noise(magnitudes, n_samples=...)`` renders magenta/ddsp's
    ``FilteredNoise.get_signal`` (ddsp 3.7.0): ``core.frequency_filter(noise, magnitudes,
    window_size, padding='same')`` of uniform noise in [-1, 1), with the noise drawn by a
    seeded counter-based generator (:func:`noise`) instead of ``tf.random.uniform``.
    ``magnitudes`` [batch, frames, K] are the controls after ddsp's ``scale_fn`` (the
    model output ``filtered_noise_controls_magnitudes``); band k is the frequency
    ``k / (2 (K - 1))`` of the sample rate.

    1. Impulse responses (``frequency_impulse_response``): per frame the zero-phase IR
       ``h[t] = irfft(magnitudes)[t]``, N = 2 (K - 1) points,
       ``h[t] = (M_0 + (-1)^t M_{K-1} + 2 sum_{0<k<K-1} M_k cos(2 pi k t / N)) / N``;
       windowed by TF's periodic Hann window of ``W = window_size`` points (W = N where
       window_size <= 0 or > N), zero padded and put in causal form exactly as
       ``apply_window_to_impulse_response`` indexes it (:func:`taps`): tap j of the L
       taps is ``c_j h[s_j]`` for a window value c_j and a source index s_j. W = N gives
       L = N; a smaller W gives L = 2 ceil(W / 2) - 1 (ddsp's slicing drops the window's
       first two values and keeps one padding zero).
    2. Convolution (``fft_convolve``): frames of ``hop = ceil(n / frames)`` samples (the
       last one zero padded; ``ceil(n / hop)`` must equal ``frames``), each convolved
       linearly with its frame's IR (ddsp's FFT size is a power of two >= hop + L - 1,
       so its circular convolution is linear), overlap-added at ``hop``, then cropped to n
       samples from ``start = (L - 1) // 2 - 1`` (``crop_and_compensate_delay``):
       ``y[m] = sum_j ir_{q // hop}[j] x[q]`` over the taps with ``q = m + start - j`` in
       [0, n).

    The noise (:func:`noise`) is a function of (seed, batch row, absolute sample index):
    ``sample_offset`` shifts the index, so consecutive blocks draw one continuous stream.
    Each uniform is ``(h >> 8) 2^-23 - 1`` for a 32-bit hash h: a multiple of 2^-23 in
    [-1, 1 - 2^-23], exact in float32 (ddsp's ``2 u - 1`` on TF's 2^-23 grid), the same
    bits in GLSL, the TF.js fallback and numpy.

How (2 passes)
    1. ``filtered_noise_ir.frag`` [batch * frames, L] vec4: each frame's taps, a direct
       DFT per tap (K products of a magnitude and an exactly rounded cosine from a
       table, compensated sum, times ``g_j = c_j / N``), written as the three base-2^11
       digits of the float32 tap (glsl/lib/float/floatDigits.glsl): exact in float16
       textures too, so float16 storage costs nothing until the audio's write.
    2. ``filtered_noise_audio.frag`` [batch, n_samples]: one fragment per sample, looping
       over the frames whose taps reach it and, in each, the taps: the noise drawn on
       the fly (glsl/lib/noise/noiseUniform.glsl) times the tap, compensated sum.

Error analysis (u = 2^-24; float32 +, -, * correctly rounded; per frame i
``A_i = |M_0| + |M_{K-1}| + 2 sum_{0<k<K-1} |M_k|`` and ``H_i = A_i / N`` >= |h|)
    1. Cosine table: float64 cos rounded once to float32: within 2^-25 (1 + 2^-27).
    2. Terms ``w_k (M_k cos)``: the product rounds once (u), the factor w_k = 2 is exact:
       with 1., each term within (u + 2^-25) w_k |M_k| (1 + u).
    3. Compensated (Kahan) sum of the K terms: within (2u + O(K u^2)) of sum |terms|.
       So S = N h is within 3.5 u A_i (+ O(u^2)).
    4. ``g_j = float32(c_j / N)`` within u/2 relative (the float64 window value's own
       error is 2^-52), and ``g_j S`` rounds once: the tap within 5 u c_j H_i
       (+ O(u^2)). Stored as digits: exact.
    5. Audio: ``tap * x`` rounds once (u |tap|, |x| <= 1), the compensated sum over the
       L taps adds 2 u of sum |terms|: 3 u c_j H_i (1 + 5u) more per tap.
    Per sample: ``|y - y_ref| <= sum_j (EPS_TAP c_j H_{i(j)} + FLUSH)`` over the taps
    that reach it (:func:`derived_bound`), with ``EPS_TAP = 8 u + 2^-32`` (2^-32 covers
    every O(u^2) and O((K + L) u^2) term, K, L <= 2048) and ``FLUSH = 2^-100`` per tap
    (a GPU may flush subnormal values to zero anywhere in a tap's arithmetic: at most
    8 K + 8 flushes of less than 2^-126 each, scaled by g_j <= 1/4). The float64
    reference's own error (FFT, cosines: about 2^-48 A_i per tap) lies far inside.
    6. float16 storage: the sample is rounded to float16 in the shader (roundF16), half an
       ulp: ``2^(floor(log2 |y|) - 11)`` (2^-25 below 2^-14) (:func:`write_bound`).
    The suite's error is the largest ``|y - y_ref| / bound`` over the samples: budget 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..harness import pipeline
from ..harness.context import Context
from . import _inputs

NAME = "filtered_noise"
BODY_IR = "kernels/filtered_noise_ir.frag"
BODY_AUDIO = "kernels/filtered_noise_audio.frag"

MIN_BANDS = 3  # K = 2 gives ddsp's crop a negative start: (L - 1) // 2 - 1 = -1
MAX_BANDS = 1025  # N = 2 (K - 1) <= 2048: source indices exact in float16 texels
MAX_INDEX = 2**31  # sample_offset + n_samples: the shader's int arithmetic
MAX_SEED = 2**32 - 1

U = 2.0**-24
EPS_TAP = 8 * U + 2.0**-32  # per tap, relative to c_j H_i (terms 1-5)
FLUSH = 2.0**-100  # per tap, absolute: subnormal results flushed to zero
# Partial sums of the frame pass stay within A_i (1 + 2^-20) (Kahan's compensation and
# roundings), which must be finite in float32.
SUM_ROUNDING = 2.0**-20
REFERENCE_CHUNK = 1 << 16  # samples per block of the reference's [batch, samples] work


# -- the noise ---------------------------------------------------------------------------------

_MASK = 0xFFFFFFFF


def _pcg(v: np.ndarray) -> np.ndarray:
    """The PCG hash (Jarzynski and Olano, "Hash Functions for GPU Rendering", JCGT 2020) of
    uint32 values held in uint64 arrays, as glsl/lib/noise/noiseUniform.glsl computes it."""
    state = (v * 747796405 + 2891336453) & _MASK
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & _MASK
    return (word >> 22) ^ word


def row_keys(batch: int, seed: int) -> np.ndarray:
    """Per batch row the 32-bit key of its noise stream: pcg(pcg(seed) + row)."""
    rows = np.arange(batch, dtype=np.uint64)
    first = _pcg(np.array([seed], np.uint64))
    return _pcg((first + rows) & _MASK)


def noise_bits(batch: int, n_samples: int, seed: int = 0, sample_offset: int = 0) -> np.ndarray:
    """The generator's 32-bit words [batch, n_samples]: pcg(pcg(index ^ key) + key) for
    absolute sample index ``sample_offset + q`` and the row's key."""
    keys = row_keys(batch, seed)[:, None]
    index = np.arange(sample_offset, sample_offset + n_samples, dtype=np.uint64)[None, :]
    return _pcg((_pcg(index ^ keys) + keys) & _MASK)


def noise(batch: int, n_samples: int, seed: int = 0, sample_offset: int = 0) -> np.ndarray:
    """The kernel's uniform noise, float32 [batch, n_samples] in [-1, 1), bit for bit:
    ``(h >> 8) 2^-23 - 1`` of each word h of :func:`noise_bits`."""
    seed, sample_offset = _seed(seed), _offset(sample_offset, n_samples)
    bits = noise_bits(batch, n_samples, seed, sample_offset)
    return ((bits >> 8).astype(np.float64) * 2.0**-23 - 1.0).astype(np.float32)


# -- arguments ---------------------------------------------------------------------------------


def _integer(value, name: str):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: must be an integer, got {value!r}")
    return int(value)


def _seed(seed) -> int:
    s = _integer(seed, "seed")
    if not 0 <= s <= MAX_SEED:
        raise ValueError(f"seed: must lie in [0, 2^32 - 1], got {seed!r}")
    return s


def _offset(sample_offset, n_samples: int) -> int:
    off = _integer(sample_offset, "sample_offset")
    if off < 0 or off + n_samples > MAX_INDEX:
        raise ValueError(
            f"sample_offset: must be >= 0 with sample_offset + n_samples <= 2^31, got "
            f"{sample_offset!r} (n_samples {n_samples})"
        )
    return off


def taps(bands: int, window_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(source index s_j, window value c_j) of each causal tap [L]: the IR's tap j is
    ``c_j h[s_j]``, ddsp's ``apply_window_to_impulse_response`` followed on index arrays.

    The Hann window of W points (``tf.signal.hann_window``, periodic: ``0.5 - 0.5 cos(2 pi
    n / P)`` with P = W for an even W, W - 1 for an odd one), zero padded to N and
    put in zero-phase form: for W = N by fftshift, else as ``concat(w[half:], zeros,
    w[:half])`` with ``half = (W + 1) // 2``; the windowed IR is then put in causal form by
    fftshift (W = N) or ``concat(ir[N - half + 2:], ir[:half + 1])``.
    """
    n = 2 * (bands - 1)
    w_size = n if window_size <= 0 or window_size > n else window_size
    # tf.signal.hann_window(periodic=True) divides by W for an even W, by W - 1 for an odd
    # one (its `periodic` applies to even lengths only).
    period = w_size if w_size % 2 == 0 else w_size - 1
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(w_size) / period)
    index = np.arange(n)
    if w_size < n:
        half = (w_size + 1) // 2
        zero_phase = np.concatenate([window[half:], np.zeros(n - w_size), window[:half]])
        source = np.concatenate([index[n - half + 2 :], index[: half + 1]])
    else:
        zero_phase = np.fft.fftshift(window)
        source = np.fft.fftshift(index)
    return source, zero_phase[source]


@dataclass(frozen=True)
class Shape:
    batch: int
    frames: int
    bands: int  # K
    n_samples: int
    hop: int  # ceil(n / frames)
    window_size: int  # as given (<= 0: the IR's size)
    seed: int
    sample_offset: int

    @property
    def ir_size(self) -> int:
        """N = 2 (K - 1): the zero-phase IR's length."""
        return 2 * (self.bands - 1)

    @property
    def taps(self) -> int:
        """L: the causal IR's length."""
        return len(taps(self.bands, self.window_size)[0])

    @property
    def start(self) -> int:
        """ddsp's delay compensation: output sample m is convolution sample m + start."""
        return (self.taps - 1) // 2 - 1


def check(
    magnitudes: ArrayLike,
    *,
    n_samples,
    window_size=0,
    seed=0,
    sample_offset=0,
    storage: str | None = None,
) -> tuple[np.ndarray, Shape]:
    """Validated float32 magnitudes [batch, frames, K] and the :class:`Shape`.

    With `storage`, also the limits of that storage format (:func:`check_limits`): what a
    kernel call needs; the float64 reference does not.
    """
    arr = np.asarray(magnitudes)
    _inputs.check_dtype(arr, "magnitudes")
    if arr.ndim != 3:
        raise ValueError(f"magnitudes: expected shape [batch, frames, K], got {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"magnitudes: empty array (shape {arr.shape})")
    mags = _inputs.finite_float32(arr, "magnitudes")
    batch, frames, bands = mags.shape
    if not MIN_BANDS <= bands <= MAX_BANDS:
        raise ValueError(
            f"magnitudes: K = {bands} bands, must be {MIN_BANDS} ... {MAX_BANDS} (an impulse "
            f"response of 2 (K - 1) <= {2 * (MAX_BANDS - 1)} points)"
        )
    n = _integer(n_samples, "n_samples")
    if n < frames:
        raise ValueError(f"n_samples: {n} is fewer than the {frames} frames of magnitudes")
    hop = -(-n // frames)
    if -(-n // hop) != frames:
        raise ValueError(
            f"n_samples: {n} samples do not split into {frames} frames: frames of "
            f"ceil(n_samples / frames) = {hop} samples make {-(-n // hop)} (ddsp's "
            "fft_convolve refuses this too)"
        )
    w = _integer(window_size, "window_size")
    if w in (1, 2):
        raise ValueError(
            f"window_size: {w} gives ddsp's delay compensation a negative start; use 0 (the "
            "impulse response's size) or >= 3"
        )
    shape = Shape(batch, frames, bands, n, hop, w, _seed(seed), _offset(sample_offset, n))
    if storage is not None:
        _inputs.check_storage(storage)
        check_limits(mags, shape, storage)
    return mags, shape


def weighted_sums(mags: np.ndarray) -> np.ndarray:
    """A_i = |M_0| + |M_{K-1}| + 2 sum of the other |M_k|, float64 [batch, frames]."""
    a = np.abs(mags.astype(np.float64))
    return 2.0 * a.sum(axis=-1) - a[..., 0] - a[..., -1]


def _first(mask: np.ndarray) -> str:
    b, i = (int(v) for v in np.argwhere(mask)[0])
    return f"batch {b}, frame {i}"


def check_limits(mags: np.ndarray, shape: Shape, storage: str) -> None:
    """Refuse magnitudes whose sums (float32) or output (`storage`) would not be finite.

    - The frame pass's partial sums stay within A_i (1 + SUM_ROUNDING): finite in float32.
    - ``|y| <= sum_j c_j H_i <= C max_i H_i`` with C the sum of the window values (the
      crossfade of frames is a selection per tap): with the kernel's error that must not
      exceed the storage's largest finite value.
    """
    a = weighted_sums(mags)
    big = a * (1 + SUM_ROUNDING) > _inputs.FLOAT32_MAX
    if big.any():
        raise ValueError(
            f"magnitudes: the sum of |magnitudes| (doubled inside the band) ({_first(big)}) is "
            f"{float(a[big][0]):g}, beyond float32's range ({_inputs.FLOAT32_MAX:g}); scale "
            "them down"
        )
    top = _inputs.STORAGE_MAX[storage]
    coef = taps(shape.bands, shape.window_size)[1].sum()
    peak = a / shape.ir_size * coef * (1 + EPS_TAP)
    over = peak > top
    if over.any():
        limit = "65504" if storage == "float16" else f"{top:g}"
        advice = "; use storage='float32'" if storage == "float16" else ""
        raise ValueError(
            f"magnitudes: the output can reach {float(peak[over][0]):g} ({_first(over)}), "
            f"beyond {storage}'s largest finite value {limit} (storage={storage!r}){advice}"
        )


# -- the kernel --------------------------------------------------------------------------------


def filtered_noise(
    magnitudes: ArrayLike,
    *,
    n_samples: int,
    window_size: int = 0,
    seed: int = 0,
    sample_offset: int = 0,
    storage: str = "float16",
    ctx: Context | None = None,
) -> np.ndarray:
    """DDSP's filtered noise synthesizer (see the module docstring for the exact semantics).

    Args:
        magnitudes: [batch, frames, K] filter magnitudes per frame, K = 3 ... 1025 bands
            from 0 Hz to Nyquist (ddsp's controls after scale_fn); finite.
        n_samples: output length; frames of ceil(n_samples / frames) samples must make
            exactly `frames` frames (as ddsp requires).
        window_size: the Hann window on the impulse response, in samples: 0 (or more than
            2 (K - 1)) for the whole response, else >= 3.
        seed: integer in [0, 2^32 - 1]: the noise stream (each batch row draws its own).
        sample_offset: the absolute index of the first sample's noise (>= 0): blocks of a
            longer rendering continue one stream.
        storage: "float16" or "float32", the format of every texture rendered into.
        ctx: a :class:`ddspgl.harness.Context`; the shared default one if None.

    Returns:
        float32 [batch, n_samples] audio.
    """
    _inputs.check_storage(storage)
    mags, shape = check(
        magnitudes,
        n_samples=n_samples,
        window_size=window_size,
        seed=seed,
        sample_offset=sample_offset,
        storage=storage,
    )
    ctx = _inputs.as_context(ctx)
    for name, elements in (
        ("n_samples", shape.batch * shape.n_samples),
        ("magnitudes", shape.batch * shape.frames * max(shape.taps, shape.bands)),
    ):
        if elements > ctx.max_elements:
            raise ValueError(f"{name}: {elements} elements exceed this context's texture limit")
    g, audio = graph(mags, shape, storage)
    with pipeline.execute(ctx, g) as result:
        return result.read(audio)


def digits(values: np.ndarray) -> np.ndarray:
    """float32 values [...] as the digits floatFromDigits reads: [..., 4] (the three
    base-2^11 digits of the bits, low first; w = 0)."""
    bits = np.asarray(values, np.float32).view(np.uint32).astype(np.int64)
    out = np.zeros(bits.shape + (4,), np.float32)
    out[..., 0] = bits & 0x7FF
    out[..., 1] = (bits >> 11) & 0x7FF
    out[..., 2] = bits >> 22
    return out


def tables(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """(cosines [1, N, 4], taps [1, L, 4]) as the IR pass reads them: the digits of
    float32(cos(2 pi m / N)), and of float32(c_j / N) with s_j in w."""
    n = shape.ir_size
    cosines = digits(np.cos(2 * np.pi * np.arange(n) / n).astype(np.float32))
    source, coef = taps(shape.bands, shape.window_size)
    tap = digits((coef / n).astype(np.float32))
    tap[..., 3] = source
    return cosines[None], tap[None]


def graph(mags: np.ndarray, shape: Shape, storage: str):
    """The synthesizer's passes as a :class:`~ddspgl.harness.pipeline.Graph` over checked
    inputs: magnitudes -> per-frame taps (digits) -> the audio-rate pass.

    Returns (graph, audio): the graph's output value.
    """
    b, frames, k = shape.batch, shape.frames, shape.bands
    seed = shape.seed
    g = pipeline.Graph(NAME)
    cosines, tap = tables(shape)
    ir = g.run(
        BODY_IR,
        {
            "magnitudes": g.upload("magnitudes", mags.reshape(b * frames, k)),
            "cosTable": g.upload("cosTable", cosines),
            "taps": g.upload("taps", tap),
        },
        g.texture("ir", b * frames, shape.taps, 4, storage),
        label="impulse responses",
        uniforms={"NOISE_BANDS": ("int", k), "NOISE_IR_SIZE": ("int", shape.ir_size)},
    )
    audio = g.run(
        BODY_AUDIO,
        {"ir": ir},
        g.texture("audio", b, shape.n_samples, 1, storage),
        label="filtered noise",
        uniforms={
            "NOISE_FRAMES": ("int", frames),
            "NOISE_HOP": ("int", shape.hop),
            "NOISE_TAPS": ("int", shape.taps),
            "NOISE_SAMPLES": ("int", shape.n_samples),
            "NOISE_START": ("int", shape.start),
            "seed": ("ivec2", (seed & 0xFFFF, seed >> 16)),
            "sampleOffset": ("int", shape.sample_offset),
        },
        defines={"NOISE_ROUND_F16": int(storage == "float16")},
    )
    g.output(audio)
    return g, audio


# -- reference and budget ---------------------------------------------------------------------


def impulse_responses(mags: np.ndarray, shape: Shape) -> np.ndarray:
    """Float64 causal IRs [batch, frames, L]: ``irfft`` (numpy's float64 FFT) of the
    magnitudes, windowed and indexed as :func:`taps` says."""
    h = np.fft.irfft(mags.astype(np.float64), n=shape.ir_size, axis=-1)
    source, coef = taps(shape.bands, shape.window_size)
    return h[..., source] * coef


def _convolve(ir: np.ndarray, x: np.ndarray, shape: Shape) -> np.ndarray:
    """``y[m] = sum_j ir[q // hop, j] x[q]``, q = m + start - j in [0, n): [batch, n]."""
    n, hop, start = shape.n_samples, shape.hop, shape.start
    out = np.zeros((x.shape[0], n))
    for lo in range(0, n, REFERENCE_CHUNK):
        m = np.arange(lo, min(lo + REFERENCE_CHUNK, n))
        acc = np.zeros((x.shape[0], m.size))
        for j in range(ir.shape[-1]):
            q = m + start - j
            ok = (q >= 0) & (q < n)
            qs = q[ok]
            acc[:, ok] += ir[:, qs // hop, j] * x[:, qs]
        out[:, m] = acc
    return out


def reference(magnitudes, noise, *, window_size=0):
    """Float64 ddsp ``frequency_filter(noise, magnitudes, window_size, padding='same')`` of
    the float32 magnitudes [batch, frames, K] and the given noise [batch, n] (the kernel's
    :func:`noise`, or anyone's): [batch, n] float64, from the semantics above."""
    x = np.asarray(noise, np.float64)
    if x.ndim != 2:
        raise ValueError(f"noise: expected shape [batch, n_samples], got {x.shape}")
    mags, shape = check(magnitudes, n_samples=x.shape[1], window_size=window_size)
    if x.shape[0] != shape.batch:
        raise ValueError(f"noise: {x.shape[0]} rows, magnitudes have batch {shape.batch}")
    return _convolve(impulse_responses(mags, shape), x, shape)


def derived_bound(magnitudes, *, n_samples, window_size=0):
    """Worst-case |error| per sample [batch, n] of a float32 kernel (error terms 1-5):
    ``sum_j (EPS_TAP c_j H_i + FLUSH)`` over the taps reaching each sample, |x| <= 1.
    Excludes the float16 write (term 6: :func:`write_bound`)."""
    mags, shape = check(magnitudes, n_samples=n_samples, window_size=window_size)
    h = weighted_sums(mags) / shape.ir_size
    coef = taps(shape.bands, shape.window_size)[1]
    per_tap = h[..., None] * coef * EPS_TAP + FLUSH
    return _convolve(per_tap, np.ones((shape.batch, shape.n_samples)), shape)


def half_ulp_f16(v: np.ndarray) -> np.ndarray:
    """Half a float16 ulp at |v|: 2^(floor(log2 |v|) - 11), 2^-25 below 2^-14."""
    a = np.maximum(np.abs(np.asarray(v, np.float64)), 2.0**-14)
    return np.exp2(np.floor(np.log2(a)) - 11)


def write_bound(ref: np.ndarray, bound: np.ndarray, storage: str) -> np.ndarray:
    """The per-sample bound with the write's rounding: float16 adds half an ulp of the
    largest value the sample may take (term 6); float32 writes are exact."""
    if storage == "float32":
        return bound
    return bound + half_ulp_f16(np.abs(ref) + bound)


def deviation(out, ref: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """|out - ref| / bound per sample (0 where both are 0; inf for NaN or a nonzero error
    against a zero bound)."""
    d = np.abs(np.asarray(out, np.float64) - ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d == 0, 0.0, d / bound)
    return np.nan_to_num(ratio, nan=np.inf)


def snr_db(out, ref: np.ndarray) -> float:
    noise_power = float(np.sum((np.asarray(out, np.float64) - ref) ** 2))
    signal = float(np.sum(ref**2))
    if noise_power == 0.0:
        return math.inf
    if signal == 0.0 or not math.isfinite(noise_power):
        return -math.inf
    return 10.0 * math.log10(signal / noise_power)
