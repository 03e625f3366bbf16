// Argument checks: every bad input throws an Error that names the argument and the limit.

import * as tf from '@tensorflow/tfjs-core';
import {MAX_HARMONICS, MAX_HOP, PERIOD_MAX, PERIOD_MIN} from './generated/constants.js';

const MAX_RANK = 6;
const TWO_POW_32 = 2 ** 32;

// x: a float32 tensor of rank 1 to MAX_RANK, its last axis (the one summed) not empty.
export function checkTensor(op, x) {
  if (x == null || !Array.isArray(x.shape)) {
    throw new Error(`${op}: x must be a tensor`);
  }
  if (x.dtype !== 'float32') {
    throw new Error(`${op}: x must have dtype float32, got ${x.dtype}`);
  }
  const rank = x.shape.length;
  if (rank < 1 || rank > MAX_RANK) {
    throw new Error(
        `${op}: x has rank ${rank}; supported ranks are 1 to ${MAX_RANK} ` +
        '(the sum runs along the last axis)');
  }
  if (x.shape[rank - 1] === 0) {
    throw new Error(`${op}: x is empty (shape [${x.shape}])`);
  }
}

export function checkFlag(op, name, value) {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') {
    throw new Error(`${op}: ${name} must be a boolean, got ${String(value)}`);
  }
  return value;
}

// period: a number (wrap modulo its float32 rounding) or null (a plain cumsum).
function checkPeriod(op, period, {required}) {
  if (period === null || period === undefined) {
    if (required) {
      throw new Error(`${op}: period is required (a finite number > 0, e.g. 1 or 2*Math.PI)`);
    }
    return null;
  }
  if (typeof period !== 'number' || !Number.isFinite(period) || !(period > 0)) {
    throw new Error(`${op}: period must be a finite number > 0, got ${String(period)}`);
  }
  const p32 = Math.fround(period);
  if (!(p32 >= PERIOD_MIN && p32 <= PERIOD_MAX)) {
    throw new Error(`${op}: period must lie in [2^-100, 2^100], got ${period}`);
  }
  return p32;
}

// WrappedCumsum's attributes, checked: {period (float32 or null), exclusive, reverse}.
export function cumsumAttrs(op, attrs, {periodRequired}) {
  return {
    period: checkPeriod(op, attrs.period, {required: periodRequired}),
    exclusive: checkFlag(op, 'exclusive', attrs.exclusive),
    reverse: checkFlag(op, 'reverse', attrs.reverse),
  };
}

// -- HarmonicSynth ---------------------------------------------------------------------------

// HarmonicSynth's attributes and their defaults (DDSP's: 16 kHz, 4 s).
export const HARMONIC_ATTRS = {
  sampleRate: 16000,
  nSamples: 64000,
  normalize: true,
  addEndpoint: true,
  returnFinalPhase: false,
};

function checkInput(op, name, x, shape) {
  if (x == null || !Array.isArray(x.shape)) throw new Error(`${op}: ${name} must be a tensor`);
  if (x.dtype !== 'float32') {
    throw new Error(`${op}: ${name} must have dtype float32, got ${x.dtype}`);
  }
  if (x.shape.length !== shape.length) {
    throw new Error(
        `${op}: ${name} must have rank ${shape.length} ([${shape.join(', ')}]), ` +
        `got rank ${x.shape.length} (shape [${x.shape}])`);
  }
  if (tf.util.sizeFromShape(x.shape) === 0) {
    throw new Error(`${op}: ${name} is empty (shape [${x.shape}])`);
  }
}

// p = sampleRate * hop * 2^shift in [2^43, 2^44): one cycle in phase units.
function phaseModulus(op, sr32, hop) {
  const period = sr32 * hop;  // exact: 24 + 17 significant bits
  let shift = 43 - Math.floor(Math.log2(period));
  while (period * 2 ** shift >= 2 ** 44) shift -= 1;
  while (period * 2 ** shift < 2 ** 43) shift += 1;
  const p = period * 2 ** shift;
  if (!Number.isInteger(p)) {
    throw new Error(`${op}: sampleRate ${sr32} * hop ${hop} has more than 44 significant bits`);
  }
  return {p, lo: (p % TWO_POW_32) | 0, hi: Math.floor(p / TWO_POW_32), shift,
          invP: Math.fround(1 / p)};
}

// Validated shapes and attributes (kernels/harmonic.check, less the value checks: those
// would need the values on the host).
export function harmonicArgs(op, inputs, attrs) {
  const {f0, amplitude, harmonicDistribution: dist, initialPhase} = inputs;
  checkInput(op, 'f0', f0, ['batch', 'frames']);
  checkInput(op, 'amplitude', amplitude, ['batch', 'frames']);
  checkInput(op, 'harmonicDistribution', dist, ['batch', 'frames', 'K']);
  const [batch, frames] = f0.shape;
  if (!tf.util.arraysEqual(amplitude.shape, f0.shape)) {
    throw new Error(
        `${op}: amplitude shape [${amplitude.shape}] does not match f0 [${f0.shape}]`);
  }
  if (dist.shape[0] !== batch || dist.shape[1] !== frames) {
    throw new Error(
        `${op}: harmonicDistribution frames [${dist.shape.slice(0, 2)}] do not match ` +
        `f0 [${f0.shape}]`);
  }
  const k = dist.shape[2];
  if (k > MAX_HARMONICS) {
    throw new Error(
        `${op}: harmonicDistribution has K = ${k} harmonics; at most ` +
        `${MAX_HARMONICS} are supported`);
  }
  if (initialPhase != null) {
    checkInput(op, 'initialPhase', initialPhase, ['batch', 'K']);
    if (initialPhase.shape[0] !== batch || initialPhase.shape[1] !== k) {
      throw new Error(
          `${op}: initialPhase must have shape [batch, K] = [${batch}, ${k}], ` +
          `got [${initialPhase.shape}]`);
    }
  }
  const a = {};
  for (const [name, fallback] of Object.entries(HARMONIC_ATTRS)) {
    a[name] = attrs[name] === undefined || attrs[name] === null ? fallback : attrs[name];
  }
  for (const name of ['normalize', 'addEndpoint', 'returnFinalPhase']) checkFlag(op, name, a[name]);
  const sr = a.sampleRate;
  if (typeof sr !== 'number' || !Number.isFinite(sr) || !(sr > 0)) {
    throw new Error(`${op}: sampleRate must be a finite number > 0, got ${String(sr)}`);
  }
  const sr32 = Math.fround(sr);
  if (!(sr32 > 0 && Number.isFinite(sr32))) {
    throw new Error(`${op}: sampleRate ${sr} is outside float32's normal range`);
  }
  const n = a.nSamples;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new Error(`${op}: nSamples must be an integer, got ${String(n)}`);
  }
  const intervals = a.addEndpoint ? frames : frames - 1;
  if (intervals < 1 || n <= 0 || n % intervals !== 0 || n / intervals < 2) {
    throw new Error(
        `${op}: nSamples ${n} is not reachable from ${frames} frames: it must be a multiple ` +
        `of ${a.addEndpoint ? 'frames' : 'frames - 1'} (${intervals}) with a hop of at ` +
        'least 2 samples');
  }
  const hop = n / intervals;
  if (hop > MAX_HOP) {
    throw new Error(`${op}: nSamples gives a hop of ${hop}, more than ${MAX_HOP}`);
  }
  return {...a, batch, frames, k, n, hop, sr32, nyquist: sr32 / 2,
          modulus: phaseModulus(op, sr32, hop)};
}
