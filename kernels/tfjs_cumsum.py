"""Baseline: TF.js 4.22's WebGL cumsum, pass for pass, through the same harness.

``tfjs-backend-webgl`` (``Cum_impl.ts`` with ``cum_gpu.ts``) runs Hillis-Steele: for
``i = 0 .. ceil(log2 n) - 1`` one full-size pass adds the element ``2^i`` back, each
stored in the render format (float16 when float32 rendering is off), then one shift
pass for exclusive. The first pass reads the float32 upload (TF.js's identity() does not
copy); n = 1 issues no pass at all. There is no wrap: a converted DDSP graph wraps the
phase afterwards with ``tf.floorMod``, so with a period this baseline adds that pass.

Its error is recorded beside ddspgl's, never held to a budget: in float16 it is expected
to be far outside one.
"""

from __future__ import annotations

import math

import numpy as np

from ..harness import pipeline
from ..harness.context import Context, Texture
from . import _inputs

NAME = "tfjs_cumsum"
BODY = "kernels/tfjs_cumsum.frag"
BODY_FLOORMOD = "kernels/floormod.frag"


def passes(n: int, *, exclusive=False, period=None) -> int:
    return math.ceil(math.log2(n)) + int(exclusive) + int(period is not None)


def cumsum(x, *, exclusive=False, reverse=False, period=None, storage="float16", ctx=None):
    """Same contract as :func:`ddspgl.cumsum`, computed the way TF.js 4.22 does."""
    rows, shape = _inputs.as_rows(x)
    _inputs.check_storage(storage)
    p32 = _inputs.as_period(period, storage)
    ctx = _inputs.as_context(ctx)
    _inputs.check_fits(ctx, rows)
    return run(ctx, rows, p32, exclusive=exclusive, reverse=reverse, storage=storage).reshape(shape)


def run(ctx: Context, rows: np.ndarray, period, *, exclusive, reverse, storage) -> np.ndarray:
    g = pipeline.Graph(NAME)
    x = g.upload("x", rows)
    out = scan_graph(g, x, period, exclusive=exclusive, reverse=reverse, storage=storage)
    if out == x:  # no pass: TF.js returns the upload itself
        return rows.astype(np.float32)
    g.output(out)
    with pipeline.execute(ctx, g) as result:
        return result.read(out)


def scan(ctx: Context, x: Texture, period, *, exclusive, reverse, storage) -> Texture:
    """Every pass over an uploaded [rows, n] texture; the caller owns the result, which
    is `x` itself when there is no pass to run (n = 1, inclusive, no period), as with
    TF.js's identity()."""
    g = pipeline.Graph(NAME)
    x_value = g.bind("x", x)
    out = scan_graph(g, x_value, period, exclusive=exclusive, reverse=reverse, storage=storage)
    if out == x_value:
        return x
    g.output(out)
    return pipeline.execute(ctx, g).detach(out)


def scan_graph(
    g: pipeline.Graph, x: str, period, *, exclusive, reverse, storage, label: str = NAME
) -> str:
    """Add TF.js's passes over [rows, n] value `x` to `g`; returns the result value (`x`
    itself when there is no pass). Each pass's input dies once the next pass has read it.
    """
    n_rows, n = g.values[x].rows, g.values[x].cols
    # The length is a uniform: the programs depend on the variant, never on n.
    length = {"TFJS_CUM_LENGTH": ("int", n)}
    defines = {"TFJS_CUM_REVERSE": int(bool(reverse))}
    steps = [(0, i) for i in range(math.ceil(math.log2(n)))] + ([(1, 0)] if exclusive else [])
    result = x
    for shift, index in steps:
        out = g.texture(f"{label}.pass{index + shift}", n_rows, n, 1, storage)
        result = g.run(
            BODY,
            {"x": result},
            out,
            label=f"{label} {'shift' if shift else f'pass {index + 1}'}",
            uniforms=length | {"index": ("float", float(index))},
            defines=defines | {"TFJS_CUM_SHIFT": shift},
        )
    if period is not None:
        result = g.run(
            BODY_FLOORMOD,
            {"x": result},
            g.texture(f"{label}.floormod", n_rows, n, 1, storage),
            label=f"{label} floorMod",
            uniforms={"period": ("float", float(period))},
        )
    return result
