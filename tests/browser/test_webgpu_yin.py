"""Yin (the YIN pitch tracker) on TF.js's webgpu backend (WGSL compute shaders) in headless
Chromium.

Chromium's WebGPU runs on SwiftShader here (tools/browser.py, WEBGPU_ARGS). Every frame is
held to the per-frame bound the GL suite holds the kernel to (kernels/yin.deviation with
float32 storage: webgpu tensors are float32) against the float64 reference of
kernels/yin.py, on the YIN browser suite's cases (kernels/yin_browser.py). Bad input throws
as on webgl where the host holds the values; a row only the GPU holds with NaN or Inf comes
out NaN. The module skips only where the browser has no WebGPU adapter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from needs_chromium import require_chromium
from test_yin_bundle import BAD
from thrown import assert_throws
from webgpu_host import webgpu_host

from ddspgl.kernels import manifest, yin, yin_browser, yin_suite
from ddspgl.tools import browser

require_chromium()


@pytest.fixture(scope="module")
def gpu():
    """A webgpu page; a skip naming the reason where Chromium gives no WebGPU adapter."""
    yield from webgpu_host()


def _page(gpu):
    return gpu.page("float32")


# Runs the Yin kernel and the op on the blob spec.key [spec.shape] with spec.options: the
# kernel's whole output, the op's f0Hz and confidence, the dispatches ddspgl ran, and the
# tensors alive before and after.
_RUN = """async spec => {
  const x = tf.tensor(await harness.input(spec.key), spec.shape);
  const tensors = tf.memory().numTensors;
  const passes = ddspgl.stats.passes;
  const programs = harness.counter.programs;
  const full = tf.engine().runKernel('Yin', {x}, spec.options);
  const ran = {passes: ddspgl.stats.passes - passes, programs: harness.counter.programs - programs};
  const {f0Hz, confidence} = ddspgl.yin(x, spec.options);
  const out = {full: harness.b64(await full.data()), shape: full.shape,
               f0: harness.b64(await f0Hz.data()), confidence: harness.b64(await confidence.data()),
               f0Shape: f0Hz.shape, ...ran};
  tf.dispose([full, f0Hz, confidence]);
  out.leaked = tf.memory().numTensors - tensors;
  x.dispose();
  return out;
}"""


def _call(page, x: np.ndarray, options: dict):
    res = page.evaluate(_RUN, {"key": page.host.put(x), "shape": list(x.shape), "options": options})
    full = browser.decode(res["full"], res["shape"])
    f0 = browser.decode(res["f0"], res["f0Shape"])
    conf = browser.decode(res["confidence"], res["f0Shape"])
    return full, f0, conf, res


def _assert_inside(full, analysis):
    dev = yin.deviation(full, analysis, "float32")
    worst = np.unravel_index(np.argmax(dev.ratio), dev.ratio.shape)
    assert dev.inside.all() and dev.ratio.max() <= 1.0, (
        f"{int((~dev.inside).sum())} of {dev.inside.size} frames outside their bound; worst "
        f"frame {worst}: {dev.ratio[worst]:.3g} x its bound, {dev.bound_cents[worst]:.3g} cents"
    )


def test_registers_the_webgpu_kernel(gpu):
    got = _page(gpu).evaluate(
        "() => ({backend: tf.getBackend(), kernels: ['webgl', 'webgpu', 'cpu', 'wasm'].map("
        "b => tf.getKernel('Yin', b) != null)})"
    )
    assert got == {"backend": "webgpu", "kernels": [True] * 4}
    programs = {"yin_scale", "yin_blocks", "yin_difference", "yin_pick"}
    assert set(manifest.get("yin").wgsl) == programs


# -- precision: the browser suite's cases ------------------------------------------------------

PRECISION_CASES = [c for c in yin_browser.cases() if c.storage == "float32"]


@pytest.mark.parametrize("case", PRECISION_CASES, ids=lambda c: c.id)
def test_precision(gpu, case):
    result = case.run(gpu)
    assert result.ok, f"error {result.error:.3e} {result.unit} > budget {result.budget:.3e}"
    assert result.passes == 4


@pytest.mark.parametrize("name", ["vibrato-250fps", "odd-window"])
def test_op_four_dispatches_no_tensor_left(gpu, name):
    """The op's f0Hz and confidence are the kernel's; four dispatches (TF.js counts every
    program it runs: the reshapes share buffers), no tensor left behind."""
    x = yin_suite.inputs(name)
    analysis, _ = yin_browser.reference(gpu, "float32", name)
    full, f0, conf, res = _call(_page(gpu), x, yin_browser.options(name))
    frames = x.shape[-1] // analysis.cfg.hop
    assert full.shape == (*x.shape[:-1], frames, 4)
    _assert_inside(full, analysis)
    np.testing.assert_array_equal(f0, full[..., 0])
    np.testing.assert_array_equal(conf, full[..., 1])
    assert res["passes"] == 4 and res["programs"] == 4
    assert res["leaked"] == 0


def test_rank_three_input(gpu):
    """x [1, 2, n]: each row on its own, output [1, 2, frames, 4]."""
    x = yin_suite.inputs("vibrato-250fps")[:, :16000]
    analysis = yin.reference(x, **yin_suite._kwargs("vibrato-250fps"))
    full, _, _, _ = _call(_page(gpu), x[None], yin_browser.options("vibrato-250fps"))
    assert full.shape == (1, 2, 16000 // 64, 4)
    _assert_inside(full[0], analysis)


def test_rows_at_any_scale(gpu):
    """Rows of the same tone at 2^-140 (subnormal samples), 1 and 2^120: the scale is
    exact (two factors of 2^e), every row within its bound; the normal rows' frames are
    the unit row's bit for bit (YIN is invariant to the scale)."""
    tone = yin_suite.inputs("sine-440")[0, :8000].astype(np.float64)
    x = np.stack([np.ldexp(tone, -140), tone, np.ldexp(tone, 120)]).astype(np.float32)
    analysis = yin.reference(x)
    full, _, _, _ = _call(_page(gpu), x, {})
    _assert_inside(full, analysis)
    np.testing.assert_array_equal(full[2], full[1])


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_throws_as_on_webgl(gpu, name):
    script, message = BAD[name]
    assert_throws(_page(gpu), script, message)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_gpu_resident_non_finite_row_is_nan(gpu, value):
    """A row only the GPU holds (x + 0) with a NaN or Inf: all its frames NaN; the other
    row bit for bit the good call's."""
    x = yin_suite.inputs("vibrato-250fps")[:, :8000]
    got = _page(gpu).evaluate(
        """async ([spec, value]) => {
          const bad = ({NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity})[value];
          const values = await harness.input(spec.key);
          const run = async v => {
            const x = tf.tensor(v, spec.shape);
            const xg = tf.add(x, 0);
            const onHost = tf.backend().tensorMap.get(xg.dataId).values != null;
            const y = tf.engine().runKernel('Yin', {x: xg}, {});
            const out = await y.array();
            tf.dispose([x, xg, y]);
            return {out, onHost};
          };
          const ref = await run(values);
          const before = tf.memory();
          const spoiled = values.slice();
          spoiled[1234] = bad;
          const got = await run(spoiled);
          const after = tf.memory();
          return {ref: ref.out, got: got.out, onHost: got.onHost,
                  leaked: after.numTensors - before.numTensors,
                  bytes: after.numBytesInGPU - before.numBytesInGPU};
        }""",
        [{"key": gpu.put(x), "shape": list(x.shape)}, value],
    )
    assert not got["onHost"], "x + 0 should live on the GPU only"
    assert got["leaked"] == 0 and got["bytes"] == 0
    assert all(math.isnan(v) for frame in got["got"][0] for v in frame)
    assert got["got"][1] == got["ref"][1]
    assert not any(math.isnan(v) for frame in got["ref"][0] for v in frame)


def test_input_beyond_the_buffer_limit_is_refused(gpu):
    got = _page(gpu).evaluate(
        "() => { const limit = tf.backend().device.limits.maxStorageBufferBindingSize;"
        " const x = tf.zeros([2, 64]); try { tf.engine().runKernel('Yin', {x},"
        " {hop: 1, frameLength: 1, fmin: 8, sampleRate: 16000}); } catch (e) { x.dispose();"
        " return {limit, message: e.message}; } x.dispose(); return {limit, message: null}; }"
    )
    # 2 rows of 64 frames need 4 * 2 * 64 * 512 * 4 bytes of difference function: small; the
    # limit is what it is on this device, so only a call beyond it is refused.
    if got["message"] is None:
        assert got["limit"] >= 4 * 4 * 2 * 64 * 513
    else:
        assert got["message"].startswith("Yin: x: ") and str(got["limit"]) in got["message"]


# -- memory -----------------------------------------------------------------------------------


def test_no_leak_over_1000_calls(gpu):
    """No tensor, data buffer, GPU byte or buffer (in use or pooled) survives a call, over
    1000 calls after warm-up."""
    x = yin_suite.inputs("vibrato-250fps")[:, :1600]
    got = _page(gpu).evaluate(
        "async spec => { const x = tf.tensor(await harness.input(spec.key), spec.shape);"
        " const once = async () => { const {f0Hz, confidence} = ddspgl.yin(x);"
        " await f0Hz.data(); tf.dispose([f0Hz, confidence]); };"
        " const manager = tf.backend().bufferManager;"
        " const snap = () => { const m = tf.memory(); return [m.numTensors, m.numDataBuffers,"
        " m.numBytes, m.numBytesInGPU, m.numBytesAllocatedInGPU, manager.getNumUsedBuffers(),"
        " manager.getNumFreeBuffers()]; };"
        " for (let i = 0; i < 5; ++i) await once(); const before = snap();"
        " for (let i = 0; i < 1000; ++i) await once(); const after = snap(); x.dispose();"
        " return {before, after}; }",
        {"key": gpu.put(x), "shape": list(x.shape)},
    )
    assert got["after"] == got["before"]
    assert got["after"][4] > 0
