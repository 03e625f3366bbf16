// FilteredNoise on webgl: DDSP's filtered noise synthesizer with the pass plan of
// kernels/filtered_noise.graph (each frame's impulse-response taps as exact digits, then
// the audio pass drawing the noise on the fly); the op ddspgl.filteredNoise and the
// graph-model node. Its webgpu kernel is filtered_noise_webgpu.js.

import * as tf from '@tensorflow/tfjs-core';

import {KERNEL_NAMES} from '../generated/constants.js';
import {checkOptions} from '../checks.js';
import {ExactInputs} from '../exact_upload.js';
import {filteredNoiseJS} from '../fallback/filtered_noise.js';
import {asTensor} from '../ops.js';
import {notePass} from '../pass_hook.js';
import {Passes} from '../passes.js';
import {makeProgram} from '../program.js';
import {float32Render} from '../textures.js';
import {kernelFn} from '../tfjs_kernel.js';
import {hostValues, storageOf} from '../value_checks.js';
import {NOISE_ATTRS, checkNoiseValues, filteredNoiseArgs} from './filtered_noise_args.js';
import {kernelConfig as filteredNoiseWebGPU} from './filtered_noise_webgpu.js';

const KERNEL = KERNEL_NAMES.filtered_noise;
const AUDIO_UNIFORMS = [{name: 'seed', type: 'ivec2'}, {name: 'sampleOffset', type: 'int'}];

// The magnitudes [batch * frames, K] read packed (the IR pass reads its tables packed): the
// value at (row, k) from TF.js's texel holding it.
const MAGNITUDES_SHIM = `vec4 ddspglMagnitudesTexel(int row, int col) {
  return getMagnitudes(row, col);
}
float ddspglGetMagnitudes(int row, int col) {
  return ddspglMagnitudesTexel(row, col)[2 * (row & 1) + (col & 1)];
}
#define getMagnitudes ddspglGetMagnitudes`;

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

// float32 values as the digits floatFromDigits reads, 4 floats each (kernels/filtered_noise
// .digits); `w` fills the fourth.
function digits(values, w = () => 0) {
  const out = new Float32Array(values.length * 4);
  values.forEach((v, i) => {
    F32[0] = v;
    const bits = U32[0];
    out.set([bits & 0x7ff, (bits >>> 11) & 0x7ff, bits >>> 22, w(i)], 4 * i);
  });
  return out;
}

// (cosines [1, N, 2, 2], taps [1, L, 2, 2]) as kernels/filtered_noise.tables makes them: the
// digits of float32(cos(2 pi m / N)), and of float32(c_j / N) with s_j in the fourth.
function tables(backend, a) {
  const n = a.irSize;
  const {source, coef} = a.geometry;
  const cos = Array.from({length: n}, (_, m) => Math.cos(2 * Math.PI * m / n));
  return [
    backend.makeTensorInfo([1, n, 2, 2], 'float32', digits(cos)),
    backend.makeTensorInfo([1, coef.length, 2, 2], 'float32',
                           digits(coef.map(c => c / n), j => source[j])),
  ];
}

// Texels of each texture the passes make, against the largest a texture may hold.
function checkSizes(backend, a) {
  const max = backend.gpgpu.maxTextureSize ** 2;
  const taps = a.geometry.coef.length;
  for (const [name, texels] of [['nSamples', a.batch * a.n],
    ['magnitudes', a.batch * a.frames * taps]]) {
    if (texels > max) {
      throw new Error(
          `${KERNEL}: ${name}: ${texels} texture elements exceed this WebGL's limit of ${max}`);
    }
  }
}

// Magnitudes the host holds are checked there; where they are only on the GPU, the IR pass
// writes NaN taps for a frame holding NaN or Inf (a bit test), and every sample reading
// such a tap comes out NaN.
function filteredNoiseWebGL({inputs, backend, attrs}) {
  const a = filteredNoiseArgs(KERNEL, inputs.magnitudes, attrs);
  checkSizes(backend, a);
  const host = hostValues(backend, inputs.magnitudes);
  if (host !== null) checkNoiseValues(KERNEL, host, a, storageOf('webgl'));
  const taps = a.geometry.coef.length;
  const passes = new Passes(backend);
  const exact = new ExactInputs(backend);  // float16 mode: host magnitudes as RGBA32F
  const owned = [];
  try {
    const [cosTable, tapTable] = tables(backend, a);
    owned.push([cosTable, 'cosTable'], [tapTable, 'taps']);
    const rows = [a.batch * a.frames, a.bands];
    const mags = kernelFn('webgl', 'Reshape')({inputs: {x: exact.input(inputs.magnitudes,
      {packed: true, shape: rows})}, backend, attrs: {shape: rows}});
    owned.push([mags, 'magnitudes view']);
    const ir = passes.run(
        makeProgram('filtered_noise_ir', ['magnitudes', 'cosTable', 'taps'],
                    [a.batch * a.frames, taps, 2, 2],
                    {NOISE_BANDS: a.bands, NOISE_IR_SIZE: a.irSize},
                    {packedInputs: true, packedOutput: true, digitInputs: ['cosTable', 'taps'],
                     uniforms: false, extra: MAGNITUDES_SHIM}),
        [mags, cosTable, tapTable], []);
    const audio = passes.run(
        makeProgram('filtered_noise_audio', ['ir'], [a.batch, a.n],
                    {NOISE_FRAMES: a.frames, NOISE_HOP: a.hop, NOISE_TAPS: taps,
                     NOISE_SAMPLES: a.n, NOISE_START: a.start,
                     NOISE_ROUND_F16: float32Render() ? 0 : 1},
                    {packedInputs: true, digitInputs: ['ir'], uniforms: AUDIO_UNIFORMS}),
        [ir], [[a.seed & 0xffff, Math.floor(a.seed / 65536)], [a.sampleOffset]]);
    return passes.keep(audio);
  } finally {
    passes.freeAll();
    for (const [info, label] of owned) {
      backend.disposeIntermediateTensorInfo(info);
      notePass('free', label);
    }
    exact.release();
  }
}

const NOISE_OPTIONS = new Set(Object.keys(NOISE_ATTRS));

/**
 * DDSP's filtered noise synthesizer (kernels/filtered_noise.py): ddsp's
 * core.frequency_filter of uniform noise in [-1, 1) with a time-varying FIR filter per
 * frame, the noise a seeded counter-based stream (the same bits on every backend).
 * Magnitudes must be finite and their output within the storage's limits: checked as
 * README "Errors and limits" says (where the host holds them, bad ones throw; where only
 * the GPU does, the samples a NaN or Inf frame reaches come out NaN).
 * @param magnitudes float32 [batch, frames, K] (K = 3 ... 1025 bands, 0 Hz to Nyquist),
 *     ddsp's controls after scale_fn, or an array of numbers
 * @param options {nSamples (required: frames of ceil(nSamples / frames) samples must make
 *     `frames`), windowSize = 0 (the IR's size; else >= 3), seed = 0 (0 ... 2^32 - 1),
 *     sampleOffset = 0 (the first sample's index in the stream, for block rendering)}
 * @returns audio [batch, nSamples]
 */
export function filteredNoise(magnitudes, options) {
  const op = 'filteredNoise';
  options = checkOptions(op, options, NOISE_OPTIONS);
  const made = [];
  try {
    const $m = asTensor(op, 'magnitudes', magnitudes, made);
    const attrs = {};
    for (const name of NOISE_OPTIONS) if (options[name] !== undefined) attrs[name] = options[name];
    filteredNoiseArgs(op, $m, attrs);
    return tf.engine().runKernel(KERNEL, {magnitudes: $m}, attrs);
  } finally {
    tf.dispose(made);
  }
}

// FilteredNoise nodes (tf.registerOp): input magnitudes [batch, frames, K] and, where given,
// input 1: the sample offset as an int32 scalar (what `ddspgl fuse` wires to its graph input
// noise_offset; read on the host, it replaces the attr); attrs n_samples, window_size,
// seed, sample_offset (or their camelCase names).
export function filteredNoiseNode(node) {
  const options = {};
  for (const name of NOISE_OPTIONS) {
    const snake = name.replace(/[A-Z]/g, c => '_' + c.toLowerCase());
    const value = node.attrs[name] !== undefined ? node.attrs[name] : node.attrs[snake];
    if (value !== undefined) options[name] = value;
  }
  if (node.inputs.length > 1) options.sampleOffset = offsetInput(node.inputs[1]);
  return filteredNoise(node.inputs[0], options);
}

function offsetInput(t) {
  if (t == null || t.dtype !== 'int32' || t.size !== 1) {
    throw new Error(
        `FilteredNoise: input 1 (the sample offset) must be an int32 scalar, got ` +
        (t == null ? `${t}` : `${t.dtype} [${t.shape}]`));
  }
  return t.dataSync()[0];
}

export const kernelConfigs = [
  {kernelName: KERNEL, backendName: 'webgl', kernelFunc: filteredNoiseWebGL},
  filteredNoiseWebGPU,
  {kernelName: KERNEL, backendName: 'cpu', kernelFunc: filteredNoiseJS('cpu')},
  {kernelName: KERNEL, backendName: 'wasm', kernelFunc: filteredNoiseJS('wasm')},
];
export const gradientConfigs = [];
export const graphOps = {[KERNEL]: filteredNoiseNode};
