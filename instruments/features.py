"""Features to controls: a sung (or played) phrase's pitch and loudness made into what an
instrument's model expects, as the production timbre-transfer app did it.

The model was trained on one instrument's phrases; a singer's register and loudness are
not the instrument's. Per phrase, frames at the model's frame rate (``f0_hz`` and its
``confidence`` from the pitch tracker, ``loudness_db`` from :mod:`loudness`, equal lengths):

1. Voiced frames: ``confidence >= threshold`` and ``f0_hz > 0``. The default threshold,
   0.9, is YIN's voicing rule (a dip deeper than its threshold 0.1: confidence 1 - depth).
2. Register: the mean MIDI pitch ``69 + 12 log2(f0 / 440)`` of the voiced frames is moved
   towards the instrument's ``f0_mean_midi`` by whole octaves, ``octaves = floor((f0_mean_midi
   - mean) / 12 + 1/2)`` (the nearest whole number, halves up); every frame's f0 is
   multiplied by ``2^octaves`` (exact in floating point). Intervals, glides and vibrato are
   kept; only the octave changes.
3. Loudness: the voiced frames' mean m and standard deviation s (population) are mapped
   onto the instrument's: ``L' = loudness_mean_db + (L - m) * loudness_std_db / max(s,
   SPREAD_FLOOR_DB)``. The floor (1 dB) keeps a nearly constant input (a held tone, a
   synthetic test) from having its ripples stretched into swells.
4. Silence: unvoiced frames get ``-range_db`` (ddsp's floor, 80 dB by default), and every
   value is at least ``-range_db``.

With no voiced frame the octave shift is 0 and every frame is silent.

The instrument's statistics are saved with each model as JSON (``stats.json`` beside
``model.json``), all in float, all required::

    {"f0_mean_midi": 67.2, "loudness_mean_db": -11.8, "loudness_std_db": 7.4}

computed at training time by :func:`instrument_stats` over the training phrases' voiced
frames (a note held, from the MIDI): the mean MIDI pitch, and the mean and population
standard deviation of ddsp's loudness with the model's settings (ddsp's own dataset
statistics name them mean_pitch_note, mean_loudness_note and std_loudness_note).
app/features.js is the page's twin of this module.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from .loudness import DB_RANGE

THRESHOLD = 0.9  # voiced: confidence >= 0.9 (YIN's threshold 0.1)
SPREAD_FLOOR_DB = 1.0  # an input loudness spread below 1 dB is not stretched further
MIDI_RANGE = (0.0, 127.0)
STATS_KEYS = ("f0_mean_midi", "loudness_mean_db", "loudness_std_db")


@dataclass(frozen=True)
class Stats:
    """An instrument's pitch and loudness statistics (see the module's docstring)."""

    f0_mean_midi: float
    loudness_mean_db: float
    loudness_std_db: float

    @classmethod
    def from_json(cls, data) -> Stats:
        """From a JSON string or the dict it holds; a ValueError names a bad key."""
        if isinstance(data, (str, bytes)):
            data = json.loads(data)
        if not isinstance(data, dict):
            raise ValueError(f"stats: must be a JSON object with {STATS_KEYS}, got {data!r}")
        missing = [k for k in STATS_KEYS if k not in data]
        if missing:
            raise ValueError(f"stats: missing {', '.join(missing)} (needs {', '.join(STATS_KEYS)})")
        values = {}
        for key in STATS_KEYS:
            v = data[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"stats.{key}: must be a finite number, got {v!r}")
            values[key] = float(v)
        lo, hi = MIDI_RANGE
        if not lo <= values["f0_mean_midi"] <= hi:
            raise ValueError(
                f"stats.f0_mean_midi: must lie in [{lo:g}, {hi:g}], got {data['f0_mean_midi']!r}"
            )
        if values["loudness_std_db"] <= 0:
            raise ValueError(f"stats.loudness_std_db: must be > 0, got {data['loudness_std_db']!r}")
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


@dataclass(frozen=True)
class Controls:
    """The model's inputs: f0 (Hz) and loudness (dB) per frame, float64 [frames]; which
    frames were voiced, and the octaves f0 was moved by."""

    f0_hz: np.ndarray
    loudness_db: np.ndarray
    voiced: np.ndarray
    octaves: int


def midi(f0_hz: np.ndarray) -> np.ndarray:
    """MIDI pitch of positive frequencies: 69 + 12 log2(f0 / 440)."""
    return 69.0 + 12.0 * np.log2(np.asarray(f0_hz, np.float64) / 440.0)


def _frames(value, name: str) -> np.ndarray:
    x = np.asarray(value)
    if x.dtype.kind not in "fiu" or x.dtype == np.bool_:
        raise ValueError(f"{name}: must hold numbers, got dtype {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"{name}: must be 1-D (one value per frame), got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name}: is empty")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(
            f"{name}: every value must be finite, got {float(x[bad[0]])} at frame {bad[0]}"
        )
    return x.astype(np.float64)


def check(f0_hz, confidence, loudness_db, stats, threshold=THRESHOLD, range_db=DB_RANGE):
    """The arguments as float64 arrays and Stats, or a ValueError naming the bad one."""
    f0 = _frames(f0_hz, "f0_hz")
    conf = _frames(confidence, "confidence")
    loud = _frames(loudness_db, "loudness_db")
    if not f0.size == conf.size == loud.size:
        raise ValueError(
            f"f0_hz, confidence, loudness_db: must have one value per frame each, got "
            f"{f0.size}, {conf.size} and {loud.size} frames"
        )
    if (f0 < 0).any():
        i = int(np.argmax(f0 < 0))
        raise ValueError(f"f0_hz: must be >= 0, got {float(f0[i])} at frame {i}")
    if ((conf < 0) | (conf > 1)).any():
        i = int(np.argmax((conf < 0) | (conf > 1)))
        raise ValueError(f"confidence: must lie in [0, 1], got {float(conf[i])} at frame {i}")
    if not isinstance(stats, Stats):
        stats = Stats.from_json(stats)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ValueError(f"threshold: must be a number in (0, 1], got {threshold!r}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold: must be a number in (0, 1], got {threshold!r}")
    if isinstance(range_db, bool) or not isinstance(range_db, (int, float)):
        raise ValueError(f"range_db: must be a finite number > 0, got {range_db!r}")
    if not (math.isfinite(range_db) and range_db > 0):
        raise ValueError(f"range_db: must be a finite number > 0, got {range_db!r}")
    return f0, conf, loud, stats


def octave_shift(f0_hz: np.ndarray, voiced: np.ndarray, f0_mean_midi: float) -> int:
    """Whole octaves that bring the voiced frames' mean MIDI pitch nearest to
    f0_mean_midi (halves up); 0 with no voiced frame."""
    if not voiced.any():
        return 0
    mean = float(np.mean(midi(f0_hz[voiced])))
    return int(math.floor((f0_mean_midi - mean) / 12.0 + 0.5))


def controls(
    f0_hz, confidence, loudness_db, stats, *, threshold=THRESHOLD, range_db=DB_RANGE
) -> Controls:
    """The phrase's controls for an instrument with `stats` (steps 1-4 of the module's
    docstring). `stats`: a Stats, or its JSON (string or dict)."""
    f0, conf, loud, stats = check(f0_hz, confidence, loudness_db, stats, threshold, range_db)
    voiced = (conf >= threshold) & (f0 > 0)
    octaves = octave_shift(f0, voiced, stats.f0_mean_midi)
    out = np.full(loud.shape, -float(range_db))
    if voiced.any():
        v = loud[voiced]
        mean = float(np.mean(v))
        spread = float(np.sqrt(np.mean((v - mean) ** 2)))
        scale = stats.loudness_std_db / max(spread, SPREAD_FLOOR_DB)
        out[voiced] = np.maximum(stats.loudness_mean_db + (v - mean) * scale, -float(range_db))
    return Controls(f0 * 2.0**octaves, out, voiced, octaves)


def loudness_error_bound(loudness_db, voiced, stats: Stats, unit: float = 2.0**-53):
    """Per-frame bound on ``|computed - exact|`` of step 3 (the loudness mapping) for one
    evaluation at unit roundoff `unit` (float64: this module, app/features.js).

    m: a sum of the n voiced values (recursive: within (n - 1) u of the sum of their
    magnitudes; pairwise sums are within less) and a division (u): e_m. s: the sum of n
    squares of (L - m~), each within 3u of its term (the difference, the square), the sum
    (n - 1) u, a division and the square root: within (n + 3) u / 2 + 2u relative, plus
    e_m^2 / (2 s^2) from using m~ (the sum of L - m is 0, so m's error enters squared);
    the ratio std / max(s, 1 dB) one u more (max moves no more than s). Then
    ``L' = mean + (L - m) r`` is within ``r e_m + |L - m| r (2u + rho_r) + u |L'|``; the
    final max with -range_db moves nothing further. Times 1 + 2^-10 for second-order
    terms; 0 on unvoiced frames (a constant)."""
    u = unit
    loud = np.asarray(loudness_db, np.float64)
    mask = np.asarray(voiced, bool)
    v = loud[mask]
    if v.size == 0:
        return np.zeros_like(loud)
    n, m = v.size, float(v.mean())
    s = max(math.sqrt(float(((v - m) ** 2).mean())), SPREAD_FLOOR_DB)
    r = stats.loudness_std_db / s
    e_m = (n - 1) * u * float(np.abs(v).mean()) + u * abs(m)  # the sum's bound / n
    rho_r = (n + 3) * u / 2 + 3 * u + e_m**2 / (2 * s * s)
    out = stats.loudness_mean_db + (loud - m) * r
    bound = r * e_m + np.abs(loud - m) * r * (2 * u + rho_r) + u * np.abs(out)
    return (1 + 2.0**-10) * np.where(mask, bound, 0.0)


def instrument_stats(f0_hz, loudness_db, voiced) -> Stats:
    """An instrument's Stats from its training frames: the voiced frames' mean MIDI pitch
    and their loudness mean and population standard deviation."""
    f0 = _frames(f0_hz, "f0_hz")
    loud = _frames(loudness_db, "loudness_db")
    mask = np.asarray(voiced, bool)
    if not f0.shape == loud.shape == mask.shape:
        raise ValueError(
            f"f0_hz, loudness_db, voiced: must have one value per frame each, got shapes "
            f"{f0.shape}, {loud.shape} and {mask.shape}"
        )
    if not mask.any():
        raise ValueError("voiced: no voiced frame to take statistics from")
    if (f0[mask] <= 0).any():
        raise ValueError("f0_hz: must be > 0 on every voiced frame")
    v = loud[mask]
    return Stats.from_json(
        {
            "f0_mean_midi": float(np.mean(midi(f0[mask]))),
            "loudness_mean_db": float(np.mean(v)),
            "loudness_std_db": float(np.std(v)),
        }
    )
