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
    Anything else is a :class:`ModelError` naming the file, weight or node: malformed
    JSON, a layers model, an unknown dtype, a shard path outside the folder, a missing
    or short shard, a node input that names no node. :func:`save` writes into a
    temporary folder beside the output and moves it into place only when every file is
    written, so a failure leaves nothing behind.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
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

    @property
    def nodes(self) -> list[dict]:
        return self.doc["modelTopology"]["node"]

    @nodes.setter
    def nodes(self, nodes: list[dict]) -> None:
        self.doc["modelTopology"]["node"] = nodes

    def copy(self) -> Model:
        return Model(copy.deepcopy(self.doc), dict(self.weights), self.source)

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
        for func in self.doc["modelTopology"].get("library", {}).get("function", []) or []:
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


def _json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(
            f"{path}: no such file (a TF.js graph model folder holds model.json)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot read: {exc}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ModelError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    return doc


def _check_topology(path: Path, doc: dict) -> None:
    fmt = doc.get("format", "graph-model")
    if fmt != "graph-model":
        raise ModelError(
            f"{path}: format {fmt!r}; ddspgl rewrites graph models "
            "(tensorflowjs_converter --output_format=tfjs_graph_model)"
        )
    topology = doc.get("modelTopology")
    if not isinstance(topology, dict) or not isinstance(topology.get("node"), list):
        raise ModelError(f"{path}: modelTopology.node is missing or not a list")
    seen: set[str] = set()
    for i, node in enumerate(topology["node"]):
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            raise ModelError(f"{path}: modelTopology.node[{i}] has no name")
        if not isinstance(node.get("op"), str):
            raise ModelError(f"{path}: node {node['name']!r} has no op")
        if node["name"] in seen:
            raise ModelError(f"{path}: two nodes are named {node['name']!r}")
        inputs = node.get("input", [])
        if not isinstance(inputs, list) or not all(isinstance(s, str) for s in inputs):
            raise ModelError(f"{path}: node {node['name']!r}: input must be a list of names")
        seen.add(node["name"])
    for node in topology["node"]:
        for name in node.get("input", []):
            if input_node(name) not in seen:
                raise ModelError(
                    f"{path}: node {node['name']!r} reads {name!r}, which is not a node"
                )


def _entry(path: Path, raw) -> tuple[str, tuple[int, ...], str, dict]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ModelError(f"{path}: a weightsManifest entry has no name: {raw!r}")
    name = raw["name"]
    shape = raw.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise ModelError(f"{path}: weight {name!r}: shape must be a list of sizes, got {shape!r}")
    dtype = raw.get("dtype")
    if dtype not in DTYPE_BYTES:
        raise ModelError(
            f"{path}: weight {name!r} has unknown dtype {dtype!r} "
            f"(TF.js reads {', '.join(DTYPE_BYTES)})"
        )
    extra = {k: v for k, v in raw.items() if k not in ("name", "shape", "dtype")}
    q = extra.get("quantization")
    if q is not None:
        qtype = q.get("dtype") if isinstance(q, dict) else None
        if qtype not in QUANTIZED_BYTES:
            raise ModelError(
                f"{path}: weight {name!r} has unknown quantization dtype {qtype!r} "
                f"(TF.js reads {', '.join(QUANTIZED_BYTES)})"
            )
        allowed = ("float32",) if qtype == "float16" else ("float32", "int32")
        if dtype not in allowed:
            raise ModelError(f"{path}: weight {name!r}: {dtype} cannot be quantized as {qtype}")
        if qtype != "float16" and not ("min" in q and "scale" in q):
            raise ModelError(f"{path}: weight {name!r}: {qtype} quantization needs min and scale")
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
    if not folder.is_dir():
        raise ModelError(f"{folder}: not a folder (expected a TF.js graph model folder)")
    path = folder / MODEL_JSON
    doc = _json(path)
    _check_topology(path, doc)
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
            if not isinstance(rel, str) or not rel:
                raise ModelError(f"{path}: weightsManifest[{g}]: bad shard path {rel!r}")
            shard = (folder / rel).resolve()
            if root not in shard.parents:
                raise ModelError(f"{path}: shard path {rel!r} leaves the model folder")
            try:
                chunks.append(shard.read_bytes())
            except FileNotFoundError:
                raise ModelError(
                    f"missing weight shard {folder / rel} (listed in {path})"
                ) from None
            except OSError as exc:
                raise ModelError(f"{folder / rel}: cannot read: {exc}") from exc
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
    return Model(doc, weights, folder)


# -- writing ------------------------------------------------------------------------------------


def shard_paths(model: Model) -> list[str]:
    """The shard file names of a model as read (empty for a model built in memory)."""
    return [p for g in model.doc.get("weightsManifest", []) for p in g["paths"]]


def _prepare(out: Path) -> Path:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ModelError(f"{out}: exists and is not an empty folder; not overwriting it")
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))


def _commit(tmp: Path, out: Path) -> None:
    if out.exists():
        out.rmdir()  # empty: checked by _prepare
    tmp.rename(out)


def save(model: Model, out) -> list[Path]:
    """Write model.json and 4 MiB shards into the new folder `out` (one weight group)."""
    out = Path(out)
    tmp = _prepare(out)
    try:
        data = b"".join(w.data for w in model.weights.values())
        count = max(1, math.ceil(len(data) / SHARD_BYTES))
        paths = [f"group1-shard{i + 1}of{count}.bin" for i in range(count)] if data else []
        for i, name in enumerate(paths):
            (tmp / name).write_bytes(data[i * SHARD_BYTES : (i + 1) * SHARD_BYTES])
        doc = dict(model.doc)
        specs = [w.spec() for w in model.weights.values()]
        doc["weightsManifest"] = [{"paths": paths, "weights": specs}] if specs else []
        (tmp / MODEL_JSON).write_text(json.dumps(doc), encoding="utf-8")
        _commit(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / MODEL_JSON] + [out / p for p in paths]


def copy_files(model: Model, out) -> list[Path]:
    """Copy a loaded model's files byte for byte into the new folder `out`."""
    out = Path(out)
    if model.source is None:
        raise ModelError("copy_files needs a model read from a folder")
    names = [MODEL_JSON] + shard_paths(model)
    tmp = _prepare(out)
    try:
        for name in names:
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(model.source / name, tmp / name)
        _commit(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
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
    held = {n["name"] for n in model.nodes if n["op"] == "Const"} | model.library_names()
    for name in [w for w in model.weights if w not in held]:
        del model.weights[name]
        if name not in dropped:
            dropped.append(name)
    return dropped


def const_array(model: Model, name: str) -> np.ndarray | None:
    """The values of Const node `name` (unquantized numeric), else None."""
    node = model.node_map().get(input_node(name))
    if node is None or node["op"] != "Const":
        return None
    w = model.weights.get(node["name"])
    if w is None or w.quantization is not None or w.dtype not in NUMPY:
        return None
    return w.array()
