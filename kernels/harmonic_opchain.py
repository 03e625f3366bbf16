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

from ..harness.context import Scope, default_context
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
    f0, amp, dist, sr32, _, shape = harmonic.check(
        f0_hz,
        amplitude,
        harmonic_distribution,
        sample_rate=sample_rate,
        n_samples=n_samples,
        add_endpoint=add_endpoint,
    )
    _inputs.check_storage(storage)
    ctx = ctx or default_context()
    rows = shape.batch * shape.harmonics
    if rows * shape.n_samples > ctx.max_elements:
        raise ValueError(
            f"n_samples: {rows} x {shape.n_samples} elements exceed this context's texture "
            "limit (the op chain materialises [batch * K, n_samples])"
        )
    b, frames, k = shape.batch, shape.frames, shape.harmonics
    k4 = -(-k // 4)
    common = {"HOP": shape.hop, "FRAMES": frames, "HARMONIC_K": k}
    sr = ("float", float(sr32))
    with Scope() as scope:
        f0_tex = scope.keep(ctx.upload(f0))
        amp_tex = scope.keep(ctx.upload(amp))
        dist_flat = scope.keep(ctx.upload(dist.reshape(b * frames, k)))
        packed = np.zeros((b * frames, k4 * 4), np.float32)
        packed[:, :k] = dist.reshape(b * frames, k)
        dist_tex = scope.keep(ctx.texture(b * frames, k4, 4, "float32"))
        dist_tex.write(packed)
        gain = scope.keep(ctx.texture(b, frames, 4, storage))
        ctx.run(
            harmonic.BODY_GAIN,
            {"f0": f0_tex, "amplitude": amp_tex, "dist": dist_tex},
            gain,
            uniforms={"nyquist": ("float", float(sr32) / 2.0)},
            defines=common | {"HARMONIC_K4": k4, "HARMONIC_NORMALIZE": int(bool(normalize))},
        )
        scope.drop(dist_tex)
        omega = scope.keep(ctx.texture(rows, shape.n_samples, 1, storage))
        ctx.run(
            BODY_ENVELOPE,
            {"f0": f0_tex},
            omega,
            uniforms={"sampleRate": sr},
            defines=common | {"OPCHAIN_OMEGA": 1},
        )
        env = scope.keep(ctx.texture(rows, shape.n_samples, 1, storage))
        ctx.run(
            BODY_ENVELOPE,
            {"f0": f0_tex, "gain": gain, "dist": dist_flat},
            env,
            uniforms={"sampleRate": sr},
            defines=common | {"OPCHAIN_OMEGA": 0},
        )
        phase = omega
        for index in range(math.ceil(math.log2(shape.n_samples))):
            out = scope.keep(ctx.texture(rows, shape.n_samples, 1, storage))
            ctx.run(
                tfjs_cumsum.BODY,
                {"x": phase},
                out,
                uniforms={"index": ("float", float(index))},
                defines={
                    "TFJS_CUM_LENGTH": shape.n_samples,
                    "TFJS_CUM_REVERSE": 0,
                    "TFJS_CUM_SHIFT": 0,
                },
            )
            scope.drop(phase)
            phase = out
        wave = scope.keep(ctx.texture(rows, shape.n_samples, 1, storage))
        ctx.run(BODY_SINMUL, {"amp": env, "phase": phase}, wave)
        scope.drop(phase)
        scope.drop(env)
        out = scope.keep(ctx.texture(b, shape.n_samples, 1, storage))
        ctx.run(BODY_REDUCE, {"wave": wave}, out, defines={"HARMONIC_K": k})
        return out.read()
