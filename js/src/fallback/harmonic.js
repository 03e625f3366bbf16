// HarmonicSynth on the cpu and wasm backends: float64, frame phases exact.

import {KERNEL_NAMES} from '../generated/constants.js';
import {harmonicArgs} from '../checks.js';
import {checkHarmonicValues, checkValues} from '../value_checks.js';
import {OUTPUT} from './output.js';

const KERNEL = KERNEL_NAMES.harmonic;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

// x * 2^150 as an exact BigInt for a float32 x (every float32 is a multiple of 2^-149).
function f32Units(x) {
  F32[0] = x;
  const bits = U32[0];
  const biased = (bits >>> 23) & 0xff;
  let m = bits & 0x7fffff;
  if (biased !== 0) m |= 0x800000;
  const u = BigInt(m) << BigInt(Math.max(biased, 1));
  return bits >>> 31 ? -u : u;
}

// Frame amplitudes [frames, K] of one row: amplitude * (normalised) distribution.
function frameAmplitudes(f0, amp, dist, row, a) {
  const {frames, k} = a;
  const out = new Float64Array(frames * k);
  for (let i = 0; i < frames; ++i) {
    const base = (row * frames + i) * k;
    const f = f0[row * frames + i];
    let total = 0;
    for (let h = 0; h < k; ++h) {
      const keep = !a.normalize || (h + 1) * f < a.nyquist;  // exact: k < 2^12, f float32
      const d = keep ? dist[base + h] : 0;
      out[i * k + h] = d;
      total += d;
    }
    const gain = !a.normalize ? amp[row * frames + i] :
                 total === 0 ? 0 : amp[row * frames + i] / total;
    for (let h = 0; h < k; ++h) out[i * k + h] *= gain;
  }
  return out;
}

// Float64 synthesis of the float32 inputs (the semantics of kernels/harmonic.reference):
// frame start phases accumulated exactly (BigInt, modulo one cycle), the in-frame closed
// form, k times it and the initial phase in float64, sin in float64, one float32 rounding.
function harmonicRows(f0, amp, dist, phase0, a) {
  const {batch, frames, k, n, hop} = a;
  const sr = a.sr32;
  const audio = new Float32Array(batch * n);
  const finalPhase = a.returnFinalPhase ? new Float32Array(batch * k) : null;
  const cycle = 2n * f32Units(sr);  // twice one cycle (Hz * samples) in units of 2^-150
  const cycleF = Number(cycle);
  const start = new Float64Array(frames);
  for (let row = 0; row < batch; ++row) {
    const amps = frameAmplitudes(f0, amp, dist, row, a);
    const init = new Float64Array(k);
    for (let h = 0; h < k; ++h) {
      if (phase0) {
        const c = phase0[row * k + h] / (2 * Math.PI);
        init[h] = c - Math.floor(c);
      }
    }
    // Twice the phase in Hz * samples, modulo 2 sr; `total` at the last sample (the end
    // of the last hop: the held endpoint's, or that of frame frames - 2 without it).
    const last = a.addEndpoint ? frames - 1 : frames - 2;
    let acc = 0n;
    let total = 0n;
    for (let i = 0; i < frames; ++i) {
      start[i] = Number(acc) / cycleF;
      const ua = f32Units(f0[row * frames + i]);
      const ub = i + 1 < frames ? f32Units(f0[row * frames + i + 1]) : ua;
      acc = (acc + ua * BigInt(hop + 1) + ub * BigInt(hop - 1)) % cycle;
      if (acc < 0n) acc += cycle;
      if (i === last) total = acc;
    }
    for (let s = 0; s < n; ++s) {
      const i = Math.floor(s / hop);
      const r = s - i * hop;
      const nxt = Math.min(i + 1, frames - 1);
      const fa = f0[row * frames + i];
      const fb = f0[row * frames + nxt];
      const cb = r * (r + 1) / 2;
      const ca = hop * (r + 1) - cb;
      const fundamental = start[i] + (fa * ca + fb * cb) / (hop * sr);
      const f = (fa * (hop - r) + fb * r) / hop;
      const w = 0.5 - 0.5 * Math.cos(Math.PI * r / hop);
      let sum = 0;
      for (let h = 0; h < k; ++h) {
        if ((h + 1) * f >= a.nyquist) break;  // every higher harmonic is above Nyquist too
        const env = amps[i * k + h] * (1 - w) + amps[nxt * k + h] * w;
        if (env === 0) continue;
        let c = fundamental * (h + 1) + init[h];
        c -= Math.floor(c);
        sum += env * Math.sin(2 * Math.PI * c);
      }
      audio[row * n + s] = sum;
    }
    if (finalPhase) {
      for (let h = 0; h < k; ++h) {
        let c = Number((total * BigInt(h + 1)) % cycle) / cycleF + init[h];
        c -= Math.floor(c);
        finalPhase[row * k + h] = c * (2 * Math.PI);
      }
    }
  }
  return {audio, finalPhase};
}

// The kernel function for backendName ('cpu' or 'wasm'): the host holds every value, so
// every value is checked, with the limits of float32 storage.
export function harmonicJS(backendName) {
  return ({inputs, backend, attrs}) => {
    const a = harmonicArgs(KERNEL, inputs, attrs);
    const read = x => (x == null ? null : backend.readSync(x.dataId));
    const values = {f0: read(inputs.f0), amplitude: read(inputs.amplitude),
                    harmonicDistribution: read(inputs.harmonicDistribution)};
    checkHarmonicValues(KERNEL, values, a, 'float32');
    const phase0 = read(inputs.initialPhase);
    if (phase0 !== null) checkValues(KERNEL, 'initialPhase', phase0, 'float32');
    const {audio, finalPhase} = harmonicRows(
        values.f0, values.amplitude, values.harmonicDistribution, phase0, a);
    const out = OUTPUT[backendName](backend, [a.batch, a.n], audio);
    if (!finalPhase) return out;
    return [out, OUTPUT[backendName](backend, [a.batch, a.k], finalPhase)];
  };
}
