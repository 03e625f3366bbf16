"""FilteredNoise in the emitted TF.js bundle, headless Chromium, the pinned TF.js from npm.

The webgl kernel runs the pass plan of kernels/filtered_noise.graph on the GLSL bodies of
glsl/ and is held, in both TF.js modes, to the per-sample bound the GL suite holds it to
(kernels/filtered_noise.derived_bound, plus half a float16 ulp in float16 mode) against
the float64 reference of kernels/filtered_noise.py fed the same noise bits
(kernels/filtered_noise.noise). In float16 mode the kernel uploads magnitudes the host
holds into an RGBA32F texture of its own (js/src/exact_upload.js) where TF.js would round
them to float16; the reference is computed from the magnitudes as the kernel holds them
(kernels/cumsum_browser.kernel_held): the test measures the kernel, not the input
rounding. The plain JS fallback (cpu, wasm) computes in float64 and is held to
its own derived bound.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from needs_chromium import require_chromium
from thrown import assert_throws

from ddspgl.harness.shader import resolve
from ddspgl.kernels import cumsum_browser, filtered_noise, manifest
from ddspgl.tools import browser, emit
from graph_model import filtered_noise_nodes, placeholder, save_graph_model

require_chromium()

STORAGES = browser.STORAGES
SEED = 31
# name: (batch, frames, bands, n_samples, window_size)
SHAPES = {
    "production": (1, 1000, 65, 64000, 0),  # 16 kHz, 250 frames/s: hop 64, 128 taps
    "50fps-batch-2": (2, 50, 65, 16000, 257),  # hop 320; 257 > IR: the IR's size
    "window-64": (1, 40, 65, 4000, 64),  # a window smaller than the IR: 63 taps
    "odd": (2, 30, 33, 1000, 65),  # hop 34, n not a multiple of frames, 64 taps (65 > 64)
}
FALLBACK_SHAPES = ("50fps-batch-2", "odd")

# Runs FilteredNoise on spec.key [spec.shape] with spec.options on spec.backend: the op's
# output, the passes ddspgl ran, and the tensors alive before and after.
_RUN = """async spec => {
  const values = await harness.input(spec.key);
  const before = tf.getBackend();
  await tf.setBackend(spec.backend);
  try {
    const m = tf.tensor(values, spec.shape);
    const tensors = tf.memory().numTensors;
    const passes = ddspgl.stats.passes;
    const y = ddspgl.filteredNoise(m, spec.options);
    const out = {b64: harness.b64(y.dataSync()), shape: y.shape,
                 passes: ddspgl.stats.passes - passes};
    y.dispose();
    out.leaked = tf.memory().numTensors - tensors;
    m.dispose();
    return out;
  } finally {
    await tf.setBackend(before);
  }
}"""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A converted-graph-model JSON holding a FilteredNoise node with snake_case attrs."""
    folder = tmp_path_factory.mktemp("filtered_noise_model")
    noise = filtered_noise_nodes(SHAPES["odd"], SEED)
    # the same node reading a sample offset as input 1 (of any shape: the op checks it)
    at = {**noise[1], "name": "noise_at", "input": ["magnitudes", "offset"]}
    return save_graph_model(folder, [*noise, placeholder("offset", dtype="DT_INT32"), at])


@cache
def _magnitudes(name: str) -> np.ndarray:
    b, f, k, _, _ = SHAPES[name]
    rng = np.random.default_rng(f * k)
    walk = np.cumsum(rng.standard_normal((b, f, k)) * 0.3, axis=1)
    return (10.0 ** ((-30.0 + 15.0 * np.tanh(walk / 5.0)) / 20.0)).astype(np.float32)


@cache
def _reference(host, storage: str, name: str):
    """(magnitudes as the page holds them, reference, per-sample bound with the write)."""
    mags = _magnitudes(name)
    b, f, k, n, w = SHAPES[name]
    held, how = cumsum_browser.kernel_held(host.page(storage), mags.reshape(b * f, k))
    assert how == "exact", how
    held = held.reshape(mags.shape)
    ref = filtered_noise.reference(held, filtered_noise.noise(b, n, seed=SEED), window_size=w)
    bound = filtered_noise.derived_bound(held, n_samples=n, window_size=w)
    return held, ref, filtered_noise.write_bound(ref, bound, storage)


def _options(name: str, **extra) -> dict:
    _, _, _, n, w = SHAPES[name]
    return {"nSamples": n, "windowSize": w, "seed": SEED, **extra}


def _call(page, mags: np.ndarray, options: dict, backend: str = "webgl"):
    spec = {"key": page.host.put(mags), "shape": list(mags.shape), "options": options}
    res = page.evaluate(_RUN, {**spec, "backend": backend})
    return browser.decode(res["b64"], res["shape"]), res


# -- the bundle -------------------------------------------------------------------------------


def test_bundle_carries_the_filtered_noise_glsl(tmp_path):
    for path in emit.emit(tmp_path)[:2]:
        text = path.read_text()
        for body in (filtered_noise.BODY_IR, filtered_noise.BODY_AUDIO):
            assert f"glsl/{body}" in text
            assert emit.js_literal(resolve(body)) in text, body  # the resolver's text, verbatim


def test_registers_filtered_noise(host):
    for storage, page in host.pages.items():
        got = page.evaluate(
            "() => ({kernels: ['webgl', 'cpu', 'wasm'].map("
            "b => tf.getKernel('FilteredNoise', b) != null), listed: ddspgl.kernels,"
            " op: typeof ddspgl.filteredNoise})"
        )
        assert got == {
            "kernels": [True] * 3,
            "listed": [k.tfjs_kernel for k in manifest.KERNELS],
            "op": "function",
        }, storage


# -- the webgl kernel against the float64 reference -------------------------------------------


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("storage", STORAGES)
def test_webgl_within_budget(host, storage, name):
    """Every sample within its derived bound, two passes, no tensor left behind."""
    held, ref, bound = _reference(host, storage, name)
    out, res = _call(host.page(storage), _magnitudes(name), _options(name))
    assert out.shape == ref.shape
    ratio = filtered_noise.deviation(out, ref, bound)
    worst = np.unravel_index(np.argmax(ratio), ratio.shape)
    assert ratio.max() <= 1.0, f"sample {worst}: {ratio[worst]:.3g} x its bound"
    assert res["passes"] == 2 and res["leaked"] == 0


@pytest.mark.parametrize("storage", STORAGES)
def test_blocks_continue_one_noise_stream(host, storage):
    """The second half of the frames with sampleOffset draws the stream where a whole call
    would: within budget of the reference on that part of the noise."""
    b, f, k, n, w = SHAPES["50fps-batch-2"]
    held = _reference(host, storage, "50fps-batch-2")[0][:, f // 2 :]
    half = n // 2
    out, _ = _call(
        host.page(storage), _magnitudes("50fps-batch-2")[:, f // 2 :],
        _options("50fps-batch-2", nSamples=half, sampleOffset=half),
    )  # fmt: skip
    x = filtered_noise.noise(b, n, seed=SEED)[:, half:]
    ref = filtered_noise.reference(held, x, window_size=w)
    bound = filtered_noise.derived_bound(held, n_samples=half, window_size=w)
    ratio = filtered_noise.deviation(out, ref, filtered_noise.write_bound(ref, bound, storage))
    assert ratio.max() <= 1.0


# -- the plain JS fallback --------------------------------------------------------------------


def _fallback_bound(mags, ref, n, w):
    """float64 arithmetic: each tap within (K + 4) 2^-53 of c_j H (cosines, K products and
    sums, the scale) and the sum over taps within L 2^-53 of sum c_j H: below 2^-40 sum c_j H
    for K, L <= 2048 (sum c_j H is derived_bound / EPS_TAP, at most); then one float32
    rounding, at most 2^-24 |y|."""
    total = filtered_noise.derived_bound(mags, n_samples=n, window_size=w) / filtered_noise.EPS_TAP
    return 2.0**-24 * (np.abs(ref) + 2.0**-40 * total) + 2.0**-40 * total


@pytest.mark.parametrize("name", FALLBACK_SHAPES)
@pytest.mark.parametrize("backend", ["cpu", "wasm"])
def test_js_fallback(host, backend, name):
    _, ref, _ = _reference(host, "float32", name)
    mags = _magnitudes(name)
    out, res = _call(host.page("float32"), mags, _options(name), backend=backend)
    n, w = SHAPES[name][3:]
    assert np.all(np.abs(out - ref) <= _fallback_bound(mags, ref, n, w))
    assert res["passes"] == 0 and res["leaked"] == 0


def test_noise_bits_match_numpy(host):
    """The fallback's float64 noise, read back through the filter of all-ones magnitudes (a
    unit impulse at tap N / 2: the noise delayed by two samples, within 2^-40)."""
    mags = np.ones((2, 10, 65), np.float32)
    out, _ = _call(host.page("float32"), mags, {"nSamples": 640, "seed": 2**32 - 1}, "cpu")
    x = filtered_noise.noise(2, 640, seed=2**32 - 1)
    np.testing.assert_allclose(out[:, 2:], x[:, :-2], rtol=0, atol=2.0**-40)


# -- graph model ------------------------------------------------------------------------------


def test_graph_model_op(host):
    page = host.page("float32")
    _, ref, bound = _reference(host, "float32", "odd")
    b, f, k, _, _ = SHAPES["odd"]
    got = page.evaluate(
        "async spec => { const m = tf.tensor(await harness.input(spec.key), spec.shape);"
        " const model = await tf.loadGraphModel('/extra/model.json');"
        " const y = model.execute({magnitudes: m}, 'noise');"
        " const out = {b64: harness.b64(y.dataSync()), shape: y.shape};"
        " tf.dispose([m, y]); model.dispose(); return out; }",
        {"key": host.put(_magnitudes("odd")), "shape": [b, f, k]},
    )
    out = browser.decode(got["b64"], got["shape"])
    assert filtered_noise.deviation(out, ref, bound).max() <= 1.0


_RUN_AT = """async spec => {
  const m = tf.tensor(await harness.input(spec.key), spec.shape);
  const offset = tf.tensor(spec.offset, undefined, 'int32');
  const model = await tf.loadGraphModel('/extra/model.json');
  try {
    const y = model.execute({magnitudes: m, offset}, 'noise_at');
    const out = {b64: harness.b64(y.dataSync()), shape: y.shape};
    y.dispose();
    return out;
  } catch (e) {
    return {error: e.message};
  } finally {
    tf.dispose([m, offset]);
    model.dispose();
  }
}"""


def test_graph_model_op_reads_a_sample_offset_input(host):
    """A FilteredNoise node's input 1, an int32 scalar (`ddspgl fuse`'s noise_offset),
    sets the sample offset: the stream from that sample, within the derived bound; any
    other tensor there, or an offset past the limit, is refused with the reason."""
    page = host.page("float32")
    held, _, _ = _reference(host, "float32", "odd")
    b, f, k, n, w = SHAPES["odd"]
    offset = 5 * n + 3
    spec = {"key": host.put(_magnitudes("odd")), "shape": [b, f, k]}
    got = page.evaluate(_RUN_AT, {**spec, "offset": offset})
    draw = filtered_noise.noise(b, n, seed=SEED, sample_offset=offset)
    ref = filtered_noise.reference(held, draw, window_size=w)
    bound = filtered_noise.write_bound(
        ref, filtered_noise.derived_bound(held, n_samples=n, window_size=w), "float32"
    )
    out = browser.decode(got["b64"], got["shape"])
    assert filtered_noise.deviation(out, ref, bound).max() <= 1.0
    for value, message in (
        ([3, 4], "input 1 (the sample offset) must be an int32 scalar, got int32 [2]"),
        (-1, "sampleOffset must be >= 0 with sampleOffset + nSamples <= 2^31"),
    ):
        spec = {**spec, "key": host.put(_magnitudes("odd"))}
        bad = page.evaluate(_RUN_AT, {**spec, "offset": value})
        assert message in bad.get("error", ""), bad


# -- memory -----------------------------------------------------------------------------------


@pytest.mark.parametrize("storage", STORAGES)
def test_no_leak_over_repeated_calls(host, storage):
    """No tensor, data buffer or GPU byte survives a call, over 30 calls after warm-up."""
    mags = _magnitudes("window-64")
    got = host.page(storage).evaluate(
        "async spec => { const m = tf.tensor(await harness.input(spec.key), spec.shape);"
        " const once = () => { const y = ddspgl.filteredNoise(m, spec.options);"
        " y.dataSync(); y.dispose(); };"
        " const snap = () => { const s = tf.memory(); return [s.numTensors, s.numDataBuffers,"
        " s.numBytes, s.numBytesInGPU, s.numBytesInGPUAllocated]; };"
        " for (let i = 0; i < 3; ++i) once(); const before = snap();"
        " for (let i = 0; i < 30; ++i) once(); const after = snap(); m.dispose();"
        " return {before, after}; }",
        {"key": host.put(mags), "shape": list(mags.shape), "options": _options("window-64")},
    )
    assert got["after"] == got["before"]


# -- values only on the GPU -------------------------------------------------------------------


@pytest.mark.parametrize("storage", STORAGES)
@pytest.mark.parametrize("value", ["NaN", "Infinity"])
def test_gpu_resident_bad_frame_makes_the_samples_it_reaches_nan(host, storage, value):
    """Magnitudes on the GPU only (m + 0) with NaN or Inf in frame 3 of row 0: the samples
    whose taps read frame 3 (q in [192, 256): outputs m with m + 62 - 127 < 256 and
    m + 62 >= 192, i.e. 130 ... 320) come out NaN; every other sample is bit for bit the
    good call's (on the GPU too: in float16 mode a host tensor is uploaded exactly, m + 0
    holds 0.01 as float16)."""
    got = host.page(storage).evaluate(
        "([value]) => { const bad = {NaN: NaN, Infinity: Infinity}[value];"
        " const run = (v, gpu) => { const a = Array.from({length: 2}, () =>"
        " Array.from({length: 10}, () => Array(65).fill(0.01)));"
        " a[0][3][7] = v; const m = tf.tensor(a); const mg = gpu ? tf.add(m, 0) : m;"
        " const y = ddspgl.filteredNoise(mg, {nSamples: 640, seed: 5});"
        " const out = y.arraySync(); tf.dispose([m, mg, y]); return out; };"
        " const before = tf.memory(); const ref = run(0.01, true); const got = run(bad, true);"
        " const after = tf.memory(); return {ref, got,"
        " leaked: after.numTensors - before.numTensors,"
        " bytes: after.numBytesInGPU - before.numBytesInGPU}; }",
        [value],
    )
    assert got["leaked"] == 0 and got["bytes"] == 0
    row0 = np.array(got["got"][0], np.float64)
    reach = np.zeros(640, bool)
    reach[130:321] = True
    assert np.isnan(row0[reach]).all()
    good = [v for v, r in zip(got["ref"][0], reach, strict=True) if not r]
    assert row0[~reach].tolist() == good
    assert got["got"][1] == got["ref"][1]


# -- bad input --------------------------------------------------------------------------------

_M = "tf.fill([1, 10, 65], 0.1)"
_HOST = "tf.tensor(new Float32Array(650).fill({}), [1, 10, 65])"  # values the host holds


def _noise(m=_M, options="{nSamples: 640}"):
    return f"ddspgl.filteredNoise({m}, {options})"


# Each with the words of kernels/filtered_noise.check's message (the JS names: nSamples,
# windowSize, sampleOffset).
BAD = {
    "int32": (_noise(m="tf.fill([1, 10, 65], 1, 'int32')"), "magnitudes must have dtype float32"),
    "rank 2": (_noise(m="tf.fill([10, 65], 0.1)"), "magnitudes must have rank 3"),
    "empty": (_noise(m="tf.fill([1, 0, 65], 0.1)"), "magnitudes is empty"),
    "not a tensor": (_noise(m="'loud'"), "magnitudes must be a tensor or an array of numbers"),
    "bands 2": (_noise(m="tf.fill([1, 10, 2], 0.1)"), "K = 2 bands, must be 3 ... 1025"),
    "bands 1026": (_noise(m="tf.fill([1, 10, 1026], 0.1)"), "must be 3 ... 1025"),
    "nSamples missing": (_noise(options="{}"), "nSamples is required"),
    "nSamples float": (_noise(options="{nSamples: 640.5}"), "nSamples must be an integer"),
    "nSamples string": (_noise(options="{nSamples: '640'}"), "nSamples must be an integer"),
    "nSamples below frames": (_noise(options="{nSamples: 9}"), "fewer than the 10 frames"),
    "nSamples unsplittable": (_noise(options="{nSamples: 81}"), "do not split into 10 frames"),
    "windowSize 2": (_noise(options="{nSamples: 640, windowSize: 2}"), "negative start"),
    "windowSize NaN": (_noise(options="{nSamples: 640, windowSize: NaN}"), "must be an integer"),
    "seed negative": (_noise(options="{nSamples: 640, seed: -1}"), "seed must lie in [0, 2^32"),
    "seed 2^32": (_noise(options="{nSamples: 640, seed: 2 ** 32}"), "seed must lie in [0, 2^32"),
    "sampleOffset": (
        _noise(options="{nSamples: 640, sampleOffset: 2 ** 31}"),
        "sampleOffset must be >= 0 with sampleOffset + nSamples <= 2^31",
    ),
    "unknown option": (_noise(options="{nSamples: 640, n_samples: 640}"), "unknown option"),
    "options null": (_noise(options="null"), "options must be an object"),
    "NaN": (_noise(m=_HOST.format("NaN")), "magnitudes: contains NaN or Inf"),
    "sum beyond float32": (
        _noise(m=_HOST.format("3e36")),
        "magnitudes: the sum of |magnitudes| (doubled inside the band) (batch 0, frame 0)",
    ),
    "kernel attrs": (
        "tf.engine().runKernel('FilteredNoise', {magnitudes: tf.fill([1, 10, 65], 0.1)},"
        " {nSamples: 640, seed: 0.5})",
        "FilteredNoise: seed must be an integer",
    ),
}


@pytest.mark.parametrize("backend", ["webgl", "cpu"])
@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_throws(host, name, backend):
    """Every bad input throws a clear Error naming the argument and the limit, on the webgl
    kernel and the JS fallback alike, and leaves no tensor behind."""
    script, message = BAD[name]
    assert_throws(host.page("float32"), script, message, backend)
