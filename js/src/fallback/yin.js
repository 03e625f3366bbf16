// Yin on the cpu and wasm backends: float64 YIN of the float32 input, the definitions of
// kernels/yin.reference (difference function, d', dips judged by the ordinate of their
// interpolated minimum, absolute threshold, parabolic period), one float32 rounding of
// each output.

import {KERNEL_NAMES} from '../generated/constants.js';
import {yinArgs} from '../checks.js';
import {checkValues} from '../value_checks.js';
import {OUTPUT} from './output.js';

const KERNEL = KERNEL_NAMES.yin;

// d(tau) of every frame of one row, tau = 0 ... L (d(0) = 0): [frames * (L + 1)]. The
// compared span of frame i at lag tau starts at s = i * hop - (W + tau) // 2; samples
// outside the row are zeros.
export function differenceRow(x, a) {
  const {hop, window: w, frames} = a;
  const lags = a.lagMax + 1;
  const n = x.length;
  const at = j => (j >= 0 && j < n ? x[j] : 0);
  const d = new Float64Array(frames * (lags + 1));
  for (let i = 0; i < frames; ++i) {
    for (let tau = 1; tau <= lags; ++tau) {
      const s = i * hop - Math.floor((w + tau) / 2);
      let sum = 0;
      for (let k = 0; k < w; ++k) {
        const diff = at(s + k) - at(s + k + tau);
        sum += diff * diff;
      }
      d[i * (lags + 1) + tau] = sum;
    }
  }
  return d;
}

// The parabola's vertex offset through (-1, p), (0, q), (1, r): clamped to [-1, 1], 0 where
// the points do not curve upwards.
function vertex(p, q, r) {
  const den = p + r - 2 * q;
  return den > 0 ? Math.min(1, Math.max(-1, (p - r) / (2 * den))) : 0;
}

// Steps 2-5 for one frame's d [L + 1]: [f0, confidence, lag, delta].
export function pickFrame(d, a) {
  const size = d.length;
  const cmnd = new Float64Array(size);
  cmnd[0] = 1;
  let total = 0;
  for (let t = 1; t < size; ++t) {
    total += d[t];
    cmnd[t] = total > 0 ? t * d[t] / total : 1;
  }
  let best = -1;
  let bestDepth = Infinity;
  let pick = -1;
  let pickDepth = 0;
  for (let tau = a.lagMin; tau <= a.lagMax; ++tau) {
    const below = cmnd[tau] < cmnd[tau - 1];
    const notAbove = tau + 1 < size && cmnd[tau] <= cmnd[tau + 1];
    if (!((below || tau === a.lagMin) && (notAbove || tau === a.lagMax))) continue;
    let depth = cmnd[tau];
    if (below && notAbove) {
      const curve = cmnd[tau - 1] + cmnd[tau + 1] - 2 * cmnd[tau];
      if (curve > 0) depth -= (cmnd[tau - 1] - cmnd[tau + 1]) ** 2 / (8 * curve);
    }
    if (depth < a.threshold) {
      pick = tau;
      pickDepth = depth;
      break;
    }
    if (depth < bestDepth) {
      best = tau;
      bestDepth = depth;
    }
  }
  if (pick < 0) {
    pick = best;
    pickDepth = bestDepth;
  }
  const delta = vertex(d[pick - 1], d[pick], d[pick + 1]);
  return [a.sr32 / (pick + delta), Math.min(1, Math.max(0, 1 - pickDepth)), pick, delta];
}

// Float64 YIN of rows [batch, n]: [batch * frames * 4] (f0, confidence, lag, delta).
export function yinRows(values, a) {
  const {batch, n, frames} = a;
  const stride = a.lagMax + 2;
  const out = new Float32Array(batch * frames * 4);
  for (let r = 0; r < batch; ++r) {
    const d = differenceRow(values.subarray(r * n, (r + 1) * n), a);
    for (let i = 0; i < frames; ++i) {
      out.set(pickFrame(d.subarray(i * stride, (i + 1) * stride), a), (r * frames + i) * 4);
    }
  }
  return out;
}

// The kernel function for backendName ('cpu' or 'wasm'): [..., frames, 4].
export function yinJS(backendName) {
  return ({inputs, backend, attrs}) => {
    const a = yinArgs(KERNEL, inputs.x, attrs);
    const values = backend.readSync(inputs.x.dataId);
    checkValues(KERNEL, 'x', values, 'float32');
    return OUTPUT[backendName](backend, [...a.lead, a.frames, 4], yinRows(values, a));
  };
}
