"""The harmonic synthesizer: its float64 reference against closed forms and DDSP's own
definitions, the GLSL pieces against exact models, the kernel against the reference, the
API's argument checks, GL leaks on success and failure, and block rendering."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ddspgl import harmonic_synth
from ddspgl.kernels import harmonic, harmonic_suite
from paths import TEST_GLSL

SR = 16000


def _controls(frames=250, k=20, f0=220.0, batch=1, seed=0):
    rng = np.random.default_rng(seed)
    f0s = np.full((batch, frames), f0, np.float32)
    amp = rng.uniform(0.2, 0.9, (batch, frames)).astype(np.float32)
    dist = rng.uniform(0.0, 1.0, (batch, frames, k)).astype(np.float32)
    return f0s, amp, dist


# -- the reference ------------------------------------------------------------------------------


def test_reference_constant_f0_single_harmonic_is_a_pure_sine():
    f0, amp = np.full((1, 100), 440.0, np.float32), np.full((1, 100), 0.5, np.float32)
    dist = np.ones((1, 100, 1), np.float32)
    ref, amb = harmonic.reference(f0, amp, dist, n_samples=6400)
    n = np.arange(6400)
    # DDSP's phase is the inclusive cumsum: sample n has phase (n + 1) f / sr.
    np.testing.assert_allclose(ref[0], 0.5 * np.sin(2 * np.pi * 440.0 * (n + 1) / SR), atol=1e-12)
    assert not amb.any()


def test_reference_harmonic_above_nyquist_is_silent():
    f0 = np.full((1, 100), 3000.0, np.float32)
    dist = np.zeros((1, 100, 3), np.float32)
    dist[..., 2] = 1.0  # harmonic 3: 9 kHz, above 8 kHz
    ref, _ = harmonic.reference(
        f0, np.ones((1, 100), np.float32), dist, n_samples=6400, normalize=False
    )
    assert not ref.any()
    # normalize=True masks it at frame rate: nothing left to renormalise, still silent.
    ref, _ = harmonic.reference(f0, np.ones((1, 100), np.float32), dist, n_samples=6400)
    assert not ref.any()


def test_window_upsampling_of_a_constant_is_that_constant():
    frames = np.full((2, 37), 0.3)
    np.testing.assert_allclose(harmonic.upsample_window(frames, 37 * 64), 0.3, rtol=1e-15)


@pytest.mark.parametrize("hop", [2, 5, 64, 320])
def test_window_upsampling_is_ddsp_hann_overlap_add(hop):
    """upsample_with_windows: endpoint held, periodic Hann of 2 hop, overlap-add, trim."""
    x = np.random.default_rng(hop).uniform(size=9)
    padded = np.append(x, x[-1])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(2 * hop) / (2 * hop))
    ola = np.zeros(len(padded) * hop + hop)
    for j, v in enumerate(padded):
        ola[j * hop : j * hop + 2 * hop] += v * window
    np.testing.assert_allclose(
        harmonic.upsample_window(x, 9 * hop), ola[hop:-hop][: 9 * hop], atol=1e-15
    )


def test_linear_upsampling_is_tf1_bilinear_without_half_pixel_centres():
    x = np.array([1.0, 3.0, 2.0])
    out = harmonic.upsample_linear(x, 12)
    # Output n reads input position n * 3 / 12, the last frame held.
    pos = np.arange(12) * 3 / 12
    np.testing.assert_allclose(out, np.interp(pos, np.arange(3), x), atol=1e-15)


def test_reference_normalize_harmonics():
    f0 = np.array([[1000.0]], np.float32)
    dist = np.array([[[1.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 5.0]]], np.float32)  # k=8: 8 kHz
    out = harmonic.normalize_harmonics(f0, np.array([[0.8]]), dist, SR)
    np.testing.assert_allclose(out[0, 0], 0.8 * np.array([1, 1, 2, 0, 0, 0, 0, 0]) / 4)
    zero = harmonic.normalize_harmonics(f0, np.array([[0.8]]), 0 * dist, SR)
    assert not zero.any()


# -- GLSL pieces --------------------------------------------------------------------------------


def test_sin_cos_within_the_assumed_error(ctx):
    """The error analysis assumes sin and cos of |x| <= pi within SIN_ERROR."""
    x = np.linspace(-np.pi, np.pi, 1 << 18).astype(np.float32)[None]
    src = ctx.upload(x)
    out = ctx.texture(1, x.shape[1], 4, "float32")
    try:
        ctx.run(TEST_GLSL / "harmonicSinCos.frag", {"x": src}, out)
        got = out.read()[0]
    finally:
        src.release()
        out.release()
    x64 = x[0].astype(np.float64)
    assert np.abs(got[:, 0] - np.sin(x64)).max() <= harmonic.SIN_ERROR
    assert np.abs(got[:, 1] - np.cos(x64)).max() <= harmonic.SIN_ERROR


@pytest.mark.parametrize("mul", [0, 1, 3, 2047, 4160, 2**31 + 12345])
def test_residue_multiply_and_centre_are_exact(ctx, mul):
    modulus = harmonic.phase_modulus(np.float32(SR), 64)
    p = modulus.p
    rng = np.random.default_rng(mul % 1000)
    r = np.concatenate([[0, 1, p // 2, p // 2 + 1, p - 1], rng.integers(0, p, 251)])
    src = ctx.texture(1, len(r), 4, "float32")
    out = ctx.texture(1, len(r), 4, "float32")
    try:
        src.write(harmonic._digits(r))
        inv = float(np.float32(1.0 / p))
        ctx.run(
            TEST_GLSL / "harmonicResidue.frag",
            {"x": src},
            out,
            uniforms=modulus.uniforms() | {"invModulus": ("float", inv)},
            defines={"MUL": f"{mul}u"},
        )
        got = out.read()[0]
    finally:
        src.release()
        out.release()
    product = got[:, 0].astype(np.int64) + (got[:, 1].astype(np.int64) << 22)
    assert (product == np.array([int(v) * mul % p for v in r], dtype=np.int64)).all()
    exact = np.array([float(v) / p - round(float(v) / p) for v in r])
    d = got[:, 2] - exact
    d -= np.round(d)  # r = p/2 may read as -0.5 or +0.5: the same phase
    assert np.abs(d).max() < 2.0**-23  # resToCentered's bound
    assert (np.abs(got[:, 2]) <= 0.5).all()


# -- the kernel ---------------------------------------------------------------------------------


@pytest.mark.parametrize("storage", ["float16", "float32"])
def test_kernel_matches_reference_within_budget(ctx, storage):
    t = np.arange(500) / 250
    f0 = np.stack([300 * 2 ** (np.sin(2 * np.pi * 5.5 * t) / 12), np.linspace(40, 4100, 500)])
    _, amp, dist = _controls(500, 100, batch=2)
    f0 = f0.astype(np.float32)
    y = harmonic_synth(f0, amp, dist, n_samples=32000, storage=storage, ctx=ctx)
    ref, amb = harmonic.reference(f0, amp, dist, n_samples=32000)
    assert y.shape == (2, 32000) and y.dtype == np.float32
    if storage == "float32":
        assert harmonic.snr_db(y, ref, amb) >= harmonic.SNR_BUDGET_DB
    else:
        assert harmonic.max_error(y, ref, amb) <= harmonic.FLOAT16_BUDGET


def test_kernel_silences_harmonics_crossing_nyquist_inside_a_frame(ctx):
    # Harmonic 2 of 3 kHz <-> 5 kHz glides crosses 8 kHz at r = 32 (a tie) of every frame.
    f0 = np.array([[3000.0, 5000.0] * 20], np.float32)
    amp = np.ones((1, 40), np.float32)
    dist = np.zeros((1, 40, 2), np.float32)
    dist[..., 1] = 1.0
    y = harmonic_synth(
        f0, amp, dist, n_samples=40 * 64, normalize=False, storage="float32", ctx=ctx
    )
    ref, amb = harmonic.reference(f0, amp, dist, n_samples=40 * 64, normalize=False)
    assert harmonic.max_error(y, ref, amb) < 1e-5
    rising, falling = y[0, 0:64], y[0, 64:128]
    assert not rising[33:].any() and np.abs(rising[:31]).max() > 0.5
    assert not falling[:32].any() and np.abs(falling[33:]).max() > 0.5


def test_blocks_match_one_shot_without_clicks(ctx):
    f0, amp, dist = harmonic_suite.inputs("16k-1000f-100h")
    whole = harmonic_synth(f0, amp, dist, storage="float32", ctx=ctx)
    blocks = harmonic_suite.render_blocks(
        f0, amp, dist, blocks=16, sample_rate=SR, n_samples=64000, storage="float32", ctx=ctx
    )
    zero = np.zeros_like(whole, np.float64)
    assert harmonic.snr_db(blocks, whole.astype(np.float64), zero) >= harmonic.SNR_BUDGET_DB
    # No click: the largest difference anywhere, joins included, is far below 2^-11.
    assert np.abs(blocks - whole).max() <= 2.0**-11 * np.abs(whole).max() / 16


def test_final_phase_is_each_harmonics_phase_at_the_last_sample(ctx):
    f0 = np.full((1, 10), 440.0, np.float32)
    dist = np.ones((1, 10, 3), np.float32)
    init = np.array([[0.5, 1.0, 6.0]], np.float32)
    _, phase = harmonic_synth(
        f0,
        np.ones((1, 10), np.float32),
        dist,
        n_samples=640,
        initial_phase=init,
        return_final_phase=True,
        ctx=ctx,
    )
    expect = np.mod(init[0] + 2 * np.pi * np.arange(1, 4) * 440.0 * 640 / SR, 2 * np.pi)
    np.testing.assert_allclose(phase[0], expect, atol=1e-6)


# -- arguments and leaks ------------------------------------------------------------------------

GOOD = _controls(10, 4)


@pytest.mark.parametrize(
    "change, name",
    [
        (dict(f0_hz=np.where(np.arange(10) == 3, np.nan, 220.0)[None]), "f0_hz"),
        (dict(amplitude=np.full((1, 10), np.inf)), "amplitude"),
        (dict(harmonic_distribution=np.full((1, 10, 4), np.nan)), "harmonic_distribution"),
        (dict(f0_hz=np.full((1, 10), -1.0)), "f0_hz"),
        (dict(amplitude=np.full((1, 10), -0.1)), "amplitude"),
        (dict(harmonic_distribution=-np.ones((1, 10, 4))), "harmonic_distribution"),
        (dict(amplitude=np.ones((1, 11))), "amplitude"),
        (dict(harmonic_distribution=np.ones((1, 9, 4))), "harmonic_distribution"),
        (dict(n_samples=641), "n_samples"),
        (dict(n_samples=10), "n_samples"),
        (dict(harmonic_distribution=np.ones((1, 10, 0))), "harmonic_distribution"),
        (dict(harmonic_distribution=np.ones((1, 10, 129))), "harmonic_distribution"),
        (dict(sample_rate=0), "sample_rate"),
        (dict(sample_rate=-16000), "sample_rate"),
        (dict(sample_rate=float("nan")), "sample_rate"),
        (dict(initial_phase=np.zeros((1, 3))), "initial_phase"),
        (dict(storage="float64"), "storage"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input_raises_value_error_naming_the_argument(ctx, change, name):
    args = (
        dict(f0_hz=GOOD[0], amplitude=GOOD[1], harmonic_distribution=GOOD[2], n_samples=640)
        | change
    )
    before = ctx.counters.textures_alive
    with pytest.raises(ValueError, match=f"^{name}"):
        harmonic_synth(ctx=ctx, **args)
    assert ctx.counters.textures_alive == before


def test_no_textures_leak_on_success_or_gl_failure(ctx, monkeypatch):
    before = ctx.counters.textures_alive
    harmonic_synth(*GOOD, n_samples=640, ctx=ctx)
    assert ctx.counters.textures_alive == before
    calls = {"n": 0}
    real = type(ctx).run

    def failing(self, body, *args, **kwargs):
        calls["n"] += 1
        if body == harmonic.BODY_SYNTH:
            raise RuntimeError("injected failure in the fused pass")
        return real(self, body, *args, **kwargs)

    # On the class: patching the instance would leave a bound method behind on undo.
    monkeypatch.setattr(type(ctx), "run", failing)
    with pytest.raises(RuntimeError, match="injected"):
        harmonic_synth(*GOOD, n_samples=640, initial_phase=np.zeros((1, 4)), ctx=ctx)
    assert calls["n"] >= 3
    assert ctx.counters.textures_alive == before


def test_silence_and_f0_zero(ctx):
    f0, amp, dist = _controls(10, 4, f0=0.0)
    assert not harmonic_synth(f0, amp, dist, n_samples=640, ctx=ctx).any()
    y = harmonic_synth(
        f0, amp, dist, n_samples=640, initial_phase=np.full((1, 4), 0.5), ctx=ctx, storage="float32"
    )
    ref, amb = harmonic.reference(f0, amp, dist, n_samples=640, initial_phase=np.full((1, 4), 0.5))
    assert math.isfinite(harmonic.snr_db(y, ref, amb))
    assert harmonic.snr_db(y, ref, amb) >= harmonic.SNR_BUDGET_DB
