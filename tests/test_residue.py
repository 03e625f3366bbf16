"""The GLSL numerics core against exact integer and float16 models.

roundF16 must equal numpy's float16 conversion (round to nearest, ties to even) bit
for bit; resFromFloat must equal round-half-up(|x| * 2^shift) mod p computed with
Python integers, sign applied as p - r; digits must round-trip; resToFloat must be
within its two roundings (2^-23 relative) of the exact value r * 2^-shift.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from ddspgl.kernels.cumsum import SIGNED_MODULUS, Modulus
from paths import TEST_GLSL


def _run(ctx, body, x, channels, uniforms=None, defines=None):
    rows = np.atleast_2d(np.asarray(x, np.float32))
    src = ctx.upload(rows)
    out = ctx.texture(rows.shape[0], 1 if "Sum" in body else rows.shape[1], channels, "float32")
    try:
        ctx.run(TEST_GLSL / body, {"x": src}, out, uniforms=uniforms, defines=defines)
        return out.read()
    finally:
        src.release()
        out.release()


def test_round_f16_matches_numpy_ties_to_even(ctx):
    rng = np.random.default_rng(0)
    f16 = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16).astype(np.float32)
    mids = (f16[:-1] + f16[1:]) / 2  # exact ties in float32
    values = np.concatenate(
        [
            f16,
            mids,
            np.nextafter(mids, np.inf),
            np.nextafter(mids, -np.inf),
            rng.uniform(-70000, 70000, 20000).astype(np.float32),
            (rng.standard_normal(20000) * 1e-5).astype(np.float32),
            np.float32([65504, 65519.99, 65520, 1e30, 2.0**-25, 2.0**-24, 3 * 2.0**-26]),
        ]
    ).astype(np.float32)
    values = np.concatenate([values, -values])
    got = _run(ctx, "roundF16.frag", values[None, :], 1)[0]
    with np.errstate(over="ignore"):
        want = values.astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(got, want)


def _exact_residue(x: np.float32, p: int, shift: int) -> int:
    q = Fraction(float(abs(x))) * Fraction(2) ** shift
    r = math.floor(q + Fraction(1, 2)) % p
    return (p - r) % p if x < 0 else r


def _cases():
    rng = np.random.default_rng(1)
    mags = 10.0 ** rng.uniform(-14, 4, 3000)
    signs = rng.choice([-1.0, 1.0], 3000)
    specials = [0.0, -0.0, 1.0, -1.0, 2.0**-149, 2.0**-126, 3e-30, 1e30, -1e30, 3.4e38, 0.5]
    # subnormals: nonzero residues under the tiny period's shift of 133
    specials += [2.0**-127, -(2.0**-130), 1e-39, -3e-42]
    return np.concatenate([mags * signs, specials]).astype(np.float32)


@pytest.mark.parametrize("period", [1.0, 2 * math.pi, 1e-3, 440.0, 1e-27], ids=str)
def test_residue_from_float_is_exact(ctx, period):
    mod = Modulus.periodic(np.float32(period))
    x = _cases()
    got = _run(ctx, "residueRoundTrip.frag", x[None, :], 4, mod.uniforms(), {"SIGNED": 0})[0]
    residues = got[:, 0].astype(np.int64) + (got[:, 1].astype(np.int64) << 22)
    want = np.array([_exact_residue(v, mod.p, mod.shift) for v in x], dtype=np.int64)
    np.testing.assert_array_equal(residues, want)
    exact = want.astype(np.float64) * 2.0**-mod.shift
    # GLSL ES 3.00 (4.5.1) lets a renderer flush subnormal results to zero: 2^-126 absolute.
    np.testing.assert_array_less(np.abs(got[:, 2] - exact), 2.0**-23 * exact + 2.0**-126)


def test_signed_residues_round_trip(ctx):
    shift = 20  # units of 2^-20: every |x| < 2^23 fits below 2^43 units
    mod = Modulus(SIGNED_MODULUS, shift, signed=True)
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-(2**22), 2**22, 2000), [0.0, -1.5, 2.0**-21, -(2.0**-21)]])
    x = x.astype(np.float32)
    got = _run(ctx, "residueRoundTrip.frag", x[None, :], 4, mod.uniforms(), {"SIGNED": 1})[0]
    residues = got[:, 0].astype(np.int64) + (got[:, 1].astype(np.int64) << 22)
    want = np.array([_exact_residue(v, mod.p, shift) for v in x], dtype=np.int64)
    np.testing.assert_array_equal(residues, want)
    signed = np.where(want >= 2**43, want - 2**44, want).astype(np.float64) * 2.0**-shift
    np.testing.assert_array_less(np.abs(got[:, 2] - signed), 2.0**-23 * np.abs(signed) + 1e-45)


def test_residue_sums_are_exact_modulo_p(ctx):
    mod = Modulus.periodic(np.float32(2 * math.pi))
    rng = np.random.default_rng(3)
    n = 500
    x = (rng.uniform(-20, 20, (4, n)) * 10.0 ** rng.uniform(-6, 0, (4, n))).astype(np.float32)
    digits = _run(ctx, "residueSum.frag", x, 4, mod.uniforms(), {"N": n})[:, 0, :]  # low first
    total = sum(digits[:, i].astype(np.int64) << (11 * i) for i in range(4))
    want = [sum(_exact_residue(v, mod.p, mod.shift) for v in row) % mod.p for row in x]
    np.testing.assert_array_equal(total, np.array(want, dtype=np.int64))
