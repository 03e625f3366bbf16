"""A TF.js graph model on disk: model.json, its weights manifest and the weight shards.

Why
    `ddspgl compress` and `ddspgl fuse` rewrite converted models without TensorFlow: this
    module reads a model folder into plain Python (the model.json dict and one
    :class:`Weight` per manifest entry, bytes as stored), checks everything TF.js 4.22
    would trip over later, and writes a folder back the way tensorflowjs_converter does.

Layout (tfjs-converter 4.22)
    ``model.json`` holds ``modelTopology.node`` (a GraphDef as JSON; every ``Const`` node's
    value lives in the weights, matched by name) and ``weightsManifest``: groups of
    ``{paths, weights}``, each group's shards concatenated in order holding its weights
    back to back. TF.js decodes float32, int32, bool, complex64 and string weights, and
    float32/int32 weights quantized to uint8, uint16 (``min``, ``scale``) or float16.

Errors
    Anything else is a :class:`ModelError` naming the file, weight or node, raised before
    any rewrite starts (:func:`load`, :meth:`Model.check`): malformed JSON or JSON nested
    deeper than :data:`MAX_DEPTH`, a layers model, a value of the wrong JSON type where a
    name, op, input list, attr (each AttrValue field), signature or manifest entry goes, a
    node input or signature tensor that names no node (``name``, ``name:1`` and ``^name``
    all name node ``name``), a cycle (a model is a DAG; only a TF1 while loop's edge out
    of NextIteration may close one), a Const node without its weight or with a weight of
    another dtype or shape than it declares, an unknown dtype, a shard path outside the
    folder or holding a NUL byte, a missing or short shard, and a shard or model.json that
    is not a regular file (a FIFO would block the read forever: it is refused before
    being opened).

    Output folders are checked before any work (:func:`check_output`: not a file, not a
    symbolic link, not a non-empty folder, in a place this process can write), and
    :func:`save` writes into a temporary folder beside the output and moves it into place
    only when every file is written, so a failure leaves nothing behind.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_JSON = "model.json"
SHARD_BYTES = 4 * 1024 * 1024  # tensorflowjs_converter's default weight_shard_size_bytes

# Bytes per value of the dtypes TF.js decodes (string: length-prefixed, variable).
DTYPE_BYTES = {"float32": 4, "int32": 4, "bool": 1, "complex64": 8, "string": None}
QUANTIZED_BYTES = {"uint8": 1, "uint16": 2, "float16": 2}
NUMPY = {"float32": "<f4", "int32": "<i4", "bool": "?", "complex64": "<c8"}
TF_DTYPE = {
    "float32": "DT_FLOAT",
    "int32": "DT_INT32",
    "bool": "DT_BOOL",
    "complex64": "DT_COMPLEX64",
    "string": "DT_STRING",
}


class ModelError(Exception):
    """A model folder that cannot be read, rewritten or written; the message says where."""


@dataclass
class Weight:
    """One manifest entry and its bytes as stored (quantized bytes stay quantized)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    data: bytes
    extra: dict  # other manifest keys, kept as read: quantization, group

    @property
    def quantization(self) -> dict | None:
        return self.extra.get("quantization")

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def array(self) -> np.ndarray:
        """The values as numpy (unquantized numeric weights only)."""
        if self.quantization is not None or self.dtype not in NUMPY:
            raise ModelError(f"weight {self.name!r}: no numpy view of {self.describe()}")
        return np.frombuffer(self.data, NUMPY[self.dtype]).reshape(self.shape)

    def describe(self) -> str:
        q = self.quantization
        stored = f" stored as {q['dtype']}" if q else ""
        return f"{self.dtype}{list(self.shape)}{stored}"

    def spec(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype, **self.extra}

    @classmethod
    def from_array(cls, name: str, array: np.ndarray, dtype: str) -> Weight:
        data = np.ascontiguousarray(array, NUMPY[dtype]).tobytes()
        return cls(name, tuple(int(d) for d in np.shape(array)), dtype, data, {})


@dataclass
class Model:
    """model.json as a dict (its ``weightsManifest`` is rebuilt on save) and the weights."""

    doc: dict
    weights: dict[str, Weight]
    source: Path | None = None
    dense_json: bool = False  # save model.json without whitespace (:mod:`.compact`)

    @property
    def nodes(self) -> list[dict]:
        return self.doc["modelTopology"]["node"]

    @nodes.setter
    def nodes(self, nodes: list[dict]) -> None:
        self.doc["modelTopology"]["node"] = nodes

    def copy(self) -> Model:
        return Model(copy.deepcopy(self.doc), dict(self.weights), self.source, self.dense_json)

    def node_map(self) -> dict[str, dict]:
        return {n["name"]: n for n in self.nodes}

    def consumers(self) -> dict[str, list[str]]:
        """Node name -> names of the nodes that read it (data or control input)."""
        out: dict[str, list[str]] = {n["name"]: [] for n in self.nodes}
        for n in self.nodes:
            for name in n.get("input", []):
                out[input_node(name)].append(n["name"])
        return out

    def library_names(self) -> set[str]:
        """Names of the nodes inside library functions (their Consts are weights too)."""
        names = set()
        for func in (self.doc["modelTopology"].get("library") or {}).get("function") or []:
            for n in func.get("nodeDef", []) or []:
                names.add(n.get("name"))
        return names

    def signature_nodes(self, key: str) -> set[str]:
        entries = (self.doc.get("signature") or {}).get(key) or {}
        return {input_node(e["name"]) for e in entries.values() if "name" in e}

    def outputs(self) -> set[str]:
        """The nodes TF.js treats as outputs: the signature's, else every node nothing reads."""
        named = self.signature_nodes("outputs")
        if named:
            return named
        return {name for name, users in self.consumers().items() if not users}

    def weight_bytes(self) -> int:
        return sum(len(w.data) for w in self.weights.values())

    def check(self) -> None:
        """What :func:`load` checks of a model.json and its weights, for a model built or
        edited in memory: a ModelError if it is not a well-formed, acyclic graph model."""
        where = self.source / MODEL_JSON if self.source is not None else "model"
        check_doc(where, self.doc)
        check_consts(where, self.doc, self.weights)


def input_node(name: str) -> str:
    """The node an input string names: '^a' (control), 'a:1' and 'a' all name node 'a'."""
    name = name[1:] if name.startswith("^") else name
    head, sep, tail = name.rpartition(":")
    return head if sep and tail.isdigit() else name


def rename_input(name: str, new: str) -> str:
    """`name` pointing at node `new` instead, keeping a '^' or ':k' decoration."""
    control = "^" if name.startswith("^") else ""
    bare = name[1:] if control else name
    head, sep, tail = bare.rpartition(":")
    suffix = f":{tail}" if sep and tail.isdigit() else ""
    return f"{control}{new}{suffix}"


# -- reading ------------------------------------------------------------------------------------

# model.json nests about 10 deep (modelTopology.library.function[].nodeDef[].attr.value.
# tensor.tensorShape.dim[].size); anything far deeper is not a graph model, and a cap
# well under Python's recursion limit keeps copying and writing the document safe.
MAX_DEPTH = 100

_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _not_regular(mode: int) -> str | None:
    """What a file of this mode is, when it is not a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _FILE_KINDS if test(mode)), "not a regular file")


def _no_nul(path) -> None:
    if "\0" in str(path):
        raise ModelError(f"{str(path)!r}: a path cannot hold a NUL byte")


def read_regular(path: Path) -> bytes:
    """The bytes of `path`, refusing anything but a regular file before reading from it (a
    FIFO or a device would block or never end). FileNotFoundError passes through."""
    _no_nul(path)
    try:
        kind = _not_regular(os.stat(path).st_mode)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ModelError(f"{path}: cannot read: {exc.strerror}") from None
    if kind:
        raise ModelError(f"{path}: is {kind}, not a regular file")
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, open returns
        # at once and fstat refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        kind = _not_regular(os.fstat(fd).st_mode)
        if kind:
            raise ModelError(f"{path}: is {kind}, not a regular file")
        try:
            return f.read()
        except OSError as exc:
            raise ModelError(f"{path}: cannot read: {exc.strerror}") from None


def _too_deep(where) -> ModelError:
    return ModelError(
        f"{where}: JSON nested deeper than {MAX_DEPTH} levels (model.json nests about 10)"
    )


def _depth(doc) -> int:
    """How deep `doc` nests (a scalar: 0), without recursion; stops past MAX_DEPTH."""
    deepest, stack = 0, [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
            stack.extend((v, depth) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def _json(path: Path) -> dict:
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        raise ModelError(
            f"{path}: no such file (a TF.js graph model folder holds model.json)"
        ) from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path}: not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise _too_deep(path) from None
    if not isinstance(doc, dict):
        raise ModelError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    return doc


# -- checking -----------------------------------------------------------------------------------

# The dtype a Const node may declare, by the manifest dtype tensorflowjs_converter stores its
# value as (write_weights.py stores float16/float64 as float32, int64 as int32, complex128
# as complex64).
STORED_AS = {
    "DT_FLOAT": "float32",
    "DT_HALF": "float32",
    "DT_DOUBLE": "float32",
    "DT_INT32": "int32",
    "DT_INT64": "int32",
    "DT_BOOL": "bool",
    "DT_COMPLEX64": "complex64",
    "DT_COMPLEX128": "complex64",
    "DT_STRING": "string",
}
# TF1 while loops (what the converter writes without --control_flow_v2) close the loop with
# an edge out of NextIteration into Merge: the one cycle a GraphDef may hold.
BACK_EDGE_OPS = ("NextIteration", "RefNextIteration")


def _is_int(v) -> bool:
    """An int64 as protobuf JSON writes one: a number or a decimal string."""
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, str) and re.fullmatch(r"-?\d+", v) is not None)


def _is_float(v) -> bool:
    """A float as protobuf JSON writes one: a number, or a string such as "NaN"."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return True
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return isinstance(v, str)


def _is_shape(v) -> bool:
    """A TensorShapeProto: {dim: [{size, name?}], unknownRank?}."""
    if not isinstance(v, dict) or not isinstance(v.get("unknownRank", False), bool):
        return False
    dims = v.get("dim", [])
    return isinstance(dims, list) and all(
        isinstance(d, dict) and _is_int(d.get("size", 0)) and isinstance(d.get("name", ""), str)
        for d in dims
    )


def _is_tensor(v) -> bool:
    return (
        isinstance(v, dict)
        and isinstance(v.get("dtype", ""), str)
        and _is_shape(v.get("tensorShape", {}))
    )


# AttrValue fields (tensorflow/core/framework/attr_value.proto) and what each must hold.
_ATTR_FIELDS = {
    "s": (lambda v: isinstance(v, str), "a string"),
    "i": (_is_int, "an integer"),
    "f": (_is_float, "a number"),
    "b": (lambda v: isinstance(v, bool), "true or false"),
    "type": (lambda v: isinstance(v, str), "a dtype name"),
    "shape": (_is_shape, "a shape {dim: [{size}]}"),
    "tensor": (_is_tensor, "a tensor {dtype, tensorShape}"),
    "func": (lambda v: isinstance(v, dict), "an object"),
    "placeholder": (lambda v: isinstance(v, str), "a string"),
}


def _attr_problem(value) -> str | None:
    """What is wrong with one AttrValue, or None."""
    if not isinstance(value, dict):
        return f"must be an object, got {type(value).__name__}"
    for key, v in value.items():
        if key == "list":
            if not isinstance(v, dict):
                return "'list' must be an object"
            for k, items in v.items():
                ok, what = _ATTR_FIELDS.get(k, (None, ""))
                if ok and not (isinstance(items, list) and all(ok(x) for x in items)):
                    return f"'list.{k}' must be a list, each item {what}"
        elif key in _ATTR_FIELDS:
            ok, what = _ATTR_FIELDS[key]
            if not ok(v):
                return f"{key!r} must be {what}, got {_short(v)}"
    return None


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_nodes(where, nodes, label: str) -> set[str]:
    """Names, ops, input lists and attrs of a node list; returns the names."""
    if not isinstance(nodes, list):
        raise ModelError(f"{where}: {label} must be a list of nodes")
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("name"), str) or not node["name"]:
            raise ModelError(f"{where}: {label}[{i}] has no name")
        name = node["name"]
        if not isinstance(node.get("op"), str) or not node["op"]:
            raise ModelError(f"{where}: node {name!r} has no op")
        if name in seen:
            raise ModelError(f"{where}: two nodes are named {name!r}")
        seen.add(name)
        inputs = node.get("input", [])
        if not isinstance(inputs, list) or not all(isinstance(s, str) for s in inputs):
            raise ModelError(f"{where}: node {name!r}: input must be a list of names")
        attr = node.get("attr", {})
        if not isinstance(attr, dict):
            raise ModelError(
                f"{where}: node {name!r}: attr must be an object, got {type(attr).__name__}"
            )
        for key, value in attr.items():
            problem = _attr_problem(value)
            if problem:
                raise ModelError(f"{where}: node {name!r}: attr {key!r}: {problem}")
    return seen


def _library(where, topology: dict) -> list[dict]:
    """The function definitions of modelTopology.library (control flow v2 bodies)."""
    library = topology.get("library")
    if library is None:
        return []
    if not isinstance(library, dict):
        raise ModelError(f"{where}: modelTopology.library must be an object")
    functions = library.get("function")
    functions = [] if functions is None else functions
    if not isinstance(functions, list) or not all(isinstance(f, dict) for f in functions):
        raise ModelError(f"{where}: modelTopology.library.function must be a list of objects")
    return functions


def _initializer(where, doc: dict) -> list[dict]:
    """The nodes of modelInitializer (the graph that fills hash tables), if any."""
    init = doc.get("modelInitializer")
    if init is None:
        return []
    if not isinstance(init, dict):
        raise ModelError(f"{where}: modelInitializer must be an object")
    nodes = init.get("node")
    nodes = [] if nodes is None else nodes
    _check_nodes(where, nodes, "modelInitializer.node")
    return nodes


def _const_nodes(doc: dict) -> list[dict]:
    """Every Const node whose value lives in the weights: the graph's, its library
    functions' and its initializer's (a checked document)."""
    nodes = list(doc["modelTopology"]["node"])
    for func in (doc["modelTopology"].get("library") or {}).get("function") or []:
        nodes += func.get("nodeDef") or []
    nodes += (doc.get("modelInitializer") or {}).get("node") or []
    return [n for n in nodes if n["op"] == "Const"]


def topological_order(nodes: list[dict], where="model") -> list[str]:
    """The node names, each after every node it reads (data and control inputs; inputs that
    name no node are passed over), or a ModelError naming a cycle. Edges out of
    NextIteration nodes (TF1 while loops) are not followed."""
    by_name = {n["name"]: n for n in nodes}
    back = {name for name, n in by_name.items() if n["op"] in BACK_EDGE_OPS}
    reads = {
        name: [
            i
            for i in dict.fromkeys(input_node(s) for s in n.get("input", []))
            if i in by_name and i not in back
        ]
        for name, n in by_name.items()
    }
    users: dict[str, list[str]] = {name: [] for name in by_name}
    pending = {}
    for name, ins in reads.items():
        pending[name] = len(ins)
        for i in ins:
            users[i].append(name)
    ready = [name for name, k in pending.items() if k == 0][::-1]
    order = []
    while ready:
        name = ready.pop()
        order.append(name)
        for user in users[name]:
            pending[user] -= 1
            if pending[user] == 0:
                ready.append(user)
    if len(order) == len(by_name):
        return order
    stuck = {name for name, k in pending.items() if k}
    # Every stuck node reads a stuck node: walking those reads from any of them must
    # come back to a node already on the walk.
    walk: list[str] = []
    at: dict[str, int] = {}
    name = next(n for n in by_name if n in stuck)
    while name not in at:
        at[name] = len(walk)
        walk.append(name)
        name = next(i for i in reads[name] if i in stuck)
    cycle = walk[at[name] :] + [name]
    shown = cycle if len(cycle) <= 9 else cycle[:4] + ["..."] + cycle[-4:]
    chain = " reads ".join(s if s == "..." else repr(s) for s in shown)
    raise ModelError(f"{where}: the graph has a cycle, {chain}; a graph model must be acyclic")


def check_doc(where, doc: dict) -> None:
    """model.json's structure: format, nesting, nodes (names, ops, inputs, attrs), every
    input and signature name resolving to a node, library and initializer nodes, and no
    cycle. Raises a ModelError naming `where` and what is wrong."""
    if _depth(doc) > MAX_DEPTH:
        raise _too_deep(where)
    fmt = doc.get("format", "graph-model")
    if fmt != "graph-model":
        raise ModelError(
            f"{where}: format {fmt!r}; ddspgl rewrites graph models "
            "(tensorflowjs_converter --output_format=tfjs_graph_model)"
        )
    topology = doc.get("modelTopology")
    if not isinstance(topology, dict) or not isinstance(topology.get("node"), list):
        raise ModelError(f"{where}: modelTopology.node is missing or not a list")
    nodes = topology["node"]
    names = _check_nodes(where, nodes, "modelTopology.node")
    for node in nodes:
        for name in node.get("input", []):
            if input_node(name) not in names:
                raise ModelError(
                    f"{where}: node {node['name']!r} reads {name!r}, which is not a node"
                )
    for f, func in enumerate(_library(where, topology)):
        defs = func.get("nodeDef")
        _check_nodes(where, [] if defs is None else defs, f"modelTopology.library.function[{f}]")
    _initializer(where, doc)
    signature = doc.get("signature")
    signature = {} if signature is None else signature
    if not isinstance(signature, dict):
        raise ModelError(f"{where}: signature must be an object, got {type(signature).__name__}")
    for key in ("inputs", "outputs"):
        entries = signature.get(key)
        entries = {} if entries is None else entries
        if not isinstance(entries, dict):
            raise ModelError(f"{where}: signature.{key} must be an object of tensors")
        for k, entry in entries.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ModelError(f"{where}: signature.{key}[{k!r}] has no tensor name")
            if input_node(entry["name"]) not in names:
                raise ModelError(
                    f"{where}: signature.{key}[{k!r}] names {entry['name']!r}, which is not a node"
                )
    topological_order(nodes, where)


def check_consts(where, doc: dict, weights: dict[str, Weight]) -> None:
    """Every Const node has its weight, of the dtype and shape the node declares."""
    for node in _const_nodes(doc):
        name = node["name"]
        w = weights.get(name)
        if w is None:
            raise ModelError(
                f"{where}: Const node {name!r} has no weight (its value must be in weightsManifest)"
            )
        declared = node.get("attr", {}).get("dtype", {}).get("type")
        if declared is not None and STORED_AS.get(declared) != w.dtype:
            raise ModelError(
                f"{where}: Const node {name!r} is {declared}, its weight {w.describe()}"
            )
        shape = node.get("attr", {}).get("value", {}).get("tensor", {}).get("tensorShape")
        if shape is not None and not shape.get("unknownRank"):
            dims = tuple(int(d.get("size", 0)) for d in shape.get("dim", []))
            if dims != w.shape:
                raise ModelError(
                    f"{where}: Const node {name!r} has shape {list(dims)}, its weight "
                    f"{w.describe()}"
                )


def _entry(path: Path, raw) -> tuple[str, tuple[int, ...], str, dict]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ModelError(f"{path}: a weightsManifest entry has no name: {_short(raw)}")
    name = raw["name"]
    shape = raw.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise ModelError(
            f"{path}: weight {name!r}: shape must be a list of sizes, got {_short(shape)}"
        )
    dtype = raw.get("dtype")
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        raise ModelError(
            f"{path}: weight {name!r} has unknown dtype {_short(dtype)} "
            f"(TF.js reads {', '.join(DTYPE_BYTES)})"
        )
    extra = {k: v for k, v in raw.items() if k not in ("name", "shape", "dtype")}
    q = extra.get("quantization")
    if q is not None:
        qtype = q.get("dtype") if isinstance(q, dict) else None
        if not isinstance(qtype, str) or qtype not in QUANTIZED_BYTES:
            raise ModelError(
                f"{path}: weight {name!r} has unknown quantization dtype {_short(qtype)} "
                f"(TF.js reads {', '.join(QUANTIZED_BYTES)})"
            )
        allowed = ("float32",) if qtype == "float16" else ("float32", "int32")
        if dtype not in allowed:
            raise ModelError(f"{path}: weight {name!r}: {dtype} cannot be quantized as {qtype}")
        if qtype != "float16" and not all(
            isinstance(q.get(k), int | float)
            and not isinstance(q.get(k), bool)
            and math.isfinite(q[k])
            for k in ("min", "scale")
        ):
            raise ModelError(
                f"{path}: weight {name!r}: {qtype} quantization needs numbers min and scale"
            )
    return name, tuple(shape), dtype, extra


def _byte_length(name: str, shape, dtype: str, extra: dict, data: bytes, offset: int) -> int:
    size = math.prod(shape)
    q = extra.get("quantization")
    if q is not None:
        return size * QUANTIZED_BYTES[q["dtype"]]
    if dtype != "string":
        return size * DTYPE_BYTES[dtype]
    at = offset
    for _ in range(size):  # uint32 little-endian length, then the bytes
        if at + 4 > len(data):
            return len(data) + 1 - offset  # short: the caller reports it
        at += 4 + int.from_bytes(data[at : at + 4], "little")
    return at - offset


def load(folder) -> Model:
    """Read and check a TF.js graph model folder (model.json and its shards)."""
    folder = Path(folder)
    _no_nul(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: not a folder (expected a TF.js graph model folder)")
    path = folder / MODEL_JSON
    doc = _json(path)
    check_doc(path, doc)
    manifest = doc.get("weightsManifest", [])
    if not isinstance(manifest, list):
        raise ModelError(f"{path}: weightsManifest must be a list of groups")
    weights: dict[str, Weight] = {}
    root = folder.resolve()
    for g, group in enumerate(manifest):
        if (
            not isinstance(group, dict)
            or not isinstance(group.get("paths"), list)
            or not isinstance(group.get("weights"), list)
        ):
            raise ModelError(f"{path}: weightsManifest[{g}] needs lists 'paths' and 'weights'")
        entries = [_entry(path, raw) for raw in group["weights"]]
        chunks = []
        for rel in group["paths"]:
            if not isinstance(rel, str) or not rel or "\0" in rel:
                raise ModelError(f"{path}: weightsManifest[{g}]: bad shard path {_short(rel)}")
            if Path(rel).is_absolute() or ".." in Path(rel).parts:
                raise ModelError(f"{path}: shard path {rel!r} leaves the model folder")
            try:
                shard = (folder / rel).resolve()
            except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
                raise ModelError(f"{path}: shard path {rel!r}: {exc}") from None
            if root not in shard.parents:
                raise ModelError(f"{path}: shard path {rel!r} leaves the model folder")
            try:
                chunks.append(read_regular(shard))
            except FileNotFoundError:
                raise ModelError(
                    f"missing weight shard {folder / rel} (listed in {path})"
                ) from None
        data = b"".join(chunks)
        offset = 0
        for name, shape, dtype, extra in entries:
            n = _byte_length(name, shape, dtype, extra, data, offset)
            if offset + n > len(data):
                raise ModelError(
                    f"{path}: the shards of weightsManifest[{g}] ({len(data)} bytes) end "
                    f"inside weight {name!r}: is a shard truncated or missing?"
                )
            if name in weights:
                raise ModelError(f"{path}: two weights are named {name!r}")
            weights[name] = Weight(name, shape, dtype, data[offset : offset + n], extra)
            offset += n
        if offset != len(data):
            raise ModelError(
                f"{path}: the shards of weightsManifest[{g}] hold {len(data)} bytes, "
                f"its weights {offset}"
            )
    check_consts(path, doc, weights)
    return Model(doc, weights, folder)


# -- writing ------------------------------------------------------------------------------------


def shard_paths(model: Model) -> list[str]:
    """The shard file names of a model as read (empty for a model built in memory)."""
    return [p for g in model.doc.get("weightsManifest", []) for p in g["paths"]]


def check_output(out, *, new: bool = True) -> Path:
    """`out` checked as a folder to write, before any work: for a model (`new`), a path
    that does not exist or an empty folder, never a symbolic link; otherwise a folder or a
    path that can become one. Whether the place is writable is found by making and removing
    an empty folder there. Raises a ModelError saying why not; returns `out` as a Path."""
    out = Path(out)
    _no_nul(out)
    try:
        if new and out.is_symlink():
            raise ModelError(f"{out}: is a symbolic link; give a new folder to write the model in")
        if os.path.lexists(out):
            if not out.is_dir():
                what = "a dangling symbolic link" if out.is_symlink() else "a file"
                raise ModelError(f"{out}: exists and is {what}, not a folder")
            if new and any(out.iterdir()):
                raise ModelError(f"{out}: exists and is not an empty folder; not overwriting it")
        place = Path(os.path.abspath(out))
        if new or not place.is_dir():
            place = place.parent
        while not os.path.lexists(place):
            place = place.parent
        if not place.is_dir():
            raise ModelError(f"{out}: cannot be made a folder: {place} is not a folder")
    except OSError as exc:
        raise ModelError(f"{out}: cannot use it: {exc.strerror or exc}") from None
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".ddspgl-check-", dir=place))
    except OSError as exc:
        raise ModelError(f"{out}: cannot write in {place}: {exc.strerror or exc}") from None
    return out


def _prepare(out: Path) -> Path:
    """A temporary folder beside `out` (checked by :func:`check_output`) to write into."""
    check_output(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise ModelError(f"{out}: cannot write: {exc.strerror or exc}") from None


def _commit(tmp: Path, out: Path) -> None:
    if out.exists():
        out.rmdir()  # empty: checked by _prepare
    tmp.rename(out)


def _written(tmp: Path, out: Path, write) -> None:
    """Run `write()` into `tmp`, then move `tmp` to `out`; on any failure remove `tmp`,
    so that nothing is left behind, and report an OSError as a ModelError."""
    try:
        write()
        _commit(tmp, out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise ModelError(f"{out}: cannot write: {exc.strerror or exc}") from exc
        raise


def _shard_paths(data: bytes) -> list[str]:
    count = max(1, math.ceil(len(data) / SHARD_BYTES))
    return [f"group1-shard{i + 1}of{count}.bin" for i in range(count)] if data else []


def model_json(model: Model, *, dense: bool | None = None) -> str:
    """model.json as :func:`save` writes it (the manifest rebuilt from the weights);
    without whitespace when `dense` (default: ``model.dense_json``)."""
    dense = model.dense_json if dense is None else dense
    paths = _shard_paths(b"".join(w.data for w in model.weights.values()))
    doc = dict(model.doc)
    specs = [w.spec() for w in model.weights.values()]
    doc["weightsManifest"] = [{"paths": paths, "weights": specs}] if specs else []
    return json.dumps(doc, separators=(",", ":") if dense else None)


def save(model: Model, out) -> list[Path]:
    """Write model.json and 4 MiB shards into the new folder `out` (one weight group)."""
    out = Path(out)
    tmp = _prepare(out)
    data = b"".join(w.data for w in model.weights.values())
    paths = _shard_paths(data)

    def write():
        for i, name in enumerate(paths):
            (tmp / name).write_bytes(data[i * SHARD_BYTES : (i + 1) * SHARD_BYTES])
        (tmp / MODEL_JSON).write_text(model_json(model), encoding="utf-8")

    _written(tmp, out, write)
    return [out / MODEL_JSON] + [out / p for p in paths]


def copy_files(model: Model, out) -> list[Path]:
    """Copy a loaded model's files byte for byte into the new folder `out`."""
    out = Path(out)
    if model.source is None:
        raise ModelError("copy_files needs a model read from a folder")
    names = [MODEL_JSON] + shard_paths(model)
    tmp = _prepare(out)

    def write():
        for name in names:
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(read_regular(model.source / name))

    _written(tmp, out, write)
    return [out / name for name in names]


def sizes(folder) -> dict[str, int]:
    """Bytes of model.json, of the shards it lists, and in total."""
    folder = Path(folder)
    doc = _json(folder / MODEL_JSON)
    shards = sum(
        (folder / p).stat().st_size for g in doc.get("weightsManifest", []) for p in g["paths"]
    )
    json_bytes = (folder / MODEL_JSON).stat().st_size
    return {"json": json_bytes, "weights": shards, "total": json_bytes + shards}


# -- editing helpers ----------------------------------------------------------------------------


def unique_name(taken: set[str], base: str) -> str:
    """`base`, or `base_1`, `base_2`... whichever is not in `taken`; reserves it."""
    name, i = base, 0
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name


def const_node(name: str, dtype: str, shape) -> dict:
    """A Const node as tensorflowjs_converter writes one (its value lives in the weights)."""
    dims = {"dim": [{"size": str(int(d))} for d in shape]} if len(shape) else {}
    tf_dtype = TF_DTYPE[dtype]
    return {
        "name": name,
        "op": "Const",
        "attr": {
            "value": {"tensor": {"dtype": tf_dtype, "tensorShape": dims}},
            "dtype": {"type": tf_dtype},
        },
    }


def prune(model: Model, outputs: set[str]) -> list[str]:
    """Drop the nodes no output needs (keeping every Placeholder) and the weights no Const
    node holds; returns the dropped names. `outputs` are the original model's outputs."""
    nodes = model.node_map()
    keep: set[str] = set()
    stack = [name for name in outputs if name in nodes]
    stack += [n["name"] for n in model.nodes if n["op"].startswith("Placeholder")]
    while stack:
        name = stack.pop()
        if name in keep:
            continue
        keep.add(name)
        stack.extend(input_node(i) for i in nodes[name].get("input", []))
    dropped = [n["name"] for n in model.nodes if n["name"] not in keep]
    model.nodes = [n for n in model.nodes if n["name"] in keep]
    held = {n["name"] for n in _const_nodes(model.doc)}
    for name in [w for w in model.weights if w not in held]:
        del model.weights[name]
        if name not in dropped:
            dropped.append(name)
    return dropped


def const_array(model: Model, name: str, nodes: dict[str, dict] | None = None) -> np.ndarray | None:
    """The values of Const node `name` (unquantized numeric), else None; `nodes`: the
    model's :meth:`Model.node_map`, when the caller holds it."""
    node = (model.node_map() if nodes is None else nodes).get(input_node(name))
    if node is None or node["op"] != "Const":
        return None
    w = model.weights.get(node["name"])
    if w is None or w.quantization is not None or w.dtype not in NUMPY:
        return None
    return w.array()
