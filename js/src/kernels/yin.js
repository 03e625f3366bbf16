// Yin on webgl: the YIN pitch tracker with the pass plan of kernels/yin.graph (block sums
// of squared differences, the difference function per frame, the per-frame pick); its
// webgpu kernel is yin_webgpu.js.

import {KERNEL_NAMES} from '../generated/constants.js';
import {yinArgs} from '../checks.js';
import {ExactInputs} from '../exact_upload.js';
import {yinJS} from '../fallback/yin.js';
import {notePass} from '../pass_hook.js';
import {Passes} from '../passes.js';
import {makeProgram} from '../program.js';
import {kernelFn} from '../tfjs_kernel.js';
import {checkValues} from '../value_checks.js';
import {packedOpts} from './cumsum_sweep.js';
import {yinPlan} from './yin_plan.js';
import {kernelConfig as yinWebGPU} from './yin_webgpu.js';

export {yin} from '../ops.js';

const KERNEL = KERNEL_NAMES.yin;
const PICK_UNIFORMS = [{name: 'threshold', type: 'float'}, {name: 'sampleRate', type: 'float'}];

// Per row the power of two 2^e with max|x| 2^e in [0.5, 1) (1 for a silent row), as
// kernels/yin.row_scale: YIN is invariant to the scale, and the sums stay within float16.
function rowScale(row) {
  let peak = 0;
  for (const v of row) peak = Math.max(peak, Math.abs(v));
  if (peak === 0) return 1;
  let e = -Math.floor(Math.log2(peak)) - 1;
  while (peak * 2 ** e >= 1) e -= 1;
  while (peak * 2 ** e < 0.5) e += 1;
  return 2 ** e;
}

// Rows [batch, n] scaled (exact) and zero-padded as yin_blocks.frag reads them.
function paddedRows(values, a, pl) {
  const out = new Float32Array(a.batch * pl.padded);
  for (let r = 0; r < a.batch; ++r) {
    const row = values.subarray(r * a.n, (r + 1) * a.n);
    const scale = rowScale(row);
    const base = r * pl.padded + pl.pad;
    for (let j = 0; j < a.n; ++j) out[base + j] = row[j] * scale;
  }
  return out;
}

// Texels of each texture the passes make, against the largest a texture may hold.
function checkSizes(backend, a, pl) {
  const max = backend.gpgpu.maxTextureSize ** 2;
  for (const texels of [a.batch * pl.padded, a.batch * pl.blocks * pl.lags4,
    a.batch * a.frames * pl.lags4]) {
    if (texels > max) {
      throw new Error(
          `${KERNEL}: x: ${a.batch} rows of ${a.n} samples need ${texels} texture elements ` +
          `(${pl.lags} lags), beyond this WebGL's limit of ${max}; track shorter pieces`);
    }
  }
}

// x is read back to the host: each row's scale needs its largest |x|, and the values are
// checked (finite) as on the cpu.
function yinWebGL({inputs, backend, attrs}) {
  const a = yinArgs(KERNEL, inputs.x, attrs);
  const pl = yinPlan(a);
  checkSizes(backend, a, pl);
  const values = backend.readSync(inputs.x.dataId);
  checkValues(KERNEL, 'x', values, 'float32');
  const passes = new Passes(backend);
  const exact = new ExactInputs(backend);  // float16 mode: the scaled rows as R32F
  const x = exact.tensor([a.batch, pl.padded], paddedRows(values, a, pl));
  try {
    const blocks = passes.run(
        makeProgram('yin_blocks', ['x'], [a.batch * pl.blocks, pl.lags4, 2, 2],
                    {YIN_BLOCK: pl.block, YIN_BLOCKS: pl.blocks, YIN_WINDOW: a.window,
                     YIN_PAD: pl.pad},
                    {packedOutput: true, uniforms: false}),
        [x], []);
    const diff = passes.run(
        makeProgram('yin_difference', ['blocks'], [a.batch * a.frames, pl.lags4, 2, 2],
                    {YIN_FRAMES: a.frames, YIN_BLOCKS: pl.blocks, YIN_STRIDE: a.hop / pl.block,
                     YIN_SPAN: a.window / pl.block},
                    {...packedOpts(['blocks']), uniforms: false}),
        [blocks], []);
    passes.free(blocks);
    const pick = passes.run(
        makeProgram('yin_pick', ['difference'], [a.batch, a.frames, 2, 2],
                    {YIN_FRAMES: a.frames, YIN_LAGS: pl.lags, YIN_LAGS4: pl.lags4,
                     YIN_LAG_MIN: a.lagMin, YIN_LAG_MAX: a.lagMax},
                    {...packedOpts(['difference']), uniforms: PICK_UNIFORMS}),
        [diff], [[a.threshold], [a.sr32]]);
    return kernelFn('webgl', 'Reshape')(
        {inputs: {x: pick}, backend, attrs: {shape: [...a.lead, a.frames, 4]}});
  } finally {
    passes.freeAll();
    exact.release();
    notePass('free', 'x padded');
  }
}

export const kernelConfigs = [
  {kernelName: KERNEL, backendName: 'webgl', kernelFunc: yinWebGL},
  yinWebGPU,
  {kernelName: KERNEL, backendName: 'cpu', kernelFunc: yinJS('cpu')},
  {kernelName: KERNEL, backendName: 'wasm', kernelFunc: yinJS('wasm')},
];
export const gradientConfigs = [];
export const graphOps = {};
