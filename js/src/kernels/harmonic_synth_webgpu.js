// HarmonicSynth on webgpu: DDSP's harmonic synthesizer in WGSL compute shaders
// (kernels/harmonic_webgpu.py): per-frame increments and gains, their exclusive scan in
// workgroup memory, per-frame amplitudes, the fused audio-rate pass, and the final phases
// where asked. No
// readback: initial and final phases are converted on the GPU, exactly, and values only
// the GPU holds are checked there (a bad one makes its batch row NaN).

import {
  HARMONIC_INV_TWO_PI_WORDS, HARMONIC_TWO_PI_SPLIT, HARMONIC_WGSL_FRAME_WORKGROUP,
  HARMONIC_WGSL_SCAN_WORKGROUP, KERNEL_NAMES,
} from '../generated/constants.js';
import {harmonicArgs} from '../checks.js';
import {checkHarmonicValues, checkValues} from '../value_checks.js';
import {makeWGSLProgram} from '../wgsl_program.js';
import {WGSLPasses, webgpuHostValues} from '../wgsl_passes.js';

const KERNEL = KERNEL_NAMES.harmonic;
const UNIFORMS = 'modulus : vec2<u32>, shift : i32, hop : i32, frames : i32, ' +
                 'harmonics : i32, batch : i32, nSamples : i32, last : i32, nyquist : f32, ' +
                 'fracScale : vec4<u32>, twoPi : vec4<f32>, invTwoPiA : vec4<u32>, ' +
                 'invTwoPiB : vec4<u32>,';

// M = floor(2^140 / p) as four 32-bit words, least significant first: the scale of
// harmonic_phase.wgsl's res_to_fraction.
function fractionScale(p) {
  const m = (1n << 140n) / BigInt(p);
  const word = i => Number((m >> BigInt(32 * i)) & 0xffffffffn);
  return [word(0), word(1), word(2), word(3)];
}

// The uniforms' values, in UNIFORMS' order, for checked arguments `a`.
function uniformData(a) {
  const mod = a.modulus;
  const words = HARMONIC_INV_TWO_PI_WORDS;
  return [
    {type: 'uint32', data: [mod.lo >>> 0, mod.hi >>> 0]},
    {type: 'int32', data: [mod.shift]},
    {type: 'int32', data: [a.hop]},
    {type: 'int32', data: [a.frames]},
    {type: 'int32', data: [a.k]},
    {type: 'int32', data: [a.batch]},
    {type: 'int32', data: [a.n]},
    {type: 'int32', data: [a.addEndpoint ? a.frames - 1 : a.frames - 2]},
    {type: 'float32', data: [a.nyquist]},
    {type: 'uint32', data: fractionScale(mod.p)},
    {type: 'float32', data: [...HARMONIC_TWO_PI_SPLIT, 0]},
    {type: 'uint32', data: words.slice(0, 4)},
    {type: 'uint32', data: [...words.slice(4, 7), 0]},
  ];
}

// Every buffer the dispatches bind within the device's limit on one binding.
function checkBufferSizes(backend, a) {
  const limit = backend.device.limits.maxStorageBufferBindingSize;
  const sizes = [
    ['nSamples', 4 * a.batch * a.n, `${a.batch} rows of ${a.n} samples`],
    ['harmonicDistribution', 4 * a.batch * a.frames * a.k,
     `[${a.batch}, ${a.frames}, ${a.k}]`],
    ['f0', 32 * a.batch * a.frames, `${a.batch * a.frames} frames of frame data`],
  ];
  for (const [name, bytes, what] of sizes) {
    if (bytes > limit) {
      throw new Error(
          `${KERNEL}: ${name}: ${what} take ${bytes} bytes, beyond this WebGPU device's ` +
          `limit of ${limit} bytes per buffer; render shorter blocks (initialPhase continues ` +
          'them)');
    }
  }
}

const wgslBool = b => (b ? 'true' : 'false');

// Controls the host still holds are checked there (value_checks.js), as on webgl; those
// only the GPU holds, by the kernel as it runs (harmonic_frames, harmonic_scan).
function harmonicWebGPU({inputs, backend, attrs}) {
  const a = harmonicArgs(KERNEL, inputs, attrs);
  const {f0, amplitude, harmonicDistribution: dist, initialPhase} = inputs;
  const host = {f0: webgpuHostValues(backend, f0),
                amplitude: webgpuHostValues(backend, amplitude),
                harmonicDistribution: webgpuHostValues(backend, dist)};
  checkHarmonicValues(KERNEL, host, a, 'float32');
  const initial = initialPhase != null;
  const phase0Values = initial ? webgpuHostValues(backend, initialPhase) : null;
  if (phase0Values !== null) checkValues(KERNEL, 'initialPhase', phase0Values, 'float32');
  checkBufferSizes(backend, a);
  const {batch: b, frames, k, n} = a;
  const values = uniformData(a);
  const FRAME = HARMONIC_WGSL_FRAME_WORKGROUP;
  const program = (body, names, shape, groups, workgroupSize, constants, more = {}) =>
    makeWGSLProgram(body, names, shape, {constants, groups, workgroupSize, uniforms: UNIFORMS,
                                         ...more});
  const k4 = Math.ceil(k / 4);
  const passes = new WGSLPasses(backend);
  try {
    const frameData = passes.run(
        program('harmonic_frames', ['f0', 'amplitude', 'dist'], [b, frames, 8],
                Math.ceil(b * frames / FRAME), FRAME, {NORMALIZE: wgslBool(a.normalize)}),
        [f0, amplitude, dist], 'int32', values);
    const phaseWords = passes.run(
        program('harmonic_scan', ['frame_data'].concat(initial ? ['phase0'] : []),
                [b, frames + 2 + 2 * k, 2], b, HARMONIC_WGSL_SCAN_WORKGROUP,
                {WG: `${HARMONIC_WGSL_SCAN_WORKGROUP}u`, INITIAL: wgslBool(initial)},
                {extra: 'fn phase0_at(i: i32) -> f32 { return ' +
                        (initial ? 'phase0[i]; }' : '0.0; }')}),
        [frameData].concat(initial ? [initialPhase] : []), 'int32', values);
    const amps = passes.run(
        program('harmonic_amplitudes', ['frame_data', 'dist'], [b, frames, 4 * k4],
                Math.ceil(b * frames * k4 / FRAME), FRAME, {}),
        [frameData, dist], 'float32', values);
    const audio = passes.run(
        program('harmonic_audio', ['f0', 'phase_words', 'amps', 'frame_data'], [b, n],
                Math.ceil(b * n / FRAME), FRAME, {INITIAL: wgslBool(initial)},
                {variableComponents: [1, 1, 4, 1]}),
        [f0, phaseWords, amps, frameData], 'float32', values);
    passes.free(amps);
    passes.free(frameData);
    if (!a.returnFinalPhase) return passes.keep(audio);
    const phase = passes.run(
        program('harmonic_final_phase', ['phase_words'], [b, k], Math.ceil(b * k / FRAME),
                FRAME, {}),
        [phaseWords], 'float32', values);
    passes.free(phaseWords);
    return [passes.keep(audio), passes.keep(phase)];
  } finally {
    passes.freeAll();
  }
}

export const kernelConfig = {kernelName: KERNEL, backendName: 'webgpu',
                             kernelFunc: harmonicWebGPU};
