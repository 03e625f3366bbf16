"""Every op of a graph model is one TF.js 4.22 runs: the converter's op check, after rewrites.

Why
    tensorflowjs_converter refuses a SavedModel with an op TF.js lacks (magenta/ddsp's
    ``Roll``), before any rewrite could replace it. `ddspgl convert` runs the converter
    with its op check off, rewrites such ops (:mod:`.rewrite_roll`,
    :mod:`.rewrite_layernorm`), then checks the result here against the same list the
    converter reads (``tensorflowjs/op_list/*.json``, one entry per op its graph model
    executor maps) plus the ops ddspgl's bundle registers: an op that is still unknown is
    a :class:`ModelError` naming the node, and nothing is written.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from .graph import Model, ModelError


def op_mappers() -> dict[str, dict]:
    """TF op name -> the op mapper entry TF.js 4.22 maps it with (``category``, ``inputs``,
    ``attrs``), as the installed tensorflowjs package lists them (read from its files:
    TensorFlow is not imported)."""
    spec = importlib.util.find_spec("tensorflowjs")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError('the TF.js converter is not installed: pip install "ddspgl[convert]"')
    folder = Path(next(iter(spec.submodule_search_locations))) / "op_list"
    entries: dict[str, dict] = {}
    for path in sorted(folder.glob("*.json")):
        entries.update((entry["tfOpName"], entry) for entry in json.loads(path.read_text()))
    if not entries:
        raise ModelError(f"{folder}: no op lists (is the tensorflowjs install complete?)")
    return entries


def tfjs_ops() -> set[str]:
    """The TF op names TF.js maps (:func:`op_mappers`)."""
    return set(op_mappers())


def nodes_with_ops(model: Model) -> list[tuple[str, str]]:
    """(where, op) of every node: the graph's and those inside its library functions."""
    out = [(n["name"], n["op"]) for n in model.nodes]
    for func in model.doc["modelTopology"].get("library", {}).get("function", []) or []:
        fname = func.get("signature", {}).get("name", "?")
        out += [(f"{fname}/{n['name']}", n["op"]) for n in func.get("nodeDef", []) or []]
    return out


def check(model: Model, known: set[str]) -> None:
    """Raise a ModelError naming each node whose op is not in `known`."""
    unknown = [(where, op) for where, op in nodes_with_ops(model) if op not in known]
    if not unknown:
        return
    shown = "; ".join(f"node {where!r} is a {op}" for where, op in unknown[:5])
    more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
    ops = ", ".join(sorted({op for _, op in unknown}))
    raise ModelError(f"TF.js 4.22 has no op {ops} and ddspgl has no rewrite for it: {shown}{more}")
