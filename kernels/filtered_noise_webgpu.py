"""The filtered noise synthesizer on TF.js's webgpu backend: WGSL compute shaders, same arithmetic.

The semantics, the float64 :func:`filtered_noise.reference` and the per-sample budget
(:func:`filtered_noise.derived_bound`; float32 storage, so no write term: webgpu tensors
are float32) are :mod:`filtered_noise`'s. Two dispatches, as the webgl kernel's two passes
(js/src/kernels/filtered_noise_webgpu.js):

1. ``filtered_noise_ir``, one invocation per (frame, tap): the tap ``g_j S`` with the same
   table of float32-rounded cosines, the same products in the same order, the same
   compensated sum; float32 [batch * frames, L]. The webgl kernel writes each tap as three
   base-2^11 digits so that float16 textures hold it exactly; a float32 buffer holds it as
   it is, so the tables are float32 too (cosines [N], ``(g_j, s_j)`` [L, 2]);
2. ``filtered_noise_audio``, one invocation per sample, a workgroup per :data:`WORKGROUP`
   consecutive samples of a row: the webgl pass's loops over frames and taps and its
   compensated sum. The noise is the same counter-based stream, bit for bit
   (glsl/wgsl/lib/noise_uniform.wgsl: WGSL's ``u32`` arithmetic wraps modulo 2^32 as
   GLSL's does), but a workgroup draws the ``WORKGROUP + L - 1`` values its samples read
   into workgroup memory once, before one barrier: ``1 + (L - 1) / WORKGROUP`` draws (two
   PCG rounds each) per sample instead of L (about 3 instead of 128 at the production
   shape).

WGSL's float32 ``+``, ``-`` and ``*`` are correctly rounded (a compiler may flush subnormal
values to zero, as the budget's FLUSH term allows, or contract a product into the next
sum, which rounds one operation fewer), so the error analysis' terms 1-5 hold as derived:
``EPS_TAP c_j H_i + FLUSH`` per tap reaching a sample. No readback: magnitudes the host
still holds are checked there (value_checks.js), as on webgl; a frame only the GPU holds
with NaN or Inf writes NaN taps (a bit test), and every sample reading one is NaN.
"""

from __future__ import annotations

from . import filtered_noise

WORKGROUP = 64  # samples per workgroup of the audio pass, invocations per per-tap workgroup
MAX_TAPS = 2 * (filtered_noise.MAX_BANDS - 1)  # L <= N = 2 (K - 1)
# Bytes of workgroup memory the audio pass may take at the most (WebGPU's default limit is
# 16384): its noise block of WORKGROUP + L - 1 float32 values.
NOISE_BLOCK_BYTES = 4 * (WORKGROUP + MAX_TAPS - 1)

WGSL_IR = "wgsl/kernels/filtered_noise_ir.wgsl"
WGSL_AUDIO = "wgsl/kernels/filtered_noise_audio.wgsl"
WGSL_NOISE = "wgsl/lib/noise_uniform.wgsl"
