"""The cumsum precision suite in the browser: the emitted TF.js bundle against stock TF.js.

Same inputs, lengths, modes, references and budgets as :mod:`cumsum_suite`, run by
:class:`ddspgl.harness.browser.BrowserHost` in both TF.js modes: ``ddspgl.wrappedCumsum``
for periodic sums, ``tf.cumsum`` with ``ddspgl.patchCumsum()`` for plain ones. The
baseline is stock ``tf.cumsum`` (followed by ``tf.mod`` for a period, as a converted DDSP
graph wraps its phase), recorded but never held to a budget.

TF.js float16 mode keeps every tensor in float16, uploads included: stock ops' input is x
converted to float16 by the driver (:func:`held` reads it back). ddspgl's kernels upload an x
the host holds themselves, exactly (js/src/exact_upload.js; :func:`kernel_held`). Each
reference is computed from the input as that implementation holds it (as on the moderngl
harness it is from the float32 upload), so the suite measures the kernel, not the input
rounding; ``extra["input_error"]`` records what TF.js's rounding alone costs against the
float32 input. ``passes`` counts every WebGL program TF.js
ran in the call (upload and readback conversions included, for both implementations alike).
"""

from __future__ import annotations

import numpy as np

from . import cumsum, cumsum_suite
from .suite import Case, Result

# 2^22 samples take minutes per case on a software renderer; the GL suite covers them.
LENGTHS = tuple(n for n in cumsum_suite.LENGTHS if n <= 2**20)


def as_stored(x: np.ndarray, storage: str) -> np.ndarray:
    """x as TF.js holds it in `storage` mode on SwiftShader (float16 mode rounds uploads
    to the nearest float16)."""
    if storage == "float16":
        return x.astype(np.float16).astype(np.float32)
    return x


def held(page, x: np.ndarray) -> tuple[np.ndarray, str]:
    """(x as TF.js holds it on `page`, how the upload rounded it).

    Read back through one copy pass, which is exact: a value already in the texture's
    format passes through a texel of that format unchanged. The upload's float16
    conversion is the driver's: SwiftShader rounds to nearest, Mesa (ANGLE on EGL)
    truncates, so a model of it would be wrong on one of them.
    """
    xs, _ = page.run(x, op="copy")
    if np.array_equal(xs, x):
        return xs, "exact"
    if np.array_equal(xs, x.astype(np.float16).astype(np.float32)):
        return xs, "nearest"
    if np.array_equal(xs, _float16_toward_zero(x)):
        return xs, "toward zero"
    return xs, "other"


def kernel_held(page, x: np.ndarray) -> tuple[np.ndarray, str]:
    """(x as ddspgl's webgl kernels hold a tensor whose values the host holds, how): x
    itself where they upload it exactly (``ddspgl.exactUpload()``: float16 mode, by
    default), else as TF.js's upload holds it (:func:`held`)."""
    if page.evaluate("() => ddspgl.exactUpload()"):
        return np.asarray(x, np.float32), "exact"
    return held(page, x)


def _float16_toward_zero(x: np.ndarray) -> np.ndarray:
    near = x.astype(np.float16).astype(np.float32)
    over = np.abs(near) > np.abs(x)
    down = np.nextafter(near.astype(np.float16), np.float16(0)).astype(np.float32)
    return np.where(over, down, near)


def _run(host, kind: str, n: int, period, storage: str, exclusive, reverse) -> Result:
    page = host.page(storage)
    x = cumsum_suite._input(kind, n, 1.0 if period is None else period)
    p32 = None if period is None else np.float32(period)
    spec = dict(exclusive=exclusive, reverse=reverse, period=None if p32 is None else float(p32))
    out, rec = page.run(x, op="patched" if p32 is None else "wrapped", **spec)
    base, base_rec = page.run(x, op="stock", **spec)
    xs, rounding = held(page, x)  # stock ops' input
    xk, _ = kernel_held(page, x)  # the kernel's
    ref = cumsum.reference(xk, exclusive=exclusive, reverse=reverse, period=p32)
    ref_stock = cumsum.reference(xs, exclusive=exclusive, reverse=reverse, period=p32)
    ref32 = cumsum.reference(x, exclusive=exclusive, reverse=reverse, period=p32)
    return Result(
        error=cumsum.error(out, ref, xk, p32),
        budget=cumsum.budget(storage, n, p32),
        unit="sum|x|" if period is None else "period",
        passes=rec["passes"],
        seconds=rec["ms"] / 1e3,
        baseline_error=cumsum.error(base, ref_stock, xs, p32),
        baseline_passes=base_rec["passes"],
        baseline_seconds=base_rec["ms"] / 1e3,
        extra={"input_error": cumsum.error(ref_stock, ref32, x, p32), "input_rounding": rounding},
    )


def cases(quick: bool = False, lengths=None) -> list[Case]:
    """The browser cases; `lengths` overrides the suite's (tests use short ones)."""
    lengths = lengths or [n for n in LENGTHS if not quick or n <= cumsum_suite.QUICK_MAX]
    return cumsum_suite.make_cases(lengths, _run, "tfjs-cumsum")
