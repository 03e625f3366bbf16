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

    The input x is read in TF.js's packed layout (a texel holds two neighbouring
    elements of two neighbouring rows; :func:`pack`), and the output is written in it,
    so the passes below are the TF.js bundle's own (js/src/kernels/wrapped_cumsum.js):
    the same GLSL bodies, the same plan (js/src/kernels/cumsum_plan.js, held equal to
    :func:`plan` by tests/test_plan_parity.py). Lengths and blocks are uniforms here, so
    one compiled program serves every length.

    Pass plan (work-efficient, blocked, shaped for software renderers, which pay for
    every instruction of a loop or branch whether a fragment takes it or not): a leaf
    pass sums blocks of ``LEAF_BLOCK`` = 4 inputs in straight-line code (two packed
    texel pairs), ``QUAD_LEVELS`` more passes sum blocks of 4 block sums the same way,
    passes with blocks of ``UPPER_BLOCK`` follow until at most ``TOP_MAX`` block sums
    remain, one pass scans the top level, the down-sweep turns block sums into block
    prefixes level by level (each level also holding its row total, so a prefix starts
    from the nearer of its block's two prefixes and adds or subtracts at most two
    elements in the levels of 4), and the final pass writes two outputs per row and
    texel from the nearer prefix of their block of 4 and their own two inputs. ``2k +
    1`` passes for ``k`` levels: 9 at n = 64000, 11 at 192960 and 2^20, 13 at 2^22,
    against TF.js's ``ceil(log2 n)`` (16 and 22). A plain cumsum first sums |x| on the
    GPU (``ceil(log_256 n)`` passes of abs_sum.frag, read back) to choose its shift, as
    the bundle must: it cannot see x.

Error analysis (unit: one period; for a plain cumsum: Σ|x| of the largest row)
    1. Input quantisation: ``x * 2^shift`` is rounded to an integer. One unit is
       ``period / p <= 2^-43`` periods, so each element is off by at most 2^-44 periods,
       and only elements below 2^-20 periods (whose ulp is finer than a unit) are off at
       all. Over n elements: at most ``n * 2^-44`` (2^-22 at n = 2^22). For a plain
       cumsum the shift is the largest with ``T * 2^shift + n/2 < L = 2^43 - n - 1`` for
       the GPU's bound T on Σ|x| (float32 sums of non-negative terms, at most
       ``levels * 256`` roundings of 2^-24, times that margin: T <= Σ|x| * (1 + 2^-13) up
       to n = 2^32), so no partial sum of rounded units reaches 2^43, and by maximality a
       unit 2^-shift is below ``2T / (L - n/2)`` <= 2^-42 (1 + 2^-13) (1 + 2^-19) Σ|x|
       for n <= 2^22, under 2^-41.9 Σ|x|: half a unit per element, ``n * 2^-42.9`` Σ|x| at most.
    2. Accumulation and wrapping: exact (integer arithmetic), whatever the plan's blocks,
       the order of the passes or the renderer: the same bits come out of every plan.
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

from ..harness import pipeline, shader
from ..harness.context import Context, Texture
from . import _inputs

NAME = "cumsum"
BODY_PACK = "kernels/pack.frag"
BODY_ABS_SUM = "kernels/abs_sum.frag"
BODY_LEAF4 = "kernels/cumsum_leaf4.frag"
BODY_REDUCE4 = "kernels/cumsum_reduce4.frag"
BODY_REDUCE = "kernels/cumsum_reduce.frag"
BODY_SCAN4 = "kernels/cumsum_scan4.frag"
BODY_SCAN = "kernels/cumsum_scan.frag"
BODY_FINAL = "kernels/cumsum_final_packed.frag"

LEAF_BLOCK = 4  # the leaf and final passes work on blocks of 4 (two packed texel pairs)
QUAD_LEVELS = 2  # levels above the leaf that use blocks of 4 too (cumsum_reduce4/scan4)
UPPER_BLOCK = 16  # block of the short levels above them (cumsum_reduce/cumsum_scan)
TOP_MAX = 64  # longest level scanned whole by one pass
ABS_SUM_BLOCK = 256  # elements per block of abs_sum.frag (a plain cumsum's sum of |x|)
SIGNED_MODULUS = 1 << 44


@dataclass(frozen=True)
class Plan:
    """Block sizes per level and the lengths they produce (the bundle's bundlePlan)."""

    n: int  # scan elements per row: n, or n + 1 for a reverse scan over an odd n
    blocks: tuple[int, ...]  # blocks[i] reduces level i to level i + 1; blocks[0] = LEAF_BLOCK
    lengths: tuple[int, ...]  # (n, n1, n2, ...): elements per row at each level

    @property
    def passes(self) -> int:
        """Render passes of the scan: up-sweep, down-sweep (top included) and final."""
        return 2 * len(self.blocks) + 1


def plan(n: int) -> Plan:
    """The pass plan for rows of `n` scan elements (:func:`scan_length`)."""
    blocks = [LEAF_BLOCK]
    lengths = [n, -(-n // LEAF_BLOCK)]
    while lengths[-1] > TOP_MAX:
        block = 4 if len(blocks) <= QUAD_LEVELS else UPPER_BLOCK
        blocks.append(block)
        lengths.append(-(-lengths[-1] // block))
    return Plan(n, tuple(blocks), tuple(lengths))


def scan_length(n: int, reverse: bool) -> int:
    """Scan elements for rows of n inputs: a reverse scan over an odd n counts a zero in
    front, so that every leaf block is two whole texel pairs of the packed x."""
    return n + 1 if reverse and n % 2 else n


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
    def plain(cls, total: float, n: int) -> Modulus:
        """For rows of n elements whose sum of |x| is at most `total` (:func:`abs_sum_bound`):
        the largest shift with ``total * 2^shift + n / 2 < 2^43 - n - 1``, so that no partial
        sum of rounded units reaches 2^43."""
        if total == 0.0:
            return cls(SIGNED_MODULUS, 0, signed=True)
        limit = (1 << 43) - n - 1
        shift = math.floor(math.log2(limit / total))
        while total * 2.0 ** (shift + 1) + n / 2 < limit:
            shift += 1
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
    out = run(ctx, rows, p32, exclusive=exclusive, reverse=reverse, storage=storage)
    return out.reshape(shape)


def pack(rows: np.ndarray) -> np.ndarray:
    """[rows, n] as TF.js packs it: [ceil(rows / 2), ceil(n / 2), 4], zero-padded."""
    r, n = rows.shape
    padded = np.zeros((r + r % 2, n + n % 2), np.float32)
    padded[:r, :n] = rows
    blocks = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2)
    return np.ascontiguousarray(blocks.transpose(0, 2, 1, 3).reshape(blocks.shape[0], -1, 4))


def unpack(texels: np.ndarray, rows: int, n: int) -> np.ndarray:
    """The inverse of :func:`pack`: [rows, n] from [ceil(rows / 2), ceil(n / 2), 4]."""
    tr, tc = texels.shape[:2]
    return texels.reshape(tr, tc, 2, 2).transpose(0, 2, 1, 3).reshape(2 * tr, 2 * tc)[:rows, :n]


def run(ctx: Context, rows: np.ndarray, period, *, exclusive, reverse, storage) -> np.ndarray:
    """Upload checked [rows, n] float32 input packed, scan it, read it back as float32."""
    n_rows, n = rows.shape
    packed = pack(rows)
    x = ctx.texture(packed.shape[0], packed.shape[1], 4, "float32")
    try:
        x.write(packed)
        if period is not None:
            modulus = Modulus.periodic(period)
        else:
            modulus = Modulus.plain(abs_sum_bound(ctx, x, n_rows, n, storage=storage), n)
        out = scan(
            ctx,
            x,
            modulus,
            exclusive=exclusive,
            reverse=reverse,
            storage=storage,
            shape=(n_rows, n),
        )
        try:
            return unpack(out.read(), n_rows, n)
        finally:
            out.release()
    finally:
        x.release()


def abs_sum_bound(ctx: Context, x: Texture, rows: int, n: int, *, storage: str) -> float:
    """Upper bound on the largest row's sum of |x| for a packed x [rows, n], on the GPU
    (abs_sum.frag, as the bundle does where the host cannot see x), read back.

    Each level sums blocks of ABS_SUM_BLOCK in float32 (at most ABS_SUM_BLOCK - 1
    roundings of relative error 2^-24 each, on sums of non-negative terms), so the sum
    read back times ``1 + levels * ABS_SUM_BLOCK * 2^-24`` bounds the exact one.
    """
    g = pipeline.Graph(f"{NAME} abs sum")
    source, length, levels = g.bind("x", x), n, 0
    while True:
        nxt = -(-length // ABS_SUM_BLOCK)
        raw = levels == 0
        defines, uniforms = _sizes(ABS_SUM_SOURCE_LEN=length)
        source = g.run(
            BODY_ABS_SUM,
            {"x" if raw else "partial": source},
            g.texture(f"abs sum {levels + 1}", rows, nxt, 4, storage),
            label=f"{NAME} abs sum {levels + 1}",
            uniforms=uniforms,
            defines=defines
            | {"ABS_SUM_BLOCK": ABS_SUM_BLOCK, "ABS_SUM_SOURCE_RAW": int(raw)}
            | (shader.packed("x") if raw else {}),
        )
        length, levels = nxt, levels + 1
        if length <= 1:
            break
    g.output(source)
    with pipeline.execute(ctx, g) as result:
        digits = np.rint(result.read(source)[:, 0, :3]).astype(np.uint32)
    bits = digits[:, 0] | (digits[:, 1] << 11) | (digits[:, 2] << 22)
    total = float(bits.view(np.float32).max())
    if not math.isfinite(total):
        raise ValueError("x: the sum of |x| over a row overflows float32")
    return total * (1 + levels * ABS_SUM_BLOCK * 2.0**-24)


def scan(
    ctx: Context,
    x: Texture,
    modulus: Modulus,
    *,
    exclusive,
    reverse,
    storage,
    digits: bool = False,
    shape: tuple[int, int] | None = None,
) -> Texture:
    """Every pass over a texture (see :func:`scan_graph` for `x` and `shape`); the caller
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
        shape=shape,
    )
    g.output(out)
    return pipeline.execute(ctx, g).detach(out)


def _sizes(**sizes: int) -> tuple[dict[str, str], dict[str, tuple[str, int]]]:
    """(defines, uniforms) that pass lengths and blocks as int uniforms, the body's size
    macros naming them, so that one program serves every length (CUMSUM_SOURCE_LEN ->
    uniform cumsumSourceLen)."""
    defines, uniforms = {}, {}
    for macro, value in sizes.items():
        head, *rest = macro.lower().split("_")
        name = head + "".join(word.capitalize() for word in rest)
        defines[macro] = name
        uniforms[name] = ("int", int(value))
    return defines, uniforms


def scan_graph(
    g: pipeline.Graph,
    x: str,
    modulus: Modulus,
    *,
    exclusive,
    reverse,
    storage,
    digits: bool = False,
    shape: tuple[int, int] | None = None,
    label: str = NAME,
) -> str:
    """Add the scan's passes (:func:`plan`) over value `x` to `g`; returns the result.

    `x` is a float [rows, n] (packed first by one pass into float32, as TF.js packs an
    unpacked input), or already packed (:func:`pack`) with `shape` = (rows, n). The
    result is [rows, n] packed (read it with :func:`unpack`), in the storage format.

    With ``digits=True`` both ends stay residues: `x` holds vec4 digit elements [rows, n]
    (as written by resToDigits) and the result is the exclusive prefix as digits [rows,
    n], exact, for kernels that keep scanning phase in integer form (kernels/harmonic.py).
    """
    if digits and (reverse or not exclusive):
        raise ValueError("digits: only the forward exclusive scan is kept as residues")
    value = g.values[x]
    if digits or value.channels == 1:
        n_rows, n = value.rows, value.cols
    elif shape is None:
        raise ValueError("shape: a packed x needs its [rows, n]")
    else:
        n_rows, n = shape
    mod = modulus.uniforms()
    pl = plan(n if digits else scan_length(n, reverse))
    levels = len(pl.blocks)

    def new(name: str, cols: int) -> str:
        return g.texture(f"{label}.{name}", n_rows, cols, 4, storage)

    def run(body: str, inputs: dict, out: str, what: str, defines=None, **sizes) -> str:
        size_defines, size_uniforms = _sizes(**sizes)
        return g.run(
            body,
            inputs,
            out,
            label=f"{label} {what}",
            uniforms=mod | size_uniforms,
            defines=(defines or {}) | size_defines,
        )

    if not digits and value.channels == 1:
        defines, uniforms = _sizes(PACK_ROWS=n_rows, PACK_COLS=n)
        x = g.run(
            BODY_PACK,
            {"x": x},
            g.texture(f"{label}.packed", -(-n_rows // 2), -(-n // 2), 4, "float32"),
            label=f"{label} pack",
            uniforms=uniforms,
            defines=defines | shader.packed("output"),
        )
    raw = {"CUMSUM_REVERSE": int(bool(reverse))} | shader.packed("x")
    # Up-sweep: block sums, level by level, as digits.
    if digits:
        sums = [
            run(
                BODY_REDUCE4,
                {"partial": x},
                new("sums1", pl.lengths[1]),
                "reduce 1",
                CUMSUM_SOURCE_LEN=n,
            )
        ]
    else:
        sums = [
            run(
                BODY_LEAF4,
                {"x": x},
                new("sums1", pl.lengths[1]),
                "leaf",
                raw,
                CUMSUM_SOURCE_LEN=n,
                CUMSUM_SCAN_LEN=pl.n,
            )
        ]
    for level in range(1, levels):
        out = new(f"sums{level + 1}", pl.lengths[level + 1])
        inputs = {"partial": sums[-1]}
        what = f"reduce {level + 1}"
        if pl.blocks[level] == 4:
            sums.append(run(BODY_REDUCE4, inputs, out, what, CUMSUM_SOURCE_LEN=pl.lengths[level]))
        else:
            sums.append(
                run(
                    BODY_REDUCE,
                    inputs,
                    out,
                    what,
                    CUMSUM_BLOCK=pl.blocks[level],
                    CUMSUM_SOURCE_LEN=pl.lengths[level],
                )
            )
    # Down-sweep: each level's exclusive prefixes and its total, the top scanned whole.
    upper = None
    for level in range(levels, 0, -1):
        length = pl.lengths[level]
        inputs = {"partial": sums[level - 1]} | ({"upper": upper} if upper else {})
        out = new(f"prefix{level}", length + 1)
        what = f"scan {level}"
        if level < levels and pl.blocks[level] == 4:
            upper = run(BODY_SCAN4, inputs, out, what, CUMSUM_SOURCE_LEN=length)
        else:
            block = pl.blocks[level] if level < levels else length + 1
            upper = run(
                BODY_SCAN,
                inputs,
                out,
                what,
                {"CUMSUM_HAS_UPPER": int(upper is not None)},
                CUMSUM_BLOCK=block,
                CUMSUM_SOURCE_LEN=length,
            )
    # Final pass: the level-0 prefixes from the leaf blocks' prefixes and the inputs.
    if digits:
        return run(
            BODY_SCAN4,
            {"partial": x, "upper": upper},
            new("prefix", n),
            "final",
            CUMSUM_SOURCE_LEN=n,
        )
    final = {
        "CUMSUM_INCLUSIVE": int(not exclusive),
        "CUMSUM_SIGNED": int(modulus.signed),
        "CUMSUM_ROUND_F16": int(storage == "float16"),
    }
    out = g.texture(f"{label}.out", -(-n_rows // 2), -(-n // 2), 4, storage)
    return run(
        BODY_FINAL,
        {"x": x, "upper": upper},
        out,
        "final",
        raw | final | shader.packed("x", "output"),
        CUMSUM_SOURCE_LEN=n,
        CUMSUM_SCAN_LEN=pl.n,
        CUMSUM_ROWS=n_rows,
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
