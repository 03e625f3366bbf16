"""Benchmark settings: quick by default, every size under DDSPGL_BENCH=full.

`ddspgl bench` sets DDSPGL_BENCH=full and writes pytest-benchmark's JSON to
reports/bench/<renderer>.json; the machine info it carries names the GL renderer.
"""

from __future__ import annotations

import os
from statistics import median

import pytest

from ddspgl.harness import default_context
from ddspgl.harness.timing import Stopwatch
from ddspgl.tools.reports import renderer_slug

FULL = os.environ.get("DDSPGL_BENCH", "quick") == "full"
ROUNDS = 7 if FULL else 3


def pytest_benchmark_update_machine_info(config, machine_info):
    ctx = default_context()
    machine_info["ddspgl"] = ctx.info() | {"slug": renderer_slug(ctx.renderer)}


@pytest.fixture
def run_timed(benchmark, session_ctx):
    """Benchmark `fn() -> Texture` (passes only, inputs uploaded beforehand).

    pytest-benchmark records the wall time of each round (the round waits for the GPU);
    extra_info["device_median_s"] adds the median of the rounds' Stopwatch times (the GL
    timer query where the driver has one).
    """

    def run(fn, **info):
        seconds = []
        method = []

        def target():
            with Stopwatch(session_ctx) as watch:
                out = fn()
            out.release()
            seconds.append(watch.seconds)
            method.append(watch.method)

        before = session_ctx.counters.passes
        target()  # compile and warm up outside the measurement
        passes = session_ctx.counters.passes - before
        seconds.clear()
        benchmark.pedantic(target, rounds=ROUNDS, warmup_rounds=0, iterations=1)
        benchmark.extra_info.update(
            info, passes=passes, timing=method[0], device_median_s=median(seconds)
        )

    return run
