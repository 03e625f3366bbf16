"""Contexts and threads: a context is safe to share between threads (calls take turns),
each thread may have its own, and the default context serves every thread whichever
thread made it."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np

import ddspgl
from ddspgl.kernels import cumsum, harmonic

X = np.full((2, 3000), 0.37, np.float32)
REF = cumsum.reference(X, period=np.float32(1.0))
BUDGET = cumsum.budget("float16", X.shape[1], 1.0)


def _check(out: np.ndarray) -> None:
    assert cumsum.error(out, REF, X, 1.0) <= BUDGET


def _in_threads(target, count: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return errors


def test_context_made_on_one_thread_is_used_on_another_and_back(fresh_ctx):
    ctx = fresh_ctx()
    main = ddspgl.cumsum(X, period=1.0, ctx=ctx)
    results = {}
    assert _in_threads(lambda i: results.update(w=ddspgl.cumsum(X, period=1.0, ctx=ctx)), 1) == []
    np.testing.assert_array_equal(results["w"], main)
    np.testing.assert_array_equal(ddspgl.cumsum(X, period=1.0, ctx=ctx), main)
    _check(main)
    assert ctx.gl_error == "GL_NO_ERROR"


def test_threads_share_one_context_concurrently(fresh_ctx):
    ctx = fresh_ctx()
    f0 = np.full((1, 20), 330.0, np.float32)
    amp = np.full((1, 20), 0.5, np.float32)
    dist = np.ones((1, 20, 8), np.float32)
    audio = harmonic.harmonic_synth(f0, amp, dist, n_samples=1280, ctx=ctx)
    phase = ddspgl.cumsum(X, period=1.0, ctx=ctx)

    def work(i: int) -> None:
        for _ in range(4):
            np.testing.assert_array_equal(ddspgl.cumsum(X, period=1.0, ctx=ctx), phase)
            out = harmonic.harmonic_synth(f0, amp, dist, n_samples=1280, ctx=ctx)
            np.testing.assert_array_equal(out, audio)

    assert _in_threads(work, 4) == []
    _check(phase)
    assert ctx.counters.textures_alive == 0
    assert ctx.gl_error == "GL_NO_ERROR"


def test_each_thread_its_own_context(fresh_ctx):
    contexts = [fresh_ctx() for _ in range(3)]
    outs: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            outs[i] = ddspgl.cumsum(X, period=1.0, ctx=contexts[i])

    assert _in_threads(work, 3) == []
    for out in outs.values():
        _check(out)


def test_a_with_block_holds_the_context_against_other_threads(fresh_ctx):
    ctx = fresh_ctx()
    order: list[str] = []
    started = threading.Event()

    def worker() -> None:
        started.set()
        ddspgl.cumsum(X, period=1.0, ctx=ctx)
        order.append("worker")

    with ctx:
        t = threading.Thread(target=worker)
        t.start()
        started.wait(30)
        t.join(timeout=0.5)  # blocked: the main thread holds the context
        order.append("main")
    t.join(timeout=300)
    assert order == ["main", "worker"]


LAZY_DEFAULT = """
import threading, numpy as np, ddspgl
from ddspgl.harness import default_context
x = np.full((2, 3000), 0.37, np.float32)
out = {}
t = threading.Thread(target=lambda: out.update(worker=ddspgl.cumsum(x, period=1.0)))
t.start(); t.join()
out["main"] = ddspgl.cumsum(x, period=1.0)
np.testing.assert_array_equal(out["main"], out["worker"])
assert default_context().counters.textures_alive == 0
np.save(__import__("sys").argv[1], out["main"])
"""


def test_default_context_made_lazily_on_a_worker_serves_the_main_thread(tmp_path):
    """In a process of its own: the test session's default context exists already."""
    path = tmp_path / "out.npy"
    subprocess.run([sys.executable, "-c", LAZY_DEFAULT, str(path)], check=True, timeout=300)
    _check(np.load(path))
