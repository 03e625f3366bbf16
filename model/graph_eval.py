"""Float64 evaluation of a converted graph's subgraph, for the synthesizer fuses to probe.

Why
    `ddspgl fuse` replaces a whole subgraph (a harmonic synthesizer) by one kernel node
    only where it computes what the kernel computes. Matching the dozens of shape ops a
    ddsp export writes (StridedSlice, Reshape, Transpose, Pad, ConcatV2, Sum ...) one by
    one would tie the fuse to one ddsp version's op order; instead the fuse finds the
    subgraph's boundary from a few anchors and then runs it here, in float64, on random
    inputs, beside the kernel's float64 reference (:mod:`.fuse_harmonic`).

What
    :func:`evaluate` computes node `target` from `feeds` (node -> array) and the graph's
    constants, with numpy in float64 (integers and bools as they are; RFFT and IRFFT in
    complex128), for the ops below with TensorFlow's semantics. A node that is neither
    fed, a readable constant, nor one of these ops raises :class:`Unsupported` naming
    it: the subgraph reads something outside what the caller fed, or an op the probe
    does not model. ``visited`` lists the
    nodes it computed (the subgraph's interior), ``consts`` the constants it read.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .graph import input_node


class Unsupported(Exception):
    """A node the evaluator cannot compute from the feeds: its name and why."""

    def __init__(self, node: str, why: str):
        super().__init__(f"{node}: {why}")
        self.node, self.why = node, why


def _attr(node: dict, key: str, kind: str, default):
    return node.get("attr", {}).get(key, {}).get(kind, default)


def _axis(a: np.ndarray) -> list[int]:
    return [int(v) for v in np.asarray(a).reshape(-1)]


def _strided_slice(node: dict, x, begin, end, strides):
    """TensorFlow's StridedSlice with its five masks, as one numpy index."""
    begin, end, strides = _axis(begin), _axis(end), _axis(strides)
    names = ("begin", "end", "ellipsis", "new_axis", "shrink_axis")
    masks = {m: int(_attr(node, f"{m}_mask", "i", 0)) for m in names}
    bit = lambda m, i: masks[m] >> i & 1  # noqa: E731
    explicit = [i for i in range(len(begin)) if not bit("new_axis", i)]
    consumed = sum(1 for i in explicit if not bit("ellipsis", i))
    index: list = []
    for i in range(len(begin)):
        if bit("ellipsis", i):
            index.extend([slice(None)] * (x.ndim - consumed))
        elif bit("new_axis", i):
            index.append(np.newaxis)
        elif bit("shrink_axis", i):
            index.append(begin[i])
        else:
            lo = None if bit("begin", i) else begin[i]
            hi = None if bit("end", i) else end[i]
            index.append(slice(lo, hi, strides[i]))
    return x[tuple(index)]


def _resize_bilinear(node: dict, x, size):
    """ResizeBilinear [b, h, w, c] -> [b, H, W, c] (align_corners, half_pixel_centers)."""
    align = bool(_attr(node, "align_corners", "b", False))
    half = bool(_attr(node, "half_pixel_centers", "b", False))
    out = x
    for axis, n_out in ((1, int(size[0])), (2, int(size[1]))):
        n_in = out.shape[axis]
        scale = (n_in - 1) / (n_out - 1) if align and n_out > 1 else n_in / n_out
        y = np.arange(n_out, dtype=np.float64)
        src = (y + 0.5) * scale - 0.5 if half else y * scale
        lo = np.floor(src)
        frac = src - lo
        lo_i = np.clip(lo.astype(np.int64), 0, n_in - 1)
        hi_i = np.minimum(lo_i + 1, n_in - 1)
        shape = [1] * out.ndim
        shape[axis] = n_out
        frac = frac.reshape(shape)
        a, b = np.take(out, lo_i, axis=axis), np.take(out, hi_i, axis=axis)
        out = a + (b - a) * frac
    return out


def _cumsum(node: dict, x, axis):
    ax = int(np.asarray(axis).reshape(()))
    y = np.flip(x, ax) if _attr(node, "reverse", "b", False) else x
    s = np.cumsum(y, axis=ax)
    if _attr(node, "exclusive", "b", False):
        s = s - y
    return np.flip(s, ax) if _attr(node, "reverse", "b", False) else s


def _wrapped_cumsum(node: dict, x):
    """ddspgl's WrappedCumsum (js/src/kernels/wrapped_cumsum.js) over the last axis,
    exact in float64 for the probe: the running sum modulo the period."""
    period = float(_attr(node, "period", "f", 1.0))
    flags = {k: {"b": _attr(node, k, "b", False)} for k in ("exclusive", "reverse")}
    return np.mod(_cumsum({"attr": flags}, x, -1), period)


def _sum(node: dict, x, axis):
    return np.sum(x, axis=tuple(_axis(axis)), keepdims=bool(_attr(node, "keep_dims", "b", False)))


def _pad(node: dict, x, paddings, value=0.0):
    return np.pad(x, np.asarray(paddings, np.int64).reshape(-1, 2), constant_values=value)


def _concat(node: dict, *xs):
    return np.concatenate(xs[:-1], axis=int(np.asarray(xs[-1]).reshape(())))


def _squeeze(node: dict, x):
    dims = [int(d) for d in _attr(node, "squeeze_dims", "list", {}).get("i", [])]
    return np.squeeze(x, axis=tuple(dims) if dims else None)


def _gather(node: dict, params, indices, axis):
    if int(_attr(node, "batch_dims", "i", 0)):
        raise ValueError("GatherV2 with batch_dims is not modelled")
    return np.take(params, np.asarray(indices, np.int64), axis=int(np.asarray(axis).reshape(())))


def _fft_length(n) -> int:
    return int(np.asarray(n).reshape(-1)[0])


OPS: dict[str, Callable] = {
    "Identity": lambda n, x: x,
    "Cast": lambda n, x: x.astype(np.float64) if x.dtype == bool else x,
    "Neg": lambda n, x: -x,
    "Sin": lambda n, x: np.sin(x),
    "Cos": lambda n, x: np.cos(x),
    "Add": lambda n, a, b: a + b,
    "AddV2": lambda n, a, b: a + b,
    "Sub": lambda n, a, b: a - b,
    "Mul": lambda n, a, b: a * b,
    "RealDiv": lambda n, a, b: a / b,
    "FloorMod": lambda n, a, b: np.mod(a, b),
    "Maximum": lambda n, a, b: np.maximum(a, b),
    "Minimum": lambda n, a, b: np.minimum(a, b),
    "Greater": lambda n, a, b: a > b,
    "GreaterEqual": lambda n, a, b: a >= b,
    "Less": lambda n, a, b: a < b,
    "LessEqual": lambda n, a, b: a <= b,
    "Equal": lambda n, a, b: a == b,
    "SelectV2": lambda n, c, a, b: np.where(c, a, b),
    "Fill": lambda n, dims, v: np.full(_axis(dims), v),
    "ZerosLike": lambda n, x: np.zeros_like(x),
    "OnesLike": lambda n, x: np.ones_like(x),
    "Reshape": lambda n, x, s: x.reshape(_axis(s)),
    "ExpandDims": lambda n, x, a: np.expand_dims(x, int(np.asarray(a).reshape(()))),
    "Squeeze": _squeeze,
    "Transpose": lambda n, x, p: np.transpose(x, _axis(p)),
    "Tile": lambda n, x, m: np.tile(x, _axis(m)),
    "BroadcastTo": lambda n, x, s: np.broadcast_to(x, _axis(s)),
    "StridedSlice": _strided_slice,
    "ResizeBilinear": _resize_bilinear,
    "Cumsum": _cumsum,
    "WrappedCumsum": _wrapped_cumsum,
    "Sum": _sum,
    "Pad": _pad,
    "PadV2": _pad,
    "ConcatV2": _concat,
    "GatherV2": _gather,
    "Shape": lambda n, x: np.array(x.shape, np.int32),
    "Size": lambda n, x: np.array(x.size, np.int32),
    "Range": lambda n, a, b, d: np.arange(a, b, d),
    "Complex": lambda n, re, im: re + 1j * im,
    "RFFT": lambda n, x, m: np.fft.rfft(x, _fft_length(m), axis=-1),
    "IRFFT": lambda n, x, m: np.fft.irfft(x, _fft_length(m), axis=-1),
}


def evaluate(
    nodes: dict[str, dict],
    const: Callable[[str], np.ndarray | None],
    target: str,
    feeds: dict[str, np.ndarray],
    visited: list[str] | None = None,
    consts: list[str] | None = None,
) -> np.ndarray:
    """Node `target` computed in float64 from `feeds` and the constants `const` reads."""
    values: dict[str, np.ndarray] = {input_node(k): np.asarray(v) for k, v in feeds.items()}
    stack = [input_node(target)]
    while stack:  # iterative post-order: graphs are deep
        name = stack[-1]
        if name in values:
            stack.pop()
            continue
        node = nodes.get(name)
        if node is None:
            raise Unsupported(name, "not a node of the graph")
        if node["op"] == "Const":
            a = const(name)
            if a is None:
                raise Unsupported(name, "a constant whose values cannot be read as stored")
            values[name] = a.astype(np.float64) if a.dtype.kind == "f" else a
            if consts is not None:
                consts.append(name)
            stack.pop()
            continue
        fn = OPS.get(node["op"])
        if fn is None:
            raise Unsupported(name, f"op {node['op']} is read but not fed")
        ins = [input_node(i) for i in node.get("input", []) if not i.startswith("^")]
        missing = [i for i in ins if i not in values]
        if missing:
            stack.extend(missing)
            continue
        try:
            values[name] = np.asarray(fn(node, *(values[i] for i in ins)))
        except (ValueError, IndexError, TypeError) as e:
            raise Unsupported(name, f"{node['op']} fails on the probe's shapes: {e}") from e
        if visited is not None:
            visited.append(name)
        stack.pop()
    return values[input_node(target)]
