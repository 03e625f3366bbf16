"""Timing GL work: timer queries where the driver has them, wall time otherwise."""

from __future__ import annotations

import time

import moderngl

from .context import Context

QUERY_LIMIT_NS = 2**32 - 1  # moderngl's Query.elapsed saturates here


class Stopwatch:
    """Times the GL commands issued inside a ``with`` block.

    With a timer query (GL_TIME_ELAPSED, core since OpenGL 3.3) the result is the time
    the GPU spent on those commands; without one, the wall time of the block followed by
    glFinish. Leaving the block waits for the GPU either way and sets :attr:`seconds`
    and :attr:`method`. moderngl reads the query as a 32-bit count of nanoseconds, so a
    block of 2^32 ns (4.29 s) or more is timed by the wall clock instead. The block
    holds the context (``with ctx``): other threads wait for it to end.
    """

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.method = "gl-timer-query" if ctx.info()["timer_query"] else "wall-finish"
        self._query: moderngl.Query | None = None
        self._start = 0.0
        self.seconds: float | None = None

    def __enter__(self) -> Stopwatch:
        self.ctx.__enter__()
        try:
            self.ctx.finish()
            self._start = time.perf_counter()
            if self.method == "gl-timer-query":
                self._query = self.ctx.time_query()
                self._query.__enter__()
        except BaseException:
            self.ctx.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            elapsed_ns = QUERY_LIMIT_NS
            if self._query is not None:
                self._query.__exit__()
                elapsed_ns = self._query.elapsed  # waits for the GPU
                self._query = None
            self.ctx.finish()
            wall = time.perf_counter() - self._start
        finally:
            self.ctx.__exit__(None, None, None)
        if self.method == "gl-timer-query" and elapsed_ns < QUERY_LIMIT_NS:
            self.seconds = elapsed_ns / 1e9
        else:
            self.method, self.seconds = "wall-finish", wall
