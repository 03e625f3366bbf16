"""Synthetic sung phrases: reproducible, their truth consistent, and YIN (the float64
reference and the kernel) within 20 cents of the truth on at least 95% of judged frames."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

import ddspgl  # noqa: E402
from ddspgl.instruments import accuracy, sung  # noqa: E402
from ddspgl.kernels import yin  # noqa: E402


def test_rosenberg_pulse_shape():
    assert sung.rosenberg(np.array([0.0]))[0] == 0.0
    assert sung.rosenberg(np.array([sung.OPEN]))[0] == pytest.approx(1.0)
    closed = np.linspace(sung.OPEN + sung.CLOSE, 0.999, 50)
    assert not sung.rosenberg(closed).any()
    p = np.linspace(0, 3, 3001)
    np.testing.assert_allclose(sung.rosenberg(p[:1000]), sung.rosenberg(p[1000:2000]), atol=1e-12)


def test_same_seed_same_phrase():
    a, b, c = sung.phrase(3, 2.0), sung.phrase(3, 2.0), sung.phrase(4, 2.0)
    np.testing.assert_array_equal(a.audio, b.audio)
    np.testing.assert_array_equal(a.f0, b.f0)
    assert not np.array_equal(a.audio, c.audio)
    assert a.audio.dtype == np.float32 and a.audio.shape == a.f0.shape == (32000,)
    assert np.abs(a.audio).max() <= 1.0


def test_phrases_have_silences_glides_and_vibrato():
    p = sung.phrase(1, 6.0)
    voiced = p.f0 > 0
    assert 0.5 < voiced.mean() < 0.97  # breaths between groups
    both = voiced[1:] & voiced[:-1]
    cents = 1200 * np.log2(p.f0[1:][both] / p.f0[:-1][both])
    assert np.abs(cents).max() < accuracy.JUMP_CENTS  # only continuous movements
    semis = 12 * np.log2(p.f0[voiced] / 440.0)
    assert np.ptp(semis) > 5  # several notes


def test_bad_arguments():
    with pytest.raises(ValueError, match="^seconds"):
        sung.phrase(0, 0.2)
    with pytest.raises(ValueError, match="^voice"):
        sung.phrase(0, 2.0, voice="baritone")


def test_judged_frames_leave_out_silence_and_note_changes():
    f0 = np.concatenate([np.zeros(1000), np.full(3000, 200.0), np.full(3000, 300.0)])
    truth, mask = accuracy.judged_frames(f0, 100, 70, 250)
    judged = np.flatnonzero(mask)
    # Judged: frames whose time +-250 samples lies in one note, inside the signal.
    want = [i for i in range(70) if 1250 <= i * 100 <= 3750 or 4250 <= i * 100 <= 6749]
    assert list(judged) == want
    assert truth[20] == 200.0 and truth[50] == 300.0


SEEDS = range(12)


@pytest.fixture(scope="module")
def phrases():
    return [sung.phrase(seed, 6.0) for seed in SEEDS]


def _scores(p, ctx):
    ref = yin.reference(p.audio)
    truth, mask = accuracy.judged_frames(
        p.f0, ref.cfg.hop, ref.cfg.frames, accuracy.yin_half_span(ref.cfg)
    )
    f0, _ = ddspgl.yin(p.audio, ctx=ctx)
    return ref, accuracy.score(ref.f0[0], truth, mask), accuracy.score(f0, truth, mask), mask


def test_kernel_scores_as_the_reference(ctx, phrases):
    for p in phrases[:6]:
        ref, by_ref, by_kernel, mask = _scores(p, ctx)
        assert mask.sum() > 0.8 * by_ref.voiced_frames  # most voiced frames are judged
        assert by_kernel.within == by_ref.within and by_kernel.gross == by_ref.gross


@pytest.mark.parametrize("storage", ["float32", "float16"])
def test_kernel_within_the_derived_budget_on_sung_phrases(ctx, phrases, storage):
    """Sung phrases put dips of d' near the threshold and near each other: every lag the
    kernel takes must be one the derived intervals allow."""
    for p in phrases[:3]:
        ref = yin.reference(p.audio)
        dev = yin.deviation(yin.analyse(p.audio, storage=storage, ctx=ctx), ref, storage)
        assert dev.inside.all(), np.argwhere(~dev.inside)[:5]


def test_yin_tracks_sung_phrases_within_20_cents_over_all_voiced_frames(phrases):
    """The float64 reference within 20 cents of the truth on at least 95% of the judged
    frames of all twelve phrases together."""
    scores = []
    for seed, p in zip(SEEDS, phrases, strict=True):
        ref = yin.reference(p.audio)
        truth, mask = accuracy.judged_frames(
            p.f0, ref.cfg.hop, ref.cfg.frames, accuracy.yin_half_span(ref.cfg)
        )
        scores.append(accuracy.score(ref.f0[0], truth, mask))
        print(f"seed {seed} {p.voice}: {scores[-1]}")
    within, frames = sum(s.within for s in scores), sum(s.frames for s in scores)
    assert within >= 0.95 * frames, (within, frames)


@pytest.mark.xfail(
    strict=True,
    reason="octave-above errors where the second harmonic sits on F1: with the odd "
    "harmonics under threshold / 2 of the power, d'(T/2) = 2 P_odd / P stays under the "
    "threshold, and YIN's step 4 takes that first dip by design",
)
def test_yin_tracks_every_sung_phrase_within_20_cents(ctx, phrases):
    failing = []
    for seed, p in zip(SEEDS, phrases, strict=True):
        _, by_ref, by_kernel, _ = _scores(p, ctx)
        print(f"seed {seed} {p.voice}: reference {by_ref}; kernel {by_kernel}")
        if min(by_ref.fraction, by_kernel.fraction) < 0.95:
            failing.append((seed, p.voice, by_ref.fraction))
    assert not failing, failing
