"""Exact inputs in TF.js float16 mode (js/src/exact_upload.js), headless Chromium.

TF.js uploads a tensor the host holds by rendering it into a texture of the backend's float
format, float16 in float16 mode: the input is rounded before any kernel reads it. ddspgl's
webgl kernels upload such float32 inputs themselves into R32F (packed: RGBA32F) textures,
which WebGL 2 samples everywhere, in TF.js's own layout. These tests compare each kernel,
fed values float16 cannot hold, with the float64 reference of the *unrounded* float32
inputs, within the kernel's float16-mode budget; measure the harmonic synthesizer on a 6 s
vibrato with ddspgl's upload and with TF.js's (``ddspgl.setExactUpload(false)``), the latter
against what the float16 rounding of its inputs predicts; and count GL textures: every one
an exact upload makes is deleted by the end of the call, none reaches TF.js's pool.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from needs_chromium import require_chromium

from ddspgl.kernels import cumsum, cumsum_browser, harmonic
from ddspgl.tools import browser

require_chromium()

SR = 16000
HALF_ULP_2PI = 2.0**-22  # float32 half-ulp in [4, 8) rad: the final phase's one rounding


@pytest.fixture(scope="module")
def model_dir():
    """No graph model: the host fixture serves nothing extra."""
    return None


def _exact(page, on: bool) -> bool:
    return page.evaluate("on => ddspgl.setExactUpload(on)", on)


# -- the switch and the layout ----------------------------------------------------------------


def test_exact_upload_applies_in_float16_mode_only(host):
    f16, f32 = host.page("float16"), host.page("float32")
    assert f16.evaluate("() => ddspgl.exactUpload()") is True
    assert f32.evaluate("() => ddspgl.exactUpload()") is False  # TF.js's upload is exact there
    try:
        assert _exact(f16, False) is True
        assert f16.evaluate("() => ddspgl.exactUpload()") is False
        assert _exact(f16, False) is False
    finally:
        _exact(f16, True)
    assert f16.evaluate("() => ddspgl.exactUpload()") is True


@pytest.mark.parametrize("bad", ["1", "null", "'yes'", "NaN"])
def test_set_exact_upload_rejects(host, bad):
    page = host.page("float16")
    got = page.evaluate(
        f"() => {{ try {{ ddspgl.setExactUpload({bad}); }}"
        " catch (e) { return e.message; } return null; }"
    )
    assert got is not None and got.startswith("setExactUpload: on must be true or false, got")
    assert page.evaluate("() => ddspgl.exactUpload()") is True


# Shapes through every branch of TF.js's rule: kept, folded, squeezed, narrow, near-square.
LAYOUT_SHAPES = [
    [], [1], [5], [1, 7], [3, 1], [2, 3, 5], [1000], [1, 64000], [2, 64000], [2, 1000, 100],
    [7, 3, 1, 5], [100000], [3, 1, 300000], [2, 3, 4, 5], [1, 1, 9], [40, 40, 40],
]  # fmt: skip


def test_texture_shape_is_tfjs(host):
    """ddspgl's texture shapes are tfjs-backend-webgl's own (webgl_util, in tf.min.js) for
    the 3-D view TF.js uploads, packed and unpacked, with TF.js's narrow-texture setting,
    the 64 the cumsum uses, and a texture size limit of 256 (fold and near-square paths)."""
    got = host.page("float16").evaluate(
        """shapes => { const env = tf.env(); const out = [];
        const flags = ['WEBGL_MAX_SIZE_FOR_NARROW_TEXTURE', 'WEBGL_MAX_TEXTURE_SIZE'];
        const before = flags.map(f => env.get(f));
        try {
          for (const [narrow, max] of [[before[0], before[1]], [64, before[1]], [before[0], 256]]) {
            env.set(flags[0], narrow); env.set(flags[1], max);
            for (const s of shapes) for (const packed of [false, true]) {
              const ours = ddspgl._textureShape(s, packed);
              const theirs = tf.webgl_util.getTextureShapeFromLogicalShape(
                  tf.webgl_util.getShapeAs3D(s), packed);
              out.push({s, packed, narrow, max, ours, theirs}); } }
        } finally { flags.forEach((f, i) => env.set(f, before[i])); }
        return out; }""",
        LAYOUT_SHAPES,
    )
    assert len(got) == 3 * 2 * len(LAYOUT_SHAPES)
    wrong = [row for row in got if row["ours"] != row["theirs"]]
    assert wrong == []


# -- values survive: each kernel against float64 of the unrounded inputs -----------------------

_CUMSUM = """async spec => {
  const before = ddspgl.setExactUpload(spec.exact);
  try {
    const x = tf.tensor(await harness.input(spec.key), spec.shape);
    const y = ddspgl.wrappedCumsum(x, {period: 1});
    const out = harness.b64(y.dataSync());
    tf.dispose([x, y]);
    return out;
  } finally { ddspgl.setExactUpload(before); }
}"""


def _cumsum_input(shape) -> np.ndarray:
    """Increments float16 cannot hold: random float16 numbers in [0.25, 0.5) (spacing
    2^-13) plus 0.4 of that spacing, which a float16 upload drops (rounding to nearest or
    toward zero alike): 4.9e-5 periods a sample, a drift the sum accumulates."""
    rng = np.random.default_rng(int(np.prod(shape)))
    grid = 0.25 + rng.integers(0, 2048, shape) * 2.0**-13
    return (grid + 0.4 * 2.0**-13).astype(np.float32)


@pytest.mark.parametrize("shape", [(2, 4001), (2, 3, 1001), (1, 20000)], ids=str)
def test_wrapped_cumsum_values_survive(host, shape):
    """Exact upload: within the float16 budget of the float64 cumsum of x itself. TF.js's
    upload (switch off): within the same budget of the cumsum of x as TF.js holds it, and
    out of budget against x itself, by what the rounding predicts."""
    page = host.page("float16")
    x = _cumsum_input(shape)
    n = shape[-1]
    budget = cumsum.budget("float16", n, np.float32(1))
    ref = cumsum.reference(x, period=np.float32(1))
    xs, how = cumsum_browser.held(page, x)
    assert how != "exact"  # float16 mode: TF.js's upload rounds
    ref_held = cumsum.reference(xs, period=np.float32(1))
    predicted = cumsum.error(ref_held, ref, x, 1.0)  # the rounding alone, in float64
    assert predicted > 4 * budget  # the comparison below can tell the two uploads apart
    runs = {}
    for on in (True, False):  # a blob is served once
        spec = {"key": host.put(x), "shape": list(shape), "exact": on}
        runs[on] = browser.decode(page.evaluate(_CUMSUM, spec), shape)
    exact, stock = runs[True], runs[False]
    assert cumsum.error(exact, ref, x, 1.0) <= budget
    assert cumsum.error(stock, ref_held, xs, 1.0) <= budget
    assert abs(cumsum.error(stock, ref, x, 1.0) - predicted) <= budget


def _harmonic_spec(f0, amp, dist, **options) -> dict:
    return {
        "f0": f0,
        "amplitude": amp,
        "dist": dist,
        "frames": list(f0.shape),
        "k": dist.shape[2],
        "options": {"sampleRate": SR, "nSamples": f0.shape[1] * 64, **options},
    }


def _harmonic(page, spec: dict, exact: bool = True):
    before = _exact(page, exact)
    try:
        res = page.call("harmonic", spec)
    finally:
        _exact(page, before)
    return [browser.decode(o["b64"], o["shape"]) for o in res["outputs"]]


def _small_controls():
    """Two rows (a steady 220 Hz + 2^-10, a glide crossing Nyquist), 50 frames, K = 21:
    f0, amplitudes and weights float16 cannot hold."""
    rng = np.random.default_rng(15)
    frames, k = 50, 21
    f0 = np.stack([np.full(frames, 220.0 + 2.0**-10), np.geomspace(100.0, 3000.0, frames)])
    amp = rng.uniform(0.2, 0.9, (2, frames))
    dist = rng.uniform(0.05, 1.0, (2, frames, k))
    return tuple(a.astype(np.float32) for a in (f0, amp, dist))


def test_harmonic_values_survive(host):
    """Exact upload: every sample within 2^-11 max|reference| (kernels/harmonic.py
    FLOAT16_BUDGET) of the float64 synthesis of the unrounded float32 controls."""
    f0, amp, dist = _small_controls()
    assert not np.array_equal(f0, f0.astype(np.float16).astype(np.float32))
    (out,) = _harmonic(host.page("float16"), _harmonic_spec(f0, amp, dist))
    ref, amb = harmonic.reference(f0, amp, dist, sample_rate=SR, n_samples=f0.shape[1] * 64)
    assert harmonic.max_error(out, ref, amb) <= harmonic.FLOAT16_BUDGET


def test_harmonic_gpu_resident_and_mixed_inputs(host):
    """An f0 that is the output of another op (on the GPU, float16 already) is read as it
    is, beside amplitudes and weights the host holds (uploaded exactly): within budget of
    the synthesis of f0 as TF.js holds it and the other controls unrounded; the values
    only the GPU holds take the kernel's GPU checks (Min and Max over the exact copies)."""
    page = host.page("float16")
    f0, amp, dist = _small_controls()
    f0_held, _ = cumsum_browser.held(page, f0)
    got = page.evaluate(
        """async spec => {
          const [b, f] = spec.frames;
          const x = tf.tensor(await harness.input(spec.f0), [b, f]);
          const f0 = tf.tidy(() => tf.mul(x, 1));
          const amp = tf.tensor(await harness.input(spec.amp), [b, f]);
          const dist = tf.tensor(await harness.input(spec.dist), [b, f, spec.k]);
          const y = ddspgl.harmonicSynth(f0, amp, dist, {nSamples: f * 64});
          const out = harness.b64(y.dataSync());
          tf.dispose([x, f0, amp, dist, y]);
          return out; }""",
        {"f0": host.put(f0), "amp": host.put(amp), "dist": host.put(dist),
         "frames": list(f0.shape), "k": dist.shape[2]},
    )  # fmt: skip
    n = f0.shape[1] * 64
    out = browser.decode(got, (2, n))
    ref, amb = harmonic.reference(f0_held, amp, dist, sample_rate=SR, n_samples=n)
    assert harmonic.max_error(out, ref, amb) <= harmonic.FLOAT16_BUDGET


# -- the measurement: a 6 s vibrato ------------------------------------------------------------

VIBRATO_FRAMES = 1500  # 6 s at 250 frames/s, hop 64 at 16 kHz: 96000 samples
VIBRATO_K = 60


def _vibrato():
    """220 Hz +-1% at 5.5 Hz for 6 s, 250 frames/s; amplitude 0.5; weights 1/k, K = 60."""
    t = np.arange(VIBRATO_FRAMES) / 250.0
    f0 = (220.0 * (1.0 + 0.01 * np.sin(2 * np.pi * 5.5 * t)))[None, :]
    amp = np.full((1, VIBRATO_FRAMES), 0.5)
    dist = np.broadcast_to(1.0 / np.arange(1, VIBRATO_K + 1), (1, VIBRATO_FRAMES, VIBRATO_K))
    return tuple(np.ascontiguousarray(a, np.float32) for a in (f0, amp, dist))


def _fundamental_cycles(f0: np.ndarray, hop: int = 64) -> tuple[np.ndarray, Fraction]:
    """(the fundamental's phase in cycles at every sample, float64; its exact total at the
    last sample): DDSP's inclusive running sum of the 'linear'-upsampled f0 over the sample
    rate, the last frame held."""
    a = f0[0].astype(np.float64)
    b = np.append(a[1:], a[-1])
    r = np.arange(hop)
    f = (a[:, None] * (hop - r) + b[:, None] * r) / hop  # [frames, hop]
    cycles = np.cumsum(f.ravel()) / SR
    total = sum(
        (Fraction(float(x)) * (hop + 1) + Fraction(float(y)) * (hop - 1)) / 2
        for x, y in zip(a, b, strict=True)
    ) / SR  # fmt: skip
    return cycles, total


def _phase_distance(radians: float, cycles: Fraction) -> float:
    """Circular distance in radians between a float32 phase and an exact one in cycles."""
    exact = float(cycles - math.floor(cycles)) * 2 * np.pi
    d = abs(float(radians) - exact) % (2 * np.pi)
    return min(d, 2 * np.pi - d)


def test_vibrato_exact_against_tfjs_upload(host):
    """The issue's measurement, float16 mode: a 6 s vibrato (16 kHz, 250 frames/s, 220 Hz
    +-1% at 5.5 Hz, K = 60) with ddspgl's upload and with TF.js's, against the float64
    synthesis of the exact float32 controls.

    - ddspgl's: every sample within FLOAT16_BUDGET (2^-11 max|reference|); the
      fundamental's final phase within one float32 rounding (2^-22 rad) of the exact sum
      of f0 (the kernel's phase is exact residue arithmetic: kernels/harmonic.py, item 1).
    - TF.js's: the controls as its upload holds them (read back) predict the error. The
      kernel is within its budget of their synthesis, so by the triangle inequality its
      error against the exact controls' lies within FLOAT16_BUDGET max|held ref| /
      max|ref| of the predicted one; and its final phase within 2^-22 rad of the exact
      sum of the rounded f0.
    """
    page = host.page("float16")
    f0, amp, dist = _vibrato()
    n = VIBRATO_FRAMES * 64
    held = tuple(cumsum_browser.held(page, a)[0] for a in (f0, amp, dist))
    spec = _harmonic_spec(f0, amp, dist, returnFinalPhase=True)
    exact_out, exact_phase = _harmonic(page, spec, exact=True)
    tfjs_out, tfjs_phase = _harmonic(page, spec, exact=False)
    ref, amb = harmonic.reference(f0, amp, dist, sample_rate=SR, n_samples=n)
    ref_held, _ = harmonic.reference(*held, sample_rate=SR, n_samples=n)
    cycles, total = _fundamental_cycles(f0)
    cycles_held, total_held = _fundamental_cycles(held[0])

    exact_err = harmonic.max_error(exact_out, ref, amb)
    tfjs_err = harmonic.max_error(tfjs_out, ref, amb)
    predicted = harmonic.max_error(ref_held, ref, amb)
    drift = float(np.abs(cycles_held - cycles).max())  # the fundamental, cycles
    scale = float(np.abs(ref_held).max()) / float(np.abs(ref).max())
    print(
        f"\n6 s vibrato, K = {VIBRATO_K}, float16 mode: max error / max|ref|: exact upload "
        f"{exact_err:.3e}, TF.js upload {tfjs_err:.3e} (predicted by the float16 rounding "
        f"of the controls {predicted:.3e}); SNR {harmonic.snr_db(exact_out, ref, amb):.1f} dB"
        f" vs {harmonic.snr_db(tfjs_out, ref, amb):.1f} dB; the fundamental's phase drift "
        f"from f0's rounding, largest {drift:.3e} cycles; final phase error "
        f"{_phase_distance(exact_phase[0, 0], total):.3e} rad vs "
        f"{_phase_distance(tfjs_phase[0, 0], total):.3e} rad"
    )
    assert exact_err <= harmonic.FLOAT16_BUDGET
    assert _phase_distance(exact_phase[0, 0], total) <= HALF_ULP_2PI + 2.0**-40
    assert abs(tfjs_err - predicted) <= harmonic.FLOAT16_BUDGET * scale
    assert _phase_distance(tfjs_phase[0, 0], total_held) <= HALF_ULP_2PI + 2.0**-40
    assert predicted > 2 * harmonic.FLOAT16_BUDGET  # TF.js's upload: out of budget


# -- GL objects -------------------------------------------------------------------------------

# Counts the GL textures created and deleted while spec.calls calls of `once` run (after
# spec.warmup that fill TF.js's pool), on fresh tensors of host values each call (GPU
# resident with spec.gpu: tf.mul by 1 first); checks TF.js's pooled textures are all
# alive GL textures, and reports the tensors and TF.js's bytes before and after.
_COUNT = """async spec => {
  const gl = tf.backend().gpgpu.gl;
  const create = gl.createTexture, remove = gl.deleteTexture;
  const alive = new Set();
  let created = 0;
  gl.createTexture = function() { const t = create.call(gl); alive.add(t); created++; return t; };
  gl.deleteTexture = function(t) { alive.delete(t); return remove.call(gl, t); };
  const blobs = await Promise.all(spec.keys.map(k => harness.input(k)));
  const once = () => {
    const xs = blobs.map((b, i) => tf.tensor(b, spec.shapes[i]));
    const ins = spec.gpu ? tf.tidy(() => xs.map(x => tf.mul(x, 1))) : xs;
    const y = KERNEL;
    y.dataSync();
    tf.dispose([...xs, ...ins, y]);
  };
  try {
    for (let i = 0; i < spec.warmup; ++i) once();
    const before = tf.memory();
    created = 0;
    alive.clear();
    for (let i = 0; i < spec.calls; ++i) once();
    const after = tf.memory();
    const tm = tf.backend().textureManager;
    const pooled = [...Object.values(tm.freeTextures), ...Object.values(tm.usedTextures)].flat();
    return {created, alive: alive.size, pooledAlive: pooled.every(t => gl.isTexture(t.texture)),
            tensors: [before.numTensors, after.numTensors],
            bytes: [before.numBytesInGPUAllocated, after.numBytesInGPUAllocated]};
  } finally { gl.createTexture = create; gl.deleteTexture = remove; }
}"""

# kernel: (its call on the inputs `ins`, input shapes, exact uploads per call)
KERNELS = {
    "wrappedCumsum": ("ddspgl.wrappedCumsum(ins[0], {period: 1})", [[2, 3, 1001]], 1),
    "harmonicSynth": (
        "ddspgl.harmonicSynth(ins[0], ins[1], ins[2], {nSamples: 3200})",
        [[2, 50], [2, 50], [2, 50, 21]],
        3,
    ),
    "filteredNoise": ("ddspgl.filteredNoise(ins[0], {nSamples: 3200})", [[2, 50, 33]], 1),
    "yin": ("tf.engine().runKernel('Yin', {x: ins[0]}, {})", [[2, 4000]], 1),
}


@pytest.mark.parametrize("gpu", [False, True], ids=["host-inputs", "gpu-inputs"])
@pytest.mark.parametrize("name", list(KERNELS))
def test_no_texture_leak(host, name, gpu):
    """Over repeated calls every texture an exact upload makes is deleted within the call
    (with host inputs: exactly one per input per call; with GPU-resident inputs none,
    except Yin's, which reads x back and uploads its scaled rows); TF.js's pool keeps
    only live textures; no tensor or pooled byte is left behind."""
    call, shapes, per_call = KERNELS[name]
    rng = np.random.default_rng(3)
    arrays = [rng.uniform(0.1, 0.9, s).astype(np.float32) for s in shapes]
    if name == "harmonicSynth":
        arrays[0] = np.full(shapes[0], 220.0 + 2.0**-10, np.float32)
    spec = {"keys": [host.put(a) for a in arrays], "shapes": shapes, "gpu": gpu,
            "warmup": 3, "calls": 20}  # fmt: skip
    got = host.page("float16").evaluate(_COUNT.replace("KERNEL", call), spec)
    uploads = 1 if name == "yin" else (0 if gpu else per_call)
    assert got["created"] == spec["calls"] * uploads, got
    assert got["alive"] == 0 and got["pooledAlive"], got
    assert got["tensors"][0] == got["tensors"][1] and got["bytes"][0] == got["bytes"][1], got
