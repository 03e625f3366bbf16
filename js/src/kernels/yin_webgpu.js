// Yin on webgpu: the YIN pitch tracker in WGSL compute shaders (kernels/yin_webgpu.py):
// each row's scale on the GPU, then the webgl kernel's three passes (block sums of squared
// differences, the difference function per frame, the per-frame pick) as dispatches. No
// readback: values the host still holds are checked there, as on webgl; a row only the
// GPU holds with NaN or Inf comes out NaN.

import {KERNEL_NAMES, YIN_WGSL_SCALE_WORKGROUP, YIN_WGSL_WORKGROUP} from
    '../generated/constants.js';
import {yinArgs} from '../checks.js';
import {kernelFn} from '../tfjs_kernel.js';
import {checkValues} from '../value_checks.js';
import {makeWGSLProgram} from '../wgsl_program.js';
import {WGSLPasses, webgpuHostValues} from '../wgsl_passes.js';
import {yinPlan} from './yin_plan.js';

const KERNEL = KERNEL_NAMES.yin;
const UNIFORMS = 'n : i32, batch : i32, frames : i32, block : i32, blocks : i32, ' +
                 'window : i32, stride : i32, span : i32, lags : i32, lags4 : i32, ' +
                 'lagMin : i32, lagMax : i32, threshold : f32, sampleRate : f32,';

function uniformData(a, pl) {
  const ints = [a.n, a.batch, a.frames, pl.block, pl.blocks, a.window, a.hop / pl.block,
                a.window / pl.block, pl.lags, pl.lags4, a.lagMin, a.lagMax];
  return [...ints.map(v => ({type: 'int32', data: [v]})),
          {type: 'float32', data: [a.threshold]}, {type: 'float32', data: [a.sr32]}];
}

// Every buffer the dispatches bind within the device's limit on one binding.
function checkSizes(backend, a, pl) {
  const limit = backend.device.limits.maxStorageBufferBindingSize;
  for (const elements of [a.batch * a.n, 4 * a.batch * pl.blocks * pl.lags4,
    4 * a.batch * a.frames * pl.lags4]) {
    if (4 * elements > limit) {
      throw new Error(
          `${KERNEL}: x: ${a.batch} rows of ${a.n} samples need ${4 * elements} bytes in one ` +
          `buffer (${pl.lags} lags), beyond this WebGPU device's limit of ${limit}; track ` +
          'shorter pieces');
    }
  }
}

function yinWebGPU({inputs, backend, attrs}) {
  const a = yinArgs(KERNEL, inputs.x, attrs);
  const pl = yinPlan(a);
  checkSizes(backend, a, pl);
  const held = webgpuHostValues(backend, inputs.x);
  if (held !== null) checkValues(KERNEL, 'x', held, 'float32');
  const values = uniformData(a, pl);
  const WG = YIN_WGSL_WORKGROUP;
  const program = (body, names, shape, groups, workgroupSize, constants = {}) =>
    makeWGSLProgram(body, names, shape, {constants, groups, workgroupSize, uniforms: UNIFORMS});
  const reshape = kernelFn('webgpu', 'Reshape');
  const x = reshape({inputs: {x: inputs.x}, backend, attrs: {shape: [a.batch, a.n]}});
  const passes = new WGSLPasses(backend);
  try {
    const scale = passes.run(
        program('yin_scale', ['x'], [a.batch, 2], a.batch, YIN_WGSL_SCALE_WORKGROUP,
                {WG: `${YIN_WGSL_SCALE_WORKGROUP}u`}),
        [x], 'int32', values);
    const blockCount = a.batch * pl.blocks;
    const blocks = passes.run(
        program('yin_blocks', ['x', 'scale'], [blockCount, pl.lags4, 4],
                Math.ceil(blockCount * pl.lags4 / WG), WG),
        [x, scale], 'float32', values);
    const frameCount = a.batch * a.frames;
    const diff = passes.run(
        program('yin_difference', ['blocks'], [frameCount, pl.lags4, 4],
                Math.ceil(frameCount * pl.lags4 / WG), WG),
        [blocks], 'float32', values);
    passes.free(blocks);
    const pick = passes.run(
        program('yin_pick', ['difference', 'scale'], [a.batch, a.frames, 4],
                Math.ceil(frameCount / WG), WG),
        [diff, scale], 'float32', values);
    return reshape({inputs: {x: pick}, backend, attrs: {shape: [...a.lead, a.frames, 4]}});
  } finally {
    passes.freeAll();
    backend.disposeData(x.dataId);
  }
}

export const kernelConfig = {kernelName: KERNEL, backendName: 'webgpu', kernelFunc: yinWebGPU};
