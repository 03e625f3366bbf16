"""The context's program cache: programs depend on what a shader needs, never on the
lengths it runs on, the cache is bounded (least recently used released first), and
process memory stays flat however many shapes a caller streams through."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ddspgl
from ddspgl.harness import Context
from ddspgl.harness.context import PROGRAM_CACHE_SIZE
from ddspgl.kernels import copy, harmonic, harmonic_opchain, tfjs_cumsum

COPY = "kernels/copy.frag"

# Programs per body: the variants its defines select, whatever the shapes.
VARIANTS = {
    tfjs_cumsum.BODY: 4,  # TFJS_CUM_REVERSE x TFJS_CUM_SHIFT
    tfjs_cumsum.BODY_FLOORMOD: 1,
    copy.BODY: 1,
    harmonic.BODY_INCREMENT: 1,
    harmonic.BODY_GAIN: 2,  # HARMONIC_NORMALIZE
    harmonic.BODY_SYNTH: 4,  # HARMONIC_INITIAL x HARMONIC_ROUND_F16
    harmonic_opchain.BODY_ENVELOPE: 2,  # OPCHAIN_OMEGA
    harmonic_opchain.BODY_SINMUL: 1,
    harmonic_opchain.BODY_REDUCE: 1,
}


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.fixture(scope="module")
def cache_ctx():
    ctx = Context()
    yield ctx
    assert ctx.counters.textures_alive == 0, "GL textures leaked"
    ctx.close()


def _programs_per_body(ctx: Context) -> dict[str, int]:
    counts: dict[str, int] = {}
    for src in ctx._programs:
        counts[str(src.body)] = counts.get(str(src.body), 0) + 1
    return counts


def _assert_bounded(ctx: Context) -> None:
    counts = _programs_per_body(ctx)
    for body, most in VARIANTS.items():
        assert counts.get(body, 0) <= most, (body, counts.get(body), most)
    assert ctx.counters.programs_cached == len(ctx._programs) <= ctx.program_cache


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.integers(1, 3),
    n=st.integers(1, 3000),
    exclusive=st.booleans(),
    reverse=st.booleans(),
    period=st.sampled_from([None, 1.0]),
    storage=st.sampled_from(["float16", "float32"]),
)
def test_scan_programs_do_not_depend_on_the_shape(
    cache_ctx, rows, n, exclusive, reverse, period, storage
):
    x = np.full((rows, n), 0.01, np.float32)
    kw = dict(exclusive=exclusive, reverse=reverse, period=period, storage=storage, ctx=cache_ctx)
    tfjs_cumsum.cumsum(x, **kw)
    ddspgl.cumsum(x, **kw)
    up = cache_ctx.upload(x)
    try:
        copy.scan(cache_ctx, up, storage=storage).release()
    finally:
        up.release()
    _assert_bounded(cache_ctx)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.integers(1, 2),
    frames=st.integers(2, 40),
    k=st.integers(1, 12),
    hop=st.integers(2, 80),
    normalize=st.booleans(),
    initial=st.booleans(),
    storage=st.sampled_from(["float16", "float32"]),
)
def test_synth_programs_do_not_depend_on_the_shape(
    cache_ctx, batch, frames, k, hop, normalize, initial, storage
):
    f0 = np.full((batch, frames), 220.0, np.float32)
    amp = np.full((batch, frames), 0.5, np.float32)
    dist = np.ones((batch, frames, k), np.float32)
    kw = dict(n_samples=frames * hop, normalize=normalize, storage=storage, ctx=cache_ctx)
    phase0 = np.zeros((batch, k), np.float32) if initial else None
    harmonic.harmonic_synth(f0, amp, dist, initial_phase=phase0, **kw)
    harmonic_opchain.harmonic_synth(f0, amp, dist, **kw)
    _assert_bounded(cache_ctx)


def test_least_recently_used_program_is_evicted_and_released(fresh_ctx):
    ctx = fresh_ctx(program_cache=3)
    x = ctx.upload(np.arange(8, dtype=np.float32)[None])
    out = ctx.texture(1, 8, 1, "float32")
    try:

        def run(i: int) -> None:
            ctx.run(COPY, {"x": x}, out, defines={"PROBE": i})

        for i in range(3):
            run(i)
        first = next(iter(ctx._programs.values()))[0]
        run(0)  # used again: now the most recent, program 1 is the oldest
        assert ctx.counters.programs_compiled == 3
        run(3)  # evicts program 1
        run(4)  # evicts program 2
        c = ctx.counters
        assert (c.programs_cached, c.programs_compiled, c.programs_evicted) == (3, 5, 2)
        assert [dict(s.defines)["PROBE"] for s in ctx._programs] == [0, 3, 4]
        run(1)  # compiled again, evicting program 0
        assert (c.programs_compiled, c.programs_evicted) == (6, 3)
        assert type(first.mglo).__name__ == "InvalidObject"  # released with its program
        np.testing.assert_array_equal(out.read(), x.read())
    finally:
        x.release()
        out.release()


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "64"])
def test_program_cache_size_must_be_a_positive_integer(value):
    with pytest.raises(ValueError, match="program_cache must be an integer >= 1"):
        Context(program_cache=value)


def _compile_distinct(ctx: Context, count: int, start: int) -> float:
    """RSS growth (MiB) while `count` programs never seen before are compiled and run."""
    x = ctx.upload(np.zeros((1, 64), np.float32))
    out = ctx.texture(1, 64, 1, "float32")
    try:
        before = rss_mib()
        for i in range(start, start + count):
            ctx.run(COPY, {"x": x}, out, defines={"PROBE": i})
        return rss_mib() - before
    finally:
        x.release()
        out.release()


def test_memory_stays_flat_when_programs_are_evicted(fresh_ctx):
    """100 programs through a cache of 8 cost at most a quarter of keeping all 100.

    A bounded cache holds 8 of them, 8% of what keeping them costs; a quarter leaves
    room for allocator fragmentation. The bounded run goes first, so that the pages it
    frees cannot flatter it.
    """
    bounded = _compile_distinct(fresh_ctx(program_cache=8), 100, 0)
    kept = _compile_distinct(fresh_ctx(program_cache=1000), 100, 1000)
    assert kept > 10, f"keeping 100 programs grew RSS by only {kept:.1f} MiB"
    assert bounded < kept / 4, (bounded, kept)


@pytest.mark.slow
def test_streaming_2000_lengths_keeps_memory_flat(fresh_ctx):
    """The streaming pattern that once grew to gigabytes: every call a new length.

    After the first 100 calls (every program compiled, the allocator warm) the next
    1,900 may grow RSS by at most one cache's worth of programs, measured here on copy
    programs: however programs were keyed, the cache cannot hold more.
    """
    per_program = _compile_distinct(fresh_ctx(program_cache=1000), 40, 0) / 40
    ctx = fresh_ctx()
    x = np.full((2, 3000), 0.01, np.float32)
    for i in range(100):
        ddspgl.cumsum(x[:, : 1000 + i], period=1.0, ctx=ctx)
    warm = rss_mib()
    for i in range(100, 2000):
        ddspgl.cumsum(np.full((2, 1000 + i), 0.01, np.float32), period=1.0, ctx=ctx)
        assert ctx.counters.programs_cached <= PROGRAM_CACHE_SIZE
    growth = rss_mib() - warm
    assert growth <= PROGRAM_CACHE_SIZE * per_program, (growth, per_program)
