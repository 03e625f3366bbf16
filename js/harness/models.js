// Converted ddsp models in the page, for `ddspgl models` (tools/models_report.py): every
// model of one comparison loaded in one page and timed interleaved, so that the ratios
// hold whatever else the machine does.

// runModels(spec): spec.models [{name, url, feeds}], feeds {node: {key, shape}} (the
// signature inputs, and e.g. a RandomUniform node fed a fixed draw where the model has one),
// spec.outputs (signature keys read back once per model), spec.parts ({label: signature
// keys}: a call for each, timed; e.g. the frame-rate controls alone run only the decoder),
// spec.reps (timed calls per model and part, after one warm-up call each).
// Returns per model: {times: {label: [ms]}, peakInUseBytes, outputs}, where a call's
// time includes reading its outputs back (as a page playing the audio must), and
// peakInUseBytes is the most tf.memory().numBytesInGPU (textures in use, the pool left
// out) above its value before one more warm call.
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

  // The most of tf.memory()[field] during one call, above its value before the call,
  // sampled after every WebGL program and every ddspgl pass and disposal.
  async function peak(model, inputs, names, field) {
    const base = tf.memory()[field];
    let most = base;
    const sample = () => {
      most = Math.max(most, tf.memory()[field]);
    };
    setProgramHook(sample);
    const before = ddspgl._onPass(sample);
    try {
      await call(model, inputs, names);
    } finally {
      setProgramHook(null);
      ddspgl._onPass(before);
    }
    return {peak: most - base, base};
  }

  async function feedTensors(feeds) {
    const inputs = {};
    for (const [name, s] of Object.entries(feeds)) {
      inputs[name] = tf.tensor(await input(s.key), s.shape);
    }
    return inputs;
  }

  // modelMemory(spec): the first call of one model (spec.url, spec.feeds, spec.outputs) in
  // a fresh page: the texture bytes TF.js allocates for it (weights uploaded on first use,
  // intermediates, its texture pool), numBytesInGPUAllocated above the inputs.
  async function modelMemory(spec) {
    const inputs = await feedTensors(spec.feeds);
    const model = await tf.loadGraphModel(spec.url);
    try {
      const {peak: peakBytes, base} = await peak(model, inputs, spec.outputs,
                                                 'numBytesInGPUAllocated');
      return {peakBytes, baseBytes: base};
    } finally {
      model.dispose();
      tf.dispose(Object.values(inputs));
    }
  }

  async function runModels(spec) {
    const feeds = [];  // per model: {node: tensor}
    for (const m of spec.models) feeds.push(await feedTensors(m.feeds));
    const models = [];
    try {
      for (const m of spec.models) models.push(await tf.loadGraphModel(m.url));
      const parts = Object.entries(spec.parts);
      const res = spec.models.map(() => ({times: Object.fromEntries(parts.map(([k]) => [k, []]))}));
      for (const [i, model] of models.entries()) {  // warm-up, and the outputs to check
        const values = await call(model, feeds[i], spec.outputs);
        res[i].outputs = Object.fromEntries(spec.outputs.map((k, j) => [k, b64(values[j])]));
        for (const [, names] of parts) await call(model, feeds[i], names);
      }
      for (let r = 0; r < spec.reps; r++) {
        for (const [i, model] of models.entries()) {
          for (const [label, names] of parts) {
            res[i].times[label].push(await timed(model, feeds[i], names));
          }
        }
      }
      for (const [i, model] of models.entries()) {
        const {peak: inUse} = await peak(model, feeds[i], spec.outputs.slice(0, 1),
                                         'numBytesInGPU');
        res[i].peakInUseBytes = inUse;
      }
      return res.map((r, i) => ({name: spec.models[i].name, ...r}));
    } finally {
      models.forEach(m => m.dispose());
      feeds.forEach(inputs => tf.dispose(Object.values(inputs)));
    }
  }

  return {runModels, modelMemory};
}
