// Checks of input values the host holds: a plain array, a tensor whose values TF.js still
// keeps on the CPU (not yet uploaded, or read back), or any tensor of the cpu and wasm
// backends. The same checks, limits and messages as the Python API (kernels/_inputs.py,
// kernels/harmonic.check_limits), whose limits come from the generated constants. Values
// only on the GPU are not read back to be checked: see gpu_checks.js.

import {
  FLOAT32_TINY, HARMONIC_EPS_SAMPLE, HARMONIC_SMALLEST_SUM, HARMONIC_SUM_ROUNDING,
  PLAIN_PEAK_MAX, PLAIN_SUM_MIN, STORAGE_MAX,
} from './generated/constants.js';
import {float32Render} from './textures.js';

const FLOAT32_MAX = STORAGE_MAX.float32;
const FLOAT16_MAX = STORAGE_MAX.float16;

// Python's '%g': six significant digits, trailing zeros dropped, exponent form outside
// [1e-4, 1e6), e.g. 3.40282e+38, 70000, 1e-07.
export function g(v) {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : (v > 0 ? 'inf' : '-inf');
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa, e] = v.toExponential(5).split('e');
  const exp = Number(e);
  const trim = s => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (exp < -4 || exp >= 6) {
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${trim(mantissa)}e${exp < 0 ? '-' : '+'}${digits}`;
  }
  return trim(v.toFixed(Math.max(0, 5 - exp)));
}

// A limit as the Python messages write it: 2^k for a power of two far from 1, else '%g'.
export function limitText(v) {
  const k = Math.log2(v);
  return Number.isInteger(k) && Math.abs(k) >= 10 ? `2^${k}` : g(v);
}

// The storage format of the textures a kernel renders into on `backendName`: webgl's
// float16 where TF.js renders to float16 textures (WEBGL_RENDER_FLOAT32_ENABLED false,
// e.g. WEBGL_FORCE_F16_TEXTURES), float32 everywhere else.
export function storageOf(backendName) {
  return backendName === 'webgl' && !float32Render() ? 'float16' : 'float32';
}

export function storageText(storage) {
  return storage === 'float16' ? 'float16 storage: TF.js float16 textures' :
                                 'float32 storage';
}

// The values of tensor `info` if the webgl backend holds them on the CPU, else null (they
// are only in a texture, and reading them back would wait for the GPU).
export function hostValues(backend, info) {
  if (info == null) return null;
  const data = backend.texData.get(info.dataId);
  return data != null && data.values != null ? data.values : null;
}

// Numbers given as a plain (nested) array or typed array, before TF.js rounds them to
// float32: a finite number beyond float32's range would become Inf.
export function checkFloat32Range(op, name, numbers) {
  let big = 0;
  for (const v of numbers) {
    if (typeof v === 'number' && Number.isFinite(v) && !Number.isFinite(Math.fround(v))) {
      big = Math.max(big, Math.abs(v));
    }
  }
  if (big > 0) {
    throw new Error(
        `${op}: ${name}: values beyond float32's range (${g(FLOAT32_MAX)}), up to ${g(big)}; ` +
        'inputs are uploaded as float32');
  }
}

// float32 values of one input: finite, non-negative where asked, and with float16 storage
// (TF.js's float16 mode, which uploads inputs to float16 textures too) within float16's
// range.
export function checkValues(op, name, values, storage, {nonNegative = false} = {}) {
  let min = Infinity;
  let max = 0;
  for (let i = 0; i < values.length; ++i) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new Error(`${op}: ${name}: contains NaN or Inf`);
    if (v < min) min = v;
    if (Math.abs(v) > max) max = Math.abs(v);
  }
  if (storage === 'float16' && max > FLOAT16_MAX) {
    throw new Error(
        `${op}: ${name}: values up to ${g(max)}, beyond float16's largest finite value ` +
        `${limitText(FLOAT16_MAX)} (${storageText('float16')}, which TF.js uploads inputs ` +
        'to); use float32 textures');
  }
  if (nonNegative && min < 0) {
    throw new Error(`${op}: ${name}: must be non-negative, got min ${g(min)}`);
  }
}

// A plain (unwrapped) cumsum of rows [rows, n] must fit `storage` (kernels/_inputs.py
// check_plain_sum): its partial sums at most PLAIN_PEAK_MAX, and the largest row's sum of
// |x| zero or at least PLAIN_SUM_MIN. Float64 sums of float32 values, as Python's.
export function checkPlainSum(op, values, n, reverse, storage) {
  let peak = 0;
  let total = 0;
  for (let base = 0; base < values.length; base += n) {
    let acc = 0;
    let abs = 0;
    for (let j = 0; j < n; ++j) {
      const v = values[base + (reverse ? n - 1 - j : j)];
      acc += v;
      abs += Math.abs(v);
      peak = Math.max(peak, Math.abs(acc));
    }
    total = Math.max(total, abs);
  }
  if (peak > PLAIN_PEAK_MAX[storage]) {
    const advice = storage === 'float16' ? 'use float32 textures or a period' : 'use a period';
    throw new Error(
        `${op}: x: the cumsum reaches ${g(peak)}, beyond ${storage}'s largest finite value ` +
        `${limitText(STORAGE_MAX[storage])} (${storageText(storage)}); ${advice}`);
  }
  if (total > 0 && total < PLAIN_SUM_MIN[storage]) {
    throw new Error(
        `${op}: x: the largest row's sum of |x| is ${g(total)}, below ` +
        `${limitText(PLAIN_SUM_MIN[storage])} with ${storageText(storage)}: its sums would ` +
        'be subnormal numbers, rounded or flushed to zero; scale x up');
  }
}

// -- HarmonicSynth ----------------------------------------------------------------------------

// The first frame where `bad` holds, as the Python messages name it.
function firstFrame(count, frames, bad) {
  for (let i = 0; i < count; ++i) {
    if (bad(i)) return {i, where: `batch ${Math.floor(i / frames)}, frame ${i % frames}`};
  }
  return null;
}

// The amplitudes' limits (kernels/harmonic.check_limits, which derives them): the output
// and every frame gain within what `storage` and float32 hold, none subnormal. f0, amp
// [batch * frames] and dist [batch * frames * K] are float32 values; `a` is harmonicArgs'.
export function checkHarmonicLimits(op, f0, amp, dist, a, storage) {
  const {k, frames} = a;
  const count = f0.length;
  const sums = new Float64Array(count);  // sum over harmonics
  const kept = new Float64Array(count);  // the same below Nyquist
  for (let i = 0; i < count; ++i) {
    for (let h = 0; h < k; ++h) {
      const d = dist[i * k + h];
      sums[i] += d;
      if (f0[i] * (h + 1) < a.nyquist) kept[i] += d;
    }
  }
  let bad = firstFrame(count, frames, i => sums[i] * (1 + HARMONIC_SUM_ROUNDING) > FLOAT32_MAX);
  if (bad) {
    throw new Error(
        `${op}: harmonicDistribution: its sum over harmonics (${bad.where}) is beyond ` +
        `float32's range (${g(FLOAT32_MAX)}); scale it down`);
  }
  const dsum = a.normalize ? kept : sums;
  const scale = i => (a.normalize ? (dsum[i] > 0 ? amp[i] : 0) : amp[i] * dsum[i]);
  const gain = i => (a.normalize ? (dsum[i] > 0 ? amp[i] / dsum[i] : 0) : amp[i]);
  const below = a.normalize ? ' below Nyquist' : '';
  const scaleName = a.normalize ? 'amplitude' : 'amplitude * the sum of harmonicDistribution';
  const smallest = limitText(HARMONIC_SMALLEST_SUM);
  bad = firstFrame(count, frames, i => dsum[i] > 0 && dsum[i] < HARMONIC_SMALLEST_SUM);
  if (bad) {
    throw new Error(
        `${op}: harmonicDistribution: a frame's sum over harmonics${below} (${bad.where}) is ` +
        `${g(dsum[bad.i])}, below ${smallest}: GPUs may flush its subnormal parts to zero; ` +
        'scale it up (normalize=true ignores its scale)');
  }
  bad = firstFrame(count, frames,
                   i => gain(i) !== 0 && (gain(i) < FLOAT32_TINY || gain(i) > FLOAT32_MAX));
  if (bad) {
    const gainName = a.normalize ? `amplitude / the sum of harmonicDistribution${below}` :
                                   'amplitude';
    throw new Error(
        `${op}: ${gainName} (${bad.where}) is ${g(gain(bad.i))}: a nonzero frame gain must ` +
        `be a normal float32 in [${limitText(FLOAT32_TINY)}, ${g(FLOAT32_MAX)}] (the gain ` +
        'pass zeroes subnormal gains)');
  }
  bad = firstFrame(count, frames, i => scale(i) > 0 && scale(i) < HARMONIC_SMALLEST_SUM);
  if (bad) {
    throw new Error(
        `${op}: ${scaleName} (${bad.where}) is ${g(scale(bad.i))}, below ${smallest}: the ` +
        "output's terms would be subnormal numbers, which GPUs may flush to zero");
  }
  const top = STORAGE_MAX[storage];
  bad = firstFrame(count, frames, i => scale(i) * (1 + HARMONIC_EPS_SAMPLE) > top);
  if (bad) {
    const advice = storage === 'float16' ? '; use float32 textures' : '';
    throw new Error(
        `${op}: ${scaleName} (${bad.where}) is ${g(scale(bad.i))}: the output can reach ` +
        `that, beyond ${storage}'s largest finite value ${limitText(top)} ` +
        `(${storageText(storage)})${advice}`);
  }
}

// Every value check of a cumsum's x on the host (float32 values of a tensor `shape`) with
// attributes `a` (cumsumAttrs'), for textures of `storage`.
export function checkCumsumValues(op, values, shape, a, storage) {
  checkValues(op, 'x', values, storage);
  if (a.period === null && a.limits) {
    checkPlainSum(op, values, shape[shape.length - 1], a.reverse, storage);
  }
}

// Every value check of HarmonicSynth's controls on the host (values: {f0, amplitude,
// harmonicDistribution}, float32 arrays, null where the host does not hold one); the
// amplitudes' limits where it holds all three.
export function checkHarmonicValues(op, values, a, storage) {
  for (const name of ['f0', 'amplitude', 'harmonicDistribution']) {
    if (values[name] !== null) checkValues(op, name, values[name], storage, {nonNegative: true});
  }
  if (values.f0 !== null && values.amplitude !== null && values.harmonicDistribution !== null) {
    checkHarmonicLimits(op, values.f0, values.amplitude, values.harmonicDistribution, a, storage);
  }
}
