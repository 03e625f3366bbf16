"""The audio that loudness is checked on, shared by the ddsp comparison (tests/test_loudness.py)
and the page's JavaScript (tests/browser/test_loudness_page.py): a FluidSynth phrase, a
synthetic sung phrase, silence and a sine at a known level, at ddsp's production setting
(16 kHz, 250 frames/s) and at 50 frames/s, with data preparation's 'same' padding, ddsp's
loss n_fft 2048, 48 kHz, and ddsp's pre-2.0 ref_db and range_db."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

SINE_AMPLITUDE = 0.5
SINE_BIN = 32  # 1 kHz at 16 kHz and n_fft 512: 1000 / 31.25


@dataclass(frozen=True)
class Case:
    source: str  # "fluidsynth", "sung", "silence", "sine"
    sample_rate: int
    frame_rate: int
    n_fft: int = 512
    padding: str = "center"
    options: tuple = ()  # (name, value) pairs: ref_db, range_db

    @property
    def id(self) -> str:
        extra = "".join(f"-{k}{v:g}" for k, v in self.options)
        return (
            f"{self.source}-{self.sample_rate // 1000}k-{self.frame_rate}fps-nfft{self.n_fft}"
            f"-{self.padding}{extra}"
        )

    @property
    def kwargs(self) -> dict:
        return {"n_fft": self.n_fft, "padding": self.padding, **dict(self.options)}


CASES = [
    *(Case(s, 16000, r) for s in ("fluidsynth", "sung", "silence", "sine") for r in (250, 50)),
    Case("sung", 16000, 250, padding="same"),  # data preparation without --center
    Case("fluidsynth", 16000, 250, n_fft=2048),  # ddsp's loudness loss
    Case("sung", 48000, 250),
    Case("sine", 48000, 50, n_fft=1024),  # hop 960: n_fft 512 is below it
    Case("sung", 16000, 250, options=(("ref_db", 20.7), ("range_db", 120.0))),  # ddsp < 2.0
]


def sine(sample_rate: int, n: int, n_fft: int = 512, amplitude=SINE_AMPLITUDE, k=SINE_BIN):
    """``amplitude sin(2 pi k m / n_fft + 0.3)``, float64: a sine on bin k of every frame, its
    argument reduced exactly (k m mod n_fft is an integer) before the sine."""
    m = np.arange(n)
    return amplitude * np.sin(2 * np.pi * ((k * m) % n_fft) / n_fft + 0.3)


@cache
def audio(case: Case) -> np.ndarray:
    """The case's float32 samples (n a multiple of neither hop, to test the last frame)."""
    sr = case.sample_rate
    if case.source == "fluidsynth":
        from ddspgl.instruments import phrases

        x = phrases.phrase(0, "shehnai", seconds=4.0).audio
        if sr != phrases.SAMPLE_RATE:
            raise ValueError(f"fluidsynth phrases are rendered at {phrases.SAMPLE_RATE} Hz")
    elif case.source == "sung":
        from ddspgl.instruments import sung

        x = sung.phrase(2, 3.0, sample_rate=sr).audio
    elif case.source == "silence":
        x = np.zeros(sr + 37)
    else:
        x = sine(sr, 2 * sr + 37, case.n_fft, k=SINE_BIN * 16000 * case.n_fft // (512 * sr))
    return np.ascontiguousarray(x[: x.size - 11], np.float32)


def available() -> list[Case]:
    """The cases this machine can render (FluidSynth's need mido, FluidSynth and the
    soundfont)."""
    from ddspgl.instruments import phrases

    return [c for c in CASES if c.source != "fluidsynth" or phrases.missing() is None]
