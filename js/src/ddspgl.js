// ddspgl for TensorFlow.js: kernels, op functions, gradients and graph-model ops.
//
// This file is the body of the emitted bundle (`ddspgl bundle -o dist/`); the emitter
// prepends `GENERATED` (GLSL bodies expanded by harness/shader.resolve and the constants
// of kernels/cumsum.py) and wraps it as a script (global `ddspgl`) or an ES module.
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
// levels are tensors [rows, m, 2, 2]: packed, one texel holds one element's 4 digits.
function shims({packedInputs, packedOutput, digitInputs}) {
  const lines = [];
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
  const {packedInputs = false, packedOutput = false, digitInputs = [], uniforms = true} = opts;
  const program = {
    variableNames,
    outputShape,
    packedInputs,
    packedOutput,
    userCode: [defineLines(defines), shims({packedInputs, packedOutput, digitInputs}),
               '#line 1', GENERATED.glsl[body]].join('\n'),
  };
  if (uniforms) program.customUniforms = UNIFORMS;
  return program;
}

class Passes {
  constructor(backend) {
    this.backend = backend;
    this.held = [];
  }
  run(program, inputs, values) {
    const packed = !!program.packedOutput;
    const out = this.backend.runWebGLProgram(program, inputs, 'float32', values, packed);
    stats.passes += 1;
    this.held.push(out);
    return out;
  }
  free(info) {  // as soon as no later pass reads it
    const i = this.held.indexOf(info);
    if (i >= 0) {
      this.held.splice(i, 1);
      this.backend.disposeIntermediateTensorInfo(info);
    }
  }
  keep(info) {
    this.held.splice(this.held.indexOf(info), 1);
    return info;
  }
  freeAll() {
    for (const info of this.held) this.backend.disposeIntermediateTensorInfo(info);
    this.held = [];
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
        {packedInputs: !raw, packedOutput: true, digitInputs: raw ? [] : ['partial'],
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

// The wrapped (or plain) cumsum of x [rows, n] along its last axis: kernels/cumsum.run.
function cumsumWebGL(backend, x2, {period, exclusive, reverse}) {
  const [rows, n] = x2.shape;
  const passes = new Passes(backend);
  try {
    const mod = period !== null ? periodicModulus(period) :
                                  plainModulus(absSumBound(passes, x2), n);
    const values = [[mod.lo, mod.hi], [mod.shift], scaleOf(mod.shift)];
    const pl = plan(n);
    const common = {CUMSUM_REVERSE: reverse ? 1 : 0};
    // Up-sweep: block sums, level by level, as digits.
    const sums = [];
    let source = x2;
    pl.blocks.forEach((block, level) => {
      const raw = level === 0;
      const program = makeProgram(
          'cumsum_reduce', [raw ? 'x' : 'partial'], [rows, pl.lengths[level + 1], 2, 2],
          {...common, CUMSUM_BLOCK: block, CUMSUM_SOURCE_LEN: pl.lengths[level],
           CUMSUM_SOURCE_RAW: raw ? 1 : 0},
          {packedInputs: !raw, packedOutput: true, digitInputs: raw ? [] : ['partial']});
      source = passes.run(program, [source], values);
      sums.push(source);
    });
    // Down-sweep: exclusive prefixes of each level, the top one scanned whole.
    let upper = null;
    let upperLen = 0;
    for (let level = pl.blocks.length; level > 0; --level) {
      const levelSums = sums[level - 1];
      const length = pl.lengths[level];
      const block = level < pl.blocks.length ? pl.blocks[level] : length;
      const names = upper ? ['partial', 'upper'] : ['partial'];
      const program = makeProgram(
          'cumsum_scan', names, [rows, length, 2, 2],
          {...common, CUMSUM_BLOCK: block, CUMSUM_SOURCE_LEN: length, CUMSUM_SOURCE_RAW: 0,
           CUMSUM_HAS_UPPER: upper ? 1 : 0, CUMSUM_UPPER_LEN: upperLen, CUMSUM_FINAL: 0},
          {packedInputs: true, packedOutput: true, digitInputs: names});
      const prefix = passes.run(program, upper ? [levelSums, upper] : [levelSums], values);
      passes.free(levelSums);
      if (upper) passes.free(upper);
      upper = prefix;
      upperLen = length;
    }
    // Final pass: block prefix + in-block prefix of the inputs, converted and rounded.
    const names = upper ? ['x', 'upper'] : ['x'];
    const program = makeProgram(
        'cumsum_scan', names, [rows, n],
        {...common, CUMSUM_BLOCK: pl.blocks.length ? pl.blocks[0] : n, CUMSUM_SOURCE_LEN: n,
         CUMSUM_SOURCE_RAW: 1, CUMSUM_HAS_UPPER: upper ? 1 : 0, CUMSUM_UPPER_LEN: upperLen,
         CUMSUM_FINAL: 1,
         CUMSUM_INCLUSIVE: exclusive ? 0 : 1, CUMSUM_SIGNED: mod.signed ? 1 : 0,
         CUMSUM_ROUND_F16: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 0 : 1},
        {digitInputs: upper ? ['upper'] : []});
    const result = passes.run(program, upper ? [x2, upper] : [x2], values);
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
    const out = cumsumWebGL(backend, x2, attrs);
    return {dataId: out.dataId, shape: x.shape.slice(), dtype: 'float32'};  // unpacked: free
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
function registerGraphOps(registerOp) {
  registerOp(KERNEL, node => wrappedCumsum(node.inputs[0], {
    period: node.attrs.period,
    exclusive: node.attrs.exclusive,
    reverse: node.attrs.reverse,
  }));
}

// -- registration --------------------------------------------------------------------------

function registerKernels() {
  const kernels = [
    {kernelName: KERNEL, backendName: 'webgl', kernelFunc: wrappedCumsumWebGL},
    {kernelName: KERNEL, backendName: 'cpu', kernelFunc: wrappedCumsumJS('cpu')},
    {kernelName: KERNEL, backendName: 'wasm', kernelFunc: wrappedCumsumJS('wasm')},
  ];
  for (const k of kernels) {
    if (tf.getKernel(k.kernelName, k.backendName) == null) tf.registerKernel(k);
  }
  if (tf.getGradient(KERNEL) == null) {
    tf.registerGradient({kernelName: KERNEL, gradFunc: wrappedCumsumGrad});
  }
}

registerKernels();
