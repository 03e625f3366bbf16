"""The YIN pitch tracker on TF.js's webgpu backend: WGSL compute shaders, same arithmetic.

The semantics, the float64 :func:`yin.reference` and the per-frame budget
(:func:`yin.deviation` with float32 storage: webgpu tensors are float32) are :mod:`yin`'s.
Each pass is the GLSL body's arithmetic, one invocation per output element
(js/src/kernels/yin_webgpu.js):

0. ``yin_scale``, one workgroup of :data:`SCALE_WORKGROUP` invocations per row: the row's
   scale exponent (:func:`yin.row_scale`, from the bits of its largest |x|) and whether it
   holds NaN or Inf, int32 [batch, 2]. The webgl kernel reads x back to scale and pad the
   rows on the host; here they stay on the GPU: the next pass reads x itself, scales it
   by 2^e on the bits (exact; no float operation, which a GPU may flush to zero on
   subnormal samples; a scaled sample below 2^-126 is zeroed, which moves d by under
   2^-111, inside the budget's absolute 2^-100) and reads zeros outside the row (the
   padding);
1. ``yin_blocks`` [batch * blocks, ceil(L / 4), 4], 2. ``yin_difference``
   [batch * frames, ceil(L / 4), 4] and 3. ``yin_pick`` [batch, frames, 4]: as
   ``yin_blocks.frag``, ``yin_difference.frag`` and ``yin_pick.frag``.

Four dispatches, no readback. WGSL's float32 arithmetic is the error analysis' (+, - and *
correctly rounded, division within 2.5 ulp for divisors in [2^-126, 2^126], as GLSL ES
highp): the budget holds as derived. Values the host still holds are checked there (NaN or
Inf refused, as on webgl); a row only the GPU holds with NaN or Inf gives NaN frames.
"""

from __future__ import annotations

SCALE_WORKGROUP = 32  # invocations reducing one row's largest |x|
WORKGROUP = 64  # invocations per workgroup of the per-element passes

WGSL_SCALE = "wgsl/kernels/yin_scale.wgsl"
WGSL_BLOCKS = "wgsl/kernels/yin_blocks.wgsl"
WGSL_DIFFERENCE = "wgsl/kernels/yin_difference.wgsl"
WGSL_PICK = "wgsl/kernels/yin_pick.wgsl"
