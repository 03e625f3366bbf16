// ddspgl.patchCumsum: the stock webgl Cumsum kernel replaced by ddspgl's WrappedCumsum
// with no period (same semantics: axis, exclusive, reverse; int32 keeps the stock kernel).

import * as tf from '@tensorflow/tfjs-core';

import {KERNEL_NAMES} from './generated/constants.js';
import {checkTensor} from './checks.js';
import {cumsumGrad} from './gradients.js';
import {kernelFn} from './tfjs_kernel.js';

let stockCumsum = null;  // the stock kernel's config while patched

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
  const wrapped = kernelFn('webgl', KERNEL_NAMES.cumsum);
  const a = {period: null, exclusive: !!attrs.exclusive, reverse: !!attrs.reverse};
  if (axis === rank - 1) return wrapped({inputs: {x}, backend, attrs: a});
  const transpose = kernelFn('webgl', 'Transpose');
  const perm = [...Array(rank).keys()].filter(i => i !== axis).concat([axis]);
  const undo = perm.map((_, i) => perm.indexOf(i));
  const xt = transpose({inputs: {x}, backend, attrs: {perm}});
  let yt = null;
  try {
    yt = wrapped({inputs: {x: xt}, backend, attrs: a});
    return transpose({inputs: {x: yt}, backend, attrs: {perm: undo}});
  } finally {
    backend.disposeIntermediateTensorInfo(xt);
    if (yt) backend.disposeIntermediateTensorInfo(yt);
  }
}

// Replaces the webgl Cumsum kernel; false if it already was.
export function patchCumsum() {
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

// Restores the stock kernel; false if it was not patched.
export function unpatchCumsum() {
  if (stockCumsum === null) return false;
  tf.unregisterKernel('Cumsum', 'webgl');
  tf.registerKernel(stockCumsum);
  stockCumsum = null;
  return true;
}
