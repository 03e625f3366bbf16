"""GLSL sources: the include resolver and the harness's half of the helper interface.

GLSL ES 3.00 has no ``#include``. :func:`resolve` expands it (paths relative to the
including file, each file once, guarded by its ``#ifndef FNC_...``) for the harness
and the TF.js emitter alike. :func:`fragment_source` then wraps a kernel body the way
TF.js's shader compiler does: version, prelude, generated accessors, body. Shapes reach
the accessors as uniforms (:func:`shape_uniforms`), so a program depends on what its
shader needs, never on the lengths it runs on. An operand declared :func:`packed` gets
TF.js's packed accessors (``get<X>Texel`` and the value ``get<X>``), so bodies written for
the TF.js bundle's packed plan run here unchanged.
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


PACKED = "DDSPGL_PACKED"  # the define that names a program's packed operands


def packed(*names: str) -> dict[str, str]:
    """The define declaring operands (inputs by name, or "output") packed as TF.js packs a
    float [rows, cols]: a vec4 texture of [ceil(rows / 2), ceil(cols / 2)] texels, the
    texel (r, c) holding (2r, 2c), (2r, 2c + 1), (2r + 1, 2c), (2r + 1, 2c + 1)."""
    return {PACKED: " ".join(names)}


@dataclass(frozen=True)
class Operand:
    """A 2-D array [rows, cols] on a squarish texture of the given width.

    The shape is not part of a program's identity: accessors read it from uniforms, so
    one compiled program serves every shape.
    """

    name: str
    rows: int = field(compare=False)
    cols: int = field(compare=False)
    width: int = field(compare=False)
    channels: int  # 1: float elements, 4: vec4 elements

    @property
    def size(self) -> int:
        return self.rows * self.cols


@dataclass(frozen=True)
class ProgramSource:
    """Everything that determines a compiled fragment shader (shapes are uniforms)."""

    body: str | Path  # path under glsl/, or a file outside it
    inputs: tuple[Operand, ...]
    output: Operand
    uniforms: tuple[tuple[str, str], ...] = ()  # (GLSL type, name)
    defines: tuple[tuple[str, int | float | str], ...] = field(default_factory=tuple)

    def packed(self) -> set[str]:
        return {n for k, v in self.defines if k == PACKED for n in str(v).split()}


def _shape_uniform(op: Operand) -> str:
    return f"ddspgl_{op.name}"


def shape_uniforms(src: ProgramSource) -> dict[str, tuple[int, ...]]:
    """Values of the uniforms that carry the operands' shapes: (cols, texture width) per
    input, and (cols, texture width, last element) for the output."""
    values: dict[str, tuple[int, ...]] = {
        _shape_uniform(op): (op.cols, op.width) for op in src.inputs
    }
    out = src.output
    values[_shape_uniform(out)] = (out.cols, out.width, out.size - 1)
    return values


def _accessor(op: Operand, packed: bool) -> str:
    getter = "get" + op.name[0].upper() + op.name[1:]
    shape = _shape_uniform(op)
    fetch = (
        f"uniform highp sampler2D {op.name};\n"
        f"uniform ivec2 {shape};  // (elements per row, texture width)\n"
    )
    if packed:  # TF.js's packed accessors: the texel holding (row, col), and the value
        return fetch + (
            f"vec4 {getter}Texel(int row, int col) {{\n"
            f"    int i = (row >> 1) * {shape}.x + (col >> 1);\n"
            f"    return texelFetch({op.name}, ddspglDivMod(i, {shape}.y).yx, 0);\n"
            f"}}\n"
            f"float {getter}(int row, int col) {{\n"
            f"    return {getter}Texel(row, col)[2 * (row & 1) + (col & 1)];\n"
            f"}}\n"
        )
    ret, swizzle = ("float", ".r") if op.channels == 1 else ("vec4", "")
    return fetch + (
        f"{ret} {getter}(int row, int col) {{\n"
        f"    int i = row * {shape}.x + col;\n"
        f"    return texelFetch({op.name}, ddspglDivMod(i, {shape}.y).yx, 0){swizzle};\n"
        f"}}\n"
    )


def fragment_source(src: ProgramSource) -> str:
    packed_ops = src.packed()
    shape = _shape_uniform(src.output)
    # A packed output's coordinates are those of the texel's first value, as in TF.js.
    scale = "2 * " if "output" in packed_ops else ""
    lines = ["#version 300 es", resolve("prelude/harness.glsl")]
    lines += [f"#define {k} {v}" for k, v in src.defines if k != PACKED]
    lines += [f"uniform {t} {n};" for t, n in src.uniforms]
    lines.append(
        f"uniform ivec3 {shape};  // (elements per row, texture width, last element)\n"
        "ivec2 getOutputCoords() {\n"
        f"    int i = min(int(gl_FragCoord.y) * {shape}.y + int(gl_FragCoord.x), {shape}.z);\n"
        f"    return {scale}ddspglDivMod(i, {shape}.x);\n"
        "}\n"
    )
    lines += [_accessor(op, op.name in packed_ops) for op in src.inputs]
    lines.append(f"#line 1\n{resolve(src.body)}")
    return "\n".join(lines)


def vertex_source() -> str:
    return resolve("prelude/fullscreen.vert")
