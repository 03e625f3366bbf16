"""YIN pitch tracker: the difference function of every frame over every lag, on the GPU.

What
    ``yin(x, sample_rate=..., hop=..., frame_length=..., fmin=..., fmax=...)`` tracks the
    fundamental frequency of audio as de Cheveigné and Kawahara (2002, "YIN, a
    fundamental frequency estimator for speech and music", JASA 111(4)) define it:

    1. the difference function of frame i, ``d_i(tau) = sum_{k < W} (x[s + k] -
       x[s + k + tau])^2`` (the paper's eq. 6), integration window ``W =
       frame_length``, for every lag tau = 1 ... tau_max + 1. The window's start ``s =
       i * hop - (W + tau) // 2`` centres the compared span ``[s, s + W + tau)`` on the
       frame's time ``i * hop`` (within half a sample) for every lag, so that frame i's
       estimate belongs to sample ``i * hop`` whatever the period, as DDSP's frame-rate
       features do (frame i at ``i * hop``; ``n // hop`` frames). Samples outside the
       signal are zeros.
    2. the cumulative mean normalised difference ``d'(tau) = tau d(tau) / sum_{j <= tau}
       d(j)`` (eq. 8; 1 where that sum is 0, as for tau = 0);
    3. the dips: every local minimum of d' (``d'(tau - 1) > d'(tau) <= d'(tau + 1)``)
       is fitted by the parabola through it and its two neighbours, and the vertex's
       ordinate, ``d'(tau) - (d'(tau - 1) - d'(tau + 1))^2 / (8 (d'(tau - 1) +
       d'(tau + 1) - 2 d'(tau)))``, is the dip's depth (step 5: "the ordinate of the
       interpolated minimum is used in the dip-selection process"): a period between
       two integer lags leaves both samples of its dip above the threshold, while the
       dip at twice the period, twice as wide in lags, is sampled near its bottom. At
       the ends of [tau_min, tau_max] a lag whose dip continues beyond the range is a
       dip too, its depth its own d' (no neighbour beyond the range to fit);
    4. the absolute threshold (step 4): the first dip in ``[tau_min, tau_max]`` deeper
       than ``threshold``; with none, the first deepest dip (the global minimum);
    5. parabolic interpolation (step 5) of the period through ``d(tau - 1), d(tau),
       d(tau + 1)``, the raw difference function (its abscissa is unbiased by the
       normalisation): the vertex offset ``delta`` clamped to [-1, 1], 0 where the
       points do not curve up; ``f0 = sample_rate / (tau + delta)``.
    The lags are ``tau_min = max(2, floor(sample_rate / fmax))`` and ``tau_max =
    ceil(sample_rate / fmin)``. The confidence is ``1 - depth`` of the chosen dip,
    clipped to [0, 1]: the paper's aperiodicity measure turned round, high for a clean
    period, as DDSP's ``f0_confidence``. Every frame gets an f0 (the best period
    found); the confidence says whether it is voiced (a dip deeper than the threshold:
    confidence above ``1 - threshold``). The paper's step 6 (best local estimate) is
    not applied.

How (3 passes)
    ``B = gcd(W, hop)``. The difference sums overlap between frames (hop < W), so
    they are summed once per block of B samples and lag, then per frame:

    1. ``yin_blocks.frag`` [batch * blocks, ceil(L / 4)] vec4: per block of B samples
       and 4 lags, the B squared differences (two reads per sample for four lags);
    2. ``yin_difference.frag`` [batch * frames, ceil(L / 4)] vec4: d_i(tau), the sum
       of the W / B blocks of frame i;
    3. ``yin_pick.frag`` [batch, frames] vec4: per frame the walk over the lags (d',
       dips and their depths, threshold, parabola): (f0, confidence, tau, delta).

    Each row of x is first scaled by a power of two (exact) so that its largest |x|
    lies in [0.5, 1): YIN is invariant to the scale, and then every sum is at most
    ``4 W <= 2^14``, finite in float16 storage, with quiet passages kept clear of
    float16's subnormal numbers as far as the loudest sample allows.

Error analysis (u = 2^-24; float32 arithmetic as GLSL ES 3.00 specifies highp: +, -, *
correctly rounded, division within 2.5 ulp = 5u)
    1. Terms: ``(a - b)^2`` rounds twice after the exact inputs: within 3u of the term.
       Every term is non-negative, so the rounding of a sum of m of them stays within
       ``(m - 1) u`` of the sum (gamma_{m-1}): the error is relative to d itself, at
       the dip of a clean period as everywhere else.
    2. Block sums: B terms, 3u + (B - 1) u; frame sums: W / B blocks, (W / B - 1) u more:
       ``EPS_D = (B + 2 + W / B - 1) u`` relative in float32 storage. float16 storage
       rounds each block sum and each d once more, within 1 ulp (2^-10 relative, the
       conversion may truncate) or 2^-14 absolute below float16's normal range (where
       a GPU may flush to zero); float32 storage only flushes results below 2^-126, far
       under the absolute 2^-100 allowed for it. Scaled back to the input's scale
       (:func:`row_scale`), that gives every d an interval around the float64 value.
    3. Pass 3: the running sum of d over tau = 1 ... tau adds (tau - 1) u (gamma), then
       ``tau * d / S`` rounds once and divides within 5u: an interval for every d'.
    4. Depths: at a dip the kernel computes ``b - (a - c)^2 / (8 ((a + c) - 2 b))`` from
       its d' values a, b, c. At a local minimum the vertex offset lies in [-1/2, 1/2],
       so the depth is ``min over |delta| <= 1/2`` of the parabola's ordinate, a
       linear function of (a, b, c) for each delta: its least value over the box of
       the three d' intervals is at a corner, and its largest is at most that of the
       reference's own delta's line over the box (:func:`dip_bounds`). Its float32
       evaluation: a - c, the square, a + c, the subtraction and the final one round
       once each, the division within 5u; with the quotient ``q = delta^2 den / 2 <=
       (a + c) / 8`` that stays within ``2u (a + b + c)`` (and where the rounded
       denominator is 0 the kernel keeps b, within ``u (a + c) / 8`` of the depth);
       taken as ``DEPTH = 3u (a + b + c)`` for the terms of order u^2.
       Decisions: whether a lag is a dip, each depth against the threshold and the
       deepest dip are comparisons of d' values and depths; where their intervals
       overlap, the kernel may take either branch. :func:`admissible` follows every
       branch the intervals allow: the lags a correct float32 kernel may choose (one
       for nearly every frame).
    5. The parabola at a lag: d(tau - 1), d(tau), d(tau + 1) within their intervals
       move the vertex within the range of its values over that box (the vertex is
       monotone in each point where the curvature is positive, so the corners bound
       it), plus the shader's three roundings of numerator and denominator and the
       division; ``tau + delta`` rounds once and ``sample_rate / period`` divides
       within 5u: an interval for f0. The confidence: the depth's interval, one
       rounding.
       float16 storage rounds f0 and the confidence once more (within 1 ulp).
    :func:`derived_bound` gives each frame's bound on |f0 error| in cents at the lag
    the kernel chose, and :func:`deviation` each frame's error in units of its bound
    (inf where the kernel's lag is not one the intervals allow). The bound is a few
    hundredths of a cent on clearly periodic frames; it widens where the three
    points at the dip are nearly collinear (the vertex is ill-conditioned there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

import numpy as np

from ..harness import pipeline
from . import _inputs

NAME = "yin"
BODY_BLOCKS = "kernels/yin_blocks.frag"
BODY_DIFFERENCE = "kernels/yin_difference.frag"
BODY_PICK = "kernels/yin_pick.frag"

MAX_LAG = 2048  # tau_max: lags stay exact integers in float16 (<= 2048), ~26 Hz at 16 kHz
MAX_WINDOW = 4096  # W: d <= 4 W <= 2^14 after scaling, finite in float16
MAX_HOP = 4096
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000.0, 384000.0

U = 2.0**-24  # float32 unit roundoff
DIV = 5 * U  # GLSL ES 3.00 highp division: 2.5 ulp
F16_REL = 2.0**-10  # one float16 ulp, relative: a write that may truncate
F16_ABS = 2.0**-14  # float16's smallest normal: what a flushed subnormal loses
F32_ABS = 2.0**-100  # absolute allowance for float32 subnormals flushed, per d (scaled)
REF_REL = 2.0**-40  # the float64 reference's own summation error, relative, generously
DEPTH = 3 * U  # a dip's depth in float32, relative to the sum of its three d' (term 4)


# -- arguments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """A checked analysis: sizes in samples, lags, the float32 values the GPU holds."""

    sample_rate: float  # float32-rounded
    hop: int
    window: int  # W, frame_length
    lag_min: int
    lag_max: int
    threshold: float  # float32-rounded
    n_samples: int
    frames: int

    @property
    def lags(self) -> int:
        """L = tau_max + 1: the lags whose difference function is computed (1 ... L)."""
        return self.lag_max + 1

    @property
    def lags4(self) -> int:
        return -(-self.lags // 4)

    @property
    def block(self) -> int:
        return math.gcd(self.window, self.hop)

    @property
    def blocks(self) -> int:
        """Blocks per row: those of the last frame's window end the row."""
        return (self.frames - 1) * (self.hop // self.block) + self.window // self.block

    @property
    def pad(self) -> int:
        """Zeros before x: the first block's earliest read, x[-(W + 4 L4) // 2 - 2]."""
        return (self.window + 4 * self.lags4) // 2 + 2

    @property
    def padded(self) -> int:
        """Samples per uploaded row: pad, every block (or the signal, if longer: a window
        shorter than the hop skips samples), the longest lag and a margin."""
        return self.pad + max(self.blocks * self.block, self.n_samples) + 4 * self.lags4 + 2


def _integer(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: must be an integer, got {value!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name}: must lie in [{low}, {high}], got {value!r}")
    return int(value)


def _number(value, name: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name}: must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    return v


def check(
    x, *, sample_rate=16000, hop=64, frame_length=512, fmin=50.0, fmax=2000.0, threshold=0.1
) -> tuple[np.ndarray, tuple[int, ...], Config]:
    """Validated float32 rows [batch, n], the leading shape of x, and the :class:`Config`."""
    rows, shape = _inputs.as_rows(x)
    sr = _number(sample_rate, "sample_rate")
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise ValueError(
            f"sample_rate: must lie in [{MIN_SAMPLE_RATE:g}, {MAX_SAMPLE_RATE:g}] Hz, "
            f"got {sample_rate!r}"
        )
    sr32 = float(np.float32(sr))
    hop = _integer(hop, "hop", 1, MAX_HOP)
    window = _integer(frame_length, "frame_length", 1, MAX_WINDOW)
    lo, hi = _number(fmin, "fmin"), _number(fmax, "fmax")
    if lo <= 0:
        raise ValueError(f"fmin: must be > 0 Hz, got {fmin!r}")
    if hi <= lo:
        raise ValueError(f"fmax: must be above fmin ({lo:g} Hz), got {fmax!r}")
    if hi > sr32 / 2:
        raise ValueError(
            f"fmax: must be at most sample_rate / 2 = {sr32 / 2:g} Hz (the parabola needs "
            f"lags >= 2), got {fmax!r}"
        )
    lag_min = max(2, math.floor(sr32 / hi))
    lag_max = math.ceil(sr32 / lo)
    if lag_max > MAX_LAG:
        raise ValueError(
            f"fmin: sample_rate / fmin = {sr32 / lo:g} samples exceeds the longest lag "
            f"{MAX_LAG}: fmin must be at least {sr32 / MAX_LAG:g} Hz, got {fmin!r}"
        )
    thr = _number(threshold, "threshold")
    if not 0.0 < thr <= 1.0:
        raise ValueError(f"threshold: must lie in (0, 1], got {threshold!r}")
    n = rows.shape[1]
    if n < hop:
        raise ValueError(f"x: {n} samples, shorter than one hop ({hop}): no frame to track")
    cfg = Config(
        sample_rate=sr32,
        hop=hop,
        window=window,
        lag_min=lag_min,
        lag_max=max(lag_max, lag_min),
        threshold=float(np.float32(thr)),
        n_samples=n,
        frames=n // hop,
    )
    return rows, shape[:-1], cfg


def row_scale(rows: np.ndarray) -> np.ndarray:
    """Per row the exponent e with max|x| * 2^e in [0.5, 1) (0 for a silent row)."""
    peak = np.abs(rows).max(axis=1).astype(np.float64)
    _, exponent = np.frexp(peak)
    return np.where(peak > 0, -exponent, 0).astype(np.int64)


# -- the kernel --------------------------------------------------------------------------------


def yin(
    x,
    *,
    sample_rate=16000,
    hop=64,
    frame_length=512,
    fmin=50.0,
    fmax=2000.0,
    threshold=0.1,
    storage="float32",
    ctx=None,
):
    """YIN fundamental frequency and confidence, one frame every `hop` samples.

    Args:
        x: audio [..., n] (float or integer; rounded to float32), n >= hop.
        sample_rate: samples per second, in [1000, 384000].
        hop: samples between frames, 1 ... 4096 (frame i is at sample i * hop; DDSP's
            250 frames/s at 16 kHz: 64).
        frame_length: the integration window W, 1 ... 4096 samples (best at least the
            longest period, sample_rate / fmin).
        fmin, fmax: the f0 range searched, Hz: sample_rate / fmin <= 2048 lags,
            fmax <= sample_rate / 2.
        threshold: YIN's absolute threshold on d', in (0, 1] (the paper's 0.1).
        storage: "float32" (default: the difference sums keep quiet passages) or
            "float16", the format of every texture rendered into.
        ctx: a :class:`ddspgl.harness.Context`; the shared default one if None.

    Returns:
        (f0_hz, confidence): float32 arrays [..., n // hop].
    """
    out = analyse(
        x,
        sample_rate=sample_rate,
        hop=hop,
        frame_length=frame_length,
        fmin=fmin,
        fmax=fmax,
        threshold=threshold,
        storage=storage,
        ctx=ctx,
    )
    return out[..., 0], out[..., 1]


def analyse(x, *, storage="float32", ctx=None, **kwargs) -> np.ndarray:
    """The kernel's whole output, [..., frames, 4]: (f0, confidence, lag, delta)."""
    rows, lead, cfg = check(x, **kwargs)
    _inputs.check_storage(storage)
    ctx = _inputs.as_context(ctx)
    batch = rows.shape[0]
    for name, elements in (
        ("x", batch * cfg.padded),
        ("x", batch * cfg.blocks * cfg.lags4),
        ("x", batch * cfg.frames * cfg.lags4),
    ):
        if elements > ctx.max_elements:
            raise ValueError(
                f"{name}: {batch} rows of {cfg.n_samples} samples need {elements} texture "
                f"elements ({cfg.lags} lags), beyond this context's limit of "
                f"{ctx.max_elements}; track shorter pieces"
            )
    g, out = graph(rows, cfg, storage)
    with pipeline.execute(ctx, g) as result:
        values = result.read(out)
    return values.reshape(lead + (cfg.frames, 4))


def padded_rows(rows: np.ndarray, cfg: Config) -> np.ndarray:
    """Rows scaled by 2^row_scale (exact) and zero-padded as yin_blocks.frag reads them."""
    scaled = np.ldexp(rows, row_scale(rows)[:, None].astype(np.int32))
    out = np.zeros((rows.shape[0], cfg.padded), np.float32)
    out[:, cfg.pad : cfg.pad + rows.shape[1]] = scaled
    return out


def graph(rows: np.ndarray, cfg: Config, storage: str):
    """The tracker's passes as a :class:`~ddspgl.harness.pipeline.Graph` over checked
    rows: padded audio -> block sums -> difference function -> per-frame pick.

    Returns (graph, output): output [batch, frames] vec4 (f0, confidence, lag, delta).
    """
    batch = rows.shape[0]
    g = pipeline.Graph(NAME)
    x = g.upload("x", lambda: padded_rows(rows, cfg), shape=(batch, cfg.padded))
    sizes = {
        "YIN_BLOCK": ("int", cfg.block),
        "YIN_BLOCKS": ("int", cfg.blocks),
        "YIN_WINDOW": ("int", cfg.window),
        "YIN_PAD": ("int", cfg.pad),
    }
    blocks = g.run(
        BODY_BLOCKS,
        {"x": x},
        g.texture("blocks", batch * cfg.blocks, cfg.lags4, 4, storage),
        label="block sums",
        uniforms=sizes,
    )
    diff = g.run(
        BODY_DIFFERENCE,
        {"blocks": blocks},
        g.texture("difference", batch * cfg.frames, cfg.lags4, 4, storage),
        label="difference function",
        uniforms={
            "YIN_FRAMES": ("int", cfg.frames),
            "YIN_BLOCKS": ("int", cfg.blocks),
            "YIN_STRIDE": ("int", cfg.hop // cfg.block),
            "YIN_SPAN": ("int", cfg.window // cfg.block),
        },
    )
    out = g.run(
        BODY_PICK,
        {"difference": diff},
        g.texture("pitch", batch, cfg.frames, 4, storage),
        label="pick",
        uniforms={
            "YIN_FRAMES": ("int", cfg.frames),
            "YIN_LAGS": ("int", cfg.lags),
            "YIN_LAGS4": ("int", cfg.lags4),
            "YIN_LAG_MIN": ("int", cfg.lag_min),
            "YIN_LAG_MAX": ("int", cfg.lag_max),
            "threshold": ("float", cfg.threshold),
            "sampleRate": ("float", cfg.sample_rate),
        },
    )
    g.output(out)
    return g, out


# -- the float64 reference ---------------------------------------------------------------------


@dataclass
class Analysis:
    """The float64 reference of one input: everything the budget needs.

    Shapes: d, cmnd and depth [batch, frames, L + 1] indexed by lag (index 0 unused,
    d = 0, cmnd = 1); lag, delta, f0, confidence [batch, frames].
    """

    cfg: Config
    scale: np.ndarray  # [batch] row_scale exponents
    d: np.ndarray
    cmnd: np.ndarray
    depth: np.ndarray  # the interpolated ordinate at local minima of d', d' elsewhere
    lag: np.ndarray
    delta: np.ndarray
    f0: np.ndarray
    confidence: np.ndarray


def difference(row: np.ndarray, cfg: Config) -> np.ndarray:
    """d_i(tau) of one float64 row: [frames, L + 1], straight from the definition."""
    w, lags = cfg.window, cfg.lags
    left = (w + lags) // 2 + 1
    xp = np.concatenate([np.zeros(left), row, np.zeros(w + lags + 1)])
    times = np.arange(cfg.frames) * cfg.hop + left
    out = np.zeros((cfg.frames, lags + 1))
    for tau in range(1, lags + 1):
        sq = (xp[:-tau] - xp[tau:]) ** 2
        windows = np.lib.stride_tricks.sliding_window_view(sq, w)
        out[:, tau] = windows[times - (w + tau) // 2].sum(axis=1)
    return out


def normalised(d: np.ndarray) -> np.ndarray:
    """The cumulative mean normalised difference d'(tau), 1 at tau = 0 and where the
    running sum is 0."""
    tau = np.arange(d.shape[-1], dtype=np.float64)
    total = np.cumsum(d, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, tau * d / np.where(total > 0, total, 1.0), 1.0)
    out[..., 0] = 1.0
    return out


def depths(cmnd: np.ndarray) -> np.ndarray:
    """Step 5's ordinates: at every local minimum of d' (``d'(tau - 1) > d'(tau) <=
    d'(tau + 1)``) the ordinate of the vertex of the parabola through the three points,
    d' itself at every other lag (and at the first and last). Shape as cmnd."""
    a, b, c = cmnd[..., :-2], cmnd[..., 1:-1], cmnd[..., 2:]
    local = (b < a) & (b <= c)
    curve = a + c - 2 * b  # > 0 at a local minimum
    safe = np.where(local & (curve > 0), curve, 1.0)
    out = cmnd.copy()
    out[..., 1:-1] = np.where(local, b - (a - c) ** 2 / (8 * safe), b)
    return out


def dips(cmnd: np.ndarray, cfg: Config) -> np.ndarray:
    """The lags in [tau_min, tau_max] at the bottom of a dip of d': below the lag before
    and not above the lag after, either condition waived at the range's own end."""
    lags = np.arange(cmnd.shape[-1])
    inside = (lags >= cfg.lag_min) & (lags <= cfg.lag_max)
    below = np.zeros(cmnd.shape, bool)
    below[..., 1:] = cmnd[..., 1:] < cmnd[..., :-1]
    not_above = np.zeros(cmnd.shape, bool)
    not_above[..., :-1] = cmnd[..., :-1] <= cmnd[..., 1:]
    return inside & (below | (lags == cfg.lag_min)) & (not_above | (lags == cfg.lag_max))


def choose(cmnd: np.ndarray, cfg: Config) -> int:
    """Steps 3-5 for one frame: the first dip whose interpolated depth is under the
    threshold; with none, the first deepest dip, over lags [tau_min, tau_max]."""
    lags = np.flatnonzero(dips(cmnd, cfg))
    depth = depths(cmnd)[lags]
    under = np.flatnonzero(depth < cfg.threshold)
    return int(lags[under[0]] if under.size else lags[np.argmin(depth)])


def vertex(a, b, c):
    """Step 5: the offset of the parabola's vertex through (-1, a), (0, b), (1, c),
    clamped to [-1, 1]; 0 where the points do not curve upwards. Arrays or scalars."""
    a, b, c = np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64)
    den = a + c - 2 * b
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, np.clip((a - c) / (2 * safe), -1.0, 1.0), 0.0)


def reference(
    x, *, sample_rate=16000, hop=64, frame_length=512, fmin=50.0, fmax=2000.0, threshold=0.1
) -> Analysis:
    """Float64 YIN of the float32-rounded input, from the paper's definitions above."""
    rows, _, cfg = check(
        x,
        sample_rate=sample_rate,
        hop=hop,
        frame_length=frame_length,
        fmin=fmin,
        fmax=fmax,
        threshold=threshold,
    )
    d = np.stack([difference(r.astype(np.float64), cfg) for r in rows])
    cmnd = normalised(d)
    depth = depths(cmnd)
    lag = np.array([[choose(f, cfg) for f in row] for row in cmnd], np.int64)
    at = np.take_along_axis
    a, b, c = (at(d, (lag + k)[..., None], axis=-1)[..., 0] for k in (-1, 0, 1))
    delta = vertex(a, b, c)
    conf = np.clip(1.0 - at(depth, lag[..., None], axis=-1)[..., 0], 0.0, 1.0)
    return Analysis(
        cfg=cfg,
        scale=row_scale(rows),
        d=d,
        cmnd=cmnd,
        depth=depth,
        lag=lag,
        delta=delta,
        f0=cfg.sample_rate / (lag + delta),
        confidence=conf,
    )


def cents(f, ref) -> np.ndarray:
    """1200 log2(f / ref): the pitch distance in cents (nan where either is not > 0)."""
    f, ref = np.asarray(f, np.float64), np.asarray(ref, np.float64)
    ok = (f > 0) & (ref > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, 1200.0 * np.log2(np.where(ok, f, 1.0) / np.where(ok, ref, 1.0)), np.nan)


# -- the budget --------------------------------------------------------------------------------


def gamma(n) -> np.ndarray:
    n = np.asarray(n, np.float64)
    return n * U / (1 - n * U)


def d_error(cfg: Config, storage: str) -> tuple[float, float]:
    """(relative, absolute in scaled units) bound on each computed d (terms 1-2)."""
    span = cfg.window // cfg.block
    rel = 3 * U + float(gamma(cfg.block - 1)) + float(gamma(span - 1)) + REF_REL
    if storage == "float16":
        # Each block sum and each d is written once more: 1 ulp, or flushed below 2^-14.
        rel = (1 + rel) * (1 + F16_REL) ** 2 - 1
        return rel, (span + 1) * F16_ABS * (1 + rel)
    return rel, F32_ABS


def cmnd_bounds(analysis: Analysis, storage: str) -> tuple[np.ndarray, np.ndarray]:
    """Intervals [lo, hi] of the kernel's d' at every (row, frame, lag) (term 3)."""
    rel, absolute = d_error(analysis.cfg, storage)
    eta = absolute * np.exp2(-2.0 * analysis.scale)[:, None, None]  # input units
    d = analysis.d
    dlo = np.maximum(d * (1 - rel) - eta, 0.0)
    dhi = d * (1 + rel) + eta
    dlo[..., 0] = dhi[..., 0] = 0.0
    tau = np.arange(d.shape[-1], dtype=np.float64)
    g = gamma(np.maximum(tau - 1, 0))
    slo = np.cumsum(dlo, axis=-1) * (1 - g)
    shi = np.cumsum(dhi, axis=-1) * (1 + g)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(shi > 0, tau * dlo / np.where(shi > 0, shi, 1.0), 1.0) * (1 - U - DIV)
        hi = np.where(slo > 0, tau * dhi / np.where(slo > 0, slo, 1.0) * (1 + U + DIV), np.inf)
    # Where the sum may be 0 the kernel's d' may be 1 (its guard); where it is 0, it is 1.
    maybe_zero = slo <= 0
    lo = np.where(maybe_zero, np.minimum(lo, 1.0), lo)
    lo = np.where(shi <= 0, 1.0, lo)
    hi = np.where(shi <= 0, 1.0, hi)
    return lo, hi


@dataclass
class DipBounds:
    """What a correct float32 kernel may decide at each (row, frame, lag) (term 4)."""

    may: np.ndarray  # bool: the lag may be a dip
    sure: np.ndarray  # bool: the lag surely is a dip
    lo: np.ndarray  # the kernel's depth there, if a dip, lies in [lo, hi]
    hi: np.ndarray


def dip_bounds(analysis: Analysis, storage: str) -> DipBounds:
    """Per lag, whether the kernel may or must see a dip, and its depth's interval, from
    the d' intervals of the lag and its neighbours (term 4)."""
    cfg = analysis.cfg
    lo, hi = cmnd_bounds(analysis, storage)
    shape = lo.shape
    lags = np.arange(shape[-1])
    first, last = lags == cfg.lag_min, lags == cfg.lag_max
    inside = (lags >= cfg.lag_min) & (lags <= cfg.lag_max)

    def shifted(v, k, fill):  # v at lag + k
        out = np.full(shape, fill)
        if k < 0:
            out[..., -k:] = v[..., :k]
        else:
            out[..., :-k] = v[..., k:]
        return out

    a_lo, a_hi = shifted(lo, -1, np.inf), shifted(hi, -1, np.inf)
    c_lo, c_hi = shifted(lo, 1, -np.inf), shifted(hi, 1, -np.inf)
    may_below, sure_below = lo < a_hi, hi < a_lo
    may_not_above, sure_not_above = lo <= c_hi, hi <= c_lo
    may = inside & (may_below | first) & (may_not_above | last)
    sure = inside & (sure_below | first) & (sure_not_above | last)
    may_local = may_below & may_not_above
    sure_local = sure_below & sure_not_above
    # Interpolated depth: the least over |delta| <= 1/2 of the parabola's ordinate
    # p(delta) = alpha a + beta b + gamma c, over the corners of the box of (a, b, c).
    a_lo, a_hi = shifted(lo, -1, 1.0), shifted(hi, -1, 1.0)
    c_lo, c_hi = shifted(lo, 1, 1.0), shifted(hi, 1, 1.0)

    def least(a, b, c):
        curve = a + c - 2 * b
        with np.errstate(divide="ignore", invalid="ignore"):
            top = np.clip((a - c) / (2 * np.where(curve > 0, curve, 1.0)), -0.5, 0.5)
        ends = [b + s * (c - a) / 4 + curve / 8 for s in (-1, 1)]
        return np.where(curve > 0, b + top * (c - a) / 2 + top**2 * curve / 2, np.minimum(*ends))

    box = [(a_lo, a_hi), (lo, hi), (c_lo, c_hi)]
    with np.errstate(invalid="ignore"):  # an unbounded d' (inf) leaves the depth unbounded
        corners = [least(*corner) for corner in product(*box)]
    i_lo = np.nan_to_num(np.min(corners, axis=0), nan=-np.inf)
    # Above: the line of the reference's own delta, at the box's worst corner.
    ref = analysis.cmnd
    ra, rc = shifted(ref, -1, 1.0), shifted(ref, 1, 1.0)
    r_curve = ra + rc - 2 * ref
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip((ra - rc) / (2 * np.where(r_curve > 0, r_curve, 1.0)), -0.5, 0.5)
    t = np.where(r_curve > 0, t, 0.0)
    coef = ((t * t - t) / 2, 1 - t * t, (t * t + t) / 2)
    with np.errstate(invalid="ignore"):
        i_hi = sum(
            np.where(k > 0, k * top_, np.where(k < 0, k * low, 0.0))
            for k, (low, top_) in zip(coef, box, strict=True)
        )
    slack = DEPTH * (np.abs(a_hi) + np.abs(hi) + np.abs(c_hi))
    i_lo, i_hi = i_lo - slack, i_hi + slack
    d_lo = np.where(sure_local, i_lo, np.where(may_local, np.minimum(i_lo, lo), lo))
    d_hi = np.where(sure_local, i_hi, np.where(may_local, np.maximum(i_hi, hi), hi))
    return DipBounds(may=may, sure=sure, lo=d_lo, hi=d_hi)


def admissible(dips_: DipBounds, r: int, i: int, cfg: Config) -> set[int]:
    """Every lag a float32 kernel may choose for frame i of row r (term 4): each lag
    that may be a dip under the threshold up to the first that surely is one; with no
    lag surely such a dip, also each lag that may be a dip as deep as every sure dip
    may be (the deepest)."""
    may, sure = dips_.may[r, i], dips_.sure[r, i]
    lo, hi = dips_.lo[r, i], dips_.hi[r, i]
    under_sure = np.flatnonzero(sure & (hi < cfg.threshold))
    end = int(under_sure[0]) if under_sure.size else lo.size - 1
    out = set(np.flatnonzero((may & (lo < cfg.threshold))[: end + 1]).tolist())
    if not under_sure.size:
        top = np.min(np.where(sure, hi, np.inf))
        out |= set(np.flatnonzero(may & (lo <= top)).tolist())
    return out


def admissible_lags(analysis: Analysis, storage: str) -> list[list[set[int]]]:
    """Per row and frame, the lags the kernel may choose (the reference's among them)."""
    bounds = dip_bounds(analysis, storage)
    rows, frames = analysis.lag.shape
    return [[admissible(bounds, r, i, analysis.cfg) for i in range(frames)] for r in range(rows)]


def f0_interval(analysis: Analysis, lag: np.ndarray, storage: str):
    """(f0_lo, f0_hi, conf_lo, conf_hi, f0_ref) of the kernel at the given lags [batch,
    frames] (term 5): what a correct kernel may output having chosen those lags."""
    cfg = analysis.cfg
    rel, absolute = d_error(cfg, storage)
    eta = absolute * np.exp2(-2.0 * analysis.scale)[:, None]
    at = np.take_along_axis
    pts = [at(analysis.d, (lag + k)[..., None], axis=-1)[..., 0] for k in (-1, 0, 1)]
    box = [(np.maximum(p * (1 - rel) - eta, 0.0), p * (1 + rel) + eta) for p in pts]
    (alo, ahi), (blo, bhi), (clo, chi) = box
    den_lo = alo + clo - 2 * bhi - 2 * U * (ahi + chi + 2 * bhi)
    den_hi = ahi + chi - 2 * blo + 2 * U * (ahi + chi + 2 * bhi)
    corners = []
    for a, b, c in product(*box):
        den = a + c - 2 * b
        with np.errstate(divide="ignore", invalid="ignore"):
            corners.append((a - c) / (2 * np.where(den > 0, den, 1.0)))
    corners = np.stack(corners)
    big = np.abs(corners).max(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slack = (U * (ahi + chi) + 2 * big * 2 * U * (ahi + chi + 2 * bhi)) / (
            2 * np.where(den_lo > 0, den_lo, 1.0)
        ) + DIV * big
    dlo = np.clip(corners.min(axis=0) - slack, -1.0, 1.0)
    dhi = np.clip(corners.max(axis=0) + slack, -1.0, 1.0)
    dlo = np.where(den_lo > 0, dlo, np.where(den_hi > 0, -1.0, 0.0))
    dhi = np.where(den_lo > 0, dhi, np.where(den_hi > 0, 1.0, 0.0))
    sr = cfg.sample_rate
    f_rel = U + DIV + (F16_REL if storage == "float16" else 0.0)
    f_lo = sr / (lag + dhi) * (1 - f_rel)
    f_hi = sr / (lag + dlo) * (1 + f_rel)
    bounds = dip_bounds(analysis, storage)
    c_lo = at(bounds.lo, lag[..., None], axis=-1)[..., 0]
    c_hi = at(bounds.hi, lag[..., None], axis=-1)[..., 0]
    c_abs = U + (2.0**-11 if storage == "float16" else 0.0)
    conf_lo = np.clip(1.0 - c_hi - c_abs, 0.0, 1.0)
    conf_hi = np.clip(1.0 - c_lo + c_abs, 0.0, 1.0)
    f_ref = sr / (lag + vertex(*pts))
    return f_lo, f_hi, conf_lo, conf_hi, f_ref


def derived_bound(analysis: Analysis, lag, storage: str) -> np.ndarray:
    """Per frame, the largest |f0 error| in cents a correct kernel may make at `lag`
    [batch, frames] against the reference's f0 at that lag (terms 1-5)."""
    lag = np.asarray(lag, np.int64)
    f_lo, f_hi, _, _, f_ref = f0_interval(analysis, lag, storage)
    return np.maximum(np.abs(cents(f_lo, f_ref)), np.abs(cents(f_hi, f_ref)))


@dataclass
class Deviation:
    """The kernel's output against the reference and the budget, per frame."""

    ratio: np.ndarray  # max of f0 and confidence error over their bounds; inf: bad lag
    inside: np.ndarray  # bool: lag admissible and f0, confidence inside their intervals
    cents: np.ndarray  # kernel f0 against the reference's own f0 (its own lag)
    same_lag: np.ndarray  # bool: the kernel chose the reference's lag
    bound_cents: np.ndarray  # derived_bound at the kernel's lags
    choices: np.ndarray  # number of admissible lags per frame


def deviation(out: np.ndarray, analysis: Analysis, storage: str) -> Deviation:
    """Compare kernel output [batch, frames, 4] with the reference under the budget."""
    out = np.asarray(out, np.float64).reshape(analysis.lag.shape + (4,))
    f0, conf = out[..., 0], out[..., 1]
    raw = out[..., 2]
    finite = np.isfinite(raw)
    lag = np.where(finite, np.rint(np.where(finite, raw, 0.0)), 0).astype(np.int64)
    cfg = analysis.cfg
    allowed = admissible_lags(analysis, storage)
    in_range = (lag >= cfg.lag_min) & (lag <= cfg.lag_max) & (lag == raw)
    ok_lag = np.array(
        [
            [bool(in_range[r, i]) and int(lag[r, i]) in allowed[r][i] for i in range(lag.shape[1])]
            for r in range(lag.shape[0])
        ],
        bool,
    ).reshape(lag.shape)
    safe = np.where(ok_lag, lag, analysis.lag)
    f_lo, f_hi, c_lo, c_hi, f_ref = f0_interval(analysis, safe, storage)
    bound = np.maximum(np.abs(cents(f_lo, f_ref)), np.abs(cents(f_hi, f_ref)))
    err = np.abs(cents(f0, f_ref))
    c_ref = np.clip(1.0 - np.take_along_axis(analysis.depth, safe[..., None], -1)[..., 0], 0, 1)
    c_bound = np.maximum(np.abs(c_lo - c_ref), np.abs(c_hi - c_ref))
    with np.errstate(divide="ignore", invalid="ignore"):
        r_f = np.where(err == 0, 0.0, err / bound)
        dc = np.abs(conf - c_ref)
        r_c = np.where(dc == 0, 0.0, dc / c_bound)
    ratio = np.nan_to_num(np.maximum(r_f, r_c), nan=np.inf)
    ratio = np.where(ok_lag, ratio, np.inf)
    inside = ok_lag & (f0 >= f_lo) & (f0 <= f_hi) & (conf >= c_lo) & (conf <= c_hi)
    return Deviation(
        ratio=ratio,
        inside=inside,
        cents=cents(f0, analysis.f0),
        same_lag=lag == analysis.lag,
        bound_cents=bound,
        choices=np.array([[len(s) for s in row] for row in allowed]),
    )
