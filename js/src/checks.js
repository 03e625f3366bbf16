// Argument checks: every bad input throws an Error that names the argument and the limit.

import * as tf from '@tensorflow/tfjs-core';
import {FLOAT32_TINY, MAX_HARMONICS, MAX_HOP, PERIOD_LIMITS, STORAGE_MAX} from
    './generated/constants.js';
import {YIN_MAX_HOP, YIN_MAX_LAG, YIN_MAX_SAMPLE_RATE, YIN_MAX_WINDOW, YIN_MIN_SAMPLE_RATE} from
    './generated/constants.js';
import {g, limitText, storageText} from './value_checks.js';

const MAX_RANK = 6;
const TWO_POW_32 = 2 ** 32;

// A value as a message shows what was given: strings quoted, arrays bracketed.
export function shown(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(shown).join(', ')}]`;
  return String(value);
}

// An options argument: an object (or undefined: none) whose keys are all in `known`.
export function checkOptions(op, options, known) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(
        `${op}: options must be an object such as {${[...known][0]}: ...}, ` +
        `got ${shown(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new Error(`${op}: unknown option '${key}' (options: ${[...known].join(', ')})`);
    }
  }
  return options;
}

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
    throw new Error(`${op}: x is empty (shape [${x.shape}]); the last axis needs length >= 1`);
  }
}

export function checkFlag(op, name, value) {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') {
    throw new Error(`${op}: ${name} must be a boolean, got ${String(value)}`);
  }
  return value;
}

// period: a number (wrap modulo its float32 rounding) or null (a plain cumsum), within
// `storage`'s period limits (kernels/_inputs.py PERIOD_LIMITS, where they are derived).
function checkPeriod(op, period, {required, storage}) {
  if (period === null || period === undefined) {
    if (required) {
      throw new Error(`${op}: period is required (a finite number > 0, e.g. 1 or 2*Math.PI)`);
    }
    return null;
  }
  if (typeof period !== 'number' || !Number.isFinite(period) || !(period > 0)) {
    throw new Error(`${op}: period must be a finite number > 0, got ${shown(period)}`);
  }
  const p32 = Math.fround(period);
  const [low, high] = PERIOD_LIMITS[storage];
  if (!(p32 >= low && p32 <= high)) {
    const why = storage === 'float16' ?
        " (float16's smallest normal and largest finite value)" : '';
    throw new Error(
        `${op}: period must lie in [${limitText(low)}, ${limitText(high)}]${why} with ` +
        `${storageText(storage)}, got ${g(period)}`);
  }
  return p32;
}

// WrappedCumsum's attributes, checked: {period (float32 or null), exclusive, reverse,
// limits}, for textures of `storage`. `limits: false` (the gradient's cumsum of dy) skips
// the storage limits of a plain cumsum's values, as TF.js's own gradients overflow to Inf.
export function cumsumAttrs(op, attrs, {periodRequired, storage = 'float32'}) {
  return {
    period: checkPeriod(op, attrs.period, {required: periodRequired, storage}),
    exclusive: checkFlag(op, 'exclusive', attrs.exclusive),
    reverse: checkFlag(op, 'reverse', attrs.reverse),
    limits: attrs.limits !== false,
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
    throw new Error(`${op}: sampleRate must be a finite number > 0, got ${shown(sr)}`);
  }
  if (!(sr >= FLOAT32_TINY && sr <= STORAGE_MAX.float32)) {
    throw new Error(
        `${op}: sampleRate must be a normal float32 in [${limitText(FLOAT32_TINY)}, ` +
        `${g(STORAGE_MAX.float32)}], got ${g(sr)}`);
  }
  const sr32 = Math.fround(sr);
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

// -- Yin -------------------------------------------------------------------------------------

// Yin's attributes and their defaults (kernels/yin.check's: DDSP's 250 frames/s at 16 kHz).
export const YIN_ATTRS = {
  sampleRate: 16000,
  hop: 64,
  frameLength: 512,
  fmin: 50,
  fmax: 2000,
  threshold: 0.1,
};

function yinNumber(op, name, v) {
  if (typeof v !== 'number') throw new Error(`${op}: ${name} must be a number, got ${shown(v)}`);
  if (!Number.isFinite(v)) throw new Error(`${op}: ${name} must be finite, got ${shown(v)}`);
  return v;
}

function yinInteger(op, name, v, low, high) {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new Error(`${op}: ${name} must be an integer, got ${shown(v)}`);
  }
  if (!(v >= low && v <= high)) {
    throw new Error(`${op}: ${name} must lie in [${low}, ${high}], got ${shown(v)}`);
  }
  return v;
}

// Validated shape and attributes (kernels/yin.check, with the same limits and messages):
// {batch, n, lead (x's shape less its last axis), sr32, hop, window, lagMin, lagMax,
// threshold (float32), frames}.
export function yinArgs(op, x, attrs) {
  if (x == null || !Array.isArray(x.shape)) throw new Error(`${op}: x must be a tensor`);
  if (x.dtype !== 'float32') throw new Error(`${op}: x must have dtype float32, got ${x.dtype}`);
  if (x.shape.length < 1) throw new Error(`${op}: x must have at least one axis, got a scalar`);
  const n = x.shape[x.shape.length - 1];
  if (tf.util.sizeFromShape(x.shape) === 0) {
    throw new Error(`${op}: x is empty (shape [${x.shape}]); the last axis needs length >= 1`);
  }
  const a = {};
  for (const [name, fallback] of Object.entries(YIN_ATTRS)) {
    a[name] = attrs[name] === undefined || attrs[name] === null ? fallback : attrs[name];
  }
  const sr = yinNumber(op, 'sampleRate', a.sampleRate);
  if (!(sr >= YIN_MIN_SAMPLE_RATE && sr <= YIN_MAX_SAMPLE_RATE)) {
    throw new Error(
        `${op}: sampleRate must lie in [${g(YIN_MIN_SAMPLE_RATE)}, ${g(YIN_MAX_SAMPLE_RATE)}] ` +
        `Hz, got ${shown(sr)}`);
  }
  const sr32 = Math.fround(sr);
  const hop = yinInteger(op, 'hop', a.hop, 1, YIN_MAX_HOP);
  const window = yinInteger(op, 'frameLength', a.frameLength, 1, YIN_MAX_WINDOW);
  const lo = yinNumber(op, 'fmin', a.fmin);
  const hi = yinNumber(op, 'fmax', a.fmax);
  if (lo <= 0) throw new Error(`${op}: fmin must be > 0 Hz, got ${shown(a.fmin)}`);
  if (hi <= lo) throw new Error(`${op}: fmax must be above fmin (${g(lo)} Hz), got ${shown(hi)}`);
  if (hi > sr32 / 2) {
    throw new Error(
        `${op}: fmax must be at most sampleRate / 2 = ${g(sr32 / 2)} Hz (the parabola needs ` +
        `lags >= 2), got ${shown(hi)}`);
  }
  const lagMin = Math.max(2, Math.floor(sr32 / hi));
  const lagMax = Math.ceil(sr32 / lo);
  if (lagMax > YIN_MAX_LAG) {
    throw new Error(
        `${op}: fmin: sampleRate / fmin = ${g(sr32 / lo)} samples exceeds the longest lag ` +
        `${YIN_MAX_LAG}: fmin must be at least ${g(sr32 / YIN_MAX_LAG)} Hz, got ${shown(lo)}`);
  }
  const thr = yinNumber(op, 'threshold', a.threshold);
  if (!(thr > 0 && thr <= 1)) {
    throw new Error(`${op}: threshold must lie in (0, 1], got ${shown(thr)}`);
  }
  if (n < hop) {
    throw new Error(`${op}: x: ${n} samples, shorter than one hop (${hop}): no frame to track`);
  }
  return {batch: tf.util.sizeFromShape(x.shape) / n, n, lead: x.shape.slice(0, -1), sr32, hop,
          window, lagMin, lagMax: Math.max(lagMax, lagMin), threshold: Math.fround(thr),
          frames: Math.floor(n / hop)};
}
