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

from ..harness.context import Context, Scope, Texture, default_context
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
    p32 = _inputs.as_period(period)
    ctx = ctx or default_context()
    _inputs.check_fits(ctx, rows)
    return run(ctx, rows, p32, exclusive=exclusive, reverse=reverse, storage=storage).reshape(shape)


def run(ctx: Context, rows: np.ndarray, period, *, exclusive, reverse, storage) -> np.ndarray:
    x = ctx.upload(rows)
    try:
        out = scan(ctx, x, period, exclusive=exclusive, reverse=reverse, storage=storage)
        try:
            return out.read()
        finally:
            if out is not x:
                out.release()
    finally:
        x.release()


def scan(ctx: Context, x: Texture, period, *, exclusive, reverse, storage) -> Texture:
    """Every pass over an uploaded [rows, n] texture; the caller owns the result.

    With no pass to run (n = 1, inclusive, no period) the result is `x` itself, as with
    TF.js's identity(). Each pass's input is released once the next pass has read it.
    """
    n_rows, n = x.rows, x.cols
    defines = {"TFJS_CUM_LENGTH": n, "TFJS_CUM_REVERSE": int(bool(reverse))}
    steps = [(0, i) for i in range(math.ceil(math.log2(n)))] + ([(1, 0)] if exclusive else [])
    steps = [(BODY, shift, index) for shift, index in steps]
    if period is not None:
        steps.append((BODY_FLOORMOD, 0, 0))
    with Scope() as scope:
        result = x
        for body, shift, index in steps:
            out = scope.keep(ctx.texture(n_rows, n, 1, storage))
            if body == BODY:
                ctx.run(
                    body,
                    {"x": result},
                    out,
                    uniforms={"index": ("float", float(index))},
                    defines=defines | {"TFJS_CUM_SHIFT": shift},
                )
            else:
                ctx.run(body, {"x": result}, out, uniforms={"period": ("float", float(period))})
            if result is not x:
                scope.drop(result)
            result = out
        return result if result is x else scope.detach(result)
