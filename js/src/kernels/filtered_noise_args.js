// FilteredNoise's arguments and values, checked with kernels/filtered_noise.check's limits
// and messages, and the impulse response's tap geometry (kernels/filtered_noise.taps).

import * as tf from '@tensorflow/tfjs-core';
import {
  NOISE_EPS_TAP, NOISE_MAX_BANDS, NOISE_MAX_INDEX, NOISE_MAX_SEED, NOISE_MIN_BANDS,
  NOISE_SUM_ROUNDING, STORAGE_MAX,
} from '../generated/constants.js';
import {shown} from '../checks.js';
import {checkValues, g, limitText, storageText} from '../value_checks.js';

// The options of ddspgl.filteredNoise and the kernel's attributes (nSamples is required).
export const NOISE_ATTRS = {nSamples: undefined, windowSize: 0, seed: 0, sampleOffset: 0};

// (source index s_j, window value c_j) of each causal tap: TF's periodic Hann window of W
// points (dividing by W for an even W, W - 1 for an odd one), zero padded and put in
// causal form as ddsp's apply_window_to_impulse_response indexes it.
export function noiseTaps(bands, windowSize) {
  const n = 2 * (bands - 1);
  const w = windowSize <= 0 || windowSize > n ? n : windowSize;
  const period = w % 2 === 0 ? w : w - 1;
  const win = Array.from({length: w}, (_, i) => 0.5 - 0.5 * Math.cos(2 * Math.PI * i / period));
  const index = Array.from({length: n}, (_, i) => i);
  let zeroPhase;
  let source;
  if (w < n) {
    const half = Math.floor((w + 1) / 2);
    zeroPhase = [...win.slice(half), ...new Array(n - w).fill(0), ...win.slice(0, half)];
    source = [...index.slice(n - half + 2), ...index.slice(0, half + 1)];
  } else {
    zeroPhase = index.map(i => win[(i + n / 2) % n]);  // fftshift, n even
    source = index.map(i => (i + n / 2) % n);
  }
  return {source, coef: source.map(s => zeroPhase[s])};
}

function integer(op, name, v) {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new Error(`${op}: ${name} must be an integer, got ${shown(v)}`);
  }
  return v;
}

// Validated shape and attributes: {batch, frames, bands, n, hop, irSize, windowSize, seed,
// sampleOffset, geometry: {source, coef}, start}.
export function filteredNoiseArgs(op, magnitudes, attrs) {
  const m = magnitudes;
  if (m == null || !Array.isArray(m.shape)) throw new Error(`${op}: magnitudes must be a tensor`);
  if (m.dtype !== 'float32') {
    throw new Error(`${op}: magnitudes must have dtype float32, got ${m.dtype}`);
  }
  if (m.shape.length !== 3) {
    throw new Error(
        `${op}: magnitudes must have rank 3 ([batch, frames, K]), got rank ${m.shape.length} ` +
        `(shape [${m.shape}])`);
  }
  if (tf.util.sizeFromShape(m.shape) === 0) {
    throw new Error(`${op}: magnitudes is empty (shape [${m.shape}])`);
  }
  const [batch, frames, bands] = m.shape;
  if (bands < NOISE_MIN_BANDS || bands > NOISE_MAX_BANDS) {
    throw new Error(
        `${op}: magnitudes has K = ${bands} bands, must be ${NOISE_MIN_BANDS} ... ` +
        `${NOISE_MAX_BANDS} (an impulse response of 2 (K - 1) <= ${2 * (NOISE_MAX_BANDS - 1)} ` +
        'points)');
  }
  const a = {};
  for (const [name, fallback] of Object.entries(NOISE_ATTRS)) {
    a[name] = attrs[name] === undefined || attrs[name] === null ? fallback : attrs[name];
  }
  if (a.nSamples === undefined) {
    throw new Error(`${op}: nSamples is required (an integer: the output's length)`);
  }
  const n = integer(op, 'nSamples', a.nSamples);
  if (n < frames) {
    throw new Error(`${op}: nSamples ${n} is fewer than the ${frames} frames of magnitudes`);
  }
  const hop = Math.ceil(n / frames);
  if (Math.ceil(n / hop) !== frames) {
    throw new Error(
        `${op}: nSamples ${n} samples do not split into ${frames} frames: frames of ` +
        `ceil(nSamples / frames) = ${hop} samples make ${Math.ceil(n / hop)} (ddsp's ` +
        'fft_convolve refuses this too)');
  }
  const windowSize = integer(op, 'windowSize', a.windowSize);
  if (windowSize === 1 || windowSize === 2) {
    throw new Error(
        `${op}: windowSize ${windowSize} gives ddsp's delay compensation a negative start; use ` +
        "0 (the impulse response's size) or >= 3");
  }
  const seed = integer(op, 'seed', a.seed);
  if (seed < 0 || seed > NOISE_MAX_SEED) {
    throw new Error(`${op}: seed must lie in [0, 2^32 - 1], got ${shown(seed)}`);
  }
  const offset = integer(op, 'sampleOffset', a.sampleOffset);
  if (offset < 0 || offset + n > NOISE_MAX_INDEX) {
    throw new Error(
        `${op}: sampleOffset must be >= 0 with sampleOffset + nSamples <= 2^31, got ` +
        `${shown(offset)} (nSamples ${n})`);
  }
  const geometry = noiseTaps(bands, windowSize);
  return {batch, frames, bands, n, hop, irSize: 2 * (bands - 1), windowSize, seed,
          sampleOffset: offset, geometry, start: Math.floor((geometry.coef.length - 1) / 2) - 1};
}

// The magnitudes' limits (kernels/filtered_noise.check_limits, which derives them): each
// frame's A = |M_0| + |M_{K-1}| + 2 sum of the other |M_k| finite in float32 with the
// frame pass's roundings, and the output bound A / N * sum(c_j) within `storage`.
function checkNoiseLimits(op, mags, a, storage) {
  const {bands: k, frames} = a;
  const rows = a.batch * frames;
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; ++r) {
    for (let b = 0; b < k; ++b) {
      sums[r] += (b === 0 || b === k - 1 ? 1 : 2) * Math.abs(mags[r * k + b]);
    }
  }
  const where = r => `batch ${Math.floor(r / frames)}, frame ${r % frames}`;
  const big = sums.findIndex(s => s * (1 + NOISE_SUM_ROUNDING) > STORAGE_MAX.float32);
  if (big >= 0) {
    throw new Error(
        `${op}: magnitudes: the sum of |magnitudes| (doubled inside the band) (${where(big)}) ` +
        `is ${g(sums[big])}, beyond float32's range (${g(STORAGE_MAX.float32)}); scale them down`);
  }
  const coef = a.geometry.coef.reduce((s, c) => s + c, 0);
  const top = STORAGE_MAX[storage];
  const peak = r => sums[r] / a.irSize * coef * (1 + NOISE_EPS_TAP);
  const over = sums.findIndex((_, r) => peak(r) > top);
  if (over >= 0) {
    const advice = storage === 'float16' ? '; use float32 textures' : '';
    throw new Error(
        `${op}: magnitudes: the output can reach ${g(peak(over))} (${where(over)}), beyond ` +
        `${storage}'s largest finite value ${limitText(top)} (${storageText(storage)})${advice}`);
  }
}

// Every value check of the magnitudes the host holds (float32 values), for `storage`.
export function checkNoiseValues(op, mags, a, storage) {
  checkValues(op, 'magnitudes', mags, storage);
  checkNoiseLimits(op, mags, a, storage);
}
