"""The wrapped cumsum on TF.js's webgpu backend: WGSL compute shaders, same arithmetic.

The residues, moduli and shifts are :mod:`cumsum`'s (integer residues modulo
``p = period * 2^shift``, or ``2^44`` signed for a plain cumsum), so the error analysis and
the budget are :func:`cumsum.budget`'s with float32 storage: webgpu tensors are float32.
Only the schedule differs, designed for compute (js/src/kernels/wrapped_cumsum_webgpu.js):

- a row of n scan elements is cut into blocks of ``BLOCK = WORKGROUP * PER_THREAD``; one
  workgroup per (row, block), each invocation adding ``PER_THREAD`` consecutive residues;
- ``cumsum_block_sums`` writes each block's residue sum (a workgroup scan in workgroup
  memory gives the total);
- the workgroup scans take three barriers each: invocation 0 scans the invocations' sums
  in order (glsl/wgsl/lib/workgroup_scan.wgsl). A tree takes two barriers per level, and
  SwiftShader switches between a workgroup's coroutines at every barrier: with workgroups
  of 256 and tree scans the kernel ran 8x slower there than with this schedule. Small
  workgroups with long runs per invocation serve the same end: 32 invocations (one warp or
  wave32 on a GPU) of 128 elements;
- ``cumsum_final`` reduces the row's earlier block sums itself (at most ``nb / WORKGROUP``
  additions per invocation: 1 at n = 2^20), scans the invocations' sums in workgroup memory
  and writes the outputs. Two dispatches for a periodic cumsum, one when a row is one
  block (n <= BLOCK); a plain cumsum first sums |x| per block (``cumsum_abs_blocks``) and
  chooses its shift on the GPU, per row, in ``cumsum_block_sums``: three dispatches and no
  readback;
- ``cumsum_block_sums`` also writes each block's float32 sum of |x|, and ``cumsum_final``
  writes NaN over a periodic row whose sum of them is NaN or Inf (one block: its own sum),
  as the webgl kernel does for values only the GPU holds (js/src/gpu_checks.js): the row
  holds NaN or Inf, or its sum of |x| overflows float32. The sums ride on the workgroup
  scans' barriers (wg_scan_residues_and_sum).

A plain cumsum's shift comes from a float32 sum T of |x| taken with at most
``k = PER_THREAD + 2 WORKGROUP + ceil(nb / WORKGROUP)`` roundings on any path (serial sums
within an invocation, within the workgroup, over the row's blocks); T times ``1 + k 2^-22``
bounds the true sum, and the shift is :meth:`cumsum.Modulus.plain`'s for that bound, so
the budget's quantisation term (its margin of 2^-13 on T) holds for ``k <= 2^9``, n up to
2^25.
"""

from __future__ import annotations

WORKGROUP = (
    32  # invocations per workgroup: a warp (NVIDIA), a wave32 (AMD), 8 x 4 lanes (SwiftShader)
)
PER_THREAD = 128  # consecutive scan elements per invocation
BLOCK = WORKGROUP * PER_THREAD  # scan elements per workgroup

WGSL_ABS_BLOCKS = "wgsl/kernels/cumsum_abs_blocks.wgsl"
WGSL_BLOCK_SUMS = "wgsl/kernels/cumsum_block_sums.wgsl"
WGSL_FINAL = "wgsl/kernels/cumsum_final.wgsl"
