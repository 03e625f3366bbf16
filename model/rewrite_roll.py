"""``Roll`` (magenta/ddsp's fftshift in FilteredNoise) as a gather TF.js 4.22 runs.

Why
    TF.js has no ``Roll`` op: a converted ddsp model fails the converter's op check, or
    with the check off, fails to load. ``tf.roll(x, s, a)`` is
    ``y[j] = x[(j - s) mod L]`` along axis ``a`` of length ``L``; this pass writes that as

        idx = FloorMod(Range(-s, L - s, 1), L);  y = GatherV2(x, idx, a)

    with ``L`` read from ``Shape(x)`` at run time (no static shape is needed, any shift
    is exact), one gather per rolled axis (shifts on a repeated axis add, as in TF). The
    last node keeps the Roll's name, so its consumers are untouched.

Limits
    The shift and axis must be Const (ddsp's are: ``n // 2`` and -1); a Roll with a
    computed shift or axis is a :class:`ModelError` naming the node.
"""

from __future__ import annotations

import numpy as np

from .graph import Model, ModelError, const_array, prune
from .nodes import INT32, Builder, dtype_attr

OP = "Roll"


def _shifts(model: Model, node: dict) -> dict[int, int]:
    """Axis -> total shift of a Roll node with Const shift and axis."""
    shift, axis = (const_array(model, name) for name in node["input"][1:3])
    if shift is None or axis is None:
        raise ModelError(
            f"node {node['name']!r} (Roll): its shift and axis must be constants to be "
            "rewritten for TF.js (TF.js has no Roll op)"
        )
    shift, axis = np.atleast_1d(shift).astype(int), np.atleast_1d(axis).astype(int)
    if shift.shape != axis.shape or shift.ndim != 1:
        raise ModelError(
            f"node {node['name']!r} (Roll): shift {shift.tolist()} and axis "
            f"{axis.tolist()} must be scalars or vectors of one length"
        )
    out: dict[int, int] = {}
    for s, a in zip(shift.tolist(), axis.tolist(), strict=True):
        out[a] = out.get(a, 0) + s
    return out


def _gather(b: Builder, x: str, axis: int, shift: int, dtype: dict, name: str | None) -> str:
    shape = b.op("shape", "Shape", [x], T=dtype, out_type=INT32)
    zero = b.const("zero", 0, "int32")
    if axis >= 0:
        index = b.const("axis", axis, "int32")
    else:  # a negative axis counts from the end: axis mod rank
        rank = b.op("rank", "Size", [shape], T=INT32, out_type=INT32)
        index = b.op("axis_index", "FloorMod", [b.const("axis", axis, "int32"), rank], T=INT32)
    length = b.op("length", "GatherV2", [shape, index, zero], **_gather_attr(INT32))
    limit = b.op("limit", "Sub", [length, b.const("shift", shift, "int32")], T=INT32)
    start, step = b.const("start", -shift, "int32"), b.const("step", 1, "int32")
    j = b.op("range", "Range", [start, limit, step], Tidx=INT32)
    idx = b.op("index", "FloorMod", [j, length], T=INT32)
    a = b.const("gather_axis", axis, "int32")
    return b.op("gather", "GatherV2", [x, idx, a], name=name, **_gather_attr(dtype))


def _gather_attr(dtype: dict) -> dict:
    return {"Tparams": dtype, "Tindices": INT32, "Taxis": INT32, "batch_dims": {"i": "0"}}


def rewrite(model: Model) -> tuple[Model, list[str]]:
    """A copy of `model` with every Roll node replaced by gathers, and what was done."""
    rolls = [n for n in model.nodes if n["op"] == OP]
    if not rolls:
        return model, []
    out = model.copy()
    taken = {n["name"] for n in out.nodes} | set(out.weights)
    replaced: dict[str, list[dict]] = {}
    changes = []
    for node in rolls:
        shifts = _shifts(out, node)
        dtype = node.get("attr", {}).get("T", dtype_attr("float32"))
        b = Builder(out, taken, node["name"])
        x = node["input"][0]
        axes = list(shifts.items())
        for i, (axis, shift) in enumerate(axes):
            last = i == len(axes) - 1
            x = _gather(b, x, axis, shift, dtype, node["name"] if last else None)
        replaced[node["name"]] = b.nodes
        what = ", ".join(f"shift {s} on axis {a}" for a, s in axes)
        changes.append(f"Roll       {node['name']}: {what} -> Range, FloorMod, GatherV2")
    nodes = []
    for n in out.nodes:
        nodes.extend(replaced.get(n["name"], [n]))
    out.nodes = nodes
    prune(out, model.outputs())  # the Rolls' shift and axis Consts, now unread
    return out, changes
