"""ddspgl.cumsum: semantics, pass plan, exactness, bad input, and no leaks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ddspgl
from ddspgl.kernels import cumsum as C


def _check(out, x, *, period=None, storage="float16", exclusive=False, reverse=False):
    p32 = None if period is None else np.float32(period)
    x32 = np.asarray(x, np.float32)
    ref = C.reference(x32, exclusive=exclusive, reverse=reverse, period=p32)
    err = C.error(out.reshape(x32.shape[:-1] + (-1,)), ref, x32, p32)
    assert err <= C.budget(storage, x32.shape[-1], p32), err


@pytest.mark.parametrize("storage", ["float16", "float32"])
@pytest.mark.parametrize("exclusive", [False, True], ids=["incl", "excl"])
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 100, 1024, 1025, 4097, 70001], ids=str)
def test_periodic_matches_reference(ctx, storage, exclusive, reverse, n):
    x = np.random.default_rng(n).uniform(0, 0.6, (2, n)).astype(np.float32)
    out = ddspgl.cumsum(
        x, period=1.0, storage=storage, exclusive=exclusive, reverse=reverse, ctx=ctx
    )
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.all((out >= 0) & (out <= 1))
    _check(out, x, period=1.0, storage=storage, exclusive=exclusive, reverse=reverse)


def test_leading_batch_dimensions_and_integer_input(ctx):
    x = np.random.default_rng(0).integers(-3, 4, (2, 3, 500))
    out = ddspgl.cumsum(x, storage="float32", ctx=ctx)
    assert out.shape == x.shape
    # Small integers: every partial sum is exact in float32 and in the residues.
    np.testing.assert_array_equal(out, np.cumsum(x, axis=-1).astype(np.float32))


def test_one_dimensional_and_float64_input(ctx):
    x = np.linspace(-1, 1, 3001)  # float64: rounded to float32 first
    out = ddspgl.cumsum(x, storage="float32", ctx=ctx)
    assert out.shape == (3001,)
    _check(out, x.astype(np.float32), storage="float32")


def test_negative_increments_wrap_into_the_period(ctx):
    x = np.full((1, 5000), -0.013, np.float32)
    out = ddspgl.cumsum(x, period=2 * math.pi, storage="float32", ctx=ctx)
    assert np.all((out >= 0) & (out <= np.float32(2 * math.pi)))
    _check(out, x, period=2 * math.pi, storage="float32")


def test_increments_larger_than_the_period(ctx):
    x = np.random.default_rng(5).uniform(0, 1e6, (1, 3000)).astype(np.float32)
    out = ddspgl.cumsum(x, period=1.0, storage="float32", ctx=ctx)
    _check(out, x, period=1.0, storage="float32")


def test_exact_wrap_points_are_not_a_period_off(ctx):
    # 0.25-cycle steps land exactly on 0 every fourth sample: circular distance 0 there.
    out = ddspgl.cumsum(np.full(4096, 0.25, np.float32), period=1.0, ctx=ctx)
    np.testing.assert_array_equal(out[3::4], 0.0)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(65, 20000),
    quad=st.integers(0, 3),
    upper=st.sampled_from([2, 3, 4, 8, 16, 32]),
    top=st.sampled_from([4, 16, 64, 256]),
    seed=st.integers(0, 2**31),
)
def test_result_does_not_depend_on_the_pass_plan(session_ctx, n, quad, upper, top, seed):
    """Residue sums are exact: any blocking gives the same bits."""
    x = np.random.default_rng(seed).uniform(0, 3, (1, n)).astype(np.float32)
    default = ddspgl.cumsum(x, period=2 * math.pi, ctx=session_ctx)
    original = C.QUAD_LEVELS, C.UPPER_BLOCK, C.TOP_MAX
    C.QUAD_LEVELS, C.UPPER_BLOCK, C.TOP_MAX = quad, upper, top
    try:
        other = ddspgl.cumsum(x, period=2 * math.pi, ctx=session_ctx)
    finally:
        C.QUAD_LEVELS, C.UPPER_BLOCK, C.TOP_MAX = original
    np.testing.assert_array_equal(default, other)


# Passes of the plan: levels of 4 (leaf and QUAD_LEVELS more), then of UPPER_BLOCK.
@pytest.mark.parametrize(
    "n, most", [(16000, 9), (64000, 9), (192960, 11), (2**20, 11), (2**22, 13)]
)
def test_pass_plan_targets(n, most):
    plan = C.plan(n)
    assert plan.passes <= most
    assert plan.passes < math.ceil(math.log2(n))
    assert plan.lengths[-1] <= C.TOP_MAX


def test_passes_issued_match_the_plan(ctx):
    x = np.zeros((1, 64000), np.float32)
    before = ctx.counters.passes
    ddspgl.cumsum(x, period=1.0, ctx=ctx)
    assert ctx.counters.passes - before == C.plan(64000).passes == 9


def test_plain_cumsum_adds_the_abs_sum_levels(ctx):
    # Sum of |x|: ceil(log_256(64000)) = 2 levels, read back before the scan's passes.
    x = np.ones((1, 64000), np.float32)
    before = ctx.counters.passes
    ddspgl.cumsum(x, storage="float32", ctx=ctx)
    assert ctx.counters.passes - before == 2 + C.plan(64000).passes


@pytest.mark.parametrize("n", [9, 10, 11, 12])
def test_one_leaf_level_with_a_top_of_three(ctx, n):
    """n = 9 ... 12 leaves a top level of 3 block sums: scanned whole, by cumsum_scan."""
    x = np.random.default_rng(n).uniform(0, 0.6, (3, n)).astype(np.float32)
    for reverse in (False, True):
        out = ddspgl.cumsum(x, period=1.0, storage="float32", reverse=reverse, ctx=ctx)
        _check(out, x, period=1.0, storage="float32", reverse=reverse)


def test_programs_are_shared_by_every_length(fresh_ctx):
    """Sizes are uniforms: new lengths reuse the programs compiled for the first ones."""
    own = fresh_ctx()
    rng = np.random.default_rng(0)
    for n in (5000, 6000):  # the same plan shape: each kernel variant compiled once
        ddspgl.cumsum(rng.uniform(0, 1, (2, n)).astype(np.float32), period=1.0, ctx=own)
    compiled = len(own._programs)
    for n in range(5001, 5040):
        ddspgl.cumsum(rng.uniform(0, 1, (2, n)).astype(np.float32), period=1.0, ctx=own)
    assert len(own._programs) == compiled


def test_pack_and_unpack_follow_the_tfjs_layout():
    x = np.arange(15, dtype=np.float32).reshape(3, 5)
    texels = C.pack(x)
    assert texels.shape == (2, 3, 4)
    np.testing.assert_array_equal(texels[0, 1], [x[0, 2], x[0, 3], x[1, 2], x[1, 3]])
    np.testing.assert_array_equal(texels[1, 2], [x[2, 4], 0, 0, 0])
    np.testing.assert_array_equal(C.unpack(texels, 3, 5), x)


@pytest.mark.parametrize("period", [1.0, 2 * math.pi])
@pytest.mark.parametrize("storage", ["float16", "float32"])
def test_derived_budget_is_inside_the_required_ceiling(period, storage):
    for n in (1, 1000, 64000, 2**20, 2**22):
        assert C.budget(storage, n, np.float32(period)) <= C.CEILING[storage]


def test_float16_rounding_alone_sets_the_float16_budget():
    # A value stored in float16 just below 1 is off by up to 2^-12: the budget covers it.
    assert C.budget("float16", 1, np.float32(1.0)) >= 2.0**-12
    assert C.budget("float16", 1, np.float32(1.0)) < 2.0**-12 * 1.001


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, kwargs, match",
    [
        (np.array([1.0, np.nan]), {}, "x: contains NaN or Inf"),
        (np.array([1.0, np.inf]), {}, "x: contains NaN or Inf"),
        (np.array([1e39]), {}, "x: values beyond float32"),
        (np.zeros(0), {}, "x: empty"),
        (np.zeros((3, 0)), {}, "x: empty"),
        (np.float32(1.0), {}, "x: must have at least one axis"),
        (np.array([1 + 2j]), {}, "x: unsupported dtype complex128"),
        (np.array([True]), {}, "x: unsupported dtype bool"),
        (np.array(["a"]), {}, "x: unsupported dtype"),
        (np.ones(4), {"period": 0.0}, r"period: must be finite and > 0"),
        (np.ones(4), {"period": -1.0}, r"period: must be finite and > 0"),
        (np.ones(4), {"period": float("nan")}, r"period: must be finite and > 0"),
        (np.ones(4), {"period": float("inf")}, r"period: must be finite and > 0"),
        (np.ones(4), {"period": [1.0]}, r"period: must be a positive number or None"),
        (np.ones(4), {"period": 1e-35, "storage": "float32"}, r"period: must lie in \[2\^-100"),
        (np.ones(4), {"storage": "float64"}, "storage: must be one of"),
        (np.full(70000, 1.0), {}, "x: the cumsum reaches 70000, beyond float16's largest"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input_is_a_value_error_naming_the_argument(ctx, x, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ddspgl.cumsum(x, ctx=ctx, **kwargs)


def test_period_string_that_parses_is_accepted(ctx):
    # float("1") is a valid period; only non-numbers are refused.
    out = ddspgl.cumsum(np.full(8, 0.5, np.float32), period="1", storage="float32", ctx=ctx)
    np.testing.assert_array_equal(out, [0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0])


def test_too_long_for_the_texture_limit(fresh_ctx):
    small = fresh_ctx(max_texture_size=64)
    with pytest.raises(ValueError, match=r"x: 4097 elements exceed .* \(64x64 = 4096 elements\)"):
        ddspgl.cumsum(np.zeros(4097, np.float32), ctx=small)
    out = ddspgl.cumsum(np.full(4096, 0.5, np.float32), period=1.0, ctx=small)
    assert out.shape == (4096,)
    assert small.counters.textures_alive == 0


def test_failure_mid_pipeline_releases_every_texture(ctx, monkeypatch):
    calls = {"n": 0}
    run = type(ctx).run

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected failure in pass 3")
        return run(self, *args, **kwargs)

    monkeypatch.setattr(type(ctx), "run", failing)
    with pytest.raises(RuntimeError, match="injected"):
        ddspgl.cumsum(np.ones((2, 64000), np.float32), period=1.0, ctx=ctx)
    # the ctx fixture asserts the live-texture count is back where it started


def test_float16_phase_stays_accurate_where_tfjs_algorithm_fails(ctx):
    """The motivating case: 4 s of 440 Hz, float16 storage."""
    from ddspgl.kernels import tfjs_cumsum

    x = np.full((1, 64000), 440 / 16000, np.float32)
    p = np.float32(1.0)
    ref = C.reference(x, period=p)
    ours = C.error(ddspgl.cumsum(x, period=1.0, ctx=ctx), ref, x, p)
    theirs = C.error(tfjs_cumsum.cumsum(x, period=1.0, ctx=ctx), ref, x, p)
    assert ours <= C.budget("float16", 64000, p) <= 2.0**-11
    assert theirs > 0.05  # a twentieth of a cycle or worse: audibly wrong
