// FilteredNoise on webgpu: DDSP's filtered noise synthesizer in WGSL compute shaders
// (kernels/filtered_noise_webgpu.py): each frame's impulse-response taps, then the audio
// pass, each workgroup drawing the noise its samples read into workgroup memory. No
// readback: magnitudes the host still holds are checked there, as on webgl; a frame only
// the GPU holds with NaN or Inf makes the samples its taps reach NaN.

import {KERNEL_NAMES, NOISE_WGSL_WORKGROUP} from '../generated/constants.js';
import {checkNoiseValues, filteredNoiseArgs} from './filtered_noise_args.js';
import {makeWGSLProgram} from '../wgsl_program.js';
import {WGSLPasses, webgpuHostValues} from '../wgsl_passes.js';

const KERNEL = KERNEL_NAMES.filtered_noise;
const UNIFORMS = 'batch : i32, frames : i32, bands : i32, irSize : i32, taps : i32, ' +
                 'hop : i32, samples : i32, start : i32, seed : u32, sampleOffset : u32,';

function uniformData(a) {
  const ints = [a.batch, a.frames, a.bands, a.irSize, a.geometry.coef.length, a.hop, a.n,
                a.start];
  return [...ints.map(v => ({type: 'int32', data: [v]})),
          {type: 'uint32', data: [a.seed >>> 0]}, {type: 'uint32', data: [a.sampleOffset]}];
}

// (cosines [N], taps [L, 2]) as float32: float32(cos(2 pi m / N)), and (float32(c_j / N),
// s_j) per tap (kernels/filtered_noise.tables' values, without the digits a float16
// texture needs).
function tables(backend, a) {
  const n = a.irSize;
  const {source, coef} = a.geometry;
  const cos = Float32Array.from({length: n}, (_, m) => Math.cos(2 * Math.PI * m / n));
  const taps = new Float32Array(2 * coef.length);
  coef.forEach((c, j) => taps.set([c / n, source[j]], 2 * j));
  return [backend.makeTensorInfo([n], 'float32', cos),
          backend.makeTensorInfo([coef.length, 2], 'float32', taps)];
}

// Every buffer the dispatches bind within the device's limit on one binding.
function checkSizes(backend, a) {
  const limit = backend.device.limits.maxStorageBufferBindingSize;
  const taps = a.geometry.coef.length;
  const sizes = [
    ['nSamples', 4 * a.batch * a.n, `${a.batch} rows of ${a.n} samples`],
    ['magnitudes', 4 * a.batch * a.frames * Math.max(a.bands, taps),
     `${a.batch * a.frames} frames of ${Math.max(a.bands, taps)} bands or taps`],
  ];
  for (const [name, bytes, what] of sizes) {
    if (bytes > limit) {
      throw new Error(
          `${KERNEL}: ${name}: ${what} take ${bytes} bytes in one buffer, beyond this WebGPU ` +
          `device's limit of ${limit} bytes; render shorter blocks (sampleOffset continues ` +
          'the noise)');
    }
  }
}

function filteredNoiseWebGPU({inputs, backend, attrs}) {
  const a = filteredNoiseArgs(KERNEL, inputs.magnitudes, attrs);
  checkSizes(backend, a);
  const host = webgpuHostValues(backend, inputs.magnitudes);
  if (host !== null) checkNoiseValues(KERNEL, host, a, 'float32');
  const WG = NOISE_WGSL_WORKGROUP;
  const taps = a.geometry.coef.length;
  const values = uniformData(a);
  const passes = new WGSLPasses(backend);
  const owned = tables(backend, a);
  try {
    const rows = a.batch * a.frames;
    const ir = passes.run(
        makeWGSLProgram('filtered_noise_ir', ['magnitudes', 'cos_table', 'tap_table'],
                        [rows, taps], {constants: {}, groups: Math.ceil(rows * taps / WG),
                                       workgroupSize: WG, uniforms: UNIFORMS}),
        [inputs.magnitudes, ...owned], 'float32', values);
    const audio = passes.run(
        makeWGSLProgram('filtered_noise_audio', ['ir'], [a.batch, a.n],
                        {constants: {WG, SPAN: WG + taps - 1},
                         groups: a.batch * Math.ceil(a.n / WG), workgroupSize: WG,
                         uniforms: UNIFORMS}),
        [ir], 'float32', values);
    return passes.keep(audio);
  } finally {
    passes.freeAll();
    for (const info of owned) backend.disposeData(info.dataId);
  }
}

export const kernelConfig = {kernelName: KERNEL, backendName: 'webgpu',
                             kernelFunc: filteredNoiseWebGPU};
