"""Timing GL work: timer queries where the driver has them, wall time otherwise."""

from __future__ import annotations

import time

from .context import Context


class Stopwatch:
    """Times the GL commands issued inside a ``with`` block.

    With a timer query (GL_TIME_ELAPSED, core since OpenGL 3.3) the result is the time
    the GPU spent on those commands; without one, the wall time of the block followed by
    glFinish. Leaving the block waits for the GPU either way and sets :attr:`seconds`.
    """

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.method = "gl-timer-query" if ctx.info()["timer_query"] else "wall-finish"
        self._query = None
        self.seconds: float | None = None

    def __enter__(self) -> Stopwatch:
        self.ctx.make_current()
        if self.method == "gl-timer-query":
            self._query = self.ctx.time_query()
            self._query.__enter__()
        else:
            self.ctx.finish()
            self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        if self._query is not None:
            self._query.__exit__(*exc)
            self.seconds = self._query.elapsed / 1e9  # waits for the GPU
            self._query = None
        else:
            self.ctx.finish()
            self.seconds = time.perf_counter() - self._start
