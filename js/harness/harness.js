// ddspgl browser harness: driven from Python (ddspgl/harness/browser.py) through
// page.evaluate. Inputs are fetched as raw float32 bytes from the harness server; results
// go back as base64 of the Float32Array's bytes.
'use strict';

const harness = (() => {
  const params = new URLSearchParams(location.search);
  const storage = params.get('storage') || 'float32';
  const counter = {programs: 0};

  function b64(array) {
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }

  async function input(key) {
    const response = await fetch(`/blob/${key}`);
    if (!response.ok) throw new Error(`harness: blob ${key}: HTTP ${response.status}`);
    return new Float32Array(await response.arrayBuffer());
  }

  // Float16 storage probe: 1/3 survives a render pass only if textures hold float32.
  function probe() {
    const x = tf.tensor1d(new Float32Array(1024).fill(1 / 3));
    const y = tf.mul(x, tf.scalar(1));
    const value = y.dataSync()[0];
    tf.dispose([x, y]);
    return value;
  }

  async function init() {
    tf.env().set('WEBGL_CPU_FORWARD', false);  // small ops stay on the GPU
    if (storage === 'float16') tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
    if (!(await tf.setBackend('webgl'))) throw new Error('harness: no webgl backend');
    await tf.ready();
    const backend = tf.backend();
    const run = backend.runWebGLProgram.bind(backend);
    backend.runWebGLProgram = (...args) => {
      counter.programs += 1;
      return run(...args);
    };
    const gl = backend.gpgpu.gl;
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    return {
      storage,
      float32Render: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
      forceF16: tf.env().getBool('WEBGL_FORCE_F16_TEXTURES'),
      probe: probe(),
      vendor: debug ? gl.getParameter(debug.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR),
      renderer: debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) :
                        gl.getParameter(gl.RENDERER),
      glVersion: gl.getParameter(gl.VERSION),
      maxTextureSize: tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE'),
      userAgent: navigator.userAgent,
      tfjs: tf.version.tfjs,
      ddspgl: ddspgl.version,
    };
  }

  // One op on x: ddspgl's WrappedCumsum, stock tf.cumsum (+ tf.mod (floor-mod) for a period, as
  // a converted DDSP graph wraps its phase), or tf.cumsum with ddspgl's patch.
  function op(spec, x) {
    const axis = spec.axis === undefined ? x.shape.length - 1 : spec.axis;
    const exclusive = !!spec.exclusive;
    const reverse = !!spec.reverse;
    if (spec.op === 'wrapped') {
      return ddspgl.wrappedCumsum(x, {period: spec.period, exclusive, reverse});
    }
    if (spec.op === 'stock' || spec.op === 'patched') {
      const patched = spec.op === 'patched';
      if (patched) ddspgl.patchCumsum();
      try {
        return tf.tidy(() => {
          const y = tf.cumsum(x, axis, exclusive, reverse);
          return spec.period == null ? y : tf.mod(y, spec.period);
        });
      } finally {
        if (patched) ddspgl.unpatchCumsum();
      }
    }
    if (spec.op === 'copy') {
      // One pass that reads every element once and writes it once: the floor a scan
      // is measured against.
      const program = {
        variableNames: ['x'],
        outputShape: x.shape,
        userCode: 'void main() { setOutput(getXAtOutCoords()); }',
      };
      const info = tf.backend().compileAndRun(program, [x]);
      return tf.engine().makeTensorFromTensorInfo(info);
    }
    throw new Error(`harness: unknown op ${spec.op}`);
  }

  async function withBackend(name, fn) {
    const before = tf.getBackend();
    if (name && name !== before) await tf.setBackend(name);
    try {
      return await fn();
    } finally {
      if (name && name !== before) await tf.setBackend(before);
    }
  }

  // Run spec.op on the blob spec.key shaped spec.shape: timing covers upload, the
  // kernel's passes and the readback.
  async function runOp(spec) {
    const values = await input(spec.key);
    return withBackend(spec.backend, () => {
      const programs = counter.programs;
      const start = performance.now();
      const x = tf.tensor(values, spec.shape, spec.dtype || 'float32');
      const y = op(spec, x);
      const out = y.dataSync();
      const ms = performance.now() - start;
      const result = {b64: b64(out), dtype: y.dtype, shape: y.shape, ms,
                      passes: counter.programs - programs};
      tf.dispose([x, y]);
      return result;
    });
  }

  // Gradient of sum(w * sin(2 pi wrappedCumsum(x) / period)) with respect to x.
  async function grad(spec) {
    const x = tf.tensor(await input(spec.key), spec.shape);
    const w = tf.tensor(await input(spec.weights), spec.shape);
    const k = 2 * Math.PI / spec.period;
    const f = v => tf.sum(tf.mul(w, tf.sin(tf.mul(
        ddspgl.wrappedCumsum(v, {period: spec.period, exclusive: spec.exclusive,
                                 reverse: spec.reverse}), tf.scalar(k)))));
    const g = tf.grad(f)(x);
    const result = {b64: b64(g.dataSync())};
    tf.dispose([x, w, g]);
    return result;
  }

  // tf.memory() around `calls` calls of `once` (the first `warmup` fill the texture pool).
  function memoryAround(once, {warmup, calls}) {
    const snap = () => {
      const m = tf.memory();
      return {numTensors: m.numTensors, numDataBuffers: m.numDataBuffers,
              numBytes: m.numBytes, numBytesInGPU: m.numBytesInGPU,
              numBytesInGPUAllocated: m.numBytesInGPUAllocated};
    };
    for (let i = 0; i < warmup; ++i) once();
    const before = snap();
    for (let i = 0; i < calls; ++i) once();
    return {before, after: snap()};
  }

  async function memory(spec) {
    const x = tf.tensor(await input(spec.key), spec.shape);
    const result = memoryAround(() => {
      const y = op(spec, x);
      y.dataSync();
      y.dispose();
    }, spec);
    x.dispose();
    return result;
  }

  // Median wall time of `reps` calls, each with its readback, after one warm-up call.
  async function bench(spec) {
    const x = tf.tensor(await input(spec.key), spec.shape);
    const times = [];
    for (let i = 0; i <= spec.reps; ++i) {
      const start = performance.now();
      const y = op(spec, x);
      y.dataSync();
      const ms = performance.now() - start;
      y.dispose();
      if (i > 0) times.push(ms);
    }
    x.dispose();
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    return {median, times};
  }

  // ddspgl.harmonicSynth on the blobs spec.f0, spec.amplitude, spec.dist (and
  // spec.initialPhase), shaped spec.frames [batch, frames] and spec.k, with spec.options.
  async function harmonicInputs(spec) {
    const [batch, frames] = spec.frames;
    const keys = [spec.f0, spec.amplitude, spec.dist, spec.initialPhase];
    const [f0, amp, dist, phase] = await Promise.all(keys.map(k => (k == null ? null : input(k))));
    return () => {
      const t = {
        f0: tf.tensor(f0, [batch, frames]),
        amplitude: tf.tensor(amp, [batch, frames]),
        dist: tf.tensor(dist, [batch, frames, spec.k]),
      };
      if (phase) t.initialPhase = tf.tensor(phase, [batch, spec.k]);
      return t;
    };
  }

  function harmonicCall(t, options) {
    const opts = {...options};
    if (t.initialPhase) opts.initialPhase = t.initialPhase;
    const y = ddspgl.harmonicSynth(t.f0, t.amplitude, t.dist, opts);
    return Array.isArray(y) ? y : [y];
  }

  // One call with its readback (timed, passes counted: ddspgl's own and every program).
  async function harmonic(spec) {
    const make = await harmonicInputs(spec);
    return withBackend(spec.backend, () => {
      const t = make();
      const programs = counter.programs;
      const passes = ddspgl.stats.passes;
      const start = performance.now();
      const outs = harmonicCall(t, spec.options);
      const values = outs.map(y => y.dataSync());
      const ms = performance.now() - start;
      const result = {
        outputs: outs.map((y, i) => ({b64: b64(values[i]), shape: y.shape, dtype: y.dtype})),
        ms, programs: counter.programs - programs, passes: ddspgl.stats.passes - passes,
      };
      tf.dispose([...Object.values(t), ...outs]);
      return result;
    });
  }

  async function harmonicMemory(spec) {
    const make = await harmonicInputs(spec);
    const t = make();
    const result = memoryAround(() => {
      const outs = harmonicCall(t, spec.options);
      outs.forEach(y => y.dataSync());
      tf.dispose(outs);
    }, spec);
    tf.dispose(Object.values(t));
    return result;
  }

  const ready = init();
  return {ready, runOp, grad, memory, bench, harmonic, harmonicMemory, b64, input, counter};
})();
window.harness = harness;
