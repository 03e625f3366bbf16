// The public ops, and the graph-model node adapters that call them.

import * as tf from '@tensorflow/tfjs-core';

import {KERNEL_NAMES} from './generated/constants.js';
import {HARMONIC_ATTRS, checkOptions, checkTensor, cumsumAttrs, harmonicArgs} from
    './checks.js';
import {checkFloat32Range, storageOf} from './value_checks.js';
import {YIN_ATTRS, yinArgs} from './checks.js';

// `x` as a tensor: a tf.Tensor as it is; an array (nested or typed) of numbers converted,
// after checking that float32 holds them, into a tensor pushed to `made` (the caller
// disposes it, on success and failure alike).
export function asTensor(op, name, x, made) {
  if (x instanceof tf.Tensor) return x;
  if (x == null || (typeof x !== 'object' && typeof x !== 'number')) {
    throw new Error(`${op}: ${name} must be a tensor or an array of numbers, got ${String(x)}`);
  }
  const flat = ArrayBuffer.isView(x) || typeof x === 'number' ? x : tf.util.flatten(x);
  const shape = [];  // along the first elements; a ragged array holds fewer values
  for (let v = x; Array.isArray(v); v = v[0]) shape.push(v.length);
  if (Array.isArray(x) && flat.length !== tf.util.sizeFromShape(shape)) {
    throw new Error(
        `${op}: ${name} is not a tensor-like array: ${flat.length} numbers where its ` +
        `first elements give the shape [${shape}]`);
  }
  checkFloat32Range(op, name, typeof flat === 'number' ? [flat] : flat);
  let t;
  try {
    t = tf.tensor(x);
  } catch (e) {
    throw new Error(`${op}: ${name} is not a tensor-like array: ${e.message}`);
  }
  made.push(t);
  return t;
}

const CUMSUM_OPTIONS = new Set(['period', 'exclusive', 'reverse']);

/**
 * Cumulative sum along the last axis, wrapped modulo `period` inside the kernel: the
 * output lies in [0, period) whatever the length, exact to the final rounding even where
 * textures are float16. Values are checked as README "Errors and limits" says: where the
 * host holds them, bad ones throw; where only the GPU does, their rows come out NaN.
 * @param x float32 tensor [..., n] (rank 1 to 6), or an array of numbers, e.g. phase
 *     increments in cycles/sample
 * @param options {period: number > 0, exclusive?: boolean, reverse?: boolean}
 */
export function wrappedCumsum(x, options) {
  const op = 'wrappedCumsum';
  const opts = checkOptions(op, options, CUMSUM_OPTIONS);
  const made = [];
  try {
    const $x = asTensor(op, 'x', x, made);
    checkTensor(op, $x);
    cumsumAttrs(op, opts, {periodRequired: true, storage: storageOf(tf.getBackend())});
    const attrs = {period: opts.period, exclusive: opts.exclusive, reverse: opts.reverse};
    return tf.engine().runKernel(KERNEL_NAMES.cumsum, {x: $x}, attrs);
  } finally {
    tf.dispose(made);
  }
}

const HARMONIC_OPTIONS = new Set([...Object.keys(HARMONIC_ATTRS), 'initialPhase']);

/**
 * DDSP's harmonic synthesizer (kernels/harmonic.py): harmonic k of f0 with the
 * 'window'-upsampled amplitude, silenced above Nyquist, phase exact at any length.
 * Values must be finite and >= 0, the amplitudes within the storage's limits: checked as
 * README "Errors and limits" says (where the host holds them, bad ones throw; where only
 * the GPU does, the batch rows they spoil come out NaN).
 * @param f0 float32 [batch, frames] Hz, >= 0
 * @param amplitude float32 [batch, frames], >= 0
 * @param harmonicDistribution float32 [batch, frames, K] (K <= 128), >= 0
 * @param options {sampleRate = 16000, nSamples = 64000, normalize = true,
 *     addEndpoint = true, initialPhase?: float32 [batch, K] radians,
 *     returnFinalPhase = false}
 * @returns audio [batch, nSamples], or [audio, finalPhase [batch, K] radians] with
 *     returnFinalPhase (the initialPhase that continues the rendering)
 */
export function harmonicSynth(f0, amplitude, harmonicDistribution, options) {
  const op = 'harmonicSynth';
  options = checkOptions(op, options, HARMONIC_OPTIONS);
  const made = [];
  try {
    const inputs = {
      f0: asTensor(op, 'f0', f0, made),
      amplitude: asTensor(op, 'amplitude', amplitude, made),
      harmonicDistribution: asTensor(op, 'harmonicDistribution', harmonicDistribution, made),
    };
    if (options.initialPhase != null) {
      inputs.initialPhase = asTensor(op, 'initialPhase', options.initialPhase, made);
    }
    const attrs = {};
    for (const name of Object.keys(HARMONIC_ATTRS)) {
      if (options[name] !== undefined) attrs[name] = options[name];
    }
    harmonicArgs(op, inputs, attrs);
    return tf.engine().runKernel(KERNEL_NAMES.harmonic, inputs, attrs);
  } finally {
    tf.dispose(made);
  }
}

const YIN_OPTIONS = new Set(Object.keys(YIN_ATTRS));

/**
 * The YIN pitch tracker (de Cheveigné and Kawahara 2002; kernels/yin.py): frame i at
 * sample i * hop, its difference function over a window of frameLength samples centred
 * there, the first dip of the normalised difference deeper than `threshold` (else the
 * deepest), its period refined by a parabola.
 * @param x float32 audio [..., n] (n >= hop), or an array of numbers; finite
 * @param options {sampleRate = 16000 (1000 ... 384000), hop = 64 (1 ... 4096),
 *     frameLength = 512 (1 ... 4096), fmin = 50, fmax = 2000 (Hz: sampleRate / fmin <= 2048,
 *     fmax <= sampleRate / 2), threshold = 0.1 (in (0, 1])}
 * @returns {f0Hz, confidence}: float32 [..., floor(n / hop)] each; confidence is 1 - the
 *     chosen dip's depth (above 1 - threshold where the frame is voiced)
 */
export function yin(x, options) {
  const op = 'yin';
  options = checkOptions(op, options, YIN_OPTIONS);
  const made = [];
  try {
    const $x = asTensor(op, 'x', x, made);
    const attrs = {};
    for (const name of YIN_OPTIONS) if (options[name] !== undefined) attrs[name] = options[name];
    yinArgs(op, $x, attrs);
    const out = tf.engine().runKernel(KERNEL_NAMES.yin, {x: $x}, attrs);
    made.push(out);
    return tf.tidy(() => {
      const [f0Hz, confidence] = tf.unstack(out, out.rank - 1);
      return {f0Hz, confidence};
    });
  } finally {
    tf.dispose(made);
  }
}

// -- graph-model nodes (tf.registerOp of @tensorflow/tfjs-converter) ---------------------------

// WrappedCumsum nodes: input x; attrs period, exclusive, reverse.
export function wrappedCumsumNode(node) {
  return wrappedCumsum(node.inputs[0], {
    period: node.attrs.period,
    exclusive: node.attrs.exclusive,
    reverse: node.attrs.reverse,
  });
}

// HarmonicSynth nodes: inputs f0, amplitude, harmonic_distribution[, initial_phase]; attrs
// in camelCase or snake_case (sample_rate, n_samples, normalize, add_endpoint,
// return_final_phase). With the attr `factors` (what `ddspgl fuse` writes for a ddsp
// export), inputs 1 and 2 are the two factors of ddsp's `amplitudes * harmonic_distribution`
// as the graph multiplied them: [batch, frames, 1] and [batch, frames, K], in either order.
export function harmonicSynthNode(node) {
  const options = {};
  for (const name of Object.keys(HARMONIC_ATTRS)) {
    const snake = name.replace(/[A-Z]/g, c => '_' + c.toLowerCase());
    const value = node.attrs[name] !== undefined ? node.attrs[name] : node.attrs[snake];
    if (value !== undefined) options[name] = value;
  }
  if (node.inputs.length > 3) options.initialPhase = node.inputs[3];
  const [f0, a, b] = node.inputs;
  if (!node.attrs.factors) return harmonicSynth(f0, a, b, options);
  const single = t => t.rank === 3 && t.shape[2] === 1;
  if (!single(a) && !single(b)) {
    throw new Error(
        `HarmonicSynth: with factors, one of inputs 1 and 2 must be the amplitudes ` +
        `[batch, frames, 1], got shapes [${a.shape}] and [${b.shape}]`);
  }
  const [amplitude, distribution] = single(a) ? [a, b] : [b, a];
  return tf.tidy(() => harmonicSynth(
      f0, tf.reshape(amplitude, amplitude.shape.slice(0, 2)), distribution, options));
}
