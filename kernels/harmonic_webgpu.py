"""The harmonic synthesizer on TF.js's webgpu backend: WGSL compute shaders, same arithmetic.

The semantics, the float64 :func:`harmonic.reference` and the budgets are
:mod:`harmonic`'s with float32 storage (webgpu tensors are float32): SNR >= 100 dB, and
:func:`harmonic.derived_bound` beside it. The phase is the same exact integer arithmetic
modulo one cycle ``p = sample_rate * hop * 2^shift`` (glsl/wgsl/lib/residue.wgsl, native
``u32``); only the schedule is designed for compute
(js/src/kernels/harmonic_synth_webgpu.js):

1. ``harmonic_frames``, one invocation per frame: its phase increment (the in-frame closed
   form at r = hop - 1, a residue), its gain and cut (``harmonic_gain.frag``'s, the gain
   kept as float32 bits: no float16 split) and its f0's residue as a 96-bit fraction of a
   cycle, int32 [batch, frames, 8];
2. ``harmonic_scan``, one workgroup of :data:`SCAN_WORKGROUP` invocations per batch row:
   the exclusive prefix sums of the increments (each invocation sums a run of
   ``ceil(frames / SCAN_WORKGROUP)`` frames, the workgroup scans the sums in workgroup
   memory, three barriers), the row's total, the row's flag, and the initial phases as
   residues and as 64-bit fractions of a cycle, int32 [batch, frames + 2 + 2K, 2];
3. ``harmonic_amplitudes``, one invocation per frame and four harmonics: gain * dist[k]
   below the frame's cut, [batch, frames, 4 ceil(K / 4)], which the audio pass reads as
   vectors (on SwiftShader the loads and selects of the distribution in the audio pass
   took half its time);
4. ``harmonic_audio``, one invocation per sample looping over the harmonics
   (``harmonic_synth.frag``'s arithmetic, the sine by :data:`SIN_TWO_PI`). The
   fundamental's phase is a 64-bit binary fraction of a cycle: the frame's exact starting
   residue converted once, plus the in-frame closed form from its frames' 96-bit f0
   fractions (where exact residue products took a quarter of the pass on SwiftShader);
   harmonic k's phase is k times it by wrapping 64-bit adds, four lanes at a time (where a
   residue add and conversion per harmonic cost twice as much): within 2^-48 cycles of
   the exact residues' for k < 2^12, against the 2^-23 periods of the float conversion;
5. ``harmonic_final_phase`` (only with return_final_phase), one invocation per
   (row, harmonic): k * total + initial phase, in radians.

Four dispatches, five with the final phases; no readback. Each intermediate is released
after the last dispatch that reads it.

Where the webgl kernel works on the host, the WGSL works on the GPU, exactly:

- initial phases (float32 radians x) become the nearest residue of ``x p / (2 pi)`` by
  Payne-Hanek reduction: 96 bits of ``frac(2^e / (2 pi))`` from :data:`INV_TWO_PI_WORDS`
  times the 24-bit significand, modulo 1, times p: within ``1/2 + 2^-20`` units
  (2^-44 cycles) of the exact value, as the webgl kernel's float64 conversion (the
  error analysis' term 6);
- final phases ``2 pi r / p``: ``q = floor(r 2^32 / p)`` by exact long division, then
  ``q_h C_h + (q_h C_l + q_l C_32)`` with :data:`TWO_PI_SPLIT` (``C_h`` has 8 significant
  bits so ``q_h C_h`` is exact): within half an ulp + 2^-28 rad, where the webgl kernel's
  float64 conversion is within half an ulp (+ 2^-50). A join of blocks costs
  ``2^-22 + 2^-28`` rad per harmonic instead of 2^-22: under 2^-6 of that term.
- values only the GPU holds are checked as the kernel runs, with no extra dispatch: a
  frame with a NaN, Inf or negative control gets a NaN gain, the scan flags its row (and
  a row with a NaN or Inf initial phase), and the audio and final phases of a flagged row
  are NaN (the webgl kernel reduces the controls with TF.js's Min and Max for this).

Gains are float32 as computed (the webgl kernel splits them for float16 textures, within
2^-22): the amplitude term of the error analysis (2^-20) holds as it is. The sine takes
the centred phase in periods as it is, sin(2 pi x) by the polynomial :data:`SIN_TWO_PI`
(within 2^-22.5, under SIN_ERROR; no multiplication by 2 pi, so term 2 loses a rounding):
``EPS_SAMPLE`` bounds this kernel too.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

FRAME_WORKGROUP = 64  # invocations per workgroup of the per-frame and per-sample passes
SCAN_WORKGROUP = 32  # invocations scanning one batch row (cumsum_webgpu.WORKGROUP's reason)
INV_TWO_PI_BITS = 224  # bits of 1/(2 pi) the reduction reads: exponents up to 2^104

WGSL_FRAMES = "wgsl/kernels/harmonic_frames.wgsl"
WGSL_SCAN = "wgsl/kernels/harmonic_scan.wgsl"
WGSL_AMPLITUDES = "wgsl/kernels/harmonic_amplitudes.wgsl"
WGSL_AUDIO = "wgsl/kernels/harmonic_audio.wgsl"
WGSL_FINAL_PHASE = "wgsl/kernels/harmonic_final_phase.wgsl"
WGSL_SIN = "wgsl/lib/sin_two_pi.wgsl"  # sin(2 pi x) in periods, SIN_TWO_PI's polynomial
WGSL_PHASE = "wgsl/lib/harmonic_phase.wgsl"  # residues, fractions, radians


def pi_fraction(bits: int) -> Fraction:
    """pi within 2^-bits, by Machin's formula pi = 16 atan(1/5) - 4 atan(1/239) in
    integers scaled by 2^(bits + 16) (the truncated series terms cost under 2^-(bits + 4)
    in all)."""
    scale = 1 << (bits + 16)

    def atan_inv(x: int) -> int:
        total, power, k, sign = 0, scale // x, 1, 1
        while power:
            total += sign * (power // k)
            power //= x * x
            k += 2
            sign = -sign
        return total

    return Fraction(16 * atan_inv(5) - 4 * atan_inv(239), scale)


def inv_two_pi_words() -> tuple[int, ...]:
    """The first INV_TWO_PI_BITS bits of 1/(2 pi) after the point as 32-bit words, most
    significant first: floor(2^224 / (2 pi)), from pi to 2^-300 (the floor is exact unless
    2^224 / (2 pi) lay within 2^-60 of an integer, which the assertion rules out)."""
    value = Fraction(1 << INV_TWO_PI_BITS) / (2 * pi_fraction(300))
    integer = value.numerator // value.denominator
    frac = value - integer
    assert Fraction(1, 1 << 60) < frac < 1 - Fraction(1, 1 << 60)
    return tuple(
        (integer >> (32 * (INV_TWO_PI_BITS // 32 - 1 - w))) & 0xFFFFFFFF
        for w in range(INV_TWO_PI_BITS // 32)
    )


def two_pi_split() -> tuple[float, float, float]:
    """(C_h, C_l, C_32): C = 2 pi 2^-16 rounded to 8 significant bits, the float32 of
    C - C_h, and the float32 of 2 pi 2^-32 (harmonic_residue_to_radians)."""
    two_pi = 2 * pi_fraction(100)
    c = two_pi / (1 << 16)
    # C = f * 2^e with f in [0.5, 1): keep 8 bits of f.
    e = 0
    while c * Fraction(2) ** -e >= 1:
        e += 1
    while c * Fraction(2) ** -e < Fraction(1, 2):
        e -= 1
    unit = Fraction(2) ** (e - 8)
    hi = round(c / unit) * unit
    lo = np.float32(float(c - hi))
    c32 = np.float32(float(two_pi / (1 << 32)))
    return float(hi), float(lo), float(c32)


# sin(2 pi x) on [-1/4, 1/4] as x P(x^2) (glsl/wgsl/lib/sin_two_pi.wgsl), coefficients of
# x, x^3, ..., x^9: fitted to sin(2 pi x) on 6000 Chebyshev nodes of [0, 1/4] by Lawson's
# iteratively reweighted least squares (towards minimax), rounded to float32 one at a time
# from x on, the rest refitted to what the rounded ones leave. Evaluated in float32 in the
# shader's Horner order it is within 2^-22.5 of sin(2 pi x) (tests/test_sin_two_pi.py):
# under harmonic.SIN_ERROR, the error analysis' term 3.
SIN_TWO_PI = (
    6.283185005187988,
    -41.341617584228516,
    81.59864807128906,
    -76.49602508544922,
    39.13364028930664,
)

INV_TWO_PI_WORDS = inv_two_pi_words()
TWO_PI_SPLIT = two_pi_split()
