"""`ddspgl fuse`: magenta/ddsp's whole harmonic synthesis becomes one HarmonicSynth node.

What a ddsp export computes (``Harmonic.get_signal`` -> ``core.harmonic_synthesis``),
as the converter writes it::

    H  = Mul(amplitudes, harmonic_distribution)              # [b, frames, K], frame rate
    F  = ResizeBilinear(Mul(f0, [1 ... K]), [n, 1])           # 'linear' upsampling, [b, n, K]
    A  = overlap-add of Hann windows of 2 hop over H          # 'window' upsampling, [b, n, K]
    A' = SelectV2(GreaterEqual(F, sr / 2), 0, A)              # remove_above_nyquist
    phase = Cumsum(F * 2 pi / sr, axis=1)                     # or angular_cumsum's subgraph
    out = Sum(A' * Sin(phase), axis=-1)                       # [b, n]

and ddspgl's ``HarmonicSynth(f0, amplitudes, harmonic_distribution, sample_rate,
n_samples, normalize=false, factors=true)`` (``factors``: inputs 1 and 2 are H's two
factors as the graph multiplied them, in either order; the bundle's graph op tells the
[b, frames, 1] amplitudes by shape)
computes the same (kernels/harmonic.py) with an exact phase, reading only the frame-rate
tensors: nothing of size [n, K] is left, and there is no float32(2 pi) to drift by. Its
fourth input is a new graph input ``initial_phase`` [1, K] (radians, zeros unless fed):
the phase to start from, which a caller rendering in chunks carries from one to the next.

How a match is found and proved
    Anchors: ``Sum(Mul(env, Sin(phase)))`` over the last axis; ``env`` a SelectV2 of
    ``GreaterEqual(F, sr / 2)``; F traced back to a ResizeBilinear (giving n) of
    ``Mul(f0, [1 ... K])`` (giving K and the frame-rate f0); the envelope traced back
    through shape ops and constant products (the window, giving the hop) to ``H``, the
    first product of two computed tensors. Then the subgraph between (f0, H) and the
    output is *run*, in float64 (:mod:`.graph_eval`), on random controls whose
    harmonics cross Nyquist, beside the kernel's float64 reference
    (kernels/harmonic.py ``reference``); it is replaced only where every sample agrees
    within :func:`probe_bound`. Any other difference (another window, a shifted grid,
    harmonic shifts, a reverse cumsum ...) is a near miss, reported with the largest
    deviation, and the graph is left as it was. So is a subgraph whose interior is read
    elsewhere or is a graph output.

    Constants stored as float16 (a quantized model) are not read: fuse before quantizing
    (``ddspgl convert`` does).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..kernels import harmonic as harmonic_kernel
from .graph import ModelError, Weight, const_node, input_node, unique_name
from .graph_eval import Unsupported, evaluate

if TYPE_CHECKING:
    from .fuse import Miss, _Graph

OP = "HarmonicSynth"
PATTERN = "harmonic synthesis"
# The graph input of a fused synthesizer's initial phases (initial_phase_input).
INITIAL_PHASE = "initial_phase"
FLOAT = {"type": "DT_FLOAT"}
PROBE_SEED = 2024
U64 = 2.0**-53
# Ops an envelope passes through between H and the Nyquist mask (ddsp's
# upsample_with_windows and overlap_and_add), and between f0 and the ResizeBilinear.
SHAPE_OPS = {"StridedSlice", "Transpose", "Reshape", "Sum", "Pad", "PadV2", "ConcatV2",
             "Identity", "ExpandDims", "Squeeze", "Mul"}  # fmt: skip
MAX_TRACE = 64


def _data_inputs(g: _Graph, name: str) -> list[str]:
    return [input_node(i) for i in g.inputs(name)]


def _const_scalar(g: _Graph, name: str) -> float | None:
    a = g.array(name)
    return None if a is None or a.size != 1 or a.dtype.kind != "f" else float(a.reshape(()))


def _computed(g: _Graph, names: list[str]) -> list[str]:
    return [n for n in names if g.op(n) != "Const"]


def _trace_envelope(g: _Graph, start: str) -> tuple[str | None, list[np.ndarray]]:
    """From the amplitude envelope back to H: (H or None, constants multiplied on the
    way)."""
    node, factors = start, []
    for _ in range(MAX_TRACE):
        op, ins = g.op(node), _data_inputs(g, node)
        computed = _computed(g, ins)
        if op == "Mul" and len(computed) == 2:
            return node, factors
        if op not in SHAPE_OPS or not computed:
            return None, factors
        if op == "Mul":
            factors.extend(a for a in (g.array(i) for i in ins) if a is not None)
        node = computed[0]
    return None, factors


def _trace_frequencies(g: _Graph, f: str) -> tuple[str, int, str, np.ndarray] | str:
    """From the frequency envelope F back to ``Mul(f0, harmonics)``:
    (resize node, n, f0 node, harmonics), or why not."""
    node = f
    while g.op(node) in ("StridedSlice", "Identity", "Reshape", "Squeeze"):
        node = _data_inputs(g, node)[0]
    if g.op(node) != "ResizeBilinear":
        return "the frequency envelope is not a ResizeBilinear ('linear') upsampling"
    resize = node
    size = g.ints(_data_inputs(g, resize)[1])
    if size is None or len(size) != 2 or size[1] != 1:
        return f"ResizeBilinear {resize}: size {size} is not a constant [n_samples, 1]"
    node = _data_inputs(g, resize)[0]
    while g.op(node) in ("StridedSlice", "Identity", "Reshape", "ExpandDims"):
        node = _data_inputs(g, node)[0]
    ins = _data_inputs(g, node)
    if g.op(node) != "Mul" or len(ins) != 2 or len(_computed(g, ins)) != 1:
        return "the frame-rate frequencies are not f0 times a constant of harmonic numbers"
    f0 = _computed(g, ins)[0]
    numbers = g.array(ins[1] if f0 == ins[0] else ins[0])
    if numbers is None:
        return "the harmonic numbers are not a readable float32 constant (quantized?)"
    return resize, size[0], f0, numbers


def probe_bound(f0, h, sr, hop, n, c, periods, ambiguous) -> np.ndarray:
    """Per-sample bound on |graph in float64 - kernel reference| for an exact match.

    The graph computes with its own float32 constants where ddsp means exact ones:
    - omega = F * c with c = float32(2 pi / sr): harmonic k's phase, Phi_k(n) radians,
      is scaled by c / (2 pi / sr), an error of Phi_k(n) |c sr / (2 pi) - 1|;
    - each wrap modulo a float32 period P (angular_cumsum) instead of 2 pi moves the phase
      by |P - 2 pi|, and there are at most Phi_k / P + 2 of them;
    - float64 arithmetic: the cumsum of n terms of at most Phi_k(n) within n 2^-53 of it,
      the window's overlap-add and the sum over harmonics within 8 2^-53 of sum_k |A_k|;
    - harmonics within kernels/harmonic.NYQUIST_BAND of Nyquist (``ambiguous``) may be
      kept by one and silenced by the other.
    Each phase error e costs |A_k(n)| |e| (|d sin| <= |e|); A_k(n) <= max of its two
    frames' H (the crossfade is convex).
    """
    i = np.arange(n) // hop
    nxt = np.minimum(i + 1, f0.shape[1] - 1)
    r = (np.arange(n) % hop) / hop
    f = f0[0, i, 0] * (1 - r) + f0[0, nxt, 0] * r  # Hz, float64
    k = np.arange(1, h.shape[2] + 1, dtype=np.float64)
    fundamental = 2 * np.pi * np.cumsum(f) / sr  # radians
    phi = fundamental[:, None] * k  # [n, K]
    amp = np.maximum(h[0, i], h[0, nxt])  # [n, K]
    dc = abs(c * sr / (2 * np.pi) - 1)
    dp = max((abs(p - 2 * np.pi) for p in periods), default=0.0)
    wraps = phi / (2 * np.pi) + 2 if periods else 0.0
    phase = phi * dc + wraps * dp + n * U64 * (phi + 1)
    bound = np.sum(amp * phase, axis=1) + 8 * U64 * np.sum(amp, axis=1)
    return bound + np.abs(ambiguous[0])


def initial_phase_input(g: _Graph, k: int) -> tuple[str, list[dict]]:
    """A new graph input for the HarmonicSynth's initial phases: (its name, its nodes).

    A ``PlaceholderWithDefault`` of shape [1, K], radians (harmonic k's phase before
    sample 0, the kernel's ``initial_phase``), zeros unless fed: the export renders as it
    did, and a caller rendering a long input in chunks feeds each chunk the phase the
    previous one reached there, so the chunks' oscillators agree where they overlap. Also
    a signature input (``NAME:0``) where the graph has a signature."""
    name = unique_name(g.taken, INITIAL_PHASE)
    default = unique_name(g.taken, f"{name}/zeros")
    g.model.weights[default] = Weight.from_array(default, np.zeros((1, k), np.float32), "float32")
    shape = {"dim": [{"size": "1"}, {"size": str(k)}]}
    signature = g.model.doc.get("signature")
    if signature is not None:
        signature.setdefault("inputs", {})[f"{name}:0"] = {
            "name": f"{name}:0", "dtype": "DT_FLOAT", "tensorShape": shape,
        }  # fmt: skip
    nodes = [
        const_node(default, "float32", (1, k)),
        {
            "name": name,
            "op": "PlaceholderWithDefault",
            "input": [default],
            "attr": {"dtype": FLOAT, "shape": {"shape": shape}},
        },
    ]
    return name, nodes


def harmonic(g: _Graph, out: str):
    """The harmonic synthesis ending at Sum `out`: (Match, nodes), a Miss, or None."""
    from .fuse import Match, Miss  # the fuse module imports this one

    ins = _data_inputs(g, out)
    if g.op(out) != "Sum" or len(ins) != 2 or g.op(ins[0]) != "Mul":
        return None
    prod = _data_inputs(g, ins[0])
    sins = [x for x in prod if g.op(x) == "Sin"]
    if len(prod) != 2 or len(sins) != 1:
        return None
    sin = sins[0]
    env = prod[1] if prod[0] == sin else prod[0]

    def miss(why: str) -> Miss:
        return Miss(out, PATTERN, why)

    axis = g.ints(ins[1])
    if axis is None or axis not in ([-1], [2]) or g.flag(out, "keep_dims"):
        return miss(f"the sum over harmonics is over axis {axis}, not the last of [b, n, K]")
    if g.op(env) != "SelectV2" or g.op(_data_inputs(g, env)[0]) != "GreaterEqual":
        return miss("the amplitude envelope is not masked above Nyquist (remove_above_nyquist)")
    cond, _, a_env = _data_inputs(g, env)
    f_env, nyq_name = _data_inputs(g, cond)
    nyquist = _const_scalar(g, nyq_name)
    if nyquist is None or not nyquist > 0:
        return miss("the Nyquist threshold is not a positive float32 constant (quantized?)")
    sr = 2 * nyquist
    traced = _trace_frequencies(g, f_env)
    if isinstance(traced, str):
        return miss(traced)
    resize, n, f0, numbers = traced
    k = numbers.size
    if not np.array_equal(numbers.reshape(-1), np.arange(1, k + 1)):
        return miss("the harmonic numbers are not 1 ... K (harmonic shifts or other ratios)")
    h, factors = _trace_envelope(g, a_env)
    if h is None:
        return miss("the amplitude envelope does not lead back to amplitudes * distribution")
    amp, dist = _data_inputs(g, h)  # either order: the probe and the kernel node agree
    windows = [a.size for a in factors if a.size > 1]
    if len(windows) != 1 or windows[0] % 2:
        return miss(f"no single window constant of 2 hop samples (found sizes {windows})")
    hop = windows[0] // 2
    if n % hop:
        return miss(f"n_samples {n} is not a multiple of the window's hop {hop}")
    frames = n // hop
    omegas = [u for u in g.users[input_node(f_env)] if g.op(u) == "Mul" and u != input_node(cond)]
    scales = [_const_scalar(g, x) for u in omegas for x in _data_inputs(g, u) if x != f_env]
    scales = [s for s in scales if s is not None]
    if len(scales) != 1 or abs(scales[0] * sr / (2 * math.pi) - 1) > 2.0**-20:
        return miss(f"the angular frequency is not F * 2 pi / {sr:g} (scales {scales})")
    try:
        harmonic_kernel.check(
            np.zeros((1, frames), np.float32),
            np.zeros((1, frames), np.float32),
            np.zeros((1, frames, k), np.float32),
            sample_rate=sr,
            n_samples=n,
        )
    except ValueError as e:
        raise ModelError(
            f"harmonic synthesis at node {out!r} does not fit the HarmonicSynth kernel: {e}"
        ) from None

    rng = np.random.default_rng(PROBE_SEED)
    f0_probe = rng.uniform(sr / (4 * k), sr / k, (1, frames, 1)).astype(np.float32)
    a_probe = rng.uniform(0.0, 1.0, (1, frames, 1)).astype(np.float32)
    d_probe = rng.uniform(0.0, 1.0, (1, frames, k)).astype(np.float32)
    h_probe = a_probe.astype(np.float64) * d_probe  # the amplitudes, for the bound
    visited: list[str] = []
    consts: list[str] = []
    try:
        feeds = {f0: f0_probe, amp: a_probe, dist: d_probe}
        y = evaluate(g.nodes, g.array, out, feeds, visited, consts)
    except Unsupported as e:
        return miss(f"the subgraph reads {e}")
    ref, ambiguous = harmonic_kernel.reference(
        f0_probe[..., 0],
        a_probe[..., 0],
        d_probe,
        sample_rate=sr,
        n_samples=n,
        normalize=False,
    )
    if y.shape != ref.shape:
        return miss(f"the subgraph's output is {list(y.shape)}, not [1, {n}]")
    periods = [
        p
        for name in visited
        if g.op(name) == "FloorMod"
        for p in [_const_scalar(g, _data_inputs(g, name)[1])]
        if p is not None
    ]
    bound = probe_bound(
        f0_probe.astype(np.float64), h_probe, sr, hop, n,
        scales[0], periods, ambiguous,
    )  # fmt: skip
    dev = np.abs(y - ref)[0]
    if not np.all(dev <= bound):
        at = int(np.argmax(dev - bound))
        return miss(
            f"runs differently from ddsp's harmonic synthesis: |difference| {dev[at]:.3g} "
            f"at sample {at} (bound {bound[at]:.3g}, max |audio| {np.abs(ref).max():.3g})"
        )
    interior = [v for v in visited if v != input_node(out)]
    why = g.read_outside(interior, out)
    if why:
        return miss(why)

    squeeze = unique_name(g.taken, f"{out}/f0_frames")
    phase_input, phase_nodes = initial_phase_input(g, k)
    nodes = [
        {
            "name": squeeze,
            "op": "Squeeze",
            "input": [f0],
            "attr": {"T": FLOAT, "squeeze_dims": {"list": {"i": ["2"]}}},
        },
        *phase_nodes,
        {
            "name": input_node(out),
            "op": OP,
            "input": [squeeze, amp, dist, phase_input],
            "attr": {
                "sample_rate": {"f": sr},
                "n_samples": {"i": str(n)},
                "normalize": {"b": False},
                "add_endpoint": {"b": True},
                "factors": {"b": True},
            },
        },
    ]
    phase = "angular_cumsum" if periods else "Cumsum"
    detail = (
        f"HarmonicSynth(sample_rate={sr:g}, n_samples={n}, K={k}, hop={hop}) replaces "
        f"{len(interior)} nodes ({phase} phase; probe max |difference| {dev.max():.2g}); "
        f"graph input {phase_input!r} [1, {k}]: each harmonic's phase before sample 0"
    )
    shape = {"sample_rate": sr, "n_samples": n, "hop": hop, "harmonics": k}
    return Match(input_node(out), PATTERN, None, detail, removed=interior, shape=shape), nodes
