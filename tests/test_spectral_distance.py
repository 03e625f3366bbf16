"""instruments/spectral_distance.py: ddsp's multi-scale spectral loss in float64, against
closed forms and against magenta/ddsp's own SpectralLoss (TensorFlow, in a child process:
tests/ddsp_spectral_loss.py) inside the derived float32 + float64 bound."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from ddspgl.instruments import loudness_bound, phrases
from ddspgl.instruments import spectral_distance as sd
from paths import ROOT

DDSP_MODULES = ("tensorflow", "tf_keras", "gin", "ddsp", "crepe", "librosa")
DDSP_INSTALL = 'pip install -e ".[dev,convert,ddsp]" && bash model/install_ddsp.sh'
N = 32000  # 2 s at 16 kHz
# White noise added to every case, about -40 dB below the phrases' peaks: it keeps every
# bin far above float32's FFT error, where the log term's bound is finite and small (a
# bin of a bare phrase can sit below that error: its float32 log is then anything).
NOISE = 0.01


def _noise(seed: int, level: float = NOISE) -> np.ndarray:
    return level * np.random.default_rng(seed).standard_normal(N)


def _tone(f0: float, seed: int) -> np.ndarray:
    t = np.arange(N) / 16000.0
    x = sum(0.3 / k * np.sin(2 * np.pi * k * f0 * t + k) for k in range(1, 12) if k * f0 < 8000)
    return x + _noise(seed)


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    cases = {
        "tone-vs-tone-a-fifth-up": (_tone(220.0, 1), _tone(330.0, 2)),
        "tone-vs-noise": (_tone(440.0, 3), _noise(4, 0.1)),
        "noise-vs-quieter-noise": (_noise(5, 0.2), _noise(6, 0.02)),
    }
    if not phrases.missing():
        a = phrases.phrase(7, "shehnai", 2.0).audio.astype(np.float64)
        b = phrases.phrase(7, "bansuri", 2.0).audio.astype(np.float64)
        cases["shehnai-vs-bansuri"] = (a + _noise(8), b + _noise(9))
    return {k: (t.astype(np.float32), v.astype(np.float32)) for k, (t, v) in cases.items()}


CASES = _cases()


@pytest.mark.parametrize("size", sd.FFT_SIZES)
def test_a_cosine_on_a_bin_has_its_closed_form(size):
    """A cos(2 pi k m / size) under the periodic Hann window: A size / 4 at bin k and
    A size / 8 at k +- 1, 0 elsewhere (no normalisation, ddsp's window), in every frame
    that the zero padding does not reach."""
    k, amp = size // 8, 0.5
    # The argument reduced to one period first (exact in integers): cos of a large argument
    # would carry the argument's rounding (u times its size) into the samples.
    x = amp * np.cos(2 * np.pi * ((k * np.arange(4 * size)) % size) / size)
    mag = sd.magnitudes(x, size)
    assert mag.shape == (-(-x.size // (size // 4)), size // 2 + 1)
    full = mag[: (x.size - size) // (size // 4) + 1]
    want = np.zeros(size // 2 + 1)
    want[k], want[k - 1], want[k + 1] = amp * size / 4, amp * size / 8, amp * size / 8
    # float64 FFT of a size-point frame: within 20 u log2(size) of the spectrum's norm
    # (loudness_bound's c_N), the window's and product's rounding 13u more.
    tol = (20 * math.log2(size) + 13) * 2.0**-53 * math.sqrt(size) * np.linalg.norm(x[:size])
    np.testing.assert_allclose(full, np.broadcast_to(want, full.shape), rtol=0, atol=tol)
    assert mag[-1].max() < amp * size / 4  # the last frame is half zeros


def test_frames_pad_the_end_as_tf_signal_frame():
    x = np.arange(1.0, 101.0)
    f = sd.frames(x, 64)
    assert f.shape == (7, 64)  # ceil(100 / 16)
    np.testing.assert_array_equal(f[1, :16], x[16:32])
    np.testing.assert_array_equal(f[-1, :4], x[96:])
    assert not f[-1, 4:].any()


def test_log_terms_use_safe_log_for_zeros():
    """A silent target: its zero magnitudes count as 1e-5 (ddsp's safe_log), so the log
    term against a value of 1 in a bin is |ln 1e-5| there."""
    assert sd.safe_log(np.array([0.0, -1.0, 1.0])).tolist() == [math.log(1e-5)] * 2 + [0.0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_bound_tells_wrong_semantics_apart(name):
    """Base-10 logarithms or a missing FFT size move the loss by more than the float32 +
    float64 bound the ddsp comparison allows, so that comparison can tell them apart."""
    t, v = CASES[name]
    ref = sd.distance(t, v)
    bound = sd.deviation_bound(t, v) + sd.deviation_bound(t, v, loudness_bound.FLOAT64)
    parts = sd.terms(t, v)
    log10 = sum(a + b / math.log(10) for a, b in parts.values())
    no64 = sum(a + b for s, (a, b) in parts.items() if s != 64)
    assert abs(log10 - ref) > bound and abs(no64 - ref) > bound, (ref, bound)


@pytest.fixture(scope="module")
def ddsp_losses(tmp_path_factory):
    for module in DDSP_MODULES:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"the ddsp extra is not installed ({module} is missing): {DDSP_INSTALL}")
    tmp = tmp_path_factory.mktemp("ddsp_spectral_loss")
    arrays = {}
    for name, (t, v) in CASES.items():
        arrays |= {f"{name}/target": t, f"{name}/value": v}
    np.savez(tmp / "in.npz", **arrays)
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    script = ROOT / "tests" / "ddsp_spectral_loss.py"
    res = subprocess.run(
        [sys.executable, str(script), str(tmp / "in.npz"), str(tmp / "out.npz")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-4000:]
    out = np.load(tmp / "out.npz")
    return {name: float(out[name]) for name in out.files}


@pytest.mark.model
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_ddsp_spectral_loss(ddsp_losses, name):
    """ddsp 3.7.0's SpectralLoss (float32) on the same float32 signals: within the sum of
    the two derived bounds (ddsp's in float32, this module's in float64)."""
    t, v = CASES[name]
    ref = sd.distance(t, v)
    bound = sd.deviation_bound(t, v) + sd.deviation_bound(t, v, loudness_bound.FLOAT64)
    got = ddsp_losses[name]
    print(f"{name}: ddsp {got:.6f}, float64 {ref:.6f}, |diff| {abs(got - ref):.2e} <= {bound:.2e}")
    assert abs(got - ref) <= bound, (got, ref, bound)


@pytest.mark.parametrize(
    ("target", "value", "message"),
    [
        (np.zeros(N, np.int16), np.zeros(N), "target: must hold floating-point"),
        (np.zeros((2, N)), np.zeros(N), "target: must be mono"),
        (np.zeros(N), np.zeros(100), "value: 100 samples is shorter than"),
        (np.zeros(N), np.zeros(N - 1), "target, value: must be equally long"),
        (np.full(N, np.nan), np.zeros(N), "target: every sample must be finite"),
    ],
    ids=["int", "stereo", "short", "lengths", "nan"],
)
def test_bad_arguments_are_refused_by_name(target, value, message):
    with pytest.raises(ValueError, match=message):
        sd.distance(target, value)
