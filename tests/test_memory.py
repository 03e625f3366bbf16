"""`ddspgl memory`: the DDSP graphs under keep, pool and early disposal, and the targets."""

from __future__ import annotations

import json

import pytest

from ddspgl import cli
from ddspgl.harness import pipeline
from ddspgl.harness.context import layout
from ddspgl.kernels import harmonic, manifest, memory_graphs
from ddspgl.tools import memory
from paths import ROOT

N = memory.LENGTHS[0]
GRAPHS = [(k.name, g) for k in memory.entries() for g in k.memory.graphs]


@pytest.fixture(scope="module")
def report(tmp_path_factory, session_ctx):
    """`ddspgl memory --quick` (every kernel's graphs, both storages at 64000 samples), its
    JSON."""
    root = tmp_path_factory.mktemp("memory")
    assert cli.main(["memory", "--quick", "--root", str(root)]) == 0
    slug = next((root / memory.REPORT_DIR).glob("*.json")).stem
    for suffix in ("md", "png"):
        assert (root / memory.REPORT_DIR / f"{slug}.{suffix}").stat().st_size > 0
    return json.loads((root / memory.REPORT_DIR / f"{slug}.json").read_text())["rows"]


def row(rows, graph, storage, kernel=harmonic.NAME):
    """The row of one graph; rows written before rows named their kernel have none."""
    return next(
        r
        for r in rows
        if r.get("kernel", kernel) == kernel and r["graph"] == graph and r["storage"] == storage
    )


@pytest.mark.parametrize("storage", ["float16", "float32"])
def test_op_chain_targets_at_64000_samples(report, storage, session_ctx):
    """The graph that materialises [K, n] intermediates: early <= 40% of keep, below pool."""
    r = row(report, "opchain", storage)
    peak = {p: t["peak_bytes"] for p, t in r["policies"].items()}
    assert peak["early"] <= 0.40 * peak["keep"]
    assert peak["early"] < peak["pool"]
    # Under early the peak is the cumsum's ping-pong: the amplitude envelope, the pass's
    # input and its output, three [K, n] textures, nothing else.
    big = layout(memory_graphs.HARMONICS, N, 1, storage, session_ctx.max_texture_size)[3]
    assert peak["early"] == 3 * big


@pytest.mark.parametrize("kernel, graph", GRAPHS, ids=[f"{k}-{g}" for k, g in GRAPHS])
@pytest.mark.parametrize("storage", ["float16", "float32"])
def test_policies_agree_bit_for_bit_and_accounting_is_exact(report, kernel, graph, storage):
    r = row(report, graph, storage, kernel)
    assert r["fits"] and r["identical"]
    assert all(t["measured_equals_plan"] for t in r["policies"].values())
    assert set(r["policies"]) == set(pipeline.POLICIES)


@pytest.mark.parametrize("storage", ["float16", "float32"])
def test_fused_graph_peak_under_early_is_the_floor(report, storage, session_ctx):
    """ddspgl's synth never holds [K, n]: under early its peak is exactly what the
    audio-rate pass reads and writes plus the graph's other outputs (the frame
    increments and their scan, for the final phase), which every policy must hold
    while that pass runs."""
    g, _ = memory.graph(harmonic.NAME, "ddspgl", N, storage)
    last = g.passes[-1]
    held = {x for _, x in last.inputs} | {last.output} | set(g.outputs)
    floor = sum(
        layout(v.rows, v.cols, v.channels, v.storage, session_ctx.max_texture_size)[3]
        for v in (g.values[name] for name in held)
    )
    early = row(report, "ddspgl", storage)["policies"]["early"]
    assert early["peak_pass"] == last.label == "harmonic synth"
    assert early["peak_bytes"] == floor


def test_op_chain_at_ten_minutes_is_planned_though_it_cannot_run(session_ctx):
    r = memory.profile(session_ctx, harmonic.NAME, "opchain", memory.LENGTHS[1], "float16")
    assert not r["fits"] and "exceed" in r["why"]
    peak = {p: t["peak_bytes"] for p, t in r["policies"].items()}
    big = layout(memory_graphs.HARMONICS, memory.LENGTHS[1], 1, "float16", memory.UNLIMITED)[3]
    assert peak["early"] == 3 * big


def test_committed_report_meets_the_targets():
    path = ROOT / memory.REPORT_DIR / "llvmpipe.json"
    rows = json.loads(path.read_text())["rows"]
    assert memory.check(rows) == []
    lengths = {r["n_samples"] for r in rows}
    assert lengths == set(memory.LENGTHS)
    for storage in ("float16", "float32"):
        peak = {p: t["peak_bytes"] for p, t in row(rows, "opchain", storage)["policies"].items()}
        assert peak["early"] <= 0.40 * peak["keep"] and peak["early"] < peak["pool"]


def test_committed_browser_report_meets_the_target():
    """ddspgl's synth with setEarlyDisposal() peaks at <= 40% of the stock-op synth's
    tf.memory().numBytesInGPUAllocated, in both TF.js modes, and frees what it made."""
    runs = json.loads((ROOT / memory.REPORT_DIR / "chromium-swiftshader.json").read_text())["runs"]
    for storage in ("float16", "float32"):
        mode = {r["name"]: r for r in runs if r["storage"] == storage}
        stock = next(r for name, r in mode.items() if name.startswith("stock"))
        early = next(r for name, r in mode.items() if "setEarlyDisposal" in name)
        assert early["peak"] <= memory.BROWSER_TARGET * stock["peak"]
        assert early["final"] <= early["bytes"][0]


def test_committed_webgpu_browser_report_meets_the_target():
    """On TF.js's webgpu backend ddspgl's synth holds <= 40% of the stock-op synth's GPU
    buffer bytes, allocated and in use, and both leave no buffer in use after the call."""
    path = ROOT / memory.REPORT_DIR / "chromium-swiftshader-webgpu.json"
    runs = {r["name"]: r for r in json.loads(path.read_text())["runs"]}
    stock, ours = runs["stock TF.js ops"], runs["ddspgl.harmonicSynth"]
    assert ours["peak"] <= memory.BROWSER_TARGET * stock["peak"]
    assert ours["peak_in_use"] <= memory.BROWSER_TARGET * stock["peak_in_use"]
    assert stock["final_in_use"] == ours["final_in_use"] == 0


def test_a_kernel_without_memory_graphs_is_a_clear_error(tmp_path, capsys):
    lacking = [k.name for k in manifest.KERNELS if k.memory is None]
    have = [k.name for k in manifest.KERNELS if k.memory is not None]
    for name in lacking:
        assert cli.main(["memory", "--kernel", name, "--root", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert f"{name} has no memory; these do: {have}" in err
    assert not (tmp_path / "reports").exists()
