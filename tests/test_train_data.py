"""The instrument training set (instruments/dataset.py) without TensorFlow: f0 held through
rests, examples cut as ddsp_prepare_tfrecord cuts them, disjoint held-out seeds, and the
statistics page code reads, each against a plain loop over the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from ddspgl.instruments import dataset, train


def _held_loop(f0):
    out, last = [], None
    first = next((v for v in f0 if v > 0), 0.0)
    for v in f0:
        if v > 0:
            last = v
        out.append(v if v > 0 else (last if last is not None else first))
    return np.array(out)


@pytest.mark.parametrize(
    "f0",
    [
        [0, 0, 220, 220, 0, 0, 330, 0],
        [440, 0, 0],
        [0, 0, 0],
        [0, 110.5],
        [261.6],
    ],
    ids=["rests", "tail", "silent", "onset-last", "one"],
)
def test_held_f0_against_a_loop(f0):
    f0 = np.array(f0, np.float64)
    np.testing.assert_array_equal(dataset.held_f0(f0), _held_loop(f0))


def _rendered(frames: int, offset: float) -> dataset.Rendered:
    t = np.arange(frames)
    voiced = (t // 50) % 2 == 0
    return dataset.Rendered(
        audio=(np.arange(frames * dataset.HOP) + offset).astype(np.float32),
        f0_hz=np.where(voiced, 200.0 + t, 0.0) + offset,
        voiced=voiced,
        loudness_db=-40.0 + 0.01 * t + offset,
    )


@pytest.mark.parametrize("example_s,hop_s", [(4.0, 1.0), (1.0, 1.0), (2.0, 2.0), (0.5, 1.0)])
def test_cut_against_slices(example_s, hop_s):
    rendered = [_rendered(2000, 0.0), _rendered(1130, 1e6)]  # 8 s and 4.52 s
    ex = dataset.cut(rendered, example_s, hop_s)
    width, hop = int(example_s * 250), int(hop_s * 250)
    expected = []
    for i, r in enumerate(rendered):
        s = 0
        while s + width <= r.f0_hz.size:
            expected.append((i, s))
            s += hop
    assert len(ex) == len(expected)
    for row, (i, s) in enumerate(expected):
        r = rendered[i]
        assert ex.phrase[row] == i
        np.testing.assert_array_equal(ex.audio[row], r.audio[s * 64 : (s + width) * 64])
        np.testing.assert_array_equal(ex.f0_hz[row], r.f0_hz[s : s + width])
        np.testing.assert_array_equal(ex.loudness_db[row], r.loudness_db[s : s + width])
        np.testing.assert_array_equal(ex.voiced[row], r.voiced[s : s + width])
    feats = ex.features()
    assert {k: v.dtype for k, v in feats.items()} == dict.fromkeys(feats, np.float32)


def test_cut_counts_match_the_option_check():
    for phrase_s, example_s in [(8.0, 4.0), (2.0, 1.0), (4.0, 4.0), (6.5, 1.5)]:
        config = train.Config("shehnai", phrase_seconds=phrase_s, example_seconds=example_s)
        r = _rendered(int(phrase_s * 250), 0.0)
        assert len(dataset.cut([r], example_s, 1.0)) == train.examples_per_phrase(config)


def test_cut_refuses_examples_longer_than_the_phrases():
    with pytest.raises(ValueError, match="no example of 5.0 s"):
        dataset.cut([_rendered(1000, 0.0)], 5.0, 1.0)


def test_held_out_seeds_never_train():
    for seed in (0, 1, 7):
        for n in (1, 48, dataset.MAX_PHRASES):
            training = set(dataset.phrase_seeds(seed, n))
            held = set(dataset.phrase_seeds(seed, n, held_out=True))
            others = set(dataset.phrase_seeds(seed + 1, n)) | set(
                dataset.phrase_seeds(seed + 1, n, held_out=True)
            )
            assert len(training) == len(held) == n
            assert not training & held and not (training | held) & others
    with pytest.raises(ValueError, match="phrases: must lie in"):
        dataset.phrase_seeds(0, dataset.MAX_PHRASES + 1)


def test_statistics_against_numpy():
    rendered = [_rendered(2000, 0.0), _rendered(700, 3.0)]
    stats = dataset.statistics("bansuri", rendered)
    voiced = np.concatenate([r.voiced for r in rendered])
    f0 = np.concatenate([r.f0_hz for r in rendered])[voiced]
    ld = np.concatenate([r.loudness_db for r in rendered])[voiced]
    midi = np.array([69 + 12 * np.log2(float(v) / 440) for v in f0])
    assert stats["frames"] == 2700 and stats["voiced_frames"] == int(voiced.sum())
    assert stats["pitch_midi"]["mean"] == pytest.approx(midi.mean(), rel=1e-13)
    assert stats["pitch_midi"]["std"] == pytest.approx(midi.std(), rel=1e-12)
    assert stats["loudness_db"]["mean"] == pytest.approx(ld.mean(), rel=1e-13)
    assert stats["loudness_db"]["std"] == pytest.approx(ld.std(), rel=1e-12)
    flat = {k: stats[k] for k in ("f0_mean_midi", "loudness_mean_db", "loudness_std_db")}
    assert flat == {
        "f0_mean_midi": stats["pitch_midi"]["mean"],
        "loudness_mean_db": stats["loudness_db"]["mean"],
        "loudness_std_db": stats["loudness_db"]["std"],
    }
    s = np.sort(ld)
    for pct in (0, 1, 37, 50, 99, 100):  # numpy's default: linear between order statistics
        pos = pct / 100 * (s.size - 1)
        lo = int(np.floor(pos))
        want = s[lo] + (pos - lo) * (s[min(lo + 1, s.size - 1)] - s[lo])
        assert stats["loudness_db"]["quantiles"][pct] == pytest.approx(want, abs=1e-12)
    silent = dataset.Rendered(
        np.zeros(640, np.float32), np.zeros(10), np.zeros(10, bool), np.zeros(10)
    )
    with pytest.raises(ValueError, match="no voiced frame"):
        dataset.statistics("bansuri", [silent])


@pytest.mark.parametrize(
    "losses,chosen",
    [
        ({16: 1.2, 32: 1.1, 64: 1.0}, 32),  # 1.1 is within 10 % of 1.0
        ({16: 1.0, 32: 2.0, 64: 0.95}, 16),  # any smaller size within the margin
        ({16: 1.5, 32: 1.2, 64: 1.0}, 64),  # none: the largest itself
        ({8: 0.9, 128: 1.0}, 8),  # better than the largest
    ],
    ids=["boundary", "non-monotone", "largest", "smaller-better"],
)
def test_sweep_keeps_the_smallest_within_the_margin(losses, chosen):
    assert train._within(losses, train.SWEEP_MARGIN) == chosen
    brute = min(c for c in losses if losses[c] <= 1.1 * losses[max(losses)])
    assert brute == chosen
