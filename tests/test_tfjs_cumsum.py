"""The TF.js baseline port: pass counts and semantics of tfjs-backend-webgl's cumsum."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ddspgl.kernels import cumsum as C
from ddspgl.kernels import tfjs_cumsum as T


@pytest.mark.parametrize("exclusive", [False, True], ids=["incl", "excl"])
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
@pytest.mark.parametrize("n", [1, 2, 3, 1000, 1024, 1025], ids=str)
def test_small_integers_are_exact_in_float32(ctx, exclusive, reverse, n):
    x = np.random.default_rng(n).integers(-5, 6, (3, n)).astype(np.float32)
    before = ctx.counters.passes
    out = T.cumsum(x, exclusive=exclusive, reverse=reverse, storage="float32", ctx=ctx)
    assert ctx.counters.passes - before == T.passes(n, exclusive=exclusive)
    assert ctx.counters.passes - before == math.ceil(math.log2(n)) + exclusive
    want = C.reference(x, exclusive=exclusive, reverse=reverse)
    np.testing.assert_array_equal(out, want.astype(np.float32))


def test_period_wraps_after_the_scan(ctx):
    x = np.full((1, 3000), 0.3, np.float32)
    before = ctx.counters.passes
    out = T.cumsum(x, period=1.0, storage="float32", ctx=ctx)
    assert ctx.counters.passes - before == T.passes(3000, period=1.0) == 13
    ref = C.reference(x, period=np.float32(1.0))
    assert C.error(out, ref, x, np.float32(1.0)) < 1e-3


def test_float16_storage_loses_whole_cycles(ctx):
    # 440 Hz for 4 s: sums near 1760 cycles are stored with a spacing of 1 cycle.
    x = np.full((1, 64000), 440 / 16000, np.float32)
    out = T.cumsum(x, storage="float16", ctx=ctx)
    assert np.abs(out[0, -1] - 1760.0) <= 1.0
    assert np.abs(out[0, -1] - float(np.cumsum(x, dtype=np.float64)[-1])) > 0.1
