"""HarmonicSynth in the emitted TF.js bundle, headless Chromium, the pinned TF.js from npm.

The webgl kernel runs the pass plan of kernels/harmonic.py on the GLSL bodies of glsl/ and
is held, in both TF.js modes, to the issue's budgets against the float64 reference of
kernels/harmonic.py: SNR >= 100 dB in float32 mode, every sample within 2^-11 max|reference|
in float16 mode. TF.js float16 mode uploads every input as float16, so there the reference
is computed from the inputs rounded to float16, as TF.js holds them (see
kernels/cumsum_browser.py): the suite measures the kernel, not the input rounding. The
plain JS fallback (cpu, wasm) computes in float64 and is held to its own derived bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
from needs_chromium import require_chromium
from thrown import assert_throws

from ddspgl.harness.shader import resolve
from ddspgl.kernels import cumsum, cumsum_browser, harmonic, harmonic_suite, manifest
from ddspgl.tools import browser, emit
from graph_model import harmonic_nodes, save_graph_model

require_chromium()

STORAGES = browser.STORAGES
SR = 16000


@dataclass(frozen=True)
class Shape:
    frames: int
    harmonics: int
    hop: int
    batch: int


SHAPES = {
    # Two rows: a steady 220 Hz, and a glide whose upper harmonics cross Nyquist inside
    # frames; K = 21 is not a multiple of 4; 50 frames need no upper scan level.
    "small": Shape(frames=50, harmonics=21, hop=64, batch=2),
    # DDSP's defaults: 16 kHz, 64000 samples, 1000 frames (hop 64), 100 harmonics.
    "production": Shape(frames=1000, harmonics=100, hop=64, batch=1),
}


@cache
def _inputs(name: str):
    """(f0, amplitude, distribution) float32 for a shape, seeded."""
    if name == "production":
        return harmonic_suite.inputs("16k-1000f-100h")
    s = SHAPES[name]
    rng = np.random.default_rng(2024)
    f0 = np.stack([np.full(s.frames, 220.0), np.geomspace(100.0, 3000.0, s.frames)])
    amp = rng.uniform(0.2, 0.9, (s.batch, s.frames))
    dist = rng.uniform(0.05, 1.0, (s.batch, s.frames, s.harmonics))
    dist[:, ::7, 3] = 0.0  # silent harmonics
    return tuple(a.astype(np.float32) for a in (f0, amp, dist))


def _stored(arrays, storage):
    return tuple(cumsum_browser.as_stored(a, storage) for a in arrays)


@cache
def _reference(name: str, storage: str, add_endpoint: bool = True):
    """(inputs as TF.js holds them, reference, ambiguous, derived bound) for a shape."""
    xs = _stored(_inputs(name), storage)
    s = SHAPES[name]
    n = (s.frames if add_endpoint else s.frames - 1) * s.hop
    kw = dict(sample_rate=SR, n_samples=n, add_endpoint=add_endpoint)
    ref, amb = harmonic.reference(*xs, **kw)
    return xs, ref, amb, harmonic.derived_bound(*xs, **kw)


def _call(page, xs, backend="webgl", initial_phase=None, **options):
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
    outs = [browser.decode(o["b64"], o["shape"]) for o in res["outputs"]]
    return outs, res


def _check_budget(storage, out, ref, amb):
    """The issue's budget for a TF.js mode; returns (SNR dB, max error / max|ref|)."""
    snr = harmonic.snr_db(out, ref, amb)
    err = harmonic.max_error(out, ref, amb)
    if storage == "float32":
        assert snr >= harmonic.SNR_BUDGET_DB, f"SNR {snr:.1f} dB < {harmonic.SNR_BUDGET_DB} dB"
    else:
        assert err <= harmonic.FLOAT16_BUDGET, f"max error {err:.3e} > 2^-11 of max|reference|"
    return snr, err


def _expected_passes(frames: int) -> int:
    """increment, the digits scan (2 u + 1 passes for u levels below the top), gain, synth."""
    return 3 + 2 * len(cumsum.plan(frames).blocks) + 1


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A converted-graph-model JSON holding a HarmonicSynth node with snake_case attrs."""
    folder = tmp_path_factory.mktemp("harmonic_model")
    s = SHAPES["small"]
    return save_graph_model(folder, harmonic_nodes(s.batch, s.frames, s.harmonics, s.hop, SR))


# -- the bundle -------------------------------------------------------------------------------


def test_bundle_carries_the_harmonic_glsl(tmp_path):
    for path in emit.emit(tmp_path)[:2]:
        text = path.read_text()
        for body in (harmonic.BODY_INCREMENT, harmonic.BODY_GAIN, harmonic.BODY_SYNTH):
            assert f"glsl/{body}" in text
            assert emit.js_literal(resolve(body)) in text, body  # the resolver's text, verbatim


def test_registers_harmonic_synth(host):
    for storage, page in host.pages.items():
        got = page.evaluate(
            "() => ({kernels: ['webgl', 'cpu', 'wasm'].map("
            "b => tf.getKernel('HarmonicSynth', b) != null), listed: ddspgl.kernels, "
            "op: typeof ddspgl.harmonicSynth})"
        )
        assert got == {
            "kernels": [True] * 3,
            "listed": [k.tfjs_kernel for k in manifest.KERNELS],
            "op": "function",
        }, storage


# -- the webgl kernel against the float64 reference -------------------------------------------


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("storage", STORAGES)
def test_webgl_within_budget(host, storage, shape):
    xs, ref, amb, _ = _reference(shape, storage)
    (out,), res = _call(host.page(storage), xs, nSamples=ref.shape[1])
    assert out.shape == ref.shape
    _check_budget(storage, out, ref, amb)
    assert res["passes"] == _expected_passes(SHAPES[shape].frames)


@pytest.mark.parametrize("storage", STORAGES)
def test_unnormalized(host, storage):
    xs = _stored(_inputs("small"), storage)
    n = SHAPES["small"].frames * SHAPES["small"].hop
    ref, amb = harmonic.reference(*xs, sample_rate=SR, n_samples=n, normalize=False)
    (out,), _ = _call(host.page(storage), xs, nSamples=n, normalize=False)
    _check_budget(storage, out, ref, amb)


def _circular(a, b):
    d = np.mod(np.asarray(a, np.float64) - np.asarray(b, np.float64), 2 * np.pi)
    return np.minimum(d, 2 * np.pi - d)


@pytest.mark.parametrize("storage", STORAGES)
def test_blocks_continue_with_final_phase(host, storage):
    """Two calls joined by finalPhase -> initialPhase render the same audio as one.

    The first block ends with the second's first frame (addEndpoint false); the joined
    audio is held to the mode's budget against the reference of the whole. The webgl
    final phase is exact residue arithmetic rounded once to float32 radians, the JS
    fallback's float64 of exact frame sums rounded once: they agree within two float32
    half-ulps below 2 pi (2^-22 rad each).
    """
    page = host.page(storage)
    s = SHAPES["small"]
    xs, ref, amb, _ = _reference("small", storage)
    cut = s.frames // 2 + 3
    first = tuple(a[:, : cut + 1] for a in xs)
    second = tuple(a[:, cut:] for a in xs)
    kw = dict(returnFinalPhase=True)
    (y1, phase1), _ = _call(page, first, nSamples=cut * s.hop, addEndpoint=False, **kw)
    (_, cpu_phase1), _ = _call(
        page, first, backend="cpu", nSamples=cut * s.hop, addEndpoint=False, **kw
    )
    assert phase1.shape == (s.batch, s.harmonics)
    assert _circular(phase1, cpu_phase1).max() <= 2 * 2.0**-22
    n2 = (s.frames - cut) * s.hop
    (y2, phase2), _ = _call(page, second, initial_phase=phase1, nSamples=n2, **kw)
    (_, cpu_phase2), _ = _call(page, second, "cpu", initial_phase=phase1, nSamples=n2, **kw)
    # The initial phase becomes the nearest residue (2^-44 cycles) before the same rounding.
    assert _circular(phase2, cpu_phase2).max() <= 2 * 2.0**-22 + 2 * np.pi * 2.0**-44
    _check_budget(storage, np.concatenate([y1, y2], axis=1), ref, amb)


# -- the plain JS fallback --------------------------------------------------------------------


def _fallback_bound(xs, ref, n, add_endpoint=True):
    """float64 arithmetic (phase within 2^-36 rad per unit amplitude, k <= 128 included),
    then one float32 rounding: half an ulp, at most 2^-24 |y|."""
    m = harmonic.derived_bound(*xs, sample_rate=SR, n_samples=n, add_endpoint=add_endpoint)
    m = m / harmonic.EPS_SAMPLE  # >= M(n), the sum of the neighbouring frames' amplitudes
    return 2.0**-24 * np.abs(ref) + 2.0**-36 * m


@pytest.mark.parametrize(
    "backend,shape", [("cpu", "small"), ("wasm", "small"), ("cpu", "production")]
)
def test_js_fallback(host, backend, shape):
    page = host.page("float32")
    xs, ref, amb, _ = _reference(shape, "float32")
    (out,), res = _call(page, xs, backend=backend, nSamples=ref.shape[1])
    assert res["passes"] == 0
    assert np.all(harmonic.deviation(out, ref, amb) <= _fallback_bound(xs, ref, ref.shape[1]))
    assert page.evaluate("() => tf.getBackend()") == "webgl"


# -- graph model ------------------------------------------------------------------------------


def test_graph_model_op(host):
    page = host.page("float32")
    s = SHAPES["small"]
    xs, ref, amb, _ = _reference("small", "float32")
    got = page.evaluate(
        "async spec => { const [b, f, k] = spec.shape;"
        " const f0 = tf.tensor(await harness.input(spec.f0), [b, f]);"
        " const amp = tf.tensor(await harness.input(spec.amp), [b, f]);"
        " const dist = tf.tensor(await harness.input(spec.dist), [b, f, k]);"
        " const model = await tf.loadGraphModel('/extra/model.json');"
        " const y = model.execute({f0, amplitude: amp, dist}); const out = {b64:"
        " harness.b64(y.dataSync()), shape: y.shape};"
        " tf.dispose([f0, amp, dist, y]); model.dispose(); return out; }",
        {
            "f0": host.put(xs[0]),
            "amp": host.put(xs[1]),
            "dist": host.put(xs[2]),
            "shape": [s.batch, s.frames, s.harmonics],
        },
    )
    out = browser.decode(got["b64"], got["shape"])
    _check_budget("float32", out, ref, amb)


# -- memory -----------------------------------------------------------------------------------


@pytest.mark.parametrize("storage", STORAGES)
def test_no_leak_over_repeated_calls(host, storage):
    """Every intermediate texture goes back to the pool and no tensor survives a call,
    with the initial-phase input and the final-phase output included."""
    s = SHAPES["small"]
    f0, amp, dist = _stored(_inputs("small"), storage)
    phase = np.linspace(0.0, 6.0, s.batch * s.harmonics, dtype=np.float32)
    got = host.page(storage).call(
        "harmonicMemory",
        {
            "f0": f0,
            "amplitude": amp,
            "dist": dist,
            "initialPhase": phase.reshape(s.batch, s.harmonics),
            "frames": [s.batch, s.frames],
            "k": s.harmonics,
            "options": {"sampleRate": SR, "nSamples": s.frames * s.hop, "returnFinalPhase": True},
            "warmup": 3,
            "calls": 40,
        },
    )
    assert got["after"] == got["before"]


# -- bad input --------------------------------------------------------------------------------

_F0 = "tf.fill([1, 50], 220)"
_AMP = "tf.fill([1, 50], 0.5)"
_DIST = "tf.fill([1, 50, 8], 0.2)"


def _synth(f0=_F0, amp=_AMP, dist=_DIST, options="{nSamples: 3200}"):
    return f"ddspgl.harmonicSynth({f0}, {amp}, {dist}, {options})"


BAD = {
    "f0 int32": (_synth(f0="tf.fill([1, 50], 220, 'int32')"), "f0 must have dtype float32"),
    "f0 rank 1": (_synth(f0="tf.fill([50], 220)"), "f0 must have rank 2"),
    "f0 rank 3": (_synth(f0="tf.fill([1, 50, 1], 220)"), "f0 must have rank 2"),
    "dist rank 2": (_synth(dist="tf.fill([1, 50], 0.2)"), "harmonicDistribution must have rank 3"),
    "dist int32": (
        _synth(dist="tf.fill([1, 50, 8], 1, 'int32')"),
        "harmonicDistribution must have dtype float32, got int32",
    ),
    "amplitude shape": (_synth(amp="tf.fill([1, 49], 0.5)"), "does not match f0"),
    "dist frames": (_synth(dist="tf.fill([1, 49, 8], 0.2)"), "do not match f0"),
    "empty": (_synth(f0="tf.fill([1, 0], 1)", amp="tf.fill([1, 0], 1)"), "f0 is empty"),
    "K 129": (_synth(dist="tf.fill([1, 50, 129], 0.2)"), "at most 128"),
    "nSamples unreachable": (_synth(options="{nSamples: 3201}"), "not reachable"),
    "hop 1": (_synth(options="{nSamples: 50}"), "hop of at least 2"),
    "nSamples float": (_synth(options="{nSamples: 3200.5}"), "nSamples must be an integer"),
    "sampleRate 0": (_synth(options="{nSamples: 3200, sampleRate: 0}"), "sampleRate must be"),
    "sampleRate NaN": (_synth(options="{nSamples: 3200, sampleRate: NaN}"), "sampleRate must be"),
    "normalize not bool": (
        _synth(options="{nSamples: 3200, normalize: 1}"),
        "normalize must be a boolean",
    ),
    "unknown option": (_synth(options="{nSamples: 3200, sample_rate: 8000}"), "unknown option"),
    "initialPhase shape": (
        _synth(options="{nSamples: 3200, initialPhase: tf.zeros([1, 7])}"),
        "initialPhase must have shape [batch, K] = [1, 8]",
    ),
    "kernel attrs": (
        "tf.engine().runKernel('HarmonicSynth', {f0: tf.fill([1, 50], 220),"
        " amplitude: tf.fill([1, 50], 0.5), harmonicDistribution: tf.fill([1, 50, 8], 0.2)},"
        " {nSamples: 3200, sampleRate: -1})",
        "sampleRate must be",
    ),
}


@pytest.mark.parametrize("backend", ["webgl", "cpu"])
@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_throws(host, name, backend):
    """Every bad input throws a clear Error, on the webgl kernel and the JS fallback alike."""
    script, message = BAD[name]
    assert_throws(host.page("float32"), script, message, backend)


def test_sample_rate_is_float32_rounded(host):
    """A sample rate with more bits than float32 runs as its float32 rounding."""
    page = host.page("float32")
    xs, ref, amb, _ = _reference("small", "float32")
    sr = float(np.float32(SR)) * (1 + 2.0**-30)
    (out,), _ = _call(page, xs, nSamples=ref.shape[1], sampleRate=sr)
    assert math.isclose(float(np.float32(sr)), SR)
    _check_budget("float32", out, ref, amb)


@pytest.mark.parametrize("fn", ["Sin", "Cos"])
def test_accurate_sin_cos_helper(host, fn):
    """glsl/lib/float/accurateSinCos.glsl in the browser on a dense grid of |x| <= 4
    (float32 mode: the output is exact): within 2^-22 of float64, where SwiftShader's
    built-ins are off by 1.9e-4."""
    x = np.linspace(-4.0, 4.0, 2**18 + 1, dtype=np.float32)
    got = host.page("float32").evaluate(
        "async spec => { const x = tf.tensor(await harness.input(spec.key));"
        " const program = {variableNames: ['x'], outputShape: x.shape, userCode:"
        " spec.helper + '\\nvoid main() { setOutput(accurate' + spec.fn +"
        " '(getXAtOutCoords())); }'};"
        " const y = tf.engine().makeTensorFromTensorInfo(tf.backend().compileAndRun(program, [x]));"
        " const out = harness.b64(y.dataSync()); tf.dispose([x, y]); return out; }",
        {"key": host.put(x), "helper": resolve("lib/float/accurateSinCos.glsl"), "fn": fn},
    )
    ref = getattr(np, fn.lower())(x.astype(np.float64))
    assert np.abs(browser.decode(got, x.shape) - ref).max() <= 2.0**-22
