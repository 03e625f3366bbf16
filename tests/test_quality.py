"""instruments/quality.py's parts that need no browser: the shared phrases (one score, three
programs, the notes all three play), voiced runs, and the level match against a known
answer. The measurement itself, on the committed models in the page, is
tests/browser/test_timbre_quality.py."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from ddspgl.instruments import dataset, phrases, quality

U = 2.0**-53


def test_voiced_runs_are_the_maximal_runs():
    v = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    assert quality.voiced_runs(v) == [(1, 3), (5, 6), (7, 10)]
    assert quality.voiced_runs(np.ones(4, bool)) == [(0, 4)]
    assert quality.voiced_runs(np.zeros(4, bool)) == []


def _rendering(audio, power, voiced) -> quality.Rendering:
    frames = voiced.size
    return quality.Rendering(
        audio=audio,
        f0_hz=np.full(frames, 440.0),
        loudness_db=10 * np.log10(power),
        power=power,
        voiced=voiced,
    )


def test_level_match_undoes_a_gain_per_run():
    """x = ref times c_k over run k and the rest after it (c_0 before the first run too), its
    power c_k^2 times ref's there: matched, x is ref again, except on the one-frame joins
    before each later run's first frame, where the gain moves from 1 / c_(k-1) to 1 / c_k.

    Budget: the gain 10 log10(p_ref / p_x) in dB is within 45u of exact (the ratio u,
    carried by 10 / ln 10; log10's u of |log10| <= 2; the factor 10 u of |dB| <= 20),
    10^(dB / 20) within ln 10 / 20 of that relatively (5.2u), plus the division, the power
    and the product with the sample (3u): 9u of |ref|, taken as 10u."""
    hop = dataset.HOP
    voiced = np.zeros(60, bool)
    runs = [(5, 15), (20, 32), (40, 41), (50, 58)]
    for a, b in runs:
        voiced[a:b] = True
    scale = np.array([0.25, 3.0, 0.1, 7.5])  # c_k: up to 20 dB from 1
    c_frames = np.empty(60)
    c_samples = np.empty(60 * hop)
    for k, (a, _) in enumerate(runs):
        end = runs[k + 1][0] if k + 1 < len(runs) else 60
        start = 0 if k == 0 else a
        c_frames[start:end] = scale[k]
        c_samples[start * hop : end * hop] = scale[k]
    rng = np.random.default_rng(3)
    ref_audio = rng.standard_normal(60 * hop)
    ref_power = rng.uniform(0.01, 1.0, 60)
    ref = _rendering(ref_audio, ref_power, voiced)
    x = _rendering(ref_audio * c_samples, ref_power * c_frames**2, voiced)
    got = quality.level_matched(x, ref)
    keep = np.ones(got.size, bool)
    for a, _ in runs[1:]:
        keep[(a - 1) * hop + 1 : a * hop] = False  # the join before run k's first frame
    np.testing.assert_allclose(got[keep], ref_audio[keep], rtol=10 * U, atol=0)
    assert not np.allclose(got[~keep], ref_audio[~keep], rtol=1e-3)  # the joins do move
    np.testing.assert_array_equal(quality.level_matched(ref, ref), ref_audio)


def test_level_match_refuses_another_score():
    v = np.zeros(10, bool)
    v[2:5] = True
    a = _rendering(np.zeros(640), np.ones(10), v)
    b = _rendering(np.zeros(640), np.ones(10), np.roll(v, 1))
    with pytest.raises(ValueError, match="voiced frames differ"):
        quality.level_matched(a, b)


@pytest.mark.skipif(phrases.missing() is not None, reason=f"{phrases.missing()}")
def test_phrase_set_is_one_score_in_three_programs():
    import mido

    lo, hi = phrases.common_range()
    assert (lo, hi) == (60, 84)  # Shanai C4-C6 within Flute C4-A6 and Fiddle G3-D6
    got = phrases.phrase_set(50000, 3.0)
    assert list(got) == list(phrases.INSTRUMENTS)
    events = {}
    for name, p in got.items():
        np.testing.assert_array_equal(p.f0, got["shehnai"].f0)
        assert p.instrument == name and np.abs(p.audio).max() > 0.01
        msgs = list(mido.MidiFile(file=io.BytesIO(p.midi)).tracks[0])
        programs = [m.program for m in msgs if m.type == "program_change"]
        assert programs == [phrases.INSTRUMENTS[name][0]]
        events[name] = [m for m in msgs if m.type != "program_change"]
        notes = [m.note for m in msgs if m.type == "note_on"]
        assert notes and lo <= min(notes) and max(notes) <= hi
    assert events["shehnai"] == events["bansuri"] == events["sarangi"]
    voiced = got["shehnai"].f0 > 0
    midi = 69 + 12 * np.log2(got["shehnai"].f0[voiced] / 440.0)
    step = phrases.BEND_RANGE / 8192  # the wheel's step in semitones: bends round to it
    assert lo - step <= midi.min() and midi.max() <= hi + step  # bends stay inside
    # Never an instrument's own phrase: those are seeded by the program, these by 128.
    own = phrases.phrase(50000, "shehnai", 3.0)
    assert not np.array_equal(own.f0, got["shehnai"].f0)
    assert math.isclose(got["sarangi"].sample_rate, phrases.SAMPLE_RATE)


def test_held_out_seeds_are_outside_every_model_s_training(tmp_path):
    import json

    for name in quality.INSTRUMENTS:
        (tmp_path / name).mkdir()
        config = {"seed": 0, "phrases": 48}
        (tmp_path / name / "train.json").write_text(json.dumps({"config": config}))
    seeds, trained = quality.held_out_seeds(tmp_path, 3)
    assert seeds == dataset.phrase_seeds(0, 3, held_out=True)
    assert all(span == (0, 48) for span in trained.values())
    assert not set(seeds) & set(range(48))


@pytest.mark.parametrize(
    ("count", "seconds", "message"),
    [
        (0, 6.0, "--phrases: must be a whole number in \\[1, 1000\\], got 0"),
        (True, 6.0, "--phrases: must be a whole number"),
        (3, 1.5, "--seconds: must lie in \\[2.0, 60.0\\], got 1.5"),
        (3, float("nan"), "--seconds: must lie in"),
        (3, "6", "--seconds: must be a number"),
    ],
    ids=["no-phrases", "bool", "short", "nan", "string"],
)
def test_bad_options_are_refused_by_name(count, seconds, message):
    with pytest.raises(quality.QualityError, match=message):
        quality.check(count, seconds)
