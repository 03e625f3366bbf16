"""Argument checks shared by the kernels: every bad input gets a ValueError naming it."""

from __future__ import annotations

import math

import numpy as np

from ..harness.context import STORAGES, Context

# Float32 holds periods far beyond these; the limits keep 2^-shift (see
# cumsum.Modulus) a product of two normal float32 factors.
PERIOD_MIN = 2.0**-100
PERIOD_MAX = 2.0**100


def as_rows(x, *, name: str = "x") -> tuple[np.ndarray, tuple[int, ...]]:
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
        raise ValueError(f"{name}: values beyond float32's range ({np.finfo(np.float32).max:g})")
    return arr32


def check_fits(ctx: Context, rows: np.ndarray, *, name: str = "x") -> None:
    if rows.size > ctx.max_elements:
        side = ctx.max_texture_size
        raise ValueError(
            f"{name}: {rows.size} elements exceed the texture limit of this context "
            f"({side}x{side} = {ctx.max_elements} elements)"
        )


def check_storage(storage: str) -> None:
    if storage not in STORAGES:
        raise ValueError(f"storage: must be one of {STORAGES}, got {storage!r}")


def as_period(period) -> np.float32 | None:
    """The float32-rounded period (the value the GPU holds), or None."""
    if period is None:
        return None
    try:
        value = float(period)
    except (TypeError, ValueError):
        raise ValueError(f"period: must be a positive number or None, got {period!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"period: must be finite and > 0, got {period!r}")
    p32 = np.float32(value)
    if not PERIOD_MIN <= float(p32) <= PERIOD_MAX:
        raise ValueError(f"period: must lie in [2^-100, 2^100], got {period!r}")
    return p32
