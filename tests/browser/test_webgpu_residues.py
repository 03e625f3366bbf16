"""The WGSL residue conversion (glsl/wgsl/lib/residue.wgsl) at its edges, exactly, through
the periodic cumsum on TF.js's webgpu backend.

Each row is chosen so that every exact wrapped prefix sum is a float32: the kernel's
result must then equal it bit for bit, and one unit of 2^-43 periods off anywhere (a half
rounded the wrong way, a value of several periods reduced wrongly, a negative run sum
reduced wrongly) fails. The rows span several blocks, so the runs' sums, their scan and
the outputs (three dispatches) all take part. The reference is exact: Python integers.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from needs_chromium import require_chromium
from webgpu_host import webgpu_host

from ddspgl.kernels import cumsum_webgpu

require_chromium()

N = 2 * cumsum_webgpu.BLOCK + 77
SHIFT = 43  # period 1: p = 2^43 units (kernels/cumsum.py's shift for a period in [1, 2))
UNITS = 1 << SHIFT


@pytest.fixture(scope="module")
def gpu():
    yield from webgpu_host()


def _halves(rng) -> np.ndarray:
    """Odd multiples of half a unit, (2k + 1) 2^-44 for k < 4: each rounds away from zero
    to k + 1 units; the prefix stays below 2^24 units, so every output is a float32."""
    return ((2 * rng.integers(0, 4, N) + 1) * 2.0**-44).astype(np.float32)


def _periods(rng) -> np.ndarray:
    """+-(a + f) with a < 4096 whole periods and f on a grid of 2^-8: at least 2^43 units,
    so the conversion doubles modulo p; both signs, so runs' signed sums go negative. Every
    prefix modulo 1 is on the grid: a float32."""
    a = rng.integers(0, 4096, N)
    f = rng.integers(0, 256, N) / 256
    sign = rng.choice([-1.0, 1.0], N)
    return (sign * (a + f)).astype(np.float32)


def _tiny(rng) -> np.ndarray:
    """Values of a unit or less (subnormals, -0, quarters and three quarters of a unit, both
    signs: 0 or +-1 units) after 1024 units each, so the prefix stays positive and below
    2^24 units."""
    edge = np.array(
        [
            2.0**-149,
            -(2.0**-149),
            2.0**-130,
            -0.0,
            2.0**-60,
            -(2.0**-45),
            3 * 2.0**-45,
            -3 * 2.0**-45,
            2.0**-44,
            -(2.0**-44),
        ]  # fmt: skip
    )
    x = np.full(N, 2.0**-33)
    x[1::2] = edge[rng.integers(0, len(edge), N // 2)]
    return x.astype(np.float32)


def _units(v: np.float32) -> int:
    """round(v 2^43), halves away from zero, exactly."""
    scaled = Fraction(float(v)) * UNITS
    whole = int(abs(scaled) + Fraction(1, 2))  # floor of |scaled| + 1/2
    return -whole if scaled < 0 else whole


def _exact(row: np.ndarray, exclusive: bool, reverse: bool) -> np.ndarray:
    units = [_units(v) for v in (row[::-1] if reverse else row)]
    out, acc = [], 0
    for u in units:
        acc_before = acc
        acc = (acc + u) % UNITS
        out.append((acc_before if exclusive else acc) / UNITS)  # exact: a float32 (above)
    values = np.array(out[::-1] if reverse else out)
    assert np.array_equal(values.astype(np.float32), values)  # the rows' promise
    return values


@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, True)], ids=["fwd", "rev"])
def test_edges_of_the_conversion_exactly(gpu, exclusive, reverse):
    rng = np.random.default_rng(11)
    x = np.stack([_halves(rng), _periods(rng), _tiny(rng)])
    out, _ = gpu.page("float32").run(
        x, op="wrapped", period=1.0, exclusive=exclusive, reverse=reverse
    )
    for r, name in enumerate(["halves", "periods", "tiny"]):
        want = _exact(x[r], exclusive, reverse)
        bad = np.flatnonzero(out[r].astype(np.float64) != want)
        assert bad.size == 0, (name, bad[:5], out[r][bad[:5]], want[bad[:5]])
