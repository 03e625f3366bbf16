"""The model tools on hand-built TF.js graph models: no TensorFlow, no browser.

Bad input of every kind gives one clear `ddspgl: ...` line, exit status 2 and nothing in
OUT. Each compress rewrite is checked by rebuilding the constant from the rewritten graph
with numpy (the ops' TF semantics) and comparing bits with the original; each fuse rewrite
by evaluating both graphs in float64 numpy; each near miss leaves the model as it was.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ddspgl import cli
from ddspgl.model import compress, fuse, graph

F32 = "DT_FLOAT"
TWO_PI = np.float32(2 * np.pi)


def placeholder(name, shape, dtype=F32):
    shape_attr = (
        {"unknownRank": True} if shape is None else {"dim": [{"size": str(d)} for d in shape]}
    )
    return {
        "name": name,
        "op": "Placeholder",
        "attr": {"shape": {"shape": shape_attr}, "dtype": {"type": dtype}},
    }


def op(name, kind, inputs, **attr):
    return {"name": name, "op": kind, "input": list(inputs), "attr": {"T": {"type": F32}, **attr}}


def build(nodes, weights, signature=None) -> graph.Model:
    """A graph model: Const nodes are made for `weights` ({name: (array, dtype)})."""
    consts = [graph.const_node(n, d, np.shape(a)) for n, (a, d) in weights.items()]
    doc = {
        "format": "graph-model",
        "generatedBy": "tests",
        "convertedBy": "tests",
        "modelTopology": {"node": consts + nodes, "library": {}, "versions": {}},
        "weightsManifest": [],
    }
    if signature:
        doc["signature"] = {"outputs": {k: {"name": f"{k}:0"} for k in signature}}
    ws = {n: graph.Weight.from_array(n, a, d) for n, (a, d) in weights.items()}
    return graph.Model(doc, ws)


# -- bad input ------------------------------------------------------------------------------------


def _write(folder, doc, shards=None):
    folder.mkdir()
    text = doc if isinstance(doc, str) else json.dumps(doc)
    (folder / "model.json").write_text(text)
    for name, data in (shards or {}).items():
        (folder / name).write_bytes(data)
    return folder


def _doc(nodes=None, weights=None, paths=("group1-shard1of1.bin",), **extra):
    nodes = nodes if nodes is not None else [placeholder("x", [2])]
    group = {"paths": list(paths), "weights": weights or []}
    return {
        "format": "graph-model",
        "modelTopology": {"node": nodes},
        "weightsManifest": [group],
        **extra,
    }


W8 = [{"name": "w", "shape": [2], "dtype": "float32"}]
BAD = {
    "not JSON": ("{not json", None, "not valid JSON"),
    "not an object": ("[1, 2]", None, "expected a JSON object"),
    "layers model": (
        {"format": "layers-model", "modelTopology": {}},
        None,
        "format 'layers-model'",
    ),
    "no nodes": ({"format": "graph-model", "modelTopology": {}}, None, "modelTopology.node"),
    "unknown dtype": (
        _doc(weights=[{"name": "w", "shape": [2], "dtype": "float64"}]),
        {"group1-shard1of1.bin": bytes(16)},
        "weight 'w' has unknown dtype 'float64'",
    ),
    "unknown quantization": (
        _doc(weights=[{**W8[0], "quantization": {"dtype": "int4", "min": 0, "scale": 1}}]),
        {"group1-shard1of1.bin": bytes(8)},
        "unknown quantization dtype 'int4'",
    ),
    "missing shard": (_doc(weights=W8), {}, "missing weight shard"),
    "short shard": (_doc(weights=W8), {"group1-shard1of1.bin": bytes(5)}, "end inside weight 'w'"),
    "long shard": (_doc(weights=W8), {"group1-shard1of1.bin": bytes(12)}, "hold 12 bytes"),
    "shard outside": (_doc(weights=W8, paths=["../w.bin"]), {}, "leaves the model folder"),
    "bad shape": (
        _doc(weights=[{"name": "w", "shape": [-1], "dtype": "float32"}]),
        {"group1-shard1of1.bin": b""},
        "shape must be a list of sizes",
    ),
    "input names no node": (
        _doc(nodes=[placeholder("x", [2]), op("y", "Neg", ["ghost:0"])], paths=[]),
        {},
        "reads 'ghost:0', which is not a node",
    ),
    "two nodes one name": (
        _doc(nodes=[placeholder("x", [2]), placeholder("x", [3])], paths=[]),
        {},
        "two nodes are named 'x'",
    ),
    "manifest not a list": (
        {"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": {}},
        None,
        "weightsManifest must be a list",
    ),
    "cycle": (
        _doc(nodes=[placeholder("x", [2]), op("m", "Mul", ["x", "m:0"])], paths=[]),
        {},
        "the graph has a cycle, 'm' reads 'm'",
    ),
    "signature names no node": (
        _doc(paths=[], signature={"outputs": {"o": {"name": "nope:0"}}}),
        {},
        "signature.outputs['o'] names 'nope:0', which is not a node",
    ),
    "signature a string": (_doc(paths=[], signature="oops"), {}, "signature must be an object"),
    "attr a string": (
        _doc(nodes=[placeholder("x", [2]), {"name": "y", "op": "Neg", "attr": "oops"}], paths=[]),
        {},
        "node 'y': attr must be an object, got str",
    ),
    "Const without weight": (
        _doc(nodes=[graph.const_node("w", "float32", [2])], paths=[]),
        {},
        "Const node 'w' has no weight",
    ),
    "weight of another dtype": (
        _doc(
            nodes=[graph.const_node("w", "float32", [2])],
            weights=[{"name": "w", "shape": [2], "dtype": "int32"}],
        ),
        {"group1-shard1of1.bin": bytes(8)},
        "Const node 'w' is DT_FLOAT, its weight int32[2]",
    ),
    "nested 200,000 deep": ('{"a": ' + "[" * 200_000 + "]" * 200_000 + "}", None, "nested deeper"),
}


@pytest.mark.parametrize("tool", ["compress", "fuse"])
@pytest.mark.parametrize("case", BAD)
def test_bad_model_is_a_clear_error(tmp_path, capsys, tool, case):
    doc, shards, message = BAD[case]
    src = _write(tmp_path / "model", doc, shards)
    out = tmp_path / "out"
    assert cli.main([tool, str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ddspgl: ") and message in err, err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary left


def test_missing_model_json(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["compress", str(tmp_path / "empty"), "-o", str(tmp_path / "out")]) == 2
    assert "model.json: no such file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_output_folder_is_not_overwritten(tmp_path, capsys):
    src = tmp_path / "m"
    graph.save(build([placeholder("x", [2]), op("y", "Neg", ["x"])], {}), src)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert cli.main(["fuse", str(src), "-o", str(out)]) == 2
    assert "not overwriting" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    model = build([placeholder("x", [4])], {"w": (np.ones(4, np.float32), "float32")})

    def broken(self, data):
        raise OSError("disk full")

    monkeypatch.setattr("pathlib.Path.write_bytes", broken)
    with pytest.raises(graph.ModelError, match="out: cannot write: disk full"):
        graph.save(model, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_round_trip_keeps_every_dtype(tmp_path):
    weights = {
        "f": (np.arange(6, dtype=np.float32).reshape(2, 3), "float32"),
        "i": (np.array([-7, 2**31 - 1], np.int32), "int32"),
        "b": (np.array([True, False, True]), "bool"),
        "c": (np.array([1 + 2j, -3j], np.complex64), "complex64"),
    }
    nodes = [op(f"use_{n}", "Identity", [n]) for n in weights]
    model = build(nodes, weights)
    strings = b"".join(len(s).to_bytes(4, "little") + s for s in (b"ab", b"", b"xyz"))
    model.weights["s"] = graph.Weight("s", (3,), "string", strings, {})
    model.nodes.append(graph.const_node("s", "string", [3]))
    graph.save(model, tmp_path / "m")
    back = graph.load(tmp_path / "m")
    for name, (array, _) in weights.items():
        np.testing.assert_array_equal(back.weights[name].array(), array)
    assert back.weights["s"].data == strings


# -- compress -------------------------------------------------------------------------------------


def _eval_const(model: graph.Model, name: str, feeds: dict) -> np.ndarray:
    """A rebuilt constant, by TF semantics, in numpy."""
    nodes = model.node_map()
    node = nodes[name]
    ins = [graph.input_node(i) for i in node.get("input", [])]
    if node["op"] == "Const":
        return model.weights[name].array()
    if node["op"] == "Placeholder":
        return feeds[name]
    args = [_eval_const(model, i, feeds) for i in ins]
    if node["op"] == "Fill":
        return np.full(tuple(args[0]), args[1], args[1].dtype)
    if node["op"] == "ZerosLike":
        return np.zeros_like(args[0])
    if node["op"] == "OnesLike":
        return np.ones_like(args[0])
    if node["op"] == "BroadcastTo":
        return np.broadcast_to(args[0], tuple(args[1]))
    if node["op"] == "Tile":
        return np.tile(args[0], tuple(args[1]))
    raise AssertionError(f"unexpected op {node['op']}")


def _compress_model():
    rng = np.random.default_rng(5)
    shape = (4, 300)
    grid = np.broadcast_to(np.arange(4, dtype=np.float32)[:, None], shape)
    weights = {
        "zeros": (np.zeros(shape, np.float32), "float32"),
        "ones": (np.ones(shape, np.float32), "float32"),
        "negzero": (np.full(shape, -0.0, np.float32), "float32"),
        "quarter": (np.full(shape, 0.25, np.float32), "float32"),
        "ones5": (np.ones((5, 300), np.float32), "float32"),
        "rand5": (rng.uniform(size=(5, 300)).astype(np.float32), "float32"),
        "rows": (grid, "float32"),
        "cols": (np.broadcast_to(rng.uniform(size=(1, 300)).astype(np.float32), shape), "float32"),
        "tiled": (np.tile(rng.uniform(size=(4, 30)).astype(np.float32), (1, 10)), "float32"),
        "nan": (np.full(shape, np.nan, np.float32), "float32"),
        "small": (np.zeros(10, np.float32), "float32"),
        "sevens": (np.full(shape, 7, np.int32), "int32"),
        "mask": (np.broadcast_to(rng.uniform(size=(1, 300)) < 0.5, shape), "bool"),
        "dup1": (rng.uniform(size=shape).astype(np.float32), "float32"),
        "dead": (rng.uniform(size=shape).astype(np.float32), "float32"),
    }
    weights["dup2"] = (weights["dup1"][0].copy(), "float32")
    floats = [n for n, (_, d) in weights.items() if d == "float32" and n not in ("dead",)]
    nodes = [placeholder("x", shape)]
    prev = "x"
    for i, name in enumerate(floats):
        other = "rand5" if name == "ones5" else prev
        if name in ("ones5", "rand5"):
            nodes.append(op(f"use_{name}", "Sum", [name, "x"]))  # inputs only need to exist
            continue
        nodes.append(op(f"acc{i}", "AddV2", [other, name]))
        prev = f"acc{i}"
    nodes += [
        op("out", "Identity", [prev]),
        op("ints", "Identity", ["sevens"]),
        op("sel", "SelectV2", ["mask", "x", "x"]),
        op("five", "AddV2", ["use_ones5", "use_rand5"]),
    ]
    model = build(nodes, weights, signature=["out", "ints", "sel", "five"])
    model.weights["orphan"] = graph.Weight.from_array("orphan", np.ones(3, np.float32), "float32")
    return model, weights


def test_compress_rewrites(tmp_path):
    model, weights = _compress_model()
    new, changes = compress.compress(model)
    kinds = {c.node: c.kind for c in changes if not c.node.endswith("/shape")}
    shared = {c.node: c.detail for c in changes if c.node.endswith("/shape")}
    assert set(shared.values()) == {"same as negzero/shape"}  # one int32 [4, 300] stored
    assert kinds == {
        "zeros": "ZerosLike",
        "ones": "OnesLike",
        "negzero": "Fill",
        "quarter": "Fill",
        "ones5": "OnesLike",
        "rows": "BroadcastTo",
        "cols": "BroadcastTo",
        "tiled": "Tile",
        "sevens": "Fill",
        "mask": "BroadcastTo",
        "dup2": "dedup",
        "dead": "drop",
        "orphan": "drop",
    }
    nodes = new.node_map()
    assert nodes["zeros"]["input"] == ["x"]  # x: same shape, and every reader needs it
    assert nodes["ones5"]["input"] == ["rand5"]  # no placeholder of [5, 300]: a Const
    assert nodes["tiled"]["op"] == "Tile"
    assert new.weights["tiled/block"].shape == (4, 30)
    assert new.weights["rows/block"].shape == (4, 1)
    for name in ("dup2", "dead", "orphan"):
        assert name not in nodes and name not in new.weights
    feeds = {"x": np.zeros((4, 300), np.float32)}
    for name, (array, _) in weights.items():
        if name in ("dead", "dup2"):
            continue
        rebuilt = _eval_const(new, name, feeds)
        assert rebuilt.dtype == array.dtype and rebuilt.shape == array.shape, name
        assert rebuilt.tobytes() == np.ascontiguousarray(array).tobytes(), name
    assert sum(c.saved for c in changes) == model.weight_bytes() - new.weight_bytes()
    graph.save(new, tmp_path / "m")
    assert graph.load(tmp_path / "m").weights.keys() == new.weights.keys()


def test_dedup_points_readers_at_the_first_copy():
    model, _ = _compress_model()
    new, _ = compress.compress(model)
    readers = [n for n in new.nodes if "dup1" in n.get("input", [])]
    assert len(readers) == 2
    assert not any("dup2" in n.get("input", []) for n in new.nodes)


def test_const_leaf_is_an_output_without_signature():
    """No signature: TF.js takes every unread node as an output, so an unread Const stays."""
    model = build([placeholder("x", [2])], {"lonely": (np.ones(300, np.float32), "float32")})
    new, changes = compress.compress(model)
    assert [c.kind for c in changes] == ["Fill"]
    assert new.node_map()["lonely"]["op"] == "Fill"


def test_min_bytes_keeps_small_constants():
    model, _ = _compress_model()
    _, changes = compress.compress(model, min_bytes=10**6)
    assert {c.kind for c in changes} == {"dedup", "drop"}


@pytest.mark.parametrize(
    "shape,block",
    [
        ((6,), (1,)),
        ((6,), (2,)),
        ((6,), (3,)),
        ((6,), (6,)),
        ((4, 6), (2, 3)),
        ((3, 4, 5), (1, 2, 5)),
    ],
)
def test_periods(shape, block):
    rng = np.random.default_rng(1)
    small = rng.integers(0, 2**32, block, dtype=np.uint32)
    reps = [s // b for s, b in zip(shape, block, strict=True)]
    assert compress.periods(np.tile(small, reps)) == list(block)


# -- fuse -----------------------------------------------------------------------------------------


def _cumsum_model(x_shape, axis, period=TWO_PI, *, dtype=F32, extra_reader=False, **flags):
    cumsum_attr = {k: {"b": v} for k, v in flags.items()}
    nodes = [
        placeholder("x", x_shape, dtype),
        {
            **op("c", "Cumsum", ["x", "axis"], **cumsum_attr),
            "attr": {"T": {"type": dtype}, **cumsum_attr},
        },
        {**op("f", "FloorMod", ["c", "p"]), "attr": {"T": {"type": dtype}}},
        op("out", "Identity", ["f"]),
    ]
    if extra_reader:
        nodes.append(op("raw", "Identity", ["c"]))
    p = np.asarray(period)
    weights = {
        "axis": (np.array(axis, np.int32), "int32"),
        "p": (p, "int32" if p.dtype.kind == "i" else "float32"),
    }
    return build(nodes, weights)


def _eval(model: graph.Model, x: np.ndarray) -> np.ndarray:
    """Float64 numpy of a fused or original phase graph (the ops it can hold)."""
    nodes = model.node_map()

    def ev(name):
        node = nodes[graph.input_node(name)]
        args = [ev(i) for i in node.get("input", [])]
        kind, attr = node["op"], node.get("attr", {})
        if kind == "Const":
            return model.weights[node["name"]].array()
        if kind == "Placeholder":
            return x.astype(np.float64)
        if kind == "Identity":
            return args[0]
        if kind == "Transpose":
            return np.transpose(args[0], args[1])
        if kind == "Cumsum":
            a = args[0]
            excl, rev = attr.get("exclusive", {}).get("b"), attr.get("reverse", {}).get("b")
            ax = int(args[1])
            a = np.flip(a, ax) if rev else a
            s = np.cumsum(a, ax)
            if excl:
                s = s - a
            return np.flip(s, ax) if rev else s
        if kind == "FloorMod":
            return np.mod(args[0], float(args[1]))
        if kind == "WrappedCumsum":
            a = args[0]
            rev = attr["reverse"]["b"]
            a = a[..., ::-1] if rev else a
            s = np.cumsum(a, -1) - (a if attr["exclusive"]["b"] else 0)
            s = np.mod(s, attr["period"]["f"])
            return s[..., ::-1] if rev else s
        raise AssertionError(kind)

    return ev("out")


@pytest.mark.parametrize(
    "x_shape,axis,flags,transposed",
    [
        ([2, 100], -1, {}, False),
        ([2, 100], 1, {"exclusive": True, "reverse": True}, False),
        ([3, 100, 4], 1, {"reverse": True}, True),
        ([100, 3], 0, {}, True),
        (None, -1, {}, False),
    ],
    ids=["axis-1", "last-excl-rev", "middle-axis", "first-axis", "unknown-rank-last"],
)
def test_fuse_floormod_cumsum(x_shape, axis, flags, transposed):
    model = _cumsum_model(x_shape, axis, **flags)
    new, report = fuse.fuse(model)
    assert [type(r) for r in report] == [fuse.Match]
    ops = [n["op"] for n in new.nodes]
    assert "Cumsum" not in ops and "FloorMod" not in ops and "axis" not in new.weights
    assert ops.count("Transpose") == (2 if transposed else 0)
    wrapped = next(n for n in new.nodes if n["op"] == "WrappedCumsum")
    assert wrapped["attr"]["period"] == {"f": float(np.float32(2 * np.pi))}
    assert wrapped["attr"]["exclusive"] == {"b": flags.get("exclusive", False)}
    assert wrapped["attr"]["reverse"] == {"b": flags.get("reverse", False)}
    x = np.random.default_rng(2).uniform(0, 0.5, x_shape or [2, 100])
    a, b = _eval(model, x), _eval(new, x)
    d = np.mod(a - b, 2 * np.pi)
    assert np.minimum(d, 2 * np.pi - d).max() < 1e-9


NEAR_MISSES = {
    "read elsewhere": (dict(x_shape=[2, 100], axis=-1, extra_reader=True), "also read elsewhere"),
    "unknown rank": (dict(x_shape=None, axis=1), "whose rank the graph does not say"),
    "negative period": (dict(x_shape=[2, 100], axis=-1, period=np.float32(-1)), "is not in"),
    "period vector": (
        dict(x_shape=[2, 100], axis=-1, period=np.ones(2, np.float32)),
        "shape [] or [1]",
    ),
    "int period": (dict(x_shape=[2, 100], axis=-1, period=np.int32(3)), "float32 constant"),
    "int cumsum": (dict(x_shape=[2, 100], axis=-1, dtype="DT_INT32"), "not float32"),
    "axis out of range": (dict(x_shape=[2, 100], axis=2), "out of range"),
}


@pytest.mark.parametrize("case", NEAR_MISSES)
def test_fuse_near_miss_leaves_model(case):
    kwargs, reason = NEAR_MISSES[case]
    model = _cumsum_model(**kwargs)
    new, report = fuse.fuse(model)
    assert new is model
    assert len(report) == 1 and isinstance(report[0], fuse.Miss)
    assert reason in report[0].reason
    assert str(report[0]).startswith("left")
