"""GLSL sources: the include resolver and the harness's half of the helper interface.

GLSL ES 3.00 has no ``#include``. :func:`resolve` expands it (paths relative to the
including file, each file once, guarded by its ``#ifndef FNC_...``) for the harness
and the TF.js emitter alike. :func:`fragment_source` then wraps a kernel body the way
TF.js's shader compiler does: version, prelude, generated accessors, body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath

_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$', re.MULTILINE)


def _read(path: PurePosixPath) -> str:
    node = resources.files("ddspgl.glsl")
    for part in path.parts:
        node = node / part
    if not node.is_file():
        raise FileNotFoundError(f"GLSL source not found: glsl/{path}")
    return node.read_text(encoding="utf-8")


def _normalize(path: PurePosixPath) -> PurePosixPath:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                raise ValueError(f"#include leaves the glsl/ tree: {path}")
            parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts)


@cache
def resolve(path: str | Path) -> str:
    """The source of ``glsl/<path>`` with every ``#include`` expanded once.

    A :class:`pathlib.Path` names a body outside the package (a test kernel, say); its
    includes are resolved against the root of ``glsl/``.
    """
    seen: set[PurePosixPath] = set()

    def expand(p: PurePosixPath) -> str:
        if p in seen:
            return ""
        seen.add(p)
        text = _read(p)
        return _INCLUDE.sub(lambda m: expand(_normalize(p.parent / m.group(1))), text)

    if isinstance(path, Path):
        text = path.read_text(encoding="utf-8")
        return _INCLUDE.sub(lambda m: expand(_normalize(PurePosixPath(m.group(1)))), text)
    return expand(_normalize(PurePosixPath(path)))


@dataclass(frozen=True)
class Operand:
    """A 2-D logical array [rows, cols] on a squarish texture of the given width."""

    name: str
    rows: int
    cols: int
    width: int
    channels: int  # 1: float elements, 4: vec4 elements

    @property
    def size(self) -> int:
        return self.rows * self.cols


@dataclass(frozen=True)
class ProgramSource:
    """Everything that determines a compiled fragment shader."""

    body: str | Path  # path under glsl/, or a file outside it
    inputs: tuple[Operand, ...]
    output: Operand
    uniforms: tuple[tuple[str, str], ...] = ()  # (GLSL type, name)
    defines: tuple[tuple[str, int | float | str], ...] = field(default_factory=tuple)


def _accessor(op: Operand) -> str:
    getter = "get" + op.name[0].upper() + op.name[1:]
    ret, swizzle = ("float", ".r") if op.channels == 1 else ("vec4", "")
    return (
        f"uniform highp sampler2D {op.name};\n"
        f"{ret} {getter}(int row, int col) {{\n"
        f"    int i = row * {op.cols} + col;\n"
        f"    return texelFetch({op.name}, ivec2(i % {op.width}, i / {op.width}), 0){swizzle};\n"
        f"}}\n"
    )


def fragment_source(src: ProgramSource) -> str:
    out = src.output
    lines = ["#version 300 es", resolve("prelude/harness.glsl")]
    lines += [f"#define {k} {v}" for k, v in src.defines]
    lines += [f"uniform {t} {n};" for t, n in src.uniforms]
    lines.append(
        "ivec2 getOutputCoords() {\n"
        f"    int i = int(gl_FragCoord.y) * {out.width} + int(gl_FragCoord.x);\n"
        f"    i = min(i, {out.size - 1});\n"
        f"    return ivec2(i / {out.cols}, i % {out.cols});\n"
        "}\n"
    )
    lines += [_accessor(op) for op in src.inputs]
    lines.append(f"#line 1\n{resolve(src.body)}")
    return "\n".join(lines)


def vertex_source() -> str:
    return resolve("prelude/fullscreen.vert")
