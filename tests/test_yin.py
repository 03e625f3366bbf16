"""The YIN pitch tracker: its float64 reference against the paper's definitions and
closed forms, the kernel against the reference within the derived budget, the pass plan,
the API's argument checks, and GL leaks on success and failure."""

from __future__ import annotations

import numpy as np
import pytest

import ddspgl
from ddspgl.kernels import yin

SR = 16000


def _tone(f0, seconds=1.0, harmonics=(1.0, 0.5, 0.25), sr=SR, level=0.5):
    t = np.arange(int(seconds * sr)) / sr
    phase = np.cumsum(np.broadcast_to(f0, t.shape)) / sr
    x = sum(a * np.sin(2 * np.pi * k * phase + k) for k, a in enumerate(harmonics, start=1))
    return (level * x / np.abs(x).max()).astype(np.float32)


def _interior(cfg: yin.Config, n: int) -> slice:
    """Frames whose whole span lies inside the signal."""
    half = (cfg.window + cfg.lags) // 2 + 1
    return slice(-(-half // cfg.hop), (n - half) // cfg.hop)


# -- the reference ------------------------------------------------------------------------------


def test_difference_is_the_papers_sum_over_a_centred_window():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(900).astype(np.float32)
    kw = dict(hop=37, frame_length=101, fmin=400.0, fmax=4000.0)
    ref = yin.reference(x, **kw)
    cfg, xs = ref.cfg, x.astype(np.float64)

    def at(j):
        return xs[j] if 0 <= j < len(xs) else 0.0

    for i in (0, 5, cfg.frames - 1):
        for tau in (1, 2, 17, cfg.lags):
            s = i * cfg.hop - (cfg.window + tau) // 2
            want = sum((at(s + k) - at(s + k + tau)) ** 2 for k in range(cfg.window))
            assert ref.d[0, i, tau] == pytest.approx(want, rel=1e-13)


def test_normalised_difference_definition():
    d = np.array([[0.0, 2.0, 4.0, 0.0, 6.0]])
    # d'(tau) = d(tau) / ((1/tau) sum_{j<=tau} d(j)); 1 at tau = 0.
    want = [1.0, 1.0, 4.0 / 3.0, 0.0, 6.0 / 3.0]
    np.testing.assert_allclose(yin.normalised(d)[0], want, rtol=1e-15)
    assert (yin.normalised(np.zeros((1, 6))) == 1.0).all()  # silence: no evidence


def _cfg(lag_min=2, lag_max=9, threshold=0.1):
    return yin.Config(SR, 64, 512, lag_min, lag_max, threshold, 1000, 15)


def test_choose_first_dip_under_threshold_then_its_bottom():
    c = np.array([1, 1, 0.8, 0.09, 0.05, 0.07, 0.01, 0.5, 0.6, 0.7, 0.9])
    assert yin.choose(c, _cfg()) == 4  # 3 crosses, 4 is the dip's bottom, not 6
    c = np.array([1, 1, 0.8, 0.5, 0.3, 0.2, 0.25, 0.5, 0.6, 0.7, 0.9])
    assert yin.choose(c, _cfg()) == 5  # nothing under 0.1: the global minimum
    c = np.array([1, 0.0, 0.8, 0.5, 0.3, 0.2, 0.25, 0.5, 0.6, 0.05, 0.9])
    assert yin.choose(c, _cfg(lag_min=2, lag_max=8)) == 5  # lags outside the range ignored


def test_depth_is_the_interpolated_ordinate_at_local_minima():
    lags = np.arange(12, dtype=np.float64)
    c = 0.1 * (lags - 4.3) ** 2 + 0.02  # a parabola: its vertex ordinate is 0.02
    depth = yin.depths(c[None])[0]
    assert depth[4] == pytest.approx(0.02, abs=1e-15)
    np.testing.assert_array_equal(np.delete(depth, 4), np.delete(c, 4))  # not minima: d'
    flat = np.array([1.0, 0.5, 0.5, 0.5, 1.0])  # a plateau: its first lag is the minimum,
    want = [1.0, 0.5 - 0.25 / (8 * 0.5), 0.5, 0.5, 1.0]  # fitted with its neighbours
    np.testing.assert_array_equal(yin.depths(flat[None])[0], want)


def test_a_dip_straddling_the_threshold_is_taken_by_its_interpolated_depth():
    """Step 5: both samples of the dip at the period lie above the threshold, the dip at
    twice the period is sampled at its bottom; the parabola's ordinate, 0.12 - 0.74^2 /
    (8 * 0.82) = 0.0365, puts the first dip under the threshold."""
    c = np.array([1, 1, 0.9, 0.16, 0.12, 0.9, 0.95, 0.5, 0.05, 0.5, 0.9])
    assert yin.choose(c, _cfg()) == 4
    assert yin.depths(c[None])[0, 4] == pytest.approx(0.12 - 0.74**2 / (8 * 0.82), rel=1e-12)
    c[3] = 0.4  # less lopsided: its ordinate 0.12 - 0.5^2 / 8.48 = 0.0905 still under
    assert yin.choose(c, _cfg()) == 4
    c[3] = 0.9  # symmetric: the ordinate is the sample itself, above the threshold
    assert yin.choose(c, _cfg()) == 8


def test_confidence_is_one_minus_the_chosen_depth():
    x = _tone(440.0 * 2 ** (0.3 / 12), 0.5, harmonics=(0.3, 1.0, 0.2, 0.6))
    ref = yin.reference(x)
    at = np.take_along_axis(ref.depth, ref.lag[..., None], axis=-1)[..., 0]
    np.testing.assert_array_equal(ref.confidence, np.clip(1 - at, 0, 1))


def test_vertex_of_a_parabola_is_exact():
    for true in (-0.4, 0.0, 0.3):
        a, b, c = ((k - true) ** 2 + 1.0 for k in (-1, 0, 1))
        assert float(yin.vertex(a, b, c)) == pytest.approx(true, abs=1e-15)
    assert float(yin.vertex(1.0, 2.0, 1.0)) == 0.0  # curving down: no offset
    assert float(yin.vertex(10.0, 0.0, 0.1)) == pytest.approx(0.5 * 9.9 / 10.1, abs=1e-15)


@pytest.mark.parametrize("period", [20, 37, 160])
def test_integer_period_gives_its_exact_f0(period):
    rng = np.random.default_rng(period)
    cycle = rng.standard_normal(period)
    x = np.tile(cycle, SR // period + 1)[:SR].astype(np.float32)
    ref = yin.reference(x)
    inner = ref.f0[0, _interior(ref.cfg, len(x))]
    np.testing.assert_allclose(inner, SR / period, rtol=1e-9)
    assert (ref.confidence[0, _interior(ref.cfg, len(x))] == 1.0).all()


@pytest.mark.parametrize("f0", [82.41, 196.0, 440.0, 1046.5, 1975.5])
def test_pure_tone_f0_is_the_parabolas_vertex_on_a_cosine_dip(f0):
    """For sin(w n + phi), d(tau) = (1 - cos w tau) (W + R), |R| <= 1 / |sin w| (a sum of
    W cosines stepping by 2w). The vertex through the three lags around the period
    T = 2 pi / w therefore lies within the vertices over the box of the cosine values
    scaled by 1 +- 1 / (W |sin w|): the reference's f0 must lie in that range (up to a
    cent below T at high f0: the parabola's own bias, which the test predicts)."""
    x = (0.5 * np.sin(2 * np.pi * f0 * np.arange(SR) / SR + 1.0)).astype(np.float32)
    ref = yin.reference(x)
    period, w = SR / f0, 2 * np.pi * f0 / SR
    rho = 1.0 / (ref.cfg.window * abs(np.sin(w)))
    tau = round(period)
    dips = [1.0 - np.cos(w * (tau + k)) for k in (-1, 0, 1)]
    corners = [
        tau + float(yin.vertex(*(v * (1 + s * rho) for v, s in zip(dips, signs, strict=True))))
        for signs in np.ndindex(3, 3, 3)
        for signs in [np.array(signs) - 1]
    ]
    inner = _interior(ref.cfg, len(x))
    assert (ref.lag[0, inner] == tau).all()
    periods = SR / ref.f0[0, inner]
    assert periods.min() >= min(corners) - 1e-9 and periods.max() <= max(corners) + 1e-9


def test_row_scale_is_a_power_of_two_into_half_to_one():
    rows = np.array([[0.0, 3.0], [1e-5, -0.25], [0.0, 0.0], [0.5, 0.0]], np.float32)
    e = yin.row_scale(rows)
    peaks = np.abs(rows).max(axis=1) * np.exp2(e)
    assert list(e[2:3]) == [0]
    assert ((peaks[[0, 1, 3]] >= 0.5) & (peaks[[0, 1, 3]] < 1.0)).all()


# -- the kernel ---------------------------------------------------------------------------------


def _signals():
    rng = np.random.default_rng(7)
    t = np.arange(2 * SR) / SR
    vib = 220.0 * 2.0 ** (0.5 * np.sin(2 * np.pi * 5.0 * t) / 12)
    loud = 3.0 * _tone(vib, 2.0)  # beyond +-1: the row scale brings it down
    quiet = 1e-3 * _tone(330.0, 2.0) + 1e-5 * rng.standard_normal(2 * SR).astype(np.float32)
    return np.stack([loud, quiet]).astype(np.float32)


@pytest.mark.parametrize("storage", ["float32", "float16"])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(frame_length=401, hop=50),  # odd window, block = 1
        dict(frame_length=300, hop=120, fmin=70.0, fmax=1000.0, threshold=0.2),  # block 60
        dict(frame_length=64, hop=256, fmin=300.0),  # window shorter than the hop
    ],
    ids=["default", "odd-window", "block-60", "short-window"],
)
def test_kernel_within_the_derived_budget(ctx, storage, kwargs):
    x = _signals()
    ref = yin.reference(x, **kwargs)
    out = yin.analyse(x, storage=storage, ctx=ctx, **kwargs)
    dev = yin.deviation(out, ref, storage)
    assert dev.inside.all(), np.argwhere(~dev.inside)[:5]
    assert dev.ratio.max() <= 1.0
    assert dev.same_lag.mean() > 0.99  # the lag differs only where d' values tie


def test_float32_kernel_is_within_a_thousandth_of_a_cent_on_a_clean_tone(ctx):
    x = _tone(261.63, 1.0)
    ref = yin.reference(x)
    f0, conf = ddspgl.yin(x, ctx=ctx)
    assert f0.shape == conf.shape == (SR // 64,) and f0.dtype == np.float32
    assert np.abs(yin.cents(f0, ref.f0[0])).max() < 1e-3
    assert np.abs(conf - ref.confidence[0]).max() < 1e-5


def test_the_budget_is_tight_enough_to_fail(ctx):
    """A kernel off by a tenth of a cent, or a confidence off by 1e-4, is caught."""
    x = _tone(261.63, 1.0)
    ref = yin.reference(x)
    out = yin.analyse(x[None], ctx=ctx)
    assert yin.deviation(out, ref, "float32").inside.all()
    bad = out.copy()
    bad[0, 100, 0] *= 2.0 ** (0.1 / 1200)
    assert not yin.deviation(bad, ref, "float32").inside[0, 100]
    bad = out.copy()
    bad[0, 100, 1] -= 1e-4
    assert not yin.deviation(bad, ref, "float32").inside[0, 100]
    bad = out.copy()
    bad[0, 100, 2] *= 2  # the octave below: a lag the intervals exclude
    assert yin.deviation(bad, ref, "float32").ratio[0, 100] == np.inf


def test_batch_and_leading_dimensions(ctx):
    x = _signals()
    f0, conf = ddspgl.yin(x.reshape(2, 1, -1), ctx=ctx)
    assert f0.shape == conf.shape == (2, 1, 2 * SR // 64)
    one, _ = ddspgl.yin(x[1], ctx=ctx)
    np.testing.assert_array_equal(f0[1, 0], one)  # rows are independent


def test_three_passes(ctx):
    before = ctx.counters.passes
    ddspgl.yin(_tone(440.0, 0.25), ctx=ctx)
    assert ctx.counters.passes - before == 3


def test_silence_is_unvoiced_and_finite(ctx):
    f0, conf = ddspgl.yin(np.zeros(4000, np.float32), ctx=ctx)
    assert np.isfinite(f0).all() and (conf == 0.0).all()
    ref = yin.reference(np.zeros(4000, np.float32))
    np.testing.assert_array_equal(f0, ref.f0[0].astype(np.float32))


# -- arguments and leaks ------------------------------------------------------------------------

GOOD = _tone(220.0, 0.1)


@pytest.mark.parametrize(
    "change, name",
    [
        (dict(x=np.where(np.arange(1600) == 3, np.nan, 0.1)), "x"),
        (dict(x=np.zeros(0)), "x"),
        (dict(x=np.zeros(63)), "x"),
        (dict(x=np.array(["a", "b"])), "x"),
        (dict(x=np.full(1600, 1e39)), "x"),
        (dict(sample_rate=0), "sample_rate"),
        (dict(sample_rate=500), "sample_rate"),
        (dict(sample_rate=float("nan")), "sample_rate"),
        (dict(hop=0), "hop"),
        (dict(hop=4097), "hop"),
        (dict(hop=64.0), "hop"),
        (dict(frame_length=0), "frame_length"),
        (dict(frame_length=4097), "frame_length"),
        (dict(fmin=0.0), "fmin"),
        (dict(fmin=-50.0), "fmin"),
        (dict(fmin=5.0), "fmin"),  # 3200 lags > 2048
        (dict(fmax=40.0), "fmax"),  # not above fmin
        (dict(fmax=9000.0), "fmax"),  # above sample_rate / 2
        (dict(fmax="high"), "fmax"),
        (dict(threshold=0.0), "threshold"),
        (dict(threshold=1.5), "threshold"),
        (dict(storage="float64"), "storage"),
        (dict(ctx="egl"), "ctx"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input_raises_value_error_naming_the_argument(ctx, change, name):
    args = dict(x=GOOD, ctx=ctx) | change
    before = ctx.counters.textures_alive
    with pytest.raises(ValueError, match=f"^{name}"):
        ddspgl.yin(**args)
    assert ctx.counters.textures_alive == before


def test_too_long_for_the_texture_limit(fresh_ctx):
    small = fresh_ctx(max_texture_size=64)
    with pytest.raises(ValueError, match=r"^x: .* beyond this context's limit"):
        ddspgl.yin(np.zeros(16000, np.float32), ctx=small)
    assert small.counters.textures_alive == 0


def test_no_textures_leak_on_success_or_gl_failure(ctx, monkeypatch):
    before = ctx.counters.textures_alive
    ddspgl.yin(GOOD, ctx=ctx)
    assert ctx.counters.textures_alive == before
    calls = {"n": 0}
    real = type(ctx).run

    def failing(self, body, *args, **kwargs):
        calls["n"] += 1
        if body == yin.BODY_PICK:
            raise RuntimeError("injected failure in the pick pass")
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(type(ctx), "run", failing)
    with pytest.raises(RuntimeError, match="injected"):
        ddspgl.yin(GOOD, ctx=ctx)
    assert calls["n"] == 3
    assert ctx.counters.textures_alive == before
