"""`ddspgl compress`: constants a graph can rebuild are not stored.

Why
    TensorFlow's grappler folds ``tf.zeros(...) + tf.ones(...) * 2`` or a broadcast of
    harmonic numbers into one dense Const, and tensorflowjs_converter stores every Const
    in the weight shards: the production DDSP model was 10 MB of such tensors, 300 KB
    once they were rebuilt by Fill / ZerosLike ops. This pass does that on any TF.js
    graph model, without TensorFlow.

Rewrites (each keeps the node's name, so consumers and signatures are untouched)
    - all values bit-identical: ``ZerosLike(ref)`` / ``OnesLike(ref)`` for +0 and 1 when a
      tensor of the same shape and dtype is at hand (a Placeholder of static shape that
      every consumer already depends on, or another Const), else
      ``Fill(shape, value)``;
    - periodic along each axis (a broadcast: period 1; a tile: any divisor):
      ``BroadcastTo(small, shape)`` when every axis is broadcast or kept whole, else
      ``Tile(small, multiples)``, with ``small`` the smallest block;
    - Consts with identical dtype, shape, quantization and bytes are stored once;
    - weights no node needs are dropped (a Const nothing reads, when the signature names
      the outputs; Consts a rewrite left unread).
    Only unquantized float32 / int32 / bool Consts of at least ``min_bytes`` are rebuilt
    (small index constants stay as they are: TF.js reads them on the CPU), and never
    ones holding NaN (Fill would canonicalise its payload).

Exactness
    Fill, ZerosLike, OnesLike, BroadcastTo and Tile copy values: on the TF.js cpu backend
    the rewritten model's outputs are bit-for-bit the original's (tests/model). On webgl
    in float16 mode the rebuilt constant is a rendered texture, so it is rounded to
    float16 once, like every intermediate there; the original's upload texture is not.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from .graph import (
    TF_DTYPE,
    Model,
    Weight,
    const_node,
    input_node,
    prune,
    rename_input,
    topological_order,
    unique_name,
)

MIN_BYTES = 1024
REBUILT = ("float32", "int32", "bool")
ONE_BITS = {"float32": 0x3F800000, "int32": 1, "bool": 1}


@dataclass
class Change:
    """One rewrite: the node, what it became, and the weight bytes it saved."""

    node: str
    kind: str  # ZerosLike, OnesLike, Fill, BroadcastTo, Tile, dedup, drop
    detail: str
    saved: int

    def __str__(self) -> str:
        return f"{self.kind:<11} {self.node}: {self.detail} (-{self.saved} B)"


def _bits(w: Weight) -> np.ndarray:
    """The values as unsigned integers of their width: equality is bit equality."""
    width = {"float32": "<u4", "int32": "<u4", "bool": "u1"}[w.dtype]
    return np.frombuffer(w.data, width).reshape(w.shape)


def periods(bits: np.ndarray) -> list[int]:
    """Smallest period of `bits` along each axis (a divisor of the size; 1: constant)."""
    out = []
    x = bits
    for axis, n in enumerate(bits.shape):
        p = n
        for d in range(1, n // 2 + 1):
            if n % d:
                continue
            r = x.reshape(x.shape[:axis] + (n // d, d) + x.shape[axis + 1 :])
            first = r[(slice(None),) * axis + (slice(0, 1),)]
            if (r == first).all():
                p = d
                break
        x = x[(slice(None),) * axis + (slice(0, p),)]
        out.append(p)
    return out


def _static_placeholders(model: Model) -> dict[str, tuple[tuple[int, ...], str]]:
    """Placeholder name -> (shape, dtype) for those with a fully known shape."""
    out = {}
    inverse = {v: k for k, v in TF_DTYPE.items()}
    for n in model.nodes:
        if n["op"] != "Placeholder":
            continue
        attr = n.get("attr", {})
        shape = attr.get("shape", {}).get("shape")
        dtype = inverse.get(attr.get("dtype", {}).get("type"))
        if not isinstance(shape, dict) or shape.get("unknownRank") or dtype is None:
            continue
        dims = tuple(int(d.get("size", -1)) for d in shape.get("dim", []))
        if all(d >= 0 for d in dims):
            out[n["name"]] = (dims, dtype)
    return out


def _depends(model: Model) -> dict[str, frozenset[str]]:
    """Node -> the Placeholders it needs (through data and control inputs), in one pass
    over the nodes in topological order."""
    nodes = model.node_map()
    memo: dict[str, frozenset[str]] = {}
    for name in topological_order(model.nodes):
        # An input over a while loop's back edge comes later in the order: it is left out,
        # which can only keep a constant from becoming a ZerosLike / OnesLike.
        ins = [memo.get(input_node(i), frozenset()) for i in nodes[name].get("input", [])]
        own = {name} if nodes[name]["op"] == "Placeholder" else set()
        memo[name] = frozenset(own.union(*ins))
    return memo


class _Rewriter:
    def __init__(self, model: Model, min_bytes: int):
        self.model = model
        self.min_bytes = min_bytes
        self.taken = {n["name"] for n in model.nodes} | set(model.weights)
        self.users = model.consumers()
        self.placeholders = _static_placeholders(model)
        self.depends = _depends(model)
        self.likes: set[str] = set()  # nodes turned into ZerosLike / OnesLike
        self.changes: list[Change] = []

    def new_const(self, base: str, array: np.ndarray, dtype: str) -> dict:
        name = unique_name(self.taken, base)
        self.model.weights[name] = Weight.from_array(name, array, dtype)
        return const_node(name, dtype, np.shape(array))

    def reference(self, name: str, w: Weight) -> str | None:
        """A tensor of w's shape and dtype that computing `name`'s consumers needs anyway."""
        users = self.users[name]
        for p, (shape, dtype) in self.placeholders.items():
            if shape == w.shape and dtype == w.dtype and users:
                if all(p in self.depends[u] for u in users):
                    return p
        for n in self.model.nodes:
            other = self.model.weights.get(n["name"])
            if (
                n["op"] == "Const"
                and n["name"] != name
                and n["name"] not in self.likes
                and other is not None
                and other.quantization is None
                and other.shape == w.shape
                and other.dtype == w.dtype
            ):
                return n["name"]
        return None

    def rebuild(self, node: dict) -> list[dict]:
        """Nodes replacing Const `node` (new Consts first), or [node] if it stays."""
        name = node["name"]
        w = self.model.weights.get(name)
        if (
            w is None
            or w.quantization is not None
            or w.dtype not in REBUILT
            or len(w.data) < self.min_bytes
        ):
            return [node]
        if w.dtype == "float32" and np.isnan(w.array()).any():
            return [node]
        bits = _bits(w)
        t = {"type": TF_DTYPE[w.dtype]}
        flat = bits.reshape(-1)
        if (flat == flat[0]).all():
            value = w.array().reshape(-1)[:1]
            shown = value[0].item()
            ref = None
            kind = {0: "ZerosLike", ONE_BITS[w.dtype]: "OnesLike"}.get(int(flat[0]))
            if kind is not None:
                ref = self.reference(name, w)
            if ref is not None:
                self.likes.add(name)
                del self.model.weights[name]
                self.changes.append(Change(name, kind, f"{w.describe()} like {ref}", len(w.data)))
                return [{"name": name, "op": kind, "input": [ref], "attr": {"T": t}}]
            shape = self.new_const(f"{name}/shape", np.array(w.shape, np.int32), "int32")
            fill = self.new_const(f"{name}/value", value.reshape(()), w.dtype)
            del self.model.weights[name]
            saved = len(w.data) - 4 * len(w.shape) - len(self.model.weights[fill["name"]].data)
            self.changes.append(Change(name, "Fill", f"{w.describe()} = {shown!r}", saved))
            new = {
                "name": name,
                "op": "Fill",
                "input": [shape["name"], fill["name"]],
                "attr": {"T": t, "index_type": {"type": "DT_INT32"}},
            }
            return [shape, fill, new]
        per = periods(bits)
        if list(per) == list(w.shape):
            return [node]
        small = w.array()[tuple(slice(0, p) for p in per)]
        reps = [n // p for n, p in zip(w.shape, per, strict=True)]
        broadcast = all(p in (1, n) for p, n in zip(per, w.shape, strict=True))
        cost = small.nbytes + 4 * len(w.shape)
        if cost > len(w.data) // 2:  # worth an op only if it halves the bytes at least
            return [node]
        block = self.new_const(f"{name}/block", small, w.dtype)
        if broadcast:
            kind, arg, attr = "BroadcastTo", list(w.shape), {"Tidx": {"type": "DT_INT32"}}
        else:
            kind, arg, attr = "Tile", reps, {"Tmultiples": {"type": "DT_INT32"}}
        suffix = "shape" if broadcast else "multiples"
        second = self.new_const(f"{name}/{suffix}", np.array(arg, np.int32), "int32")
        del self.model.weights[name]
        self.changes.append(
            Change(name, kind, f"{w.describe()} from {list(small.shape)}", len(w.data) - cost)
        )
        new = {
            "name": name,
            "op": kind,
            "input": [block["name"], second["name"]],
            "attr": {"T": t, **attr},
        }
        return [block, second, new]

    def constants(self) -> None:
        protected = self.model.library_names()
        nodes = []
        for node in self.model.nodes:
            if node["op"] == "Const" and node["name"] not in protected:
                nodes.extend(self.rebuild(node))
            else:
                nodes.append(node)
        self.model.nodes = nodes


def dedup(model: Model, outputs: set[str]) -> list[Change]:
    """Point every reader of a duplicate Const at its first copy (prune drops the rest)."""
    protected = model.library_names() | outputs | model.signature_nodes("inputs")
    first: dict[tuple, str] = {}
    rename: dict[str, str] = {}
    changes = []
    for node in model.nodes:
        w = model.weights.get(node["name"])
        if node["op"] != "Const" or w is None or node["name"] in protected:
            continue
        q = json.dumps(w.quantization, sort_keys=True)
        key = (w.dtype, w.shape, q, hashlib.sha256(w.data).digest())
        if key in first:
            rename[node["name"]] = first[key]
            changes.append(Change(node["name"], "dedup", f"same as {first[key]}", len(w.data)))
        else:
            first[key] = node["name"]
    if rename:
        for node in model.nodes:
            if "input" in node:
                node["input"] = [
                    rename_input(i, rename[input_node(i)]) if input_node(i) in rename else i
                    for i in node["input"]
                ]
    return changes


def compress(model: Model, *, min_bytes: int = MIN_BYTES) -> tuple[Model, list[Change]]:
    """A rewritten copy of `model` and the list of what changed (empty: nothing to do).
    A model that is not a well-formed graph model is a ModelError (:meth:`Model.check`)."""
    model.check()
    out = model.copy()
    outputs = model.outputs()
    rewriter = _Rewriter(out, min_bytes)
    rewriter.constants()
    changes = rewriter.changes + dedup(out, outputs)
    before = dict(out.weights)
    for name in prune(out, outputs):
        w = before.get(name)
        if w is not None and not any(c.node == name for c in changes):
            changes.append(Change(name, "drop", f"unused {w.describe()}", len(w.data)))
    return out, changes
