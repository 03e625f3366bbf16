"""Precision cases for the wrapped cumsum, beside the TF.js algorithm's errors.

Lengths 1 ... 2^22, a batch of three signals per call, inclusive/exclusive and
forward/reverse, float16 and float32 storage, periods 1 (cycles) and 2π (radians), and
plain cumsums of small integers and random values. Inputs are phase increments of
16 kHz audio in cycles per sample, times the period; every generator is seeded.
"""

from __future__ import annotations

import math
from functools import cache, partial

import numpy as np

from ..harness.context import Context
from . import cumsum, tfjs_cumsum
from .suite import Case, Result, timed

SAMPLE_RATE = 16000.0
LENGTHS = (1, 2, 1000, 16000, 64000, 192960, 2**20, 2**22)
QUICK_MAX = 64000
SLOW_FROM = 2**20
MODES = {  # id: (exclusive, reverse)
    "incl-fwd": (False, False),
    "incl-rev": (False, True),
    "excl-fwd": (True, False),
    "excl-rev": (True, True),
}
PERIODS = {"P1": 1.0, "P2pi": 2.0 * math.pi}


def _seconds(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / SAMPLE_RATE


def _chirp(n: int) -> np.ndarray:
    """20 Hz -> 7.9 kHz, linear in frequency over the signal."""
    return (20.0 + (7900.0 - 20.0) * np.arange(n) / max(n - 1, 1)) / SAMPLE_RATE


def _vibrato(n: int) -> np.ndarray:
    """440 Hz with +-1 semitone of vibrato at 5.5 Hz."""
    return 440.0 * 2.0 ** (np.sin(2 * np.pi * 5.5 * _seconds(n)) / 12.0) / SAMPLE_RATE


# Each batch is three rows of phase increments in cycles per sample.
BATCHES = {
    "tones": (
        lambda n: np.full(n, 440.0 / SAMPLE_RATE),
        lambda n: np.full(n, 7999.0 / SAMPLE_RATE),
        _chirp,
    ),
    "mod": (
        _vibrato,
        lambda n: np.random.default_rng(1).uniform(0.0, 0.5, n),  # random non-negative
        lambda n: np.full(n, 0.25),  # every fourth sum lands on the wrap point
    ),
}
PLAIN = (
    lambda n: np.random.default_rng(2).integers(-4, 5, n).astype(np.float64),  # small integers
    lambda n: np.random.default_rng(3).standard_normal(n),
    lambda n: np.random.default_rng(4).uniform(-1.0, 1.0, n),
)


@cache
def _input(kind: str, n: int, scale: float) -> np.ndarray:
    rows = PLAIN if kind == "plain" else BATCHES[kind]
    x = np.stack([f(n) * scale for f in rows]).astype(np.float32)
    x.setflags(write=False)
    return x


def _run(ctx: Context, kind: str, n: int, period, storage: str, exclusive, reverse) -> Result:
    x = _input(kind, n, 1.0 if period is None else period)
    p32 = None if period is None else np.float32(period)
    kw = dict(exclusive=exclusive, reverse=reverse, period=p32, storage=storage)
    out, passes, seconds = timed(ctx, cumsum.cumsum, x, **kw)
    base, base_passes, base_seconds = timed(ctx, tfjs_cumsum.cumsum, x, **kw)
    ref = cumsum.reference(x, exclusive=exclusive, reverse=reverse, period=p32)
    return Result(
        error=cumsum.error(out, ref, x, p32),
        budget=cumsum.budget(storage, n, p32),
        unit="sum|x|" if period is None else "period",
        passes=passes,
        seconds=seconds,
        baseline_error=cumsum.error(base, ref, x, p32),
        baseline_passes=base_passes,
        baseline_seconds=base_seconds,
    )


def cases(quick: bool = False) -> list[Case]:
    return make_cases([n for n in LENGTHS if not quick or n <= QUICK_MAX], _run, "cumsum")


def make_cases(lengths, run, id_prefix: str) -> list[Case]:
    """Every length x storage x mode x (period, batch) case, each calling
    ``run(ctx, kind=, n=, period=, storage=, exclusive=, reverse=)``."""
    runs = [
        (f"{pname}-{kind}", kind, period, pname)
        for pname, period in PERIODS.items()
        for kind in BATCHES
    ] + [("plain", "plain", None, "plain")]
    out = []
    for n in lengths:
        for storage in ("float16", "float32"):
            for mode, (exclusive, reverse) in MODES.items():
                for label, kind, period, series in runs:
                    out.append(
                        Case(
                            kernel="cumsum",
                            id=f"{id_prefix}-{storage}-{label}-{mode}-n{n}",
                            storage=storage,
                            n=n,
                            series=series,
                            run=partial(
                                run,
                                kind=kind,
                                n=n,
                                period=period,
                                storage=storage,
                                exclusive=exclusive,
                                reverse=reverse,
                            ),
                            slow=n >= SLOW_FROM,
                        )
                    )
    return out
