/*
contributors: ddspgl
description: |
    The host side of the kernel helper interface for the moderngl harness.
    The harness assembles a fragment shader as `#version 300 es`, this prelude,
    the accessors it generates from the program's shapes (getOutputCoords(),
    get<Input>(...), custom uniforms, #defines) and then the kernel body.
    The same bodies compile inside TF.js's WebGL backend, whose shader compiler
    provides the same names.
use: setOutput(<float|vec4> value)
*/

precision highp float;
precision highp int;
precision highp sampler2D;

out vec4 ddspglFragColor;

void setOutput(float value) { ddspglFragColor = vec4(value, 0.0, 0.0, 0.0); }
void setOutput(vec4 value) { ddspglFragColor = value; }

// (i / d, i % d) for i >= 0, d > 0. Software renderers divide integers by a uniform one
// lane at a time; a float estimate and an exact integer correction cost a few vector
// instructions. The estimate float(i) / float(d) is off by at most 2 while i / d < 2^22
// (two float32 roundings of i and of the quotient, plus the truncation), which every
// texture index here satisfies; beyond, the integer division gives the exact answer.
ivec2 ddspglDivMod(int i, int d) {
    int q = int(float(i) / float(d));
    int r = i - q * d;
    if (r < 0) { q -= 1; r += d; }
    if (r < 0) { q -= 1; r += d; }
    if (r >= d) { q += 1; r -= d; }
    if (r >= d) { q += 1; r -= d; }
    if (r < 0 || r >= d) { q = i / d; r = i - q * d; }
    return ivec2(q, r);
}
