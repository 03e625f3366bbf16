"""Soundfont phrases: seeded monophonic MIDI phrases rendered by FluidSynth, f0 known.

Three General MIDI programs stand in for the Indian instruments: 111 Shanai (the
shehnai), 73 Flute (the bansuri) and 110 Fiddle (the sarangi), each played across its
range. A phrase is groups of notes separated by rests; a group is a scale run, a run of
leaps, a glide (one note bent to the next by the pitch wheel) or a held note with
vibrato (the pitch wheel too), every note with its own velocity under an expression
(CC11) swell. The truth comes from the MIDI alone: f0 is ``440 * 2^((note + bend - 69)
/ 12)`` with ``bend = wheel / 8192 * BEND_RANGE`` semitones (the range set explicitly by
RPN 0: FluidSynth's default is 2 semitones), voiced while a note is held.

Timing: every event lies on a grid of ``BLOCK`` = 64 samples (4 ms at 16 kHz, the
frames of DDSP's 250 frames/s), FluidSynth's own block: it applies an event at the
start of the block after the event's time, so the rendering is trimmed by one block and
its sample n is MIDI time n (tests/test_phrases.py checks an onset). Reverb and chorus
are off: the audio is the instrument alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
BLOCK = 64  # samples: FluidSynth's block and the grid of every event
TICK_SAMPLES = 16  # 1 ms ticks at 16 kHz: 500 ticks per beat at 120 beats per minute
BEND_RANGE = 12  # semitones of the pitch wheel's full deflection (RPN 0)
GAIN = 2.0  # FluidSynth -g: peaks of about 0.2-0.6 at full velocity and expression
# name: (GM program, 0-based; lowest and highest MIDI note played)
INSTRUMENTS = {
    "shehnai": (111, 60, 84),  # Shanai, C4-C6
    "bansuri": (73, 60, 93),  # Flute, C4-A6
    "sarangi": (110, 55, 86),  # Fiddle, G3-D6
}
SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
)
MODES = {  # scale steps in semitones within an octave
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "bhairav": (0, 1, 4, 5, 7, 8, 11),
    "yaman": (0, 2, 4, 6, 7, 9, 11),
}


@dataclass(frozen=True)
class Phrase:
    """A rendering and its truth: ``f0`` Hz per sample, 0 where no note is held."""

    audio: np.ndarray  # float32 [n], mono
    f0: np.ndarray  # float64 [n]
    sample_rate: int
    instrument: str
    midi: bytes  # the standard MIDI file rendered

    def frames(self, hop: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
        """(f0 Hz, voiced) of frame i at sample i * hop, n // hop frames (DDSP's framing:
        250 frames/s at 16 kHz for the default hop)."""
        f0 = self.f0[: (self.f0.size // hop) * hop : hop]
        return f0.copy(), f0 > 0


def soundfont() -> Path:
    """The FluidR3 General MIDI soundfont: $DDSPGL_SOUNDFONT or Debian's path."""
    env = os.environ.get("DDSPGL_SOUNDFONT")
    for candidate in ([env] if env else []) + list(SOUNDFONTS):
        if Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(
        "soundfont: FluidR3_GM.sf2 not found (install Debian's fluid-soundfont-gm or set "
        "DDSPGL_SOUNDFONT to its path)"
    )


def fluidsynth() -> str:
    """The fluidsynth executable, or a FileNotFoundError saying what to install."""
    path = shutil.which("fluidsynth")
    if path is None:
        raise FileNotFoundError("fluidsynth: not on PATH (install Debian's fluidsynth)")
    return path


def missing() -> str | None:
    """Why phrases cannot be rendered here (mido, FluidSynth or the soundfont), or None."""
    import importlib.util

    if importlib.util.find_spec("mido") is None:
        return 'mido is not installed: pip install -e ".[instruments]"'
    try:
        fluidsynth()
        soundfont()
    except FileNotFoundError as exc:
        return str(exc)
    return None


# -- the plan ----------------------------------------------------------------------------------


@dataclass
class _Score:
    """Events on the block grid, times in blocks: (block, kind, a, b)."""

    events: list

    def add(self, block: int, kind: str, a: int, b: int = 0) -> None:
        self.events.append((block, len(self.events), kind, a, b))


def _smoothstep(u):
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3 - 2 * u)


def _wheel(semitones: float) -> int:
    return int(np.clip(round(semitones / BEND_RANGE * 8192), -8192, 8191))


def _scale_notes(rng, lo: int, hi: int) -> np.ndarray:
    tonic = int(rng.integers(0, 12))
    steps = MODES[str(rng.choice(list(MODES)))]
    notes = [n for n in range(lo, hi + 1) if (n - tonic) % 12 in steps]
    return np.array(notes)


def _group(rng, score: _Score, t: int, end: int, lo: int, hi: int, scale: np.ndarray) -> int:
    """One group from block t; returns the block where it ends (its last note off)."""
    per_second = SAMPLE_RATE / BLOCK
    kind = str(rng.choice(["scale", "leaps", "glide", "vibrato"]))
    # Expression: a swell over the group (CC11 every other block), velocity per note.
    start_expr, end_expr = (int(v) for v in rng.integers(50, 128, 2))
    notes: list[tuple[int, int, int]] = []  # (on, off, note)
    bends: list[tuple[int, float]] = []  # (block, semitones)
    if kind in ("scale", "leaps"):
        count = int(rng.integers(3, 7))
        i = int(rng.integers(0, scale.size))
        for _ in range(count):
            if kind == "scale":
                i += int(rng.choice([-1, 1]))
            else:
                i += int(rng.choice([-5, -4, -3, 3, 4, 5, 7, -7]))
            i = int(np.clip(i, 0, scale.size - 1))
            length = int(rng.uniform(0.18, 0.5) * per_second)
            gap = int(rng.choice([0, 0, int(rng.integers(3, 12))]))
            if t + length > end:
                break
            notes.append((t, t + length, int(scale[i])))
            t += length + gap
    else:
        note = int(rng.integers(lo + 2, hi - 1))
        length = int(rng.uniform(0.8, 1.6) * per_second)
        length = min(length, end - t)
        if length < int(0.4 * per_second):
            return t
        notes.append((t, t + length, note))
        if kind == "glide":  # hold, glide (smoothstep in semitones), hold, maybe back
            target = float(np.clip(note + rng.choice([-7, -5, -3, -2, 2, 3, 5, 7]), lo, hi))
            span = target - note
            g0 = t + int(rng.uniform(0.15, 0.3) * per_second)
            g1 = g0 + int(rng.uniform(0.15, 0.4) * per_second)
            back = rng.random() < 0.5
            for b in range(t, t + length):
                u = _smoothstep((b - g0) / (g1 - g0))
                if back:
                    u -= _smoothstep((b - g1 - 0.2 * per_second) / (g1 - g0))
                bends.append((b, span * u))
        else:  # vibrato fading in after the onset
            rate, depth = rng.uniform(4.5, 7.0), rng.uniform(0.15, 0.6)  # Hz, semitones
            phase = rng.uniform(0, 2 * np.pi)
            for b in range(t, t + length):
                s = (b - t) / per_second
                fade = _smoothstep((s - 0.15) / 0.3)
                bends.append((b, depth * fade * np.sin(2 * np.pi * rate * s + phase)))
        t += length
    if not notes:
        return t
    first, last = notes[0][0], notes[-1][1]
    for b in range(first, last, 2):
        u = (b - first) / max(last - first, 1)
        score.add(b, "expression", int(round(start_expr + (end_expr - start_expr) * u)))
    previous = None
    for b, semis in bends:
        w = _wheel(semis)
        if w != previous:
            score.add(b, "wheel", w)
            previous = w
    for on, off, note in notes:
        score.add(on, "on", note, int(rng.integers(40, 128)))
        score.add(off, "off", note)
    score.add(last, "wheel", 0)
    return t


def plan(seed: int, instrument: str, seconds: float) -> _Score:
    """The seeded phrase as events on the block grid."""
    program, lo, hi = INSTRUMENTS[instrument]
    return _plan(np.random.default_rng([seed, program]), lo, hi, seconds)


def common_range() -> tuple[int, int]:
    """The MIDI notes every instrument of :data:`INSTRUMENTS` plays: (lowest, highest)."""
    return max(v[1] for v in INSTRUMENTS.values()), min(v[2] for v in INSTRUMENTS.values())


def _plan(rng, lo: int, hi: int, seconds: float) -> _Score:
    per_second = SAMPLE_RATE / BLOCK
    end = int(seconds * per_second) - int(0.1 * per_second)
    scale = _scale_notes(rng, lo, hi)
    score = _Score([])
    t = int(rng.uniform(0.1, 0.3) * per_second)
    while t < end - int(0.4 * per_second):
        t = _group(rng, score, t, end, lo, hi, scale)
        t += int(rng.uniform(0.15, 0.45) * per_second)  # a rest
    return score


# -- MIDI and its truth ------------------------------------------------------------------------


def midi_file(score: _Score, program: int):
    """A mido MidiFile: 1 ms ticks, the program, the pitch-bend range by RPN 0, events."""
    import mido

    mid = mido.MidiFile(ticks_per_beat=500)  # 500 ticks per 0.5 s beat: 1 ms
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    track.append(mido.Message("program_change", program=program, time=0))
    # RPN 0 (pitch-bend sensitivity) = BEND_RANGE semitones, 0 cents; then RPN null.
    for control, value in ((101, 0), (100, 0), (6, BEND_RANGE), (38, 0), (101, 127), (100, 127)):
        track.append(mido.Message("control_change", control=control, value=value, time=0))
    ticks_per_block = BLOCK // TICK_SAMPLES
    now = 0
    for block, _, kind, a, b in sorted(score.events):
        tick = block * ticks_per_block
        dt, now = tick - now, tick
        if kind == "on":
            msg = mido.Message("note_on", note=a, velocity=b, time=dt)
        elif kind == "off":
            msg = mido.Message("note_off", note=a, velocity=0, time=dt)
        elif kind == "wheel":
            msg = mido.Message("pitchwheel", pitch=a, time=dt)
        else:
            msg = mido.Message("control_change", control=11, value=a, time=dt)
        track.append(msg)
    return mid


def truth(score: _Score, n: int) -> np.ndarray:
    """f0 Hz per sample from the events alone: the held note and the wheel's bend."""
    f0 = np.zeros(n)
    note, wheel, since = None, 0, 0

    def fill(until):
        if note is not None and since < n:
            semis = note + wheel / 8192 * BEND_RANGE
            f0[since : min(until, n)] = 440.0 * 2.0 ** ((semis - 69) / 12)

    for block, _, kind, a, _b in sorted(score.events):
        s = block * BLOCK
        if kind in ("on", "off", "wheel"):
            fill(s)
            since = s
            if kind == "on":
                note = a
            elif kind == "off" and a == note:
                note = None
            elif kind == "wheel":
                wheel = a
    fill(n)
    return f0


def render(midi_bytes: bytes, n: int) -> np.ndarray:
    """FluidSynth's mono rendering at SAMPLE_RATE, trimmed to MIDI time, n samples."""
    from scipy.io import wavfile

    exe, font = fluidsynth(), soundfont()
    with tempfile.TemporaryDirectory(prefix="ddspgl-phrase-") as tmp:
        mid, wav = Path(tmp, "phrase.mid"), Path(tmp, "phrase.wav")
        mid.write_bytes(midi_bytes)
        command = [exe, "-ni", "-q", "-g", str(GAIN), "-r", str(SAMPLE_RATE), "-R", "0"]
        command += ["-C", "0", "-O", "float", "-T", "wav", "-F", str(wav), str(font), str(mid)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not wav.is_file():
            raise RuntimeError(f"fluidsynth failed ({done.returncode}): {done.stderr.strip()}")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)  # its LIST chunk
            rate, data = wavfile.read(wav)
    if rate != SAMPLE_RATE:
        raise RuntimeError(f"fluidsynth rendered at {rate} Hz, not {SAMPLE_RATE}")
    mono = np.asarray(data, np.float64).reshape(len(data), -1).mean(axis=1)[BLOCK:]
    out = np.zeros(n, np.float32)
    out[: min(n, mono.size)] = mono[:n]
    return out


def phrase(seed: int, instrument: str, seconds: float = 6.0) -> Phrase:
    """A seeded phrase of `instrument` (one of :data:`INSTRUMENTS`), `seconds` long at
    16 kHz; the same seed gives the same MIDI and the same samples."""
    if instrument not in INSTRUMENTS:
        raise ValueError(f"instrument: one of {sorted(INSTRUMENTS)}, got {instrument!r}")
    if not 1.0 <= seconds <= 600.0:
        raise ValueError(f"seconds: must lie in [1, 600], got {seconds!r}")
    import io

    score = plan(seed, instrument, seconds)
    buffer = io.BytesIO()
    midi_file(score, INSTRUMENTS[instrument][0]).save(file=buffer)
    n = int(round(seconds * SAMPLE_RATE))
    midi = buffer.getvalue()
    return Phrase(
        audio=render(midi, n),
        f0=truth(score, n),
        sample_rate=SAMPLE_RATE,
        instrument=instrument,
        midi=midi,
    )


SHARED_KEY = 128  # seeds the shared phrases' plans: no GM program (0-127), so no
# instrument's own phrase (seeded by its program) is ever a shared one


def phrase_set(seed: int, seconds: float = 6.0) -> dict[str, Phrase]:
    """One seeded score, planned over :func:`common_range` (bends included: the glides'
    targets are clipped to it), rendered by each instrument's program: name -> Phrase, the
    same MIDI events and the same f0 for all, only the program differs."""
    if not 1.0 <= seconds <= 600.0:
        raise ValueError(f"seconds: must lie in [1, 600], got {seconds!r}")
    import io

    lo, hi = common_range()
    score = _plan(np.random.default_rng([seed, SHARED_KEY]), lo, hi, seconds)
    n = int(round(seconds * SAMPLE_RATE))
    f0 = truth(score, n)
    out = {}
    for name, (program, _, _) in INSTRUMENTS.items():
        buffer = io.BytesIO()
        midi_file(score, program).save(file=buffer)
        midi = buffer.getvalue()
        out[name] = Phrase(render(midi, n), f0.copy(), SAMPLE_RATE, name, midi)
    return out
