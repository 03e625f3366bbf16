"""`ddspgl compact`: a graph model's model.json without what TF.js 4.22 never reads.

Why
    After the rewrites a ddsp export's graph is about 270 nodes, and its model.json is
    mostly their names (``StatefulPartitionedCall/autoencoder_inference/.../conv2d_13/
    Conv2D/SpaceToBatchND/block_shape``), each written again in every input list that
    reads it and in the weights manifest, plus control inputs, NoOp nodes that only
    order side effects, and attrs no TF.js op mapper reads: 147 KB of graph beside
    170 KB of float16 weights.

What (tfjs-converter 4.22, ``operations/operation_mapper.js`` and ``executor/``)
    1. Control inputs. The OperationMapper turns ``^x`` into an ordinary input of the
       node (the '^' stripped); no executor reads its value (a NoOp's empty output is
       filtered out of variadic inputs), so it only makes the executor run x, and run it
       before the node. That matters only to ops with state or side effects: random
       draws (TF.js ignores their seed and draws from one generator), TensorArray,
       TensorList and hash-table ops (they mutate shared objects), control flow, Print,
       and any op TF.js does not know (a custom op may have state; ddspgl's own ops
       have none). When following data inputs alone reaches the same stateful nodes
       from the outputs and orders every pair of them as all inputs do, every control
       input is dropped and the nodes only control inputs read (NoOps, constants read by
       a NoOp) are pruned with their weights. Otherwise all are kept and the report
       names a stateful node that needs one. Graphs with TF1 control flow (Enter, Exit,
       Merge, Switch, NextIteration, LoopCond) keep them: there a control input puts a
       node into its loop frame. So does a graph without signature outputs (TF.js then
       takes the nodes nothing reads as outputs) where only control inputs read a
       Placeholder.
    2. Names. Every node but the graph inputs (Placeholders, signature inputs) and
       outputs (signature outputs, or the nodes nothing reads when there is no
       signature) gets a base-36 name ``0``, ``1``, ... ``z``, ``10``, ... in the order
       of the node list, skipping every name still in use; each input that reads it
       (``name``, ``name:1``, ``^name``) and its weight follow. Library functions (a
       GRU's StatelessWhile body and cond) keep their internal names: their Consts are
       weights looked up by those names in the same weight map, so new names avoid
       them; the calling node reads the functions by function name, which stays. The
       modelInitializer's names stay, and nodes of the same name keep theirs (a hash
       table is found by name).
    3. Attrs. A node whose op TF.js maps with its own op mapper keeps only the attrs
       that mapper lists (``tfName`` or ``tfDeprecatedName``, read from the installed
       tensorflowjs op lists, the same JSON the converter and the runtime carry): ``T``
       of an Identity, ``_has_manual_control_dependencies``, a Const's ``value`` and
       ``dtype`` (its value is the weight; its dtype and shape are the manifest's) go.
       ddspgl's graph ops (``tf.registerOp``: a custom op reads any attr) and ops TF.js
       does not map keep every attr; so do library functions' nodes' attrs that a
       mapper lists, and a function's own ``attr`` and ``argAttr`` (never read) go.
    4. model.json is written without whitespace.
    Without the tensorflowjs package (its op lists tell stateful ops and read attrs),
    only 2 and 4 are done, and the report says so.

Exactness
    Nothing that computes a value changes: the same ops read the same tensors in the
    same input order with the same attrs TF.js reads, so outputs are bit for bit the
    uncompacted model's (tests/model/test_model_compact.py, on the real ddsp exports
    on TF.js's cpu backend). Names change: code that feeds or fetches an interior node
    by name must look it up again (by op, as the tests find the RandomUniform node).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from ..kernels.manifest import KERNELS
from . import op_check
from .graph import Model, ModelError, input_node, model_json, prune, rename_input

TF1_FLOW = ("Enter", "RefEnter", "Exit", "RefExit", "Merge", "RefMerge", "Switch")
TF1_FLOW += ("RefSwitch", "NextIteration", "RefNextIteration", "LoopCond")
# TF.js op mapper categories whose ops hold or mutate state shared between nodes.
STATEFUL_CATEGORIES = ("control", "hash_table")
# Ops of other categories with state or a side effect in TF.js 4.22.
STATEFUL_OPS = (
    "RandomUniform",
    "RandomUniformInt",
    "RandomStandardNormal",
    "TruncatedNormal",
    "Multinomial",
    "Print",
)
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(i: int) -> str:
    """0 -> '0', 35 -> 'z', 36 -> '10'."""
    out = DIGITS[i % 36]
    while i >= 36:
        i //= 36
        out = DIGITS[i % 36] + out
    return out


def _functions(model: Model) -> list[dict]:
    return (model.doc["modelTopology"].get("library") or {}).get("function") or []


def _initializer_names(model: Model) -> set[str]:
    return {n["name"] for n in (model.doc.get("modelInitializer") or {}).get("node") or []}


def graph_ops() -> set[str]:
    """ddspgl's graph ops (registered with tf.registerOp: a custom op reads any attr)."""
    return {k.tfjs_kernel for k in KERNELS}


def _is_stateful(op: str, mappers: dict[str, dict], ours: set[str]) -> bool:
    if op in ours:
        return False
    entry = mappers.get(op)
    if entry is None:
        return True  # a custom op TF.js does not know: it may have state
    return op in STATEFUL_OPS or entry.get("category") in STATEFUL_CATEGORIES


def _reach(starts, edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(edges.get(name, ()))
    return seen


def control_needed(model: Model, outputs: set[str], mappers: dict, ours: set[str]) -> str | None:
    """Why the control inputs of `model` must stay (see the module notes), or None."""
    nodes = model.nodes
    flow = sorted({n["op"] for n in nodes if n["op"] in TF1_FLOW})
    if flow:
        return f"TF1 control flow ({', '.join(flow)}) places nodes in loop frames by them"
    reads_all = {n["name"]: [input_node(i) for i in n.get("input", [])] for n in nodes}
    reads_data = {
        n["name"]: [input_node(i) for i in n.get("input", []) if not i.startswith("^")]
        for n in nodes
    }
    if not model.signature_nodes("outputs"):
        # TF.js then takes the nodes nothing reads as the outputs; pruning keeps only what
        # outputs read, and the Placeholders, which must not become outputs.
        read = {i for ins in reads_data.values() for i in ins}
        for n in nodes:
            name = n["name"]
            if n["op"].startswith("Placeholder") and name not in outputs and name not in read:
                return (
                    f"without signature outputs, TF.js takes nodes nothing reads as outputs, "
                    f"and only control inputs read {name!r}"
                )
    stateful = {n["name"] for n in nodes if _is_stateful(n["op"], mappers, ours)}
    run_all = _reach(outputs, reads_all) & stateful
    run_data = _reach(outputs, reads_data) & stateful
    for name in sorted(run_all - run_data):
        return f"stateful node {name!r} runs only because a control input asks for it"
    # s runs before t when t reads s through a chain of inputs: compare, for every t,
    # the stateful nodes it reads through any inputs with those it reads through data.
    for name in sorted(run_all):
        before_all = _reach([name], reads_all) & stateful
        before_data = _reach([name], reads_data) & stateful
        for first in sorted(before_all - before_data):
            return f"a control input orders stateful node {first!r} before {name!r}"
    return None


def drop_control(model: Model, outputs: set[str]) -> tuple[int, Counter]:
    """Remove every control input of `model` (in place) and prune what only they read;
    returns (inputs dropped, ops of the nodes pruned)."""
    ops = {n["name"]: n["op"] for n in model.nodes}
    count = 0
    for node in model.nodes:
        inputs = node.get("input")
        if inputs:
            kept = [i for i in inputs if not i.startswith("^")]
            count += len(inputs) - len(kept)
            node["input"] = kept
    pruned = Counter(ops[name] for name in prune(model, outputs) if name in ops)
    return count, pruned


def rename(model: Model, keep: set[str]) -> dict[str, str]:
    """Give every node of the graph not in `keep` a short name (in place); returns the map."""
    used = {n["name"] for n in model.nodes} | set(model.weights) | _initializer_names(model)
    for func in _functions(model):
        used |= {n["name"] for n in func.get("nodeDef") or []}
    taken = set(keep) | (used - {n["name"] for n in model.nodes})
    mapping: dict[str, str] = {}
    i = 0
    for node in model.nodes:
        if node["name"] in keep:
            continue
        while base36(i) in taken:
            i += 1
        mapping[node["name"]] = base36(i)
        taken.add(base36(i))
        i += 1
    for node in model.nodes:
        node["name"] = mapping.get(node["name"], node["name"])
        if "input" in node:
            node["input"] = [
                rename_input(s, mapping[input_node(s)]) if input_node(s) in mapping else s
                for s in node["input"]
            ]
    model.weights = {
        mapping.get(k, k): dataclasses.replace(w, name=mapping.get(k, k))
        for k, w in model.weights.items()
    }
    return mapping


def drop_attrs(nodes: list[dict], mappers: dict[str, dict], ours: set[str]) -> Counter:
    """Remove (in place) the attrs TF.js's op mapper for each node's op does not list;
    returns how many of each name went."""
    dropped: Counter = Counter()
    for node in nodes:
        entry = mappers.get(node["op"])
        if entry is None or node["op"] in ours or not node.get("attr"):
            continue
        read = set()
        for a in entry.get("attrs") or []:
            read |= {a.get("tfName"), a.get("tfDeprecatedName")}
        gone = [k for k in node["attr"] if k not in read]
        dropped.update(gone)
        node["attr"] = {k: v for k, v in node["attr"].items() if k in read}
        if not node["attr"]:
            del node["attr"]
    return dropped


def _summary(counts: Counter, limit: int = 6) -> str:
    parts = [f"{k} {v}" for k, v in counts.most_common(limit)]
    if len(counts) > limit:
        parts.append(f"{len(counts) - limit} more")
    return ", ".join(parts)


def compact(model: Model, *, mappers: dict[str, dict] | None = None) -> tuple[Model, list[str]]:
    """A compacted copy of `model` and one line per step (see the module notes).
    `mappers`: TF.js's op mapper entries (default: :func:`.op_check.op_mappers`; without
    the tensorflowjs package, names and whitespace only)."""
    model.check()
    report = []
    missing = None
    if mappers is None:
        try:
            mappers = op_check.op_mappers()
        except ModelError as exc:
            missing = str(exc)
    ours = graph_ops()
    out = model.copy()
    outputs = model.outputs()
    before = len(model_json(model).encode())
    controls = sum(i.startswith("^") for n in out.nodes for i in n.get("input", []))
    if mappers is None:
        why = f"no TF.js op lists to tell stateful ops ({missing})"
        report.append(f"kept       control inputs and attrs: {why}")
    else:
        why = control_needed(out, outputs, mappers, ours)
    if why is None:
        count, pruned = drop_control(out, outputs)
        what = f" and {sum(pruned.values())} nodes only they read ({_summary(pruned)})"
        report.append(f"control    dropped {count} control inputs" + (what if pruned else ""))
    elif controls and mappers is not None:
        report.append(f"control    kept {controls} control inputs: {why}")
    keep = outputs | out.signature_nodes("inputs") | _initializer_names(out)
    keep |= {n["name"] for n in out.nodes if n["op"].startswith("Placeholder")}
    mapping = rename(out, keep)
    inside = sum(len(f.get("nodeDef") or []) for f in _functions(out))
    note = f"; {inside} nodes inside library functions keep theirs" if inside else ""
    report.append(
        f"renamed    {len(mapping)} nodes (kept {len(keep & {n['name'] for n in out.nodes})}"
        f" graph inputs and outputs{note})"
    )
    dropped: Counter = Counter()
    if mappers is not None:
        dropped = drop_attrs(out.nodes, mappers, ours)
        for func in _functions(out):
            dropped += drop_attrs(func.get("nodeDef") or [], mappers, ours)
            for key in ("attr", "argAttr"):
                if key in func:
                    dropped[f"function {key}"] += 1
                    del func[key]
    if dropped:
        report.append(f"attrs      dropped {sum(dropped.values())} ({_summary(dropped)})")
    out.dense_json = True
    try:
        out.check()
    except ModelError as exc:  # a bug here, never the input's fault: say so
        raise ModelError(f"compact produced a malformed model: {exc}") from exc
    after = len(model_json(out).encode())
    report.append(f"model.json {before:,} B -> {after:,} B")
    return out, report
