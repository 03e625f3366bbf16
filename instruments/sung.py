"""Synthetic sung phrases whose f0 is known at every sample.

A source-filter voice: a Rosenberg glottal pulse train (Rosenberg 1971, his shape C:
a raised-cosine opening over ``OPEN`` of the cycle, a quarter-cosine closing over
``CLOSE``, closed for the rest), differentiated for the lips' radiation, through five
formant resonators per vowel (Peterson and Barney's F1-F3 of an average male voice
scaled to the voice type, F4 and F5 fixed, Klatt's two-pole resonators), with
aspiration noise, vibrato, glides between notes, loudness swells and silences. The
pulse is a function of the phase, the running sum of f0, so the f0 of every sample is
the one the phase was built from. The source is rendered at ``OVERSAMPLE`` times the
rate and decimated (a polyphase low-pass), so the pulses' harmonics above Nyquist do
not fold back as inharmonic partials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OVERSAMPLE = 4
TILT_HZ = 1000.0
OPEN, CLOSE = 0.40, 0.16  # fractions of the cycle: Rosenberg's opening and closing phases
# Voice types: (lowest, highest) MIDI note and the formant scale (shorter vocal tracts).
VOICES = {
    "bass": (40, 62, 0.95),
    "tenor": (48, 69, 1.0),
    "alto": (53, 74, 1.12),
    "soprano": (60, 81, 1.2),
}
# Vowel formants (Hz) and bandwidths (Hz): F1, F2, F3 (Peterson and Barney 1952, men).
VOWELS = {
    "a": ((730, 1090, 2440), (90, 110, 160)),
    "e": ((530, 1840, 2480), (70, 100, 150)),
    "i": ((270, 2290, 3010), (60, 90, 150)),
    "o": ((570, 840, 2410), (80, 90, 150)),
    "u": ((300, 870, 2240), (60, 80, 150)),
}
HIGH_FORMANTS = ((3500, 250), (4500, 300))  # F4, F5 (Hz, bandwidth)


@dataclass(frozen=True)
class Phrase:
    """Audio and its truth: ``f0`` in Hz per sample, 0 where the voice is silent."""

    audio: np.ndarray  # float32 [n]
    f0: np.ndarray  # float64 [n]
    sample_rate: int
    voice: str


def rosenberg(phase: np.ndarray) -> np.ndarray:
    """Glottal flow of one cycle, phase in [0, 1): 0 ... 1 ... 0, then closed."""
    p = np.mod(phase, 1.0)
    opening = 0.5 * (1.0 - np.cos(np.pi * p / OPEN))
    closing = np.cos(0.5 * np.pi * (p - OPEN) / CLOSE)
    return np.where(p < OPEN, opening, np.where(p < OPEN + CLOSE, closing, 0.0))


def _resonator(freq: float, bandwidth: float, sample_rate: int):
    """Klatt's two-pole resonator as (b, a), unit gain at 0 Hz."""
    r = np.exp(-np.pi * bandwidth / sample_rate)
    c, b = -(r**2), 2 * r * np.cos(2 * np.pi * freq / sample_rate)
    return np.array([1.0 - b - c]), np.array([1.0, -b, -c])


def vowel_filter(x: np.ndarray, vowel: str, scale: float, sample_rate: int) -> np.ndarray:
    """The cascade of the vowel's five resonators, all scaled by the voice type's `scale`
    (formants above 0.45 sample_rate left out)."""
    from scipy.signal import lfilter

    freqs, bws = VOWELS[vowel]
    y = x
    for f, bw in list(zip(freqs, bws, strict=True)) + list(HIGH_FORMANTS):
        f = f * scale  # a shorter vocal tract raises every formant alike
        if f < 0.45 * sample_rate:
            b, a = _resonator(f, bw, sample_rate)
            y = lfilter(b, a, y)
    return y


def _smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3 - 2 * u)


def _plan(rng, seconds: float, voice: str):
    """Notes as (start, end, midi, vowel, glide seconds into it), silences between groups."""
    lo, hi, _ = VOICES[voice]
    notes, t = [], float(rng.uniform(0.1, 0.3))
    pitch = float(rng.integers(lo + 3, hi - 3))
    while t < seconds - 0.4:
        group = int(rng.integers(2, 6))
        for _ in range(group):
            length = float(rng.uniform(0.25, 0.9))
            end = min(t + length, seconds - 0.1)
            if end - t < 0.2:
                break
            step = int(rng.choice([-7, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 7, 12, -12]))
            pitch = float(np.clip(pitch + step, lo, hi))
            glide = float(rng.uniform(0.05, 0.12) + 0.01 * abs(step))  # wider: slower
            notes.append((t, end, pitch, str(rng.choice(list(VOWELS))), glide))
            t = end
        t += float(rng.uniform(0.15, 0.45))  # a breath
    return notes


def phrase(seed: int, seconds: float = 4.0, sample_rate: int = 16000, voice: str | None = None):
    """A seeded sung phrase: notes glide into each other within groups, groups are
    separated by silences; vibrato (4.5-6.5 Hz, 20-70 cents) fades in after each onset.

    Returns a :class:`Phrase`; the same seed gives the same samples.
    """
    if seconds <= 0.5:
        raise ValueError(f"seconds: must be > 0.5, got {seconds!r}")
    rng = np.random.default_rng(seed)
    voice = voice or str(rng.choice(list(VOICES)))
    if voice not in VOICES:
        raise ValueError(f"voice: one of {sorted(VOICES)}, got {voice!r}")
    hi_rate = sample_rate * OVERSAMPLE
    n_hi = int(round(seconds * sample_rate)) * OVERSAMPLE
    t = np.arange(n_hi) / hi_rate
    midi = np.zeros(n_hi)
    amp = np.zeros(n_hi)
    vowel_w = {v: np.zeros(n_hi) for v in VOWELS}
    notes = _plan(rng, seconds, voice)
    prev_end, prev_pitch = -1.0, None
    for start, end, pitch, vowel, glide in notes:
        span = (t >= start) & (t < end)
        tt = t[span] - start
        joined = prev_pitch is not None and abs(prev_end - start) < 1e-9
        base = np.full(tt.shape, pitch)
        if joined:  # glide from the previous note, smooth in log frequency
            base = prev_pitch + (pitch - prev_pitch) * _smoothstep(tt / glide)
        rate, depth = rng.uniform(4.5, 6.5), rng.uniform(0.2, 0.7)  # Hz, semitones
        # Vibrato fades in after the onset and out before the end: glides stay continuous.
        onset = _smoothstep((tt - 0.15) / 0.3) * _smoothstep((end - start - tt) / 0.1)
        midi[span] = base + depth * onset * np.sin(2 * np.pi * rate * tt + rng.uniform(0, 6.3))
        level = rng.uniform(0.3, 1.0) * (1 + 0.3 * np.sin(np.pi * tt / (end - start)))
        amp[span] = level
        vowel_w[vowel][span] = 1.0
        prev_end, prev_pitch = end, pitch
    # Attack and release at the silences: 40 ms raised-cosine ramps of the amplitude.
    voiced = amp > 0
    edges = np.flatnonzero(np.diff(voiced.astype(np.int8)))
    ramp = int(0.04 * hi_rate)
    for e in edges:
        if voiced[e + 1]:  # onset at e + 1
            seg = slice(e + 1, min(e + 1 + ramp, n_hi))
            amp[seg] *= _smoothstep(np.arange(seg.stop - seg.start) / ramp)
        else:  # offset after e
            seg = slice(max(e + 1 - ramp, 0), e + 1)
            amp[seg] *= _smoothstep(np.arange(seg.stop - seg.start)[::-1] / ramp)
    f0_hi = np.where(voiced, 440.0 * 2.0 ** ((midi - 69.0) / 12.0), 0.0)
    phase = np.cumsum(f0_hi) / hi_rate
    flow = rosenberg(phase) * voiced
    source = np.diff(flow, prepend=0.0) * amp * hi_rate / np.maximum(f0_hi, 1.0) / 8
    # Aspiration: noise gated by the open phase, 30 dB under the pulses.
    noise = rng.standard_normal(n_hi) * (np.mod(phase, 1.0) < OPEN + CLOSE) * amp * voiced
    source = source + 0.03 * noise * np.abs(source).max()
    from scipy.signal import resample_poly

    low = resample_poly(source, 1, OVERSAMPLE)
    # Spectral tilt (Klatt's TL): a one-pole low-pass at TILT_HZ, the steeper fall of a
    # real glottal source above the first few harmonics.
    from scipy.signal import lfilter

    pole = np.exp(-2 * np.pi * TILT_HZ / sample_rate)
    low = lfilter([1 - pole], [1, -pole], low)
    weights = {v: resample_poly(w, 1, OVERSAMPLE) for v, w in vowel_w.items()}
    # Vowels crossfade over 30 ms (a moving average of the vowel indicators).
    kernel = np.hanning(int(0.03 * sample_rate) + 2)[1:-1]
    kernel /= kernel.sum()
    scale = VOICES[voice][2]
    out = np.zeros_like(low)
    for v, w in weights.items():
        if w.any():
            out += np.convolve(np.clip(w, 0, 1), kernel, mode="same") * vowel_filter(
                low, v, scale, sample_rate
            )
    out *= rng.uniform(0.3, 0.9) / max(np.abs(out).max(), 1e-12)
    return Phrase(
        audio=out.astype(np.float32),
        f0=f0_hi[::OVERSAMPLE].copy(),
        sample_rate=sample_rate,
        voice=voice,
    )
