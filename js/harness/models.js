// Converted ddsp models in the page, for `ddspgl models` (tools/models_report.py): every
// model of one comparison loaded in one page and timed interleaved, so that the ratios
// hold whatever else the machine does.

// runModels(spec): spec.models [{name, url, feeds}], feeds {node: {key, shape}} (the
// signature inputs, and e.g. a RandomUniform node fed a fixed draw where the model has one),
// spec.outputs (signature keys read back once per model), spec.decoder (signature keys of
// the frame-rate controls: a call for these runs only the decoder), spec.reps (timed calls
// per model and part, after one warm-up call each).
// Returns per model: {full: [ms], decoder: [ms], peakBytes, baseBytes, outputs}, where a
// call's time includes reading its outputs back (as a page playing the audio must), and
// peakBytes is the most tf.memory().numBytesInGPUAllocated reached during one more full
// call, sampled after every WebGL program and every ddspgl pass and disposal, above
// baseBytes (the model's weights and the inputs, before the call).
export function makeModelHarness({input, b64, setProgramHook}) {
  async function call(model, inputs, names) {
    const outs = await model.executeAsync(inputs, names);
    const list = Array.isArray(outs) ? outs : [outs];
    try {
      const values = [];
      for (const t of list) values.push(await t.data());
      return values;
    } finally {
      tf.dispose(list);
    }
  }

  async function timed(model, inputs, names) {
    const start = performance.now();
    await call(model, inputs, names);
    return performance.now() - start;
  }

  async function peak(model, inputs, names) {
    let most = tf.memory().numBytesInGPUAllocated;
    const base = most;
    const sample = () => {
      most = Math.max(most, tf.memory().numBytesInGPUAllocated);
    };
    setProgramHook(sample);
    const before = ddspgl._onPass(sample);
    try {
      await call(model, inputs, names);
    } finally {
      setProgramHook(null);
      ddspgl._onPass(before);
    }
    return {peakBytes: most - base, baseBytes: base};
  }

  async function runModels(spec) {
    const feeds = [];  // per model: {node: tensor}
    for (const m of spec.models) {
      const inputs = {};
      feeds.push(inputs);
      for (const [name, s] of Object.entries(m.feeds)) {
        inputs[name] = tf.tensor(await input(s.key), s.shape);
      }
    }
    const models = [];
    try {
      for (const m of spec.models) models.push(await tf.loadGraphModel(m.url));
      const res = spec.models.map(() => ({full: [], decoder: []}));
      for (const [i, model] of models.entries()) {  // warm-up, and the outputs to check
        const values = await call(model, feeds[i], spec.outputs);
        res[i].outputs = Object.fromEntries(spec.outputs.map((k, j) => [k, b64(values[j])]));
        await call(model, feeds[i], spec.decoder);
      }
      for (let r = 0; r < spec.reps; r++) {
        for (const [i, model] of models.entries()) {
          res[i].full.push(await timed(model, feeds[i], spec.outputs.slice(0, 1)));
          res[i].decoder.push(await timed(model, feeds[i], spec.decoder));
        }
      }
      for (const [i, model] of models.entries()) {
        Object.assign(res[i], await peak(model, feeds[i], spec.outputs.slice(0, 1)));
      }
      return res.map((r, i) => ({name: spec.models[i].name, ...r}));
    } finally {
      models.forEach(m => m.dispose());
      feeds.forEach(inputs => tf.dispose(Object.values(inputs)));
    }
  }

  return {runModels};
}
