"""The graphs `ddspgl memory` profiles, and the DDSP controls they synthesize.

Production-shaped controls (16 kHz, 250 frames per second, 100 harmonics, batch 1), as a
DDSP decoder emits them; the browser's memory run (``ddspgl memory --backend browser``)
feeds the same controls to TF.js. Each builder returns ``(graph, audio)``: the
:class:`~ddspgl.harness.pipeline.Graph` of one synthesizer call and its output value, for
the planner and the disposal policies to run.
"""

from __future__ import annotations

import numpy as np

from ..harness import pipeline
from . import harmonic, harmonic_opchain

SAMPLE_RATE = 16000
FRAME_RATE = 250
HOP = SAMPLE_RATE // FRAME_RATE
HARMONICS = 100


def controls(n_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f0 [1, frames] Hz (a 220 Hz note with 5.5 Hz vibrato), amplitude [1, frames] and a
    random harmonic distribution [1, frames, HARMONICS], frames = n_samples / HOP; float32."""
    if n_samples % HOP or n_samples < 2 * HOP:
        raise ValueError(f"n_samples must be a multiple of {HOP} >= {2 * HOP}, got {n_samples}")
    frames = n_samples // HOP
    t = np.arange(frames) / FRAME_RATE
    f0 = 220.0 * 2.0 ** (np.sin(2 * np.pi * 5.5 * t) / 12)
    amp = 0.5 + 0.3 * np.sin(2 * np.pi * 0.5 * t)
    dist = np.random.default_rng(seed).uniform(0.0, 1.0, (1, frames, HARMONICS))
    return f0[None].astype(np.float32), amp[None].astype(np.float32), dist.astype(np.float32)


def _checked(n_samples: int):
    return harmonic.check(
        *controls(n_samples), sample_rate=SAMPLE_RATE, n_samples=n_samples, add_endpoint=True
    )


def harmonic_graph(n_samples: int, storage: str) -> tuple[pipeline.Graph, str]:
    """ddspgl's synthesizer (kernels/harmonic.py): frame controls -> frame phase
    increments -> their scan -> frame gains -> one audio-rate pass that upsamples inside
    it. Nothing of size [K, n_samples] exists."""
    f0, amp, dist, sr32, _, shape = _checked(n_samples)
    modulus = harmonic.phase_modulus(sr32, shape.hop)
    g, audio, *_ = harmonic.graph(
        f0, amp, dist, sr32, None, shape, modulus, normalize=True, storage=storage
    )
    return g, audio


def opchain_graph(n_samples: int, storage: str) -> tuple[pipeline.Graph, str]:
    """The same synthesis as a converted DDSP graph runs it on TF.js
    (kernels/harmonic_opchain.py): frame gains -> upsampled frequencies and amplitudes,
    [K, n_samples] each -> TF.js's Hillis-Steele cumsum over them -> sin * amplitude ->
    sum over harmonics."""
    f0, amp, dist, sr32, _, shape = _checked(n_samples)
    return harmonic_opchain.graph(f0, amp, dist, sr32, shape, normalize=True, storage=storage)
