"""Wrapped parallel cumsum: exact modular accumulation, a few wide passes.

Why
    A phase is a running sum of ``f0 / sample_rate``. TF.js's WebGL cumsum stores every
    Hillis-Steele pass in the render format, float16 on phones, and never wraps: after
    4 s at 440 Hz the phase is near 1760 cycles, where float16 cannot tell cycles apart.

How
    Every element is turned into an integer residue modulo ``p = period * 2^shift``
    (``p`` in [2^43, 2^44), an exact integer because the float32 period has 24
    significant bits), and residues are added with 64-bit integer arithmetic in the
    shader. Integer addition is exact and associative, so the wrap modulo the period is
    free and the scan order cannot change a bit of the result. Intermediate levels are
    stored as four base-2^11 digits per element, exact in RGBA16F and RGBA32F alike: no
    float16 texture ever holds an unbounded or rounded sum. A plain cumsum (no period)
    uses the same arithmetic with ``p = 2^44`` read as signed two's complement and a
    shift chosen so that no partial sum of the batch can reach 2^43 units.

    Pass plan (work-efficient, blocked): a leaf pass sums blocks of ``LEAF_BLOCK``
    inputs, upper passes sum blocks of ``Bu`` block sums until at most ``TOP_MAX`` remain,
    one pass scans the top level, down-sweep passes turn block sums into block prefixes
    level by level, and the final pass adds each input's in-block prefix to its block's
    prefix. Every element walks the shorter half of its block (forwards from its block's
    prefix or backwards from the next one's), and the final pass writes four consecutive
    outputs per texel from one shared walk. ``2k + 3`` passes for ``k`` upper levels: 5 at
    n = 64000, 7 at n = 2^22, against TF.js's ``ceil(log2 n)`` (16 and 22).

Error analysis (unit: one period; for a plain cumsum: Σ|x| of the largest row)
    1. Input quantisation: ``x * 2^shift`` is rounded to an integer. One unit is
       ``period / p <= 2^-43`` periods, so each element is off by at most 2^-44 periods,
       and only elements below 2^-20 periods (whose ulp is finer than a unit) are off at
       all. Over n elements: at most ``n * 2^-44`` (2^-22 at n = 2^22). For a plain
       cumsum the shift makes Σ|x| * 2^shift + n < 2^43 with the largest such shift, so a
       unit is below 2^-41.9 Σ|x|: ``n * 2^-42.9`` at most.
    2. Accumulation and wrapping: exact (integer arithmetic).
    3. Conversion of the residue to float32: two roundings, < 2^-23 of the value.
    4. The final write: float32 storage is exact; float16 storage rounds to nearest in the
       shader (``roundF16``), half a float16 ulp of the value: for a value below the
       period P that is at most 2^(floor(log2 P) - 11), i.e. 2^-12 periods for P = 1 and
       2^-9 rad = 0.31 * 2^-11 periods for P = 2π; for a plain cumsum 2^-11 * |value|.
    The budget is the sum of the four terms; :func:`budget` computes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..harness import pipeline
from ..harness.context import Context, Texture
from . import _inputs

NAME = "cumsum"
BODY_REDUCE = "kernels/cumsum_reduce.frag"
BODY_SCAN = "kernels/cumsum_scan.frag"
BODY_FINAL4 = "kernels/cumsum_final4.frag"

LEAF_BLOCK = 16  # inputs per leaf block: the final pass reads LEAF_BLOCK / 2 on average
TOP_MAX = 64  # longest level scanned by a single pass (and the single-pass limit)
SIGNED_MODULUS = 1 << 44


@dataclass(frozen=True)
class Plan:
    """Block sizes per level and the lengths they produce."""

    n: int
    blocks: tuple[int, ...]  # (B0, Bu, Bu, ...); empty: one pass
    lengths: tuple[int, ...]  # (n, n1, n2, ...): elements per row at each level

    @property
    def passes(self) -> int:
        return 1 if not self.blocks else 2 * len(self.blocks) + 1


def plan(n: int) -> Plan:
    """The pass plan for rows of `n` elements."""
    if n <= TOP_MAX:
        return Plan(n, (), (n,))
    m = -(-n // LEAF_BLOCK)
    k = _upper_levels(m)
    upper = math.ceil(m ** (1.0 / (k + 1))) if k else TOP_MAX
    blocks = (LEAF_BLOCK,) + (upper,) * k
    lengths = [n]
    for b in blocks:
        lengths.append(-(-lengths[-1] // b))
    return Plan(n, blocks, tuple(lengths))


def _upper_levels(m: int) -> int:
    """Fewest upper reductions that bring m block sums down to TOP_MAX or fewer."""
    k = 0
    while -(-m // TOP_MAX**k) > TOP_MAX:
        k += 1
    return k


@dataclass(frozen=True)
class Modulus:
    """Integer modulus p and scale 2^shift of the residue arithmetic."""

    p: int
    shift: int
    signed: bool

    @classmethod
    def periodic(cls, period: np.float32) -> Modulus:
        mantissa, exponent = math.frexp(float(period))  # period = mantissa * 2^exponent
        m24 = int(mantissa * (1 << 24))  # exact: float32 has 24 significant bits
        shift = 44 - exponent  # p = period * 2^shift = m24 * 2^20 in [2^43, 2^44)
        return cls(m24 << 20, shift, signed=False)

    @classmethod
    def plain(cls, rows: np.ndarray) -> Modulus:
        n = rows.shape[-1]
        total = float(np.abs(rows, dtype=np.float64).sum(axis=-1).max())
        if total == 0.0:
            return cls(SIGNED_MODULUS, 0, signed=True)
        limit = (1 << 43) - n - 1  # any partial sum of rounded units stays below 2^43
        shift = math.floor(math.log2(limit / total))
        while total * 2.0**shift + n / 2 >= limit:
            shift -= 1
        return cls(SIGNED_MODULUS, shift, signed=True)

    def uniforms(self) -> dict[str, tuple[str, object]]:
        lo, hi = self.p & 0xFFFFFFFF, self.p >> 32
        half = self.shift // 2
        return {
            "modulus": ("ivec2", (lo - (1 << 32) if lo >= 1 << 31 else lo, hi)),
            "shift": ("int", self.shift),
            "scale": ("vec2", (2.0 ** (-half), 2.0 ** (half - self.shift))),
        }


def cumsum(
    x: ArrayLike,
    *,
    exclusive: bool = False,
    reverse: bool = False,
    period: float | None = None,
    storage: str = "float16",
    ctx: Context | None = None,
) -> np.ndarray:
    """Cumulative sum along the last axis, wrapped modulo `period` before every write.

    Args:
        x: array [..., n] of float or integer values (rounded to float32).
        exclusive: sum of the elements before each one (the first output is 0).
        reverse: accumulate from the end.
        period: e.g. 1.0 for cycles, 2π for radians. Every texture holds residues
            modulo the float32-rounded period and the output lies in [0, period) up to
            its final rounding. None: a plain cumsum.
        storage: "float16" or "float32", the format of every texture rendered into.
        ctx: a :class:`ddspgl.harness.Context`; the shared default one if None.

    Returns:
        float32 array shaped like x: what the output texture held.
    """
    rows, shape = _inputs.as_rows(x)
    _inputs.check_storage(storage)
    p32 = _inputs.as_period(period, storage)
    ctx = _inputs.as_context(ctx)
    _inputs.check_fits(ctx, rows)
    if p32 is None:
        _inputs.check_plain_sum(rows, reverse, storage)
    modulus = Modulus.periodic(p32) if p32 is not None else Modulus.plain(rows)
    out = run(ctx, rows, modulus, exclusive=exclusive, reverse=reverse, storage=storage)
    return out.reshape(shape)


def run(ctx: Context, rows: np.ndarray, modulus: Modulus, *, exclusive, reverse, storage):
    """Upload checked [rows, n] float32 input, scan it, read it back as float32."""
    g = pipeline.Graph(NAME)
    x = g.upload("x", rows)
    out = scan_graph(g, x, modulus, exclusive=exclusive, reverse=reverse, storage=storage)
    g.output(out)
    with pipeline.execute(ctx, g) as result:
        return values(result.textures[out], rows.shape[1])


def values(result: Texture, n: int) -> np.ndarray:
    """[rows, n] float32 from a result texture of :func:`scan` (four values per texel)."""
    return result.read().reshape(result.rows, -1)[:, :n]


def scan(
    ctx: Context,
    x: Texture,
    modulus: Modulus,
    *,
    exclusive,
    reverse,
    storage,
    digits: bool = False,
) -> Texture:
    """Every pass over an uploaded [rows, n] texture (see :func:`scan_graph`); the caller
    owns the result. Each intermediate is released as soon as the last pass that reads
    it has run, and every texture this function made is released if a pass fails."""
    g = pipeline.Graph(NAME)
    out = scan_graph(
        g,
        g.bind("x", x),
        modulus,
        exclusive=exclusive,
        reverse=reverse,
        storage=storage,
        digits=digits,
    )
    g.output(out)
    return pipeline.execute(ctx, g).detach(out)


def scan_graph(
    g: pipeline.Graph,
    x: str,
    modulus: Modulus,
    *,
    exclusive,
    reverse,
    storage,
    digits: bool = False,
    label: str = NAME,
) -> str:
    """Add the scan's passes over [rows, n] value `x` to `g`; returns the result: a
    [rows, ceil(n / 4)] value of vec4, four consecutive outputs to a texel (read it with
    :func:`values`), in the storage format.

    With ``digits=True`` both ends stay residues: `x` holds vec4 digit elements (as
    written by resToDigits) and the result is the exclusive prefix as digits, exact, for
    kernels that keep scanning phase in integer form (kernels/harmonic.py).
    """
    if digits and (reverse or not exclusive):
        raise ValueError("digits: only the forward exclusive scan is kept as residues")
    n_rows, n = g.values[x].rows, g.values[x].cols
    pl = plan(n)
    uniforms = modulus.uniforms()
    common = {"CUMSUM_REVERSE": int(bool(reverse))}
    source_name = "partial" if digits else "x"

    def new(name: str, cols: int) -> str:
        return g.texture(f"{label}.{name}", n_rows, cols, 4, storage)

    # Up-sweep: block sums, level by level.
    sums: list[str] = []
    source = x
    for level, block in enumerate(pl.blocks):
        out = g.run(
            BODY_REDUCE,
            {source_name if level == 0 else "partial": source},
            new(f"sums{level + 1}", pl.lengths[level + 1]),
            label=f"{label} reduce {level + 1}",
            uniforms=uniforms,
            defines=common
            | {
                "CUMSUM_BLOCK": block,
                "CUMSUM_SOURCE_LEN": pl.lengths[level],
                "CUMSUM_SOURCE_RAW": int(level == 0 and not digits),
            },
        )
        sums.append(out)
        source = out
    # Down-sweep: exclusive prefixes of each level, the top one scanned whole.
    upper = None
    for level in range(len(pl.blocks), 0, -1):
        length = pl.lengths[level]
        block = pl.blocks[level] if level < len(pl.blocks) else length
        inputs = {"partial": sums[level - 1]} | ({"upper": upper} if upper else {})
        upper = g.run(
            BODY_SCAN,
            inputs,
            new(f"prefix{level}", length),
            label=f"{label} scan {level}",
            uniforms=uniforms,
            defines=common
            | {
                "CUMSUM_BLOCK": block,
                "CUMSUM_SOURCE_LEN": length,
                "CUMSUM_SOURCE_RAW": 0,
                "CUMSUM_HAS_UPPER": int(upper is not None),
                "CUMSUM_UPPER_LEN": g.values[upper].cols if upper else 0,
                "CUMSUM_FINAL": 0,
            },
        )
    # Final pass: block prefix + in-block prefix of the inputs, converted and rounded
    # four outputs to a texel (or kept as digits, one element to a texel).
    final = {
        "CUMSUM_BLOCK": pl.blocks[0] if pl.blocks else n,
        "CUMSUM_SOURCE_LEN": n,
        "CUMSUM_SOURCE_RAW": int(not digits),
        "CUMSUM_HAS_UPPER": int(upper is not None),
        "CUMSUM_UPPER_LEN": g.values[upper].cols if upper else 0,
    }
    inputs = {source_name: x} | ({"upper": upper} if upper else {})
    if digits:
        return g.run(
            BODY_SCAN,
            inputs,
            new("prefix", n),
            label=f"{label} final",
            uniforms=uniforms,
            defines=common | final | {"CUMSUM_FINAL": 0},
        )
    return g.run(
        BODY_FINAL4,
        inputs,
        new("out", -(-n // 4)),
        label=f"{label} final",
        uniforms=uniforms,
        defines=common
        | final
        | {
            "CUMSUM_INCLUSIVE": int(not exclusive),
            "CUMSUM_SIGNED": int(modulus.signed),
            "CUMSUM_ROUND_F16": int(storage == "float16"),
        },
    )


# -- reference and budget ---------------------------------------------------------------------

REFERENCE_BLOCK = 2048


def reference(x32: np.ndarray, *, exclusive=False, reverse=False, period=None) -> np.ndarray:
    """Float64 cumsum of float32 values along the last axis, wrapped modulo `period`.

    `period` is used as given (pass the float32-rounded one to model the GPU). A long
    periodic sum is taken in blocks of REFERENCE_BLOCK with the block totals wrapped
    (np.fmod is exact), so no float64 partial sum exceeds REFERENCE_BLOCK * max|x| +
    n / REFERENCE_BLOCK * period: for n = 2^22 the reference error stays below 2^-28
    periods, far inside every budget.
    """
    x = np.asarray(x32, dtype=np.float64)
    if reverse:
        x = x[..., ::-1]
    if period is None:
        out = np.cumsum(x, axis=-1)
    else:
        period = float(period)
        n = x.shape[-1]
        pad = (-n) % REFERENCE_BLOCK
        blocks = np.concatenate([x, np.zeros(x.shape[:-1] + (pad,))], axis=-1)
        blocks = blocks.reshape(x.shape[:-1] + (-1, REFERENCE_BLOCK))
        inner = np.cumsum(blocks, axis=-1)
        totals = np.fmod(inner[..., -1], period)
        offsets = np.cumsum(totals, axis=-1) - totals
        offsets = np.fmod(offsets, period)
        out = np.mod(inner + offsets[..., None], period)
        out = out.reshape(x.shape[:-1] + (-1,))[..., :n]
    if exclusive:
        out = np.concatenate([np.zeros(out.shape[:-1] + (1,)), out[..., :-1]], axis=-1)
        if period is not None:
            out = np.mod(out, period)
    if reverse:
        out = out[..., ::-1]
    return out


def error(out: np.ndarray, ref: np.ndarray, x32: np.ndarray, period=None) -> float:
    """Largest error: circular distance in periods, or |out - ref| / Σ|x| (largest row)."""
    out = np.asarray(out, dtype=np.float64)
    if period is None:
        norm = float(np.abs(np.asarray(x32, np.float64)).sum(axis=-1).max()) or 1.0
        with np.errstate(invalid="ignore"):
            d = np.abs(out - ref)
        return float(np.nan_to_num(d, nan=np.inf).max()) / norm
    period = float(period)
    d = np.mod(out - ref, period)
    d = np.minimum(d, period - d)
    return float(np.nan_to_num(d, nan=np.inf).max()) / period


def _half_ulp_below(value: float, storage: str) -> float:
    """Half the spacing of `storage` floats just below `value` (the largest in [0, value))."""
    bits = 11 if storage == "float16" else 24
    mantissa, exponent = math.frexp(value)
    if mantissa == 0.5:  # a power of two: the values below it lie in the binade under it
        exponent -= 1
    return 2.0 ** (exponent - 1 - bits)


def budget(storage: str, n: int, period=None) -> float:
    """Derived bound on :func:`error` (see the module docstring for each term)."""
    if period is None:
        quantise = n * 2.0**-42.9
        final = 2.0**-11 if storage == "float16" else 0.0
        return quantise + 2.0**-23 + final
    period = float(period)
    final = _half_ulp_below(period, storage) / period if storage == "float16" else 0.0
    return n * 2.0**-44 + 2.0**-23 + final


# The ceilings for periodic sums: the derived budget must sit under them.
CEILING = {"float16": 2.0**-11, "float32": 2.0**-20}
