"""The page's loudness (app/loudness.js) in headless Chromium against the float64 reference
(instruments/loudness.py) on the audio the ddsp comparison uses, within twice the float64
per-frame bound (both sides float64: loudness_bound.FLOAT64 derives one side's); its real
FFT against numpy's; its argument checks say what the Python twin says."""

from __future__ import annotations

import base64
import math

import app_page
import numpy as np
import pytest

from ddspgl.instruments import loudness, loudness_bound, phrases
from loudness_cases import CASES, audio

U64 = 2.0**-53
JS_OPTIONS = {"n_fft": "nFft", "padding": "padding", "ref_db": "refDb", "range_db": "rangeDb"}


@pytest.fixture(scope="module")
def app_host():
    """A headless Chromium serving app/ at /extra/."""
    yield from app_page.app_host()


@pytest.fixture(scope="module")
def page(app_host):
    """A blank page with app/loudness.js imported as `window.loudness`."""
    yield from app_page.module_page(app_host, "loudness")


def _f64(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.float64)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_page_loudness_matches_the_float64_reference(app_host, page, case):
    if case.source == "fluidsynth" and phrases.missing():
        pytest.skip(f"soundfont phrases: {phrases.missing()}")
    x = audio(case)
    options = {JS_OPTIONS[k]: v for k, v in case.kwargs.items()}
    got = _f64(
        page.evaluate(
            "async ([key, sr, fr, options]) => "
            "b64(loudness.loudnessDb(await blob(key), sr, fr, options))",
            [app_host.put(x), case.sample_rate, case.frame_rate, options],
        )
    )
    ref = loudness.loudness_db(x, case.sample_rate, case.frame_rate, **case.kwargs)
    assert got.shape == ref.shape
    extra = {k: v for k, v in case.kwargs.items() if k != "n_fft"}
    bound = 2 * loudness_bound.deviation_bound(
        x, case.sample_rate, case.frame_rate, case.n_fft, loudness_bound.FLOAT64, **extra
    )
    ratio = np.abs(got - ref) / bound
    assert ratio.max() <= 1.0, (ratio.max(), int(np.argmax(ratio)))


@pytest.mark.parametrize("n", [2, 4, 8, 64, 512, 2**16])
def test_real_fft_power_matches_numpy(app_host, page, n):
    """|X_k|^2 of seeded float64 input: each side's spectrum within D = 20 u log2(n) (2 for
    n = 2: one stage) times sqrt(n) |x| (loudness_bound's FFT term: its packed form's
    constant), so the two within 2 D; then |X_k|^2 moves by at most 2 |X_k| 2D + (2D)^2,
    and each side rounds the square within 3u."""
    x = np.random.default_rng(n).uniform(-1, 1, n)
    got = _f64(
        page.evaluate(
            "async ([key, n]) => { const x = await blob(key, 'f64'); "
            "const f = new loudness.RealFft(n); "
            "return b64(f.power(x, new Float64Array(n / 2 + 1))); }",
            [app_page.put64(app_host, x), n],
        )
    )
    spec = np.fft.rfft(x)
    want = spec.real**2 + spec.imag**2
    d = 2 * 20 * U64 * max(math.log2(n), 1) * math.sqrt(n) * np.linalg.norm(x)
    bound = (1 + 2.0**-10) * (2 * np.sqrt(want) * d + d * d + 6 * U64 * want)
    assert np.all(np.abs(got - want) <= bound)


def _js_error(page, script: str, arg=None) -> str:
    return page.evaluate(
        f"async (arg) => {{ try {{ {script}; return 'no error'; }} "
        "catch (e) { return e.message; } }",
        arg,
    )


SAME_AS_PYTHON = [
    ({"x": np.zeros(0)}, {}),
    ({"x": np.zeros(63)}, {}),
    ({"x": np.array([0.0] * 100 + [np.nan])}, {}),
    ({"x": np.array([-np.inf] * 100)}, {}),
    ({"fr": 300}, {}),
    ({"sr": 44100}, {}),
    ({"sr": 0}, {}),
    ({"fr": 2.5}, {}),
    ({}, {"n_fft": 500}),
    ({}, {"n_fft": 2**17}),
    ({}, {"n_fft": 32}),
    ({}, {"range_db": -3}),
    ({}, {"range_db": float("inf")}),
    ({}, {"ref_db": float("nan")}),
]


@pytest.mark.parametrize("args, options", SAME_AS_PYTHON, ids=lambda v: str(v)[:40])
def test_page_refuses_what_python_refuses_with_the_same_message(page, args, options):
    a = {"x": np.zeros(1000), "sr": 16000, "fr": 250, **args}
    with pytest.raises(ValueError) as info:
        loudness.loudness_db(a["x"], a["sr"], a["fr"], **options)
    js_options = {JS_OPTIONS[k]: v for k, v in options.items()}
    # JSON carries neither NaN nor infinities: they are rebuilt on the page.
    specials = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}
    encode = {k: (str(v) if str(v) in specials else v) for k, v in js_options.items()}
    samples = ["nan" if np.isnan(v) else str(v) if np.isinf(v) else float(v) for v in a["x"]]
    message = _js_error(
        page,
        "const num = (v) => ({nan: NaN, inf: Infinity, '-inf': -Infinity})[v] ?? v; "
        "const o = Object.fromEntries(Object.entries(arg.options).map(([k, v]) => [k, num(v)])); "
        "loudness.loudnessDb(Float64Array.from(arg.x.map(num)), arg.sr, arg.fr, o)",
        {"x": samples, "sr": a["sr"], "fr": a["fr"], "options": encode},
    )
    assert message == str(info.value)


def test_page_refuses_stereo_and_what_is_not_samples(page):
    for script in (
        "loudness.loudnessDb([new Float32Array(1000), new Float32Array(1000)], 16000, 250)",
        "loudness.loudnessDb(new AudioBuffer({length: 1000, numberOfChannels: 2, "
        "sampleRate: 16000}), 16000, 250)",
    ):
        assert "mix the channels down to one first" in _js_error(page, script)
    assert _js_error(page, "loudness.loudnessDb('abc', 16000, 250)").startswith(
        "audio: must be a Float32Array, a Float64Array or an Array of samples"
    )
    assert (
        _js_error(
            page, "loudness.loudnessDb(new Float32Array(1000), 16000, 250, {padding: 'valid'})"
        )
        == "padding: must be one of center, same, got valid"
    )
    mono = _js_error(
        page,
        "const b = new AudioBuffer({length: 1000, numberOfChannels: 1, sampleRate: 16000}); "
        "if (loudness.loudnessDb(b, 16000, 250).length !== 16) throw new Error('frames')",
    )
    assert mono == "no error"
