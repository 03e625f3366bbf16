// The harness's harmonic synthesizer calls (harness.js): ddspgl.harmonicSynth and the same
// synthesis from stock TF.js ops (stock_synth.js), on controls fetched as blobs, for the
// precision suite, the tests and the benchmark. `h` is the harness's toolkit: input, read,
// b64, median, withBackend, memoryAround and the program counter.
import {stockSynth} from './stock_synth.js';

export function makeHarmonicHarness(h) {
  // Tensors of the blobs spec.f0, spec.amplitude, spec.dist (and spec.initialPhase),
  // shaped spec.frames [batch, frames] and spec.k: a function making a fresh set.
  async function harmonicInputs(spec) {
    const [batch, frames] = spec.frames;
    const keys = [spec.f0, spec.amplitude, spec.dist, spec.initialPhase];
    const [f0, amp, dist, phase] =
        await Promise.all(keys.map(k => (k == null ? null : h.input(k))));
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

  // The stock op chain on the same controls (DDSP's defaults: normalised): [audio].
  function stockCall(t, options) {
    return [stockSynth(t, options, (label, fn) => fn())];
  }

  // One call with its readback (timed, passes counted: ddspgl's own and every program).
  async function timedCall(spec, call) {
    const make = await harmonicInputs(spec);
    return h.withBackend(spec.backend, async () => {
      const t = make();
      const programs = h.counter.programs;
      const passes = ddspgl.stats.passes;
      const start = performance.now();
      const outs = call(t, spec.options);
      const values = await Promise.all(outs.map(h.read));
      const ms = performance.now() - start;
      const result = {
        outputs: outs.map((y, i) => ({b64: h.b64(values[i]), shape: y.shape, dtype: y.dtype})),
        ms, programs: h.counter.programs - programs, passes: ddspgl.stats.passes - passes,
      };
      tf.dispose([...Object.values(t), ...outs]);
      return result;
    });
  }

  const harmonic = spec => timedCall(spec, harmonicCall);
  const stockHarmonic = spec => timedCall(spec, stockCall);

  async function harmonicMemory(spec) {
    const make = await harmonicInputs(spec);
    const t = make();
    const result = await h.memoryAround(async () => {
      const outs = harmonicCall(t, spec.options);
      await Promise.all(outs.map(h.read));
      tf.dispose(outs);
    }, spec);
    tf.dispose(Object.values(t));
    return result;
  }

  // Wall time of one call with its readback, ddspgl against the stock op chain on the same
  // controls (resident on the GPU), interleaved round by round after one untimed call of
  // each; spec.deviceReps more rounds read device time (tf.time's kernelMs: timestamp
  // queries on webgpu, where the adapter has them).
  async function harmonicBench(spec) {
    const make = await harmonicInputs(spec);
    const t = make();
    const impls = [{impl: 'ddspgl', call: harmonicCall, times: [], device: []},
                   {impl: 'opchain', call: stockCall, times: [], device: []}];
    const once = async o => {
      const start = performance.now();
      const outs = o.call(t, spec.options);
      await Promise.all(outs.map(h.read));
      const ms = performance.now() - start;
      tf.dispose(outs);
      return ms;
    };
    try {
      for (const o of impls) await once(o);
      for (let r = 0; r < spec.reps; ++r) {
        for (let i = 0; i < impls.length; ++i) {
          const o = impls[(i + r) % impls.length];
          o.times.push(await once(o));
        }
      }
      for (let r = 0; r < (spec.deviceReps || 0); ++r) {
        for (const o of impls) {
          let outs = null;
          const info = await tf.time(() => { outs = o.call(t, spec.options); });
          await Promise.all(outs.map(h.read));
          tf.dispose(outs);
          o.device.push(typeof info.kernelMs === 'number' ? info.kernelMs : null);
        }
      }
    } finally {
      tf.dispose(Object.values(t));
    }
    return impls.map(o => ({impl: o.impl, median: h.median(o.times), times: o.times,
                            device: o.device.length ? o.device : null}));
  }

  return {harmonicInputs, harmonicCall, harmonic, stockHarmonic, harmonicMemory, harmonicBench};
}
