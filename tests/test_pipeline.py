"""Pipelines: the planner against an independent liveness computation, execution under
every policy against a numpy reference, accounting, failures and repeated runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddspgl.harness import pipeline
from ddspgl.harness.context import layout
from paths import TEST_GLSL

MIX = TEST_GLSL / "pipelineMix.frag"
BROKEN = TEST_GLSL / "broken.frag"
# Logical shapes, several of which share a physical layout (64 elements: 8x8), so
# textures get reused across values of different [rows, cols].
SHAPES = [(1, 64), (2, 32), (4, 16), (3, 50), (1, 150)]
LIMIT = 4096


# -- random DAGs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A random DAG: uploads, then passes reading earlier values, and the outputs."""

    uploads: tuple[tuple[int, int, int], ...]  # (shape index, channels, seed)
    passes: tuple[tuple[tuple[tuple[int, int], ...], int, int, int, str, int], ...]
    outputs: tuple[int, ...]  # pass indices


@st.composite
def specs(draw, max_passes=10):
    uploads = tuple(
        (draw(st.integers(0, len(SHAPES) - 1)), draw(st.sampled_from((1, 4))), seed)
        for seed in range(draw(st.integers(1, 3)))
    )
    passes = []
    for i in range(draw(st.integers(len(uploads), max_passes))):
        available = len(uploads) + i
        count = draw(st.integers(1, min(3, available)))
        sources = draw(
            st.lists(st.integers(0, available - 1), min_size=count, max_size=count, unique=True)
        )
        if i < len(uploads) and i not in sources:  # every upload is read
            sources[0] = i
        inputs = tuple((s, draw(st.integers(1, 3))) for s in sources)
        passes.append(
            (
                inputs,
                draw(st.integers(0, 60)),  # bias
                draw(st.integers(0, len(SHAPES) - 1)),
                draw(st.sampled_from((1, 4))),
                draw(st.sampled_from(("float16", "float32"))),
                i,
            )
        )
    outputs = draw(st.lists(st.integers(0, len(passes) - 1), min_size=1, unique=True))
    return Spec(uploads, tuple(passes), tuple(outputs))


def upload_data(shape_index: int, channels: int, seed: int) -> np.ndarray:
    rows, cols = SHAPES[shape_index]
    shape = (rows, cols) + ((4,) if channels == 4 else ())
    return np.random.default_rng(seed).integers(0, 61, shape).astype(np.float32)


def build(spec: Spec) -> tuple[pipeline.Graph, list[str]]:
    g = pipeline.Graph("random")
    names = [g.upload(f"u{j}", upload_data(*u)) for j, u in enumerate(spec.uploads)]
    for inputs, bias, shape_index, channels, storage, i in spec.passes:
        rows, cols = SHAPES[shape_index]
        defines = {"MIX_INPUTS": len(inputs), "MIX_BIAS": bias, "MIX_VEC4": int(channels == 4)}
        operands = {}
        for slot, (source, weight) in enumerate(inputs):
            value = g.values[names[source]]
            operands[f"in{slot}"] = value.name
            defines |= {
                f"MIX_W{slot}": weight,
                f"IN{slot}_ROWS": value.rows,
                f"IN{slot}_COLS": value.cols,
            }
        out = g.texture(f"p{i}", rows, cols, channels, storage)
        names.append(g.run(MIX, operands, out, defines=defines))
    g.output(*(names[len(spec.uploads) + i] for i in spec.outputs))
    return g, names


def reference(spec: Spec) -> list[np.ndarray]:
    """Every value of the DAG, in numpy integers."""
    values = [upload_data(*u).astype(np.int64) for u in spec.uploads]
    for inputs, bias, shape_index, channels, _, _ in spec.passes:
        rows, cols = SHAPES[shape_index]
        r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        s = np.full((rows, cols), bias, np.int64)
        for source, weight in inputs:
            v = values[source]
            term = v[r % v.shape[0], c % v.shape[1]]
            s += weight * (term.sum(axis=-1) if v.ndim == 3 else term)
        values.append(np.stack([(s + j) % 61 for j in range(4)], -1) if channels == 4 else s % 61)
    return values


def liveness_bytes(g: pipeline.Graph) -> tuple[list[int], list[int]]:
    """Per pass, the bytes alive under early (values allocated and not yet dead) and under
    keep (everything allocated so far), computed without the planner."""
    first, last = {}, {}
    for i, p in enumerate(g.passes):
        for _, v in p.inputs:
            first.setdefault(v, i)
            last[v] = i
        first[p.output] = i
        last.setdefault(p.output, i)
    size = {
        name: layout(v.rows, v.cols, v.channels, v.storage, LIMIT)[3]
        for name, v in g.values.items()
    }
    end = len(g.passes)
    for name in g.outputs:
        last[name] = end
    early = [sum(size[v] for v in first if first[v] <= i <= last[v]) for i in range(end)]
    keep = [sum(size[v] for v in first if first[v] <= i) for i in range(end)]
    return early, keep


# -- the planner -------------------------------------------------------------------------------


def check_plan(pl: pipeline.Plan, pooled: Counter) -> None:
    """Replay a plan: nothing read after it is freed, reuse only of free textures of
    the same key, outputs alive at the end, the pool only grows by what was freed."""
    g = pl.graph
    live: dict[str, int] = {}
    held: dict[int, tuple] = {}
    pool = Counter(pooled)
    for i, p in enumerate(g.passes):
        for a in pl.allocs[i]:
            key = pl.keys[a.value]
            assert a.value not in live
            if a.source == "held":
                assert held.pop(a.reuse) == key
            elif a.source == "pool":
                assert pool[key] > 0
                pool[key] -= 1
            live[a.value] = a.slot
        assert not held, "a held texture waited across a pass"
        for _, v in p.inputs:
            assert v in live or g.values[v].kind == pipeline.BOUND, f"{v} read after release"
        assert p.output in live
        later = {v for q in g.passes[i + 1 :] for _, v in q.inputs}
        for f in pl.frees[i]:
            assert live.pop(f.value) == f.slot
            assert f.value not in later
            assert f.value not in g.outputs
            if f.action == "hold":
                held[f.slot] = pl.keys[f.value]
            elif f.action == "pool":
                pool[pl.keys[f.value]] += 1
    assert not held
    for f in pl.final:
        assert live.pop(f.value) == f.slot
    assert set(live) == set(g.outputs) - {
        v for v in g.outputs if g.values[v].kind == pipeline.BOUND
    }
    assert +pool == pl.pool_after


@settings(max_examples=300, deadline=None)
@given(specs(max_passes=14))
def test_planner_never_frees_what_a_later_pass_reads(spec):
    g, _ = build(spec)
    early, keep = liveness_bytes(g)
    plans = {policy: pipeline.plan(g, policy, LIMIT) for policy in pipeline.POLICIES}
    for pl in plans.values():
        check_plan(pl, Counter())
    by = {policy: [s.bytes for s in pl.snapshots] for policy, pl in plans.items()}
    assert by["early"] == early
    assert by["keep"] == keep
    assert all(e <= p <= k for e, p, k in zip(by["early"], by["pool"], by["keep"], strict=True))
    assert plans["keep"].frees == [()] * len(g.passes)


@settings(max_examples=100, deadline=None)
@given(specs(), st.lists(st.integers(0, 3), min_size=len(SHAPES) * 2, max_size=len(SHAPES) * 2))
def test_pool_plans_take_from_a_warm_pool(spec, counts):
    g, _ = build(spec)
    keys = [layout(r, c, ch, "float16", LIMIT)[:3] for r, c in SHAPES for ch in (1, 4)]
    pooled = Counter({k: n for k, n in zip(keys, counts, strict=True) if n})
    pl = pipeline.plan(g, "pool", LIMIT, pooled)
    check_plan(pl, pooled)
    cold = pipeline.plan(g, "pool", LIMIT)
    new = sum(a.source == "new" for step in pl.allocs for a in step)
    assert new <= sum(a.source == "new" for step in cold.allocs for a in step)


def test_graph_errors_name_the_value():
    g = pipeline.Graph("bad")
    x = g.upload("x", np.zeros((1, 8), np.float32))
    out = g.texture("out", 1, 8, 1, "float32")
    with pytest.raises(pipeline.GraphError, match="reads 'later' before it is written"):
        g.run(MIX, {"in0": "later"}, out)
    g.run(MIX, {"in0": x}, out)
    with pytest.raises(pipeline.GraphError, match="'out' is written twice"):
        g.run(MIX, {"in0": x}, out)
    with pytest.raises(pipeline.GraphError, match="'nowhere' is never written"):
        g.output("nowhere")
    with pytest.raises(pipeline.GraphError, match=r"empty"):
        g.texture("empty", 0, 8, 1, "float32")
    with pytest.raises(pipeline.GraphError, match="uploads are"):
        g.upload("rank1", np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="policy must be one of"):
        pipeline.plan(g, "lazy", LIMIT)
    with pytest.raises(ValueError, match="bad: x: 8 elements exceed a 2x2 texture"):
        pipeline.plan(g, "keep", 2)
    g.upload("unused", np.zeros((1, 8), np.float32))
    with pytest.raises(pipeline.GraphError, match="upload 'unused' is never read"):
        pipeline.plan(g, "early", LIMIT)


# -- execution ---------------------------------------------------------------------------------


def run_all(ctx, g: pipeline.Graph) -> dict[str, dict[str, np.ndarray]]:
    results = {}
    for policy in pipeline.POLICIES:
        with pipeline.execute(ctx, g, policy) as run:
            assert run.snapshots == run.plan.snapshots, "measured accounting != planned"
            results[policy] = {name: run.read(name) for name in g.outputs}
    return results


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs())
def test_every_policy_gives_the_reference_bit_for_bit(ctx, spec):
    g, names = build(spec)
    values = reference(spec)
    results = run_all(ctx, g)
    for name in g.outputs:
        expected = values[names.index(name)].astype(np.float32)
        for policy in pipeline.POLICIES:
            np.testing.assert_array_equal(results[policy][name], expected, err_msg=policy)


def chain(passes: int, storage="float16") -> pipeline.Graph:
    """A ping-pong chain of same-shaped passes, the TF.js cumsum's pattern."""
    spec = Spec(
        uploads=((0, 1, 7),),
        passes=tuple((((i, 1),), i % 61, 0, 1, storage, i) for i in range(passes)),
        outputs=(passes - 1,),
    )
    return build(spec)[0]


def test_early_reuses_ping_pong_textures_and_pool_keeps_what_it_freed(ctx):
    g = chain(6)
    plans = {p: pipeline.plan(g, p, ctx.max_texture_size) for p in pipeline.POLICIES}
    sources = Counter(a.source for step in plans["early"].allocs for a in step)
    # the upload (R32F) is freed after pass 0; every later output takes the texture
    # the pass before last wrote
    assert sources == Counter({"new": 3, "held": 4})
    pooled = Counter(a.source for step in plans["pool"].allocs for a in step)
    assert pooled == Counter({"new": 3, "pool": 4})
    tex = layout(1, 64, 1, "float16", ctx.max_texture_size)[3]
    upload = layout(1, 64, 1, "float32", ctx.max_texture_size)[3]
    assert plans["early"].peak_bytes == max(upload + tex, 2 * tex)  # pass 0, then pass 1..
    assert plans["pool"].peak_bytes == upload + 2 * tex  # the upload stays pooled
    assert plans["keep"].peak_bytes == upload + 6 * tex
    run_all(ctx, g)


def test_pool_outlives_runs_and_does_not_grow(ctx):
    g = chain(5)
    before = ctx.counters.bytes_alive
    with pipeline.Pool(ctx) as pool:
        with pipeline.execute(ctx, g, "pool", pool=pool) as run:
            first = run.read(g.outputs[0])
        size = pool.nbytes
        assert size > 0 and ctx.counters.bytes_alive == before + size
        for _ in range(3):
            with pipeline.execute(ctx, g, "pool", pool=pool) as run:
                np.testing.assert_array_equal(run.read(g.outputs[0]), first)
                assert all(a.source != "new" for a in run.plan.allocs[0])
            assert pool.nbytes == size
    assert ctx.counters.bytes_alive == before


@pytest.mark.parametrize("policy", pipeline.POLICIES)
def test_bad_input_found_mid_graph_releases_every_texture(ctx, policy):
    def late():
        raise ValueError("late: NaN at frame 3")

    g = chain(4)
    last = g.passes[-1].output
    bad = g.upload("late", late, shape=(1, 64))
    out = g.texture("after", 1, 64, 1, "float16")
    g.run(MIX, {"in0": last, "in1": bad}, out, defines=mix_defines(2))
    g.output(out)
    with pipeline.Pool(ctx) as pool:
        with pytest.raises(ValueError, match="late: NaN at frame 3"):
            pipeline.execute(ctx, g, policy, pool=pool if policy == "pool" else None)
    # the ctx fixture checks that live textures and bytes are back where they started


def mix_defines(inputs: int) -> dict:
    defines = {"MIX_INPUTS": inputs, "MIX_BIAS": 0, "MIX_VEC4": 0}
    for j in range(inputs):
        defines |= {f"MIX_W{j}": 1, f"IN{j}_ROWS": 1, f"IN{j}_COLS": 64}
    return defines


@pytest.mark.parametrize("policy", pipeline.POLICIES)
def test_shader_compile_error_mid_graph_releases_every_texture(ctx, policy):
    g = chain(3)
    out = g.texture("broken", 1, 64, 1, "float16")
    g.run(BROKEN, {"x": g.passes[-1].output}, out)
    g.output(out)
    with pytest.raises(Exception, match="failed to compile"):
        pipeline.execute(ctx, g, policy)


def test_upload_computed_later_must_match_its_shape(ctx):
    g = pipeline.Graph("late")
    x = g.upload("x", lambda: np.zeros((2, 64), np.float32), shape=(1, 64))
    out = g.texture("out", 1, 64, 1, "float32")
    g.run(MIX, {"in0": x}, out, defines=mix_defines(1))
    g.output(out)
    with pytest.raises(ValueError, match=r"x: upload is \(2, 64\), declared \(1, 64\)"):
        pipeline.execute(ctx, g)


def test_ten_thousand_runs_leave_live_textures_and_bytes_where_they_started(ctx):
    start = (ctx.counters.textures_alive, ctx.counters.bytes_alive)
    graphs = [chain(2), chain(3, "float32")]
    with pipeline.Pool(ctx) as pool:
        for i in range(10_000):
            policy = pipeline.POLICIES[i % 3]
            g = graphs[i % 2]
            with pipeline.execute(ctx, g, policy, pool=pool if policy == "pool" else None):
                pass
            held = pool.textures, pool.nbytes
            assert ctx.counters.textures_alive - held[0] == start[0]
            assert ctx.counters.bytes_alive - held[1] == start[1]
    assert (ctx.counters.textures_alive, ctx.counters.bytes_alive) == start
