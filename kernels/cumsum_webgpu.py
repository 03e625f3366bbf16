"""The wrapped cumsum on TF.js's webgpu backend: WGSL compute shaders, same arithmetic.

The residues, moduli and shifts are :mod:`cumsum`'s (integer residues modulo
``p = period * 2^shift``, or ``2^44`` signed for a plain cumsum), so the error analysis and
the budget are :func:`cumsum.budget`'s with float32 storage: webgpu tensors are float32.
Only the schedule differs, designed for compute (js/src/kernels/wrapped_cumsum_webgpu.js):

- a row of n scan elements is cut into runs of ``PER_THREAD`` consecutive elements, one
  invocation per run, ``WORKGROUP`` invocations per workgroup (a block of ``BLOCK =
  WORKGROUP * PER_THREAD`` elements);
- a periodic row of several blocks takes three dispatches: ``cumsum_run_sums`` writes each
  run's residue sum (a signed 64-bit sum of the values' residue magnitudes, reduced modulo
  p once: at most ``PER_THREAD`` <= 2^12 terms below p, glsl/wgsl/lib/residue.wgsl) and
  its float32 sum of |x|, every invocation alone (no workgroup memory, no barrier);
  ``cumsum_run_scan``, one workgroup per row, scans the row's run
  sums (``runs / WORKGROUP`` serial additions per invocation and one workgroup scan) into
  each run's exclusive prefix; ``cumsum_run_final`` starts each invocation from its run's
  prefix and writes its outputs, again without barriers. Each input is read and
  converted to its residue twice (the two-dispatch schedule before it, block sums then
  outputs, converted three times and held six barriers per block: at n = 2^20 this one
  takes about half its device time on SwiftShader);
- a periodic row of one block (n <= BLOCK) is one dispatch, ``cumsum_final``: each
  invocation's sum, a workgroup scan of those in workgroup memory, the outputs;
- the workgroup scans take three barriers each: invocation 0 scans the invocations' sums
  in order (glsl/wgsl/lib/workgroup_scan.wgsl). A tree takes two barriers per level, and
  SwiftShader switches between a workgroup's coroutines at every barrier: with workgroups
  of 256 and tree scans the kernel ran 8x slower there than with this schedule. Small
  workgroups with long runs per invocation serve the same end: 32 invocations (one warp or
  wave32 on a GPU) of 128 elements;
- where TF.js's device has the ``subgroups`` feature (``ddspgl.requestWebGPUSubgroups()``
  before ``tf.setBackend('webgpu')``, js/src/webgpu_subgroups.js), the periodic scan
  dispatch is ``cumsum_run_scan_subgroups`` (glsl/wgsl/lib/subgroup_scan.wgsl): one
  barrier, each residue's two 22-bit limbs added exactly by ``subgroupExclusiveAdd`` and
  ``subgroupAdd`` within a subgroup and through workgroup memory across subgroups, then
  reduced modulo p; runs are dealt to slots that a workgroup atomic orders by subgroup
  (lane and invocation index are not related in WGSL, and TF.js writes the entry point, so
  no builtin is read), and slot 0 adds the sums of |x| in slot order as the fallback's
  invocation 0 does. The words it writes are the fallback's bit for bit; on SwiftShader
  (4-wide subgroups) it is not faster;
- a plain cumsum first sums |x| per block (``cumsum_abs_blocks``) and chooses its shift on
  the GPU, per row, in ``cumsum_block_sums``, which writes each block's residue sum;
  ``cumsum_final`` reduces the row's earlier block sums itself (at most ``nb /
  WORKGROUP`` additions per invocation: 8 at n = 2^20), scans the invocations' sums in
  workgroup memory and writes the outputs: three dispatches and no readback;
- a periodic row whose float32 sum of |x| (its runs' sums; one block: the workgroup's) is
  NaN or Inf comes out NaN, as the webgl kernel writes for values only the GPU holds
  (js/src/gpu_checks.js): the row holds NaN or Inf, or its sum of |x| overflows float32.

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
WGSL_RUN_SUMS = "wgsl/kernels/cumsum_run_sums.wgsl"
WGSL_RUN_SCAN = "wgsl/kernels/cumsum_run_scan.wgsl"
WGSL_RUN_SCAN_SUBGROUPS = "wgsl/kernels/cumsum_run_scan_subgroups.wgsl"
WGSL_RUN_FINAL = "wgsl/kernels/cumsum_run_final.wgsl"
