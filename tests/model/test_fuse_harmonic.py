"""`ddspgl fuse` on real ddsp exports' harmonic synthesis: what it matches, what it leaves.

The exports are `ddspgl convert --no-fuse --no-compact` outputs of ddsp_exports.py's models
(the TF.js fixes and compress applied, nothing fused, names as TensorFlow gave them), so
each test sees the graph a user's export gives the fuse. The fused audio itself is checked
in the page against float64 in test_model_ddsp.py (test_fused_harmonic_matches_float64).
Here: each export fuses to one
HarmonicSynth node reading only frame-rate tensors; a graph changed in one place (the
window, the harmonic numbers, the omega scale, a graph output inside the synthesizer,
constants stored as float16) is a near miss whose reason names the difference, and the
graph is left as it was; a synthesizer past the kernel's limits is a clear error.
"""

from __future__ import annotations

import numpy as np
import pytest
from ddsp_exports import MODELS

from ddspgl import cli
from ddspgl.model import fuse, fuse_harmonic, fuse_noise, graph, graph_eval, quantize
from ddspgl.model.fuse_harmonic import OP, PATTERN


@pytest.fixture(scope="module")
def unfused(ddsp_exports, tmp_path_factory) -> dict[str, graph.Model]:
    root = tmp_path_factory.mktemp("unfused")
    out = {}
    for name in MODELS:
        folder = root / name
        saved = str(ddsp_exports / name / "saved_model")
        assert cli.main(["convert", saved, "-o", str(folder), "--no-fuse", "--no-compact"]) == 0
        out[name] = graph.load(folder)
    return out


def _harmonic_report(model: graph.Model):
    new, report = fuse.fuse(model)
    return new, [r for r in report if r.pattern == PATTERN]


def _synth_node(model: graph.Model) -> dict:
    (node,) = [n for n in model.nodes if n["op"] == OP]
    return node


@pytest.mark.parametrize("name", list(MODELS))
def test_export_fuses_to_one_node(unfused, name):
    spec = MODELS[name]
    model = unfused[name]
    new, found = _harmonic_report(model)
    assert len(found) == 1 and isinstance(found[0], fuse.Match), found
    print(found[0])
    node = _synth_node(new)
    assert node["attr"]["sample_rate"]["f"] == spec.sample_rate
    assert int(node["attr"]["n_samples"]["i"]) == spec.samples
    assert node["attr"]["factors"]["b"] and not node["attr"]["normalize"]["b"]
    assert f"K={spec.harmonics}, hop={spec.hop}" in found[0].detail
    phase = "angular_cumsum" if spec.angular else "Cumsum"
    assert f"{phase} phase" in found[0].detail
    # the output keeps its name and the signature its outputs; no audio-rate op is left
    # of the synthesizer (ResizeBilinear stays only in the frame-rate preprocessor)
    assert node["name"] == found[0].node
    left = [n["name"] for n in new.nodes if n["op"] in ("Sin", "Cumsum", "FloorMod")]
    assert all("/filtered_noise/" in x for x in left), left  # the Roll rewrite's FloorMod
    assert len(new.nodes) < len(model.nodes) - 25
    assert new.doc["signature"]["outputs"] == model.doc["signature"]["outputs"]
    # new inputs: the initial phases [1, K] (zeros unless fed), read by the node, and the
    # fused noise's sample offset
    phase, offset = fuse_harmonic.INITIAL_PHASE, fuse_noise.NOISE_OFFSET
    added = {f"{phase}:0", f"{offset}:0"}
    assert set(new.doc["signature"]["inputs"]) == {*model.doc["signature"]["inputs"], *added}
    dims = new.doc["signature"]["inputs"][f"{phase}:0"]["tensorShape"]["dim"]
    assert [int(d["size"]) for d in dims] == [1, spec.harmonics]
    assert node["input"][3] == phase
    (placeholder,) = [n for n in new.nodes if n["name"] == phase]
    assert placeholder["op"] == "PlaceholderWithDefault"
    zeros = graph.const_array(new, placeholder["input"][0])
    assert zeros.shape == (1, spec.harmonics) and not zeros.any()


def _const(model: graph.Model, test) -> str:
    """The one numeric Const whose values pass `test` (constant names vary by export)."""
    found = []
    for name, w in model.weights.items():
        if w.dtype in ("float32", "int32") and w.quantization is None and test(w.array()):
            found.append(name)
    assert len(found) == 1, found
    return found[0]


def _with_const(model: graph.Model, name: str, change) -> graph.Model:
    """A copy of `model` with Const `name`'s values (and shape) changed."""
    out = model.copy()
    w = out.weights[name]
    new = np.asarray(change(w.array().copy()), w.array().dtype)
    out.weights[name] = graph.Weight.from_array(name, new, w.dtype)
    node = graph.const_node(name, w.dtype, new.shape)
    out.nodes = [node if n["name"] == name else n for n in out.nodes]
    return out


def _window(model: graph.Model) -> str:
    """ddsp's Hann window of 2 hop = 128 samples, [1, 1, 1, 128]."""
    return _const(model, lambda a: a.shape == (1, 1, 1, 128))


def _numbers(model: graph.Model) -> str:
    """The harmonic numbers 1 ... 100, [1, 1, 100]."""
    return _const(model, lambda a: a.shape == (1, 1, 100) and a[0, 0, -1] == 100)


def _omega(model: graph.Model) -> str:
    """2 pi / 16000 as the graph computed it in float32 (within a few ulps)."""

    def near(a):
        return a.shape == () and a.dtype == np.float32 and abs(a * 16000 / (2 * np.pi) - 1) < 1e-6

    return _const(model, near)


def _assert_left(model: graph.Model, reason: str):
    new, found = _harmonic_report(model)
    assert len(found) == 1 and isinstance(found[0], fuse.Miss), found
    assert reason in found[0].reason, found[0].reason
    assert OP not in [n["op"] for n in new.nodes]
    return found[0]


def test_another_window_is_a_near_miss(unfused):
    """A Hamming window instead of Hann: from w = 0.5 - 0.5 cos, 0.54 - 0.46 cos is
    0.08 + 0.92 w. The probe sees the difference."""

    def hamming(w):
        return np.float32(0.08) + np.float32(0.92) * w

    model = _with_const(unfused["conv"], _window(unfused["conv"]), hamming)
    miss = _assert_left(model, "runs differently from ddsp's harmonic synthesis")
    print(miss)
    _assert_phase_made_exact(model)


def _assert_phase_made_exact(model: graph.Model):
    """The near miss's ``Sin(Cumsum(omega))`` has its phase wrapped in cycles instead
    (fuse._sine), and the rewritten sine computes the same function: both evaluated in
    float64 (graph_eval) on the same omega, within the rounding of the rewrite's two
    float32 constants, 1/(2 pi) and 2 pi (2^-24 relative each: |phase| 2^-23 at most)."""
    new, report = fuse.fuse(model)
    sines = [r for r in report if r.pattern == "Sin(Cumsum)"]
    assert len(sines) == 1 and isinstance(sines[0], fuse.Match), sines
    sin = sines[0].node
    (cumsum,) = [graph.input_node(i) for n in model.nodes if n["name"] == sin for i in n["input"]]
    omega = graph.input_node(next(n for n in model.nodes if n["name"] == cumsum)["input"][0])
    rng = np.random.default_rng(3)
    spec = MODELS["conv"]
    w = rng.uniform(0, np.pi / 2, (1, spec.samples, spec.harmonics))
    before = graph_eval.evaluate(
        {n["name"]: n for n in model.nodes}, lambda c: graph.const_array(model, c), sin, {omega: w}
    )
    after = graph_eval.evaluate(
        {n["name"]: n for n in new.nodes}, lambda c: graph.const_array(new, c), sin, {omega: w}
    )
    phase = np.cumsum(w, axis=1)
    assert np.all(np.abs(after - before) <= phase * 2.0**-23 + 2.0**-40)


def test_harmonic_shift_is_a_near_miss(unfused):
    def shift(k):
        k[..., -1] += 0.5
        return k

    _assert_left(_with_const(unfused["conv"], _numbers(unfused["conv"]), shift), "not 1 ... K")


def test_omega_scale_is_a_near_miss(unfused):
    _assert_left(
        _with_const(unfused["conv"], _omega(unfused["conv"]), lambda c: c * np.float32(1.001)),
        "not F * 2 pi / 16000",
    )


def test_interior_graph_output_is_a_near_miss(unfused):
    """The Sin made a graph output: the synthesizer's [n, K] tensor is still wanted."""
    model = unfused["conv"].copy()
    (sin,) = [n["name"] for n in model.nodes if n["op"] == "Sin"]
    key = next(iter(model.doc["signature"]["outputs"]))
    model.doc["signature"]["outputs"][key]["name"] = f"{sin}:0"
    _assert_left(model, "also a graph output")


def test_quantized_constants_are_a_near_miss(unfused):
    half, _ = quantize.quantize_float16(unfused["conv"])
    _assert_left(half, "quantized")


def test_past_the_kernel_limits_is_an_error(unfused, tmp_path, capsys):
    """A hop past the kernel's 65536: the ResizeBilinear size and the window stretched to
    hop 2^17. `ddspgl fuse` names the node and the limit, exits 2, writes nothing."""
    model, hop = unfused["conv"], 2**17
    frames = MODELS["conv"].frames
    size = _const(model, lambda a: a.dtype == np.int32 and a.tolist() == [frames * 64, 1])
    model = _with_const(model, size, lambda s: [frames * hop, 1])
    model = _with_const(
        model,
        _window(model),
        lambda w: (0.5 - 0.5 * np.cos(np.pi * np.arange(2 * hop) / hop)).reshape(1, 1, 1, -1),
    )
    with pytest.raises(graph.ModelError, match="hop 131072 exceeds 65536"):
        fuse.fuse(model)
    src = tmp_path / "in"
    graph.save(model, src)
    out = tmp_path / "out"
    assert cli.main(["fuse", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Sum_1" in err and "65536" in err
    assert not out.exists()
