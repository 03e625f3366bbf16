// The public ops, and the graph-model node adapters that call them.

import * as tf from '@tensorflow/tfjs-core';

import {KERNEL_NAMES} from './generated/constants.js';
import {HARMONIC_ATTRS, checkTensor, cumsumAttrs, harmonicArgs} from './checks.js';

/**
 * Cumulative sum along the last axis, wrapped modulo `period` inside the kernel: the
 * output lies in [0, period) whatever the length, exact to the final rounding even where
 * textures are float16.
 * @param x float32 tensor [..., n] (rank 1 to 6), e.g. phase increments in cycles/sample
 * @param options {period: number > 0, exclusive?: boolean, reverse?: boolean}
 */
export function wrappedCumsum(x, options = {}) {
  const $x = x instanceof tf.Tensor ? x : tf.tensor(x);
  checkTensor('wrappedCumsum', $x);
  const attrs = cumsumAttrs('wrappedCumsum', options, {periodRequired: true});
  return tf.engine().runKernel(KERNEL_NAMES.cumsum, {x: $x}, attrs);
}

const HARMONIC_OPTIONS = new Set([...Object.keys(HARMONIC_ATTRS), 'initialPhase']);

/**
 * DDSP's harmonic synthesizer (kernels/harmonic.py): harmonic k of f0 with the
 * 'window'-upsampled amplitude, silenced above Nyquist, phase exact at any length.
 * Values must be finite and >= 0; they are not checked, since that would need a readback.
 * @param f0 float32 [batch, frames] Hz, >= 0
 * @param amplitude float32 [batch, frames], >= 0
 * @param harmonicDistribution float32 [batch, frames, K] (K <= 128), >= 0
 * @param options {sampleRate = 16000, nSamples = 64000, normalize = true,
 *     addEndpoint = true, initialPhase?: float32 [batch, K] radians,
 *     returnFinalPhase = false}
 * @returns audio [batch, nSamples], or [audio, finalPhase [batch, K] radians] with
 *     returnFinalPhase (the initialPhase that continues the rendering)
 */
export function harmonicSynth(f0, amplitude, harmonicDistribution, options = {}) {
  const op = 'harmonicSynth';
  if (options == null || typeof options !== 'object') {
    throw new Error(`${op}: options must be an object, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!HARMONIC_OPTIONS.has(key)) {
      throw new Error(
          `${op}: unknown option '${key}' (options: ${[...HARMONIC_OPTIONS].join(', ')})`);
    }
  }
  const made = [];
  const asTensor = x => {
    if (x == null || x instanceof tf.Tensor) return x;
    const t = tf.tensor(x);
    made.push(t);
    return t;
  };
  try {
    const inputs = {
      f0: asTensor(f0),
      amplitude: asTensor(amplitude),
      harmonicDistribution: asTensor(harmonicDistribution),
    };
    if (options.initialPhase != null) inputs.initialPhase = asTensor(options.initialPhase);
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
// return_final_phase).
export function harmonicSynthNode(node) {
  const options = {};
  for (const name of Object.keys(HARMONIC_ATTRS)) {
    const snake = name.replace(/[A-Z]/g, c => '_' + c.toLowerCase());
    const value = node.attrs[name] !== undefined ? node.attrs[name] : node.attrs[snake];
    if (value !== undefined) options[name] = value;
  }
  if (node.inputs.length > 3) options.initialPhase = node.inputs[3];
  return harmonicSynth(node.inputs[0], node.inputs[1], node.inputs[2], options);
}
