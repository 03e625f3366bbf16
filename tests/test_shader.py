"""The GLSL include resolver and the generated helper interface."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddspgl.harness import ContextError
from ddspgl.harness.shader import Operand, ProgramSource, fragment_source, resolve
from paths import TEST_GLSL


def test_every_include_is_expanded_once():
    src = resolve("kernels/cumsum_scan.frag")
    assert "#include" not in src
    # resAdd.glsl is included by three files but appears once.
    assert src.count("uvec2 resAdd(uvec2 a, uvec2 b, uvec2 p) {") == 1
    assert src.count("#define FNC_RESADD") == 1


def test_body_outside_the_package_resolves_includes_from_the_root():
    src = resolve(TEST_GLSL / "roundF16.frag")
    assert "float roundF16(float v)" in src and "#include" not in src


def test_missing_and_escaping_includes_are_errors(tmp_path: Path):
    bad = tmp_path / "bad.frag"
    bad.write_text('#include "lib/nope.glsl"\n')
    with pytest.raises(FileNotFoundError, match="glsl/lib/nope.glsl"):
        resolve(bad)
    with pytest.raises(ValueError, match="leaves the glsl/ tree"):
        resolve("../pyproject.toml")


def test_generated_accessors_follow_the_layout():
    src = fragment_source(
        ProgramSource(
            body="kernels/cumsum_reduce.frag",
            inputs=(Operand("x", 3, 1000, 55, 1), Operand("partial", 3, 63, 14, 4)),
            output=Operand("output", 3, 63, 14, 4),
            uniforms=(("ivec2", "modulus"),),
            defines=(("CUMSUM_BLOCK", 16),),
        )
    )
    assert src.startswith("#version 300 es\n")
    assert "float getX(int row, int col)" in src and "i % 55, i / 55" in src
    assert "vec4 getPartial(int row, int col)" in src
    assert "int i = int(gl_FragCoord.y) * 14 + int(gl_FragCoord.x);" in src
    assert "i = min(i, 188);" in src
    assert "#define CUMSUM_BLOCK 16" in src and "uniform ivec2 modulus;" in src


def test_compile_error_names_the_body_and_the_renderer(ctx):
    import numpy as np

    x = ctx.upload(np.zeros((1, 4), np.float32))
    out = ctx.texture(1, 4, 1, "float32")
    try:
        with pytest.raises(ContextError, match="broken.frag failed to compile on"):
            ctx.run(TEST_GLSL / "broken.frag", {"x": x}, out)
    finally:
        x.release()
        out.release()
