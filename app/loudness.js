// Loudness as magenta/ddsp 3.7.0 computes it: A-weighted power per frame, in dB.
//
// The page's twin of instruments/loudness.py (its docstring has the full derivation):
// ddsp.spectral_ops.compute_loudness on its TensorFlow path (use_tf=True, the default, which
// F0LoudnessPreprocessor(compute_loudness=True) and ddsp's data preparation both take),
// evaluated in float64 (JS numbers):
//   1. zeros padded: 'center' (the preprocessor's default) n_fft / 2 each side, n // hop + 1
//      frames, frame i centred on sample i * hop; 'same' (data preparation without --center)
//      at the end only, ceil(n / hop) frames; hop = sampleRate / frameRate;
//   2. frames of n_fft samples times the periodic Hann window, their real DFT (a radix-2 FFT
//      of n_fft / 2 complex points and a post-processing pass);
//   3. |X_k|^2 times 10^(A(f_k) / 10), A librosa's A-weighting clipped at -80 dB;
//   4. the mean over the n_fft / 2 + 1 bins;
//   5. 10 log10(max(p, 10^(-rangeDb / 10))) - refDb, at least -rangeDb.
// Defaults are ddsp 3.7.0's: nFft 512, refDb 0, rangeDb 80.

export const DB_RANGE = 80;
export const N_FFT = 512;
export const N_FFT_MAX = 65536;
export const A_WEIGHTING_MIN_DB = -80;
export const PADDINGS = ['center', 'same'];
const A_POLES_HZ = [20.598997, 107.65265, 737.86223, 12194.217];
const A_OFFSET_DB = 2;

/** A-weighting in dB at `freq` Hz (librosa's sum of logarithms), at least -80 (0 Hz too). */
export function aWeightingDb(freq) {
  if (!(freq > 0)) return A_WEIGHTING_MIN_DB;
  const [p1, p2, p3, p4] = A_POLES_HZ.map((p) => p * p);
  const fs = freq * freq;
  const a = A_OFFSET_DB + 20 * (
    Math.log10(p4)
    + 2 * Math.log10(fs)
    - Math.log10(fs + p4)
    - Math.log10(fs + p1)
    - 0.5 * Math.log10(fs + p2)
    - 0.5 * Math.log10(fs + p3));
  return Math.max(A_WEIGHTING_MIN_DB, a);
}

/** The power weights 10^(A(f_k) / 10) of bins k = 0 ... nFft / 2, f_k = k sampleRate / nFft. */
export function weights(sampleRate, nFft) {
  const out = new Float64Array(nFft / 2 + 1);
  const spacing = sampleRate / nFft;
  for (let k = 0; k < out.length; k++) out[k] = 10 ** (aWeightingDb(k * spacing) / 10);
  return out;
}

/** The periodic Hann window of nFft points. */
export function hann(nFft) {
  const out = new Float64Array(nFft);
  for (let m = 0; m < nFft; m++) out[m] = 0.5 - 0.5 * Math.cos(2 * Math.PI * m / nFft);
  return out;
}

/** Frames ddsp's padding gives for n samples. */
export function frameCount(n, hop, nFft, padding = 'center') {
  return padding === 'center' ? Math.floor(n / hop) + 1 : Math.ceil(n / hop);
}

// cos and sin of 2 pi j / n for j < n / 2, each from an argument of at most pi / 4 by the
// octant symmetries (exact swaps and negations): every twiddle within about one ulp.
function twiddles(n) {
  const half = Math.max(n / 2, 1);
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  const at = (j) => 2 * Math.PI * j / n;
  for (let j = 0; j < n / 2; j++) {
    if (8 * j <= n) {  // [0, pi / 4]
      cos[j] = Math.cos(at(j));
      sin[j] = Math.sin(at(j));
    } else if (4 * j <= n) {  // (pi / 4, pi / 2]: pi / 2 - theta
      cos[j] = Math.sin(at(n / 4 - j));
      sin[j] = Math.cos(at(n / 4 - j));
    } else if (8 * j <= 3 * n) {  // (pi / 2, 3 pi / 4]: theta - pi / 2
      cos[j] = -Math.sin(at(j - n / 4));
      sin[j] = Math.cos(at(j - n / 4));
    } else {  // (3 pi / 4, pi): pi - theta
      cos[j] = -Math.cos(at(n / 2 - j));
      sin[j] = Math.sin(at(n / 2 - j));
    }
  }
  return {cos, sin};
}

/**
 * A radix-2 real FFT of n points (a power of two >= 2), float64: the power |X_k|^2 of the
 * bins k = 0 ... n / 2. The n real inputs are n / 2 complex points z_m = x_2m + i x_2m+1;
 * their FFT Z gives X_k = E_k + e^(-2 pi i k / n) O_k, E_k = (Z_k + conj Z_(n/2-k)) / 2 and
 * O_k = (Z_k - conj Z_(n/2-k)) / 2i the DFTs of the even and odd samples.
 */
export class RealFft {
  constructor(n) {
    if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0) {
      throw new RangeError(`n: must be a power of two >= 2, got ${n}`);
    }
    this.n = n;
    this.m = n / 2;
    const tw = twiddles(n);
    this.cos = tw.cos;
    this.sin = tw.sin;
    this.re = new Float64Array(this.m);
    this.im = new Float64Array(this.m);
    this.reverse = new Uint32Array(this.m);
    const bits = Math.log2(this.m);
    for (let i = 0; i < this.m; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.reverse[i] = r;
    }
  }

  /** |X_k|^2, k = 0 ... n / 2, of the real input x (length n) into out (length n / 2 + 1). */
  power(x, out) {
    const {n, m, re, im, cos, sin, reverse} = this;
    for (let i = 0; i < m; i++) {
      const r = reverse[i];
      re[r] = x[2 * i];
      im[r] = x[2 * i + 1];
    }
    for (let size = 2; size <= m; size *= 2) {
      const half = size / 2;
      const stride = n / size;  // e^(-2 pi i j / size) = table entry j * n / size
      for (let start = 0; start < m; start += size) {
        for (let j = 0; j < half; j++) {
          const c = cos[j * stride];
          const s = sin[j * stride];
          const p = start + j;
          const q = p + half;
          const tr = c * re[q] + s * im[q];
          const ti = c * im[q] - s * re[q];
          re[q] = re[p] - tr;
          im[q] = im[p] - ti;
          re[p] += tr;
          im[p] += ti;
        }
      }
    }
    const dc = re[0] + im[0];
    const nyquist = re[0] - im[0];
    out[0] = dc * dc;
    out[m] = nyquist * nyquist;
    for (let k = 1; k < m; k++) {
      const ar = re[k];
      const ai = im[k];
      const br = re[m - k];
      const bi = -im[m - k];
      const er = (ar + br) / 2;
      const ei = (ai + bi) / 2;
      const or = (ai - bi) / 2;
      const oi = -(ar - br) / 2;
      const xr = er + cos[k] * or + sin[k] * oi;
      const xi = ei + cos[k] * oi - sin[k] * or;
      out[k] = xr * xr + xi * xi;
    }
    return out;
  }
}

// -- argument checks (the messages of instruments/loudness.py) --------------------------------

function positiveInteger(value, name) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${name}: must be a positive integer, got ${value}`);
  }
  return value;
}

function finite(value, name) {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${name}: must be a finite number, got ${show(value)}`);
  }
  return value;
}

// A number as the Python twin prints it (nan, inf), so that both say the same.
function show(v) {
  if (typeof v !== 'number') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return String(v);
}

function isArrayLike(v) {
  return ArrayBuffer.isView(v) || Array.isArray(v);
}

// The samples as one array of numbers: a Float32Array, Float64Array or Array of numbers, or a
// one-channel AudioBuffer. More channels (an AudioBuffer's, or an array of arrays) are refused.
function monoSamples(samples) {
  if (samples != null && typeof samples.getChannelData === 'function') {
    const channels = samples.numberOfChannels;
    if (channels !== 1) {
      throw new RangeError(
        `audio: must be mono, got ${channels} channels: mix the channels down to one first ` +
        '(the mean over the channels)');
    }
    return samples.getChannelData(0);
  }
  if (Array.isArray(samples) && samples.length > 0 && isArrayLike(samples[0])) {
    throw new RangeError(
      `audio: must be mono (1-D), got ${samples.length} arrays: mix the channels down to one ` +
      'first (the mean over the channels)');
  }
  if (!(samples instanceof Float32Array || samples instanceof Float64Array ||
        Array.isArray(samples))) {
    throw new TypeError(
      'audio: must be a Float32Array, a Float64Array or an Array of samples, got ' +
      `${samples == null ? samples : samples.constructor.name}`);
  }
  return samples;
}

/**
 * The arguments checked: {x, hop}, or an error naming the argument and its limit.
 */
export function check(samples, sampleRate, frameRate, options = {}) {
  const {nFft = N_FFT, rangeDb = DB_RANGE, refDb = 0, padding = 'center'} = options;
  positiveInteger(sampleRate, 'sample_rate');
  positiveInteger(frameRate, 'frame_rate');
  if (sampleRate % frameRate !== 0) {
    throw new RangeError(
      'frame_rate: must divide sample_rate (16000 and 48000 Hz with 250 or 50 frames/s, as ' +
      `ddsp uses them), got ${frameRate} frames/s at ${sampleRate} Hz`);
  }
  const hop = sampleRate / frameRate;
  positiveInteger(nFft, 'n_fft');
  if (nFft < 2 || nFft > N_FFT_MAX || (nFft & (nFft - 1)) !== 0) {
    throw new RangeError(`n_fft: must be a power of two in [2, ${N_FFT_MAX}], got ${nFft}`);
  }
  if (nFft < hop) {
    throw new RangeError(
      `n_fft: must be at least the hop (sample_rate // frame_rate = ${hop} samples), ` +
      `got ${nFft}`);
  }
  finite(rangeDb, 'range_db');
  if (rangeDb <= 0) throw new RangeError(`range_db: must be > 0, got ${rangeDb}`);
  finite(refDb, 'ref_db');
  if (!PADDINGS.includes(padding)) {
    throw new RangeError(`padding: must be one of ${PADDINGS.join(', ')}, got ${padding}`);
  }
  const x = monoSamples(samples);
  if (x.length === 0) throw new RangeError('audio: is empty');
  if (x.length < hop) {
    throw new RangeError(
      `audio: ${x.length} samples is shorter than one frame's hop (${hop} samples at ` +
      `${sampleRate} Hz and ${frameRate} frames/s)`);
  }
  for (let i = 0; i < x.length; i++) {
    if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) {
      throw new RangeError(`audio: every sample must be finite, got ${show(x[i])} at sample ${i}`);
    }
  }
  return {x, hop};
}

/**
 * Loudness in dB per frame (Float64Array), as ddsp 3.7.0's compute_loudness computes it.
 * @param samples mono samples (Float32Array, Float64Array, Array, or a 1-channel AudioBuffer)
 * @param sampleRate Hz, a positive integer
 * @param frameRate frames per second, a positive integer dividing sampleRate
 * @param options {nFft = 512, rangeDb = 80, refDb = 0, padding = 'center' | 'same'}
 */
export function loudnessDb(samples, sampleRate, frameRate, options = {}) {
  const {x, hop} = check(samples, sampleRate, frameRate, options);
  const {nFft = N_FFT, rangeDb = DB_RANGE, refDb = 0, padding = 'center'} = options;
  const frames = frameCount(x.length, hop, nFft, padding);
  const left = padding === 'center' ? nFft / 2 : 0;
  const window = hann(nFft);
  const w = weights(sampleRate, nFft);
  const fft = new RealFft(nFft);
  const frame = new Float64Array(nFft);
  const power = new Float64Array(nFft / 2 + 1);
  const floor = 10 ** (-rangeDb / 10);
  const out = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    const start = i * hop - left;
    for (let m = 0; m < nFft; m++) {
      const t = start + m;
      frame[m] = t >= 0 && t < x.length ? x[t] * window[m] : 0;
    }
    fft.power(frame, power);
    let sum = 0;
    for (let k = 0; k < power.length; k++) sum += power[k] * w[k];
    const db = 10 * Math.log10(Math.max(floor, sum / power.length)) - refDb;
    out[i] = Math.max(db, -rangeDb);
  }
  return out;
}
