// ddspgl for TensorFlow.js: kernels, op functions, gradients and graph-model ops.
//
// This file is the body of the emitted bundle (`ddspgl bundle -o dist/`); the emitter
// prepends `GENERATED` (GLSL bodies expanded by harness/shader.resolve and the constants
// of kernels/cumsum.py and kernels/harmonic.py) and wraps it as a script (global `ddspgl`)
// or an ES module.
// It expects `tf` (tfjs-core's API) in scope.

const KERNEL = 'WrappedCumsum';
const MAX_RANK = 6;
const UNIFORMS = [
  {name: 'modulus', type: 'ivec2'},
  {name: 'shift', type: 'int'},
  {name: 'scale', type: 'vec2'},
];
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

const stats = {passes: 0};

// -- argument checks: every bad input throws an Error that names it -------------------------

function checkTensor(op, x, {float = true} = {}) {
  if (x == null || !Array.isArray(x.shape)) {
    throw new Error(`${op}: x must be a tensor`);
  }
  if (float && x.dtype !== 'float32') {
    throw new Error(`${op}: x must have dtype float32, got ${x.dtype}`);
  }
  const rank = x.shape.length;
  if (rank < 1 || rank > MAX_RANK) {
    throw new Error(
        `${op}: x has rank ${rank}; supported ranks are 1 to ${MAX_RANK} ` +
        '(the sum runs along the last axis)');
  }
  if (x.shape[rank - 1] === 0) {
    throw new Error(`${op}: x is empty (shape [${x.shape}])`);
  }
}

function checkFlag(op, name, value) {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') {
    throw new Error(`${op}: ${name} must be a boolean, got ${String(value)}`);
  }
  return value;
}

// period: a number (wrap modulo its float32 rounding) or null (a plain cumsum).
function checkPeriod(op, period, {required}) {
  if (period === null || period === undefined) {
    if (required) {
      throw new Error(`${op}: period is required (a finite number > 0, e.g. 1 or 2*Math.PI)`);
    }
    return null;
  }
  if (typeof period !== 'number' || !Number.isFinite(period) || !(period > 0)) {
    throw new Error(`${op}: period must be a finite number > 0, got ${String(period)}`);
  }
  const p32 = Math.fround(period);
  if (!(p32 >= GENERATED.PERIOD_MIN && p32 <= GENERATED.PERIOD_MAX)) {
    throw new Error(`${op}: period must lie in [2^-100, 2^100], got ${period}`);
  }
  return p32;
}

function cumsumAttrs(op, attrs, {periodRequired}) {
  return {
    period: checkPeriod(op, attrs.period, {required: periodRequired}),
    exclusive: checkFlag(op, 'exclusive', attrs.exclusive),
    reverse: checkFlag(op, 'reverse', attrs.reverse),
  };
}

// -- kernels/cumsum.py, reproduced: pass plan and modulus ----------------------------------

function plan(n) {
  const {LEAF_BLOCK, TOP_MAX} = GENERATED;
  if (n <= TOP_MAX) return {blocks: [], lengths: [n]};
  const m = Math.ceil(n / LEAF_BLOCK);
  let k = 0;
  while (Math.ceil(m / TOP_MAX ** k) > TOP_MAX) k += 1;
  const upper = k ? Math.ceil(m ** (1 / (k + 1))) : TOP_MAX;
  const blocks = [LEAF_BLOCK];
  for (let i = 0; i < k; ++i) blocks.push(upper);
  const lengths = [n];
  for (const b of blocks) lengths.push(Math.ceil(lengths[lengths.length - 1] / b));
  return {blocks, lengths};
}

function scaleOf(shift) {
  const half = Math.floor(shift / 2);
  return [2 ** -half, 2 ** (half - shift)];
}

// Modulus.periodic: p = m24 * 2^20 for the float32 period m24 * 2^(e - 24).
function periodicModulus(p32) {
  F32[0] = p32;
  const bits = U32[0];
  const biased = (bits >>> 23) & 0xff;  // normal: checkPeriod keeps p32 in [2^-100, 2^100]
  const m24 = (bits & 0x7fffff) | 0x800000;
  const shift = 44 - (biased - 126);  // frexp exponent = biased - 126
  return {lo: m24 << 20, hi: m24 >>> 12, shift, signed: false};
}

// Modulus.plain from an upper bound on the largest row's sum of |x|.
function plainModulus(total, n) {
  let shift = 0;
  if (total > 0) {
    const limit = 2 ** 43 - n - 1;
    shift = Math.floor(Math.log2(limit / total));
    while (total * 2 ** shift + n / 2 >= limit) shift -= 1;
  }
  return {lo: 0, hi: GENERATED.SIGNED_MODULUS_HI, shift, signed: true};
}

// -- the WebGL kernel ----------------------------------------------------------------------

function defineLines(defines) {
  return Object.entries(defines).map(([k, v]) => `#define ${k} ${v}`).join('\n');
}

// Adapts a body written against (row, col) accessors to TF.js's shader compiler. Digit
// levels (and other vec4 elements) are tensors [rows, m, 2, 2]: packed, one texel holds
// one element's 4 components; unpacked, they are 4 consecutive floats. A raw input `x`
// [rows, n] read packed gives the body vec4 getXTexel(row, col), TF.js's texel holding
// (row, col), (row, col + 1), (row + 1, col), (row + 1, col + 1) for even row and col,
// and float getX(row, col), the value.
function shims({packedInputs, packedOutput, digitInputs, rawX}) {
  const lines = [];
  if (rawX && packedInputs) {
    lines.push('vec4 getXTexel(int row, int col) { return getX(row, col); }');
    lines.push('float ddspglGetX(int row, int col) { ' +
               'return getXTexel(row, col)[2 * (row & 1) + (col & 1)]; }');
    lines.push('#define getX ddspglGetX');
  }
  for (const name of digitInputs) {
    const get = 'get' + name[0].toUpperCase() + name.slice(1);
    lines.push(packedInputs ?
        `vec4 ${get}(int row, int col) { return ${get}(row, col, 0, 0); }` :
        `vec4 ${get}(int row, int col) { return vec4(${get}(row, col, 0, 0), ` +
            `${get}(row, col, 0, 1), ${get}(row, col, 1, 0), ${get}(row, col, 1, 1)); }`);
  }
  if (packedOutput) {
    lines.push('ivec2 ddspglOutputCoords() { return getOutputCoords().xy; }');
    lines.push('#define getOutputCoords ddspglOutputCoords');
  }
  return lines.join('\n');
}

function makeProgram(body, variableNames, outputShape, defines, opts) {
  const {packedInputs = false, packedOutput = false, digitInputs = [], uniforms = UNIFORMS,
         extra = ''} = opts;
  const program = {
    variableNames,
    outputShape,
    packedInputs,
    packedOutput,
    userCode: [defineLines(defines),
               shims({packedInputs, packedOutput, digitInputs, rawX: variableNames.includes('x')}),
               extra,
               '#line 1', GENERATED.glsl[body]].join('\n'),
  };
  if (uniforms) program.customUniforms = uniforms;
  Object.defineProperty(program, 'ddspglBody', {value: body});  // for _onPass
  return program;
}

// Debug hook for memory profiles: fn({event, label}) after every pass of a ddspgl kernel
// (event 'run', label the GLSL body) and every disposal of one of its intermediates
// ('free'), or null for none. Exported as ddspgl._onPass; returns the previous hook.
let passHook = null;

function onPass(fn) {
  if (fn !== null && typeof fn !== 'function') {
    throw new Error(`_onPass: fn must be a function or null, got ${String(fn)}`);
  }
  const before = passHook;
  passHook = fn;
  return before;
}

function notePass(event, label) {
  if (passHook !== null) passHook({event, label});
}

// The intermediates of one kernel call: every pass's output is held until freed, freed as
// soon as no later pass reads it, and freed on the way out if a pass throws.
class Passes {
  constructor(backend) {
    this.backend = backend;
    this.held = [];
    this.labels = new Map();
  }
  run(program, inputs, values) {
    const packed = !!program.packedOutput;
    const out = this.backend.runWebGLProgram(program, inputs, 'float32', values, packed);
    return this.hold(out, program.ddspglBody);
  }
  // x itself if its texture is packed, else a packed copy (TF.js's own pack pass): every
  // pass that reads x packed would otherwise pack an unpacked x again, once per pass.
  packed(x) {
    const backend = this.backend;
    if (backend.texData.get(x.dataId).isPacked || typeof backend.packTensor !== 'function') {
      return x;
    }
    return this.hold(backend.packTensor(x), 'pack');
  }
  hold(out, label) {
    stats.passes += 1;
    this.held.push(out);
    this.labels.set(out, label);
    notePass('run', label);
    return out;
  }
  free(info) {  // as soon as no later pass reads it
    const i = this.held.indexOf(info);
    if (i >= 0) {
      this.held.splice(i, 1);
      this.dispose(info);
    }
  }
  keep(info) {
    this.held.splice(this.held.indexOf(info), 1);
    this.labels.delete(info);
    return info;
  }
  freeAll() {
    for (const info of this.held) this.dispose(info);
    this.held = [];
  }
  dispose(info) {
    this.backend.disposeIntermediateTensorInfo(info);
    notePass('free', this.labels.get(info));
    this.labels.delete(info);
  }
}

// Upper bound on the largest row's sum of |x| for x [rows, n] on the GPU (abs_sum.frag),
// read back: a plain cumsum needs it on the host to choose its shift.
function absSumBound(passes, x2) {
  const [rows, n] = x2.shape;
  const B = GENERATED.ABS_SUM_BLOCK;
  let source = x2;
  let len = n;
  let levels = 0;
  do {
    const next = Math.ceil(len / B);
    const raw = source === x2;
    const program = makeProgram(
        'abs_sum', [raw ? 'x' : 'partial'], [rows, next, 2, 2],
        {ABS_SUM_BLOCK: B, ABS_SUM_SOURCE_LEN: len, ABS_SUM_SOURCE_RAW: raw ? 1 : 0},
        {packedInputs: true, packedOutput: true, digitInputs: raw ? [] : ['partial'],
         uniforms: false});
    const out = passes.run(program, [source]);
    if (!raw) passes.free(source);
    source = out;
    len = next;
    levels += 1;
  } while (len > 1);
  const digits = passes.backend.readSync(source.dataId);
  passes.free(source);
  let total = 0;
  for (let r = 0; r < rows; ++r) {
    const d = digits.subarray(4 * r, 4 * r + 4);
    U32[0] = (Math.round(d[0]) | (Math.round(d[1]) << 11) | (Math.round(d[2]) << 22)) >>> 0;
    total = Math.max(total, F32[0]);
  }
  if (!Number.isFinite(total)) {
    throw new Error(`cumsum: the sum of |x| over a row is not finite (${total})`);
  }
  // Float32 summation: at most levels * (B - 1) roundings of 2^-24 relative each.
  return total * (1 + levels * B * 2 ** -24);
}

// The bundle's pass plan for rows of nScan scan elements: kernels/cumsum.plan's structure
// (a leaf reduction, upper reductions until at most TOP_MAX block sums remain, the top
// scanned whole, the down-sweep, the final pass) with blocks sized for software renderers
// (SwiftShader, llvmpipe), which pay for every instruction of a shader whether a branch or
// loop takes it or not: the leaf and the next BUNDLE_QUAD_LEVELS levels use blocks of 4
// with straight-line bodies (cumsum_leaf4, cumsum_reduce4, cumsum_scan4; the final pass's
// output pairs are block halves), the short levels above them blocks of BUNDLE_UPPER_BLOCK
// (cumsum_reduce, cumsum_scan). Exact integer arithmetic makes the result independent of
// the blocking, bit for bit. Every down-sweep level also holds its row total P(length), so
// a prefix can start from the next block's prefix as well as from its own.
const BUNDLE_QUAD_LEVELS = 2;
const BUNDLE_UPPER_BLOCK = 16;

function bundlePlan(nScan) {
  const blocks = [4];
  const lengths = [nScan, Math.ceil(nScan / 4)];
  while (lengths[lengths.length - 1] > GENERATED.TOP_MAX) {
    const block = blocks.length <= BUNDLE_QUAD_LEVELS ? 4 : BUNDLE_UPPER_BLOCK;
    blocks.push(block);
    lengths.push(Math.ceil(lengths[lengths.length - 1] / block));
  }
  return {blocks, lengths};
}

// TF.js lays a packed [1, n] or [m, 2, 2] tensor of up to 2 * WEBGL_MAX_TEXTURE_SIZE
// elements on a texture one texel tall or wide; a software renderer splits a draw into
// bands of rows, so a texture one texel tall runs on one core (the final pass at
// n = 16000: 4x slower). While ddspgl's passes allocate, textures longer than this and
// at most 2 texels across are laid out near-square instead (TF.js's own
// WEBGL_MAX_SIZE_FOR_NARROW_TEXTURE, restored afterwards; TF.js keeps every texture's
// shape with it, so this changes no other op).
const NARROW_TEXTURE_MAX = 64;

function withSquareTextures(fn) {
  const env = tf.env();
  const flag = 'WEBGL_MAX_SIZE_FOR_NARROW_TEXTURE';
  const before = env.getNumber(flag);
  if (before <= NARROW_TEXTURE_MAX) return fn();
  env.set(flag, NARROW_TEXTURE_MAX);
  try {
    return fn();
  } finally {
    env.set(flag, before);
  }
}

// The wrapped (or plain) cumsum of x [rows, n] along its last axis with bundlePlan: every
// pass reads and writes packed textures, so a packed x is read as it is (an unpacked one is
// packed once), and the result [rows, n] is packed.
function cumsumWebGL(backend, x2, {period, exclusive, reverse}) {
  const [rows, n] = x2.shape;
  const passes = new Passes(backend);
  try {
    const xp = passes.packed(x2);
    const mod = period !== null ? periodicModulus(period) :
                                  plainModulus(absSumBound(passes, xp), n);
    const values = [[mod.lo, mod.hi], [mod.shift], scaleOf(mod.shift)];
    // A reverse scan over an odd n counts a zero in front, so output pairs stay aligned.
    const nScan = reverse && n % 2 ? n + 1 : n;
    const pl = bundlePlan(nScan);
    const raw = {CUMSUM_SOURCE_LEN: n, CUMSUM_SCAN_LEN: nScan, CUMSUM_REVERSE: reverse ? 1 : 0};
    const packed = names => ({packedInputs: true, packedOutput: true,
                              digitInputs: names.filter(name => name !== 'x')});
    const levels = pl.lengths.length - 1;
    // Up-sweep: block sums, level by level, as digits.
    const sums = [passes.run(
        makeProgram('cumsum_leaf4', ['x'], [rows, pl.lengths[1], 2, 2], raw,
                    packed(['x'])),
        [xp], values)];
    for (let level = 1; level < levels; ++level) {
      const shape = [rows, pl.lengths[level + 1], 2, 2];
      const program = pl.blocks[level] === 4 ?
          makeProgram('cumsum_reduce4', ['partial'], shape,
                      {CUMSUM_SOURCE_LEN: pl.lengths[level]}, packed(['partial'])) :
          makeProgram('cumsum_reduce', ['partial'], shape,
                      {CUMSUM_REVERSE: 0, CUMSUM_BLOCK: pl.blocks[level],
                       CUMSUM_SOURCE_LEN: pl.lengths[level], CUMSUM_SOURCE_RAW: 0},
                      packed(['partial']));
      sums.push(passes.run(program, [sums[level - 1]], values));
    }
    // Down-sweep: exclusive prefixes of each level and its total, the top scanned whole.
    let upper = null;
    for (let level = levels; level > 0; --level) {
      const length = pl.lengths[level];
      const levelSums = sums[level - 1];
      const names = upper ? ['partial', 'upper'] : ['partial'];
      const inputs = upper ? [levelSums, upper] : [levelSums];
      const block = level < levels ? pl.blocks[level] : length + 1;
      const program = block === 4 ?
          makeProgram('cumsum_scan4', names, [rows, length + 1, 2, 2],
                      {CUMSUM_SOURCE_LEN: length}, packed(names)) :
          makeProgram('cumsum_scan', names, [rows, length + 1, 2, 2],
                      {CUMSUM_REVERSE: 0, CUMSUM_BLOCK: block, CUMSUM_SOURCE_LEN: length,
                       CUMSUM_SOURCE_RAW: 0, CUMSUM_HAS_UPPER: upper ? 1 : 0,
                       CUMSUM_UPPER_LEN: upper ? pl.lengths[level + 1] + 1 : 0,
                       CUMSUM_FINAL: 0},
                      packed(names));
      const prefix = passes.run(program, inputs, values);
      passes.free(levelSums);
      if (upper) passes.free(upper);
      upper = prefix;
    }
    // Final pass: two outputs per row in a texel, from a block prefix and their own inputs.
    const program = makeProgram(
        'cumsum_final_packed', ['x', 'upper'], [rows, n],
        {...raw, CUMSUM_ROWS: rows, CUMSUM_INCLUSIVE: exclusive ? 0 : 1,
         CUMSUM_SIGNED: mod.signed ? 1 : 0,
         CUMSUM_ROUND_F16: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 0 : 1},
        packed(['x', 'upper']));
    const result = passes.run(program, [xp, upper], values);
    passes.free(xp);  // a packed copy of x, if one was made
    return passes.keep(result);
  } finally {
    passes.freeAll();
  }
}

function kernelFn(backend, name) {
  const config = tf.getKernel(name, backend);
  if (config == null) throw new Error(`ddspgl: TF.js has no ${name} kernel for '${backend}'`);
  return config.kernelFunc;
}

// x [..., n] -> [rows, n] through the backend's own Reshape (which repacks when needed).
function lastAxisRun(backend, x, attrs) {
  const n = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / n;
  const x2 = kernelFn('webgl', 'Reshape')({inputs: {x}, backend, attrs: {shape: [rows, n]}});
  try {
    const out = withSquareTextures(() => cumsumWebGL(backend, x2, attrs));
    try {  // packed: free unless x's last two axes pack differently from [rows, n]
      return kernelFn('webgl', 'Reshape')({inputs: {x: out}, backend, attrs: {shape: x.shape}});
    } finally {
      backend.disposeIntermediateTensorInfo(out);
    }
  } finally {
    backend.disposeIntermediateTensorInfo(x2);
  }
}

function wrappedCumsumWebGL({inputs, backend, attrs}) {
  checkTensor(KERNEL, inputs.x);
  return lastAxisRun(backend, inputs.x, cumsumAttrs(KERNEL, attrs, {periodRequired: false}));
}

// -- plain JS fallback (cpu, wasm): float64 accumulation, one float32 rounding -------------

function cumsumRows(values, shape, {period, exclusive, reverse}) {
  const n = shape[shape.length - 1];
  const out = new Float32Array(values.length);
  for (let base = 0; base < values.length; base += n) {
    let acc = 0;
    for (let j = 0; j < n; ++j) {
      const i = base + (reverse ? n - 1 - j : j);
      if (exclusive) out[i] = acc;
      acc += values[i];
      if (period !== null) {
        acc -= period * Math.floor(acc / period);
        if (acc >= period) acc -= period;
      }
      if (!exclusive) out[i] = acc;
    }
  }
  return out;
}

// Each backend's own way of making an output from values.
const OUTPUT = {
  cpu: (backend, shape, values) => backend.makeTensorInfo(shape, 'float32', values),
  wasm: (backend, shape, values) => backend.makeOutput(shape, 'float32', undefined, values),
};

function wrappedCumsumJS(backendName) {
  return ({inputs, backend, attrs}) => {
    const {x} = inputs;
    checkTensor(KERNEL, x);
    const a = cumsumAttrs(KERNEL, attrs, {periodRequired: false});
    const values = cumsumRows(backend.readSync(x.dataId), x.shape, a);
    return OUTPUT[backendName](backend, x.shape, values);
  };
}

// -- stock Cumsum, patched -----------------------------------------------------------------

let stockCumsum = null;

function normalizeAxis(axis, rank) {
  const a = axis == null ? 0 : axis;
  if (!Number.isInteger(a) || a < -rank || a >= rank) {
    throw new Error(`Cumsum: axis must be an integer in [${-rank}, ${rank}), got ${axis}`);
  }
  return a < 0 ? a + rank : a;
}

function patchedCumsumWebGL(args) {
  const {inputs, backend, attrs} = args;
  const {x} = inputs;
  if (x.dtype !== 'float32') return stockCumsum.kernelFunc(args);  // int32: stock semantics
  checkTensor('Cumsum', x);
  const rank = x.shape.length;
  const axis = normalizeAxis(attrs.axis, rank);
  const a = {period: null, exclusive: !!attrs.exclusive, reverse: !!attrs.reverse};
  if (axis === rank - 1) return lastAxisRun(backend, x, a);
  const transpose = kernelFn('webgl', 'Transpose');
  const perm = [...Array(rank).keys()].filter(i => i !== axis).concat([axis]);
  const undo = perm.map((_, i) => perm.indexOf(i));
  const xt = transpose({inputs: {x}, backend, attrs: {perm}});
  let yt = null;
  try {
    yt = lastAxisRun(backend, xt, a);
    return transpose({inputs: {x: yt}, backend, attrs: {perm: undo}});
  } finally {
    backend.disposeIntermediateTensorInfo(xt);
    if (yt) backend.disposeIntermediateTensorInfo(yt);
  }
}

function patchCumsum() {
  if (stockCumsum !== null) return false;
  const stock = tf.getKernel('Cumsum', 'webgl');
  if (stock == null) {
    throw new Error('patchCumsum: no webgl Cumsum kernel is registered (load the webgl backend)');
  }
  stockCumsum = stock;
  tf.unregisterKernel('Cumsum', 'webgl');
  tf.registerKernel({kernelName: 'Cumsum', backendName: 'webgl', kernelFunc: patchedCumsumWebGL});
  if (tf.getGradient('Cumsum') == null) {
    tf.registerGradient({kernelName: 'Cumsum', gradFunc: cumsumGrad});
  }
  return true;
}

function unpatchCumsum() {
  if (stockCumsum === null) return false;
  tf.unregisterKernel('Cumsum', 'webgl');
  tf.registerKernel(stockCumsum);
  stockCumsum = null;
  return true;
}

// -- gradients: the gradient of a (wrapped) cumsum is a plain cumsum the other way ---------

function wrappedCumsumGrad(dy, saved, attrs) {
  return {
    x: () => tf.engine().runKernel(
        KERNEL, {x: dy},
        {period: null, exclusive: !!attrs.exclusive, reverse: !attrs.reverse}),
  };
}

function cumsumGrad(dy, saved, attrs) {
  return {x: () => tf.cumsum(dy, attrs.axis, attrs.exclusive, !attrs.reverse)};
}

// -- ops -----------------------------------------------------------------------------------

/**
 * Cumulative sum along the last axis, wrapped modulo `period` inside the kernel: the
 * output lies in [0, period) whatever the length, exact to the final rounding even where
 * textures are float16.
 * @param x float32 tensor [..., n] (rank 1 to 6), e.g. phase increments in cycles/sample
 * @param options {period: number > 0, exclusive?: boolean, reverse?: boolean}
 */
function wrappedCumsum(x, options = {}) {
  const $x = x instanceof tf.Tensor ? x : tf.tensor(x);
  checkTensor('wrappedCumsum', $x);
  const attrs = cumsumAttrs('wrappedCumsum', options, {periodRequired: true});
  return tf.engine().runKernel(KERNEL, {x: $x}, attrs);
}

// Graph-model custom ops (tf.registerOp of @tensorflow/tfjs-converter).
// HarmonicSynth nodes: inputs f0, amplitude, harmonic_distribution[, initial_phase]; attrs
// in camelCase or snake_case (sample_rate, n_samples, normalize, add_endpoint,
// return_final_phase).
function registerGraphOps(registerOp) {
  registerOp(KERNEL, node => wrappedCumsum(node.inputs[0], {
    period: node.attrs.period,
    exclusive: node.attrs.exclusive,
    reverse: node.attrs.reverse,
  }));
  registerOp(HARMONIC, node => {
    const options = {};
    for (const name of Object.keys(HARMONIC_ATTRS)) {
      const snake = name.replace(/[A-Z]/g, c => '_' + c.toLowerCase());
      const value = node.attrs[name] !== undefined ? node.attrs[name] : node.attrs[snake];
      if (value !== undefined) options[name] = value;
    }
    if (node.inputs.length > 3) options.initialPhase = node.inputs[3];
    return harmonicSynth(node.inputs[0], node.inputs[1], node.inputs[2], options);
  });
}

// -- HarmonicSynth: kernels/harmonic.py, reproduced ----------------------------------------
//
// DDSP's harmonic synthesizer. Inputs f0 [batch, frames] Hz, amplitude [batch, frames],
// harmonicDistribution [batch, frames, K] (K <= 128) and, optionally, initialPhase
// [batch, K] radians; output [batch, nSamples] audio, and [batch, K] radians at the last
// sample with returnFinalPhase (the initialPhase that continues the rendering). Values
// must be finite and >= 0; they are not checked here, since that would need a readback.

const HARMONIC = 'HarmonicSynth';
const HARMONIC_ATTRS = {
  sampleRate: 16000,
  nSamples: 64000,
  normalize: true,
  addEndpoint: true,
  returnFinalPhase: false,
};
const HARMONIC_UNIFORMS = [
  {name: 'modulus', type: 'ivec2'},
  {name: 'shift', type: 'int'},
  {name: 'nyquist', type: 'float'},
  {name: 'invModulus', type: 'float'},
];
const TWO_POW_32 = 2 ** 32;

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

// Validated shapes and attributes (kernels/harmonic.check, less the value checks).
function harmonicArgs(op, inputs, attrs) {
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
  if (k > GENERATED.MAX_HARMONICS) {
    throw new Error(
        `${op}: harmonicDistribution has K = ${k} harmonics; at most ` +
        `${GENERATED.MAX_HARMONICS} are supported`);
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
    throw new Error(`${op}: sampleRate must be a finite number > 0, got ${String(sr)}`);
  }
  const sr32 = Math.fround(sr);
  if (!(sr32 > 0 && Number.isFinite(sr32))) {
    throw new Error(`${op}: sampleRate ${sr} is outside float32's normal range`);
  }
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
  if (hop > GENERATED.MAX_HOP) {
    throw new Error(`${op}: nSamples gives a hop of ${hop}, more than ${GENERATED.MAX_HOP}`);
  }
  return {...a, batch, frames, k, n, hop, sr32, nyquist: sr32 / 2,
          modulus: phaseModulus(op, sr32, hop)};
}

function roundHalfEven(x) {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// Initial phases (float32 radians) as the nearest residues modulo p (Numbers < 2^44).
function phaseUnits(radians, p) {
  return Array.from(radians, x => {
    const cycles = x / (2 * Math.PI);
    return roundHalfEven((cycles - Math.floor(cycles)) * p) % p;
  });
}

function fromDigits(d, i) {
  const o = 4 * i;
  let u = 0n;
  for (let j = 3; j >= 0; --j) u = (u << 11n) + BigInt(Math.round(d[o + j]));
  return u;
}

// [batch, K] float32 radians: k * total + initial phase (both residues), wrapped.
function finalPhases(totals, units, a) {
  const p = BigInt(a.modulus.p);
  const out = new Float32Array(a.batch * a.k);
  for (let b = 0; b < a.batch; ++b) {
    for (let k = 1; k <= a.k; ++k) {
      const u = units ? BigInt(units[b * a.k + k - 1]) : 0n;
      const res = (totals[b] * BigInt(k) + u) % p;
      out[b * a.k + k - 1] = Number(res) / a.modulus.p * (2 * Math.PI);
    }
  }
  return out;
}

// Exclusive wrapped prefix sums of a [rows, n, 2, 2] digits tensor, kept as digits
// (kernels/harmonic.exclusive_scan_digits). Frees every level it made but the result.
function scanDigits(passes, digits, values) {
  const [rows, n] = digits.shape;
  const pl = plan(n);
  const common = {CUMSUM_REVERSE: 0, CUMSUM_SOURCE_RAW: 0};
  const opts = names => ({packedInputs: true, packedOutput: true, digitInputs: names});
  const sums = [];
  let source = digits;
  pl.blocks.forEach((block, level) => {
    const program = makeProgram(
        'cumsum_reduce', ['partial'], [rows, pl.lengths[level + 1], 2, 2],
        {...common, CUMSUM_BLOCK: block, CUMSUM_SOURCE_LEN: pl.lengths[level]},
        opts(['partial']));
    source = passes.run(program, [source], values);
    sums.push(source);
  });
  let upper = null;
  let upperLen = 0;
  for (let level = pl.blocks.length; level >= 0; --level) {
    const src = level ? sums[level - 1] : digits;
    const length = pl.lengths[level];
    const block = level < pl.blocks.length ? pl.blocks[level] : length;
    const names = upper ? ['partial', 'upper'] : ['partial'];
    const program = makeProgram(
        'cumsum_scan', names, [rows, length, 2, 2],
        {...common, CUMSUM_BLOCK: block, CUMSUM_SOURCE_LEN: length,
         CUMSUM_HAS_UPPER: upper ? 1 : 0, CUMSUM_UPPER_LEN: upperLen, CUMSUM_FINAL: 0},
        opts(names));
    const prefix = passes.run(program, upper ? [src, upper] : [src], values);
    if (level) passes.free(src);
    if (upper) passes.free(upper);
    upper = prefix;
    upperLen = length;
  }
  return upper;
}

// Code between the accessors and a harmonic body: the distribution as
// vec4 getDist(row = batch * FRAMES + frame, j): harmonics 4j + 1 ... 4j + 4, zero beyond
// K, from the [batch * frames, K] tensor distK.
const HARMONIC_SHIMS = () => [
  DIST_SHIM,
].join('\n');
const DIST_SHIM = `vec4 getDist(int row, int j) {
  int k = 4 * j;
  return vec4(getDistK(row, k),
              k + 1 < HARMONIC_K ? getDistK(row, k + 1) : 0.0,
              k + 2 < HARMONIC_K ? getDistK(row, k + 2) : 0.0,
              k + 3 < HARMONIC_K ? getDistK(row, k + 3) : 0.0);
}`;

// The pass plan of kernels/harmonic.run: increments, their exclusive scan, gains, audio.
function harmonicWebGL({inputs, backend, attrs}) {
  const a = harmonicArgs(HARMONIC, inputs, attrs);
  const {batch: b, frames, k, n, hop, modulus: mod} = a;
  const k4 = Math.ceil(k / 4);
  const common = {HOP: hop, FRAMES: frames};
  const kdefs = {HARMONIC_K: k, HARMONIC_K4: k4};
  const scanValues = [[mod.lo, mod.hi], [mod.shift], scaleOf(mod.shift)];
  const values = [[mod.lo, mod.hi], [mod.shift], [a.nyquist], [mod.invP]];
  const uniforms = HARMONIC_UNIFORMS;
  const {f0, amplitude, harmonicDistribution, initialPhase} = inputs;
  const passes = new Passes(backend);
  const owned = [];  // [tensor, label] made here that no pass returned
  try {
    let units = null;
    let phase0 = null;
    if (initialPhase != null) {
      units = phaseUnits(backend.readSync(initialPhase.dataId), mod.p);
      const digits = new Float32Array(b * k4 * 16);
      units.forEach((u, i) => {
        const o = 4 * (Math.floor(i / k) * k4 * 4 + (i % k));
        for (let j = 0; j < 4; ++j) digits[o + j] = Math.floor(u / 2 ** (11 * j)) % 2048;
      });
      phase0 = backend.makeTensorInfo([b, k4 * 4, 2, 2], 'float32', digits);
      owned.push([phase0, 'initialPhase']);
    }
    const increments = passes.run(
        makeProgram('harmonic_increment', ['f0'], [b, frames, 2, 2], common,
                    {packedOutput: true, uniforms}),
        [f0], values);
    const prefix = scanDigits(passes, increments, scanValues);
    let totals = null;
    if (a.returnFinalPhase) {
      const last = a.addEndpoint ? frames - 1 : frames - 2;
      const inc = backend.readSync(increments.dataId);
      const pre = backend.readSync(prefix.dataId);
      const p = BigInt(mod.p);
      totals = [];
      for (let r = 0; r < b; ++r) {
        const i = r * frames + last;
        totals.push((fromDigits(inc, i) + fromDigits(pre, i)) % p);
      }
    }
    passes.free(increments);
    const distK = kernelFn('webgl', 'Reshape')(
        {inputs: {x: harmonicDistribution}, backend, attrs: {shape: [b * frames, k]}});
    owned.push([distK, 'harmonicDistribution view']);
    const gain = passes.run(
        makeProgram('harmonic_gain', ['f0', 'amplitude', 'distK'], [b, frames, 2, 2],
                    {...common, ...kdefs, HARMONIC_NORMALIZE: a.normalize ? 1 : 0},
                    {packedOutput: true, uniforms, extra: HARMONIC_SHIMS()}),
        [f0, amplitude, distK], values);
    const names = ['f0', 'prefix', 'gain', 'distK'].concat(phase0 ? ['phase0'] : []);
    const audio = passes.run(
        makeProgram('harmonic_synth', names, [b, n],
                    {...common, ...kdefs, HARMONIC_INITIAL: phase0 ? 1 : 0,
                     HARMONIC_ROUND_F16:
                         tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 0 : 1},
                    {uniforms, extra: HARMONIC_SHIMS(),
                     digitInputs: ['prefix', 'gain'].concat(phase0 ? ['phase0'] : [])}),
        [f0, prefix, gain, distK].concat(phase0 ? [phase0] : []), values);
    passes.keep(audio);
    if (!a.returnFinalPhase) return audio;
    const phase = backend.makeTensorInfo([b, k], 'float32', finalPhases(totals, units, a));
    return [audio, phase];
  } finally {
    passes.freeAll();
    for (const [info, label] of owned) {
      backend.disposeIntermediateTensorInfo(info);
      notePass('free', label);
    }
  }
}

// -- plain JS fallback (cpu, wasm): float64, frame phases exact -----------------------------

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

function harmonicJS(backendName) {
  return ({inputs, backend, attrs}) => {
    const a = harmonicArgs(HARMONIC, inputs, attrs);
    const read = x => (x == null ? null : backend.readSync(x.dataId));
    const {audio, finalPhase} = harmonicRows(
        read(inputs.f0), read(inputs.amplitude), read(inputs.harmonicDistribution),
        read(inputs.initialPhase), a);
    const out = OUTPUT[backendName](backend, [a.batch, a.n], audio);
    if (!finalPhase) return out;
    return [out, OUTPUT[backendName](backend, [a.batch, a.k], finalPhase)];
  };
}

const HARMONIC_OPTIONS = new Set([...Object.keys(HARMONIC_ATTRS), 'initialPhase']);

/**
 * DDSP's harmonic synthesizer (kernels/harmonic.py): harmonic k of f0 with the
 * 'window'-upsampled amplitude, silenced above Nyquist, phase exact at any length.
 * @param f0 float32 [batch, frames] Hz, >= 0
 * @param amplitude float32 [batch, frames], >= 0
 * @param harmonicDistribution float32 [batch, frames, K] (K <= 128), >= 0
 * @param options {sampleRate = 16000, nSamples = 64000, normalize = true,
 *     addEndpoint = true, initialPhase?: float32 [batch, K] radians,
 *     returnFinalPhase = false}
 * @returns audio [batch, nSamples], or [audio, finalPhase [batch, K] radians] with
 *     returnFinalPhase
 */
function harmonicSynth(f0, amplitude, harmonicDistribution, options = {}) {
  const op = 'harmonicSynth';
  if (options == null || typeof options !== 'object') {
    throw new Error(`${op}: options must be an object, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!HARMONIC_OPTIONS.has(key)) {
      throw new Error(
          `${op}: unknown option '${key}' (options: ${[...HARMONIC_OPTIONS].join(', ')})`);
    }
  }
  const made = [];
  const asTensor = x => {
    if (x == null || x instanceof tf.Tensor) return x;
    const t = tf.tensor(x);
    made.push(t);
    return t;
  };
  try {
    const inputs = {
      f0: asTensor(f0),
      amplitude: asTensor(amplitude),
      harmonicDistribution: asTensor(harmonicDistribution),
    };
    if (options.initialPhase != null) inputs.initialPhase = asTensor(options.initialPhase);
    const attrs = {};
    for (const name of Object.keys(HARMONIC_ATTRS)) {
      if (options[name] !== undefined) attrs[name] = options[name];
    }
    harmonicArgs(op, inputs, attrs);
    return tf.engine().runKernel(HARMONIC, inputs, attrs);
  } finally {
    tf.dispose(made);
  }
}

// -- early texture disposal ----------------------------------------------------------------

const DELETE_THRESHOLD = 'WEBGL_DELETE_TEXTURE_THRESHOLD';
const EARLY_DISPOSAL_DEFAULT = 0;

/**
 * Opt-in early texture disposal: sets TF.js's WEBGL_DELETE_TEXTURE_THRESHOLD. TF.js
 * pools every texture a disposed tensor releases, for reuse by a later tensor of the same
 * shape, and never frees the pool by default (-1); with a threshold of T bytes it
 * deletes a released texture instead of pooling it whenever the bytes it has allocated
 * (in use and pooled) exceed T. ddspgl's kernels already free each intermediate as soon
 * as no later pass reads it; this makes those frees (and every other op's) give the
 * memory back.
 *
 * The default, 0, deletes every released texture: tf.memory().numBytesInGPUAllocated
 * is then the bytes of live tensors, at the cost of allocating a texture for every pass
 * output (cheap next to the passes here; a graph of many large ops that wants a pool
 * can pass a budget in bytes, e.g. 64 * 2 ** 20). Applies to textures released after
 * the call; the flag is global to TF.js.
 * @param threshold bytes: a whole number >= 0, or -1 for TF.js's default (never delete)
 * @returns the previous threshold, to restore it with
 */
function setEarlyDisposal(threshold = EARLY_DISPOSAL_DEFAULT) {
  const op = 'setEarlyDisposal';
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) ||
      (threshold < 0 && threshold !== -1)) {
    throw new Error(
        `${op}: threshold must be a whole number of bytes >= 0 (or -1 for TF.js's ` +
        `default, never delete), got ${String(threshold)}`);
  }
  const env = tf.env();
  if (env.flagRegistry == null || env.flagRegistry[DELETE_THRESHOLD] == null) {
    throw new Error(`${op}: TF.js's webgl backend is not loaded (${DELETE_THRESHOLD} is ` +
                    'one of its flags)');
  }
  const before = env.getNumber(DELETE_THRESHOLD);
  env.set(DELETE_THRESHOLD, threshold);
  return before;
}

// -- registration --------------------------------------------------------------------------

function registerKernels() {
  const kernels = [
    {kernelName: KERNEL, backendName: 'webgl', kernelFunc: wrappedCumsumWebGL},
    {kernelName: KERNEL, backendName: 'cpu', kernelFunc: wrappedCumsumJS('cpu')},
    {kernelName: KERNEL, backendName: 'wasm', kernelFunc: wrappedCumsumJS('wasm')},
    {kernelName: HARMONIC, backendName: 'webgl', kernelFunc: harmonicWebGL},
    {kernelName: HARMONIC, backendName: 'cpu', kernelFunc: harmonicJS('cpu')},
    {kernelName: HARMONIC, backendName: 'wasm', kernelFunc: harmonicJS('wasm')},
  ];
  for (const k of kernels) {
    if (tf.getKernel(k.kernelName, k.backendName) == null) tf.registerKernel(k);
  }
  if (tf.getGradient(KERNEL) == null) {
    tf.registerGradient({kernelName: KERNEL, gradFunc: wrappedCumsumGrad});
  }
}

registerKernels();
