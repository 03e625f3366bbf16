"""Argument checks shared by the kernels: every bad input gets a ValueError naming it.

The storage format's limits are part of the checks: a result that the format cannot
hold (beyond its largest finite value, or so small that its rounding or a GPU's flush of
subnormals to zero leaves the kernel's error budget) is refused before any pass runs,
with the argument, the limit and the storage in the message. Every limit below says how
it is derived.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..harness.context import STORAGES, Context, default_context

FLOAT16_MAX = 65504.0  # largest finite float16: (2 - 2^-10) * 2^15
FLOAT32_MAX = float(np.finfo(np.float32).max)  # (2 - 2^-23) * 2^127
FLOAT16_TINY = 2.0**-14  # smallest normal float16
FLOAT32_TINY = 2.0**-126  # smallest normal float32; GLSL ES lets GPUs flush below it
STORAGE_MAX = {"float16": FLOAT16_MAX, "float32": FLOAT32_MAX}

# Periods, per storage: (smallest, largest).
# float32: the limits keep 2^-shift (see cumsum.Modulus) a product of two normal float32
#   factors. Outputs lie in [0, period); one below 2^-126 that a GPU flushes to zero is
#   off by less than 2^-126 <= 2^-26 periods, inside the float32 ceiling of 2^-20.
# float16: every output lies in [0, period) and is written as float16, so the period is
#   at most 65504, where every value below it is finite. Outputs below 2^-14 are float16
#   subnormals, spaced 2^-24: rounding one is off by up to 2^-25, within the float16
#   ceiling of 2^-11 periods (cumsum.CEILING) only if period >= 2^-25 / 2^-11 = 2^-14.
PERIOD_MIN = 2.0**-100
PERIOD_MAX = 2.0**100
PERIOD_LIMITS = {
    "float32": (PERIOD_MIN, PERIOD_MAX),
    "float16": (FLOAT16_TINY, FLOAT16_MAX),
}
_PERIOD_TEXT = {
    "float32": "[2^-100, 2^100]",
    "float16": "[2^-14, 65504] (float16's smallest normal and largest finite value)",
}

# A plain cumsum's error is measured against sum|x| of the largest row (cumsum.budget).
# The smallest nonzero such sum, per storage:
# float16: outputs are written as float16; below 2^-14 they are subnormals, spaced 2^-24,
#   so rounding one is off by up to 2^-25: within the 2^-11 sum|x| final-rounding term
#   only if sum|x| >= 2^-14.
# float32: the residue unit is above sum|x| * 2^-43 (cumsum.Modulus.plain), so with
#   sum|x| >= 2^-82 a subnormal element (< 2^-126, which a GPU may flush to zero) lies
#   below half a unit and rounds away anyway, and a subnormal output flushed to zero is
#   off by < 2^-126 <= 2^-23 sum|x|, inside the conversion term.
PLAIN_SUM_MIN = {"float16": 2.0**-14, "float32": 2.0**-82}
_PLAIN_SUM_TEXT = {"float16": "2^-14", "float32": "2^-82"}
# The converted float32 value is within two roundings (2^-23 relative) of the exact sum
# (cumsum.py, error term 3), so a float32 result stays finite if the exact one is below
# FLOAT32_MAX * (1 - 2^-22). A float16 write rounds to nearest and stays finite for
# anything below 65520, so 65504 itself is the float16 limit.
PLAIN_PEAK_MAX = {"float16": FLOAT16_MAX, "float32": FLOAT32_MAX * (1.0 - 2.0**-22)}


def as_rows(x: Any, *, name: str = "x") -> tuple[np.ndarray, tuple[int, ...]]:
    """`x` as a C-contiguous float32 [rows, n] array, and its original shape."""
    arr = np.asarray(x)
    check_dtype(arr, name)
    if arr.ndim == 0:
        raise ValueError(f"{name}: must have at least one axis, got a scalar")
    if arr.size == 0 or arr.shape[-1] == 0:
        raise ValueError(
            f"{name}: empty array (shape {arr.shape}); the last axis needs length >= 1"
        )
    arr32 = finite_float32(arr, name)
    return arr32.reshape(-1, arr.shape[-1]), arr.shape


def check_dtype(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind not in "fiu":
        raise ValueError(
            f"{name}: unsupported dtype {arr.dtype}; expected a float or integer array"
        )


def finite_float32(arr: np.ndarray, name: str) -> np.ndarray:
    """`arr` rounded to a C-contiguous float32 array; NaN, Inf and overflow refused."""
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or Inf")
    with np.errstate(over="ignore"):
        arr32 = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr32).all():
        big = float(np.abs(arr.astype(np.float64)).max())
        raise ValueError(
            f"{name}: values beyond float32's range ({FLOAT32_MAX:g}), up to {big:g}; "
            "inputs are uploaded as float32"
        )
    return arr32


def check_fits(ctx: Context, rows: np.ndarray, *, name: str = "x") -> None:
    if rows.size > ctx.max_elements:
        side = ctx.max_texture_size
        raise ValueError(
            f"{name}: {rows.size} elements exceed the texture limit of this context "
            f"({side}x{side} = {ctx.max_elements} elements)"
        )


def check_storage(storage: Any) -> None:
    if not isinstance(storage, str) or storage not in STORAGES:
        raise ValueError(f"storage: must be one of {STORAGES}, got {storage!r}")


def as_context(ctx: Any) -> Context:
    """`ctx` itself if it is an open :class:`Context`; the default context for None."""
    if ctx is None:
        return default_context()
    if not isinstance(ctx, Context):
        hint = (
            f"; for the {ctx!r} backend pass Context({ctx!r}) or set $DDSPGL_BACKEND"
            if isinstance(ctx, str)
            else ""
        )
        raise ValueError(
            "ctx: expected a ddspgl.harness.Context or None (the default context), "
            f"got {type(ctx).__name__} {ctx!r}{hint}"
        )
    if ctx.closed:
        raise ValueError("ctx: this Context is closed; create a new one or pass None")
    return ctx


def as_period(period: Any, storage: str | None = None) -> np.float32 | None:
    """The float32-rounded period (the value the GPU holds), or None.

    With `storage`, the period must also lie in that storage's range (PERIOD_LIMITS);
    without it, in float32's.
    """
    if period is None:
        return None
    if isinstance(period, bool):
        raise ValueError(f"period: must be a positive number or None, got {period!r}")
    try:
        value = float(period)
    except (TypeError, ValueError):
        raise ValueError(f"period: must be a positive number or None, got {period!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"period: must be finite and > 0, got {period!r}")
    p32 = np.float32(value) if value <= FLOAT32_MAX else np.float32(np.inf)
    key = storage if storage in PERIOD_LIMITS else "float32"
    low, high = PERIOD_LIMITS[key]
    if not low <= float(p32) <= high:
        raise ValueError(
            f"period: must lie in {_PERIOD_TEXT[key]} with storage={key!r}, got {period!r}"
        )
    return p32


def check_plain_sum(rows: np.ndarray, reverse: bool, storage: str) -> None:
    """A plain (unwrapped) cumsum of float32 `rows` must fit `storage`: its partial sums
    below PLAIN_PEAK_MAX, and the largest row's sum|x| zero or at least PLAIN_SUM_MIN."""
    x = rows[:, ::-1] if reverse else rows
    sums = np.cumsum(x, axis=-1, dtype=np.float64)
    peak = float(np.abs(sums).max())
    if peak > PLAIN_PEAK_MAX[storage]:
        limit = "65504" if storage == "float16" else f"{FLOAT32_MAX:g}"
        advice = "use storage='float32' or a period" if storage == "float16" else "use a period"
        raise ValueError(
            f"x: the cumsum reaches {peak:g}, beyond {storage}'s largest finite value "
            f"{limit} (storage={storage!r}); {advice}"
        )
    total = float(np.abs(rows, dtype=np.float64).sum(axis=-1).max())
    if 0.0 < total < PLAIN_SUM_MIN[storage]:
        raise ValueError(
            f"x: the largest row's sum of |x| is {total:g}, below {_PLAIN_SUM_TEXT[storage]} "
            f"with storage={storage!r}: its sums would be subnormal numbers, rounded or "
            "flushed to zero; scale x up"
        )
