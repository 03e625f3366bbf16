"""The filtered noise synthesizer: its noise generator's statistics, its float64 reference
against closed forms and against magenta/ddsp's own ``core.frequency_filter`` in TensorFlow,
the kernel against the reference within the derived budget, block rendering, the API's
argument checks, and GL leaks on success and failure."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import ddspgl
from ddspgl.kernels import filtered_noise as fn
from paths import ROOT

U = 2.0**-24
Z = 6.0  # standard deviations: a test of a correct generator fails with probability < 1e-8


def _mags(batch=1, frames=50, bands=65, seed=0, low=0.0, high=1.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, (batch, frames, bands)).astype(np.float32)


# -- the noise generator ------------------------------------------------------------------------


def test_noise_is_on_the_float32_grid_in_minus_one_to_one():
    x = fn.noise(3, 100_000, seed=7)
    assert x.dtype == np.float32 and x.shape == (3, 100_000)
    assert x.min() >= -1.0 and x.max() <= 1.0 - 2.0**-23
    grid = (x.astype(np.float64) + 1.0) * 2.0**23
    np.testing.assert_array_equal(grid, np.round(grid))  # multiples of 2^-23: exact


def test_noise_mean_and_variance():
    """Uniform on the 2^24 points k 2^-23 - 1: mean -2^-24, variance (1 - 2^-48) / 3 (about
    1/3), fourth moment about 1/5. The sample mean lies within Z sigma / sqrt(n) of the
    mean, the mean of x^2 within Z sqrt((1/5 - 1/9) / n) of 1/3."""
    n = 1 << 22
    x = fn.noise(1, n, seed=1)[0].astype(np.float64)
    assert abs(x.mean() + 2.0**-24) <= Z * math.sqrt(1 / 3 / n)
    assert abs((x**2).mean() - 1 / 3) <= Z * math.sqrt((1 / 5 - 1 / 9) / n)


def test_noise_bits_are_fair():
    """Each of the 24 bits the uniform uses is 1 with probability 1/2: a count over n
    words within Z sqrt(n) / 2 of n / 2 (Bonferroni over 24 bits stays below 1e-7)."""
    n = 1 << 20
    words = fn.noise_bits(2, n, seed=3) >> 8
    for bit in range(24):
        ones = int(((words >> bit) & 1).sum())
        assert abs(ones - n) <= Z * math.sqrt(2 * n) / 2, bit  # 2 rows of n words


def _chi2_quantile(k: int, z: float) -> float:
    """Wilson-Hilferty: the chi-square(k) quantile at the standard normal's z."""
    return k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3


def test_noise_spectrum_is_flat():
    """Averaged periodogram of S segments of 256 samples: for white noise of variance s2,
    every bin but DC and Nyquist is s2 chi2(2S) / (2S) (independent of the others). Each
    of the 127 bins lies inside the chi-square quantiles at Z (Wilson-Hilferty)."""
    seg, s = 256, 4096
    x = fn.noise(1, seg * s, seed=11)[0].astype(np.float64).reshape(s, seg)
    x -= x.mean()
    power = (np.abs(np.fft.rfft(x, axis=1)) ** 2).mean(axis=0) / seg  # E = variance
    bins = power[1:-1] / (1 / 3)
    lo, hi = _chi2_quantile(2 * s, -Z) / (2 * s), _chi2_quantile(2 * s, Z) / (2 * s)
    assert bins.min() >= lo and bins.max() <= hi, (bins.min(), bins.max(), lo, hi)


def _corr(a, b) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum()))


def test_no_correlation_between_neighbours_seeds_and_rows():
    """Sample correlations of independent sequences are N(0, 1/n): within Z / sqrt(n) for
    lags 1 ... 8 of one stream, for neighbouring seeds and for neighbouring batch rows."""
    n = 1 << 20
    limit = Z / math.sqrt(n)
    rows = fn.noise(3, n, seed=5).astype(np.float64)
    for lag in range(1, 9):
        assert abs(_corr(rows[0, :-lag], rows[0, lag:])) <= limit, lag
    assert abs(_corr(rows[0], rows[1])) <= limit
    assert abs(_corr(rows[1], rows[2])) <= limit
    other = fn.noise(1, n, seed=6)[0].astype(np.float64)
    assert abs(_corr(rows[0], other)) <= limit
    # Neither a shifted copy: a stream against the next seed's, shifted by up to 64.
    best = max(abs(_corr(rows[0, 64:], other[64 - k : n - k])) for k in range(65))
    assert best <= Z / math.sqrt(n - 64)


def test_noise_is_a_function_of_the_absolute_index():
    whole = fn.noise(2, 5000, seed=9)
    np.testing.assert_array_equal(fn.noise(2, 3000, seed=9, sample_offset=2000), whole[:, 2000:])
    assert not np.array_equal(fn.noise(2, 100, seed=10), whole[:, :100])


def test_pcg_hash_matches_its_definition():
    """noisePcg on the examples worked by hand from Jarzynski and Olano's definition."""

    def pcg(v):
        state = (v * 747796405 + 2891336453) % 2**32
        word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) % 2**32
        return (word >> 22) ^ word

    values = np.array([0, 1, 2**31, 2**32 - 1, 123456789], np.uint64)
    np.testing.assert_array_equal(fn._pcg(values), [pcg(int(v)) for v in values])


# -- the reference ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bands, window_size, taps",
    [(65, 0, 128), (65, 257, 128), (65, 128, 128), (65, 64, 63), (65, 65, 65), (5, 5, 5)],
)
def test_tap_counts_follow_ddsps_slicing(bands, window_size, taps):
    """W = N keeps N taps; a smaller W keeps 2 ceil(W / 2) - 1 (ddsp's concat of
    ir[N - half + 2:] and ir[:half + 1], half = (W + 1) // 2)."""
    source, coef = fn.taps(bands, window_size)
    assert len(source) == len(coef) == taps
    assert (coef >= 0).all() and coef.max() <= 1.0


def test_all_ones_magnitudes_delay_the_noise_by_two_samples():
    """irfft of ones is a unit impulse at t = 0; the window's peak (1 at N / 2) keeps it,
    the causal form puts it at tap N / 2, and the crop starts at N / 2 - 2."""
    mags = np.ones((2, 20, 65), np.float32)
    x = fn.noise(2, 2000, seed=4)
    ref = fn.reference(mags, x)
    np.testing.assert_allclose(ref[:, 2:], x[:, :-2], rtol=0, atol=1e-14)
    assert np.abs(ref[:, :2]).max() <= 1e-14


def test_dc_band_is_a_hann_weighted_moving_sum():
    """Only M_0 = a: h[t] = a / N, so tap j is c_j a / N and y[m] = sum_j c_j a / N x[m +
    start - j], the window's values summed over the noise."""
    bands, frames, n = 9, 10, 400
    mags = np.zeros((1, frames, bands), np.float32)
    mags[..., 0] = 0.75
    x = fn.noise(1, n, seed=2).astype(np.float64)
    source, coef = fn.taps(bands, 0)
    big_n = 2 * (bands - 1)
    start = (len(coef) - 1) // 2 - 1
    want = np.zeros(n)
    for m in range(n):
        for j, c in enumerate(coef):
            q = m + start - j
            if 0 <= q < n:
                want[m] += c * 0.75 / big_n * x[0, q]
    np.testing.assert_allclose(fn.reference(mags, x)[0], want, rtol=0, atol=1e-15)


def test_frames_use_their_own_impulse_response():
    """A frame of zeros between loud frames silences exactly the outputs whose every tap
    reads it."""
    mags = np.ones((1, 3, 65), np.float32)
    mags[0, 1] = 0.0
    x = fn.noise(1, 3 * 512, seed=8)
    ref = fn.reference(mags, x)
    # Output m reads q = m + 62 - j, j in 0 ... 127: inside frame 1 ([512, 1024)) for every j
    # when m + 62 - 127 >= 512 and m + 62 < 1024.
    assert not ref[0, 577:962].any()
    assert ref[0, :512].any() and ref[0, 1100:].any()


# -- against magenta/ddsp ---------------------------------------------------------------------

DDSP_MODULES = ("tensorflow", "tf_keras", "gin", "ddsp", "crepe")
DDSP_INSTALL = 'pip install -e ".[dev,convert,ddsp]" && bash model/install_ddsp.sh'
# name: (batch, frames, bands, n_samples, window_size)
DDSP_SHAPES = {
    "16k-250fps-65b": (1, 250, 65, 16000, 0),  # the production convnet: hop 64, IR 128
    "16k-50fps-65b": (1, 50, 65, 16000, 0),  # hop 320
    "48k-50fps-65b": (2, 50, 65, 48000, 257),  # hop 960; 257 > IR: the IR's size
    "window-64": (1, 40, 65, 4000, 64),  # smaller than the IR, even: 63 taps
    "window-65": (1, 40, 65, 4000, 65),  # odd: 65 taps, TF's symmetric odd window
    "n-not-multiple": (2, 30, 33, 1000, 0),  # hop 34, the last frame 14 samples
}


def _ddsp_skip_reason() -> str | None:
    for module in DDSP_MODULES:
        if importlib.util.find_spec(module) is None:
            return f"the ddsp extra is not installed ({module} is missing): {DDSP_INSTALL}"
    return None


def tf_bound(mags: np.ndarray, noise: np.ndarray, window_size: int) -> np.ndarray:
    """Per-sample bound on |ddsp in TF (float32) - float64 reference|, [batch, n].

    TF follows the reference's steps in float32 with FFTs. A radix-2 FFT of 2^k points
    with twiddles within 3u is within c = k eta of the result's 2-norm, eta = 3u +
    gamma_4 (sqrt 2 + 3u) < 10u (Higham, Accuracy and Stability of Numerical Algorithms,
    Thm 24.2): c = 10 k u. Then, first order, for each frame:
    - h = irfft(M): within c_N |h|; the Hann window in float32 (2 pi n / P rounds three
      times: 3u 2 pi of argument, the cosine 2u, 0.5 - 0.5 cos one more) within 12u, its
      product u: the IR within (c_N + 13u) |h|;
    - the spectra of the frame and the IR (rfft, P points): |dX| <= c_P |X|,
      |dH| <= c_P |H| + sqrt(P) |d ir|; their product within |dX| max|H| + max|X| |dH| +
      4u |X H| (a complex product, sqrt(2) gamma_2);
    - irfft rebuilds the other half by symmetry (sqrt 2 on the norm) and scales by 1/P:
      |dy| <= sqrt(2 / P) |dP| + (c_P + u) |y|.
    A sample gets the 2-norm errors of the r frames overlapping it plus r u of the sum of
    their |y| (the overlap-add); the whole times 1 + 2^-10 for second-order terms.
    Norms are 2-norms over a frame; N and P must be powers of two.
    """
    mags64 = mags.astype(np.float64)
    batch, frames, bands = mags.shape
    n = noise.shape[1]
    shape = fn.check(mags, n_samples=n, window_size=window_size)[1]
    big_n, hop, taps = shape.ir_size, shape.hop, shape.taps
    size = 2 ** math.ceil(math.log2(hop + taps - 1))
    assert big_n & (big_n - 1) == 0

    def norm(a):
        return np.sqrt((np.abs(a) ** 2).sum(-1))

    c_n, c_p = 10 * math.log2(big_n) * U, 10 * math.log2(size) * U
    h = np.fft.irfft(mags64, n=big_n, axis=-1)
    ir = fn.impulse_responses(mags, shape)
    d_ir = (c_n + 13 * U) * norm(h)
    padded = np.zeros((batch, frames * hop))
    padded[:, :n] = noise
    x = np.fft.fft(padded.reshape(batch, frames, hop), size)
    hh = np.fft.fft(ir, size)
    dx = c_p * norm(x)
    dh = c_p * norm(hh) + math.sqrt(size) * d_ir
    dp = dx * np.abs(hh).max(-1) + np.abs(x).max(-1) * dh + 4 * U * norm(x * hh)
    y = np.fft.ifft(x * hh).real
    dy = math.sqrt(2 / size) * dp + (c_p + U) * norm(y)
    overlap = -(-size // hop)
    total = (frames - 1) * hop + size
    bound = np.zeros((batch, total))
    for i in range(frames):
        at = slice(i * hop, i * hop + size)
        bound[:, at] += dy[:, i, None] + overlap * U * np.abs(y[:, i])
    return (1 + 2.0**-10) * bound[:, shape.start : shape.start + n]


@pytest.mark.model
def test_reference_matches_ddsp_frequency_filter(tmp_path):
    """ddsp 3.7.0's own core.frequency_filter (TensorFlow, a child process) on the same
    magnitudes and noise: every sample within tf_bound of the float64 reference."""
    why = _ddsp_skip_reason()
    if why:
        pytest.skip(why)
    rng = np.random.default_rng(3)
    arrays, cases = {}, {}
    for name, (b, f, k, n, w) in DDSP_SHAPES.items():
        mags = (10.0 ** rng.uniform(-3, 0, (b, f, k))).astype(np.float32)
        arrays |= {f"{name}/magnitudes": mags, f"{name}/window_size": np.array(w)}
        arrays[f"{name}/noise"] = fn.noise(b, n, seed=12)
        cases[name] = (mags, arrays[f"{name}/noise"], w)
    np.savez(tmp_path / "in.npz", **arrays)
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    script = ROOT / "tests" / "ddsp_frequency_filter.py"
    res = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-4000:]
    out = np.load(tmp_path / "out.npz")
    for name, (mags, x, w) in cases.items():
        ref = fn.reference(mags, x, window_size=w)
        got = out[name].astype(np.float64)
        assert got.shape == ref.shape, name
        bound = tf_bound(mags, x, w)
        worst = float((np.abs(got - ref) / bound).max())
        assert worst <= 1.0, f"{name}: {worst:.3g} of the bound"


# -- the kernel ---------------------------------------------------------------------------------


def _within_budget(out, mags, x, storage, window_size=0):
    ref = fn.reference(mags, x, window_size=window_size)
    bound = fn.derived_bound(mags, n_samples=x.shape[1], window_size=window_size)
    ratio = fn.deviation(out, ref, fn.write_bound(ref, bound, storage))
    assert ratio.max() <= 1.0, (ratio.max(), np.unravel_index(np.argmax(ratio), ratio.shape))
    return ref


@pytest.mark.parametrize("storage", ["float32", "float16"])
@pytest.mark.parametrize(
    "batch, frames, bands, n, window_size",
    [(1, 100, 65, 6400, 0), (2, 30, 33, 1000, 0), (1, 40, 65, 4000, 64), (1, 13, 5, 50, 5)],
    ids=["hop-64", "batch-2-n-not-multiple", "window-64", "bands-5-window-5"],
)
def test_kernel_within_the_derived_budget(ctx, storage, batch, frames, bands, n, window_size):
    mags = _mags(batch, frames, bands, seed=frames)
    out = ddspgl.filtered_noise(
        mags, n_samples=n, window_size=window_size, seed=77, storage=storage, ctx=ctx
    )
    assert out.shape == (batch, n) and out.dtype == np.float32
    _within_budget(out, mags, fn.noise(batch, n, seed=77), storage, window_size)


def test_the_budget_is_tight_enough_to_fail(ctx):
    """The float32 bound is about 1.5e-5 per sample here (8u times the window's sum, 64,
    times H, about 0.5): a sample off by 5e-5, or the noise of another seed, is caught."""
    mags = _mags(1, 100, 65)
    x = fn.noise(1, 6400, seed=1)
    out = ddspgl.filtered_noise(mags, n_samples=6400, seed=1, storage="float32", ctx=ctx)
    ref = _within_budget(out, mags, x, "float32")
    bound = fn.derived_bound(mags, n_samples=6400)
    bad = out.copy()
    bad[0, 3000] += 5e-5
    assert fn.deviation(bad, ref, bound)[0, 3000] > 1.0
    other = ddspgl.filtered_noise(mags, n_samples=6400, seed=2, storage="float32", ctx=ctx)
    assert fn.deviation(other, ref, bound).max() > 1e3


def test_blocks_continue_one_noise_stream(ctx):
    """Two calls with sample_offset draw the one call's noise: each block is the float64
    reference of its own magnitudes and that part of the stream (ddsp's zero padding at
    each block's ends included)."""
    mags = _mags(1, 60, 65, seed=5)
    x = fn.noise(1, 3840, seed=3)
    for lo, hi, offset in ((0, 30, 0), (30, 60, 1920)):
        out = ddspgl.filtered_noise(
            mags[:, lo:hi], n_samples=1920, seed=3, sample_offset=offset, storage="float32", ctx=ctx
        )
        _within_budget(out, mags[:, lo:hi], x[:, offset : offset + 1920], "float32")


def test_rows_draw_their_own_streams(ctx):
    """Equal magnitudes in two rows: each row within budget of the reference on its own
    stream (noise row 1 is not row 0's), and row 0 the same whatever the batch."""
    mags = np.repeat(_mags(1, 20, 65), 2, axis=0)
    out = ddspgl.filtered_noise(mags, n_samples=1280, seed=4, storage="float32", ctx=ctx)
    _within_budget(out, mags, fn.noise(2, 1280, seed=4), "float32")
    assert not np.array_equal(out[0], out[1])
    one = ddspgl.filtered_noise(mags[:1], n_samples=1280, seed=4, storage="float32", ctx=ctx)
    np.testing.assert_array_equal(out[:1], one)


def test_zero_magnitudes_are_exact_silence(ctx):
    out = ddspgl.filtered_noise(np.zeros((1, 10, 65), np.float32), n_samples=640, ctx=ctx)
    assert not out.any()


def test_two_passes(ctx):
    before = ctx.counters.passes
    ddspgl.filtered_noise(_mags(1, 10, 65), n_samples=640, ctx=ctx)
    assert ctx.counters.passes - before == 2


def test_float16_output_near_the_limit_is_finite_and_within_budget(ctx):
    """Magnitudes scaled so that the checked output bound is 65000 (< 65504)."""
    mags = _mags(1, 20, 65, seed=6)
    coef = fn.taps(65, 0)[1].sum()
    scale = 65000.0 / (fn.weighted_sums(mags).max() / 128 * coef * (1 + fn.EPS_TAP))
    mags = (mags * scale).astype(np.float32)
    out = ddspgl.filtered_noise(mags, n_samples=1280, storage="float16", ctx=ctx)
    assert np.isfinite(out).all()
    _within_budget(out, mags, fn.noise(1, 1280), "float16")


# -- arguments and leaks ------------------------------------------------------------------------

GOOD = _mags(1, 10, 65)


BAD = {
    "nan": (dict(magnitudes=np.full((1, 10, 65), np.nan)), "magnitudes", "NaN"),
    "beyond-float32": (dict(magnitudes=np.full((1, 10, 65), 1e39)), "magnitudes", "float32"),
    "rank-2": (dict(magnitudes=np.ones((10, 65))), "magnitudes", r"\[batch, frames, K\]"),
    "empty": (dict(magnitudes=np.ones((1, 0, 65))), "magnitudes", "empty"),
    "strings": (dict(magnitudes=np.array([[["a"]]])), "magnitudes", "dtype"),
    "bands-2": (dict(magnitudes=np.ones((1, 10, 2))), "magnitudes", "3 ... 1025"),
    "bands-1026": (dict(magnitudes=np.ones((1, 10, 1026))), "magnitudes", "3 ... 1025"),
    "output-beyond-float16": (dict(magnitudes=np.full((1, 10, 65), 2e3)), "magnitudes", "65504"),
    "sum-beyond-float32": (
        dict(magnitudes=np.full((1, 10, 65), 3e36), storage="float32"),
        "magnitudes",
        "float32's range",
    ),
    "n-below-frames": (dict(n_samples=9), "n_samples", "fewer than the 10 frames"),
    "n-unsplittable": (dict(n_samples=81), "n_samples", "do not split into 10 frames"),
    "n-float": (dict(n_samples=640.0), "n_samples", "integer"),
    "n-bool": (dict(n_samples=True), "n_samples", "integer"),
    "window-2": (dict(window_size=2), "window_size", ">= 3"),
    "window-float": (dict(window_size=1.5), "window_size", "integer"),
    "seed-negative": (dict(seed=-1), "seed", r"\[0, 2\^32 - 1\]"),
    "seed-2-pow-32": (dict(seed=2**32), "seed", r"\[0, 2\^32 - 1\]"),
    "seed-float": (dict(seed=0.5), "seed", "integer"),
    "offset-negative": (dict(sample_offset=-1), "sample_offset", ">= 0"),
    "offset-too-far": (dict(sample_offset=2**31 - 100), "sample_offset", r"2\^31"),
    "storage": (dict(storage="float64"), "storage", "float16"),
    "ctx-string": (dict(ctx="egl"), "ctx", "Context"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_value_error_naming_the_argument(ctx, case):
    change, name, match = BAD[case]
    args = dict(magnitudes=GOOD, n_samples=640, ctx=ctx) | change
    before = (ctx.counters.textures_alive, ctx.counters.passes)
    with pytest.raises(ValueError, match=f"^{name}:") as info:
        ddspgl.filtered_noise(**args)
    assert info.match(match)
    assert (ctx.counters.textures_alive, ctx.counters.passes) == before


def test_too_long_for_the_texture_limit(fresh_ctx):
    small = fresh_ctx(max_texture_size=64)
    with pytest.raises(ValueError, match=r"^n_samples: .* texture limit"):
        ddspgl.filtered_noise(_mags(1, 100, 65), n_samples=6400, ctx=small)
    assert small.counters.textures_alive == 0


def test_no_textures_leak_on_success_or_gl_failure(ctx, monkeypatch):
    before = ctx.counters.textures_alive
    ddspgl.filtered_noise(GOOD, n_samples=640, ctx=ctx)
    assert ctx.counters.textures_alive == before
    calls = {"n": 0}
    real = type(ctx).run

    def failing(self, body, *args, **kwargs):
        calls["n"] += 1
        if body == fn.BODY_AUDIO:
            raise RuntimeError("injected failure in the audio pass")
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(type(ctx), "run", failing)
    with pytest.raises(RuntimeError, match="injected"):
        ddspgl.filtered_noise(GOOD, n_samples=640, ctx=ctx)
    assert calls["n"] == 2
    assert ctx.counters.textures_alive == before
