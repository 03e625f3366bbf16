// WrappedCumsum on webgl: the cumsum along the last axis, wrapped modulo a period inside
// the kernel (kernels/cumsum.py), with the bundle's packed pass plan (cumsum_plan.js).

import * as tf from '@tensorflow/tfjs-core';

import {ABS_SUM_BLOCK, KERNEL_NAMES} from '../generated/constants.js';
import {checkTensor, cumsumAttrs} from '../checks.js';
import {ExactInputs} from '../exact_upload.js';
import {wrappedCumsumJS} from '../fallback/cumsum.js';
import {wrappedCumsumGrad} from '../gradients.js';
import {CUMSUM_FINAL_SHIM} from '../gpu_checks.js';
import {wrappedCumsumNode} from '../ops.js';
import {Passes} from '../passes.js';
import {makeProgram} from '../program.js';
import {float32Render, withSquareTextures} from '../textures.js';
import {kernelFn} from '../tfjs_kernel.js';
import {checkCumsumValues, g, hostValues, storageOf} from '../value_checks.js';
import {bundlePlan, periodicModulus, plainModulus, scaleOf} from './cumsum_plan.js';
import {downSweep, packedOpts, upSweep} from './cumsum_sweep.js';
import {wrappedCumsumWebGPU} from './wrapped_cumsum_webgpu.js';

export {patchCumsum, unpatchCumsum} from '../cumsum_patch.js';
export {wrappedCumsum} from '../ops.js';

const KERNEL = KERNEL_NAMES.cumsum;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

// Each row's float32 sum of |x| for x [rows, n] on the GPU (abs_sum.frag): [rows, 1, 2, 2],
// the digits of its bits, and the number of levels that summed it.
function absSums(passes, x2) {
  const [rows, n] = x2.shape;
  const B = ABS_SUM_BLOCK;
  let source = x2;
  let len = n;
  let levels = 0;
  do {
    const next = Math.ceil(len / B);
    const raw = source === x2;
    const program = makeProgram(
        'abs_sum', [raw ? 'x' : 'partial'], [rows, next, 2, 2],
        {ABS_SUM_BLOCK: B, ABS_SUM_SOURCE_LEN: len, ABS_SUM_SOURCE_RAW: raw ? 1 : 0},
        {packedInputs: true, packedOutput: true, digitInputs: raw ? [] : ['partial'],
         uniforms: false});
    const out = passes.run(program, [source]);
    if (!raw) passes.free(source);
    source = out;
    len = next;
    levels += 1;
  } while (len > 1);
  return {sums: source, levels};
}

// Upper bound on the largest row's sum of |x| for x [rows, n] on the GPU (absSums), read
// back: a plain cumsum needs it on the host to choose its shift.
function absSumBound(passes, x2) {
  const rows = x2.shape[0];
  const B = ABS_SUM_BLOCK;
  const {sums, levels} = absSums(passes, x2);
  const digits = passes.backend.readSync(sums.dataId);
  passes.free(sums);
  let total = 0;
  for (let r = 0; r < rows; ++r) {
    const d = digits.subarray(4 * r, 4 * r + 4);
    U32[0] = (Math.round(d[0]) | (Math.round(d[1]) << 11) | (Math.round(d[2]) << 22)) >>> 0;
    total = Math.max(total, F32[0]);
  }
  if (!Number.isFinite(total)) {
    throw new Error(
        `${KERNEL}: x: a row's sum of |x| is ${g(total)}: x holds NaN or Inf, or that sum ` +
        "overflows float32's range");
  }
  // Float32 summation: at most levels * (B - 1) roundings of 2^-24 relative each.
  return total * (1 + levels * B * 2 ** -24);
}

// The wrapped (or plain) cumsum of x [rows, n] along its last axis with bundlePlan: every
// pass reads and writes packed textures, so a packed x is read as it is (an unpacked one is
// packed once), and the result [rows, n] is packed. With `poison` (x only on the GPU, a
// period), rows whose sum of |x| is not finite come out NaN (gpu_checks.js).
function cumsumWebGL(backend, x2, {period, exclusive, reverse}, poison) {
  const [rows, n] = x2.shape;
  const passes = new Passes(backend);
  try {
    const xp = passes.packed(x2);
    const mod = period !== null ? periodicModulus(period) :
                                  plainModulus(absSumBound(passes, xp), n);
    const values = [[mod.lo, mod.hi], [mod.shift], scaleOf(mod.shift)];
    // A reverse scan over an odd n counts a zero in front, so output pairs stay aligned.
    const nScan = reverse && n % 2 ? n + 1 : n;
    const pl = bundlePlan(nScan);
    const raw = {CUMSUM_SOURCE_LEN: n, CUMSUM_SCAN_LEN: nScan, CUMSUM_REVERSE: reverse ? 1 : 0};
    const leaf = passes.run(
        makeProgram('cumsum_leaf4', ['x'], [rows, pl.lengths[1], 2, 2], raw, packedOpts(['x'])),
        [xp], values);
    const upper = downSweep(passes, upSweep(passes, leaf, pl, rows, values), pl, rows, values);
    // Final pass: two outputs per row in a texel, from a block prefix and their own inputs.
    const flag = poison && period !== null ? absSums(passes, xp).sums : null;
    const names = flag ? ['x', 'upper', 'flag'] : ['x', 'upper'];
    const program = makeProgram(
        'cumsum_final_packed', names, [rows, n],
        {...raw, CUMSUM_ROWS: rows, CUMSUM_INCLUSIVE: exclusive ? 0 : 1,
         CUMSUM_SIGNED: mod.signed ? 1 : 0, CUMSUM_ROUND_F16: float32Render() ? 0 : 1},
        {...packedOpts(names), extra: flag ? CUMSUM_FINAL_SHIM : ''});
    const result = passes.run(program, flag ? [xp, upper, flag] : [xp, upper], values);
    passes.free(xp);  // a packed copy of x, if one was made
    return passes.keep(result);
  } finally {
    passes.freeAll();
  }
}

// x [..., n] -> [rows, n] through the backend's own Reshape (which repacks when needed);
// in float16 mode an x the host holds is uploaded exactly, packed [rows, n].
function lastAxisRun(backend, x, attrs, poison) {
  const n = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / n;
  const exact = new ExactInputs(backend);
  const x2 = kernelFn('webgl', 'Reshape')({inputs: {x: exact.input(x, {packed: true,
    shape: [rows, n]})}, backend, attrs: {shape: [rows, n]}});
  try {
    const out = withSquareTextures(() => cumsumWebGL(backend, x2, attrs, poison));
    try {  // packed: free unless x's last two axes pack differently from [rows, n]
      return kernelFn('webgl', 'Reshape')({inputs: {x: out}, backend, attrs: {shape: x.shape}});
    } finally {
      backend.disposeIntermediateTensorInfo(out);
    }
  } finally {
    backend.disposeIntermediateTensorInfo(x2);
    exact.release();
  }
}

// Values the host holds are checked there (value_checks.js); values only on the GPU, by
// the kernel as it runs (gpu_checks.js).
function wrappedCumsumWebGL({inputs, backend, attrs}) {
  checkTensor(KERNEL, inputs.x);
  const storage = storageOf('webgl');
  const a = cumsumAttrs(KERNEL, attrs, {periodRequired: false, storage});
  const values = hostValues(backend, inputs.x);
  if (values !== null) {
    checkCumsumValues(KERNEL, values, inputs.x.shape, a, storage);
  }
  return lastAxisRun(backend, inputs.x, a, values === null);
}

export const kernelConfigs = [
  {kernelName: KERNEL, backendName: 'webgl', kernelFunc: wrappedCumsumWebGL},
  {kernelName: KERNEL, backendName: 'webgpu', kernelFunc: wrappedCumsumWebGPU},
  {kernelName: KERNEL, backendName: 'cpu', kernelFunc: wrappedCumsumJS('cpu')},
  {kernelName: KERNEL, backendName: 'wasm', kernelFunc: wrappedCumsumJS('wasm')},
];
export const gradientConfigs = [{kernelName: KERNEL, gradFunc: wrappedCumsumGrad}];
export const graphOps = {[KERNEL]: wrappedCumsumNode};
