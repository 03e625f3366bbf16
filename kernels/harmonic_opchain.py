"""Baseline: the harmonic synthesizer as a converted DDSP graph computes it on TF.js.

One pass per op over [batch * K, n_samples] tensors, every one stored in the render
format (float16 on a phone): the frame-rate gains (the same pass as ddspgl's, frame rate
costs nothing here), the upsampled angular frequencies 2 pi k f(n) / sample_rate
(resizeBilinear), the window-upsampled amplitudes with remove_above_nyquist, TF.js's
Hillis-Steele cumsum of the frequencies along time (``ceil(log2 n)`` passes; the
transposes TF.js adds for a non-innermost axis are left out, in the baseline's favour),
sin times amplitude, and the reduce over harmonics: ``ceil(log2 n) + 5`` passes, 21 at
n = 64000. DDSP's ``harmonic_synthesis`` uses a plain cumsum without wrapping.

Its error is recorded beside ddspgl's, never held to a budget.
"""

from __future__ import annotations

import math

import numpy as np

from ..harness import pipeline
from . import _inputs, harmonic, tfjs_cumsum

NAME = "harmonic_opchain"
BODY_ENVELOPE = "kernels/harmonic_opchain_envelope.frag"
BODY_SINMUL = "kernels/harmonic_opchain_sinmul.frag"
BODY_REDUCE = "kernels/harmonic_opchain_reduce.frag"


def passes(n_samples: int) -> int:
    return math.ceil(math.log2(n_samples)) + 5


def harmonic_synth(
    f0_hz,
    amplitude,
    harmonic_distribution,
    *,
    sample_rate=16000,
    n_samples=64000,
    normalize=True,
    add_endpoint=True,
    storage="float16",
    ctx=None,
):
    """Same contract as :func:`ddspgl.harmonic_synth` (no phase state), TF.js's way."""
    _inputs.check_storage(storage)
    f0, amp, dist, sr32, _, shape = harmonic.check(
        f0_hz,
        amplitude,
        harmonic_distribution,
        sample_rate=sample_rate,
        n_samples=n_samples,
        add_endpoint=add_endpoint,
        normalize=normalize,
        storage=storage,
    )
    ctx = _inputs.as_context(ctx)
    rows = shape.batch * shape.harmonics
    if rows * shape.n_samples > ctx.max_elements:
        raise ValueError(
            f"n_samples: {rows} x {shape.n_samples} elements exceed this context's texture "
            "limit (the op chain materialises [batch * K, n_samples])"
        )
    g, audio = graph(f0, amp, dist, sr32, shape, normalize=normalize, storage=storage)
    with pipeline.execute(ctx, g) as result:
        return result.read(audio)


def graph(f0, amp, dist, sr32, shape: harmonic.Shape, *, normalize, storage):
    """The op chain's passes as a :class:`~ddspgl.harness.pipeline.Graph` over checked
    inputs; returns (graph, audio)."""
    b, frames, k = shape.batch, shape.frames, shape.harmonics
    rows, n = b * k, shape.n_samples
    k4 = -(-k // 4)
    # Sizes are uniforms: the programs depend on the variant, never on the lengths.
    common = {"HOP": ("int", shape.hop), "FRAMES": ("int", frames), "HARMONIC_K": ("int", k)}
    sr = ("float", float(sr32))
    g = pipeline.Graph(NAME)
    f0_in = g.upload("f0", f0)
    packed = np.zeros((b * frames, k4 * 4), np.float32)
    packed[:, :k] = dist.reshape(b * frames, k)
    gain = g.run(
        harmonic.BODY_GAIN,
        {
            "f0": f0_in,
            "amplitude": g.upload("amplitude", amp),
            "dist": g.upload("dist", packed.reshape(b * frames, k4, 4)),
        },
        g.texture("gain", b, frames, 4, storage),
        label="frame gains",
        uniforms=common | {"HARMONIC_K4": ("int", k4), "nyquist": ("float", float(sr32) / 2.0)},
        defines={"HARMONIC_NORMALIZE": int(bool(normalize))},
    )
    omega = g.run(
        BODY_ENVELOPE,
        {"f0": f0_in},
        g.texture("omega", rows, n, 1, storage),
        label="upsample frequencies",
        uniforms=common | {"sampleRate": sr},
        defines={"OPCHAIN_OMEGA": 1},
    )
    env = g.run(
        BODY_ENVELOPE,
        {"f0": f0_in, "gain": gain, "dist": g.upload("dist_flat", dist.reshape(b * frames, k))},
        g.texture("envelope", rows, n, 1, storage),
        label="upsample amplitudes",
        uniforms=common | {"sampleRate": sr},
        defines={"OPCHAIN_OMEGA": 0},
    )
    phase = tfjs_cumsum.scan_graph(
        g, omega, None, exclusive=False, reverse=False, storage=storage, label="phase cumsum"
    )
    wave = g.run(
        BODY_SINMUL,
        {"amp": env, "phase": phase},
        g.texture("wave", rows, n, 1, storage),
        label="sin * amplitude",
    )
    audio = g.run(
        BODY_REDUCE,
        {"wave": wave},
        g.texture("audio", b, n, 1, storage),
        label="sum harmonics",
        uniforms={"HARMONIC_K": ("int", k)},
    )
    g.output(audio)
    return g, audio
