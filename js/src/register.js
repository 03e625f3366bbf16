// Registers every kernel module's kernels (webgl, webgpu, cpu, wasm) and gradients with
// TF.js, on import, leaving alone any a page registered before.

import * as tf from '@tensorflow/tfjs-core';

import {KERNEL_MODULES} from './generated/kernels.js';

for (const module of KERNEL_MODULES) {
  for (const config of module.kernelConfigs) {
    if (tf.getKernel(config.kernelName, config.backendName) == null) tf.registerKernel(config);
  }
  for (const config of module.gradientConfigs) {
    if (tf.getGradient(config.kernelName) == null) tf.registerGradient(config);
  }
}
