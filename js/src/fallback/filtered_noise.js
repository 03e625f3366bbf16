// FilteredNoise on the cpu and wasm backends: float64 synthesis of the float32 magnitudes
// (kernels/filtered_noise.reference's semantics), and the noise generator every backend
// draws from, bit for bit glsl/lib/noise/noiseUniform.glsl and kernels/filtered_noise.noise.

import {KERNEL_NAMES} from '../generated/constants.js';
import {checkNoiseValues, filteredNoiseArgs} from '../kernels/filtered_noise_args.js';
import {OUTPUT} from './output.js';

const KERNEL = KERNEL_NAMES.filtered_noise;

// The PCG hash (Jarzynski and Olano, JCGT 2020) of a uint32: uint32 arithmetic modulo 2^32
// by Math.imul and >>> 0.
function pcg(v) {
  const state = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

// Batch row `row`'s stream key for `seed` (a uint32): pcg(pcg(seed) + row).
export function noiseKey(seed, row) {
  return pcg((pcg(seed >>> 0) + row) >>> 0);
}

// The uniform in [-1, 1) of absolute sample `index` of the stream `key`: (word >> 8) 2^-23 - 1
// of word = pcg(pcg(index ^ key) + key), exact in float32.
export function noiseUniform(key, index) {
  const word = pcg((pcg((index ^ key) >>> 0) + key) >>> 0);
  return (word >>> 8) * 2 ** -23 - 1;
}

// Float64 causal impulse responses [batch * frames * L] of float32 magnitudes
// [batch * frames * K]: irfft at each tap's zero-phase index, times its window value.
function impulseResponses(mags, a) {
  const {bands: k, irSize: n} = a;
  const {source, coef} = a.geometry;
  const cos = Float64Array.from({length: n}, (_, m) => Math.cos(2 * Math.PI * m / n));
  const rows = a.batch * a.frames;
  const out = new Float64Array(rows * coef.length);
  for (let r = 0; r < rows; ++r) {
    for (let j = 0; j < coef.length; ++j) {
      let sum = 0;
      for (let b = 0; b < k; ++b) {
        const w = b === 0 || b === k - 1 ? 1 : 2;
        sum += w * mags[r * k + b] * cos[(b * source[j]) % n];
      }
      out[r * coef.length + j] = coef[j] * sum / n;
    }
  }
  return out;
}

// Float64 filtered noise [batch * n], one float32 rounding: y[m] = sum over taps j of
// ir_{q / hop}[j] x[q], q = m + start - j in [0, n).
export function filteredNoiseRows(mags, a) {
  const {batch, frames, n, hop, start} = a;
  const taps = a.geometry.coef.length;
  const ir = impulseResponses(mags, a);
  const out = new Float32Array(batch * n);
  const x = new Float64Array(n);
  for (let b = 0; b < batch; ++b) {
    const key = noiseKey(a.seed, b);
    for (let q = 0; q < n; ++q) x[q] = noiseUniform(key, a.sampleOffset + q);
    for (let m = 0; m < n; ++m) {
      let sum = 0;
      const lo = Math.max(0, m + start - taps + 1);
      const hi = Math.min(n - 1, m + start);
      for (let q = lo; q <= hi; ++q) {
        sum += ir[(b * frames + Math.floor(q / hop)) * taps + m + start - q] * x[q];
      }
      out[b * n + m] = sum;
    }
  }
  return out;
}

// The kernel function for backendName ('cpu' or 'wasm'): the host holds the magnitudes,
// so they are checked, with the limits of float32 storage.
export function filteredNoiseJS(backendName) {
  return ({inputs, backend, attrs}) => {
    const a = filteredNoiseArgs(KERNEL, inputs.magnitudes, attrs);
    const mags = backend.readSync(inputs.magnitudes.dataId);
    checkNoiseValues(KERNEL, mags, a, 'float32');
    return OUTPUT[backendName](backend, [a.batch, a.n], filteredNoiseRows(mags, a));
  };
}
