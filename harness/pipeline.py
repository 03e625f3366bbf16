"""Pipelines: render passes with named intermediates, run under a texture disposal policy.

A :class:`Graph` is a straight-line DAG of render passes. Every value is named and
written once: an upload (host data, written into a float32 texture just before the
first pass that reads it), a bound texture the caller owns, or the output of a pass.
Multi-pass kernels add their passes one by one (``cumsum.scan_graph``), so lifetimes
are planned inside kernels as well as between them.

Three disposal policies:

``keep``
    every texture lives to the end of the run.
``pool``
    what TF.js does by default: a texture goes back to a pool (keyed by its physical
    shape and internal format) when the last pass that reads it has run, the next
    texture of the same key is taken from the pool, and pooled textures are never
    deleted (``WEBGL_DELETE_TEXTURE_THRESHOLD`` = -1). A :class:`Pool` outlives runs.
``early``
    lifetimes planned from the graph: a texture is released right after its last
    reader; it is held for reuse only when the next textures the plan allocates have
    its key, and deleted otherwise. Holding then never raises the peak, because
    nothing else is allocated while it waits.

:func:`plan` is pure: it needs the graph and the texture size limit only, so the
accounting (textures alive and bytes by internal format while each pass runs) can be
predicted for graphs too large to run. :func:`execute` carries a plan out on a
:class:`~ddspgl.harness.context.Context` and measures the same accounting from the
context's counters. A failure anywhere in a run (bad input found by an upload, a
shader that does not compile, a GL error) releases every texture the run held.
Outputs are handed to the caller, who releases them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .context import _FORMATS, Context, Texture, layout

POLICIES = ("keep", "pool", "early")

UPLOAD, BOUND, PASS = "upload", "bound", "pass"


@dataclass(frozen=True)
class Value:
    """A named [rows, cols] array of float (channels 1) or vec4 (channels 4)."""

    name: str
    rows: int
    cols: int
    channels: int
    storage: str
    kind: str  # UPLOAD, BOUND or PASS


@dataclass(frozen=True)
class Pass:
    """One render pass: `body` over every element of `output`."""

    label: str
    body: str
    inputs: tuple[tuple[str, str], ...]  # (shader operand name, value name)
    output: str
    uniforms: tuple[tuple[str, tuple[str, Any]], ...] = ()  # name -> (GLSL type, value)
    defines: tuple[tuple[str, int | float | str], ...] = ()


class GraphError(ValueError):
    """A graph that reads a value before it is written, writes one twice, and the like."""


class Graph:
    """Values and the passes that write them, in the order they run."""

    def __init__(self, name: str):
        self.name = name
        self.values: dict[str, Value] = {}
        self.passes: list[Pass] = []
        self.outputs: list[str] = []
        self._data: dict[str, np.ndarray | Callable[[], np.ndarray]] = {}
        self._bound: dict[str, Texture] = {}
        self._written: set[str] = set()

    def _declare(
        self, name: str, rows: int, cols: int, channels: int, storage: str, kind: str
    ) -> str:
        unique, i = name, 2
        while unique in self.values:
            unique, i = f"{name}#{i}", i + 1
        if rows < 1 or cols < 1:
            raise GraphError(f"{unique}: shape [{rows}, {cols}] is empty")
        self.values[unique] = Value(unique, int(rows), int(cols), channels, storage, kind)
        return unique

    def upload(
        self,
        name: str,
        data: np.ndarray | Callable[[], np.ndarray],
        *,
        shape: tuple[int, ...] | None = None,
    ) -> str:
        """A float32 input: `data` is [rows, cols] (R32F) or [rows, cols, 4] (RGBA32F), or a
        callable returning one, called when the first pass that reads it is about to run
        (then `shape` declares what it returns)."""
        if callable(data):
            if shape is None:
                raise GraphError(f"{name}: an upload computed later needs its shape")
        else:
            data = np.asarray(data)
            shape = data.shape
        if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] != 4):
            raise GraphError(f"{name}: uploads are [rows, cols] or [rows, cols, 4], got {shape}")
        channels = 4 if len(shape) == 3 else 1
        unique = self._declare(name, shape[0], shape[1], channels, "float32", UPLOAD)
        self._data[unique] = data
        self._written.add(unique)
        return unique

    def bind(self, name: str, texture: Texture) -> str:
        """A texture the caller owns: read by passes, never released by a run."""
        unique = self._declare(
            name, texture.rows, texture.cols, texture.channels, texture.storage, BOUND
        )
        self._bound[unique] = texture
        self._written.add(unique)
        return unique

    def texture(self, name: str, rows: int, cols: int, channels: int, storage: str) -> str:
        """Declare the value a later :meth:`run` writes."""
        return self._declare(name, rows, cols, channels, storage, PASS)

    def run(
        self,
        body: str,
        inputs: Mapping[str, str],
        output: str,
        *,
        label: str | None = None,
        uniforms: Mapping[str, tuple[str, Any]] | None = None,
        defines: Mapping[str, int | float | str] | None = None,
    ) -> str:
        """Add a pass of `body` reading `inputs` (operand name -> value) into `output`."""
        for operand, value in inputs.items():
            if value not in self._written:
                raise GraphError(f"{label or body}: {operand} reads {value!r} before it is written")
        out = self.values.get(output)
        if out is None or out.kind != PASS:
            raise GraphError(f"{label or body}: output {output!r} is not a declared texture")
        if output in self._written:
            raise GraphError(f"{label or body}: {output!r} is written twice")
        self._written.add(output)
        self.passes.append(
            Pass(
                label=label or output,
                body=body,
                inputs=tuple(inputs.items()),
                output=output,
                uniforms=tuple((uniforms or {}).items()),
                defines=tuple((defines or {}).items()),
            )
        )
        return output

    def output(self, *names: str) -> None:
        """Values the run hands to the caller."""
        for name in names:
            if name not in self._written:
                raise GraphError(f"output {name!r} is never written")
            if name not in self.outputs:
                self.outputs.append(name)

    def data(self, name: str) -> np.ndarray:
        """The upload's array, computed now if it was given as a callable, checked."""
        value, data = self.values[name], self._data[name]
        if callable(data):
            data = np.asarray(data())
        shape = (value.rows, value.cols) + ((4,) if value.channels == 4 else ())
        if data.shape != shape:
            raise ValueError(f"{name}: upload is {data.shape}, declared {shape}")
        return data

    def bound(self, name: str) -> Texture:
        return self._bound[name]


# -- planning ----------------------------------------------------------------------------------


Key = tuple[int, int, str]  # (width, height, internal format)
_TEXEL_BYTES = dict(_FORMATS.values())


def key_bytes(key: Key) -> int:
    width, height, fmt = key
    return width * height * _TEXEL_BYTES[fmt]


@dataclass(frozen=True)
class Alloc:
    """Before a pass: `value` gets texture `slot`: a new one, one held since an earlier
    release in this run (`reuse` is that slot) or one taken from the pool."""

    value: str
    slot: int
    source: str  # "new", "held" or "pool"
    reuse: int | None = None


@dataclass(frozen=True)
class Free:
    """After a pass (or at the end): `value`'s texture is deleted, pooled or held."""

    value: str
    slot: int
    action: str  # "delete", "pool" or "hold"


@dataclass(frozen=True)
class Snapshot:
    """What the run holds while a pass runs (or after the run, for the last one)."""

    label: str
    textures: int
    bytes: int
    by_format: tuple[tuple[str, int], ...]


@dataclass
class Plan:
    graph: Graph
    policy: str
    allocs: list[tuple[Alloc, ...]]  # per pass
    frees: list[tuple[Free, ...]]  # per pass
    final: tuple[Free, ...]  # after the last pass
    outputs: dict[str, int]  # output value -> slot (bound outputs absent)
    snapshots: list[Snapshot]  # per pass, while it runs
    keys: dict[str, Key]
    pool_after: Counter  # pooled textures by key once the run ends

    @property
    def peak_bytes(self) -> int:
        return max((s.bytes for s in self.snapshots), default=0)


def plan(
    graph: Graph, policy: str, max_texture_size: int, pooled: Mapping[Key, int] | None = None
) -> Plan:
    """When each texture is allocated and released under `policy`, with the accounting.

    `pooled` counts the textures a :class:`Pool` holds when the run starts (policy
    "pool"); they are part of what the run holds. Raises ValueError if a value does not
    fit in a `max_texture_size` square texture.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if not graph.passes:
        raise GraphError(f"{graph.name}: no passes")
    keys: dict[str, Key] = {}
    for declared in graph.values.values():
        if declared.kind == BOUND:
            continue
        try:
            width, height, fmt, _ = layout(
                declared.rows,
                declared.cols,
                declared.channels,
                declared.storage,
                max_texture_size,
            )
        except ValueError as exc:
            raise ValueError(f"{graph.name}: {declared.name}: {exc}") from None
        keys[declared.name] = (width, height, fmt)

    first_read: dict[str, int] = {}
    last_read: dict[str, int] = {}
    for i, p in enumerate(graph.passes):
        for _, value in p.inputs:
            first_read.setdefault(value, i)
            last_read[value] = i
    for name, declared in graph.values.items():
        if declared.kind == UPLOAD and name not in first_read:
            raise GraphError(f"{graph.name}: upload {name!r} is never read")
    outputs = set(graph.outputs)

    # Allocation order: each pass's first-read uploads, then its output.
    order: list[list[str]] = []
    for i, p in enumerate(graph.passes):
        new = [v for _, v in p.inputs if graph.values[v].kind == UPLOAD and first_read[v] == i]
        order.append(list(dict.fromkeys(new)) + [p.output])

    live: dict[str, int] = {}  # value -> slot
    held: dict[Key, list[int]] = {}
    pool = Counter(pooled or {})
    owned = Counter(pool)  # textures the run holds by key: live + held + pooled
    slots = 0
    allocs, frees, snapshots = [], [], []

    def release(value: str, after: int) -> Free:
        slot, key = live.pop(value), keys[value]
        if policy == "pool":
            pool[key] += 1
            return Free(value, slot, "pool")
        if policy == "early" and after + 1 < len(order):
            # Hold it only for the allocations that open the next pass: they are made
            # before that pass runs, so holding never raises what any pass sees.
            wanted = 0
            for name in order[after + 1]:
                if keys[name] != key:
                    break
                wanted += 1
            if len(held.get(key, ())) < wanted:
                held.setdefault(key, []).append(slot)
                return Free(value, slot, "hold")
        owned[key] -= 1
        return Free(value, slot, "delete")

    for i, p in enumerate(graph.passes):
        step = []
        for value in order[i]:
            key = keys[value]
            if held.get(key):
                step.append(Alloc(value, slots, "held", reuse=held[key].pop()))
            elif pool[key] > 0:
                pool[key] -= 1
                step.append(Alloc(value, slots, "pool"))
            else:
                owned[key] += 1
                step.append(Alloc(value, slots, "new"))
            live[value] = slots
            slots += 1
        allocs.append(tuple(step))
        if any(held.values()):  # cannot happen: see release()
            raise AssertionError(f"{graph.name}: a held texture outlived its reuse")
        snapshots.append(_snapshot(p.label, owned))
        done = []
        if policy != "keep":
            dead = [v for _, v in p.inputs if last_read.get(v) == i] + [p.output]
            for value in dict.fromkeys(dead):
                if value in live and value not in outputs and last_read.get(value, i) == i:
                    done.append(release(value, i))
        frees.append(tuple(done))

    last = len(order) - 1
    final = [release(v, last) for v in list(live) if v not in outputs] if policy == "keep" else []
    return Plan(
        graph=graph,
        policy=policy,
        allocs=allocs,
        frees=frees,
        final=tuple(final),
        outputs={v: live[v] for v in graph.outputs if v in live},
        snapshots=snapshots,
        keys=keys,
        pool_after=+pool,
    )


def _snapshot(label: str, owned: Counter[Key]) -> Snapshot:
    by_format: Counter[str] = Counter()
    for key, count in owned.items():
        by_format[key[2]] += count * key_bytes(key)
    return Snapshot(
        label=label,
        textures=sum(owned.values()),
        bytes=sum(by_format.values()),
        by_format=tuple(sorted((f, b) for f, b in by_format.items() if b)),
    )


# -- execution ---------------------------------------------------------------------------------


class Pool:
    """TF.js's texture pool: free textures by key, kept across runs until :meth:`close`."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._free: dict[Key, list[Texture]] = {}

    def counts(self) -> Counter[Key]:
        return Counter({k: len(v) for k, v in self._free.items() if v})

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for textures in self._free.values() for t in textures)

    @property
    def textures(self) -> int:
        return sum(map(len, self._free.values()))

    def by_format(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for textures in self._free.values():
            for t in textures:
                counts[t.format] += t.nbytes
        return counts

    def take(self, key: Key) -> Texture:
        return self._free[key].pop()

    def give(self, key: Key, texture: Texture) -> None:
        self._free.setdefault(key, []).append(texture)

    def close(self) -> None:
        free, self._free = self._free, {}
        for textures in free.values():
            for texture in textures:
                texture.release()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Run:
    """A finished run: its plan, the measured accounting per pass, and the outputs."""

    plan: Plan
    snapshots: list[Snapshot]  # measured from the context's counters
    textures: dict[str, Texture] = field(default_factory=dict)

    def read(self, name: str) -> np.ndarray:
        return self.textures[name].read()

    def detach(self, name: str) -> Texture:
        """Hand output `name` to the caller, who then releases it."""
        return self.textures.pop(name)

    def release(self) -> None:
        """Release the outputs still held (bound textures stay with their owner)."""
        textures, self.textures = self.textures, {}
        for name, texture in textures.items():
            if self.plan.graph.values[name].kind != BOUND:
                texture.release()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def execute(ctx: Context, graph: Graph, policy: str = "early", *, pool: Pool | None = None) -> Run:
    """Run `graph` on `ctx` under `policy`; the caller releases the returned run's outputs.

    Policy "pool" takes and returns textures through `pool` (a fresh one, closed when
    the run ends, if None).
    """
    if pool is not None and pool.ctx is not ctx:
        raise ValueError("pool: belongs to another context")
    with ctx:  # current on this thread, once, for the whole run
        own = Pool(ctx) if policy == "pool" and pool is None else None
        try:
            return _execute(ctx, graph, policy, own or pool)
        finally:
            if own is not None:
                own.close()


def _execute(ctx: Context, graph: Graph, policy: str, pool: Pool | None) -> Run:
    if policy != "pool":
        pool = None
    pl = plan(graph, policy, ctx.max_texture_size, pool.counts() if pool else None)
    c = ctx.counters
    held_by_pool = pool.nbytes if pool else 0
    base_bytes = c.bytes_alive - held_by_pool
    base_textures = c.textures_alive - (pool.textures if pool else 0)
    base_format = Counter(c.bytes_by_format)
    if pool:
        base_format.subtract(pool.by_format())
    slots: dict[int, Texture] = {}  # slot -> texture, for live and held textures
    where: dict[str, int] = {}  # value -> slot
    snapshots = []
    try:
        for i, p in enumerate(graph.passes):
            for a in pl.allocs[i]:
                value = graph.values[a.value]
                if a.source == "held" and a.reuse is not None:
                    texture = slots.pop(a.reuse).relabel(value.rows, value.cols)
                elif a.source == "pool" and pool is not None:
                    texture = pool.take(pl.keys[a.value]).relabel(value.rows, value.cols)
                else:
                    texture = ctx.texture(value.rows, value.cols, value.channels, value.storage)
                slots[a.slot] = texture
                if value.kind == UPLOAD:
                    texture.write(np.asarray(graph.data(a.value), np.float32))
                where[a.value] = a.slot
            inputs = {
                operand: graph.bound(v) if graph.values[v].kind == BOUND else slots[where[v]]
                for operand, v in p.inputs
            }
            ctx.run(
                p.body,
                inputs,
                slots[where[p.output]],
                uniforms=dict(p.uniforms),
                defines=dict(p.defines),
            )
            by_format = Counter(c.bytes_by_format)
            by_format.subtract(base_format)
            snapshots.append(
                Snapshot(
                    label=p.label,
                    textures=c.textures_alive - base_textures,
                    bytes=c.bytes_alive - base_bytes,
                    by_format=tuple(sorted((f, b) for f, b in by_format.items() if b)),
                )
            )
            _free(pl.frees[i], slots, pool, pl)
        _free(pl.final, slots, pool, pl)
    except BaseException:
        for texture in slots.values():
            texture.release()
        raise
    run = Run(plan=pl, snapshots=snapshots)
    for name in graph.outputs:
        kind = graph.values[name].kind
        run.textures[name] = graph.bound(name) if kind == BOUND else slots.pop(pl.outputs[name])
    if slots:  # cannot happen: every slot is freed, held for reuse or handed out
        raise AssertionError(f"{graph.name}: slots {sorted(slots)} left behind")
    return run


def _free(frees: tuple[Free, ...], slots: dict[int, Texture], pool: Pool | None, pl: Plan) -> None:
    for f in frees:
        texture = slots[f.slot]
        if f.action == "hold":
            continue  # stays in `slots` until an Alloc with reuse=f.slot takes it
        del slots[f.slot]
        if f.action == "pool" and pool is not None:
            pool.give(pl.keys[f.value], texture)
        else:
            texture.release()
