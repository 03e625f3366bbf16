"""The harness context: creation, capabilities, texture accounting, layout."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

from ddspgl.harness import Context, ContextError
from ddspgl.harness.context import squarish


def test_info_reports_renderer_and_capabilities(ctx):
    info = ctx.info()
    assert info["renderer"] and info["vendor"] and info["version"]
    assert info["float16_renderable"] is True
    assert isinstance(info["float32_renderable"], bool)
    assert info["max_texture_size"] >= 4096


def test_counters_account_bytes_by_internal_format(fresh_ctx):
    ctx = fresh_ctx()
    ctx.counters.reset()
    a = ctx.texture(1, 100, 1, "float16")  # 10x10 texels
    b = ctx.texture(1, 100, 4, "float32")
    assert (a.format, a.nbytes) == ("R16F", 200)
    assert (b.format, b.nbytes) == ("RGBA32F", 1600)
    c = ctx.upload(np.ones((2, 50), np.float32))
    assert (c.format, c.nbytes) == ("R32F", 400)
    d = ctx.texture(1, 100, 4, "float16")
    assert (d.format, d.nbytes) == ("RGBA16F", 800)
    assert ctx.counters.textures_alive == 4
    assert ctx.counters.bytes_alive == ctx.counters.peak_bytes == 3000
    for t in (a, b, c):
        t.release()
    assert ctx.counters.textures_alive == 1 and ctx.counters.bytes_alive == 800
    assert ctx.counters.peak_bytes == 3000
    assert ctx.counters.peak_by_format["RGBA32F"] == 1600
    ctx.counters.reset()
    assert ctx.counters.peak_bytes == 800 and ctx.counters.passes == 0
    d.release()
    assert ctx.counters.bytes_by_format["RGBA16F"] == 0


def test_double_release_raises(ctx):
    t = ctx.texture(1, 4, 1, "float16")
    t.release()
    with pytest.raises(RuntimeError, match="released twice"):
        t.release()


def test_float32_upload_round_trips_exactly(ctx):
    x = np.array([[1.0, 2049.0, 0.1, -3.5]], np.float32)
    up = ctx.upload(x)
    try:
        np.testing.assert_array_equal(up.read(), x)
    finally:
        up.release()


@pytest.mark.parametrize(
    "size, shape",
    [(1, (1, 1)), (2, (2, 1)), (5, (3, 2)), (64000, (253, 253)), (2**22, (2048, 2048))],
)
def test_squarish_layout(size, shape):
    assert squarish(size, 16384) == shape


def test_squarish_layout_respects_the_limit():
    assert squarish(64, 8) == (8, 8)
    with pytest.raises(ValueError, match="65 elements exceed a 8x8 texture"):
        squarish(65, 8)


def test_unknown_backend_names_the_choices(monkeypatch):
    with pytest.raises(ValueError, match=r"backend must be one of \('egl', 'glfw'\)"):
        Context("vulkan")
    monkeypatch.setenv("DDSPGL_BACKEND", "metal")
    with pytest.raises(ValueError, match=r"\$DDSPGL_BACKEND.*'metal'"):
        Context()


def test_glfw_without_a_display_says_what_is_missing(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(ContextError, match="needs a display: DISPLAY is not set.*xvfb-run"):
        Context("glfw")


@pytest.fixture
def xvfb_display():
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip(
            "the glfw backend needs an X display and Xvfb is not installed (apt-get install xvfb)"
        )
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "64x64x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:  # Xvfb writes the free display number it took
            number = pipe.readline().strip()
        if not number:
            pytest.fail("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


GLFW_SCRIPT = """
import sys, numpy as np, ddspgl
from ddspgl.harness import default_context
ctx = default_context()
assert ctx.backend == "glfw", ctx.backend
x = np.full((1, 5000), 0.3, np.float32)
np.save(sys.argv[1], ddspgl.cumsum(x, period=1.0, ctx=ctx))
assert ctx.counters.textures_alive == 0
"""


def test_glfw_backend_runs_the_same_kernel(xvfb_display, session_ctx, tmp_path):
    """A GLX context from GLFW and an EGL one do not share a process: run it in its own."""
    import sys

    import ddspgl

    env = dict(os.environ, DISPLAY=xvfb_display, DDSPGL_BACKEND="glfw")
    out = tmp_path / "glfw.npy"
    subprocess.run([sys.executable, "-c", GLFW_SCRIPT, str(out)], env=env, check=True, timeout=120)
    info = subprocess.run(
        [sys.executable, "-m", "ddspgl.cli", "info"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout
    assert "backend" in info and "glfw" in info and "float16_renderable  True" in info
    x = np.full((1, 5000), 0.3, np.float32)
    egl = ddspgl.cumsum(x, period=1.0, ctx=session_ctx)
    np.testing.assert_array_equal(np.load(out), egl)  # exact residues: the same bits


def test_stopwatch_times_gl_work(ctx):
    from ddspgl.harness.timing import Stopwatch

    x = ctx.upload(np.zeros((1, 4096), np.float32))
    try:
        with Stopwatch(ctx) as watch:
            out = ctx.texture(1, 4096, 1, "float32")
            ctx.run("kernels/copy.frag", {"x": x}, out)
        out.release()
    finally:
        x.release()
    assert watch.method in ("gl-timer-query", "wall-finish")
    assert 0 < watch.seconds < 10


# -- closing ----------------------------------------------------------------------------------


def test_closed_context_raises_a_clear_error():
    import ddspgl

    ctx = Context()
    ddspgl.cumsum(np.full(100, 0.3, np.float32), period=1.0, ctx=ctx)
    assert ctx.counters.programs_cached > 0
    live = ctx.upload(np.ones((1, 4), np.float32))
    ctx.close()
    assert ctx.closed and ctx.counters.programs_cached == 0
    for use in (
        lambda: ctx.texture(1, 4, 1, "float16"),
        lambda: ctx.upload(np.ones((1, 4), np.float32)),
        ctx.finish,
        lambda: ctx.gl_error,
        live.read,
    ):
        with pytest.raises(ContextError, match="this Context is closed: create a new one"):
            use()
    with pytest.raises(ContextError, match="Context closed twice"):
        ctx.close()
    with pytest.raises(ValueError, match="ctx: this Context is closed"):
        ddspgl.cumsum([0.1, 0.2], ctx=ctx)


def test_close_inside_its_own_with_block_is_refused(fresh_ctx):
    ctx = fresh_ctx()
    with ctx, pytest.raises(ContextError, match="inside this Context's own `with` block"):
        ctx.close()
    assert not ctx.closed


def test_a_context_made_inside_another_ones_block_leaves_it_current(fresh_ctx):
    outer = fresh_ctx()
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    with outer:
        up = outer.upload(x)
        inner = fresh_ctx()
        inner_up = inner.upload(x)  # switches to the inner context and back
        np.testing.assert_array_equal(up.read(), x)
        np.testing.assert_array_equal(inner_up.read(), x)
        up.release()
        inner_up.release()
    assert outer.gl_error == inner.gl_error == "GL_NO_ERROR"


@pytest.mark.parametrize("ctx_arg", ["egl", 3, object()])
def test_ctx_that_is_not_a_context_names_what_to_pass(ctx_arg):
    import ddspgl

    with pytest.raises(ValueError, match=r"^ctx: expected a ddspgl\.harness\.Context or None"):
        ddspgl.cumsum([0.1, 0.2], ctx=ctx_arg)
