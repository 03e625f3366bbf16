"""Small builders for the nodes the rewrites add to a TF.js graph model (model.json form).

Attributes are written as tensorflowjs_converter writes them: ``{"type": "DT_FLOAT"}``,
``{"b": true}``, ``{"f": 0.001}``, ``{"i": "1"}``; a Const's value lives in the weights.
"""

from __future__ import annotations

import numpy as np

from .graph import TF_DTYPE, Model, Weight, const_node, unique_name

FLOAT = {"type": "DT_FLOAT"}
INT32 = {"type": "DT_INT32"}


def node(name: str, op: str, inputs: list[str], **attr) -> dict:
    return {"name": name, "op": op, "input": list(inputs), "attr": attr}


class Builder:
    """Adds nodes named under `prefix` (unique in the graph) and their Const weights."""

    def __init__(self, model: Model, taken: set[str], prefix: str):
        self.model, self.taken, self.prefix = model, taken, prefix
        self.nodes: list[dict] = []

    def name(self, what: str) -> str:
        return unique_name(self.taken, f"{self.prefix}/ddspgl_{what}")

    def const(self, what: str, value, dtype: str) -> str:
        array = np.asarray(value, {"float32": np.float32, "int32": np.int32}[dtype])
        name = self.name(what)
        self.model.weights[name] = Weight.from_array(name, array, dtype)
        self.nodes.append(const_node(name, dtype, array.shape))
        return name

    def op(self, what: str, op: str, inputs: list[str], *, name: str | None = None, **attr):
        """A node running `op`; `name` keeps a given name (the node being replaced)."""
        name = name or self.name(what)
        self.nodes.append(node(name, op, inputs, **attr))
        return name


def dtype_attr(dtype: str) -> dict:
    return {"type": TF_DTYPE[dtype]}
