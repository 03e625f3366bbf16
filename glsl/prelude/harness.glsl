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
