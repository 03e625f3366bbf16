// ddspgl.patchCumsum: the stock webgl and webgpu Cumsum kernels replaced by ddspgl's
// WrappedCumsum for the same backend with no period (same semantics: axis, exclusive,
// reverse; int32 keeps the stock kernel).

import * as tf from '@tensorflow/tfjs-core';

import {KERNEL_NAMES} from './generated/constants.js';
import {checkTensor} from './checks.js';
import {cumsumGrad} from './gradients.js';
import {kernelFn} from './tfjs_kernel.js';

const PATCHED_BACKENDS = ['webgl', 'webgpu'];
let stockCumsum = null;  // backend name -> the stock kernel's config, while patched

function normalizeAxis(axis, rank) {
  const a = axis == null ? 0 : axis;
  if (!Number.isInteger(a) || a < -rank || a >= rank) {
    throw new Error(`Cumsum: axis must be an integer in [${-rank}, ${rank}), got ${axis}`);
  }
  return a < 0 ? a + rank : a;
}

// The patched Cumsum kernel function of `backendName`, around its stock config `stock`.
const patchedCumsum = (backendName, stock) => args => {
  const {inputs, backend, attrs} = args;
  const {x} = inputs;
  if (x.dtype !== 'float32') return stock.kernelFunc(args);  // int32: stock semantics
  checkTensor('Cumsum', x);
  const rank = x.shape.length;
  const axis = normalizeAxis(attrs.axis, rank);
  const wrapped = kernelFn(backendName, KERNEL_NAMES.cumsum);
  const dispose = t => (backend.disposeIntermediateTensorInfo ?
      backend.disposeIntermediateTensorInfo(t) : backend.disposeData(t.dataId));
  const a = {period: null, exclusive: !!attrs.exclusive, reverse: !!attrs.reverse};
  if (axis === rank - 1) return wrapped({inputs: {x}, backend, attrs: a});
  const transpose = kernelFn(backendName, 'Transpose');
  const perm = [...Array(rank).keys()].filter(i => i !== axis).concat([axis]);
  const undo = perm.map((_, i) => perm.indexOf(i));
  const xt = transpose({inputs: {x}, backend, attrs: {perm}});
  let yt = null;
  try {
    yt = wrapped({inputs: {x: xt}, backend, attrs: a});
    return transpose({inputs: {x: yt}, backend, attrs: {perm: undo}});
  } finally {
    dispose(xt);
    if (yt) dispose(yt);
  }
};

// Replaces the webgl and webgpu Cumsum kernels (those registered); false if they already
// were.
export function patchCumsum() {
  if (stockCumsum !== null) return false;
  const stock = {};
  for (const name of PATCHED_BACKENDS) {
    const config = tf.getKernel('Cumsum', name);
    if (config != null && tf.getKernel(KERNEL_NAMES.cumsum, name) != null) stock[name] = config;
  }
  if (Object.keys(stock).length === 0) {
    throw new Error('patchCumsum: no webgl or webgpu Cumsum kernel is registered (load ' +
                    'the webgl or webgpu backend)');
  }
  stockCumsum = stock;
  for (const [name, config] of Object.entries(stock)) {
    tf.unregisterKernel('Cumsum', name);
    tf.registerKernel(
        {kernelName: 'Cumsum', backendName: name, kernelFunc: patchedCumsum(name, config)});
  }
  if (tf.getGradient('Cumsum') == null) {
    tf.registerGradient({kernelName: 'Cumsum', gradFunc: cumsumGrad});
  }
  return true;
}

// Restores the stock kernels; false if they were not patched.
export function unpatchCumsum() {
  if (stockCumsum === null) return false;
  for (const [name, config] of Object.entries(stockCumsum)) {
    tf.unregisterKernel('Cumsum', name);
    tf.registerKernel(config);
  }
  stockCumsum = null;
  return true;
}
