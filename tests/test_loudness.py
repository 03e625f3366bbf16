"""Loudness (instruments/loudness.py): the float64 reference against closed forms (the
A-weighting's IEC 61672 table, a sine on a bin, a click in each frame) and against
magenta/ddsp 3.7.0's own ``compute_loudness`` in TensorFlow (a child process) on real audio,
within the derived per-frame bound; the bound tells wrong semantics apart; argument checks."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from ddspgl.instruments import loudness, loudness_bound, phrases
from loudness_cases import CASES, Case, audio, sine
from paths import ROOT

U64 = 2.0**-53
DDSP_MODULES = ("tensorflow", "tf_keras", "gin", "ddsp", "crepe", "librosa")
DDSP_INSTALL = 'pip install -e ".[dev,convert,ddsp]" && bash model/install_ddsp.sh'


# -- closed forms ------------------------------------------------------------------------------

# IEC 61672-1 Table 3: A-weighting (dB) at the exact base-ten frequencies 1000 * 10^(k/10),
# given to 0.1 dB: the formula must land within half of that step (0.05 dB) of each entry.
IEC_A = {-15: -39.4, -12: -26.2, -9: -16.1, -6: -8.6, -3: -3.2, 0: 0.0, 3: 1.2, 6: 1.0, 9: -1.1}


def test_a_weighting_matches_the_iec_table():
    freqs = np.array([1000 * 10 ** (k / 10) for k in IEC_A])
    got = loudness.a_weighting_db(freqs)
    np.testing.assert_allclose(got, list(IEC_A.values()), rtol=0, atol=0.05 + 1e-9)


def test_a_weighting_is_clipped_at_minus_80_db():
    got = loudness.a_weighting_db(np.array([0.0, 0.01, 5.0, 10.0]))
    assert got[0] == got[1] == got[2] == -80.0 and -71.0 < got[3] < -70.0  # 10 Hz: -70.4
    w = loudness.weights(16000, 512)
    assert w[0] == 10.0**-8 and w.shape == (257,)


@pytest.mark.parametrize(
    "sample_rate, frame_rate, n_fft, k",
    [(16000, 250, 512, 32), (16000, 50, 512, 32), (48000, 250, 512, 11), (16000, 250, 2048, 7)],
    ids=["16k-250fps", "16k-50fps", "48k-250fps", "16k-250fps-nfft2048"],
)
def test_sine_on_a_bin_has_its_closed_form(sample_rate, frame_rate, n_fft, k):
    """A sine of amplitude a on bin k, periodic-Hann windowed: |X_k| = a N / 4 and
    |X_(k+-1)| = a N / 8, every other bin 0, in every frame inside the audio."""
    a, hop = 0.5, sample_rate // frame_rate
    x = sine(sample_rate, sample_rate + 37, n_fft, amplitude=a, k=k)
    got = loudness.loudness_db(x, sample_rate, frame_rate, n_fft)
    w = loudness.weights(sample_rate, n_fft)
    s = (a * n_fft / 4) ** 2 * w[k] + (a * n_fft / 8) ** 2 * (w[k - 1] + w[k + 1])
    want = 10 * math.log10(s / (n_fft // 2 + 1))
    centres = np.arange(got.size) * hop
    inside = (centres >= n_fft // 2) & (centres + n_fft // 2 <= x.size)
    assert inside.sum() >= 20
    # The reference's bound, its window term doubled: the sine itself is within
    # (2 pi + 1) u a of exact per sample (argument reduced exactly, one rounding of the
    # argument, the sine's ulp, the factor a), at most 12u of the frame's 2-norm (|x| =
    # a sqrt(N / 2)); the closed form rounds within 8u of s and 4u of its dB value.
    profile = dataclasses.replace(loudness_bound.FLOAT64, window=24.0)
    bound = loudness_bound.deviation_bound(x, sample_rate, frame_rate, n_fft, profile)
    bound += 10 / math.log(10) * 8 * U64 + 4 * U64 * abs(want)
    assert np.all(np.abs(got[inside] - want) <= bound[inside])


@pytest.mark.parametrize("padding", ["center", "same"])
def test_a_click_lands_in_the_frames_that_cover_it(padding):
    """A unit click at sample t: frame i holds it at offset m = t - start_i, so its
    weighted power is h_m^2 mean(w) (a flat spectrum), and frames that do not cover it
    (or hold it where the Hann window is 0) are silent: the padding and framing exactly."""
    sr, fr, n_fft, t = 16000, 250, 512, 1000
    hop, left = sr // fr, (n_fft // 2 if padding == "center" else 0)
    x = np.zeros(4000)
    x[t] = 1.0
    got = loudness.loudness_db(x, sr, fr, n_fft, padding=padding)
    assert got.size == loudness.frame_count(x.size, hop, n_fft, padding)
    assert got.size == (4000 // hop + 1 if padding == "center" else -(-4000 // hop))
    h, mean_w = loudness.hann(n_fft), loudness.weights(sr, n_fft).mean()
    m = t - (np.arange(got.size) * hop - left)
    covered = (m >= 0) & (m < n_fft)
    power = np.where(covered, h[np.clip(m, 0, n_fft - 1)] ** 2 * mean_w, 0.0)
    want = loudness.power_to_db(power)
    bound = loudness_bound.deviation_bound(x, sr, fr, n_fft, padding=padding)
    bound += 10 / math.log(10) * 8 * U64 + 4 * U64 * np.abs(want)  # the closed form's rounding
    assert np.all(np.abs(got - want) <= bound)
    assert (got > -80).sum() == ((m > 0) & (m < n_fft)).sum() > 0


def test_silence_is_minus_range_db():
    for kwargs in ({}, {"range_db": 120.0, "ref_db": 20.7}):
        got = loudness.loudness_db(np.zeros(3000, np.float32), 16000, 250, **kwargs)
        np.testing.assert_array_equal(got, -kwargs.get("range_db", 80.0))


def test_frame_blocks_are_the_frames_in_order():
    x = np.arange(1000, dtype=np.float64)
    whole = np.concatenate(list(loudness.frame_blocks(x, 64, 256, block=10**6)))
    parts = np.concatenate(list(loudness.frame_blocks(x, 64, 256, block=3)))
    np.testing.assert_array_equal(whole, parts)
    assert whole.shape == (1000 // 64 + 1, 256)
    np.testing.assert_array_equal(whole[0, :128], 0)
    np.testing.assert_array_equal(whole[0, 128:], x[:128])
    np.testing.assert_array_equal(whole[5], x[5 * 64 - 128 : 5 * 64 + 128])


def _variant(x, sr, fr, n_fft, window=None, shift=0):
    """Steps 1-5 with another window or the audio shifted by `shift` samples."""
    x = np.concatenate([np.zeros(shift), np.asarray(x, np.float64)])[: len(x)]
    h = loudness.hann(n_fft) if window is None else window
    w = loudness.weights(sr, n_fft)
    p = []
    for frames in loudness.frame_blocks(x, sr // fr, n_fft):
        spec = np.fft.rfft(frames * h, axis=-1)
        p.append(((spec.real**2 + spec.imag**2) * w).mean(-1))
    return loudness.power_to_db(np.concatenate(p))


def test_the_ddsp_bound_tells_wrong_semantics_apart():
    """The bound the ddsp comparison allows is far below what a symmetric Hann window or
    frames off by one sample change: that comparison can fail."""
    case = Case("sung", 16000, 250)
    x = audio(case)
    ref = loudness.loudness_db(x, 16000, 250)
    bound = loudness_bound.deviation_bound(x, 16000, 250, 512, loudness_bound.TF_FLOAT32)
    bound += loudness_bound.deviation_bound(x, 16000, 250, 512)
    for variant in (
        _variant(x, 16000, 250, 512, window=np.hanning(512)),
        _variant(x, 16000, 250, 512, shift=1),
    ):
        assert np.max(np.abs(variant - ref) / bound) > 10


# -- against magenta/ddsp ------------------------------------------------------------------------


def _ddsp_skip_reason() -> str | None:
    for module in DDSP_MODULES:
        if importlib.util.find_spec(module) is None:
            return f"the ddsp extra is not installed ({module} is missing): {DDSP_INSTALL}"
    return None


@pytest.fixture(scope="module")
def ddsp_loudness(tmp_path_factory):
    """case id -> ddsp's compute_loudness (float32) on the case's audio, all cases in one
    child process (tests/ddsp_loudness.py)."""
    why = _ddsp_skip_reason()
    if why:
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("ddsp_loudness")
    arrays = {}
    for case in CASES:
        if case.source == "fluidsynth" and phrases.missing():
            continue
        c = case.id
        arrays |= {f"{c}/audio": audio(case), f"{c}/sample_rate": case.sample_rate}
        arrays |= {f"{c}/frame_rate": case.frame_rate, f"{c}/n_fft": case.n_fft}
        arrays |= {f"{c}/padding": case.padding}
        arrays |= {f"{c}/{k}": v for k, v in case.options}
    np.savez(tmp / "in.npz", **arrays)
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "ddsp_loudness.py"),
            *(str(tmp / f) for f in ("in.npz", "out.npz")),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-4000:]
    out = np.load(tmp / "out.npz")
    return {name: out[name] for name in out.files}


@pytest.mark.model
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_reference_matches_ddsp_compute_loudness(ddsp_loudness, case):
    """ddsp 3.7.0's compute_loudness (TensorFlow, float32) on the same float32 audio: every
    frame within the sum of the two per-frame bounds (ddsp's in float32, the reference's in
    float64; loudness_bound derives both)."""
    if case.source == "fluidsynth" and phrases.missing():
        pytest.skip(f"soundfont phrases: {phrases.missing()}")
    x = audio(case)
    ref = loudness.loudness_db(x, case.sample_rate, case.frame_rate, **case.kwargs)
    got = ddsp_loudness[case.id].astype(np.float64)
    assert got.shape == ref.shape
    args = (x, case.sample_rate, case.frame_rate, case.n_fft)
    extra = {k: v for k, v in case.kwargs.items() if k != "n_fft"}
    bound = loudness_bound.deviation_bound(*args, loudness_bound.TF_FLOAT32, **extra)
    bound += loudness_bound.deviation_bound(*args, loudness_bound.FLOAT64, **extra)
    ratio = np.abs(got - ref) / bound
    assert ratio.max() <= 1.0, (ratio.max(), int(np.argmax(ratio)))
    if case.source != "silence":
        assert (ref > -dict(case.options).get("range_db", 80.0) + 20).mean() > 0.3  # audible frames


# -- arguments ---------------------------------------------------------------------------------

GOOD = np.zeros(1000, np.float32)
BAD = [
    (
        {"audio": np.zeros((2, 1000), np.float32)},
        "audio: must be mono (1-D), got shape (2, 1000): mix the channels down",
    ),
    ({"audio": np.zeros((1000, 2), np.float32)}, "mix the channels down"),
    ({"audio": np.zeros((2, 2, 10))}, "audio: must be mono (1-D)"),
    ({"audio": np.zeros(0)}, "audio: is empty"),
    ({"audio": np.zeros(63)}, "audio: 63 samples is shorter than one frame's hop (64 samples"),
    (
        {"audio": np.array([0.0] * 100 + [np.nan])},
        "audio: every sample must be finite, got nan at sample 100",
    ),
    ({"audio": np.array([np.inf] * 100)}, "at sample 0"),
    ({"audio": np.zeros(1000, np.int16)}, "audio: must hold floating-point samples"),
    ({"sample_rate": 0}, "sample_rate: must be a positive integer, got 0"),
    ({"sample_rate": 16000.0}, "sample_rate: must be a positive integer"),
    ({"sample_rate": True}, "sample_rate: must be a positive integer"),
    ({"frame_rate": -250}, "frame_rate: must be a positive integer"),
    ({"frame_rate": 300}, "frame_rate: must divide sample_rate"),
    ({"sample_rate": 44100}, "got 250 frames/s at 44100 Hz"),
    ({"n_fft": 500}, "n_fft: must be a power of two in [2, 65536], got 500"),
    ({"n_fft": 2**17}, "n_fft: must be a power of two in [2, 65536]"),
    ({"n_fft": 32}, "n_fft: must be at least the hop (sample_rate // frame_rate = 64 samples)"),
    ({"range_db": 0.0}, "range_db: must be > 0"),
    ({"range_db": float("inf")}, "range_db: must be a finite number"),
    ({"ref_db": float("nan")}, "ref_db: must be a finite number"),
    ({"padding": "valid"}, "padding: must be one of ('center', 'same')"),
]


@pytest.mark.parametrize(
    "bad, message", BAD, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD)]
)
def test_bad_arguments_are_refused_by_name(bad, message):
    kwargs = {"audio": GOOD, "sample_rate": 16000, "frame_rate": 250, **bad}
    with pytest.raises(ValueError) as info:
        loudness.loudness_db(**kwargs)
    assert message in str(info.value)


def test_48k_at_50_frames_needs_n_fft_of_at_least_the_hop():
    """ddsp's own pad refuses a hop above the frame (960 > 512 at 48 kHz, 50 frames/s)."""
    with pytest.raises(ValueError, match="n_fft: must be at least the hop .* = 960 samples"):
        loudness.loudness_db(np.zeros(48000), 48000, 50)
    assert loudness.loudness_db(np.zeros(48000), 48000, 50, 1024).shape == (51,)
