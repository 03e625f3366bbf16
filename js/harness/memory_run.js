// The browser memory profile's page side (harness.memoryRun, run by
// ddspgl/tools/browser.py memory_runs): one DDSP synthesizer call, stock ops or
// ddspgl.harmonicSynth, with the GPU memory TF.js holds sampled as it runs.
import {stockSynth} from './stock_synth.js';

// harmonicInputs and harmonicCall (harmonic.js), read (a tensor's values), gpuBackend
// ('webgl' or 'webgpu') and setProgramHook(fn or null: called after every program TF.js
// runs).
export function makeMemoryRun({harmonicInputs, harmonicCall, read, gpuBackend,
                               setProgramHook}) {
  // One synthesizer call in this page (memory_runs opens a fresh page for each), the GPU
  // memory TF.js holds sampled after every WebGL program or WebGPU dispatch, every op
  // (stock), every ddspgl pass and disposal (ddspgl._onPass), the readback and the final
  // disposal. On webgl: tf.memory().numBytesInGPUAllocated and the count of TF.js's
  // allocated textures (in use and pooled). On webgpu: numBytesAllocatedInGPU (buffers
  // created, in use and pooled: TF.js's buffer manager destroys none), numBytesInGPU
  // (buffers in use, those released while the command encoder still uses them counted
  // until its submit) and the count of buffers. spec.synth: 'stock' or 'ddspgl';
  // spec.earlyDisposal (webgl only): undefined (TF.js defaults), null
  // (setEarlyDisposal()'s default) or a threshold in bytes.
  return async function memoryRun(spec) {
    const make = await harmonicInputs(spec);
    const backend = tf.backend();
    const webgpu = gpuBackend === 'webgpu';
    if (webgpu && spec.earlyDisposal !== undefined) {
      throw new Error('memoryRun: earlyDisposal sets a webgl flag; webgpu has none');
    }
    const trace = webgpu ? {labels: [], bytes: [], inUse: [], buffers: []} :
                           {labels: [], bytes: [], textures: []};
    const sample = label => {
      const m = tf.memory();
      trace.labels.push(label);
      if (webgpu) {
        const manager = backend.bufferManager;
        trace.bytes.push(m.numBytesAllocatedInGPU);
        trace.inUse.push(m.numBytesInGPU);
        trace.buffers.push(manager.getNumUsedBuffers() + manager.getNumFreeBuffers());
      } else {
        const textures = backend.textureManager;
        trace.bytes.push(m.numBytesInGPUAllocated);
        trace.textures.push(textures.numUsedTextures + textures.numFreeTextures);
      }
    };
    let threshold = webgpu ? null : tf.env().getNumber('WEBGL_DELETE_TEXTURE_THRESHOLD');
    if (spec.earlyDisposal !== undefined) {
      ddspgl.setEarlyDisposal(...(spec.earlyDisposal === null ? [] : [spec.earlyDisposal]));
      threshold = tf.env().getNumber('WEBGL_DELETE_TEXTURE_THRESHOLD');
    }
    let current = 'upload';
    let pass = 0;
    const hookBefore = ddspgl._onPass(spec.synth === 'ddspgl' ?
        ({event, label}) => sample(event === 'run' ? label : `free ${label}`) : null);
    setProgramHook(spec.synth === 'stock' ? () => sample(`${current} (program ${++pass})`) :
                                            null);
    const start = performance.now();
    let finite = null;
    try {
      sample('start');
      const t = make();
      let audio;
      try {
        if (spec.synth === 'stock') {
          audio = stockSynth(t, spec.options, (label, fn) => {
            current = label;
            pass = 0;
            const out = fn();
            sample(label);
            return out;
          });
        } else {
          [audio] = harmonicCall(t, spec.options);
          sample('harmonicSynth');
        }
      } finally {
        tf.dispose(Object.values(t));
      }
      current = 'readback';
      const values = await read(audio);
      sample('readback');
      finite = values.every(Number.isFinite);
      audio.dispose();
      sample('dispose');
    } finally {
      setProgramHook(null);
      ddspgl._onPass(hookBefore);
    }
    const seconds = (performance.now() - start) / 1e3;
    return {...trace, seconds, finite, threshold, numTensors: tf.memory().numTensors};
  };
}
