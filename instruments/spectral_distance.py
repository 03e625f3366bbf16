"""ddsp's multi-scale spectral loss between two signals, in float64.

:func:`distance` is ``ddsp.losses.SpectralLoss`` as ddsp's ``models/ae.gin`` binds it (and
``ddspgl train``'s models were trained with): FFT sizes 2048, 1024, 512, 256, 128 and 64;
for each, the magnitude spectrogram of both signals (``spectral_ops.compute_mag``:
``tf.signal.stft`` with the periodic Hann window, a hop of a quarter of the size
(``overlap=0.75``), ``pad_end=True``: ``ceil(n / hop)`` frames, the signal padded with zeros
at its end, the real FFT of the size itself, no normalisation); the loss adds, per size,
the mean over frames and bins of ``|S_target - S_value|`` (``mag_weight`` 1) and of
``|log S_target - log S_value|`` (``logmag_weight`` 1, natural logarithm, ddsp's
``safe_log``: a magnitude of 0 becomes 1e-5 first). Twelve means summed; no batch mean
beyond one example.

:func:`deviation_bound` bounds how far an implementation can lie from the exact value
(ddsp's in float32, this module's in float64), for tests that hold the two together.

Cost: per size, one real FFT per frame of each signal (about 6 n log n operations for n
samples over all sizes).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from . import loudness, loudness_bound

FFT_SIZES = (2048, 1024, 512, 256, 128, 64)  # ddsp.losses.SpectralLoss's default (ae.gin)
OVERLAP = 0.75  # spectral_ops.compute_mag's default
LOG_EPS = 1e-5  # ddsp.core.safe_log: values <= 0 become eps before the logarithm
# The smallest positive float32 (a subnormal): the least magnitude a float32 spectrum can
# hold without being 0, so the farthest a float32 log magnitude can fall.
F32_TINY = float(np.nextafter(np.float32(0), np.float32(1)))


def _check(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind != "f":
        raise ValueError(f"{name}: must hold floating-point samples, got dtype {a.dtype}")
    if a.ndim != 1:
        raise ValueError(f"{name}: must be mono (1-D), got shape {a.shape}")
    if a.size < max(FFT_SIZES) // 4:
        raise ValueError(
            f"{name}: {a.size} samples is shorter than the largest size's hop "
            f"({max(FFT_SIZES) // 4} samples)"
        )
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise ValueError(f"{name}: every sample must be finite, got {a[bad[0]]} at {bad[0]}")
    return a.astype(np.float64)


def frames(x: np.ndarray, size: int, overlap: float = OVERLAP) -> np.ndarray:
    """tf.signal.frame(pad_end=True) of x: [ceil(n / hop), size], hop = size (1 - overlap)."""
    hop = int(size * (1.0 - overlap))
    count = -(-x.size // hop)
    padded = np.zeros((count - 1) * hop + size)
    padded[: x.size] = x
    return np.lib.stride_tricks.sliding_window_view(padded, size)[::hop]


def magnitudes(x: np.ndarray, size: int, overlap: float = OVERLAP) -> np.ndarray:
    """spectral_ops.compute_mag in float64: |rfft(frame * periodic Hann)|, [frames, size/2+1]."""
    spec = np.fft.rfft(frames(x, size, overlap) * loudness.hann(size), axis=-1)
    return np.abs(spec)


def safe_log(s: np.ndarray, eps: float = LOG_EPS) -> np.ndarray:
    return np.log(np.where(s <= 0.0, eps, s))


def spectra(x, name: str = "audio") -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """size -> (magnitudes, safe_log of them) of x at every FFT size: what the loss reads
    of one signal, for a signal compared with several others."""
    a = _check(x, name)
    out = {}
    for size in FFT_SIZES:
        mag = magnitudes(a, size)
        out[size] = (mag, safe_log(mag))
    return out


def terms_between(target: dict, value: dict) -> dict[int, tuple[float, float]]:
    """size -> (mean |S_t - S_v|, mean |log S_t - log S_v|) from two :func:`spectra`."""
    out = {}
    for size in FFT_SIZES:
        (st, lt), (sv, lv) = target[size], value[size]
        if st.shape != sv.shape:
            raise ValueError(
                f"target, value: must be equally long, got spectrograms {st.shape} and "
                f"{sv.shape} at size {size}"
            )
        out[size] = (float(np.mean(np.abs(st - sv))), float(np.mean(np.abs(lt - lv))))
    return out


def distance_between(target: dict, value: dict) -> float:
    """:func:`distance` from two :func:`spectra`."""
    return float(sum(a + b for a, b in terms_between(target, value).values()))


def terms(target, value) -> dict[int, tuple[float, float]]:
    """size -> (mean |S_t - S_v|, mean |log S_t - log S_v|): the loss's twelve terms."""
    t, v = _check(target, "target"), _check(value, "value")
    if t.size != v.size:
        raise ValueError(f"target, value: must be equally long, got {t.size} and {v.size}")
    return terms_between(spectra(t, "target"), spectra(v, "value"))


def distance(target, value) -> float:
    """ddsp's SpectralLoss(target, value) as ae.gin binds it (the module's docstring)."""
    return float(sum(a + b for a, b in terms(target, value).values()))


def _frame_errors(x: np.ndarray, size: int, profile: loudness_bound.Profile) -> Iterator:
    """(S, delta) per frame and bin: the exact magnitudes (float64) and how far an
    implementation of kind `profile` can put each: the FFT's and window's error vector
    (loudness_bound's steps 1 and 2, a 2-norm D per frame, so at most D in any bin) and
    the complex absolute value's rounding (2u of S)."""
    h, u = loudness.hann(size), profile.u
    c_n = profile.fft * u * math.log2(size)
    fr = frames(x, size)
    xh = fr * h
    s = np.abs(np.fft.rfft(xh, axis=-1))
    norm_x, norm_xh = np.linalg.norm(fr, axis=-1), np.linalg.norm(xh, axis=-1)
    d = math.sqrt(size) * ((c_n + u) * norm_xh + profile.window * u * norm_x)
    return s, d[:, None] + 2 * u * s


def _log_error(s: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Bound on |safe_log(s~) - log s| for any s~ >= 0 within delta of s: ln(s / (s - delta))
    where delta < s; else s~ may be 0 (safe_log: ln 1e-5) or as small as a float32 can
    hold, so the farther of those two and ln((s + delta) / s). Exactly 0 where s and
    delta are (an all-zero frame is computed exactly)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = np.log(np.where(s > 0, s, 1.0))
        near = -np.log1p(-np.minimum(delta / np.where(s > 0, s, 1.0), 0.5))
        far = np.maximum.reduce(
            [
                np.abs(math.log(LOG_EPS) - ls),
                np.abs(math.log(F32_TINY) - ls),
                np.log1p(delta / np.where(s > 0, s, 1.0)),
            ]
        )
    out = np.where(delta < 0.5 * s, near, far)
    out = np.where((s == 0) & (delta > 0), abs(math.log(F32_TINY) - math.log(LOG_EPS)), out)
    return np.where((s == 0) & (delta == 0), 0.0, out)


def deviation_bound(target, value, profile=loudness_bound.TF_FLOAT32) -> float:
    """Bound on ``|implementation - exact|`` of :func:`distance` for an implementation of
    kind `profile` (loudness_bound's: ``TF_FLOAT32`` is ddsp's SpectralLoss, float32
    throughout; ``FLOAT64`` this module). Per size, first order:

    - each magnitude within delta of its exact value (:func:`_frame_errors`), so each
      term ``|S_t - S_v|`` within ``delta_t + delta_v`` and each log term within the sum
      of the two logs' bounds (:func:`_log_error`), plus the float logarithm's rounding
      (2u of ``|log S|``: TF's log) and the difference's (u of it);
    - each mean: a sum of m terms >= 0 within ``(m - 1) u`` of their sum (recursive
      summation; TF's tree and blocked sums are within less), the division u;
    - the twelve means added: 12u of the total.

    Times ``1 + 2^-10`` for second-order terms."""
    t, v = _check(target, "target"), _check(value, "value")
    u, total, bound = profile.u, 0.0, 0.0
    for size in FFT_SIZES:
        st, dt = _frame_errors(t, size, profile)
        sv, dv = _frame_errors(v, size, profile)
        m = st.size
        mag = np.abs(st - sv)
        mag_err = dt + dv + u * (mag + dt + dv)
        lt, lv = safe_log(st), safe_log(sv)
        et = _log_error(st, dt) + 2 * u * (np.abs(lt) + _log_error(st, dt))
        ev = _log_error(sv, dv) + 2 * u * (np.abs(lv) + _log_error(sv, dv))
        log = np.abs(lt - lv)
        log_err = et + ev + u * (log + et + ev)
        for value_, err in ((mag, mag_err), (log, log_err)):
            mean, mean_err = float(value_.mean()), float(err.mean())
            bound += mean_err + (m * u) * (mean + mean_err)
            total += mean + mean_err
    return (1.0 + 2.0**-10) * (bound + 12 * u * total)
