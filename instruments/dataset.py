"""Training data for an instrument model: soundfont phrases cut into DDSP's examples.

A data set is seeded phrases (:mod:`.phrases`) of one instrument, each cut into examples
of ``example_seconds`` (DDSP's default 4 s) every ``EXAMPLE_HOP_SECONDS`` (1 s, as
``ddsp_prepare_tfrecord`` does), with, per frame at 250 frames/s:

- ``f0_hz``: exact from the MIDI at the frame's sample (frame i at sample ``64 i``), held
  through rests at the last note's pitch (the first note's before it), since a note's
  release still rings at that pitch; ``voiced`` says where a note is held;
- ``loudness_db``: computed by the caller's function (ddsp's
  ``spectral_ops.compute_loudness`` in the training process: A-weighted power of a
  512-sample window in dB, ``padding='center'`` so that frame i is centred on sample
  ``64 i``, where its f0 is read), over the whole phrase before it is cut.

Held-out phrases come from seeds the training phrases never use (:func:`phrase_seeds`),
are cut every ``example_seconds`` (no overlap) and never enter training or statistics.

:func:`statistics` gives what the page maps a performance onto (stats.json):

    {"format": "ddspgl-instrument-stats/1", "instrument": "shehnai",
     "f0_mean_midi": 72.1, "loudness_mean_db": -1.3, "loudness_std_db": 6.2,
     "sample_rate": 16000, "frame_rate": 250, "frames": N, "voiced_frames": M,
     "pitch_midi": {"mean", "std", "min", "max"},            # voiced frames, MIDI numbers
     "loudness_db": {"mean", "std", "min", "max",            # voiced frames, dB
                     "quantiles": [101 values, 0 % to 100 % in steps of 1 %]},
     "loudness": "<how it was computed>"}

MIDI number ``69 + 12 log2(f0 / 440)`` (fractional: bends and vibrato count); the
training phrases' frames only, each phrase's frames once (not once per overlapping
example); standard deviations are the population's. The three flat keys are what the
page's feature mapping reads (:mod:`.features`: ``Stats.from_json``; ddsp's dataset
statistics call them mean_pitch_note, mean_loudness_note and std_loudness_note); the
rest describes the data further (the quantiles allow a quantile mapping, as ddsp's
colab offers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import phrases

FRAME_RATE = 250
HOP = phrases.SAMPLE_RATE // FRAME_RATE  # 64 samples
EXAMPLE_HOP_SECONDS = 1.0  # ddsp_prepare_tfrecord's --hop_secs
SEED_STRIDE = 100_000  # phrase seeds of one --seed: [seed * stride, (seed + 1) * stride)
HELD_OUT_OFFSET = 50_000  # held-out seeds start here within the block
MAX_PHRASES = HELD_OUT_OFFSET  # per set: training and held-out seeds never meet
LOUDNESS = (
    "ddsp.spectral_ops.compute_loudness(audio, sample_rate=16000, frame_rate=250, "
    "n_fft=512, padding='center') of the whole phrase; frame i centred on sample 64 i"
)
STATS_FORMAT = "ddspgl-instrument-stats/1"


@dataclass(frozen=True)
class Examples:
    """Examples of one set, stacked: audio [n, samples], f0_hz, loudness_db and voiced
    [n, frames]; `phrase` [n] is the index of the phrase each came from."""

    audio: np.ndarray
    f0_hz: np.ndarray
    loudness_db: np.ndarray
    voiced: np.ndarray
    phrase: np.ndarray

    def __len__(self) -> int:
        return int(self.audio.shape[0])

    def features(self) -> dict[str, np.ndarray]:
        """What ddsp's Autoencoder reads: audio, f0_hz and loudness_db, float32."""
        return {
            "audio": self.audio.astype(np.float32),
            "f0_hz": self.f0_hz.astype(np.float32),
            "loudness_db": self.loudness_db.astype(np.float32),
        }


@dataclass(frozen=True)
class Rendered:
    """One phrase at frame rate: audio [n], f0_hz, voiced and loudness_db [n // HOP]."""

    audio: np.ndarray
    f0_hz: np.ndarray
    voiced: np.ndarray
    loudness_db: np.ndarray


def phrase_seeds(seed: int, count: int, *, held_out: bool = False) -> list[int]:
    """Seeds of the `count` training (or held-out) phrases of `seed`: disjoint blocks, so
    no held-out phrase is ever a training phrase, whatever the counts."""
    if not 0 <= count <= MAX_PHRASES:
        raise ValueError(f"phrases: must lie in [0, {MAX_PHRASES}], got {count}")
    start = seed * SEED_STRIDE + (HELD_OUT_OFFSET if held_out else 0)
    return list(range(start, start + count))


def held_f0(f0: np.ndarray) -> np.ndarray:
    """`f0` with every unvoiced (0) value replaced by the last voiced one before it, or
    the first voiced one where none precedes; all zeros stay zeros."""
    f0 = np.asarray(f0, np.float64)
    voiced = f0 > 0
    if not voiced.any():
        return f0.copy()
    index = np.where(voiced, np.arange(f0.size), -1)
    index = np.maximum.accumulate(index)
    index[index < 0] = np.flatnonzero(voiced)[0]
    return f0[index]


def render(
    seed: int, instrument: str, seconds: float, loudness: Callable[[np.ndarray], np.ndarray]
) -> Rendered:
    """The phrase of `seed` at frame rate; `loudness(audio)` returns at least
    ``n // HOP`` frames (ddsp's centre padding gives one more, dropped here)."""
    p = phrases.phrase(seed, instrument, seconds)
    f0, voiced = p.frames(HOP)
    frames = f0.size
    ld = np.asarray(loudness(p.audio), np.float64).reshape(-1)
    if ld.size < frames:
        raise ValueError(f"loudness: {ld.size} frames for {frames} frames of audio")
    return Rendered(p.audio[: frames * HOP], held_f0(f0), voiced, ld[:frames])


def cut(rendered: list[Rendered], example_seconds: float, hop_seconds: float) -> Examples:
    """Every phrase cut into examples of `example_seconds` every `hop_seconds` (the last
    window inside the phrase; the rest dropped, as ddsp_prepare_tfrecord does)."""
    frames = int(round(example_seconds * FRAME_RATE))
    hop = int(round(hop_seconds * FRAME_RATE))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("audio", "f0", "ld", "v", "i")}
    for i, r in enumerate(rendered):
        for start in range(0, r.f0_hz.size - frames + 1, hop):
            sl = slice(start, start + frames)
            parts["audio"].append(r.audio[start * HOP : (start + frames) * HOP])
            parts["f0"].append(r.f0_hz[sl])
            parts["ld"].append(r.loudness_db[sl])
            parts["v"].append(r.voiced[sl])
            parts["i"].append(np.array(i))
    if not parts["audio"]:
        raise ValueError(f"no example of {example_seconds} s fits in the phrases")
    return Examples(
        audio=np.stack(parts["audio"]).astype(np.float32),
        f0_hz=np.stack(parts["f0"]),
        loudness_db=np.stack(parts["ld"]),
        voiced=np.stack(parts["v"]),
        phrase=np.stack(parts["i"]),
    )


def _summary(x: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(np.mean(x)),
        "std": float(np.std(x)),
        "min": float(np.min(x)),
        "max": float(np.max(x)),
    }


def statistics(instrument: str, rendered: list[Rendered]) -> dict:
    """The instrument's pitch and loudness statistics over the voiced frames of
    `rendered` (the training phrases, each frame once): the shape in the module doc."""
    voiced = np.concatenate([r.voiced for r in rendered])
    if not voiced.any():
        raise ValueError("statistics: no voiced frame in the phrases")
    f0 = np.concatenate([r.f0_hz for r in rendered])[voiced]
    ld = np.concatenate([r.loudness_db for r in rendered])[voiced]
    loudness = _summary(ld)
    loudness["quantiles"] = [float(q) for q in np.percentile(ld, np.arange(101))]
    pitch = _summary(69.0 + 12.0 * np.log2(f0 / 440.0))
    return {
        "format": STATS_FORMAT,
        "instrument": instrument,
        "f0_mean_midi": pitch["mean"],
        "loudness_mean_db": loudness["mean"],
        "loudness_std_db": loudness["std"],
        "sample_rate": phrases.SAMPLE_RATE,
        "frame_rate": FRAME_RATE,
        "frames": int(voiced.size),
        "voiced_frames": int(voiced.sum()),
        "pitch_midi": pitch,
        "loudness_db": loudness,
        "loudness": LOUDNESS,
    }
