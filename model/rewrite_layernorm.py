"""Training-mode ``FusedBatchNormV3`` (tf-keras LayerNormalization) as ops TF.js computes.

Why
    tf-keras 2.x ``LayerNormalization`` reshapes its input to ``[1, rows, features, 1]``
    and normalises it with ``FusedBatchNormV3(is_training=True, data_format=NCHW)``,
    scale ones and offset zeros of size ``rows``, and empty ``[0]`` mean and variance:
    each row by its own moments over the features. TF.js 4.22 maps FusedBatchNorm* to
    its inference batch norm whatever ``is_training`` says, so it reads the empty mean and
    variance: NaN on the cpu backend, a shader error on webgl (tfjs#6864).

What it becomes (every node the converter would give TF.js anyway)
    For channel axis ``c`` (1 for NCHW, last for NHWC) and the other axes ``R``::

        mean = Mean(x, R, keep_dims);  d = Sub(x, mean)
        var  = Mean(SquaredDifference(x, mean), R, keep_dims)     # biased, as TF's y
        y    = AddV2(Mul(d, Mul(Rsqrt(AddV2(var, epsilon)), scale')), offset')

    with ``scale'``/``offset'`` reshaped to broadcast along ``c`` (``[1, -1, 1, 1]`` in
    NCHW). That is TF's training-mode output ``y`` (``exponential_avg_factor`` only moves
    the running statistics, outputs 1-5). The last node keeps the batch norm's name.

Limits
    Only output 0 (``y``) may be read: a graph that reads the batch moments or reserve
    spaces is a :class:`ModelError` naming the node (TF's FusedBatchNorm* take 4-D x). Batch norms
    with ``is_training=False`` are left alone: TF.js runs those.
"""

from __future__ import annotations

import base64

from .graph import Model, ModelError, prune
from .nodes import FLOAT, INT32, Builder

OPS = ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")


def _training(node: dict) -> bool:
    return node["op"] in OPS and node.get("attr", {}).get("is_training", {}).get("b", False)


def _reads_other_outputs(model: Model, name: str) -> list[str]:
    """Nodes reading output 1 or more of node `name`."""
    bad = []
    for n in model.nodes:
        for i in n.get("input", []):
            head, sep, tail = i.lstrip("^").rpartition(":")
            if sep and head == name and tail.isdigit() and int(tail) > 0:
                bad.append(n["name"])
    return bad


def _layout(node: dict) -> str:
    raw = node.get("attr", {}).get("data_format", {}).get("s")
    if raw is None:
        return "NHWC"  # TF's default
    fmt = base64.b64decode(raw).decode()
    if fmt not in ("NCHW", "NHWC"):
        raise ModelError(f"node {node['name']!r} ({node['op']}): data_format {fmt!r} unsupported")
    return fmt


def _replace(b: Builder, node: dict) -> None:
    x, scale, offset = node["input"][:3]
    eps = float(node.get("attr", {}).get("epsilon", {}).get("f", 1e-4))  # TF's default
    nchw = _layout(node) == "NCHW"
    axes = b.const("axes", [0, 2, 3] if nchw else [0, 1, 2], "int32")
    keep = {"T": FLOAT, "Tidx": INT32, "keep_dims": {"b": True}}
    mean = b.op("mean", "Mean", [x, axes], **keep)
    d = b.op("centered", "Sub", [x, mean], T=FLOAT)
    sq = b.op("squared", "SquaredDifference", [x, mean], T=FLOAT)
    var = b.op("variance", "Mean", [sq, axes], **keep)
    inv = b.op(
        "rsqrt",
        "Rsqrt",
        [b.op("var_eps", "AddV2", [var, b.const("epsilon", eps, "float32")], T=FLOAT)],
        T=FLOAT,
    )
    if nchw:
        shape = b.const("channel_shape", [1, -1, 1, 1], "int32")
        scale = b.op("scale", "Reshape", [scale, shape], T=FLOAT, Tshape=INT32)
        offset = b.op("offset", "Reshape", [offset, shape], T=FLOAT, Tshape=INT32)
    gain = b.op("gain", "Mul", [inv, scale], T=FLOAT)
    y = b.op("scaled", "Mul", [d, gain], T=FLOAT)
    b.op("y", "AddV2", [y, offset], name=node["name"], T=FLOAT)


def rewrite(model: Model) -> tuple[Model, list[str]]:
    """A copy of `model` with every training-mode batch norm replaced, and what was done."""
    norms = [n for n in model.nodes if _training(n)]
    if not norms:
        return model, []
    for node in norms:
        bad = _reads_other_outputs(model, node["name"])
        if bad:
            raise ModelError(
                f"node {node['name']!r} ({node['op']}, is_training): {bad[0]!r} reads its "
                "batch statistics; only its output y can be rewritten for TF.js"
            )
    out = model.copy()
    taken = {n["name"] for n in out.nodes} | set(out.weights)
    replaced, changes = {}, []
    for node in norms:
        b = Builder(out, taken, node["name"])
        _replace(b, node)
        replaced[node["name"]] = b.nodes
        axes = "0, 2, 3" if _layout(node) == "NCHW" else "0, 1, 2"
        eps = node.get("attr", {}).get("epsilon", {}).get("f", 1e-4)
        changes.append(
            f"{node['op']} {node['name']}: is_training, moments over axes [{axes}], "
            f"epsilon {eps:g} -> Mean, SquaredDifference, Rsqrt, Mul, AddV2"
        )
    nodes = []
    for n in out.nodes:
        nodes.extend(replaced.get(n["name"], [n]))
    out.nodes = nodes
    prune(out, model.outputs())  # the empty mean and variance Consts, now unread
    return out, changes
