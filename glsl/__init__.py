"""GLSL ES 3.00 sources: helper libraries, kernel bodies and host preludes.

Read them through :func:`ddspgl.harness.shader.resolve`, which expands the
``#include`` lines that GLSL ES lacks, for the harness and the TF.js emitter alike.
"""
