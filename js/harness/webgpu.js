// The harness's webgpu page (harness.js with ?tfjs=webgpu): TF.js's webgpu backend, its
// programs counted, and a copy dispatch, the floor a scan is measured against.

// Sets the webgpu backend up, `afterProgram()` called after every program it runs (and
// the WGSL body of each of ddspgl's pushed to counter.bodies while that is an array),
// first asking for subgroups (ddspgl.requestWebGPUSubgroups) where `subgroups`; the
// page's info from its adapter. Throws where the browser has no WebGPU adapter.
export async function initWebGPU(storage, counter, afterProgram, subgroups = false) {
  if (storage !== 'float32') throw new Error('harness: webgpu has float32 storage only');
  tf.env().set('WEBGPU_CPU_FORWARD', false);  // small ops stay on the GPU
  const adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
  if (adapter == null) throw new Error('harness: this browser has no WebGPU adapter');
  const request = subgroups ? await ddspgl.requestWebGPUSubgroups() : null;
  if (!(await tf.setBackend('webgpu'))) throw new Error('harness: no webgpu backend');
  await tf.ready();
  const backend = tf.backend();
  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (...args) => {
    counter.programs += 1;
    const body = args[0].ddspglBody;
    if (Array.isArray(counter.bodies) && body) counter.bodies.push(body);
    const out = run(...args);
    afterProgram();
    return out;
  };
  const info = adapter.info || {};
  return {
    storage, tfjsBackend: 'webgpu', float32Render: true, forceF16: false, probe: 1 / 3,
    vendor: info.vendor || '',
    renderer: `WebGPU ${info.architecture || ''} ${info.vendor || ''}`.trim(),
    glVersion: `WebGPU (${[info.vendor, info.architecture, info.description]
        .filter(Boolean).join(', ')})`,
    features: [...adapter.features].sort(), maxTextureSize: null,
    // Whether ddspgl asked for subgroups, its answer, what TF.js's device has.
    subgroups: {requested: subgroups, answer: request,
                device: backend.device.features.has('subgroups')},
    userAgent: navigator.userAgent, tfjs: tf.version.tfjs, ddspgl: ddspgl.version,
  };
}

// One dispatch that reads every element of x once and writes it once (TF.js's own
// Identity on webgpu shares the buffer instead).
export function copyWebGPU(x) {
  const program = {
    variableNames: ['x'], outputShape: x.shape, shaderKey: 'ddspgl_harness_copy',
    dispatchLayout: {x: x.shape.map((_, i) => i)}, dispatch: [Math.ceil(x.size / 256), 1, 1],
    workgroupSize: [256, 1, 1], size: true,
    getUserCode: () => 'fn main(index: i32) { if (index < uniforms.size) { ' +
                       'result[index] = x[index]; } }',
  };
  const info = tf.backend().runWebGPUProgram(program, [x], 'float32');
  return tf.engine().makeTensorFromTensorInfo(info);
}
