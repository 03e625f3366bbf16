"""What a kernel's precision suite is made of: cases, and the result each case returns.

A kernel contributes a suite, ``cases(quick) -> list[Case]`` (its manifest entry names
it). Each case runs the ddspgl kernel (and its baseline, recorded but never held to a
budget) on one input and returns a :class:`Result` whose error is in a unit where lower
is better and passes when ``error <= budget``. :mod:`ddspgl.tools.precision` runs the
cases and writes the reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..harness.context import Context
from ..harness.timing import Stopwatch


@dataclass
class Result:
    error: float  # ddspgl's error, in `unit`
    budget: float  # derived bound on `error`
    unit: str  # what error is measured in, e.g. "period", "sum|x|", "max|ref|"
    passes: int  # render passes ddspgl issued
    seconds: float  # the ddspgl call (upload, passes, readback), by timed()
    baseline_error: float | None = None
    baseline_passes: int | None = None
    baseline_seconds: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error <= self.budget


@dataclass(frozen=True)
class Case:
    kernel: str  # e.g. "cumsum"
    id: str  # unique and readable, used as the pytest id and the report key
    storage: str  # "float16" or "float32"
    n: int  # length: the x axis of the report plot
    series: str  # the report plot's series (one line per series and storage)
    run: Callable[[Context], Result] = field(compare=False, repr=False)
    slow: bool = False  # long inputs: marked for pytest


def timed(ctx: Context, fn: Callable, *args, **kwargs):
    """(result, render passes, seconds) of ``fn(*args, ctx=ctx, **kwargs)``.

    Timed by :class:`~ddspgl.harness.timing.Stopwatch`, as the benchmarks are: the GL
    timer query's device time where the driver has one, else the wall time to glFinish.
    """
    before = ctx.counters.passes
    with Stopwatch(ctx) as watch:
        out = fn(*args, ctx=ctx, **kwargs)
    return out, ctx.counters.passes - before, watch.seconds
