"""The GLSL include resolver and the generated helper interface."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddspgl.harness import ContextError
from ddspgl.harness.shader import (
    Operand,
    ProgramSource,
    fragment_source,
    packed,
    resolve,
    shape_uniforms,
)
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


def _source(x_shape=(3, 1000, 55), partial_shape=(3, 63, 14), defines=()):
    return ProgramSource(
        body="kernels/cumsum_reduce.frag",
        inputs=(Operand("x", *x_shape, 1), Operand("partial", *partial_shape, 4)),
        output=Operand("output", *partial_shape, 4),
        uniforms=(("ivec2", "modulus"),),
        defines=(("CUMSUM_BLOCK", 16),) + defines,
    )


def test_generated_accessors_follow_the_layout():
    src = _source()
    text = fragment_source(src)
    assert text.startswith("#version 300 es\n")
    assert "float getX(int row, int col)" in text and "ddspglDivMod(i, ddspgl_x.y).yx" in text
    assert "vec4 getPartial(int row, int col)" in text
    assert "int i = min(int(gl_FragCoord.y) * ddspgl_output.y + int(gl_FragCoord.x), " in text
    assert "#define CUMSUM_BLOCK 16" in text and "uniform ivec2 modulus;" in text
    # Shapes are uniforms: (elements per row, texture width), and the output's last element.
    assert shape_uniforms(src) == {
        "ddspgl_x": (1000, 55),
        "ddspgl_partial": (63, 14),
        "ddspgl_output": (63, 14, 188),
    }


def test_programs_do_not_depend_on_shapes():
    a, b = _source(), _source((5, 70001, 592), (5, 4376, 148))
    assert a == b and hash(a) == hash(b)
    assert fragment_source(a) == fragment_source(b)
    assert a != _source(defines=(("CUMSUM_REVERSE", 1),))


def test_packed_operands_get_tfjs_packed_accessors():
    src = _source(defines=tuple(packed("x", "output").items()))
    text = fragment_source(src)
    assert "DDSPGL_PACKED" not in text
    assert "vec4 getXTexel(int row, int col)" in text
    assert "int i = (row >> 1) * ddspgl_x.x + (col >> 1);" in text
    assert "return getXTexel(row, col)[2 * (row & 1) + (col & 1)];" in text
    assert "return 2 * ddspglDivMod(i, ddspgl_output.x);" in text
    assert src.packed() == {"x", "output"}


def test_packed_accessors_read_what_pack_wrote(ctx):
    """A packed x read back through getX (value) and getXTexel matches the host's pack."""
    import numpy as np

    from ddspgl.kernels import cumsum

    x = np.arange(35, dtype=np.float32).reshape(5, 7)
    texels = cumsum.pack(x)
    tex = ctx.texture(texels.shape[0], texels.shape[1], 4, "float32")
    out = ctx.texture(texels.shape[0], texels.shape[1], 4, "float32")
    try:
        tex.write(texels)
        ctx.run(TEST_GLSL / "packedCopy.frag", {"x": tex}, out, defines=packed("x", "output"))
        np.testing.assert_array_equal(out.read(), texels)
    finally:
        tex.release()
        out.release()


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
