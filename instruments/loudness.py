"""Loudness as magenta/ddsp 3.7.0 computes it: A-weighted power per frame, in dB.

``ddsp.spectral_ops.compute_loudness`` has two paths, numpy and librosa (``use_tf=False``)
and TensorFlow (``use_tf=True``, the default). ddsp's models see the TensorFlow path:
``F0LoudnessPreprocessor(compute_loudness=True)`` calls it with its defaults, and data
preparation (``prepare_tfrecord_lib._add_loudness``) with ``n_fft=512`` and the default
``use_tf``. :func:`loudness_db` is that path's semantics in float64, step by step:

1. Padding (``spectral_ops.pad``, zeros): ``'center'``, the preprocessor's default,
   puts ``n_fft // 2`` zeros before and after the audio: ``n // hop + 1`` frames, frame
   i centred on sample ``i * hop`` (YIN's frames here are the first ``n // hop``).
   ``'same'``, data preparation's without ``--center`` (its default), pads the end to
   ``(ceil(n / hop) - 1) * hop + n_fft`` samples: ``ceil(n / hop)`` frames, frame i
   starting at sample ``i * hop``. The hop is ``sample_rate // frame_rate`` (here
   ``frame_rate`` must divide ``sample_rate``: ddsp would floor the quotient silently).
2. Frames of ``n_fft`` samples every hop (``tf.signal.stft``, ``pad_end=False``) times
   the periodic Hann window ``0.5 - 0.5 cos(2 pi m / n_fft)``, and their real DFT of
   ``n_fft`` points (``fft_length=None``: the enclosing power of two, so ``n_fft`` must be
   one, or ddsp's weighting no longer matches the bins). No normalisation: a full-scale
   sine's peak bin is ``n_fft / 4``.
3. Power ``|X_k|^2`` of the bins k = 0 ... n_fft / 2, each times ``10^(A(f_k) / 10)``,
   ``f_k = k sample_rate / n_fft``, A the IEC 61672 A-weighting in dB as librosa's
   ``A_weighting`` writes it (poles 20.598997, 107.65265, 737.86223, 12194.217 Hz; +2 dB
   puts 1 kHz at 0) with its ``min_db=-80``: weights below -80 dB, the 0 Hz bin's
   included, are -80 dB.
4. The mean over the ``n_fft / 2 + 1`` bins.
5. ``ddsp.core.power_to_db``: ``10 log10(max(p, 10^(-range_db / 10))) - ref_db``, then at
   least ``-range_db``.

ddsp 3.7.0's defaults are ``n_fft=512``, ``ref_db=0`` and ``range_db=80``
(``ddsp.core.DB_RANGE``): 0 dB is the mean weighted power of a unit-amplitude signal's
bins, not a reference level; a full-scale 1 kHz sine reads about +20 dB at n_fft 512.
ddsp before 2.0 used ``n_fft=2048``, ``ref_db=20.7`` and ``range_db=120`` (``LD_RANGE``),
with the numpy path: pass them to match a model trained then.

Cost: one FFT of ``n_fft`` points per frame, frames processed in blocks so that memory
stays bounded for long inputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

DB_RANGE = 80.0  # ddsp.core.DB_RANGE: ddsp 3.7.0's default range_db
N_FFT = 512  # ddsp 3.7.0's default n_fft (compute_loudness and data preparation)
N_FFT_MAX = 2**16
A_WEIGHTING_MIN_DB = -80.0  # librosa.A_weighting's min_db, ddsp leaves it at its default
PADDINGS = ("center", "same")
BLOCK_FRAMES = 2048  # frames per FFT block: 2048 x n_fft float64 = 8 MiB at n_fft 512
# A-weighting poles in Hz (IEC 61672-1, as librosa writes them).
A_POLES_HZ = (20.598997, 107.65265, 737.86223, 12194.217)
A_OFFSET_DB = 2.0  # puts A(1 kHz) at 0 dB (to within 0.002 dB)


def a_weighting_db(freqs: np.ndarray) -> np.ndarray:
    """A-weighting in dB at `freqs` (Hz), clipped below at -80 dB (0 Hz included)::

        A(f) = 2 + 20 log10( p4^2 f^4 / ((f^2 + p1^2) (f^2 + p4^2)
                             sqrt(f^2 + p2^2) sqrt(f^2 + p3^2)) )

    written as librosa's sum of logarithms (the same terms, so the same rounding)."""
    f = np.asarray(freqs, np.float64)
    p1, p2, p3, p4 = (p * p for p in A_POLES_HZ)
    out = np.full(f.shape, A_WEIGHTING_MIN_DB)
    pos = f > 0
    fs = f[pos] ** 2
    a = A_OFFSET_DB + 20.0 * (
        np.log10(p4)
        + 2.0 * np.log10(fs)
        - np.log10(fs + p4)
        - np.log10(fs + p1)
        - 0.5 * np.log10(fs + p2)
        - 0.5 * np.log10(fs + p3)
    )
    out[pos] = np.maximum(A_WEIGHTING_MIN_DB, a)
    return out


def bin_frequencies(sample_rate: int, n_fft: int) -> np.ndarray:
    """f_k = k sample_rate / n_fft for k = 0 ... n_fft / 2 (Hz)."""
    return np.arange(n_fft // 2 + 1) * (sample_rate / n_fft)


def weights(sample_rate: int, n_fft: int) -> np.ndarray:
    """The linear power weights ``10^(A(f_k) / 10)`` of the n_fft / 2 + 1 bins."""
    return 10.0 ** (a_weighting_db(bin_frequencies(sample_rate, n_fft)) / 10.0)


def hann(n_fft: int) -> np.ndarray:
    """The periodic Hann window (tf.signal.hann_window's default, librosa's 'hann')."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)


def frame_count(n: int, hop: int, n_fft: int, padding: str = "center") -> int:
    """Frames ddsp's padding and framing give for n samples."""
    return n // hop + 1 if padding == "center" else -(-n // hop)


def frame_blocks(
    x: np.ndarray, hop: int, n_fft: int, padding: str = "center", block: int = BLOCK_FRAMES
) -> Iterator[np.ndarray]:
    """The padded signal's frames [frames, n_fft] (unwindowed, float64), in blocks of at
    most `block` frames, in order."""
    frames = frame_count(x.size, hop, n_fft, padding)
    left = n_fft // 2 if padding == "center" else 0
    padded = np.zeros(max((frames - 1) * hop + n_fft, left + x.size))  # frames may end early
    padded[left : left + x.size] = x
    view = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    for start in range(0, frames, block):
        yield np.array(view[start : start + block], np.float64)


def power_to_db(power: np.ndarray, range_db: float = DB_RANGE, ref_db: float = 0.0):
    """ddsp.core.power_to_db: 10 log10 of the power floored at -range_db, less ref_db,
    floored at -range_db again."""
    floor = 10.0 ** (-range_db / 10.0)
    return np.maximum(10.0 * np.log10(np.maximum(floor, power)) - ref_db, -range_db)


def weighted_power(
    audio,
    sample_rate: int = 16000,
    frame_rate: int = 250,
    n_fft: int = N_FFT,
    *,
    padding: str = "center",
) -> np.ndarray:
    """Steps 1-4: the mean A-weighted power of every frame's bins, float64 [frames]."""
    x, hop = check(audio, sample_rate, frame_rate, n_fft, padding=padding)
    return _weighted_power(x, sample_rate, hop, n_fft, padding)


def _weighted_power(x, sample_rate, hop, n_fft, padding):
    window, w = hann(n_fft), weights(sample_rate, n_fft)
    out = []
    for frames in frame_blocks(x, hop, n_fft, padding):
        spec = np.fft.rfft(frames * window, axis=-1)
        power = spec.real**2 + spec.imag**2
        out.append((power * w).mean(axis=-1))
    return np.concatenate(out)


def loudness_db(
    audio,
    sample_rate: int = 16000,
    frame_rate: int = 250,
    n_fft: int = N_FFT,
    *,
    range_db: float = DB_RANGE,
    ref_db: float = 0.0,
    padding: str = "center",
) -> np.ndarray:
    """Loudness in dB per frame, float64 [frames], as ddsp 3.7.0's ``compute_loudness``
    (its TensorFlow path) computes it, in float64 (see the module's docstring).

    Args:
        audio: mono samples, a 1-D float array (any float dtype; evaluated in float64).
        sample_rate: Hz, a positive integer.
        frame_rate: frames per second, a positive integer dividing sample_rate (ddsp's
            production settings: 250 at 16000 Hz; 50 at 16000 or 48000 Hz).
        n_fft: the FFT size, a power of two in [2, 65536], at least the hop.
        range_db: the dynamic range, > 0: the result is at least -range_db.
        ref_db: subtracted from every value.
        padding: 'center' (n // hop + 1 frames, frame i centred on sample i * hop) or
            'same' (ceil(n / hop) frames, frame i starting at sample i * hop).
    """
    x, hop = check(audio, sample_rate, frame_rate, n_fft, range_db, ref_db, padding)
    return power_to_db(_weighted_power(x, sample_rate, hop, n_fft, padding), range_db, ref_db)


# -- argument checks ---------------------------------------------------------------------------


def _integer(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name}: must be a positive integer, got {value!r}")
    return int(value)


def _finite(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name}: must be a finite number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name}: must be a finite number, got {value!r}")
    return float(value)


def check(
    audio,
    sample_rate,
    frame_rate,
    n_fft=N_FFT,
    range_db=DB_RANGE,
    ref_db=0.0,
    padding="center",
) -> tuple[np.ndarray, int]:
    """(audio as float64 [n], hop) or a ValueError naming the argument and its limit."""
    sample_rate = _integer(sample_rate, "sample_rate")
    frame_rate = _integer(frame_rate, "frame_rate")
    if sample_rate % frame_rate:
        raise ValueError(
            f"frame_rate: must divide sample_rate (16000 and 48000 Hz with 250 or 50 "
            f"frames/s, as ddsp uses them), got {frame_rate} frames/s at {sample_rate} Hz"
        )
    hop = sample_rate // frame_rate
    n_fft = _integer(n_fft, "n_fft")
    if n_fft < 2 or n_fft > N_FFT_MAX or n_fft & (n_fft - 1):
        raise ValueError(f"n_fft: must be a power of two in [2, {N_FFT_MAX}], got {n_fft}")
    if n_fft < hop:
        raise ValueError(
            f"n_fft: must be at least the hop (sample_rate // frame_rate = {hop} samples), "
            f"got {n_fft}"
        )
    if _finite(range_db, "range_db") <= 0:
        raise ValueError(f"range_db: must be > 0, got {range_db!r}")
    _finite(ref_db, "ref_db")
    if padding not in PADDINGS:
        raise ValueError(f"padding: must be one of {PADDINGS}, got {padding!r}")
    x = np.asarray(audio)
    if x.dtype.kind != "f":
        raise ValueError(
            f"audio: must hold floating-point samples (scale integers to [-1, 1] first), "
            f"got dtype {x.dtype}"
        )
    if x.ndim != 1:
        if x.ndim == 2:
            raise ValueError(
                f"audio: must be mono (1-D), got shape {x.shape}: mix the channels down to "
                f"one first (the mean over the channel axis)"
            )
        raise ValueError(f"audio: must be mono (1-D), got shape {x.shape}")
    if x.size == 0:
        raise ValueError("audio: is empty")
    if x.size < hop:
        raise ValueError(
            f"audio: {x.size} samples is shorter than one frame's hop ({hop} samples at "
            f"{sample_rate} Hz and {frame_rate} frames/s)"
        )
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(
            f"audio: every sample must be finite, got {float(x[bad[0]])} at sample {bad[0]}"
        )
    return x.astype(np.float64), hop
