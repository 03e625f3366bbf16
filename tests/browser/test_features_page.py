"""The page's features to controls (app/features.js) in headless Chromium against its
float64 twin (instruments/features.py) on the same frames: the same voiced frames and
octaves, f0 bit for bit (a power of two times the same input), loudness within twice the
derived float64 bound (features.loudness_error_bound, one per side); the same messages for
bad stats and arguments."""

from __future__ import annotations

import base64
import json
import math

import app_page
import numpy as np
import pytest

from ddspgl.instruments import features, loudness

U64 = 2.0**-53


@pytest.fixture(scope="module")
def app_host():
    """A headless Chromium serving app/ at /extra/."""
    yield from app_page.app_host()


@pytest.fixture(scope="module")
def page(app_host):
    """A blank page with app/features.js imported as `window.features`."""
    yield from app_page.module_page(app_host, "features")


def _sung_frames():
    pytest.importorskip("scipy")
    from ddspgl.instruments import sung
    from ddspgl.kernels import yin

    p = sung.phrase(5, 3.0, voice="alto")
    track = yin.reference(p.audio)
    f0, conf = track.f0[0].astype(np.float64), track.confidence[0].astype(np.float64)
    return f0, conf, loudness.loudness_db(p.audio, 16000, 250)[: f0.size]


def _seeded_frames(seed, n=5000):
    rng = np.random.default_rng(seed)
    f0 = 180 * 2 ** np.cumsum(rng.normal(0, 0.01, n))
    f0[rng.random(n) < 0.05] = 0.0
    conf = np.clip(rng.uniform(0.5, 1.3, n), 0, 1)
    loud = -35 + 12 * np.sin(np.arange(n) / 40) + rng.normal(0, 3, n)
    return f0, conf, loud


FRAMES = {
    "sung-alto-yin": _sung_frames,
    "seeded-5000": lambda: _seeded_frames(1),
    "seeded-1": lambda: _seeded_frames(2, 1),
    "unvoiced": lambda: (np.full(300, 200.0), np.full(300, 0.2), np.full(300, -30.0)),
    "flat": lambda: (np.full(300, 200.0), np.ones(300), np.full(300, -30.0)),
}
STATS = {
    "shehnai": features.Stats(72.0, -9.5, 6.2),
    "bansuri": features.Stats(76.5, -14.0, 8.0),
    "low-quiet": features.Stats(40.0, -70.0, 25.0),
}


@pytest.mark.parametrize("stats", STATS, ids=str)
@pytest.mark.parametrize("frames", FRAMES, ids=str)
def test_page_controls_match_the_float64_twin(app_host, page, frames, stats):
    f0, conf, loud = FRAMES[frames]()
    s = STATS[stats]
    want = features.controls(f0, conf, loud, s)
    if want.voiced.any():
        # The octave decision x = (f0_mean_midi - mean MIDI) / 12 must not lie within the
        # two sides' rounding of a half-integer: each MIDI value within 12 (2u + u |log2|)
        # + u |midi| (the quotient, log2, the factor, the sum), their mean within n u of
        # the magnitudes more; both sides' errors, over 12.
        pitch = features.midi(f0[want.voiced])
        n = pitch.size
        e = 12 * (2 + np.abs(np.log2(f0[want.voiced] / 440)).max()) * U64
        e += (n + 1) * U64 * np.abs(pitch).max()
        x = (s.f0_mean_midi - pitch.mean()) / 12
        assert abs(x - math.floor(x) - 0.5) > 2 * e / 12 + 4 * U64 * abs(x)
    got = page.evaluate(
        "async ([f, c, l, stats]) => { "
        "const r = features.controls(await blob(f, 'f64'), await blob(c, 'f64'),"
        " await blob(l, 'f64'), stats);"
        " return {f0: b64(r.f0Hz), loud: b64(r.loudnessDb), voiced: Array.from(r.voiced),"
        " octaves: r.octaves}; }",
        [
            app_page.put64(app_host, f0),
            app_page.put64(app_host, conf),
            app_page.put64(app_host, loud),
            json.loads(s.to_json()),
        ],
    )
    assert got["octaves"] == want.octaves
    np.testing.assert_array_equal(np.array(got["voiced"], bool), want.voiced)
    f0_js = np.frombuffer(base64.b64decode(got["f0"]), np.float64)
    np.testing.assert_array_equal(f0_js, want.f0_hz)
    loud_js = np.frombuffer(base64.b64decode(got["loud"]), np.float64)
    bound = 2 * features.loudness_error_bound(loud, want.voiced, s)
    assert np.all(np.abs(loud_js - want.loudness_db) <= bound)
    np.testing.assert_array_equal(loud_js[~want.voiced], -80.0)


def _js_error(page, script: str, arg=None) -> str:
    return page.evaluate(
        f"async (arg) => {{ try {{ {script}; return 'no error'; }} "
        "catch (e) { return e.message; } }",
        arg,
    )


BAD_STATS = [
    {"f0_mean_midi": 60},
    {"f0_mean_midi": "60", "loudness_mean_db": 0, "loudness_std_db": 1},
    {"f0_mean_midi": 130, "loudness_mean_db": 0, "loudness_std_db": 1},
    {"f0_mean_midi": -1.5, "loudness_mean_db": 0, "loudness_std_db": 1},
    {"f0_mean_midi": 60, "loudness_mean_db": 0, "loudness_std_db": 0},
    {"f0_mean_midi": 60, "loudness_mean_db": 0, "loudness_std_db": -2.5},
]


@pytest.mark.parametrize("stats", BAD_STATS, ids=lambda d: json.dumps(d)[:40])
def test_page_refuses_bad_stats_as_python_does(page, stats):
    with pytest.raises(ValueError) as info:
        features.Stats.from_json(json.dumps(stats))
    message = _js_error(page, "features.parseStats(JSON.stringify(arg))", stats)
    if "must be a finite number" in str(info.value):  # Python says got '60', JS got 60
        assert message.startswith(str(info.value).split(", got")[0])
    else:
        assert message == str(info.value)


N = 10
BAD = [
    ({"f0": [200.0] * (N + 1)}, {}),
    ({"conf": []}, {}),
    ({"loud": [0.0] * 9 + ["nan"]}, {}),
    ({"f0": [200.0] * 9 + [-1.5]}, {}),
    ({"conf": [1.5] * N}, {}),
    ({}, {"threshold": 0}),
    ({}, {"threshold": 1.5}),
    ({}, {"range_db": 0}),
    ({}, {"range_db": "inf"}),
]


@pytest.mark.parametrize("arrays, options", BAD, ids=lambda v: str(v)[:40])
def test_page_refuses_bad_arguments_as_python_does(page, arrays, options):
    a = {"f0": [200.0] * N, "conf": [1.0] * N, "loud": [0.0] * N, **arrays}
    num = {"nan": float("nan"), "inf": float("inf")}
    with pytest.raises(ValueError) as info:
        features.controls(
            np.array([num.get(v, v) for v in a["f0"]], np.float64),
            np.array([num.get(v, v) for v in a["conf"]], np.float64),
            np.array([num.get(v, v) for v in a["loud"]], np.float64),
            features.Stats(60.0, -10.0, 5.0),
            **{k: num.get(v, v) for k, v in options.items()},
        )
    js_options = {
        {"threshold": "threshold", "range_db": "rangeDb"}[k]: v for k, v in options.items()
    }
    message = _js_error(
        page,
        "const num = (v) => ({nan: NaN, inf: Infinity})[v] ?? v; "
        "const arr = (xs) => Float64Array.from(xs.map(num)); "
        "const o = Object.fromEntries(Object.entries(arg.o).map(([k, v]) => [k, num(v)])); "
        "features.controls(arr(arg.f0), arr(arg.conf), arr(arg.loud), "
        "{f0_mean_midi: 60, loudness_mean_db: -10, loudness_std_db: 5}, o)",
        {**a, "o": js_options},
    )
    assert message == str(info.value)
