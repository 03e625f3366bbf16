// HarmonicSynth on webgl: DDSP's harmonic synthesizer with the pass plan of
// kernels/harmonic.run (frame increments, their exclusive wrapped scan, frame gains,
// audio); its webgpu kernel is harmonic_synth_webgpu.js.

import {KERNEL_NAMES} from '../generated/constants.js';
import {harmonicArgs} from '../checks.js';
import {ExactInputs} from '../exact_upload.js';
import {harmonicJS} from '../fallback/harmonic.js';
import {HARMONIC_AUDIO_SHIM, badRows, controlRanges} from '../gpu_checks.js';
import {harmonicSynthNode} from '../ops.js';
import {notePass} from '../pass_hook.js';
import {Passes} from '../passes.js';
import {makeProgram} from '../program.js';
import {float32Render} from '../textures.js';
import {kernelFn} from '../tfjs_kernel.js';
import {checkHarmonicValues, checkValues, hostValues, storageOf} from '../value_checks.js';
import {bundlePlan, scaleOf} from './cumsum_plan.js';
import {downSweep, packedOpts, upSweep} from './cumsum_sweep.js';
import {finalPhases, fromDigits, phaseUnits} from './harmonic_phase.js';
import {kernelConfig as harmonicWebGPU} from './harmonic_synth_webgpu.js';

export {harmonicSynth} from '../ops.js';

const KERNEL = KERNEL_NAMES.harmonic;
const UNIFORMS = [
  {name: 'modulus', type: 'ivec2'},
  {name: 'shift', type: 'int'},
  {name: 'nyquist', type: 'float'},
  {name: 'invModulus', type: 'float'},
];

// Code between the accessors and a harmonic body: the distribution as
// vec4 getDist(row = batch * FRAMES + frame, j): harmonics 4j + 1 ... 4j + 4, zero beyond
// K, from the [batch * frames, K] tensor distK.
const DIST_SHIM = `vec4 getDist(int row, int j) {
  int k = 4 * j;
  return vec4(getDistK(row, k),
              k + 1 < HARMONIC_K ? getDistK(row, k + 1) : 0.0,
              k + 2 < HARMONIC_K ? getDistK(row, k + 2) : 0.0,
              k + 3 < HARMONIC_K ? getDistK(row, k + 3) : 0.0);
}`;

// Exclusive wrapped prefix sums of a packed [rows, n, 2, 2] digits tensor (residues as
// four base-2^11 digits), kept as digits, with bundlePlan(n): the leaf sums blocks of 4
// digits (cumsum_reduce4) and the final pass is a down-sweep level (cumsum_scan4) over
// them (kernels/cumsum.scan_graph with digits). Frees every level it made but the result
// [rows, n, 2, 2]; the caller's `values` are the cumsum uniforms' values.
function scanDigits(passes, digits, values) {
  const [rows, n] = digits.shape;
  const pl = bundlePlan(n);
  const leaf = passes.run(
      makeProgram('cumsum_reduce4', ['partial'], [rows, pl.lengths[1], 2, 2],
                  {CUMSUM_SOURCE_LEN: n}, packedOpts(['partial'])),
      [digits], values);
  const upper = downSweep(passes, upSweep(passes, leaf, pl, rows, values), pl, rows, values);
  const prefix = passes.run(
      makeProgram('cumsum_scan4', ['partial', 'upper'], [rows, n, 2, 2],
                  {CUMSUM_SOURCE_LEN: n}, packedOpts(['partial', 'upper'])),
      [digits, upper], values);
  passes.free(upper);
  return prefix;
}

// The initial phases [batch, K] as a digits tensor [batch, K4 * 4, 2, 2] of residues.
function initialPhaseDigits(backend, units, b, k, k4) {
  const digits = new Float32Array(b * k4 * 16);
  units.forEach((u, i) => {
    const o = 4 * (Math.floor(i / k) * k4 * 4 + (i % k));
    for (let j = 0; j < 4; ++j) digits[o + j] = Math.floor(u / 2 ** (11 * j)) % 2048;
  });
  return backend.makeTensorInfo([b, k4 * 4, 2, 2], 'float32', digits);
}

// Phase totals at the last sample, per row (BigInt residues), from the increments and
// their exclusive prefixes read back.
function phaseTotals(backend, increments, prefix, a) {
  const last = a.addEndpoint ? a.frames - 1 : a.frames - 2;
  const inc = backend.readSync(increments.dataId);
  const pre = backend.readSync(prefix.dataId);
  const p = BigInt(a.modulus.p);
  const totals = [];
  for (let r = 0; r < a.batch; ++r) {
    const i = r * a.frames + last;
    totals.push((fromDigits(inc, i) + fromDigits(pre, i)) % p);
  }
  return totals;
}

// Controls the host holds are checked there (value_checks.js); where any is only on the
// GPU, the audio pass writes NaN over the batch rows holding a bad one (gpu_checks.js).
// The initial phases are read back in any case, and checked.
function harmonicWebGL({inputs, backend, attrs}) {
  const a = harmonicArgs(KERNEL, inputs, attrs);
  const {initialPhase} = inputs;
  const host = {f0: hostValues(backend, inputs.f0),
                amplitude: hostValues(backend, inputs.amplitude),
                harmonicDistribution: hostValues(backend, inputs.harmonicDistribution)};
  checkHarmonicValues(KERNEL, host, a, storageOf('webgl'));
  const onGPU = Object.values(host).includes(null);
  const phase0Values = initialPhase != null ? backend.readSync(initialPhase.dataId) : null;
  if (phase0Values !== null) checkValues(KERNEL, 'initialPhase', phase0Values, 'float32');
  const {batch: b, frames, k, n, hop, modulus: mod} = a;
  const k4 = Math.ceil(k / 4);
  const common = {HOP: hop, FRAMES: frames};
  const kdefs = {HARMONIC_K: k, HARMONIC_K4: k4};
  const scanValues = [[mod.lo, mod.hi], [mod.shift], scaleOf(mod.shift)];
  const values = [[mod.lo, mod.hi], [mod.shift], [a.nyquist], [mod.invP]];
  const passes = new Passes(backend);
  const exact = new ExactInputs(backend);  // float16 mode: CPU-resident controls as R32F
  const owned = [];  // [tensor, label] made here that no pass returned
  let ranges = null;  // the controls' minima and maxima, where they are on the GPU only
  try {
    const [f0, amplitude, harmonicDistribution] =
        [inputs.f0, inputs.amplitude, inputs.harmonicDistribution].map(x => exact.input(x));
    let units = null;
    let phase0 = null;
    if (onGPU) {  // TF.js's ops: not passes
      ranges = controlRanges(backend, {f0, amplitude, harmonicDistribution}, a);
    }
    if (phase0Values !== null) {
      units = phaseUnits(phase0Values, mod.p);
      phase0 = initialPhaseDigits(backend, units, b, k, k4);
      owned.push([phase0, 'initialPhase']);
    }
    const increments = passes.run(
        makeProgram('harmonic_increment', ['f0'], [b, frames, 2, 2], common,
                    {packedOutput: true, uniforms: UNIFORMS}),
        [f0], values);
    const prefix = scanDigits(passes, increments, scanValues);
    const totals = a.returnFinalPhase ? phaseTotals(backend, increments, prefix, a) : null;
    passes.free(increments);
    const distK = kernelFn('webgl', 'Reshape')(
        {inputs: {x: harmonicDistribution}, backend, attrs: {shape: [b * frames, k]}});
    owned.push([distK, 'harmonicDistribution view']);
    const gain = passes.run(
        makeProgram('harmonic_gain', ['f0', 'amplitude', 'distK'], [b, frames, 2, 2],
                    {...common, ...kdefs, HARMONIC_NORMALIZE: a.normalize ? 1 : 0},
                    {packedOutput: true, uniforms: UNIFORMS, extra: DIST_SHIM}),
        [f0, amplitude, distK], values);
    const names = ['f0', 'prefix', 'gain', 'distK'].concat(phase0 ? ['phase0'] : [],
                                                            ranges ? ['low', 'high'] : []);
    const audio = passes.run(
        makeProgram('harmonic_synth', names, [b, n],
                    {...common, ...kdefs, HARMONIC_INITIAL: phase0 ? 1 : 0,
                     HARMONIC_ROUND_F16: float32Render() ? 0 : 1},
                    {uniforms: UNIFORMS, extra: DIST_SHIM + (ranges ? HARMONIC_AUDIO_SHIM : ''),
                     digitInputs: ['prefix', 'gain'].concat(phase0 ? ['phase0'] : [])}),
        [f0, prefix, gain, distK].concat(phase0 ? [phase0] : [],
                                         ranges ? [ranges.low, ranges.high] : []),
        values);
    passes.keep(audio);
    if (!a.returnFinalPhase) return audio;
    const phases = finalPhases(totals, units, a);
    if (ranges) {  // read back beside the phase totals: NaN over the rows the audio has
      const bad = badRows(backend.readSync(ranges.low.dataId),
                          backend.readSync(ranges.high.dataId));
      bad.forEach((isBad, row) => isBad && phases.fill(NaN, row * k, (row + 1) * k));
    }
    const phase = backend.makeTensorInfo([b, k], 'float32', phases);
    return [audio, phase];
  } finally {
    passes.freeAll();
    for (const [info, label] of owned) {
      backend.disposeIntermediateTensorInfo(info);
      notePass('free', label);
    }
    if (ranges) [ranges.low, ranges.high].forEach(t => backend.disposeIntermediateTensorInfo(t));
    exact.release();
  }
}

export const kernelConfigs = [
  {kernelName: KERNEL, backendName: 'webgl', kernelFunc: harmonicWebGL},
  harmonicWebGPU,
  {kernelName: KERNEL, backendName: 'cpu', kernelFunc: harmonicJS('cpu')},
  {kernelName: KERNEL, backendName: 'wasm', kernelFunc: harmonicJS('wasm')},
];
export const gradientConfigs = [];
export const graphOps = {[KERNEL]: harmonicSynthNode};
