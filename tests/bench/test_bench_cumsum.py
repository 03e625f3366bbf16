"""Cumsum benchmarks: ddspgl against the TF.js algorithm, same process, same inputs.

Each round includes upload, every pass and the readback (the readback drains the GL
pipeline, so the timing covers the GPU work). pytest runs a quick set; compare the
groups' medians for the speed ratio (`pytest tests/bench --benchmark-group-by=group`).
"""

from __future__ import annotations

import numpy as np
import pytest

from ddspgl.kernels import cumsum, tfjs_cumsum

SIZES = [16000, 64000]
IMPLS = {"ddspgl": cumsum.cumsum, "tfjs": tfjs_cumsum.cumsum}


@pytest.mark.parametrize("storage", ["float16", "float32"])
@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"n{n}")
def test_cumsum(benchmark, session_ctx, n, impl, storage):
    fn = IMPLS[impl]
    x = np.full((1, n), 440 / 16000, np.float32)
    fn(x, period=1.0, storage=storage, ctx=session_ctx)  # compile outside the timing
    before = session_ctx.counters.passes
    fn(x, period=1.0, storage=storage, ctx=session_ctx)
    passes = session_ctx.counters.passes - before
    benchmark.group = f"cumsum n={n} {storage}"
    benchmark.extra_info.update(
        renderer=session_ctx.renderer, n=n, storage=storage, impl=impl, passes=passes
    )
    out = benchmark.pedantic(
        fn,
        args=(x,),
        kwargs=dict(period=1.0, storage=storage, ctx=session_ctx),
        rounds=5,
        warmup_rounds=1,
    )
    assert out.shape == x.shape
