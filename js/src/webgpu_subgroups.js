// WebGPU subgroup operations for ddspgl's WGSL on TF.js's webgpu backend, opt-in:
// ddspgl.requestWebGPUSubgroups. TF.js 4.22 creates its GPUDevice requesting only
// 'timestamp-query' and 'bgra8unorm-storage', and writes its own declarations before a
// program's code, so a program can neither have the feature nor put the directive
// `enable subgroups;` first in its module, where WGSL wants it.

import * as tf from '@tensorflow/tfjs-core';

const BACKEND = 'webgpu';
const FEATURE = 'subgroups';
// The line of ddspgl's WGSL that needs the directive (glsl/wgsl/lib/subgroup_scan.wgsl).
const MARKER = '// ddspgl: enable subgroups';
const WRAPPED = Symbol('ddspgl: the webgpu factory requesting subgroups');

const hooked = new WeakSet();  // devices whose createShaderModule adds the directive
let enabled = true;  // _useWebGPUSubgroups

const result = (subgroups, reason) => ({subgroups, reason});

/**
 * Opt-in: the GPUDevice TF.js's webgpu backend creates requests the 'subgroups' feature
 * where the adapter has it, and ddspgl's WGSL that uses subgroup operations gets
 * `enable subgroups;` as its first line on that device: the periodic cumsum's scan
 * dispatch then runs its subgroup variant (one barrier where the fallback takes three;
 * the same outputs, bit for bit). Call it, and await it, before the webgpu backend is
 * created (tf.setBackend('webgpu'), or the first op where webgpu is the best backend).
 * Calling it again changes nothing; TF.js's own shaders are compiled as they are.
 * @returns {Promise<{subgroups: boolean, reason: string}>} subgroups: whether the
 *     backend's device will have the feature (or has it); reason: why, in words
 */
export async function requestWebGPUSubgroups() {
  const engine = tf.engine();
  const entry = engine.registryFactory[BACKEND];
  if (entry == null) {
    return result(false, "TF.js's webgpu backend is not registered (load " +
                         '@tensorflow/tfjs-backend-webgpu before calling this)');
  }
  if (engine.registry[BACKEND] != null) return created(engine.registry[BACKEND]);
  const gpu = globalThis.navigator == null ? undefined : globalThis.navigator.gpu;
  if (gpu == null) return result(false, 'this browser has no WebGPU (navigator.gpu)');
  // The adapter TF.js's factory will ask for (its WEBGPU_USE_LOW_POWER_GPU flag).
  const lowPower = tf.env().getBool('WEBGPU_USE_LOW_POWER_GPU');
  const adapter = await gpu.requestAdapter(
      {powerPreference: lowPower ? 'low-power' : 'high-performance'});
  if (adapter == null) return result(false, 'no WebGPU adapter');
  if (!adapter.features.has(FEATURE)) {
    return result(false, `the WebGPU adapter has no '${FEATURE}' feature`);
  }
  if (engine.registry[BACKEND] != null) return created(engine.registry[BACKEND]);
  wrapFactory(entry);
  return result(true, `the webgpu backend's device will request '${FEATURE}'`);
}

// The answer where TF.js made its device before the call: only what that device has.
function created(backend) {
  if (!backend.device.features.has(FEATURE)) {
    return result(false, `TF.js's webgpu backend was created without '${FEATURE}' before ` +
                         "this call (call it before tf.setBackend('webgpu'))");
  }
  hoistDirective(backend.device);
  return result(true, `the webgpu backend's device has '${FEATURE}'`);
}

// Wraps TF.js's own factory for the backend in place (its registry entry, so its
// priority stays) rather than registering a factory of ddspgl's: TF.js's factory keeps
// choosing the limits and features it needs and building its backend class, which
// ddspgl does not import, and the requestDevice wrapper below lives only while that
// factory runs, for its one call, so no other code's device is touched. The device it
// returns is TF.js's, and only its createShaderModule learns the directive.
function wrapFactory(entry) {
  if (entry.factory[WRAPPED]) return;
  const factory = entry.factory;
  const wrapped = async () => {
    const restore = requestFeatureOnce();
    let backend;
    try {
      backend = await factory();
    } finally {
      restore();
    }
    if (backend != null && backend.device != null && backend.device.features.has(FEATURE)) {
      hoistDirective(backend.device);
    }
    return backend;
  };
  wrapped[WRAPPED] = true;
  entry.factory = wrapped;
}

// GPUAdapter.prototype.requestDevice adds FEATURE to the required features of its next
// call, where that adapter has it, then is itself again; the function returned restores
// it if no call came.
function requestFeatureOnce() {
  const proto = globalThis.GPUAdapter.prototype;
  const requestDevice = proto.requestDevice;
  let used = false;
  const restore = () => {
    used = true;
    if (proto.requestDevice === once) proto.requestDevice = requestDevice;
  };
  function once(descriptor = {}) {
    const first = !used;
    restore();
    const features = [...(descriptor.requiredFeatures || [])];
    if (first && this.features.has(FEATURE) && !features.includes(FEATURE)) {
      features.push(FEATURE);
    }
    return requestDevice.call(this, {...descriptor, requiredFeatures: features});
  }
  proto.requestDevice = once;
  return restore;
}

// The device's createShaderModule puts `enable subgroups;` first in every module whose
// code holds MARKER (ddspgl's, which TF.js has put its declarations before) and passes
// every other module through untouched. Once per device.
function hoistDirective(device) {
  if (hooked.has(device)) return;
  hooked.add(device);
  const createShaderModule = device.createShaderModule;
  device.createShaderModule = function(descriptor) {
    if (descriptor != null && typeof descriptor.code === 'string' &&
        descriptor.code.includes(MARKER)) {
      return createShaderModule.call(
          this, {...descriptor, code: `enable ${FEATURE};\n${descriptor.code}`});
    }
    return createShaderModule.call(this, descriptor);
  };
}

// Whether ddspgl's webgpu kernels run their subgroup variants on `backend`: where its
// device has the feature (requested by requestWebGPUSubgroups or otherwise), whose
// modules then get the directive, unless _useWebGPUSubgroups(false).
export function webgpuSubgroups(backend) {
  const device = backend.device;
  if (!enabled || device == null || !device.features.has(FEATURE)) return false;
  hoistDirective(device);
  return true;
}

// With false, the kernels run their fallbacks on a device with subgroups too (tests and
// benchmarks compare the two in one page). Returns the previous setting. Exported as
// ddspgl._useWebGPUSubgroups.
export function useWebGPUSubgroups(on) {
  if (typeof on !== 'boolean') {
    throw new Error(`_useWebGPUSubgroups: on must be true or false, got ${String(on)}`);
  }
  const before = enabled;
  enabled = on;
  return before;
}
