"""Cumsum benchmarks: ddspgl, the TF.js algorithm and a copy pass, same inputs, same run.

Each round times the passes only (the input is uploaded beforehand, the output released
after), so the three rows of a group compare kernel work: ddspgl / TF.js is the speed
ratio, ddspgl / copy the distance from the memory-traffic floor.
"""

from __future__ import annotations

import numpy as np
import pytest

from ddspgl.kernels import copy, cumsum, tfjs_cumsum

from .conftest import FULL

SIZES = (1000, 4000, 16000, 64000, 256000, 2**20, 2**22) if FULL else (1000, 16000, 64000)
PERIOD = np.float32(1.0)
MODULUS = cumsum.Modulus.periodic(PERIOD)


def _impl(name, ctx, x, storage):
    if name == "ddspgl":
        return lambda: cumsum.scan(ctx, x, MODULUS, exclusive=False, reverse=False, storage=storage)
    if name == "tfjs":
        return lambda: tfjs_cumsum.scan(
            ctx, x, PERIOD, exclusive=False, reverse=False, storage=storage
        )
    return lambda: copy.scan(ctx, x, storage=storage)


@pytest.mark.parametrize("storage", ["float16", "float32"])
@pytest.mark.parametrize("impl", ["ddspgl", "tfjs", "copy"])
@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"n{n}")
def test_cumsum(benchmark, run_timed, session_ctx, n, impl, storage):
    benchmark.group = f"cumsum n={n} {storage}"
    x = session_ctx.upload(np.full((1, n), 440 / 16000, np.float32))
    try:
        run_timed(
            _impl(impl, session_ctx, x, storage),
            kernel=cumsum.NAME,
            impl=impl,
            n=n,
            storage=storage,
        )
    finally:
        x.release()
