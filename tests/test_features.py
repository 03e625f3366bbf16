"""Features to controls (instruments/features.py): the octave shift, the loudness mapping
and the silencing of unvoiced frames against their definitions; a sung phrase tracked by
YIN's float64 reference and ddsp's loudness moved onto each soundfont instrument's
register; the stats JSON; argument checks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ddspgl.instruments import features, loudness

U64 = 2.0**-53


def _phrase_frames(seed=1, n=400):
    """A seeded phrase's frames: gliding f0 around 200 Hz, confidence, loudness."""
    rng = np.random.default_rng(seed)
    f0 = 200 * 2 ** (np.cumsum(rng.normal(0, 0.01, n)))
    conf = np.clip(rng.uniform(0.6, 1.2, n), 0, 1)
    loud = -30 + 8 * np.sin(np.arange(n) / 17) + rng.normal(0, 2, n)
    return f0, conf, loud


STATS = features.Stats(f0_mean_midi=72.0, loudness_mean_db=-12.0, loudness_std_db=6.0)


def test_octaves_move_the_mean_pitch_nearest_the_instrument():
    f0, conf, loud = _phrase_frames()
    voiced = conf >= features.THRESHOLD
    mean = features.midi(f0[voiced]).mean()
    # (semitones above the phrase's mean, octaves): the nearest whole octave.
    for above, want in ((-29.5, -2), (-17.9, -1), (-6.1, -1), (5.9, 0), (6.1, 1), (31.0, 3)):
        target = mean + above
        stats = features.Stats(target, -12.0, 6.0)
        got = features.controls(f0, conf, loud, stats)
        assert got.octaves == want
        np.testing.assert_array_equal(got.f0_hz, f0 * 2.0**want)  # exact: a power of two
        np.testing.assert_array_equal(got.voiced, voiced)
        shifted = features.midi(got.f0_hz[voiced]).mean()
        assert abs(shifted - target) <= 6 + 1e-9


def test_octave_halves_round_up():
    f0 = np.full(10, 440.0)  # MIDI 69 exactly
    conf = np.ones(10)
    up = features.controls(f0, conf, np.zeros(10), features.Stats(75.0, 0.0, 1.0))
    down = features.controls(f0, conf, np.zeros(10), features.Stats(63.0, 0.0, 1.0))
    assert (up.octaves, down.octaves) == (1, 0)


def test_loudness_takes_the_instruments_mean_and_spread():
    f0, conf, loud = _phrase_frames()
    got = features.controls(f0, conf, loud, STATS)
    v, out = got.voiced, got.loudness_db
    assert 0.3 < v.mean() < 0.9
    # Exact maths: the mapped voiced frames have exactly the instrument's mean and spread.
    # Computed: each value within its bound b, so their mean within max b (plus its own
    # rounding, n u of the magnitudes) and their spread within max b (a shift by at most
    # max b per value moves the root-mean-square deviation by at most that), plus the
    # spread's rounding ((n + 3) u / 2 relative, as in the bound).
    b = features.loudness_error_bound(loud, v, STATS)
    n = int(v.sum())
    rounding = n * U64 * np.abs(out[v]).mean()
    assert abs(out[v].mean() - STATS.loudness_mean_db) <= b.max() + rounding
    spread_rounding = (n + 3) * U64 * STATS.loudness_std_db + rounding
    assert abs(out[v].std() - STATS.loudness_std_db) <= b.max() + spread_rounding
    # Frame by frame against the definition evaluated in exact rational arithmetic's stead:
    # fractions.Fraction of the float64 inputs.
    from fractions import Fraction

    vals = [Fraction(x) for x in loud[v]]
    m = sum(vals) / len(vals)
    s2 = sum((x - m) ** 2 for x in vals) / len(vals)
    s = math.sqrt(s2)  # the one rounding left (u of s): inside b's rho_r
    r = Fraction(STATS.loudness_std_db) / Fraction(max(s, 1.0))
    exact = np.array(
        [float(Fraction(STATS.loudness_mean_db) + (Fraction(x) - m) * r) for x in loud[v]]
    )
    assert np.all(np.abs(out[v] - exact) <= b[v] + U64 * np.abs(exact))
    np.testing.assert_array_equal(out[~v], -80.0)


def test_a_nearly_constant_input_is_not_stretched():
    loud = -20 + 0.01 * np.sin(np.arange(100))  # 0.007 dB of spread
    got = features.controls(np.full(100, 300.0), np.ones(100), loud, STATS)
    # scale = 6 dB / max(0.007 dB, 1 dB): ripples of 0.01 dB become 0.06 dB, not 8.5 dB.
    assert np.abs(got.loudness_db - STATS.loudness_mean_db).max() < 0.061
    flat = features.controls(np.full(5, 300.0), np.ones(5), np.full(5, -20.0), STATS)
    np.testing.assert_array_equal(flat.loudness_db, STATS.loudness_mean_db)


def test_unvoiced_frames_are_silent_and_values_stay_above_minus_range():
    f0, conf, loud = _phrase_frames(seed=2)
    conf[:50] = 0.5
    f0[60:70] = 0.0  # no pitch: unvoiced whatever the confidence
    conf[60:70] = 1.0
    quiet = features.Stats(60.0, -75.0, 20.0)
    for range_db in (80.0, 120.0):
        got = features.controls(f0, conf, loud, quiet, range_db=range_db)
        assert not got.voiced[:50].any() and not got.voiced[60:70].any()
        np.testing.assert_array_equal(got.loudness_db[~got.voiced], -range_db)
        assert got.loudness_db.min() == -range_db
        assert (got.loudness_db[got.voiced] == -range_db).any() == (range_db == 80.0)
    none = features.controls(f0, np.zeros_like(conf), loud, STATS)
    assert none.octaves == 0 and not none.voiced.any()
    np.testing.assert_array_equal(none.f0_hz, f0)
    np.testing.assert_array_equal(none.loudness_db, -80.0)


def test_threshold_decides_voicing():
    f0, conf, loud = _phrase_frames()
    for threshold in (0.5, 0.9, 1.0):
        got = features.controls(f0, conf, loud, STATS, threshold=threshold)
        np.testing.assert_array_equal(got.voiced, conf >= threshold)


def test_own_stats_leave_a_phrase_unchanged():
    f0, conf, loud = _phrase_frames(seed=3)
    voiced = conf >= features.THRESHOLD
    stats = features.instrument_stats(f0, loud, voiced)
    got = features.controls(f0, conf, loud, stats)
    assert got.octaves == 0
    b = features.loudness_error_bound(loud, voiced, stats)
    assert np.all(np.abs(got.loudness_db - loud)[voiced] <= b[voiced] + U64 * np.abs(loud[voiced]))


def test_a_sung_phrase_moves_to_each_instruments_register():
    """YIN (float64 reference) and ddsp's loudness of a synthetic sung phrase, through each
    soundfont instrument's register (the middle of its MIDI range): the shifted mean pitch
    lies within 6 semitones of the instrument's."""
    pytest.importorskip("scipy")
    from ddspgl.instruments import phrases, sung
    from ddspgl.kernels import yin

    p = sung.phrase(5, 3.0, voice="bass")
    track = yin.reference(p.audio)
    f0, conf = track.f0[0].astype(np.float64), track.confidence[0].astype(np.float64)
    loud = loudness.loudness_db(p.audio, 16000, 250)[: f0.size]  # YIN's n // hop frames
    for name, (_, lo, hi) in phrases.INSTRUMENTS.items():
        stats = features.Stats((lo + hi) / 2, -10.0, 6.0)
        got = features.controls(f0, conf, loud, stats)
        assert got.voiced.mean() > 0.4, name
        assert got.octaves >= 1, name  # a bass voice goes up to a shehnai, flute or fiddle
        mean = features.midi(got.f0_hz[got.voiced]).mean()
        assert abs(mean - stats.f0_mean_midi) <= 6, name


# -- the stats JSON ------------------------------------------------------------------------


def test_stats_json_round_trip():
    text = STATS.to_json()
    assert json.loads(text) == {
        "f0_mean_midi": 72.0,
        "loudness_mean_db": -12.0,
        "loudness_std_db": 6.0,
    }
    assert features.Stats.from_json(text) == STATS
    assert features.Stats.from_json(json.loads(text)) == STATS
    extra = {**json.loads(text), "n_frames": 1000}  # other keys are allowed and ignored
    assert features.Stats.from_json(extra) == STATS


BAD_STATS = [
    ("[1, 2]", "stats: must be a JSON object"),
    ('{"f0_mean_midi": 60}', "stats: missing loudness_mean_db, loudness_std_db"),
    (
        '{"f0_mean_midi": "60", "loudness_mean_db": 0, "loudness_std_db": 1}',
        "stats.f0_mean_midi: must be a finite number",
    ),
    (
        '{"f0_mean_midi": 60, "loudness_mean_db": NaN, "loudness_std_db": 1}',
        "stats.loudness_mean_db: must be a finite number, got nan",
    ),
    (
        '{"f0_mean_midi": 130, "loudness_mean_db": 0, "loudness_std_db": 1}',
        "stats.f0_mean_midi: must lie in [0, 127], got 130",
    ),
    (
        '{"f0_mean_midi": 60, "loudness_mean_db": 0, "loudness_std_db": 0}',
        "stats.loudness_std_db: must be > 0, got 0",
    ),
    (
        '{"f0_mean_midi": 60, "loudness_mean_db": true, "loudness_std_db": 1}',
        "stats.loudness_mean_db: must be a finite number",
    ),
]


@pytest.mark.parametrize("text, message", BAD_STATS, ids=[m.split(":")[0] for _, m in BAD_STATS])
def test_bad_stats_are_refused_by_key(text, message):
    with pytest.raises(ValueError) as info:
        features.Stats.from_json(text)
    assert message in str(info.value)


# -- arguments ---------------------------------------------------------------------------------

N = 10
BAD = [
    (
        {"f0_hz": np.zeros(N + 1)},
        "f0_hz, confidence, loudness_db: must have one value per frame each, got 11, 10 and "
        "10 frames",
    ),
    ({"f0_hz": np.zeros((2, N))}, "f0_hz: must be 1-D (one value per frame), got shape (2, 10)"),
    ({"confidence": np.zeros(0)}, "confidence: is empty"),
    (
        {"loudness_db": np.array([0.0] * 9 + [np.nan])},
        "loudness_db: every value must be finite, got nan at frame 9",
    ),
    ({"f0_hz": np.array([100.0] * 9 + [-1.0])}, "f0_hz: must be >= 0, got -1.0 at frame 9"),
    ({"confidence": np.full(N, 1.5)}, "confidence: must lie in [0, 1], got 1.5 at frame 0"),
    ({"f0_hz": np.array(["a"] * N)}, "f0_hz: must hold numbers"),
    ({"threshold": 0}, "threshold: must be a number in (0, 1], got 0"),
    ({"threshold": 1.5}, "threshold: must be a number in (0, 1], got 1.5"),
    ({"range_db": 0}, "range_db: must be a finite number > 0, got 0"),
    ({"range_db": float("inf")}, "range_db: must be a finite number > 0, got inf"),
    ({"stats": {"f0_mean_midi": 60}}, "stats: missing loudness_mean_db"),
]


@pytest.mark.parametrize(
    "bad, message", BAD, ids=[m.split(":")[0].replace(", ", "+") for _, m in BAD]
)
def test_bad_arguments_are_refused_by_name(bad, message):
    args = {
        "f0_hz": np.full(N, 200.0),
        "confidence": np.ones(N),
        "loudness_db": np.zeros(N),
        "stats": STATS,
    }
    args |= bad
    with pytest.raises(ValueError) as info:
        features.controls(**args)
    assert message in str(info.value)


def test_instrument_stats_needs_voiced_frames_with_a_pitch():
    with pytest.raises(ValueError, match="voiced: no voiced frame"):
        features.instrument_stats(np.ones(5), np.zeros(5), np.zeros(5, bool))
    with pytest.raises(ValueError, match="f0_hz: must be > 0 on every voiced frame"):
        features.instrument_stats(np.zeros(5), np.arange(5.0), np.ones(5, bool))
    with pytest.raises(ValueError, match="must have one value per frame each"):
        features.instrument_stats(np.ones(5), np.zeros(4), np.ones(5, bool))
