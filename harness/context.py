"""The GL context: creation, textures with exact accounting, and render passes.

This module is the only place that creates GL contexts. A :class:`Context` owns a
moderngl context and counts what it does: render passes issued, textures alive and
their bytes by internal format, now and at peak. Every texture a kernel writes is
float16 (R16F / RGBA16F) under ``storage="float16"`` and float32 under
``storage="float32"``; inputs are uploaded as float32 (R32F), as TF.js does.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field

import moderngl
import numpy as np

from .shader import Operand, ProgramSource, fragment_source, vertex_source

BACKENDS = ("egl", "glfw")
BACKEND_ENV = "DDSPGL_BACKEND"
STORAGES = ("float16", "float32")

# Internal format -> bytes per texel, as tf.memory() counts them.
_FORMATS = {
    ("float16", 1): ("R16F", 2),
    ("float32", 1): ("R32F", 4),
    ("float16", 4): ("RGBA16F", 8),
    ("float32", 4): ("RGBA32F", 16),
}
_NUMPY = {"float16": np.float16, "float32": np.float32}


class ContextError(RuntimeError):
    """No GL context could be made, or the one made lacks what ddspgl needs."""


def squarish(size: int, max_size: int) -> tuple[int, int]:
    """(width, height) of the near-square texture holding `size` elements, or None."""
    width = min(max_size, max(1, math.isqrt(size - 1) + 1))
    height = -(-size // width)
    if height > max_size:
        raise ValueError(f"{size} elements exceed a {max_size}x{max_size} texture")
    return width, height


def layout(rows: int, cols: int, channels: int, storage: str, max_size: int):
    """(width, height, internal format, bytes) of the texture holding [rows, cols] elements."""
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {STORAGES}, got {storage!r}")
    if channels not in (1, 4):
        raise ValueError(f"channels must be 1 or 4, got {channels!r}")
    fmt, texel_bytes = _FORMATS[(storage, channels)]
    width, height = squarish(rows * cols, max_size)
    return width, height, fmt, width * height * texel_bytes


@dataclass
class Counters:
    """What a context has done since its last :meth:`reset`."""

    passes: int = 0
    textures_alive: int = 0
    bytes_alive: int = 0
    peak_bytes: int = 0
    bytes_by_format: Counter = field(default_factory=Counter)
    peak_by_format: Counter = field(default_factory=Counter)

    def reset(self) -> None:
        """Zero the pass count and bring the peaks down to what is alive now."""
        self.passes = 0
        self.peak_bytes = self.bytes_alive
        self.peak_by_format = Counter(self.bytes_by_format)


class Texture:
    """A [rows, cols] array of float (channels=1) or vec4 (channels=4) elements."""

    def __init__(self, ctx: Context, rows: int, cols: int, channels: int, storage: str):
        self.width, self.height, self.format, self.nbytes = layout(
            rows, cols, channels, storage, ctx.max_texture_size
        )
        ctx.make_current()
        self.ctx, self.rows, self.cols = ctx, rows, cols
        self.channels, self.storage = channels, storage
        dtype = "f2" if storage == "float16" else "f4"
        self._tex = ctx.gl.texture((self.width, self.height), channels, dtype=dtype)
        self._tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._fbo = None
        ctx._account(self, +1)

    @property
    def alive(self) -> bool:
        return self._tex is not None

    def relabel(self, rows: int, cols: int) -> Texture:
        """Hold [rows, cols] elements from now on, in the same physical texture (reuse)."""
        if squarish(rows * cols, self.ctx.max_texture_size) != (self.width, self.height):
            raise ValueError(
                f"[{rows}, {cols}] does not lay out as this {self.width}x{self.height} texture"
            )
        self.rows, self.cols = rows, cols
        return self

    def operand(self, name: str) -> Operand:
        return Operand(name, self.rows, self.cols, self.width, self.channels)

    def write(self, data: np.ndarray) -> None:
        self.ctx.make_current()
        flat = np.zeros(self.width * self.height * self.channels, _NUMPY[self.storage])
        flat[: data.size] = data.reshape(-1)
        self._tex.write(flat.tobytes())

    def read(self) -> np.ndarray:
        """The texture's contents, [rows, cols] (or [rows, cols, 4]), as float32."""
        self.ctx.make_current()
        data = np.frombuffer(self._tex.read(), _NUMPY[self.storage])
        n = self.rows * self.cols * self.channels
        shape = (self.rows, self.cols) + ((4,) if self.channels == 4 else ())
        return data[:n].astype(np.float32).reshape(shape)

    def framebuffer(self) -> moderngl.Framebuffer:
        if self._fbo is None:
            self._fbo = self.ctx.gl.framebuffer(color_attachments=[self._tex])
        return self._fbo

    def release(self) -> None:
        if self._tex is None:
            raise RuntimeError("texture released twice")
        self.ctx.make_current()
        if self._fbo is not None:
            # Releasing the bound framebuffer would leave moderngl rebinding a deleted
            # name on its next framebuffer creation (GL_INVALID_OPERATION).
            self.ctx._park()
            self._fbo.release()
            self._fbo = None
        self._tex.release()
        self._tex = None
        self.ctx._account(self, -1)


class Context:
    """A headless GL context for running kernels, with counters."""

    def __init__(self, backend: str | None = None, *, max_texture_size: int | None = None):
        self.backend = backend or os.environ.get(BACKEND_ENV, "egl")
        if self.backend not in BACKENDS:
            raise ValueError(
                f"backend must be one of {BACKENDS} (argument or ${BACKEND_ENV}), "
                f"got {self.backend!r}"
            )
        self._window = None
        self.gl = self._create_egl() if self.backend == "egl" else self._create_glfw()
        global _CURRENT
        _CURRENT = None
        self.make_current()
        info = self.gl.info
        self.vendor = info["GL_VENDOR"]
        self.renderer = info["GL_RENDERER"]
        self.version = info["GL_VERSION"]
        driver_max = int(info["GL_MAX_TEXTURE_SIZE"])
        self.driver_max_texture_size = driver_max
        self.max_texture_size = min(driver_max, max_texture_size or driver_max)
        self.counters = Counters()
        self._parking_tex = self.gl.texture((1, 1), 4, dtype="f2")
        self._parking = self.gl.framebuffer(color_attachments=[self._parking_tex])
        self._programs: dict[ProgramSource, moderngl.Program] = {}
        self._vao: dict[ProgramSource, moderngl.VertexArray] = {}
        self._time_query: moderngl.Query | None = None
        self.float16_renderable, self.float32_renderable = self._probe_renderable()
        if not self.float16_renderable:
            self.close()
            raise ContextError(f"{self.renderer} cannot render into R16F/RGBA16F textures")

    # -- creation ---------------------------------------------------------------------------

    @staticmethod
    def _create_egl() -> moderngl.Context:
        try:
            return moderngl.create_context(standalone=True, backend="egl", require=330)
        except Exception as exc:  # moderngl raises bare Exception from glcontext
            raise ContextError(
                f"could not create a headless EGL context ({exc}). It needs libEGL and a "
                "driver: on Debian/Ubuntu `apt-get install libegl1 libegl-mesa0 "
                "libgl1-mesa-dri` (Mesa llvmpipe), or the GPU vendor's EGL driver"
            ) from exc

    def _create_glfw(self) -> moderngl.Context:
        import glfw

        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            raise ContextError(
                "the glfw backend opens a hidden window and needs a display: DISPLAY is "
                "not set. Run under `xvfb-run -a` (Debian package xvfb) or use --backend egl"
            )
        if not glfw.init():
            raise ContextError(f"glfw could not initialise: {glfw.get_error()}")
        glfw.window_hint(glfw.VISIBLE, glfw.FALSE)
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        window = glfw.create_window(16, 16, "ddspgl", None, None)
        if not window:
            glfw.terminate()
            raise ContextError(f"glfw could not create an OpenGL 3.3 window: {glfw.get_error()}")
        glfw.make_context_current(window)
        self._window = window
        return moderngl.create_context(require=330)

    def _probe_renderable(self) -> tuple[bool, bool]:
        result = []
        for dtype in ("f2", "f4"):
            tex = self.gl.texture((1, 1), 4, dtype=dtype)
            try:
                fbo = self.gl.framebuffer(color_attachments=[tex])
                fbo.release()
                result.append(True)
            except moderngl.Error:
                result.append(False)
            finally:
                tex.release()
        return result[0], result[1]

    def make_current(self) -> None:
        """Make this context the thread's current one (several may coexist)."""
        global _CURRENT
        if _CURRENT is not self:
            if self._window is not None:
                import glfw

                glfw.make_context_current(self._window)
            else:
                self.gl.__enter__()
            _CURRENT = self

    def _park(self) -> None:
        self._parking.use()

    def close(self) -> None:
        global _CURRENT
        self.make_current()
        self._parking.release()
        self._parking_tex.release()
        for vao in self._vao.values():
            vao.release()
        for prog in self._programs.values():
            prog.release()
        self._vao.clear()
        self._programs.clear()
        self.gl.release()
        if self._window is not None:
            import glfw

            glfw.destroy_window(self._window)
            self._window = None
        _CURRENT = None

    # -- information ------------------------------------------------------------------------

    def info(self) -> dict:
        return {
            "backend": self.backend,
            "vendor": self.vendor,
            "renderer": self.renderer,
            "version": self.version,
            "max_texture_size": self.driver_max_texture_size,
            "float16_renderable": self.float16_renderable,
            "float32_renderable": self.float32_renderable,
            "timer_query": "GL_ARB_timer_query" in self.gl.extensions
            or self.gl.version_code >= 330,
        }

    @property
    def max_elements(self) -> int:
        """Elements one texture holds under this context's size limit."""
        return self.max_texture_size**2

    @property
    def gl_error(self) -> str:
        return self.gl.error

    # -- textures ---------------------------------------------------------------------------

    def _account(self, tex: Texture, sign: int) -> None:
        c = self.counters
        c.textures_alive += sign
        c.bytes_alive += sign * tex.nbytes
        c.bytes_by_format[tex.format] += sign * tex.nbytes
        if sign > 0:
            c.peak_bytes = max(c.peak_bytes, c.bytes_alive)
            c.peak_by_format[tex.format] = max(
                c.peak_by_format[tex.format], c.bytes_by_format[tex.format]
            )

    def texture(self, rows: int, cols: int, channels: int, storage: str) -> Texture:
        return Texture(self, rows, cols, channels, storage)

    def upload(self, array: np.ndarray) -> Texture:
        """A float32 input texture (R32F) holding a [rows, cols] array."""
        rows, cols = array.shape
        tex = Texture(self, rows, cols, 1, "float32")
        try:
            tex.write(np.asarray(array, np.float32))
        except BaseException:
            tex.release()
            raise
        return tex

    # -- passes -----------------------------------------------------------------------------

    def _program(self, src: ProgramSource) -> moderngl.Program:
        prog = self._programs.get(src)
        if prog is None:
            try:
                prog = self.gl.program(
                    vertex_shader=vertex_source(), fragment_shader=fragment_source(src)
                )
            except moderngl.Error as exc:
                raise ContextError(
                    f"{src.body} failed to compile on {self.renderer}:\n{exc}"
                ) from exc
            self._programs[src] = prog
            self._vao[src] = self.gl.vertex_array(prog, [])
        return prog

    def run(
        self,
        body: str,
        inputs: dict[str, Texture],
        output: Texture,
        *,
        uniforms: dict[str, tuple[str, object]] | None = None,
        defines: dict[str, int | float | str] | None = None,
    ) -> Texture:
        """One render pass of `body` over every element of `output`."""
        self.make_current()
        uniforms = uniforms or {}
        src = ProgramSource(
            body=body,
            inputs=tuple(t.operand(n) for n, t in inputs.items()),
            output=output.operand("output"),
            uniforms=tuple((t, n) for n, (t, _) in uniforms.items()),
            defines=tuple((defines or {}).items()),
        )
        prog = self._program(src)
        for unit, (name, tex) in enumerate(inputs.items()):
            tex._tex.use(location=unit)
            if name in prog:  # a variant may never read an input (exclusive, n = 1)
                prog[name].value = unit
        for name, (_, value) in uniforms.items():
            if name in prog:  # the compiler drops uniforms a variant does not read
                prog[name].value = value
        fbo = output.framebuffer()
        fbo.use()
        fbo.viewport = (0, 0, output.width, output.height)
        self._vao[src].render(moderngl.TRIANGLES, vertices=3)
        self.counters.passes += 1
        error = self.gl.error
        if error != "GL_NO_ERROR":
            raise ContextError(f"{body}: {error} on {self.renderer}")
        return output

    def time_query(self) -> moderngl.Query:
        """This context's GL_TIME_ELAPSED query, made once (moderngl cannot free queries)."""
        if self._time_query is None:
            self.make_current()
            self._time_query = self.gl.query(time=True)
        return self._time_query

    def finish(self) -> None:
        self.make_current()
        self.gl.finish()

    def timed(self, fn, *args, **kwargs):
        """(result, seconds) of fn with the GL pipeline drained before and after."""
        self.finish()
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        self.finish()
        return result, time.perf_counter() - start


_DEFAULT: dict[str, Context] = {}
_CURRENT: Context | None = None


def default_context(backend: str | None = None) -> Context:
    """The shared context for `backend` (argument, $DDSPGL_BACKEND, or egl)."""
    key = backend or os.environ.get(BACKEND_ENV, "egl")
    if key not in _DEFAULT:
        _DEFAULT[key] = Context(key)
    return _DEFAULT[key]
