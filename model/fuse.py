"""`ddspgl fuse`: a ddsp harmonic synthesizer becomes one HarmonicSynth node, a wrapped
phase cumsum one WrappedCumsum node.

The harmonic synthesis is found and proved by :mod:`.fuse_harmonic` (first, so that an
angular cumsum inside it goes with it), the filtered noise by :mod:`.fuse_noise`; the
cumsum patterns follow, and last a ``Sin(Cumsum(x))`` no synthesizer claimed has its
phase wrapped in cycles (:func:`_sine`).

Why
    A converted DDSP graph computes phase as ``FloorMod(Cumsum(x), P)``: TF.js's cumsum
    stores unbounded partial sums, float16 on phones, and the phase is noise within
    seconds. The bundle's ``WrappedCumsum`` (``tf.registerOp``, see js/src/ddspgl.js
    ``registerGraphOps``) wraps modulo P inside the kernel; it reads the node attrs
    ``period`` (f), ``exclusive`` (b) and ``reverse`` (b).

Patterns (only exact matches are rewritten; every near miss is reported with its reason)
    1. ``FloorMod(Cumsum(x, axis, exclusive, reverse), P)``: P a positive float32 Const
       of one element (shape [] or [1]) in [2^-100, 2^100], the Cumsum float32 and read
       by nothing else. The last axis (-1, or r - 1 where x's rank r is known) gives one
       ``WrappedCumsum(x)``; another axis of known rank is swapped to the end and back
       with ``Transpose``.
    2. magenta/ddsp ``angular_cumsum`` (``ddsp/core.py``), as the converter writes it::

           chunks = Reshape(w, [b, m, c, ...]);  phase = Cumsum(chunks, axis=2)
           offsets = FloorMod(phase[:, :, -1:, ...], P);  Pad by [1, 0] on axis 1
           offsets = FloorMod(Cumsum(offsets[:, :-1, ...], axis=1), P)
           out = Reshape(FloorMod(phase + offsets, P), [b, m * c, ...])

       In exact arithmetic ``out`` is the cumsum of ``Reshape(w, [b, m*c, ...])`` along
       axis 1, wrapped modulo P, whatever w's shape (both reshapes are row-major), so the
       whole subgraph becomes ``WrappedCumsum(Reshape(w, [b, m*c, ...]))`` (with
       Transposes around it when channel axes follow time). Every interior node must be
       read only inside the pattern and the three periods must be the same float32.

    The node that held the result keeps its name (consumers and signatures untouched);
    nodes the rewrite leaves unread are pruned, with their weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import fuse_harmonic, fuse_noise
from .graph import (
    Model,
    Weight,
    const_array,
    const_node,
    input_node,
    prune,
    topological_order,
    unique_name,
)

OP = "WrappedCumsum"
PERIOD_MIN, PERIOD_MAX = 2.0**-100, 2.0**100  # checkPeriod in js/src/ddspgl.js
FLOAT = {"type": "DT_FLOAT"}

# Ops whose output has the rank of their (broadcast) inputs: enough to see that a Cumsum's
# axis is the last one in the graphs the converter writes.
UNARY = {
    "Identity", "Neg", "Abs", "Exp", "Log", "Sin", "Cos", "Tanh", "Sigmoid", "Relu",
    "Relu6", "Elu", "Selu", "Softplus", "Square", "Sqrt", "Rsqrt", "Reciprocal", "Cast",
    "Floor", "Ceil", "Round", "Sign", "Cumsum", "Transpose", "Pad", "PadV2", "MirrorPad",
    "ClipByValue", "LeakyRelu", "Log1p", "Expm1", "ZerosLike", "OnesLike", "Tile",
    "ResizeBilinear", "ResizeNearestNeighbor",
}  # fmt: skip
BINARY = {
    "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "DivNoNan", "FloorDiv", "FloorMod",
    "Maximum", "Minimum", "Pow", "SquaredDifference", "BiasAdd",
}  # fmt: skip


@dataclass
class Match:
    """One fused pattern: the node now holding WrappedCumsum's result and what went."""

    node: str
    pattern: str
    period: float | None  # WrappedCumsum's; None for a synthesizer
    detail: str
    removed: list[str] = field(default_factory=list)
    shape: dict = field(default_factory=dict)  # a synthesizer's sample rate, samples, hop

    def __str__(self) -> str:
        return f"fused {self.pattern} at {self.node}: {self.detail}"


@dataclass
class Miss:
    """A FloorMod-of-Cumsum that was left as it was, and why."""

    node: str
    pattern: str
    reason: str

    def __str__(self) -> str:
        return f"left  {self.pattern} at {self.node}: {self.reason}"


class _Graph:
    def __init__(self, model: Model):
        self.model = model
        self.nodes = model.node_map()
        self.users = model.consumers()
        self.outputs = model.outputs()
        self.taken = set(self.nodes) | set(model.weights)
        self._ranks: dict[str, int | None] = {}
        for name in topological_order(model.nodes):  # inputs' ranks first: no recursion
            try:
                self._ranks[name] = self._rank_of(name)
            except (IndexError, ValueError):  # not the inputs TF gives the op: unknown
                self._ranks[name] = None

    def node(self, name: str) -> dict | None:
        return self.nodes.get(input_node(name))

    def op(self, name: str) -> str | None:
        n = self.node(name)
        return None if n is None else n["op"]

    def inputs(self, name: str) -> list[str]:
        """Data inputs (control inputs left out)."""
        return [i for i in self.node(name).get("input", []) if not i.startswith("^")]

    def array(self, name: str) -> np.ndarray | None:
        return const_array(self.model, name, self.nodes)

    def ints(self, name: str) -> list[int] | None:
        a = self.array(name)
        if a is None or a.dtype.kind not in "iu" or a.ndim > 1:
            return None
        return [int(v) for v in a.reshape(-1)]

    def flag(self, name: str, attr: str) -> bool:
        return bool(self.node(name).get("attr", {}).get(attr, {}).get("b", False))

    def mask(self, name: str, attr: str) -> int:
        return int(self.node(name).get("attr", {}).get(attr, {}).get("i", 0))

    def is_float(self, name: str) -> bool:
        return self.node(name).get("attr", {}).get("T") == FLOAT

    def only_read_by(self, name: str, *readers: str) -> bool:
        users = self.users[input_node(name)]
        return sorted(users) == sorted(readers) and input_node(name) not in self.outputs

    def read_outside(self, interior: list[str], out: str) -> str | None:
        """Why a subgraph (`interior`, ending at `out`) cannot be replaced by one node: an
        interior node that is a graph output or is read outside it; None where none is."""
        inside = set(interior) | {input_node(out)}
        for v in interior:
            if v in self.outputs:
                return f"{v} inside the synthesizer is also a graph output"
            others = [u for u in self.users[v] if u not in inside]
            if others:
                return f"{v} inside the synthesizer is also read by {others[0]}"
        return None

    def period(self, name: str) -> tuple[float | None, str]:
        """The float32 period held by Const `name`, or None and why not."""
        a = self.array(name)
        if a is None or a.dtype != np.float32 or a.shape not in ((), (1,)):
            return None, "the divisor is not a float32 constant of shape [] or [1]"
        p = float(a.reshape(()))
        if not (math.isfinite(p) and PERIOD_MIN <= p <= PERIOD_MAX):
            return None, f"the period {p!r} is not in [2^-100, 2^100]"
        return p, ""

    def rank(self, name: str) -> int | None:
        """The static rank of `name`'s output where the graph says it, else None."""
        return self._ranks.get(input_node(name))

    def _rank_of(self, key: str) -> int | None:
        """Node `key`'s rank from its inputs' (known, or None past a loop's back edge)."""
        n = self.nodes[key]
        r = None
        if n["op"] == "Placeholder":
            shape = n.get("attr", {}).get("shape", {}).get("shape")
            if isinstance(shape, dict) and not shape.get("unknownRank"):
                r = len(shape.get("dim", []))
        elif n["op"] == "Const":
            w = self.model.weights.get(key)
            r = None if w is None else len(w.shape)
        elif n["op"] in ("Reshape", "BroadcastTo", "Fill"):  # output shape: input 1 or 0
            shape = self.ints(self.inputs(key)[0 if n["op"] == "Fill" else 1])
            r = None if shape is None else len(shape)
        elif n["op"] == "StridedSlice":
            r = self._slice_rank(key)
        elif n["op"] == "ExpandDims":
            r = self.rank(self.inputs(key)[0])
            r = None if r is None else r + 1
        elif n["op"] in UNARY:
            r = self.rank(self.inputs(key)[0])
        elif n["op"] in BINARY:
            a, b = (self.rank(i) for i in self.inputs(key)[:2])
            r = None if a is None or b is None else max(a, b)
        return r

    def _slice_rank(self, name: str) -> int | None:
        """A StridedSlice's output rank: its input's, plus new axes, minus shrunk ones."""
        r = self.rank(self.inputs(name)[0])
        begin = self.ints(self.inputs(name)[1])
        if r is None or begin is None:
            return None
        new, shrink, ell = (
            self.mask(name, m) for m in ("new_axis_mask", "shrink_axis_mask", "ellipsis_mask")
        )
        if new & ell:
            return None
        bits = range(len(begin))
        return r + sum(new >> i & 1 for i in bits) - sum(shrink >> i & 1 for i in bits)

    def slice_spec(self, name: str, rank: int) -> list[tuple] | None:
        """StridedSlice `name` over a rank-`rank` input as one (begin, end, step) per axis
        (None: from the start / to the end), or None where it adds or removes axes."""
        x, b, e, s = self.inputs(name)
        begin, end, strides = self.ints(b), self.ints(e), self.ints(s)
        if begin is None or end is None or strides is None:
            return None
        if self.mask(name, "new_axis_mask") or self.mask(name, "shrink_axis_mask"):
            return None
        bm, em, ell = (self.mask(name, m) for m in ("begin_mask", "end_mask", "ellipsis_mask"))
        full = (None, None, 1)
        explicit = [i for i in range(len(begin)) if not ell >> i & 1]
        if len(begin) - len(explicit) > 1:
            return None
        spec: list[tuple] = []
        for i in range(len(begin)):
            if ell >> i & 1:
                spec.extend([full] * (rank - len(explicit)))
                continue
            lo = None if bm >> i & 1 else begin[i]
            hi = None if em >> i & 1 else end[i]
            if strides[i] > 0 and lo == 0:
                lo = None
            spec.append((lo, hi, strides[i]))
        spec.extend([full] * (rank - len(spec)))
        return spec if len(spec) == rank else None


def _wrapped(name: str, x: str, period: float, exclusive=False, reverse=False) -> dict:
    return {
        "name": name,
        "op": OP,
        "input": [x],
        "attr": {
            "T": FLOAT,
            "period": {"f": period},
            "exclusive": {"b": exclusive},
            "reverse": {"b": reverse},
        },
    }


def _transpose(name: str, x: str, perm: str) -> dict:
    attr = {"T": FLOAT, "Tperm": {"type": "DT_INT32"}}
    return {"name": name, "op": "Transpose", "input": [x, perm], "attr": attr}


def _scan_axis(g: _Graph, out: str, x: str, axis: int, rank: int, period, excl, rev):
    """Nodes computing the wrapped cumsum of `x` along `axis` into node `out`."""
    if axis == rank - 1:
        return [_wrapped(out, x, period, excl, rev)]
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]  # a swap: its own inverse
    pname = unique_name(g.taken, f"{out}/ddspgl_perm")
    g.model.weights[pname] = Weight.from_array(pname, np.array(perm, np.int32), "int32")
    first = unique_name(g.taken, f"{out}/ddspgl_transpose")
    scan = unique_name(g.taken, f"{out}/ddspgl_wrapped")
    return [
        const_node(pname, "int32", [rank]),
        _transpose(first, x, pname),
        _wrapped(scan, first, period, excl, rev),
        _transpose(out, scan, pname),
    ]


def _plain(g: _Graph, f: str) -> Match | Miss | None:
    ins = g.inputs(f)
    if g.op(f) != "FloorMod" or len(ins) != 2 or g.op(ins[0]) != "Cumsum":
        return None
    pattern = "FloorMod(Cumsum)"
    c = input_node(ins[0])
    if not (g.is_float(c) and g.is_float(f)):
        return Miss(f, pattern, "not float32")
    period, why = g.period(ins[1])
    if period is None:
        return Miss(f, pattern, why)
    if not g.only_read_by(c, f):
        return Miss(f, pattern, f"the Cumsum {c} is also read elsewhere")
    if len(g.inputs(c)) != 2:
        return None
    x, axis_name = g.inputs(c)
    axis = g.ints(axis_name)
    if axis is None or len(axis) != 1:
        return Miss(f, pattern, "the Cumsum axis is not a constant")
    axis = axis[0]
    rank = g.rank(x)
    if rank is None:
        if axis != -1:
            return Miss(f, pattern, f"axis {axis} of a tensor whose rank the graph does not say")
        rank, axis = 1, 0  # the last axis, whatever the rank
    elif not -rank <= axis < rank:
        return Miss(f, pattern, f"axis {axis} out of range for rank {rank}")
    axis %= rank
    excl, rev = g.flag(c, "exclusive"), g.flag(c, "reverse")
    nodes = _scan_axis(g, f, x, axis, rank, period, excl, rev)
    where = "last axis" if axis == rank - 1 else f"axis {axis} of {rank}, transposed"
    flags = "".join(s for s, on in ((", exclusive", excl), (", reverse", rev)) if on)
    detail = f"WrappedCumsum(period={period!r}{flags}) on the {where}"
    return Match(f, pattern, period, detail, removed=[c]), nodes


def _angular(g: _Graph, r_out: str):
    """magenta/ddsp angular_cumsum ending at Reshape `r_out` (see the module docstring)."""
    if g.op(r_out) != "Reshape":
        return None
    m3 = g.inputs(r_out)[0]
    if g.op(m3) != "FloorMod" or g.op(g.inputs(m3)[0]) not in ("Add", "AddV2"):
        return None
    a = g.inputs(m3)[0]
    ops = {g.op(i): i for i in g.inputs(a)}
    if set(ops) != {"Cumsum", "FloorMod"} or len(g.inputs(a)) != 2:
        return None
    c, m2 = ops["Cumsum"], ops["FloorMod"]
    r_in = g.inputs(c)[0]
    if g.op(r_in) != "Reshape":
        return None
    pattern = "angular_cumsum"

    def miss(why):
        return Miss(input_node(r_out), pattern, why)

    w, s_in = g.inputs(r_in)
    shape_in = g.ints(s_in)
    if shape_in is None or len(shape_in) < 3 or min(shape_in[1:3]) <= 0:
        return miss("the chunking Reshape has no constant [b, chunks, chunk, ...] shape")
    r = len(shape_in)
    c1 = g.inputs(m2)[0]
    if g.op(c1) != "Cumsum":
        return miss("the offsets are not a wrapped Cumsum")
    s1 = g.inputs(c1)[0]
    pd = g.inputs(s1)[0] if g.op(s1) == "StridedSlice" else None
    m1 = g.inputs(pd)[0] if pd is not None and g.op(pd) in ("Pad", "PadV2") else None
    last = g.inputs(m1)[0] if m1 is not None and g.op(m1) == "FloorMod" else None
    if last is None or g.op(last) != "StridedSlice" or input_node(g.inputs(last)[0]) != c:
        return miss("the offsets are not FloorMod(phase[:, :, -1:]) padded and sliced")
    for node in (c, c1, m1, m2, m3, a):
        if not g.is_float(node):
            return miss(f"{input_node(node)} is not float32")
    axes = g.ints(g.inputs(c)[1]), g.ints(g.inputs(c1)[1])
    if axes[0] not in ([2], [2 - r]) or axes[1] not in ([1], [1 - r]):
        return miss(f"Cumsum axes {axes} are not (2, 1)")
    if any(g.flag(n, k) for n in (c, c1) for k in ("exclusive", "reverse")):
        return miss("a Cumsum is exclusive or reverse")
    full = (None, None, 1)
    if g.slice_spec(last, r) != [full, full, (-1, None, 1)] + [full] * (r - 3):
        return miss("the chunk ends are not phase[:, :, -1:, ...]")
    if g.slice_spec(s1, r) != [full, (None, -1, 1)] + [full] * (r - 2):
        return miss("the offsets are not sliced [:, :-1, ...]")
    pad = g.array(g.inputs(pd)[1])
    want = [[0, 0], [1, 0]] + [[0, 0]] * (r - 2)
    if pad is None or pad.tolist() != want:
        return miss("the offsets are not padded by one chunk in front")
    if g.op(pd) == "PadV2":
        fill = g.array(g.inputs(pd)[2])
        if fill is None or fill.size != 1 or float(fill.reshape(())) != 0.0:
            return miss("the offsets are padded with a non-zero value")
    periods = [g.period(g.inputs(m)[1]) for m in (m1, m2, m3)]
    for p, why in periods:
        if p is None:
            return miss(why)
    if len({p for p, _ in periods}) != 1:
        return miss(f"the three periods differ: {[p for p, _ in periods]}")
    period = periods[0][0]
    s_out = g.inputs(r_out)[1]
    shape_out = g.ints(s_out)
    if shape_out != [shape_in[0], shape_in[1] * shape_in[2]] + shape_in[3:]:
        return miss(f"the final Reshape {shape_out} does not undo the chunking {shape_in}")
    readers = [
        (r_in, (c,)),
        (c, (last, a)),
        (last, (m1,)),
        (m1, (pd,)),
        (pd, (s1,)),
        (s1, (c1,)),
        (c1, (m2,)),
        (m2, (a,)),
        (a, (m3,)),
        (m3, (r_out,)),
    ]
    for name, users in readers:
        if not g.only_read_by(name, *(input_node(u) for u in users)):
            return miss(f"{input_node(name)} is also read outside the pattern")
    out = input_node(r_out)
    flat = unique_name(g.taken, f"{out}/ddspgl_flat")
    reshape = {
        "name": flat,
        "op": "Reshape",
        "input": [w, s_out],
        "attr": {"T": FLOAT, "Tshape": {"type": "DT_INT32"}},
    }
    nodes = [reshape] + _scan_axis(g, out, flat, 1, r - 1, period, False, False)
    chunks = f"{shape_in[1]} chunks of {shape_in[2]}"
    where = "" if r == 3 else ", time axis transposed last"
    detail = f"WrappedCumsum(period={period!r}) over {chunks}{where}"
    interior = [input_node(n) for n, _ in readers]
    return Match(out, pattern, period, detail, removed=interior), nodes


def _sine(g: _Graph, sin: str):
    """``Sin(Cumsum(x))`` that no synthesizer claimed: the phase in radians, an unbounded
    float32 running sum whose rounding grows with its size (a converted ddsp Harmonic
    whose fuse was a near miss). Rewritten as ``Sin(WrappedCumsum(x * 1/(2 pi), 1) * 2 pi)``:
    the running sum of the per-sample increments in cycles, exact modulo 1 (the residue
    scan), so the only rounding left is each increment's own (what the float32 x already
    carries) and the final product's; the sine sees an argument in [0, 2 pi)."""
    ins = g.inputs(sin)
    if g.op(sin) != "Sin" or len(ins) != 1 or g.op(ins[0]) != "Cumsum":
        return None
    pattern = "Sin(Cumsum)"
    c = input_node(ins[0])
    if not (g.is_float(c) and g.is_float(sin)):
        return Miss(sin, pattern, "not float32")
    if not g.only_read_by(c, sin):
        return Miss(sin, pattern, f"the Cumsum {c} is also read elsewhere")
    x, axis_name = g.inputs(c)
    axis = g.ints(axis_name)
    rank = g.rank(x)
    if axis is None or len(axis) != 1 or rank is None or not -rank <= axis[0] < rank:
        return Miss(sin, pattern, f"axis {axis} of a tensor of rank {rank}")
    axis = axis[0] % rank
    parts = ("cycles_per_radian", "cycles", "phase_cycles", "radians_per_cycle", "phase")
    names = [unique_name(g.taken, f"{sin}/ddspgl_{what}") for what in parts]
    to_cycles, cycles, wrapped, to_radians, phase = names
    for name, value in ((to_cycles, 1 / (2 * math.pi)), (to_radians, 2 * math.pi)):
        g.model.weights[name] = Weight.from_array(name, np.array(value, np.float32), "float32")
    excl, rev = g.flag(c, "exclusive"), g.flag(c, "reverse")
    nodes = [
        const_node(to_cycles, "float32", []),
        const_node(to_radians, "float32", []),
        {"name": cycles, "op": "Mul", "input": [x, to_cycles], "attr": {"T": FLOAT}},
        *_scan_axis(g, wrapped, cycles, axis, rank, 1.0, excl, rev),
        {"name": phase, "op": "Mul", "input": [wrapped, to_radians], "attr": {"T": FLOAT}},
        {**g.node(sin), "input": [phase]},
    ]
    detail = "the phase wrapped in cycles by WrappedCumsum(period=1.0) before the sine"
    return Match(sin, pattern, 1.0, detail, removed=[c]), nodes


def fuse(model: Model) -> tuple[Model, list[Match | Miss]]:
    """A rewritten copy of `model` and what was fused or left (no Match: unchanged).
    A model that is not a well-formed graph model is a ModelError (:meth:`Model.check`)."""
    model.check()
    out = model.copy()
    outputs = model.outputs()
    g = _Graph(out)
    report: list[Match | Miss] = []
    replace: dict[str, list[dict]] = {}
    claimed: set[str] = set()
    finders = (fuse_harmonic.harmonic, fuse_noise.filtered_noise, _angular, _plain, _sine)
    for finder in finders:
        for node in list(out.nodes):
            name = node["name"]
            if name in claimed:
                continue
            try:
                found = finder(g, name)
            except (IndexError, ValueError):  # not the inputs TF gives the op: no match
                found = None
            if found is None:
                continue
            if isinstance(found, Miss):
                report.append(found)
                continue
            match, nodes = found
            if claimed & set(match.removed):
                continue
            claimed.update(match.removed + [name])
            replace[name] = nodes
            report.append(match)
    if not replace:
        return model, report
    new_nodes = []
    for node in out.nodes:
        new_nodes.extend(replace.get(node["name"], [node]))
    out.nodes = new_nodes
    prune(out, outputs)
    return out, report
