"""`ddspgl fuse`: magenta/ddsp's filtered noise becomes one FilteredNoise node.

What a ddsp export computes (``FilteredNoise.get_signal`` -> ``core.frequency_filter``)::

    noise = RandomUniform([b, n]) * 2 - 1
    ir    = causal(window * IRFFT(Complex(magnitudes, 0)))      # Roll rewritten for TF.js
    out   = crop(overlap_add(IRFFT(RFFT(frames(noise)) * RFFT(ir))))

and ddspgl's ``FilteredNoise(magnitudes, n_samples, window_size, seed)``
(kernels/filtered_noise.py) computes the same FIR filtering directly, in two passes from
the frame-rate magnitudes, with the noise from its seeded counter-based generator
(uniform in [-1, 1) on the same 2^-23 grid, the graph's RandomUniform seed as its seed).
Its second input is a new graph input ``noise_offset`` (int32, 0 unless fed): the index in
that stream of the first sample, which a caller rendering in chunks sets to each chunk's
start so that the chunks draw one stream.

How a match is found and proved
    Anchors: the graph's signature outputs ``filtered_noise_signal`` and
    ``filtered_noise_controls_magnitudes`` (``ddspgl convert`` keys the signature by the
    SavedModel's names), their shapes from the signature, and the one RandomUniform among
    the output's ancestors. The subgraph from (the draw, the magnitudes) to the output is
    then run in float64 (:mod:`.graph_eval`) on a random draw and random magnitudes,
    beside the kernel's float64 reference filtering ``2 u - 1`` with each window size the
    subgraph can hold; it is replaced where every sample agrees within the kernel's own
    derived float32 bound (kernels/filtered_noise.py ``derived_bound``: the graph's
    float32 constants, e.g. its window, err far less). Anything else is a near miss with
    its reason, and the graph is left as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..kernels import filtered_noise as noise_kernel
from .graph import ModelError, Weight, const_node, input_node, unique_name
from .graph_eval import Unsupported, evaluate

if TYPE_CHECKING:
    from .fuse import _Graph

OP = "FilteredNoise"
PATTERN = "filtered noise"
# The graph input of a fused noise synthesizer's sample offset (noise_offset_input).
NOISE_OFFSET = "noise_offset"
SIGNAL, MAGNITUDES = "filtered_noise_signal", "filtered_noise_controls_magnitudes"
PROBE_SEED = 2025
SEED_MAX = 2**32 - 1


def _signature_source(g: _Graph, key: str) -> tuple[str, list[int]] | None:
    """(the node an Identity output `key` reads, its shape) from the signature, or None."""
    entry = ((g.model.doc.get("signature") or {}).get("outputs") or {}).get(key)
    if not entry:
        return None
    node = input_node(entry.get("name", ""))
    dims = entry.get("tensorShape", {}).get("dim", [])
    shape = [int(d.get("size", -1)) for d in dims]
    if g.op(node) == "Identity":
        node = input_node(g.inputs(node)[0])
    return node, shape


def _ancestors(g: _Graph, start: str, stop: set[str]) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        x = stack.pop()
        if x in seen or x in stop or g.node(x) is None:
            continue
        seen.add(x)
        stack.extend(input_node(i) for i in g.inputs(x))
    return seen


def filtered_noise(g: _Graph, out: str):
    """The filtered noise ending at `out`: (Match, nodes), a Miss, or None."""
    from .fuse import Match, Miss  # the fuse module imports this one

    signal = _signature_source(g, SIGNAL)
    if signal is None or signal[0] != input_node(out):
        return None
    mags = _signature_source(g, MAGNITUDES)

    def miss(why: str) -> Miss:
        return Miss(out, PATTERN, why)

    if mags is None:
        return miss(f"the graph has no output {MAGNITUDES} to read the magnitudes from")
    (m_node, m_shape), n_shape = mags, signal[1]
    if len(m_shape) != 3 or min(m_shape) < 1 or len(n_shape) != 2 or n_shape[0] != m_shape[0]:
        return miss(f"signature shapes {m_shape} and {n_shape} are not [b, frames, K], [b, n]")
    ancestors = _ancestors(g, input_node(out), {m_node})
    draws = [x for x in ancestors if g.op(x) == "RandomUniform"]
    if len(draws) != 1:
        return miss(f"{len(draws)} RandomUniform draws feed the signal, not one")
    draw = draws[0]
    batch, frames, bands = m_shape
    n = n_shape[1]
    seed = int(g.node(draw).get("attr", {}).get("seed", {}).get("i", 0)) % (SEED_MAX + 1)

    rng = np.random.default_rng(PROBE_SEED)
    u = rng.integers(0, 2**23, (batch, n)) / 2**23
    m = rng.uniform(0.0, 1.0, (batch, frames, bands)).astype(np.float32)
    visited: list[str] = []
    try:
        y = evaluate(g.nodes, g.array, out, {draw: u, m_node: m}, visited)
    except Unsupported as e:
        return miss(f"the subgraph reads {e}")
    if y.shape != (batch, n):
        return miss(f"the subgraph's output is {list(y.shape)}, not [{batch}, {n}]")
    sizes = {0} | {
        int(a.size)
        for x in visited
        for i in g.inputs(x)
        if (a := g.array(i)) is not None and a.ndim == 1 and 3 <= a.size < 2 * (bands - 1)
    }
    best = None
    for w in sorted(sizes):
        try:
            ref = noise_kernel.reference(m, 2 * u - 1, window_size=w)
            bound = noise_kernel.derived_bound(m, n_samples=n, window_size=w)
        except ValueError as e:
            raise ModelError(
                f"filtered noise at node {out!r} does not fit the FilteredNoise kernel: {e}"
            ) from None
        dev = np.abs(y - ref)
        if np.all(dev <= bound):
            best = (w, float(dev.max()))
            break
        if best is None or dev.max() < best[1]:
            best = (None, float(dev.max()))
    if best[0] is None:
        return miss(
            f"runs differently from ddsp's frequency_filter: |difference| {best[1]:.3g} "
            f"(window sizes tried {sorted(sizes)})"
        )
    window, dev_max = best
    interior = [v for v in visited if v != input_node(out)]
    why = g.read_outside(interior, out)
    if why:
        return miss(why)
    offset_input, offset_nodes = noise_offset_input(g)
    node = {
        "name": input_node(out),
        "op": OP,
        "input": [m_node, offset_input],
        "attr": {
            "n_samples": {"i": str(n)},
            "window_size": {"i": str(window)},
            "seed": {"i": str(seed)},
        },
    }
    detail = (
        f"FilteredNoise(n_samples={n}, window_size={window}, seed={seed}, K={bands}) "
        f"replaces {len(interior)} nodes (probe max |difference| {dev_max:.2g}); "
        f"graph input {offset_input!r}: the first sample's index in the noise stream"
    )
    shape = {"n_samples": n, "frames": frames, "bands": bands, "window_size": window}
    match = Match(input_node(out), PATTERN, None, detail, removed=interior, shape=shape)
    return match, [*offset_nodes, node]


def noise_offset_input(g: _Graph) -> tuple[str, list[dict]]:
    """A new graph input for the FilteredNoise's sample offset: (its name, its nodes).

    A ``PlaceholderWithDefault`` int32 scalar, 0 unless fed (the export renders as it
    did): the index in the kernel's noise stream of the first sample. A caller rendering a
    long input in chunks feeds each chunk its first sample's index in the whole, so the
    chunks draw one stream and agree where they overlap instead of repeating the same
    noise. Also a signature input (``NAME:0``) where the graph has a signature."""
    name = unique_name(g.taken, NOISE_OFFSET)
    default = unique_name(g.taken, f"{name}/zero")
    g.model.weights[default] = Weight.from_array(default, np.array(0, np.int32), "int32")
    signature = g.model.doc.get("signature")
    if signature is not None:
        signature.setdefault("inputs", {})[f"{name}:0"] = {
            "name": f"{name}:0", "dtype": "DT_INT32", "tensorShape": {},
        }  # fmt: skip
    nodes = [
        const_node(default, "int32", ()),
        {
            "name": name,
            "op": "PlaceholderWithDefault",
            "input": [default],
            "attr": {"dtype": {"type": "DT_INT32"}, "shape": {"shape": {}}},
        },
    ]
    return name, nodes
