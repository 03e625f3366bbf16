// ddspgl browser harness: driven from Python (ddspgl/tools/browser.py) through
// page.evaluate. Inputs are fetched as raw float32 bytes from the harness server; results
// go back as base64 of the Float32Array's bytes.
import {makeHarmonicHarness} from './harmonic.js';
import {makeMemoryRun} from './memory_run.js';
import {makeModelHarness} from './models.js';
import {copyWebGPU, initWebGPU} from './webgpu.js';

const harness = (() => {
  const params = new URLSearchParams(location.search);
  const storage = params.get('storage') || 'float32';
  const gpuBackend = params.get('tfjs') || 'webgl';  // 'webgl' or 'webgpu' (float32 only)
  const subgroups = params.get('subgroups') === '1';  // webgpu: ddspgl.requestWebGPUSubgroups
  const counter = {programs: 0, bodies: null};
  let programHook = null;  // called after every program TF.js runs (memoryRun)
  let emptyBodies = false;  // while set, ddspgl's passes run with bodies that write zeros

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

  // A tensor's values: dataSync on webgl, as TF.js users read it; on webgpu, whose
  // dataSync goes through a canvas (and reads zeros from SwiftShader), the async data().
  async function read(y) {
    return gpuBackend === 'webgpu' ? y.data() : y.dataSync();
  }

  async function init() {
    if (gpuBackend === 'webgpu') {
      return initWebGPU(storage, counter, () => {
        if (programHook !== null) programHook();
      }, subgroups);
    }
    tf.env().set('WEBGL_CPU_FORWARD', false);  // small ops stay on the GPU
    if (storage === 'float16') tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
    if (!(await tf.setBackend('webgl'))) throw new Error('harness: no webgl backend');
    await tf.ready();
    const backend = tf.backend();
    const run = backend.runWebGLProgram.bind(backend);
    backend.runWebGLProgram = (program, ...rest) => {
      counter.programs += 1;
      const out = run(emptyBodies && program.ddspglBody ? emptied(program) : program, ...rest);
      if (programHook !== null) programHook();
      return out;
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
      tfjsBackend: 'webgl',
      glVersion: gl.getParameter(gl.VERSION),
      maxTextureSize: tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE'),
      userAgent: navigator.userAgent,
      tfjs: tf.version.tfjs,
      ddspgl: ddspgl.version,
    };
  }

  // A ddspgl pass with its GLSL body replaced by one that writes zeros: the same output
  // texture, inputs bound and draw, without the arithmetic or the texture fetches.
  function emptied(program) {
    const zero = program.packedOutput ? 'vec4(0.0)' : '0.0';
    return {...program, userCode: `void main() { setOutput(${zero}); }`,
            customUniforms: undefined};
  }

  // One op on x: ddspgl's WrappedCumsum, stock tf.cumsum (+ tf.mod (floor-mod) for a period, as
  // a converted DDSP graph wraps its phase), or tf.cumsum with ddspgl's patch.
  function op(spec, x) {
    const axis = spec.axis === undefined ? x.shape.length - 1 : spec.axis;
    const exclusive = !!spec.exclusive;
    const reverse = !!spec.reverse;
    if (spec.op === 'wrapped') {
      // spec.emptyBodies: the same passes with empty bodies (what the plan costs before
      // any arithmetic), for the benchmark; the result is zeros.
      emptyBodies = !!spec.emptyBodies;
      try {
        return ddspgl.wrappedCumsum(x, {period: spec.period, exclusive, reverse});
      } finally {
        emptyBodies = false;
      }
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
    if (spec.op === 'copy' && gpuBackend === 'webgpu') return copyWebGPU(x);
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
    return withBackend(spec.backend, async () => {
      const programs = counter.programs;
      const start = performance.now();
      const x = tf.tensor(values, spec.shape, spec.dtype || 'float32');
      const bodies = [];  // webgpu: the WGSL bodies of ddspgl's dispatches
      counter.bodies = bodies;
      let y;
      try {
        y = op(spec, x);
      } finally {
        counter.bodies = null;
      }
      const out = await read(y);
      const ms = performance.now() - start;
      const result = {b64: b64(out), dtype: y.dtype, shape: y.shape, ms,
                      passes: counter.programs - programs, bodies};
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

  // The webgpu backend's buffer counts (its buffer manager: in use and pooled), or none.
  function buffers() {
    const manager = gpuBackend === 'webgpu' ? tf.backend().bufferManager : null;
    return manager ? {usedBuffers: manager.getNumUsedBuffers(),
                      freeBuffers: manager.getNumFreeBuffers()} : {};
  }

  // tf.memory() around `calls` calls of `once` (the first `warmup` fill the buffer or
  // texture pool), each awaited (webgpu reads back asynchronously).
  async function memoryAround(once, {warmup, calls}) {
    const snap = () => {
      const m = tf.memory();
      return {numTensors: m.numTensors, numDataBuffers: m.numDataBuffers,
              numBytes: m.numBytes, numBytesInGPU: m.numBytesInGPU,
              numBytesInGPUAllocated: m.numBytesInGPUAllocated,  // webgl
              numBytesAllocatedInGPU: m.numBytesAllocatedInGPU,  // webgpu
              ...buffers()};
    };
    for (let i = 0; i < warmup; ++i) await once();
    const before = snap();
    for (let i = 0; i < calls; ++i) await once();
    return {before, after: snap()};
  }

  async function memory(spec) {
    const x = tf.tensor(await input(spec.key), spec.shape);
    const result = await memoryAround(async () => {
      const y = op(spec, x);
      await read(y);
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
    return {median: median(times), times};
  }

  function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  // Wall time of one call with its readback for each of spec.ops ({op, period, input}) on
  // the input spec.key shaped spec.shape, interleaved: every round calls each op once, in
  // an order rotated round by round, so that a load that comes and goes on the machine
  // falls on all of them alike. Each op gets its own copy of the input: uploaded as
  // tf.tensor uploads it (unpacked) by its untimed first call, or with input 'packed' the
  // output of a packed op (x * 1), as an op inside a model receives it.
  function benchInput(values, shape, layout) {
    const x = tf.tensor(values, shape);
    if (layout !== 'packed') return x;
    const y = tf.mul(x, tf.scalar(1));
    x.dispose();
    if (!tf.backend().texData.get(y.dataId).isPacked) {
      y.dispose();
      throw new Error('benchInterleaved: x * 1 is not packed (WEBGL_PACK_BINARY_OPERATIONS off?)');
    }
    return y;
  }

  async function deviceMs(o) {
    let y = null;
    const info = await tf.time(() => { y = op(o, o.x); });
    await read(y);
    y.dispose();
    return typeof info.kernelMs === 'number' ? info.kernelMs : null;
  }

  async function benchInterleaved(spec) {
    const values = await input(spec.key);
    const ops = spec.ops.map(o => ({...o, x: benchInput(values, spec.shape, o.input),
                                    times: []}));
    const call = async o => {
      const start = performance.now();
      const y = op(o, o.x);
      await read(y);
      const ms = performance.now() - start;
      y.dispose();
      return ms;
    };
    try {
      for (const o of ops) await call(o);
      for (let r = 0; r < spec.reps; ++r) {
        for (let i = 0; i < ops.length; ++i) {
          const o = ops[(i + r) % ops.length];
          o.times.push(await call(o));
        }
      }
      // spec.deviceReps: device time of each op's dispatches too (tf.time's kernelMs,
      // from timestamp queries on webgpu where the adapter has them), in rounds of its own.
      for (let r = 0; r < (spec.deviceReps || 0); ++r) {
        for (const o of ops) (o.device = o.device || []).push(await deviceMs(o));
      }
    } finally {
      tf.dispose(ops.map(o => o.x));
    }
    return ops.map(o => ({median: median(o.times), times: o.times, device: o.device || null}));
  }

  // The Yin kernel on the blob spec.key [spec.shape] with spec.options: its whole output
  // (f0, confidence, lag, delta per frame), timed with its readback, passes counted.
  async function yin(spec) {
    const x = tf.tensor(await input(spec.key), spec.shape);
    const passes = ddspgl.stats.passes;
    const start = performance.now();
    const y = tf.engine().runKernel('Yin', {x}, spec.options);
    const out = await read(y);
    const ms = performance.now() - start;
    const result = {b64: b64(out), shape: y.shape, ms, passes: ddspgl.stats.passes - passes};
    tf.dispose([x, y]);
    return result;
  }

  // ddspgl.filteredNoise on the blob spec.key [spec.shape] with spec.options: the audio,
  // timed with its readback, ddspgl's passes and every program TF.js ran counted.
  async function filteredNoise(spec) {
    const m = tf.tensor(await input(spec.key), spec.shape);
    const passes = ddspgl.stats.passes;
    const programs = counter.programs;
    const start = performance.now();
    const y = ddspgl.filteredNoise(m, spec.options);
    const out = await read(y);
    const ms = performance.now() - start;
    const result = {b64: b64(out), shape: y.shape, ms, passes: ddspgl.stats.passes - passes,
                    programs: counter.programs - programs};
    tf.dispose([m, y]);
    return result;
  }

  const synth = makeHarmonicHarness({input, read, b64, median, withBackend, memoryAround,
                                     counter});

  const setProgramHook = fn => {
    programHook = fn;
  };
  const memoryRun = makeMemoryRun({harmonicInputs: synth.harmonicInputs,
                                   harmonicCall: synth.harmonicCall, read, gpuBackend,
                                   setProgramHook});
  const models = makeModelHarness({input, b64, setProgramHook});

  const ready = init();
  return {ready, runOp, grad, memory, bench, benchInterleaved, harmonic: synth.harmonic,
          stockHarmonic: synth.stockHarmonic, harmonicMemory: synth.harmonicMemory,
          harmonicBench: synth.harmonicBench, yin, filteredNoise, memoryRun,
          runModels: models.runModels, modelMemory: models.modelMemory, b64, input, counter};
})();
window.harness = harness;
