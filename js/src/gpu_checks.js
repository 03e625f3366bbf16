// Checks of input values that only the GPU holds (the output of another GPU op): reading
// them back to check them on the host would make every call wait for the GPU, so the
// kernels check them as they run instead, and write NaN over every output a bad value
// spoils rather than plausible garbage (README "Errors and limits").
//
// - WrappedCumsum with a period: one extra reduction (abs_sum, the plain cumsum's own)
//   gives each row's float32 sum of |x|; the final pass writes NaN over every row whose
//   sum is NaN or Inf: x holds NaN or Inf there (in float16 mode, also values beyond 65504,
//   which a float16 texture holds as Inf), or, with finite x, that sum overflows float32.
// - HarmonicSynth: TF.js's Min and Max over each batch row of f0, amplitude and
//   harmonicDistribution together (frame-rate data: small beside the audio); the audio
//   pass writes NaN over every batch row holding NaN, Inf or a negative value.
// Each shim is GLSL between TF.js's accessors and a ddspgl body (makeProgram's `extra`):
// it wraps the body's setOutput. TF.js sets the uniform NAN in every program.

import {kernelFn} from './tfjs_kernel.js';

// Whether a float's bits say NaN or Inf (its exponent all ones), or a negative number
// (its sign set, not -0): bit tests, which no compiler may fold away as it may `v != v`.
const BIT_TESTS = `
bool ddspglNotFinite(float v) {
  return (floatBitsToUint(v) & 0x7f800000u) == 0x7f800000u;
}
bool ddspglNegative(float v) {
  return floatBitsToUint(v) > 0x80000000u;
}`;

// The cumsum's final pass (cumsum_final_packed: a packed output whose texel holds two
// positions of rows row and row + 1) with input `flag` [rows, 1, 2, 2]: each row's sum of
// |x| as abs_sum writes it (the digits of its float32 bits, low digit first; the third
// holds bits 22 to 31, the exponent all ones when that digit mod 512 is 510 or 511).
export const CUMSUM_FINAL_SHIM = `
bool ddspglBadRow(int row) {
  return mod(getFlag(row, 0).z, 512.0) >= 510.0;
}
void ddspglSetOutput(vec4 value) {
  int row = getOutputCoords().x;
  bool bad0 = ddspglBadRow(row);
  bool bad1 = row + 1 < CUMSUM_ROWS && ddspglBadRow(row + 1);
  setOutput(vec4(bad0 ? vec2(NAN) : value.xy, bad1 ? vec2(NAN) : value.zw));
}
#define setOutput ddspglSetOutput
`;

// The harmonic audio pass (output [batch, n], unpacked) with inputs `low` and `high`
// [batch, 1]: each batch row's least and largest control value.
export const HARMONIC_AUDIO_SHIM = `${BIT_TESTS}
bool ddspglBadRow(int b) {
  float low = getLow(b, 0);
  return ddspglNotFinite(low) || ddspglNegative(low) || ddspglNotFinite(getHigh(b, 0));
}
void ddspglSetOutput(float value) {
  setOutput(ddspglBadRow(getOutputCoords().x) ? NAN : value);
}
#define setOutput ddspglSetOutput
`;

// The same test on the host, for the values read back (float32 arrays [batch]).
export function badRows(low, high) {
  return Array.from(low, (v, b) => !(v >= 0) || !Number.isFinite(high[b]) ||
                                   !Number.isFinite(v));
}

// [batch, 1] tensors low and high: the least and largest of each batch row of f0 [batch,
// frames], amplitude [batch, frames] and harmonicDistribution [batch, frames, K] together,
// NaN where any is NaN (TF.js's Min and Max propagate NaN). The caller disposes both.
export function controlRanges(backend, {f0, amplitude, harmonicDistribution}, a) {
  const run = (name, inputs, attrs) => kernelFn('webgl', name)({inputs, backend, attrs});
  const temps = [];
  let low = null;
  try {
    const dist = run('Reshape', {x: harmonicDistribution}, {shape: [a.batch, a.frames * a.k]});
    temps.push(dist);
    const all = run('Concat', [f0, amplitude, dist], {axis: 1});
    temps.push(all);
    low = run('Min', {x: all}, {axis: [1], keepDims: true});
    return {low, high: run('Max', {x: all}, {reductionIndices: [1], keepDims: true})};
  } catch (e) {
    if (low !== null) backend.disposeIntermediateTensorInfo(low);
    throw e;
  } finally {
    for (const info of temps) backend.disposeIntermediateTensorInfo(info);
  }
}
