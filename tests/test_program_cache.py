"""The context's program cache: programs depend on what a shader needs, never on the
lengths it runs on, the cache is bounded (least recently used released first), and
process memory stays flat however many shapes a caller streams through."""

from __future__ import annotations

import json
import subprocess
import sys

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


# Process memory is measured in a process of its own: in a long test session the
# allocator reuses pages freed by earlier tests, which hides growth.
MEMORY_SCRIPT = """
import json, os, sys
import numpy as np
import ddspgl
from ddspgl.harness import Context
from ddspgl.harness.context import PROGRAM_CACHE_SIZE


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def compile_distinct(ctx, count, start):
    x = ctx.upload(np.zeros((1, 64), np.float32))
    out = ctx.texture(1, 64, 1, "float32")
    before = rss_mib()
    for i in range(start, start + count):
        ctx.run("kernels/copy.frag", {"x": x}, out, defines={"PROBE": i})
    grown = rss_mib() - before
    x.release()
    out.release()
    return grown


# One-time costs (the driver's compiler and allocator arenas set up on first use) are
# paid first.
compile_distinct(Context(program_cache=8), 50, 10**6)
result = {}
if sys.argv[1] == "evict":
    # The bounded run first, so that pages it frees cannot flatter it.
    result["bounded"] = compile_distinct(Context(program_cache=8), 200, 0)
    result["kept"] = compile_distinct(Context(program_cache=1000), 200, 1000)
else:
    result["per_program"] = compile_distinct(Context(program_cache=1000), 40, 0) / 40
    ctx = Context()
    for i in range(100):
        ddspgl.cumsum(np.full((2, 1000 + i), 0.01, np.float32), period=1.0, ctx=ctx)
    warm = rss_mib()
    cached = []
    for i in range(100, 2000):
        ddspgl.cumsum(np.full((2, 1000 + i), 0.01, np.float32), period=1.0, ctx=ctx)
        cached.append(ctx.counters.programs_cached)
    result["growth"] = rss_mib() - warm
    result["most_cached"] = max(cached)
    result["compiled"] = ctx.counters.programs_compiled
print(json.dumps(result))
"""


def _memory(mode: str) -> dict[str, float]:
    run = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, mode],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_memory_stays_flat_when_programs_are_evicted():
    """200 programs through a cache of 8 cost at most a quarter of keeping all 200.

    A bounded cache holds 8 of them, 4% of what keeping them costs; a quarter leaves
    room for allocator fragmentation.
    """
    m = _memory("evict")
    assert m["kept"] > 20, f"keeping 200 programs grew RSS by only {m['kept']:.1f} MiB"
    assert m["bounded"] < m["kept"] / 4, m


@pytest.mark.slow
def test_streaming_2000_lengths_keeps_memory_flat():
    """The streaming pattern that once grew to gigabytes: every call a new length.

    After the first 100 calls (every program compiled, the allocator warm) the next
    1,900 may grow RSS by at most one cache's worth of programs, measured on copy
    programs: however programs were keyed, the cache cannot hold more.
    """
    m = _memory("stream")
    assert m["most_cached"] <= PROGRAM_CACHE_SIZE
    assert m["growth"] <= PROGRAM_CACHE_SIZE * m["per_program"], m
