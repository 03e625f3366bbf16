"""How far an implementation of ddsp's loudness can lie from the exact value, per frame.

:func:`deviation_bound` bounds ``|computed - exact|`` in dB, frame by frame, for any
implementation that follows the steps of :mod:`loudness` (window, real FFT, weighted
power, mean, dB) in floating point with unit roundoff u. A :class:`Profile` holds u and
the per-step constants of one kind of implementation; two are here:

- ``TF_FLOAT32``: ddsp's ``compute_loudness`` in TensorFlow, float32 throughout (its
  A-weighting computed in float64 by librosa, then rounded to float32);
- ``FLOAT64``: the float64 reference (numpy) and the page's JavaScript (JS numbers).

A comparison of two implementations holds them within the sum of their two bounds (each
bounds its distance to the same exact value). The derivation, first order, for one
frame x (n_fft = N samples, window h, spectrum X_k of the N / 2 + 1 bins, weights w_k):

1. The windowed frame: h within ``window`` (absolute) of the periodic Hann window (its
   argument 2 pi m / N rounds up to three times, 2 pi u at most; the cosine one ulp;
   ``0.5 - 0.5 c`` one more: within 12u), the product rounded (u): the input of the FFT
   within ``window |x| + u |x h|`` (2-norms).
2. The FFT: within ``c_N |X|`` of the DFT of its input, ``|X|`` the 2-norm of the whole
   spectrum (``sqrt(N) |x h|`` by Parseval). For a radix-2 FFT with twiddles within 3u,
   ``c_N = 10 u log2 N`` (Higham, Accuracy and Stability of Numerical Algorithms, Thm
   24.2: eta = 3u + gamma_4 (sqrt 2 + 3u) < 10u per stage). The page's real FFT is a
   complex FFT of N / 2 points and a post-processing pass that reads two bins per output:
   twice (the log2(N / 2) stages plus one more), so ``fft = 20``: ``c_N = 20 u log2 N``
   covers both forms (and TF's and numpy's mixed-radix FFTs, whose stages are no worse).
   With step 1, by Parseval, the one-sided error vector d has
   ``|d| <= D = sqrt(N) ((c_N + u) |x h| + window |x|)``.
3. The weighted power ``S = sum_k w_k |X_k|^2``: the FFT's error moves it by at most
   ``sum_k w_k (2 |X_k| |d_k| + |d_k|^2) <= 2 Q D + max(w) D^2``, ``Q = sqrt(sum_k
   w_k^2 |X_k|^2)`` (Cauchy-Schwarz); each term's own rounding (``elementwise``: TF's
   complex abs 2u, doubled by the square, its pow 2u, the float32 weight u, the product
   u: 8u; float64: re^2 + im^2 2u, the product u: 3u) and the weight's formula error
   (``rho``: the A-weighting's six logarithms, their sum, 10^(A / 10), evaluated in
   float64: :func:`weight_error`) are relative to each term, all terms >= 0: relative to S.
4. The mean: a sum of N / 2 + 1 terms >= 0 within ``(N / 2) u`` of it (recursive
   summation; pairwise and tree sums are within less), the division u.
5. dB: ``max(p, floor)`` moves by at most what p moved (plus u of the floor, rounded),
   so with ``a = max(P, floor)`` and B that bound, ``10 log10`` moves by at most
   ``10 / ln 10 * ln(a / (a - B))``; the logarithm's own rounding (``log``: TF's
   ``log(p) / log(10)`` in float32, 2u + 3u for the constant and the division, the
   factor 10 u: 7u; float64 ``log10`` 2u, the factor u: 3u) is relative to
   ``|10 log10 a|``, and subtracting ref_db adds u of the result. The final
   ``max(., -range_db)`` moves nothing further.

The whole is scaled by ``1 + 2^-10`` for the second-order terms left out. A frame whose
B reaches a is unbounded (inf): with the floor at 10^-8 (80 dB), it does not happen for
audio in [-1, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import loudness


@dataclass(frozen=True)
class Profile:
    """One kind of implementation: unit roundoff and per-step constants (in units of u)."""

    name: str
    u: float
    fft: float = 20.0  # c_N = fft * u * log2 N
    window: float = 12.0  # absolute error of the Hann window
    elementwise: float = 3.0  # relative error of one weighted power term
    log: float = 3.0  # relative error of 10 log10 p


TF_FLOAT32 = Profile("ddsp in TensorFlow, float32", 2.0**-24, elementwise=8.0, log=7.0)
FLOAT64 = Profile("float64 (numpy, JavaScript)", 2.0**-53)
U64 = 2.0**-53


def weight_error(sample_rate: int, n_fft: int) -> np.ndarray:
    """Relative error of each bin's weight ``10^(A(f_k) / 10)`` computed in float64 from
    librosa's formula: A's six logarithms (each within one ulp of its value plus the
    rounding of its argument, f^2 + p^2 within 3u: 3u / ln 10), their sum (5u of the sum
    of their magnitudes T, one u more each), the factor 20 and the offset 2 (u of |A|
    each), the frequency ``k sr / n_fft`` within 2u (A's slope in ln f is at most
    20 / ln 10 * 4 dB: 70u of A); then 10^(A / 10) moves by ln 10 / 10 of A's error, and
    rounds within 3u (the division by 10, the power)."""
    f = loudness.bin_frequencies(sample_rate, n_fft)
    p1, p2, p3, p4 = (p * p for p in loudness.A_POLES_HZ)
    fs = np.maximum(f, 1.0) ** 2  # the 0 Hz bin is clipped: its weight is a constant
    terms = np.abs(
        np.stack(
            [
                np.full_like(fs, math.log10(p4)),
                2.0 * np.log10(fs),
                np.log10(fs + p4),
                np.log10(fs + p1),
                0.5 * np.log10(fs + p2),
                0.5 * np.log10(fs + p3),
            ]
        )
    ).sum(0)
    a = np.abs(loudness.a_weighting_db(f))
    d_a = 20.0 * (6 * U64 * terms + 6 * 3 * U64 / math.log(10)) + 70 * U64 + 2 * U64 * a
    rho = math.log(10) / 10 * d_a + 3 * U64
    clipped = (f == 0) | (loudness.a_weighting_db(f) <= loudness.A_WEIGHTING_MIN_DB)
    return np.where(clipped, 3 * U64, rho)


def deviation_bound(
    audio,
    sample_rate: int,
    frame_rate: int,
    n_fft: int = loudness.N_FFT,
    profile: Profile = FLOAT64,
    *,
    range_db: float = loudness.DB_RANGE,
    ref_db: float = 0.0,
    padding: str = "center",
) -> np.ndarray:
    """Per-frame bound (dB, float64 [frames]) on ``|implementation - exact loudness|``
    for an implementation of kind `profile` (see the module's docstring)."""
    x, hop = loudness.check(audio, sample_rate, frame_rate, n_fft, range_db, ref_db, padding)
    u, bins = profile.u, n_fft // 2 + 1
    h, w = loudness.hann(n_fft), loudness.weights(sample_rate, n_fft)
    rho = float(weight_error(sample_rate, n_fft).max())
    c_n = profile.fft * u * math.log2(n_fft)
    parts = []
    for frames in loudness.frame_blocks(x, hop, n_fft, padding):
        xh = frames * h
        spec = np.fft.rfft(xh, axis=-1)
        power = spec.real**2 + spec.imag**2
        s = power @ w
        q = np.sqrt(power @ (w * w))
        norm_x, norm_xh = np.linalg.norm(frames, axis=-1), np.linalg.norm(xh, axis=-1)
        d = math.sqrt(n_fft) * ((c_n + u) * norm_xh + profile.window * u * norm_x)
        ds_fft = 2 * q * d + w.max() * d * d
        ds_elem = (profile.elementwise * u + rho) * (s + ds_fft)
        ds_sum = (bins - 1) * u * (s + ds_fft + ds_elem)
        p = s / bins
        b = (ds_fft + ds_elem + ds_sum) / bins + u * (p + (ds_fft + ds_elem + ds_sum) / bins)
        parts.append((p, b))
    p = np.concatenate([q[0] for q in parts])
    b = np.concatenate([q[1] for q in parts])
    floor = 10.0 ** (-range_db / 10.0)
    a = np.maximum(p, floor)
    b = b + u * floor
    ratio = np.minimum(b / a, 0.5)  # ln(a / (a - B)) = -log1p(-B / a), B < a
    moved = np.where(b < a, -10.0 / math.log(10) * np.log1p(-ratio), np.inf)
    db = np.abs(10.0 * np.log10(a))
    rounding = profile.log * u * (db + moved) + u * (db + moved + abs(ref_db))
    return (1.0 + 2.0**-10) * (moved + rounding)
