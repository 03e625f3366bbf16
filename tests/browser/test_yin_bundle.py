"""Yin (the YIN pitch tracker) in the emitted TF.js bundle, headless Chromium, the pinned
TF.js from npm.

The webgl kernel runs the pass plan of kernels/yin.graph on the GLSL bodies of glsl/ and is
held, in both TF.js modes, to the per-frame budget the GL suite holds it to
(kernels/yin.deviation: a lag the derived d' intervals allow, f0 and confidence inside the
derived intervals at that lag) against the float64 reference of kernels/yin.py. The kernel
uploads each row scaled by a power of two (exact), in float16 mode into an R32F texture of
its own (js/src/exact_upload.js), so the reference is computed from the scaled rows as the
kernel holds them (kernels/cumsum_browser.kernel_held), scaled back (exact): the test
measures the kernel, not the input rounding. The plain JS fallback (cpu, wasm) computes in
float64, whose error lies far inside the float32 kernel's budget it is held to.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from needs_chromium import require_chromium
from thrown import assert_throws

from ddspgl.harness.shader import resolve
from ddspgl.kernels import cumsum_browser, yin, yin_suite
from ddspgl.tools import browser, emit

require_chromium()

STORAGES = browser.STORAGES
# yin_suite's signals: a clean sine, vibrato tones in two rows, bursts between noise,
# silence, a -100 dBFS tone, a window and hop of no common power of two.
CASES = ("sine-440", "vibrato-250fps", "gaps-noise", "silence", "quiet", "odd-window")
FALLBACK_CASES = ("sine-440", "gaps-noise", "odd-window")

# Runs the Yin kernel and the op on the blob spec.key [spec.shape] with spec.options on
# spec.backend: the kernel's whole output (f0, confidence, lag, delta), the op's f0Hz and
# confidence, the passes ddspgl ran, and the tensors alive before and after.
_RUN = """async spec => {
  const values = await harness.input(spec.key);
  const before = tf.getBackend();
  await tf.setBackend(spec.backend);
  try {
    const x = tf.tensor(values, spec.shape);
    const tensors = tf.memory().numTensors;
    const passes = ddspgl.stats.passes;
    const full = tf.engine().runKernel('Yin', {x}, spec.options);
    const ran = ddspgl.stats.passes - passes;
    const {f0Hz, confidence} = ddspgl.yin(x, spec.options);
    const out = {full: harness.b64(full.dataSync()), shape: full.shape,
                 f0: harness.b64(f0Hz.dataSync()), confidence: harness.b64(confidence.dataSync()),
                 f0Shape: f0Hz.shape, passes: ran};
    tf.dispose([full, f0Hz, confidence]);
    out.leaked = tf.memory().numTensors - tensors;
    x.dispose();
    return out;
  } finally {
    await tf.setBackend(before);
  }
}"""


@pytest.fixture(scope="module")
def model_dir():
    """No graph model: the host fixture serves nothing extra."""
    return None


def _options(name: str) -> dict:
    kw = yin_suite._kwargs(name)
    names = {"sample_rate": "sampleRate", "frame_length": "frameLength"}
    return {names.get(k, k): v for k, v in kw.items()}


def _call(page, x: np.ndarray, options: dict, backend: str = "webgl"):
    spec = {"key": page.host.put(x), "shape": list(x.shape), "options": options}
    res = page.evaluate(_RUN, {**spec, "backend": backend})
    full = browser.decode(res["full"], res["shape"])
    f0 = browser.decode(res["f0"], res["f0Shape"])
    conf = browser.decode(res["confidence"], res["f0Shape"])
    return full, f0, conf, res


@cache
def _held(host, storage: str, name: str) -> np.ndarray:
    """The case's rows as the kernel's upload holds them, at the input's own scale."""
    x = yin_suite.inputs(name)
    rows = x.reshape(-1, x.shape[-1])
    scale = yin.row_scale(rows)[:, None].astype(np.int32)
    held, how = cumsum_browser.kernel_held(host.page(storage), np.ldexp(rows, scale))
    assert how == "exact", how
    return np.ldexp(held, -scale).reshape(x.shape)


@cache
def _reference(host, storage: str, name: str) -> yin.Analysis:
    return yin.reference(_held(host, storage, name), **yin_suite._kwargs(name))


# -- the bundle -------------------------------------------------------------------------------


def test_bundle_carries_the_yin_glsl(tmp_path):
    for path in emit.emit(tmp_path)[:2]:
        text = path.read_text()
        for body in (yin.BODY_BLOCKS, yin.BODY_DIFFERENCE, yin.BODY_PICK):
            assert f"glsl/{body}" in text
            assert emit.js_literal(resolve(body)) in text, body  # the resolver's text, verbatim


def test_registers_yin(host):
    for storage, page in host.pages.items():
        got = page.evaluate(
            "() => ({kernels: ['webgl', 'cpu', 'wasm'].map(b => tf.getKernel('Yin', b) != null),"
            " listed: ddspgl.kernels.includes('Yin'), op: typeof ddspgl.yin})"
        )
        assert got == {"kernels": [True] * 3, "listed": True, "op": "function"}, storage


# -- the webgl kernel against the float64 reference -------------------------------------------


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("storage", STORAGES)
def test_webgl_within_budget(host, storage, name):
    """Every frame within the GL suite's derived per-frame bound (kernels/yin.deviation),
    the op's f0Hz and confidence the kernel's, three passes, no tensor left behind."""
    analysis = _reference(host, storage, name)
    x = yin_suite.inputs(name)
    full, f0, conf, res = _call(host.page(storage), x, _options(name))
    frames = x.shape[-1] // analysis.cfg.hop
    assert full.shape == (*x.shape[:-1], frames, 4)
    dev = yin.deviation(full, analysis, storage)
    worst = np.unravel_index(np.argmax(dev.ratio), dev.ratio.shape)
    assert dev.inside.all() and dev.ratio.max() <= 1.0, (
        f"{int((~dev.inside).sum())} of {dev.inside.size} frames outside their bound; worst "
        f"frame {worst}: {dev.ratio[worst]:.3g} x its bound, {dev.bound_cents[worst]:.3g} cents"
    )
    np.testing.assert_array_equal(f0, full[..., 0])
    np.testing.assert_array_equal(conf, full[..., 1])
    assert res["passes"] == 3
    assert res["leaked"] == 0


# -- the plain JS fallback --------------------------------------------------------------------


@pytest.mark.parametrize("name", FALLBACK_CASES)
@pytest.mark.parametrize("backend", ["cpu", "wasm"])
def test_js_fallback(host, backend, name):
    """Float64 YIN of the float32 input: inside the float32 kernel's bound everywhere, and
    the reference's own lag on every frame (its decisions are the reference's, up to float64
    ties)."""
    analysis = _reference(host, "float32", name)
    x = yin_suite.inputs(name)
    full, f0, conf, res = _call(host.page("float32"), x, _options(name), backend=backend)
    dev = yin.deviation(full, analysis, "float32")
    assert dev.inside.all() and dev.ratio.max() <= 1.0
    assert dev.same_lag.all()
    np.testing.assert_array_equal(f0, full[..., 0])
    assert res["passes"] == 0 and res["leaked"] == 0


# -- memory -----------------------------------------------------------------------------------


@pytest.mark.parametrize("storage", STORAGES)
def test_no_leak_over_repeated_calls(host, storage):
    """No tensor, data buffer or GPU byte survives a call, over 30 calls after warm-up."""
    x = yin_suite.inputs("vibrato-250fps")[:, :8000]
    got = host.page(storage).evaluate(
        "async spec => { const x = tf.tensor(await harness.input(spec.key), spec.shape);"
        " const once = () => { const {f0Hz, confidence} = ddspgl.yin(x);"
        " f0Hz.dataSync(); tf.dispose([f0Hz, confidence]); };"
        " const snap = () => { const m = tf.memory(); return [m.numTensors, m.numDataBuffers,"
        " m.numBytes, m.numBytesInGPU, m.numBytesInGPUAllocated]; };"
        " for (let i = 0; i < 3; ++i) once(); const before = snap();"
        " for (let i = 0; i < 30; ++i) once(); const after = snap(); x.dispose();"
        " return {before, after}; }",
        {"key": host.put(x), "shape": list(x.shape)},
    )
    assert got["after"] == got["before"]


# -- bad input --------------------------------------------------------------------------------

_X = "tf.zeros([2, 1600])"


def _yin(x=_X, options="{}"):
    return f"ddspgl.yin({x}, {options})"


# Each with the words of kernels/yin.check's message (the JS names: sampleRate, frameLength).
BAD = {
    "x int32": (_yin(x="tf.zeros([1600], 'int32')"), "x must have dtype float32, got int32"),
    "x scalar": (_yin(x="tf.scalar(1)"), "x must have at least one axis"),
    "x empty": (_yin(x="tf.zeros([2, 0])"), "x is empty"),
    "x not a tensor": (_yin(x="'audio'"), "x must be a tensor or an array of numbers"),
    "shorter than a hop": (_yin(x="tf.zeros([63])"), "shorter than one hop (64)"),
    "sampleRate low": (_yin(options="{sampleRate: 999}"), "sampleRate must lie in [1000, 384000]"),
    "sampleRate string": (_yin(options="{sampleRate: '16k'}"), "sampleRate must be a number"),
    "sampleRate NaN": (_yin(options="{sampleRate: NaN}"), "sampleRate must be finite"),
    "hop 0": (_yin(options="{hop: 0}"), "hop must lie in [1, 4096], got 0"),
    "hop float": (_yin(options="{hop: 64.5}"), "hop must be an integer"),
    "frameLength big": (_yin(options="{frameLength: 4097}"), "frameLength must lie in [1, 4096]"),
    "fmin 0": (_yin(options="{fmin: 0}"), "fmin must be > 0 Hz"),
    "fmax under fmin": (_yin(options="{fmin: 300, fmax: 200}"), "fmax must be above fmin (300 Hz)"),
    "fmax above Nyquist": (_yin(options="{fmax: 8001}"), "fmax must be at most sampleRate / 2"),
    "fmin too low": (_yin(options="{fmin: 7}"), "exceeds the longest lag 2048"),
    "threshold 0": (_yin(options="{threshold: 0}"), "threshold must lie in (0, 1]"),
    "threshold 1.5": (_yin(options="{threshold: 1.5}"), "threshold must lie in (0, 1]"),
    "unknown option": (_yin(options="{sample_rate: 8000}"), "unknown option 'sample_rate'"),
    "Infinity": (_yin(x="tf.tensor1d([0, Infinity, 0, 0])", options="{hop: 2}"), "NaN or Inf"),
    "kernel attrs": (
        "tf.engine().runKernel('Yin', {x: tf.zeros([1600])}, {hop: -1})",
        "Yin: hop must lie in [1, 4096], got -1",
    ),
}


@pytest.mark.parametrize("backend", ["webgl", "cpu"])
@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_throws(host, name, backend):
    """Every bad input throws a clear Error naming the argument and the limit, on the webgl
    kernel and the JS fallback alike, and leaves no tensor behind."""
    script, message = BAD[name]
    assert_throws(host.page("float32"), script, message, backend)
