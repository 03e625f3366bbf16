"""`ddspgl convert` on real magenta/ddsp 3.7.0 exports (ddsp_exports.py), end to end.

- The stock conversion (``ddsp_export``'s converter flags) holds what TF.js 4.22 cannot run
  (Roll; the GRU model's layer norms as training-mode FusedBatchNormV3) and fails the
  converter's op list; `ddspgl convert` rewrites both, prints each rewrite, keeps every
  signature output, and passes it; ``--quantize-float16`` stores every float32 weight as
  float16.
- In TF.js (cpu backend, and webgl in float32 mode in headless Chromium), fed the same f0,
  loudness and uniform noise draw (the RandomUniform node is fed), the converted models'
  decoder outputs match TensorFlow's within the budget derived in :func:`budget`, and
  the filtered noise (where the Roll was) matches a float64 numpy synthesis of ddsp's
  ``FilteredNoise`` from the page's own magnitudes within :func:`filtered_noise`'s bound
  (TensorFlow's too, on the same draw).
- Bad input: a ddsp training folder instead of its export, a SavedModel with an op TF.js
  lacks: one clear message, exit status 2, nothing written.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tfjs_run
from ddsp_exports import MODELS, inputs, uniform

from ddspgl import cli
from ddspgl.kernels import filtered_noise as filtered_noise_kernel
from ddspgl.kernels import harmonic
from ddspgl.model import convert, fuse_harmonic, fuse_noise, graph, op_check

U = 2.0**-24

# Decoder outputs compared with TensorFlow (its raw outputs, before ddsp's scale_fn).
DECODER = ("amps", "harmonic_distribution", "noise_magnitudes")
# Longest chain of dot products from the inputs to a decoder output, and the longest dot
# product (fan-in) on it: the convnet has 2 stacks of 3 dilated convs (kernel 3, 64
# channels: 192 terms), an input and an output projection; the GRU decoder has two dense
# layers per input stack, then the GRU's recurrence over every frame (each step a dot of
# 64 + 64 terms), two dense layers and the output projection.
DEPTH = {"conv": 8, "gru": 5}
NOISE = ("filtered_noise_signal", "filtered_noise_controls_magnitudes")
HARMONIC = (
    "harmonic_signal",
    "harmonic_controls_f0_hz",
    "harmonic_controls_amplitudes",
    "harmonic_controls_harmonic_distribution",
)
FAN_IN = {"conv": 192, "gru": 128}


def depth(name: str) -> int:
    spec = MODELS[name]
    return DEPTH[spec.decoder] + (spec.frames if spec.decoder == "gru" else 0)


def budget(name: str) -> float:
    """Bound on max|TF.js - TF| / max|TF| for a decoder output.

    A float32 dot product of n terms is within n u of its |w|.|x| scale; a chain of L of
    them, each followed by a layer norm or a bounded activation (gain at most 1 on the
    relative error), is within L n u of the output's scale, and TF and TF.js each err by
    that much at most: 2 L n u.
    """
    return 2 * depth(name) * FAN_IN[MODELS[name].decoder] * U


def filtered_noise(magnitudes: np.ndarray, draw: np.ndarray):
    """(float64 ddsp FilteredNoise signal, per-sample bound for a float32 radix-2 FFT
    evaluation) from magnitudes [1, frames, bands] and the uniform draw [1, samples].

    ddsp (core.frequency_filter, window_size 0, padding 'same'): noise = 2 u - 1 (exact in
    float32); ir = fftshift(fftshift(hann_periodic) * irfft(magnitudes)) (the second
    fftshift is the graph's Roll); frames of ceil(n / frames) samples, zero-padded at the
    end; y_i = irfft(rfft(frame_i, N) rfft(ir_i, N)), N the power of 2 >= frame + ir - 1;
    overlap-add at the frame hop; samples from (ir - 1) // 2 - 1 on.

    Bound, first order, doubled for the rest: an FFT of N = 2^k points is within
    c = 5 k u of its 2-norm; the impulse response within (5 log2(ir) + 2) u ||ir||; the
    product within ||dX|| max|H| + max|X| ||dH|| + 3 u ||P||; the inverse within
    sqrt(2 / N) ||dP|| + c ||y||; a sample takes the 2-norm errors of the frames that
    cover it, plus 4 u of their values for the overlap-add.
    """
    mags = magnitudes.astype(np.float64)
    noise = 2 * draw.astype(np.float64) - 1
    n_frames, n = mags.shape[1], noise.shape[1]
    ir = np.fft.irfft(mags, axis=-1)
    size = ir.shape[-1]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)
    ir = np.fft.fftshift(np.fft.fftshift(window) * ir, axes=-1)
    frame = -(-n // n_frames)
    padded = np.zeros((1, n_frames * frame))
    padded[:, :n] = noise
    frames = padded.reshape(1, n_frames, frame)
    fft = 2 ** int(np.ceil(np.log2(frame + size - 1)))
    x, h = np.fft.rfft(frames, fft), np.fft.rfft(ir, fft)
    y = np.fft.irfft(x * h, fft)

    def norm(a):
        return np.sqrt((np.abs(a) ** 2).sum(-1))

    c = 5 * np.log2(fft) * U
    e_ir = (5 * np.log2(size) + 2) * U * norm(ir)
    dx = c * norm(x)
    dh = c * norm(h) + np.sqrt(fft) * e_ir
    dp = dx * np.abs(h).max(-1) + np.abs(x).max(-1) * dh + 3 * U * norm(x * h)
    dy = np.sqrt(2 / fft) * dp + c * norm(y)
    total = (n_frames - 1) * frame + fft
    out, bound = np.zeros((1, total)), np.zeros((1, total))
    for i in range(n_frames):
        at = slice(i * frame, i * frame + fft)
        out[:, at] += y[:, i]
        bound[:, at] += dy[:, i, None] + 4 * U * np.abs(y[:, i])
    start = (size - 1) // 2 - 1
    return out[:, start : start + n], 2 * bound[:, start : start + n]


def _ops(model: graph.Model) -> list[str]:
    return [op for _, op in op_check.nodes_with_ops(model)]


def _training_norms(model: graph.Model) -> list[str]:
    return [
        n["name"]
        for n in model.nodes
        if n["op"].startswith("FusedBatchNorm") and n["attr"].get("is_training", {}).get("b")
    ]


# -- structure ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_stock_conversion_needs_the_fixes(ddsp_exports, name):
    stock = graph.load(ddsp_exports / name / "stock")
    assert _ops(stock).count("Roll") == 1  # FilteredNoise's fftshift
    if MODELS[name].decoder == "gru":
        assert len(_training_norms(stock)) == 6  # tf-keras LayerNormalization, 3 per stack
        assert "StatelessWhile" in _ops(stock)  # the GRU, control flow v2
    with pytest.raises(graph.ModelError, match="no op Roll .*fftshift"):
        op_check.check(stock, op_check.tfjs_ops())
    # the bare --quantize_float16: every float32 weight of the export stored as float16
    floats = [w for w in stock.weights.values() if w.dtype == "float32"]
    assert floats and all(w.quantization["dtype"] == "float16" for w in floats)


@pytest.mark.parametrize("name", list(MODELS))
def test_convert_rewrites_and_keeps_outputs(ddsp_converted, name):
    stock = graph.load(ddsp_converted / name / "stock")
    ours = graph.load(ddsp_converted / name / "ddspgl")
    ops = _ops(ours)
    assert "Roll" not in ops and not _training_norms(ours)
    op_check.check(ours, convert.known_ops())
    # the stock inputs, and the fused synthesizers' two new ones (zeros unless fed)
    added = {f"{fuse_harmonic.INITIAL_PHASE}:0", f"{fuse_noise.NOISE_OFFSET}:0"}
    assert ours.doc["signature"]["inputs"].keys() == stock.doc["signature"]["inputs"].keys() | added
    # the outputs keyed by the SavedModel's names again, each on the node TF named it
    named = json.loads((ddsp_converted / name / "outputs.json").read_text())
    outputs = ours.doc["signature"]["outputs"]
    assert {k: graph.input_node(v["name"]) for k, v in outputs.items()} == named
    assert ours.signature_nodes("outputs") == stock.signature_nodes("outputs")


def test_convert_prints_rewrites_and_quantizes(ddsp_converted):
    """What `ddspgl convert` printed: each rewrite (the GRU model: one Roll, six layer
    norms), the float16 report and the size table; every float32 weight of the
    --quantize-float16 output is stored as float16."""
    log = (ddsp_converted / "gru_angular" / "ddspgl.log").read_text()
    assert "TF.js fixes: 7 rewrites" in log and "fftshift" in log
    assert log.count("FusedBatchNormV3 ") == 6 and "moments over axes [0, 2, 3]" in log
    log16 = (ddsp_converted / "conv" / "ddspgl_f16.log").read_text()
    assert "float32 weights:" in log16 and "float16" in log16.splitlines()[-2] + log16
    model = graph.load(ddsp_converted / "conv" / "ddspgl_f16")
    floats = [w for w in model.weights.values() if w.dtype == "float32"]
    assert floats and all(w.quantization["dtype"] == "float16" for w in floats)
    op_check.check(model, convert.known_ops())
    assert (
        graph.sizes(ddsp_converted / "conv" / "ddspgl_f16")["weights"]
        < graph.sizes(ddsp_converted / "conv" / "ddspgl")["weights"]
    )


def test_conversion_seconds(ddsp_converted):
    """How long building, exporting and converting took (printed: CI has two cores)."""
    for name in MODELS:
        t = json.loads((ddsp_converted / name / "timing.json").read_text())
        c = json.loads((ddsp_converted / name / "convert_s.json").read_text())
        print(name, {k: round(v, 1) for k, v in {**t, **c}.items()})
        assert set(c) >= {"ddspgl"}


# -- bad input ------------------------------------------------------------------------------------


def test_training_folder_is_not_an_export(ddsp_exports, tmp_path, capsys):
    out = tmp_path / "out"
    ckpt = ddsp_exports / "conv" / "ckpt"
    assert cli.main(["convert", str(ckpt), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no saved_model.pb" in err and "ddsp training checkpoint" in err
    assert "AutoencoderInference" in err
    assert not out.exists()


def test_unknown_op_names_the_node(ddsp_exports, tmp_path, capsys):
    """A SavedModel that is not a ddsp export, with an op neither TF.js nor ddspgl has."""
    out = tmp_path / "out"
    saved = ddsp_exports / "not_ddsp" / "saved_model"
    assert cli.main(["convert", str(saved), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no op MatrixDeterminant" in err and "node '" in err
    assert not out.exists()


# -- in TF.js -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir(ddsp_converted):
    return ddsp_converted


def _feeds(model: graph.Model, name: str) -> dict[str, np.ndarray]:
    """f0 and loudness; the RandomUniform node, where the graph still has one (the
    filtered noise not fused), the fixed draw :func:`ddsp_exports.uniform`."""
    spec = MODELS[name]
    noise = [n["name"] for n in model.nodes if n["op"] == "RandomUniform"]
    assert len(noise) <= 1, noise
    return {**inputs(spec), **{n: uniform(spec) for n in noise}}


@pytest.fixture(scope="module")
def tfjs(host, ddsp_converted):
    """tfjs(name, variant, target) -> {output: array}, each run once."""
    cache: dict[tuple, dict] = {}

    def go(name: str, variant: str, target: str) -> dict[str, np.ndarray]:
        key = (name, variant, target)
        if key not in cache:
            folder = ddsp_converted / name
            nodes = json.loads((folder / "outputs.json").read_text())
            model = graph.load(folder / variant)
            wanted = [*DECODER, *NOISE, *HARMONIC]
            url = f"/extra/{name}/{variant}/model.json"
            res = tfjs_run.run(host, target, url, _feeds(model, name), [nodes[k] for k in wanted])
            cache[key] = {k: res[nodes[k]] for k in wanted}
        return cache[key]

    return go


@pytest.mark.parametrize("target", ["cpu", "float32"])
@pytest.mark.parametrize("name", list(MODELS))
def test_decoder_matches_tensorflow(ddsp_converted, tfjs, name, target):
    ref = dict(np.load(ddsp_converted / name / "reference.npz"))
    out = tfjs(name, "ddspgl", target)
    for key in DECODER:
        assert out[key].shape == ref[key].shape, key
        err = np.abs(out[key] - ref[key]).max() / np.abs(ref[key]).max()
        print(f"{name} {target} {key}: max error {err:.2e} of max|ref| (budget {budget(name):.2e})")
        assert err <= budget(name), key
    # f0 goes through the preprocessor's resampling to the same frame count: unchanged
    assert np.array_equal(out["harmonic_controls_f0_hz"], ref["harmonic_controls_f0_hz"])


@pytest.mark.parametrize("target", ["cpu", "float32", "float16"])
@pytest.mark.parametrize("name", list(MODELS))
def test_fused_noise_matches_float64(ddsp_converted, tfjs, name, target):
    """`ddspgl convert` fused the filtered noise (RandomUniform, IRFFT, window, Roll, FFT
    convolution, overlap-add) into one FilteredNoise node: its audio in the page against
    kernels/filtered_noise.py's float64 filtering of the kernel's own noise (the graph's
    seed) with the page's magnitudes, within the kernel's derived per-sample bound (and
    the float16 write's half ulp)."""
    spec = MODELS[name]
    model = graph.load(ddsp_converted / name / "ddspgl")
    (node,) = [n for n in model.nodes if n["op"] == "FilteredNoise"]
    assert "RandomUniform" not in [n["op"] for n in model.nodes]
    fft = [n["op"] for n in model.nodes if n["op"] in ("RFFT", "IRFFT")]
    assert fft == (["RFFT", "IRFFT"] if spec.reverb else []), fft  # the Reverb keeps its own
    seed = int(node["attr"]["seed"]["i"])
    out = tfjs(name, "ddspgl", target)
    mags = out["filtered_noise_controls_magnitudes"]
    ref = filtered_noise_kernel.reference(mags, filtered_noise_kernel.noise(1, spec.samples, seed))
    bound = filtered_noise_kernel.derived_bound(mags, n_samples=spec.samples)
    bound = filtered_noise_kernel.write_bound(
        ref, bound, "float16" if target == "float16" else "float32"
    )
    got = out["filtered_noise_signal"]
    worst = float(filtered_noise_kernel.deviation(got, ref, bound).max())
    snr = filtered_noise_kernel.snr_db(got, ref)
    print(f"{name} {target}: noise SNR {snr:.1f} dB, worst error {worst:.2f} of its bound")
    assert worst <= 1


@pytest.mark.parametrize("name", list(MODELS))
def test_fused_noise_continues_from_a_fed_offset(ddsp_converted, host, name):
    """The fused node's new graph input, noise_offset (int32, 0 unless fed): fed an offset,
    the page's noise (webgl, float32) is the kernel's float64 filtering of its stream from
    that sample on, within the derived bound; the stream from 0 is not."""
    spec = MODELS[name]
    folder = ddsp_converted / name
    nodes = json.loads((folder / "outputs.json").read_text())
    model = graph.load(folder / "ddspgl")
    (node,) = [n for n in model.nodes if n["op"] == "FilteredNoise"]
    assert node["input"][1] == fuse_noise.NOISE_OFFSET
    assert model.doc["signature"]["inputs"][f"{fuse_noise.NOISE_OFFSET}:0"]["dtype"] == "DT_INT32"
    seed, offset = int(node["attr"]["seed"]["i"]), 3 * spec.samples + 17
    url = f"/extra/{name}/ddspgl/model.json"
    res = tfjs_run.run(
        host,
        "float32",
        url,
        _feeds(model, name),
        [nodes[k] for k in NOISE],
        ints={fuse_noise.NOISE_OFFSET: offset},
    )
    mags = res[nodes["filtered_noise_controls_magnitudes"]]
    got = res[nodes["filtered_noise_signal"]]
    bound = filtered_noise_kernel.derived_bound(mags, n_samples=spec.samples)
    for start, inside in ((offset, True), (0, False)):
        draw = filtered_noise_kernel.noise(1, spec.samples, seed, sample_offset=start)
        ref = filtered_noise_kernel.reference(mags, draw)
        worst = float(filtered_noise_kernel.deviation(got, ref, bound).max())
        print(f"{name}: noise from sample {start}: worst error {worst:.3g} of its bound")
        assert (worst <= 1) == inside


def test_stock_filtered_noise_matches_float64(ddsp_exports):
    """The unfused noise path as TensorFlow ran it (the export's reference, on the fixed
    draw), against float64 from its own magnitudes within :func:`filtered_noise`'s bound
    for a float32 radix-2 FFT evaluation: the float64 model of ddsp's FilteredNoise is
    ddsp's."""
    for name in MODELS:
        tf_ref = dict(np.load(ddsp_exports / name / "reference.npz"))
        ref, bound = filtered_noise(
            tf_ref["filtered_noise_controls_magnitudes"], uniform(MODELS[name])
        )
        assert np.all(np.abs(tf_ref["filtered_noise_signal"] - ref) <= bound)


@pytest.mark.parametrize("target", ["cpu", "float32", "float16"])
@pytest.mark.parametrize("name", list(MODELS))
def test_fused_harmonic_matches_float64(ddsp_converted, tfjs, name, target):
    """`ddspgl convert` fused the whole harmonic synthesis into one HarmonicSynth node:
    its audio in the page against kernels/harmonic.py's float64 synthesis from the page's
    own controls (read back: in float16 mode they are what the float16 textures hold),
    within the kernel's budgets (SNR >= 100 dB in float32, 2^-11 max|ref| in float16).
    The unfused graph's phase, a float32 cumsum in radians, is far outside both."""
    spec = MODELS[name]
    model = graph.load(ddsp_converted / name / "ddspgl")
    assert sum(n["op"] == "HarmonicSynth" for n in model.nodes) == 1
    assert not [n for n in model.nodes if n["op"] in ("Sin", "Cumsum")]
    out = tfjs(name, "ddspgl", target)
    f0 = out["harmonic_controls_f0_hz"][..., 0]
    amp = out["harmonic_controls_amplitudes"][..., 0]
    dist = out["harmonic_controls_harmonic_distribution"]
    ref, amb = harmonic.reference(
        f0, amp, dist, sample_rate=spec.sample_rate, n_samples=spec.samples, normalize=False
    )
    got = out["harmonic_signal"]
    snr, err = harmonic.snr_db(got, ref, amb), harmonic.max_error(got, ref, amb)
    print(f"{name} {target}: harmonic SNR {snr:.1f} dB, max error {err:.2e} of max|ref|")
    if target == "float16":
        assert err <= harmonic.FLOAT16_BUDGET
    else:
        assert snr >= harmonic.SNR_BUDGET_DB


@pytest.mark.parametrize("name", list(MODELS))
def test_fused_harmonic_starts_from_a_fed_phase(ddsp_converted, host, name):
    """The fused node's new graph input, initial_phase [1, K] radians (zeros unless fed):
    fed random phases, the page's audio (webgl, float32) against the float64 reference
    started from the same phases, within the float32 budget; the controls are the
    page's own, read back in the same call."""
    spec = MODELS[name]
    folder = ddsp_converted / name
    nodes = json.loads((folder / "outputs.json").read_text())
    model = graph.load(folder / "ddspgl")
    phase = np.random.default_rng(7).uniform(0, 2 * np.pi, (1, spec.harmonics))
    phase = phase.astype(np.float32)
    feeds = {**_feeds(model, name), fuse_harmonic.INITIAL_PHASE: phase}
    url = f"/extra/{name}/ddspgl/model.json"
    res = tfjs_run.run(host, "float32", url, feeds, [nodes[k] for k in HARMONIC])
    out = {k: res[nodes[k]] for k in HARMONIC}
    ref, amb = harmonic.reference(
        out["harmonic_controls_f0_hz"][..., 0],
        out["harmonic_controls_amplitudes"][..., 0],
        out["harmonic_controls_harmonic_distribution"],
        sample_rate=spec.sample_rate,
        n_samples=spec.samples,
        normalize=False,
        initial_phase=phase,
    )
    snr = harmonic.snr_db(out["harmonic_signal"], ref, amb)
    print(f"{name}: harmonic SNR {snr:.1f} dB from fed initial phases")
    assert snr >= harmonic.SNR_BUDGET_DB


def test_float16_weights_stay_close(ddsp_converted, tfjs):
    """Weights rounded to float16 move each by 2^-11 relative at most: a dot product by
    2^-11 of its |w|.|x| scale, a chain of L of them by L 2^-11 (gains at most 1, as in
    :func:`budget`), on top of the float32 budget."""
    ref = tfjs("conv", "ddspgl", "cpu")
    half = tfjs("conv", "ddspgl_f16", "cpu")
    b = depth("conv") * 2.0**-11 + budget("conv")
    for key in DECODER:
        err = np.abs(half[key] - ref[key]).max() / np.abs(ref[key]).max()
        print(f"conv float16 weights {key}: {err:.2e} (budget {b:.2e})")
        assert 0 < err <= b, key
