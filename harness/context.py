"""The GL context: creation, textures with exact accounting, and render passes.

This module is the only place that creates GL contexts. A :class:`Context` owns a
moderngl context and counts what it does: render passes issued, textures alive and
their bytes by internal format, now and at peak, and the compiled programs it caches.
Every texture a kernel writes is float16 (R16F / RGBA16F) under ``storage="float16"``
and float32 under ``storage="float32"``; inputs are uploaded as float32 (R32F), as
TF.js does.

Threads: a context may be shared between threads. Every operation on it (and on its
textures) runs inside ``with ctx:``, which takes the context's lock and makes it
current on the calling thread for as long as the block lasts; the outermost block
releases it again, so the next thread can take it. Calls from several threads are
therefore serialised, one at a time per context. :func:`default_context` is one
context per backend for the whole process, created on first use by whichever thread
asks first. (The glfw backend is the exception: GLFW creates windows on the main
thread only, so a glfw context must be created there.)

Programs: compiled programs are cached per context, at most ``program_cache`` of them
(least recently used evicted and released first). A program depends on what its shader
needs (body, operand names and channels, uniform declarations, defines), never on the
shapes it runs on: shapes are uniforms (:func:`~ddspgl.harness.shader.shape_uniforms`).
"""

from __future__ import annotations

import math
import os
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import moderngl
import numpy as np

from .shader import Operand, ProgramSource, fragment_source, shape_uniforms, vertex_source

BACKENDS = ("egl", "glfw")
BACKEND_ENV = "DDSPGL_BACKEND"
STORAGES = ("float16", "float32")
# Programs a context keeps compiled. Every kernel variant the suites run at once fits
# (cumsum, harmonic synthesizer and both baselines: about 30 programs); beyond that the
# least recently used one is released. llvmpipe holds about 1-4 MiB per program.
PROGRAM_CACHE_SIZE = 64

# Internal format -> bytes per texel, as tf.memory() counts them.
_FORMATS = {
    ("float16", 1): ("R16F", 2),
    ("float32", 1): ("R32F", 4),
    ("float16", 4): ("RGBA16F", 8),
    ("float32", 4): ("RGBA32F", 16),
}
_NUMPY = {"float16": np.float16, "float32": np.float32}

UniformValue = int | float | tuple[int, ...] | tuple[float, ...]


class ContextError(RuntimeError):
    """No GL context could be made, the one made lacks what ddspgl needs, or it is closed."""


def squarish(size: int, max_size: int) -> tuple[int, int]:
    """(width, height) of the near-square texture holding `size` elements."""
    width = min(max_size, max(1, math.isqrt(size - 1) + 1))
    height = -(-size // width)
    if height > max_size:
        raise ValueError(f"{size} elements exceed a {max_size}x{max_size} texture")
    return width, height


def layout(
    rows: int, cols: int, channels: int, storage: str, max_size: int
) -> tuple[int, int, str, int]:
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
    """What a context has done since its last :meth:`reset`.

    ``programs_cached`` is how many compiled programs the context holds now (at most its
    ``program_cache``); ``programs_compiled`` and ``programs_evicted`` count compilations
    and evictions since the last reset.
    """

    passes: int = 0
    textures_alive: int = 0
    bytes_alive: int = 0
    peak_bytes: int = 0
    bytes_by_format: Counter[str] = field(default_factory=Counter)
    peak_by_format: Counter[str] = field(default_factory=Counter)
    programs_cached: int = 0
    programs_compiled: int = 0
    programs_evicted: int = 0

    def reset(self) -> None:
        """Zero the pass and program counts and bring the peaks down to what is alive now."""
        self.passes = 0
        self.programs_compiled = 0
        self.programs_evicted = 0
        self.peak_bytes = self.bytes_alive
        self.peak_by_format = Counter(self.bytes_by_format)


class Texture:
    """A [rows, cols] array of float (channels=1) or vec4 (channels=4) elements."""

    def __init__(self, ctx: Context, rows: int, cols: int, channels: int, storage: str):
        self.width, self.height, self.format, self.nbytes = layout(
            rows, cols, channels, storage, ctx.max_texture_size
        )
        self.ctx, self.rows, self.cols = ctx, rows, cols
        self.channels, self.storage = channels, storage
        dtype = "f2" if storage == "float16" else "f4"
        with ctx:
            tex = ctx.gl.texture((self.width, self.height), channels, dtype=dtype)
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
            self._tex: moderngl.Texture | None = tex
            self._fbo: moderngl.Framebuffer | None = None
            ctx._account(self, +1)

    def _live(self) -> moderngl.Texture:
        if self._tex is None:
            raise RuntimeError("texture used after release()")
        return self._tex

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
        flat = np.zeros(self.width * self.height * self.channels, _NUMPY[self.storage])
        flat[: data.size] = data.reshape(-1)
        with self.ctx:
            self._live().write(flat.tobytes())

    def read(self) -> np.ndarray:
        """The texture's contents, [rows, cols] (or [rows, cols, 4]), as float32."""
        with self.ctx:
            raw = self._live().read()
        data = np.frombuffer(raw, _NUMPY[self.storage])
        n = self.rows * self.cols * self.channels
        shape = (self.rows, self.cols) + ((4,) if self.channels == 4 else ())
        return data[:n].astype(np.float32).reshape(shape)

    def use(self, location: int) -> None:
        """Bind to texture unit `location` (inside the context's ``with`` block)."""
        self._live().use(location=location)

    def framebuffer(self) -> moderngl.Framebuffer:
        if self._fbo is None:
            with self.ctx:
                self._fbo = self.ctx.gl.framebuffer(color_attachments=[self._live()])
        return self._fbo

    def release(self) -> None:
        if self._tex is None:
            raise RuntimeError("texture released twice")
        with self.ctx:
            if self._fbo is not None:
                # Releasing the bound framebuffer would leave moderngl rebinding a deleted
                # name on its next framebuffer creation (GL_INVALID_OPERATION).
                self.ctx._park()
                self._fbo.release()
                self._fbo = None
            self._tex.release()
            self._tex = None
            self.ctx._account(self, -1)


class _ThreadState(threading.local):
    current: Context | None = None  # the context current on this thread, if any


_THREAD = _ThreadState()


def _activate(target: Context | None) -> None:
    """Make `target` (or nothing) current on this thread.

    Contexts are made current only when nothing is: moderngl's EGL contexts restore, on
    leaving, whatever was current when they were entered, so entering each from a clean
    slate makes leaving one release it.
    """
    current = _THREAD.current
    if current is target:
        return
    if current is not None:
        current._release_current()
        _THREAD.current = None
    if target is not None:
        target._make_current()
        _THREAD.current = target


class Context:
    """A headless GL context for running kernels, with counters.

    Args:
        backend: "egl" (headless, the default) or "glfw" (a hidden window, needs a
            display); None reads ``$DDSPGL_BACKEND``.
        max_texture_size: lower the texture size limit (tests of long inputs).
        program_cache: how many compiled programs to keep (least recently used first out).

    Use as ``with ctx:`` to hold it (current on this thread, locked against others)
    across several calls; every method takes it for its own duration anyway.
    :meth:`close` releases everything; a closed context raises :class:`ContextError`.
    """

    def __init__(
        self,
        backend: str | None = None,
        *,
        max_texture_size: int | None = None,
        program_cache: int = PROGRAM_CACHE_SIZE,
    ):
        if backend is not None and not isinstance(backend, str):
            raise ValueError(f"backend must be one of {BACKENDS} or None, got {backend!r}")
        self.backend = backend or os.environ.get(BACKEND_ENV, "egl")
        if self.backend not in BACKENDS:
            raise ValueError(
                f"backend must be one of {BACKENDS} (argument or ${BACKEND_ENV}), "
                f"got {self.backend!r}"
            )
        if isinstance(program_cache, bool) or not isinstance(program_cache, int):
            raise ValueError(f"program_cache must be an integer >= 1, got {program_cache!r}")
        if program_cache < 1:
            raise ValueError(f"program_cache must be an integer >= 1, got {program_cache!r}")
        self.program_cache = program_cache
        self._max_texture_arg = max_texture_size
        self._lock = threading.RLock()
        self._outer: list[Context | None] = []  # per `with` level: what was current before
        self._closed = False
        self._window: Any = None
        self.counters = Counters()
        self._programs: OrderedDict[ProgramSource, tuple[moderngl.Program, Any]] = OrderedDict()
        self._time_query: moderngl.Query | None = None
        # Creation makes the new context current on this thread: leave a clean slate
        # before (see _activate) and restore what was current after.
        before = _THREAD.current
        _activate(None)
        try:
            self.gl = self._create_egl() if self.backend == "egl" else self._create_glfw()
            _THREAD.current = self
            try:
                self._init_current()
            except BaseException:
                _activate(None)
                self.gl.release()
                raise
        finally:
            _activate(None)
            _activate(before)
        if not self.float16_renderable:
            self.close()
            raise ContextError(f"{self.renderer} cannot render into R16F/RGBA16F textures")

    def _init_current(self) -> None:
        info = self.gl.info
        self.vendor: str = info["GL_VENDOR"]
        self.renderer: str = info["GL_RENDERER"]
        self.version: str = info["GL_VERSION"]
        driver_max = int(info["GL_MAX_TEXTURE_SIZE"])
        self.driver_max_texture_size = driver_max
        self.max_texture_size: int = min(driver_max, self._max_texture_arg or driver_max)
        self._timer_query = "GL_ARB_timer_query" in self.gl.extensions or (
            self.gl.version_code >= 330
        )
        self._parking_tex = self.gl.texture((1, 1), 4, dtype="f2")
        self._parking = self.gl.framebuffer(color_attachments=[self._parking_tex])
        self.float16_renderable, self.float32_renderable = self._probe_renderable()

    # -- creation ---------------------------------------------------------------------------

    @staticmethod
    def _create_egl() -> moderngl.Context:
        try:
            # moderngl's stubs type **settings as dicts; backend is a str at run time.
            return moderngl.create_context(
                standalone=True,
                require=330,
                backend="egl",  # type: ignore[arg-type]
            )
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
        if threading.current_thread() is not threading.main_thread():
            raise ContextError(
                "the glfw backend creates its window on the main thread only: create the "
                "Context there (it can then be used from any thread) or use the egl backend"
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

    # -- threads: current context and lock -----------------------------------------------------

    def _make_current(self) -> None:
        if self._window is not None:
            import glfw

            glfw.make_context_current(self._window)
        else:
            self.gl.__enter__()

    def _release_current(self) -> None:
        if self._window is not None:
            import glfw

            glfw.make_context_current(None)  # type: ignore[arg-type]  # NULL: none
        else:
            self.gl.__exit__(None, None, None)

    def __enter__(self) -> Context:
        self._lock.acquire()
        try:
            self._check_open()
            self._outer.append(_THREAD.current)
            try:
                _activate(self)
            except BaseException:
                self._outer.pop()
                raise
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            _activate(self._outer.pop())
        finally:
            self._lock.release()

    def _check_open(self) -> None:
        if self._closed:
            raise ContextError(
                "this Context is closed: create a new one (or pass ctx=None for the "
                "default context)"
            )

    @property
    def closed(self) -> bool:
        return self._closed

    def _park(self) -> None:
        self._parking.use()

    def close(self) -> None:
        """Release the GL context and everything cached in it; a second call raises."""
        with self._lock:
            if self._closed:
                raise ContextError("Context closed twice")
            if self._outer:
                raise ContextError("close() inside this Context's own `with` block")
            with self:
                self._parking.release()
                self._parking_tex.release()
                for prog, vao in self._programs.values():
                    vao.release()
                    prog.release()
                self._programs.clear()
                self.counters.programs_cached = 0
            self.gl.release()
            if self._window is not None:
                import glfw

                glfw.destroy_window(self._window)
                self._window = None
            self._closed = True
        with _DEFAULT_LOCK:
            for key, ctx in list(_DEFAULT.items()):
                if ctx is self:
                    del _DEFAULT[key]

    # -- information ------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "vendor": self.vendor,
            "renderer": self.renderer,
            "version": self.version,
            "max_texture_size": self.driver_max_texture_size,
            "float16_renderable": self.float16_renderable,
            "float32_renderable": self.float32_renderable,
            "timer_query": self._timer_query,
        }

    @property
    def max_elements(self) -> int:
        """Elements one texture holds under this context's size limit."""
        return self.max_texture_size**2

    @property
    def gl_error(self) -> str:
        with self:
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
        entry = self._programs.get(src)
        if entry is not None:
            self._programs.move_to_end(src)
            return entry[0]
        try:
            prog = self.gl.program(
                vertex_shader=vertex_source(), fragment_shader=fragment_source(src)
            )
        except moderngl.Error as exc:
            raise ContextError(f"{src.body} failed to compile on {self.renderer}:\n{exc}") from exc
        self._programs[src] = (prog, self.gl.vertex_array(prog, []))
        self.counters.programs_compiled += 1
        while len(self._programs) > self.program_cache:
            _, (old, vao) = self._programs.popitem(last=False)
            vao.release()
            old.release()
            self.counters.programs_evicted += 1
        self.counters.programs_cached = len(self._programs)
        return prog

    def run(
        self,
        body: str | os.PathLike[str],
        inputs: dict[str, Texture],
        output: Texture,
        *,
        uniforms: dict[str, tuple[str, Any]] | None = None,
        defines: dict[str, int | float | str] | None = None,
    ) -> Texture:
        """One render pass of `body` over every element of `output`."""
        uniforms = uniforms or {}
        src = ProgramSource(
            body=body,  # type: ignore[arg-type]  # a str under glsl/ or a Path
            inputs=tuple(t.operand(n) for n, t in inputs.items()),
            output=output.operand("output"),
            uniforms=tuple((t, n) for n, (t, _) in uniforms.items()),
            defines=tuple((defines or {}).items()),
        )
        with self:
            prog = self._program(src)
            vao = self._programs[src][1]
            for unit, (name, tex) in enumerate(inputs.items()):
                tex.use(unit)
                if name in prog:  # a variant may never read an input (exclusive, n = 1)
                    prog[name].value = unit  # type: ignore[union-attr]
            values = {n: v for n, (_, v) in uniforms.items()} | shape_uniforms(src)
            for name, value in values.items():
                if name in prog:  # the compiler drops uniforms a variant does not read
                    prog[name].value = value  # type: ignore[union-attr]
            fbo = output.framebuffer()
            fbo.use()
            fbo.viewport = (0, 0, output.width, output.height)
            vao.render(moderngl.TRIANGLES, vertices=3)
            self.counters.passes += 1
            error = self.gl.error
        if error != "GL_NO_ERROR":
            raise ContextError(f"{body}: {error} on {self.renderer}")
        return output

    def time_query(self) -> moderngl.Query:
        """This context's GL_TIME_ELAPSED query, made once (moderngl cannot free queries)."""
        if self._time_query is None:
            with self:
                self._time_query = self.gl.query(time=True)
        return self._time_query

    def finish(self) -> None:
        with self:
            self.gl.finish()


_DEFAULT: dict[str, Context] = {}
_DEFAULT_LOCK = threading.Lock()


def default_context(backend: str | None = None) -> Context:
    """The process-wide context for `backend` (argument, $DDSPGL_BACKEND, or egl).

    Made on first use, by whichever thread asks first, and shared by every thread (see
    the module docstring); made anew if it was closed.
    """
    if backend is not None and not isinstance(backend, str):
        raise ValueError(f"backend must be one of {BACKENDS} or None, got {backend!r}")
    key = backend or os.environ.get(BACKEND_ENV, "egl")
    with _DEFAULT_LOCK:
        ctx = _DEFAULT.get(key)
        if ctx is None:
            ctx = _DEFAULT[key] = Context(key)
        return ctx
