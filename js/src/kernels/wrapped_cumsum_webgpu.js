// WrappedCumsum on webgpu: the cumsum along the last axis, wrapped modulo a period inside
// the kernel, in WGSL compute shaders (kernels/cumsum_webgpu.py): the same residues as on
// webgl, runs of WGSL_PER_THREAD elements added by one invocation each. A periodic cumsum
// takes three dispatches (runs' sums, their scan, the outputs; one when a row is one block
// of WGSL_WORKGROUP runs, scanned in workgroup memory), a plain one three too, blocks of
// WGSL_WORKGROUP runs, choosing its shift on the GPU: no readback. The runs' scan uses
// subgroup operations where the device has the 'subgroups' feature (webgpu_subgroups.js,
// ddspgl.requestWebGPUSubgroups), with the same outputs bit for bit. A row whose sum of
// |x| is NaN or Inf comes out NaN, periodic or plain (values only the GPU holds; the
// host's are refused).

import * as tf from '@tensorflow/tfjs-core';

import {
  KERNEL_NAMES, SIGNED_MODULUS_HI, WGSL_PER_THREAD, WGSL_WORKGROUP,
} from '../generated/constants.js';
import {checkTensor, cumsumAttrs} from '../checks.js';
import {kernelFn} from '../tfjs_kernel.js';
import {checkCumsumValues} from '../value_checks.js';
import {makeWGSLProgram} from '../wgsl_program.js';
import {webgpuSubgroups} from '../webgpu_subgroups.js';
import {periodicModulus, scaleOf} from './cumsum_plan.js';

const KERNEL = KERNEL_NAMES.cumsum;
const BLOCK = WGSL_WORKGROUP * WGSL_PER_THREAD;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

const UNIFORMS = 'modulus : vec2<u32>, scale : vec2<f32>, shift : i32, n : i32, nb : i32, ' +
                 'rows : i32, absMargin : f32, plainLimit : f32, runs : i32, runGroups : i32,';

// The largest float32 f with f * 2^43 + 1.5 n + 1 < 2^43 (cumsum_block_sums: the
// significand of the bound on sum |x| for which the larger shift still fits).
function plainLimit(n) {
  const v = 1 - (1.5 * n + 1) * 2 ** -43;  // exact in float64 for n < 2^30
  F32[0] = v;
  if (F32[0] >= v) U32[0] -= 1;  // the next float32 down (v is in (0.5, 1))
  return F32[0];
}

// The uniforms' values, in UNIFORMS' order.
function uniformData(rows, n, nb, runs, period) {
  const mod = period === null ? {lo: 0, hi: SIGNED_MODULUS_HI, shift: 0} :
                                periodicModulus(period);
  // Roundings on any path of the float32 sum of |x|, every one serial: PER_THREAD in an
  // invocation and WORKGROUP in the workgroup per block (cumsum_abs_blocks), then
  // ceil(nb / WORKGROUP) and WORKGROUP over the row (cumsum_block_sums): the true sum is
  // within (1 + k 2^-22) of it.
  const k = WGSL_PER_THREAD + 2 * WGSL_WORKGROUP + Math.ceil(nb / WGSL_WORKGROUP);
  return [
    {type: 'uint32', data: [mod.lo >>> 0, mod.hi >>> 0]},
    {type: 'float32', data: scaleOf(mod.shift)},
    {type: 'int32', data: [mod.shift]},
    {type: 'int32', data: [n]},
    {type: 'int32', data: [nb]},
    {type: 'int32', data: [rows]},
    {type: 'float32', data: [1 + k * 2 ** -22]},
    {type: 'float32', data: [plainLimit(n)]},
    {type: 'int32', data: [runs]},
    {type: 'int32', data: [Math.ceil(runs / WGSL_WORKGROUP)]},
  ];
}

const wgslBool = b => (b ? 'true' : 'false');

// The wrapped (or plain, period null) cumsum of x [rows, n] along its last axis.
function cumsumWebGPU(backend, x2, {period, exclusive, reverse}) {
  const [rows, n] = x2.shape;
  const nb = Math.ceil(n / BLOCK);
  const runs = Math.ceil(n / WGSL_PER_THREAD);
  const plain = period === null;
  const values = uniformData(rows, n, nb, runs, period);
  const constants = {WG: `${WGSL_WORKGROUP}u`, PER: `${WGSL_PER_THREAD}u`,
                     REVERSE: wgslBool(reverse), PLAIN: wgslBool(plain),
                     INCLUSIVE: wgslBool(!exclusive)};
  const run = (body, inputs, names, shape, dtype, groups, more = {}) => backend.runWebGPUProgram(
      makeWGSLProgram(body, names, shape, {
        constants: {...constants, ...more.constants}, extra: more.extra, uniforms: UNIFORMS,
        groups, workgroupSize: WGSL_WORKGROUP}),
      inputs, dtype, values);
  const temps = [];
  try {
    if (!plain && nb > 1) {
      // Runs: their sums, their prefixes (a workgroup per row), the outputs.
      const runGroups = rows * Math.ceil(runs / WGSL_WORKGROUP);
      const sums = run('cumsum_run_sums', [x2], ['x'], [rows, 3 * runs], 'int32', runGroups);
      temps.push(sums);
      // The scan: its subgroup variant where the device has subgroups (the same words).
      const scan = webgpuSubgroups(backend) ? 'cumsum_run_scan_subgroups' : 'cumsum_run_scan';
      const prefixes = run(scan, [sums], ['sums'], [rows, 2 * runs + 1], 'int32', rows);
      temps.push(prefixes);
      backend.disposeData(temps.shift().dataId);  // the sums: read by the scan alone
      return run('cumsum_run_final', [x2, prefixes], ['x', 'prefixes'], [rows, n], 'float32',
                 runGroups);
    }
    let sums = null;
    if (plain) {
      const absBlocks = run('cumsum_abs_blocks', [x2], ['x'], [rows, nb], 'float32', rows * nb);
      temps.push(absBlocks);
      sums = run('cumsum_block_sums', [x2, absBlocks], ['x', 'absBlocks'], [rows, 2 * nb + 2],
                 'int32', rows * nb,
                 {extra: 'fn cumsum_abs_block(i: i32) -> f32 { return absBlocks[i]; }'});
      temps.push(sums);
    }
    return run('cumsum_final', plain ? [x2, sums] : [x2], plain ? ['x', 'blockSums'] : ['x'],
               [rows, n], 'float32', rows * nb, {
                 extra: 'fn cumsum_block_word(i: i32) -> i32 { return ' +
                        (plain ? 'blockSums[i]; }' : '0; }'),
               });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

// The webgpu kernel function: x [..., n] as [rows, n] through the backend's Reshape.
// Values the host still holds (not yet uploaded) are checked there, as on webgl
// (value_checks.js); float32 storage.
export function wrappedCumsumWebGPU({inputs, backend, attrs}) {
  checkTensor(KERNEL, inputs.x);
  const a = cumsumAttrs(KERNEL, attrs, {periodRequired: false, storage: 'float32'});
  const {x} = inputs;
  const held = backend.tensorMap.get(x.dataId);
  if (held != null && held.values != null) {
    checkCumsumValues(KERNEL, held.values, x.shape, a, 'float32');
  }
  const n = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / n;
  const reshape = kernelFn('webgpu', 'Reshape');
  const x2 = reshape({inputs: {x}, backend, attrs: {shape: [rows, n]}});
  try {
    const out = cumsumWebGPU(backend, x2, a);
    try {
      return reshape({inputs: {x: out}, backend, attrs: {shape: x.shape}});
    } finally {
      backend.disposeData(out.dataId);
    }
  } finally {
    backend.disposeData(x2.dataId);
  }
}
