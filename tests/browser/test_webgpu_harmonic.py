"""HarmonicSynth on TF.js's webgpu backend (WGSL compute shaders) in headless Chromium.

Chromium's WebGPU runs on SwiftShader here (tools/browser.py, WEBGPU_ARGS). The kernel is
held to kernels/harmonic.py's float32 budget (SNR >= 100 dB) against the float64
reference, on the harmonic browser suite's cases (kernels/harmonic_browser.py) and the
webgl tests' shapes; its final phases to the JS fallback's within two float32 half-ulps,
its initial-phase conversion to the exact residue. Bad input throws as on webgl where the
host holds the values; values only the GPU holds make their batch rows NaN. The module
skips only where the browser has no WebGPU adapter.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from bad_inputs import CASES as BAD_TABLE
from needs_chromium import require_chromium
from test_bad_inputs_bundle import JS_NAMES, RUN_CASE, assert_refused
from test_harmonic_bundle import BAD, SHAPES, SR, _circular, _fallback_bound, _inputs
from thrown import assert_throws
from webgpu_host import webgpu_host

from ddspgl.harness.shader import resolve
from ddspgl.kernels import harmonic, harmonic_browser, harmonic_webgpu, manifest
from ddspgl.tools import browser
from graph_model import harmonic_nodes, save_graph_model

require_chromium()

MASK = 0xFFFFFFFF


@pytest.fixture(scope="module")
def gpu(tmp_path_factory):
    """A webgpu page serving a graph model with a HarmonicSynth node; a skip naming the
    reason where Chromium gives no WebGPU adapter."""
    folder = tmp_path_factory.mktemp("harmonic_model")
    _graph_model(folder)
    yield from webgpu_host(folder)


def _page(gpu):
    return gpu.page("float32")


def _graph_model(folder):
    s = SHAPES["small"]
    save_graph_model(folder, harmonic_nodes(s.batch, s.frames, s.harmonics, s.hop, SR))


def _reference(name: str, add_endpoint: bool = True, normalize: bool = True):
    xs = _inputs(name)
    s = SHAPES[name]
    n = (s.frames if add_endpoint else s.frames - 1) * s.hop
    kw = dict(sample_rate=SR, n_samples=n, add_endpoint=add_endpoint)
    ref, amb = harmonic.reference(*xs, normalize=normalize, **kw)
    return xs, ref, amb


def _call(page, xs, initial_phase=None, nSamples=None, **options):  # noqa: N803 (JS name)
    """ddspgl.harmonicSynth on the webgpu page: (outputs, record)."""
    return harmonic_browser.call(page, "harmonic", xs, SR, nSamples, initial_phase, **options)


def _call_on(page, xs, backend, initial_phase=None, **options):
    f0, amp, dist = xs
    spec = {
        "f0": f0,
        "amplitude": amp,
        "dist": dist,
        "frames": list(f0.shape),
        "k": dist.shape[2],
        "backend": backend,
        "options": {"sampleRate": SR, **options},
    }
    if initial_phase is not None:
        spec["initialPhase"] = np.asarray(initial_phase, np.float32)
    res = page.call("harmonic", spec)
    return [browser.decode(o["b64"], o["shape"]) for o in res["outputs"]], res


def _snr_ok(out, ref, amb):
    snr = harmonic.snr_db(out, ref, amb)
    assert snr >= harmonic.SNR_BUDGET_DB, f"SNR {snr:.1f} dB < {harmonic.SNR_BUDGET_DB} dB"
    return snr


# -- the bundle -------------------------------------------------------------------------------


def test_registers_the_webgpu_kernel(gpu):
    got = _page(gpu).evaluate(
        "() => ({backend: tf.getBackend(),"
        " kernels: ['webgl', 'webgpu', 'cpu', 'wasm'].map("
        "b => tf.getKernel('HarmonicSynth', b) != null)})"
    )
    assert got == {"backend": "webgpu", "kernels": [True] * 4}
    assert set(manifest.get("harmonic").wgsl) == {
        "harmonic_frames",
        "harmonic_scan",
        "harmonic_amplitudes",
        "harmonic_audio",
        "harmonic_final_phase",
    }


def test_inverse_two_pi_words_and_split():
    """The host's bits of 1/(2 pi) and the split of 2 pi 2^-16, against pi from an
    independent series (the decimal module's recipe, 90 digits)."""
    import decimal

    with decimal.localcontext() as c:
        c.prec = 90
        three = decimal.Decimal(3)
        lasts, t, s, n, na, d, da = 0, three, 3, 1, 0, 0, 24
        while s != lasts:
            lasts = s
            n, na = n + na, na + 8
            d, da = d + da, da + 32
            t = (t * n) / d
            s += t
        pi = Fraction(s)
    words = harmonic_webgpu.INV_TWO_PI_WORDS
    value = sum(Fraction(w, 1 << (32 * (i + 1))) for i, w in enumerate(words))
    assert 0 <= 1 / (2 * pi) - value < Fraction(1, 1 << 224) + Fraction(1, 10**85)
    hi, lo, c32 = harmonic_webgpu.TWO_PI_SPLIT
    m, _ = math.frexp(hi)
    assert (m * 2**8).is_integer()  # 8 significant bits: q_h * hi is exact for q_h < 2^16
    assert abs(Fraction(hi) + Fraction(lo) - 2 * pi / (1 << 16)) < Fraction(1, 1 << 45)
    assert np.float32(lo) == lo and np.float32(c32) == c32
    assert abs(Fraction(c32) - 2 * pi / (1 << 32)) <= Fraction(c32) * 2**-24


def test_sin_two_pi_on_the_gpu(gpu):
    """glsl/wgsl/lib/sin_two_pi.wgsl on the GPU on a dense grid of [-1/2, 1/2] periods (and
    the fold points): within harmonic.SIN_ERROR of float64, the error analysis' term 3."""
    x = np.concatenate(
        [np.linspace(-0.5, 0.5, 2**18 + 1), [0.25, -0.25, np.nextafter(0.25, 1), 1e-30]]
    ).astype(np.float32)
    code = resolve(harmonic_webgpu.WGSL_SIN) + (
        "\nfn main(index: i32) { if (index < uniforms.size) {"
        " result[index] = sin_two_pi4(vec4<f32>(x[index])).x; } }"
    )
    got = _page(gpu).evaluate(
        """async spec => {
          const x = tf.tensor(await harness.input(spec.key));
          const program = {variableNames: ['x'], outputShape: x.shape,
            shaderKey: 'ddspgl_test_sin_two_pi', dispatchLayout: {x: [0]},
            dispatch: [Math.ceil(x.size / 64), 1, 1], workgroupSize: [64, 1, 1], size: true,
            getUserCode: () => spec.code};
          const y = tf.engine().makeTensorFromTensorInfo(
              tf.backend().runWebGPUProgram(program, [x], 'float32'));
          const out = harness.b64(await y.data());
          tf.dispose([x, y]);
          return out;
        }""",
        {"key": gpu.put(x), "code": code},
    )
    err = np.abs(browser.decode(got, x.shape) - np.sin(2 * np.pi * x.astype(np.float64)))
    assert err.max() <= harmonic.SIN_ERROR, err.max()


def test_residues_become_fractions_on_the_gpu(gpu):
    """harmonic_phase.wgsl's res_to_fraction on the GPU: for residues r of moduli p across
    [2^43, 2^44) (2^43 itself, where M = 2^97, and 2^44 - 1 included), r 2^96 / p less the
    96-bit fraction is in [0, 2) units of 2^-96 cycles, the bound its comment derives (M's
    floor and the product's), exact in Python integers."""
    rng = np.random.default_rng(7)
    moduli = [1 << 43, (1 << 44) - 1, 16000 * 64 << 23, 44100 * 512 << 15]
    moduli += [int(p) for p in rng.integers(1 << 43, 1 << 44, 4)]
    rows = []
    for p in moduli:
        m = (1 << 140) // p
        picks = [0, 1, p - 1, p // 2, *(int(r) for r in rng.integers(0, p, 2000))]
        rows += [[r & MASK, r >> 32, *((m >> s) & MASK for s in (0, 32, 64, 96))] for r in picks]
    words = np.array(rows, np.uint64).astype(np.uint32).view(np.int32)
    code = resolve(harmonic_webgpu.WGSL_PHASE) + (
        "\nfn main(index: i32) { if (index < uniforms.size / 3) {"
        " let o = 6 * index;"
        " let r = vec2<u32>(bitcast<u32>(x[o]), bitcast<u32>(x[o + 1]));"
        " let m = bitcast<vec4<u32>>(vec4<i32>(x[o + 2], x[o + 3], x[o + 4], x[o + 5]));"
        " let f = bitcast<vec3<i32>>(res_to_fraction(r, m));"
        " result[3 * index] = f.x; result[3 * index + 1] = f.y; result[3 * index + 2] = f.z;"
        " } }"
    )
    got = _page(gpu).evaluate(
        """async spec => {
          const x = tf.tensor(new Int32Array((await harness.input(spec.key)).buffer),
                              undefined, 'int32');
          const rows = x.size / 6;
          const program = {variableNames: ['x'], outputShape: [rows, 3],
            shaderKey: 'ddspgl_test_res_to_fraction', dispatchLayout: {x: [0, 1]},
            dispatch: [Math.ceil(rows / 64), 1, 1], workgroupSize: [64, 1, 1], size: true,
            uniforms: 'invTwoPiA : vec4<u32>, invTwoPiB : vec4<u32>,',
            getUserCode: () => spec.code};
          const y = tf.engine().makeTensorFromTensorInfo(tf.backend().runWebGPUProgram(
              program, [x], 'int32',
              [{type: 'uint32', data: [0, 0, 0, 0]}, {type: 'uint32', data: [0, 0, 0, 0]}]));
          const out = harness.b64(await y.data());
          tf.dispose([x, y]);
          return out;
        }""",
        {"key": gpu.put(words.view(np.float32)), "code": code},
    )
    out = browser.decode(got, (len(rows), 3)).view(np.uint32)
    i = 0
    for p in moduli:
        for _ in range(4 + 2000):
            r = rows[i][0] | rows[i][1] << 32
            fraction = int(out[i, 0]) | int(out[i, 1]) << 32 | int(out[i, 2]) << 64
            assert 0 <= (r << 96) - fraction * p < 2 * p, (p, r, fraction)
            i += 1


# -- precision: the browser suite's cases and the webgl tests' shapes ---------------------------

PRECISION_CASES = [c for c in harmonic_browser.cases(quick=True) if c.storage == "float32"]


@pytest.mark.parametrize("case", PRECISION_CASES, ids=lambda c: c.id)
def test_precision(gpu, case):
    result = case.run(gpu)
    assert result.ok, f"error {result.error:.3e} {result.unit} > budget {result.budget:.3e}"
    assert result.passes == (5 * 16 if "blocks" in case.id else 4)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_within_budget_four_dispatches(gpu, shape):
    xs, ref, amb = _reference(shape)
    (out,), res = _call(_page(gpu), xs, nSamples=ref.shape[1])
    assert out.shape == ref.shape
    _snr_ok(out, ref, amb)
    assert res["passes"] == 4 and res["programs"] == 4


def test_unnormalized(gpu):
    xs, ref, amb = _reference("small", normalize=False)
    (out,), _ = _call(_page(gpu), xs, nSamples=ref.shape[1], normalize=False)
    _snr_ok(out, ref, amb)


def test_blocks_continue_with_final_phase(gpu):
    """Two calls joined by finalPhase -> initialPhase render the same audio as one. The
    final phases are within two float32 half-ulps (2^-22 rad each) of the JS fallback's
    (float64 of exact frame sums, rounded once), plus one residue unit where an initial
    phase was converted (2 pi 2^-44 rad)."""
    page = _page(gpu)
    s = SHAPES["small"]
    xs, ref, amb = _reference("small")
    cut = s.frames // 2 + 3
    first = tuple(a[:, : cut + 1] for a in xs)
    second = tuple(a[:, cut:] for a in xs)
    kw = dict(returnFinalPhase=True)
    n1 = cut * s.hop
    (y1, phase1), res = _call(page, first, nSamples=n1, addEndpoint=False, **kw)
    assert res["passes"] == 5
    (_, cpu_phase1), _ = _call_on(page, first, "cpu", nSamples=n1, addEndpoint=False, **kw)
    assert phase1.shape == (s.batch, s.harmonics)
    assert _circular(phase1, cpu_phase1).max() <= 2 * 2.0**-22
    n2 = (s.frames - cut) * s.hop
    (y2, phase2), _ = _call(page, second, initial_phase=phase1, nSamples=n2, **kw)
    (_, cpu_phase2), _ = _call_on(page, second, "cpu", initial_phase=phase1, nSamples=n2, **kw)
    assert _circular(phase2, cpu_phase2).max() <= 2 * 2.0**-22 + 2 * np.pi * 2.0**-44
    _snr_ok(np.concatenate([y1, y2], axis=1), ref, amb)


def test_blocks_chained_on_the_gpu(gpu):
    """The second block's initial phase is the first block's finalPhase tensor as it is,
    only on the GPU: converted there, the joined audio is inside the budget."""
    s = SHAPES["small"]
    xs, ref, amb = _reference("small")
    cut = s.frames // 2 + 3
    page = _page(gpu)
    got = page.evaluate(
        """async spec => {
          const [b, f, k] = spec.shape;
          const all = {f0: tf.tensor(await harness.input(spec.f0), [b, f]),
                       amp: tf.tensor(await harness.input(spec.amp), [b, f]),
                       dist: tf.tensor(await harness.input(spec.dist), [b, f, k])};
          const block = (lo, hi) => [tf.slice(all.f0, [0, lo], [b, hi - lo]),
                                     tf.slice(all.amp, [0, lo], [b, hi - lo]),
                                     tf.slice(all.dist, [0, lo, 0], [b, hi - lo, k])];
          const [f1, a1, d1] = block(0, spec.cut + 1);
          const [audio1, phase1] = ddspgl.harmonicSynth(f1, a1, d1, {
              nSamples: spec.cut * spec.hop, addEndpoint: false, returnFinalPhase: true});
          const onGPU = tf.backend().tensorMap.get(phase1.dataId).values == null;
          const [f2, a2, d2] = block(spec.cut, f);
          const audio2 = ddspgl.harmonicSynth(f2, a2, d2, {
              nSamples: (f - spec.cut) * spec.hop, initialPhase: phase1});
          const out = tf.concat([audio1, audio2], 1);
          const values = await out.data();
          tf.dispose([...Object.values(all), f1, a1, d1, f2, a2, d2, audio1, phase1, audio2,
                      out]);
          return {b64: harness.b64(values), onGPU};
        }""",
        {
            "f0": gpu.put(xs[0]),
            "amp": gpu.put(xs[1]),
            "dist": gpu.put(xs[2]),
            "shape": [s.batch, s.frames, s.harmonics],
            "cut": cut,
            "hop": s.hop,
        },
    )
    assert got["onGPU"]
    _snr_ok(browser.decode(got["b64"], ref.shape), ref, amb)


def _exact_residue(x: float, p: int) -> int:
    """round(x p / (2 pi)) mod p, from pi to 2^-300."""
    v = Fraction(float(x)) * p / (2 * harmonic_webgpu.pi_fraction(300))
    return round(v) % p


def test_initial_phases_convert_exactly(gpu):
    """With f0 = 0 the final phase is the initial phase's residue in radians: within half
    an ulp + 2^-28 rad (harmonic_residue_to_radians) + one residue unit of 2 pi r / p, r the
    exact nearest residue of x p / (2 pi), for radians from subnormal to float32's largest,
    both signs (Payne-Hanek reduction on the GPU: a float32 reduction would be off by whole
    periods beyond 2^24 rad)."""
    k = 128
    special = [0.0, -0.0, 1e-45, -1e-45, 1e-38, 3e-20, 1e-7, 0.5, 1.0, 3.0, np.pi, -np.pi,
               2 * np.pi, 6.2831855, 7.0, -7.0, 100.0, 1e4, 12345.678, 1e10, -1e10, 3e20,
               1e30, -1e35, 3.4028235e38, -3.4028235e38]  # fmt: skip
    rng = np.random.default_rng(17)
    rand = rng.uniform(-1, 1, 2 * k - len(special)) * 10.0 ** rng.uniform(
        -30, 38, 2 * k - len(special)
    )
    phase0 = np.concatenate([special, rand]).astype(np.float32).reshape(2, k)
    frames = 2
    xs = (
        np.zeros((2, frames), np.float32),
        np.full((2, frames), 0.5, np.float32),
        np.ones((2, frames, k), np.float32),
    )
    (_, phase), _ = _call(
        _page(gpu), xs, initial_phase=phase0, nSamples=frames * 2, returnFinalPhase=True
    )
    mod = harmonic.phase_modulus(np.float32(SR), 2)
    p = mod.p
    two_pi = 2 * harmonic_webgpu.pi_fraction(300)
    for x, got in zip(phase0.ravel(), phase.ravel(), strict=True):
        r = _exact_residue(x, p)
        want = float(two_pi * r / p)
        ulp = float(np.spacing(np.float32(want))) if want else 2.0**-149
        step = float(two_pi / p)  # one residue unit, in radians
        diff = abs(float(got) - want)
        diff = min(diff, abs(diff - float(two_pi)))  # r = 0 may come out as 2 pi
        assert diff <= ulp / 2 + 2.0**-28 + step, (float(x), float(got), want)


def test_graph_model_op(gpu):
    page = _page(gpu)
    s = SHAPES["small"]
    xs, ref, amb = _reference("small")
    got = page.evaluate(
        "async spec => { const [b, f, k] = spec.shape;"
        " const f0 = tf.tensor(await harness.input(spec.f0), [b, f]);"
        " const amp = tf.tensor(await harness.input(spec.amp), [b, f]);"
        " const dist = tf.tensor(await harness.input(spec.dist), [b, f, k]);"
        " const model = await tf.loadGraphModel('/extra/model.json');"
        " const y = model.execute({f0, amplitude: amp, dist}); const out = {b64:"
        " harness.b64(await y.data()), shape: y.shape};"
        " tf.dispose([f0, amp, dist, y]); model.dispose(); return out; }",
        {
            "f0": gpu.put(xs[0]),
            "amp": gpu.put(xs[1]),
            "dist": gpu.put(xs[2]),
            "shape": [s.batch, s.frames, s.harmonics],
        },
    )
    _snr_ok(browser.decode(got["b64"], got["shape"]), ref, amb)


def test_js_fallback_from_the_webgpu_page(gpu):
    """The cpu backend's float64 fallback, switched to from the webgpu page and back."""
    page = _page(gpu)
    xs, ref, amb = _reference("small")
    (out,), res = _call_on(page, xs, "cpu", nSamples=ref.shape[1])
    assert res["passes"] == 0
    assert np.all(harmonic.deviation(out, ref, amb) <= _fallback_bound(xs, ref, ref.shape[1]))
    assert page.evaluate("() => tf.getBackend()") == "webgpu"


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_throws_as_on_webgl(gpu, name):
    script, message = BAD[name]
    assert_throws(_page(gpu), script, message)


# The shared table's harmonic cases that float32 refuses in the bundle, given as plain arrays
# (held on the host: checked there, as on webgl), run on the webgpu page.
assert RUN_CASE.count("await tf.setBackend('webgl');") == 1
RUN_CASE_WEBGPU = RUN_CASE.replace("await tf.setBackend('webgl');", "")
TABLE = [
    c
    for c in BAD_TABLE
    if c["op"] == "harmonic_synth" and "bundle" in c["hosts"] and "float32" in c["storages"]
]


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c["id"])
def test_table_bad_input_is_refused_as_on_webgl(gpu, case):
    got = _page(gpu).evaluate(RUN_CASE_WEBGPU, [case, JS_NAMES, "webgpu"])
    assert_refused(got, case)


# Runs the synthesizer twice on two batch rows, on the GPU only (each control the output of
# x + 0): on good controls, and with `bad` of row 0 set to `value`.
HARMONIC_ON_GPU = """async ([bad, value]) => {
  const frames = 10, k = 4;
  const controls = () => ({
    f0: Array.from({length: 2}, () => Array(frames).fill(220)),
    amplitude: Array.from({length: 2}, () => Array(frames).fill(0.5)),
    harmonicDistribution: Array.from({length: 2}, () =>
        Array.from({length: frames}, () => Array(k).fill(1))),
    initialPhase: Array.from({length: 2}, () => Array(k).fill(1.5)),
  });
  const run = async c => {
    const names = ['f0', 'amplitude', 'harmonicDistribution', 'initialPhase'];
    const ts = names.map(name => tf.tensor(c[name]));
    const inputs = ts.map(t => tf.add(t, 0));
    const onHost = inputs.some(t => tf.backend().tensorMap.get(t.dataId).values != null);
    const [audio, phase] = ddspgl.harmonicSynth(inputs[0], inputs[1], inputs[2],
        {nSamples: 640, returnFinalPhase: true, initialPhase: inputs[3]});
    const out = {audio: await audio.array(), phase: await phase.array(), onHost};
    tf.dispose([...ts, ...inputs, audio, phase]);
    return out;
  };
  const ref = await run(controls());
  const before = tf.memory();  // after a call: the backend's pending releases are done
  const c = controls();
  if (bad === 'harmonicDistribution') c[bad][0][3][2] = value; else c[bad][0][3] = value;
  const got = await run(c);
  const after = tf.memory();
  return {ref, got, leaked: after.numTensors - before.numTensors,
          bytes: after.numBytesInGPU - before.numBytesInGPU};
}"""


@pytest.mark.parametrize(
    "control, value",
    [
        ("f0", "NaN"),
        ("f0", -1.0),
        ("amplitude", "Infinity"),
        ("harmonicDistribution", "NaN"),
        ("harmonicDistribution", -0.5),
        ("initialPhase", "Infinity"),
    ],
    ids=[
        "f0-nan",
        "f0-negative",
        "amplitude-inf",
        "distribution-nan",
        "distribution-negative",
        "initial-phase-inf",
    ],
)
def test_gpu_resident_bad_controls_make_their_batch_rows_nan(gpu, control, value):
    """A control of batch row 0 that is NaN, Inf or negative (an initial phase NaN or
    Inf), on the GPU only: row 0's audio and final phases come out NaN; row 1's are bit for
    bit the good call's."""
    got = _page(gpu).evaluate(
        "([bad, value]) => { const v = ({NaN: NaN, Infinity: Infinity})[value] ?? value;"
        f" return ({HARMONIC_ON_GPU})([bad, v]); }}",
        [control, value],
    )
    assert not got["got"]["onHost"], "x + 0 should live on the GPU only"
    assert got["leaked"] == 0 and got["bytes"] == 0
    for key in ("audio", "phase"):
        assert all(math.isnan(v) for v in got["got"][key][0]), key
        assert got["got"][key][1] == got["ref"][key][1], key
        assert not any(math.isnan(v) for v in got["ref"][key][0]), key


def test_output_beyond_the_buffer_limit_is_refused(gpu):
    """A call whose buffers exceed the device's limit on one binding throws, naming the
    argument and the limit, before any dispatch."""
    got = _page(gpu).evaluate(
        "() => { const limit = tf.backend().device.limits.maxStorageBufferBindingSize;"
        " const hop = 65536; const rows = Math.floor(limit / (4 * 2 * hop)) + 1;"
        " try { ddspgl.harmonicSynth(tf.fill([rows, 2], 220), tf.fill([rows, 2], 0.5),"
        " tf.fill([rows, 2, 1], 1), {nSamples: 2 * hop}); return {limit, message: null}; }"
        " catch (e) { return {limit, message: e.message}; } }"
    )
    message = got["message"]
    assert message is not None, got
    assert message.startswith("HarmonicSynth: nSamples: ") and str(got["limit"]) in message


# -- memory -----------------------------------------------------------------------------------


def test_no_leak_over_1000_calls(gpu):
    """No tensor, data buffer, GPU byte or buffer (in use or pooled) survives a call, with
    the initial-phase input and the final-phase output included, over 1000 calls."""
    f0 = np.full((2, 20), 220.0, np.float32)
    amp = np.full((2, 20), 0.5, np.float32)
    dist = np.random.default_rng(4).uniform(0.1, 1.0, (2, 20, 8)).astype(np.float32)
    phase = np.linspace(0.0, 6.0, 16, dtype=np.float32).reshape(2, 8)
    got = _page(gpu).call(
        "harmonicMemory",
        {
            "f0": f0,
            "amplitude": amp,
            "dist": dist,
            "initialPhase": phase,
            "frames": [2, 20],
            "k": 8,
            "options": {"sampleRate": SR, "nSamples": 20 * 8, "returnFinalPhase": True},
            "warmup": 5,
            "calls": 1000,
        },
    )
    assert got["after"] == got["before"]
    assert got["after"]["numBytesAllocatedInGPU"] > 0 and got["after"]["freeBuffers"] > 0


def test_memory_profile_frees_each_intermediate_after_its_last_reader(gpu):
    """`ddspgl memory --backend browser --tfjs-backend webgpu`'s runs (each in a fresh
    page): ddspgl's synth frees each intermediate right after the last dispatch that reads
    it, holds at most memory.BROWSER_TARGET of the stock op chain's buffer bytes (in use
    and allocated), and, like the stock chain, leaves no buffer in use after the call."""
    from ddspgl.tools import memory

    runs = {r["name"]: r for r in browser.memory_runs(gpu)}
    assert list(runs) == [name for name, _, early in browser.MEMORY_RUNS if early is ...]
    stock, ours = runs["stock TF.js ops"], runs["ddspgl.harmonicSynth"]
    for r in (stock, ours):
        assert len(r["labels"]) == len(r["bytes"]) == len(r["in_use"]) == len(r["buffers"])
        assert r["finite"] and r["threshold"] is None
        assert r["final_in_use"] == r["in_use"][0] == 0  # nothing left in use
        assert r["peak"] == r["final"] == max(r["bytes"])  # the pool never shrinks
    assert ours["labels"][1:-3] == [
        "harmonic_frames",
        "harmonic_scan",
        "harmonic_amplitudes",
        "harmonic_audio",
        "free harmonic_amplitudes",
        "free harmonic_frames",  # audio read the frames' f0 fractions last
        "free harmonic_scan",  # and the phases (no final phase asked)
    ]
    assert ours["peak"] <= memory.BROWSER_TARGET * stock["peak"]
    assert ours["peak_in_use"] <= memory.BROWSER_TARGET * stock["peak_in_use"]
