// Gradients: the gradient of a (wrapped) cumsum is a plain cumsum the other way.

import * as tf from '@tensorflow/tfjs-core';

import {KERNEL_NAMES} from './generated/constants.js';

export function wrappedCumsumGrad(dy, saved, attrs) {
  return {
    x: () => tf.engine().runKernel(
        KERNEL_NAMES.cumsum, {x: dy},
        {period: null, exclusive: !!attrs.exclusive, reverse: !attrs.reverse, limits: false}),
  };
}

export function cumsumGrad(dy, saved, attrs) {
  return {x: () => tf.cumsum(dy, attrs.axis, attrs.exclusive, !attrs.reverse)};
}
