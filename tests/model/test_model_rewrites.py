"""The TF.js fixes of `ddspgl convert` on small graphs, run in TF.js against float64 numpy.

- Roll -> Range, FloorMod, GatherV2 (model/rewrite_roll.py): a gather copies values, so
  the result is bit-for-bit ``np.roll`` (shifts past the axis length, negative shifts and
  axes, two axes in one Roll), on the cpu backend and webgl in float32 mode;
- training-mode FusedBatchNormV3 -> moments (model/rewrite_layernorm.py), in NCHW as tf-keras
  LayerNormalization emits it and in NHWC, within the float32 bound of
  :func:`layer_norm_bound` of the float64 formula; the unrewritten node in TF.js is NaN;
- what cannot be rewritten is a ModelError naming the node.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest
import tfjs_run

from ddspgl.model import graph, rewrite_layernorm, rewrite_roll
from ddspgl.tools import browser

if browser.missing():
    pytest.skip(f"browser tests: {browser.missing()}", allow_module_level=True)

U = 2.0**-24  # float32 unit roundoff
EPS = 1e-3  # tf-keras LayerNormalization's default epsilon


def _placeholder(name: str, shape) -> dict:
    dims = {"dim": [{"size": str(d)} for d in shape]}
    attr = {"dtype": {"type": "DT_FLOAT"}, "shape": {"shape": dims}}
    return {"name": name, "op": "Placeholder", "attr": attr}


def _model(nodes: list[dict], weights: dict[str, np.ndarray]) -> graph.Model:
    doc = {
        "format": "graph-model",
        "generatedBy": "2.19.0",
        "convertedBy": "ddspgl tests",
        "modelTopology": {"node": [], "library": {}, "versions": {}},
        "weightsManifest": [],
    }
    model = graph.Model(doc, {})
    consts = []
    for name, value in weights.items():
        dtype = "int32" if value.dtype.kind == "i" else "float32"
        model.weights[name] = graph.Weight.from_array(name, value, dtype)
        consts.append(graph.const_node(name, dtype, value.shape))
    model.nodes = consts + nodes
    return model


def _identity(name: str, x: str) -> dict:
    return {"name": name, "op": "Identity", "input": [x], "attr": {"T": {"type": "DT_FLOAT"}}}


# -- Roll -----------------------------------------------------------------------------------------

ROLL_SHAPE = (2, 6, 130)


def roll_model() -> graph.Model:
    """y = Roll(x, [5, -200], [1, -1]) (shift -200 is past the length 130), z = Roll(x, 3,
    0): both in one graph."""
    nodes = [
        _placeholder("x", ROLL_SHAPE),
        {"name": "r", "op": "Roll", "input": ["x", "shift", "axis"], "attr": {}},
        {"name": "r0", "op": "Roll", "input": ["x", "shift0", "axis0"], "attr": {}},
        _identity("y", "r"),
        _identity("z", "r0"),
    ]
    weights = {
        "shift": np.array([5, -200], np.int32),
        "axis": np.array([1, -1], np.int32),
        "shift0": np.array(3, np.int32),
        "axis0": np.array(0, np.int32),
    }
    return _model(nodes, weights)


def layer_norm_model(layout: str, shape, channels: int, rng) -> graph.Model:
    fmt = base64.b64encode(layout.encode()).decode()
    attr = {
        "T": {"type": "DT_FLOAT"},
        "U": {"type": "DT_FLOAT"},
        "epsilon": {"f": EPS},
        "data_format": {"s": fmt},
        "is_training": {"b": True},
        "exponential_avg_factor": {"f": 1.0},
    }
    nodes = [
        _placeholder("x", shape),
        {
            "name": "bn",
            "op": "FusedBatchNormV3",
            "input": ["x", "scale", "offset", "mean", "variance"],
            "attr": attr,
        },
        _identity("y", "bn"),
    ]
    weights = {
        "scale": rng.uniform(0.5, 2, channels).astype(np.float32),
        "offset": rng.uniform(-1, 1, channels).astype(np.float32),
        "mean": np.zeros(0, np.float32),
        "variance": np.zeros(0, np.float32),
    }
    return _model(nodes, weights)


LN_CASES = {
    # tf-keras LayerNormalization: [1, rows, features, 1], one channel per row
    "NCHW": ((1, 256, 64, 1), 256, (0, 2, 3), 1),
    # a batch norm in training mode: moments per channel, channel last
    "NHWC": ((2, 3, 5, 40), 40, (0, 1, 2), 3),
}


def ln_input(layout: str, rng) -> np.ndarray:
    """Values around 3 (the mean matters), a constant row or channel (variance 0: y is the
    offset) and one of variance 1e-6 < epsilon."""
    shape, _, _, channel = LN_CASES[layout]
    x = 3 + 2 * rng.standard_normal(shape)
    index = [slice(None)] * 4
    index[channel] = 0
    x[tuple(index)] = 0.5
    index[channel] = 1
    x[tuple(index)] = 3 + 1e-3 * rng.standard_normal(x[tuple(index)].shape)
    return x.astype(np.float32)


def layer_norm_reference(x, scale, offset, axes, channel):
    """float64 y of a training-mode batch norm: biased variance, as TF's output y."""
    x = x.astype(np.float64)
    mean = x.mean(axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axes, keepdims=True)
    shape = [1] * 4
    shape[channel] = -1
    g, b = scale.reshape(shape).astype(np.float64), offset.reshape(shape).astype(np.float64)
    return (x - mean) / np.sqrt(var + EPS) * g + b, mean, var, g, b


def layer_norm_bound(x, scale, offset, axes, channel) -> np.ndarray:
    """Per-element bound on |y - reference| for the rewritten graph in float32, first order
    in u = 2^-24, each term doubled for the second-order ones:

    - mean over m values (a sum then a division): |mean^ - mean| <= e_m = (m + 1) u mean|x|;
    - d = x - mean^: |d^ - d| <= e_d = e_m + u (|d| + e_m);
    - var^ = mean((x - mean^)^2) = var + (mean^ - mean)^2 + rounding (a square, m adds, a
      division): |var^ - var| <= e_v = e_m^2 + (m + 3) u (var + e_m^2);
    - r = rsqrt(var^ + epsilon): relative 1/2 e_v / (var + epsilon) + 4 u (add, rsqrt);
    - y = d^ (r g) + b: |g| (e_d r + |d| r e_r) + 3 u |d r g| + u |y|.
    """
    y, mean, var, g, b = layer_norm_reference(x, scale, offset, axes, channel)
    x = x.astype(np.float64)
    m = np.prod([x.shape[a] for a in axes])
    d = x - mean
    e_m = (m + 1) * U * np.abs(x).mean(axes, keepdims=True)
    e_d = e_m + U * (np.abs(d) + e_m)
    e_v = e_m**2 + (m + 3) * U * (var + e_m**2)
    r = 1 / np.sqrt(var + EPS)
    e_r = 0.5 * e_v / (var + EPS) + 4 * U
    bound = np.abs(g) * (e_d * r + np.abs(d) * r * e_r) + 3 * U * np.abs(d * r * g) + U * np.abs(y)
    return 2 * bound


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """The small graphs, original and rewritten, and their inputs."""
    root = tmp_path_factory.mktemp("rewrites")
    roll = roll_model()
    graph.save(roll, root / "roll" / "original")
    graph.save(rewrite_roll.rewrite(roll)[0], root / "roll" / "rewritten")
    for layout, (shape, channels, _, _) in LN_CASES.items():
        m = layer_norm_model(layout, shape, channels, np.random.default_rng(5))
        graph.save(m, root / f"ln_{layout}" / "original")
        graph.save(rewrite_layernorm.rewrite(m)[0], root / f"ln_{layout}" / "rewritten")
    return root


def test_roll_rewrite_structure():
    new, changes = rewrite_roll.rewrite(roll_model())
    ops = [n["op"] for n in new.nodes]
    assert "Roll" not in ops and ops.count("GatherV2") >= 3  # two axes, then one
    assert {"shift", "axis", "shift0", "axis0"}.isdisjoint(new.weights)  # pruned
    assert len(changes) == 2 and "shift 5 on axis 1, shift -200 on axis -1" in changes[0]
    assert {n["name"] for n in new.nodes} >= {"r", "r0", "y", "z"}  # names kept


@pytest.mark.parametrize("target", ["cpu", "float32"])
def test_roll_is_np_roll(host, target):
    x = np.random.default_rng(1).standard_normal(ROLL_SHAPE).astype(np.float32)
    out = tfjs_run.run(host, target, "/extra/roll/rewritten/model.json", {"x": x}, ["y", "z"])
    assert out["y"].tobytes() == np.roll(x, (5, -200), (1, -1)).tobytes()
    assert out["z"].tobytes() == np.roll(x, 3, 0).tobytes()


def test_roll_needs_constant_shift():
    model = roll_model()
    model.nodes = [_placeholder("s", ()) if n["name"] == "shift0" else n for n in model.nodes]
    del model.weights["shift0"]
    with pytest.raises(graph.ModelError, match="'r0' \\(Roll\\): its shift and axis must be"):
        rewrite_roll.rewrite(model)


@pytest.mark.parametrize("target", ["cpu", "float32"])
@pytest.mark.parametrize("layout", list(LN_CASES))
def test_layer_norm_within_bound(host, layout, target):
    shape, channels, axes, channel = LN_CASES[layout]
    rng = np.random.default_rng(5)
    model = layer_norm_model(layout, shape, channels, rng)
    scale, offset = model.weights["scale"].array(), model.weights["offset"].array()
    x = ln_input(layout, np.random.default_rng(9))
    url = f"/extra/ln_{layout}/rewritten/model.json"
    y = tfjs_run.run(host, target, url, {"x": x}, ["y"])["y"]
    ref = layer_norm_reference(x, scale, offset, axes, channel)[0]
    bound = layer_norm_bound(x, scale, offset, axes, channel)
    err = np.abs(y - ref)
    print(f"{layout} {target}: max error {err.max():.3e}, max bound {bound.max():.3e}")
    assert np.all(err <= bound)


def test_layer_norm_unrewritten_is_wrong_in_tfjs(host):
    """TF.js reads the empty mean and variance as an inference batch norm: not y."""
    shape, channels, axes, channel = LN_CASES["NCHW"]
    model = layer_norm_model("NCHW", shape, channels, np.random.default_rng(5))
    scale, offset = model.weights["scale"].array(), model.weights["offset"].array()
    x = ln_input("NCHW", np.random.default_rng(9))
    y = tfjs_run.run(host, "cpu", "/extra/ln_NCHW/original/model.json", {"x": x}, ["y"])["y"]
    ref = layer_norm_reference(x, scale, offset, axes, channel)[0]
    assert not np.all(np.abs(y - ref) <= 0.1)


def test_layer_norm_rewrite_structure():
    model = layer_norm_model("NCHW", (1, 8, 4, 1), 8, np.random.default_rng(0))
    new, changes = rewrite_layernorm.rewrite(model)
    ops = [n["op"] for n in new.nodes]
    assert "FusedBatchNormV3" not in ops
    assert ops.count("Mean") == 2 and "Rsqrt" in ops and "SquaredDifference" in ops
    assert {"mean", "variance"}.isdisjoint(new.weights)  # the empty inputs are gone
    assert len(changes) == 1 and "moments over axes [0, 2, 3], epsilon 0.001" in changes[0]
    # inference-mode batch norms are TF.js's to run: left alone
    for n in model.nodes:
        if n["op"] == "FusedBatchNormV3":
            n["attr"]["is_training"] = {"b": False}
    assert rewrite_layernorm.rewrite(model) == (model, [])


def test_layer_norm_batch_statistics_read():
    model = layer_norm_model("NCHW", (1, 8, 4, 1), 8, np.random.default_rng(0))
    model.nodes.append(_identity("peek", "bn:1"))
    with pytest.raises(graph.ModelError, match="'bn' \\(FusedBatchNormV3, is_training\\): 'peek'"):
        rewrite_layernorm.rewrite(model)
