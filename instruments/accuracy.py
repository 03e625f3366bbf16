"""Tracked f0 against the known f0 of a phrase: the frames judged, and how many are right.

A frame of a tracker such as YIN (kernels/yin.py) describes the samples its window and
lags span around the frame's time. It is judged only where the truth is one voiced
pitch over that whole span: every sample voiced and no note change (a step of more than
``JUMP_CENTS`` between neighbouring samples; glides and vibrato move far less per
sample). Elsewhere the window sees silence or two notes, and no single f0 is right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOLERANCE_CENTS = 20.0
GROSS_CENTS = 50.0
JUMP_CENTS = 50.0


@dataclass(frozen=True)
class Score:
    frames: int  # frames judged
    voiced_frames: int  # frames whose own sample is voiced (judged or not)
    within: int  # judged frames within TOLERANCE_CENTS
    gross: int  # judged frames off by more than GROSS_CENTS
    max_cents: float  # largest |error| over judged frames
    median_cents: float  # median |error| over judged frames

    @property
    def fraction(self) -> float:
        return self.within / self.frames if self.frames else float("nan")

    def __str__(self) -> str:
        return (
            f"{self.within}/{self.frames} judged frames within {TOLERANCE_CENTS:g} cents "
            f"({100 * self.fraction:.2f}%), {self.gross} gross (> {GROSS_CENTS:g} cents), "
            f"median {self.median_cents:.2f} cents ({self.voiced_frames} voiced frames)"
        )


def judged_frames(f0: np.ndarray, hop: int, frames: int, half_span: int):
    """(truth f0 at each frame's time [frames], bool mask of the frames to judge).

    f0: Hz per sample, 0 where unvoiced. half_span: samples either side of the frame's
    time that its estimate depends on (for YIN ``(W + tau_max) // 2 + 1``).
    """
    f0 = np.asarray(f0, np.float64)
    n = f0.size
    times = np.arange(frames) * hop
    truth = np.where(times < n, f0[np.minimum(times, n - 1)], 0.0)
    voiced = f0 > 0
    step = np.zeros(n, bool)
    both = voiced[1:] & voiced[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        jumps = np.abs(1200 * np.log2(np.where(both, f0[1:] / np.where(both, f0[:-1], 1), 1)))
    step[1:] = jumps > JUMP_CENTS
    bad = np.concatenate([[0], np.cumsum(~voiced | step)])  # prefix counts of bad samples
    lo = times - half_span
    hi = times + half_span + 1
    inside = (lo >= 0) & (hi <= n)
    lo_c, hi_c = np.clip(lo, 0, n), np.clip(hi, 0, n)
    mask = inside & (bad[hi_c] - bad[lo_c] == 0)
    return truth, mask


def score(estimate: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> Score:
    """Count the judged frames of `estimate` (Hz per frame) within tolerance of `truth`."""
    est = np.asarray(estimate, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.abs(1200 * np.log2(np.where(est > 0, est, np.nan) / truth))
    err = np.where(np.isnan(err), np.inf, err)[mask]
    return Score(
        frames=int(mask.sum()),
        voiced_frames=int((truth > 0).sum()),
        within=int((err <= TOLERANCE_CENTS).sum()),
        gross=int((err > GROSS_CENTS).sum()),
        max_cents=float(err.max(initial=0.0)),
        median_cents=float(np.median(err)) if err.size else float("nan"),
    )


def yin_half_span(cfg) -> int:
    """Samples either side of a YIN frame's time that its estimate reads (kernels/yin.py)."""
    return (cfg.window + cfg.lags) // 2 + 1
