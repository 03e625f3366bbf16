"""glsl/wgsl/lib/sin_two_pi.wgsl: the WGSL harmonic synthesizer's sine, in float32 on the host.

The shader's polynomial coefficients are kernels/harmonic_webgpu.SIN_TWO_PI; numpy's float32
arithmetic rounds each operation as WGSL specifies (+, - and * correctly rounded), so
evaluating the shader's fold and Horner order here gives what a GPU computes without fused
multiply-adds. Checked against float64 sin(2 pi x) on a dense grid and at the fold points:
within harmonic.SIN_ERROR, the error analysis' term 3. The browser test
(tests/browser/test_webgpu_harmonic.py) runs the WGSL itself.
"""

from __future__ import annotations

import re

import numpy as np

from ddspgl.harness.shader import resolve
from ddspgl.kernels import harmonic, harmonic_webgpu


def _sin_two_pi(x: np.ndarray) -> np.ndarray:
    """sin_two_pi4 in float32, operation by operation."""
    c1, c3, c5, c7, c9 = (np.float32(c) for c in harmonic_webgpu.SIN_TWO_PI)
    x = x.astype(np.float32)
    half = np.float32(0.5)
    f = np.where(np.abs(x) > np.float32(0.25), np.sign(x) * half - x, x).astype(np.float32)
    z = f * f
    p = c9 * z + c7
    p = p * z + c5
    p = p * z + c3
    p = p * z + c1
    return f * p


def test_the_shader_holds_the_spec_coefficients():
    text = resolve(harmonic_webgpu.WGSL_SIN)
    body = text[text.index("fn sin_two_pi4") :]
    literals = [abs(float(v)) for v in re.findall(r"(\d+\.\d+)f", body)]
    want = [abs(c) for c in harmonic_webgpu.SIN_TWO_PI]
    assert sorted(set(literals) - {0.25, 0.5}) == sorted(want)
    assert all(float(np.float32(c)) == c for c in harmonic_webgpu.SIN_TWO_PI)
    # Horner from x^9 down, signs as in the spec: c9 z - |c7| ... + c1.
    signs = re.findall(r"([+-]) (\d+\.\d+)f\)", body)
    assert [float(s + v) for s, v in signs] == list(harmonic_webgpu.SIN_TWO_PI[3:0:-1])


def test_within_the_sine_error_on_a_dense_grid():
    grid = np.linspace(-0.5, 0.5, 2**22 + 1, dtype=np.float32)
    folds = np.array([0.25, -0.25, 0.5, -0.5, 0.0], np.float32)
    edges = np.nextafter(folds, np.float32(1)), np.nextafter(folds, np.float32(-1))
    x = np.concatenate([grid, folds, *edges]).astype(np.float32)
    x = x[np.abs(x) <= 0.5]
    err = np.abs(_sin_two_pi(x).astype(np.float64) - np.sin(2 * np.pi * x.astype(np.float64)))
    assert err.max() <= 2.0**-22.5 < harmonic.SIN_ERROR, np.log2(err.max())


def test_the_fold_is_exact():
    """sign(x) / 2 - x is exact for |x| in [1/4, 1/2] (Sterbenz): checked on every float32
    in [1/4, 1/2] that a grid of 2^20 steps reaches, both signs."""
    x = np.linspace(0.25, 0.5, 2**20 + 1, dtype=np.float32)
    for s in (1.0, -1.0):
        v = (s * x).astype(np.float32)
        folded = (np.float32(s * 0.5) - v).astype(np.float32)
        assert np.array_equal(folded.astype(np.float64), s * 0.5 - v.astype(np.float64))
