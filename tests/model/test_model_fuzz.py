"""Fuzzed model folders through `ddspgl compress`, `ddspgl fuse` and `ddspgl compact`.

Hypothesis draws graph models (placeholders, constants of every rebuilt dtype and shapes
that compress rewrites, ops with any number of inputs of every decoration: ``name``,
``name:1``, ``^name``; attrs of every AttrValue kind; an optional TF1 while loop, whose
NextIteration -> Merge edge is the one cycle a GraphDef may hold; an optional signature),
writes them as TF.js model folders, and then either runs the tools on them as they are
(exit 0, and what they write reads back) or breaks them in one way first: a cycle, an input
or signature name that names no node, a Const without its weight or with a weight of
another dtype or shape, a value of the wrong JSON type anywhere the tools look, nesting
up to 200,000 deep, a shard or model.json that is a FIFO, socket or folder, a NUL byte or
'..' in a shard path, a short shard. A broken model must end in exit status 2 with exactly
one ``ddspgl: ...`` line on stderr, nothing on stdout, nothing written beside OUT, within a
time bound (a SIGALRM watchdog: a hang fails the example instead of stalling the run).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddspgl import cli
from ddspgl.model import graph

# Each tool call on these models takes milliseconds; a call still running after this long
# is a hang (the bound is a watchdog, not a speed check).
WATCHDOG_S = 20
TOOLS = ("compress", "fuse", "compact")
F32 = {"type": "DT_FLOAT"}
OPS = (
    "AddV2", "Mul", "Neg", "Identity", "Sum", "Cumsum", "FloorMod", "Reshape",
    "StridedSlice", "Transpose", "Pad", "ExpandDims", "Fill", "BroadcastTo", "Tile", "Sin",
)  # fmt: skip


class Hang(BaseException):
    """Raised by the watchdog; a BaseException, so no `except Exception` swallows it."""


@contextlib.contextmanager
def watchdog(seconds: float):
    def alarm(signum, frame):
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """`ddspgl argv` in this process under the watchdog: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with watchdog(WATCHDOG_S), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


# -- drawing models -------------------------------------------------------------------------------

ATTR_VALUES = st.one_of(
    st.builds(lambda b: {"b": b}, st.booleans()),
    st.builds(lambda i: {"i": i}, st.one_of(st.integers(-5, 5), st.integers(-5, 5).map(str))),
    st.builds(lambda f: {"f": f}, st.floats(-10, 10)),
    st.just(F32),
    st.just({"type": "DT_INT32"}),
    st.builds(
        lambda dims: {"shape": {"dim": [{"size": str(d)} for d in dims]}},
        st.lists(st.integers(-1, 5), max_size=3),
    ),
    st.just({"shape": {"unknownRank": True}}),
    st.builds(lambda xs: {"list": {"i": xs}}, st.lists(st.integers(0, 4).map(str), max_size=3)),
    st.just({"s": "YWJj"}),
)


def _array(kind: str, shape: tuple[int, ...], dtype: str, rng) -> np.ndarray:
    """Constants compress has something to do with: one value, broadcast, tiled, random."""
    np_dtype = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}[dtype]
    if kind == "zeros":
        return np.zeros(shape, np_dtype)
    if kind == "ones":
        return np.ones(shape, np_dtype)
    if kind == "rows" and len(shape) == 2:
        return np.broadcast_to(rng.integers(0, 3, (shape[0], 1)), shape).astype(np_dtype)
    return rng.integers(0, 3, shape).astype(np_dtype)


@st.composite
def models(draw) -> graph.Model:
    """A well-formed graph model (see the module docstring)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    nodes: list[dict] = []
    weights: dict[str, graph.Weight] = {}
    for i in range(draw(st.integers(1, 2))):
        dims = draw(st.one_of(st.none(), st.lists(st.integers(1, 4), max_size=3)))
        shape = {"unknownRank": True} if dims is None else {"dim": [{"size": str(d)} for d in dims]}
        attr = {"shape": {"shape": shape}, "dtype": F32}
        nodes.append({"name": f"x{i}", "op": "Placeholder", "attr": attr})
    n_consts = draw(st.integers(1, 4))
    for i in range(n_consts):
        dtype = "float32" if i == 0 else draw(st.sampled_from(["float32", "int32", "bool"]))
        shape = tuple(draw(st.sampled_from([(1,), (3,), (2, 300), (4, 300), (300,), (1, 2, 3)])))
        kind = draw(st.sampled_from(["zeros", "ones", "rows", "random"]))
        name = f"c{i}"
        weights[name] = graph.Weight.from_array(name, _array(kind, shape, dtype, rng), dtype)
        nodes.append(graph.const_node(name, dtype, shape))
    for i in range(draw(st.integers(0, 12))):
        names = [n["name"] for n in nodes]
        picks = draw(st.lists(st.sampled_from(names), min_size=0, max_size=3))
        inputs = [draw(st.sampled_from([name, f"{name}:1", f"^{name}"])) for name in picks]
        attr = draw(
            st.dictionaries(
                st.sampled_from(["T", "exclusive", "reverse", "Tidx", "x"]), ATTR_VALUES, max_size=3
            )
        )
        nodes.append(
            {
                "name": f"op{i}",
                "op": draw(st.sampled_from(OPS)),
                "input": inputs,
                "attr": {"T": F32, **attr},
            }
        )
    if draw(st.booleans()):  # a TF1 while loop: Merge reads NextIteration, which reads Merge
        nodes += [
            {"name": "loop/enter", "op": "Enter", "input": ["x0"], "attr": {"T": F32}},
            {"name": "loop/merge", "op": "Merge", "input": ["loop/enter", "loop/next"],
             "attr": {"T": F32}},
            {"name": "loop/body", "op": "Mul", "input": ["loop/merge", "c0"], "attr": {"T": F32}},
            {"name": "loop/next", "op": "NextIteration", "input": ["loop/body"],
             "attr": {"T": F32}},
            {"name": "loop/exit", "op": "Exit", "input": ["loop/merge"], "attr": {"T": F32}},
        ]  # fmt: skip
    doc = {"format": "graph-model", "modelTopology": {"node": nodes, "library": {}}}
    outputs = draw(st.lists(st.sampled_from([n["name"] for n in nodes]), max_size=3, unique=True))
    if outputs:
        doc["signature"] = {
            "outputs": {f"out{i}": {"name": f"{n}:0"} for i, n in enumerate(outputs)}
        }
    return graph.Model(doc, weights)


# -- breaking them ----------------------------------------------------------------------------

JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2),
)


def _is(*types):
    """Accepts values of `types`; a bool only where bool is one of them (bool is an int)."""
    return lambda v: isinstance(v, types) and not (isinstance(v, bool) and bool not in types)


def _int_like(v) -> bool:
    if isinstance(v, str):
        return v.lstrip("-").isdigit()
    return isinstance(v, int) and not isinstance(v, bool)


def _float_like(v) -> bool:
    if isinstance(v, str):
        try:
            float(v)
        except ValueError:
            return False
        return True
    return isinstance(v, int | float) and not isinstance(v, bool)


# Where a wrong type goes: a path into model.json ("N": the first node's index of that kind)
# and what the slot accepts (a replacement it accepts is drawn again).
SLOTS = {
    "doc": ((), _is(dict)),
    "signature": (("signature",), lambda v: v is None or isinstance(v, dict)),
    "signature.outputs": (("signature", "outputs"), lambda v: v is None or isinstance(v, dict)),
    "signature entry": (("signature", "outputs", "S"), lambda v: False),
    "modelTopology": (("modelTopology",), lambda v: False),
    "node list": (("modelTopology", "node"), lambda v: isinstance(v, list) and v == []),
    "node": (("modelTopology", "node", "N"), lambda v: False),
    "node name": (("modelTopology", "node", "N", "name"), _is(str)),
    "node op": (("modelTopology", "node", "N", "op"), lambda v: isinstance(v, str) and v != ""),
    "node input": (("modelTopology", "node", "N", "input"), lambda v: v == []),
    "node attr": (("modelTopology", "node", "N", "attr"), lambda v: v == {}),
    "attr value": (("modelTopology", "node", "N", "attr", "T"), _is(dict)),
    "attr type": (("modelTopology", "node", "N", "attr", "T", "type"), _is(str)),
    "attr b": (("modelTopology", "node", "N", "attr", "exclusive", "b"), _is(bool)),
    "attr i": (("modelTopology", "node", "N", "attr", "i", "i"), _int_like),
    "attr f": (("modelTopology", "node", "N", "attr", "f", "f"), _float_like),
    "attr shape": (("modelTopology", "node", "N", "attr", "shape", "shape"), _is(dict)),
    "attr list": (("modelTopology", "node", "N", "attr", "list", "list"), _is(dict)),
    # A library object is read for its "function" list alone (TF.js ignores other fields).
    "library": (
        ("modelTopology", "library"),
        lambda v: v is None or (isinstance(v, dict) and "function" not in v),
    ),
    "weightsManifest": (("weightsManifest",), lambda v: v == []),
    "weight group": (("weightsManifest", 0), lambda v: False),
    "weight paths": (("weightsManifest", 0, "paths"), lambda v: False),
    "weight name": (("weightsManifest", 0, "weights", 0, "name"), _is(str)),
    "weight shape": (("weightsManifest", 0, "weights", 0, "shape"), _is(list)),
    "weight dtype": (
        ("weightsManifest", 0, "weights", 0, "dtype"),
        lambda v: v in ("float32", "int32", "bool", "complex64", "string"),
    ),
    "quantization": (("weightsManifest", 0, "weights", 0, "quantization"), lambda v: v is None),
}
BREAKS = (
    "cycle", "missing input", "missing signature name", "const without weight",
    "weight dtype", "weight shape", "wrong type", "deep", "shard fifo", "shard folder",
    "shard socket", "model.json fifo", "nul in shard path", "shard path outside", "short shard",
)  # fmt: skip
# The words the one line must hold, by break ("" where the message depends on the slot).
SAYS = {
    "cycle": "has a cycle",
    "missing input": "which is not a node",
    "missing signature name": "which is not a node",
    "const without weight": "has no weight",
    "weight dtype": "its weight",
    "weight shape": "its weight",
    "wrong type": "",
    "deep": "nested deeper than",
    "shard fifo": "is a FIFO",
    "shard folder": "is a folder",
    "shard socket": "is a socket",
    "model.json fifo": "is a FIFO",
    "nul in shard path": "bad shard path",
    "shard path outside": "leaves the model folder",
    "short shard": "truncated",
}
DEEP = "__ddspgl_deep__"


def _descendants(nodes: list[dict], start: str) -> list[str]:
    """Nodes reading `start` directly or not, over edges that do not leave a NextIteration."""
    users: dict[str, list[str]] = {n["name"]: [] for n in nodes}
    ops = {n["name"]: n["op"] for n in nodes}
    for n in nodes:
        for i in n.get("input", []):
            src = graph.input_node(i)
            if ops[src] != "NextIteration":
                users[src].append(n["name"])
    seen, stack = [], [start]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.append(name)
            stack.extend(users[name])
    return [s for s in seen if ops[s] != "NextIteration"]


def _slot_path(doc: dict, path: tuple) -> tuple | None:
    """`path` with "N" (a node with that key, or the first node) and "S" filled in, made to
    exist down to its parent; None where the document has no such place."""
    out: list = []
    at = doc
    for i, key in enumerate(path):
        if key == "N":
            nodes = doc["modelTopology"]["node"]
            want = path[i + 2] if len(path) > i + 2 else None
            key = next((k for k, n in enumerate(nodes) if want in n.get("attr", {})), 0)
        elif key == "S":
            key = next(iter(at), None)
            if key is None:
                return None
        out.append(key)
        if i == len(path) - 1:
            break
        if isinstance(at, dict):
            at = at.setdefault(key, {})
        elif isinstance(at, list) and isinstance(key, int) and key < len(at):
            at = at[key]
        else:
            return None
    return tuple(out)


def _set(doc, path: tuple, value):
    if not path:
        return value
    at = doc
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = value
    return doc


def _break(draw, folder: Path, how: str) -> None:
    """Break the model in `folder` in the way `how` (see BREAKS)."""
    path = folder / graph.MODEL_JSON
    doc = json.loads(path.read_text())
    nodes = doc["modelTopology"]["node"]
    entries = doc["weightsManifest"][0]["weights"]
    shard = folder / doc["weightsManifest"][0]["paths"][0]
    if how == "cycle":
        ops = [n for n in nodes if n["op"] not in ("Const", "Placeholder", "NextIteration")]
        a = draw(st.sampled_from(ops or [nodes[0]]))
        b = draw(st.sampled_from(_descendants(nodes, a["name"])))
        a.setdefault("input", []).append(draw(st.sampled_from([b, f"{b}:1", f"^{b}"])))
    elif how == "missing input":
        node = draw(st.sampled_from(nodes))
        node.setdefault("input", []).append(
            draw(
                st.sampled_from(
                    ["ghost", "ghost:0", "^ghost", f"{node['name']}:", f"{node['name']}:x", "^", ""]
                )
            )
        )
    elif how == "missing signature name":
        sig = doc.setdefault("signature", {})
        key = draw(st.sampled_from(["inputs", "outputs"]))
        sig.setdefault(key, {})["bad"] = {"name": draw(st.sampled_from(["nope:0", "nope", ""]))}
    elif how == "const without weight":
        entry = draw(st.sampled_from(entries))
        entry["name"] = entry["name"] + "_renamed"
    elif how == "weight dtype":
        entry = next(e for e in entries if e["dtype"] == "float32")  # c0: float32
        entry["dtype"] = "int32"  # four bytes a value too: only the dtype is wrong
    elif how == "weight shape":
        entry = draw(st.sampled_from(entries))
        entry["shape"] = entry["shape"][::-1] + [1] if entry["shape"] else [1]
    elif how == "wrong type":
        slot = draw(st.sampled_from(sorted(SLOTS)))
        where, accepts = SLOTS[slot]
        target = _slot_path(doc, where)
        if target is None:  # no such place in this model: a doc that is not an object
            target, accepts = (), SLOTS["doc"][1]
        value = draw(JSON_VALUES.filter(lambda v: not accepts(v)))
        doc = _set(doc, target, value)
    elif how == "deep":
        target = draw(st.sampled_from([("deep",), ("modelTopology", "node", 0, "attr", "T"),
                                       ("signature",), ("weightsManifest", 0, "weights", 0,
                                                        "extra")]))  # fmt: skip
        _set(doc, target, DEEP)
    elif how == "shard fifo":
        shard.unlink()
        os.mkfifo(shard)
    elif how == "shard folder":
        shard.unlink()
        shard.mkdir()
    elif how == "shard socket":
        shard.unlink()
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(shard))
        s.close()
    elif how == "model.json fifo":
        path.unlink()
        os.mkfifo(path)
        return
    elif how == "nul in shard path":
        doc["weightsManifest"][0]["paths"][0] = "group1\0shard.bin"
    elif how == "shard path outside":
        doc["weightsManifest"][0]["paths"][0] = draw(
            st.sampled_from(["../" + shard.name, str(shard), "sub/../../" + shard.name])
        )
    elif how == "short shard":
        shard.write_bytes(shard.read_bytes()[:-1])
    text = json.dumps(doc)
    if DEEP in text:
        depth = draw(st.sampled_from([graph.MAX_DEPTH + 1, 1000, 200_000]))
        text = text.replace(json.dumps(DEEP), "[" * depth + "]" * depth)
    path.write_text(text)


# -- the properties ------------------------------------------------------------------------------


def _workdir():
    """A short temporary folder (a socket's path must fit in 108 bytes)."""
    return tempfile.TemporaryDirectory(prefix="ddspgl-fuzz-")


def _check_valid(model: graph.Model) -> None:
    with _workdir() as tmp:
        root = Path(tmp)
        graph.save(model, root / "model")
        for tool in TOOLS:
            out = root / f"out-{tool}"
            status, stdout, err = run_cli([tool, str(root / "model"), "-o", str(out)])
            assert status == 0, err
            back = graph.load(out)  # what the tools write, load accepts
            assert back.signature_nodes("outputs") == model.signature_nodes("outputs")
        assert sorted(p.name for p in root.iterdir()) == sorted(
            ["model", *(f"out-{tool}" for tool in TOOLS)]
        )


def _check_broken(model: graph.Model, how: str, draw) -> None:
    with _workdir() as tmp:
        root = Path(tmp)
        graph.save(model, root / "model")
        _break(draw, root / "model", how)
        for tool in TOOLS:
            out = root / "out"
            status, stdout, err = run_cli([tool, str(root / "model"), "-o", str(out)])
            lines = err.splitlines()
            assert status == 2, (how, status, err)
            assert len(lines) == 1 and lines[0].startswith("ddspgl: "), (how, err)
            assert SAYS[how] in lines[0], (how, lines[0])
            assert stdout == ""
            assert sorted(p.name for p in root.iterdir()) == ["model"], "wrote beside OUT"


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(models())
def test_tools_run_on_well_formed_models(model):
    _check_valid(model)


@FUZZ
@given(models(), st.sampled_from(BREAKS), st.data())
def test_broken_models_fail_in_one_line(model, how, data):
    _check_broken(model, how, data.draw)


@pytest.mark.slow
@MANY
@given(models())
def test_tools_run_on_well_formed_models_many(model):
    _check_valid(model)


@pytest.mark.slow
@MANY
@given(models(), st.sampled_from(BREAKS), st.data())
def test_broken_models_fail_in_one_line_many(model, how, data):
    _check_broken(model, how, data.draw)


# -- the reported cases, in a process of their own ------------------------------------------------


def _self_reading_mul(folder: Path) -> None:
    doc = {
        "format": "graph-model",
        "modelTopology": {
            "node": [
                {"name": "x", "op": "Placeholder", "attr": {"dtype": F32}},
                {"name": "m", "op": "Mul", "input": ["x", "m"], "attr": {"T": F32}},
            ]
        },
        "weightsManifest": [],
    }
    folder.mkdir()
    (folder / graph.MODEL_JSON).write_text(json.dumps(doc))


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("case", ["cycle", "fifo shard", "deep"])
def test_reported_cases_in_a_process(tmp_path, tool, case):
    """The cases that hung or printed a traceback, run as a user runs them: `ddspgl` in a
    process of its own, killed (failing the test) if it outlives the watchdog."""
    src = tmp_path / "model"
    if case == "cycle":
        _self_reading_mul(src)
        says = "'m' reads 'm'"
    elif case == "fifo shard":
        model = graph.Model(
            {
                "format": "graph-model",
                "modelTopology": {"node": [graph.const_node("w", "float32", [2])]},
            },
            {"w": graph.Weight.from_array("w", np.ones(2, np.float32), "float32")},
        )
        graph.save(model, src)
        shard = src / "group1-shard1of1.bin"
        shard.unlink()
        os.mkfifo(shard)
        says = "is a FIFO (named pipe), not a regular file"
    else:
        src.mkdir()
        (src / graph.MODEL_JSON).write_text("[" * 200_000 + "]" * 200_000)
        says = "nested deeper than"
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "ddspgl.cli", tool, str(src), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60 + WATCHDOG_S,  # the interpreter's start-up, then the watchdog
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("ddspgl: "), proc.stderr
    assert says in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
