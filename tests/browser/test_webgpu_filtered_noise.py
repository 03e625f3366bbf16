"""FilteredNoise on TF.js's webgpu backend (WGSL compute shaders) in headless Chromium.

Chromium's WebGPU runs on SwiftShader here (tools/browser.py, WEBGPU_ARGS). Every sample is
held to the per-sample bound the GL suite holds the kernel to
(kernels/filtered_noise.derived_bound; float32 storage, so no write term: webgpu tensors
are float32) against the float64 reference of kernels/filtered_noise.py fed the same noise
bits (kernels/filtered_noise.noise), on the browser suite's cases
(kernels/filtered_noise_browser.py), the webgl tests' shapes, the largest impulse response
and blocks continued by sampleOffset up to the last index the kernel allows. The WGSL
generator is checked bit for bit against numpy's. Bad input throws as on webgl where the
host holds the values; a frame only the GPU holds with NaN or Inf makes the samples its
taps reach NaN, as on webgl. The module skips only where the browser has no WebGPU
adapter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from bad_inputs import CASES as BAD_TABLE
from needs_chromium import require_chromium
from test_bad_inputs_bundle import JS_NAMES, RUN_CASE, assert_refused
from test_filtered_noise_bundle import BAD, SEED, SHAPES, _magnitudes
from thrown import assert_throws
from webgpu_host import webgpu_host

from ddspgl.harness.shader import resolve
from ddspgl.kernels import (
    filtered_noise,
    filtered_noise_browser,
    filtered_noise_webgpu,
    manifest,
)
from ddspgl.tools import browser
from graph_model import filtered_noise_nodes, save_graph_model

require_chromium()


@pytest.fixture(scope="module")
def gpu(tmp_path_factory):
    """A webgpu page serving a graph model with a FilteredNoise node; a skip naming the
    reason where Chromium gives no WebGPU adapter."""
    folder = tmp_path_factory.mktemp("filtered_noise_model")
    _graph_model(folder)
    yield from webgpu_host(folder)


def _page(gpu):
    return gpu.page("float32")


def _graph_model(folder):
    save_graph_model(folder, filtered_noise_nodes(SHAPES["odd"], SEED))


# Runs FilteredNoise on spec.key [spec.shape] with spec.options: the op's output (read with
# data(): webgpu's dataSync goes through a canvas), ddspgl's dispatches and every program
# TF.js ran, and the tensors alive before and after.
_RUN = """async spec => {
  const m = tf.tensor(await harness.input(spec.key), spec.shape);
  const tensors = tf.memory().numTensors;
  const passes = ddspgl.stats.passes;
  const programs = harness.counter.programs;
  const y = ddspgl.filteredNoise(m, spec.options);
  const out = {b64: harness.b64(await y.data()), shape: y.shape,
               passes: ddspgl.stats.passes - passes,
               programs: harness.counter.programs - programs};
  y.dispose();
  out.leaked = tf.memory().numTensors - tensors;
  m.dispose();
  return out;
}"""


def _call(page, mags: np.ndarray, options: dict):
    spec = {"key": page.host.put(mags), "shape": list(mags.shape), "options": options}
    res = page.evaluate(_RUN, spec)
    return browser.decode(res["b64"], res["shape"]), res


def _options(name: str, **extra) -> dict:
    _, _, _, n, w = SHAPES[name]
    return {"nSamples": n, "windowSize": w, "seed": SEED, **extra}


def _assert_inside(out, mags, x, window_size):
    """Every sample within its derived bound (float32: no write term)."""
    ref = filtered_noise.reference(mags, x, window_size=window_size)
    bound = filtered_noise.derived_bound(mags, n_samples=x.shape[1], window_size=window_size)
    assert out.shape == ref.shape
    ratio = filtered_noise.deviation(out, ref, bound)
    worst = np.unravel_index(np.argmax(ratio), ratio.shape)
    assert ratio.max() <= 1.0, f"sample {worst}: {ratio[worst]:.3g} x its bound"


# -- the bundle -------------------------------------------------------------------------------


def test_registers_the_webgpu_kernel(gpu):
    got = _page(gpu).evaluate(
        "() => ({backend: tf.getBackend(), kernels: ['webgl', 'webgpu', 'cpu', 'wasm'].map("
        "b => tf.getKernel('FilteredNoise', b) != null),"
        " workgroupBytes: tf.backend().device.limits.maxComputeWorkgroupStorageSize})"
    )
    assert got["backend"] == "webgpu" and got["kernels"] == [True] * 4
    assert set(manifest.get("filtered_noise").wgsl) == {"filtered_noise_ir", "filtered_noise_audio"}
    # The audio pass's largest noise block fits this device and WebGPU's default limit.
    assert filtered_noise_webgpu.NOISE_BLOCK_BYTES <= min(got["workgroupBytes"], 16384)


def test_noise_bits_on_the_gpu(gpu):
    """glsl/wgsl/lib/noise_uniform.wgsl on the GPU, bit for bit numpy's noise
    (kernels/filtered_noise.noise): seeds 0 and 2^32 - 1, three rows each, the first
    indices and the last ones below 2^31."""
    n = 4096
    code = resolve(filtered_noise_webgpu.WGSL_NOISE) + (
        "\nfn main(index: i32) { if (index < uniforms.size) {"
        " let cell = index / N; let i = index - cell * N;"
        " let seed = select(0u, 4294967295u, cell >= 6); let part = cell % 6;"
        " let row = u32(part % 3); let offset = select(0u, 2147483648u - u32(N), part >= 3);"
        " result[index] = noise_uniform(noise_key(seed, row), offset + u32(i)); } }"
    )
    got = _page(gpu).evaluate(
        """spec => {
          const program = {variableNames: [], outputShape: [12 * spec.n],
            shaderKey: 'ddspgl_test_noise_uniform', dispatchLayout: {x: [0]},
            dispatch: [Math.ceil(12 * spec.n / 64), 1, 1], workgroupSize: [64, 1, 1],
            size: true, getUserCode: () => `const N = ${spec.n};\n${spec.code}`};
          const y = tf.engine().makeTensorFromTensorInfo(
              tf.backend().runWebGPUProgram(program, [], 'float32'));
          return y.data().then(values => { y.dispose(); return harness.b64(values); });
        }""",
        {"n": n, "code": code},
    )
    out = browser.decode(got, (2, 2, 3, n))
    for s, seed in enumerate((0, 2**32 - 1)):
        for o, offset in enumerate((0, 2**31 - n)):
            want = filtered_noise.noise(3, n, seed=seed, sample_offset=offset)
            np.testing.assert_array_equal(out[s, o].view(np.uint32), want.view(np.uint32))


# -- precision: the browser suite's cases and the webgl tests' shapes ---------------------------

PRECISION_CASES = [c for c in filtered_noise_browser.cases() if c.storage == "float32"]


@pytest.mark.parametrize("case", PRECISION_CASES, ids=lambda c: c.id)
def test_precision(gpu, case):
    result = case.run(gpu)
    assert result.ok, f"error {result.error:.3e} {result.unit} > budget {result.budget:.3e}"
    assert result.passes == 2


@pytest.mark.parametrize("name", list(SHAPES))
def test_within_budget_two_dispatches_no_tensor_left(gpu, name):
    b, _, _, n, w = SHAPES[name]
    mags = _magnitudes(name)
    out, res = _call(_page(gpu), mags, _options(name))
    _assert_inside(out, mags, filtered_noise.noise(b, n, seed=SEED), w)
    assert res["passes"] == 2 and res["programs"] == 2
    assert res["leaked"] == 0


def test_largest_impulse_response(gpu):
    """K = 1025 bands: 2048 taps per sample, the audio pass's largest noise block."""
    rng = np.random.default_rng(1025)
    mags = rng.uniform(0.0, 0.1, (2, 4, filtered_noise.MAX_BANDS)).astype(np.float32)
    out, _ = _call(_page(gpu), mags, {"nSamples": 2400, "seed": 7})
    _assert_inside(out, mags, filtered_noise.noise(2, 2400, seed=7), 0)


@pytest.mark.parametrize("offset", [0, 12345, 2**31 - 16000], ids=["0", "12345", "2^31-16000"])
def test_blocks_continue_one_noise_stream(gpu, offset):
    """Blocks of 12 frames rendered with sampleOffset, from `offset` on (up to the last
    index the kernel allows): each within budget of the reference on its part of one noise
    stream."""
    b, f, k, n, w = SHAPES["50fps-batch-2"]
    mags = _magnitudes("50fps-batch-2")
    hop = n // f
    x = filtered_noise.noise(b, n, seed=SEED, sample_offset=offset)
    for lo in range(0, f, f // 4):
        part = mags[:, lo : lo + f // 4]
        length = part.shape[1] * hop
        out, _ = _call(
            _page(gpu), part, _options("50fps-batch-2", nSamples=length,
                                       sampleOffset=offset + lo * hop),
        )  # fmt: skip
        _assert_inside(out, part, x[:, lo * hop : lo * hop + length], w)


@pytest.mark.slow
def test_more_workgroups_than_one_dispatch_dimension(gpu):
    """65538 workgroups of the audio pass (65535 at most per dimension: the dispatch is
    two-dimensional) over 4 Mi samples with 4 taps: every sample within its bound."""
    frames, hop = 65538, filtered_noise_webgpu.WORKGROUP
    mags = np.random.default_rng(3).uniform(0.0, 1.0, (1, frames, 3)).astype(np.float32)
    n = frames * hop
    out, _ = _call(_page(gpu), mags, {"nSamples": n, "seed": 11})
    _assert_inside(out, mags, filtered_noise.noise(1, n, seed=11), 0)


def test_graph_model_op(gpu):
    b, f, k, n, w = SHAPES["odd"]
    mags = _magnitudes("odd")
    got = _page(gpu).evaluate(
        "async spec => { const m = tf.tensor(await harness.input(spec.key), spec.shape);"
        " const model = await tf.loadGraphModel('/extra/model.json');"
        " const y = model.execute({magnitudes: m});"
        " const out = {b64: harness.b64(await y.data()), shape: y.shape};"
        " tf.dispose([m, y]); model.dispose(); return out; }",
        {"key": gpu.put(mags), "shape": [b, f, k]},
    )
    out = browser.decode(got["b64"], got["shape"])
    _assert_inside(out, mags, filtered_noise.noise(b, n, seed=SEED), w)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_throws_as_on_webgl(gpu, name):
    script, message = BAD[name]
    assert_throws(_page(gpu), script, message)


# The shared table's filtered-noise cases that float32 refuses in the bundle, given as plain
# arrays (held on the host: checked there, as on webgl), run on the webgpu page.
assert RUN_CASE.count("await tf.setBackend('webgl');") == 1
RUN_CASE_WEBGPU = RUN_CASE.replace("await tf.setBackend('webgl');", "")
TABLE = [
    c
    for c in BAD_TABLE
    if c["op"] == "filtered_noise" and "bundle" in c["hosts"] and "float32" in c["storages"]
]


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c["id"])
def test_table_bad_input_is_refused_as_on_webgl(gpu, case):
    got = _page(gpu).evaluate(RUN_CASE_WEBGPU, [case, JS_NAMES, "webgpu"])
    assert_refused(got, case)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_gpu_resident_bad_frame_makes_the_samples_it_reaches_nan(gpu, value):
    """Magnitudes on the GPU only (m + 0) with NaN or Inf in frame 3 of row 0: the samples
    whose taps read frame 3 (q in [192, 256): outputs m with m + 62 - 127 < 256 and
    m + 62 >= 192, i.e. 130 ... 320) come out NaN, as on webgl; every other sample is bit
    for bit the good call's."""
    got = _page(gpu).evaluate(
        """async value => {
          const bad = {NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity}[value];
          const run = async v => {
            const a = Array.from({length: 2}, () =>
                Array.from({length: 10}, () => Array(65).fill(0.01)));
            a[0][3][7] = v;
            const m = tf.tensor(a);
            const mg = tf.add(m, 0);
            const onHost = tf.backend().tensorMap.get(mg.dataId).values != null;
            const y = ddspgl.filteredNoise(mg, {nSamples: 640, seed: 5});
            const out = await y.array();
            tf.dispose([m, mg, y]);
            return {out, onHost};
          };
          const ref = await run(0.01);
          const before = tf.memory();  // after a call: the backend's pending releases are done
          const got = await run(bad);
          const after = tf.memory();
          return {ref: ref.out, got: got.out, onHost: got.onHost,
                  leaked: after.numTensors - before.numTensors,
                  bytes: after.numBytesInGPU - before.numBytesInGPU};
        }""",
        value,
    )
    assert not got["onHost"], "m + 0 should live on the GPU only"
    assert got["leaked"] == 0 and got["bytes"] == 0
    row0 = got["got"][0]
    reach = np.zeros(640, bool)
    reach[130:321] = True
    assert all(math.isnan(v) for v, r in zip(row0, reach, strict=True) if r)
    assert [v for v, r in zip(row0, reach, strict=True) if not r] == [
        v for v, r in zip(got["ref"][0], reach, strict=True) if not r
    ]
    assert got["got"][1] == got["ref"][1]
    assert not any(math.isnan(v) for row in got["ref"] for v in row)


def test_output_beyond_the_buffer_limit_is_refused(gpu):
    """A call whose buffers exceed the device's limit on one binding throws, naming the
    argument and the limit, before any dispatch."""
    got = _page(gpu).evaluate(
        "() => { const limit = tf.backend().device.limits.maxStorageBufferBindingSize;"
        " const n = 65536; const rows = Math.floor(limit / (4 * n)) + 1;"
        " const m = tf.fill([rows, 1, 3], 0.1); const tensors = tf.memory().numTensors;"
        " let message = null; try { ddspgl.filteredNoise(m, {nSamples: n}); }"
        " catch (e) { message = e.message; }"
        " const leaked = tf.memory().numTensors - tensors; m.dispose();"
        " return {limit, message, leaked}; }"
    )
    message = got["message"]
    assert message is not None, got
    assert message.startswith("FilteredNoise: nSamples: ") and str(got["limit"]) in message
    assert got["leaked"] == 0


# -- memory -----------------------------------------------------------------------------------


def test_no_leak_over_1000_calls(gpu):
    """No tensor, data buffer, GPU byte or buffer (in use or pooled) survives a call, its
    uploaded tables included, over 1000 calls after warm-up."""
    mags = np.random.default_rng(4).uniform(0.0, 0.1, (2, 10, 65)).astype(np.float32)
    got = _page(gpu).evaluate(
        "async spec => { const m = tf.tensor(await harness.input(spec.key), spec.shape);"
        " const once = async () => { const y = ddspgl.filteredNoise(m, spec.options);"
        " await y.data(); y.dispose(); };"
        " const manager = tf.backend().bufferManager;"
        " const snap = () => { const s = tf.memory(); return [s.numTensors, s.numDataBuffers,"
        " s.numBytes, s.numBytesInGPU, s.numBytesAllocatedInGPU, manager.getNumUsedBuffers(),"
        " manager.getNumFreeBuffers()]; };"
        " for (let i = 0; i < 5; ++i) await once(); const before = snap();"
        " for (let i = 0; i < 1000; ++i) await once(); const after = snap(); m.dispose();"
        " return {before, after}; }",
        {"key": gpu.put(mags), "shape": list(mags.shape), "options": {"nSamples": 640}},
    )
    assert got["after"] == got["before"]
    assert got["after"][4] > 0
